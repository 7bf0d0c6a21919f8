"""The deployment as a council runs it: compose.yaml's stack in Docker, three worker containers, the emulated tenant.

Run by `make test-deploy` (which builds the images first); skipped elsewhere. It brings the stack up with the
demo profile, crawls the tenant, posts invoices to the API for the dedicated invoices worker, `docker kill`s a
worker container mid-job, and checks the catalogue holds exactly the tenant's files, each once, every document and
invoice finished; then tears the stack down with its volumes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCINTEL_UID = 10001  # the image's user (Dockerfile): it must read the mounted secret files
WORKERS = 3
INVOICES = 6

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # image-backed stack: start, crawl, a killed worker's job re-run, drain
    pytest.mark.skipif(os.environ.get("DOCINTEL_TEST_DEPLOY") != "1", reason="run by `make test-deploy`"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """One compose project: its name, environment and helpers to run commands in it."""

    def __init__(self, secrets_dir: Path) -> None:
        self.project = f"docintel-deploy-{os.getpid()}"
        self.api_port = _free_port()
        self.graph_port = _free_port()
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "DOCINTEL_SECRETS_DIR": str(secrets_dir),
            "DOCINTEL_PORT": str(self.api_port),
            "DOCINTEL_GRAPH_EMULATOR_PORT": str(self.graph_port),
            "DOCINTEL_GRAPH_BASE_URL": "http://graph-emulator:8765/v1.0",
            "DOCINTEL_GRAPH_TOKEN": "demo",
        }

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``docker-compose --profile demo ARGS`` in the project folder."""
        done = subprocess.run(
            ["docker-compose", "--profile", "demo", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode:
            pytest.fail(f"docker-compose {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}")
        return done

    def docintel(self, *args: str, timeout: float = 300) -> str:
        """A one-off `docintel ARGS` in a worker container of the stack; its standard output."""
        return self.compose("run", "--rm", "--no-deps", "-T", "worker", *args, timeout=timeout).stdout

    def sql(self, query: str) -> list[list[str]]:
        """Rows of ``query`` on the catalogue, through psql in the postgres container."""
        out = self.compose(
            "exec", "-T", "postgres", "psql", "-U", "docintel", "-d", "docintel", "-AtF", "\t", "-c", query
        )
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def redis(self, *args: str) -> str:
        """A redis-cli command in the redis container."""
        return self.compose("exec", "-T", "redis", "redis-cli", *args).stdout.strip()

    def container_ids(self, service: str) -> list[str]:
        """Running containers of ``service``."""
        return self.compose("ps", "-q", service).stdout.split()


def _write_secrets(folder: Path) -> None:
    """The secrets as an operator makes them: `make deploy-secrets SECRETS_DIR=...`."""
    subprocess.run(["make", "--no-print-directory", "deploy-secrets", f"SECRETS_DIR={folder}"], cwd=ROOT, check=True)
    for name in ("pii_key", "pgpass"):
        assert (folder / name).stat().st_uid == DOCINTEL_UID
        assert (folder / name).stat().st_mode & 0o077 == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    engine = subprocess.run(["docker", "info"], check=False, capture_output=True)
    if shutil.which("docker-compose") is None or engine.returncode:
        pytest.skip("no Docker engine: `make test-deploy` starts one as root")
    secrets_dir = tmp_path_factory.mktemp("deploy") / "secrets"
    _write_secrets(secrets_dir)
    running = Stack(secrets_dir)
    try:
        running.compose("up", "-d", "--no-build", "--scale", f"worker={WORKERS}")
        _wait_healthy(running)
        yield running
    finally:
        logs = running.compose("logs", "--no-color", "--tail", "40", check=False).stdout
        print(logs[-20000:])  # shown by pytest only when a test failed
        running.compose("down", "-v", "--remove-orphans", timeout=300, check=False)


def _wait_healthy(stack: Stack, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{stack.api_port}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail("docintel serve never answered /healthz")


def _tenant_files(stack: Stack) -> dict[str, dict[str, Any]]:
    """Every live file of the emulated tenant (drives and mailboxes' messages are listed by the control API)."""
    control = f"http://127.0.0.1:{stack.graph_port}/_control"
    files: dict[str, dict[str, Any]] = {}
    for drive in httpx.get(f"{control}/tenant", timeout=30).json()["drives"]:
        for item in httpx.get(f"{control}/drives/{drive['id']}/items", timeout=30).json():
            if not item["folder"]:
                files[item["id"]] = item
    return files


def _queues_idle(stack: Stack) -> bool:
    busy = 0
    for queue in ("crawl", "extract", "ocr", "classify", "invoices"):
        busy += int(stack.redis("LLEN", f"rq:queue:{queue}") or 0)
        busy += int(stack.redis("ZCARD", f"rq:wip:{queue}") or 0)
        busy += int(stack.redis("ZCARD", f"rq:scheduled:{queue}") or 0)
    return busy == 0


def _wait_for(predicate: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}")


def test_stack_crawls_the_tenant_and_serves_invoices_through_a_worker_kill(stack: Stack, tmp_path: Path) -> None:
    # Migrations ran once, in `migrate`; serve and the workers only checked the revision.
    migrate = stack.compose("ps", "-a", "migrate").stdout
    assert "Exit 0" in migrate, migrate
    assert len(stack.container_ids("worker")) == WORKERS

    key = stack.compose("run", "--rm", "--no-deps", "-T", "serve", "api-key", "create", "deploy-test").stdout
    api_key = next(line.split(":", 1)[1].strip() for line in key.splitlines() if "X-API-Key:" in line)
    headers = {"X-API-Key": api_key}

    docintel = Path(sys.executable).with_name("docintel")
    subprocess.run([str(docintel), "samples", str(tmp_path / "samples")], check=True, capture_output=True)
    invoice = (tmp_path / "samples" / "invoice.pdf").read_bytes()

    stack.docintel("crawl", "--source", "sharepoint", "--source", "onedrive")
    # Kill one worker container as soon as it has a job in hand: that job must be re-run elsewhere.
    victim = stack.container_ids("worker")[0]
    _wait_for(lambda: any(int(stack.redis("ZCARD", f"rq:wip:{q}") or 0) for q in ("crawl", "extract")), "a job", 120)
    subprocess.run(["docker", "kill", victim], check=True, capture_output=True)

    jobs = []
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.api_port}", timeout=60) as client:
        for number in range(INVOICES):
            answer = client.post(
                "/v1/invoices",
                headers=headers,
                files={"file": (f"invoice-{number}.pdf", invoice, "application/pdf")},
            )
            assert answer.status_code in (200, 202), answer.text
            jobs.append(answer.json()["id"])

        _wait_for(lambda: _queues_idle(stack), "the queues to drain", 900)

        finished = {}
        for job_id in jobs:
            body = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
            finished[job_id] = body["status"]
        assert set(finished.values()) == {"succeeded"}, finished

    expected = _tenant_files(stack)
    rows = stack.sql(
        "SELECT item_id, name, sha256, status, error_type FROM documents WHERE parent_id IS NULL AND NOT deleted "
        "AND source IN ('sharepoint', 'onedrive')"
    )
    found = {row[0]: row for row in rows}
    assert len(rows) == len(found), "a file was catalogued twice"
    assert set(found) == set(expected), "the catalogue differs from the tenant"
    for item_id, want in expected.items():
        assert found[item_id][2] == want["hashes"]["sha256Hash"].lower()
    # Bad files of the demo tenant end failed with their reason; nothing is left pending.
    assert all(row[3] == "ok" or (row[3] == "failed" and row[4]) for row in rows), rows
    status = stack.docintel("status")
    assert "invoices" in status, status
    # Each container serves metrics inside the stack's network; a worker's count the whole catalogue and its jobs.
    fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9100/metrics').read().decode())"
    scrapes = [
        stack.compose("exec", "-T", f"--index={i}", "worker", "python3", "-c", fetch, check=False)
        for i in range(1, WORKERS + 1)
    ]
    scraped = next(done.stdout for done in scrapes if done.returncode == 0)
    assert 'docintel_documents{status="ok"} ' in scraped, scraped[-2000:]
    assert "docintel_worker_jobs_total" in scraped
    print(json.dumps({"files": len(expected), "invoices": len(jobs)}))
