"""``docintel scan --jobs N``: documents read in N worker processes, the catalogue written by this process alone.

How it works, and why:

- Each worker is a process forked from the scan, holding its own models (spaCy, Presidio, the classifier), loaded
  once before its first document. It is handed one :class:`~docintel.pipeline.ScanItem` at a time over a pipe and
  runs :func:`~docintel.pipeline.prepare_item` on it (fetch, sniff, extract, OCR, enrich, classify, retain, mask
  labels): everything heavy. It answers with the prepared record and the log records it made, which the parent
  re-emits, so ``-v`` and ``--log-json`` show them as before.
- The parent alone writes the catalogue, one transaction per document, in the order results arrive: SQLite has
  one writer, and the rows are the rows a one-process scan writes (same stages, same code). A kill loses at most
  the documents in hand; a re-run skips what was stored (unchanged content, by SHA-256).
- One document per worker at a time, so a worker that dies (the kernel's out-of-memory killer, a segfault in a
  parser, ``kill -9``) names its document for certain: it is recorded failed as ``WorkerCrashed`` with the signal
  or exit status, a new worker takes the dead one's place, and the run goes on. A worker that gives no answer in
  ``limits.document_timeout_seconds`` x 2 + 60 s (stuck in native code that ignores the in-process alarm) is
  killed and its document recorded ``ExtractionTimeout``.
- Workers ignore Ctrl-C (the terminal sends it to the whole process group): the parent stops them and records the
  run as interrupted. They die with the parent however it dies (``PR_SET_PDEATHSIG``, and a watch on the parent).

The same hardening as :mod:`docintel.api.pool` (PDEATHSIG, one tesseract thread per process), written for a scan:
that pool answers HTTP requests and cannot tell which job killed a worker; here each worker holds one document.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from docintel.errors import DocintelError, ExtractionTimeout, WorkerCrashed
from docintel.models import DocumentRecord, Provenance
from docintel.pipeline import (
    Engines,
    RunSummary,
    ScanItem,
    not_read_item,
    prepare_item,
    scan_items,
    store_prepared,
)
from docintel.sources.base import SourceConnector
from docintel.sources.local import PassedOverEntry

if TYPE_CHECKING:
    from docintel.catalogue.store import CatalogueStore

logger = logging.getLogger(__name__)

# prctl(2) option: the signal the kernel sends this process when the thread that forked it exits.
_PR_SET_PDEATHSIG = 1
# How often a worker checks that the scan is still there (the fallback where PDEATHSIG is missing).
_PARENT_CHECK_SECONDS = 1.0
# A worker silent this long past the document's own time budget is stuck in native code: it is killed.
HARD_TIMEOUT_FACTOR = 2.0
HARD_TIMEOUT_GRACE_SECONDS = 60.0
# How long stopping workers may take before they are killed.
STOP_SECONDS = 5.0


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ScanWorkerFailed(DocintelError):
    """A scan worker could not start (its models would not load) or hit a bug: the scan stops, loudly."""

    exit_code = 2


# --- the worker side ------------------------------------------------------------------------------


class _LogCollector(logging.Handler):
    """Keeps a worker's log records, made picklable, until they are sent to the parent with the next answer."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)

    def drain(self) -> list[logging.LogRecord]:
        records, self.records = self.records, []
        return records


def _die_with(parent_pid: int) -> None:
    """Make this worker exit when the scan goes, however it goes (kill -9 included)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the scan went between fork and prctl: the signal will never come
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_PARENT_CHECK_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="scan-watch", daemon=True).start()


def _worker_main(connection: Connection, source: SourceConnector, engines: Engines, parent_pid: int) -> None:
    """A worker's life: load the models, then prepare one item per message until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the scan decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent_pid)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one tesseract thread per process: measured 6x faster
    collector = _LogCollector()
    root = logging.getLogger()
    root.handlers = [collector]
    try:
        engines.warm()
    except BaseException as exc:
        error = exc if isinstance(exc, DocintelError) else None
        connection.send(("fatal", error, traceback.format_exc(), collector.drain()))
        os._exit(1)
    connection.send(("ready", None, None, collector.drain()))
    while True:
        try:
            item = connection.recv()
        except (EOFError, OSError):
            os._exit(0)
        if item is None:
            os._exit(0)
        try:
            record = prepare_item(item, source, engines)
        except Exception:  # a bug: the scan fails loudly, as it does in one process
            connection.send(("bug", None, traceback.format_exc(), collector.drain()))
            os._exit(1)
        connection.send(("done", record, None, collector.drain()))


