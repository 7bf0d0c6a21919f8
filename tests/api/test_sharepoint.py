"""Invoices submitted as SharePoint references: read through the real msgraph-sdk from the Graph emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from docintel.api.app import create_app
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue.store import CatalogueStore
from docintel.graph_emulator.testing import SMALL_TENANT, RunningEmulator, running_emulator
from docintel.log import configure_logging
from docintel.settings import Settings

TOKEN = "invoice-api-test-token"  # the emulator's static bearer token


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with ExitStack() as stack:
        yield stack.enter_context(running_emulator(SMALL_TENANT))


@pytest.fixture
def graph_client_env(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The server's Graph credentials in the environment, as production sets them (a static token here)."""
    monkeypatch.setenv("DOCINTEL_GRAPH_BASE_URL", emulator.graph_url)
    monkeypatch.setenv("DOCINTEL_GRAPH_TOKEN", TOKEN)
    return emulator


@pytest.fixture
def sp_client(
    graph_client_env: RunningEmulator,
    settings: Settings,
    store: CatalogueStore,
    api_settings: ApiSettings,
    api_key: NewApiKey,
    keys: ApiKeyStore,
) -> Iterator[TestClient]:
    """A client whose key may name the Finance site's drives (and no other)."""
    keys.set_drives(api_key.client.key_id, _finance_drives(graph_client_env))
    app = create_app(settings, store=store, api_settings=api_settings)
    with TestClient(app, headers={"X-API-Key": api_key.key}) as client:
        yield client


def _graph_get(emulator: RunningEmulator, path: str) -> Any:
    response = httpx.get(f"{emulator.graph_url}/{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def _site_drives(emulator: RunningEmulator, display_name: str) -> list[str]:
    sites = _graph_get(emulator, "sites?search=*")["value"]
    site = next(site for site in sites if site.get("displayName") == display_name)
    return [drive["id"] for drive in _graph_get(emulator, f"sites/{site['id']}/drives")["value"]]


def _finance_drives(emulator: RunningEmulator) -> list[str]:
    return _site_drives(emulator, "Finance")


def _invoice_item(emulator: RunningEmulator, name_filter: Callable[[str], bool]) -> tuple[str, str, str]:
    """(drive id, item id, name) of an invoice file in the Finance site's library."""
    sites = _graph_get(emulator, "sites?search=*")["value"]
    finance = next(site for site in sites if site.get("displayName") == "Finance")
    drive = _graph_get(emulator, f"sites/{finance['id']}/drives")["value"][0]
    items = _graph_get(emulator, f"drives/{drive['id']}/root/delta")["value"]
    for item in items:
        if "file" in item and name_filter(item["name"]):
            return drive["id"], item["id"], item["name"]
    raise AssertionError("the test tenant has no such invoice file")


def test_a_sharepoint_pdf_is_read_through_graph_and_extracted(sp_client: TestClient, emulator: RunningEmulator) -> None:
    drive_id, item_id, name = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    before = emulator.control("GET", "/stats")
    response = sp_client.post(
        "/v1/invoices?wait=60", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}, "name": name}
    )
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded", job
    fields = job["result"]["fields"]
    assert fields["InvoiceTotal"]["value"], "the invoice read from SharePoint has no total"
    after = emulator.control("GET", "/stats")
    assert after != before  # the server really asked Graph


@pytest.mark.usefixtures("restored_logging")
def test_download_urls_with_tempauth_never_reach_the_debug_log(
    sp_client: TestClient, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    drive_id, item_id, name = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    configure_logging(2)  # -vv: httpx, httpcore and the Graph SDK log every request they send
    response = sp_client.post(
        "/v1/invoices?wait=60", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}, "name": name}
    )
    assert response.status_code == 200, response.text
    logged = capsys.readouterr().err
    assert "download.aspx?[redacted]" in logged  # the redirect to the download URL was logged, redacted
    assert "tempauth" not in logged


def test_a_text_file_in_sharepoint_is_refused_as_not_an_invoice_type(
    sp_client: TestClient, emulator: RunningEmulator
) -> None:
    drive_id, item_id, _ = _invoice_item(emulator, lambda name: name.lower().endswith(".txt"))
    response = sp_client.post("/v1/invoices", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}})
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "UnsupportedType"


@pytest.mark.parametrize(
    ("reference", "status", "error"),
    [
        ({"drive_id": "no-such-drive", "item_id": "no-such-item"}, 404, "ItemNotFound"),
        ({"drive_id": "../../users", "item_id": "x"}, 404, "ItemNotFound"),
    ],
    ids=["unknown-item", "path-in-id"],
)
def test_unknown_or_malformed_references_get_404(
    sp_client: TestClient, reference: dict[str, str], status: int, error: str
) -> None:
    response = sp_client.post("/v1/invoices", json={"sharepoint": reference})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_graph_throttling_past_the_inline_wait_answers_503_with_retry_after(
    sp_client: TestClient, emulator: RunningEmulator
) -> None:
    drive_id, item_id, _ = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    emulator.control("PUT", "/faults", {"rules": [{"status": 429, "count": -1, "retry_after": 120}]})
    response = sp_client.post("/v1/invoices", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}})
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "ServiceBusy"
    assert int(response.headers["Retry-After"]) >= 100


