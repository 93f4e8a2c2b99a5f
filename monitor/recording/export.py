"""A session's decoded layer in the formats other tools read: CSV, EDF+, WFDB.

- CSV: the numerics, one row a second, one column per field.
- EDF+ (pyedflib): pleth plus every numeric as signals, one file per stretch of
  continuous pleth (EDF+C cannot hold a gap), alarms, NIBP readings, events
  and commands as annotations. EDF has no "missing": a missing value inside a
  stretch is written as the signal's physical minimum.
- WFDB (wfdb): the PhysioNet/MIMIC layout, a waveform record `NAME` (pleth) and
  a 1 Hz numerics record `NAMEn`, NaN where a value is missing, and an
  annotation file `NAME.event` with alarms, NIBP readings, events and commands.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from drivers.errors import VitalmonError
from monitor.recording.store import Record, SessionReader, WaveBlock
from monitor.recording.tables import write_csv
from monitor.records import fields_of, time_of

# Seconds of missing pleth that split an EDF+ file.
EDF_GAP_S = 1.0
# (unit, physical min, physical max) of known numerics; others use the data's range.
NUMERIC_UNITS: dict[str, tuple[str, float, float]] = {
    "spo2": ("%", 0.0, 100.0),
    "pr": ("bpm", 0.0, 300.0),
    "pi": ("%", 0.0, 25.0),
    "rr": ("/min", 0.0, 150.0),
    "etco2": ("mmHg", 0.0, 150.0),
    "fico2": ("mmHg", 0.0, 150.0),
}


class ExportError(VitalmonError):
    """A session that cannot be written in the asked format."""


@dataclass(frozen=True, slots=True)
class Annotation:
    t: float
    text: str


# Numbers in the numerics record that are bookkeeping, not measurements of the patient:
# data-time stamps (`*_t`) and the age of the last NIBP reading.
BOOKKEEPING_KEYS = frozenset({"nibp_age_s"})


def numeric_keys(numerics: list[Record]) -> list[str]:
    """Measured fields (numbers; not times, ages or state strings), in first-seen order."""
    keys: dict[str, None] = {}
    for record in numerics:
        for key, value in record.items():
            if key == "t" or key.endswith("_t") or key in BOOKKEEPING_KEYS:
                continue
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                keys.setdefault(key, None)
    return list(keys)


def numerics_matrix(numerics: list[Record], keys: list[str], t0: int, n: int) -> np.ndarray:
    """(n seconds, keys) from second t0 on; NaN where there is no value."""
    out = np.full((n, len(keys)), np.nan)
    for record in numerics:
        i = round(time_of(record)) - t0
        if 0 <= i < n:
            for j, key in enumerate(keys):
                value = record.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out[i, j] = float(value)
    return out


def pleth_array(blocks: list[WaveBlock], t0: float, n: int, rate: float) -> np.ndarray:
    """Samples on the grid t0 + k/rate, NaN where nothing was recorded."""
    out = np.full(n, np.nan, dtype=np.float64)
    for block in blocks:
        start = round((block.t0 - t0) * rate)
        lo, hi = max(start, 0), min(start + len(block.samples), n)
        if lo < hi:
            out[lo:hi] = block.samples[lo - start : hi - start]
    return out


ANNOTATED = ("alarm", "nibp", "event", "command")


def session_annotations(
    reader: SessionReader, kinds: tuple[str, ...] = ANNOTATED
) -> list[Annotation]:
    """Alarms, NIBP readings, events and commands (or those of `kinds`) as one line each,
    in time order."""
    out = []
    for r in reader.records("alarm") if "alarm" in kinds else ():
        out.append(Annotation(time_of(r), f"ALARM {r.get('id')} {r.get('state')}"))
    for r in reader.records("nibp") if "nibp" in kinds else ():
        text = f"NIBP {r.get('sys')}/{r.get('dia')} ({r.get('map')}) {r.get('status') or ''}"
        out.append(Annotation(time_of(r), text.strip()))
    for r in reader.records("event") if "event" in kinds else ():
        detail = " ".join(
            f"{k}={v}" for k, v in r.items() if k not in ("type", "t", "wall", "kind")
        )
        out.append(Annotation(time_of(r), f"EVENT {r.get('kind')} {detail}".strip()))
    for r in reader.records("command") if "command" in kinds else ():
        args = " ".join(f"{k}={v}" for k, v in fields_of(r.get("args")).items())
        out.append(Annotation(time_of(r), f"COMMAND {r.get('name')} {args}".strip()))
    return sorted(out, key=lambda a: a.t)


def patient_id(reader: SessionReader) -> str:
    """From the session_setup command, if the nurse gave one."""
    found = ""
    for r in reader.records("command"):
        if r.get("name") == "session_setup":
            found = str(fields_of(r.get("args")).get("patient_id") or "")
    return found


def wall_start(reader: SessionReader) -> datetime:
    return datetime.fromisoformat(str(reader.meta["wall_start"]))


# -- CSV ---------------------------------------------------------------------------------


def export_csv(reader: SessionReader, out: Path) -> list[Path]:
    with open(out, "w", newline="", encoding="utf-8") as stream:
        write_csv(reader.records("numerics"), stream)
    return [out]


# -- EDF+ --------------------------------------------------------------------------------


def _finite_runs(blocks: list[WaveBlock]) -> list[tuple[float, float]]:
    """Time spans holding samples (NaN is the pipeline's mark for silence). A sample's
    time is the end of its frame, so sample i of a block covers (t_i - 1/rate, t_i]."""
    runs = []
    for block in sorted(blocks, key=lambda b: b.t0):
        finite = np.isfinite(block.samples).astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], finite, [0]))))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            runs.append(
                (block.t0 + (start - 1) / block.rate_hz, block.t0 + (end - 1) / block.rate_hz)
            )
    return runs


def segments(blocks: list[WaveBlock], numerics: list[Record]) -> list[tuple[int, int]]:
    """Whole-second [start, end) stretches of pleth with no silence over EDF_GAP_S;
    without any pleth, the numerics' whole span."""
    spans: list[list[float]] = []
    for a, b in _finite_runs(blocks):
        if spans and a - spans[-1][1] <= EDF_GAP_S:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    if not spans:
        if not numerics:
            return []
        first, last = time_of(numerics[0]), time_of(numerics[-1])
        return [(math.floor(first), math.floor(last) + 1)]
    # Chunk times may sit a hair before the second (sources.SAME_STEP_EPS_S keeps the
    # chunks of one step in order), so snap to whole seconds within half a sample.
    tol = 0.5 / blocks[0].rate_hz
    return [
        (math.floor(a + tol), max(math.ceil(b - tol), math.floor(a + tol) + 1)) for a, b in spans
    ]


def _edf_header(
    label: str, unit: str, rate: float, lo: float, hi: float
) -> dict[str, str | int | float | None]:
    if not hi > lo:
        hi = lo + 1.0
    return {
        "label": label[:16],
        "dimension": unit[:8],
        "sample_frequency": rate,
        "physical_min": lo,
        "physical_max": hi,
        "digital_min": -32768,
        "digital_max": 32767,
        "transducer": "",
        "prefilter": "",
    }


def export_edf(reader: SessionReader, out: Path) -> list[Path]:
    import pyedflib

    try:  # pyedflib's C side takes UTF-8 paths only (a traceback otherwise)
        str(out).encode("utf-8")
    except UnicodeEncodeError:
        raise ExportError(f"EDF file paths must be UTF-8 text: '{out.name}'") from None
    blocks = reader.wave_blocks()
    numerics = reader.records("numerics")
    spans = segments(blocks, numerics)
    if not spans:
        raise ExportError(f"'{reader.path}' holds no data to export")
    keys = numeric_keys(numerics)
    rate = blocks[0].rate_hz if blocks else 0.0
    if rate and abs(rate - round(rate)) > 1e-9:
        raise ExportError(f"pleth rate {rate} Hz is not a whole number of samples a second")
    notes = session_annotations(reader)
    patient = patient_id(reader)
    start = wall_start(reader)
    paths = (
        [out]
        if len(spans) == 1
        else [
            out.with_name(f"{out.stem}_part{i}{out.suffix or '.edf'}")
            for i in range(1, len(spans) + 1)
        ]
    )
    for path, (s0, s1) in zip(paths, spans, strict=True):
        n = s1 - s0
        headers: list[dict[str, str | int | float | None]] = []
        signals = []
        if blocks:
            # A sample's time is the end of its frame: second s holds (s, s+1].
            wave = pleth_array(blocks, s0 + 1.0 / rate, n * round(rate), rate)
            finite = wave[np.isfinite(wave)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            headers.append(_edf_header("Pleth", "", round(rate), lo, hi))
            signals.append(np.where(np.isfinite(wave), wave, lo))
        matrix = numerics_matrix(numerics, keys, s0, n)
        for j, key in enumerate(keys):
            column = matrix[:, j]
            unit, lo, hi = NUMERIC_UNITS.get(key, ("", *_range(column)))
            headers.append(_edf_header(key, unit, 1, lo, hi))
            signals.append(np.clip(np.where(np.isfinite(column), column, lo), lo, hi))
        writer = pyedflib.EdfWriter(str(path), len(headers), file_type=pyedflib.FILETYPE_EDFPLUS)
        try:
            writer.setStartdatetime((start + timedelta(seconds=s0)).replace(tzinfo=None))
            writer.setEquipment("vitalmon")
            if patient:
                writer.setPatientCode("_".join(patient.split())[:40])
            writer.setRecordingAdditional(str(reader.meta.get("session_id", ""))[:60])
            writer.setSignalHeaders(headers)
            writer.writeSamples(signals)
            for note in notes:
                if _part_of(note.t, spans) == (s0, s1):
                    writer.writeAnnotation(note.t - s0, -1, note.text[:60])
        finally:
            writer.close()
    return paths


def check_edf(path: Path) -> None:
    """EDF's C writer does not report a failed write: read the header back and make sure
    the file holds every data record it announces (ValueError says what is missing)."""
    with open(path, "rb") as f:
        head = f.read(256)
        try:
            ns = int(head[252:256])
            header_bytes, records = int(head[184:192]), int(head[236:244])
            f.seek(256 + ns * 216)
            per_record = sum(int(f.read(8)) for _ in range(ns))
        except ValueError:
            raise ExportError(
                f"cannot write '{path.name}': the EDF header did not reach the disk"
            ) from None
        size = os.fstat(f.fileno()).st_size
    if records < 1 or size != header_bytes + 2 * per_record * records:
        raise ExportError(f"cannot write '{path.name}': the EDF file is incomplete (disk full?)")


def _part_of(t: float, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The file an annotation goes in: the last one starting at or before it. One in a
    gap (the OXIMETER_COMM_LOST that explains the gap) or after the last pleth goes in
    the file before it, past that file's end (EDF+ allows it), so no annotation is lost."""
    return next((span for span in reversed(spans) if span[0] <= t), spans[0])


def _range(column: np.ndarray) -> tuple[float, float]:
    finite = column[np.isfinite(column)]
    if not finite.size:
        return 0.0, 1.0
    return float(min(finite.min(), 0.0)), float(finite.max())


# -- WFDB --------------------------------------------------------------------------------


def _gains(signal: np.ndarray) -> list[float]:
    """ADC gain per column so every value fits 16 bits (baseline 0)."""
    gains = []
    for j in range(signal.shape[1]):
        column = signal[:, j]
        finite = np.abs(column[np.isfinite(column)])
        top = float(finite.max()) if finite.size else 1.0
        gains.append(30000.0 / max(top, 1.0))
    return gains


def export_wfdb(reader: SessionReader, out: Path) -> list[Path]:
    # wfdb's own pandas calls warn about pandas' future; not the user's concern.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _export_wfdb(reader, out)


def _export_wfdb(reader: SessionReader, out: Path) -> list[Path]:
    import wfdb

    name, folder = out.name, out.parent
    if not name.isascii() or not name.replace("_", "").replace("-", "").isalnum():
        raise ExportError(f"WFDB record names are letters, digits, - and _: '{name}'")
    blocks = reader.wave_blocks()
    numerics = reader.records("numerics")
    notes = session_annotations(reader)
    keys = numeric_keys(numerics)
    comments = [f"vitalmon session {reader.meta.get('session_id', '')}"]
    if patient_id(reader):
        comments.append(f"patient {patient_id(reader)}")
    if not blocks and not keys:
        raise ExportError(f"'{reader.path}' holds no data to export")
    folder.mkdir(parents=True, exist_ok=True)  # only once everything has been read
    start = wall_start(reader).replace(tzinfo=None)
    seconds = math.ceil(max(reader.duration_s(), 1.0))
    written: list[Path] = []
    rate = blocks[0].rate_hz if blocks else 0.0
    if blocks:
        wave = pleth_array(blocks, 0.0, round(seconds * rate) + 1, rate)[:, None]
        wfdb.wrsamp(
            name,
            fs=rate,
            units=["NU"],
            sig_name=["PLETH"],
            p_signal=wave,
            fmt=["16"],
            adc_gain=_gains(wave),
            baseline=[0],
            comments=comments,
            base_datetime=start,
            write_dir=str(folder),
        )
        written += [folder / f"{name}.hea", folder / f"{name}.dat"]
        if notes:
            samples = np.array([min(round(a.t * rate), len(wave) - 1) for a in notes])
            wfdb.wrann(
                name,
                "event",
                samples,
                symbol=['"'] * len(notes),
                aux_note=[a.text for a in notes],
                fs=rate,
                write_dir=str(folder),
            )
            written.append(folder / f"{name}.event")
    if keys:
        matrix = numerics_matrix(numerics, keys, 0, seconds + 1)
        units = [NUMERIC_UNITS.get(k, ("NU", 0, 0))[0] for k in keys]
        wfdb.wrsamp(
            f"{name}n",
            fs=1,
            units=units,
            sig_name=keys,
            p_signal=matrix,
            fmt=["16"] * len(keys),
            adc_gain=_gains(matrix),
            baseline=[0] * len(keys),
            base_datetime=start,
            write_dir=str(folder),
        )
        written += [folder / f"{name}n.hea", folder / f"{name}n.dat"]
    return written


EXPORTERS = {"csv": export_csv, "edf": export_edf, "wfdb": export_wfdb}
# Read-back checks for formats whose writer may lose a write error (monitor/recording/output.py).
CHECKS = {"edf": check_edf}
# Formats that write a folder of files and may create it.
MAKES_FOLDERS = frozenset({"wfdb"})
