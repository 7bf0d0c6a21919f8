"""`docintel scan --jobs N`: the same catalogue as one process; a killed worker costs one document; Ctrl-C/SIGTERM.

Real files (generated: reportlab PDFs, letters with made-up names and checksum-valid NHS numbers), real worker
processes, real signals; SQLite catalogues compared row by row.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from docintel import pipeline
from docintel.catalogue.store import RUN_INTERRUPTED, open_catalogue
from docintel.cli import main
from docintel.models import DocumentRecord
from docintel.pipeline import Engines, ScanItem, scan_source
from docintel.scan_pool import ScanWorkerFailed, ScanWorkerPool, default_jobs, scan_source_in_workers
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource
from tests.test_bad_input import make_pdf

REPO = Path(__file__).resolve().parents[1]
DOCINTEL = str(Path(sys.executable).with_name("docintel"))

# Made-up people; 943 476 5919 is a checksum-valid NHS number from the NHS's own test range.
LETTER = (
    "Wessex County Council, Adult Social Care, County Hall, Dorchester DT1 1XJ\n"
    "Dear Mr Oliver Pendleton,\n"
    "Re: care assessment for NHS number 943 476 5919, reference ASC-2024-{n:04d}.\n"
    "We met you at home on 12 March 2024 to review your care plan. Please call 01305 221000.\n"
    "Yours sincerely, Harriet Cole, Social Worker\n"
)
MINUTES = "Minutes of the Finance Committee held on {n} May 2023.\nPresent: Cllr Ruth Bellamy (chair).\n"

# Columns that differ between two scans of the same files whatever the process count: when and in which run.
TIMING_COLUMNS = {"first_seen_at", "processed_at", "run_id", "started_at", "seconds", "id"}


def write_share(root: Path, copies: int = 3) -> Path:
    """A small share: letters, minutes as PDFs, a corrupt PDF, an empty file, nested folders, links, a fifo."""
    (root / "Care" / "Assessments").mkdir(parents=True)
    (root / "Finance").mkdir()
    for n in range(copies):
        (root / "Care" / "Assessments" / f"letter-{n}.txt").write_text(LETTER.format(n=n), encoding="utf-8")
        (root / "Finance" / f"minutes-{n}.pdf").write_bytes(make_pdf(MINUTES.format(n=n + 1)))
    (root / "Finance" / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (root / "Finance" / "empty.docx").write_bytes(b"")
    (root / "Finance" / "latest.pdf").symlink_to(root / "Finance" / "minutes-0.pdf")
    (root / "Care" / "shortcut").symlink_to(root / "Finance")
    os.mkfifo(root / "Finance" / "pipe")
    return root


def catalogue_rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the document tables, timings and run ids left out, keyed and sorted by content."""
    tables = ("documents", "pages", "entities", "pii_findings", "stage_runs", "class_evidence", "document_signals")
    found: dict[str, list[tuple[object, ...]]] = {}
    with sqlite3.connect(database) as connection:
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')  # names from the fixed list above
            columns = [d[0] for d in cursor.description]
            keep = [i for i, name in enumerate(columns) if name not in TIMING_COLUMNS]
            found[table] = sorted((tuple(row[i] for i in keep) for row in cursor.fetchall()), key=repr)
    return found


@pytest.fixture(scope="module")
def engines() -> Engines:
    return Engines(settings=load_settings(REPO / "config"), pii_key=b"k" * 32)


def test_default_jobs_are_the_cores_this_process_may_use() -> None:
    assert default_jobs() == len(os.sched_getaffinity(0))


@pytest.mark.slow
def test_two_workers_write_the_same_catalogue_as_one_process(tmp_path: Path, engines: Engines) -> None:
    share = write_share(tmp_path / "share")
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    store = open_catalogue(f"sqlite:///{one}")
    single = scan_source(LocalFolderSource([share]), store, engines)
    store.close()
    store = open_catalogue(f"sqlite:///{two}")
    parallel = scan_source_in_workers(LocalFolderSource([share]), store, engines, jobs=2)
    store.close()

    assert (single.processed, single.ok, single.failed) == (parallel.processed, parallel.ok, parallel.failed)
    assert single.failures == parallel.failures == {"CorruptDocument": 1, "EmptyDocument": 1}
    assert single.passed_over == parallel.passed_over == {"SymbolicLink": 2, "SpecialFile": 1}
    rows_one, rows_two = catalogue_rows(one), catalogue_rows(two)
    assert len(rows_one["documents"]) == 6 + 2 + 3  # documents, failures, entries passed over
    assert rows_one["pii_findings"] and rows_one["entities"]
    for table in rows_one:
        assert rows_one[table] == rows_two[table], table


