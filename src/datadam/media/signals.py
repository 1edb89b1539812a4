"""Polysomnography signals: read one page (epoch) of an EDF through edfio, encode it compactly
for the browser, and generate deterministic synthetic recordings for the demo and tests.

Units: EDF headers spell micro-volts many ways. `uV`, `µV`, `μV` and the upper-case `UV`
written by some recorders (the DREAMS files) all mean micro-volts and are scaled by 1, not read
as volts (MNE's mistake); `mV`/`MV` are multiplied by 1,000 and `V` by 10^6, so every voltage
channel reaches the browser in µV. Other units (%, bpm) pass through unchanged.
"""

from __future__ import annotations

import io
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from datadam.errors import InputError

MAGIC = b"DDSG"
STAGES = ("W", "N1", "N2", "N3", "REM")
_VOLT_SCALE = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6, "nv": 1e-3}
Float32Array = npt.NDArray[np.float32]


def unit_scale(unit: str) -> tuple[str, float]:
    """(display unit, factor to multiply by) for an EDF physical dimension."""
    factor = _VOLT_SCALE.get(unit.strip().lower())
    if factor is None:
        return unit.strip(), 1.0
    return "µV", factor


def channel_kind(label: str) -> str:
    """eeg, eog, emg, ecg or other, from the usual PSG channel names."""
    upper = label.upper()
    for kind in ("EOG", "EMG", "ECG", "EKG"):
        if kind in upper:
            return "ecg" if kind == "EKG" else kind.lower()
    if "EEG" in upper or any(
        upper.startswith(p) for p in ("C3", "C4", "F3", "F4", "O1", "O2", "FP", "CZ", "PZ", "FZ")
    ):
        return "eeg"
    return "other"


@dataclass(frozen=True)
class Channel:
    label: str
    unit: str
    kind: str
    sfreq: float
    samples: Float32Array


@dataclass(frozen=True)
class SignalPage:
    page: int
    n_pages: int
    epoch_seconds: float
    channels: tuple[Channel, ...]

    @property
    def start_s(self) -> float:
        return self.page * self.epoch_seconds

    def header(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "n_pages": self.n_pages,
            "epoch_seconds": self.epoch_seconds,
            "start_s": self.start_s,
            "channels": [
                {
                    "label": c.label,
                    "unit": c.unit,
                    "kind": c.kind,
                    "sfreq": c.sfreq,
                    "n": len(c.samples),
                }
                for c in self.channels
            ],
        }


def encode_page(page: SignalPage) -> bytes:
    """`DDSG`, u32 LE header length, JSON header (space-padded to 4 bytes), then float32 LE
    samples channel after channel: ~30 KB a channel for 30 s at 256 Hz, no parsing needed."""
    header = json.dumps(page.header(), ensure_ascii=False).encode()
    header += b" " * (-len(header) % 4)
    parts = [MAGIC, struct.pack("<I", len(header)), header]
    parts += [c.samples.astype("<f4", copy=False).tobytes() for c in page.channels]
    return b"".join(parts)


def _open_edf(path: Path) -> Any:
    import edfio

    try:
        return edfio.read_edf(path, lazy_load_data=True)
    except Exception as exc:  # edfio raises ValueError, IndexError... on broken files
        raise InputError(
            f"the EDF file could not be read: {str(exc)[:160]}", field="header", code="invalid_edf"
        ) from None


def check_edf_readable(data: bytes) -> None:
    """Parse the whole EDF(+) structure with edfio, including EDF+ annotations (TAL)."""
    import edfio

    try:
        edf = edfio.read_edf(data, lazy_load_data=True)
        _ = edf.annotations
    except Exception as exc:
        raise InputError(
            f"the EDF file could not be read: {str(exc)[:160]}",
            field="annotations" if "annotation" in str(exc).lower() else "header",
            code="invalid_edf",
        ) from None


def read_page(
    path: Path, page: int, *, epoch_seconds: float = 30.0, channels: list[str] | None = None
) -> SignalPage:
    """Page `page` (0-based epoch) of every signal (or the `channels` named), as float32 µV."""
    edf = _open_edf(path)
    duration = edf.num_data_records * edf.data_record_duration
    n_pages = max(1, math.ceil(duration / epoch_seconds - 1e-9))
    if not 0 <= page < n_pages:
        raise InputError(f"page {page} is outside the recording (0 to {n_pages - 1})", field="page")
    start = page * epoch_seconds
    stop = min(duration, start + epoch_seconds)
    out = []
    for signal in edf.signals:
        if channels is not None and signal.label not in channels:
            continue
        unit, factor = unit_scale(signal.physical_dimension)
        values = signal.get_data_slice(start, stop) * factor
        out.append(
            Channel(
                signal.label,
                unit,
                channel_kind(signal.label),
                float(signal.sampling_frequency),
                values.astype(np.float32),
            )
        )
    if channels is not None:
        order = {label: i for i, label in enumerate(channels)}
        out.sort(key=lambda c: order[c.label])
    return SignalPage(page, n_pages, epoch_seconds, tuple(out))


