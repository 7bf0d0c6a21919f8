"""Invoice jobs: their rows in the catalogue, the runner that processes one, and the two queues that feed it.

    POST /v1/invoices ──▶ InvoiceJobStore.create (row: queued) ──▶ queue.submit(job id, bytes, name)
        LocalInvoiceQueue  bounded thread pool in the server (extraction in worker processes or threads); the
                           bytes spooled to disk until the outcome is stored, the server's heartbeat in the
                           catalogue, so a server started after a crash resumes the jobs
        RqInvoiceQueue     bytes to Redis under the job id, ``workers.invoices.process_invoice(job id)`` on
                           the rq ``invoices`` queue
    InvoiceJobRunner.run ──▶ running ──▶ extract_invoice ──▶ succeeded | failed ──▶ signed callback
                             (in-process: handed to CallbackSender's own threads; rq: sent by the work horse)

The catalogue is the one place a job's state lives, so any server can answer ``GET /v1/jobs/{id}`` for a
job any worker ran. The document bytes are never stored there, and results are cleared after their TTL.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, insert, or_, select, update

from docintel.api.callbacks import ADDRESS_NOT_ALLOWED, CallbackOutcome, deliver
from docintel.api.errors import ServiceBusy
from docintel.api.keys import ApiKeyStore
from docintel.api.pool import ExtractionPool
from docintel.api.schemas import CallbackInfo, ErrorInfo, JobStatus, JobView
from docintel.api.servers import ServerHeartbeat, live_servers
from docintel.api.settings import ApiSettings
from docintel.api.spool import UploadSpool
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import DocintelError
from docintel.settings import Settings

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)

QUEUE_NAME = "invoices"
RQ_BACKEND = "rq"
LOCAL_BACKEND_PREFIX = "local:"
_CONTENT_PREFIX = "docintel:invoice:"
# A retry-after hint for clients told the in-process queue is full: about one job's time.
_BUSY_RETRY_SECONDS = 2.0

CALLBACK_PENDING = "pending"
CALLBACK_DELIVERED = "delivered"
CALLBACK_FAILED = "failed"
CALLBACK_REFUSED = "refused"

# Serialises extraction inside one process (see LocalInvoiceQueue._extract).
_IN_PROCESS_EXTRACTION = threading.Lock()

# (content, file name, settings, the submitting key's id: whose supplier profiles apply) -> result JSON
ExtractFunction = Callable[[bytes, str, Settings, str | None], dict[str, Any]]


def new_job_id() -> str:
    """A job id: 32 hex characters, valid as an rq job id and in a URL path."""
    return uuid.uuid4().hex


def content_key(job_id: str) -> str:
    """The Redis key holding a queued job's bytes and file name."""
    return f"{_CONTENT_PREFIX}{job_id}"


def extract_invoice_json(
    content: bytes, name: str, settings: Settings, api_key_id: str | None = None
) -> dict[str, Any]:
    """Run the invoice extractor and return its result as JSON-ready data (a top-level function, so picklable).

    The supplier profiles are the shared ones plus those the submitting key's own corrections made.
    """
    from docintel.invoices import extract_invoice
    from docintel.invoices.extract import PROFILE_FOLDER
    from docintel.invoices.profiles import profiles_for_key

    profiles = profiles_for_key(settings.config_path(PROFILE_FOLDER), api_key_id)
    result = extract_invoice(content, name, settings=settings, profiles=profiles)
    data = result.model_dump(mode="json")
    # The layout never appears in API answers (the model excludes it), but corrections learn labels from it.
    data["layout"] = [line.model_dump(mode="json") for line in result.layout]
    return data


