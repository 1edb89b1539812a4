"""C-20 (CSV, JSONL, JSON array): every problem names where it is; good files read row by row."""

from __future__ import annotations

import io

import pytest

from datadam.errors import InputError
from datadam.importing.readers import CSV_FIELD_LIMIT, read_rows


def _rows(data: bytes, fmt: str) -> list[dict[str, object]]:
    return [r.payload for r in read_rows(io.BytesIO(data), fmt)]


def _error(data: bytes, fmt: str) -> InputError:
    with pytest.raises(InputError) as caught:
        _rows(data, fmt)
    return caught.value


def test_jsonl_reads_objects_skips_blank_lines_and_accepts_bom_and_crlf() -> None:
    data = '\ufeff{"text": "안녕"}\r\n\r\n{"text": "😀", "n": 2}\n'.encode()
    assert _rows(data, "jsonl") == [{"text": "안녕"}, {"text": "😀", "n": 2}]


def test_jsonl_malformed_line_names_line_and_column() -> None:
    error = _error(b'{"text": "a"}\n{"text": "b"}\n{"text": "c" "d": 1}\n', "jsonl")
    assert error.code == "invalid_json"
    assert error.message.startswith("line 3: ")
    assert "(column 14)" in error.message


def test_jsonl_valid_json_of_the_wrong_type() -> None:
    error = _error(b'{"text": "a"}\n[1, 2]\n', "jsonl")
    assert error.message == "line 2: expected a JSON object, got an array"


def test_json_array_happy_path_and_wrong_element() -> None:
    assert _rows('[{"text": "가"}, {"text": "나"}]'.encode(), "json") == [
        {"text": "가"},
        {"text": "나"},
    ]
    assert _error(b'[{"text": "a"}, 3]', "json").message.startswith("element 2: expected")


def test_json_array_truncated_names_element_and_byte_offset() -> None:
    data = b'[{"text": "a"}, {"text": "b"}, {"te'
    error = _error(data, "json")
    assert error.code == "invalid_json"
    assert error.message.startswith("element 3: ")
    assert f"byte {len(data)}" in error.message
    assert "\n" not in error.message


def test_json_file_that_is_not_an_array() -> None:
    assert "array of objects" in _error(b'"just a string"', "json").message


def test_csv_happy_path_with_bom_and_quoted_newlines() -> None:
    data = '\ufefftext,id\r\n"줄 하나\n줄 둘",1\r\nplain,2\r\n'.encode()
    assert _rows(data, "csv") == [
        {"text": "줄 하나\n줄 둘", "id": "1"},
        {"text": "plain", "id": "2"},
    ]


def test_csv_carriage_return_line_endings() -> None:
    assert _rows(b"text,id\ra,1\rb,2\r", "csv") == [
        {"text": "a", "id": "1"},
        {"text": "b", "id": "2"},
    ]


def test_csv_wrong_field_count_names_the_line() -> None:
    data = b"a,b,c,d\n" + b"1,2,3,4\n" * 5 + b"1,2,3,4,5\n"
    assert _error(data, "csv").message == "line 7: expected 4 fields, got 5"


def test_csv_invalid_utf8_names_line_and_byte() -> None:
    data = b"text,id\nok,1\nfine,2\n\xff\xfe,3\n"
    error = _error(data, "csv")
    assert error.code == "invalid_encoding"
    offset = data.index(b"\xff")
    assert error.message == f"line 4: invalid UTF-8 at byte {offset}"


def test_csv_field_over_the_limit_is_an_error_not_a_crash() -> None:
    data = b"text,id\nok,1\n" + b"x" * (CSV_FIELD_LIMIT + 10) + b",2\n"
    error = _error(data, "csv")
    assert error.message == f"line 3: field exceeds {CSV_FIELD_LIMIT} characters"


def test_csv_nul_byte_is_refused() -> None:
    error = _error(b"text,id\nok,1\na\x00b,2\n", "csv")
    assert error.message == "line 3: contains a NUL byte"


@pytest.mark.parametrize(
    ("header", "words"),
    [(b"text,text\n", "repeats column 'text'"), (b"text,,id\n", "empty column name")],
)
def test_csv_bad_header(header: bytes, words: str) -> None:
    error = _error(header + b"a,b,c\n", "csv")
    assert error.code == "invalid_header" and words in error.message


def test_csv_empty_file() -> None:
    assert _error(b"", "csv").code == "invalid_header"
