"""Queue names and their policies (timeouts, retries, TTLs), and the Redis connection.

- ``crawl``: discovery of a source's drives, then one delta round per drive (minutes on a large drive).
- ``extract``: born-digital documents: fetch, read, find PII, classify, store (seconds each).
- ``ocr``: scans and image-only PDFs, which take tens of seconds a page: on their own queue so born-digital
  documents are never stuck behind them. The extract job sends a document here when it sniffs one.
- ``invoices``: invoices posted to ``/v1/invoices`` while Redis is configured (``docintel.api.jobs``): on
  their own queue so RPA flows never wait behind bulk crawling; list it first on shared workers.
- ``classify``: re-classification of catalogued documents after a schedule change. Classification of
  newly read documents runs inside the extract/ocr job: handing the text to another job would park
  personal data in Redis.

Start workers with the queue order as priority (rq serves the first non-empty queue in the list), e.g.
``docintel worker --queues crawl,extract,ocr``, and dedicated ``--queues ocr`` workers where scans dominate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from redis import Redis
from rq import Queue, Retry

ENV_REDIS_URL = "DOCINTEL_REDIS_URL"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"

CRAWL, EXTRACT, OCR, CLASSIFY = "crawl", "extract", "ocr", "classify"
# docintel.api.jobs.QUEUE_NAME: the API enqueues invoice jobs here (a test holds the two names together).
INVOICES = "invoices"
CALLBACKS = "callbacks"  # invoice results delivered to the flows' callback URLs, apart from extraction
ALL_QUEUES = (INVOICES, CALLBACKS, CRAWL, EXTRACT, OCR, CLASSIFY)
# Every key docintel puts in Redis (besides rq's own) starts with this.
KEY_PREFIX = "docintel"
# How often a worker runs rq's registry maintenance, which re-queues (or fails) the jobs of a worker that died
# without a trace (a killed container on another host). rq's own default, 10 minutes, left such a job waiting that
# long; a minute costs a few Redis calls per queue.
MAINTENANCE_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class QueuePolicy:
    """How jobs of one queue run: time limit, retries with back-off for retryable errors, result TTLs."""

    job_timeout: int
    retry_max: int
    retry_intervals: tuple[int, ...]
    result_ttl: int = 3600  # seconds a finished job stays visible (and de-duplicates a re-enqueue)
    failure_ttl: int = 7 * 86_400  # failed jobs stay a week for `docintel status` and re-queueing


POLICIES = {
    # A 100,000-item drive enumerates in about a minute; a million-item drive in under an hour.
    CRAWL: QueuePolicy(job_timeout=4 * 3600, retry_max=5, retry_intervals=(30, 120, 600, 1800, 3600)),
    # limits.document_timeout_seconds is 600: the job gets that plus fetch and store time.
    EXTRACT: QueuePolicy(job_timeout=900, retry_max=3, retry_intervals=(10, 60, 300)),
    # A 2,000-page scan at ~2 s a page on one core.
    OCR: QueuePolicy(job_timeout=2 * 3600, retry_max=3, retry_intervals=(30, 300, 900)),
    CLASSIFY: QueuePolicy(job_timeout=300, retry_max=3, retry_intervals=(10, 60, 300)),
    # The API enqueues with its own api.job_timeout_seconds; no retry: an invoice whose work horse was killed
    # (out of memory, say) would only kill the next one too, so it fails and the client is told.
    INVOICES: QueuePolicy(job_timeout=120, retry_max=0, retry_intervals=()),
    # One delivery: its own attempts with back-off (api.callback_attempts x callback_timeout_seconds at most);
    # rq does not retry it again, and a callback still pending after a crash is resent when a server takes over.
    CALLBACKS: QueuePolicy(job_timeout=300, retry_max=0, retry_intervals=()),
}


def redis_url() -> str:
    """The Redis URL: $DOCINTEL_REDIS_URL, else redis://localhost:6379/0."""
    return os.environ.get(ENV_REDIS_URL) or DEFAULT_REDIS_URL


def redis_connection(url: str | None = None) -> Redis:
    """A Redis connection (rq needs raw bytes, so responses are not decoded)."""
    return Redis.from_url(url or redis_url())


def get_queue(name: str, connection: Redis) -> Queue:
    """The rq queue ``name`` with its policy's default timeout."""
    if name not in POLICIES:
        from docintel.errors import ConfigError

        raise ConfigError(f"unknown queue {name!r}; known: {', '.join(ALL_QUEUES)}")
    return Queue(name, connection=connection, default_timeout=POLICIES[name].job_timeout)


def job_options(name: str) -> dict[str, object]:
    """Keyword arguments for ``enqueue``/``prepare_data`` that apply a queue's policy."""
    policy = POLICIES[name]
    options: dict[str, object] = {
        "job_timeout": policy.job_timeout,
        "result_ttl": policy.result_ttl,
        "failure_ttl": policy.failure_ttl,
    }
    if policy.retry_max:  # rq refuses Retry(max=0)
        options["retry"] = Retry(max=policy.retry_max, interval=list(policy.retry_intervals))
    return options
