"""What the bedside window shows in one frame, read from the pipeline in one go.

The window takes one `BedsideSnapshot` a frame and paints only from it, so it never
probes the pipeline for what might be there: which devices are connected is answered
here once, through the channels' own types, Qt-free and within a test's reach. The
waveforms are not copied: their sweeps read the channels' rings themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from drivers.types import NibpReading, NibpStatus
from monitor.alarms.limits import LimitSetting
from monitor.alarms.state import AlarmDisplayState
from monitor.channels import Channel
from monitor.channels.capno import CapnoChannel
from monitor.channels.nibp import NibpChannel
from monitor.channels.oximeter import OximeterChannel
from monitor.channels.resp import RespChannel
from monitor.numerics import NumericReading, OximeterSnapshot
from monitor.pipeline import AcquisitionPipeline
from monitor.records import Record


@dataclass(frozen=True, slots=True)
class NibpState:
    """The NIBP module as its tile shows it (`NO_NIBP` where none is connected)."""

    reading: NibpReading | None
    reading_t: float | None
    status: NibpStatus | None
    cuff_mmhg: int | None
    mode: str
    interval_min: int | None
    next_due_t: float | None


NO_NIBP = NibpState(None, None, None, None, "manual", None, None)


@dataclass(frozen=True, slots=True)
class SessionState:
    patient_id: str | None
    weight_kg: float | None
    phase: str
    phase_started_t: float
    dose_mg_per_kg_h: float | None  # the running infusion rate, None = stopped
    planned_dose_mg_per_kg_h: float | None


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """A device's link as the session strip words it (`present.session_view.link_view`)."""

    channel: str
    state: str | None  # the last link event, None if the source never reported one
    has_data: bool
    answering: bool | None  # command/response devices (NIBP): does it answer? else None


@dataclass(frozen=True, slots=True)
class BedsideSnapshot:
    t: float
    wall_start: datetime
    alarms: AlarmDisplayState
    limits: Mapping[str, LimitSetting]
    oximeter: OximeterSnapshot | None
    rr: NumericReading | None  # from a respiration channel; None: none connected
    capno: Record | None  # the CO2 module's part of the numerics now; None: none connected
    nibp: NibpState
    session: SessionState
    links: tuple[ChannelLink, ...]


def bedside_snapshot(pipeline: AcquisitionPipeline) -> BedsideSnapshot:
    """Everything one frame shows, at the pipeline's data time now."""
    t = pipeline.t
    channels = pipeline.channels
    resp, capno, nibp = channels.get("resp"), channels.get("capno"), channels.get("nibp")
    session = pipeline.session
    return BedsideSnapshot(
        t=t,
        wall_start=pipeline.wall_start,
        alarms=pipeline.alarms.display_state(t),
        limits=pipeline.alarms.limits(),
        oximeter=pipeline.oximeter_snapshot(),
        rr=NumericReading(*resp.rr_reading(t)) if isinstance(resp, RespChannel) else None,
        capno=capno.numerics_json(t) if isinstance(capno, CapnoChannel) else None,
        nibp=_nibp(nibp) if isinstance(nibp, NibpChannel) else NO_NIBP,
        session=SessionState(
            session.patient_id,
            session.weight_kg,
            session.phase,
            session.phase_started_t,
            session.dose_mg_per_kg_h,
            session.planned_dose_mg_per_kg_h,
        ),
        links=tuple(
            ChannelLink(name, pipeline.link_states.get(name), _has_data(ch), _answering(ch))
            for name, ch in channels.items()
        ),
    )


def _nibp(nibp: NibpChannel) -> NibpState:
    return NibpState(
        nibp.last_reading,
        nibp.last_reading_t,
        nibp.status,
        nibp.cuff_pressure_mmhg,
        nibp.mode,
        nibp.interval_min,
        nibp.next_due_t,
    )


def _has_data(channel: Channel) -> bool:
    """Has the device sent anything yet (a streaming one a sample, NIBP a reading)?"""
    if isinstance(channel, OximeterChannel):
        return channel.pleth.total_written > 0
    if isinstance(channel, RespChannel):
        return channel.wave.total_written > 0
    if isinstance(channel, CapnoChannel):
        return channel.co2.total_written > 0
    if isinstance(channel, NibpChannel):
        return channel.last_reading is not None
    return False


def _answering(channel: Channel) -> bool | None:
    """Command/response devices (NIBP): does the module answer? None for streams."""
    if not isinstance(channel, NibpChannel):
        return None
    return channel.status is not NibpStatus.NOT_RESPONDING
