"""A tenant-wide Graph pause shared through Redis: when any worker is throttled, every worker waits.

The pause is one key per tenant holding the Unix time calls may resume, only ever moved later (a Lua script
compares and sets atomically, on Redis's clock so workers on different hosts agree). Retry-After values
beyond the SDK's 180 s ceiling are honoured the same way: a worker that would wait longer than its inline
limit re-schedules its job for when the pause ends rather than holding a worker slot.
"""

from __future__ import annotations

from redis import Redis

from workers.queues import KEY_PREFIX

# Extend the pause to now + seconds unless it already runs longer; the key expires with the pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wanted = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('INCR', KEYS[2])
redis.call('INCRBYFLOAT', KEYS[3], ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], string.format('%.3f', wanted), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
  current = wanted
end
return tostring(math.max(0, current - now))
"""
_REMAINING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
return tostring(math.max(0, current - now))
"""


# Counters for the metrics endpoint: throttling answers that paused a tenant, and the seconds they asked for.
THROTTLED_COUNT_KEY = f"{KEY_PREFIX}:metrics:graph_throttled"
THROTTLED_SECONDS_KEY = f"{KEY_PREFIX}:metrics:graph_throttle_seconds"


def pause_key(tenant: str) -> str:
    """The Redis key holding a tenant's resume time."""
    return f"{KEY_PREFIX}:throttle:{tenant}:until"


def pause_keys(connection: Redis) -> list[tuple[str, str]]:
    """(tenant, key) of every tenant paused now (the keys expire with their pause)."""
    start, end = pause_key("").split("::")
    keys = (k.decode() if isinstance(k, bytes) else str(k) for k in connection.scan_iter(match=pause_key("*")))
    return sorted((key[len(start) + 1 : -len(end) - 1], key) for key in keys)


class RedisPauseBoard:
    """The PauseBoard of ``docintel.sources.graph`` kept in Redis, for every worker of one tenant."""

    def __init__(self, connection: Redis, tenant: str) -> None:
        self.key = pause_key(tenant)
        self._pause = connection.register_script(_PAUSE)
        self._remaining = connection.register_script(_REMAINING)

    def paused_for(self) -> float:
        """Seconds until Graph calls may resume (0 when not paused)."""
        return float(self._remaining(keys=[self.key]))

    def pause(self, seconds: float) -> float:
        """Extend the tenant's pause to at least ``seconds`` from now; returns the pause in force."""
        keys = [self.key, THROTTLED_COUNT_KEY, THROTTLED_SECONDS_KEY]
        return float(self._pause(keys=keys, args=[max(0.0, seconds)]))
