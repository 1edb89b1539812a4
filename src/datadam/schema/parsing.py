"""Read a schema from JSON text, YAML text or a dict, and report the first problem found.

Every failure becomes one `InputError(code="invalid_schema")` whose `field` is a dotted,
indexed path such as `controls[2].labels`. YAML goes through `yaml.safe_load` only.
Before Pydantic sees the data we walk it once, iteratively, to refuse non-JSON values
(YAML dates and sets), oversized documents and deep nesting, so alias tricks and cycles
cannot make validation slow.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import ValidationError

from datadam.errors import InputError
from datadam.schema.models import CONTROL_CLASSES, CONTROL_TYPES, LabelingSchema

MAX_SCHEMA_BYTES = 256 * 1024
_MAX_DEPTH = 32
_MAX_NODES = 200_000
_MAX_INT = 2**63
_CODE = "invalid_schema"


def parse_schema(raw: str | bytes | dict[str, Any]) -> LabelingSchema:
    """Parse and check a labeling schema; raise `InputError(code="invalid_schema")` if bad."""
    if isinstance(raw, bytes | bytearray):
        data = _load_text(_decode(bytes(raw)))
    elif isinstance(raw, str):
        data = _load_text(raw)
    elif isinstance(raw, dict):
        _check_plain_json(raw)
        _check_size(_json_size(raw))
        data = raw
    else:
        raise _error(f"a schema must be JSON text, YAML text or a dict, not {type(raw).__name__}")
    if not isinstance(data, dict):
        raise _error("a schema must be an object with version, title and controls")
    try:
        return LabelingSchema.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc) from None


def _error(message: str, field: str | None = None) -> InputError:
    return InputError(message, field=field or None, code=_CODE)


def _check_size(size: int) -> None:
    if size > MAX_SCHEMA_BYTES:
        raise _error(f"the schema is {size / 1024:,.0f} KiB; the limit is 256 KiB")


def _decode(raw: bytes) -> str:
    _check_size(len(raw))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(f"the schema is not UTF-8 text (bad byte at offset {exc.start})") from None


def _json_size(data: dict[str, Any]) -> int:
    return _utf8_size(json.dumps(data, ensure_ascii=False, skipkeys=True, default=lambda _: None))


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _load_text(text: str) -> Any:
    # Characters never outnumber UTF-8 bytes, so a long text is refused before encoding it.
    _check_size(len(text) if len(text) > MAX_SCHEMA_BYTES else _utf8_size(text))
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _error("the schema is empty")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        json_problem = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except (ValueError, RecursionError) as exc:
        json_problem = f"not valid JSON: {exc}"
    else:
        _check_plain_json(data)
        return data
    try:
        data = yaml.safe_load(text)
    except Exception as exc:  # YAMLError, or ValueError for dates like 2001-13-41
        if text.lstrip().startswith(("{", "[")):
            raise _error(json_problem) from None
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "unreadable document"
        raise _error(f"neither JSON nor YAML: {problem}{where}") from None
    _check_plain_json(data)
    return data


def _check_plain_json(data: Any) -> None:
    """Refuse non-JSON values, integers beyond 64 bits, over 200,000 values, or deep nesting."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    nodes = 0
    while stack:
        value, path, depth = stack.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            raise _error(f"the schema is too large (more than {_MAX_NODES:,} values)")
        if depth > _MAX_DEPTH:
            raise _error(f"the schema is too deeply nested (more than {_MAX_DEPTH} levels)", path)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _error(f"keys must be strings, not {type(key).__name__}", path)
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, int) and not -_MAX_INT <= value <= _MAX_INT:
            raise _error("the number is too large", path)
        elif value is not None and not isinstance(value, str | int | float):
            raise _error(
                f"must be a JSON value (text, number, true/false, null, list or object), "
                f"not {type(value).__name__}",
                path,
            )


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif index == 2 and loc[0] == "controls" and part in CONTROL_TYPES:
            continue  # the discriminator tag Pydantic inserts after controls[i]
        else:
            out += f".{part}" if out else part
    return out


def _noun(loc: tuple[int | str, ...]) -> str:
    names = [part for part in loc if isinstance(part, str)]
    noun = names[-1] if names else "items"
    return "labels per control" if noun == "labels" else noun


def _allowed_keys(loc: tuple[int | str, ...]) -> str:
    if not loc:
        fields = LabelingSchema.model_fields
    elif len(loc) == 3 and loc[0] == "controls" and loc[2] in CONTROL_CLASSES:
        fields = CONTROL_CLASSES[str(loc[2])].model_fields
    else:
        return ""
    return "; allowed: " + ", ".join(sorted(fields))


_SIMPLE = {
    "missing": "required",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_attributes_type": "must be an object",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "invalid_key": "keys must be strings",
    "string_unicode": "contains an invalid (surrogate) code point",
}


def _message(error: Any) -> tuple[str, str]:
    """(field path, message) for one Pydantic error."""
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    path = _path(loc)
    if kind == "invalid_schema":
        sub = ctx.get("subpath", "")
        if sub:
            path = f"{path}{'' if sub.startswith('[') or not path else '.'}{sub}"
        return path, str(ctx.get("message", "invalid"))
    if kind in _SIMPLE:
        return path, _SIMPLE[kind]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = ", ".join(CONTROL_TYPES)
        path = f"{path}.type"
        if kind == "union_tag_not_found":
            return path, f"required: one of {expected}"
        return (
            path,
            f"unknown control type {str(ctx.get('tag'))[:50]!r}; expected one of {expected}",
        )
    if kind == "extra_forbidden":
        return path, f"unknown key {str(loc[-1])[:100]!r}{_allowed_keys(loc[:-1])}"
    if kind == "string_type":
        value = error.get("input")
        quote = " (put it in quotes)" if isinstance(value, bool | int | float) else ""
        return path, f"must be a string{quote}"
    if kind == "string_too_long":
        return path, f"at most {ctx['max_length']:,} characters (got {len(error['input']):,})"
    if kind == "too_long":
        return path, f"at most {ctx['max_length']:,} {_noun(loc)} (got {ctx['actual_length']:,})"
    if kind == "too_short":
        return path, f"needs at least {ctx['min_length']:,} {_noun(loc)}"
    if kind == "greater_than":
        return path, f"must be greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return path, f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return path, f"must be at most {ctx['le']:,}"
    if kind == "literal_error":
        return path, f"must be {ctx['expected']}"
    return path, str(error.get("msg", "invalid"))


def _translate(exc: ValidationError) -> InputError:
    errors = exc.errors(include_url=False)
    # Pydantic counts only the items that validated, so a list whose one item is bad also
    # reports "too short"; that echo is noise next to the real problem inside the list.
    inner = [error["loc"] for error in errors]
    errors = [
        error
        for error in errors
        if error["type"] != "too_short"
        or not any(loc[: len(error["loc"])] == error["loc"] != loc for loc in inner)
    ] or errors
    path, message = _message(errors[0])
    if len(errors) > 1:
        more = len(errors) - 1
        message = f"{message} (and {more} more problem{'s' if more > 1 else ''})"
    return _error(message, path)
