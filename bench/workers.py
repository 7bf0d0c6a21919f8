"""Worker scaling: throughput of the emulated-tenant crawl and processing with 1, 2 and 4 ``docintel worker``
processes, Redis and PostgreSQL operations per document, and from those a projection of where 50 worker hosts
would saturate PostgreSQL or Redis (issue 17, "Measured").

    .venv/bin/python -m bench.workers                                  # 400 files, 1,2,4 workers, 3 repeats
    .venv/bin/python -m bench.workers --files 20 --workers 1,2 --repeats 1 --pgbench-seconds 0   # a quick look

Every run is built from nothing: a GENERATED tenant (4 SharePoint sites, ``--files`` files of the emulator's usual
mix: PDF, DOCX, TXT and CSV invoices, case notes, minutes, planning decisions, FOI requests, payroll, policies,
contracts) served by the Graph emulator in its own process over real HTTP; a private ``redis-server`` on a free
port; a fresh PostgreSQL database on the local server (``--postgres``, dropped afterwards) as the catalogue. Then:

1. ``docintel migrate`` (schema), then the statistics are read: Redis ``INFO`` (command counts, bytes, CPU),
   PostgreSQL ``pg_stat_database`` and ``pg_stat_user_tables`` of the bench database;
2. ``docintel crawl`` enqueues the crawl and one ``docintel worker --queues crawl --burst --no-warm`` enumerates
   every drive (each changed file becomes an ``extract`` job): the "crawl" seconds;
3. N ``docintel worker --queues extract,ocr --burst`` processes, started together, process every document and
   exit when the queues are empty. The crawl runs first, apart, because a burst worker that comes up while the
   crawl job has not yet enqueued anything would find the queues empty and exit at once;
4. the statistics are read again; their differences are divided by the documents catalogued.

Throughput is reported twice. "steady" counts the documents the catalogue says were stored (``processed_at``)
after the last of the N workers had loaded its models (registered with rq), over the time from then to the last
document: what long-lived workers sustain. "end to end" divides every document by the time from starting the
workers to the last one exiting, model loading included. CPU seconds per document are the workers' own CPU and
their work horses' (``wait4`` rusage), less what each had used loading its models (``/proc/PID/stat`` when it
registered). Figures are medians over ``--repeats`` runs.

Capacities for the projection are measured on the same machine where the tools are installed: ``pgbench`` (TPC-B
like, 4 clients, ``--pgbench-seconds``) on a throwaway database of the same server, and ``redis-benchmark`` (SET,
LPUSH, RPOP, 50 clients) on the private Redis. A machine shared with other jobs gives low, noisy capacities; the
projection prints the assumed capacities of a modest dedicated server beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from redis import Redis
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import format_table, project_root
from bench.crawl import ORGANISATION, free_port, write_config
from docintel.graph_emulator.testing import emulator_process

# The local server's admin URL (trust auth on this project's machines); --postgres overrides it.
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Sites of the generated tenant: one drive each, so the crawl is four delta rounds.
TENANT_SITES = 4
# Queues the processing workers serve (the crawl is run before them; see the module docstring).
PROCESSING_QUEUES = "extract,ocr"
# How often the bench looks for registered workers and counts PostgreSQL connections while workers run.
POLL_SECONDS = 0.2
# A processing run that takes longer than this is stuck: its workers are stopped and the bench fails.
RUN_TIMEOUT_SECONDS = 3600
# Capacities assumed for a modest dedicated server (stated, not measured here): one Redis core serves
# 50,000-100,000 simple commands a second; PostgreSQL on 8 cores with SSDs commits a few thousand small
# write transactions a second; the default max_connections is 100.
ASSUMED_REDIS_OPS_PER_SECOND = 50_000
ASSUMED_POSTGRES_COMMITS_PER_SECOND = 5_000
# Hosts and cores per host of the projection.
PROJECTED_HOSTS = 50
PROJECTED_CORES = (2, 4)
# A worker count whose throughput is less than this much above the previous count's has flattened.
FLATTEN_GAIN = 1.10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# PostgreSQL per-database counters read before and after (pg_stat_database; ``sessions`` is PostgreSQL 14+).
PG_DATABASE_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "blks_read",
    "blks_hit",
    "sessions",
)
PG_TABLE_COUNTERS = ("n_tup_ins", "n_tup_upd", "n_tup_del", "seq_scan", "idx_scan")


# --- the tenant, the services ----------------------------------------------------------------------------------


def tenant_file(folder: Path, files: int, sites: int = TENANT_SITES) -> Path:
    """A tenant of ``sites`` SharePoint sites sharing ``files`` generated files of every template and format."""
    per_site = [files // sites + (1 if number < files % sites else 0) for number in range(sites)]
    spec: dict[str, Any] = {
        "tenant": {"name": ORGANISATION, "domain": "bench", "seed": 17},
        "sites": [
            {"name": f"service{number}", "libraries": [{"name": "Documents", "generate": {"files": count}}]}
            for number, count in enumerate(per_site)
            if count
        ],
    }
    path = folder / f"tenant-scale-{files}.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A throwaway redis-server on a free port of 127.0.0.1 (no persistence, never evicts); yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = workdir / f"redis-{port}"
    folder.mkdir(parents=True)
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(folder), "--maxmemory-policy", "noeviction"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(url).ping()
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def libpq_url(url: str, database: str | None = None) -> str:
    """A libpq URL (no SQLAlchemy driver suffix), optionally for another database of the same server."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str = "docintel_bench_scale") -> Iterator[str]:
    """A new database on ``server_url``, dropped afterwards (with any session left on it); yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield libpq_url(server_url, name)
    finally:
        with psycopg.connect(libpq_url(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- statistics ------------------------------------------------------------------------------------------------


@dataclass
class RedisSnapshot:
    """What a Redis server has done so far: calls per command, commands, bytes in and out, CPU seconds."""

    calls: dict[str, int]
    commands: int
    bytes_in: int
    bytes_out: int
    cpu_seconds: float


def redis_snapshot(connection: Redis) -> RedisSnapshot:
    """One ``INFO all`` (it counts itself once in the next snapshot: :func:`redis_delta` takes it off)."""
    info = connection.info("all")
    calls = {key.removeprefix("cmdstat_"): int(value["calls"]) for key, value in info.items()
             if key.startswith("cmdstat_")}  # fmt: skip
    return RedisSnapshot(
        calls=calls,
        commands=int(info["total_commands_processed"]),
        bytes_in=int(info["total_net_input_bytes"]),
        bytes_out=int(info["total_net_output_bytes"]),
        cpu_seconds=float(info["used_cpu_user"]) + float(info["used_cpu_sys"]),
    )


def redis_delta(before: RedisSnapshot, after: RedisSnapshot, own_calls: dict[str, int]) -> dict[str, Any]:
    """Commands, bytes and CPU between two snapshots, less the bench's own commands (``own_calls``)."""
    own = {"info": 1, **own_calls}
    calls = {}
    for name, count in after.calls.items():
        delta = count - before.calls.get(name, 0) - own.get(name, 0)
        if delta > 0:
            calls[name] = delta
    return {
        "commands": after.commands - before.commands - sum(own.values()),
        "calls": calls,
        "bytes_in": after.bytes_in - before.bytes_in,
        "bytes_out": after.bytes_out - before.bytes_out,
        "cpu_seconds": after.cpu_seconds - before.cpu_seconds,
    }


