"""Decide what an uploaded file really is, and refuse anything unsafe or malformed.

The bytes decide, never the file name: PNG, JPEG and WebP images (Pillow `verify()` then
`load()`, with the decompression-bomb warning raised as an error), PCM WAV audio (header
sanity), and EDF/BDF signals (every header field checked before any array is allocated).
SVG, HTML, XML and PDF are refused outright: they can carry scripts, and the labeling
widgets only need raster images.

Every refusal is an `InputError` whose `field` names the rule's subject, e.g. the EDF header
field "number of data records".
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from datadam.errors import InputError

MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels, e.g. 8000 x 5000
MAX_EDF_SIGNALS = 512
MAX_EDF_SAMPLES_PER_RECORD = 10_000_000
MAX_WAV_CHANNELS = 32
MAX_WAV_RATE = 384_000
_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


class UnsupportedMedia(InputError):
    """The file's real type is not one datadam accepts."""

    code = "unsupported_media_type"


@dataclass(frozen=True)
class MediaInfo:
    """What the validator found: `kind` image/audio/signal, the stored `ext`, and facts."""

    kind: str
    ext: str
    facts: dict[str, Any] = field(default_factory=dict)


def validate_media(data: bytes, *, filename: str | None = None) -> MediaInfo:
    """Sniff and fully check `data`; `filename` is only used to word error messages."""
    declared = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    head = data[:512]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html", b"<!--")) or (
        b"<svg" in stripped or b"<script" in stripped or b"<html" in stripped
    ):
        raise UnsupportedMedia(
            "SVG, HTML and XML files are not accepted; upload PNG, JPEG or WebP images",
            field="file",
        )
    if head.startswith(b"%PDF"):
        raise UnsupportedMedia("PDF files are not accepted", field="file")
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return validate_image(data)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return validate_wav(data)
    if head.startswith(b"\xffBIOSEMI") or (len(data) >= 256 and head[:8].strip().isdigit()):
        header = check_edf_header(data[: 256 + 256 * MAX_EDF_SIGNALS], file_size=len(data))
        return MediaInfo("signal", "bdf" if header.bdf else "edf", header.facts())
    what = f" (declared as .{declared})" if declared else ""
    raise UnsupportedMedia(
        f"unrecognised file type{what}: upload PNG, JPEG or WebP images, WAV audio, or EDF/BDF",
        field="file",
    )


# ---------------------------------------------------------------- images


