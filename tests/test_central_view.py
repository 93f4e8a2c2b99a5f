"""The central window's rules without a window (monitor.present.central_view) and the
chair's last hour of trends (monitor.net.hourtrend)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.alarms.signals.priorities import load_alarm_signals
from monitor.net.central import CentralModel
from monitor.net.hourtrend import HourTrend
from monitor.numerics import ValueState
from monitor.present.central_view import (
    CLOSED_TEXT,
    CentralViews,
    all_alarms,
    chair_order,
    chair_tile_view,
    clinic_bar_view,
    desk_sound,
    detail_alarm_lines,
    detail_trend_plots,
    grid_shape,
)
from monitor.present.nibp_view import NibpAge

VISUAL = load_alarm_signals().visual
LIT, DARK = 0.1, 0.4  # display times in the bright and dark phase of the high flash (2 Hz)


def feed(model: CentralModel, chair: str, leaf: str, body: object, now: float = 0.0) -> None:
    model.on_message(f"vitalmon/test/{chair}/{leaf}", json.dumps(body).encode(), now, "w")


def numerics(t: float, **values: object) -> dict:
    return {"type": "numerics", "t": t, "spo2": 97, "pr": 72, "rr": 14, **values}


def alarm(id_: str, priority: str, **extra: object) -> dict:
    return {"id": id_, "priority": priority, "kind": "physiological", "message": id_,
            "onset_t": 1.0, "condition_active": True, "acknowledged": False, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("n", "size", "shape"),
    [
        (1, (1366, 700), (1, 1)),
        (2, (1366, 700), (1, 2)),
        (4, (1366, 700), (2, 2)),
        (6, (1366, 700), (2, 3)),
        (8, (1366, 700), (3, 3)),  # 455x233 tiles beat 341x350 ones at 1.6:1
        (12, (1366, 700), (3, 4)),
        (32, (1366, 700), (5, 7)),
        (32, (1920, 1000), (5, 7)),
        (4, (700, 1366), (4, 1)),  # a portrait screen stacks them
    ],
)
def test_the_grid_fills_the_screen(n: int, size: tuple[int, int], shape: tuple[int, int]) -> None:
    rows, cols = grid_shape(n, *size)
    assert (rows, cols) == shape
    assert rows * cols >= n and (rows - 1) * cols < n  # no empty row


def test_chairs_in_natural_order() -> None:
    assert chair_order(["chair10", "chair2", "Chair1", "desk"]) == [
        "Chair1", "chair2", "chair10", "desk",
    ]  # fmt: skip


def test_a_tile_shows_the_chair_as_its_bedside_does() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "status", {"state": "online", "patient_id": "KT-7", "phase": "infusion",
                                 "phase_t": 600.0})  # fmt: skip
    feed(model, "c1", "nibp", {"type": "nibp", "t": 700.0, "sys": 122, "dia": 78, "map": 92,
                               "status": "ok", "error_code": None,
                               "wall": "2026-03-02T09:11:40+00:00"})  # fmt: skip
    feed(model, "c1", "numerics", numerics(1354.0, pr=None, spo2_state="stale"))
    view = chair_tile_view(model.chairs["c1"], LIT)
    assert (view.chair, view.patient, view.phase) == ("c1", "Patient KT-7", "Infusion 0:12:34")
    assert view.spo2.text == "97" and view.spo2.state is ValueState.STALE
    assert view.pr.text == "--"  # no value: dashes, never the last number
    assert (view.breath_label, view.breath.text) == ("RR", "14")
    assert view.nibp == "122/78 (92)" and view.nibp_when.endswith("10 min ago")
    assert view.nibp_state is NibpAge.VALID
    assert not view.offline and view.alarm.priority is None
    feed(model, "c1", "numerics", numerics(700.0 + 16 * 60))
    assert chair_tile_view(model.chairs["c1"], LIT).nibp_state is NibpAge.STALE  # grey at 15 min
    feed(model, "c1", "numerics", numerics(700.0 + 61 * 60))
    late = chair_tile_view(model.chairs["c1"], LIT)
    assert late.nibp_state is NibpAge.INVALID and late.nibp.startswith("--/--")


def test_capnography_shows_etco2_in_place_of_rr() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "numerics", numerics(5.0, etco2=38, etco2_state="valid",
                                           rr_source="capnography"))  # fmt: skip
    view = chair_tile_view(model.chairs["c1"], LIT)
    assert (view.breath_label, view.breath.text, view.breath_unit) == ("EtCO₂", "38", "mmHg")
    assert detail_trend_plots(model.chairs["c1"])[-1].key == "etco2"


def test_the_highest_alarm_in_its_colour_and_flash() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "numerics", numerics(5.0))
    feed(model, "c1", "active", [alarm("SPO2_LOW", "high"), alarm("PR_HIGH", "medium")])
    chair = model.chairs["c1"]
    lit, dark = chair_tile_view(chair, LIT).alarm, chair_tile_view(chair, DARK).alarm
    assert lit.colour == VISUAL["high"].colour and lit.lit and not dark.lit
    assert lit.message == "SPO2_LOW" and lit.others_text == "+1 more"
    feed(model, "c1", "active", [alarm("SPO2_LOW", "high", acknowledged=True)])
    assert chair_tile_view(chair, DARK).alarm.lit  # acknowledged: steady
    feed(model, "c1", "active", [alarm("SPO2_PROBE_OFF", "low")])
    low = chair_tile_view(chair, DARK).alarm
    assert low.colour == VISUAL["low"].colour and low.lit  # low: steady


def test_an_offline_chair_is_no_data_and_a_high_alarm() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "numerics", numerics(5.0))
    feed(model, "c1", "active", [alarm("PR_HIGH", "medium")])
    model.tick(5.0, "w")
    view = chair_tile_view(model.chairs["c1"], LIT)
    assert view.offline and view.spo2.text == "--" and view.breath.text == "--"
    assert view.alarm.priority == "high" and view.alarm.message == "No data from this chair"
    lines = detail_alarm_lines(model.chairs["c1"])
    assert lines[0].startswith("HIGH") and "as last known" in lines[0] and "PR_HIGH" in lines[1]


def test_the_clinic_bar_names_the_chair_of_the_highest_alarm() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "active", [alarm("PR_HIGH", "medium")])
    feed(model, "c2", "active", [alarm("SPO2_LOW", "high")])
    chairs = list(model.chairs.values())
    bar = clinic_bar_view(all_alarms(chairs), [], LIT)
    assert bar.message == "c2: SPO2_LOW" and bar.others_text == "+1 more"
    assert bar.colour == VISUAL["high"].colour


def test_the_desk_sounds_what_the_chairs_sound() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "active", [alarm("PR_HIGH", "medium", sounding=True)])
    feed(model, "c2", "active", [alarm("SPO2_LOW", "high", sounding=False)])  # paused at c2
    priority, alarms = desk_sound(all_alarms(model.chairs.values()), [])
    assert priority == "medium"
    assert {a.id for a in alarms} == {"c1/PR_HIGH", "c2/SPO2_LOW"}
    feed(model, "c1", "active", [alarm("PR_HIGH", "medium", acknowledged=True)])  # no 'sounding'
    assert desk_sound(all_alarms(model.chairs.values()), [])[0] is None
    model.tick(10.0, "w")  # both silent for 5 s: CHAIR_OFFLINE sounds, high
    assert desk_sound(all_alarms(model.chairs.values()), [])[0] == "high"


def test_the_central_keeps_the_last_hour() -> None:
    trend = HourTrend()
    for t in range(0, 5401, 1):
        trend.add({"type": "numerics", "t": float(t), "spo2": 90 + t % 5})
    rows = trend.numerics()
    assert rows["t"][0] == 1800.0 and rows["t"][-1] == 5400.0 and len(rows["t"]) == 3601
    assert np.isnan(rows["pr"]).all()
    trend.add({"type": "numerics", "t": 5400.0, "spo2": 1})  # a repeat: ignored
    assert trend.numerics()["spo2"][-1] != 1
    trend.add({"type": "numerics", "t": 3.0, "spo2": 95})  # the bedside began again
    assert list(trend.numerics()["t"]) == [3.0]


def test_a_desk_alarm_once_each_way() -> None:
    model = CentralModel("test", 0.0)
    onset = model.desk_alarm("ALARM_AUDIO_FAILED", True, "no sound device", 1.0, "w")
    assert onset[0]["state"] == "onset" and onset[0]["priority"] == "medium"
    assert model.desk_alarm("ALARM_AUDIO_FAILED", True, "again", 2.0, "w") == []
    assert model.desk_alarm("ALARM_AUDIO_FAILED", False, "", 3.0, "w")[0]["state"] == "end"


def test_a_last_will_keeps_the_patient_and_phase_the_chair_last_said() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "status", {"state": "online", "patient_id": "KT-7", "phase": "infusion",
                                 "phase_t": 2.0})  # fmt: skip
    feed(model, "c1", "numerics", numerics(62.0))
    # the will, written when the bedside connected, before the session was set up
    feed(model, "c1", "status", {"state": "offline", "patient_id": None, "phase": "pre-infusion",
                                 "phase_t": 0.0})  # fmt: skip
    view = chair_tile_view(model.chairs["c1"], LIT)
    assert view.offline and view.patient == "Patient KT-7" and view.phase == "Infusion 0:01:00"


def test_a_chair_that_says_goodbye_ends_without_chair_offline() -> None:
    """The end of a session is no alarm at the desk: SESSION ENDED, not NO DATA with a
    high alarm, whatever retained message comes after the goodbye, until a new session."""
    model = CentralModel("test", 0.0)
    feed(model, "c1", "status", {"state": "online", "patient_id": "KT-7", "phase": "recovery",
                                 "phase_t": 2.0})  # fmt: skip
    feed(model, "c1", "numerics", numerics(62.0))
    feed(model, "c1", "status", {"state": "closed", "patient_id": "KT-7", "phase": "recovery",
                                 "phase_t": 2.0}, now=1.0)  # fmt: skip
    feed(model, "c1", "numerics", numerics(62.0), now=1.5)  # retained, after the goodbye
    assert model.tick(30.0, "w") == []
    view = chair_tile_view(model.chairs["c1"], LIT)
    assert view.offline and view.offline_text == CLOSED_TEXT and view.alarm.priority is None
    feed(model, "c1", "status", {"state": "online", "patient_id": "KT-8", "phase": "pre-infusion",
                                 "phase_t": 0.0}, now=31.0)  # fmt: skip
    feed(model, "c1", "numerics", numerics(1.0), now=31.0)
    assert not chair_tile_view(model.chairs["c1"], LIT).offline
    onsets = model.tick(40.0, "w")  # the new session falls silent: that is an alarm again
    assert [r["id"] for r in onsets] == ["CHAIR_OFFLINE"]


def test_views_are_computed_again_only_for_a_chair_that_changed() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "numerics", numerics(5.0))
    feed(model, "c2", "numerics", numerics(5.0))
    feed(model, "c2", "active", [alarm("SPO2_LOW", "high")])
    views = CentralViews()
    chairs = [model.chairs["c1"], model.chairs["c2"]]
    first = views.tiles(chairs, LIT)
    assert views.computed == 2
    assert [a.id for a in views.alarms] == ["SPO2_LOW"]
    feed(model, "c1", "wave", {"t0": 5.0, "fs": 75, "pleth": [1.0, 2.0]})  # not on the tile
    dark = views.tiles(chairs, DARK)
    assert views.computed == 2  # nothing recomputed: only the flash phase applied
    assert dark["c1"] == first["c1"]
    assert first["c2"].alarm.lit and not dark["c2"].alarm.lit
    assert dark["c2"] == chair_tile_view(model.chairs["c2"], DARK)  # as if computed anew
    feed(model, "c1", "numerics", numerics(6.0, spo2=88))
    assert views.tiles(chairs, DARK)["c1"].spo2.text == "88" and views.computed == 3
    model.tick(20.0, "w")  # both silent: offline
    offline = views.tiles(chairs, LIT)
    assert views.computed == 5 and offline["c1"].offline
    assert [a.id for a in views.alarms] == ["CHAIR_OFFLINE", "CHAIR_OFFLINE", "SPO2_LOW"]


def test_a_malformed_message_shows_as_dashes_and_stops_nothing() -> None:
    model = CentralModel("test", 0.0)
    feed(model, "c1", "status", {"state": "online", "patient_id": ["x"], "phase": 3,
                                 "phase_t": "soon"})  # fmt: skip
    feed(model, "c1", "numerics", {"type": "numerics", "t": "late", "spo2": "ninety",
                                   "pr": True, "rr": [14], "etco2": {"v": 1},
                                   "rr_source": "capnography"})  # fmt: skip
    feed(model, "c1", "nibp", {"type": "nibp", "t": None, "sys": "hi", "dia": 80, "map": 90,
                               "status": "ok", "wall": 12})  # fmt: skip
    feed(model, "c1", "active", [{"id": 5, "priority": "high", "onset_t": "x"}, "junk", {}])
    feed(model, "c1", "wave", {"t0": 1.0, "fs": 75, "pleth": [[1, 2], "a"]})
    chair = model.chairs["c1"]
    view = chair_tile_view(chair, LIT)
    assert (view.spo2.text, view.pr.text, view.breath.text) == ("--", "--", "--")
    assert view.alarm.priority == "high" and view.alarm.message == "5"
    assert detail_alarm_lines(chair)[0].startswith("HIGH")
    assert chair.waves.pleth is None
    CentralViews().tiles([chair], DARK)
    nan = b'{"type": "numerics", "t": NaN, "spo2": Infinity}'  # json reads them
    model.on_message("vitalmon/test/c1/numerics", nan, 0.0, "w")
    model.on_message("vitalmon/test/c1/status", b'{"state": "online", "phase": "infusion", '
                     b'"phase_t": -Infinity}', 0.0, "w")  # fmt: skip
    assert chair_tile_view(chair, LIT).spo2.text == "--"
    model.on_message("vitalmon/test/c1/wave", b'{"t0": NaN, "fs": 75, "pleth": [1]}', 0.0, "w")
    model.on_message("vitalmon/test/c1/wave", b'{"t0": 1, "fs": Infinity, "pleth": [1]}', 0, "w")
    model.on_message("vitalmon/test/c1/active", b'[{"priority": "low", "onset_t": NaN}]', 0, "w")
    assert chair.waves.pleth is None and len(chair.trend) == 0
    assert detail_alarm_lines(chair)[0].startswith("LOW")


def test_a_payload_nested_too_deep_is_dropped() -> None:
    model = CentralModel("test", 0.0)
    deep = b"[" * 100_000 + b"]" * 100_000
    assert model.on_message("vitalmon/test/c1/active", deep, 0.0, "w") == []