def test_refused_credentials_answer_502_not_401(
    settings: Settings,
    store: CatalogueStore,
    api_settings: ApiSettings,
    api_key: NewApiKey,
    keys: ApiKeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strict = {**SMALL_TENANT, "emulator": {"require_token": "the-tenant-wants-another-token"}}
    drive_id, item_id = "b!any", "01ANY"
    keys.set_drives(api_key.client.key_id, [drive_id])
    with running_emulator(strict) as emulator:
        monkeypatch.setenv("DOCINTEL_GRAPH_BASE_URL", emulator.graph_url)
        monkeypatch.setenv("DOCINTEL_GRAPH_TOKEN", TOKEN)
        app = create_app(settings, store=store, api_settings=api_settings)
        with TestClient(app, headers={"X-API-Key": api_key.key}) as client:
            response = client.post("/v1/invoices", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}})
    assert response.status_code == 502, response.text
    assert response.json()["error"] == "GraphFailed"


def test_both_content_and_reference_is_a_bad_request(sp_client: TestClient) -> None:
    response = sp_client.post(
        "/v1/invoices", json={"content": "JVBERg==", "sharepoint": {"drive_id": "b!x", "item_id": "01X"}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"


def test_without_graph_credentials_the_reference_is_501_and_says_what_to_set(client: TestClient) -> None:
    response = client.post("/v1/invoices", json={"sharepoint": {"drive_id": "b!x", "item_id": "01X"}})
    assert response.status_code == 501
    assert "DOCINTEL_GRAPH_" in response.json()["detail"]


# -- drive allow-lists (issue 13, item 9) ----------------------------------------------------------------


def test_a_drive_not_allow_listed_answers_like_an_absent_item_without_asking_graph(
    graph_client_env: RunningEmulator,
    settings: Settings,
    store: CatalogueStore,
    api_settings: ApiSettings,
    keys: ApiKeyStore,
) -> None:
    emulator = graph_client_env
    pdf_drive, pdf_item, _ = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    txt_drive, txt_item, _ = _invoice_item(emulator, lambda name: name.lower().endswith(".txt"))
    # An RPA key allowed another site's drives only (the Adult Social Care case of the issue).
    other_drives = [drive for site in ("HR", "Adult Social Care") for drive in _site_drives_or_none(emulator, site)]
    rpa = keys.create("rpa-flow", drives=other_drives or ["b!another-drive"])
    app = create_app(settings, store=store, api_settings=api_settings)
    references = {
        "existing pdf": {"drive_id": pdf_drive, "item_id": pdf_item},
        "existing text file": {"drive_id": txt_drive, "item_id": txt_item},
        "absent item, real drive": {"drive_id": pdf_drive, "item_id": "01NOSUCHITEM"},
        "absent drive": {"drive_id": "b!no-such-drive", "item_id": "01NOSUCHITEM"},
    }
    before = emulator.control("GET", "/stats")
    with TestClient(app, headers={"X-API-Key": rpa.key}) as client:
        answers = {
            label: client.post("/v1/invoices", json={"sharepoint": reference})
            for label, reference in references.items()
        }
    assert emulator.control("GET", "/stats") == before  # refused before any Graph call
    bodies = {(response.status_code, response.text) for response in answers.values()}
    assert len(bodies) == 1, bodies
    status, body = bodies.pop()
    assert status == 404 and "ItemNotFound" in body


def test_an_allowed_drive_still_answers_404_for_an_absent_item_with_the_same_body(
    sp_client: TestClient, emulator: RunningEmulator
) -> None:
    drive_id, _, _ = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    absent = sp_client.post("/v1/invoices", json={"sharepoint": {"drive_id": drive_id, "item_id": "01NOSUCHITEM"}})
    other = sp_client.post("/v1/invoices", json={"sharepoint": {"drive_id": "b!not-allowed", "item_id": "01X"}})
    assert absent.status_code == other.status_code == 404
    assert absent.json() == other.json()


def _site_drives_or_none(emulator: RunningEmulator, display_name: str) -> list[str]:
    sites = _graph_get(emulator, "sites?search=*")["value"]
    if not any(site.get("displayName") == display_name for site in sites):
        return []
    return _site_drives(emulator, display_name)


def test_site_names_resolve_to_their_drives_at_key_creation(
    graph_client_env: RunningEmulator, settings: Settings, store: CatalogueStore, api_settings: ApiSettings
) -> None:
    from click.testing import CliRunner

    from docintel.api.commands import api_key_group

    emulator = graph_client_env
    runner = CliRunner()
    created = runner.invoke(api_key_group, ["create", "finance-flow", "--site", "Finance"], obj={"settings": settings})
    assert created.exit_code == 0, created.output
    key = created.output.split("X-API-Key: ", 1)[1].split()[0]
    client_info = ApiKeyStore(store).authenticate(key)
    assert client_info is not None and client_info.drives == set(_finance_drives(emulator))
    drive_id, item_id, name = _invoice_item(emulator, lambda name: name.lower().endswith(".pdf"))
    app = create_app(settings, store=store, api_settings=api_settings)
    with TestClient(app, headers={"X-API-Key": key}) as client:
        response = client.post(
            "/v1/invoices?wait=60", json={"sharepoint": {"drive_id": drive_id, "item_id": item_id}, "name": name}
        )
    assert response.status_code == 200, response.text
    missing = runner.invoke(api_key_group, ["create", "x", "--site", "No Such Site"], obj={"settings": settings})
    assert missing.exit_code == 2 and "no SharePoint site named No Such Site" in missing.output
