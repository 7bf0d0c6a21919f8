"""Network shares through rq workers: sharded enumeration on the crawl queue, extract jobs, kill -9 mid-round.

Real Redis, real PostgreSQL, real folders; the share is configured by its UNC name and mapped to a temporary
folder, as a worker mounting it elsewhere would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import open_catalogue
from docintel.sources.share import drive_id_for
from tests.crawl.conftest import PII_KEY, write_config
from workers import jobs
from workers.queues import CRAWL, ENV_REDIS_URL, EXTRACT, OCR, get_queue, job_options
from workers.worker import requeue_abandoned, run_worker

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_postgres]

UNC_ROOT = "\\\\san01\\teams"


def _tree(root: Path, folders: int, files: int) -> int:
    """``folders`` folders two levels deep with ``files`` small text files each; returns the file count."""
    for index in range(folders):
        folder = root / f"area {index % 7}" / f"folder {index}"
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(files):
            (folder / f"minutes {number}.txt").write_text(f"Minutes {number} of meeting {index}.", encoding="utf-8")
    return folders * files


@pytest.fixture
def share_env(
    redis_url: str, fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A config folder with one ``kind: share`` source (small shards), and the worker environment."""
    config = write_config(tmp_path / "config", fresh_postgres_url, "http://127.0.0.1:9/v1.0")
    root = tmp_path / "mnt" / "teams"
    root.mkdir(parents=True)
    source = {"name": "teams", "kind": "share", "roots": [UNC_ROOT], "path_map": {UNC_ROOT: str(root)}}
    (config / "sources.yaml").write_text(yaml.safe_dump({"sources": [{**source, "shard_folders": 5}]}))
    env = {"DOCINTEL_CONFIG_DIR": str(config), ENV_REDIS_URL: redis_url, "DOCINTEL_PII_KEY": PII_KEY}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    jobs.reset_context()
    yield {**os.environ, **env, "SHARE_ROOT": str(root)}
    jobs.reset_context()


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    """A clean Redis database."""
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()


def test_a_share_is_enumerated_in_shards_and_its_files_processed_by_workers(
    redis: Redis, share_env: dict[str, str], fresh_postgres_url: str
) -> None:
    root = Path(share_env["SHARE_ROOT"])
    total = _tree(root, folders=24, files=2)
    get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "teams", **job_options(CRAWL))
    run_worker([CRAWL, EXTRACT, OCR], redis, burst=True, warm=True)

    store = open_catalogue(fresh_postgres_url)
    docs = [d for d in store.iter_documents(include_children=False, include_deleted=False)]
    assert len(docs) == total and all(d["status"] == "ok" and d["source"] == "share" for d in docs)
    checkpoint = CrawlStore(store).checkpoint(drive_id_for("teams", UNC_ROOT))
    assert checkpoint is not None and checkpoint.status == "idle"
    assert checkpoint.counts["shards"] > 4 and checkpoint.counts["folders"] == 1 + 7 + 24
    for name in (CRAWL, EXTRACT, OCR):
        assert FailedJobRegistry(queue=Queue(name, connection=redis)).count == 0
    # A re-crawl of the unchanged share enqueues nothing.
    get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "teams", **job_options(CRAWL))
    run_worker([CRAWL], redis, burst=True, warm=False)
    assert Queue(EXTRACT, connection=redis).count == 0
    assert CrawlStore(store).checkpoint(drive_id_for("teams", UNC_ROOT)).round == 2  # type: ignore[union-attr]
    store.close()


def _start_worker(env: dict[str, str], queues: str) -> subprocess.Popen[bytes]:
    code = "from workers.commands import worker_command; worker_command()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--queues", queues, "--burst", "--no-warm"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,  # its own process group: kill -9 takes the work horse too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_kill_9_mid_enumeration_resumes_and_loses_or_duplicates_nothing(
    redis: Redis, share_env: dict[str, str], fresh_postgres_url: str
) -> None:
    root = Path(share_env["SHARE_ROOT"])
    total = _tree(root, folders=80, files=3)
    get_queue(CRAWL, redis).enqueue(jobs.crawl_source, "teams", **job_options(CRAWL))
    worker = _start_worker(share_env, CRAWL)
    store = open_catalogue(fresh_postgres_url)
    crawl_store = CrawlStore(store)
    drive = drive_id_for("teams", UNC_ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # enumeration under way: files recorded, the round not finished
        checkpoint = crawl_store.checkpoint(drive)
        started = Queue(CRAWL, connection=redis).started_job_registry.count
        if (
            checkpoint is not None
            and checkpoint.status == "running"
            and crawl_store.pending_count(drive) > 30
            and started
        ):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the enumeration never got under way")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    assert crawl_store.checkpoint(drive).status == "running"  # type: ignore[union-attr]
    # The shard in flight when it died (none if it was killed between two jobs: the rest are still queued).
    assert requeue_abandoned(redis, [CRAWL]) in (0, 1)

    second = _start_worker(share_env, CRAWL)
    assert second.wait(timeout=300) == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
    checkpoint = crawl_store.checkpoint(drive)
    assert checkpoint is not None and checkpoint.status == "idle"
    queued = [job.args[0] for job in Queue(EXTRACT, connection=redis).get_jobs()]
    assert len(queued) == len(set(queued)) == total  # every file once: none lost, none twice
    assert crawl_store.pending_count(drive) == total
    store.close()


def test_crawl_command_enqueues_a_share_and_status_shows_its_root_last_crawl_and_problems(
    redis: Redis, share_env: dict[str, str]
) -> None:
    from click.testing import CliRunner

    from docintel.settings import get_settings
    from workers.commands import crawl_command, status_command

    root = Path(share_env["SHARE_ROOT"])
    _tree(root, folders=3, files=1)
    (root / "shortcut").symlink_to(root / "area 0")
    runner = CliRunner()
    get_settings.cache_clear()
    result = runner.invoke(crawl_command, ["--source", "teams"])
    assert result.exit_code == 0 and "enqueued crawl of teams" in result.output, result.output
    run_worker([CRAWL], redis, burst=True, warm=False)
    status = runner.invoke(status_command, [])
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    root_line = next(line for line in lines if line.startswith("teams:san01/teams"))
    assert " idle " in root_line and root_line.split()[-1] == "3"  # three files waiting for extract jobs
    assert lines[lines.index(root_line) + 1].strip() == "problems: symlink 1"
    get_settings.cache_clear()
