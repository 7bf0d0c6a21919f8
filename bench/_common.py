"""Helpers shared by the benches: where the evaluation data lives, timing, memory and table printing.

The evaluation corpus sits beside the project (``../shared/evaldata``) and is never copied into it; a
fresh clone has no such folder, so every bench calls :func:`require_evaldata` and exits cleanly with a
message saying what is missing.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

# Overrides the evaluation data location, e.g. on a machine where the corpus is mounted elsewhere.
ENV_EVALDATA = "DOCINTEL_EVALDATA"
# Exit status of a bench that skipped because its data is absent: success, so CI stays green.
SKIP_EXIT_CODE = 0

T = TypeVar("T")


def project_root() -> Path:
    """The project folder (the one holding ``pyproject.toml`` and ``bench/``)."""
    return Path(__file__).resolve().parent.parent


def evaldata_dir() -> Path:
    """Where the evaluation corpus should be: $DOCINTEL_EVALDATA, else ``../shared/evaldata`` from the project."""
    override = os.environ.get(ENV_EVALDATA)
    if override:
        return Path(override)
    return project_root().parent / "shared" / "evaldata"


def require_evaldata(*subfolders: str) -> Path:
    """The evaluation corpus folder; prints why and exits when it (or a needed subfolder) is absent."""
    root = evaldata_dir()
    missing = [root / name for name in subfolders if not (root / name).is_dir()]
    if not root.is_dir() or missing:
        absent = root if not root.is_dir() else ", ".join(str(path) for path in missing)
        print(
            f"SKIP: evaluation data not found ({absent}). Benches read ../shared/evaldata beside the project "
            f"(or ${ENV_EVALDATA}); a fresh clone has none.",
            file=sys.stderr,
        )
        raise SystemExit(SKIP_EXIT_CODE)
    return root


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """Call ``function`` once; return its result and the wall seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def median_seconds(function: Callable[[], object], repeat: int = 3, warmup: int = 0) -> float:
    """Median wall time of ``repeat`` calls, after ``warmup`` untimed calls (noisy machines: use the median)."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    for _ in range(warmup):
        function()
    samples = [timed(function)[1] for _ in range(repeat)]
    return statistics.median(samples)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its waited-for children (user + system)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def children_peak_rss_bytes() -> int:
    """Largest peak RSS of any waited-for child process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def self_peak_rss_bytes() -> int:
    """Peak RSS of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process now (this one by default), from /proc; 0 when it has gone."""
    status = Path(f"/proc/{pid or os.getpid()}/status")
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def format_bytes(size: float) -> str:
    """A byte count as MB (decimal megabytes are what people compare against limits like 1.5 GB)."""
    return f"{size / 1e6:,.0f} MB"


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, or None when either side is missing or the divisor is zero."""
    if ours is None or theirs is None or theirs == 0 or math.isnan(ours) or math.isnan(theirs):
        return None
    return ours / theirs


def fmt(value: float | int | str | None, digits: int = 3) -> str:
    """A table cell: '-' for missing values, fixed decimals for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> str:
    """A plain-text table with columns sized to their widest cell; first column left-aligned, others right."""
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out.append(line(headers))
    out.append("  ".join("-" * width for width in widths))
    out.extend(line(row) for row in rows)
    return "\n".join(out)
