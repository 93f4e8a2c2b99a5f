"""Opening the files a user names (recordings, captures, presets, scenarios, scripts).

A FIFO, a device or a directory named where a file is expected would block the
open or the read for ever (or read without end): each is refused at once by what
it is (docs/reliability.md). The open itself never blocks: it is non-blocking
until the descriptor is known to be a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFile(OSError):
    """The path names something that is not a regular file; `strerror` says what."""


def kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str], what: str = "file") -> BinaryIO:
    """Open `path` to read bytes, or raise OSError (NotARegularFile for a FIFO, device,
    directory ...), without ever blocking on the open."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(errno.EINVAL, f"{kind_of(mode)}, not a regular {what}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str | os.PathLike[str], what: str = "file", limit: int | None = None
) -> bytes:
    """The whole of a regular file, refusing one larger than `limit` bytes unread."""
    with open_regular(path, what) as f:
        if limit is not None and os.fstat(f.fileno()).st_size > limit:
            raise NotARegularFile(errno.EFBIG, f"larger than {limit} bytes; not a {what}")
        return f.read()


MAX_TEXT_BYTES = 1 << 20  # a preset or a scenario is a few kB; a bigger "one" is a mistake


def read_text_file(path: str | os.PathLike[str], what: str) -> str:
    """A regular, UTF-8 text file of at most MAX_TEXT_BYTES; OSError (with `strerror`)
    or UnicodeError (with `reason`) says what is wrong."""
    data = read_regular(path, what, MAX_TEXT_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        exc.reason = f"not UTF-8 text (byte {exc.start}); not a {what}"
        raise


def parse_toml(text: str, source: str) -> dict:
    """tomllib, but nesting too deep for the parser is a ValueError like any other error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{source}: nested too deep") from None
