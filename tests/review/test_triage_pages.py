"""The migration triage in the review pages: the dashboard chart, the triage page, and audited overrides.

Over a real SQLite catalogue (the review fixtures' generated documents) and the shipped config/migration_map.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from docintel.catalogue.store import open_catalogue
from docintel.review.store import HoldScope
from docintel.review.web import ReviewRuntime
from tests.review.review_fixtures import ADMIN, READER, REVIEWER, add_accounts, make_app, populate, sign_in


@pytest.fixture
def app_runtime(tmp_path: Path) -> Iterator[tuple[TestClient, ReviewRuntime]]:
    """The review router over the populated catalogue, with a reviewer, an administrator and a read-only account."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        populate(store)
        app, runtime = make_app(store)
        add_accounts(runtime.store)
        yield TestClient(app), runtime


def _recommendation(page: str, doc_id: str) -> str:
    row = re.search(rf'data-id="{re.escape(doc_id)}">(.*?)</tr>', page, re.S)
    assert row is not None, doc_id
    cell = re.search(r'class="recommendation">([a-z]+)', row.group(1))
    assert cell is not None
    return cell.group(1)


def _override(client: TestClient, token: str, doc_id: str, recommendation: str, reason: str = "checked") -> object:
    return client.post(
        "/review/triage/override",
        data={"csrf_token": token, "id": doc_id, "recommendation": recommendation, "reason": reason},
        follow_redirects=False,
    )


