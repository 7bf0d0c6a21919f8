"""Throughput bench: ``docintel scan --jobs 1`` (the one-process scan, the baseline) beside ``--jobs 2`` and more.

The documents are real, written by others: a fixed mix sampled from ../shared/evaldata (every k-th file of the
sorted corpus, so every folder and format is in it), copied to a temporary folder, or any folder given with
``--path``. Each repeat scans the mix once per job count into a fresh SQLite catalogue through the real CLI,
in alternating order (neighbours on a shared machine come and go), and the table gives medians over repeats:

- documents/s and pages/s (pages of every document read, attachments included, from the catalogue);
- the same per core (divided by the cores the run could use: min(jobs, cores)) and per CPU-second (the scan and
  its workers, user + system: the fair per-core figure on a machine others are using too);
- the scaling ratio: documents/s against ``--jobs 1``;
- peak RSS of the scan's largest process, of its largest worker, and of the whole tree (sampled);
- whether the catalogue equals the baseline's (id, status, error type, class, SHA-256 of every document).

The same documents through 1 and 2 rq worker processes wait for the share source (``kind: share`` through rq):
rq jobs read Graph sources only today, so local files cannot be enqueued.

Run from the project root: ``.venv/bin/python -m bench.scan_jobs [--mix 60] [--jobs 1,2] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

# Run as a script (python bench/scan_jobs.py) the project root is not on sys.path; as a module it is.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import format_bytes, format_table, require_evaldata
from bench.scan_evaldata import SCAN_EXIT_CODES, run_scan

# Files of the corpus that are ground truth or notes about it, not documents a council would hold.
_NOT_DOCUMENTS = {"SOURCE.md", "README.md", "labels.csv", "doc_type_labels.csv", "ground_truth.jsonl"}
_NOT_DOCUMENT_FOLDERS = {"groundtruth", "expected-structured-output", "box", "key", "comparisons"}


@dataclass
class JobsRun:
    """One scan of the mix with one job count."""

    jobs: int
    seconds: float
    cpu_seconds: float
    documents: int
    pages: int
    failed: int
    exit_code: int | None
    peak_rss_largest_process: int
    peak_rss_worker: int
    peak_rss_tree: int
    catalogue: list[tuple[str, str, str, str, str]]


def sample_mix(corpus: Path, count: int) -> list[Path]:
    """``count`` documents spread over the corpus: every k-th file of its sorted list (no ground-truth files)."""
    files = sorted(
        path
        for path in corpus.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and path.name not in _NOT_DOCUMENTS
        and not path.name.startswith(".")
        and not _NOT_DOCUMENT_FOLDERS.intersection(path.relative_to(corpus).parts)
    )
    if count >= len(files):
        return files
    step = len(files) / count
    return [files[int(index * step)] for index in range(count)]


def copy_mix(files: list[Path], corpus: Path, target: Path) -> None:
    """Copy the sampled files, keeping their folders (a scan reads regular files, never links)."""
    for path in files:
        destination = target / path.relative_to(corpus)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_run(database: Path) -> tuple[int, int, int, list[tuple[str, str, str, str, str]]]:
    """Documents read, pages, failures, and each document's (id, status, error, class, sha256) from a catalogue."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT id, status, coalesce(error_type, ''), coalesce(record_class, ''), coalesce(sha256, ''),"
            " coalesce(page_count, 0) FROM documents WHERE error_type NOT IN ('SymbolicLink', 'SpecialFile',"
            " 'PermissionDenied', 'PassedOver') OR error_type IS NULL"
        ).fetchall()
    catalogue = sorted((str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows)
    return len(rows), sum(int(r[5]) for r in rows), sum(1 for r in rows if r[1] == "failed"), catalogue


def scan_once(path: Path, jobs: int, workdir: Path, timeout: float) -> JobsRun:
    """Scan ``path`` with ``--jobs jobs`` into a fresh catalogue and read what it did."""
    database = workdir / f"jobs-{jobs}.db"
    database.unlink(missing_ok=True)
    cpu_before = _children_cpu_seconds()
    figures = run_scan(path, database, workdir / f"jobs-{jobs}.log", timeout, extra_args=["--jobs", str(jobs)])
    cpu = _children_cpu_seconds() - cpu_before
    documents, pages, failed, catalogue = read_run(database) if database.is_file() else (0, 0, 0, [])
    return JobsRun(
        jobs=jobs,
        seconds=figures.seconds,
        cpu_seconds=cpu,
        documents=documents,
        pages=pages,
        failed=failed,
        exit_code=figures.exit_code,
        peak_rss_largest_process=figures.peak_rss_largest_process,
        peak_rss_worker=figures.peak_rss_worker,
        peak_rss_tree=figures.peak_rss_tree,
        catalogue=catalogue,
    )


def render(runs: list[JobsRun], cores: int, mix: str) -> str:
    """Medians per job count, the one-process scan first as the baseline, then the scaling ratio."""
    by_jobs: dict[int, list[JobsRun]] = {}
    for run in runs:
        by_jobs.setdefault(run.jobs, []).append(run)
    baseline_jobs = min(by_jobs)
    baseline_rate = statistics.median(r.documents / r.seconds for r in by_jobs[baseline_jobs])
    baseline_catalogue = by_jobs[baseline_jobs][0].catalogue
    rows = []
    for jobs, group in sorted(by_jobs.items()):
        used = min(jobs, cores)
        seconds = statistics.median(r.seconds for r in group)
        docs_rate = statistics.median(r.documents / r.seconds for r in group)
        pages_rate = statistics.median(r.pages / r.seconds for r in group)
        docs_per_cpu = statistics.median(r.documents / r.cpu_seconds for r in group if r.cpu_seconds)
        pages_per_cpu = statistics.median(r.pages / r.cpu_seconds for r in group if r.cpu_seconds)
        same = all(r.catalogue == baseline_catalogue for r in group)
        name = f"scan --jobs {jobs}" + (" (baseline: one process)" if jobs == baseline_jobs else "")
        rows.append([
            name, str(len(group)), f"{seconds:,.1f}", f"{docs_rate:.3f}", f"{pages_rate:.2f}",
            f"{docs_rate / used:.3f}", f"{pages_rate / used:.2f}", f"{docs_per_cpu:.3f}", f"{pages_per_cpu:.2f}",
            f"{docs_rate / baseline_rate:.2f}x",
            format_bytes(max(r.peak_rss_largest_process for r in group)),
            format_bytes(max(r.peak_rss_worker for r in group)) if jobs > 1 else "-",
            format_bytes(max(r.peak_rss_tree for r in group)),
            "yes" if same else "NO",
        ])  # fmt: skip
    headers = [
        "run", "repeats", "wall s", "docs/s", "pages/s", "docs/s/core", "pages/s/core", "docs/CPU-s",
        "pages/CPU-s", "scaling", "peak RSS largest", "peak RSS worker", "peak RSS tree", "same catalogue",
    ]  # fmt: skip
    first = runs[0]
    title = (
        f"{mix}: {first.documents} documents, {first.pages} pages ({first.failed} failed); {cores} cores; "
        f"medians over repeats; load average now {os.getloadavg()[0]:.1f}"
    )
    return format_table(headers, rows, title=title)


def main(argv: list[str] | None = None) -> int:
    """Scan the mix with each job count, repeats times, and print the table."""
    parser = argparse.ArgumentParser(prog="bench.scan_jobs", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--path", type=Path, default=None, help="scan this folder as it is instead of the mix")
    parser.add_argument("--mix", type=int, default=60, help="documents sampled from the corpus (default 60)")
    parser.add_argument("--jobs", default="1,2", help="job counts to compare, comma-separated (default 1,2)")
    parser.add_argument("--repeats", type=int, default=3, help="scans per job count (default 3); medians are shown")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before one scan is killed")
    parser.add_argument("--json", type=Path, default=None, help="write every run's figures here as JSON")
    args = parser.parse_args(argv)
    job_counts = [int(value) for value in args.jobs.split(",")]
    cores = len(os.sched_getaffinity(0))

    with tempfile.TemporaryDirectory(prefix="scan-jobs-") as tmp:
        workdir = Path(tmp)
        if args.path is not None:
            path, mix = args.path, str(args.path)
        else:
            corpus = require_evaldata()
            files = sample_mix(corpus, args.mix)
            path = workdir / "mix"
            copy_mix(files, corpus, path)
            mix = f"real-document mix: {len(files)} files sampled evenly from evaldata"
        runs: list[JobsRun] = []
        for repeat in range(args.repeats):
            order = job_counts if repeat % 2 == 0 else list(reversed(job_counts))
            for jobs in order:
                run = scan_once(path, jobs, workdir, args.timeout)
                print(
                    f"repeat {repeat + 1} --jobs {jobs}: {run.seconds:.1f} s, {run.documents} documents, "
                    f"exit {run.exit_code}",
                    file=sys.stderr,
                )
                if run.exit_code not in SCAN_EXIT_CODES:
                    print(f"FAIL: scan --jobs {jobs} exited {run.exit_code}", file=sys.stderr)
                    return 1
                runs.append(run)
    print(render(runs, cores, mix))
    if args.json:
        figures = [{k: v for k, v in asdict(run).items() if k != "catalogue"} for run in runs]
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
