"""The contracts table: what is kept of a contract, on both backends, and that no person's name is."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.contracts.extract import extract_contract
from docintel.contracts.models import ContractField, ContractParty, PartyRole
from docintel.enrich.hashing import pii_hash
from docintel.models import DocumentRecord, DocumentStatus, Provenance
from docintel.samples.contracts import generate_contract

KEY = b"k" * 32
INDIVIDUAL = "Morgan Example-Person"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    with open_catalogue(url) as cleaner, cleaner.engine.begin() as connection:
        emptied = [table.name for table in t.DOCUMENT_CHILD_TABLES] + ["documents", "runs"]
        connection.execute(text(f"TRUNCATE {', '.join(emptied)}"))
    yield url


@pytest.fixture
def store(catalogue_url: str) -> Iterator[CatalogueStore]:
    with open_catalogue(catalogue_url) as opened:
        yield opened


def contract_record(doc_id: str = "doc-1", seed: int = 5) -> tuple[DocumentRecord, str]:
    generated = generate_contract("services", random.Random(seed))
    result = extract_contract(generated.text())
    signer = str(generated.truth["signatories"][0])
    for signatory in result.signatories:
        signatory.name_hash = pii_hash("PERSON", str(signatory.name.value), KEY)
    # An individual party (a sole trader) is personal data: only its hash may be stored.
    person = ContractField(value=INDIVIDUAL, content=INDIVIDUAL, page=1, start=0, end=len(INDIVIDUAL), confidence=0.9)
    result.parties.append(
        ContractParty(
            name=person, role=PartyRole.OTHER, organisation=False, name_hash=pii_hash("PERSON", INDIVIDUAL, KEY)
        )
    )
    record = DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/share/{doc_id}.pdf", name=f"{doc_id}.pdf", path="Legal"),
        status=DocumentStatus.OK,
        text=generated.text(),
        contract=result,
    )
    return record, signer


def test_contract_round_trip_keeps_terms_and_positions(store: CatalogueStore) -> None:
    record, _ = contract_record()
    store.save(record)
    [row] = list(store.iter_contracts())
    contract = record.contract
    assert contract is not None
    assert row["document_id"] == "doc-1" and row["name"] == "doc-1.pdf"
    assert row["kind"] == "services"
    assert row["supplier_name"] == contract.parties[1].name.value
    assert row["end_date"] == contract.date("end_date")
    assert row["notice_date"] == contract.notice_date()
    assert row["total_value"] == contract.value("total_value")
    assert row["data_processing"] is True and row["executed_as_deed"] is False
    assert row["fields"]["end_date"]["how"] == contract.fields["end_date"].how
    assert row["fields"]["total_value"]["start"] == contract.fields["total_value"].start
    assert row["signatories"][0]["name_hash"] == contract.signatories[0].name_hash
    assert row["parties"][2]["name"] is None and row["parties"][2]["name_hash"] == pii_hash("PERSON", INDIVIDUAL, KEY)


def test_people_and_clause_text_never_reach_the_database(store: CatalogueStore) -> None:
    record, signer = contract_record()
    store.save(record)
    with store.engine.connect() as connection:
        dumped = " ".join(
            repr(row) for table in t.metadata.sorted_tables for row in connection.execute(select(table)).all()
        )
    assert "services" in dumped
    for secret in (signer, INDIVIDUAL, "exclusive of VAT"):
        assert secret not in dumped


def test_resave_without_contract_drops_the_row_and_deleted_documents_are_left_out(store: CatalogueStore) -> None:
    record, _ = contract_record()
    store.save(record)
    store.save(contract_record("doc-2", seed=6)[0])
    store.save(record.model_copy(update={"contract": None}))
    assert [row["document_id"] for row in store.iter_contracts()] == ["doc-2"]
    store.mark_deleted(["doc-2"])
    assert list(store.iter_contracts()) == []
    assert [row["document_id"] for row in store.iter_contracts(include_deleted=True)] == ["doc-2"]


def test_notice_date_is_end_date_less_the_notice_period() -> None:
    record, _ = contract_record()
    contract = record.contract
    assert contract is not None
    contract.fields["end_date"] = ContractField(value="2027-03-31", confidence=0.9)
    contract.fields["notice_period"] = ContractField(value="3 months", confidence=0.9)
    assert contract.notice_date() == dt.date(2026, 12, 31)
    contract.fields["notice_period"] = ContractField(value="90 days", confidence=0.9)
    assert contract.notice_date() == dt.date(2026, 12, 31)
