"""Shared by the benchmark scripts: the machine line every figure is quoted with."""

from __future__ import annotations

import os
import platform
import resource


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def peak_rss_mb() -> float:
    """Peak resident set of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def verdict(value: float, budget: float, lower_is_better: bool = True) -> str:
    ok = value <= budget if lower_is_better else value >= budget
    return "within budget" if ok else "OVER BUDGET"
