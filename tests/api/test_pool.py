"""The extraction process pool: a worker that dies is replaced, only the job that killed it fails, /healthz tells."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from docintel.api.app import create_app
from docintel.api.jobs import warm_extractor
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.pool import ExtractionCrashed, ExtractionPool
from docintel.api.settings import ApiSettings
from docintel.catalogue.store import CatalogueStore
from docintel.samples.pdf import oversized_page_pdf
from docintel.settings import Settings

VENDOR = "Greenway Grounds Maintenance Ltd"


def work(name: str, seconds: float) -> str:
    """What a worker does in these tests: die on "die" (as the OOM killer ends a worker), else sleep and answer."""
    if name == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(seconds)
    return f"done {name}"


def pool_workers(server_pid: int) -> list[int]:
    """Pids of the pool's workers: children of the fork server, which is a child of ``server_pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        if b"forkserver" in cmdline:
            children.setdefault(-int(entry.name), [])  # mark fork servers
    fork_servers = [pid for pid in children.get(server_pid, []) if -pid in children]
    return sorted(worker for server in fork_servers for worker in children.get(server, []))


@pytest.mark.slow
def test_only_the_job_that_killed_its_worker_fails_and_the_pool_is_rebuilt() -> None:
    pool = ExtractionPool(2, 60, warm_extractor, ["docintel.invoices"])
    try:
        pool.warm()
        with ThreadPoolExecutor(4) as threads:
            innocent = [threads.submit(pool.run, work, f"job{number}", 1.0) for number in range(3)]
            time.sleep(0.2)  # the innocent jobs are in the workers when the guilty one kills its own
            guilty = threads.submit(pool.run, work, "die", 0)
            with pytest.raises(ExtractionCrashed, match="ran out of memory or crashed"):
                guilty.result(timeout=60)
            assert sorted(future.result(timeout=60) for future in innocent) == ["done job0", "done job1", "done job2"]
        assert pool.run(work, "later", 0) == "done later"
        health = pool.health()
        assert health["state"] == "ok" and health["crashed_jobs"] == 1 and health["rebuilds"] >= 1
    finally:
        pool.close()
    assert pool.health()["state"] == "closed"


@pytest.fixture
def process_app(settings: Settings, store: CatalogueStore) -> FastAPI:
    return create_app(settings, store=store, api_settings=ApiSettings(pool="process", workers=2))


@pytest.mark.slow
def test_a_render_bomb_harms_no_other_client_and_a_dead_worker_is_replaced(
    process_app: FastAPI, keys: ApiKeyStore, api_key: NewApiKey, invoice_pdf: bytes
) -> None:
    other = keys.create("another-council-flow")
    with TestClient(process_app) as client:
        bomb = client.post(
            "/v1/invoices?wait=120",
            files={"file": ("bomb.pdf", oversized_page_pdf(21600))},  # one 21600 x 21600 pt page, 1.3 KB
            headers={"X-API-Key": api_key.key},
        )
        assert bomb.status_code == 200, bomb.text
        assert bomb.json()["status"] == "succeeded"  # read at ~19 DPI under the pixel cap: nothing to find, no harm
        normal = client.post(
            "/v1/invoices?wait=60", files={"file": ("a.pdf", invoice_pdf)}, headers={"X-API-Key": other.key}
        )
        assert normal.json()["result"]["fields"]["VendorName"]["value"] == VENDOR
        health = client.get("/healthz").json()
        assert health["queue"]["pool"] == {"state": "ok", "workers": 2, "rebuilds": 0, "crashed_jobs": 0}

        workers = pool_workers(os.getpid())
        assert len(workers) == 2, workers
        for pid in workers:  # as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)  # the executor notices its dead workers and marks itself broken
        after = client.post(
            "/v1/invoices?wait=60", files={"file": ("a.pdf", invoice_pdf)}, headers={"X-API-Key": api_key.key}
        )
        assert after.status_code == 200 and after.json()["status"] == "succeeded", after.text
        again = client.post(
            "/v1/invoices?wait=60", files={"file": ("a.pdf", invoice_pdf)}, headers={"X-API-Key": other.key}
        )
        assert again.json()["status"] == "succeeded"
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["queue"]["pool"]["rebuilds"] == 1
        assert set(pool_workers(os.getpid())).isdisjoint(workers)


def test_healthz_answers_503_when_the_pool_cannot_work(settings: Settings, store: CatalogueStore) -> None:
    app = create_app(settings, store=store, api_settings=ApiSettings(pool="process", workers=1))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        app.state.docintel.queue.close()  # what a pool that cannot restart its workers looks like from outside
        health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["queue"]["pool"]["state"] == "closed"
