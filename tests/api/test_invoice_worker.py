"""Invoices on the rq path: a real ``docintel worker --queues invoices``, real Redis, horses killed with SIGKILL."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont
from redis import Redis
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import update

from docintel.api.app import create_app
from docintel.api.jobs import QUEUE_NAME, InvoiceJobStore, content_key
from docintel.api.keys import NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings, get_settings
from tests.api.conftest import FONT, CallbackReceiver, live_server
from workers.commands import status_command
from workers.invoices import reconcile_invoice_jobs
from workers.queues import CALLBACKS, INVOICES

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_tesseract, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _scanned_invoice_pdf(pages: int) -> bytes:
    """An image-only PDF of dense invoice lines: OCR takes seconds a page, so a job is surely in flight."""
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    for row in range(60):
        line = f"Fenwick Stationers Ltd  Invoice FS-{row:05d}  Total £{row}.00"
        draw.text((100, 100 + row * 55), line, fill=0, font=font)
    png = io.BytesIO()
    image.save(png, format="PNG")
    out = io.BytesIO()
    document = canvas.Canvas(out, pagesize=(595, 842))
    for _ in range(pages):
        document.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, 595, 842)
        document.showPage()
    document.save()
    return out.getvalue()


def _work_horses(pid: int) -> list[int]:
    """Children of worker ``pid`` that lead their own process group: rq's work horse (its scheduler does not)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and int(fields[2]) == int(entry.name):  # ppid, process group
                found.append(int(entry.name))
    return found


