"""Write-back of Purview retention labels to reviewed files, through the real msgraph-sdk against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from docintel.catalogue import tables as t
from docintel.cli import main
from docintel.graph_emulator.testing import RunningEmulator
from docintel.labels import label_targets, run_labels
from docintel.retention import RetentionSchedule, load_schedule
from docintel.review.auth import Reviewer, Role
from docintel.review.store import LABEL_ACTION, Action, ReviewStore
from docintel.sources.graph import LocalPauseBoard
from tests.crawl.conftest import PROJECT_CONFIG, InProcessCrawler, catalogue_files

RECORDS_MANAGER = Reviewer("r.manager", Role.REVIEWER)
# SMALL_TENANT publishes "Financial records" (retain) and "Statutory register" (a regulatory record).
LABELS = {"finance.invoice": "Financial records", "risk.register": "Statutory register", "hr.payroll": "Not published"}


def _schedule(labels: dict[str, str]) -> RetentionSchedule:
    schedule = load_schedule(PROJECT_CONFIG / "retention_schedule.yaml")
    classes = [entry.model_copy(update={"purview_label": labels.get(entry.id)}) for entry in schedule.classes]
    return schedule.model_copy(update={"classes": classes})


def _label_of(emulator: RunningEmulator, drive_id: str, item_id: str) -> str | None:
    answer = httpx.get(f"{emulator.graph_url}/drives/{drive_id}/items/{item_id}/retentionLabel",
                       headers={"Authorization": "Bearer test"}, timeout=30)  # fmt: skip
    return None if answer.status_code == 404 else answer.json()["name"]


@pytest.fixture
def reviewed(
    make_crawler: Callable[..., InProcessCrawler], emulator: RunningEmulator, catalogue_url: str
) -> tuple[InProcessCrawler, list[dict[str, object]]]:
    """A crawled tenant in which a records manager set the class of four files (a fifth left unreviewed)."""
    crawler = make_crawler(emulator, catalogue_url)
    crawler.crawl()
    files = sorted(catalogue_files(crawler.store).values(), key=lambda row: str(row["id"]))[:5]
    review = ReviewStore(crawler.store)
    schedule = _schedule(LABELS)
    classes = ["finance.invoice", "finance.invoice", "risk.register", "hr.payroll"]
    for row, record_class in zip(files[:4], classes, strict=True):
        review.decide([str(row["id"])], Action.CHANGE, by=RECORDS_MANAGER, schedule=schedule, to_class=record_class)
    return crawler, files


def test_reviewed_files_get_their_class_label_once_and_failures_are_reported(
    reviewed: tuple[InProcessCrawler, list[dict[str, object]]], emulator: RunningEmulator
) -> None:
    crawler, files = reviewed
    targets, without = label_targets(crawler.store, _schedule(LABELS))
    assert [target.document_id for target in targets] == [str(row["id"]) for row in files[:4]] and without == 0
    source = crawler.source("sharepoint")

    planned = run_labels(source.session, crawler.store, targets, dry_run=True)
    # A dry run cannot tell an unpublished label: the file plan is not readable with application permissions.
    assert (planned.applied, planned.unchanged, planned.failures) == (4, 0, [])
    assert _label_of(emulator, str(files[0]["drive_id"]), str(files[0]["item_id"])) is None  # nothing written

    done = run_labels(source.session, crawler.store, targets)
    assert (done.applied, done.unchanged) == (3, 0)
    assert done.failures == [(str(files[3]["id"]), "Graph 400 invalidRequest: apply retention label")]
    labels = [_label_of(emulator, str(row["drive_id"]), str(row["item_id"])) for row in files]
    assert labels == ["Financial records", "Financial records", "Statutory register", None, None]
    with crawler.store.transaction("read audit") as connection:
        audited = connection.execute(select(t.audit.c.document_id, t.audit.c.to_value)
                                     .where(t.audit.c.action == LABEL_ACTION)).all()  # fmt: skip
    assert sorted(audited) == sorted((str(row["id"]), label) for row, label in zip(files[:3], labels, strict=False))

    again = run_labels(source.session, crawler.store, targets)
    assert (again.applied, again.unchanged, len(again.failures)) == (0, 3, 1)  # safe to run on a schedule


def test_a_regulatory_record_keeps_its_label_and_the_refusal_is_reported(
    reviewed: tuple[InProcessCrawler, list[dict[str, object]]], emulator: RunningEmulator
) -> None:
    crawler, files = reviewed
    schedule = _schedule(LABELS)
    source = crawler.source("sharepoint")
    run_labels(source.session, crawler.store, label_targets(crawler.store, schedule)[0])
    record = str(files[2]["id"])
    ReviewStore(crawler.store).decide([record], Action.CHANGE, by=RECORDS_MANAGER, schedule=schedule,
                                      to_class="finance.invoice")  # fmt: skip
    run = run_labels(source.session, crawler.store, label_targets(crawler.store, schedule)[0])
    assert (record, "Graph 403 accessDenied: apply retention label") in run.failures
    assert _label_of(emulator, str(files[2]["drive_id"]), str(files[2]["item_id"])) == "Statutory register"


def test_labels_command_applies_and_summarises(
    reviewed: tuple[InProcessCrawler, list[dict[str, object]]],
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crawler, files = reviewed
    config = tmp_path / "config"  # written by make_crawler: sources.yaml points at the emulator
    schedule = yaml.safe_load((config / "retention_schedule.yaml").read_text(encoding="utf-8"))
    for entry in schedule["classes"]:
        entry["purview_label"] = LABELS.get(entry["id"])
    (config / "retention_schedule.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    monkeypatch.setenv("DOCINTEL_GRAPH_TOKEN", "test")
    monkeypatch.setenv("DOCINTEL_GRAPH_BASE_URL", emulator.graph_url)
    catalogue = crawler.store.url
    result = CliRunner().invoke(main, ["--config-dir", str(config), "labels", "--catalogue", catalogue])
    assert result.exit_code == 1, result.output  # one class names a label the tenant does not publish
    assert "Labels applied: 3; already in place: 0; failed: 1." in result.output
    assert "Graph 400 invalidRequest" in result.output
    rerun = CliRunner().invoke(main, ["--config-dir", str(config), "labels", "--catalogue", catalogue, "--dry-run"])
    assert "Labels would be applied: 1; already in place: 3; failed: 0." in rerun.output
    assert _label_of(emulator, str(files[1]["drive_id"]), str(files[1]["item_id"])) == "Financial records"


def test_long_throttling_stops_the_run_and_the_next_run_carries_on(
    reviewed: tuple[InProcessCrawler, list[dict[str, object]]], emulator: RunningEmulator
) -> None:
    crawler, _ = reviewed
    targets = label_targets(crawler.store, _schedule(LABELS))[0]
    source = crawler.source("sharepoint")
    first = run_labels(source.session, crawler.store, targets[:1])
    assert first.applied == 1
    # Past the crawler's inline wait (30 s here): Graph asks every caller of the tenant to stay away for 200 s.
    emulator.control(
        "PUT", "/faults", {"rules": [{"status": 429, "count": 1, "retry_after": 200, "path": "retentionLabel"}]}
    )
    stopped = run_labels(source.session, crawler.store, targets)
    assert stopped.stopped == "Graph is throttling the tenant for 200 s; run again later"
    assert (stopped.applied, stopped.failures) == (0, [])
    emulator.control("DELETE", "/faults")
    held = run_labels(source.session, crawler.store, targets)  # the tenant-wide pause still holds
    assert held.stopped is not None and held.applied == 0
    crawler.board = LocalPauseBoard()  # ... until it is over (a new board stands for "200 s later")
    resumed = run_labels(crawler.source("sharepoint").session, crawler.store, targets)
    assert (resumed.applied, resumed.unchanged, resumed.stopped) == (2, 1, None)
