"""`vitalmon alarm-sound high|medium|low --out FILE.wav`: one cycle of an alarm sound.

The very samples the speaker is given (monitor.alarms.signals.tones.cycle_pcm),
as a 16-bit mono WAV: for QA to measure against IEC 60601-1-8, and for the
disclosure of the alarm signals a maker owes its users (docs/clinical.md).
"""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

from monitor.alarms.signals.priorities import PRIORITIES, load_alarm_signals
from monitor.alarms.signals.tones import cycle_pcm
from monitor.recording.output import STDOUT, staged_output


def register(commands) -> argparse.ArgumentParser:
    sound = commands.add_parser(
        "alarm-sound", help="write one cycle of an alarm priority's sound as a WAV file"
    )
    sound.add_argument("priority", choices=PRIORITIES)
    sound.add_argument("--out", required=True, metavar="FILE.wav|-")
    sound.add_argument("--force", action="store_true", help="replace an existing file")
    return sound


def write_wav(path: Path, priority: str) -> None:
    signals = load_alarm_signals()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(signals.sample_rate_hz)
        out.writeframes(cycle_pcm(priority, signals))


def run(args: argparse.Namespace) -> int:
    with staged_output(args.out, args.force) as stage:
        write_wav(stage.target, args.priority)
        written = stage.finish()
    if args.out != STDOUT:
        print(written[0])
    return 0
