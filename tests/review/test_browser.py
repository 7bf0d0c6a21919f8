"""The review pages in a real browser: Playwright driving Debian's Chromium against uvicorn on a free port.

Signs in, loads the dashboard, filters the queue, changes a class in bulk and finds the change in the audit
trail. Screenshots go to the temporary folder for a human to look at.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_fixtures import (
    CONFIG_DIR,
    PASSWORD,
    REVIEWER,
    add_accounts,
    document,
    make_app,
    populate,
    save_readable_tender,
)

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.models import DocumentRecord, PiiFinding
from docintel.pipeline import Engines, retain_stage
from docintel.settings import load_settings

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("DOCINTEL_SCREENSHOT_DIR", tempfile.gettempdir()))
STARTUP_SECONDS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(store: CatalogueStore) -> Iterator[str]:
    """The review pages over ``store`` served by uvicorn in a thread; yields the base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    app, runtime = make_app(store)
    add_accounts(runtime.store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """The review pages served by uvicorn in a thread, over a populated SQLite catalogue."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        populate(store)
        with serving(store) as url:
            yield url


@pytest.fixture
def documents_server(tmp_path: Path) -> Iterator[tuple[str, DocumentRecord, str]]:
    """The review pages over the populated catalogue plus a readable tender PDF and a letter naming a birth date."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        populate(store)
        tender = save_readable_tender(store, tmp_path, with_evidence=True)
        engines = Engines(settings=load_settings(CONFIG_DIR, environ={}), pii_key=b"k" * 32)
        letter = document("pupil-letter", path="Schools/Letters", record_class="correspondence.transitory")
        finding = PiiFinding(entity_type="DATE_OF_BIRTH", start=0, end=10, text="14/03/2012", score=0.85)
        store.save(retain_stage(letter.model_copy(update={"pii": [finding]}), engines))
        with serving(store) as url:
            yield url, tender, "pupil-letter"


def browser_or_skip() -> Any:
    """Playwright's sync API, or a skip when Chromium or Playwright is missing."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium): apt-get install chromium")
    return pytest.importorskip("playwright.sync_api")


def sign_in_page(page: Any, server_url: str) -> None:
    """Sign in as the reviewer through the form."""
    page.goto(f"{server_url}/review/")
    page.fill("input[name=name]", REVIEWER.name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server_url}/review/")


def test_sign_in_filter_bulk_change_and_audit(server_url: str) -> None:
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            # Signed out: the dashboard answers with the sign-in form.
            response = page.goto(f"{server_url}/review/")
            assert response is not None and response.status == 401
            page.fill("input[name=name]", REVIEWER.name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server_url}/review/")
            assert page.locator("h1").inner_text() == "Dashboard"
            assert page.locator("#confidence rect").count() == 10
            assert "Social Care" in page.locator("#sites").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-dashboard.png"), full_page=True)

            # Filter the queue by class.
            page.click("nav >> text=Review queue")
            page.select_option("select[name=class]", "hr.personnel")
            page.click("#filters button[type=submit]")
            page.wait_for_url("**/review/queue?*class=hr.personnel*")
            rows = page.locator("#queue tbody tr")
            assert rows.count() == 2
            assert page.locator("#total").inner_text().startswith("2 documents")
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-queue.png"), full_page=True)

            # Change both in bulk.
            for box in page.locator("#queue input[name=doc_id]").all():
                box.check()
            page.select_option("#action", "change")
            page.select_option("#to_class", "hr.payroll")
            page.fill("#reason", "payroll run sheets, not personnel files")
            page.click("#apply")
            page.wait_for_load_state()
            assert "2 documents changed." in page.locator(".flash").inner_text()
            assert page.locator("#queue tbody tr").count() == 0  # reviewed: gone from the to-do queue

            # The audit trail shows both changes with who and why.
            page.click("nav >> text=Audit trail")
            audit_text = page.locator("#audit").inner_text()
            assert audit_text.count("hr.personnel → hr.payroll") == 2
            assert "payroll run sheets" in audit_text and REVIEWER.name in audit_text
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-audit.png"), full_page=True)

            # The document page shows the recomputed retention.
            page.click("#audit tbody tr >> nth=0 >> a")
            assert "hr.payroll" in page.locator("#doc-class").inner_text()
            assert page.locator("#doc-disposal").inner_text() != "none"
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-document.png"), full_page=True)
        finally:
            browser.close()


def test_workload_teaching_order_document_and_a_date_of_birth_class(
    documents_server: tuple[str, DocumentRecord, str],
) -> None:
    server_url, tender, letter_id = documents_server
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            sign_in_page(page, server_url)
            # The workload the classifier leaves: flagged against accepted, and precision not measured yet.
            assert page.locator("#flagged .n").inner_text() == "5"  # 4 populated + the tender
            assert page.locator("#accepted .n").inner_text() == "6"  # 5 populated + the letter
            assert page.locator("#accepted-precision .n").inner_text() == "not yet measured"
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-workload.png"), full_page=True)

            # The queue says why it is in this order.
            page.click("#flagged")
            page.wait_for_url("**/review/queue?flag=flagged")
            assert "teach the classifier most" in page.locator("#order").inner_text()
            assert page.locator("#queue tbody tr").count() == 5

            # The tender's page shows the document: its first page drawn, and the passage that decided.
            page.goto(f"{server_url}/review/document?id={tender.id}")
            picture = page.locator("#doc-pages img").first
            assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
            assert page.locator("#doc-passages mark").first.inner_text() == "scored against the evaluation criteria"
            page.screenshot(path=str(SCREENSHOTS / "docintel-review-document-preview.png"), full_page=True)

            # A reviewer moves the letter into a class counted from the date of birth: the date follows.
            page.goto(f"{server_url}/review/document?id={letter_id}")
            page.select_option("select[name=action]", "change")
            page.select_option("select[name=to_class]", "education.pupil_record")
            page.click("text=Record decision")
            page.wait_for_load_state()
            assert "education.pupil_record" in page.locator("#doc-class").inner_text()
            assert page.locator("#doc-disposal").inner_text().startswith("2037-12-31")
        finally:
            browser.close()
