"""Technical alarm conditions from pipeline records: probe off, no signal, comm lost, stale
or overdue NIBP, an infusion started without a baseline.

Each watch folds the records it cares about into plain booleans, one per alarm
id; the engine applies delays, priorities and inactivation to them.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.alarms.rules import finite_number, nibp_ok

LINK_LOST = ("down", "reconnecting")
# The channel's own link watch says no valid frame is coming (drivers/linkquality.py).
FRAMELESS = ("garbage", "silent")


class StreamLinkWatch:
    """A streaming device's link, shared by the oximeter, CO2 and respiration watches:
    lost at once when its port closes or vanishes, or silent when no valid frame came for
    `silence_s` (counted from the port opening, or the first numerics, until one does).

    Silence is judged on each whole second's numerics, and, while the channel says no
    valid frame is coming (`garbage` or `silent`: no frame since the last one the
    numerics named), at the very moment it is due (`silence_due`): docs/clinical.md
    asks for the alarm after 10 s, not at the next whole second after them."""

    def __init__(self, silence_s: float) -> None:
        self.silence_s = silence_s
        self.link_lost = False
        self._first_t: float | None = None
        self._frameless = False
        self._last_frame: float | None = None  # as the latest numerics said
        self._fell_due = False  # this silence's due time has been judged

    def _link(self, state: str, t: float | None) -> None:
        self.link_lost = state in LINK_LOST
        self._frameless = state in FRAMELESS
        if not self._frameless:
            self._fell_due = False
        if state == "up" and t is not None and self._first_t is None:
            self._first_t = t

    def silence_due(self) -> float | None:
        """When "no valid frame for `silence_s`" falls due, if the link watch says no
        frame has come since the last one known (None: not known to be silent)."""
        if not self._frameless or self._fell_due or self.link_lost or self._first_t is None:
            return None
        since = self._last_frame if self._last_frame is not None else self._first_t
        return since + self.silence_s

    def fall_due(self) -> None:
        """The due time was reached: the condition holds until frames come back."""
        self._fell_due = True

    def _start(self, t: float) -> float:
        """The numerics of `t` say the device is in this session: the silence clock runs."""
        if self._first_t is None:
            self._first_t = t
        return self._first_t

    def _silent(self, last_frame: float | None, t: float) -> bool:
        self._last_frame = last_frame
        first = self._start(t)
        since = last_frame if last_frame is not None else first
        return t - since >= self.silence_s


NO_SIGNAL_FLAGS = frozenset(
    ("searching", "out_of_track", "sensor_alarm", "no_signal", "defective_sensor")
)


class OximeterWatch(StreamLinkWatch):
    """SPO2_PROBE_OFF, SPO2_NO_SIGNAL, SPO2_ARTIFACT, SPO2_NO_UPDATE, OXIMETER_COMM_LOST."""

    def on_link(self, state: str, t: float | None = None) -> dict[str, bool]:
        self._link(state, t)  # "no valid frame for 10 s" counts from the port opening
        return {"OXIMETER_COMM_LOST": self.link_lost} if self.link_lost else {}

    def on_numerics(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        if "spo2" not in record:
            return {}  # no oximeter in this session
        self._start(t)
        last_frame = finite_number(record.get("oximeter_last_frame_t"))
        silent = "oximeter_last_frame_t" in record and self._silent(last_frame, t)
        comm_lost = self.link_lost or silent
        flags = set(record.get("oximeter_status") or ())  # type: ignore[call-overload]
        known = "oximeter_last_frame_t" in record
        frames_flowing = not comm_lost and (last_frame is not None or not known)
        probe_off = frames_flowing and "sensor_off" in flags
        no_value = record.get("spo2") is None and last_frame is not None
        no_signal = frames_flowing and not probe_off and bool(flags & NO_SIGNAL_FLAGS or no_value)
        invalid = record.get("spo2_state") != "valid" or record.get("pr_state", "valid") != "valid"
        return {
            "OXIMETER_COMM_LOST": comm_lost,
            "SPO2_PROBE_OFF": probe_off,
            "SPO2_NO_SIGNAL": no_signal,
            "SPO2_ARTIFACT": frames_flowing and "artifact" in flags,
            "SPO2_NO_UPDATE": invalid and not comm_lost and not probe_off,
        }


class CapnoWatch(StreamLinkWatch):
    """CO2_COMM_LOST (port gone at once, or no valid frame for `silence_s`), and the
    module's own technical states: CO2_CHECK_ADAPTER, CO2_SENSOR_FAULT,
    CO2_ZERO_REQUIRED, CO2_WARMUP (from `co2_status` of the numerics)."""

    def on_link(self, state: str, t: float) -> dict[str, bool]:
        self._link(state, t)
        return {"CO2_COMM_LOST": self.link_lost} if self.link_lost else {}

    def on_numerics(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        if "co2_last_frame_t" not in record:
            return {}  # no CO2 module in this session
        last = finite_number(record.get("co2_last_frame_t"))
        comm_lost = self.link_lost or self._silent(last, t)
        status = set() if comm_lost else set(record.get("co2_status") or ())  # type: ignore[call-overload]
        return {
            "CO2_COMM_LOST": comm_lost,
            "CO2_CHECK_ADAPTER": "check_adapter" in status,
            "CO2_SENSOR_FAULT": bool(status & {"over_temperature", "sensor_faulty"}),
            "CO2_ZERO_REQUIRED": "zero_required" in status,
            "CO2_WARMUP": "warm_up" in status,
        }


class RespWatch(StreamLinkWatch):
    """RESP_COMM_LOST: the respiration source's port closed or vanished (at once), or no
    frame for `silence_s` (a silent line)."""

    def on_link(self, state: str, t: float) -> dict[str, bool]:
        self._link(state, t)
        return {"RESP_COMM_LOST": self.link_lost}

    def on_numerics(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        if "resp_last_frame_t" not in record:
            return {}  # no respiration source in this session
        last = finite_number(record.get("resp_last_frame_t"))
        return {"RESP_COMM_LOST": self.link_lost or self._silent(last, t)}


SUPERVISED_PHASES = ("infusion", "recovery")


class NibpWatch:
    """NIBP_COMM_LOST, NIBP_FAILED, NIBP_STALE (counted from the last valid reading, or
    from the first sign of an NIBP module when there never was one), and the session's
    supervision of blood pressure: NIBP_OVERDUE (no good reading for `overdue_s` during
    infusion or recovery) and NIBP_NO_BASELINE (the infusion started before the baseline
    was complete). Phases come from the session's `phase` events."""

    def __init__(self, stale_s: float, overdue_s: float = float("inf")) -> None:
        self.stale_s = stale_s
        self.overdue_s = overdue_s
        self.last_ok_t: float | None = None
        self._link_lost = False
        self._not_responding = False
        self._present_t: float | None = None  # first sign of an NIBP module
        self._supervised_t: float | None = None  # entered infusion/recovery
        self._no_baseline = False

    def on_link(self, state: str) -> dict[str, bool]:
        self._link_lost = state in LINK_LOST
        return {"NIBP_COMM_LOST": self._link_lost or self._not_responding}

    def on_status(self, state: str) -> dict[str, bool]:
        """An NIBP channel event: `not_responding` (no answer in 5 s) until `responding`."""
        if state in ("not_responding", "responding"):
            self._not_responding = state == "not_responding"
        return {"NIBP_COMM_LOST": self._link_lost or self._not_responding}

    def on_phase(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        """The session's `phase` event: supervision starts with the infusion."""
        phase, previous = record.get("phase"), record.get("previous")
        if phase in SUPERVISED_PHASES:
            if self._supervised_t is None:
                self._supervised_t = t
            if phase == "infusion" and previous == "pre-infusion":
                self._no_baseline = record.get("baseline_complete") is False
        else:
            self._supervised_t = None
            self._no_baseline = False
        return self.on_tick(t)

    def on_reading(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        ok = nibp_ok(record)
        if self._present_t is None:
            self._present_t = t
        if ok or record.get("error_code") is not None:
            self._not_responding = False  # the module answered (with a reading or a code)
        if ok:
            self.last_ok_t = t
        return {
            "NIBP_FAILED": not ok,
            "NIBP_COMM_LOST": self._link_lost or self._not_responding,
            "NIBP_STALE": False if ok else self.stale(t),
            "NIBP_OVERDUE": self.overdue(t),
        }

    def on_numerics(self, record: Mapping[str, object], t: float) -> dict[str, bool]:
        if "nibp_state" in record and self._present_t is None:
            self._present_t = t
        return self.on_tick(t)

    def on_tick(self, t: float) -> dict[str, bool]:
        present = self._present_t is not None
        return {
            "NIBP_STALE": self.stale(t),
            "NIBP_OVERDUE": self.overdue(t),
            "NIBP_NO_BASELINE": present and self._no_baseline and self._supervised_t is not None,
        }

    def stale(self, t: float) -> bool:
        """The last good reading is past its validity (IEC 80601-2-30: 1 hour), or there
        has been none for as long."""
        since = self.last_ok_t if self.last_ok_t is not None else self._present_t
        return since is not None and t - since >= self.stale_s

    def overdue(self, t: float) -> bool:
        """During infusion or recovery, no good reading for `overdue_s` (counted from the
        start of the infusion when there never was one)."""
        if self._present_t is None or self._supervised_t is None:
            return False
        since = self.last_ok_t if self.last_ok_t is not None else self._supervised_t
        return t - since >= self.overdue_s
