"""The labeling schema as frozen Pydantic models: what a project asks for each item.

Pydantic checks the shape (types, unknown keys, limits); the `_check_*` validators add the
rules that span several fields (unique labels, hotkeys matching labels, min <= max). Those
raise `PydanticCustomError` whose context carries `subpath`, so `parsing.py` can name the
exact key, e.g. `controls[2].hotkeys[1]`, when it turns the errors into one `InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_CONTROLS = 50
MAX_LABELS = 1_000
MAX_LABEL_CHARS = 200
MAX_DISPLAY_CHARS = 500
MAX_HINT_CHARS = 2_000
MAX_TEXT_LIMIT = 1_000_000
MAX_EPOCH_SECONDS = 86_400

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SURROGATE = re.compile("[\ud800-\udfff]")
SHAPE_KINDS = ("box", "polygon")


def _invalid(message: str, subpath: str = "") -> PydanticCustomError:
    return PydanticCustomError(
        "invalid_schema", "{message}", {"message": message, "subpath": subpath}
    )


def has_bad_chars(text: str) -> bool:
    """True if `text` holds NUL or a lone surrogate, which neither UTF-8 nor PostgreSQL store."""
    return "\x00" in text or (not text.isascii() and _SURROGATE.search(text) is not None)


def _clean(text: str) -> str:
    if has_bad_chars(text):
        raise _invalid("contains a NUL character or an invalid (surrogate) code point")
    return text


def _name(text: str) -> str:
    if _NAME.fullmatch(text) is None:
        raise _invalid("must be a lowercase identifier: a letter, then up to 63 of a-z, 0-9 or _")
    return text


def _source(text: str) -> str:
    if not (1 <= len(text) <= 128 and text.isprintable() and text.strip() == text):
        raise _invalid("must be a payload key: 1 to 128 printable characters, no outer spaces")
    return text


def _label(text: str) -> str:
    if not text.strip():
        raise _invalid("a label must not be blank")
    return _clean(text)


def _hotkey(text: str) -> str:
    if len(text) != 1 or not text.isprintable() or text.isspace():
        raise _invalid("a hotkey must be a single visible character")
    return text


Name = Annotated[StrictStr, AfterValidator(_name)]
Source = Annotated[StrictStr, AfterValidator(_source)]
Display = Annotated[StrictStr, Field(max_length=MAX_DISPLAY_CHARS), AfterValidator(_clean)]
Hint = Annotated[StrictStr, Field(max_length=MAX_HINT_CHARS), AfterValidator(_clean)]
Label = Annotated[StrictStr, Field(max_length=MAX_LABEL_CHARS), AfterValidator(_label)]
Hotkey = Annotated[StrictStr, AfterValidator(_hotkey)]
Labels = Annotated[tuple[Label, ...], Field(min_length=1, max_length=MAX_LABELS)]
Hotkeys = Annotated[tuple[Hotkey, ...], Field(max_length=MAX_LABELS)]
TextLimit = Annotated[StrictInt, Field(ge=1, le=MAX_TEXT_LIMIT)]


def _first_duplicate(values: tuple[str, ...]) -> tuple[int, int] | None:
    """(first index, repeated index) of the first value seen twice, or None."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            return seen[value], index
        seen[value] = index
    return None


