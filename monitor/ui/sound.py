"""Alarm sound through QtMultimedia, behind one small interface (`AlarmSink`).

`QtToneSink` plays the PCM of monitor.alarms.signals.tones on the default output; `SilentSink`
plays nothing (tests and CI choose it with VITALMON_AUDIO=silent); `FailedSink`
stands in when there is no device or the device fails. A failed sound path is a
technical alarm (ALARM_AUDIO_FAILED) sent through the command bus, shown on
screen and logged: a monitor that cannot sound must say so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Protocol

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QObject
from PyQt6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

from monitor.alarms.signals.audio_policy import AlarmAudioPolicy, AlarmLike
from monitor.alarms.signals.priorities import PRIORITIES, load_alarm_signals
from monitor.alarms.signals.tones import cycle_pcm

log = logging.getLogger("vitalmon.sound")
AUDIO_FAILED_ID = "ALARM_AUDIO_FAILED"


class AlarmSink(Protocol):
    ok: bool  # False once the sound path is known to be broken
    audible: bool  # False for the silent sink chosen on purpose
    problem: str  # why, in words

    def play(self, priority: str, pcm: bytes) -> None: ...

    def stop(self) -> None: ...


class SilentSink:
    """Plays nothing on purpose (tests, CI); remembers what it was asked to play."""

    audible = False

    def __init__(self) -> None:
        self.ok = True
        self.problem = ""
        self.played: list[str] = []
        self.last_pcm = b""  # what a speaker would have been given last

    def play(self, priority: str, pcm: bytes) -> None:
        self.played.append(priority)
        self.last_pcm = pcm

    def stop(self) -> None:
        pass


class FailedSink(SilentSink):
    """No usable sound device: nothing can sound, and the monitor must say so."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.ok = False
        self.problem = problem


class QtToneSink(QObject):
    """16-bit mono PCM to the default audio output; a new pattern cuts the one playing."""

    audible = True

    def __init__(self) -> None:
        super().__init__()
        self.ok = True
        self.problem = ""
        rate = load_alarm_signals().sample_rate_hz
        fmt = QAudioFormat()
        fmt.setSampleRate(rate)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        device = QMediaDevices.defaultAudioOutput()
        if not device.isFormatSupported(fmt):
            self._fail(f"sound device '{device.description()}' cannot play {rate} Hz mono")
        self._sink = QAudioSink(device, fmt, self)
        self._sink.stateChanged.connect(self._on_state)
        self._buffer: QBuffer | None = None

    def play(self, priority: str, pcm: bytes) -> None:
        if not self.ok:
            return
        self.stop()
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(pcm))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink.start(self._buffer)
        self._check()

    def stop(self) -> None:
        self._sink.stop()
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None

    def _on_state(self, state) -> None:
        self._check()

    def _check(self) -> None:
        error = self._sink.error()
        if error not in (QAudio.Error.NoError, QAudio.Error.UnderrunError):
            self._fail(f"sound output failed ({error.name})")

    def _fail(self, problem: str) -> None:
        if self.ok:
            self.ok = False
            self.problem = problem


def make_sink() -> AlarmSink:
    """The real sound path where there is one; a FailedSink saying why where there is not."""
    if os.environ.get("VITALMON_AUDIO", "").lower() == "silent":
        return SilentSink()
    try:
        device = QMediaDevices.defaultAudioOutput()
    except Exception as exc:  # the multimedia backend itself is missing
        return FailedSink(f"no sound system ({exc})")
    if device.isNull():
        return FailedSink("no sound device")
    try:
        return QtToneSink()
    except Exception as exc:
        return FailedSink(f"sound output cannot open ({exc})")


class AlarmSound:
    """Turns the alarm state into sound each display frame; reports a broken sound path once."""

    def __init__(self, sink: AlarmSink, report: Callable[..., object]) -> None:
        self.sink = sink
        self._report = report
        self.policy = AlarmAudioPolicy()
        signals = load_alarm_signals()
        self._pcm = {p: cycle_pcm(p, signals) for p in PRIORITIES}
        self.reported = False
        self.check()

    def check(self) -> None:
        if not self.sink.ok and not self.reported:
            self.reported = True
            log.error("alarm sound failed: %s; alarms are visual only", self.sink.problem)
            # the engine shows its own words for the alarm, followed by this detail
            self._report(
                "technical_alarm", id=AUDIO_FAILED_ID, active=True, message=self.sink.problem
            )

    def step(
        self, audio_priority: str | None, alarms: Iterable[AlarmLike], now_s: float
    ) -> str | None:
        """`audio_priority` is the engine's: which priority should sound now."""
        was_playing = self.policy.playing
        priority = self.policy.step(audio_priority, alarms, now_s)
        if priority is not None:
            self.sink.play(priority, self._pcm[priority])
        elif was_playing is not None and self.policy.playing is None:
            self.sink.stop()  # silenced: cut the pattern short
        self.check()
        return priority