def warm_extractor() -> None:
    """Import the invoice extractor, so the first job does not pay for it."""
    import docintel.invoices  # noqa: F401


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class InvoiceJob:
    """A job row as the API and the runner see it."""

    id: str
    api_key_id: str
    status: JobStatus
    backend: str
    created_at: dt.datetime
    file_type: str | None = None
    mime_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    callback_url: str | None = None
    callback_status: str | None = None
    callback_attempts: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    seconds: float | None = None
    result: dict[str, Any] | None = None
    error_type: str | None = None
    error_message: str | None = None
    corrections: dict[str, Any] | None = None
    corrected_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    resumes: int = 0

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> InvoiceJob:
        """Build from a catalogue row."""
        values = {name: row[name] for name in cls.__dataclass_fields__ if name in row}
        values["status"] = JobStatus(row["status"])
        values["callback_attempts"] = row["callback_attempts"] or 0
        values["resumes"] = row.get("resumes") or 0
        return cls(**values)

    def view(self) -> JobView:
        """The job as the API answers it (never the callback URL)."""
        return JobView(
            id=self.id,
            status=self.status,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            seconds=self.seconds,
            file_type=self.file_type,
            size=self.size,
            result=self.result,  # type: ignore[arg-type]  # validated into InvoiceResult by pydantic
            error=ErrorInfo(type=self.error_type, message=self.error_message or "") if self.error_type else None,
            callback=CallbackInfo(
                status=self.callback_status,
                attempts=self.callback_attempts,
                detail=ADDRESS_NOT_ALLOWED if self.callback_status == CALLBACK_REFUSED else None,
            )
            if self.callback_status
            else None,
            corrected=self.corrections is not None,
            expires_at=self.expires_at,
        )


