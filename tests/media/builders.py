"""Test files built byte by byte: EDF headers with any field replaced, WAV headers, images."""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
from PIL import Image

SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer type", 80),
    ("physical dimension", 8),
    ("physical minimum", 8),
    ("physical maximum", 8),
    ("digital minimum", 8),
    ("digital maximum", 8),
    ("prefiltering", 80),
    ("number of samples in each data record", 8),
    ("reserved", 32),
)


def _pad(value: Any, width: int) -> bytes:
    raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
    return raw[:width].ljust(width, b" ")


def edf_bytes(
    *,
    ns: int = 2,
    n_records: int = 4,
    record_seconds: float = 1.0,
    samples: int = 10,
    unit: str = "uV",
    header: dict[str, Any] | None = None,
    signal: dict[str, Any] | None = None,
    truncate: int = 0,
    version: bytes = b"0",
) -> bytes:
    """A small valid EDF (ramp data); `header`/`signal` replace fixed or per-signal fields."""
    fields = {
        "version": version,
        "local patient identification": "X X X X",
        "local recording identification": "Startdate 01-JAN-2026 X X X",
        "startdate of recording": "01.01.26",
        "starttime of recording": "22.00.00",
        "number of bytes in header record": 256 * (ns + 1),
        "reserved": "",
        "number of data records": n_records,
        "duration of a data record": record_seconds,
        "number of signals": ns,
    } | (header or {})
    widths = (8, 80, 80, 8, 8, 8, 44, 8, 8, 4)
    out = b"".join(_pad(v, w) for v, w in zip(fields.values(), widths, strict=True))
    per = {
        "label": [f"EEG C{i}" for i in range(ns)],
        "transducer type": ["AgAgCl"] * ns,
        "physical dimension": [unit] * ns,
        "physical minimum": [-500] * ns,
        "physical maximum": [500] * ns,
        "digital minimum": [-32768] * ns,
        "digital maximum": [32767] * ns,
        "prefiltering": [""] * ns,
        "number of samples in each data record": [samples] * ns,
        "reserved": [""] * ns,
    }
    for name, value in (signal or {}).items():
        per[name] = [value] * ns
    for name, width in SIGNAL_FIELDS:
        out += b"".join(_pad(v, width) for v in per[name])
    record = np.arange(samples * ns, dtype="<i2") * 100
    out += record.tobytes() * n_records
    return out[: len(out) - truncate] if truncate else out


def wav_bytes(
    *,
    channels: int = 1,
    rate: int = 8000,
    bits: int = 16,
    frames: int = 800,
    data_size: int | None = None,
) -> bytes:
    block = channels * bits // 8
    data = b"\x00" * frames * block
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    size = len(data) if data_size is None else data_size
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png_bytes(
    width: int = 40, height: int = 30, color: tuple[int, int, int] = (200, 50, 50)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 40, height: int = 30, orientation: int | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()
