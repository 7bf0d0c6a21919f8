"""A review page draws a SharePoint document fetched again through Graph (the emulator over real HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from docintel.graph_emulator.testing import RunningEmulator
from docintel.review.auth import ReviewSettings
from docintel.review.web import configure_review, router
from docintel.settings import load_settings
from tests.crawl.conftest import InProcessCrawler, catalogue_files
from tests.review.review_fixtures import REVIEWER, SECRET, add_accounts, sign_in


def test_sharepoint_document_is_drawn_from_graph_and_not_kept(
    emulator: RunningEmulator,
    make_crawler: Callable[..., InProcessCrawler],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crawler = make_crawler(emulator, f"sqlite:///{tmp_path / 'catalogue.db'}")
    crawler.crawl()
    rows = catalogue_files(crawler.store).values()
    invoice = next(row for row in rows if row["source"] == "sharepoint" and row["file_type"] == "pdf")
    # The review pages use the tenant settings of sources.yaml and the credentials in the environment.
    monkeypatch.setenv("DOCINTEL_GRAPH_TOKEN", "emulator-token")
    app = FastAPI()
    app.include_router(router)
    settings = load_settings(tmp_path / "config", environ={})
    runtime = configure_review(
        app, store=crawler.store, settings=settings, review_settings=ReviewSettings(), secret=SECRET
    )
    add_accounts(runtime.store)
    client = TestClient(app)
    sign_in(client, REVIEWER.name)
    tree = lxml_html.fromstring(client.get(f"/review/document?id={invoice['id']}").text)
    assert not tree.xpath("//p[contains(@class, 'doc-note')]")
    assert tree.xpath("//div[@id='doc-pages']/img/@src")[0].startswith("data:image/png;base64,")
    # The passages the classifier recorded, re-read from the source (or, had it recorded none, the opening).
    assert tree.xpath("//ol[@id='doc-passages']//blockquote") or tree.xpath("//blockquote[@id='doc-opening']")
    with crawler.store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM document_texts").scalar_one() == 0
