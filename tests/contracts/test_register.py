"""The Transparency Code contract register (CSV and Parquet through the CLI) and the expiry alerts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from docintel.catalogue.store import open_catalogue
from docintel.cli import main
from docintel.contracts.extract import extract_contract
from docintel.contracts.models import ContractField
from docintel.contracts.register import REGISTER_COLUMNS, contract_alerts, in_register
from docintel.enrich.hashing import pii_hash
from docintel.models import DocumentRecord, DocumentStatus, Provenance
from docintel.samples.contracts import generate_contract

REPO = Path(__file__).resolve().parents[2]
KEY = b"k" * 32


def _record(doc_id: str, kind: str, seed: int, **field_values: str) -> DocumentRecord:
    generated = generate_contract(kind, random.Random(seed))
    result = extract_contract(generated.text())
    for name, value in field_values.items():
        result.fields[name] = ContractField(value=value, confidence=0.9)
    for signatory in result.signatories:
        signatory.name_hash = pii_hash("PERSON", str(signatory.name.value), KEY)
    return DocumentRecord(
        id=doc_id,
        provenance=Provenance(source="local", locator=f"/s/{doc_id}", name=f"{doc_id}.pdf", path="Legal/Contracts"),
        status=DocumentStatus.OK,
        contract=result,
    )


@pytest.fixture()
def catalogue(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    with open_catalogue(url) as store:
        store.save(_record("a-framework", "framework_call_off", 1))
        store.save(_record("b-small", "services", 2, total_value="4200.00"))  # under £5,000: not published
        store.save(_record("c-s106", "planning_obligation", 3))  # no value stated: a person decides
    return url


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    return CliRunner()


def test_register_csv_has_the_codes_fields_and_says_what_to_fill(runner: CliRunner, catalogue: str) -> None:
    result = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "contracts-register"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == REGISTER_COLUMNS
    assert [row["document_id"] for row in rows] == ["a-framework", "c-s106"]
    framework, s106 = rows
    assert framework["procurement_route"].startswith("call-off under framework RM")
    assert framework["supplier_name"] and framework["supplier_company_number"]
    assert framework["start_date"] and framework["end_date"] and framework["total_value"]
    for column in ("department", "supplier_is_sme", "supplier_is_vcse", "vat_not_recoverable"):
        assert column in framework["to_fill"].split("|")
    assert "procurement_route" not in framework["to_fill"].split("|")
    assert "total_value" in s106["to_fill"].split("|")
    assert "description (drafted from the title)" in framework["to_check"]


def test_register_parquet_is_typed(runner: CliRunner, catalogue: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "register.parquet"
    result = runner.invoke(
        main, ["export", "--catalogue", catalogue, "--format", "contracts-register", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == list(REGISTER_COLUMNS)
    assert table.num_rows == 2
    assert str(table.schema.field("end_date").type) == "date32[day]"
    assert str(table.schema.field("total_value").type) == "decimal128(18, 2)"


def test_people_never_appear_in_the_register(runner: CliRunner, catalogue: str) -> None:
    result = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "contracts-register"])
    generated = generate_contract("framework_call_off", random.Random(1))
    assert str(generated.truth["signatories"][0]) not in result.stdout


@pytest.mark.parametrize(
    ("total", "annual", "listed"),
    [("5000.00", None, True), ("4999.99", None, False), (None, "6000.00", True), (None, None, True)],
)
def test_threshold(total: str | None, annual: str | None, listed: bool) -> None:
    assert in_register({"total_value": total, "annual_value": annual}, 5000) is listed


def test_alerts_fall_in_the_smallest_window() -> None:
    today = dt.date(2026, 12, 7)
    rows = [
        {"document_id": "soon", "name": "a.pdf", "supplier_name": "Acme Ltd", "end_date": dt.date(2027, 1, 31),
         "notice_date": dt.date(2026, 12, 31)},
        {"document_id": "later", "name": "b.pdf", "supplier_name_hash": "h", "end_date": dt.date(2027, 5, 1)},
        {"document_id": "past", "name": "c.pdf", "end_date": dt.date(2026, 1, 1)},
        {"document_id": "far", "name": "d.pdf", "end_date": dt.date(2028, 1, 1)},
    ]  # fmt: skip
    alerts = contract_alerts(rows, today=today, windows=[90, 180])
    assert [(a.document_id, a.event, a.window) for a in alerts] == [
        ("soon", "notice due", 90),
        ("soon", "ends", 90),
        ("later", "ends", 180),
    ]
    assert alerts[2].supplier == "(a person)"


def test_report_lists_contracts_ending_soon(tmp_path: Path) -> None:
    from docintel.review.report import build_report_html

    today = dt.datetime.now(dt.UTC).date()
    ending = (today + dt.timedelta(days=40)).isoformat()
    later = (today + dt.timedelta(days=400)).isoformat()
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        store.save(_record("ending-soon", "services", 4, end_date=ending, notice_period="1 month"))
        store.save(_record("ending-later", "works", 5, end_date=later))
        html = build_report_html(store, contract_alert_days=[90, 180])
    section = html[html.index('id="contract-alerts"') : html.index('id="low-confidence"')]
    assert "ending-soon.pdf" in section and ending in section
    assert "notice due" in section
    assert "ending-later.pdf" not in section


def _invoice_job(job_id: str, vendor: str, when: str, total: str) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    fields = {"VendorName": {"value": vendor}, "InvoiceDate": {"value": when}, "InvoiceTotal": {"value": total}}
    return {"id": job_id, "api_key_id": "key-1", "status": "succeeded", "backend": "rq", "created_at": now,
            "callback_attempts": 0, "result": {"fields": fields}}  # fmt: skip


def test_register_shows_spend_against_each_contract(runner: CliRunner, catalogue: str) -> None:
    from sqlalchemy import insert

    from docintel.catalogue import tables as t

    with open_catalogue(catalogue) as store:
        framework = next(row for row in store.iter_contracts() if row["document_id"] == "a-framework")
        supplier, end = str(framework["supplier_name"]), framework["end_date"]
        with store.engine.begin() as connection:
            connection.execute(
                insert(t.api_keys).values(
                    id="key-1",
                    name="AP flow",
                    key_hash="h" * 64,
                    signing_secret="s",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            connection.execute(
                insert(t.invoice_jobs),
                [
                    _invoice_job("job-1", supplier.upper(), framework["start_date"].isoformat(), "1200.50"),
                    _invoice_job("job-2", supplier, (end + dt.timedelta(days=10)).isoformat(), "300.00"),
                    _invoice_job("job-3", supplier + " Group", end.isoformat(), "999.00"),  # a near-name: no match
                ],
            )
    result = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "contracts-register"])
    assert result.exit_code == 0, result.output
    rows = {row["document_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["a-framework"]["invoiced_to_date"] == "1500.50"
    assert rows["a-framework"]["invoice_count"] == "2"
    assert rows["a-framework"]["invoiced_after_end"] == "1"
    assert rows["c-s106"]["invoice_count"] == "0" and rows["c-s106"]["invoiced_to_date"] == ""
