"""Generated media for the demo projects: street-scene PNGs with their objects, speech-like WAV
clips, and synthetic PSG nights as EDF. Everything is deterministic, so re-running the demo
stores the same content keys and imports nothing new."""

from __future__ import annotations

import io
import random
import wave
from typing import Any

import numpy as np

from datadam.media.signals import synthetic_edf
from datadam.media.store import MediaStore

SLEEP_CHANNELS = ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental")
_NEIGHBOURS = {"W": "N1", "N1": "N2", "N2": "N1", "N3": "N2", "REM": "N1"}


def street_scene(
    seed: int, width: int = 640, height: int = 400
) -> tuple[bytes, list[dict[str, Any]]]:
    """(PNG bytes, the boxes of the cars and people drawn), a cartoon street in daylight."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (150, 196, 235))
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.45)
    for x in range(0, width, 70):
        top = horizon - rng.randint(60, 150)
        shade = rng.randint(120, 190)
        draw.rectangle([x, top, x + 64, horizon], fill=(shade, shade - 20, shade - 40))
        for wy in range(top + 10, horizon - 12, 22):
            for wx in range(x + 8, x + 56, 16):
                draw.rectangle([wx, wy, wx + 8, wy + 12], fill=(230, 225, 160))
    draw.rectangle([0, horizon, width, height], fill=(95, 98, 104))
    draw.rectangle([0, horizon, width, horizon + 18], fill=(180, 180, 176))
    for x in range(0, width, 80):
        draw.rectangle(
            [x + 10, int(height * 0.75), x + 50, int(height * 0.75) + 6], fill=(240, 240, 240)
        )
    objects: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 3)):
        w, h = rng.randint(110, 160), rng.randint(50, 70)
        x, y = rng.randint(0, width - w), rng.randint(horizon + 40, height - h - 10)
        colour = rng.choice(
            [(200, 40, 40), (30, 90, 200), (240, 240, 240), (40, 40, 40), (230, 180, 30)]
        )
        draw.rounded_rectangle([x, y + h * 0.35, x + w, y + h * 0.85], radius=8, fill=colour)
        draw.rounded_rectangle([x + w * 0.2, y, x + w * 0.75, y + h * 0.45], radius=8, fill=colour)
        draw.rectangle(
            [x + w * 0.27, y + h * 0.08, x + w * 0.68, y + h * 0.38], fill=(170, 210, 235)
        )
        for wx in (x + w * 0.22, x + w * 0.78):
            draw.ellipse([wx - 12, y + h * 0.7, wx + 12, y + h], fill=(20, 20, 20))
        objects.append({"kind": "box", "label": "car", "x": x, "y": y, "w": w, "h": h})
    for _ in range(rng.randint(1, 3)):
        x, y = rng.randint(10, width - 40), rng.randint(horizon - 10, horizon + 40)
        body = rng.choice([(60, 60, 140), (140, 50, 50), (50, 120, 60)])
        draw.ellipse([x + 8, y, x + 22, y + 14], fill=(240, 200, 170))
        draw.rectangle([x + 6, y + 14, x + 24, y + 48], fill=body)
        draw.rectangle([x + 8, y + 48, x + 13, y + 70], fill=(40, 40, 60))
        draw.rectangle([x + 17, y + 48, x + 22, y + 70], fill=(40, 40, 60))
        objects.append({"kind": "box", "label": "person", "x": x + 5, "y": y, "w": 20, "h": 70})
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue(), objects


def speech_like_wav(seed: int, seconds: float = 4.0, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV of voiced syllables (pulse train through two formant resonators)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    at = int(0.3 * rate)
    while at < n - int(0.3 * rate):
        length = int(rng.uniform(0.12, 0.26) * rate)
        f0 = rng.uniform(110, 210)
        t = np.arange(length) / rate
        source = np.sign(np.sin(2 * np.pi * f0 * t * (1 + 0.02 * np.sin(2 * np.pi * 4 * t))))
        syllable = source + 0.1 * rng.standard_normal(length)
        for formant in (rng.uniform(400, 900), rng.uniform(1000, 2400)):
            r = np.exp(-np.pi * 120 / rate)
            theta = 2 * np.pi * formant / rate
            syllable = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], syllable)
        syllable *= np.hanning(length)
        out[at : at + length] += syllable / (np.abs(syllable).max() or 1)
        at += length + int(rng.choice([0.03, 0.05, 0.25]) * rate)
    pcm = (np.clip(out * 0.6, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def model_stages(truth: list[str], seed: int, error_rate: float = 0.15) -> list[str]:
    """A pre-labelling model's stages: the truth with confusions between neighbouring stages."""
    rng = random.Random(seed)
    return [_NEIGHBOURS[s] if rng.random() < error_rate else s for s in truth]


def sleep_nights(store: MediaStore, nights: int, n_epochs: int) -> list[dict[str, Any]]:
    """Item rows for `nights` synthetic PSG recordings stored as EDF."""
    rows = []
    for night in range(nights):
        truth, data = synthetic_edf(night, n_epochs, channels=SLEEP_CHANNELS)
        key = store.put(data, "edf")
        minutes = n_epochs * 30 // 60
        rows.append(
            {
                "external_id": f"PSG-{night + 1:04d}",
                "title": f"Night {night + 1} (synthetic PSG, {minutes} min)",
                "signal": {"media": key, "n_epochs": n_epochs, "channels": list(SLEEP_CHANNELS)},
                "suggestions": {"stages": model_stages(truth, night)},
            }
        )
    return rows


def street_items(store: MediaStore, count: int) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        data, objects = street_scene(index)
        key = store.put(data, "png")
        row: dict[str, Any] = {
            "title": f"Street {index + 1}",
            "image": key,
            "width": 640,
            "height": 400,
        }
        if index % 2 == 0:  # every other image comes pre-labelled by the detector
            row["suggestions"] = {
                "objects": [o | {"x": o["x"] + 3, "y": o["y"] - 2} for o in objects]
            }
        rows.append(row)
    return rows


TRANSCRIPTS = [
    "안녕하세요, 오늘 회의는 세 시에 시작합니다.",
    "다음 정류장은 시청입니다.",
    "The parcel will arrive tomorrow morning.",
]


def voice_items(store: MediaStore) -> list[dict[str, Any]]:
    rows = []
    for index, draft in enumerate(TRANSCRIPTS):
        key = store.put(speech_like_wav(index, seconds=3.0 + index), "wav")
        rows.append(
            {"title": f"Clip {index + 1}", "audio": key, "suggestions": {"transcript": draft}}
        )
    return rows
