"""Request guards: a body size limit that holds for chunked uploads too, and per-key rate limits.

The rate limiter is a token bucket per API key: in memory for a single server, or in Redis when
several servers share the load (every server then counts against the same budget).
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
    """The same token bucket as :class:`MemoryRateLimiter`, kept in Redis and shared by every server.

    The bucket is stored as its "theoretical arrival time" (the generic cell rate algorithm): one
    number per key, moved on by a Lua script so that concurrent servers cannot both take the last
    token. A fixed window would let a client spend two minutes' budget across a window boundary and
    would reset mid-burst; the bucket does neither. The time comes from the calling server, so the
    servers' clocks should agree (NTP); a server running s seconds fast grants at most s seconds'
    worth of extra requests.
    """

    # KEYS[1]: the key's bucket. ARGV: now (seconds), seconds per token, burst span (seconds).
    # Returns nil when the request may go ahead, else the seconds to wait, as a string.
    _SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > span then
  return string.format('%.6f', next_tat - now - span)
end
redis.call('SET', KEYS[1], string.format('%.6f', next_tat), 'PX', math.ceil((next_tat - now) * 1000))
return false
"""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._script = redis.register_script(self._SCRIPT)

    def hit(self, key_id: str, per_minute: int) -> float | None:
        """Take a token from the key's shared bucket; the wait until one is free when none is left."""
        interval = _WINDOW_SECONDS / per_minute
        bucket = f"{_REDIS_PREFIX}{key_id}"
        wait = self._script(keys=[bucket], args=[repr(self._clock()), repr(interval), _WINDOW_SECONDS])
        return None if wait is None else float(wait)


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