def test_the_triage_page_needs_sign_in(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    assert client.get("/review/triage").status_code == 401


def test_dashboard_and_triage_page_show_totals_with_a_chart(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    sign_in(client, READER.name)
    dashboard = client.get("/review/").text
    assert 'id="triage-chart"' in dashboard and 'id="need-not-move"' in dashboard
    for recommendation in ("migrate", "dispose", "duplicate", "trivial", "review"):
        assert f'id="triage-{recommendation}"' in dashboard
    page = client.get("/review/triage").text
    assert "of 10 files" in page  # the ten top-level documents the fixtures catalogue
    assert "Finance/Invoices" in page and 'id="triage-folders"' in page
    # The hostile file name is escaped, and a read-only account gets no override form.
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'action="/review/triage/override"' not in page
    # The failed document and the one with no class go to review; the others are listed with their target.
    assert _recommendation(page, "bad-1") == "review" and _recommendation(page, "odd-1") == "review"
    assert "https://example.sharepoint.com/sites/finance" in page
    filtered = client.get("/review/triage?recommendation=review").text
    assert 'data-id="inv-3"' not in filtered and 'data-id="bad-1"' in filtered


def test_a_reviewer_overrides_and_the_audit_trail_keeps_it(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    token = sign_in(client, REVIEWER.name)
    page = client.get("/review/triage").text
    before = _recommendation(page, "minutes-1")
    assert before == "migrate"
    response = _override(client, token, "minutes-1", "dispose", "superseded draft, final kept by committee services")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/review/triage").text
    assert _recommendation(page, "minutes-1") == "dispose"
    assert "override by rita: superseded draft" in page
    audit = client.get("/review/audit?action=triage_override").text
    assert "minutes-1" in audit and "migrate" in audit and "dispose" in audit and "superseded draft" in audit
    # Clearing the override puts the rules' recommendation back, audited too.
    assert _override(client, token, "minutes-1", "", "cleared after checking").status_code == 303  # type: ignore[attr-defined]
    assert _recommendation(client.get("/review/triage").text, "minutes-1") == "migrate"
    assert "cleared after checking" in client.get("/review/audit?action=triage_override").text


def test_overrides_need_a_decider_a_token_a_reason_and_a_known_value(
    app_runtime: tuple[TestClient, ReviewRuntime],
) -> None:
    client, _ = app_runtime
    token = sign_in(client, READER.name)
    assert _override(client, token, "inv-3", "review").status_code == 403  # type: ignore[attr-defined]
    client.post("/review/logout", data={"csrf_token": token})
    token = sign_in(client, REVIEWER.name)
    assert _override(client, "not-the-token", "inv-3", "review").status_code == 403  # type: ignore[attr-defined]
    assert _override(client, token, "inv-3", "review", reason=" ").status_code == 400  # type: ignore[attr-defined]
    assert _override(client, token, "inv-3", "keep-forever").status_code == 400  # type: ignore[attr-defined]
    assert _override(client, token, "no-such-doc", "review").status_code == 404  # type: ignore[attr-defined]
    assert _recommendation(client.get("/review/triage").text, "inv-3") == "migrate"


def test_a_hold_refuses_an_override_that_would_leave_a_file_behind(
    app_runtime: tuple[TestClient, ReviewRuntime],
) -> None:
    client, runtime = app_runtime
    runtime.store.place_hold(HoldScope.FOLDER, "Finance/Invoices", "audit inquiry 2026/07", by=ADMIN)
    token = sign_in(client, REVIEWER.name)
    for recommendation in ("dispose", "duplicate", "trivial"):
        response = _override(client, token, "inv-3", recommendation)
        assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/review/triage").text
    assert "Refused: the file is on legal hold" in page
    assert _recommendation(page, "inv-3") == "migrate"
    audit = client.get("/review/audit?action=triage_override").text
    assert audit.count("refused") >= 3
    # Sending it to review is not leaving it behind: allowed.
    assert _override(client, token, "inv-3", "review").status_code == 303  # type: ignore[attr-defined]
    assert _recommendation(client.get("/review/triage").text, "inv-3") == "review"


def test_without_a_migration_map_the_page_says_so(
    app_runtime: tuple[TestClient, ReviewRuntime], tmp_path: Path
) -> None:
    client, runtime = app_runtime
    runtime.migration_map_path = tmp_path / "absent.yaml"
    sign_in(client, READER.name)
    assert "No migration map" in client.get("/review/triage").text
    assert 'id="triage-chart"' not in client.get("/review/").text


def test_a_broken_migration_map_leaves_the_dashboard_working(
    app_runtime: tuple[TestClient, ReviewRuntime], tmp_path: Path
) -> None:
    client, runtime = app_runtime
    broken = tmp_path / "migration_map.yaml"
    broken.write_text("default: {site_url: ftp://x, library: D}\n", encoding="utf-8")
    runtime.migration_map_path = broken
    sign_in(client, READER.name)
    assert client.get("/review/").status_code == 200
    failed = client.get("/review/triage")
    assert failed.status_code >= 400 and "default.site_url" in failed.text


@pytest.mark.slow
def test_in_chromium_a_reviewer_reads_the_chart_and_overrides(tmp_path: Path) -> None:
    from tests.review.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, browser_or_skip, serving, sign_in_page

    sync_api = browser_or_skip()
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        populate(store)
        with serving(store) as url, sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1360, "height": 1000})
                sign_in_page(page, url)
                assert page.locator("#triage-chart #triage-migrate").count() == 1
                assert "need not move" in page.locator("#triage-chart").inner_text()
                page.click("nav >> text=Migration triage")
                page.wait_for_url(f"{url}/review/triage")
                row = page.locator('#triage-files tr[data-id="minutes-1"]')
                assert row.locator(".recommendation").inner_text().startswith("migrate")
                row.locator("select[name=recommendation]").select_option("review")
                row.locator("input[name=reason]").fill("ask democratic services whether this is the signed copy")
                row.locator("button[type=submit]").click()
                page.wait_for_load_state()
                assert "Recommendation set to review." in page.locator(".flash").inner_text()
                row = page.locator('#triage-files tr[data-id="minutes-1"]')
                assert row.locator(".recommendation").inner_text().startswith("review")
                assert "override by rita" in row.inner_text()
                page.screenshot(path=str(SCREENSHOTS / "docintel-review-triage.png"), full_page=True)
                page.click("nav >> text=Audit trail")
                audit = page.locator("#audit").inner_text()
                assert "triage_override" in audit and "signed copy" in audit
            finally:
                browser.close()
