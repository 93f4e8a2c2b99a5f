"""The capnogram and the EtCO2 tile on the real window (offscreen Qt), and their rules."""

from __future__ import annotations

from monitor.numerics import ValueState
from monitor.present.capno_view import capno_tile_view, capnogram_range, capnogram_title
from tests.gui_helpers import Bedside


def test_tile_rules_say_why_there_is_no_number() -> None:
    warm = capno_tile_view({"etco2": None, "etco2_state": "warm_up"})
    assert (warm.text, warm.note, warm.state) == ("--", "CO₂ warming up", ValueState.MISSING)
    assert capno_tile_view({"etco2_state": "zeroing"}).note == "CO₂ zeroing"
    assert capno_tile_view({"etco2_state": "check_adapter"}).note == "check airway adapter"
    ok = capno_tile_view({"etco2": 38.2, "fico2": 0.0, "rr": 14, "etco2_state": "valid"})
    assert (ok.text, ok.note, ok.state) == ("38", "FiCO₂ 0   RR 14", ValueState.VALID)
    apnea = capno_tile_view({"etco2": None, "etco2_state": "valid", "co2_status": ["no_breaths"]})
    assert apnea.text == "--" and apnea.note == "no breaths"
    stale = capno_tile_view({"etco2": 40, "etco2_state": "stale"})
    assert stale.state is ValueState.STALE


def test_capnogram_scale_is_fixed_and_steps_up_with_the_etco2() -> None:
    assert capnogram_range(None) == (-2.0, 50.0) == capnogram_range(38)
    assert capnogram_range(55)[1] == 75.0 and capnogram_range(90)[1] == 100.0
    assert capnogram_title(55) == "CO₂  0-75 mmHg"


def test_window_shows_the_capnogram_and_etco2_in_place_of_resp(qtbot) -> None:
    bedside = Bedside("hypoventilation")
    bedside.run_to(170)
    window = bedside.window(qtbot)
    assert window.co2 is not None and window.resp is None
    assert [w.title.text() for w in window.waves] == ["Pleth", "CO₂  0-75 mmHg"]
    assert window.co2.finite_points() > 500
    assert window.co2.y_range == (-2.0, 75.0)
    assert int(window.etco2_tile.value.text()) > 50
    assert window.etco2_tile.note.text().startswith("FiCO₂ 0   RR ")
    assert window.etco2_tile.alarm.colour is not None  # ETCO2_HIGH is on the tile
    assert "▲50" in window.etco2_tile.limits.text()
    assert not window.rr_tile.isVisible()


def test_window_says_warming_up_in_words(qtbot) -> None:
    bedside = Bedside("capno-disconnect")
    bedside.run_to(3)
    window = bedside.window(qtbot)
    assert window.etco2_tile.value.text() == "--"
    assert window.etco2_tile.note.text() == "CO₂ warming up"
