"""The session file's schema: one SQLite file per session, version 1.

Two layers. RAW keeps every chunk the pipeline processed (data time, channel,
bytes, link events): replay feeds it back through the real decoders. DECODED
keeps every record by type (as the headless JSON, plus t and wall for queries)
and the pleth waveform in blocks: `log`, `export` and `report` read it
directly. Record rows share one sequence (`seq`) so the emission order across
tables can be rebuilt exactly.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Record types with a table of their own; anything else goes to `other_record`.
RECORD_TABLES = ("numerics", "nibp", "alarm", "event", "command")

TABLES = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);  -- value: JSON
CREATE TABLE raw (
    seq INTEGER PRIMARY KEY,        -- order the pipeline processed the chunks in
    t REAL NOT NULL,                -- data time, s since session start
    channel TEXT NOT NULL,          -- '' = a pure clock tick
    data BLOB NOT NULL,
    link_state TEXT,                -- set for link events (then data is empty)
    link_port TEXT,
    link_detail TEXT,
    link_host_t REAL
);
CREATE TABLE numerics (seq INTEGER PRIMARY KEY, t REAL NOT NULL, wall TEXT NOT NULL,
                       record TEXT NOT NULL);
CREATE TABLE nibp (seq INTEGER PRIMARY KEY, t REAL NOT NULL, wall TEXT NOT NULL,
                   record TEXT NOT NULL);
CREATE TABLE alarm (seq INTEGER PRIMARY KEY, t REAL NOT NULL, wall TEXT NOT NULL,
                    alarm_id TEXT, state TEXT, record TEXT NOT NULL);
CREATE TABLE event (seq INTEGER PRIMARY KEY, t REAL NOT NULL, wall TEXT NOT NULL,
                    kind TEXT, record TEXT NOT NULL);
CREATE TABLE command (seq INTEGER PRIMARY KEY, t REAL NOT NULL, wall TEXT NOT NULL,
                      name TEXT NOT NULL,
                      chunk_seq INTEGER,  -- raw.seq of the chunk it was applied with
                      record TEXT NOT NULL);
CREATE TABLE other_record (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, t REAL NOT NULL,
                           wall TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE wave (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,          -- e.g. 'oximeter'
    signal TEXT NOT NULL,           -- e.g. 'pleth'
    t0 REAL NOT NULL,               -- data time of the first sample
    rate_hz REAL NOT NULL,
    samples BLOB NOT NULL           -- little-endian float32, NaN = no sample
);
CREATE INDEX raw_t ON raw (t);
CREATE INDEX numerics_t ON numerics (t);
CREATE INDEX alarm_t ON alarm (t);
CREATE INDEX wave_t ON wave (channel, signal, t0);
"""
