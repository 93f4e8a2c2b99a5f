"""Play a PhysioNet (WFDB) record as bedside devices (`--sim wfdb:RECORD`).

The record's signals become what the devices would send (docs/architecture.md):
- PLETH -> the oximeter's waveform, resampled to the protocol's rate; the pulse
  rate by beat detection on that pleth; SpO2 from the record if it has one,
  else a steady default. A record without PLETH but with ABP uses the arterial
  pulse as the pleth (same beats, similar shape).
- ABP -> per-beat systolic/diastolic/mean; `vitals_at(t)` hands the median of
  the recent beats to the virtual NIBP module, which reports them as readings.
- RESP -> breaths by peak detection: the respiration rate, breath marks and
  the waveform, over vitalmon's own `simresp` channel.
- CO2 (mmHg) -> the capnograph: a virtual Capnostat plays the recorded capnogram;
  a breath is an expiration (CO2 rising through half the record's typical peak),
  the rate is from those, the EtCO2 the peak of the last few seconds.

The record loops when it ends, so any `--duration` works. All detection runs
once at load time, so playback costs no more than the synthetic patient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal

from drivers.errors import VitalmonError
from drivers.registry import oximeter_encoder
from simulator.capno_device import RATE_HZ as CO2_RATE_HZ
from simulator.capno_device import CapnoSecond, VirtualCapnostat, by_second
from simulator.devices import (
    BEAT_FLAG_FRAMES,
    Bedside,
    VirtualOximeter,
    VirtualRespSensor,
)
from simulator.nibp_device import VirtualNibpModule
from simulator.physiology import DeviceState, VitalSigns

DEFAULT_SPO2_PERCENT = 97.0
DEFAULT_PI_PERCENT = 2.5
PULSE_WINDOW_S = 8.0  # pulse rate: median beat interval over this window
ABP_WINDOW_S = 6.0  # NIBP values: median of the beats over this window
RESP_WINDOW_S = 30.0  # respiration rate: median breath interval over this window
MAX_PULSE_BPM = 220.0
MAX_RESP_BPM = 50.0
PLETH_NAMES = ("PLETH", "PPG")
ABP_NAMES = ("ABP", "ART", "BP", "AOBP")
RESP_NAMES = ("RESP", "RESPIRATION", "IMPEDANCE")
SPO2_NAMES = ("SPO2", "SAO2", "SPO2%")
CO2_NAMES = ("CO2", "CAPNO", "PCO2")
ETCO2_WINDOW_S = 6.0  # EtCO2: the capnogram's peak over this window (a breath at >= 10/min)


class WfdbRecordError(VitalmonError):
    """A record that cannot be read or has nothing to play."""


@dataclass(frozen=True, slots=True)
class AbpBeat:
    """One arterial beat: time of its systolic peak (s), and its pressures (mmHg)."""

    t_s: float
    sys_mmhg: float
    dia_mmhg: float
    map_mmhg: float


def _find(names: list[str], wanted: tuple[str, ...]) -> int | None:
    upper = [n.strip().upper() for n in names]
    for want in wanted:
        if want in upper:
            return upper.index(want)
    return None


def _fill_nan(x: np.ndarray) -> np.ndarray:
    """Linear fill of NaN gaps (WFDB marks invalid samples NaN)."""
    x = np.asarray(x, dtype=np.float64)
    bad = np.isnan(x)
    if not bad.any():
        return x
    if bad.all():
        return np.zeros_like(x)
    idx = np.arange(len(x))
    out = x.copy()
    out[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return out


def _bandpass(x: np.ndarray, fs: float, low_hz: float, high_hz: float) -> np.ndarray:
    sos = signal.butter(2, [low_hz, min(high_hz, 0.45 * fs)], "bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, x)


def _spread(x: np.ndarray) -> float:
    low, high = np.percentile(x, [5, 95])
    return float(high - low)


def detect_pulses(x: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices of pulse peaks in a pleth or arterial pressure trace."""
    filtered = _bandpass(_fill_nan(x), fs, 0.5, 8.0)
    peaks, _ = signal.find_peaks(
        filtered,
        distance=max(1, int(fs * 60.0 / MAX_PULSE_BPM)),
        prominence=0.3 * _spread(filtered),
    )
    return peaks


