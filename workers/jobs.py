"""rq job functions: ids in, ids out. They call the same crawl and stage functions as the in-process commands.

- :func:`crawl_source` (queue ``crawl``): list a source's drives, enqueue one :func:`crawl_drive` each (a
  network share: one ``workers.share.crawl_share_root`` per root, which shards the share by folder).
- :func:`crawl_drive` (``crawl``): one delta round; every changed file is enqueued (``extract``, or ``ocr``
  for images) before the round's deltaLink is stored.
- :func:`process_document` (``extract`` / ``ocr``): fetch from a fresh download URL, read, find PII,
  classify, store. An extract job that sniffs a scan (image, or PDF without a usable text layer) hands it to
  the ``ocr`` queue instead.
- :func:`scheduled_crawl`: enqueue a crawl and schedule itself again (``docintel crawl --every``).

Each job id is derived from what it works on (document id + content tag), so enqueueing the same work
twice — a crawl round re-run after a crash — does not queue it twice. A job that Graph throttles past the
inline wait re-schedules itself for when the tenant's pause ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from redis import Redis
from rq import Queue, get_current_job
from rq.job import Job

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.crawl import PendingDocument, process_crawled
from docintel.crawl import crawl_drive as crawl_drive_round
from docintel.enrich.hashing import bind_pii_key
from docintel.errors import ConfigError, DocintelError, SourceThrottled
from docintel.extract.base import FileType
from docintel.pipeline import Engines, masked_location
from docintel.settings import Settings, load_settings
from docintel.sources.base import ContentFetcher
from docintel.sources.graph import DriveRef, GraphSource, SourcesConfig, sources_config
from docintel.sources.graph_client import GraphAuth, graph_auth_from_env
from docintel.sources.share import ShareSource, ShareSourceConfig
from workers.queues import CRAWL, EXTRACT, OCR, get_queue, job_options, redis_connection
from workers.throttle import RedisPauseBoard

logger = logging.getLogger(__name__)

# Job ids may hold only [A-Za-z0-9_-]; drive and item ids hold "!" and other characters.
_JOB_ID_DIGEST = 24
# PDF pages looked at when deciding whether a PDF is a scan.
OCR_SNIFF_PAGES = 3
# Jobs checked for existence per Redis round trip when enqueueing a crawl round's changes.
ENQUEUE_BATCH = 500


def _digest(*parts: str | None) -> str:
    return hashlib.sha256("\x00".join(p or "" for p in parts).encode()).hexdigest()[:_JOB_ID_DIGEST]


@dataclass
class WorkerContext:
    """What jobs share within one worker process: settings, sources, catalogue, engines, Redis."""

    settings: Settings
    connection: Redis

    @cached_property
    def sources(self) -> SourcesConfig:
        """config/sources.yaml."""
        return sources_config(self.settings)

    @cached_property
    def auth(self) -> GraphAuth:
        """Graph endpoint and credentials from the environment."""
        return graph_auth_from_env(base_url=self.sources.graph.base_url)

    @cached_property
    def store(self) -> CatalogueStore:
        """The catalogue (opened once per worker; forked work horses reset its pool)."""
        return open_catalogue(self.settings.catalogue.url)

    @cached_property
    def crawl_store(self) -> CrawlStore:
        """The crawl tables."""
        return CrawlStore(self.store)

    @cached_property
    def engines(self) -> Engines:
        """Models, loaded once (the worker warms them before forking), with the catalogue's own PII key."""
        engines = Engines(settings=self.settings)
        bind_pii_key(self.store, engines.key)
        return engines

    @cached_property
    def board(self) -> RedisPauseBoard:
        """The tenant-wide pause."""
        tenant = self.auth.tenant_id or self.auth.base_url
        return RedisPauseBoard(self.connection, _digest(tenant))

    def source(self, name: str) -> GraphSource:
        """The configured source ``name``, sharing the tenant pause."""
        return GraphSource(self.sources.source(name), self.sources.graph, self.auth, board=self.board)

    def share(self, name: str) -> ShareSource:
        """The configured network share ``name``, read through this machine's path map."""
        config = self.sources.any_source(name)
        if not isinstance(config, ShareSourceConfig):
            raise ConfigError(f"source {name!r} is not a network share (kind: share)")
        return ShareSource(config)

    def fetcher(self, name: str) -> ContentFetcher:
        """Whatever reads the documents of source ``name``: Graph, or a share's files."""
        if isinstance(self.sources.any_source(name), ShareSourceConfig):
            return self.share(name)
        return self.source(name)


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def context(connection: Redis | None = None) -> WorkerContext:
    """This process's worker context, built on first use from the environment and config folder."""
    global _context  # noqa: PLW0603 - one context per worker process, built lazily after the fork
    with _context_lock:
        if _context is None:
            job = get_current_job()
            redis = connection or (job.connection if job is not None else redis_connection())
            _context = WorkerContext(load_settings(), redis)
        return _context


