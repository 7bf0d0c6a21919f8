"""Fixtures for crawl tests: an emulated tenant over real HTTP, a config folder pointing at it, catalogues."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.crawl import RoundResult, crawl_drive, process_crawled
from docintel.graph_emulator.testing import SMALL_TENANT, RunningEmulator, running_emulator
from docintel.pipeline import Engines, masked_location
from docintel.settings import Settings, load_settings
from docintel.sources.graph import GraphSettings, GraphSource, GraphSourceConfig, LocalPauseBoard, PauseBoard
from docintel.sources.graph_client import GraphAuth

PROJECT_CONFIG = Path(__file__).resolve().parents[2] / "config"
ORGANISATION = "Test Council"
PII_KEY = "3c5e0a9f" * 2 + "d41b7e26" * 2 + "9a0c4f81" * 2 + "e7b2d539" * 2  # fixed, not all one byte
# Short SDK and crawler back-offs: the faults under test still happen, the waits do not dominate the suite.
SDK_RETRY_DELAY = 0.05

SOURCES: list[dict[str, Any]] = [
    {"name": "sharepoint", "kind": "sharepoint", "exclude_paths": ["*/~$*"]},
    {"name": "onedrive", "kind": "onedrive"},
]


def write_config(folder: Path, catalogue_url: str, graph_url: str) -> Path:
    """A config folder: the project's schedule and classifier files, settings for a fast pipeline, sources.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("retention_schedule.yaml", "classifier.yaml", "pii.yaml"):
        shutil.copy(PROJECT_CONFIG / name, folder / name)
    settings = {"catalogue": {"url": catalogue_url}, "pii": {"enabled": False}, "ocr": {"enabled": False}}
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    sources = {"graph": {"base_url": graph_url, "organisation": ORGANISATION}, "sources": SOURCES}
    (folder / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    return folder


def tenant_files(emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Every live file of the tenant, by item id, from the emulator's own listing."""
    files: dict[str, dict[str, Any]] = {}
    for drive in emulator.control("GET", "/tenant")["drives"]:
        for item in emulator.control("GET", f"/drives/{drive['id']}/items"):
            if not item["folder"]:
                files[item["id"]] = item
    return files


def catalogue_files(store: CatalogueStore) -> dict[str, dict[str, Any]]:
    """Every live top-level document of the catalogue, by item id."""
    return {
        row["item_id"]: row
        for row in store.iter_documents(include_children=False, include_deleted=False)
        if row["item_id"] is not None
    }


def assert_catalogue_matches(store: CatalogueStore, emulator: RunningEmulator) -> None:
    """The catalogue holds exactly the tenant's files: same ids, names, folders and content hashes."""
    expected = tenant_files(emulator)
    found = catalogue_files(store)
    assert set(found) == set(expected)
    for item_id, want in expected.items():
        row = found[item_id]
        assert row["name"] == want["path"].rsplit("/", 1)[-1]
        assert row["sha256"] == want["hashes"]["sha256Hash"].lower()
        folder = want["path"].rpartition("/")[0]
        assert row["path"].endswith(folder), (row["path"], folder)
        assert row["status"] == "ok", (row["name"], row["error_type"])


class InProcessCrawler:
    """Crawls every source of the test tenant in this process: delta rounds, then the pipeline on what changed."""

    def __init__(self, emulator: RunningEmulator, store: CatalogueStore, settings: Settings, board: PauseBoard) -> None:
        self.emulator = emulator
        self.store = store
        self.crawl_store = CrawlStore(store)
        self.engines = Engines(settings=settings, pii_key=bytes.fromhex(PII_KEY))
        self.graph = GraphSettings(base_url=emulator.graph_url, organisation=ORGANISATION, max_inline_wait_seconds=30)
        self.auth = GraphAuth(base_url=emulator.graph_url, token="emulator-token")
        self.board = board
        self.sources = {c["name"]: GraphSourceConfig.model_validate(c) for c in SOURCES}

    def source(self, name: str) -> GraphSource:
        """A configured source."""
        return GraphSource(
            self.sources[name],
            self.graph,
            self.auth,
            board=self.board,
            sdk_retry_delay=SDK_RETRY_DELAY,
            sdk_max_retries=0,
        )

    def crawl(self, process: bool = True) -> list[RoundResult]:
        """One round on every drive; then process every pending document (as the extract jobs would)."""

        async def rounds() -> list[RoundResult]:
            results = []
            for name in self.sources:
                source = self.source(name)
                async with source.session() as session:
                    session.caller.backoff_base = 0.01
                    for drive in await session.list_drives():
                        results.append(
                            await crawl_drive(
                                session,
                                drive,
                                self.crawl_store,
                                wants=source.wants,
                                keep_pending_ids=True,
                                relabel=partial(masked_location, self.engines),  # as the crawl job does
                            )
                        )
            return results

        results = asyncio.run(rounds())
        if process:
            for result in results:
                for doc_id in result.pending_ids:
                    process_crawled(doc_id, self.crawl_store, self.engines, self.source)
        return results


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The small test tenant served over real HTTP."""
    with running_emulator(SMALL_TENANT) as running:
        yield running


@pytest.fixture
def start_emulator() -> Iterator[Callable[[dict[str, Any]], RunningEmulator]]:
    """Start emulators for other tenants; stopped after the test."""
    with ExitStack() as stack:
        yield lambda spec: stack.enter_context(running_emulator(spec))


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def make_crawler(tmp_path: Path) -> Iterator[Callable[..., InProcessCrawler]]:
    """Build an in-process crawler over an emulator and a catalogue URL."""
    opened: list[CatalogueStore] = []

    def make(emulator: RunningEmulator, url: str, board: PauseBoard | None = None) -> InProcessCrawler:
        config = write_config(tmp_path / "config", url, emulator.graph_url)
        settings = load_settings(config, environ={})
        store = open_catalogue(url)
        opened.append(store)
        return InProcessCrawler(emulator, store, settings, board or LocalPauseBoard())

    yield make
    for store in opened:
        store.close()
