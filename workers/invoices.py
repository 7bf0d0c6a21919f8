"""rq job for the ``invoices`` queue: a job id in, the same job id out.

The API stores the uploaded bytes in Redis under the job id (``docintel.api.jobs.content_key``) and the
job row in the catalogue; this job reads both, runs the extractor, writes the result to the catalogue and
sends the signed callback. Invoices have their own queue so RPA flows never wait behind bulk crawling:
start workers with ``invoices`` first in their queue list (rq serves queues in the order given).
"""

from __future__ import annotations

import logging
import threading

from rq import get_current_job

from docintel.api.jobs import QUEUE_NAME, InvoiceJobRunner, InvoiceJobStore, content_key, warm_extractor
from docintel.api.keys import ApiKeyStore
from docintel.api.settings import load_api_settings
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.settings import load_settings

__all__ = ["QUEUE_NAME", "process_invoice", "warm"]

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
    runner = InvoiceJobRunner(jobs, ApiKeyStore(store), settings, api_settings)
    try:
        runner.run(job_id, content, raw_name.decode("utf-8", errors="replace"))
    finally:
        redis.delete(content_key(job_id))
    return job_id