def reset_context() -> None:
    """Forget the cached context (tests that change settings between workers)."""
    global _context  # noqa: PLW0603
    with _context_lock:
        _context = None


def warm(connection: Redis | None = None) -> WorkerContext:
    """Load models, settings, the catalogue and every lazily imported library before the worker forks.

    Work horses are forked per job and die after it: whatever they import or load themselves is paid on every
    job (measured: 2.7 s a job cold vs 0.3 s warm). So the parent imports the Graph SDK's request builders and
    runs each reader once on small generated documents.
    """
    ctx = context(connection)
    _ = ctx.sources, ctx.store
    ctx.engines.warm()
    # A worker whose sources are all network shares needs no Graph credentials.
    if any(not isinstance(source, ShareSourceConfig) for source in ctx.sources.sources):
        _ = ctx.auth
        _warm_graph_sdk(ctx)
    _warm_pipeline(ctx.engines)
    return ctx


def _warm_graph_sdk(ctx: WorkerContext) -> None:
    from docintel.sources.graph_client import create_graph_client, warm_sdk_models

    warm_sdk_models()

    async def touch() -> None:
        client = create_graph_client(ctx.auth, ctx.sources.graph.organisation)
        _ = client.drives.by_drive_id("warm").items.by_drive_item_id("root").delta
        _ = client.sites.get_all_sites, client.users.by_user_id("warm").drive

    asyncio.run(touch())


def _warm_pipeline(engines: Engines) -> None:
    from docintel.pipeline import analyze_bytes
    from docintel.samples import content, office, pdf

    document = content.invoice()
    for name, data in (
        ("warm.pdf", pdf.invoice_pdf(document)),
        ("warm.docx", office.docx_bytes(content.contract())),
        ("warm.txt", b"Warm-up text for the worker."),
    ):
        analyze_bytes(data, name, engines)


# --- enqueueing ---------------------------------------------------------------------------------


def document_job_id(document_id: str, version: str | None) -> str:
    """The id of the job that processes one content version of a document."""
    return f"doc-{document_id}-{_digest(version)}"


def queue_for(mime_type: str | None) -> str:
    """Images go straight to the OCR queue; everything else is sniffed by an extract job first."""
    return OCR if (mime_type or "").startswith("image/") else EXTRACT


def enqueue_documents(connection: Redis, pending: Sequence[PendingDocument]) -> int:
    """Enqueue a processing job per pending document (skipping ones already queued); returns how many were new."""
    added = 0
    for start in range(0, len(pending), ENQUEUE_BATCH):
        batch = pending[start : start + ENQUEUE_BATCH]
        ids = [document_job_id(p.document_id, p.version) for p in batch]
        with connection.pipeline() as pipe:
            for job_id in ids:
                pipe.exists(Job.key_for(job_id))
            exists = pipe.execute()
        by_queue: dict[str, list[Any]] = {}
        for item, job_id, present in zip(batch, ids, exists, strict=True):
            if present:
                continue
            name = queue_for(item.mime_type)
            options = job_options(name)
            options["timeout"] = options.pop("job_timeout")  # prepare_data's name for it
            by_queue.setdefault(name, []).append(
                Queue.prepare_data(process_document, (item.document_id,), job_id=job_id, **options)  # type: ignore[arg-type]
            )
        for name, data in by_queue.items():
            get_queue(name, connection).enqueue_many(data)
            added += len(data)
    return added


def _reschedule(error: SourceThrottled) -> str:
    """Put the current job back for when the tenant's pause ends (waits longer than any worker should hold)."""
    job = get_current_job()
    if job is None:
        raise error
    delay = max(1.0, error.retry_after or 60.0)
    queue = get_queue(job.origin, job.connection)
    queue.enqueue_in(dt.timedelta(seconds=delay), job.func, *job.args, **job_options(job.origin))
    logger.info("job %s throttled: re-scheduled in %.0f s", job.id, delay)
    return "rescheduled"


# --- jobs ------------------------------------------------------------------------------------------


