"""Current oximeter numerics and whether each can be trusted: valid, stale or missing.

docs/clinical.md: a value with no valid source is dashes, never its last number; while
the device says the sensor is off (or the line is quiet) a held value may stay
at most 10 s, greyed, then dashes.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass

import numpy as np

from drivers.types import INVALIDATING_FLAGS, OximeterBatch, OximeterFlag, cached_flag

STALE_HOLD_S = 10.0
# A value not re-confirmed by a frame for this long counts as stale.
QUIET_LINE_S = 2.0


class ValueState(enum.Enum):
    VALID = "valid"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class NumericReading:
    """A value as the screen should show it: `None` means dashes."""

    value: float | None
    state: ValueState


@dataclass(frozen=True, slots=True)
class OximeterSnapshot:
    t: float
    spo2: NumericReading
    pulse_rate: NumericReading
    perfusion_index: NumericReading
    flags: OximeterFlag
    last_frame_t: float | None = None  # data time of the last decoded frame (comm watchdog)

    def to_json(self) -> dict[str, object]:
        def whole(r: NumericReading) -> int | None:
            return None if r.value is None else round(r.value)

        pi = self.perfusion_index.value
        return {
            "spo2": whole(self.spo2),
            "pr": whole(self.pulse_rate),
            "pi": None if pi is None else round(pi, 1),
            "spo2_state": self.spo2.state.value,
            "pr_state": self.pulse_rate.state.value,
            "oximeter_status": status_names(int(self.flags) & _NOT_PACKET_START),
            "oximeter_last_frame_t": (
                None if self.last_frame_t is None else round(self.last_frame_t, 3)
            ),
        }


# Flag arithmetic on enum members costs a member lookup each: done on ints a second.
_INVALIDATING = int(INVALIDATING_FLAGS)
_NOT_PACKET_START = ~int(OximeterFlag.PACKET_START)


@functools.lru_cache(maxsize=256)
def _names(flags: int) -> tuple[str, ...]:
    return tuple(OximeterFlag.names(flags))


def status_names(flags: int) -> list[str]:
    """`OximeterFlag.names`, worked out once per combination: a device repeats a few
    combinations all session, and the names are wanted once a second."""
    return list(_names(flags))


def _last_value(column: np.ndarray) -> float | None:
    value = float(column[-1])
    return None if math.isnan(value) else value


class OximeterNumerics:
    """Folds decoded batches into the latest values and judges them at a data time."""

    _values: dict[str, float | None]
    _flags: OximeterFlag
    _last_frame_t: float | None
    _untrusted_since: float | None

    def __init__(self) -> None:
        self.reset()

    def update(self, batch: OximeterBatch, t: float) -> None:
        if len(batch) == 0:
            return
        self._values = {
            "spo2": _last_value(batch.spo2_percent),
            "pr": _last_value(batch.pulse_rate_bpm),
            "pi": _last_value(batch.perfusion_index_percent),
        }
        flags = int(batch.flags[-1])
        self._flags = cached_flag(OximeterFlag, flags)
        self._last_frame_t = t
        if flags & _INVALIDATING:
            if self._untrusted_since is None:
                self._untrusted_since = t
        else:
            self._untrusted_since = None

    def update_run(self, batch: OximeterBatch, last_rows: list[int], times: list[float]) -> None:
        """`update` with each feed of a run in turn, in one step: feed i ended at row
        `last_rows[i]` of `batch` and arrived at `times[i]` (feeds without a frame left out)."""
        if not times:
            return
        untrusted = (batch.flags[last_rows] & INVALIDATING_FLAGS) != 0
        trusted_at = (~untrusted).nonzero()[0]
        since = self._untrusted_since
        if len(trusted_at):
            after = int(trusted_at[-1]) + 1
            since = times[after] if after < len(times) else None
        elif since is None:
            since = times[0]
        self.update(batch, times[-1])
        self._untrusted_since = since

    def reset(self) -> None:
        """The link went down (and before the first frame): nothing held survives it."""
        self._values = {"spo2": None, "pr": None, "pi": None}
        self._flags = OximeterFlag.NONE
        self._last_frame_t = None
        self._untrusted_since = None

    def _reading(self, key: str, t: float) -> NumericReading:
        value = self._values[key]
        if value is None or self._last_frame_t is None:
            return NumericReading(None, ValueState.MISSING)
        untrusted_since = self._untrusted_since
        if t - self._last_frame_t > QUIET_LINE_S:
            quiet_since = self._last_frame_t
            untrusted_since = quiet_since if untrusted_since is None else untrusted_since
        if untrusted_since is None:
            return NumericReading(value, ValueState.VALID)
        if t - untrusted_since > STALE_HOLD_S:
            return NumericReading(None, ValueState.MISSING)
        return NumericReading(value, ValueState.STALE)

    def snapshot(self, t: float) -> OximeterSnapshot:
        return OximeterSnapshot(
            t,
            self._reading("spo2", t),
            self._reading("pr", t),
            self._reading("pi", t),
            self._flags,
            self._last_frame_t,
        )
