"""The worker-scaling bench: its arithmetic on known figures, and one tiny real run (emulator, Redis, PostgreSQL)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import workers
from bench.workers import (
    Capacity,
    RedisSnapshot,
    RunFigures,
    flattens_at,
    projection,
    redis_delta,
    shares,
    summarise,
    tenant_file,
)


def _run(count: int, steady_docs_per_second: float, documents: int = 100) -> RunFigures:
    figures = RunFigures(workers=count, documents=documents, pages=2 * documents)
    figures.steady_documents, figures.steady_pages = documents, 2 * documents
    figures.steady_seconds = documents / steady_docs_per_second
    figures.end_to_end_seconds = figures.steady_seconds + 10
    figures.worker_cpu_seconds = 0.5 * documents
    figures.warm_cpu_seconds = 4.0 * count
    figures.peak_pg_sessions = 2 * count
    figures.redis = {"commands": 30 * documents, "calls": {"blpop": documents}, "bytes_in": 1000 * documents,
                     "bytes_out": 3000 * documents, "cpu_seconds": 0.001 * documents}  # fmt: skip
    figures.postgres = {name: 0 for name in workers.PG_DATABASE_COUNTERS}
    figures.postgres.update(xact_commit=10 * documents, tup_inserted=20 * documents, tup_updated=5 * documents,
                            sessions=documents)  # fmt: skip
    return figures


def test_summary_gives_ratios_per_core_rates_and_where_throughput_flattens() -> None:
    rows = summarise({1: [_run(1, 2.0)], 2: [_run(2, 3.6)], 4: [_run(4, 3.8)]}, cores=2)
    assert [row["ratio_to_1"] for row in rows] == pytest.approx([1.0, 1.8, 1.9])
    # Per core: one worker uses one core; two and four share the machine's two.
    assert [row["docs_per_hour_per_core"] for row in rows] == pytest.approx([7200, 6480, 6840])
    assert rows[0]["redis_commands_per_document"] == 30
    assert rows[0]["pg_xact_commit_per_document"] == 10
    assert rows[2]["peak_pg_sessions_per_worker"] == 2
    assert flattens_at(rows) == 4
    assert flattens_at(rows[:2]) is None


@pytest.mark.parametrize(
    ("redis_capacity", "pg_capacity", "max_connections", "expected_first"),
    [
        (50_000.0, 5_000.0, 100, "PostgreSQL connections"),  # 2 sessions a worker: 50 workers fill 100
        (50_000.0, 5_000.0, 10_000, "PostgreSQL commits"),  # 10 commits/doc at 2 docs/s a core: 250 workers
        (5_000.0, 50_000.0, 10_000, "redis commands"),  # 30 commands/doc: 83 workers
    ],
)
def test_projection_scales_measured_costs_and_names_the_first_limit(
    redis_capacity: float, pg_capacity: float, max_connections: int, expected_first: str
) -> None:
    rows = summarise({1: [_run(1, 2.0)], 2: [_run(2, 3.6)]}, cores=2)
    proj = projection(rows)
    assert proj["per_core_docs_per_second"] == pytest.approx(2.0)  # 1 / 0.5 CPU seconds a document
    fifty_by_two = proj["scenarios"][0]
    assert fifty_by_two["workers"] == 100
    assert fifty_by_two["docs_per_second"] == pytest.approx(200)
    assert fifty_by_two["redis_commands_per_second"] == pytest.approx(6000)
    assert fifty_by_two["pg_commits_per_second"] == pytest.approx(2000)
    assert fifty_by_two["pg_rows_written_per_second"] == pytest.approx(5000)
    assert fifty_by_two["pg_sessions"] == 200
    capacity = Capacity("test", redis_capacity, pg_capacity, max_connections)
    assert shares(fifty_by_two, capacity)["redis commands"] == pytest.approx(6000 / redis_capacity)
    saturation = workers.saturation_workers(rows, proj, capacity)
    assert min(saturation, key=saturation.__getitem__) == expected_first


def test_redis_delta_takes_off_the_bench_own_commands() -> None:
    before = RedisSnapshot({"info": 3, "lpush": 10}, 13, 100, 200, 1.0)
    after = RedisSnapshot({"info": 4, "lpush": 40, "smembers": 5, "hget": 2}, 51, 700, 1200, 1.5)
    delta = redis_delta(before, after, {"smembers": 5, "hget": 2})
    assert delta["calls"] == {"lpush": 30}
    assert delta["commands"] == 30
    assert (delta["bytes_in"], delta["bytes_out"]) == (600, 1000)
    assert delta["cpu_seconds"] == pytest.approx(0.5)


def test_tenant_spreads_files_over_sites(tmp_path: Path) -> None:
    spec = yaml.safe_load(tenant_file(tmp_path, 10, sites=4).read_text())
    counts = [site["libraries"][0]["generate"]["files"] for site in spec["sites"]]
    assert counts == [3, 3, 2, 2]


@pytest.mark.slow
@pytest.mark.needs_redis
@pytest.mark.needs_postgres
@pytest.mark.timeout(1800)  # three worker start-ups and model loads: minutes on a loaded 2-core machine
def test_tiny_bench_run_catalogues_every_file_and_counts_operations(
    postgres_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server binary not installed")
    tiny = ["--files", "12", "--workers", "1,2", "--repeats", "1", "--pgbench-seconds", "0", "--no-redis-benchmark"]
    result = workers.main([*tiny, "--postgres", postgres_server])
    for runs in result["runs"].values():
        (run,) = runs
        assert run["documents"] == 12 and run["failed"] == 0
        assert run["redis"]["commands"] > 0 and run["postgres"]["xact_commit"] > 0
        assert run["postgres"]["tup_inserted"] >= 12  # at least each document's row
        assert run["worker_cpu_seconds"] > 0
    assert [row["workers"] for row in result["rows"]] == [1, 2]
    assert result["rows"][0]["ratio_to_1"] == pytest.approx(1.0)
    assert "documents" in result["tables"]
    printed = capsys.readouterr().out
    assert "Projection: 50 worker hosts" in printed
    # No capacity measured: only the stated assumption is used, and labelled as such.
    assert "assumed dedicated server: Redis 50,000 ops/s" in printed
    assert "measured here" not in printed
