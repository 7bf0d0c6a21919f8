"""The crawl, status and worker commands through click's CliRunner, against real Redis and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from redis import Redis
from rq import Queue

from docintel.graph_emulator.testing import MAIL_TENANT, SMALL_TENANT, running_emulator
from docintel.settings import get_settings
from workers import jobs
from workers.commands import _fit, crawl_command, status_command, worker_command
from workers.queues import CRAWL, EXTRACT, INVOICES, OCR, get_queue, job_options
from workers.worker import run_worker

pytestmark = [pytest.mark.needs_redis, pytest.mark.needs_postgres]


def test_crawl_enqueues_and_status_shows_queues_failures_and_last_sync(redis: Redis, worker_env: Any) -> None:
    runner = CliRunner()
    with running_emulator(SMALL_TENANT) as emulator:
        worker_env(emulator)
        get_settings.cache_clear()
        result = runner.invoke(crawl_command, ["--source", "onedrive", "--every", "3600"])
        assert result.exit_code == 0, result.output
        assert "enqueued crawl of onedrive" in result.output and "scheduled onedrive every 3600 s" in result.output
        assert Queue(CRAWL, connection=redis).count == 1
        status = runner.invoke(status_command, [])
        assert "no drive crawled yet" in status.output
        run_worker([CRAWL, EXTRACT, OCR], redis, burst=True, warm=False)
        status = runner.invoke(status_command, [])
        assert status.exit_code == 0, status.output
        lines = status.output.splitlines()
        assert any(line.startswith("crawl") and line.split()[3] == "1" for line in lines)  # the periodic crawl
        drives = [line for line in lines if line.startswith("onedrive:onedrive/")]
        assert len(drives) == 2 and all(" idle " in line and line.split()[-1] == "0" for line in drives)
        get_settings.cache_clear()
        jobs.reset_context()


def test_unknown_source_and_queue_are_usage_errors(redis: Redis, worker_env: Any) -> None:
    runner = CliRunner()
    with running_emulator(SMALL_TENANT) as emulator:
        worker_env(emulator)
        get_settings.cache_clear()
        result = runner.invoke(crawl_command, ["--source", "mail"])
        assert result.exit_code == 2 and "unknown source 'mail'; known: sharepoint, onedrive" in result.output
        result = runner.invoke(worker_command, ["--queues", "crawl,scans", "--burst"])
        assert result.exit_code == 2 and "unknown queue(s) scans" in result.output
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("text", "fitted"),
    [
        ("sharepoint:finance/Documents", "sharepoint:finance/Documents"),
        ("mail:mail/6ca9c59d-14da-960a-83b5-b632e0e5a2f1/Sent Items", "mail:mail/6ca9c59d-14…632e0e5a2f1/Sent Items"),
    ],
)
def test_long_drive_labels_are_cut_in_the_middle(text: str, fitted: str) -> None:
    assert _fit(text, 44) == fitted and len(fitted) <= 44


def test_status_names_users_and_sites_not_their_ids_and_lists_the_invoices_queue(redis: Redis, worker_env: Any) -> None:
    runner = CliRunner()
    with running_emulator(MAIL_TENANT) as emulator:
        env = worker_env(emulator)
        sources_file = Path(env["DOCINTEL_CONFIG_DIR"]) / "sources.yaml"
        sources = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
        sources["sources"].append({"name": "mail", "kind": "mailbox"})
        sources_file.write_text(yaml.safe_dump(sources), encoding="utf-8")
        get_settings.cache_clear()
        jobs.reset_context()
        for source in ("sharepoint", "onedrive", "mail"):
            get_queue(CRAWL, redis).enqueue(jobs.crawl_source, source, **job_options(CRAWL))
        run_worker([CRAWL], redis, burst=True, warm=False)  # the crawl rounds write the drives' checkpoints
        status = runner.invoke(status_command, [])
        assert status.exit_code == 0, status.output
        tenant = emulator.control("GET", "/tenant")
        lines = status.output.splitlines()
        assert any(line.startswith(INVOICES + " ") for line in lines)
        ada = "Ada Lovelace <ada.lovelace@test.example.gov.uk>"
        assert any(line.startswith(f"mail:mail/{ada}/Inbox ") for line in lines), status.output
        assert any(line.startswith(f"onedrive:onedrive/{ada} ") for line in lines), status.output
        assert any(line.startswith("sharepoint:Finance/Documents ") for line in lines), status.output
        assert not any(user["id"] in status.output for user in tenant["users"])  # no GUIDs
        get_settings.cache_clear()
        jobs.reset_context()


def test_status_without_redis_still_shows_the_catalogue(worker_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_emulator(SMALL_TENANT) as emulator:
        worker_env(emulator)
        monkeypatch.setenv("DOCINTEL_REDIS_URL", "redis://:secret@127.0.0.1:1/0")  # nothing listens on port 1
        get_settings.cache_clear()
        status = CliRunner().invoke(status_command, [])
        assert status.exit_code == 0, status.output
        assert "Redis is not reachable at redis://127.0.0.1:1/0" in status.output and "secret" not in status.output
        assert "no drive crawled yet" in status.output
        get_settings.cache_clear()
