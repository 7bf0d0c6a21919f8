"""rq workers end to end: real Redis, real PostgreSQL, the emulator over real HTTP, forked work horses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import open_catalogue
from docintel.graph_emulator.testing import SMALL_TENANT, running_emulator
from tests.crawl.conftest import assert_catalogue_matches, tenant_files
from workers import jobs
from workers.queues import CRAWL, EXTRACT, OCR, get_queue, job_options
from workers.throttle import RedisPauseBoard
from workers.worker import requeue_abandoned, run_worker

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_postgres]

BIG_TENANT: dict[str, Any] = {
    "tenant": {"name": "Test Council", "domain": "testcouncil", "seed": 3},
    "sites": [
        {"name": "records", "libraries": [{"name": "Documents", "generate": {"files": 1500, "templates": ["minutes"]}}]}
    ],
    "emulator": {"page_size": 20},
}


def _start_worker(env: dict[str, str], queues: str, warm: bool = False) -> subprocess.Popen[bytes]:
    code = "from workers.commands import worker_command; worker_command()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--queues", queues, "--burst", *([] if warm else ["--no-warm"])],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,  # its own process group: kill -9 takes the work horse too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_crawl_through_rq_workers_fills_the_catalogue_with_the_tenant(
    redis: Redis, worker_env: Any, fresh_postgres_url: str
) -> None:
    with running_emulator(SMALL_TENANT) as emulator:
        worker_env(emulator)
        for source in ("sharepoint", "onedrive"):
            get_queue(CRAWL, redis).enqueue(jobs.crawl_source, source, **job_options(CRAWL))
        run_worker([CRAWL, EXTRACT, OCR], redis, burst=True, warm=True)

        store = open_catalogue(fresh_postgres_url)
        assert_catalogue_matches(store, emulator)
        assert all(c.status == "idle" and c.delta_link for c in CrawlStore(store).checkpoints())
        for name in (CRAWL, EXTRACT, OCR):
            assert FailedJobRegistry(queue=Queue(name, connection=redis)).count == 0
        # A second crawl finds nothing to do: no extract job is enqueued.
        get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "sharepoint", **job_options(CRAWL))
        run_worker([CRAWL], redis, burst=True, warm=False)
        assert Queue(EXTRACT, connection=redis).count == 0
        store.close()


def test_kill_9_of_a_worker_mid_crawl_loses_and_duplicates_nothing(
    redis: Redis, worker_env: Any, fresh_postgres_url: str
) -> None:
    with running_emulator(BIG_TENANT) as emulator:
        env = worker_env(emulator)
        get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "sharepoint", **job_options(CRAWL))
        worker = _start_worker(env, CRAWL)
        store = open_catalogue(fresh_postgres_url)
        crawl_store = CrawlStore(store)
        deadline = time.monotonic() + 120
        # Wait until the delta round is under way (items recorded, no deltaLink yet), then kill -9.
        while time.monotonic() < deadline:
            checkpoints = crawl_store.checkpoints()
            if checkpoints and checkpoints[0].delta_link is None and crawl_store.pending_count() > 100:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the crawl never got under way")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        assert crawl_store.checkpoints()[0].delta_link is None  # killed mid-round
        assert requeue_abandoned(redis, [CRAWL]) == 1

        second = _start_worker(env, CRAWL)
        assert second.wait(timeout=300) == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
        checkpoint = crawl_store.checkpoints()[0]
        assert checkpoint.delta_link and checkpoint.status == "idle"
        files = tenant_files(emulator)
        extract = Queue(EXTRACT, connection=redis)
        queued = [job.args[0] for job in extract.get_jobs()]
        assert len(queued) == len(set(queued)) == len(files) == 1500  # every file once: none lost, none twice
        assert crawl_store.pending_count() == 1500
        store.close()


def test_kill_9_mid_extract_re_runs_the_job_and_stores_each_document_once(
    redis: Redis, worker_env: Any, fresh_postgres_url: str
) -> None:
    with running_emulator(SMALL_TENANT) as emulator:
        env = worker_env(emulator)
        get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "sharepoint", **job_options(CRAWL))
        run_worker([CRAWL], redis, burst=True, warm=False)
        total = Queue(EXTRACT, connection=redis).count
        assert total == 18  # the two SharePoint sites hold 18 files
        # Slow every download so a job is surely in flight when the worker dies.
        emulator.control("PUT", "/faults", {"rules": [{"status": 503, "count": 6, "target": "content"}]})
        worker = _start_worker(env, EXTRACT, warm=True)
        store = open_catalogue(fresh_postgres_url)
        started = Queue(EXTRACT, connection=redis).started_job_registry
        deadline = time.monotonic() + 60
        while started.count == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        emulator.control("DELETE", "/faults")
        assert requeue_abandoned(redis, [EXTRACT]) == 1
        second = _start_worker(env, EXTRACT, warm=True)
        assert second.wait(timeout=300) == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
        rows = [r for r in store.iter_documents(include_children=False) if r["source"] == "sharepoint"]
        site_drives = {
            d for s in emulator.control("GET", "/tenant")["sites"] if not s["personal"] for d in s["drive_ids"]
        }
        expected = {k for k, v in tenant_files(emulator).items() if v["drive_id"] in site_drives}
        assert len(rows) == len({r["item_id"] for r in rows}) == total
        assert {r["item_id"] for r in rows} == expected
        assert all(r["status"] == "ok" for r in rows)
        assert CrawlStore(store).pending_count() == 0
        store.close()


def test_tenant_pause_is_shared_and_only_ever_extended(redis: Redis) -> None:
    first, second = RedisPauseBoard(redis, "tenant-a"), RedisPauseBoard(redis, "tenant-a")
    other = RedisPauseBoard(redis, "tenant-b")
    assert first.paused_for() == 0
    assert first.pause(200) == pytest.approx(200, abs=1)  # beyond the SDK's 180 s ceiling
    assert second.paused_for() == pytest.approx(200, abs=1)
    assert second.pause(5) == pytest.approx(200, abs=1)  # a shorter pause never cuts a longer one
    assert other.paused_for() == 0
    assert 199 < redis.pttl(first.key) / 1000 < 202


@pytest.mark.parametrize(
    ("mime", "queue"),
    [("image/tiff", OCR), ("image/png", OCR), ("application/pdf", EXTRACT), (None, EXTRACT), ("text/plain", EXTRACT)],
)
def test_images_route_to_the_ocr_queue(mime: str | None, queue: str) -> None:
    assert jobs.queue_for(mime) == queue
