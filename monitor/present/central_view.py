"""What the central station's window shows (no Qt): the grid for N chairs, each chair's
tile, the clinic's alarm bar, the detail of one chair and what sounds at the desk.

A chair is what `monitor.net.central.CentralModel` keeps of it (`ChairLike`). Colours,
flash and priority order are the bedside's own (`alarm_bar_view`, alarm_signals.toml),
so a chair's alarm looks the same at the desk as at the chair; the window paints these
views and redraws a tile only when its view changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from drivers.types import NibpReading
from monitor.alarms.signals.priorities import PRIORITY_RANK
from monitor.numerics import ValueState
from monitor.present.alarm_view import AlarmBarView, alarm_bar_view, alarm_list_lines
from monitor.present.capno_view import capno_tile_view
from monitor.present.display import DASHES, TileText, format_reading, reading_from_record
from monitor.present.nibp_view import NibpAge, nibp_tile_view
from monitor.present.session_view import phase_label, running_time
from monitor.present.trend_view import TREND_PLOTS, TrendPlot

Record = dict[str, object]
OFFLINE_TEXT = "NO DATA"
CLOSED_TEXT = "SESSION ENDED"  # the bedside said goodbye: no data, and no alarm for it
OFFLINE_ID = "CHAIR_OFFLINE"
OFFLINE_MESSAGE = "No data from this chair"
TILE_ASPECT = 1.6  # width : height a chair's tile is drawn for
MAX_CHAIRS = 32


class ChairLike(Protocol):
    name: str
    changes: int  # counts the messages that can change what the chair's tile shows
    offline_alarm: bool
    closed: bool  # the bedside ended its session (its goodbye), not lost
    numerics: Record | None
    status: Record | None
    active: list[Record]
    nibp: Record | None


@dataclass(frozen=True, slots=True)
class RemoteAlarm:
    """An alarm of a chair as its `active` list says (an `ActiveAlarmLike`), or the
    central's own. `sounding` is the bedside's call (acknowledged, paused: silent)."""

    id: str
    priority: str
    kind: str
    message: str
    onset_t: float
    condition_active: bool
    acknowledged: bool
    sounding: bool
    chair: str
    ack_remaining_s: float | None = None  # the bedside's countdown is not published


def remote_alarm(record: Record, chair: str) -> RemoteAlarm | None:
    priority = record.get("priority")
    if priority not in PRIORITY_RANK:
        return None
    acknowledged = bool(record.get("acknowledged", False))
    onset = record.get("onset_t", record.get("t", 0.0))
    return RemoteAlarm(
        id=str(record.get("id", "")),
        priority=str(priority),
        kind=str(record.get("kind", "")),
        message=str(record.get("message") or record.get("id", "")),
        onset_t=float(onset) if _finite(onset) else 0.0,  # type: ignore[arg-type]
        condition_active=bool(record.get("condition_active", True)),
        acknowledged=acknowledged,
        sounding=bool(record.get("sounding", not acknowledged)),
        chair=chair,
    )


def data_t(chair: ChairLike) -> float:
    """The chair's data time as of its latest numerics (0 before any)."""
    t = numbers_only(chair.numerics).get("t")
    return float(t) if isinstance(t, int | float) else 0.0


def remote_alarms(chair: ChairLike) -> tuple[RemoteAlarm, ...]:
    """CHAIR_OFFLINE (the central's, high) first, then the chair's own in its engine order."""
    own = tuple(a for r in chair.active if (a := remote_alarm(r, chair.name)) is not None)
    if not chair.offline_alarm:
        return own
    offline = RemoteAlarm(
        OFFLINE_ID, "high", "technical", OFFLINE_MESSAGE, data_t(chair), True, False, True,
        chair.name,
    )  # fmt: skip
    return (offline, *own)