class InvoiceJobStore:
    """Reads and writes invoice job rows through the catalogue's engine."""

    def __init__(self, store: CatalogueStore, result_ttl_seconds: int) -> None:
        self._store = store
        self._result_ttl = dt.timedelta(seconds=result_ttl_seconds)

    @property
    def catalogue(self) -> CatalogueStore:
        """The catalogue these jobs live in."""
        return self._store

    def create(
        self,
        *,
        api_key_id: str,
        backend: str,
        file_type: str,
        mime_type: str,
        size: int,
        sha256: str,
        callback_url: str | None,
        job_id: str | None = None,
    ) -> InvoiceJob:
        """Record a new queued job."""
        row: dict[str, Any] = {
            "id": job_id or new_job_id(),
            "api_key_id": api_key_id,
            "status": JobStatus.QUEUED.value,
            "backend": backend,
            "file_type": file_type,
            "mime_type": mime_type,
            "size": size,
            "sha256": sha256,
            "callback_url": callback_url,
            "callback_status": CALLBACK_PENDING if callback_url else None,
            "callback_attempts": 0,
            "created_at": _now(),
        }
        with self._store.transaction("create invoice job", write=True) as connection:
            connection.execute(insert(t.invoice_jobs).values(row))
        return InvoiceJob.from_row(row)

    def get(self, job_id: str, api_key_id: str | None = None) -> InvoiceJob | None:
        """A job, or None; with ``api_key_id``, only when that client submitted it."""
        query = select(t.invoice_jobs).where(t.invoice_jobs.c.id == job_id)
        if api_key_id is not None:
            query = query.where(t.invoice_jobs.c.api_key_id == api_key_id)
        with self._store.transaction("read invoice job") as connection:
            row = connection.execute(query).mappings().one_or_none()
        return InvoiceJob.from_row(row) if row else None

    def _update(self, job_id: str, action: str, values: dict[str, Any], *conditions: Any) -> bool:
        query = update(t.invoice_jobs).where(t.invoice_jobs.c.id == job_id, *conditions).values(values)
        with self._store.transaction(action, write=True) as connection:
            return bool(connection.execute(query).rowcount)

    def mark_running(self, job_id: str) -> bool:
        """Move a queued job to running; False when it was not queued (already taken, or gone)."""
        return self._update(
            job_id,
            "start invoice job",
            {"status": JobStatus.RUNNING.value, "started_at": _now()},
            t.invoice_jobs.c.status == JobStatus.QUEUED.value,
        )

    def succeed(self, job_id: str, result: dict[str, Any], seconds: float) -> None:
        """Store a job's result."""
        now = _now()
        values = {
            "status": JobStatus.SUCCEEDED.value,
            "result": result,
            "seconds": seconds,
            "finished_at": now,
            "expires_at": now + self._result_ttl,
        }
        self._update(job_id, "store invoice result", values)

    def fail(self, job_id: str, error_type: str, message: str, seconds: float | None = None) -> None:
        """Record why a job failed (a safe message: no document text)."""
        now = _now()
        values = {
            "status": JobStatus.FAILED.value,
            "error_type": error_type,
            "error_message": message,
            "seconds": seconds,
            "finished_at": now,
            "expires_at": now + self._result_ttl,
        }
        self._update(job_id, "record invoice failure", values)

    def fail_unfinished(self, job_id: str, error_type: str, message: str) -> bool:
        """Fail a job still queued or running (a worker died under it); False when it already has an outcome."""
        now = _now()
        values = {
            "status": JobStatus.FAILED.value,
            "error_type": error_type,
            "error_message": message,
            "finished_at": now,
            "expires_at": now + self._result_ttl,
        }
        unfinished = t.invoice_jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        return self._update(job_id, "record lost invoice job", values, unfinished)

    def mark_requeued(self, job_id: str) -> bool:
        """Put a running job back to queued (its worker died and rq re-queued it); False when it was not running."""
        return self._update(
            job_id,
            "requeue invoice job",
            {"status": JobStatus.QUEUED.value, "started_at": None},
            t.invoice_jobs.c.status == JobStatus.RUNNING.value,
        )

    def unfinished_ids(self, backend: str, created_before: dt.datetime) -> list[str]:
        """Ids of ``backend``'s jobs created before ``created_before`` and still queued or running."""
        query = select(t.invoice_jobs.c.id).where(
            t.invoice_jobs.c.backend == backend,
            t.invoice_jobs.c.created_at < created_before,
            t.invoice_jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        )
        with self._store.transaction("read unfinished invoice jobs") as connection:
            return [str(row[0]) for row in connection.execute(query)]

    def record_callback(self, job_id: str, outcome: CallbackOutcome) -> None:
        """Record how the callback went and forget its URL (a Power Automate URL carries its own secret)."""
        status = CALLBACK_DELIVERED if outcome.delivered else CALLBACK_REFUSED if outcome.refused else CALLBACK_FAILED
        values = {"callback_status": status, "callback_attempts": outcome.attempts, "callback_url": None}
        self._update(job_id, "record callback", values)

    def save_corrections(self, job_id: str, corrections: dict[str, Any]) -> None:
        """Store corrections submitted for a job."""
        self._update(job_id, "store corrections", {"corrections": corrections, "corrected_at": _now()})

    def purge_expired(self) -> int:
        """Clear results, corrections and callback URLs of jobs past their expiry; returns how many."""
        query = (
            update(t.invoice_jobs)
            .where(t.invoice_jobs.c.expires_at <= _now(), t.invoice_jobs.c.status != JobStatus.EXPIRED.value)
            .values(status=JobStatus.EXPIRED.value, result=None, corrections=None, callback_url=None)
        )
        with self._store.transaction("purge invoice results", write=True) as connection:
            count = int(connection.execute(query).rowcount)
        if count:
            logger.info("cleared %d expired invoice result(s)", count)
        return count

    def orphaned(self, live_backends: set[str]) -> list[InvoiceJob]:
        """In-process jobs of servers not in ``live_backends``: unfinished, or finished with a callback pending."""
        c = t.invoice_jobs.c
        unfinished = c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        callback_pending = and_(c.callback_status == CALLBACK_PENDING, c.callback_url.is_not(None))
        query = (
            select(t.invoice_jobs)
            .where(c.backend.like(f"{LOCAL_BACKEND_PREFIX}%"), c.backend.not_in(sorted(live_backends)))
            .where(or_(unfinished, callback_pending))
            .order_by(c.created_at)
        )
        with self._store.transaction("read orphaned invoice jobs") as connection:
            return [InvoiceJob.from_row(row) for row in connection.execute(query).mappings()]

    def take_over(self, job: InvoiceJob, backend: str, *, requeue: bool) -> bool:
        """Claim a stopped server's job for ``backend`` (queued again when ``requeue``); False if another got it."""
        values: dict[str, Any] = {"backend": backend}
        if requeue:
            values |= {"status": JobStatus.QUEUED.value, "started_at": None, "resumes": job.resumes + 1}
        return self._update(
            job.id,
            "take over invoice job",
            values,
            t.invoice_jobs.c.backend == job.backend,
            t.invoice_jobs.c.status == job.status.value,
        )

    def fail_orphan(self, job: InvoiceJob, error_type: str, message: str) -> bool:
        """Fail a stopped server's job that cannot be resumed; False if another server already dealt with it."""
        now = _now()
        values = {
            "status": JobStatus.FAILED.value,
            "error_type": error_type,
            "error_message": message,
            "finished_at": now,
            "expires_at": now + self._result_ttl,
        }
        return self._update(
            job.id,
            "fail abandoned invoice job",
            values,
            t.invoice_jobs.c.backend == job.backend,
            t.invoice_jobs.c.status == job.status.value,
        )


