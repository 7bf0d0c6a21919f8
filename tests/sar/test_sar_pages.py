"""The case pages of the review UI: who may see them, and a request from open to bundle in Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from docintel.catalogue.sar_cases import SarCaseStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.pipeline import Engines, scan_source
from docintel.review.auth import Role
from docintel.review.sar_pages import sar_router
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource
from tests.review.review_fixtures import PASSWORD, REVIEWER, add_accounts, make_app, sign_in
from tests.review.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, STARTUP_SECONDS, _free_port, browser_or_skip
from tests.sar.sar_fixtures import DOB, KEY, NAME, NHS, POSTCODE, THIRD_NAME, write_share

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
HANDLER = "ines"  # the information governance officer: role sar


def _app(store: CatalogueStore) -> FastAPI:
    app, runtime = make_app(store)
    app.include_router(sar_router)
    app.state.pii_key = KEY
    add_accounts(runtime.store)
    runtime.store.create_user(HANDLER, PASSWORD, Role.SAR, by="test")
    return app


@pytest.fixture
def scanned(tmp_path: Path) -> Iterator[tuple[CatalogueStore, dict[str, str]]]:
    settings = load_settings(CONFIG_DIR, environ={})
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        scan_source(
            LocalFolderSource([write_share(tmp_path / "share")]), store, Engines(settings=settings, pii_key=KEY)
        )
        yield store, {row["name"]: row["id"] for row in store.iter_documents()}


def test_only_the_sar_role_and_admins_see_cases(scanned: tuple[CatalogueStore, dict[str, str]]) -> None:
    store, _ = scanned
    client = TestClient(_app(store))
    assert client.get("/review/sar").status_code == 401  # signed out
    sign_in(client, REVIEWER.name)
    refused = client.get("/review/sar")
    assert refused.status_code == 403 and "cannot see subject access cases" in refused.text
    assert "Subject access" not in client.get("/review/").text  # no link either
    token = sign_in(client, HANDLER)
    assert client.get("/review/sar").status_code == 200
    # Forms need the session's CSRF token.
    form = {"name": NAME, "nhs_number": NHS, "received_on": "2026-01-31", "handler": "Ines"}
    assert client.post("/review/sar/open", data={**form, "csrf_token": "forged"}).status_code == 403
    assert SarCaseStore(store).list_cases() == []
    bad = client.post("/review/sar/open", data={**form, "nhs_number": "943 476 5918", "csrf_token": token})
    assert bad.status_code == 400 and "not a valid NHS number" in bad.text
    opened = client.post("/review/sar/open", data={**form, "csrf_token": token}, follow_redirects=False)
    assert opened.status_code == 303 and "SAR-2026-0001" in opened.headers["location"]
    page = client.get(opened.headers["location"])
    assert "requester O. S." in page.text and NAME not in page.text
    assert "sar_view" in [row["action"] for row in SarCaseStore(store).audit_trail("SAR-2026-0001")]


@contextlib.contextmanager
def _serving(app: FastAPI) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
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


@pytest.mark.slow
def test_a_request_from_open_to_bundle_in_the_browser(
    scanned: tuple[CatalogueStore, dict[str, str]], tmp_path: Path
) -> None:
    store, ids = scanned
    sync_api = browser_or_skip()
    with _serving(_app(store)) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000}, accept_downloads=True)
            page.goto(f"{url}/review/")
            page.fill("input[name=name]", HANDLER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/review/")

            # Open the case from the form.
            page.click("nav >> text=Subject access")
            page.fill("#open-case textarea[name=name]", NAME)
            page.fill("#open-case input[name=date_of_birth]", DOB)
            page.fill("#open-case textarea[name=postcode]", POSTCODE)
            page.fill("#open-case textarea[name=nhs_number]", NHS)
            page.fill("#open-case input[name=received_on]", "2026-01-31")
            page.click("#open")
            page.wait_for_url("**/review/sar/case?id=SAR-2026-0001")
            assert "documents found" in page.locator(".flash").inner_text()
            rows = page.locator("#documents tbody tr")
            assert rows.count() == 4  # letter and visit strong, meeting notes weak, look-alike conflict
            assert "strong" in rows.nth(0).inner_text() and "conflict" in rows.nth(3).inner_text()
            page.screenshot(path=str(SCREENSHOTS / "docintel-sar-case.png"), full_page=True)

            # The visit record: passages (masked), withhold its second page, confirm it.
            page.click(f"#documents a[href*='{ids['visit.pdf']}']")
            passages = page.locator("#passages").inner_text()
            assert "[PERSON]" in passages and THIRD_NAME not in passages
            page.select_option("#exempt select[name=exemption]", "legal_privilege")
            page.fill("#exempt input[name=page]", "2")
            page.fill("#exempt input[name=note]", "counsel's advice")
            page.click("#withhold")
            page.wait_for_url("**/review/sar/case?id=SAR-2026-0001")
            page.click(f"#documents a[href*='{ids['visit.pdf']}']")
            page.click("#confirm")
            page.wait_for_url("**/review/sar/case?id=SAR-2026-0001")

            # The letter confirmed from its row; the look-alike rejected.
            for name, button in (("letter.txt", "Confirm"), ("lookalike.txt", "Reject")):
                row = page.locator("#documents tbody tr", has=page.locator(f"a[href*='{ids[name]}']"))
                row.locator(f"button >> text={button}").click()
                page.wait_for_url("**/review/sar/case?id=SAR-2026-0001")
            decisions = page.locator("#documents td.decision").all_inner_texts()
            assert sorted(decisions) == ["confirmed", "confirmed", "pending", "rejected"]

            # The bundle downloads as a PDF.
            page.fill("#bundle input[name=addressee]", "Ms O Smith")
            with page.expect_download(timeout=240_000) as download_info:
                page.click("#bundle-pdf")
            bundle = tmp_path / "bundle.pdf"
            download_info.value.save_as(bundle)
            assert bundle.read_bytes().startswith(b"%PDF")

            # Close with what was sent.
            page.fill("#close input[name=how]", "secure e-mail")
            page.fill("#close input[name=sent_on]", "2026-02-27")
            page.click("#close-case")
            page.wait_for_url("**/review/sar/case?id=SAR-2026-0001")
            assert "sent 2026-02-27 (secure e-mail)" in page.locator("#closed").inner_text()
            trail = page.locator("#trail").inner_text()
            for action in (
                "sar_open",
                "sar_search",
                "sar_exempt",
                "sar_confirmed",
                "sar_rejected",
                "sar_bundle",
                "sar_close",
            ):
                assert action in trail
            assert NAME not in page.content()
            page.screenshot(path=str(SCREENSHOTS / "docintel-sar-closed.png"), full_page=True)
        finally:
            browser.close()

    import pypdfium2

    document = pypdfium2.PdfDocument(str(bundle))
    try:
        text = "".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    finally:
        document.close()
    assert "Dear Ms O Smith" in text and "Schedule of redactions" in text and THIRD_NAME not in text
