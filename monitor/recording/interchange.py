"""A session for the hospital and for research: Vital Recorder files and HL7 v2 messages.

- `.vital` (vitaldb): every recorded waveform (pleth, CO2, respiration) as a wave track,
  every numeric as a numeric track with one value a second (a missing value is no
  value), NIBP systolic/diastolic/mean at their reading times, and an `EVENT` string
  track with the session's events and alarms. Times are UTC unix seconds, the file's
  time zone offset 0. Track names: vital_tracks.toml (docs/interchange.md).
- HL7 (`.hl7`): the ORU^R01 messages the live `--hl7` feed sends for the same session
  (monitor/hl7/messages.py), one after another, each MLLP framed.
"""

from __future__ import annotations

import gzip
import tomllib
import zlib
from functools import cache
from importlib import resources
from pathlib import Path

from monitor.hl7.messages import messages_of, number
from monitor.hl7.mllp import frame
from monitor.recording.export import (
    ExportError,
    numeric_keys,
    session_annotations,
    wall_start,
)
from monitor.recording.store import SessionReader
from monitor.records import time_of


@cache
def vital_tracks() -> dict[str, object]:
    text = resources.files("monitor.recording").joinpath("vital_tracks.toml").read_text("utf-8")
    return tomllib.loads(text)


def _name(table: dict[str, dict[str, str]], key: str) -> tuple[str, str]:
    entry = table.get(key, {"track": key.upper(), "unit": ""})
    return entry["track"], entry["unit"]


def export_vital(reader: SessionReader, out: Path) -> list[Path]:
    import vitaldb  # pandas and friends: only for this format

    names = vital_tracks()
    device = str(names["device"])
    start = wall_start(reader).timestamp()
    vf = vitaldb.VitalFile()
    vf.dgmt = 0  # UTC, not the exporting machine's zone
    end = start + reader.duration_s()
    for channel, signal in reader.wave_signals():
        blocks = reader.wave_blocks(channel, signal)
        track, unit = _name(names["waves"], f"{channel}.{signal}")  # type: ignore[arg-type]
        recs = [{"dt": start + b.t0, "val": b.samples} for b in blocks if len(b.samples)]
        if recs:
            vf.add_track(f"{device}/{track}", recs, srate=blocks[0].rate_hz, unit=unit)
            end = max(end, start + max(b.t_end for b in blocks))
    numerics = reader.records("numerics")
    for key in numeric_keys(numerics):
        track, unit = _name(names["numerics"], key)  # type: ignore[arg-type]
        recs = [
            {"dt": start + time_of(r), "val": float(v)}
            for r in numerics
            if (v := number(r.get(key))) is not None
        ]
        vf.add_track(f"{device}/{track}", recs, unit=unit)
    readings = [r for r in reader.records("nibp") if r.get("status") == "ok"]
    for key, entry in names["nibp"].items():  # type: ignore[attr-defined]
        recs = [
            {"dt": start + time_of(r), "val": float(v)}
            for r in readings
            if (v := number(r.get(key))) is not None
        ]
        vf.add_track(f"{device}/{entry['track']}", recs, unit=entry["unit"])
    notes = session_annotations(reader, kinds=("alarm", "nibp", "event"))
    if notes:
        recs = [{"dt": start + a.t, "val": a.text} for a in notes]
        vf.add_track(str(names["event_track"]), recs)
    if not vf.trks:
        raise ExportError(f"'{reader.path}' holds no data to export")
    vf.dtstart, vf.dtend = start, end
    if not vf.to_vital(str(out)):
        raise ExportError(f"cannot write '{out.name}' (vitaldb reported a failed write)")
    return [out]


def check_vital(path: Path) -> None:
    """The whole gzip stream reads back and starts as a Vital file (a short write or a
    full disk leaves a truncated stream): ValueError says what is wrong."""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
            while f.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"the Vital file does not read back ({exc})") from None
    if head != b"VITA":
        raise ValueError("the Vital file does not read back (no VITA header)")


def export_hl7(reader: SessionReader, out: Path) -> list[Path]:
    prefix = str(reader.meta.get("session_id", ""))[:8]
    messages = messages_of(reader.all_records(), wall_start(reader), prefix)
    if not messages:
        raise ExportError(f"'{reader.path}' holds no value to send as HL7")
    with open(out, "wb") as stream:
        for message in messages:
            stream.write(frame(message))
    return [out]


EXPORTERS = {"vital": export_vital, "hl7": export_hl7}
CHECKS = {"vital": check_vital}