def send_callback(jobs: InvoiceJobStore, keys: ApiKeyStore, api_settings: ApiSettings, job_id: str) -> None:
    """Deliver a finished job's signed callback, if it asked for one, and record how that went."""
    job = jobs.get(job_id)
    if job is None or not job.callback_url or job.callback_status != CALLBACK_PENDING:
        return
    client = keys.client(job.api_key_id)
    if client is None:
        jobs.record_callback(job_id, CallbackOutcome(delivered=False, attempts=0))
        return
    body = job.view().model_dump_json().encode("utf-8")
    outcome = deliver(job.callback_url, job_id, body, client.signing_secret, api_settings)
    jobs.record_callback(job_id, outcome)


class CallbackSubmitter(Protocol):
    """Where a finished job's callback goes: a thread pool in `docintel serve`, the rq callbacks queue on workers."""

    def submit(self, job_id: str) -> object:
        """Deliver the job's callback later, apart from extraction; return at once."""


class CallbackSender:
    """Delivers callbacks on their own bounded thread pool, so a slow receiver never holds an extraction slot."""

    def __init__(self, jobs: InvoiceJobStore, keys: ApiKeyStore, api_settings: ApiSettings) -> None:
        self._jobs = jobs
        self._keys = keys
        self._api = api_settings
        self._threads = ThreadPoolExecutor(max_workers=api_settings.callback_workers, thread_name_prefix="callback")

    def submit(self, job_id: str) -> Future[None]:
        """Queue the job's callback; returns at once (the URL waits in the catalogue, only the id is queued)."""
        return self._threads.submit(self._send, job_id)

    def _send(self, job_id: str) -> None:
        try:
            send_callback(self._jobs, self._keys, self._api, job_id)
        except Exception:
            # A catalogue outage, say: the callback stays pending in the catalogue and the next start resends it.
            logger.exception("callback for job %s could not be sent", job_id)

    def close(self) -> None:
        """Let callbacks in flight finish (each bounded by its attempts and per-attempt timeout)."""
        self._threads.shutdown(wait=True, cancel_futures=False)


class InvoiceJobRunner:
    """Processes one job: running, extraction, result or failure, then the signed callback."""

    def __init__(
        self,
        jobs: InvoiceJobStore,
        keys: ApiKeyStore,
        settings: Settings,
        api_settings: ApiSettings,
        extract: ExtractFunction = extract_invoice_json,
        *,
        callbacks: CallbackSubmitter | None = None,
    ) -> None:
        self._jobs = jobs
        self._keys = keys
        self._settings = settings
        self._api = api_settings
        self._extract = extract
        # Without a sender (an rq work horse, which exits after its job) the callback is sent inline.
        self._callbacks = callbacks

    @property
    def jobs(self) -> InvoiceJobStore:
        """The job rows this runner writes."""
        return self._jobs

    def run(
        self, job_id: str, content: bytes, name: str, finished: Callable[[JobStatus], object] | None = None
    ) -> JobStatus:
        """Process the job and return its final status; a job already taken by another worker is left alone.

        ``finished`` is called once the outcome is stored, before the callback is delivered, so a request
        waiting inline is not held up by a slow receiver.
        """
        if not self._jobs.mark_running(job_id):
            job = self._jobs.get(job_id)
            logger.warning("invoice job %s was not queued (%s); skipped", job_id, job.status if job else "missing")
            return job.status if job else JobStatus.FAILED
        started = time.perf_counter()
        owner = self._jobs.get(job_id)
        try:
            result = self._extract(content, name, self._settings, owner.api_key_id if owner else None)
        except DocintelError as error:
            seconds = time.perf_counter() - started
            logger.info("invoice job %s failed: %s after %.2f s", job_id, error.kind, seconds)
            self._jobs.fail(job_id, error.kind, error.message, seconds)
            status = JobStatus.FAILED
        except Exception as error:
            # A bug: record it so the client is not left polling forever, then fail loudly.
            self._jobs.fail(job_id, "InternalError", "the invoice could not be processed (internal error)")
            logger.exception("invoice job %s crashed: %s", job_id, type(error).__name__)
            if finished is not None:
                finished(JobStatus.FAILED)
            self._send_callback(job_id)
            raise
        else:
            seconds = time.perf_counter() - started
            self._jobs.succeed(job_id, result, seconds)
            logger.info("invoice job %s succeeded in %.2f s", job_id, seconds)
            status = JobStatus.SUCCEEDED
        if finished is not None:
            finished(status)
        self._send_callback(job_id)
        return status

    def fail_lost(self, job_id: str, error_type: str, message: str) -> bool:
        """Fail a job whose worker died before storing an outcome, and tell its callback; False if it had one."""
        if not self._jobs.fail_unfinished(job_id, error_type, message):
            return False
        logger.warning("invoice job %s failed: %s", job_id, error_type)
        self._send_callback(job_id)
        return True

    def _send_callback(self, job_id: str) -> None:
        if self._callbacks is not None:
            self._callbacks.submit(job_id)
        else:
            send_callback(self._jobs, self._keys, self._api, job_id)


