"""The contract stage: which documents are read, hashed names, the expiry clock and the deed class."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from docintel.enrich.hashing import pii_hash
from docintel.models import DocumentStatus
from docintel.pipeline import Engines, analyze_bytes
from docintel.samples.contracts import generate_contract
from docintel.samples.office import docx_bytes
from docintel.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
KEY = b"k" * 32
MINUTES = "Minutes of the Parish Council meeting held on 3 March 2025.\nPresent: the Chair and four councillors.\n"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config", environ={"DOCINTEL_RETENTION__CLASSIFIER": "rules"})


def test_contract_is_read_hashed_and_starts_the_expiry_clock(settings: Settings) -> None:
    contract = generate_contract("services", random.Random(7))
    record = analyze_bytes(docx_bytes(contract.document), "contract.docx", Engines(settings=settings, pii_key=KEY))

    assert record.status is DocumentStatus.OK
    assert record.classification is not None and record.classification.record_class == "contracts.simple"
    assert record.contract is not None
    assert [p.name.value for p in record.contract.parties] == contract.truth["parties"]
    [signatory] = record.contract.signatories
    assert signatory.name.value == contract.truth["signatories"][0]
    assert signatory.name_hash == pii_hash("PERSON", str(signatory.name.value), KEY)
    end = dt.date.fromisoformat(str(contract.truth["end_date"]))
    retention = record.classification.retention
    assert retention is not None and retention.disposal_date == dt.date(end.year + 6, end.month, end.day)
    assert any(run.stage == "contract" for run in record.stage_runs)


def test_sealed_lease_moves_to_the_deed_class(settings: Settings) -> None:
    lease = generate_contract("lease", random.Random(3))
    record = analyze_bytes(docx_bytes(lease.document), "lease.docx", Engines(settings=settings, pii_key=KEY))
    assert record.contract is not None and record.contract.value("executed_as_deed") == "true"
    assert record.classification is not None and record.classification.record_class == "contracts.deed"
    assert "executed as a deed" in record.classification.explanation


def test_other_documents_are_not_read_unless_asked(settings: Settings) -> None:
    engines = Engines(settings=settings, pii_key=KEY)
    record = analyze_bytes(MINUTES.encode(), "minutes.txt", engines)
    assert record.contract is None
    assert all(run.stage != "contract" for run in record.stage_runs)

    always = settings.model_copy(update={"contracts": settings.contracts.model_copy(update={"always": True})})
    record = analyze_bytes(MINUTES.encode(), "minutes.txt", Engines(settings=always, pii_key=KEY))
    assert record.contract is not None
    assert record.contract.parties == []  # nothing to find, nothing guessed