@pytest.fixture
def worker_env(redis_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The environment of a worker (and of `docintel status` in this process), with an empty Redis database."""
    Redis.from_url(redis_url).flushdb()
    (settings.config_dir / "settings.yaml").write_text("{}\n", encoding="utf-8")
    env = {
        "DOCINTEL_CATALOGUE_URL": settings.catalogue.url,
        "DOCINTEL_CONFIG_DIR": str(settings.config_dir),
        "DOCINTEL_REDIS_URL": redis_url,
        "OMP_THREAD_LIMIT": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield {**os.environ, **env}
    get_settings.cache_clear()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    docintel = Path(sys.executable).with_name("docintel")
    return subprocess.Popen(
        [str(docintel), "worker", "--queues", INVOICES],
        env=env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killpg takes the worker and its horse
    )


def _wait_for_status(jobs: InvoiceJobStore, job_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (job := jobs.get(job_id)) is None or job.status.value != status:
        assert time.monotonic() < deadline, f"job never {status}: {job.status if job else None}"
        time.sleep(0.05)


def _post(base_url: str, key: str, content: bytes, wait: int) -> httpx.Response:
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=90) as http:
        return http.post("/v1/invoices", params={"wait": wait}, files={"file": ("scan.pdf", content)})


def test_killed_work_horse_fails_the_job_with_its_signal_and_the_worker_goes_on(
    redis_url: str,
    worker_env: dict[str, str],
    settings: Settings,
    store: CatalogueStore,
    api_key: NewApiKey,
    invoice_pdf: bytes,
    tmp_path: Path,
) -> None:
    worker = _start_worker(worker_env, tmp_path / "worker.log")
    jobs = InvoiceJobStore(store, 3600)
    app = create_app(settings, store=store, redis_url=redis_url, api_settings=ApiSettings(pool="thread", workers=1))
    try:
        with live_server(app) as server:
            accepted = _post(server.url, api_key.key, _scanned_invoice_pdf(pages=3), wait=0)
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["id"]
            _wait_for_status(jobs, job_id, "running")
            horses = _work_horses(worker.pid)
            assert len(horses) == 1, horses
            os.kill(horses[0], signal.SIGKILL)
            _wait_for_status(jobs, job_id, "failed", timeout=30)
            with httpx.Client(base_url=server.url, headers={"X-API-Key": api_key.key}) as http:
                answer = http.get(f"/v1/jobs/{job_id}").json()
            assert answer["error"]["type"] == "WorkerKilled"
            assert "signal 9 (SIGKILL" in answer["error"]["message"]
            assert not Redis.from_url(redis_url).exists(content_key(job_id))  # the document's bytes are gone
            # The worker itself lives on and serves the next invoice.
            assert worker.poll() is None
            after = _post(server.url, api_key.key, invoice_pdf, wait=60)
            assert after.status_code == 200 and after.json()["status"] == "succeeded", after.text
        status = CliRunner().invoke(status_command, [])
        assert status.exit_code == 0, status.output
        line = next(line for line in status.output.splitlines() if line.startswith("invoices "))
        assert line.split()[1:] == ["0", "0", "0", "1"]  # queued, started, scheduled, failed
        assert f"failed {job_id}: process_invoice: Work-horse terminated unexpectedly" in status.output
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def test_kill_9_of_the_whole_worker_re_runs_the_invoice_on_the_next_worker(
    redis_url: str,
    worker_env: dict[str, str],
    settings: Settings,
    store: CatalogueStore,
    api_key: NewApiKey,
    tmp_path: Path,
) -> None:
    worker = _start_worker(worker_env, tmp_path / "first.log")
    jobs = InvoiceJobStore(store, 3600)
    app = create_app(settings, store=store, redis_url=redis_url, api_settings=ApiSettings(pool="thread", workers=1))
    with live_server(app) as server:
        accepted = _post(server.url, api_key.key, _scanned_invoice_pdf(pages=1), wait=0)
        job_id = accepted.json()["id"]
        _wait_for_status(jobs, job_id, "running")
        os.killpg(worker.pid, signal.SIGKILL)  # worker and horse: nobody is left to record anything
        worker.wait()
        assert jobs.get(job_id).status.value == "running"  # type: ignore[union-attr]
        second = _start_worker(worker_env, tmp_path / "second.log")
        try:
            _wait_for_status(jobs, job_id, "succeeded", timeout=90)
        finally:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()


def test_reconciliation_fails_jobs_rq_failed_or_lost_and_leaves_finished_ones(
    redis_url: str, worker_env: dict[str, str], store: CatalogueStore, api_key: NewApiKey
) -> None:
    redis = Redis.from_url(redis_url)
    jobs = InvoiceJobStore(store, 3600)

    def create(status: str, age: dt.timedelta = dt.timedelta(0)) -> str:
        job = jobs.create(api_key_id=api_key.client.key_id, backend="rq", file_type="pdf",
                          mime_type="application/pdf", size=10, sha256="0" * 64, callback_url=None)  # fmt: skip
        values = {"status": status, "created_at": dt.datetime.now(dt.UTC) - age}
        with store.transaction("test", write=True) as connection:
            connection.execute(update(t.invoice_jobs).where(t.invoice_jobs.c.id == job.id).values(values))
        return job.id

    killed, finished = create("running"), create("succeeded")
    lost, young = create("queued", dt.timedelta(hours=1)), create("queued")
    queue = Queue(QUEUE_NAME, connection=redis)
    registry = FailedJobRegistry(queue=queue)
    for job_id in (killed, finished):
        rq_job = queue.enqueue("workers.invoices.process_invoice", job_id, job_id=job_id)
        queue.remove(rq_job)
        exc_string = "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); "
        registry.add(rq_job, exc_string=exc_string)
        Result.create_failure(rq_job, ttl=600, exc_string=exc_string)  # as rq's worker records it
    queue.enqueue("workers.invoices.process_invoice", young, job_id=young)

    assert reconcile_invoice_jobs(redis) == 2
    assert jobs.get(killed).error_type == "WorkerKilled"  # type: ignore[union-attr]
    assert jobs.get(lost).error_type == "JobLost"  # type: ignore[union-attr]
    assert jobs.get(finished).status.value == "succeeded"  # type: ignore[union-attr]
    assert jobs.get(young).status.value == "queued"  # type: ignore[union-attr]
    assert reconcile_invoice_jobs(redis) == 0  # idempotent


def test_invoice_queue_name_is_the_one_the_api_enqueues_on() -> None:
    assert INVOICES == QUEUE_NAME


def test_a_slow_callback_receiver_holds_the_callbacks_worker_never_the_invoices_one(
    redis_url: str,
    worker_env: dict[str, str],
    settings: Settings,
    store: CatalogueStore,
    api_key: NewApiKey,
    invoice_pdf: bytes,
    callback_receiver: CallbackReceiver,
    tmp_path: Path,
) -> None:
    callback_receiver.delay = 8.0
    env = {**worker_env, "DOCINTEL_API__CALLBACK_ALLOWED_INTERNAL": '["127.0.0.1"]'}
    docintel = str(Path(sys.executable).with_name("docintel"))
    workers = [
        subprocess.Popen(
            [docintel, "worker", "--queues", queues, *extra],
            env=env,
            cwd=REPO,
            stdout=(tmp_path / f"{queues}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for queues, extra in ((INVOICES, []), (CALLBACKS, ["--no-warm"]))
    ]
    jobs = InvoiceJobStore(store, 3600)
    app = create_app(
        settings,
        store=store,
        redis_url=redis_url,
        api_settings=ApiSettings(pool="thread", workers=1, callback_allowed_internal=["127.0.0.1"]),
    )
    try:
        with (
            live_server(app) as server,
            httpx.Client(base_url=server.url, headers={"X-API-Key": api_key.key}, timeout=90) as http,
        ):
            first = http.post(
                "/v1/invoices", files={"file": ("a.pdf", invoice_pdf)}, data={"callback_url": callback_receiver.url}
            )
            first_id = first.json()["id"]
            _wait_for_status(jobs, first_id, "succeeded", timeout=90)
            started = time.monotonic()
            second = http.post("/v1/invoices", params={"wait": 30}, files={"file": ("b.pdf", invoice_pdf)})
            elapsed = time.monotonic() - started
            assert second.json()["status"] == "succeeded", second.text
            # The second invoice was read while the first one's receiver was still taking its 8 s.
            assert elapsed < callback_receiver.delay, f"the invoice waited {elapsed:.1f} s behind a callback"
            assert callback_receiver.received == []
            assert len(callback_receiver.wait(1, timeout=60)) == 1
            deadline = time.monotonic() + 30
            while jobs.get(first_id).callback_status != "delivered":  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the callback was never recorded as delivered"
                time.sleep(0.1)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
