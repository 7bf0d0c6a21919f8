"""Rate limiting (token bucket, in memory and in Redis) and API settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.api.security import MemoryRateLimiter, RateLimiter, RedisRateLimiter, retry_after_header
from docintel.api.settings import SPOOL_DIR, ApiSettings, load_api_settings
from docintel.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.needs_redis)])
def limiter_and_clock(request: pytest.FixtureRequest) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    if request.param == "memory":
        return MemoryRateLimiter(clock), clock
    from redis import Redis

    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    redis.flushdb()
    return RedisRateLimiter(redis, clock), clock


def test_token_bucket_allows_a_burst_then_refills_evenly(limiter_and_clock: tuple[RateLimiter, Clock]) -> None:
    limiter, clock = limiter_and_clock
    assert [limiter.hit("k", 3) for _ in range(3)] == [None, None, None]
    wait = limiter.hit("k", 3)
    assert wait == pytest.approx(20.0)  # 3 per minute: one token every 20 s
    clock.now += 20
    assert limiter.hit("k", 3) is None
    assert limiter.hit("k", 3) is not None
    assert limiter.hit("other", 3) is None  # buckets are per key
    clock.now += 600  # a long pause refills the bucket to the burst, not beyond
    assert [limiter.hit("k", 3) for _ in range(4)][3] == pytest.approx(20.0)


@pytest.mark.needs_redis
def test_redis_bucket_is_shared_between_servers_and_spans_minute_boundaries(redis_url: str) -> None:
    from redis import Redis

    clock = Clock()
    clock.now = 59 * 60 + 59.5  # half a second before a minute boundary
    first, second = (RedisRateLimiter(Redis.from_url(redis_url), clock) for _ in range(2))
    assert [first.hit("shared", 3), second.hit("shared", 3), first.hit("shared", 3)] == [None, None, None]
    clock.now += 1  # a fixed one-minute window would start afresh here
    assert second.hit("shared", 3) == pytest.approx(19.0)


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.9, "60")])
def test_retry_after_rounds_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


def test_api_settings_from_environment() -> None:
    settings = load_api_settings(
        {"DOCINTEL_API__RATE_LIMIT_PER_MINUTE": "30", "DOCINTEL_API__POOL": "thread",
         "DOCINTEL_REDIS_URL": "redis://127.0.0.1:6379/0", "UNRELATED": "x"}
    )  # fmt: skip
    assert (settings.rate_limit_per_minute, settings.pool, settings.redis_url) == (
        30,
        "thread",
        "redis://127.0.0.1:6379/0",
    )
    # The service keeps uploads of queued jobs on disk by default; an embedded ApiSettings() does not.
    defaults = ApiSettings(workers=load_api_settings({}).workers, spool_dir=Path(SPOOL_DIR))
    assert load_api_settings({}) == defaults
    assert load_api_settings({"DOCINTEL_API__SPOOL_DIR": "/srv/spool"}).spool_dir == Path("/srv/spool")


@pytest.mark.parametrize(
    "environ",
    [{"DOCINTEL_API__POOL": "fibre"}, {"DOCINTEL_API__RATE_LIMIT_PER_MINUTE": "0"}, {"DOCINTEL_API__NO_SUCH": "1"}],
    ids=["bad-pool", "zero-limit", "unknown-key"],
)
def test_bad_api_settings_fail_naming_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="DOCINTEL_API__"):
        load_api_settings(environ)
