"""Settings of the invoice API, with the reason for each default.

They are read from the environment as ``DOCINTEL_API__<KEY>`` (same form as the rest of docintel's
settings) plus ``DOCINTEL_REDIS_URL`` for the queue. They live here rather than in ``config/settings.yaml``
until the API section is promoted into :class:`docintel.settings.Settings`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from docintel.defaults import ENV_PREFIX, MiB
from docintel.errors import ConfigError

ENV_REDIS_URL = "DOCINTEL_REDIS_URL"
_ENV_SECTION = f"{ENV_PREFIX}API__"
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")

# An invoice is a few pages; 20 MiB holds a 30-page scan at 300 DPI and keeps a hostile upload cheap.
MAX_UPLOAD_BYTES = 20 * MiB
# Power Automate's HTTP action gives up after 120 s: an inline wait longer than a minute helps nobody.
MAX_WAIT_SECONDS = 60.0
# Requests per minute per API key when the key has no limit of its own: a flow posting one invoice
# a second is far above any council's invoice volume, a runaway loop is not.
RATE_LIMIT_PER_MINUTE = 120
# Jobs queued or running in-process before new ones get 503: beyond this a client waits longer than
# it would by retrying later, and every queued job holds its bytes in memory.
MAX_PENDING_JOBS = 64
# Results carry supplier bank details: keep them only as long as a flow needs to collect them.
RESULT_TTL_SECONDS = 24 * 3600
# Uploaded bytes wait in Redis for an rq worker at most this long; past it the job fails as expired.
CONTENT_TTL_SECONDS = 6 * 3600
# One invoice, OCR included, takes seconds; ten minutes means a stuck parser, not a slow one.
JOB_TIMEOUT_SECONDS = 600
# Callback delivery: a receiver that has not answered in 10 s is down; three tries over ~10 s.
CALLBACK_TIMEOUT_SECONDS = 10.0
CALLBACK_ATTEMPTS = 3
CALLBACK_BACKOFF_SECONDS = 1.0
# Callbacks in flight at once, on threads of their own: a receiver that takes the full timeout holds one
# thread, never an extraction slot; sixteen slow receivers at once is far beyond any council's flows.
CALLBACK_WORKERS = 16
# Servers with an in-process queue beat this often in the catalogue; one silent for the timeout (six missed
# beats: a long GC pause or a slow catalogue write is not a dead server) has stopped, and its jobs are taken over.
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TIMEOUT_SECONDS = 30.0
# A job is resumed after its server stopped at most this often: a job that kills its server each time is
# failed rather than resumed for ever.
MAX_RESUMES = 1
# Where `docintel serve` keeps uploads of queued in-process jobs (relative to the working directory, like the
# default catalogue), so a restarted server resumes them; DOCINTEL_API__SPOOL_DIR moves it.
SPOOL_DIR = "docintel-spool"
# Wrong API keys tolerated per minute from one address, and against one key id, before 429: a client with a
# typo retries a few times; a guesser is slowed to a crawl (the key's own holder is never locked out).
FAILED_KEY_CHECKS_PER_MINUTE = 10
# A callback older than this is rejected by verify_signature (replay protection).
CALLBACK_TOLERANCE_SECONDS = 300


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class ApiSettings(BaseModel):
    """Limits and queue choice for ``docintel serve``."""

    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int = Field(default=MAX_UPLOAD_BYTES, gt=0)
    max_wait_seconds: float = Field(default=MAX_WAIT_SECONDS, ge=0)
    rate_limit_per_minute: int = Field(default=RATE_LIMIT_PER_MINUTE, gt=0)
    failed_key_checks_per_minute: int = Field(default=FAILED_KEY_CHECKS_PER_MINUTE, gt=0)
    workers: int = Field(default_factory=_default_workers, gt=0)
    # "process": extraction in worker processes, in parallel (measured 33 invoices/s on 2 cores, 20
    # clients). "thread": in the server process, one extraction at a time, because PDFium is not
    # thread-safe (parallel threads segfaulted); for tests and tiny installs only.
    pool: Literal["process", "thread"] = "process"
    max_pending_jobs: int = Field(default=MAX_PENDING_JOBS, gt=0)
    result_ttl_seconds: int = Field(default=RESULT_TTL_SECONDS, gt=0)
    content_ttl_seconds: int = Field(default=CONTENT_TTL_SECONDS, gt=0)
    job_timeout_seconds: int = Field(default=JOB_TIMEOUT_SECONDS, gt=0)
    callback_timeout_seconds: float = Field(default=CALLBACK_TIMEOUT_SECONDS, gt=0)
    callback_attempts: int = Field(default=CALLBACK_ATTEMPTS, ge=1)
    callback_backoff_seconds: float = Field(default=CALLBACK_BACKOFF_SECONDS, ge=0)
    callback_workers: int = Field(default=CALLBACK_WORKERS, gt=0)
    # Plain-http callbacks are allowed to loopback addresses only (local receivers, tests).
    callback_require_https: bool = True
    # When not empty, callbacks go only to these hosts (exact names): stops a key holder using the
    # service to reach internal addresses.
    callback_allowed_hosts: list[str] = Field(default_factory=list)
    # Callbacks never reach loopback, private, link-local or other internal addresses, except those listed
    # here: CIDRs or single addresses ("10.20.0.0/16", "127.0.0.1"), or host names whose internal addresses
    # are trusted ("flows.council.internal"). Empty by default: an internal receiver is an operator's choice.
    callback_allowed_internal: list[str] = Field(default_factory=list)
    redis_url: str | None = None
    heartbeat_seconds: float = Field(default=HEARTBEAT_SECONDS, gt=0)
    heartbeat_timeout_seconds: float = Field(default=HEARTBEAT_TIMEOUT_SECONDS, gt=0)
    max_resumes: int = Field(default=MAX_RESUMES, ge=0)
    # None: uploads of in-process jobs live only in memory (an embedded app, tests). load_api_settings, which
    # `docintel serve` uses, sets SPOOL_DIR unless DOCINTEL_API__SPOOL_DIR says otherwise.
    spool_dir: Path | None = None

    @field_validator("callback_allowed_internal")
    @classmethod
    def _networks_or_host_names(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(entry.strip()):
                    raise ValueError(f"{entry!r} is neither a CIDR, an IP address nor a host name") from None
        return entries


def load_api_settings(environ: dict[str, str] | None = None) -> ApiSettings:
    """API settings from ``DOCINTEL_API__*`` variables and ``DOCINTEL_REDIS_URL``."""
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, object] = {}
    for name, raw in environ.items():
        if name.startswith(_ENV_SECTION):
            values[name[len(_ENV_SECTION) :].lower()] = yaml.safe_load(raw) if raw else raw
    redis_url = environ.get(ENV_REDIS_URL)
    if redis_url:
        values.setdefault("redis_url", redis_url)
    values.setdefault("spool_dir", SPOOL_DIR)
    try:
        return ApiSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{_ENV_SECTION}{key.upper()}: {first['msg']}") from exc