# --- the parent side ------------------------------------------------------------------------------


@dataclass
class _Worker:
    """A worker process as the parent sees it: its pipe, and the item it holds since when."""

    process: BaseProcess
    connection: Connection
    ready: bool = False
    item: ScanItem | None = None
    started: float = 0.0

    @property
    def busy(self) -> bool:
        return not self.ready or self.item is not None


@dataclass
class PoolStats:
    """What the pool went through: workers started, crashed and timed out documents."""

    started: int = 0
    crashed: int = 0
    timed_out: int = 0
    worker_pids: list[int] = field(default_factory=list)


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return f"killed by {name} (the kernel's out-of-memory killer, or an operator)"
        return f"killed by {name} (a crash in a parser)" if -exitcode == signal.SIGSEGV else f"killed by {name}"
    return f"exited with status {exitcode}"


class ScanWorkerPool:
    """N worker processes preparing scan items; results handed back, in arrival order, to the catalogue's writer."""

    def __init__(
        self, jobs: int, source: SourceConnector, engines: Engines, *, hard_timeout: float | None = None
    ) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self.source = source
        self.engines = engines
        self.stats = PoolStats()
        timeout = engines.settings.limits.document_timeout_seconds
        if hard_timeout is None and timeout > 0:
            hard_timeout = timeout * HARD_TIMEOUT_FACTOR + HARD_TIMEOUT_GRACE_SECONDS
        #: seconds a worker may hold one document before it is killed (None: no limit)
        self.hard_timeout = hard_timeout
        # fork: the scan is single-threaded here, and a forked worker needs nothing pickled to start.
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, self.source, self.engines, os.getpid()),
            name="docintel-scan-worker",
            daemon=True,
        )
        process.start()
        child_end.close()
        self.stats.started += 1
        assert process.pid is not None
        self.stats.worker_pids.append(process.pid)
        logger.debug("scan worker %s started", process.pid)
        return _Worker(process, parent_end)

    def run(self, items: Iterable[ScanItem], on_result: Callable[[ScanItem, DocumentRecord | None], None]) -> None:
        """Prepare every item in the workers and call ``on_result`` in this process for each, as each is ready."""
        queue: deque[ScanItem] = deque()
        source: Iterator[ScanItem] = iter(items)
        first = next(source, None)
        if first is None:
            return
        queue.append(first)
        self._workers = [self._start_worker() for _ in range(self.jobs)]
        try:
            while True:
                self._dispatch(queue, source)
                busy = [worker for worker in self._workers if worker.busy]
                if not busy and not queue:
                    return
                waitables: list[Any] = [w.connection for w in busy] + [w.process.sentinel for w in busy]
                wait(waitables, timeout=self._wait_seconds(busy))
                for worker in busy:
                    self._collect(worker, queue, on_result)
        finally:
            self.close()

    def _dispatch(self, queue: deque[ScanItem], source: Iterator[ScanItem]) -> None:
        for worker in self._workers:
            if not worker.ready or worker.item is not None:
                continue
            if not queue:
                following = next(source, None)
                if following is None:
                    return
                queue.append(following)
            item = queue.popleft()
            try:
                worker.connection.send(item)
            except OSError:  # it died idle, between two documents: the item goes to its replacement
                queue.appendleft(item)
                worker.process.join(timeout=STOP_SECONDS)
                logger.warning("an idle scan worker died (%s); replaced", _death_reason(worker.process.exitcode))
                self._swap(worker)
                continue
            worker.item, worker.started = item, time.monotonic()
            logger.debug("scan worker %s reading document %s", worker.process.pid, item.document_id)

    def _wait_seconds(self, busy: list[_Worker]) -> float | None:
        if self.hard_timeout is None:
            return None
        deadlines = [w.started + self.hard_timeout for w in busy if w.item is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _collect(
        self,
        worker: _Worker,
        queue: deque[ScanItem],
        on_result: Callable[[ScanItem, DocumentRecord | None], None],
    ) -> None:
        """Take a worker's answer if it has one; replace it if it died or overran."""
        try:
            has_answer = worker.connection.poll()
            message = worker.connection.recv() if has_answer else None
        except (EOFError, OSError):
            message = None
        if message is not None:
            kind, payload, details, records = message
            for record in records:
                logging.getLogger(record.name).handle(record)
            if kind == "ready":
                worker.ready = True
                return
            if kind == "done":
                item, worker.item = worker.item, None
                assert item is not None
                on_result(item, payload)
                return
            # "fatal" (models would not load) or "bug": the scan stops, as a one-process scan would
            if isinstance(payload, DocintelError):
                raise payload
            what = "could not load its models" if kind == "fatal" else "hit a bug"
            raise ScanWorkerFailed(f"a scan worker {what}:\n{details}")
        if not worker.process.is_alive():
            self._replace_dead(worker, queue)
        elif worker.item is not None and self.hard_timeout and time.monotonic() - worker.started > self.hard_timeout:
            self._replace_stuck(worker, queue)

    def _replace_dead(self, worker: _Worker, queue: deque[ScanItem]) -> None:
        worker.process.join(timeout=STOP_SECONDS)
        reason = _death_reason(worker.process.exitcode)
        if not worker.ready:
            raise ScanWorkerFailed(f"a scan worker died while loading its models: {reason}")
        item = worker.item
        self._swap(worker)
        if item is None:
            logger.warning("an idle scan worker died (%s); replaced", reason)
            return
        self.stats.crashed += 1
        logger.warning(
            "document %s: its scan worker died (%s); recorded failed, worker replaced", item.document_id, reason
        )
        error = WorkerCrashed(
            f"the worker process reading this document was {reason}; nothing of it was stored "
            "(a file that exhausts memory or crashes a parser); the rest of the scan went on"
        )
        # Recorded by a worker like any entry, so its name and path are masked before they are stored.
        queue.appendleft(not_read_item(item, error))

    def _replace_stuck(self, worker: _Worker, queue: deque[ScanItem]) -> None:
        item = worker.item
        assert item is not None and self.hard_timeout is not None
        worker.process.kill()
        worker.process.join(timeout=STOP_SECONDS)
        self._swap(worker)
        self.stats.timed_out += 1
        logger.warning(
            "document %s: its scan worker gave no answer in %.0f s; killed", item.document_id, self.hard_timeout
        )
        error = ExtractionTimeout(
            f"the worker process reading this document gave no answer in {self.hard_timeout:g} s and was killed "
            "(limits.document_timeout_seconds x 2 + 60 s); the rest of the scan went on"
        )
        queue.appendleft(not_read_item(item, error))

    def _swap(self, dead: _Worker) -> None:
        with contextlib.suppress(OSError):
            dead.connection.close()
        self._workers[self._workers.index(dead)] = self._start_worker()

    def close(self) -> None:
        """Stop every worker: ask, then terminate, then kill whatever is left (documents in hand are dropped)."""
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.item is None and worker.ready:
                with contextlib.suppress(OSError, ValueError):
                    worker.connection.send(None)
            else:
                worker.process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            with contextlib.suppress(OSError):
                worker.connection.close()


def scan_source_in_workers(
    source: SourceConnector,
    store: CatalogueStore,
    engines: Engines,
    *,
    jobs: int,
    force: bool = False,
    progress: Callable[[Provenance], None] | None = None,
    discovered: list[Provenance] | None = None,
    passed_over: Sequence[PassedOverEntry] | None = None,
) -> RunSummary:
    """:func:`~docintel.pipeline.scan_source` with the documents read in ``jobs`` worker processes.

    The catalogue ends as a one-process scan leaves it (same rows, timings apart). Ctrl-C or SIGTERM (raised here
    as KeyboardInterrupt) stops the workers, drops the documents in hand, records the run as interrupted and
    re-raises; a re-run skips what was stored.
    """
    started = time.time()
    summary = RunSummary(run_id=store.start_run(source.name))
    items = discovered if discovered is not None else list(source.discover())
    if passed_over is None:
        passed_over = list(getattr(source, "skipped", []))
    summary.discovered = len(items)
    work = scan_items(store, items, passed_over, force=force)
    pool = ScanWorkerPool(min(jobs, max(1, len(items) + len(passed_over))), source, engines)

    def stored(item: ScanItem, record: DocumentRecord | None) -> None:
        store_prepared(item, record, store, summary)
        if progress and item.passed_over is None:
            progress(item.provenance)

    status = "finished"
    try:
        pool.run(work, stored)
    except KeyboardInterrupt:
        status, summary.interrupted = "interrupted", True
        raise
    finally:
        summary.seconds = time.time() - started
        store.finish_run(summary.run_id, summary.as_dict(), status=status)
    return summary
