"""C-13, C-14, C-20: the bytes decide the type; malformed images, WAV and EDF are refused with
the field named, EDF sizes before any allocation; the DREAMS `UV` file is accepted."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from datadam.errors import InputError
from datadam.media.validate import MAX_IMAGE_PIXELS, validate_media
from tests.media.builders import edf_bytes, jpeg_bytes, png_bytes, wav_bytes

DREAMS = Path("/work/shared/datasets/sleep/dreams_spindles/excerpt3.edf")


def refused(data: bytes, filename: str | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        validate_media(data, filename=filename)
    return info.value


def test_png_and_jpeg_are_accepted_with_their_size() -> None:
    info = validate_media(png_bytes(40, 30))
    assert (info.kind, info.ext, info.facts["width"], info.facts["height"]) == (
        "image",
        "png",
        40,
        30,
    )
    assert validate_media(jpeg_bytes()).ext == "jpg"


def test_exif_rotation_swaps_width_and_height_as_browsers_show_it() -> None:
    info = validate_media(jpeg_bytes(40, 30, orientation=6))
    assert (info.facts["width"], info.facts["height"]) == (30, 40)


@pytest.mark.parametrize(
    "payload",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg><foreignObject><iframe src="javascript:alert(1)"/>'
        b"</foreignObject></svg>",
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"\xef\xbb\xbf  <html><img src=x onerror=alert(1)>",
        b"%PDF-1.7 ...",
    ],
)
def test_active_content_is_refused(payload: bytes) -> None:
    error = refused(payload, "photo.jpg")
    assert error.code == "unsupported_media_type"


def test_html_named_jpg_and_zip_named_png_are_refused_by_content() -> None:
    assert refused(b"<p>hello</p>", "photo.jpg").code == "unsupported_media_type"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    error = refused(buffer.getvalue(), "photo.png")
    assert "declared as .png" in error.message


def test_edf_named_csv_is_detected_as_a_signal() -> None:
    assert validate_media(edf_bytes(), filename="table.csv").kind == "signal"


def test_jpeg_with_html_tail_is_stored_as_an_image_only() -> None:
    info = validate_media(jpeg_bytes() + b"<script>alert(1)</script>")
    assert info.ext == "jpg"


def test_truncated_jpeg_is_refused() -> None:
    data = jpeg_bytes(200, 200)
    error = refused(data[: len(data) // 2])
    assert error.message == "image data truncated"


def test_decompression_bomb_png_is_refused_before_decoding() -> None:
    side = 40_000
    row = b"\x00" + b"\x00" * side  # filter byte + one grey byte per pixel
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    assert len(data) < 1_000_000
    error = refused(data)
    assert error.code == "image_too_large"
    assert side * side > MAX_IMAGE_PIXELS


def test_animated_and_gif_images_are_refused() -> None:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (10, 10), c) for c in ((0, 0, 0), (255, 255, 255))]
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert refused(buffer.getvalue()).code == "unsupported_media_type"
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:])
    assert "animated" in refused(buffer.getvalue()).message


def test_wav_is_accepted_with_duration() -> None:
    info = validate_media(wav_bytes(rate=8000, frames=4000))
    assert info.kind == "audio" and info.facts["duration_s"] == 0.5


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (wav_bytes(data_size=0xFFFFFFF0), "data"),
        (wav_bytes(channels=0), "channels"),
        (wav_bytes(rate=0), "sample rate"),
    ],
)
def test_broken_wav_headers_are_refused(data: bytes, field: str) -> None:
    error = refused(data)
    assert (error.code, error.field) == ("invalid_audio", field)


def test_valid_edf_is_accepted() -> None:
    info = validate_media(edf_bytes(ns=3, n_records=5))
    assert info.ext == "edf" and info.facts["duration_s"] == 5.0
    assert len(info.facts["signals"]) == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"version": b"1"}, "version"),
        ({"header": {"local patient identification": "Kim \xe9"}}, "local patient identification"),
        ({"header": {"number of signals": 0}}, "number of signals"),
        ({"header": {"number of signals": 9999}}, "number of signals"),
        ({"header": {"number of signals": "ab"}}, "number of signals"),
        (
            {"header": {"number of bytes in header record": 1024}},
            "number of bytes in header record",
        ),
        ({"header": {"number of data records": -1}}, "number of data records"),
        ({"header": {"number of data records": 10**9}}, "number of data records"),
        ({"header": {"duration of a data record": 0}}, "duration of a data record"),
        ({"header": {"duration of a data record": "nan"}}, "duration of a data record"),
        ({"signal": {"physical maximum": -500}}, "physical minimum"),
        ({"signal": {"digital minimum": 32767}}, "digital minimum"),
        (
            {"signal": {"number of samples in each data record": 0}},
            "number of samples in each data record",
        ),
        ({"truncate": 7}, "number of data records"),
    ],
)
def test_broken_edf_headers_name_the_field(kwargs: dict, field: str) -> None:
    error = refused(edf_bytes(**kwargs))
    assert error.code == "invalid_edf"
    assert error.field == field


def test_absurd_record_count_is_refused_without_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    def no_alloc(*args: object, **kwargs: object) -> None:
        raise AssertionError("allocated an array")

    monkeypatch.setattr(np, "empty", no_alloc)
    monkeypatch.setattr(np, "zeros", no_alloc)
    error = refused(edf_bytes(header={"number of data records": 10**12 - 1}))
    assert error.field == "number of data records"


@pytest.mark.skipif(not DREAMS.exists(), reason="shared sleep dataset not present")
def test_dreams_file_with_uppercase_uv_unit_is_accepted() -> None:
    info = validate_media(DREAMS.read_bytes(), filename="excerpt3.edf")
    units = {s["label"]: s["unit"] for s in info.facts["signals"]}
    assert units["C3-A1"] == "UV"
    assert info.facts["duration_s"] == 1800.0
