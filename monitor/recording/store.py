"""The session file: written by one thread (`SessionWriter`), read without ever changing it
(`SessionReader`).

Writing uses WAL with synchronous=NORMAL: a committed transaction survives a
`kill -9` of the process. A clean close switches the file back to a rollback
journal so a finished session is one self-contained file that opens read-only
with no -wal/-shm side files. A file still in WAL mode (the recorder was killed,
or is still running) is read from a private copy, because even a read-only
SQLite connection creates -wal/-shm files next to a WAL database.

A run flat out (`bulk`: `vitalmon run --speed max --record`, which no one watches
as it goes) writes with the rollback journal from the start: WAL writes every page
twice (to the log, then to the file at each checkpoint), the journal only the few
pages a commit changes (docs/performance.md: ~30 % less CPU in SQLite, ~3.6 % less for
the whole run). A commit is just as safe (synchronous=FULL);
a file the run was killed in leaves a `-journal` beside it, and is read from a
private copy too, where SQLite rolls the unfinished transaction back.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np

from drivers.errors import VitalmonError
from drivers.files import NotARegularFile, open_regular
from drivers.types import LinkEvent, LinkState
from monitor.recording.schema import RECORD_TABLES, SCHEMA_VERSION, TABLES
from monitor.records import MAX_T_S, Record, RecordError, check_record, fields_of, time_of
from monitor.sources import Chunk

T = TypeVar("T")
SQLITE_MAGIC = b"SQLite format 3\x00"
# Checkpoint the write-ahead log every 16 pages (SQLite's default: 1000) so it is
# recycled instead of growing with a copy of each page every commit rewrites: on a
# 400 KB filesystem that fills, 52 s of numerics are kept instead of 12
# (docs/reliability.md).
WAL_CHECKPOINT_PAGES = 16
# Rows to one INSERT statement (at most 8 columns: within SQLite's 999 parameters).
ROWS_PER_INSERT = 100


def _one_line(text: str, limit: int = 160) -> str:
    """SQLite's integrity reports span lines; the CLI promises one."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# Beside a session file while it is written: SQLite's logs (a copy of the file needs
# them, to replay the WAL or roll the journal back), and the WAL's shared-memory index.
LOG_SUFFIXES = ("-wal", "-journal")
SIDE_SUFFIXES = (*LOG_SUFFIXES, "-shm")


def _side_files(path: Path) -> tuple[Path, ...]:
    return tuple(Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES)


class SessionFileError(VitalmonError):
    """A session file that cannot be read or written (missing, damaged, foreign, newer)."""


def _plain(value: object) -> object:
    """numpy scalars and arrays a channel may have put in a record."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Made once: json.dumps with arguments builds an encoder per call (same text).
_dumps = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


def _insert_rows(
    db: sqlite3.Connection, table: str, rows: Sequence[tuple], columns: str = ""
) -> None:
    """Rows of one width, ROWS_PER_INSERT to a statement. sqlite3 lets go of the GIL at
    every statement step; a step per row (executemany) made the pipeline thread hand the
    GIL to the recorder's thread and back some 100 000 times in an 8-hour run. `columns`
    ("(a, b)") leaves the others NULL."""
    if not rows:
        return
    one = "(" + ",".join("?" * len(rows[0])) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start : start + ROWS_PER_INSERT]
        values = [value for row in part for value in row]
        db.execute(f"INSERT INTO {table} {columns} VALUES " + ",".join([one] * len(part)), values)


@dataclass(frozen=True, slots=True)
class WaveBlock:
    """Consecutive samples of one signal, evenly spaced from `t0`."""

    channel: str
    signal: str
    t0: float
    rate_hz: float
    samples: np.ndarray  # float32

    @property
    def t_end(self) -> float:
        """Data time just after the last sample."""
        return self.t0 + len(self.samples) / self.rate_hz


class SessionWriter:
    """Creates a new session file (never overwrites one) and appends to it."""

    def __init__(
        self, path: str | os.PathLike[str], meta: dict[str, object], bulk: bool = False
    ) -> None:
        """`bulk`: written flat out, with the rollback journal (see the module's docstring)."""
        self.path = Path(path)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise SessionFileError(
                f"'{self.path}' already exists; a recording is never overwritten"
            ) from None
        except OSError as exc:
            raise SessionFileError(f"cannot create '{self.path}': {exc.strerror}") from None
        os.close(fd)
        os.chmod(self.path, 0o600)  # whatever the umask
        self._ino = os.stat(self.path).st_ino
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute(f"PRAGMA journal_mode={'DELETE' if bulk else 'WAL'}")
            self._db.execute(f"PRAGMA synchronous={'FULL' if bulk else 'NORMAL'}")
            self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._db.executescript("BEGIN;" + TABLES + "COMMIT;")
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            self.set_meta(meta)
            self.commit()
        except sqlite3.Error as exc:  # e.g. a disk too full for the empty session
            self._db.close()
            for leftover in (self.path, *_side_files(self.path)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise SessionFileError(f"cannot create '{self.path}': {exc}") from None

    def set_meta(self, meta: dict[str, object]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [(key, _dumps(value)) for key, value in meta.items()],
        )

    def add_chunks(self, rows: Sequence[tuple[int, Chunk]]) -> None:
        """(seq, chunk) pairs; seq is the order the pipeline processed them in.

        sqlite3 binds int, float, str and bytearray as they are, but asks every other
        value (bytes, None) for an adapter, at ~1 us each: a chunk's bytes go as a
        bytearray, and its NULL link columns are left out (3x faster rows)."""
        data: list[tuple[object, ...]] = []
        links: list[tuple[object, ...]] = []
        for seq, c in rows:
            link = c.link
            if link is None:
                data.append((seq, c.t, c.channel, bytearray(c.data)))
            else:
                state, port, detail = link.state.value, link.port, link.detail
                links.append((seq, c.t, c.channel, b"", state, port, detail, link.host_time_s))
        _insert_rows(self._db, "raw", data, "(seq, t, channel, data)")
        _insert_rows(self._db, "raw", links)

    def add_records(self, rows: Sequence[tuple[int, int, Record, str]]) -> None:
        """(seq, last chunk seq, record, its `record_json` text); seq is shared by every
        record table."""
        by_table: dict[str, list[tuple]] = {}
        for seq, chunk_seq, r, text in rows:
            kind = str(r.get("type"))
            t, wall = time_of(r), str(r.get("wall", ""))
            if kind == "alarm":
                row: tuple = (seq, t, wall, r.get("id"), r.get("state"), text)
            elif kind == "event":
                row = (seq, t, wall, r.get("kind"), text)
            elif kind == "command":
                row = (seq, t, wall, r.get("name"), chunk_seq, text)
            elif kind in RECORD_TABLES:
                row = (seq, t, wall, text)
            else:
                kind, row = "other_record", (seq, kind, t, wall, text)
            by_table.setdefault(kind, []).append(row)
        for table, table_rows in by_table.items():
            _insert_rows(self._db, table, table_rows)

    def add_wave(self, block: WaveBlock) -> None:
        self._db.execute(
            "INSERT INTO wave (channel, signal, t0, rate_hz, samples) VALUES (?,?,?,?,?)",
            (
                block.channel,
                block.signal,
                block.t0,
                block.rate_hz,
                block.samples.astype("<f4").tobytes(),
            ),
        )

    def commit(self) -> None:
        """End the open transaction (what a crash would keep) and start the next."""
        self._db.execute("COMMIT")
        self.check_still_there()
        self._db.execute("BEGIN")

    def check_still_there(self) -> None:
        """A deleted file or directory keeps accepting writes on Linux: notice it."""
        try:
            ino = os.stat(self.path).st_ino
        except OSError:
            raise SessionFileError(f"session file '{self.path}' has vanished") from None
        if ino != self._ino:
            raise SessionFileError(f"session file '{self.path}' was replaced")

    def close(self) -> None:
        """Commit and leave one self-contained file (rollback journal, no side files)."""
        try:
            self.set_meta({"closed_cleanly": True})
            self._db.execute("COMMIT")
            self._db.execute("PRAGMA journal_mode=DELETE")
        finally:
            self._db.close()

    def abandon(self) -> None:
        """Drop the connection after a failure; what was committed stays."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def _damaged_if_unreadable(method: Callable[..., T]) -> Callable[..., T]:
    """Rows that SQLite returns but that do not parse (bad JSON, a torn blob) are damage
    too: one line, not a traceback."""

    @functools.wraps(method)
    def wrapper(self: SessionReader, *args: object, **kwargs: object) -> T:
        try:
            return method(self, *args, **kwargs)
        except (ValueError, TypeError, KeyError) as exc:
            raise SessionFileError(
                f"'{self.path}' is damaged ({method.__name__}: {_one_line(str(exc))})"
            ) from None

    return wrapper


def _is_time(value: object) -> bool:
    return (
        not isinstance(value, bool) and isinstance(value, int | float) and 0.0 <= value <= MAX_T_S
    )


def _check_meta(meta: dict[str, object]) -> None:
    """What every reader relies on in the metadata (else TypeError/ValueError/KeyError,
    which the caller turns into one line)."""
    start = datetime.fromisoformat(str(meta["wall_start"]))
    if start.tzinfo is None:
        raise ValueError(f"wall_start {meta['wall_start']!r} has no time zone")
    start + timedelta(seconds=MAX_T_S)  # OverflowError for a start out of range
    protocols = meta["protocols"]
    if not isinstance(protocols, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in protocols.items()
    ):
        raise TypeError("protocols is not a table of channel: protocol")
    for key in ("source", "limits", "config"):
        if key in meta and not isinstance(meta[key], dict):
            raise TypeError(f"{key} is not a table")
    for key in ("end_t",):
        if key in meta and meta[key] is not None and not _is_time(meta[key]):
            raise TypeError(f"{key} is {meta[key]!r}, not a data time")


class SessionReader:
    """Opens a session file read-only and checks it is one (context manager).

    Every kind of bad file ends in one `SessionFileError` line; the file itself,
    its bytes and mtime, are never changed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._tmp: str | None = None
        self._db = self._open()
        try:
            self._check()
            self.meta = self._read_meta()
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        where = f"'{self.path}'"
        try:
            with open_regular(self.path, "session file") as f:
                header = f.read(100)
        except FileNotFoundError:
            raise SessionFileError(f"{where}: no such file") from None
        except (IsADirectoryError, NotARegularFile) as exc:
            raise SessionFileError(f"{where} is {exc.strerror}") from None
        except OSError as exc:
            raise SessionFileError(f"cannot read {where}: {exc.strerror}") from None
        if not header:
            raise SessionFileError(f"{where} is empty, not a vitalmon session")
        if not header.startswith(SQLITE_MAGIC):
            raise SessionFileError(f"{where} is not a vitalmon session (not an SQLite file)")
        if len(header) < 100:
            raise SessionFileError(f"{where} is damaged (truncated header)")
        try:
            # WAL mode, or a journal beside it: killed or still recording; a private copy.
            if header[18] == 2 or Path(f"{self.path}-journal").exists():
                return self._open_copy()
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise SessionFileError(f"cannot open {where}: {_one_line(str(exc))}") from None

    def _open_copy(self) -> sqlite3.Connection:
        self._tmp = tempfile.mkdtemp(prefix="vitalmon-read-")
        copy = Path(self._tmp) / "session.sqlite"
        # The log first: if a live recorder checkpoints between the two copies, the
        # database copy already holds every page the older log copy replays.
        for suffix in LOG_SUFFIXES:  # the copy replays the log, or rolls back
            with contextlib.suppress(FileNotFoundError):  # a live writer may just end it
                shutil.copyfile(f"{self.path}{suffix}", f"{copy}{suffix}")
        shutil.copyfile(self.path, copy)
        return sqlite3.connect(copy, check_same_thread=False)

    def _check(self) -> None:
        where = f"'{self.path}'"
        try:
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
            if "schema_version" not in tables or "meta" not in tables:
                raise SessionFileError(
                    f"{where} is an SQLite file but not a vitalmon session (no schema_version)"
                )
            row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if not isinstance(version, int):
                raise SessionFileError(f"{where} is damaged (no schema version)")
            if version > SCHEMA_VERSION:
                raise SessionFileError(
                    f"{where} was written by a newer vitalmon (session schema {version}; "
                    f"this version reads up to {SCHEMA_VERSION}): upgrade vitalmon to open it"
                )
            result = self._db.execute("PRAGMA quick_check").fetchone()
            if result is None or result[0] != "ok":
                problem = _one_line(result[0] if result else "?").replace(
                    "*** in database main *** ", ""
                )
                raise SessionFileError(f"{where} is damaged (integrity check: {problem})")
        except sqlite3.DatabaseError as exc:
            raise SessionFileError(
                f"{where} is damaged (truncated or corrupt): {_one_line(str(exc))}"
            ) from None

    def _read_meta(self) -> dict[str, object]:
        where = f"'{self.path}'"
        try:
            meta = {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}
            _check_meta(meta)
        except sqlite3.DatabaseError as exc:
            raise SessionFileError(f"{where} is damaged: {_one_line(str(exc))}") from None
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise SessionFileError(f"{where} is damaged (session metadata: {exc})") from None
        return meta

    def close(self) -> None:
        self._db.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the decoded layer ---------------------------------------------------------

    def _query(self, sql: str, args: Sequence[object] = ()) -> Iterator[tuple]:
        try:
            return iter(self._db.execute(sql, args).fetchall())
        except sqlite3.DatabaseError as exc:
            raise SessionFileError(f"'{self.path}' is damaged: {_one_line(str(exc))}") from None

    def _row(self, table: str, seq: object, text: object, kind: str | None) -> Record:
        """One row's record, checked into its type's shape (monitor/records.py): a row that
        does not fit is one line naming the table and row."""
        try:
            return check_record(json.loads(text), kind)  # type: ignore[arg-type]
        except (ValueError, TypeError, RecordError) as exc:
            raise SessionFileError(
                f"'{self.path}' is damaged (table {table}, row {seq}: {_one_line(str(exc))})"
            ) from None

    def records(self, kind: str) -> list[Record]:
        """Every record of one type, in emission order, exactly as the pipeline emitted it."""
        if kind in RECORD_TABLES:
            rows = self._query(f"SELECT seq, record FROM {kind} ORDER BY seq")
            return [self._row(kind, seq, text, kind) for seq, text in rows]
        rows = self._query("SELECT seq, record FROM other_record WHERE type=? ORDER BY seq", [kind])
        return [self._row("other_record", seq, text, kind) for seq, text in rows]

    def all_records(self) -> list[Record]:
        """Every record of every type, in the order the pipeline emitted them."""
        tables = [*RECORD_TABLES, "other_record"]
        union = " UNION ALL ".join(f"SELECT seq, record, '{t}' FROM {t}" for t in tables)
        rows = self._query(f"{union} ORDER BY seq")
        return [
            self._row(table, seq, text, None if table == "other_record" else table)
            for seq, text, table in rows
        ]

    def commands_by_chunk(self) -> dict[int, list[Record]]:
        """Recorded commands keyed by the raw chunk they were applied with."""
        out: dict[int, list[Record]] = {}
        rows = self._query("SELECT seq, chunk_seq, record FROM command ORDER BY seq")
        for seq, chunk_seq, text in rows:
            if chunk_seq is not None and not isinstance(chunk_seq, int):
                raise SessionFileError(
                    f"'{self.path}' is damaged (table command, row {seq}: chunk {chunk_seq!r})"
                )
            key = -1 if chunk_seq is None else chunk_seq
            out.setdefault(key, []).append(self._row("command", seq, text, "command"))
        return out

    def wave_signals(self) -> list[tuple[str, str]]:
        """(channel, signal) of every recorded waveform, in name order."""
        rows = self._query("SELECT DISTINCT channel, signal FROM wave ORDER BY channel, signal")
        return [(str(channel), str(signal)) for channel, signal in rows]

    @_damaged_if_unreadable
    def wave_blocks(self, channel: str = "oximeter", signal: str = "pleth") -> list[WaveBlock]:
        rows = self._query(
            "SELECT id, t0, rate_hz, samples FROM wave WHERE channel=? AND signal=? "
            "ORDER BY t0, id",
            [channel, signal],
        )
        blocks = []
        for row_id, t0, rate, blob in rows:
            if not (_is_time(t0) and _is_time(rate) and rate > 0 and isinstance(blob, bytes)):
                raise SessionFileError(
                    f"'{self.path}' is damaged (table wave, row {row_id}: t0 {t0!r}, "
                    f"rate {rate!r}, samples of type {type(blob).__name__})"
                )
            samples = np.frombuffer(blob, dtype="<f4").copy()
            blocks.append(WaveBlock(channel, signal, t0, rate, samples))
        return blocks

    @property
    def protocols(self) -> dict[str, str]:
        """channel -> protocol name (checked to be that when the file was opened)."""
        return {str(k): str(v) for k, v in fields_of(self.meta.get("protocols")).items()}

    def duration_s(self) -> float:
        row = next(self._query("SELECT max(t) FROM raw"), (None,))
        if row[0] is not None and not _is_time(row[0]):
            raise SessionFileError(f"'{self.path}' is damaged (table raw: a time {row[0]!r})")
        return float(row[0] or 0.0)

    # -- the raw layer ---------------------------------------------------------------

    def chunks(self, batch: int = 5000) -> Iterator[tuple[int, Chunk]]:
        """(seq, chunk) in processing order, streamed in batches (hours of data)."""
        last = -1
        while True:
            rows = list(
                self._query(
                    "SELECT seq, t, channel, data, link_state, link_port, link_detail, "
                    "link_host_t FROM raw WHERE seq > ? ORDER BY seq LIMIT ?",
                    [last, batch],
                )
            )
            if not rows:
                return
            for seq, t, channel, data, state, port, detail, host_t in rows:
                if not _is_time(t) or not isinstance(channel, str) or not isinstance(data, bytes):
                    raise SessionFileError(
                        f"'{self.path}' is damaged (table raw, row {seq}: "
                        f"t {t!r}, channel {channel!r}, data of type {type(data).__name__})"
                    )
                link = None
                if state is not None:
                    try:
                        link = LinkEvent(port or "", LinkState(state), detail or "", host_t or 0.0)
                    except ValueError:
                        raise SessionFileError(
                            f"'{self.path}' is damaged (raw chunk {seq}: link state {state!r})"
                        ) from None
                yield seq, Chunk(t, channel, bytes(data), link)
            last = rows[-1][0]


def table_counts(reader: SessionReader) -> dict[str, int]:
    """Row count of every table (tests and `log --summary`-style checks)."""
    names: Iterable[str] = ("raw", "wave", "other_record", *RECORD_TABLES)
    return {n: next(reader._query(f"SELECT count(*) FROM {n}"))[0] for n in names}


def _is_sqlite(path: Path) -> bool:
    try:
        with open_regular(path) as f:  # never blocks on a FIFO given as --out
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


@contextlib.contextmanager
def reading_to_write(session: str | os.PathLike[str], out: Path) -> Iterator[SessionReader]:
    """Open a session to write something from it (export, report): never onto the session
    itself, and a file that cannot be written is one line."""
    with SessionReader(session) as reader:
        if str(out) != "-" and out.resolve() == reader.path.resolve():
            raise SessionFileError("--out names the session file itself")
        if _is_sqlite(out):
            raise SessionFileError(f"'{out}' is an SQLite file (a recording?); not overwriting it")
        try:
            yield reader
        except OSError as exc:
            raise SessionFileError(f"cannot write '{out}': {exc.strerror or exc}") from None
