"""The default preset holds docs/clinical.md's table; presets are validated like user input."""

from __future__ import annotations

import json

import pytest

from monitor.alarms import PresetError, builtin_presets, load_preset, parse_preset
from monitor.discharge import load_rules

# id: (kind, priority, delay_s, compare, threshold) as docs/clinical.md states them
CLINICAL = {
    "SPO2_LOW": ("physiological", "medium", 15, "<", 90),
    "SPO2_LOW_CRITICAL": ("physiological", "high", 0, "<=", 85),
    "PR_HIGH": ("physiological", "medium", 10, ">", 120),
    "PR_HIGH_CRITICAL": ("physiological", "high", 10, ">", 140),
    "PR_LOW": ("physiological", "medium", 10, "<", 50),
    "PR_LOW_CRITICAL": ("physiological", "high", 10, "<", 40),
    "NIBP_SYS_HIGH": ("physiological", "medium", 0, ">=", 160),
    "NIBP_SYS_HIGH_CRITICAL": ("physiological", "high", 0, ">=", 180),
    "NIBP_SYS_LOW": ("physiological", "medium", 0, "<", 90),
    "NIBP_SYS_RISE": ("physiological", "low", 0, ">=", 25),
    "NIBP_DIA_HIGH": ("physiological", "medium", 0, ">=", 100),
    "NIBP_DIA_HIGH_CRITICAL": ("physiological", "high", 0, ">=", 110),
    "NIBP_MAP_HIGH": ("physiological", "medium", 0, ">", 120),
    "NIBP_MAP_LOW": ("physiological", "medium", 0, "<", 60),
    "RR_HIGH": ("physiological", "medium", 30, ">", 30),
    "RR_LOW": ("physiological", "medium", 30, "<", 8),
    "RR_LOW_CRITICAL": ("physiological", "high", 0, "<=", 6),
    "SPO2_PROBE_OFF": ("technical", "low", 0, None, None),
    "SPO2_NO_SIGNAL": ("technical", "low", 0, None, None),
    "SPO2_ARTIFACT": ("technical", "low", 10, None, None),
    "OXIMETER_COMM_LOST": ("technical", "high", 0, None, None),
    "NIBP_COMM_LOST": ("technical", "medium", 0, None, None),
    "NIBP_FAILED": ("technical", "medium", 0, None, None),
    "NIBP_STALE": ("technical", "low", 0, None, None),
    "NIBP_OVERDUE": ("technical", "medium", 0, None, None),
    "NIBP_NO_BASELINE": ("technical", "low", 0, None, None),
    "RESP_COMM_LOST": ("technical", "medium", 0, None, None),
    "RECORDING_FAILED": ("technical", "high", 0, None, None),
    "ALARM_AUDIO_FAILED": ("technical", "medium", 0, None, None),
    "ETCO2_HIGH": ("physiological", "medium", 15, ">", 50),
    "ETCO2_LOW": ("physiological", "medium", 15, "<", 25),
    "FICO2_HIGH": ("physiological", "medium", 15, ">", 4),
    "CO2_COMM_LOST": ("technical", "high", 0, None, None),
    "CO2_CHECK_ADAPTER": ("technical", "medium", 0, None, None),
    "CO2_SENSOR_FAULT": ("technical", "medium", 0, None, None),
    "CO2_ZERO_REQUIRED": ("technical", "low", 0, None, None),
    "CO2_WARMUP": ("technical", "low", 0, None, None),
    "CENTRAL_LINK_LOST": ("technical", "low", 0, None, None),
    "HL7_LINK_LOST": ("technical", "low", 0, None, None),
}


def test_default_preset_matches_clinical_table() -> None:
    preset = load_preset()
    assert preset.name == "ketamine-adult"
    for alarm_id, (kind, priority, delay, comparator, threshold) in CLINICAL.items():
        spec = preset.alarms[alarm_id]
        assert (spec.kind, spec.priority, spec.delay_s) == (kind, priority, delay), alarm_id
        assert (spec.compare, spec.threshold) == (comparator, threshold), alarm_id
    extra = set(preset.alarms) - set(CLINICAL)
    assert extra == {"SPO2_NO_UPDATE"}  # the ISO 80601-2-61 30 s watchdog
    assert preset.alarms["SPO2_NO_UPDATE"].delay_s == 30


