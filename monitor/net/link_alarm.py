"""The alarm a bedside raises about one of its own outgoing links being down.

CENTRAL_LINK_LOST (the central station's broker) and HL7_LINK_LOST (the hospital's
MLLP receiver) behave alike: raised through the command bus once the link has been
down for the preset's `silence_s` (wall time), ended when it is back
(docs/clinical.md). The link's sender thread calls `watch` as often as it likes.
"""

from __future__ import annotations

import time

from monitor.alarms.preset import PresetError
from monitor.commands import CommandError
from monitor.pipeline import AcquisitionPipeline


class LinkAlarm:
    def __init__(
        self, pipeline: AcquisitionPipeline, alarm_id: str, message: str, default_s: float
    ) -> None:
        self.alarm_id = alarm_id
        self.message = message
        self.after_s = silence_s(pipeline, alarm_id, default_s)
        self.raised = False
        self._pipeline = pipeline

    def watch(self, down_since: float | None) -> bool:
        """Raise or end the alarm for a link down since `down_since` (monotonic time;
        None: up). True when this call raised it."""
        if down_since is not None and not self.raised:
            if time.monotonic() - down_since >= self.after_s:
                self.raised = self._submit(True)
                return self.raised
        elif down_since is None and self.raised:
            self.raised = not self._submit(False)
        return False

    def _submit(self, active: bool) -> bool:
        try:
            self._pipeline.commands.submit(
                "technical_alarm", id=self.alarm_id, active=active, message=self.message
            )
        except CommandError:  # a preset without this alarm: the link works on, unalarmed
            return False
        return True


def silence_s(pipeline: AcquisitionPipeline, alarm_id: str, default_s: float) -> float:
    """The preset's `silence_s` for `alarm_id` (docs/clinical.md), else `default_s`."""
    spec = pipeline.alarms.preset.alarms.get(alarm_id)
    if spec is None:
        return default_s
    try:
        return spec.number("silence_s")
    except PresetError:
        return default_s
