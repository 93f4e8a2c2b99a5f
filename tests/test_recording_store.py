"""The session file: every table round-trips, the file is private, versioned, never
overwritten, and a file being written is in WAL mode."""

from __future__ import annotations

import itertools
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from drivers.registry import make_decoder
from drivers.types import LinkEvent, LinkState
from monitor.recording.schema import SCHEMA_VERSION
from monitor.recording.store import (
    SessionFileError,
    SessionReader,
    SessionWriter,
    WaveBlock,
    table_counts,
)
from monitor.records import record_json
from monitor.sources import Chunk


def test_every_record_type_round_trips_in_emission_order(report_session) -> None:
    path, emitted = report_session
    with SessionReader(path) as reader:
        assert reader.all_records() == emitted
        for kind in ("numerics", "nibp", "alarm", "event", "command"):
            stored = reader.records(kind)
            assert stored == [r for r in emitted if r["type"] == kind]
            assert stored, kind
        counts = table_counts(reader)
        assert counts["numerics"] == 900
        assert reader.meta["protocols"] == {
            "oximeter": "nonin2",
            "nibp": "suntech",
            "resp": "simresp",
            "capno": "capnostat",
        }
        assert reader.meta["wall_start"] == "2026-03-02T09:00:00+00:00"
        assert reader.meta["source"] == {"kind": "simulator", "scenario": "rec_report", "seed": 3}
        assert reader.meta["closed_cleanly"] is True
        assert reader.meta["end_t"] == 900.0
        assert reader.meta["vitalmon_version"]


def test_raw_layer_and_waveform_round_trip(report_session) -> None:
    path, _ = report_session
    with SessionReader(path) as reader:
        chunks = [c for _, c in reader.chunks(batch=97)]  # batch boundaries must not matter
        data = b"".join(c.data for c in chunks if c.channel == "oximeter")
        assert [c.t for c in chunks] == sorted(c.t for c in chunks)
        assert chunks[-1].t == 900.0
        expected = make_decoder("nonin2").feed(data).pleth
        blocks = reader.wave_blocks()
        samples = np.concatenate([b.samples for b in blocks])
        # A run's first frames are not believed until it confirms itself (docs/reliability.md,
        # "Noise"): their samples never reach the store.
        unconfirmed = make_decoder("nonin2").confirm_frames - 1
        assert len(samples) == 900 * 75 - unconfirmed
        # The oximeter is silent 725-740 s: no bytes, so the pipeline marks those
        # sample slots NaN; every other sample is the decoder's, in order.
        silent = np.isnan(samples)
        assert 10 * 75 <= silent.sum() <= 20 * 75
        assert not silent[: 720 * 75].any() and not silent[745 * 75 :].any()
        np.testing.assert_array_equal(samples[~silent], expected)
        # Blocks are contiguous in data time: each starts where the last one ended.
        for before, after in itertools.pairwise(blocks):
            assert after.t0 == pytest.approx(before.t_end, abs=1e-6)
        # The first believed sample is at 3/75 s (the oximeter chunk of a step is stamped 1 us
        # before it: monitor.sources.SAME_STEP_EPS_S).
        assert blocks[0].t0 == pytest.approx((1 + unconfirmed) / 75, abs=1e-5)


