"""What a pipeline is built from, as one value, and the one factory that builds it.

The CLI makes a `PipelineConfig` from its arguments, the recording keeps it whole
(`meta["config"]`), and replay rebuilds the very same pipeline from it: the same
channels, and the same alarm preset even when the preset was a user's file that is
gone, or a built-in one whose `base` has changed since (the config holds the preset
document with its base chain already resolved). docs/architecture.md, "Building a
pipeline".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drivers.errors import VitalmonError
from monitor.alarms import DEFAULT_PRESET, Preset, load_preset, parse_preset
from monitor.alarms.preset import completed_from_builtin
from monitor.channels.nibp_schedule import NibpSettings, legacy_doc, load_settings, settings_doc
from monitor.commands import Command, CommandError
from monitor.pipeline import AcquisitionPipeline, Writer, no_writer
from simulator.devices import Bedside


class ConfigError(VitalmonError):
    """A configuration that does not describe a pipeline (e.g. a damaged recording's)."""


@dataclass(frozen=True, slots=True)
class ScheduledCommand:
    """A command at a data time (a scenario's scripted nurse action), or with `at_s`
    None at the start, before the first chunk (`--nibp-interval`)."""

    at_s: float | None
    name: str
    args: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Everything a pipeline is built from.

    `source` says where the data came from (the recording's "source" metadata:
    ports, scenario and seed, or a WFDB record); `commands` are applied by data time
    in a live run, and in a replay come from the recording's own command log instead.
    """

    protocols: dict[str, str]
    preset: dict[str, Any]  # the preset document, `base` chain resolved
    preset_source: str = DEFAULT_PRESET
    commands: tuple[ScheduledCommand, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    # The NIBP schedule document (nibp_schedule.toml) the run used: its idle status
    # checks meet the recorded answers in a replay only at the same period.
    nibp: dict[str, Any] = field(default_factory=settings_doc)

    @classmethod
    def of(
        cls,
        protocols: Mapping[str, str],
        preset: str | Preset = DEFAULT_PRESET,
        commands: tuple[ScheduledCommand, ...] = (),
        source: Mapping[str, Any] | None = None,
    ) -> PipelineConfig:
        """A config for these channels and a preset (a name, a file, or one loaded)."""
        loaded = preset if isinstance(preset, Preset) else load_preset(preset)
        return cls(dict(protocols), dict(loaded.doc), loaded.source, commands, dict(source or {}))

    def load_preset(self) -> Preset:
        try:
            # a recording made before setting ranges existed takes the built-in ones
            return parse_preset(completed_from_builtin(self.preset), self.preset_source)
        except VitalmonError as exc:
            raise ConfigError(f"the recorded alarm preset does not load: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "protocols": dict(self.protocols),
            "preset": self.preset,
            "preset_source": self.preset_source,
            "commands": [
                {"at_s": c.at_s, "name": c.name, "args": dict(c.args)} for c in self.commands
            ],
            "source": dict(self.source),
            "nibp": self.nibp,
        }

    @classmethod
    def from_json(cls, data: object) -> PipelineConfig:
        """The config a recording kept; anything that does not fit is a `ConfigError`."""
        if not isinstance(data, dict):
            raise ConfigError("'config' is not a table")
        protocols = data.get("protocols")
        if not isinstance(protocols, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in protocols.items()
        ):
            raise ConfigError("'config.protocols' is not a table of channel: protocol")
        preset, source = data.get("preset"), data.get("source", {})
        if not isinstance(preset, dict):
            raise ConfigError("'config.preset' is not a table")
        if not isinstance(source, dict):
            raise ConfigError("'config.source' is not a table")
        raw_commands = data.get("commands", [])
        if not isinstance(raw_commands, list):
            raise ConfigError("'config.commands' is not a list")
        commands = tuple(_command(i, raw) for i, raw in enumerate(raw_commands, start=1))
        nibp = data.get("nibp", None)
        if nibp is None:
            nibp = legacy_doc()  # recorded before the config kept it
        if not isinstance(nibp, dict):
            raise ConfigError("'config.nibp' is not a table")
        return cls(
            dict(protocols),
            preset,
            str(data.get("preset_source", "")),
            commands,
            dict(source),
            nibp,
        )

    def nibp_settings(self) -> NibpSettings:
        try:
            return load_settings(doc=self.nibp)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the recorded NIBP settings do not load ({exc})") from None


def _command(i: int, raw: object) -> ScheduledCommand:
    where = f"'config.commands' #{i}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is not a table")
    at, name, args = raw.get("at_s"), raw.get("name"), raw.get("args", {})
    if at is not None and (
        isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at)
    ):
        raise ConfigError(f"{where}: 'at_s' is not a data time")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: no command name")
    if not isinstance(args, dict):
        raise ConfigError(f"{where}: 'args' is not a table")
    return ScheduledCommand(None if at is None else float(at), name, dict(args))


def nurse_commands(bedside: Bedside) -> tuple[ScheduledCommand, ...]:
    """A simulated patient's scripted nurse actions, as commands at their data times."""
    return tuple(ScheduledCommand(a.at_s, a.command, dict(a.args)) for a in bedside.nurse_actions())


def build_pipeline(
    config: PipelineConfig,
    wall_start: datetime | None = None,
    writer: Writer = no_writer,
    replay: bool = False,
) -> AcquisitionPipeline:
    """The one way to build a pipeline: the CLI, replay, the GUI, benches and tests.

    `replay=True` leaves the config's commands out: a recording's command log holds
    each of them as applied, and replay applies them from there."""
    pipeline = AcquisitionPipeline(
        config.protocols,
        wall_start=wall_start,
        writer=writer,
        preset=config.load_preset(),
        follow_ups=not replay,
        nibp_settings=config.nibp_settings(),
    )
    if not replay:
        for command in config.commands:
            try:
                pipeline.commands.check(command.name, command.args)
                if command.at_s is None:
                    pipeline.at_start(Command(command.name, dict(command.args)))
                else:
                    pipeline.commands.schedule(command.at_s, command.name, **command.args)
            except CommandError as exc:
                at = "at the start" if command.at_s is None else f"at {command.at_s:g} s"
                raise ConfigError(f"the command {at}: {exc}") from None
    return pipeline