def test_default_preset_timing_numbers() -> None:
    preset = load_preset()
    alarms = preset.alarms
    assert alarms["SPO2_PROBE_OFF"].extra == {"escalate_to": "high", "escalate_after_s": 30}
    assert alarms["OXIMETER_COMM_LOST"].number("silence_s") == 10
    assert alarms["NIBP_STALE"].number("stale_s") == 3600
    assert alarms["RR_LOW_CRITICAL"].number("apnea_s") == 30
    assert alarms["CO2_COMM_LOST"].number("silence_s") == 10
    hysteresis = {i: s.extra["hysteresis"] for i, s in alarms.items() if "hysteresis" in s.extra}
    assert hysteresis == {
        "SPO2_LOW": 1,
        "SPO2_LOW_CRITICAL": 1,
        "PR_HIGH": 2,
        "PR_HIGH_CRITICAL": 2,
        "PR_LOW": 2,
        "PR_LOW_CRITICAL": 2,
        "RR_HIGH": 1,
        "RR_LOW": 1,
        "RR_LOW_CRITICAL": 1,
        "ETCO2_HIGH": 1,
        "ETCO2_LOW": 1,
        "FICO2_HIGH": 0.5,
    }
    assert preset.behaviour.audio_pause_s == 120
    assert preset.satseconds.mode == "delay"
    assert preset.satseconds.setting == 25
    assert preset.satseconds.choices == (10, 25, 50, 100)
    assert (preset.satseconds.crossings, preset.satseconds.crossing_window_s) == (3, 60)
    assert preset.baseline == {"readings": 2, "apart_s": 300}
    assert "discharge" not in preset.doc  # one rule set: monitor/discharge.toml
    rules = load_rules()
    assert (rules.aldrete_min, rules.bp_within_percent) == (9, 20)
    assert (rules.spo2_min, rules.recovery_min_s) == (92, 3600)


def test_satseconds_preset_inherits_the_default() -> None:
    assert "ketamine-adult-satseconds" in builtin_presets()
    preset = load_preset("ketamine-adult-satseconds")
    assert preset.satseconds.mode == "satseconds"
    assert preset.alarms == load_preset().alarms


def test_preset_from_a_file_with_a_base(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nbase = "ketamine-adult"\n'
        '[[alarm]]\nid = "PR_HIGH"\nthreshold = 110\ndelay_s = 5\nrange = [105, 130]\n'
    )
    preset = load_preset(str(path))
    assert (preset.alarms["PR_HIGH"].setting.low, preset.alarms["PR_HIGH"].setting.high) == (
        105,
        130,
    )  # a clinic may narrow a range
    assert preset.name == "mine"
    assert (preset.alarms["PR_HIGH"].threshold, preset.alarms["PR_HIGH"].delay_s) == (110, 5)
    assert preset.alarms["PR_HIGH"].priority == "medium"


