"""Errors the invoice API answers with, beside the extraction errors it passes through.

DocintelError
└── ApiError                    an HTTP answer other than success; ``http_status``, ``retry_after``
    ├── BadRequest              the request is malformed (400)
    ├── Unauthorized            no API key, or an unknown or revoked one (401)
    ├── Forbidden               the key lacks the scope this endpoint needs (403)
    ├── JobNotFound             no such job for this client (404)
    ├── JobConflict             the job is not in a state that allows this (409)
    ├── UnsupportedMediaType    neither multipart nor JSON (415)
    ├── RateLimited             the key is over its per-minute rate limit (429, retryable)
    ├── NotConfigured           a feature that needs a component this install lacks (501)
    └── ServiceBusy             the in-process queue is full (503, retryable)
"""

from __future__ import annotations

from docintel.errors import DocintelError


class ApiError(DocintelError):
    """An API answer other than success; ``retry_after`` becomes a Retry-After header."""

    http_status = 400

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadRequest(ApiError):
    """The request is malformed."""


class Unauthorized(ApiError):
    """No valid API key was sent."""

    http_status = 401


class Forbidden(ApiError):
    """The key is valid but was not granted the scope this endpoint needs."""

    http_status = 403


class JobNotFound(ApiError):
    """No job with this id belongs to the calling client."""

    http_status = 404


class JobConflict(ApiError):
    """The job's state does not allow the request (e.g. corrections before it succeeded)."""

    http_status = 409


class UnsupportedMediaType(ApiError):
    """The request body is neither multipart/form-data nor JSON."""

    http_status = 415


class RateLimited(ApiError):
    """The API key is over its rate limit: its bucket holds no request until the next refill."""

    retryable = True
    http_status = 429


class NotConfigured(ApiError):
    """The request needs a component this installation does not have configured."""

    http_status = 501


class ServiceBusy(ApiError):
    """Too many jobs are queued in-process; try again shortly."""

    retryable = True
    http_status = 503
