"""The Prometheus metrics of serve and workers: read from the catalogue and Redis, served over HTTP, no names."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from docintel.catalogue.store import open_catalogue
from docintel.models import DocumentStatus, ErrorInfo
from tests.catalogue.test_store import make_record
from workers import metrics
from workers.metrics import DocintelCollector, start_metrics_server
from workers.queues import ENV_REDIS_URL, EXTRACT, get_queue
from workers.throttle import RedisPauseBoard

pytestmark = pytest.mark.needs_redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _catalogue(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    with open_catalogue(url) as store:
        store.save(make_record("doc-ok", with_child=False, sha256="a" * 64))
        failed = make_record("doc-bad", with_child=False, sha256="b" * 64, status=DocumentStatus.FAILED)
        failed = failed.model_copy(update={"error": ErrorInfo(type="CorruptDocument", message="truncated PDF")})
        store.save(failed)
    return url


def test_metrics_count_documents_failures_queues_and_throttling(tmp_path: Path, redis: Redis) -> None:
    url = _catalogue(tmp_path)
    get_queue(EXTRACT, redis).enqueue("workers.jobs.warm")
    RedisPauseBoard(redis, "tenant-a").pause(30)
    port = _free_port()
    server = start_metrics_server(DocintelCollector(lambda: open_catalogue(url), redis), "127.0.0.1", port)
    try:
        found = _scrape(port)
    finally:
        server.shutdown()
    assert found[("docintel_documents", (("status", "ok"),))] == 1
    assert found[("docintel_documents", (("status", "failed"),))] == 1
    assert found[("docintel_documents_failed", (("error_type", "CorruptDocument"),))] == 1
    assert found[("docintel_queue_jobs", (("queue", "extract"), ("state", "queued")))] == 1
    assert found[("docintel_graph_throttled_total", ())] == 1
    assert found[("docintel_graph_throttle_wait_seconds_total", ())] == 30
    assert 0 < found[("docintel_graph_pause_seconds", (("tenant", "tenant-a"),))] <= 30
    assert found[("docintel_catalogue_up", ())] == 1 and found[("docintel_redis_up", ())] == 1
    assert any(name == "docintel_stage_seconds_count" for name, _ in found)
    # Counts, stages and error classes only: no file name or path of a document.
    body = "".join(f"{name}{labels}" for name, labels in found)
    assert "Case notes" not in body and "Case files" not in body


def test_catalogue_counts_are_cached_between_close_scrapes(tmp_path: Path) -> None:
    url = _catalogue(tmp_path)
    opened: list[int] = []
    now = [100.0]

    def open_store():  # type: ignore[no-untyped-def]
        opened.append(1)
        return open_catalogue(url)

    collector = DocintelCollector(open_store, None, clock=lambda: now[0])
    list(collector.collect())
    list(collector.collect())
    assert len(opened) == 1
    now[0] += metrics.CATALOGUE_TTL_SECONDS
    list(collector.collect())
    assert len(opened) == 2


def test_an_unreachable_catalogue_is_reported_not_raised(tmp_path: Path) -> None:
    from docintel.errors import CatalogueError

    def broken():  # type: ignore[no-untyped-def]
        raise CatalogueError("catalogue unavailable")

    families = {family.name: family for family in DocintelCollector(broken, None).collect()}
    assert families["docintel_catalogue_up"].samples[0].value == 0
    assert "docintel_documents" not in families


def test_worker_serves_its_own_job_counts(tmp_path: Path, redis: Redis, redis_url: str) -> None:
    url = _catalogue(tmp_path)
    port = _free_port()
    env = {**os.environ, ENV_REDIS_URL: redis_url, "DOCINTEL_CATALOGUE_URL": url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "docintel.cli", "worker", "--queues", EXTRACT, "--no-warm", "--metrics-port", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        while time.monotonic() < deadline:
            try:
                found = _scrape(port)
                if ("docintel_worker_jobs_total", (("outcome", "succeeded"),)) in found:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ("docintel_worker_jobs_total", (("outcome", "succeeded"),)) in found, found
        assert found[("docintel_documents", (("status", "ok"),))] == 1
        assert found[("docintel_workers", ())] >= 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
