"""RespChannel: the rate with its validity, apnea seconds, the waveform ring."""

from __future__ import annotations

import numpy as np

from drivers.simresp import CONFIRM_FRAMES, SimRespEncoder
from drivers.types import LinkEvent, LinkState, RespBatch, RespFlag
from monitor.channels import make_channel
from monitor.channels.resp import RespChannel
from monitor.commands import CommandBus

# A stream's first frames only confirm it (docs/reliability.md, "Noise"): no sample.
UNCONFIRMED = CONFIRM_FRAMES - 1


def second_of(encoder: SimRespEncoder, rr: float, breath: bool) -> bytes:
    flags = np.zeros(25, dtype=np.uint8)
    if breath:
        flags[0] = RespFlag.BREATH
    return encoder.encode(
        RespBatch(
            25.0,
            np.zeros(25, dtype=np.float32),
            np.full(25, rr, dtype=np.float32),
            np.zeros(25, dtype=np.float32),
            flags,
        )
    )


def channel() -> RespChannel:
    made = make_channel("resp", "resp", "simresp", lambda r: None, lambda b: False, CommandBus())
    assert isinstance(made, RespChannel)
    return made


def test_rate_valid_then_stale_then_missing_when_the_line_goes_quiet() -> None:
    ch, enc = channel(), SimRespEncoder()
    for t in range(1, 6):
        ch.feed(second_of(enc, 15, breath=t == 2), float(t))
    assert ch.numerics_json(5.0)["rr"] == 15 and ch.numerics_json(5.0)["rr_state"] == "valid"
    assert ch.numerics_json(10.0)["rr_state"] == "stale"
    gone = ch.numerics_json(20.0)
    assert gone["rr"] is None and gone["rr_state"] == "missing" and gone["apnea_s"] is None
    assert ch.wave_rate_hz == 25.0 and len(ch.wave) == 125 - UNCONFIRMED


def test_apnea_seconds_count_from_the_last_breath() -> None:
    ch, enc = channel(), SimRespEncoder()
    for t in range(1, 41):
        ch.feed(second_of(enc, 0 if t > 3 else 14, breath=t == 3), float(t))
    # The breath mark was the first sample of second 3, i.e. at t = 2.04.
    assert ch.last_breath_t == 2.04
    assert ch.numerics_json(40.0)["apnea_s"] == 38.0
    assert ch.numerics_json(40.0)["rr"] == 0


def test_link_down_forgets_everything() -> None:
    ch, enc = channel(), SimRespEncoder()
    ch.feed(second_of(enc, 14, breath=True), 1.0)
    ch.on_link(LinkEvent("x", LinkState.DOWN, "gone", 0.0), 1.5)
    assert ch.numerics_json(2.0) == {
        "rr": None, "rr_state": "missing", "apnea_s": None, "rr_source": "respiration",
        "resp_last_frame_t": None,
    }  # fmt: skip


def test_whole_second_chunks_leave_no_gap_even_after_another_channels_tick() -> None:
    ch, enc = channel(), SimRespEncoder()
    for t in range(1, 11):
        ch.tick(t - 1e-6)  # another channel's chunk of the same step came first
        ch.feed(second_of(enc, 14, breath=False), float(t))
        ch.tick(float(t))
    wave, _ = ch.wave.snapshot()
    assert len(wave) == 250 - UNCONFIRMED and not np.isnan(wave).any()
    ch.tick(14.0)  # a real silence is still drawn as a gap
    ch.feed(second_of(enc, 14, breath=False), 15.0)
    wave, _ = ch.wave.snapshot()
    assert np.isnan(wave).sum() == 100  # the 4 s of silence after t = 10