# ---------------------------------------------------------------- synthetic recordings


def synthetic_hypnogram(seed: int, n_epochs: int) -> list[str]:
    """A plausible night: sleep onset through N1, ~90-min cycles of N2/N3 then REM, with N3
    shrinking and REM growing across the night, and brief awakenings."""
    rng = np.random.default_rng(seed)
    stages: list[str] = []
    stages += ["W"] * int(rng.integers(4, 12))
    stages += ["N1"] * int(rng.integers(2, 6))
    cycle = 0
    while len(stages) < n_epochs:
        n3 = max(0, int(rng.normal(30 - 10 * cycle, 5)))
        rem = max(2, int(rng.normal(10 + 8 * cycle, 4)))
        stages += ["N2"] * int(rng.integers(15, 30))
        stages += ["N3"] * n3
        stages += ["N2"] * int(rng.integers(8, 20))
        stages += ["REM"] * rem
        if rng.random() < 0.6:
            stages += ["W"] * int(rng.integers(1, 4)) + ["N1"] * int(rng.integers(1, 4))
        cycle += 1
    return stages[:n_epochs]


def _band(rng: np.random.Generator, n: int, sfreq: float, lo: float, hi: float) -> Any:
    """Unit-variance noise limited to [lo, hi] Hz (4th-order Butterworth, linear time)."""
    from scipy.signal import butter, sosfilt

    hi = min(hi, sfreq / 2 * 0.95)
    sos = butter(2, [lo, hi], btype="bandpass", fs=sfreq, output="sos")
    out = sosfilt(sos, rng.standard_normal(n))
    return out / (out.std() or 1.0)


def _pink(rng: np.random.Generator, n: int, sfreq: float) -> Any:
    """Roughly 1/f noise: white noise through a leaky integrator, high-passed at 0.3 Hz."""
    from scipy.signal import butter, lfilter, sosfilt

    out = lfilter([1.0], [1.0, -0.97], rng.standard_normal(n))
    out = sosfilt(butter(1, 0.3, btype="highpass", fs=sfreq, output="sos"), out)
    return out / (out.std() or 1.0)