def chair_order(names: Iterable[str]) -> list[str]:
    """chair2 before chair10: digits compare as numbers."""

    def key(name: str) -> list[object]:
        return [
            (0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in re.split(r"(\d+)", name)
        ]

    return sorted(names, key=key)


def grid_shape(n: int, width: float, height: float, aspect: float = TILE_ASPECT) -> tuple[int, int]:
    """(rows, columns) for `n` tiles that makes each as large as it can be at `aspect`
    in a `width` x `height` area; of equal sizes, the one with fewer empty cells."""
    n = max(1, n)
    best: tuple[float, int, int, int] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        cell_w, cell_h = width / cols, height / rows
        size = min(cell_w, cell_h * aspect)  # the width the tile's content can use
        empty = rows * cols - n
        score = (round(size, 6), -empty, -rows, cols)
        if best is None or score > best:
            best = score
    assert best is not None
    cols = best[3]
    return math.ceil(n / cols), cols


@dataclass(frozen=True, slots=True)
class ChairTileView:
    chair: str
    patient: str
    phase: str  # "Infusion 0:12:34"
    spo2: TileText
    pr: TileText
    breath_label: str  # "RR" or "EtCO₂"
    breath_unit: str
    breath: TileText
    nibp: str  # "122/78 (91)"
    nibp_when: str  # "12:41, 3 min ago"
    nibp_state: NibpAge
    offline: bool  # `offline_text` over the values
    alarm: AlarmBarView  # the chair's highest alarm: message, colour, flash phase
    offline_text: str = OFFLINE_TEXT  # NO DATA, or SESSION ENDED after a goodbye


MISSING = TileText(DASHES, ValueState.MISSING)


def _nibp(chair: ChairLike, t: float) -> tuple[str, str, NibpAge]:
    record = numbers_only(chair.nibp) if chair.nibp is not None else None
    if record is None:
        view = nibp_tile_view(None, None, None, None, "manual", None, None, datetime.now(UTC), t)
        return view.main, view.when, view.state
    reading_t = float(record.get("t") or 0.0)  # type: ignore[arg-type]
    code = record.get("error_code")
    reading = NibpReading(
        record.get("sys"),  # type: ignore[arg-type]
        record.get("dia"),  # type: ignore[arg-type]
        record.get("map"),  # type: ignore[arg-type]
        record.get("pr"),  # type: ignore[arg-type]
        int(code) if isinstance(code, int) else (0 if record.get("status") == "ok" else -1),
        str(record.get("error") or ""),
    )
    try:
        wall = datetime.fromisoformat(str(record["wall"]))
    except (KeyError, ValueError):
        wall = datetime.now(UTC)
    start = wall - timedelta(seconds=reading_t)
    view = nibp_tile_view(
        reading, reading_t, None, None, "manual", None, None, start, max(t, reading_t)
    )
    main = view.main if view.state is NibpAge.INVALID else f"{view.main} {view.map_text}"
    when = (view.problem or view.when) if not reading.ok else view.when
    return main, when, view.state


NUMBER_KEYS = frozenset({"t", "spo2", "pr", "pi", "rr", "etco2", "fico2", "phase_t",
                         "sys", "dia", "map"})  # fmt: skip


def numbers_only(record: Record | None) -> Record:
    """`record` without a value that should be a number and is not: a malformed message
    from a chair shows as dashes, and never stops the window."""
    if not record:
        return {}
    return {k: v for k, v in record.items() if k not in NUMBER_KEYS or v is None or _finite(v)}


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def chair_tile_view(chair: ChairLike, now_s: float) -> ChairTileView:
    """The tile at display time `now_s` (which drives the flash); ages in the chair's data time."""
    status = numbers_only(chair.status)
    numerics = numbers_only(chair.numerics)
    t = data_t(chair)
    patient = status.get("patient_id")
    phase = status.get("phase")
    phase_text = phase_label(str(phase) if phase else None)
    phase_t = status.get("phase_t")
    if phase and isinstance(phase_t, int | float) and numerics:
        phase_text += f" {running_time(t - float(phase_t))}"
    offline = chair.offline_alarm or chair.closed
    capno = "etco2" in numerics or numerics.get("rr_source") == "capnography"
    if offline or not numerics:
        spo2 = pr = breath = MISSING
    else:
        spo2 = format_reading(reading_from_record(numerics, "spo2"))
        pr = format_reading(reading_from_record(numerics, "pr"))
        if capno:
            capno_view = capno_tile_view(numerics)
            breath = TileText(capno_view.text, capno_view.state)
        else:
            breath = format_reading(reading_from_record(numerics, "rr"))
    nibp, when, age = _nibp(chair, t)
    return ChairTileView(
        chair=chair.name,
        patient=f"Patient {patient}" if patient else "Patient: not set",
        phase=phase_text,
        spo2=spo2,
        pr=pr,
        breath_label="EtCO₂" if capno else "RR",
        breath_unit="mmHg" if capno else "/min",
        breath=breath,
        nibp=nibp,
        nibp_when=when,
        nibp_state=age,
        offline=offline,
        alarm=alarm_bar_view(remote_alarms(chair), "none", None, now_s),
        offline_text=CLOSED_TEXT if chair.closed and not chair.offline_alarm else OFFLINE_TEXT,
    )


def by_priority(alarms: Iterable[RemoteAlarm]) -> list[RemoteAlarm]:
    """Highest priority first; chairs keep their order within a priority (a stable sort)."""
    return sorted(alarms, key=lambda a: -PRIORITY_RANK.get(a.priority, 0))


def all_alarms(chairs: Iterable[ChairLike]) -> list[RemoteAlarm]:
    return [a for chair in chairs for a in remote_alarms(chair)]


def clinic_alarms(alarms: Iterable[RemoteAlarm], desk: Iterable[RemoteAlarm]) -> list[RemoteAlarm]:
    """The central's own and every chair's `alarms`, each named by its chair, highest first."""
    named = [replace(a, message=f"{a.chair}: {a.message}") for a in alarms]
    return by_priority([*desk, *named])


def clinic_bar_view(
    alarms: Iterable[RemoteAlarm], desk: Iterable[RemoteAlarm], now_s: float
) -> AlarmBarView:
    """The bar across the top: the clinic's highest alarm, named by its chair, '+N more'."""
    return alarm_bar_view(clinic_alarms(alarms, desk), "none", None, now_s)


@dataclass(frozen=True, slots=True)
class Sounding:
    """An `AlarmLike` for the desk's sound: ids made unique across the clinic."""

    id: str
    priority: str
    sounding: bool


def desk_sound(
    alarms: Iterable[RemoteAlarm], desk: Iterable[RemoteAlarm]
) -> tuple[str | None, list[Sounding]]:
    """What sounds at the desk: the highest priority any chair (or the central) sounds.

    A chair's alarm sounds here while it sounds at the chair (acknowledged or audio
    paused there: silent here too); CHAIR_OFFLINE sounds until the chair is back."""
    sounding = [Sounding(f"{a.chair}/{a.id}", a.priority, a.sounding) for a in (*desk, *alarms)]
    ranks = [a.priority for a in sounding if a.sounding]
    priority = max(ranks, key=lambda p: PRIORITY_RANK[p]) if ranks else None
    return priority, sounding


class CentralViews:
    """Every chair's tile view and alarms, computed again only for a chair whose
    messages changed (`changes`, which wave blocks leave alone); each frame then only
    applies the flash phase, so 32 chairs cost little at 30 frames a second."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, bool], ChairTileView, tuple[RemoteAlarm, ...]]] = {}
        self._key: tuple[object, ...] = ()
        self.alarms: list[RemoteAlarm] = []  # every chair's, in chair order
        self._ranked: list[RemoteAlarm] = []
        self._ranked_for: tuple[object, ...] | None = None
        self.computed = 0  # tile views computed (tests)

    def tiles(self, chairs: Sequence[ChairLike], now_s: float) -> dict[str, ChairTileView]:
        out: dict[str, ChairTileView] = {}
        keys = []
        for chair in chairs:
            key = (chair.changes, chair.offline_alarm)
            hit = self._cache.get(chair.name)
            if hit is None or hit[0] != key:
                self.computed += 1
                hit = (key, chair_tile_view(chair, now_s), remote_alarms(chair))
                self._cache[chair.name] = hit
            _, view, alarms = hit
            if alarms:
                flash = alarm_bar_view(alarms, "none", None, now_s)
                if flash != view.alarm:
                    view = replace(view, alarm=flash)
            out[chair.name] = view
            keys.append((chair.name, key))
        if tuple(keys) != self._key:
            self._key = tuple(keys)
            self.alarms = [a for chair in chairs for a in self._cache[chair.name][2]]
            self._ranked_for = None
        return out

    def bar(self, desk: Sequence[RemoteAlarm], now_s: float) -> AlarmBarView:
        """`clinic_bar_view` of the alarms `tiles` last saw (named and ranked once)."""
        if self._ranked_for != (self._key, tuple(desk)):
            self._ranked_for = (self._key, tuple(desk))
            self._ranked = clinic_alarms(self.alarms, desk)
        return alarm_bar_view(self._ranked, "none", None, now_s)


def detail_alarm_lines(chair: ChairLike) -> list[str]:
    """Every alarm of the chair, one line each (the bedside's alarm list)."""
    alarms = remote_alarms(chair)
    lines = alarm_list_lines(alarms, data_t(chair))
    if chair.offline_alarm:
        lines[0] = f"{'HIGH':6}  {OFFLINE_MESSAGE}: its alarms below are as last known"
    return lines or ["No alarms"]


def detail_trend_plots(chair: ChairLike) -> tuple[TrendPlot, ...]:
    """SpO2, PR, NIBP and the breathing rate, or EtCO2 when the chair has capnography."""
    numerics = chair.numerics or {}
    capno = "etco2" in numerics
    keys = ("spo2", "pr", "nibp", "etco2" if capno else "rr")
    return tuple(p for key in keys for p in TREND_PLOTS if p.key == key)


def detail_title(view: ChairTileView) -> str:
    words = [view.chair, view.patient, view.phase]
    if view.offline:
        words.append(view.offline_text)
    return "  ·  ".join(words)
