"""Drive an AlarmEngine with hand-made records in data time (no pipeline, no window)."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.alarms import AlarmEngine, load_preset
from monitor.alarms.preset import Preset
from monitor.commands import Command, CommandBus

STEADY = {
    "spo2": 97,
    "pr": 72,
    "pi": 3.0,
    "spo2_state": "valid",
    "pr_state": "valid",
    "oximeter_status": [],
    "rr": None,
}


class Bench:
    """An engine, its command bus and every record it emitted."""

    def __init__(self, preset: Preset | None = None, baseline_sys: float | None = None) -> None:
        self.records: list[dict] = []
        self.bus = CommandBus()
        self.t = 0.0
        self.engine = AlarmEngine(
            preset or load_preset(), self.records.append, self.bus, lambda: baseline_sys
        )

    def numerics(self, t: float, **fields: object) -> None:
        record = {"type": "numerics", "t": float(t), **STEADY, "oximeter_last_frame_t": t}
        record.update(fields)
        self.t = t
        self.engine.on_record(record)

    def seconds(self, start: int, stop: int, **fields: object) -> None:
        """Numerics at every whole second start..stop-1 with these fields."""
        for t in range(start, stop):
            self.numerics(t, **fields)

    def nibp(self, t: float, sys: int | None, dia: int | None, map_: int | None = None, **kw):
        record = {"type": "nibp", "t": float(t), "sys": sys, "dia": dia, "map": map_, "pr": 70}
        record.setdefault("status", "ok")
        record.update(kw)
        self.engine.on_record(record)

    def event(self, t: float, **fields: object) -> None:
        self.engine.on_record({"type": "event", "t": float(t), **fields})

    def command(self, t: float, command: str, **args: object) -> None:
        self.bus.apply(Command(command, args), t)

    def states(self, alarm_id: str | None = None) -> list[tuple[float, str, str]]:
        """(t, id, state) of every alarm record, optionally for one id."""
        return [
            (r["t"], r["id"], r["state"])
            for r in self.records
            if r["type"] == "alarm" and alarm_id in (None, r["id"])
        ]

    def onsets(self, ids: Iterable[str] | None = None) -> list[tuple[float, str]]:
        wanted = None if ids is None else set(ids)
        return [
            (t, i) for t, i, s in self.states() if s == "onset" and (wanted is None or i in wanted)
        ]

    def shown(self) -> list[str]:
        return [a.id for a in self.engine.display_state(self.t).alarms]
