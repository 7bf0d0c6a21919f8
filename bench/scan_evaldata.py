"""Robustness bench: ``docintel scan`` over the whole of ../shared/evaldata into a throwaway SQLite catalogue.

Runs the real CLI as a subprocess, measures its wall time and peak memory (the largest single process, from
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it exits, and the whole process tree sampled from /proc while
it runs), then reads the catalogue and prints how many documents were read, how many failed and why, and
any crash: a scan that exits with an exception, or a document left without a final status.

Targets: zero crashes; peak memory < 1.5 GB.

Run from the project root: ``.venv/bin/python -m bench.scan_evaldata [--path DIR] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Run as a script (python bench/scan_evaldata.py) the project root is not on sys.path; as a module it is.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench._common import (
    children_peak_rss_bytes,
    current_rss_bytes,
    format_bytes,
    format_table,
    project_root,
    require_evaldata,
)

TARGET_PEAK_RSS_BYTES = 1.5e9
# The scan exits 0 when every document succeeded and 1 when some failed; anything else is a crash.
SCAN_EXIT_CODES = (0, 1)
# Final statuses a document may have after a scan; any other (or none) means the scan lost it mid-way.
FINAL_STATUSES = ("ok", "failed", "deleted")
# How often the process tree's memory is sampled.
SAMPLE_SECONDS = 0.5
SCAN_TIMEOUT_SECONDS = 3 * 3600


@dataclass
class ScanFigures:
    """What one scan of the corpus measured."""

    path: str
    exit_code: int | None
    seconds: float
    peak_rss_largest_process: int
    peak_rss_tree: int
    files_on_disk: int
    top_level_documents: int = 0
    child_documents: int = 0
    ok: int = 0
    failed: int = 0
    failed_by_error: dict[str, int] = field(default_factory=dict)
    failed_by_type: dict[str, int] = field(default_factory=dict)
    no_final_status: int = 0
    traceback_in_output: bool = False
    timed_out: bool = False
    peak_rss_worker: int = 0  # the largest descendant process (a `scan --jobs` worker), sampled

    @property
    def crashes(self) -> int:
        """Scan-level crashes (exception exit, traceback, timeout) plus documents left without a final status."""
        scan_crashed = self.exit_code not in SCAN_EXIT_CODES or self.traceback_in_output or self.timed_out
        return int(scan_crashed) + self.no_final_status


def descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name in parentheses may hold spaces: the parent pid is the 2nd field after ')'
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


class TreeMemorySampler(threading.Thread):
    """Samples the RSS of a process and its descendants until stopped; keeps the summed peak and the largest child's."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.peak_descendant = 0  # the largest single descendant (a `scan --jobs` worker) at any sample
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Sample until stop() is called."""
        while not self._stop_event.is_set():
            children = [current_rss_bytes(pid) for pid in descendants(self.pid)]
            self.peak = max(self.peak, current_rss_bytes(self.pid) + sum(children))
            self.peak_descendant = max(self.peak_descendant, *children, 0)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._stop_event.set()
        self.join()


def docintel_command() -> list[str]:
    """The docintel CLI of the venv running this bench."""
    script = Path(sys.executable).parent / "docintel"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from docintel.cli import main; main()"]


def scan_environment() -> dict[str, str]:
    """The scan's environment: the project's config, and a throwaway PII key unless one is set."""
    env = dict(os.environ)
    env.setdefault("DOCINTEL_CONFIG_DIR", str(project_root() / "config"))
    # The catalogue keeps keyed hashes only; a random key for a throwaway catalogue is exactly right.
    env.setdefault("DOCINTEL_PII_KEY", secrets.token_hex(32))
    env.pop("DOCINTEL_CATALOGUE_URL", None)
    return env


def run_scan(
    path: Path, database: Path, log: Path, timeout: float = SCAN_TIMEOUT_SECONDS, extra_args: Sequence[str] = ()
) -> ScanFigures:
    """Scan ``path`` into a SQLite catalogue at ``database``, measuring time and memory; ``extra_args`` go to scan."""
    command = [
        *docintel_command(), "scan", str(path), "--catalogue", f"sqlite:///{database}", "--no-progress", *extra_args
    ]  # fmt: skip
    files_on_disk = sum(1 for item in path.rglob("*") if item.is_file())
    start = time.perf_counter()
    timed_out = False
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=scan_environment())
        sampler = TreeMemorySampler(process.pid)
        sampler.start()
        try:
            exit_code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()
            process.wait()
            exit_code = None
        finally:
            sampler.stop()
    seconds = time.perf_counter() - start
    figures = ScanFigures(
        path=str(path),
        exit_code=exit_code,
        seconds=seconds,
        peak_rss_largest_process=children_peak_rss_bytes(),
        peak_rss_tree=sampler.peak,
        peak_rss_worker=sampler.peak_descendant,
        files_on_disk=files_on_disk,
        timed_out=timed_out,
    )
    figures.traceback_in_output = b"Traceback (most recent call last)" in log.read_bytes()
    if database.is_file():
        read_catalogue(database, figures)
    return figures


def read_catalogue(database: Path, figures: ScanFigures) -> None:
    """Count documents by status, error type and file type from the catalogue the scan wrote."""
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, error_type, file_type, depth FROM documents WHERE NOT deleted")
            ).all()
    finally:
        engine.dispose()
    by_error: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for status, error_type, file_type, depth in rows:
        if depth:
            figures.child_documents += 1
        else:
            figures.top_level_documents += 1
        if status == "ok":
            figures.ok += 1
        elif status == "failed":
            figures.failed += 1
            by_error[error_type or "?"] += 1
            by_type[file_type or "?"] += 1
        elif status not in FINAL_STATUSES:
            figures.no_final_status += 1
    figures.failed_by_error = dict(by_error.most_common())
    figures.failed_by_type = dict(by_type.most_common())


def render(figures: ScanFigures) -> str:
    """The scan's figures as a table, failures by kind, and the targets."""
    rows = [
        ["files on disk", str(figures.files_on_disk)],
        ["documents (top level)", str(figures.top_level_documents)],
        ["documents (attachments, archive members)", str(figures.child_documents)],
        ["ok", str(figures.ok)],
        ["failed", str(figures.failed)],
        ["without a final status", str(figures.no_final_status)],
        ["scan exit code", "timeout" if figures.timed_out else str(figures.exit_code)],
        ["traceback in scan output", "yes" if figures.traceback_in_output else "no"],
        ["wall time", f"{figures.seconds:,.1f} s"],
        ["files per second", f"{figures.files_on_disk / figures.seconds:.2f}" if figures.seconds else "-"],
        ["peak RSS, largest process", format_bytes(figures.peak_rss_largest_process)],
        ["peak RSS, process tree (sampled)", format_bytes(figures.peak_rss_tree)],
    ]
    parts = [format_table(["docintel scan " + figures.path, "value"], rows)]
    if figures.failed_by_error:
        parts.append(
            format_table(
                ["failed by error type", "documents"], [[kind, str(n)] for kind, n in figures.failed_by_error.items()]
            )
        )
    if figures.failed_by_type:
        parts.append(
            format_table(
                ["failed by file type", "documents"], [[kind, str(n)] for kind, n in figures.failed_by_type.items()]
            )
        )
    peak = max(figures.peak_rss_largest_process, figures.peak_rss_tree)
    parts.append(
        "Targets:\n"
        f"  [{'PASS' if figures.crashes == 0 else 'FAIL'}] zero crashes: {figures.crashes}\n"
        f"  [{'PASS' if peak < TARGET_PEAK_RSS_BYTES else 'FAIL'}] peak memory < 1.5 GB: {format_bytes(peak)}"
    )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Scan the corpus and print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        prog="bench.scan_evaldata", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--path", type=Path, default=None, help="folder to scan (default: the whole evaldata corpus)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here as JSON")
    parser.add_argument("--keep", type=Path, default=None, help="keep the catalogue and scan log in this folder")
    parser.add_argument("--timeout", type=float, default=SCAN_TIMEOUT_SECONDS, help="seconds before the scan is killed")
    args = parser.parse_args(argv)

    path = args.path or require_evaldata()
    if not path.is_dir():
        print(f"SKIP: {path} is not a folder", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="scan-evaldata-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        database = workdir / "catalogue.db"
        database.unlink(missing_ok=True)
        print(f"scanning {path} (log: {workdir / 'scan.log'})", file=sys.stderr)
        figures = run_scan(path, database, workdir / "scan.log", args.timeout)
        if figures.traceback_in_output or figures.exit_code not in SCAN_EXIT_CODES:
            tail = (workdir / "scan.log").read_text(errors="replace").splitlines()[-15:]
            print("scan output (last lines):\n  " + "\n  ".join(tail), file=sys.stderr)
    print(render(figures))
    if args.json:
        args.json.write_text(json.dumps({**asdict(figures), "crashes": figures.crashes}, indent=2), encoding="utf-8")
    peak = max(figures.peak_rss_largest_process, figures.peak_rss_tree)
    return 0 if figures.crashes == 0 and peak < TARGET_PEAK_RSS_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