@pytest.mark.slow
def test_worker_logs_reach_the_parents_handlers(
    tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    for n in range(3):
        (share / f"letter-{n}.txt").write_text(LETTER.format(n=n), encoding="utf-8")
    caplog.set_level("INFO")
    store = open_catalogue(f"sqlite:///{tmp_path / 'c.db'}")
    scan_source_in_workers(LocalFolderSource([share]), store, engines, jobs=2)
    store.close()
    stored = [r for r in caplog.records if r.name == "docintel.pipeline" and r.getMessage().endswith(": ok")]
    assert len(stored) == 3
    assert "Pendleton" not in caplog.text and "943 476 5919" not in caplog.text


def _scan_process(share: Path, catalogue: str, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DOCINTEL_CONFIG_DIR": str(REPO / "config"),
        "DOCINTEL_PII_KEY": "scan-jobs-test-key-0123456789",
    }
    env.pop("DOCINTEL_CATALOGUE_URL", None)
    return subprocess.Popen(
        [DOCINTEL, "-vv", "scan", str(share), "--catalogue", catalogue, "--no-progress", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class LineWatcher(threading.Thread):
    """Reads a process's stderr as it comes, keeping every line (so the pipe never fills)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process, self.lines, self.cursor = process, [], 0  # type: ignore[var-annotated]
        self.start()

    def run(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match[str]:
        """The first line matching ``pattern`` after the previous match, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.cursor < len(self.lines):
                line = self.lines[self.cursor]
                self.cursor += 1
                if found := re.search(pattern, line):
                    return found
            ended = self.process.poll() is not None and not self.is_alive()
            assert not ended, "the scan ended first:\n" + "".join(self.lines[-30:])
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s")


def long_letters(share: Path, count: int) -> None:
    """Letters long enough (~1 s of NLP each) that a worker is caught in the middle of one."""
    share.mkdir(parents=True)
    for n in range(count):
        body = "".join(LETTER.format(n=n * 100 + k) for k in range(60))
        (share / f"letter-{n:02d}.txt").write_text(body, encoding="utf-8")


@pytest.mark.slow
def test_a_worker_killed_mid_document_costs_that_document_only(tmp_path: Path) -> None:
    share = tmp_path / "share"
    long_letters(share, 8)
    database = tmp_path / "c.db"
    scan = _scan_process(share, f"sqlite:///{database}", "--jobs", "2")
    watcher = LineWatcher(scan)
    # Wait until a document has been stored (workers warm), then kill the worker that takes the next one.
    watcher.wait_for(r"document \w+: ok")
    taken = watcher.wait_for(r"scan worker (\d+) reading document (\w+)")
    os.kill(int(taken.group(1)), signal.SIGKILL)
    stdout, _ = scan.communicate(timeout=600)
    watcher.join(timeout=10)

    assert scan.returncode == 1, stdout + "".join(watcher.lines[-30:])
    assert "WorkerCrashed" in stdout and "8 processed" in stdout
    with sqlite3.connect(database) as connection:
        rows = {doc_id: (status, error_type, message) for doc_id, status, error_type, message in
                connection.execute("SELECT id, status, error_type, error_message FROM documents")}  # fmt: skip
    assert len(rows) == 8
    status, error_type, message = rows[taken.group(2)]
    assert (status, error_type) == ("failed", "WorkerCrashed") and "SIGKILL" in message
    assert all(row[0] == "ok" for doc_id, row in rows.items() if doc_id != taken.group(2))


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_and_a_rerun_carries_on(tmp_path: Path, stop: signal.Signals) -> None:
    share = tmp_path / "share"
    long_letters(share, 12)
    database = tmp_path / "c.db"
    catalogue = f"sqlite:///{database}"
    scan = _scan_process(share, catalogue, "--jobs", "2")
    watcher = LineWatcher(scan)
    watcher.wait_for(r"document \w+: ok")
    workers = {int(pid) for line in watcher.lines for pid in re.findall(r"scan worker (\d+) started", line)}
    scan.send_signal(stop)
    stdout, _ = scan.communicate(timeout=60)
    watcher.join(timeout=10)

    assert scan.returncode == 130, stdout + "".join(watcher.lines[-30:])
    assert "Interrupted" in stdout and "Traceback" not in "".join(watcher.lines)
    assert len(workers) == 2
    for pid in workers:  # none left behind
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    store = open_catalogue(catalogue)
    run = store.recent_runs(1)[0]
    assert run["status"] == RUN_INTERRUPTED
    stored = run["counts"]["processed"]
    assert 0 < stored < 12
    store.close()

    again = _scan_process(share, catalogue, "--jobs", "2")
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    assert f"{12 - stored} processed, {stored} unchanged and skipped" in stdout


def test_a_worker_that_cannot_load_its_models_stops_the_scan_loudly(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config", environ={"DOCINTEL_RETENTION__CLASSIFIER": "rules"})
    engines = Engines(settings=settings, pii_key=b"k" * 32)

    def broken_warm() -> None:
        raise RuntimeError("model file missing")

    engines.warm = broken_warm  # type: ignore[method-assign]
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    pool = ScanWorkerPool(1, LocalFolderSource([tmp_path]), engines)
    item = ScanItem(next(LocalFolderSource([tmp_path]).discover()))
    with pytest.raises(ScanWorkerFailed, match="could not load its models"):
        pool.run([item], lambda _item, _record: None)


@pytest.mark.slow
def test_cli_scan_with_jobs_says_what_it_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DOCINTEL_PII_KEY", "test-key-not-secret")
    share = write_share(tmp_path / "share", copies=1)
    database = tmp_path / "c.db"
    result = CliRunner().invoke(main, ["scan", str(share), "--catalogue", f"sqlite:///{database}", "--jobs", "2"])
    assert result.exit_code == 1, result.output  # the corrupt and the empty file failed
    said = "Skipped 3: 2 symbolic links (not followed), 1 special file (fifo, socket, device)"
    assert said in result.output
    assert "Found 4 files (skipped 3: 2 symbolic links" in result.output
    with sqlite3.connect(database) as connection:
        passed = dict(connection.execute("SELECT name, error_type FROM documents WHERE error_type IN "
                                         "('SymbolicLink', 'SpecialFile')").fetchall())  # fmt: skip
    assert passed == {"latest.pdf": "SymbolicLink", "shortcut": "SymbolicLink", "pipe": "SpecialFile"}


def _hostile_process_document(record: DocumentRecord, content: bytes, engines: Engines) -> DocumentRecord:
    """Stands in for a parser that crashes the process or hangs in native code (the alarm blocked), by file name."""
    if record.provenance.name == "crash.pdf":
        faulthandler.disable()  # pytest's, inherited by the fork: it would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    if record.provenance.name == "hang.pdf":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return _real_process_document(record, content, engines)


_real_process_document = pipeline.process_document


def test_a_crashing_and_a_hanging_document_are_recorded_and_the_rest_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers are forked: the stand-in patched here is what they run.
    monkeypatch.setattr(pipeline, "process_document", _hostile_process_document)
    settings = load_settings(
        REPO / "config", environ={"DOCINTEL_PII__ENABLED": "false", "DOCINTEL_RETENTION__CLASSIFIER": "rules"}
    )
    engines = Engines(settings=settings, pii_key=b"k" * 32)
    for name in ("crash.pdf", "hang.pdf", "notice-1.txt", "notice-2.txt"):
        (tmp_path / name).write_text("Notice of road closure on Station Road.", encoding="utf-8")
    source = LocalFolderSource([tmp_path])
    results: dict[str, DocumentRecord | None] = {}
    pool = ScanWorkerPool(2, source, engines, hard_timeout=5)
    items = [ScanItem(provenance) for provenance in source.discover()]
    pool.run(items, lambda item, record: results.__setitem__(item.provenance.name, record))

    assert set(results) == {"crash.pdf", "hang.pdf", "notice-1.txt", "notice-2.txt"}
    crashed, hung = results["crash.pdf"], results["hang.pdf"]
    assert crashed is not None and crashed.error is not None and crashed.error.type == "WorkerCrashed"
    assert "killed by SIGSEGV (a crash in a parser)" in crashed.error.message
    assert hung is not None and hung.error is not None and hung.error.type == "ExtractionTimeout"
    assert "gave no answer in 5 s and was killed" in hung.error.message
    assert all(results[n] is not None and results[n].status.value == "ok" for n in ("notice-1.txt", "notice-2.txt"))  # type: ignore[union-attr]
    assert (pool.stats.crashed, pool.stats.timed_out, pool.stats.started) == (1, 1, 4)
