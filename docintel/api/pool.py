"""The worker processes the in-process queue extracts invoices in: rebuilt when one dies, tied to the server's life.

A worker that dies (the kernel's OOM killer, a segfault in a parser) breaks a ``ProcessPoolExecutor`` for good:
every job in it fails with ``BrokenProcessPool``, and so would every later one. :class:`ExtractionPool` replaces
the broken executor at once, then runs each job that was in flight again, alone in a process of its own, so
the one that killed its worker is known for certain and fails with :class:`ExtractionCrashed`; the others
succeed. Its :meth:`~ExtractionPool.health` is what ``/healthz`` reports.

Workers die with the server: each sets ``PR_SET_PDEATHSIG`` (Linux) and watches its parent, so a ``kill -9`` of
the server leaves no orphaned process holding hundreds of MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from docintel.errors import DocintelError

logger = logging.getLogger(__name__)

# prctl(2) option: the signal the kernel sends this process when the thread that forked it exits.
_PR_SET_PDEATHSIG = 1
# How often a worker checks that the server is still there (the fallback where PDEATHSIG is missing).
_PARENT_CHECK_SECONDS = 1.0

PoolState = Literal["ok", "broken", "closed"]


class ExtractionCrashed(DocintelError):
    """The process extracting this file died: it ran out of memory or crashed in a parser."""

    http_status = 422


class ExtractionTimedOut(DocintelError):
    """Reading the file took longer than the job timeout."""

    http_status = 422


class ExtractionUnavailable(DocintelError):
    """The worker processes cannot be started: nothing can be extracted until they can."""

    retryable = True
    http_status = 503


def _die_with(server_pid: int) -> None:
    """Make this worker exit when the server (or the fork server between them) goes, however it goes."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent went between the two lines above: the signal will never come
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_PARENT_CHECK_SECONDS)
            if os.getppid() != parent or not _alive(server_pid):
                os._exit(1)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_init(server_pid: int, warm: Callable[[], None]) -> None:
    # One tesseract thread per process: measured 6x faster than its own threading on 2 cores.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    _die_with(server_pid)
    warm()


class ExtractionPool:
    """A process pool that survives the death of a worker, and says how it is."""

    def __init__(self, workers: int, timeout_seconds: float, warm: Callable[[], None], preload: list[str]) -> None:
        # forkserver: forking a server full of threads (event loop, thread pools) can deadlock the child.
        self._context = multiprocessing.get_context("forkserver")
        # The fork server imports the extractor once; every worker forked from it starts warm.
        self._context.set_forkserver_preload(preload)
        self._workers = workers
        self._timeout = timeout_seconds
        self._warm = warm
        self._lock = threading.Lock()
        self._state: PoolState = "ok"
        self._rebuilds = 0
        self._crashes = 0
        self._executor: ProcessPoolExecutor | None = self._build(workers)

    def _build(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self._context, initializer=_worker_init, initargs=(os.getpid(), self._warm)
        )

    def warm(self) -> None:
        """Start every worker and load the extractor in each, so the first request is not slow."""
        executor = self._current()
        futures = [executor.submit(self._warm) for _ in range(self._workers)]
        for future in futures:
            future.result(timeout=self._timeout)

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a worker; ExtractionCrashed when this very call killed its worker."""
        executor = self._current()
        try:
            future: Future[Any] = executor.submit(function, *args)
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            # The worker goes on until the parser returns; the job is answered now.
            raise ExtractionTimedOut(f"reading the file took longer than {self._timeout:g} s") from None
        except BrokenProcessPool:
            self._replace(executor)
        # Every call in flight in the broken pool lands here, the guilty one and the innocent: run this one
        # again alone, where dying can only be its own doing.
        return self._run_alone(function, *args)

    def _run_alone(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            solo = self._build(1)
        except OSError as exc:
            raise ExtractionUnavailable(f"a worker process could not be started ({type(exc).__name__})") from exc
        try:
            return solo.submit(function, *args).result(timeout=self._timeout)
        except FutureTimeout:
            raise ExtractionTimedOut(f"reading the file took longer than {self._timeout:g} s") from None
        except BrokenProcessPool:
            with self._lock:
                self._crashes += 1
            logger.warning("an invoice killed the process extracting it (out of memory or a parser crash)")
            raise ExtractionCrashed(
                "the process reading this file died (it ran out of memory or crashed in a parser); "
                "the file was not read and other jobs were not affected"
            ) from None
        finally:
            solo.shutdown(wait=False, cancel_futures=True)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._state == "closed" or self._executor is None:
                raise ExtractionUnavailable("the extraction pool is shut down")
            if self._state == "broken":
                self._rebuild_locked()
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not broken or self._state == "closed":
                return  # another job's thread already replaced it
            logger.warning("an extraction worker died; replacing the process pool")
            broken.shutdown(wait=False, cancel_futures=True)
            self._state = "broken"
            self._rebuild_locked()

    def _rebuild_locked(self) -> None:
        try:
            self._executor = self._build(self._workers)
        except OSError as exc:
            logger.error("the extraction pool could not be rebuilt: %s", type(exc).__name__)
            raise ExtractionUnavailable(f"worker processes could not be started ({type(exc).__name__})") from exc
        self._state = "ok"
        self._rebuilds += 1

    def health(self) -> dict[str, Any]:
        """State for /healthz: ok, broken (workers could not be restarted) or closed; rebuilds and crashes."""
        with self._lock:
            return {
                "state": self._state,
                "workers": self._workers,
                "rebuilds": self._rebuilds,
                "crashed_jobs": self._crashes,
            }

    @property
    def working(self) -> bool:
        """Whether a job submitted now can run."""
        with self._lock:
            return self._state == "ok"

    def close(self) -> None:
        """Let running work finish, then stop the workers."""
        with self._lock:
            executor, self._executor, self._state = self._executor, None, "closed"
        if executor is not None:
            executor.shutdown(wait=True)
