"""Fixtures for worker tests: a clean Redis, and the environment a worker reads (config folder, Graph, Redis)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from docintel.graph_emulator.testing import RunningEmulator
from docintel.sources.graph_client import ENV_BASE_URL, ENV_TOKEN
from tests.crawl.conftest import PII_KEY, write_config
from workers import jobs
from workers.queues import ENV_REDIS_URL


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    """A clean Redis database for each test."""
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def worker_env(
    redis_url: str, fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Environment for workers (in this process and in subprocesses); returns it for subprocesses."""

    def configure(emulator: RunningEmulator) -> dict[str, str]:
        config = write_config(tmp_path / "config", fresh_postgres_url, emulator.graph_url)
        env = {
            "DOCINTEL_CONFIG_DIR": str(config),
            ENV_BASE_URL: emulator.graph_url,
            ENV_TOKEN: "emulator-token",
            ENV_REDIS_URL: redis_url,
            "DOCINTEL_PII_KEY": PII_KEY,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        jobs.reset_context()
        return {**os.environ, **env}

    yield configure  # type: ignore[misc]
    jobs.reset_context()
