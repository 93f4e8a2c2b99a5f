"""A virtual SunTech Advantage module: answers commands as the real one does.

`start` inflates the cuff to about 35 mmHg above the patient's systolic, bleeds
it down in steps past the diastolic, dumps the rest, and has a result 20-40 s
after the start, taken from the patient model at that moment. Scenario faults
come from `PatientModel.device_state_at`: `nibp_error` ends a measurement with
that SunTech error code, `nibp_silent` makes the module ignore every command.

Answers are produced the moment a command arrives (data time `t` of
`receive`), and the module's fault state changes on whole seconds (it is read
at the next whole second of `t`), so a caller stepping time in 40 ms or in 1 s
steps gets the same answers to the same questions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from drivers.suntech import (
    Ack,
    BpDataResponse,
    CommandKind,
    SuntechCommand,
    SuntechCommandDecoder,
    encode_ack,
    encode_bp_data,
    encode_cuff_pressure,
    encode_module_data,
    encode_return_code,
)

if TYPE_CHECKING:
    from simulator.devices import Model

PROTOCOL = "suntech"
MEASUREMENT_S = (20.0, 40.0)
INFLATE_RATE_MMHG_S = 25.0
DUMP_S = 2.0
ABOVE_SYSTOLIC_MMHG = 35.0
BELOW_DIASTOLIC_MMHG = 15.0
BLEED_STEP_MMHG = 5.0  # step deflation, as oscillometric modules do
DEFAULT_INITIAL_INFLATE_MMHG = 160
# Pneumatic faults show after the inflation, the others when the analysis ends.
PNEUMATIC_ERRORS = frozenset({85, 87, 89, 90})
FIRMWARE = "vitalmon virtual SunTech  FW 3.1.4  LOT VM0001  SN 100042"
STARTS = (CommandKind.START_ADULT, CommandKind.START_PEDIATRIC, CommandKind.START_NEONATE)


@dataclass(frozen=True, slots=True)
class _Measurement:
    start_t: float
    end_t: float
    target_mmhg: float
    floor_mmhg: float
    inflate_s: float
    error_code: int

    def cuff_mmhg(self, t: float) -> int:
        """Cuff pressure during the cycle: ramp up, step down, dump."""
        if t >= self.end_t:
            return 0
        s = t - self.start_t
        if s < self.inflate_s:
            return round(self.target_mmhg * s / self.inflate_s)
        bleed_s = self.end_t - self.start_t - self.inflate_s - DUMP_S
        if s < self.inflate_s + bleed_s:
            frac = (s - self.inflate_s) / bleed_s
            p = self.target_mmhg - (self.target_mmhg - self.floor_mmhg) * frac
            return round(math.ceil(p / BLEED_STEP_MMHG) * BLEED_STEP_MMHG)
        left = (self.end_t - t) / DUMP_S
        return round(self.floor_mmhg * left)


class VirtualNibpModule:
    """Decodes the monitor's commands and queues the module's answers."""

    protocol = PROTOCOL

    def __init__(self, model: Model, seed: int = 0) -> None:
        self._model = model
        self._seed = seed
        self._decoder = SuntechCommandDecoder()
        self._out = bytearray()
        self._current: _Measurement | None = None
        self._last_result: BpDataResponse | None = None
        self._count = 0
        self.initial_inflate_mmhg = DEFAULT_INITIAL_INFLATE_MMHG
        self.commands_ignored = 0

    def receive(self, data: bytes, t: float) -> None:
        """Bytes the monitor wrote, arriving at data time `t`."""
        for command in self._decoder.feed(data):
            if self._model.device_state_at(float(math.ceil(t - 1e-9))).nibp_silent:
                self.commands_ignored += 1
                continue
            self._out += self._answer(command, t)

    def generate_until(self, t: float) -> bytes:
        """Answers not yet sent (the module speaks only when asked)."""
        self._settle(t)
        out, self._out = bytes(self._out), bytearray()
        return out

    @property
    def measuring(self) -> bool:
        return self._current is not None

    def _answer(self, command: SuntechCommand, t: float) -> bytes:
        self._settle(t)
        kind = command.kind
        if kind in STARTS:
            if self._current is not None:
                return encode_ack(Ack.BUSY)
            self._current = self._begin(t)
            return encode_ack(Ack.OK)
        if kind is CommandKind.ABORT:
            self._current = None
            return encode_ack(Ack.ABORTED)
        if kind is CommandKind.GET_CUFF_PRESSURE:
            current = self._current
            return encode_cuff_pressure(0 if current is None else current.cuff_mmhg(t))
        if kind is CommandKind.GET_BP_DATA:
            if self._current is not None or self._last_result is None:
                return encode_bp_data(_unfinished())
            return encode_bp_data(self._last_result)
        if kind is CommandKind.GET_RETURN_CODE:
            return encode_return_code(0)
        if kind is CommandKind.MODULE_DATA:
            return encode_module_data(f"{FIRMWARE}  CYC {self._count}")
        if kind is CommandKind.SET_INITIAL_INFLATE:
            self.initial_inflate_mmhg = int(command.value or DEFAULT_INITIAL_INFLATE_MMHG)
        return encode_ack(Ack.DONE)

    def _begin(self, t: float) -> _Measurement:
        """Plan one cycle: duration from the seed and the measurement's number."""
        rng = np.random.default_rng([self._seed, 0x4E1B, self._count])
        self._count += 1
        duration = float(rng.uniform(*MEASUREMENT_S))
        vitals = self._model.vitals_at(t)
        target = max(vitals.sys_mmhg + ABOVE_SYSTOLIC_MMHG, float(self.initial_inflate_mmhg))
        floor = max(20.0, vitals.dia_mmhg - BELOW_DIASTOLIC_MMHG)
        inflate_s = target / INFLATE_RATE_MMHG_S
        end_t = t + duration
        error = self._model.device_state_at(end_t).nibp_error
        if error in PNEUMATIC_ERRORS:
            end_t = t + inflate_s + DUMP_S
        return _Measurement(t, end_t, target, floor, inflate_s, error)

    def _settle(self, t: float) -> None:
        """A cycle whose time is up becomes the last result."""
        current = self._current
        if current is None or t < current.end_t:
            return
        self._current = None
        if current.error_code:
            self._last_result = BpDataResponse(0, 0, 0, 1, bytes(8), 0, 0, current.error_code)
            return
        vitals = self._model.vitals_at(current.end_t)
        self._last_result = BpDataResponse(
            systolic_mmhg=round(vitals.sys_mmhg),
            diastolic_mmhg=round(vitals.dia_mmhg),
            bit_test=0,
            bp_status=1,
            test_codes=bytes(8),
            heart_rate_bpm=round(vitals.hr_bpm),
            map_mmhg=round(vitals.map_mmhg),
            error_code=0,
        )


def _unfinished() -> BpDataResponse:
    return BpDataResponse(0, 0, 0, 0, bytes(8), 0, 0, 0)
