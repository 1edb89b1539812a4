"""Labeling schemas: define what a project asks for each item, parse them, validate results.

A schema is a versioned JSON or YAML document of controls (choice, multichoice, spans,
shapes, transcription, epochs, text). `parse_schema` checks one when a manager creates a
project; `validate_result` checks every submitted answer against it. Both report problems
as `datadam.errors.InputError` with a `field` path such as `controls[2].labels` or
`entities[3].end`, and codes `invalid_schema` / `invalid_result`.
"""

from datadam.schema.examples import example_result, example_schema, example_schema_names
from datadam.schema.models import (
    CONTROL_TYPES,
    AnyControl,
    ChoiceControl,
    EpochsControl,
    LabelingSchema,
    MultiChoiceControl,
    ShapesControl,
    SpansControl,
    TextControl,
    TranscriptionControl,
)
from datadam.schema.parsing import MAX_SCHEMA_BYTES, parse_schema
from datadam.schema.validation import validate_result

__all__ = [
    "CONTROL_TYPES",
    "MAX_SCHEMA_BYTES",
    "AnyControl",
    "ChoiceControl",
    "EpochsControl",
    "LabelingSchema",
    "MultiChoiceControl",
    "ShapesControl",
    "SpansControl",
    "TextControl",
    "TranscriptionControl",
    "example_result",
    "example_schema",
    "example_schema_names",
    "parse_schema",
    "validate_result",
]
