"""Recordings crafted as valid SQLite whose rows do not fit: every reader (`replay`,
`log`, `export`, `report`) checks each row into its record type at the boundary
(monitor/records.py) and ends in one stderr line naming the table and row, exit 1,
never a traceback (they were `KeyError: 't'`, `TypeError: 'int' object is not
subscriptable`, `OverflowError: date value out of range`, ...)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from tests.conftest import run_vitalmon

# (what is wrong, the SQL that makes it so, the readers that read that row and so must
# refuse the file, what the line names). The CSV export reads numerics only, the
# report no waveform.
REPLAY = ("replay", "--headless", "--speed", "max")
LOG_ALARMS, LOG_EVENTS = ("log", "--alarms"), ("log", "--events")
LOG_NUMERICS, LOG_COMMANDS = ("log", "--numerics"), ("log", "--commands")
EXPORT, REPORT = ("export", "--format", "csv", "--out"), ("report", "--out")
EXPORT_EDF = ("export", "--format", "edf", "--out")
FIRST = "seq = (SELECT min(seq) FROM {t})"
CASES = [
    (
        "an alarm record without t",
        f"UPDATE alarm SET record = json_remove(record, '$.t') WHERE {FIRST.format(t='alarm')}",
        [LOG_ALARMS, REPORT],
        "table alarm",
    ),
    (
        "an int where a record belongs",
        f"UPDATE command SET record = '5' WHERE {FIRST.format(t='command')}",
        [REPLAY, LOG_COMMANDS, REPORT],
        "table command",
    ),
    (
        "a time given as 'soon'",
        f"UPDATE event SET record = json_set(record, '$.t', 'soon') "
        f"WHERE {FIRST.format(t='event')}",
        [LOG_EVENTS, REPORT],
        "table event",
    ),
    (
        "a command without a name",
        f"UPDATE command SET record = json_remove(record, '$.name') "
        f"WHERE {FIRST.format(t='command')}",
        [REPLAY, LOG_COMMANDS, REPORT],
        "table command",
    ),
    (
        "command args that are a list",
        f"UPDATE command SET record = json_set(record, '$.args', json('[1]')) "
        f"WHERE {FIRST.format(t='command')}",
        [REPLAY, LOG_COMMANDS],
        "table command",
    ),
    (
        "a SpO2 that is text",
        "UPDATE numerics SET record = json_set(record, '$.spo2', 'x') WHERE seq = "
        "(SELECT min(seq) FROM numerics)",
        [LOG_NUMERICS, EXPORT, REPORT],
        "table numerics",
    ),
    (
        "metadata that is not key-value pairs",
        "UPDATE meta SET value = '[1, 2]' WHERE key = 'source'",
        [REPLAY, LOG_ALARMS, EXPORT, REPORT],
        "session metadata",
    ),
    (
        "a wall time out of range",
        "UPDATE meta SET value = '\"9999-12-31T23:59:59+00:00\"' WHERE key = 'wall_start'",
        [REPLAY, LOG_NUMERICS, EXPORT, REPORT],
        "session metadata",
    ),
    (
        "a raw chunk at time 'soon'",
        "UPDATE raw SET t = 'soon' WHERE seq = 5",
        [REPLAY],
        "table raw",
    ),
    (
        "a wave block at time 'soon'",
        "UPDATE wave SET t0 = 'soon' WHERE id = (SELECT min(id) FROM wave)",
        [EXPORT_EDF],
        "table wave",
    ),
]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crafted")
    commands = folder / "cmds.jsonl"
    commands.write_text(
        json.dumps({"cmd": "mark_event", "kind": "note", "text": "calm", "at": 3})
        + "\n"
        + json.dumps({"cmd": "set_limit", "alarm_id": "PR_HIGH", "threshold": 110, "at": 4})
        + "\n"
    )
    path = folder / "s.vitalmon"
    made = run_vitalmon(
        "run",
        "--sim",
        "steady",
        "--headless",
        "--speed",
        "max",
        "--duration",
        "20",
        "--record",
        str(path),
        "--commands",
        str(commands),
    )
    assert made.returncode == 0, made.stderr
    return path


@pytest.mark.parametrize(("what", "sql", "refusing", "names"), CASES, ids=[c[0] for c in CASES])
def test_a_row_that_does_not_fit_is_one_line(session, tmp_path, what, sql, refusing, names):
    crafted = tmp_path / "crafted.vitalmon"
    shutil.copy(session, crafted)
    with sqlite3.connect(crafted) as db:
        assert db.execute(sql).rowcount == 1, what
    readers = (REPLAY, LOG_ALARMS, LOG_EVENTS, LOG_NUMERICS, LOG_COMMANDS, EXPORT, EXPORT_EDF)
    for i, reader in enumerate((*readers, REPORT)):
        argv = [reader[0], str(crafted), *reader[1:]]
        if reader in (EXPORT, EXPORT_EDF, REPORT):
            argv.append(str(tmp_path / f"out-{i}"))
        result = run_vitalmon(*argv, timeout=60)
        assert "Traceback" not in result.stderr, (what, reader, result.stderr)
        if reader in refusing:
            assert result.returncode == 1, (what, reader, result.stdout[-300:])
            assert result.stderr.count("\n") == 1, (what, reader, result.stderr)
            assert "damaged" in result.stderr and names in result.stderr, result.stderr
        else:
            assert result.returncode in (0, 1), (what, reader, result.stderr)
