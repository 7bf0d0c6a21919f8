"""The review pages over a real SQLite catalogue: sign-in, roles, CSRF, queue, decisions, holds, audit, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from review_fixtures import (
    ADMIN,
    FAKE_EMAIL,
    HOSTILE_NAME,
    PASSWORD,
    READER,
    REVIEWER,
    add_accounts,
    csrf_from,
    make_app,
    populate,
    sign_in,
)

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.review.auth import ReviewSettings, Role
from docintel.review.store import HoldScope
from docintel.review.web import CONTENT_SECURITY_POLICY, ReviewRuntime


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CatalogueStore]:
    """A populated SQLite catalogue."""
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as opened:
        populate(opened)
        yield opened


@pytest.fixture
def app_runtime(store: CatalogueStore) -> tuple[TestClient, ReviewRuntime]:
    """A test client over the review router, with three accounts."""
    app, runtime = make_app(store)
    add_accounts(runtime.store)
    return TestClient(app), runtime


@pytest.fixture
def client(app_runtime: tuple[TestClient, ReviewRuntime]) -> TestClient:
    """The test client, signed out."""
    return app_runtime[0]


def queue_ids(html: str) -> list[str]:
    """Document ids of the queue table's rows, in order."""
    return lxml_html.fromstring(html).xpath("//table[@id='queue']//tr/@data-id")


