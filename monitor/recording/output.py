"""Where exports and reports are written: all or nothing (docs/reliability.md).

A writer writes into a fresh folder beside the target (the same filesystem), every
file is flushed to the disk, and only then is each renamed into place. So a write
that fails (a full disk, /dev/full, a library that swallows its own write errors)
leaves nothing behind and says so, an existing file is never half overwritten,
and another program never reads a half-written export. `-` streams the one file
written to stdout instead (CSV, or any other one-file format).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from drivers.files import kind_of
from monitor.recording.store import SessionFileError

STDOUT = "-"
Check = Callable[[Path], None]


class OutputError(SessionFileError):
    """An output that cannot be written, or would overwrite what it must not."""


def _refuse_existing(path: Path, force: bool) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot write '{path}': {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise OutputError(f"cannot write '{path}': it is {kind_of(mode)}, not a regular file")
    if not force:
        raise OutputError(f"'{path}' already exists; not overwriting it (add --force)")


class StagedOutput:
    """`target` is where the writer writes; `placed` what ended up where, after the
    `with` block succeeded. A check (a format's read-back) raises ValueError."""

    def __init__(self, out: str | os.PathLike[str], force: bool, make_parents: bool) -> None:
        self.to_stdout = str(out) == STDOUT
        self.out = Path(tempfile.gettempdir() if self.to_stdout else out)
        self.force = force
        self.placed: list[Path] = []
        self._made: list[Path] = []
        folder = Path(tempfile.gettempdir()) if self.to_stdout else self.out.parent
        if not self.to_stdout:
            _refuse_existing(self.out, force)
            if make_parents:
                self._make_parents(folder)
        try:
            self._stage = Path(tempfile.mkdtemp(prefix=".vitalmon-out-", dir=folder))
        except OSError as exc:
            self._remove_made()
            raise OutputError(f"cannot write '{out}': {exc.strerror}") from None
        self.target = self._stage / ("export" if self.to_stdout else self.out.name)

    def _make_parents(self, folder: Path) -> None:
        missing = []
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except OSError as exc:
                self._remove_made()
                raise OutputError(f"cannot create folder '{path}': {exc.strerror}") from None
            self._made.append(path)

    def _remove_made(self) -> None:
        for path in reversed(self._made):
            with contextlib.suppress(OSError):
                path.rmdir()
        self._made = []

    def finish(self, check: Check | None = None) -> list[Path]:
        """Flush, check (a format's own read-back), then rename every file into place."""
        written = sorted(p for p in self._stage.iterdir() if p.is_file())
        if not written:
            raise OutputError(f"nothing was written for '{self.out}'")
        for path in written:
            _flush_to_disk(path)
            if check is not None:
                try:
                    check(path)
                except ValueError as exc:
                    shown = STDOUT if self.to_stdout else self.out.parent / path.name
                    raise OutputError(f"cannot write '{shown}': {exc}") from None
        if self.to_stdout:
            if len(written) != 1:
                raise OutputError(f"this writes {len(written)} files; give --out a path, not -")
            with open(written[0], "rb") as src:
                shutil.copyfileobj(src, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return []
        finals = [self.out.parent / p.name for p in written]
        for final in finals:
            _refuse_existing(final, self.force)
        for path, final in zip(written, finals, strict=True):
            os.replace(path, final)
            self.placed.append(final)
        _flush_folder(self.out.parent)
        return finals

    def discard(self) -> None:
        shutil.rmtree(self._stage, ignore_errors=True)
        if not self.placed:
            self._remove_made()


@contextlib.contextmanager
def staged_output(
    out: str | os.PathLike[str], force: bool = False, make_parents: bool = False
) -> Iterator[StagedOutput]:
    """Write into `stage.target`; then `stage.finish()`. Whatever fails, the stage
    folder goes, and an OSError becomes one line."""
    stage = StagedOutput(out, force, make_parents)
    try:
        yield stage
    except BrokenPipeError:
        raise  # stdout's reader went away: not a failed write (the CLI ends quietly)
    except OSError as exc:
        raise OutputError(f"cannot write '{out}': {exc.strerror or exc}") from None
    finally:
        stage.discard()


def _flush_to_disk(path: Path) -> None:
    """fsync: a filesystem that defers its errors (delayed allocation) says so now."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