BASED = 'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\n'


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\nid = "A"\nkind = "weird"',
            "'kind' must be one of",
        ),
        (
            'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\nid = "PR_HIGH"\npriority = "urgent"',
            "'priority' must be one of",
        ),
        (
            'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\nid = "PR_HIGH"\nthreshold = "hi"',
            "'threshold' must be a number",
        ),
        (
            'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\nid = "PR_HIGH"\ndelay_s = -1',
            "must not be negative",
        ),
        (
            'name = "x"\nbase = "ketamine-adult"\n[[alarm]]\nid = "PR_HIGH"\nbogus = 1',
            "unknown key 'bogus'",
        ),
        ('name = "x"\nbase = "ketamine-adult"\n[satseconds]\nsetting = 30', "'setting' must be"),
        ('name = "x"\nbase = "nowhere"', "unknown alarm preset 'nowhere'"),
        ("name = = 3", "line 1"),
        # docs/clinical.md "Setting ranges": a preset file is refused like a nurse's change
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nthreshold = 0', "outside its range 80-90 %"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nthreshold = nan', "must be a finite number"),
        (BASED + 'id = "PR_HIGH"\nthreshold = inf', "must be a finite number"),
        (BASED + 'id = "PR_HIGH"\nrange = [100, inf]', "must be a finite number"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nenabled = false', "may not be switched off"),
        (BASED + 'id = "OXIMETER_COMM_LOST"\nenabled = false', "can never be switched off"),
        (BASED + 'id = "SPO2_PROBE_OFF"\nrange = [1, 2]', "technical alarm has no setting"),
        (BASED + 'id = "PR_LOW"\ndelay_s = 100000', "delay 100000 s is outside 0-30 s"),
        (BASED + 'id = "PR_HIGH_CRITICAL"\ndelay_s = 11', "outside 0-10 s"),
        (BASED + 'id = "PR_HIGH"\nhysteresis = 60', "hysteresis 60 /min is wider than"),
        (BASED + 'id = "PR_HIGH"\nrange = [150, 100]', "low <= high"),
        (
            BASED + 'id = "PR_HIGH"\nthreshold = 145',
            "must stay above Pulse rate high",
        ),
        (BASED + 'id = "RR_LOW_CRITICAL"\napnea_s = 60', "apnea time 60 s is outside"),
        (BASED + 'id = "SPO2_LOW"\nkind = "technical"', "SPO2_LOW must stay physiological"),
        (BASED + 'id = "OXIMETER_COMM_LOST"\nsilence_s = 100000', "its 'silence_s' is fixed"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nmay_switch_off = true', "may not be switched off"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nrange = [0, 90]', "never widen it"),
        (BASED + 'id = "RR_LOW_CRITICAL"\napnea_range = [15, 300]', "never widen it"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\npriority = "low"', "its 'priority' is fixed"),
        (BASED + 'id = "PR_HIGH"\ncompare = "<"', "its 'compare' is fixed"),
        (BASED + 'id = "SPO2_NO_UPDATE"\ndelay_s = 100000', "its 'delay_s' is fixed"),
        (BASED + 'id = "SPO2_PROBE_OFF"\nescalate_to = "low"', "its 'escalate_to' is fixed"),
        (BASED + 'id = "SPO2_LOW_CRITICAL"\nbeyond = "PR_LOW"', "'beyond' must name"),
        (
            'name = "x"\n[behaviour]\n[satseconds]\n[[alarm]]\nid = "SPO2_LOW"\n'
            'kind = "physiological"',
            "the built-in alarm SPO2_LOW_CRITICAL is missing",
        ),
    ],
)
def test_bad_presets_name_the_problem(tmp_path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError, match=needle.replace("(", r"\(")):
        load_preset(str(path))


def test_unknown_builtin_preset() -> None:
    with pytest.raises(PresetError, match="unknown alarm preset 'nope'"):
        load_preset("nope")


def test_a_preset_reloads_from_its_resolved_document() -> None:
    """A recording keeps `Preset.doc` (base chain resolved, through JSON); replay gets
    the very same preset back without reading any file."""
    for name in builtin_presets():
        preset = load_preset(name)
        again = parse_preset(json.loads(json.dumps(preset.doc)), "recorded")
        assert "base" not in again.doc
        assert (again.name, again.alarms, again.satseconds) == (
            preset.name,
            preset.alarms,
            preset.satseconds,
        )


def test_a_preset_recorded_before_setting_ranges_replays_with_the_builtin_ones() -> None:
    from monitor.config import PipelineConfig

    doc = json.loads(json.dumps(load_preset().doc))
    for alarm in doc["alarm"]:
        for key in ("range", "may_switch_off", "beyond", "apnea_range"):
            alarm.pop(key, None)
    del doc["delay_range"]
    doc["behaviour"].pop("ack_timeout_s")
    doc["behaviour"]["break_through_idle"] = doc["behaviour"].pop("break_through")
    doc["alarm"][0]["threshold"] = 93  # what the recording did say is kept
    with pytest.raises(PresetError, match="missing 'range'"):
        parse_preset(json.loads(json.dumps(doc)), "recorded")
    preset = PipelineConfig({"oximeter": "nonin2"}, doc, "recorded").load_preset()
    assert preset.alarms["SPO2_LOW"].threshold == 93
    assert preset.alarms["SPO2_LOW"].setting == load_preset().alarms["SPO2_LOW"].setting
    assert preset.behaviour == load_preset().behaviour
