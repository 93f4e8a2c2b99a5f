"""What the driver tests need to know about each oximeter protocol, in one table.

Independent of the decoders' internals except `frame_test` (to tell whether a run
of random garbage happens to contain a valid frame, which no receiver could
tell from a real one, so the garbage tests exclude it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from drivers import contec, nonin, nonin8
from drivers.types import OximeterFlag

F = OximeterFlag


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    rows_per_unit: int  # rows that share one set of numerics (a Nonin packet: 25)
    pr_max: int
    pleth: tuple[int, int] | None  # valid pleth range, None = no pleth in the protocol
    pi_max: float | None  # None = no perfusion index in the protocol
    flags: tuple[OximeterFlag, ...]  # flags that survive encode -> decode independently
    exclusive_flags: tuple[OximeterFlag, ...] = ()  # at most one of these at a time
    frame_len: int = 0
    frame_test: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]] | None = None
    garbage_excludes: bytes = b""  # bytes garbage may not contain (text protocols)
    # Frames of a back-to-back run before any is believed (the decoder's confirm_frames).
    confirm_frames: int = 1
    # Frames that must follow a frame in its run before it is handed on (the decoder's
    # hold_frames): the last ones of each run are never shown.
    hold_frames: int = 0
    # (SpO2 %, PR /min): how far display values may move from one frame to the next
    # and still belong to one run (nonin8); None = no such check.
    follow_limits: tuple[int, int] | None = None

    def garbage_forms_frame(self, garbage: bytes, following: bytes) -> bool:
        """Would a valid frame start inside `garbage` (given the bytes after it)?"""
        if self.frame_test is None:
            return any(b in garbage for b in self.garbage_excludes)
        buf = np.frombuffer(garbage + following[: self.frame_len - 1], dtype=np.uint8)
        m = len(buf) - self.frame_len + 1
        if m <= 0:
            return False
        _, valid = self.frame_test(buf, m)
        return bool(valid[: len(garbage)].any())


CONTEC_FOLLOW = (contec.FOLLOW_SPO2_PERCENT, contec.FOLLOW_PR_BPM)
NONIN_FLAGS = (F.SENSOR_OFF, F.ARTIFACT, F.OUT_OF_TRACK, F.SENSOR_ALARM, F.LOW_BATTERY)
NONIN_PERFUSION = (F.PULSE_BEAT, F.MARGINAL_PERFUSION, F.LOW_PERFUSION)

SPECS: dict[str, ProtocolSpec] = {
    s.name: s
    for s in (
        ProtocolSpec(
            "nonin2", 25, 510, (0, 255), None, NONIN_FLAGS, NONIN_PERFUSION, 5,
            nonin.format2_frames, confirm_frames=nonin.CONFIRM_FRAMES_FORMAT2,
            hold_frames=nonin.HOLD_FRAMES_FORMAT2,
        ),
        ProtocolSpec(
            "nonin7", 25, 510, (0, 65535), None, NONIN_FLAGS, NONIN_PERFUSION, 5,
            nonin.format7_frames, confirm_frames=nonin.CONFIRM_FRAMES_FORMAT7,
            hold_frames=nonin.HOLD_FRAMES_FORMAT7,
        ),
        ProtocolSpec(
            "nonin8", nonin8.CONFIRM_FRAMES, 510, None, None,
            (F.OUT_OF_TRACK, F.LOW_PERFUSION, F.MARGINAL_PERFUSION, F.ARTIFACT,
             F.SENSOR_ALARM, F.LOW_BATTERY),
            (), 4, nonin8.find_frames, confirm_frames=nonin8.CONFIRM_FRAMES,
            hold_frames=nonin8.HOLD_FRAMES,
            follow_limits=(nonin8.FOLLOW_SPO2_PERCENT, nonin8.FOLLOW_HR_BPM),
        ),
        ProtocolSpec(
            "contec", contec.CONFIRM_FRAMES, 254, (0, 127), None,
            (F.SEARCHING, F.SPO2_DROPPING, F.PULSE_BEAT, F.SENSOR_OFF), (), 5,
            contec.five_byte_frames, confirm_frames=contec.CONFIRM_FRAMES,
            hold_frames=contec.HOLD_FRAMES,
            follow_limits=CONTEC_FOLLOW,
        ),
        ProtocolSpec(
            "berry", contec.CONFIRM_FRAMES, 254, (1, 100), None,
            (F.NO_SIGNAL, F.SENSOR_OFF, F.PULSE_BEAT, F.SEARCHING), (), 5,
            contec.five_byte_frames, confirm_frames=contec.CONFIRM_FRAMES,
            hold_frames=contec.HOLD_FRAMES,
            follow_limits=CONTEC_FOLLOW,
        ),
        ProtocolSpec(
            "contec7", contec.CONTEC7_CONFIRM_FRAMES, 254, (0, 127), 100.0,
            (F.SEARCHING, F.SPO2_DROPPING, F.PULSE_BEAT, F.SENSOR_OFF), (), 9,
            contec.v7_packets, confirm_frames=contec.CONTEC7_CONFIRM_FRAMES,
            follow_limits=CONTEC_FOLLOW,
        ),
        ProtocolSpec(
            "masimo", 1, 300, None, 20.0,
            (F.NO_SENSOR, F.DEFECTIVE_SENSOR, F.LOW_PERFUSION, F.SEARCHING, F.INTERFERENCE,
             F.SENSOR_OFF, F.AMBIENT_LIGHT, F.UNRECOGNIZED_SENSOR, F.LOW_SIGNAL_IQ),
            garbage_excludes=b"=",
        ),
    )
}  # fmt: skip
