"""Request guards: a body size limit that holds for chunked uploads too, and per-key rate limits.

The rate limiter is a token bucket in memory for a single server, or a fixed one-minute window in
Redis when several servers share the load (every server then counts against the same budget).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from redis import Redis

_WINDOW_SECONDS = 60
_REDIS_PREFIX = "docintel:ratelimit:"


class RateLimiter(Protocol):
    """Counts a request against a key's budget."""

    def hit(self, key_id: str, per_minute: int) -> float | None:
        """None when the request may go ahead, else the seconds to wait before the next one will."""
        ...


class MemoryRateLimiter:
    """Token bucket per key: ``per_minute`` requests in a burst, refilled evenly over the minute."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill time)
        self._lock = threading.Lock()

    def hit(self, key_id: str, per_minute: int) -> float | None:
        """Take a token; the wait until one is free when none is left."""
        rate = per_minute / _WINDOW_SECONDS
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key_id] = (tokens - 1, now)
                return None
            self._buckets[key_id] = (tokens, now)
            return (1 - tokens) / rate


class RedisRateLimiter:
    """Fixed one-minute windows counted in Redis, shared by every server using the same Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def hit(self, key_id: str, per_minute: int) -> float | None:
        """Count the request in the current window; the time left in the window when over budget."""
        now = time.time()
        window = int(now // _WINDOW_SECONDS)
        key = f"{_REDIS_PREFIX}{key_id}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, _WINDOW_SECONDS * 2)
        count = int(pipe.execute()[0])
        if count <= per_minute:
            return None
        return (window + 1) * _WINDOW_SECONDS - now


def retry_after_header(seconds: float) -> str:
    """Retry-After takes whole seconds; round up so a client never comes back too early."""
    return str(max(1, math.ceil(seconds)))


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: 413 when a request body is over ``max_bytes``, by Content-Length or as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse early on a declared length; count the bytes of chunked bodies as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error": "TooLarge", "detail": f"request body is over the limit of {self.max_bytes} bytes"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