class LocalInvoiceQueue:
    """A bounded in-process queue: jobs run on ``workers`` threads, extraction in threads or worker processes.

    With a spool folder, each job's bytes are on disk before the client is answered, and a server started after
    this one stopped (``kill -9`` included) resumes its queued and running jobs; see docs/invoices.md.
    """

    def __init__(
        self,
        jobs: InvoiceJobStore,
        keys: ApiKeyStore,
        settings: Settings,
        api_settings: ApiSettings,
    ) -> None:
        self.backend = f"{LOCAL_BACKEND_PREFIX}{uuid.uuid4().hex[:16]}"
        self._jobs = jobs
        self._api = api_settings
        self._max_pending = api_settings.max_pending_jobs
        self._pending = 0
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=api_settings.workers, thread_name_prefix="invoice-job")
        self._processes: ExtractionPool | None = None
        if api_settings.pool == "process":
            self._processes = ExtractionPool(
                api_settings.workers, api_settings.job_timeout_seconds, warm_extractor, ["docintel.invoices"]
            )
        self._spool = UploadSpool(api_settings.spool_dir) if api_settings.spool_dir else None
        self._callbacks = CallbackSender(jobs, keys, api_settings)
        self._runner = InvoiceJobRunner(jobs, keys, settings, api_settings, self._extract, callbacks=self._callbacks)
        self._heartbeat = ServerHeartbeat(
            jobs.catalogue, self.backend, api_settings.heartbeat_seconds, on_beat=self.take_over_stopped_servers
        )
        self._closing = threading.Event()

    def _extract(self, content: bytes, name: str, settings: Settings, api_key_id: str | None) -> dict[str, Any]:
        if self._processes is None:
            # PDFium is not thread-safe (two threads opening PDFs segfaulted the server under load): in
            # thread mode one extraction runs at a time; the process pool is the parallel mode.
            with _IN_PROCESS_EXTRACTION:
                return extract_invoice_json(content, name, settings, api_key_id)
        result: dict[str, Any] = self._processes.run(extract_invoice_json, content, name, settings, api_key_id)
        return result

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._pending

    def submit(self, job_id: str, content: bytes, name: str) -> Future[JobStatus]:
        """Queue a job; the future resolves once its outcome is stored. ServiceBusy when the queue is full."""
        with self._lock:
            if self._pending >= self._max_pending:
                raise ServiceBusy("the invoice queue is full; try again shortly", retry_after=_BUSY_RETRY_SECONDS)
            self._pending += 1
        try:
            if self._spool is not None:
                self._spool.put(job_id, content, name)
        except OSError:
            with self._lock:
                self._pending -= 1
            raise
        return self._start(job_id, content, name)

    def _start(self, job_id: str, content: bytes, name: str) -> Future[JobStatus]:
        outcome: Future[JobStatus] = Future()
        work = self._threads.submit(self._run, job_id, content, name, outcome.set_result)
        work.add_done_callback(lambda done: self._release(done, outcome))
        return outcome

    def _run(self, job_id: str, content: bytes, name: str, finished: Callable[[JobStatus], object]) -> JobStatus:
        try:
            return self._runner.run(job_id, content, name, finished)
        finally:
            if self._spool is not None:
                self._spool.discard(job_id)

    def _release(self, work: Future[JobStatus], outcome: Future[JobStatus]) -> None:
        with self._lock:
            self._pending -= 1
        if not outcome.done():
            # The runner stopped before storing an outcome (a crash in the catalogue, say): wake the waiter.
            error = work.exception()
            if error is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(work.result())

    def take_over_stopped_servers(self) -> tuple[int, int]:
        """Resume the jobs of servers whose heartbeat stopped when their bytes are in the spool, else fail them.

        Returns (resumed, failed). Each job is claimed with a conditional update, so two servers never both
        take it; a job already resumed ``max_resumes`` times is failed (it may be what kills its servers).
        Finished jobs whose callback was still pending get it sent from here.
        """
        if self._closing.is_set():
            return 0, 0  # shutting down: this server takes on nothing new
        live = live_servers(self._jobs.catalogue, self._api.heartbeat_timeout_seconds) | {self.backend}
        resumed = failed = 0
        for job in self._jobs.orphaned(live):
            if job.status.finished:
                if self._jobs.take_over(job, self.backend, requeue=False):
                    self._callbacks.submit(job.id)
                continue
            kept = self._spool.get(job.id) if self._spool is not None else None
            if kept is not None and job.resumes < self._api.max_resumes:
                if self._jobs.take_over(job, self.backend, requeue=True):
                    with self._lock:
                        self._pending += 1
                    self._start(job.id, *kept)
                    resumed += 1
                continue
            reason = (
                "the server stopped twice while this job ran; submit the invoice again"
                if kept is not None
                else "the server stopped before this job finished and its file was not kept; submit it again"
            )
            if self._jobs.fail_orphan(job, "JobAbandoned", reason):
                failed += 1
                if self._spool is not None:
                    self._spool.discard(job.id)
                self._callbacks.submit(job.id)
        if resumed or failed:
            logger.warning("took over jobs of stopped servers: %d resumed, %d failed", resumed, failed)
        return resumed, failed

    def health(self) -> dict[str, Any]:
        """The queue's state for /healthz."""
        pool = self._processes.health() if self._processes is not None else {"state": "ok", "kind": "thread"}
        return {"kind": "in-process", "pending": self._pending, "pool": pool}

    @property
    def working(self) -> bool:
        """Whether a job submitted now can be extracted."""
        return self._processes is None or self._processes.working

    def warm(self) -> None:
        """Register this server, start the worker processes, resume what stopped servers left, start beating."""
        self._heartbeat.register()
        if self._processes is None:
            warm_extractor()
        else:
            self._processes.warm()
        self.take_over_stopped_servers()
        self.sweep_spool()
        self._heartbeat.start()

    def sweep_spool(self) -> int:
        """Delete kept uploads of jobs that finished or are gone (a crash between storing and deleting leaves them)."""
        if self._spool is None:
            return 0
        swept = 0
        # Only files older than the heartbeat timeout: a younger one may be a live server's job being created.
        for job_id in self._spool.job_ids(older_than_seconds=self._api.heartbeat_timeout_seconds):
            job = self._jobs.get(job_id)
            if job is None or job.status.finished:
                self._spool.discard(job_id)
                swept += 1
        if swept:
            logger.info("deleted %d kept upload(s) of finished jobs", swept)
        return swept

    def close(self) -> None:
        """Let running jobs finish, then stop the pools and, last, the heartbeat (it beats while jobs drain)."""
        self._closing.set()
        self._threads.shutdown(wait=True, cancel_futures=False)
        if self._processes is not None:
            self._processes.close()
        self._callbacks.close()
        self._heartbeat.stop()


