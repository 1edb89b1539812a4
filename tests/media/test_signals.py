"""Reading pages of EDF signals (units scaled to µV, the `UV` quirk included), the binary page
format, and the deterministic synthetic PSG."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from datadam.errors import InputError
from datadam.media.signals import (
    encode_page,
    read_page,
    synthetic_edf,
    synthetic_hypnogram,
    synthetic_psg,
    unit_scale,
)
from tests.media.builders import edf_bytes

DREAMS = Path("/work/shared/datasets/sleep/dreams_spindles/excerpt3.edf")


@pytest.mark.parametrize(
    ("unit", "factor"), [("uV", 1), ("UV", 1), ("µV", 1), ("mV", 1e3), ("MV", 1e3), ("V", 1e6)]
)
def test_voltage_units_are_scaled_to_microvolts(unit: str, factor: float) -> None:
    assert unit_scale(unit) == ("µV", factor)


def test_other_units_pass_through() -> None:
    assert unit_scale("%") == ("%", 1.0)


def test_mv_file_is_scaled_by_a_thousand(tmp_path: Path) -> None:
    micro, milli = tmp_path / "u.edf", tmp_path / "m.edf"
    micro.write_bytes(edf_bytes(unit="uV", n_records=30))
    milli.write_bytes(edf_bytes(unit="mV", n_records=30))
    a = read_page(micro, 0, epoch_seconds=30).channels[0].samples
    b = read_page(milli, 0, epoch_seconds=30).channels[0].samples
    np.testing.assert_allclose(b, a * 1000, rtol=1e-5)


def test_page_outside_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.edf"
    path.write_bytes(edf_bytes(n_records=30))
    with pytest.raises(InputError) as info:
        read_page(path, 1, epoch_seconds=30)
    assert info.value.field == "page"


@pytest.mark.skipif(not DREAMS.exists(), reason="shared sleep dataset not present")
def test_dreams_uv_channels_are_microvolts_not_volts() -> None:
    page = read_page(DREAMS, 10, epoch_seconds=30, channels=["C3-A1", "EOG1-A1"])
    eeg = page.channels[0]
    assert (eeg.label, eeg.unit, eeg.sfreq, len(eeg.samples)) == ("C3-A1", "µV", 50.0, 1500)
    assert 5 < float(np.abs(eeg.samples).max()) < 300  # physiological µV, not 10^6 too large
    assert page.n_pages == 60


def test_binary_page_decodes(tmp_path: Path) -> None:
    path = tmp_path / "s.edf"
    _, data = synthetic_edf(3, 4)
    path.write_bytes(data)
    page = read_page(path, 2)
    blob = encode_page(page)
    assert blob[:4] == b"DDSG"
    (length,) = struct.unpack_from("<I", blob, 4)
    assert length % 4 == 0
    header = json.loads(blob[8 : 8 + length])
    assert header["page"] == 2 and header["n_pages"] == 4
    first = np.frombuffer(blob, "<f4", header["channels"][0]["n"], 8 + length)
    np.testing.assert_array_equal(first, page.channels[0].samples)


def test_synthetic_psg_is_deterministic_and_stage_shaped() -> None:
    stages, data = synthetic_psg(7, 120)
    again, data2 = synthetic_psg(7, 120)
    assert stages == again == synthetic_hypnogram(7, 120)
    for label in data:
        np.testing.assert_array_equal(data[label], data2[label])
    eeg = data["EEG Fpz-Cz"].reshape(120, -1)
    emg = data["EMG submental"].reshape(120, -1)
    by = {s: [i for i, x in enumerate(stages) if x == s] for s in set(stages)}
    assert {"W", "N2", "N3", "REM"} <= set(by)
    assert eeg[by["N3"]].std() > 2 * eeg[by["W"]].std()  # slow waves are large
    assert emg[by["REM"]].std() < 0.5 * emg[by["W"]].std()  # REM atonia
