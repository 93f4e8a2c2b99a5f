"""`vitalmon decode`: a capture file to one JSON line per frame, or the counters."""

from __future__ import annotations

import pytest

from drivers.registry import make_decoder, make_encoder
from drivers.types import OximeterBatch, OximeterFlag
from tests.conftest import json_lines, run_vitalmon


def lead_in(protocol: str) -> int:
    """Frames of a run before the first the decoder hands on (docs/protocols.md)."""
    decoder = make_decoder(protocol)
    return decoder.confirm_frames - decoder.hold_frames - 1


def capture(protocol: str) -> bytes:
    """Two stray bytes, then a run whose frames with pleth 10, 11, 12 are believed (the
    frames after them, `hold_frames`, hand them on and still wait themselves)."""
    encoder = make_encoder(protocol)
    pleth = list(range(10 - lead_in(protocol), 13 + make_decoder(protocol).hold_frames))
    batch = OximeterBatch.constant(
        encoder.sample_rate_hz, pleth, 97, None, 2.5, OximeterFlag.PULSE_BEAT
    )
    return b"\x00\x7f" + encoder.encode(batch)


def test_binary_capture_to_json_lines(tmp_path) -> None:
    path = tmp_path / "cap.bin"
    path.write_bytes(capture("contec7"))
    result = run_vitalmon("decode", "contec7", str(path))
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [
        {"pleth": p, "spo2": 97, "pr": None, "pi": 2.5, "status": ["pulse_beat"]}
        for p in (10, 11, 12)
    ]


def test_hex_capture_and_summary(tmp_path) -> None:
    path = tmp_path / "cap.txt"
    path.write_text(capture("contec").hex(" ").upper() + "\n")
    result = run_vitalmon("decode", "contec", str(path), "--hex", "--summary")
    assert result.returncode == 0, result.stderr
    [summary] = json_lines(result.stdout)
    unbelieved = lead_in("contec")
    assert summary["frames"] == 3 and summary["unconfirmed"] == unbelieved
    assert summary["bytes_dropped"] == 2 + 5 * unbelieved
    waiting = make_decoder("contec").hold_frames
    assert summary["bytes_in"] == 2 + 5 * (unbelieved + 3 + waiting)
    assert summary["resyncs"] == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["decode", "nosuch", "{file}"], "unknown protocol 'nosuch'"),
        (["decode", "nonin2", "{missing}"], "cannot read capture"),
        (["decode", "nonin2", "{file}", "--hex"], "is not hex text"),
        (["decode", "nonin2"], "required"),
    ],
)
def test_decode_mistakes_get_one_line(tmp_path, args: list[str], needle: str) -> None:
    path = tmp_path / "cap.bin"
    path.write_bytes(b"\x01\x80zz")
    filled = [a.format(file=path, missing=tmp_path / "nope.bin") for a in args]
    result = run_vitalmon(*filled, timeout=20)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