def validate_image(data: bytes) -> MediaInfo:
    """A raster image Pillow can fully decode, within the pixel limit, one frame only.

    Width and height are reported after EXIF orientation, as browsers display the image, so
    shape coordinates drawn in the browser match the stored size.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format or ""
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise InputError(
                        f"image is {width}x{height} pixels; the limit is "
                        f"{MAX_IMAGE_PIXELS:,} pixels",
                        field="file",
                        code="image_too_large",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                frames = getattr(image, "n_frames", 1)
                image.load()
                orientation = image.getexif().get(0x0112, 1)
    except InputError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InputError(
            f"image has too many pixels (limit {MAX_IMAGE_PIXELS:,}): possible decompression bomb",
            field="file",
            code="image_too_large",
        ) from None
    except UnidentifiedImageError:
        raise InputError(
            "the image could not be read", field="file", code="invalid_image"
        ) from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        text = str(exc) or type(exc).__name__
        message = "image data truncated" if "truncated" in text.lower() else f"broken image: {text}"
        raise InputError(message[:200], field="file", code="invalid_image") from None
    if fmt not in _IMAGE_FORMATS:
        raise UnsupportedMedia(f"{fmt or 'this'} images are not accepted", field="file")
    if frames > 1:
        raise UnsupportedMedia("animated images are not accepted", field="file")
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    facts = {"width": width, "height": height, "format": fmt.lower()}
    return MediaInfo("image", _IMAGE_FORMATS[fmt], facts)


# ---------------------------------------------------------------- WAV


def validate_wav(data: bytes) -> MediaInfo:
    """A RIFF/WAVE file whose `fmt ` chunk is sane and whose `data` chunk fits in the file."""
    size = len(data)
    if size < 12:
        raise InputError("WAV file is too short", field="file", code="invalid_audio")
    fmt: tuple[int, int, int, int, int] | None = None
    offset = 12
    while offset + 8 <= size:
        chunk_id = data[offset : offset + 4]
        (chunk_size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if chunk_size < 16 or body + 16 > size:
                raise InputError("WAV fmt chunk is too short", field="fmt", code="invalid_audio")
            audio_format, channels, rate, _byte_rate, block_align, bits = struct.unpack_from(
                "<HHIIHH", data, body
            )
            if audio_format not in (1, 3, 0xFFFE):
                raise UnsupportedMedia(
                    f"WAV audio format {audio_format} is not PCM or float", field="fmt"
                )
            if not 1 <= channels <= MAX_WAV_CHANNELS:
                raise InputError(
                    f"WAV declares {channels} channels (1 to {MAX_WAV_CHANNELS} accepted)",
                    field="channels",
                    code="invalid_audio",
                )
            if not 1 <= rate <= MAX_WAV_RATE:
                raise InputError(
                    f"WAV sample rate {rate} is out of range (1 to {MAX_WAV_RATE})",
                    field="sample rate",
                    code="invalid_audio",
                )
            if bits not in (8, 16, 24, 32, 64) or block_align != channels * bits // 8:
                raise InputError(
                    f"WAV block align {block_align} does not match {channels} channels "
                    f"of {bits} bits",
                    field="block align",
                    code="invalid_audio",
                )
            fmt = (audio_format, channels, rate, block_align, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise InputError(
                    "WAV data chunk comes before its fmt chunk", field="fmt", code="invalid_audio"
                )
            if body + chunk_size > size:
                raise InputError(
                    f"WAV data chunk claims {chunk_size:,} bytes but the file has only "
                    f"{size - body:,} after the header",
                    field="data",
                    code="invalid_audio",
                )
            _format, channels, rate, block_align, bits = fmt
            frames = chunk_size // block_align
            facts = {"channels": channels, "sample_rate": rate, "bits": bits}
            facts["duration_s"] = round(frames / rate, 3)
            return MediaInfo("audio", "wav", facts)
        offset = body + chunk_size + (chunk_size & 1)
    raise InputError("WAV file has no data chunk", field="data", code="invalid_audio")


# ---------------------------------------------------------------- EDF / BDF


@dataclass(frozen=True)
class EdfHeader:
    """The checked fixed header of an EDF(+) or BDF file."""

    bdf: bool
    n_records: int
    record_seconds: float
    labels: tuple[str, ...]
    units: tuple[str, ...]
    samples_per_record: tuple[int, ...]
    header_bytes: int

    @property
    def duration_s(self) -> float:
        return self.n_records * self.record_seconds

    def facts(self) -> dict[str, Any]:
        signals = [
            {"label": label, "unit": unit, "sfreq": n / self.record_seconds}
            for label, unit, n in zip(self.labels, self.units, self.samples_per_record, strict=True)
            if label != "EDF Annotations" and label != "BDF Annotations"
        ]
        return {
            "duration_s": self.duration_s,
            "signals": signals,
            "format": "bdf" if self.bdf else "edf",
        }


def _edf_error(message: str, field_name: str) -> InputError:
    return InputError(message, field=field_name, code="invalid_edf")


def _ascii(raw: bytes, field_name: str) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise _edf_error(f"header field '{field_name}' is not ASCII", field_name) from None
    if not text.isprintable():
        raise _edf_error(f"header field '{field_name}' holds control characters", field_name)
    return text.strip()


def _int(raw: bytes, field_name: str, low: int, high: int) -> int:
    text = _ascii(raw, field_name)
    try:
        value = int(text)
    except ValueError:
        raise _edf_error(f"'{field_name}' is not a whole number: {text!r}", field_name) from None
    if not low <= value <= high:
        raise _edf_error(f"'{field_name}' is {value}; expected {low} to {high}", field_name)
    return value


def _float(raw: bytes, field_name: str) -> float:
    text = _ascii(raw, field_name)
    try:
        value = float(text)
    except ValueError:
        raise _edf_error(f"'{field_name}' is not a number: {text!r}", field_name) from None
    if not math.isfinite(value):
        raise _edf_error(f"'{field_name}' is not a finite number", field_name)
    return value


def check_edf_header(head: bytes, *, file_size: int) -> EdfHeader:
    """Check the EDF/BDF header in `head` (at least 256 * (ns + 1) bytes) against `file_size`.

    Only the header is parsed: sizes are multiplied out and compared with the real file size
    here, so a header claiming 10^9 records (terabytes) is refused before anything is read or
    allocated. `number of data records` -1 (still recording) is refused for stored files.
    """
    if len(head) < 256:
        raise _edf_error("file is shorter than the 256-byte EDF header", "header")
    bdf = head[:8] == b"\xffBIOSEMI"
    if not bdf and head[:8] != b"0       ":
        raise _edf_error("'version' must be 0 (EDF) or BIOSEMI (BDF)", "version")
    for name, start, stop in (
        ("local patient identification", 8, 88),
        ("local recording identification", 88, 168),
        ("startdate of recording", 168, 176),
        ("starttime of recording", 176, 184),
        ("reserved", 192, 236),
    ):
        _ascii(head[start:stop], name)
    ns = _int(head[252:256], "number of signals", 1, MAX_EDF_SIGNALS)
    header_bytes = _int(head[184:192], "number of bytes in header record", 256, 256 * 513)
    if header_bytes != 256 * (ns + 1):
        raise _edf_error(
            f"'number of bytes in header record' is {header_bytes}; {ns} signals need "
            f"{256 * (ns + 1)}",
            "number of bytes in header record",
        )
    if len(head) < header_bytes or file_size < header_bytes:
        raise _edf_error("file is shorter than its header", "number of bytes in header record")
    n_records = _int(head[236:244], "number of data records", -1, 10**12)
    if n_records == -1:
        raise _edf_error(
            "'number of data records' is -1 (recording not finished); export the file again",
            "number of data records",
        )
    record_seconds = _float(head[244:252], "duration of a data record")
    if record_seconds <= 0 or record_seconds > 86_400:
        raise _edf_error(
            f"'duration of a data record' is {record_seconds}; it must be above 0",
            "duration of a data record",
        )

    def column(index: int, width: int) -> list[bytes]:
        base = 256 + sum(w for w in _SIGNAL_WIDTHS[:index]) * ns
        return [head[base + i * width : base + (i + 1) * width] for i in range(ns)]

    labels = tuple(_ascii(raw, "label") for raw in column(0, 16))
    units = tuple(_ascii(raw, "physical dimension") for raw in column(2, 8))
    phys_min = [_float(raw, "physical minimum") for raw in column(3, 8)]
    phys_max = [_float(raw, "physical maximum") for raw in column(4, 8)]
    # Real recorders write digital limits outside the 16-bit range (DREAMS excerpt3: -72984);
    # the samples themselves are still 16-bit, so only absurd values are refused.
    lo, hi = -(2**31), 2**31 - 1
    dig_min = [_int(raw, "digital minimum", lo, hi) for raw in column(5, 8)]
    dig_max = [_int(raw, "digital maximum", lo, hi) for raw in column(6, 8)]
    samples = tuple(
        _int(raw, "number of samples in each data record", 1, MAX_EDF_SAMPLES_PER_RECORD)
        for raw in column(8, 8)
    )
    for i in range(ns):
        if phys_min[i] == phys_max[i]:
            raise _edf_error(
                f"signal {i + 1} ({labels[i]!r}): physical minimum equals physical maximum",
                "physical minimum",
            )
        if dig_min[i] >= dig_max[i]:
            raise _edf_error(
                f"signal {i + 1} ({labels[i]!r}): digital minimum {dig_min[i]} is not below "
                f"digital maximum {dig_max[i]}",
                "digital minimum",
            )
    record_bytes = sum(samples) * (3 if bdf else 2)
    expected = header_bytes + n_records * record_bytes
    if expected > file_size:
        raise _edf_error(
            f"'number of data records' is {n_records:,} ({expected:,} bytes) but the file has "
            f"{file_size:,} bytes: truncated or wrong header",
            "number of data records",
        )
    return EdfHeader(bdf, n_records, record_seconds, labels, units, samples, header_bytes)


# label, transducer, dimension, phys min, phys max, dig min, dig max, prefilter, samples, reserved
_SIGNAL_WIDTHS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
