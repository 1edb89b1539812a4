"""datadam: build AI training data together, with checkable quality, fair pay and accountability."""

__version__ = "0.1.0"
