"""rq job for the ``invoices`` queue: a job id in, the same job id out.

The API stores the uploaded bytes in Redis under the job id (``docintel.api.jobs.content_key``) and the
job row in the catalogue; this job reads both, runs the extractor, writes the result to the catalogue and
sends the signed callback. Invoices have their own queue so RPA flows never wait behind bulk crawling:
start workers with ``invoices`` first in their queue list (rq serves queues in the order given).

A job never stays ``queued`` or ``running`` in the catalogue once rq has given up on it:

- an exception in the job: the runner records it (``InternalError``), rq's failure callback sees it recorded;
- a killed work horse (out of memory, ``kill -9``): ``invoice_horse_killed``, run by the worker that forked it,
  records ``WorkerKilled`` with the signal;
- a worker that died with its horse: rq's registry cleanup calls the failure callback (``WorkerLost``), or the
  next ``docintel worker`` on that host re-queues the job (``requeued``);
- anything else in rq's failed registry, or a job rq no longer holds: ``reconcile_invoice_jobs``, run at worker
  start and by ``docintel status``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from types import TracebackType
from typing import Any

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import AbandonedJobError, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from docintel.api.jobs import (
    QUEUE_NAME,
    RQ_BACKEND,
    InvoiceJobRunner,
    InvoiceJobStore,
    content_key,
    send_callback,
    warm_extractor,
)
from docintel.api.keys import ApiKeyStore
from docintel.api.settings import load_api_settings
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.defaults import INVOICE_LOST_JOB_GRACE_SECONDS
from docintel.settings import load_settings
from workers.queues import CALLBACKS, get_queue, job_options

__all__ = [
    "QUEUE_NAME",
    "RqCallbackQueue",
    "deliver_callback",
    "invoice_horse_killed",
    "invoice_job_failed",
    "process_invoice",
    "reconcile_invoice_jobs",
    "requeued",
    "warm",
]

WORKER_KILLED = "WorkerKilled"
WORKER_LOST = "WorkerLost"
JOB_LOST = "JobLost"


logger = logging.getLogger(__name__)

_stores: dict[str, CatalogueStore] = {}
_stores_lock = threading.Lock()


def _catalogue(url: str) -> CatalogueStore:
    # One store per catalogue per worker process: opening one runs the migration check.
    with _stores_lock:
        if url not in _stores:
            _stores[url] = open_catalogue(url)
        return _stores[url]


def warm() -> None:
    """Load the invoice extractor before the worker forks, so each job does not import it again."""
    warm_extractor()


def process_invoice(job_id: str) -> str:
    """Process one queued invoice job; returns the job id."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("process_invoice runs inside an rq worker")
    redis = job.connection
    settings = load_settings()
    api_settings = load_api_settings()
    store = _catalogue(settings.catalogue.url)
    jobs = InvoiceJobStore(store, api_settings.result_ttl_seconds)
    payload = redis.hgetall(content_key(job_id))
    if not payload or b"content" not in payload:
        logger.warning("invoice job %s: its file expired from Redis before a worker took it", job_id)
        if jobs.mark_running(job_id):
            jobs.fail(job_id, "ContentExpired", "the file expired before a worker took the job; submit it again")
        return job_id
    content, raw_name = payload[b"content"], payload.get(b"name", b"")
    # The API's connection does not decode responses: the values are bytes.
    assert isinstance(content, bytes) and isinstance(raw_name, bytes)
    runner = InvoiceJobRunner(jobs, ApiKeyStore(store), settings, api_settings, callbacks=RqCallbackQueue(redis))
    try:
        runner.run(job_id, content, raw_name.decode("utf-8", errors="replace"))
    finally:
        redis.delete(content_key(job_id))
    return job_id


