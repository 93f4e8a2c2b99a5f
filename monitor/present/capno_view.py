"""The EtCO2 tile and the capnogram's scale, computed without Qt (docs/clinical.md,
"Capnography"): EtCO2 large, FiCO2 and the rate beside it, and in words why there is
no number (warming up, zeroing, check adapter, no breaths)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.numerics import ValueState
from monitor.present.display import DASHES
from monitor.records import as_float

# The capnogram's fixed scale: 0-50 mmHg, stepped up when the EtCO2 climbs past it.
CAPNOGRAM_SCALES_MMHG = (50.0, 75.0, 100.0)

STATE_WORDS = {
    "warm_up": "CO₂ warming up",
    "zeroing": "CO₂ zeroing",
    "check_adapter": "check airway adapter",
    "missing": "no CO₂ data",
}


@dataclass(frozen=True, slots=True)
class CapnoTileView:
    text: str  # the EtCO2, or dashes
    note: str  # FiCO2 and rate, or why there are no numbers
    state: ValueState


def capno_tile_view(record: dict[str, object]) -> CapnoTileView:
    """From the latest numerics record."""
    etco2, fico2, rr = record.get("etco2"), record.get("fico2"), record.get("rr")
    state_name = str(record.get("etco2_state", "missing"))
    status = record.get("co2_status")
    words = STATE_WORDS.get(state_name)
    if words is not None:
        return CapnoTileView(DASHES, words, ValueState.MISSING)
    state = ValueState.STALE if state_name == "stale" else ValueState.VALID
    parts = [f"FiCO₂ {DASHES if fico2 is None else f'{as_float(fico2):.0f}'}"]
    parts.append(f"RR {DASHES if rr is None else f'{as_float(rr):.0f}'}")
    if isinstance(status, list) and "no_breaths" in status:
        parts = ["no breaths"]
    if etco2 is None:
        return CapnoTileView(DASHES, "   ".join(parts), ValueState.MISSING)
    return CapnoTileView(f"{as_float(etco2):.0f}", "   ".join(parts), state)


def capnogram_range(etco2_mmhg: float | None) -> tuple[float, float]:
    """The capnogram's y range in mmHg: fixed, the smallest scale the EtCO2 fits under."""
    top = next(
        (s for s in CAPNOGRAM_SCALES_MMHG if etco2_mmhg is None or etco2_mmhg < s * 0.95),
        CAPNOGRAM_SCALES_MMHG[-1],
    )
    return (-2.0, top)


def capnogram_title(etco2_mmhg: float | None) -> str:
    """The sweep's label with its scale, e.g. 'CO₂  0-50 mmHg'."""
    return f"CO₂  0-{capnogram_range(etco2_mmhg)[1]:.0f} mmHg"
