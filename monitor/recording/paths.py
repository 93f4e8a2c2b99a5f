"""Where the GUI keeps its sessions when no `--record FILE` is given."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


def sessions_dir() -> Path:
    """$XDG_DATA_HOME/vitalmon/sessions, or ~/.local/share/vitalmon/sessions."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "vitalmon" / "sessions"


def default_session_path(now: datetime | None = None) -> Path:
    """A new file name in `sessions_dir()` (created 0700), named by UTC start time."""
    folder = sessions_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"session-{stamp}.vitalmon"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"session-{stamp}-{n}.vitalmon"
    return path