def test_link_events_ticks_meta_and_wave_blocks_round_trip(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    writer = SessionWriter(
        path,
        {
            "wall_start": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
            "protocols": {"oximeter": "nonin2"},
            "note": [1, "two", None],
        },
    )
    down = LinkEvent("/dev/ttyUSB0", LinkState.DOWN, "port vanished", 12.5)
    chunks = [
        Chunk(0.5, "oximeter", b"\x01\x02\x03"),
        Chunk(1.0),
        Chunk(1.5, "oximeter", link=down),
    ]
    writer.add_chunks(list(enumerate(chunks)))
    rows = [
        {"type": "command", "t": 1.5, "wall": "w", "name": "x", "args": {"a": 1}},
        {"type": "mystery", "t": 1.5, "wall": "w", "v": 2},
    ]
    writer.add_records([(seq, 2, r, record_json(r)) for seq, r in enumerate(rows)])
    wave = WaveBlock("oximeter", "pleth", 0.25, 75.0, np.array([1, np.nan, 3], dtype=np.float32))
    writer.add_wave(wave)
    writer.close()
    with SessionReader(path) as reader:
        assert [c for _, c in reader.chunks()] == chunks
        assert reader.meta["note"] == [1, "two", None]
        assert reader.commands_by_chunk() == {
            2: [{"type": "command", "t": 1.5, "wall": "w", "name": "x", "args": {"a": 1}}]
        }
        assert reader.records("mystery") == [{"type": "mystery", "t": 1.5, "wall": "w", "v": 2}]
        (block,) = reader.wave_blocks()
        assert block.t0 == 0.25 and block.rate_hz == 75.0
        np.testing.assert_array_equal(block.samples, wave.samples)


def test_file_is_private_versioned_wal_while_written_and_single_after(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    old = os.umask(0)
    try:
        writer = SessionWriter(path, {"wall_start": "2026-01-01T00:00:00+00:00"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes()[18] == 2  # WAL while recording
    writer.close()
    assert not os.path.exists(f"{path}-wal") and not os.path.exists(f"{path}-shm")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    db.close()


def test_an_existing_file_is_never_overwritten(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    path.write_bytes(b"precious")
    with pytest.raises(SessionFileError, match="never overwritten"):
        SessionWriter(path, {})
    assert path.read_bytes() == b"precious"


# A process that records flat out (bulk), commits rows 0..4, writes rows 5..9 and dies
# without a word, as under `kill -9`: its unfinished transaction is in the journal.
_KILLED_BULK_WRITER = """
import os, sys
from monitor.records import record_json
from monitor.recording.store import SessionWriter
from monitor.sources import Chunk
meta = {"wall_start": "2026-01-01T00:00:00+00:00", "protocols": {"oximeter": "nonin2"}}
writer = SessionWriter(sys.argv[1], meta, bulk=True)
rows = [{"type": "numerics", "t": float(t), "wall": "w", "spo2": 97} for t in range(10)]
writer.add_records([(t, -1, r, record_json(r)) for t, r in enumerate(rows[:5])])
writer.commit()
writer.add_records([(t, -1, r, record_json(r)) for t, r in enumerate(rows) if t >= 5])
# More than SQLite's page cache holds: pages of the file itself are overwritten.
writer.add_chunks([(k, Chunk(float(k), "oximeter", bytes(4000))) for k in range(2000)])
os._exit(0)
"""


def test_a_bulk_recording_killed_mid_transaction_reads_what_was_committed(tmp_path) -> None:
    """Flat out, the file is written with the rollback journal: a commit is as safe as in
    WAL, and a file killed mid-transaction (its pages already overwritten) is read from
    a private copy, rolled back there, while the file and its journal stay as they are."""
    path = tmp_path / "s.vitalmon"
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_BULK_WRITER, str(path)], cwd=repo, timeout=60
    )
    assert done.returncode == 0
    journal = Path(f"{path}-journal")
    assert journal.exists() and path.read_bytes()[18] == 1  # rollback journal, not WAL
    before = (path.read_bytes(), journal.read_bytes())
    with SessionReader(path) as reader:
        assert [r["t"] for r in reader.records("numerics")] == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert list(reader.chunks()) == []
    assert (path.read_bytes(), journal.read_bytes()) == before  # the reader changed nothing


def test_a_bulk_recording_closed_cleanly_is_one_file(tmp_path) -> None:
    path = tmp_path / "s.vitalmon"
    meta = {"wall_start": "2026-01-01T00:00:00+00:00", "protocols": {"oximeter": "nonin2"}}
    writer = SessionWriter(path, meta, bulk=True)
    row = {"type": "numerics", "t": 1.0, "wall": "w", "spo2": 97}
    writer.add_records([(0, -1, row, record_json(row))])
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["s.vitalmon"]
    with SessionReader(path) as reader:
        assert reader.records("numerics") == [row]