class RqCallbackQueue:
    """Puts a finished invoice's callback on the rq `callbacks` queue, for a worker of its own.

    A receiver that answers slowly then holds a callbacks worker for its attempts, never an invoices worker:
    another client's invoice is not kept waiting behind it.
    """

    def __init__(self, connection: Redis) -> None:
        self._queue = get_queue(CALLBACKS, connection)

    def submit(self, job_id: str) -> str:
        """Enqueue the delivery of ``job_id``'s callback (the URL waits in the catalogue; only the id is queued)."""
        return str(self._queue.enqueue(deliver_callback, job_id, **job_options(CALLBACKS)).id)


def deliver_callback(job_id: str) -> str:
    """The callbacks queue's job: deliver one finished invoice's signed callback and record how it went."""
    settings = load_settings()
    api_settings = load_api_settings()
    store = _catalogue(settings.catalogue.url)
    send_callback(InvoiceJobStore(store, api_settings.result_ttl_seconds), ApiKeyStore(store), api_settings, job_id)
    return job_id


def _runner() -> InvoiceJobRunner:
    settings = load_settings()
    api_settings = load_api_settings()
    store = _catalogue(settings.catalogue.url)
    return InvoiceJobRunner(
        InvoiceJobStore(store, api_settings.result_ttl_seconds), ApiKeyStore(store), settings, api_settings
    )


def _is_invoice_job(job: Job) -> bool:
    return job.origin == QUEUE_NAME and (job.func_name or "").endswith("process_invoice")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def invoice_horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """rq's work-horse-killed handler: record in the catalogue that the process running an invoice was killed."""
    if not _is_invoice_job(job):
        return
    if os.WIFSIGNALED(ret_val):
        number = os.WTERMSIG(ret_val)
        cause = f"killed by signal {number} ({_signal_name(number)}; out of memory or stopped by an operator)"
    else:
        cause = f"exited with status {os.WEXITSTATUS(ret_val)} without recording an outcome"
    message = f"the worker process extracting this invoice was {cause}; submit it again"
    _runner().fail_lost(job.id, WORKER_KILLED, message)
    job.connection.delete(content_key(job.id))


def invoice_job_failed(
    job: Job, connection: Redis, exc_type: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """rq's failure callback: make sure the catalogue has an outcome (the runner records its own errors)."""
    if isinstance(value, AbandonedJobError):
        error_type, message = WORKER_LOST, "the worker running this invoice stopped before it finished; submit it again"
    else:
        error_type, message = "InternalError", "the invoice could not be processed (internal error)"
    _runner().fail_lost(job.id, error_type, message)
    connection.delete(content_key(job.id))


def requeued(job_id: str) -> None:
    """A job of a dead worker was put back on the queue: put its catalogue row back to queued, so it runs again."""
    _runner().jobs.mark_requeued(job_id)


def _failure_reason(job: Job) -> tuple[str, str]:
    result = job.latest_result()
    lines = ((result.exc_string if result else None) or "").strip().splitlines()
    last = lines[-1] if lines else ""
    if "Work-horse terminated unexpectedly" in last:
        return WORKER_KILLED, "the worker process extracting this invoice was killed; submit it again"
    if AbandonedJobError.__name__ in last:
        return WORKER_LOST, "the worker running this invoice stopped before it finished; submit it again"
    return "InternalError", "the invoice could not be processed (internal error)"


def reconcile_invoice_jobs(connection: Redis) -> int:
    """Fail catalogue jobs that rq failed or no longer holds but the catalogue still shows unfinished; how many."""
    runner = _runner()
    failed_registry = FailedJobRegistry(queue=Queue(QUEUE_NAME, connection=connection))
    reconciled = 0
    for job_id in failed_registry.get_job_ids():
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        error_type, message = _failure_reason(job)
        reconciled += runner.fail_lost(job_id, error_type, message)
    created_before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=INVOICE_LOST_JOB_GRACE_SECONDS)
    for job_id in runner.jobs.unfinished_ids(RQ_BACKEND, created_before):
        if not Job.exists(job_id, connection=connection):
            message = "the queue no longer holds this job (Redis lost it, or it expired unprocessed); submit it again"
            reconciled += runner.fail_lost(job_id, JOB_LOST, message)
    return reconciled