def detect_expirations(co2: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices where an expiration begins: CO2 rising through half its typical
    peak, after having fallen below a quarter of it (so noise on a plateau is no breath)."""
    x = _fill_nan(co2)
    top = float(np.percentile(x, 95))
    if top <= 5.0:  # no capnogram worth the name (mmHg)
        return np.empty(0, dtype=np.int64)
    high = x >= 0.5 * top
    lows = np.cumsum(x < 0.25 * top)  # baseline samples so far
    starts: list[int] = []
    for i in (np.flatnonzero(high[1:] & ~high[:-1]) + 1).tolist():
        if not starts or lows[i] > lows[starts[-1]]:  # back at the baseline since
            starts.append(i)
    return np.asarray(starts, dtype=np.int64)


def detect_breaths(x: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices of breath peaks in a respiration trace."""
    filtered = _bandpass(_fill_nan(x), fs, 0.08, 1.0)
    peaks, _ = signal.find_peaks(
        filtered,
        distance=max(1, int(fs * 60.0 / MAX_RESP_BPM)),
        prominence=0.25 * _spread(filtered),
    )
    return peaks


def abp_beats(x: np.ndarray, fs: float) -> list[AbpBeat]:
    """Systolic peak, diastolic foot and mean pressure of every detected beat.

    Systolic: the highest raw pressure near each detected peak; diastolic: the
    lowest between the previous peak and this one; mean: the average pressure
    from that foot to the next.
    """
    raw = _fill_nan(x)
    peaks = detect_pulses(raw, fs)
    half = max(1, int(0.08 * fs))
    beats = []
    for prev, peak, nxt in zip(peaks[:-2], peaks[1:-1], peaks[2:], strict=True):
        foot = prev + int(np.argmin(raw[prev:peak]))
        next_foot = peak + int(np.argmin(raw[peak:nxt]))
        sys = float(raw[max(0, peak - half) : peak + half + 1].max())
        dia = float(raw[foot])
        mean = float(raw[foot:next_foot].mean())
        beats.append(AbpBeat(peak / fs, sys, dia, mean))
    return beats


def rate_per_second(event_t: np.ndarray, n_seconds: int, window_s: float, top: float) -> np.ndarray:
    """Per whole second k: 60 / median interval of the events in (k - window, k]; NaN
    where fewer than three events (two intervals) fall in the window."""
    out = np.full(n_seconds, np.nan)
    event_t = np.asarray(event_t, dtype=np.float64)
    for k in range(n_seconds):
        inside = event_t[(event_t > k - window_s) & (event_t <= k)]
        if len(inside) >= 3:
            rate = 60.0 / float(np.median(np.diff(inside)))
            out[k] = rate if rate <= top else np.nan
    return out


def _normalise(x: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """To 0..1 by robust percentiles, with a little headroom each side."""
    low, high = np.percentile(x, [low_pct, high_pct])
    span = max(float(high - low), 1e-9)
    return np.clip(0.1 + 0.8 * (x - low) / span, 0.0, 1.0)


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    ratio = Fraction(round(fs_out * 1000), round(fs_in * 1000)).limit_denominator(1000)
    return signal.resample_poly(x, ratio.numerator, ratio.denominator)


class RecordedPatient:
    """A WFDB record as a patient model: `vitals_at(t)` and `device_state_at(t)`, looping."""

    def __init__(self, record_path: str, spo2_default: float = DEFAULT_SPO2_PERCENT) -> None:
        import wfdb

        path = (
            str(Path(record_path).with_suffix(""))
            if record_path.endswith(".hea")
            else (record_path)
        )
        try:
            record = wfdb.rdrecord(path)
        except Exception as exc:  # wfdb raises many kinds for a missing or corrupt record
            raise WfdbRecordError(f"cannot read WFDB record '{record_path}': {exc}") from exc
        self.name = Path(path).name
        self.fs = float(record.fs)
        names = list(record.sig_name)
        data = np.asarray(record.p_signal, dtype=np.float64)
        self.duration_s = len(data) / self.fs
        if self.duration_s < 10:
            raise WfdbRecordError(f"WFDB record '{record_path}' is too short to play")
        self.n_seconds = math.ceil(self.duration_s) + 1

        def column(wanted: tuple[str, ...]) -> np.ndarray | None:
            i = _find(names, wanted)
            return None if i is None else _fill_nan(data[:, i])

        self.pleth = column(PLETH_NAMES)
        self.abp = column(ABP_NAMES)
        self.resp = column(RESP_NAMES)
        self.co2 = column(CO2_NAMES)
        spo2 = column(SPO2_NAMES)
        if self.pleth is None and self.abp is None and self.resp is None:
            raise WfdbRecordError(
                f"WFDB record '{record_path}' has no PLETH, ABP or RESP signal (has: "
                f"{', '.join(names)})"
            )
        nan = np.full(self.n_seconds, np.nan)
        pulse_source = self.pleth if self.pleth is not None else self.abp
        self.pulse_peaks = (
            detect_pulses(pulse_source, self.fs) if pulse_source is not None else np.empty(0, int)
        )
        self.pulse_rate = rate_per_second(
            self._looped(self.pulse_peaks / self.fs), self.n_seconds, PULSE_WINDOW_S, MAX_PULSE_BPM
        )
        self.beats = abp_beats(self.abp, self.fs) if self.abp is not None else []
        self.sys, self.dia, self.map = self._abp_per_second() if self.beats else (nan, nan, nan)
        self.breath_peaks = (
            detect_breaths(self.resp, self.fs) if self.resp is not None else np.empty(0, int)
        )
        self.resp_rate = rate_per_second(
            self._looped(self.breath_peaks / self.fs), self.n_seconds, RESP_WINDOW_S, MAX_RESP_BPM
        )
        self.expirations = (
            detect_expirations(self.co2, self.fs) if self.co2 is not None else np.empty(0, int)
        )
        self.co2_rate = rate_per_second(
            self._looped(self.expirations / self.fs), self.n_seconds, RESP_WINDOW_S, MAX_RESP_BPM
        )
        self.etco2 = self._co2_peaks() if self.co2 is not None else np.full(self.n_seconds, np.nan)
        if spo2 is not None:
            per_second = np.array(
                [
                    spo2[int(k * self.fs) : int((k + 1) * self.fs)].mean()
                    for k in range(self.n_seconds - 1)
                ]
                + [spo2[-1]]
            )
            self.spo2 = per_second
        else:
            self.spo2 = np.full(self.n_seconds, spo2_default)

    def since_expiration(self, t_s: float) -> float:
        """Seconds since the last expiration began, at data time `t_s` (the record loops)."""
        starts = self._looped(self.expirations / self.fs)
        into = t_s % self.duration_s if t_s > self.duration_s else t_s
        before = starts[starts <= into]
        return math.inf if len(before) == 0 else into - float(before[-1])

    def _co2_peaks(self) -> np.ndarray:
        """Per second k: the capnogram's peak over the window before k (the EtCO2)."""
        assert self.co2 is not None
        window = int(ETCO2_WINDOW_S * self.fs)
        looped = np.concatenate((self.co2[-window:], self.co2))
        out = np.empty(self.n_seconds)
        for k in range(self.n_seconds):
            end = window + min(int(k * self.fs), len(self.co2))
            out[k] = float(looped[max(0, end - window) : end].max())
        return out

    def _looped(self, event_t: np.ndarray) -> np.ndarray:
        """Events with a copy one record earlier: the record loops, so the windows at its
        start see the end of the previous pass (and the monitor no gap at each loop)."""
        return np.concatenate((event_t - self.duration_s, event_t))

    def _abp_per_second(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = self._looped(np.array([b.t_s for b in self.beats]))
        table = np.array([[b.sys_mmhg, b.dia_mmhg, b.map_mmhg] for b in self.beats] * 2)
        out = np.full((self.n_seconds, 3), np.nan)
        for k in range(self.n_seconds):
            inside = (t > k - ABP_WINDOW_S) & (t <= k)
            if inside.any():
                out[k] = np.median(table[inside], axis=0)
        return out[:, 0], out[:, 1], out[:, 2]

    def record_second(self, t_s: float) -> int:
        """Index into the per-second tables for data time `t_s` (the record loops)."""
        period = self.n_seconds - 1
        k = math.ceil(t_s - 1e-9)
        return k % period if k > period else k

    def vitals_at(self, t_s: float) -> VitalSigns:
        k = self.record_second(t_s)
        return VitalSigns(
            hr_bpm=float(self.pulse_rate[k]),
            spo2_percent=float(self.spo2[k]),
            pi_percent=DEFAULT_PI_PERCENT,
            rr_bpm=float(self.resp_rate[k]),
            sys_mmhg=float(self.sys[k]),
            dia_mmhg=float(self.dia[k]),
            map_mmhg=float(self.map[k]),
        )

    def device_state_at(self, t_s: float) -> DeviceState:
        return DeviceState()


class RecordedWave:
    """A record signal resampled to a device rate, played by absolute sample index (looping),
    with a mask of the samples that follow a detected event (beat or breath)."""

    def __init__(
        self, x: np.ndarray, fs_in: float, fs_out: float, events: np.ndarray, mark_frames: int
    ) -> None:
        self.values = resample(x, fs_in, fs_out)
        self.marks = np.zeros(len(self.values), dtype=bool)
        at = np.round(np.asarray(events) * fs_out / fs_in).astype(np.int64)
        for offset in range(mark_frames):
            self.marks[np.clip(at + offset, 0, len(self.marks) - 1)] = True

    def take(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = index % len(self.values)
        return self.values[at], self.marks[at]


class WfdbBedside(Bedside):
    """A record's devices: the oximeter from PLETH (or ABP), respiration from RESP."""

    def __init__(self, record_path: str, oximeter_protocol: str = "nonin2") -> None:
        patient = RecordedPatient(record_path)
        super().__init__(patient)
        self.patient = patient
        pulse = patient.pleth if patient.pleth is not None else patient.abp
        if pulse is not None:
            self.devices["oximeter"] = self._oximeter(patient, pulse, oximeter_protocol)
        if patient.abp is not None:
            # ABP beats become the cuff's readings: the module measures what the record shows.
            self.devices["nibp"] = VirtualNibpModule(patient)
        if patient.resp is not None:
            self.devices["resp"] = self._resp(patient)
        if patient.co2 is not None:
            self.devices["capno"] = self._capno(patient)

    @staticmethod
    def _capno(patient: RecordedPatient) -> VirtualCapnostat:
        """The recorded capnogram through a virtual Capnostat (the module's own status,
        warm-up and framing; the patient's breaths from the record)."""
        assert patient.co2 is not None
        wave = RecordedWave(patient.co2, patient.fs, CO2_RATE_HZ, patient.expirations, 1)

        def second(k: int) -> CapnoSecond:
            index = np.arange((k - 1) * int(CO2_RATE_HZ), k * int(CO2_RATE_HZ))
            values, marks = wave.take(index)
            row = patient.record_second(float(k))
            rate = float(patient.co2_rate[row])
            breathing = math.isfinite(rate) and rate > 0.5
            # The rate's window lags an apnea: no expiration for two breaths is none.
            since = patient.since_expiration(float(k))
            breathing = breathing and since <= 2 * 60.0 / rate
            etco2 = float(patient.etco2[row]) if breathing else 0.0
            return CapnoSecond(values, marks, etco2, rate if breathing else 0.0, breathing)

        return VirtualCapnostat(patient, capnogram_source=by_second(second))

    @staticmethod
    def _oximeter(patient: RecordedPatient, pulse: np.ndarray, protocol: str) -> VirtualOximeter:
        rate = float(oximeter_encoder(protocol).sample_rate_hz)
        wave = RecordedWave(
            _normalise(pulse), patient.fs, rate, patient.pulse_peaks, BEAT_FLAG_FRAMES
        )

        def render(
            seconds: np.ndarray, index: np.ndarray, times: np.ndarray, artifact: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
            values, marks = wave.take(index)
            return np.clip(values, 0.0, 1.0), marks

        return VirtualOximeter(patient, protocol, pleth=render)

    @staticmethod
    def _resp(patient: RecordedPatient) -> VirtualRespSensor:
        from drivers.simresp import SAMPLE_RATE_HZ

        assert patient.resp is not None
        wave = RecordedWave(
            2.0 * _normalise(patient.resp) - 1.0,
            patient.fs,
            SAMPLE_RATE_HZ,
            patient.breath_peaks,
            1,
        )

        def render(
            seconds: np.ndarray, index: np.ndarray, times: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            values, marks = wave.take(index)
            rows = [patient.record_second(float(k)) for k in range(seconds[0], seconds[-1] + 1)]
            rr = patient.resp_rate[rows][seconds - seconds[0]]
            return np.clip(values, -1.0, 1.0), marks, rr

        return VirtualRespSensor(patient, "simresp", resp=render)


def parse_wfdb_spec(spec: str) -> str:
    """`wfdb:RECORD` -> RECORD (path without extension)."""
    record = spec.removeprefix("wfdb:")
    if not record:
        raise WfdbRecordError("'wfdb:' needs a record path, e.g. wfdb:data/physionet/a103l")
    return record
