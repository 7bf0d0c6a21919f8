"""Faults on demand: scripted failures, a seeded random failure rate, and SharePoint's resource-unit throttling.

- :class:`FaultRule`: "the next N requests matching this path answer 503 with Retry-After: 2" (N = -1: for
  ever, i.e. block mode). Retry-After may be seconds (0 included, > 180 included), an HTTP-date, or absent.
- ``fail_rate``: each request fails with that probability (seeded), with a status drawn from ``fail_statuses``.
- :class:`ResourceBudget`: a token bucket of resource units per minute (refilled continuously) and a
  per-day count; an exhausted bucket answers 429 ``activityLimitReached`` with ``Retry-After`` = seconds
  until the request's cost has refilled, and ``RateLimit-*`` headers from 80% use on.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from docintel.graph_emulator.responses import GraphError, http_date

_ERRORS = {
    429: ("activityLimitReached", "The request has been throttled", "throttledRequest"),
    500: ("generalException", "An unspecified error has occurred.", None),
    502: ("badGateway", "Bad Gateway", None),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later.", None),
    504: ("gatewayTimeout", "The operation has timed out.", None),
}
# The share of the per-minute budget after which RateLimit-* headers are sent.
_RATE_LIMIT_WARNING = 0.8


class FaultRule(BaseModel):
    """Answer the next ``count`` matching requests with ``status`` (count -1: every one)."""

    model_config = ConfigDict(extra="forbid")

    status: int = Field(ge=400, le=599)
    count: int = 1
    retry_after: float | None = None
    retry_after_format: Literal["seconds", "http-date"] = "seconds"
    path: str | None = None  # a regular expression searched in the path after /v1.0 (or the download path)
    method: str | None = None
    target: Literal["graph", "content"] = "graph"
    code: str | None = None
    message: str | None = None


class FaultSettings(BaseModel):
    """Everything the fault injector does; replaced as a whole through the control API."""

    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule] = Field(default_factory=list)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    fail_statuses: list[int] = Field(default_factory=lambda: [429, 503])
    fail_retry_after: float | None = 1
    fail_retry_after_format: Literal["seconds", "http-date"] = "seconds"
    seed: int = 0


def retry_after_value(seconds: float, fmt: str) -> str:
    """A Retry-After header value: whole seconds, or an HTTP-date that many seconds ahead."""
    if fmt == "http-date":
        return http_date(time.time() + seconds)
    return str(math.ceil(seconds))


def fault_error(
    status: int, retry_after: float | None, fmt: str, code: str | None = None, message: str | None = None
) -> GraphError:
    """The GraphError for an injected failure, in Graph's error shape."""
    default_code, default_message, inner = _ERRORS.get(status, ("generalException", "An error has occurred.", None))
    headers = {} if retry_after is None else {"Retry-After": retry_after_value(retry_after, fmt)}
    return GraphError(status, code or default_code, message or default_message, headers=headers, inner_code=inner)


@dataclass
class FaultInjector:
    """Applies :class:`FaultSettings` to each request, in arrival order."""

    settings: FaultSettings = field(default_factory=FaultSettings)
    _rng: random.Random = field(default_factory=random.Random)

    def configure(self, settings: FaultSettings) -> None:
        """Replace the settings and reseed the random failures."""
        for rule in settings.rules:
            if rule.path is not None:
                re.compile(rule.path)
        self.settings = settings
        self._rng = random.Random(settings.seed)

    def check(self, target: str, method: str, path: str) -> GraphError | None:
        """The injected failure for this request, if any."""
        for rule in self.settings.rules:
            if rule.count == 0 or rule.target != target:
                continue
            if rule.method and rule.method.upper() != method.upper():
                continue
            if rule.path and not re.search(rule.path, path, re.IGNORECASE):
                continue
            if rule.count > 0:
                rule.count -= 1
            return fault_error(rule.status, rule.retry_after, rule.retry_after_format, rule.code, rule.message)
        settings = self.settings
        if target == "graph" and settings.fail_rate and self._rng.random() < settings.fail_rate:
            status = self._rng.choice(settings.fail_statuses)
            return fault_error(status, settings.fail_retry_after, settings.fail_retry_after_format)
        return None


@dataclass
class ResourceBudget:
    """SharePoint-style resource units: a per-minute token bucket and a per-day count (None = unlimited)."""

    per_minute: int | None = None
    per_day: int | None = None
    retry_after_format: str = "seconds"
    _tokens: float = 0.0
    _stamp: float = field(default_factory=time.monotonic)
    _day_start: float = field(default_factory=time.monotonic)
    _day_used: int = 0
    used: int = 0

    def configure(
        self,
        per_minute: int | None,
        per_day: int | None,
        retry_after_format: str = "seconds",
        initial_units: float | None = None,
    ) -> None:
        """Set the limits; the bucket starts full unless ``initial_units`` says otherwise (0: already drained)."""
        self.per_minute, self.per_day, self.retry_after_format = per_minute, per_day, retry_after_format
        self._tokens = float(per_minute or 0) if initial_units is None else float(initial_units)
        self._stamp = self._day_start = time.monotonic()
        self._day_used = 0

    def charge(self, cost: int) -> dict[str, str]:
        """Spend ``cost`` units, or raise 429; returns RateLimit-* headers once 80% of the minute is used."""
        if not cost or (self.per_minute is None and self.per_day is None):
            self.used += cost
            return {}
        now = time.monotonic()
        if now - self._day_start >= 86_400:
            self._day_start, self._day_used = now, 0
        if self.per_day is not None and self._day_used + cost > self.per_day:
            wait = 86_400 - (now - self._day_start)
            raise fault_error(429, wait, self.retry_after_format)
        headers: dict[str, str] = {}
        if self.per_minute is not None:
            rate = self.per_minute / 60.0
            self._tokens = min(float(self.per_minute), self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens < cost:
                error = fault_error(429, (cost - self._tokens) / rate, self.retry_after_format)
                error.headers.update(self._rate_headers(rate))
                raise error
            self._tokens -= cost
            if self._tokens <= self.per_minute * (1 - _RATE_LIMIT_WARNING):
                headers = self._rate_headers(rate)
        self._day_used += cost
        self.used += cost
        return headers

    def _rate_headers(self, rate: float) -> dict[str, str]:
        limit = self.per_minute or 0
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, math.floor(self._tokens))),
            "RateLimit-Reset": str(math.ceil((limit - self._tokens) / rate)),
        }
