"""Sessions on disk: the SQLite store, the recorder, replay, and what reads a session
(log, export, report)."""
