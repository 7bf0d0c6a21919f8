"""Who may call what (issue 13, item 3 and the Low list): key scopes, audited subject access, wrong keys."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from docintel.api.app import create_app
from docintel.api.keys import ApiKeyStore, NewApiKey, Scope
from docintel.api.settings import ApiSettings
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, alembic_config, open_catalogue
from docintel.enrich.hashing import pii_hash
from docintel.errors import ConfigError
from docintel.settings import Settings
from docintel.subject_access import redacted_snippet

PII_KEY = bytes.fromhex("6b1f0c9d3e8a27f4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b")
NHS = "943 476 5919"
NAME = "Olivia Smith"


def _document_mentioning(store: CatalogueStore, doc_id: str) -> None:
    """A catalogued document with an NHS number and a name finding (hashes only, as the pipeline stores)."""
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as connection:
        connection.execute(
            insert(t.documents).values(
                id=doc_id,
                source="local",
                locator=f"/share/{doc_id}.txt",
                name=f"{doc_id}.txt",
                path="share/Care",
                status="ok",
                first_seen_at=now,
                processed_at=now,
                page_count=1,
                text_chars=100,
                deleted=False,
                depth=0,
            )
        )
        for entity_type, value, start in (("UK_NHS", NHS, 10), ("PERSON", NAME, 40)):
            connection.execute(
                insert(t.pii_findings).values(
                    document_id=doc_id,
                    entity_type=entity_type,
                    page=1,
                    start=start,
                    end=start + len(value),
                    score=0.9,
                    value_hash=pii_hash(entity_type, value, PII_KEY),
                )
            )


@pytest.fixture
def scoped_app(settings: Settings, store: CatalogueStore, api_settings: ApiSettings) -> FastAPI:
    """The app over a catalogue holding one document that mentions NHS and NAME."""
    _document_mentioning(store, "letter")
    app = create_app(settings, store=store, api_settings=api_settings)
    app.state.pii_key = PII_KEY
    return app


@pytest.fixture
def http(scoped_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(scoped_app) as test_client:
        yield test_client


def _audit_rows(store: CatalogueStore) -> list[dict[str, object]]:
    with store.engine.connect() as connection:
        query = select(t.audit).where(t.audit.c.action == "subject_access").order_by(t.audit.c.id)
        return [dict(row) for row in connection.execute(query).mappings()]


def test_new_keys_get_invoices_only_unless_told(keys: ApiKeyStore) -> None:
    assert keys.create("rpa").client.scopes == {Scope.INVOICES}
    both = keys.create("sar-team", scopes=["subject-access", "invoices"])
    authenticated = keys.authenticate(both.key)
    assert authenticated is not None and authenticated.scopes == {Scope.INVOICES, Scope.SUBJECT_ACCESS}
    assert {info.key_id: info.scopes for info in keys.list()}[both.client.key_id] == authenticated.scopes
    with pytest.raises(ConfigError, match="unknown API key scope 'admin'; known: invoices, subject-access"):
        keys.create("x", scopes=["admin"])
    with pytest.raises(ConfigError, match="at least one scope"):
        keys.create("x", scopes=[])


def test_invoice_key_gets_403_from_subject_access_and_nothing_is_searched(
    http: TestClient, api_key: NewApiKey, store: CatalogueStore
) -> None:
    response = http.get("/v1/subject-access", params={"nhs_number": NHS}, headers={"X-API-Key": api_key.key})
    assert response.status_code == 403
    assert "subject-access" in response.json()["detail"] and "letter" not in response.text
    assert _audit_rows(store) == []


def test_subject_access_key_gets_no_invoice_endpoints(http: TestClient, keys: ApiKeyStore, invoice_pdf: bytes) -> None:
    sar = keys.create("sar-team", scopes=["subject-access"])
    files = {"file": ("invoice.pdf", invoice_pdf, "application/pdf")}
    response = http.post("/v1/invoices", files=files, headers={"X-API-Key": sar.key})
    assert response.status_code == 403
    assert http.get(f"/v1/jobs/{'0' * 32}", headers={"X-API-Key": sar.key}).status_code == 403


def test_every_search_is_audited_with_types_and_count_never_values(
    http: TestClient, keys: ApiKeyStore, store: CatalogueStore, caplog: pytest.LogCaptureFixture
) -> None:
    sar = keys.create("sar-team", scopes=["subject-access"])
    caplog.set_level(logging.DEBUG)
    headers = {"X-API-Key": sar.key}
    found = http.get("/v1/subject-access", params={"nhs_number": NHS, "name": NAME}, headers=headers)
    assert found.status_code == 200 and found.json()["count"] == 1
    missed = http.get("/v1/subject-access", params={"postcode": "DT1 1XJ"}, headers=headers)
    assert missed.status_code == 200 and missed.json()["count"] == 0

    rows = _audit_rows(store)
    assert [(row["user_name"], row["target"], row["to_value"]) for row in rows] == [
        (f"api-key:{sar.client.key_id}", "nhs_number,name", "1"),
        (f"api-key:{sar.client.key_id}", "postcode", "0"),
    ]
    assert all(isinstance(row["at"], dt.datetime) and row["outcome"] == "done" for row in rows)
    hashes = {pii_hash("UK_NHS", NHS, PII_KEY), pii_hash("PERSON", NAME, PII_KEY)}
    stored = " ".join(str(value) for row in rows for value in row.values())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (NHS, NHS.replace(" ", ""), NAME, NAME.lower(), "DT1 1XJ", "DT11XJ", sar.key, *hashes):
        assert secret not in stored and secret not in logged


def test_snippets_are_off_unless_asked_for(http: TestClient, keys: ApiKeyStore, store: CatalogueStore) -> None:
    sar = keys.create("sar-team", scopes=["subject-access"])
    body = http.get("/v1/subject-access", params={"nhs_number": NHS}, headers={"X-API-Key": sar.key}).json()
    assert all(mention["snippet"] is None for match in body["matches"] for mention in match["mentions"])
    assert body["matches"][0]["snippet_unavailable"] is None  # not tried, so no reason either
    assert _audit_rows(store)[-1]["reason"] == "all"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An OCR'd postcode and house number the recognisers missed: neither shows in clear.
        ("NHS 943 476 5919 lives at 14 Acacia Road, Dorchester DT1 1XJ today", "[POSTCODE]"),
        ("NHS 943 476 5919 case ref 20231187 and dt11xj later", "[POSTCODE]"),
    ],
)
def test_snippets_mask_postcode_shapes_and_digit_runs(text: str, expected: str) -> None:
    start = text.index("943")
    snippet = redacted_snippet(text, start, start + 12, [(start, start + 12, "UK_NHS")], context=60)
    assert "[UK_NHS]" in snippet and expected in snippet
    assert not any(char.isdigit() for char in snippet), snippet
    assert "DT1" not in snippet.upper() and "1XJ" not in snippet.upper()


def test_wrong_keys_are_logged_by_id_only_and_throttled(
    settings: Settings, store: CatalogueStore, api_key: NewApiKey, caplog: pytest.LogCaptureFixture
) -> None:
    api = ApiSettings(pool="thread", workers=1, failed_key_checks_per_minute=3)
    app = create_app(settings, store=store, api_settings=api)
    key_id, secret = api_key.key.split("_", 2)[1:]
    wrong = f"dik_{key_id}_{'x' * len(secret)}"
    caplog.set_level(logging.INFO)
    with TestClient(app) as http:
        statuses = [http.get(f"/v1/jobs/{'0' * 32}", headers={"X-API-Key": wrong}).status_code for _ in range(5)]
        # The key's holder is not locked out by someone guessing at its id.
        assert http.get(f"/v1/jobs/{'0' * 32}", headers={"X-API-Key": api_key.key}).status_code == 404
    assert statuses == [401, 401, 401, 429, 429]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"API key check failed for key id {key_id}" in logged
    assert secret not in logged and "x" * len(secret) not in logged and wrong not in logged


def test_keys_made_before_scopes_keep_invoices_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with open_catalogue(url) as store:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006_document_texts")
        with store.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, name, key_hash, signing_secret, created_at) "
                    "VALUES ('a1b2c3d4e5f6', 'old-flow', :hash, 's', '2026-01-01 00:00:00')"
                ),
                {"hash": "0" * 64},
            )
        store.upgrade_schema()
        client = ApiKeyStore(store).client("a1b2c3d4e5f6")
    assert client is not None and client.scopes == {Scope.INVOICES} and client.drives == frozenset()