# -- sign-in and roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/review/", "/review/queue", "/review/holds", "/review/audit", "/review/audit.csv"])
def test_pages_need_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert 'action="/review/login"' in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("name", "password", "signed_in"),
    [
        (REVIEWER.name, PASSWORD, True),
        (READER.name, PASSWORD, True),
        (REVIEWER.name, "wrong password!", False),
        ("nobody", PASSWORD, False),
        ("", "", False),
    ],
)
def test_sign_in_outcomes(client: TestClient, name: str, password: str, signed_in: bool) -> None:
    token = csrf_from(client.get("/review/login").text)
    response = client.post(
        "/review/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/review/queue"},
        follow_redirects=False,
    )
    if signed_in:
        assert response.status_code == 303
        assert response.headers["location"] == "/review/queue"
        assert client.get("/review/queue").status_code == 200
    else:
        assert response.status_code == 401
        assert "Wrong name or password" in response.text
        assert client.get("/review/").status_code == 401


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/elsewhere"])
def test_sign_in_never_redirects_off_the_review_pages(client: TestClient, next_url: str) -> None:
    token = csrf_from(client.get("/review/login").text)
    response = client.post(
        "/review/login",
        data={"name": REVIEWER.name, "password": PASSWORD, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/review/"


def test_sign_in_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/review/login")
    response = client.post("/review/login", data={"name": REVIEWER.name, "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403
    assert client.get("/review/").status_code == 401


def test_session_cookie_is_signed_and_http_only(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    cookie = next(c for c in client.cookies.jar if c.name == "docintel_review")
    assert cookie.path == "/review"
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.value and "rita" not in cookie.value.split(".")[-1]
    tampered = TestClient(client.app, cookies={"docintel_review": cookie.value[:-3] + "AAA"})
    assert tampered.get("/review/").status_code == 401
    genuine = TestClient(client.app, cookies={"docintel_review": cookie.value})
    assert genuine.get("/review/").status_code == 200


def test_sign_out_ends_the_session(client: TestClient) -> None:
    token = sign_in(client, REVIEWER.name)
    assert client.post("/review/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/review/").status_code == 401


def test_disabled_account_loses_its_session(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    sign_in(client, REVIEWER.name)
    runtime.store.set_disabled(REVIEWER.name, True, by="test")
    assert client.get("/review/").status_code == 401


def test_readonly_can_view_but_not_decide(client: TestClient) -> None:
    token = sign_in(client, READER.name)
    page = client.get("/review/queue?state=all")
    assert page.status_code == 200
    assert 'name="doc_id"' not in page.text  # no bulk checkboxes
    response = client.post(
        "/review/decide",
        data={"csrf_token": token, "action": "accept", "scope": "selected", "doc_id": "inv-1"},
    )
    assert response.status_code == 403
    assert "readonly" in response.text
    assert (
        client.post("/review/holds", data={"csrf_token": token, "scope": "folder", "target": "HR"}).status_code == 403
    )


def test_decision_without_csrf_token_is_refused(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    response = client.post("/review/decide", data={"action": "accept", "scope": "selected", "doc_id": "inv-1"})
    assert response.status_code == 403
    assert "expired" in response.text


@pytest.mark.parametrize(
    ("client_host", "header", "expected"),
    [
        ("127.0.0.1", "rita", 200),  # local reviewer account, named by the proxy
        ("127.0.0.1", "newcomer", 200),  # no account: the default (read-only) role
        ("10.9.9.9", "rita", 401),  # not from a trusted proxy: the header is ignored
        ("127.0.0.1", "", 401),
    ],
)
def test_trusted_proxy_header(store: CatalogueStore, client_host: str, header: str, expected: int) -> None:
    settings = ReviewSettings(trusted_header_enabled=True, trusted_header_name="X-Remote-User")
    app, runtime = make_app(store, settings)
    add_accounts(runtime.store)
    proxied = TestClient(app, client=(client_host, 50000))
    response = proxied.get("/review/queue", headers={"X-Remote-User": header} if header else {})
    assert response.status_code == expected
    if expected == 200:
        role = Role.REVIEWER if header == "rita" else Role.READONLY
        assert f"{header} · {role.value}" in response.text


def test_proxy_header_ignored_when_disabled(client: TestClient) -> None:
    assert client.get("/review/", headers={"X-Remote-User": ADMIN.name}).status_code == 401


# -- dashboard --------------------------------------------------------------------------------------


def test_dashboard_shows_charts_counts_and_no_pii_values(client: TestClient) -> None:
    sign_in(client, READER.name)
    page = client.get("/review/")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.text)
    for section in ("classes", "sites", "disposal", "confidence", "pii", "failures"):
        assert tree.xpath(f"//section[@id='{section}']"), section
    assert len(tree.xpath("//section[@id='confidence']//rect")) == 10
    assert len(tree.xpath("//section[@id='disposal']//rect")) == 12
    sites = tree.xpath("//section[@id='sites']//td[@class='path']/a/text()")
    assert {"Finance", "HR", "Social Care", "Governance"} <= set(sites)
    assert "EMAIL_ADDRESS: 3" in page.text
    assert "CorruptDocument" in page.text
    assert FAKE_EMAIL not in page.text
    assert "<script>" not in page.text
    assert "&lt;script&gt;" not in page.text or HOSTILE_NAME not in page.text


def test_dashboard_shows_flagged_and_accepted_and_their_measured_precision(client: TestClient) -> None:
    token = sign_in(client, REVIEWER.name)
    tree = lxml_html.fromstring(client.get("/review/").text)
    card = lambda card_id: " ".join(tree.xpath(f"//a[@id='{card_id}']//text()"))  # noqa: E731
    assert card("flagged").startswith("4 ") and card("accepted").startswith("5 ")
    assert "not yet measured" in card("accepted-precision")
    assert tree.xpath("//a[@id='accepted']/@href") == ["/review/queue?flag=accepted"]
    accepted_queue = client.get("/review/queue?flag=accepted").text
    assert queue_ids(accepted_queue) == sorted(["case-1", "hr-2", "inv-3", "inv-4", "minutes-1"])
    assert "fair sample" in accepted_queue
    decide(client, token, action="accept", scope="selected", doc_id=["inv-3", "hr-2"])
    decide(client, token, action="change", to_class="hr.payroll", scope="selected", doc_id=["case-1"])
    tree = lxml_html.fromstring(client.get("/review/").text)
    assert card("accepted-precision").startswith("67% of accepted documents right (2 of 3 checked")


# -- queue ------------------------------------------------------------------------------------------


def test_queue_least_sure_first_taking_turns_over_classes(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    html = client.get("/review/queue").text
    # Page size 5: each class's least sure document first (unclassified before all); failed bad-1 never listed.
    assert queue_ids(html) == ["odd-1", "hr-1", "inv-1", "case-1", "minutes-1"]
    assert "teach the classifier most" in html


def test_queue_form_returns_to_the_same_filter(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    tree = lxml_html.fromstring(client.get("/review/queue?class=hr.personnel&state=all").text)
    assert tree.xpath("//form[@id='bulk']//input[@name='return_to']/@value") == [
        "/review/queue?class=hr.personnel&state=all&page=1"
    ]
    assert tree.xpath("//form[@id='bulk']//input[@name='f_class']/@value") == ["hr.personnel"]


def test_queue_pagination(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    first = client.get("/review/queue").text
    second = client.get("/review/queue?page=2").text
    assert 'rel="next"' in first
    assert queue_ids(second) == ["inv-2", "hr-2", "inv-4", "inv-3"]
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("prefix=Finance", {"inv-1", "inv-2", "inv-3", "inv-4"}),
        ("prefix=Finance/Invoices/2023", {"inv-4"}),
        ("prefix=Fin", set()),  # a prefix is a folder, not a string prefix
        ("folder=Finance/Invoices", {"inv-1", "inv-2", "inv-3"}),
        ("class=hr.personnel", {"hr-1", "hr-2"}),
        ("class=(unclassified)", {"odd-1"}),
        ("min=0.5&max=0.75", {"inv-4", "case-1", "minutes-1"}),
        ("min=not-a-number&class=hr.personnel", {"hr-1", "hr-2"}),  # bad values are ignored
        ("disposal=365", {"inv-1", "inv-2"}),
        ("disposal=none", {"odd-1", "case-1", "hr-1", "hr-2", "minutes-1"}),
    ],
)
def test_queue_filters(client: TestClient, query: str, expected: set[str]) -> None:
    sign_in(client, REVIEWER.name)
    ids: set[str] = set()
    for page in (1, 2, 3):
        ids |= set(queue_ids(client.get(f"/review/queue?state=all&page={page}&{query}").text))
    assert ids == expected


# -- decisions --------------------------------------------------------------------------------------


def decide(client: TestClient, token: str, **fields: object) -> str:
    """Post a decision, follow the redirect and return the page it lands on."""
    data = {"csrf_token": token, "return_to": "/review/queue?state=all", **fields}
    response = client.post("/review/decide", data=data, follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.text


def test_change_class_in_bulk_recomputes_retention_and_audits(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    token = sign_in(client, REVIEWER.name)
    page = decide(
        client,
        token,
        action="change",
        to_class="hr.payroll",
        reason="payroll run sheets",
        scope="selected",
        doc_id=["hr-1", "hr-2"],
    )
    assert "2 documents changed." in page
    for doc_id in ("hr-1", "hr-2"):
        row = runtime.store.catalogue.get(doc_id)
        assert row is not None
        assert row["record_class"] == "hr.payroll"
        assert row["classifier"] == "reviewer"
        assert row["retention_period"] == runtime.schedule.get("hr.payroll").describe_period()
        assert row["disposal_date"] is not None  # hr.personnel had none (awaits leaving date); payroll has one
    audit = client.get("/review/audit").text
    assert audit.count("hr.personnel → hr.payroll") == 2
    assert "payroll run sheets" in audit
    # Reviewed documents leave the default ("to review") queue.
    assert not {"hr-1", "hr-2"} & set(queue_ids(client.get("/review/queue?class=hr.payroll").text))


def test_bulk_by_filter_and_by_folder(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    token = sign_in(client, REVIEWER.name)
    page = decide(client, token, action="accept", scope="filter", f_prefix="Finance", f_state="all")
    assert "4 documents accepted." in page
    page = decide(client, token, action="accept", scope="folder", bulk_folder="Governance")
    assert "1 document accepted." in page and "1 not classified" in page
    labels = runtime.store.approved_labels()
    assert labels["inv-4"] == "finance.invoice" and labels["minutes-1"] == "governance.committee"
    assert "odd-1" not in labels


def test_bulk_limit(store: CatalogueStore) -> None:
    app, runtime = make_app(store, ReviewSettings(max_bulk_documents=2))
    add_accounts(runtime.store)
    client = TestClient(app)
    token = sign_in(client, REVIEWER.name)
    response = client.post(
        "/review/decide", data={"csrf_token": token, "action": "accept", "scope": "filter", "f_state": "all"}
    )
    assert response.status_code == 400
    assert "more than 2" in response.text
    assert runtime.store.approved_labels() == {}


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"action": "change", "scope": "selected", "doc_id": "inv-1"}, 400, "No class chosen"),
        ({"action": "change", "to_class": "made.up", "scope": "selected", "doc_id": "inv-1"}, 400, "Unknown class"),
        ({"action": "destroy", "scope": "selected", "doc_id": "inv-1"}, 400, "Unknown decision"),
        ({"action": "accept", "scope": "selected"}, 400, "Nothing selected"),
        ({"action": "accept", "scope": "everything"}, 400, "Unknown scope"),
    ],
)
def test_bad_decisions_are_explained(client: TestClient, fields: dict[str, str], status: int, message: str) -> None:
    token = sign_in(client, REVIEWER.name)
    response = client.post("/review/decide", data={"csrf_token": token, **fields})
    assert response.status_code == status
    assert message in response.text


# -- holds ------------------------------------------------------------------------------------------


def test_hold_blocks_disposal_and_only_admin_releases(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    token = sign_in(client, REVIEWER.name)
    response = client.post(
        "/review/holds",
        data={"csrf_token": token, "scope": "folder", "target": "Finance/Invoices", "reason": "FOI 2026/17"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "placed on folder Finance/Invoices" in response.text
    assert "FOI 2026/17" in response.text
    document_page = client.get("/review/document?id=inv-1").text
    assert "on hold: disposal blocked" in document_page
    page = decide(client, token, action="approve_disposal", scope="selected", doc_id=["inv-1", "inv-2"])
    assert "0 documents approved for disposal" in page and "2 on hold" in page
    held = queue_ids(client.get("/review/queue?state=all&hold=held").text)
    assert set(held) == {"inv-1", "inv-2", "inv-3", "inv-4"}

    hold_id = runtime.store.holds(active_only=True)[0].id
    refused = client.post(f"/review/holds/{hold_id}/release", data={"csrf_token": token, "reason": "done"})
    assert refused.status_code == 403

    admin = TestClient(client.app)
    admin_token = sign_in(admin, ADMIN.name)
    released = admin.post(
        f"/review/holds/{hold_id}/release", data={"csrf_token": admin_token, "reason": "request closed"}
    )
    assert released.status_code == 200
    page = decide(client, token, action="approve_disposal", scope="selected", doc_id=["inv-1", "inv-2"])
    assert "2 documents approved for disposal." in page
    audit = client.get("/review/audit?action=approve_disposal").text
    assert audit.count("refused") >= 2 and "on hold" in audit


def test_document_hold_from_the_document_page(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    token = sign_in(client, REVIEWER.name)
    client.post(
        "/review/holds",
        data={
            "csrf_token": token,
            "scope": "document",
            "target": "case-1",
            "reason": "litigation",
            "return_to": "/review/document?id=case-1",
        },
    )
    page = client.get("/review/document?id=case-1").text
    assert "Holds covering this document" in page and "litigation" in page
    assert [h.scope for h in runtime.store.holds_covering("case-1")] == [HoldScope.DOCUMENT]


def test_hold_without_reason_is_refused(client: TestClient) -> None:
    token = sign_in(client, REVIEWER.name)
    response = client.post("/review/holds", data={"csrf_token": token, "scope": "case", "target": "CASE-0042"})
    assert response.status_code == 400
    assert "reason" in response.text


# -- document page ----------------------------------------------------------------------------------


def test_document_page_shows_provenance_and_pii_counts_only(client: TestClient) -> None:
    sign_in(client, READER.name)
    page = client.get("/review/document?id=hr-1").text
    assert "HR/Personnel" in page and "hr.personnel" in page and "rule matched for hr.personnel" in page
    assert "EMAIL_ADDRESS: 3" in page
    assert FAKE_EMAIL not in page
    assert "Record decision" not in page  # read-only: no forms


def test_hostile_name_is_escaped(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    page = client.get("/review/document?id=odd-1").text
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(" in page


def test_unknown_document_is_404(client: TestClient) -> None:
    sign_in(client, REVIEWER.name)
    assert client.get("/review/document?id=nope").status_code == 404


# -- audit and CSV ----------------------------------------------------------------------------------


def test_audit_csv_export(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    token = sign_in(client, REVIEWER.name)
    decide(
        client,
        token,
        action="change",
        to_class="finance.budget",
        reason='=HYPERLINK("http://x")',
        scope="selected",
        doc_id="inv-3",
    )
    response = client.get("/review/audit.csv?action=change")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["user"], row["document_id"], row["from"], row["to"]) == (
        "rita",
        "inv-3",
        "finance.invoice",
        "finance.budget",
    )
    assert row["reason"].startswith("'=")  # a spreadsheet must not run it as a formula
    assert row["outcome"] == "done"
    everything = list(csv.DictReader(io.StringIO(client.get("/review/audit.csv").text)))
    assert {r["action"] for r in everything} >= {"user_create", "change"}


def test_every_audited_action_can_be_filtered_on(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    sign_in(client, REVIEWER.name)
    options = lxml_html.fromstring(client.get("/review/audit").text).xpath("//select[@name='action']/option/@value")
    assert {"change", "user_create", "user_role", "label"} <= set(options)
    created = client.get("/review/audit?action=user_create").text
    assert "user_create" in created and "<td>change</td>" not in created
