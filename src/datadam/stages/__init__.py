"""The dataset's life: collect → refine → label → inspect → validate → release."""
