"""Each built-in scenario raises the alarm it is named for (and steady raises none).

Parametrised over the scenarios this checkout bundles, so every scenario added
to the simulator is held to its name here.
"""

from __future__ import annotations

import pytest

from simulator.scenario import builtin_scenarios
from tests.conftest import json_lines, run_vitalmon

# scenario -> (alarm it must raise, extra `run` flags)
NAMED_FOR = {
    "steady": (None, []),
    "desaturation": ("SPO2_LOW", []),
    "tachycardia": ("PR_HIGH", []),
    "bradycardia": ("PR_LOW", []),
    "apnea": ("RR_LOW_CRITICAL", []),
    "artifact": ("SPO2_ARTIFACT", []),
    "probe-off": ("SPO2_PROBE_OFF", []),
    "comm-loss": ("OXIMETER_COMM_LOST", []),
    "hypertension": ("NIBP_SYS_HIGH", ["--nibp-interval", "1"]),
    "nibp-fail": ("NIBP_FAILED", ["--nibp-interval", "1"]),
    "hypoventilation": ("ETCO2_HIGH", []),
    "obstruction": ("RR_LOW_CRITICAL", []),
    "capno-disconnect": ("CO2_CHECK_ADAPTER", []),
}
BUNDLED = [s.name for s in builtin_scenarios()]


@pytest.mark.parametrize("name", sorted(set(BUNDLED) & set(NAMED_FOR)))
def test_scenario_raises_the_alarm_it_is_named_for(name: str) -> None:
    alarm_id, flags = NAMED_FOR[name]
    result = run_vitalmon(
        "run", "--sim", name, "--headless", "--speed", "max", "--duration", "300", *flags
    )
    assert result.returncode == 0, result.stderr
    onsets = [r["id"] for r in json_lines(result.stdout) if r.get("state") == "onset"]
    if alarm_id is None:
        # Only the CO2 module's warm-up, at the start (the machine, not the patient;
        # tests/test_alarms_cli.py holds its times).
        assert onsets == ["CO2_WARMUP"]
    else:
        assert alarm_id in onsets, onsets


def test_every_bundled_scenario_is_named_here() -> None:
    """A scenario with no entry in NAMED_FOR would escape the test above."""
    infusion_like = {"infusion"}  # a whole session, checked by its own tests
    assert set(BUNDLED) - infusion_like <= set(NAMED_FOR)