class RqInvoiceQueue:
    """Hands jobs to rq workers on the ``invoices`` queue; the bytes wait in Redis under the job id."""

    backend = RQ_BACKEND

    def __init__(self, redis: Redis, api_settings: ApiSettings) -> None:
        from rq import Queue

        self._redis = redis
        self._queue = Queue(QUEUE_NAME, connection=redis)
        self._api = api_settings

    def submit(self, job_id: str, content: bytes, name: str) -> None:
        """Store the bytes in Redis and enqueue the job id."""
        from rq import Callback

        pipe = self._redis.pipeline()
        pipe.hset(content_key(job_id), mapping={"content": content, "name": name.encode("utf-8")})
        pipe.expire(content_key(job_id), self._api.content_ttl_seconds)
        pipe.execute()
        self._queue.enqueue(
            "workers.invoices.process_invoice",
            job_id,
            job_id=job_id,
            job_timeout=self._api.job_timeout_seconds,
            # The catalogue holds the outcome; rq's own copy is only for operators looking at the queue.
            result_ttl=600,
            ttl=self._api.content_ttl_seconds,
            description=f"invoice job {job_id}",
            # Exceptions and abandoned jobs (rq's registry cleanup) reach the catalogue through this; a killed
            # work horse through the handler `docintel worker` installs (rq calls no callback for that).
            on_failure=Callback("workers.invoices.invoice_job_failed"),
        )

    def close(self) -> None:
        """Close the Redis connection pool."""
        self._redis.close()
