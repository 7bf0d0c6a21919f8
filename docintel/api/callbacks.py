"""Signed result callbacks: the finished job is POSTed to the client's URL with an HMAC-SHA256 signature.

Headers sent with every callback::

    X-Docintel-Job-Id: <job id>
    X-Docintel-Timestamp: <unix seconds>
    X-Docintel-Signature: sha256=<hex HMAC-SHA256(signing secret, "<timestamp>.<raw body>")>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body with the signing secret it
was given with its API key (:func:`verify_signature` does exactly that), and rejects stale timestamps so
a captured callback cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from docintel.api.settings import CALLBACK_TOLERANCE_SECONDS, ApiSettings
from docintel.errors import DocintelError

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Docintel-Signature"
TIMESTAMP_HEADER = "X-Docintel-Timestamp"
JOB_ID_HEADER = "X-Docintel-Job-Id"
_SCHEME = "sha256="
_MAX_URL = 2048
_LOOPBACK_NAMES = frozenset({"localhost"})


class CallbackUrlRejected(DocintelError):
    """The callback URL is not one the service will call."""

    http_status = 422


@dataclass(frozen=True)
class CallbackOutcome:
    """How a delivery ended: delivered or not, after how many attempts, and the last HTTP status."""

    delivered: bool
    attempts: int
    status_code: int | None = None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return _SCHEME + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    presented: str,
    *,
    tolerance_seconds: float = CALLBACK_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``presented`` signs ``body`` at ``timestamp`` and the timestamp is recent."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_callback_url(url: str, settings: ApiSettings) -> str:
    """The URL when the service may call it; CallbackUrlRejected (never echoing the URL) otherwise."""
    url = url.strip()
    if len(url) > _MAX_URL:
        raise CallbackUrlRejected(f"callback_url is longer than {_MAX_URL} characters")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise CallbackUrlRejected("callback_url must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise CallbackUrlRejected("callback_url must not carry credentials; use the signature to authenticate")
    if parts.scheme == "http" and settings.callback_require_https and not _is_loopback(host):
        raise CallbackUrlRejected("callback_url must use https (plain http is allowed to loopback addresses only)")
    if settings.callback_allowed_hosts and host.lower() not in {h.lower() for h in settings.callback_allowed_hosts}:
        raise CallbackUrlRejected(f"callback host {host} is not in the allowed callback hosts")
    return url


def deliver(url: str, job_id: str, body: bytes, secret: str, settings: ApiSettings) -> CallbackOutcome:
    """POST a signed body to the callback URL, retrying connection errors, 429 and 5xx with backoff."""
    status_code: int | None = None
    attempts = 0
    with httpx.Client(timeout=settings.callback_timeout_seconds, follow_redirects=False) as client:
        for attempt in range(1, settings.callback_attempts + 1):
            attempts = attempt
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                JOB_ID_HEADER: job_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(secret, timestamp, body),
            }
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                # Never the URL: a Power Automate trigger URL carries its own access signature.
                logger.warning("callback for job %s attempt %d failed: %s", job_id, attempt, type(exc).__name__)
                status_code = None
            else:
                status_code = response.status_code
                if response.is_success:
                    logger.info("callback for job %s delivered (HTTP %d)", job_id, status_code)
                    return CallbackOutcome(True, attempt, status_code)
                logger.warning("callback for job %s attempt %d got HTTP %d", job_id, attempt, status_code)
                if status_code != 429 and status_code < 500:
                    break  # the receiver refused this body; sending it again changes nothing
            if attempt < settings.callback_attempts:
                time.sleep(settings.callback_backoff_seconds * 2 ** (attempt - 1))
    return CallbackOutcome(False, attempts, status_code)
