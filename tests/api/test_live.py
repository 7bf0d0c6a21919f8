"""The API over real HTTP: uvicorn on a free port, the in-process pools, the rq path with real Redis and worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis
from sqlalchemy import select

from docintel.api.app import create_app
from docintel.api.jobs import QUEUE_NAME, content_key
from docintel.api.keys import NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings
from tests.api.conftest import free_port, live_server

VENDOR = "Greenway Grounds Maintenance Ltd"


def _submit_then_poll(base_url: str, key: str, invoice: bytes, slow_invoice: bytes) -> None:
    """Inline with ``wait``, then 202 + polling for ``slow_invoice`` (OCR'd, so it cannot finish before the answer)."""
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        inline = http.post("/v1/invoices", params={"wait": 30}, files={"file": ("a.pdf", invoice)})
        assert inline.status_code == 200, inline.text
        assert inline.json()["result"]["fields"]["VendorName"]["value"] == VENDOR

        accepted = http.post("/v1/invoices", params={"wait": 0}, files={"file": ("a.png", slow_invoice)})
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["Location"]
        assert location.startswith(base_url)  # absolute: Power Automate follows it as given
        deadline = time.monotonic() + 60
        while (polled := http.get(location)).status_code == 202:
            assert time.monotonic() < deadline, "job never finished"
            time.sleep(0.05)
        assert polled.status_code == 200
        assert polled.json()["status"] == "succeeded"


@pytest.mark.parametrize("pool", ["thread", pytest.param("process", marks=pytest.mark.slow)])
def test_uvicorn_wait_and_202_flow(
    settings: Settings, store: CatalogueStore, api_key: NewApiKey, invoice_pdf: bytes, invoice_png: bytes, pool: str
) -> None:
    app = create_app(settings, store=store, api_settings=ApiSettings(pool=pool, workers=2))
    with live_server(app) as server:
        _submit_then_poll(server.url, api_key.key, invoice_pdf, invoice_png)


@pytest.fixture
def rq_worker(redis_url: str, settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``docintel worker --queues invoices`` process (as docs/invoices.md says), writing to the catalogue."""
    env = {
        **os.environ,
        "DOCINTEL_CATALOGUE_URL": settings.catalogue.url,
        "DOCINTEL_CONFIG_DIR": str(settings.config_dir),
        "DOCINTEL_REDIS_URL": redis_url,
        "OMP_THREAD_LIMIT": "1",
    }
    (settings.config_dir / "settings.yaml").write_text("{}\n", encoding="utf-8")
    docintel = Path(sys.executable).with_name("docintel")
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(docintel), "worker", "--queues", QUEUE_NAME],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.mark.needs_redis
@pytest.mark.slow
def test_rq_path_processes_jobs_on_the_invoices_queue(
    redis_url: str,
    rq_worker: subprocess.Popen[bytes],
    settings: Settings,
    store: CatalogueStore,
    api_key: NewApiKey,
    invoice_pdf: bytes,
    invoice_png: bytes,
) -> None:
    app = create_app(settings, store=store, redis_url=redis_url, api_settings=ApiSettings(pool="thread", workers=1))
    with live_server(app) as server:
        _submit_then_poll(server.url, api_key.key, invoice_pdf, invoice_png)
        redis = Redis.from_url(redis_url)
        with store.engine.connect() as connection:
            jobs = list(connection.execute(select(t.invoice_jobs.c.id)).scalars())
        assert len(jobs) == 2
        # The worker deleted each job's bytes once done; nothing of the document is left in Redis.
        assert not any(redis.exists(content_key(job_id)) for job_id in jobs)
    assert rq_worker.poll() is None, "the worker died"


@pytest.mark.needs_redis
def test_rq_rate_limit_is_shared_through_redis(
    redis_url: str, settings: Settings, store: CatalogueStore, keys, invoice_pdf: bytes
) -> None:
    limited = keys.create("shared-limit", rate_limit_per_minute=3)
    first = create_app(settings, store=store, redis_url=redis_url, api_settings=ApiSettings(pool="thread"))
    second = create_app(settings, store=store, redis_url=redis_url, api_settings=ApiSettings(pool="thread"))
    with live_server(first) as one, live_server(second) as two:
        statuses = [
            httpx.get(f"{server.url}/v1/jobs/{'0' * 32}", headers={"X-API-Key": limited.key}).status_code
            for server in (one, two, one, two)
        ]
    assert statuses == [404, 404, 404, 429]


@pytest.mark.needs_redis
def test_job_whose_bytes_expired_fails_cleanly(
    redis_url: str, settings: Settings, store: CatalogueStore, api_key: NewApiKey, tmp_path: Path
) -> None:
    from rq import Queue, SimpleWorker

    from docintel.api.jobs import InvoiceJobStore

    jobs = InvoiceJobStore(store, 60)
    job = jobs.create(api_key_id=api_key.client.key_id, backend="rq", file_type="pdf", mime_type="application/pdf",
                      size=10, sha256="0" * 64, callback_url=None)  # fmt: skip
    redis = Redis.from_url(redis_url)
    queue = Queue(f"{QUEUE_NAME}-expiry-{free_port()}", connection=redis)
    queue.enqueue("workers.invoices.process_invoice", job.id, job_id=job.id)
    env = {"DOCINTEL_CATALOGUE_URL": settings.catalogue.url, "DOCINTEL_CONFIG_DIR": str(settings.config_dir)}
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        # SimpleWorker in this (main) thread: it needs the main thread for its signal handlers.
        SimpleWorker([queue], connection=redis).work(burst=True)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    finished = jobs.get(job.id)
    assert finished is not None
    assert finished.status.value == "failed"
    assert finished.error_type == "ContentExpired"