class _Control(BaseModel):
    """Keys shared by every control. `required` defaults to true (`text` overrides it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    label: Display | None = None
    title: Display | None = None
    hint: Hint | None = None
    required: StrictBool = True


class _LabelledControl(_Control):
    """A control whose answers are drawn from `labels`, with optional one-key shortcuts."""

    labels: Labels
    hotkeys: Hotkeys | None = None

    @model_validator(mode="after")
    def _check_labels(self) -> _LabelledControl:
        for where, problem in self._label_problems():
            raise _invalid(problem, where)
        return self

    def _label_problems(self) -> Iterator[tuple[str, str]]:
        duplicate = _first_duplicate(self.labels)
        if duplicate:
            first, again = duplicate
            yield f"labels[{again}]", f"duplicate label {self.labels[again]!r} (also at {first})"
        if self.hotkeys is None:
            return
        if len(self.hotkeys) != len(self.labels):
            yield (
                "hotkeys",
                f"needs one hotkey per label: {len(self.hotkeys)} hotkeys "
                f"for {len(self.labels)} labels",
            )
        duplicate = _first_duplicate(self.hotkeys)
        if duplicate:
            first, again = duplicate
            yield f"hotkeys[{again}]", f"duplicate hotkey {self.hotkeys[again]!r} (also at {first})"


class ChoiceControl(_LabelledControl):
    """Exactly one label per item."""

    type: Literal["choice"]
    source: Source | None = None


class MultiChoiceControl(_LabelledControl):
    """Several distinct labels per item; `max` defaults to the number of labels."""

    type: Literal["multichoice"]
    source: Source | None = None
    min: Annotated[StrictInt, Field(ge=0, le=MAX_LABELS)] = 0
    max: Annotated[StrictInt, Field(ge=1, le=MAX_LABELS)] | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> MultiChoiceControl:
        if self.min > len(self.labels):
            raise _invalid(f"min {self.min} is more than the {len(self.labels)} labels", "min")
        if self.max is not None and self.max < self.min:
            raise _invalid(f"max {self.max} is less than min {self.min}", "max")
        return self

    @property
    def max_count(self) -> int:
        return len(self.labels) if self.max is None else min(self.max, len(self.labels))


class SpansControl(_LabelledControl):
    """Labelled character ranges over the text in `payload[source]`."""

    type: Literal["spans"]
    source: Source
    allow_overlap: StrictBool = False


class ShapesControl(_LabelledControl):
    """Labelled boxes and polygons on the image in `payload[source]`, in pixels."""

    type: Literal["shapes"]
    source: Source
    kinds: Annotated[tuple[Literal["box", "polygon"], ...], Field(min_length=1, max_length=2)] = (
        SHAPE_KINDS
    )

    @model_validator(mode="after")
    def _check_kinds(self) -> ShapesControl:
        if len(set(self.kinds)) != len(self.kinds):
            raise _invalid(f"duplicate kind {self.kinds[1]!r}", "kinds[1]")
        return self


class TranscriptionControl(_Control):
    """Free text transcribing the audio (or video) in `payload[source]`."""

    type: Literal["transcription"]
    source: Source
    max_length: TextLimit = 10_000


class EpochsControl(_LabelledControl):
    """One label (or null) per fixed-length epoch of the time series in `payload[source]`."""

    type: Literal["epochs"]
    source: Source
    epoch_seconds: Annotated[
        float, Field(strict=True, gt=0, le=MAX_EPOCH_SECONDS, allow_inf_nan=False)
    ]


class TextControl(_Control):
    """Free text such as a comment; optional unless the schema says otherwise."""

    type: Literal["text"]
    source: Source | None = None
    required: StrictBool = False
    max_length: TextLimit = 2_000


AnyControl = (
    ChoiceControl
    | MultiChoiceControl
    | SpansControl
    | ShapesControl
    | TranscriptionControl
    | EpochsControl
    | TextControl
)
Control = Annotated[AnyControl, Field(discriminator="type")]
CONTROL_CLASSES: dict[str, type[AnyControl]] = {
    "choice": ChoiceControl,
    "multichoice": MultiChoiceControl,
    "spans": SpansControl,
    "shapes": ShapesControl,
    "transcription": TranscriptionControl,
    "epochs": EpochsControl,
    "text": TextControl,
}
CONTROL_TYPES = tuple(CONTROL_CLASSES)


class LabelingSchema(BaseModel):
    """A project's labeling schema: `version`, an optional `title`, and 1 to 50 controls.

    Build it with `parse_schema`, which turns every problem into an `InputError`. The
    compiled result checker is cached on the instance and ignored by `==`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    title: Display | None = None
    controls: Annotated[tuple[Control, ...], Field(min_length=1, max_length=MAX_CONTROLS)]

    _by_name: dict[str, AnyControl] = PrivateAttr(default_factory=dict)
    _checker: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_names(self) -> LabelingSchema:
        seen: dict[str, int] = {}
        for index, control in enumerate(self.controls):
            if control.name in seen:
                first = seen[control.name]
                raise _invalid(
                    f"duplicate control name {control.name!r} (also controls[{first}])",
                    f"controls[{index}].name",
                )
            seen[control.name] = index
        self._by_name.update((control.name, control) for control in self.controls)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelingSchema):
            return NotImplemented
        return (self.version, self.title, self.controls) == (
            other.version,
            other.title,
            other.controls,
        )

    def __hash__(self) -> int:
        return hash((self.version, self.title, self.controls))

    def control(self, name: str) -> AnyControl:
        """The control called `name`; KeyError if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no control named {name!r} in this schema") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with every default spelled out; `parse_schema` reads it back."""
        return self.model_dump(mode="json", exclude_none=True)
