"""Shared service fixtures: real servers the tests start or find, never mocks.

Redis: a throwaway ``redis-server`` on a free port for the session (``redis_url``).

PostgreSQL: ``$DOCINTEL_TEST_POSTGRES_URL`` if set, else the local server on 127.0.0.1:5432 (trust auth),
else a throwaway server started from the PostgreSQL binaries in a temporary folder. Each test session gets
its own freshly created database, dropped at the end.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL_ENV = "DOCINTEL_TEST_POSTGRES_URL"
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_CONNECT_TIMEOUT_SECONDS = 3


def _psycopg_dsn(url: str) -> str:
    """A libpq URL from a SQLAlchemy-style one (drops any +driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(_psycopg_dsn(url), connect_timeout=_CONNECT_TIMEOUT_SECONDS):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private PostgreSQL server from its binaries; yields its admin URL, stops and deletes it after."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL: no server reachable and no initdb binary found")
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the postgres system user.
        if shutil.which("runuser") is None:
            pytest.skip("PostgreSQL: running as root and runuser is missing, cannot start a throwaway server")
        as_user = ["runuser", "-u", "postgres", "--"]
    workdir = Path(tempfile.mkdtemp(prefix="docintel-pg-"))
    data_dir, socket_dir = workdir / "data", workdir / "sock"
    socket_dir.mkdir()
    if as_user:
        shutil.chown(workdir, "postgres")
        shutil.chown(socket_dir, "postgres")
    port = _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(workdir / "log"), "-w", "start"]
    try:
        subprocess.run([*as_user, *initdb], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_user, *start], check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.skip(f"PostgreSQL: could not start a throwaway server: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Admin URL of a PostgreSQL server: the configured one, the local one, or a throwaway one."""
    configured = os.environ.get(POSTGRES_URL_ENV)
    if configured:
        if not _can_connect(configured):
            pytest.fail(f"{POSTGRES_URL_ENV} is set but the server does not answer")
        yield configured
    elif _can_connect(LOCAL_POSTGRES_URL):
        yield LOCAL_POSTGRES_URL
    else:
        with throwaway_postgres() as url:
            yield url


@contextlib.contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """A fresh, uniquely named database on ``server_url``, dropped afterwards; yields its URL."""
    name = f"docintel_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_psycopg_dsn(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_psycopg_dsn(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session (dropped at the end)."""
    with temporary_database(postgres_server) as url:
        yield url


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """URL of a database created for this one test (for tests that need an empty, unmigrated catalogue)."""
    with temporary_database(postgres_server) as url:
        yield url


REDIS_SERVER = "/usr/bin/redis-server"


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a throwaway redis-server started for this test session on a free port."""
    binary = shutil.which("redis-server") or REDIS_SERVER
    if not Path(binary).exists():
        pytest.skip("redis-server binary not installed")
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="docintel-redis-")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", workdir, "--maxmemory-policy", "noeviction"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root logger back as pytest had it once a test has run ``configure_logging``."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