def pg_database_counters(admin: psycopg.Connection[Any], database: str) -> dict[str, int]:
    """The bench database's ``pg_stat_database`` counters, read from another database's session."""
    columns = ", ".join(PG_DATABASE_COUNTERS)
    row = admin.execute(f"SELECT {columns} FROM pg_stat_database WHERE datname = %s", (database,)).fetchone()
    if row is None:
        raise RuntimeError(f"database {database} has no statistics row")
    return {name: int(value or 0) for name, value in zip(PG_DATABASE_COUNTERS, row, strict=True)}


def pg_table_counters(database_url: str) -> dict[str, dict[str, int]]:
    """Per catalogue table: rows inserted, updated, deleted, and sequential and index scans so far."""
    columns = ", ".join(f"coalesce({name}, 0)" for name in PG_TABLE_COUNTERS)
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(f"SELECT relname, {columns} FROM pg_stat_user_tables").fetchall()
    return {row[0]: dict(zip(PG_TABLE_COUNTERS, map(int, row[1:]), strict=True)) for row in rows}


def wait_for_sessions_to_end(admin: psycopg.Connection[Any], database: str, timeout: float = 15.0) -> None:
    """Wait until no session is left on ``database``: a backend flushes its statistics when it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)).fetchone()
        if not row or not row[0]:
            break
        time.sleep(0.1)
    time.sleep(0.5)


def proc_cpu_seconds(pid: int) -> float:
    """CPU seconds of a live process and of its children it has waited for (utime, stime, cutime, cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the ")" that ends the command name, utime is the 12th field (field 14 of proc(5)).
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


# --- one run ---------------------------------------------------------------------------------------------------


@dataclass
class RunFigures:
    """What one run with N processing workers measured."""

    workers: int
    documents: int = 0
    pages: int = 0
    failed: int = 0
    crawl_seconds: float = 0.0
    end_to_end_seconds: float = 0.0
    warm_seconds: float = 0.0  # from starting the workers to the last one registered (models loaded)
    steady_seconds: float = 0.0
    steady_documents: int = 0
    steady_pages: int = 0
    worker_cpu_seconds: float = 0.0  # all workers and their horses, model loading excluded
    warm_cpu_seconds: float = 0.0  # model loading, all workers
    peak_pg_sessions: int = 0
    redis: dict[str, Any] = field(default_factory=dict)
    postgres: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def steady_docs_per_second(self) -> float:
        """Documents a second once every worker had loaded its models."""
        return self.steady_documents / self.steady_seconds if self.steady_seconds > 0 else 0.0

    @property
    def steady_pages_per_second(self) -> float:
        """Pages a second once every worker had loaded its models."""
        return self.steady_pages / self.steady_seconds if self.steady_seconds > 0 else 0.0

    @property
    def end_to_end_docs_per_second(self) -> float:
        """Documents a second from starting the workers to the last one exiting."""
        return self.documents / self.end_to_end_seconds if self.end_to_end_seconds > 0 else 0.0


def docintel_command() -> list[str]:
    """The ``docintel`` console script of the running venv, else this interpreter running ``docintel.cli``."""
    script = Path(sys.executable).parent / "docintel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "docintel.cli"]


def run_once(files: int, workers: int, server_url: str, workdir: Path) -> RunFigures:
    """Crawl a ``files``-file generated tenant and process it with ``workers`` worker processes; measure it."""
    figures = RunFigures(workers=workers)
    workdir.mkdir(parents=True, exist_ok=True)
    docintel = docintel_command()
    root = project_root()
    with (
        private_redis(workdir) as redis_url,
        fresh_database(server_url) as database_url,
        emulator_process(tenant_file(workdir, files)) as emulator,
        psycopg.connect(libpq_url(server_url), autocommit=True) as admin,
    ):
        database = make_url(database_url).database or ""
        config = write_config(workdir / f"config-{database}", database_url, emulator.graph_url, pii=True)
        env = {
            **os.environ,
            "DOCINTEL_CONFIG_DIR": str(config),
            "DOCINTEL_GRAPH_BASE_URL": emulator.graph_url,
            "DOCINTEL_GRAPH_TOKEN": "bench-token",
            "DOCINTEL_REDIS_URL": redis_url,
            "DOCINTEL_PII_KEY": secrets.token_hex(32),  # a throwaway key: the catalogue is dropped after the run
            "OMP_THREAD_LIMIT": "1",
        }

        def run(*args: str) -> None:
            subprocess.run([*docintel, *args], env=env, check=True, cwd=root, stdout=subprocess.DEVNULL)

        run("migrate")
        wait_for_sessions_to_end(admin, database)
        redis = Redis.from_url(redis_url)
        redis.ping()  # connects (and sends redis-py's handshake) before the first snapshot
        tables_before = pg_table_counters(database_url)
        wait_for_sessions_to_end(admin, database)
        pg_before = pg_database_counters(admin, database)
        redis_before = redis_snapshot(redis)

        started = time.perf_counter()
        run("crawl", "--source", "sharepoint")
        run("worker", "--queues", "crawl", "--burst", "--no-warm")
        figures.crawl_seconds = time.perf_counter() - started

        watch = WorkerWatch(redis, admin, database)
        ready_epoch = watch.process(figures, [*docintel, "worker", "--queues", PROCESSING_QUEUES, "--burst"], env, root)

        wait_for_sessions_to_end(admin, database)
        figures.redis = redis_delta(redis_before, redis_snapshot(redis), watch.own_calls)
        pg_after = pg_database_counters(admin, database)
        figures.postgres = {name: pg_after[name] - pg_before[name] for name in PG_DATABASE_COUNTERS}
        tables_after = pg_table_counters(database_url)
        figures.tables = {
            table: {name: counters[name] - tables_before.get(table, {}).get(name, 0) for name in PG_TABLE_COUNTERS}
            for table, counters in tables_after.items()
        }
        read_catalogue(figures, database_url, ready_epoch)
        redis.close()
    return figures


class WorkerWatch:
    """Starts N burst workers and watches them: when each has loaded its models, PostgreSQL sessions, exit CPU.

    It counts the Redis commands it sends itself, so that they can be taken off the workers' figures.
    """

    def __init__(self, redis: Redis, admin: psycopg.Connection[Any], database: str) -> None:
        self.redis = redis
        self.admin = admin
        self.database = database
        self.own_calls: dict[str, int] = {}

    def _call(self, name: str, *args: Any) -> Any:
        self.own_calls[name] = self.own_calls.get(name, 0) + 1
        return self.redis.execute_command(name.upper(), *args)

    def registered_pids(self) -> set[int]:
        """Pids of the workers registered with rq (a docintel worker registers once its models are loaded)."""
        pids = set()
        for key in self._call("smembers", "rq:workers"):
            pid = self._call("hget", key, "pid")
            if pid:
                pids.add(int(pid))
        return pids

    def pg_sessions(self) -> int:
        """Sessions open on the bench database now."""
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        row = self.admin.execute(query, (self.database,)).fetchone()
        return int(row[0]) if row else 0

    def process(self, figures: RunFigures, command: list[str], env: dict[str, str], root: Path) -> float:
        """Run ``figures.workers`` copies of ``command`` to their end; returns the epoch when all were ready."""
        started = time.perf_counter()
        procs = {
            proc.pid: proc
            for proc in (
                subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                for _ in range(figures.workers)
            )
        }
        warm_cpu: dict[int, float] = {}
        total_cpu = 0.0
        ready_at: float | None = None
        try:
            while procs:
                if time.perf_counter() - started > RUN_TIMEOUT_SECONDS:
                    raise RuntimeError(f"workers still running after {RUN_TIMEOUT_SECONDS} s")
                if ready_at is None:
                    for pid in self.registered_pids() & procs.keys():
                        warm_cpu.setdefault(pid, proc_cpu_seconds(pid))
                    if len(warm_cpu) == figures.workers:
                        ready_at = time.perf_counter()
                figures.peak_pg_sessions = max(figures.peak_pg_sessions, self.pg_sessions())
                for pid in list(procs):
                    done, status, usage = os.wait4(pid, os.WNOHANG)
                    if not done:
                        continue
                    proc = procs.pop(pid)
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    total_cpu += usage.ru_utime + usage.ru_stime
                    if proc.returncode != 0:
                        tail = (proc.stderr.read() if proc.stderr else b"")[-2000:].decode(errors="replace")
                        raise RuntimeError(f"a worker exited with status {proc.returncode}: {tail}")
                    # A worker that exits before it was seen registered did no work worth separating.
                    warm_cpu.setdefault(pid, usage.ru_utime + usage.ru_stime)
                    if ready_at is None and len(warm_cpu) == figures.workers:
                        ready_at = time.perf_counter()
                time.sleep(POLL_SECONDS)
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait()
        ended = time.perf_counter()
        ready_at = ready_at or ended
        figures.end_to_end_seconds = ended - started
        figures.warm_seconds = ready_at - started
        figures.warm_cpu_seconds = sum(warm_cpu.values())
        figures.worker_cpu_seconds = total_cpu - figures.warm_cpu_seconds
        return time.time() - (ended - ready_at)


def read_catalogue(figures: RunFigures, database_url: str, ready_epoch: float) -> None:
    """Documents, pages and failures catalogued, and those stored after every worker was ready (the steady part)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        total = connection.execute(
            "SELECT count(*), coalesce(sum(page_count), 0), count(*) FILTER (WHERE status = 'failed'),"
            " extract(epoch FROM max(processed_at)) FROM documents WHERE NOT deleted"
        ).fetchone()
        steady = connection.execute(
            "SELECT count(*), coalesce(sum(page_count), 0) FROM documents"
            " WHERE NOT deleted AND processed_at >= to_timestamp(%s)",
            (ready_epoch,),
        ).fetchone()
    assert total is not None and steady is not None
    figures.documents, figures.pages, figures.failed = int(total[0]), int(total[1]), int(total[2])
    figures.steady_documents, figures.steady_pages = int(steady[0]), int(steady[1])
    last = float(total[3] or ready_epoch)
    figures.steady_seconds = max(0.0, last - ready_epoch)


# --- capacities ------------------------------------------------------------------------------------------------


def pgbench_commits_per_second(server_url: str, seconds: int) -> float | None:
    """TPC-B-like transactions a second of this server (pgbench, 4 clients, scale 4); None without pgbench."""
    binary = shutil.which("pgbench")
    if binary is None or seconds <= 0:
        return None
    with fresh_database(server_url, prefix="docintel_bench_pgbench") as url:
        subprocess.run([binary, "-i", "-q", "-s", "4", url], check=True, capture_output=True)
        output = subprocess.run(
            [binary, "-n", "-c", "4", "-j", "2", "-T", str(seconds), url], check=True, capture_output=True, text=True
        ).stdout
    for line in output.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    return None


def redis_benchmark_ops_per_second(redis_url: str) -> float | None:
    """Median requests a second of SET, LPUSH and RPOP (redis-benchmark, 50 clients); None without the tool."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    port = str(make_url(redis_url).port)
    output = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", port, "-q", "--csv", "-n", "50000", "-t", "set,lpush,rpop"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rates = [float(line.split(",")[1].strip('"')) for line in output.splitlines()[1:] if line.count(",") >= 1]
    return statistics.median(rates) if rates else None


# --- summary and projection ------------------------------------------------------------------------------------


def median_of(runs: Sequence[RunFigures], value: Any) -> float:
    """Median over runs of ``value(run)``."""
    return statistics.median(value(run) for run in runs)


def summarise(runs_by_workers: dict[int, list[RunFigures]], cores: int) -> list[dict[str, float]]:
    """One row of medians per worker count."""
    rows = []
    for workers, runs in sorted(runs_by_workers.items()):
        docs = median_of(runs, lambda run: run.documents)
        row = {
            "workers": workers,
            "documents": docs,
            "crawl_seconds": median_of(runs, lambda run: run.crawl_seconds),
            "warm_seconds": median_of(runs, lambda run: run.warm_seconds),
            "docs_per_second": median_of(runs, lambda run: run.steady_docs_per_second),
            "pages_per_second": median_of(runs, lambda run: run.steady_pages_per_second),
            "end_to_end_docs_per_second": median_of(runs, lambda run: run.end_to_end_docs_per_second),
            "cpu_seconds_per_document": median_of(runs, lambda run: run.worker_cpu_seconds / max(run.documents, 1)),
            "warm_cpu_seconds_per_worker": median_of(runs, lambda run: run.warm_cpu_seconds / run.workers),
            "redis_commands_per_document": median_of(runs, lambda run: run.redis["commands"] / max(run.documents, 1)),
            "redis_bytes_per_document": median_of(
                runs, lambda run: (run.redis["bytes_in"] + run.redis["bytes_out"]) / max(run.documents, 1)
            ),
            "redis_cpu_ms_per_document": median_of(
                runs, lambda run: 1000 * run.redis["cpu_seconds"] / max(run.documents, 1)
            ),
            "peak_pg_sessions_per_worker": median_of(runs, lambda run: run.peak_pg_sessions / run.workers),
            "failed": median_of(runs, lambda run: run.failed),
        }
        for name in PG_DATABASE_COUNTERS:
            row[f"pg_{name}_per_document"] = median_of(
                runs, lambda run, n=name: run.postgres[n] / max(run.documents, 1)
            )
        row["docs_per_hour_per_core"] = row["docs_per_second"] * 3600 / min(workers, cores)
        rows.append(row)
    base = rows[0]["docs_per_second"] if rows else 0.0
    for row in rows:
        row["ratio_to_1"] = row["docs_per_second"] / base if base else 0.0
    return rows


def flattens_at(rows: Sequence[dict[str, float]]) -> int | None:
    """The first worker count whose throughput is under FLATTEN_GAIN times the previous count's."""
    for previous, row in itertools.pairwise(rows):
        if row["docs_per_second"] < previous["docs_per_second"] * FLATTEN_GAIN:
            return int(row["workers"])
    return None


@dataclass(frozen=True)
class Capacity:
    """What one Redis and one PostgreSQL server can take: commands/s, commits/s, connections."""

    label: str
    redis_ops_per_second: float
    pg_commits_per_second: float
    pg_max_connections: int


ASSUMED_CAPACITY = Capacity(
    "assumed dedicated server", ASSUMED_REDIS_OPS_PER_SECOND, ASSUMED_POSTGRES_COMMITS_PER_SECOND, 100
)


def projection(rows: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Load on Redis and PostgreSQL from PROJECTED_HOSTS hosts, one worker per core, at the measured cost."""
    # The rate of a dedicated core: 1 / worker CPU seconds per document (the wall-clock rates of a shared
    # machine are lower). Counts per document come from the most workers run (the most idle polling).
    cpu = statistics.median(row["cpu_seconds_per_document"] for row in rows)
    per_core = 1 / cpu if cpu > 0 else 0.0
    last = rows[-1]
    scenarios = []
    for cores in PROJECTED_CORES:
        workers = PROJECTED_HOSTS * cores
        docs = workers * per_core
        written = sum(last[f"pg_tup_{kind}_per_document"] for kind in ("inserted", "updated", "deleted"))
        scenarios.append(
            {
                "cores_per_host": cores,
                "workers": workers,
                "docs_per_second": docs,
                "docs_per_hour": docs * 3600,
                "redis_commands_per_second": docs * last["redis_commands_per_document"],
                "redis_mbit_per_second": docs * last["redis_bytes_per_document"] * 8 / 1e6,
                "pg_commits_per_second": docs * last["pg_xact_commit_per_document"],
                "pg_rows_written_per_second": docs * written,
                "pg_rows_read_per_second": docs * last["pg_tup_fetched_per_document"],
                "pg_sessions": workers * max(1.0, last["peak_pg_sessions_per_worker"]),
                "pg_sessions_opened_per_second": docs * last["pg_sessions_per_document"],
            }
        )
    return {"per_core_docs_per_second": per_core, "scenarios": scenarios}


def shares(load: dict[str, float], capacity: Capacity) -> dict[str, float]:
    """How much of each capacity a projected load takes (1.0 = saturated)."""
    return {
        "redis commands": load["redis_commands_per_second"] / capacity.redis_ops_per_second,
        "PostgreSQL commits": load["pg_commits_per_second"] / capacity.pg_commits_per_second,
        "PostgreSQL connections": load["pg_sessions"] / capacity.pg_max_connections,
    }


def saturation_workers(rows: Sequence[dict[str, float]], proj: dict[str, Any], capacity: Capacity) -> dict[str, float]:
    """Worker processes (one per core) at which each shared service reaches its capacity."""
    per_core, last = proj["per_core_docs_per_second"], rows[-1]

    def workers_for(limit: float, per_document: float) -> float:
        return limit / (per_core * per_document) if per_core * per_document > 0 else float("inf")

    return {
        "redis commands": workers_for(capacity.redis_ops_per_second, last["redis_commands_per_document"]),
        "PostgreSQL commits": workers_for(capacity.pg_commits_per_second, last["pg_xact_commit_per_document"]),
        "PostgreSQL connections": capacity.pg_max_connections / max(1.0, last["peak_pg_sessions_per_worker"]),
    }


THROUGHPUT_COLUMNS = "workers|docs|crawl s|warm s|docs/s|pages/s|docs/s e2e|docs/h/core|ratio|CPU s/doc|failed"
OPERATIONS_COLUMNS = (
    "workers|Redis cmd/doc|bytes/doc|Redis CPU ms/doc|PG commits/doc|rollbacks/doc|ins/doc|upd/doc|del/doc"
    "|fetched/doc|returned/doc|sessions/doc|PG sess/worker"
)
PROJECTION_COLUMNS = (
    "hosts x cores|workers|docs/s|Redis cmd/s|Redis Mbit/s|PG commits/s|PG rows written/s|PG rows read/s"
    "|PG sessions|PG sessions opened/s"
)


def render(
    rows: Sequence[dict[str, float]],
    tables: dict[str, dict[str, float]],
    redis_calls: dict[str, float],
    proj: dict[str, Any],
    capacities: Sequence[Capacity],
) -> str:
    """The bench's printed report."""
    out = []
    out.append(
        format_table(
            THROUGHPUT_COLUMNS.split("|"),
            [
                [
                    f"{row['workers']:.0f}",
                    f"{row['documents']:.0f}",
                    f"{row['crawl_seconds']:.1f}",
                    f"{row['warm_seconds']:.1f}",
                    f"{row['docs_per_second']:.2f}",
                    f"{row['pages_per_second']:.2f}",
                    f"{row['end_to_end_docs_per_second']:.2f}",
                    f"{row['docs_per_hour_per_core']:,.0f}",
                    f"{row['ratio_to_1']:.2f}",
                    f"{row['cpu_seconds_per_document']:.3f}",
                    f"{row['failed']:.0f}",
                ]
                for row in rows
            ],
            "Throughput (medians; docs/s and pages/s steady, after every worker loaded its models)",
        )
    )
    flat = flattens_at(rows)
    out.append(
        f"flattens at: {flat} workers (less than {FLATTEN_GAIN - 1:.0%} above the previous count)"
        if flat
        else "flattens at: not within the counts run"
    )
    out.append("")
    out.append(
        format_table(
            OPERATIONS_COLUMNS.split("|"),
            [
                [
                    f"{row['workers']:.0f}",
                    f"{row['redis_commands_per_document']:.1f}",
                    f"{row['redis_bytes_per_document']:,.0f}",
                    f"{row['redis_cpu_ms_per_document']:.2f}",
                    f"{row['pg_xact_commit_per_document']:.1f}",
                    f"{row['pg_xact_rollback_per_document']:.2f}",
                    f"{row['pg_tup_inserted_per_document']:.1f}",
                    f"{row['pg_tup_updated_per_document']:.1f}",
                    f"{row['pg_tup_deleted_per_document']:.1f}",
                    f"{row['pg_tup_fetched_per_document']:.1f}",
                    f"{row['pg_tup_returned_per_document']:,.0f}",
                    f"{row['pg_sessions_per_document']:.2f}",
                    f"{row['peak_pg_sessions_per_worker']:.1f}",
                ]
                for row in rows
            ],
            "Operations per document (medians; crawl and processing, the bench's own commands taken off)",
        )
    )
    out.append("")
    top = sorted(redis_calls.items(), key=lambda item: -item[1])[:12]
    out.append("Redis commands per document, most frequent (last worker count): "
               + ", ".join(f"{name} {count:.1f}" for name, count in top))  # fmt: skip
    out.append("")
    busy = sorted(tables.items(), key=lambda item: -sum(item[1].values()))
    out.append(
        format_table(
            ["table", "ins/doc", "upd/doc", "del/doc", "seq scans/doc", "idx scans/doc"],
            [[name, *(f"{counts[key]:.2f}" for key in PG_TABLE_COUNTERS)] for name, counts in busy[:14]],
            "PostgreSQL per table (last worker count, per document)",
        )
    )
    out.append("")
    out.append(
        f"Per core: {proj['per_core_docs_per_second']:.2f} docs/s "
        f"({proj['per_core_docs_per_second'] * 3600:,.0f} docs/h) = 1 / measured worker CPU s per document"
    )
    out.append(
        format_table(
            PROJECTION_COLUMNS.split("|"),
            [
                [
                    f"{PROJECTED_HOSTS} x {load['cores_per_host']}",
                    f"{load['workers']}",
                    f"{load['docs_per_second']:,.0f}",
                    f"{load['redis_commands_per_second']:,.0f}",
                    f"{load['redis_mbit_per_second']:,.1f}",
                    f"{load['pg_commits_per_second']:,.0f}",
                    f"{load['pg_rows_written_per_second']:,.0f}",
                    f"{load['pg_rows_read_per_second']:,.0f}",
                    f"{load['pg_sessions']:,.0f}",
                    f"{load['pg_sessions_opened_per_second']:,.1f}",
                ]
                for load in proj["scenarios"]
            ],
            f"Projection: {PROJECTED_HOSTS} worker hosts, one worker per core",
        )
    )
    out.append("")
    share_rows = []
    for capacity in capacities:
        for load in proj["scenarios"]:
            taken = shares(load, capacity)
            share_rows.append(
                [capacity.label, f"{PROJECTED_HOSTS} x {load['cores_per_host']}", *(f"{v:.0%}" for v in taken.values())]
            )
    out.append(
        format_table(
            ["capacity", "hosts x cores", "Redis commands", "PG commits", "PG connections"],
            share_rows,
            "Share of capacity taken (over 100%: saturated)",
        )
    )
    for capacity in capacities:
        out.append(
            f"{capacity.label}: Redis {capacity.redis_ops_per_second:,.0f} ops/s, PostgreSQL "
            f"{capacity.pg_commits_per_second:,.0f} commits/s, max_connections {capacity.pg_max_connections}"
        )
        saturation = saturation_workers(rows, proj, capacity)
        ranked = sorted(saturation.items(), key=lambda item: item[1])
        out.append(
            "  saturates at (workers): "
            + ", ".join(f"{name} {count:,.0f}" for name, count in ranked)
            + f"; first: {ranked[0][0]}"
        )
    return "\n".join(out)


# --- main ------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The bench's options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400, help="Generated files in the tenant (default 400).")
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to run (comma-separated; default 1,2,4).")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per worker count; medians are printed.")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("DOCINTEL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="Admin URL of the PostgreSQL server (a database is created and dropped per run).",
    )
    parser.add_argument("--pgbench-seconds", type=int, default=15, help="pgbench duration (0: skip, assume).")
    parser.add_argument("--no-redis-benchmark", action="store_true", help="Skip redis-benchmark (assume).")
    parser.add_argument("--json", type=Path, help="Also write every run's figures and the summary here.")
    args = parser.parse_args(argv)
    args.worker_counts = sorted({int(count) for count in args.workers.split(",") if count.strip()})
    if not args.worker_counts or min(args.worker_counts) < 1 or args.files < 1 or args.repeats < 1:
        parser.error("--workers, --files and --repeats must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the bench, print its tables; returns what it printed as data (for tests and --json)."""
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at start; {args.files} generated files, "
          f"workers {args.workers}, {args.repeats} repeat(s)", flush=True)  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="docintel-bench-workers-"))
    runs: dict[int, list[RunFigures]] = {count: [] for count in args.worker_counts}
    try:
        # Interleave worker counts, so a neighbour's burst of load spreads over all of them.
        for repeat in range(args.repeats):
            for count in args.worker_counts:
                figures = run_once(args.files, count, args.postgres, workdir / f"run-{repeat}-{count}")
                runs[count].append(figures)
                per_doc = max(figures.documents, 1)
                print(
                    f"run {repeat + 1}/{args.repeats}, {count} worker(s): {figures.documents} documents "
                    f"({figures.failed} failed), steady {figures.steady_docs_per_second:.2f} docs/s, end to end "
                    f"{figures.end_to_end_seconds:.1f} s, CPU {figures.worker_cpu_seconds / per_doc:.2f}"
                    f" s/doc, Redis {figures.redis['commands'] / per_doc:.0f} cmd/doc, PostgreSQL "
                    f"{figures.postgres['xact_commit'] / per_doc:.1f} commits/doc, load average "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        with private_redis(workdir) as redis_url:
            redis_ops = None if args.no_redis_benchmark else redis_benchmark_ops_per_second(redis_url)
        pg_tps = pgbench_commits_per_second(args.postgres, args.pgbench_seconds)
        with psycopg.connect(libpq_url(args.postgres), autocommit=True) as admin:
            row = admin.execute("SHOW max_connections").fetchone()
        max_connections = int(row[0]) if row else 100
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = summarise(runs, cores)
    last_runs = runs[args.worker_counts[-1]]
    tables = {
        table: {key: median_of(last_runs, lambda run, t=table, k=key: run.tables.get(t, {}).get(k, 0)
                / max(run.documents, 1)) for key in PG_TABLE_COUNTERS}
        for table in last_runs[0].tables
    }  # fmt: skip
    names = {name for run in last_runs for name in run.redis["calls"]}
    redis_calls = {
        name: median_of(last_runs, lambda run, n=name: run.redis["calls"].get(n, 0) / max(run.documents, 1))
        for name in names
    }
    capacities = [ASSUMED_CAPACITY]
    if redis_ops or pg_tps:
        capacities.insert(
            0,
            Capacity(
                "measured here (shared machine)",
                redis_ops or float(ASSUMED_REDIS_OPS_PER_SECOND),
                pg_tps or float(ASSUMED_POSTGRES_COMMITS_PER_SECOND),
                max_connections,
            ),
        )
    proj = projection(rows)
    print()
    print(render(rows, tables, redis_calls, proj, capacities))
    print(f"\nload average at end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min)")
    result = {
        "rows": rows,
        "tables": tables,
        "redis_calls": redis_calls,
        "projection": proj,
        "capacities": [asdict(capacity) for capacity in capacities],
        "saturation": {capacity.label: saturation_workers(rows, proj, capacity) for capacity in capacities},
        "runs": {str(count): [asdict(run) for run in items] for count, items in runs.items()},
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