def crawl_source(source_name: str) -> list[str]:
    """List a source's drives and enqueue a delta round for each; returns the drive ids."""
    ctx = context()
    if isinstance(ctx.sources.any_source(source_name), ShareSourceConfig):
        from workers.share import enqueue_share_roots

        roots = enqueue_share_roots(ctx.connection, ctx.share(source_name))
        logger.info("source %s: %d share roots enqueued", source_name, len(roots))
        return roots
    source = ctx.source(source_name)

    async def discover() -> list[DriveRef]:
        async with source.session() as session:
            return await session.list_drives()

    try:
        drives = asyncio.run(discover())
    except SourceThrottled as error:
        _reschedule(error)
        return []
    queue = get_queue(CRAWL, ctx.connection)
    for drive in drives:
        job_id = f"crawl-{_digest(drive.drive_id)}"
        existing = Job.fetch(job_id, connection=ctx.connection) if Job.exists(job_id, ctx.connection) else None
        if existing is not None and existing.get_status(refresh=False) in ("queued", "started", "scheduled"):
            continue  # a round on this drive is already waiting or running
        if existing is not None:
            existing.delete()
        queue.enqueue(
            crawl_drive,
            source_name,
            drive.drive_id,
            drive.kind,
            drive.label,
            owner=drive.owner,
            job_id=job_id,
            **job_options(CRAWL),
        )
    logger.info("source %s: %d drives enqueued", source_name, len(drives))
    return [drive.drive_id for drive in drives]


def crawl_drive(source_name: str, drive_id: str, kind: str, label: str, owner: str | None = None) -> str:
    """One delta round on a drive; changed files are enqueued before the deltaLink is stored."""
    ctx = context()
    source = ctx.source(source_name)
    drive = DriveRef(drive_id, source_name, kind, label, owner=owner)
    crawl_store = ctx.crawl_store

    def enqueue(pending: Sequence[PendingDocument]) -> None:
        enqueue_documents(ctx.connection, pending)

    async def round_() -> None:
        async with source.session() as session:
            await crawl_drive_round(
                session, drive, crawl_store, enqueue, wants=source.wants, relabel=partial(masked_location, ctx.engines)
            )

    try:
        asyncio.run(round_())
    except SourceThrottled as error:
        return _reschedule(error)
    return drive_id


def needs_ocr(content: bytes, settings: Settings) -> bool:
    """Whether a document is a scan: an image, or a PDF whose first pages have no usable text layer."""
    from docintel.extract.sniff import sniff

    try:
        file_type, _ = sniff(content)
    except DocintelError:
        return False
    if file_type is FileType.IMAGE:
        return True
    if file_type is not FileType.PDF:
        return False
    import pypdfium2 as pdfium

    from docintel.extract.pdf import check_text_layer

    try:
        document = pdfium.PdfDocument(content)
    except pdfium.PdfiumError:
        return False  # encrypted or corrupt: the extract job records why
    try:
        for index in range(min(len(document), OCR_SNIFF_PAGES)):
            text = document[index].get_textpage().get_text_range()
            if not check_text_layer(text, settings.ocr).usable:
                return True
        return False
    finally:
        document.close()


def process_document(document_id: str) -> str:
    """Fetch, read, enrich, classify and store one crawled document; returns its id."""
    ctx = context()
    job = get_current_job()

    def to_ocr(content: bytes) -> bool:
        if job is None or job.origin != EXTRACT or not needs_ocr(content, ctx.engines.settings):
            return False
        get_queue(OCR, ctx.connection).enqueue(
            process_document, document_id, job_id=f"ocr-{job.id}", **job_options(OCR)
        )
        return True

    try:
        process_crawled(document_id, ctx.crawl_store, ctx.engines, ctx.fetcher, route=to_ocr)
    except SourceThrottled as error:
        _reschedule(error)
    return document_id


def schedule_key(source_name: str) -> str:
    """The Redis key naming the current periodic-crawl job of a source (an older chain stops when replaced)."""
    return f"docintel:schedule:{_digest(source_name)}"


def scheduled_crawl(source_name: str, every_seconds: int) -> str:
    """Enqueue a crawl of ``source_name`` now and schedule this job again in ``every_seconds``."""
    job = get_current_job()
    connection = job.connection if job is not None else redis_connection()
    current = connection.get(schedule_key(source_name))
    current_id = current.decode() if isinstance(current, bytes) else current
    if job is not None and current_id is not None and current_id != job.id:
        return "superseded"  # `docintel crawl --every` was run again: that chain carries on, this one stops
    get_queue(CRAWL, connection).enqueue(crawl_source, source_name, **job_options(CRAWL))
    schedule_crawl(connection, source_name, every_seconds)
    return source_name


def schedule_crawl(connection: Redis, source_name: str, every_seconds: int) -> Job:
    """(Re)schedule the periodic crawl of a source; needs a worker running the rq scheduler (the default)."""
    queue = get_queue(CRAWL, connection)
    job = queue.enqueue_in(
        dt.timedelta(seconds=every_seconds), scheduled_crawl, source_name, every_seconds, **job_options(CRAWL)
    )
    connection.set(schedule_key(source_name), job.id)
    return job