def _envelope(stages: list[str], per_stage: dict[str, float], epoch_n: int) -> Any:
    """Per-sample amplitude from per-epoch stage values, smoothed over 2 s at transitions."""
    values = np.repeat(np.array([per_stage[s] for s in stages], dtype=float), epoch_n)
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(values, size=max(1, epoch_n // 15), mode="nearest")


def _bursts(
    rng: np.random.Generator,
    mask: Any,
    sfreq: float,
    rate_per_min: float,
    make: Any,
) -> Any:
    """Events (spindles, K-complexes, eye movements) at `rate_per_min` where `mask` is set."""
    n = len(mask)
    out = np.zeros(n)
    expected = rate_per_min * n / sfreq / 60
    for _ in range(int(rng.poisson(max(expected, 0)))):
        at = int(rng.integers(0, n))
        if not mask[at]:
            continue
        wave = make(rng)
        stop = min(n, at + len(wave))
        out[at:stop] += wave[: stop - at]
    return out


def synthetic_psg(
    seed: int,
    n_epochs: int,
    *,
    sfreq: float = 100.0,
    epoch_seconds: float = 30.0,
    channels: tuple[str, ...] = ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"),
) -> tuple[list[str], dict[str, Any]]:
    """(hypnogram, {channel: µV samples}) for a synthetic night; same seed, same night.

    EEG: 1/f background plus alpha in W (strongest occipital), theta in N1/REM, spindles and
    K-complexes in N2, high-amplitude delta in N3, sawtooth waves in REM. EOG: blinks in W,
    slow rolling movements in N1, rapid eye movements in REM, frontal delta leaking in N3.
    EMG: broadband tone falling from W to N3, near atonia in REM with brief twitches.
    """
    rng = np.random.default_rng(seed + 1_000_003)
    stages = synthetic_hypnogram(seed, n_epochs)
    epoch_n = int(round(epoch_seconds * sfreq))
    n = epoch_n * n_epochs
    stage_of = np.repeat(np.array([STAGES.index(s) for s in stages]), epoch_n)
    t = np.arange(n) / sfreq

    def spindle(r: np.random.Generator) -> Any:
        length = int(sfreq * r.uniform(0.6, 1.5))
        f = r.uniform(12, 14)
        return 25 * np.hanning(length) * np.sin(2 * np.pi * f * np.arange(length) / sfreq)

    def k_complex(r: np.random.Generator) -> Any:
        length = int(sfreq * 1.0)
        x = np.linspace(0, 1, length)
        return r.uniform(80, 140) * (-np.sin(2 * np.pi * x) * np.exp(-3 * x))

    def blink(r: np.random.Generator) -> Any:
        length = int(sfreq * 0.35)
        return r.uniform(120, 220) * np.hanning(length)

    def saccade(r: np.random.Generator) -> Any:
        length = int(sfreq * r.uniform(0.3, 0.8))
        step = np.tanh(np.linspace(-4, 4, length)) * r.choice([-1, 1]) * r.uniform(60, 150)
        return step * np.hanning(length) ** 0.3

    def twitch(r: np.random.Generator) -> Any:
        length = int(sfreq * r.uniform(0.1, 0.3))
        return r.uniform(15, 40) * r.standard_normal(length)

    delta = _band(rng, n, sfreq, 0.5, 2.0) * _envelope(
        stages, {"W": 5, "N1": 10, "N2": 22, "N3": 70, "REM": 8}, epoch_n
    )
    theta = _band(rng, n, sfreq, 4, 7) * _envelope(
        stages, {"W": 4, "N1": 14, "N2": 9, "N3": 6, "REM": 12}, epoch_n
    )
    alpha = _band(rng, n, sfreq, 8.5, 11.5) * _envelope(
        stages, {"W": 18, "N1": 5, "N2": 2, "N3": 1, "REM": 3}, epoch_n
    )
    sawtooth = (np.abs(((t * 2.5) % 1.0) - 0.5) * 2 - 0.5) * _envelope(
        stages, {"W": 0, "N1": 0, "N2": 0, "N3": 0, "REM": 14}, epoch_n
    )
    sawtooth *= _band(rng, n, sfreq, 0.05, 0.3) > 0.5
    n2 = stage_of == 2
    spindles = _bursts(rng, n2, sfreq, 4, spindle)
    kcomplexes = _bursts(rng, n2 | (stage_of == 3), sfreq, 1.5, k_complex)
    background = _pink(rng, n, sfreq) * _envelope(
        stages, {"W": 10, "N1": 12, "N2": 12, "N3": 14, "REM": 10}, epoch_n
    )

    out: dict[str, Any] = {}
    for index, label in enumerate(channels):
        kind = channel_kind(label)
        local = np.random.default_rng(seed * 131 + index)
        if kind == "eeg":
            occipital = "O" in label.upper().split("-")[-1] or "PZ" in label.upper()
            x = background + delta + theta + spindles + kcomplexes + sawtooth
            x = x + alpha * (1.6 if occipital else 0.6)
            x = x + 3 * local.standard_normal(n)
        elif kind == "eog":
            awake = stage_of == 0
            rolling = _band(local, n, sfreq, 0.15, 0.5) * _envelope(
                stages, {"W": 10, "N1": 60, "N2": 8, "N3": 4, "REM": 10}, epoch_n
            )
            x = (
                _bursts(local, awake, sfreq, 12, blink)
                + _bursts(local, stage_of == 4, sfreq, 25, saccade)
                + _bursts(local, awake, sfreq, 6, saccade)
                + rolling
                + 0.4 * delta
                + 4 * local.standard_normal(n)
            )
        elif kind == "emg":
            tone = _envelope(stages, {"W": 18, "N1": 10, "N2": 7, "N3": 6, "REM": 1.5}, epoch_n)
            x = _band(local, n, sfreq, 10, sfreq / 2 - 1) * tone
            x = x + _bursts(local, stage_of == 4, sfreq, 6, twitch) + 0.8 * local.standard_normal(n)
        else:
            x = 60 * np.sin(2 * np.pi * 1.1 * t) + local.standard_normal(n)
        out[label] = x.astype(np.float64)
    return stages, out


def synthetic_edf(
    seed: int,
    n_epochs: int,
    *,
    sfreq: float = 100.0,
    channels: tuple[str, ...] = ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"),
) -> tuple[list[str], bytes]:
    """(hypnogram, EDF bytes) of `synthetic_psg`, 16-bit with a ±500 µV physical range."""
    import datetime

    import edfio

    stages, data = synthetic_psg(seed, n_epochs, sfreq=sfreq, channels=channels)
    signals = [
        edfio.EdfSignal(
            np.clip(values, -500, 500),
            sfreq,
            label=label,
            physical_dimension="uV",
            physical_range=(-500.0, 500.0),
            transducer_type="synthetic",
        )
        for label, values in data.items()
    ]
    edf = edfio.Edf(
        signals,
        patient=edfio.Patient(code=f"SYNTH-{seed:04d}"),
        recording=edfio.Recording(startdate=datetime.date(2026, 1, 1)),
        starttime=datetime.time(22, 30),
        data_record_duration=1.0,
    )
    buffer = io.BytesIO()
    edf.write(buffer)
    return stages, buffer.getvalue()
