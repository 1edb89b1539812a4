"""Streaming readers for JSONL, JSON arrays and CSV: one payload dict at a time, with its line.

Memory stays flat in the file's size: lines are read with a bounded length, JSON arrays are
parsed incrementally (ijson), CSV row by row. Every problem is an `InputError` whose message
starts with where it is ("line 7: ..."), so a manager can fix the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import ijson
import orjson

from datadam.errors import InputError

MAX_LINE_BYTES = 16 * 1024 * 1024
CSV_FIELD_LIMIT = 131072
FORMATS = ("jsonl", "json", "csv")


class Row(NamedTuple):
    """A named tuple rather than a dataclass: one is built per line, and a tuple is the
    cheapest object to build (importing a million lines makes a million of them)."""

    line: int  # 1-based line (JSONL/CSV) or element number (JSON array)
    payload: dict[str, Any]


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if suffix == ".json" or stripped.startswith(b"{"):
        return "jsonl" if stripped.startswith(b"{") else "json"
    raise InputError(
        "unknown file type: use .jsonl, .json (an array of objects) or .csv",
        field="file",
        code="unsupported_format",
    )


def read_rows(handle: BinaryIO, file_format: str) -> Iterator[Row]:
    if file_format == "jsonl":
        return _read_jsonl(handle)
    if file_format == "json":
        return _read_json_array(handle)
    if file_format == "csv":
        return _read_csv(handle)
    raise InputError(f"unknown format {file_format!r}", field="format", code="unsupported_format")


def _line_error(line: int, message: str, code: str = "invalid_line") -> InputError:
    return InputError(f"line {line}: {message}", field=f"line {line}", code=code)


def _read_jsonl(handle: BinaryIO) -> Iterator[Row]:
    line_no = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line_no += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise _line_error(line_no, f"longer than {MAX_LINE_BYTES} bytes", "line_too_long")
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _line_error(line_no, _json_message(exc), "invalid_json") from None
        if not isinstance(value, dict):
            raise _line_error(line_no, f"expected a JSON object, got {_kind(value)}")
        yield Row(line_no, value)


def _json_message(exc: orjson.JSONDecodeError) -> str:
    return f"{exc.msg} (column {exc.colno})"


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class _ItemTooLarge(Exception):
    """Raised from inside the incremental parser when one element outgrows the item limit."""


class _BudgetedReader:
    """Feeds ijson and stops it once one element has consumed more than MAX_LINE_BYTES.

    ijson builds a whole element before yielding it, so a size limit must cut the reading,
    not check the result: a 3 GiB element is refused after 16 MiB, never held in memory.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.since_item = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.since_item += len(data)
        if self.since_item > MAX_LINE_BYTES + 2 * 65536:
            raise _ItemTooLarge
        return data


def _read_json_array(handle: BinaryIO) -> Iterator[Row]:
    index = 0
    reader = _BudgetedReader(handle)
    try:
        for value in ijson.items(reader, "item", use_float=True):
            reader.since_item = 0
            index += 1
            if not isinstance(value, dict):
                raise InputError(
                    f"element {index}: expected a JSON object, got {_kind(value)}",
                    field=f"element {index}",
                )
            yield Row(index, value)
    except _ItemTooLarge:
        raise InputError(
            f"element {index + 1}: larger than {MAX_LINE_BYTES} bytes, the limit for one item",
            field=f"element {index + 1}",
            code="item_too_large",
        ) from None
    except ijson.IncompleteJSONError as exc:
        where = _size(handle)
        reason = "the file ends before the array does (truncated?)"
        if "premature EOF" not in str(exc):
            where, reason = _tell(handle), f"malformed JSON ({_first_line(exc)})"
        raise InputError(
            f"element {index + 1}: {reason} at byte {where}",
            field=f"element {index + 1}",
            code="invalid_json",
        ) from None
    except ijson.JSONError as exc:
        raise InputError(
            f"element {index + 1}: malformed JSON ({_first_line(exc)}) near byte {_tell(handle)}",
            field=f"element {index + 1}",
            code="invalid_json",
        ) from None
    if index == 0:
        _require_array(handle)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _tell(handle: BinaryIO) -> int:
    try:
        return handle.tell()
    except (OSError, ValueError):
        return -1


def _size(handle: BinaryIO) -> int:
    try:
        handle.seek(0, io.SEEK_END)
        return handle.tell()
    except (OSError, ValueError):
        return -1


def _require_array(handle: BinaryIO) -> None:
    handle.seek(0)
    head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"["):
        raise InputError(
            "a .json file must hold an array of objects", field="file", code="invalid_json"
        )


def _read_csv(handle: BinaryIO) -> Iterator[Row]:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", errors="strict")
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(text)
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            raise InputError("the CSV file is empty", field="header", code="invalid_header")
        _check_header(header)
        width = len(header)
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue
            if len(cells) != width:
                raise _line_error(line, f"expected {width} fields, got {len(cells)}")
            if "\x00" in "".join(cells):
                raise _line_error(line, "contains a NUL byte", "invalid_csv")
            yield Row(line, dict(zip(header, cells, strict=True)))
    except UnicodeDecodeError:
        bad_line, offset = _first_bad_utf8(handle)
        raise _line_error(bad_line, f"invalid UTF-8 at byte {offset}", "invalid_encoding") from None
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"field exceeds {CSV_FIELD_LIMIT} characters"
        raise _line_error(reader.line_num, message, "invalid_csv") from None


def _first_bad_utf8(handle: BinaryIO) -> tuple[int, int]:
    """(1-based line, byte offset in the file) of the first byte that is not valid UTF-8.

    The text layer decodes in chunks, so its error position is not the file's; this rescans
    the raw bytes once, only on the error path.
    """
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    while chunk := handle.read(1 << 16):
        pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            at = max(0, exc.start - pending)
            return line + chunk.count(b"\n", 0, at), offset + exc.start - pending
        offset += len(chunk)
        line += chunk.count(b"\n")
    return line, offset


def _check_header(header: list[str]) -> None:
    names = [h.strip() for h in header]
    if any(not n for n in names):
        raise InputError(
            "the CSV header has an empty column name", field="header", code="invalid_header"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(
            f"the CSV header repeats column {dupes[0]!r}", field="header", code="invalid_header"
        )
    if any("\x00" in n for n in names):
        raise InputError(
            "the CSV header contains a NUL byte", field="header", code="invalid_header"
        )
