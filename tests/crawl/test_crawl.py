"""Incremental Graph crawl against the emulator over real HTTP with the real SDK, into SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import open_catalogue
from docintel.crawl import crawl_drive
from docintel.enrich.hashing import pii_hash
from docintel.errors import SourceThrottled
from docintel.graph_emulator.testing import RunningEmulator
from docintel.sources.graph import LocalPauseBoard
from tests.crawl.conftest import InProcessCrawler, assert_catalogue_matches, catalogue_files, tenant_files


def _drive(emulator: RunningEmulator, site: str, library: str = "Documents") -> str:
    tenant = emulator.control("GET", "/tenant")
    site_entry = next(s for s in tenant["sites"] if s["name"] == site)
    return next(d["id"] for d in tenant["drives"] if d["id"] in site_entry["drive_ids"] and d["name"] == library)


def _snapshot(crawler: InProcessCrawler) -> dict[str, tuple[Any, ...]]:
    return {
        item_id: (row["id"], row["name"], row["path"], row["sha256"], row["status"])
        for item_id, row in catalogue_files(crawler.store).items()
    }


def test_full_crawl_matches_the_tenant(
    emulator: RunningEmulator, catalogue_url: str, make_crawler: Callable[..., InProcessCrawler]
) -> None:
    emulator.control("PUT", "/settings", {"page_size": 4})
    crawler = make_crawler(emulator, catalogue_url)
    results = crawler.crawl()

    assert_catalogue_matches(crawler.store, emulator)
    assert len(results) == 5  # three libraries, two OneDrives (the third user has none)
    checkpoints = CrawlStore(crawler.store).checkpoints()
    assert len(checkpoints) == 5
    assert all(c.delta_link and c.status == "idle" and c.last_sync_at for c in checkpoints)
    assert {c.label.split("/")[0] for c in checkpoints} == {"finance", "social", "onedrive"}
    agents = emulator.control("GET", "/stats")["user_agents"]
    assert agents and all(agent.startswith("NONISV|Test Council|docintel/") for agent in agents)


def test_changes_between_rounds_are_reflected_and_unchanged_files_are_not_read_again(
    emulator: RunningEmulator, catalogue_url: str, make_crawler: Callable[..., InProcessCrawler]
) -> None:
    crawler = make_crawler(emulator, catalogue_url)
    crawler.crawl()
    control = emulator.control
    drive = _drive(emulator, "finance")
    items = control("GET", f"/drives/{drive}/items")
    invoices = next(i for i in items if i["path"] == "Invoices")
    contracts = next(i for i in items if i["path"] == "Contracts")
    edited, renamed, moved, deleted = [i for i in items if i["parent_id"] == invoices["id"]][:4]
    added = control(
        "POST",
        "/items",
        {
            "drive_id": drive,
            "parent_id": contracts["id"],
            "name": "New deal.pdf",
            "template": "contract",
            "format": "pdf",
        },
    )
    lock = control(
        "POST", "/items", {"drive_id": drive, "parent_path": "", "name": "~$Regulations.docx", "template": "policy"}
    )
    control("PATCH", f"/items/{edited['id']}", {"edit_content": True})
    control("PATCH", f"/items/{renamed['id']}", {"name": "Renamed invoice.pdf"})
    control("PATCH", f"/items/{moved['id']}", {"parent_id": contracts["id"]})
    control("DELETE", f"/items/{deleted['id']}")
    before = _snapshot(crawler)

    results = crawler.crawl()

    finance = next(r for r in results if r.drive_id == drive)
    assert finance.pending == 2  # the new file and the edited one; nothing else is read again
    assert finance.refreshed == 2  # renamed and moved: metadata only
    assert finance.excluded == 1  # the Office lock file
    assert sum(r.pending for r in results if r.drive_id != drive) == 0
    after = _snapshot(crawler)
    assert after[renamed["id"]][1] == "Renamed invoice.pdf"
    assert after[moved["id"]][2].endswith("finance/Documents/Contracts")
    assert after[added["id"]][2].endswith("finance/Documents/Contracts")
    assert after[edited["id"]][3] != before[edited["id"]][3]
    assert deleted["id"] not in after and lock["id"] not in after
    gone = crawler.store.get(before[deleted["id"]][0])
    assert gone is not None and gone["deleted"] and gone["status"] == "deleted"
    # The lock file is excluded by sources.yaml: compare against the tenant without it.
    control("DELETE", f"/items/{lock['id']}")
    crawler.crawl()
    assert_catalogue_matches(crawler.store, emulator)
    assert all(r.pending == 0 and r.refreshed == 0 for r in crawler.crawl())


def test_forced_410_resync_converges_to_the_same_catalogue(
    emulator: RunningEmulator, catalogue_url: str, make_crawler: Callable[..., InProcessCrawler], tmp_path: Any
) -> None:
    crawler = make_crawler(emulator, catalogue_url)
    crawler.crawl()
    drive = _drive(emulator, "social")
    files = [i for i in emulator.control("GET", f"/drives/{drive}/items") if not i["folder"]]
    emulator.control("DELETE", f"/items/{files[0]['id']}")
    emulator.control("PATCH", f"/items/{files[1]['id']}", {"edit_content": True})
    emulator.control("POST", "/delta/invalidate", {})  # every drive's token now answers 410

    results = crawler.crawl()

    assert all(r.resyncs == 1 for r in results)
    assert sum(r.pending for r in results) == 1  # only the edited file is read again
    assert sum(r.deleted for r in results) == 1  # swept: gone from the fresh enumeration
    assert_catalogue_matches(crawler.store, emulator)
    fresh_store = open_catalogue(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh = InProcessCrawler(emulator, fresh_store, crawler.engines.settings, LocalPauseBoard())
    fresh.crawl()
    assert {k: v[1:4] for k, v in _snapshot(fresh).items()} == {k: v[1:4] for k, v in _snapshot(crawler).items()}
    fresh.store.close()


def test_thirty_percent_throttled_or_failing_requests_still_complete_with_nothing_missing(
    emulator: RunningEmulator, make_crawler: Callable[..., InProcessCrawler], tmp_path: Any
) -> None:
    emulator.control("PUT", "/settings", {"page_size": 3})
    emulator.control(
        "PUT", "/faults", {"fail_rate": 0.3, "fail_statuses": [429, 503], "fail_retry_after": 0, "seed": 11}
    )
    crawler = make_crawler(emulator, f"sqlite:///{tmp_path / 'catalogue.db'}")
    crawler.crawl()
    stats = emulator.control("GET", "/stats")
    assert stats["by_status"].get("429", 0) + stats["by_status"].get("503", 0) >= 10
    emulator.control("DELETE", "/faults")
    assert_catalogue_matches(crawler.store, emulator)


def test_retry_after_beyond_the_sdk_ceiling_pauses_the_tenant_and_keeps_the_old_checkpoint(
    emulator: RunningEmulator, make_crawler: Callable[..., InProcessCrawler], tmp_path: Any
) -> None:
    board = LocalPauseBoard()
    crawler = make_crawler(emulator, f"sqlite:///{tmp_path / 'catalogue.db'}", board)
    emulator.control("PUT", "/faults", {"rules": [{"status": 429, "count": 1, "retry_after": 200, "path": "delta"}]})
    source = crawler.source("sharepoint")

    async def one_round() -> None:
        async with source.session() as session:
            drive = (await session.list_drives())[0]
            await crawl_drive(session, drive, crawler.crawl_store)

    with pytest.raises(SourceThrottled) as caught:
        asyncio.run(one_round())
    assert caught.value.retry_after == pytest.approx(200, abs=2)
    assert board.paused_for() == pytest.approx(200, abs=5)  # every caller of the tenant now waits
    checkpoint = crawler.crawl_store.checkpoints()[0]
    assert checkpoint.delta_link is None and checkpoint.status == "failed"
    assert checkpoint.error_type == "SourceThrottled"
    assert len(tenant_files(emulator)) > 0


def test_names_with_personal_data_are_catalogued_masked_and_stay_masked_through_renames(
    emulator: RunningEmulator, catalogue_url: str, make_crawler: Callable[..., InProcessCrawler]
) -> None:
    crawler = make_crawler(emulator, catalogue_url)
    crawler.engines.settings.pii.enabled = True  # the test config turns it off for speed
    control = emulator.control
    drive = _drive(emulator, "finance")
    contracts = next(i for i in control("GET", f"/drives/{drive}/items") if i["path"] == "Contracts")
    name = "Letter to Olivia Smith re 943 476 5919.pdf"
    added = control("POST", "/items", {"drive_id": drive, "parent_id": contracts["id"], "name": name,
                                        "template": "contract", "format": "pdf"})  # fmt: skip
    crawler.crawl()
    assert _snapshot(crawler)[added["id"]][1] == "Letter to <PERSON> re <UK_NHS>.pdf"
    key = crawler.engines.key
    doc_id = _snapshot(crawler)[added["id"]][0]
    assert crawler.store.documents_with_value(pii_hash("UK_NHS", "9434765919", key), "UK_NHS") == [doc_id]

    # Renamed in SharePoint: the crawler refreshes the row without reading the file, and still masks.
    control("PATCH", f"/items/{added['id']}", {"name": "Reply to Grace Hopper about 401 023 2137.pdf"})
    results = crawler.crawl()
    assert next(r for r in results if r.drive_id == drive).refreshed == 1
    row = crawler.store.get(doc_id)
    assert row is not None and row["name"] == "Reply to <PERSON> about <UK_NHS>.pdf"
    assert "Olivia" not in (row["web_url"] or "") and "Grace" not in (row["web_url"] or "")
    assert crawler.store.documents_with_value(pii_hash("UK_NHS", "4010232137", key), "UK_NHS") == [doc_id]
    assert crawler.store.documents_with_value(pii_hash("UK_NHS", "9434765919", key), "UK_NHS") == []
    # Nothing changed since: the masked name compares equal, so no refresh, no re-read.
    assert all(r.refreshed == 0 and r.pending == 0 for r in crawler.crawl())
