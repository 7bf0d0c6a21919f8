"""Real `docintel serve` processes on one catalogue: heartbeats, a second server, kill -9, restart and resume.

What these tests check is what docs/invoices.md ("What survives a crash without Redis") promises.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from docintel.api.keys import ApiKeyStore
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from tests.api.conftest import free_port

DOCINTEL = str(Path(sys.executable).parent / "docintel")
# Short beats so a stopped server is noticed in seconds, not the production half-minute.
HEARTBEAT = {"DOCINTEL_API__HEARTBEAT_SECONDS": "0.5", "DOCINTEL_API__HEARTBEAT_TIMEOUT_SECONDS": "3"}


@dataclass
class ServeProcess:
    """A `docintel serve` subprocess and its base URL."""

    process: subprocess.Popen[bytes]
    url: str


def descendants(pid: int) -> set[int]:
    """Every live (not zombie) process below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def serve(catalogue_url: str, tmp_path: Path, **env: str) -> Iterator[ServeProcess]:
    """Start `docintel serve` on a free port and wait until /healthz answers; stop it (SIGTERM) afterwards."""
    port = free_port()
    environment = {**os.environ, **HEARTBEAT, "DOCINTEL_API__SPOOL_DIR": str(tmp_path / "spool"), **env}
    environment.pop("DOCINTEL_REDIS_URL", None)
    log = (tmp_path / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [DOCINTEL, "serve", "--port", str(port), "--catalogue", catalogue_url], env=environment, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "docintel serve did not start"
            time.sleep(0.2)
        yield ServeProcess(process, url)
    finally:
        left = descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in left:  # never leak a process into the rest of the session, whatever the test saw
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()


def _submit(base_url: str, key: str, content: bytes, name: str) -> str:
    response = httpx.post(
        f"{base_url}/v1/invoices", files={"file": (name, content)}, headers={"X-API-Key": key}, timeout=30
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _statuses(store: CatalogueStore, job_ids: list[str]) -> dict[str, tuple[str, str | None, int]]:
    query = select(t.invoice_jobs.c.id, t.invoice_jobs.c.status, t.invoice_jobs.c.error_type, t.invoice_jobs.c.resumes)
    with store.engine.connect() as connection:
        rows = connection.execute(query.where(t.invoice_jobs.c.id.in_(job_ids))).all()
    return {row.id: (row.status, row.error_type, row.resumes) for row in rows}


def _wait_finished(store: CatalogueStore, job_ids: list[str], timeout: float) -> dict[str, tuple[str, str | None, int]]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = _statuses(store, job_ids)
        if all(status in ("succeeded", "failed") for status, _, _ in statuses.values()):
            return statuses
        assert time.monotonic() < deadline, statuses
        time.sleep(0.25)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A catalogue on disk (SQLite) or a fresh PostgreSQL database, shared by every server of the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def catalogue(catalogue_url: str) -> Iterator[CatalogueStore]:
    """The test's own connection to the servers' catalogue."""
    store = open_catalogue(catalogue_url)
    yield store
    store.close()


@pytest.mark.slow
def test_a_second_server_leaves_the_first_servers_jobs_alone(
    catalogue_url: str, catalogue: CatalogueStore, tmp_path: Path, invoice_png: bytes
) -> None:
    key = ApiKeyStore(catalogue).create("flow").key
    # One slot and OCR'd images: the jobs are still queued and running when the second server starts.
    slow = {"DOCINTEL_API__POOL": "thread", "DOCINTEL_API__WORKERS": "1"}
    with serve(catalogue_url, tmp_path, **slow) as first:
        job_ids = [_submit(first.url, key, invoice_png, f"photo{number}.png") for number in range(6)]
        with serve(catalogue_url, tmp_path, **slow) as second:
            time.sleep(4)  # longer than the heartbeat timeout: the second server has looked for stopped servers
            early = _statuses(catalogue, job_ids)
            assert not any(error == "JobAbandoned" for _, error, _ in early.values()), early
            assert httpx.get(f"{second.url}/healthz", timeout=5).json()["status"] == "ok"
        finished = _wait_finished(catalogue, job_ids, timeout=120)
    assert {status for status, _, _ in finished.values()} == {"succeeded"}, finished
    assert {resumes for _, _, resumes in finished.values()} == {0}  # the first server ran every one itself


@pytest.mark.slow
def test_kill_9_leaves_no_orphans_and_a_restarted_server_resumes_acknowledged_jobs(
    catalogue_url: str, catalogue: CatalogueStore, tmp_path: Path, invoice_png: bytes, invoice_pdf: bytes
) -> None:
    key = ApiKeyStore(catalogue).create("flow").key
    one_worker = {"DOCINTEL_API__POOL": "process", "DOCINTEL_API__WORKERS": "1"}
    with serve(catalogue_url, tmp_path, **one_worker) as doomed:
        job_ids = [_submit(doomed.url, key, invoice_png, f"photo{number}.png") for number in range(5)]
        job_ids += [_submit(doomed.url, key, invoice_pdf, f"invoice{number}.pdf") for number in range(5)]
        pool = descendants(doomed.process.pid)
        assert pool, "the process pool should be running"
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        deadline = time.monotonic() + 10
        while (survivors := {pid for pid in pool if alive(pid)}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not survivors, f"processes outlived the killed server: {survivors}"
    before = _statuses(catalogue, job_ids)
    unfinished = [job_id for job_id, (status, _, _) in before.items() if status in ("queued", "running")]
    assert unfinished, "every job finished before the kill: nothing left to resume"
    # One job's upload is gone (a lost disk, another machine's spool): that one cannot be resumed.
    lost = unfinished[-1]
    (tmp_path / "spool" / f"{lost}.upload").unlink()
    with serve(catalogue_url, tmp_path, **one_worker):
        finished = _wait_finished(catalogue, job_ids, timeout=180)
    for job_id in unfinished:
        status, error, resumes = finished[job_id]
        if job_id == lost:
            assert (status, error) == ("failed", "JobAbandoned")
        else:
            assert (status, resumes) == ("succeeded", 1), (job_id, finished[job_id])
    assert list((tmp_path / "spool").glob("*.upload")) == []  # nothing kept once its job finished
