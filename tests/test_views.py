"""Screen rules without a window: alarm bar, tile alarms and limits, NIBP age, session strip,
actions and shortcuts, font sizes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from drivers.types import NibpReading, NibpStatus
from monitor.alarms import load_preset
from monitor.alarms.limits import limits_from
from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.present.actions import (
    ACTIONS,
    EVENT_CHOICES,
    event_args,
    next_phase,
    nibp_start_stop_command,
)
from monitor.present.alarm_view import (
    alarm_bar_view,
    alarm_list_lines,
    alarms_off,
    alarms_off_text,
    countdown,
    limits_text,
    tile_alarm,
    tile_alarm_ids,
    tile_alarm_view,
)
from monitor.present.display import font_sizes
from monitor.present.nibp_view import NibpAge, nibp_tile_view
from monitor.present.session_view import link_view, session_strip_view

VISUAL = load_alarm_signals().visual


@dataclass(frozen=True)
class Alarm:
    id: str
    priority: str
    kind: str = "physiological"
    message: str = ""
    onset_t: float = 0.0
    condition_active: bool = True
    acknowledged: bool = False
    ack_remaining_s: float | None = None


@dataclass(frozen=True)
class Limit:
    threshold: float | None
    unit: str = ""
    priority: str = "medium"
    delay_s: float | None = 10.0
    enabled: bool = True


def test_bar_shows_top_alarm_in_its_colour_flashing_with_count_of_others() -> None:
    alarms = [
        Alarm("SPO2_LOW_CRITICAL", "high", message="SpO2 85 ≤ 85"),
        Alarm("PR_HIGH", "medium"),
    ]
    on = alarm_bar_view(alarms, "none", None, now_s=0.1)  # 2 Hz, 50 %: lit for 0-0.25 s
    off = alarm_bar_view(alarms, "none", None, now_s=0.3)
    assert on.message == "SpO2 85 ≤ 85" and on.colour == VISUAL["high"].colour == "#ff1a1a"
    assert on.lit and not off.lit
    assert on.others == 1 and on.others_text == "+1 more"
    medium = alarm_bar_view([Alarm("PR_HIGH", "medium")], "none", None, now_s=0.0)
    assert medium.colour == VISUAL["medium"].colour and medium.message == "PR_HIGH"
    low = alarm_bar_view([Alarm("SPO2_PROBE_OFF", "low", "technical")], "none", None, now_s=0.9)
    assert low.colour == VISUAL["low"].colour and low.lit  # low is steady


def test_bar_shows_inactivation_icon_and_countdown_and_acknowledged_is_steady() -> None:
    view = alarm_bar_view([Alarm("PR_HIGH", "medium")], "audio_paused", 101.2, now_s=0.0)
    assert view.icon == "audio_paused" and view.inactivation_text == "Audio paused 1:42"
    acked = alarm_bar_view([Alarm("X", "high", acknowledged=True)], "none", None, now_s=0.3)
    assert acked.lit and acked.icon == "acknowledged" and acked.inactivation_text == "Acknowledged"
    timed = Alarm("SPO2_LOW_CRITICAL", "high", acknowledged=True, ack_remaining_s=101.2)
    view = alarm_bar_view([timed], "none", None, now_s=0.0)
    assert view.inactivation_text == "Acknowledged 1:42"  # then it sounds again
    none = alarm_bar_view([], "audio_off", None, 0.0)
    assert none.priority is None and none.inactivation_text == "Audio OFF"
    assert countdown(0.2) == "0:01" and countdown(120) == "2:00"


def test_tile_takes_only_its_own_physiological_alarm() -> None:
    alarms = [
        Alarm("OXIMETER_COMM_LOST", "high", "technical"),
        Alarm("PR_HIGH_CRITICAL", "high"),
        Alarm("SPO2_LOW", "medium"),
    ]
    assert tile_alarm(alarms, "pr").id == "PR_HIGH_CRITICAL"
    assert tile_alarm(alarms, "spo2").id == "SPO2_LOW"
    assert tile_alarm(alarms, "nibp") is None and tile_alarm(alarms, "pi") is None
    view = tile_alarm_view(tile_alarm(alarms, "spo2"), now_s=0.0)
    assert view.colour == VISUAL["medium"].colour and view.lit


def test_limits_text_per_tile() -> None:
    limits = {
        "PR_HIGH": Limit(120),
        "PR_LOW": Limit(50),
        "SPO2_LOW": Limit(90),
        "NIBP_SYS_HIGH": Limit(160),
        "NIBP_SYS_LOW": Limit(90, enabled=False),
    }
    assert limits_text("pr", limits) == "▲120 ▼50"
    assert limits_text("spo2", limits) == "▼90"
    assert limits_text("nibp", limits) == "Sys ▲160 ▼off"
    assert limits_text("rr", limits) == ""


def test_tiles_show_the_critical_limits_too() -> None:
    limits = load_limits()
    assert limits_text("spo2", limits) == "▼90 ▼▼85"
    assert limits_text("pr", limits) == "▲120 ▲▲140\n▼50 ▼▼40"  # a narrow tile: two lines
    assert limits_text("rr", limits) == "▲30 ▼8 ▼▼6"
    assert limits_text("nibp", limits) == "Sys ▲160 ▲▲180 ▼90  Dia ▲100 ▲▲110  MAP ▲120 ▼60"


def test_alarms_off_on_the_tile_and_the_strip() -> None:
    limits = load_limits()
    assert alarms_off_text(limits) == "" and alarms_off(limits) == []
    limits["SPO2_LOW"] = dataclasses.replace(limits["SPO2_LOW"], enabled=False)
    assert alarms_off_text(limits) == "1 alarm off"
    limits["NIBP_SYS_RISE"] = dataclasses.replace(limits["NIBP_SYS_RISE"], enabled=False)
    assert alarms_off_text(limits) == "2 alarms off"
    assert alarms_off(limits, tile_alarm_ids("spo2")) == ["SPO2_LOW"]
    assert alarms_off(limits, tile_alarm_ids("nibp")) == ["NIBP_SYS_RISE"]
    assert alarms_off(limits, tile_alarm_ids("pr")) == []
    limits["RR_LOW"] = dataclasses.replace(limits["RR_LOW"], enabled=False)
    assert alarms_off(limits, tile_alarm_ids("etco2")) == ["RR_LOW"]  # the rate is shown there
    assert alarms_off(limits, tile_alarm_ids("rr")) == ["RR_LOW"]
    assert limits_text("spo2", limits) == "▼off ▼▼85"


def load_limits() -> dict:
    return limits_from(load_preset())


WALL = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _nibp(reading, reading_t, t, status=NibpStatus.IDLE, cuff=None, mode="manual"):
    return nibp_tile_view(reading, reading_t, status, cuff, mode, 5, None, WALL, t)


def test_nibp_shows_time_and_age_greys_after_15_min_and_is_invalid_after_an_hour() -> None:
    ok = NibpReading(122, 78, 92, 70)
    fresh = _nibp(ok, 60.0, 240.0)
    assert fresh.main == "122/78" and fresh.map_text == "(92)" and fresh.state is NibpAge.VALID
    assert fresh.when.endswith(", 3 min ago") and ":" in fresh.when
    assert _nibp(ok, 60.0, 60.0 + 15 * 60).state is NibpAge.STALE
    old = _nibp(ok, 60.0, 60.0 + 3600)
    assert old.state is NibpAge.INVALID and old.main == "--/--" and "122/78" in old.when
    assert _nibp(None, None, 10.0).main == "--/--"
    failed = _nibp(NibpReading(None, None, None, None, 3, "cuff leak"), 10.0, 20.0)
    assert failed.main == "--/--" and failed.problem == "cuff leak"
    inflating = _nibp(ok, 60.0, 100.0, NibpStatus.INFLATING, cuff=145)
    assert inflating.cuff == "Cuff 145 mmHg"
    assert _nibp(ok, 60, 100, mode="interval").mode.startswith("Auto 5 min")


def test_session_strip_and_link_words() -> None:
    view = session_strip_view("A-1234", 72.0, "infusion", 100.0, 0.5, 100.0 + 3725)
    assert (
        session_strip_view(None, None, "pre-infusion", 0, None, 5).phase == "Pre-infusion 0:00:05"
    )
    assert view.phase == "Infusion 1:02:05"
    assert view.patient == "Patient A-1234 · 72 kg"
    assert view.dose == "Ketamine 0.50 mg/kg/h (36.0 mg/h)"
    assert session_strip_view(None, None, None, None, None, 0).phase == "No session"
    assert link_view("oximeter", "down", True).text == "SpO₂: disconnected — check the cable"
    assert not link_view("oximeter", "down", True).ok
    assert link_view("resp", None, False).text == "Resp: waiting for data"
    assert link_view("oximeter", None, True).text == "SpO₂ ✓"
    assert link_view("nibp", None, False, answering=True).text == "NIBP ✓"
    assert link_view("nibp", "up", False, answering=False).text == "NIBP: not answering"


def test_every_action_has_a_unique_shortcut() -> None:
    keys = [a.shortcut for a in ACTIONS]
    assert len(set(keys)) == len(keys) and all(keys)
    assert "F11" in keys


def test_action_rules() -> None:
    assert nibp_start_stop_command(NibpStatus.INFLATING) == "nibp_stop"
    assert nibp_start_stop_command(NibpStatus.IDLE) == "nibp_start"
    assert next_phase(None) == "pre-infusion" and next_phase("infusion") == "recovery"
    assert next_phase("signed-off") is None
    note = next(c for c in EVENT_CHOICES if c.kind == "note")
    assert event_args(note, "patient drowsy") == {"kind": "note", "text": "patient drowsy"}
    with pytest.raises(ValueError):
        event_args(note, "")
    nausea = next(c for c in EVENT_CHOICES if dict(c.fixed).get("effect") == "nausea")
    assert event_args(nausea) == {"kind": "adverse_effect", "effect": "nausea"}


def test_fonts_scale_with_the_window_and_stay_readable_at_3_m() -> None:
    small = font_sizes(1366, 768)
    assert small.value_px >= 80  # ~20 mm digits on a 15.6" panel: readable at 3 m
    uhd = font_sizes(3840, 2160)
    assert uhd.value_px >= 2.5 * small.value_px
    assert font_sizes(1366, 2000).value_px == small.value_px  # the tighter axis rules


def test_every_event_choice_is_one_the_session_accepts() -> None:
    from monitor.session import EVENT_FIELDS

    for choice in EVENT_CHOICES:
        required, optional = EVENT_FIELDS[choice.kind]
        args = event_args(choice, 1 if choice.ask else None)
        given = set(args) - {"kind"}
        assert set(required) <= given, choice
        assert given <= set(required) | set(optional), choice


def test_alarm_list_names_every_alarm_with_its_age_and_state() -> None:
    alarms = [
        Alarm(
            "SPO2_LOW_CRITICAL",
            "high",
            message="SpO2 critically low",
            onset_t=10,
            condition_active=False,
            acknowledged=True,
        ),
        Alarm("PR_HIGH", "medium", message="Pulse high", onset_t=70),
    ]
    lines = alarm_list_lines(alarms, t=100)
    assert lines[0].startswith("HIGH") and "1:30 ago (acknowledged, condition ended)" in lines[0]
    assert lines[1].endswith("Pulse high  ·  0:30 ago")
