"""Corrections cannot change or break other clients' results (issue 13, item 2): checked values, per-key
profiles, admin approval into the shared set, generic keywords refused, broken profiles skipped."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from docintel import synthetic
from docintel.api.app import create_app
from docintel.api.commands import profiles_group
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings
from tests.invoices.conftest import invoice_pdf as supplier_invoice_pdf
from tests.invoices.conftest import make_spec

GREENWAY = "Greenway Grounds Maintenance Ltd"  # the sample invoice's supplier
VAT_A = synthetic.vat_number(random.Random(7))


@pytest.fixture
def other_supplier_pdf() -> bytes:
    """An invoice from another supplier, in pounds, with its own VAT number."""
    return supplier_invoice_pdf(make_spec(vendor="Northgate Office Supplies Ltd"))


@pytest.fixture
def two_clients(
    settings: Settings, store: CatalogueStore, api_settings: ApiSettings, keys: ApiKeyStore
) -> Iterator[tuple[TestClient, TestClient, NewApiKey]]:
    """Two clients of one server, with keys A and B; the key of A."""
    app = create_app(settings, store=store, api_settings=api_settings)
    key_a, key_b = keys.create("flow-a"), keys.create("flow-b")
    with TestClient(app, headers={"X-API-Key": key_a.key}) as client_a:
        yield client_a, TestClient(app, headers={"X-API-Key": key_b.key}), key_a


def _submit(client: TestClient, content: bytes) -> dict:
    response = client.post("/v1/invoices?wait=30", files={"file": ("invoice.pdf", content)})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded", job
    return job


def _value(job: dict, field: str) -> object:
    found = job["result"]["fields"].get(field)
    return found["value"] if found else None


def _profile_files(settings: Settings) -> list[str]:
    folder = settings.config_path("suppliers")
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.yaml")) if folder.is_dir() else []


def test_the_issue_attack_changes_nothing_for_another_key(
    two_clients: tuple[TestClient, TestClient, NewApiKey],
    settings: Settings,
    store: CatalogueStore,
    invoice_pdf: bytes,
    other_supplier_pdf: bytes,
) -> None:
    client_a, client_b, key_a = two_clients
    job = _submit(client_a, invoice_pdf)
    attack = {"VendorName": "Invoice", "VendorTaxId": VAT_A, "Currency": "USD"}
    refused = client_a.post(f"/v1/invoices/{job['id']}/corrections", json={"fields": attack})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "InvalidCorrection" and "VendorName" in refused.json()["detail"]
    assert _profile_files(settings) == []
    with store.engine.connect() as connection:
        stored = connection.execute(select(t.invoice_jobs.c.corrections).where(t.invoice_jobs.c.id == job["id"]))
        assert stored.scalar() is None

    # A valid correction by key A files a profile under key A only.
    valid = {"VendorName": GREENWAY, "VendorTaxId": VAT_A, "Currency": "usd"}
    accepted = client_a.post(f"/v1/invoices/{job['id']}/corrections", json={"fields": valid})
    assert accepted.status_code == 200, accepted.text
    assert _profile_files(settings) == [f"keys/{key_a.client.key_id}/greenway-grounds-maintenance-ltd.yaml"]

    for content in (other_supplier_pdf, invoice_pdf):  # another supplier, and the very same supplier
        theirs = _submit(client_b, content)
        assert _value(theirs, "Currency") != "USD"
        assert _value(theirs, "VendorTaxId") != VAT_A
        assert theirs["result"]["profile"] is None
    mine = _submit(client_a, invoice_pdf)
    assert _value(mine, "Currency") == "USD" and mine["result"]["profile"] == "greenway-grounds-maintenance-ltd"


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"Currency": "pounds sterling"}, "Currency: must be an ISO 4217 code"),
        ({"Currency": "XYZ"}, "Currency: must be an ISO 4217 code"),
        ({"VendorTaxId": VAT_A[:-1] + str((int(VAT_A[-1]) + 1) % 10)}, "check digits are wrong"),
        ({"VendorTaxId": "not a number"}, "VendorTaxId: not a VAT number"),
        ({"InvoiceDate": "31/02/2025"}, "InvoiceDate: must be a date as YYYY-MM-DD"),
        ({"DueDate": "2025-02-30"}, "DueDate: must be a date"),
        ({"InvoiceTotal": "£1,200.00"}, "InvoiceTotal: must be an amount"),
        ({"SubTotal": "12.345"}, "at most two decimals"),
        ({"AmountDue": "NaN"}, "AmountDue: must be an amount"),
        ({"VendorName": "Ltd"}, "generic word"),
        ({"VendorName": "Tax Invoice"}, "generic word"),
        ({"VendorName": "A&B"}, "generic word"),
        ({"PaymentTerm": "30 days\x00"}, "control characters"),
        ({"InvoiceId": "   "}, "empty"),
    ],
)
def test_invalid_values_get_422_naming_the_field_and_jobs_keep_working(
    two_clients: tuple[TestClient, TestClient, NewApiKey],
    settings: Settings,
    invoice_pdf: bytes,
    fields: dict[str, str],
    detail: str,
) -> None:
    client_a, client_b, _ = two_clients
    job = _submit(client_a, invoice_pdf)
    response = client_a.post(f"/v1/invoices/{job['id']}/corrections", json={"fields": fields})
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert _profile_files(settings) == []
    _submit(client_a, invoice_pdf)
    _submit(client_b, invoice_pdf)


def test_valid_values_are_normalised_before_they_are_stored(
    two_clients: tuple[TestClient, TestClient, NewApiKey], settings: Settings, invoice_pdf: bytes
) -> None:
    client_a, _, key_a = two_clients
    job = _submit(client_a, invoice_pdf)
    fields = {"Currency": " eur ", "InvoiceTotal": "1,200.5", "VendorTaxId": VAT_A[:5] + " " + VAT_A[5:]}
    assert client_a.post(f"/v1/invoices/{job['id']}/corrections", json={"fields": fields}).status_code == 200
    path = settings.config_path("suppliers") / "keys" / key_a.client.key_id / "greenway-grounds-maintenance-ltd.yaml"
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert profile["currency"] == "EUR" and profile["vendor_tax_id"] == VAT_A


def test_broken_and_generic_shared_profiles_never_stop_or_steer_jobs(
    two_clients: tuple[TestClient, TestClient, NewApiKey], settings: Settings, invoice_pdf: bytes
) -> None:
    client_a, client_b, _ = two_clients
    shared = settings.config_path("suppliers")
    shared.mkdir(parents=True, exist_ok=True)
    # What the issue's "pounds sterling" correction left behind, and a hand-made profile keyed on a generic word.
    (shared / "broken.yaml").write_text(
        yaml.safe_dump({"name": "broken", "match": [GREENWAY], "currency": "pounds sterling"}), encoding="utf-8"
    )
    (shared / "generic.yaml").write_text(
        yaml.safe_dump({"name": "generic", "match": ["Invoice", "Ltd", "VAT"], "currency": "USD"}), encoding="utf-8"
    )
    for client in (client_a, client_b):
        job = _submit(client, invoice_pdf)
        assert job["result"]["profile"] is None and _value(job, "Currency") != "USD"
    listed = CliRunner().invoke(profiles_group, ["list"], obj={"settings": settings})
    assert listed.exit_code == 1
    assert "BROKEN (skipped): broken.yaml: currency" in listed.output
    assert str(shared) not in listed.output


def test_an_admin_approves_a_keys_profile_into_the_shared_set_and_it_is_audited(
    two_clients: tuple[TestClient, TestClient, NewApiKey],
    settings: Settings,
    store: CatalogueStore,
    invoice_pdf: bytes,
) -> None:
    client_a, client_b, key_a = two_clients
    job = _submit(client_a, invoice_pdf)
    fields = {"VendorName": GREENWAY, "VendorTaxId": VAT_A, "Currency": "USD"}
    assert client_a.post(f"/v1/invoices/{job['id']}/corrections", json={"fields": fields}).status_code == 200
    name = "greenway-grounds-maintenance-ltd"
    runner = CliRunner()
    listed = runner.invoke(profiles_group, ["list"], obj={"settings": settings})
    assert listed.exit_code == 0 and f"key {key_a.client.key_id}" in listed.output and name in listed.output

    approved = runner.invoke(
        profiles_group,
        ["approve", key_a.client.key_id, name, "--by", "admin-jo", "--catalogue", settings.catalogue.url],
        obj={"settings": settings},
    )
    assert approved.exit_code == 0, approved.output
    assert _profile_files(settings) == [f"{name}.yaml"]
    shared = _submit(client_b, invoice_pdf)  # now shared: every key's invoices
    assert _value(shared, "Currency") == "USD" and shared["result"]["profile"] == name
    with store.engine.connect() as connection:
        rows = connection.execute(select(t.audit).where(t.audit.c.action == "profile_approve")).mappings().all()
    assert [(row["user_name"], row["target"], row["to_value"]) for row in rows] == [
        ("admin-jo", f"{key_a.client.key_id}/{name}", "shared")
    ]
    again = runner.invoke(profiles_group, ["approve", key_a.client.key_id, name], obj={"settings": settings})
    assert again.exit_code == 2 and "has no supplier profile" in again.output


def test_approval_refuses_a_profile_with_a_generic_keyword(settings: Settings, tmp_path: Path) -> None:
    folder = settings.config_path("suppliers") / "keys" / "abcdef012345"
    folder.mkdir(parents=True)
    (folder / "sneaky.yaml").write_text(
        yaml.safe_dump({"name": "sneaky", "match": ["Sneaky Supplies", "Invoice"]}), encoding="utf-8"
    )
    result = CliRunner().invoke(
        profiles_group,
        ["approve", "abcdef012345", "sneaky", "--catalogue", settings.catalogue.url],
        obj={"settings": settings},
    )
    assert result.exit_code == 2 and "generic keyword" in result.output
    assert (folder / "sneaky.yaml").exists()
