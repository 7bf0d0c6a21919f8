"""The case workflow on a real catalogue (SQLite and PostgreSQL) built by scanning a generated share."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from docintel.catalogue import tables as t
from docintel.catalogue.sar_cases import CaseClosed, CaseNotFound, SarCaseStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.enrich.hashing import bind_pii_key
from docintel.errors import PiiKeyMismatch
from docintel.pipeline import Engines, scan_source
from docintel.sar.cases import extend_case, open_case, search_case, view
from docintel.sar.commands import sar_group
from docintel.settings import Settings, load_settings
from docintel.sources.local import LocalFolderSource
from tests.sar.sar_fixtures import DOB, EMAIL, KEY, KEY_HEX, NAME, NHS, POSTCODE, write_share

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
RECEIVED = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG_DIR, environ={})


@pytest.fixture(scope="module")
def engines(settings: Settings) -> Engines:
    return Engines(settings=settings, pii_key=KEY)


def _scan(store: CatalogueStore, share: Path, engines: Engines) -> dict[str, str]:
    summary = scan_source(LocalFolderSource([share]), store, engines)
    assert summary.failed == 0
    return {row["name"]: row["id"] for row in store.iter_documents()}


def _open(store: CatalogueStore) -> str:
    return open_case(
        store,
        KEY,
        {"name": [NAME], "date_of_birth": [DOB], "postcode": [POSTCODE]},
        received_on=RECEIVED,
        handler="IG Officer",
        user="test:handler",
    )


def _check_workflow(store: CatalogueStore, ids: dict[str, str]) -> None:
    case_id = _open(store)
    assert case_id == "SAR-2026-0001"
    cases = SarCaseStore(store)
    case = cases.get(case_id)
    assert (case["due_on"], case["status"], case["label"]) == (dt.date(2026, 2, 28), "open", "O. S.")
    found = {tie.document_id: tie for tie in search_case(store, case_id, "test:handler")}
    # The letter ties by name + date of birth + postcode, the visit by name + date of birth; the look-alike's
    # referral has the name with another date of birth; the meeting notes the name alone; the permit nothing.
    assert found[ids["letter.txt"]].tie == "strong"
    assert found[ids["visit.pdf"]].tie == "strong"
    assert found[ids["lookalike.txt"]].tie == "conflict"
    assert "another date of birth next to the name" in found[ids["lookalike.txt"]].reasons()
    assert found[ids["notes.txt"]].tie == "weak"
    assert ids["permit.txt"] not in found
    ranked = [row["document_id"] for row in cases.documents(case_id)]
    assert ranked.index(ids["letter.txt"]) < ranked.index(ids["notes.txt"]) < ranked.index(ids["lookalike.txt"])

    cases.decide(case_id, ids["letter.txt"], "confirmed", "test:handler")
    cases.decide(case_id, ids["lookalike.txt"], "rejected", "test:handler", "another person, other DOB")
    cases.add_exemption(case_id, ids["visit.pdf"], 2, "legal_privilege", note="counsel's advice", user="test:handler")
    # A second search keeps the decisions made.
    search_case(store, case_id, "test:handler")
    decisions = {row["document_id"]: row["decision"] for row in cases.documents(case_id)}
    assert decisions[ids["letter.txt"]] == "confirmed" and decisions[ids["lookalike.txt"]] == "rejected"
    assert decisions[ids["notes.txt"]] == "pending"
    with pytest.raises(CaseNotFound):
        cases.decide(case_id, ids["permit.txt"], "confirmed", "test:handler")

    assert extend_case(store, case_id, "numerous records", "test:handler") == dt.date(2026, 4, 30)
    assert view(cases.get(case_id), today=dt.date(2026, 4, 28)).clock.describe() == "2 days left"
    cases.close(case_id, dt.date(2026, 4, 20), {"how": "secure e-mail"}, "test:handler")
    with pytest.raises(CaseClosed):
        cases.decide(case_id, ids["notes.txt"], "confirmed", "test:handler")
    actions = [row["action"] for row in cases.audit_trail(case_id)]
    assert actions == [
        "sar_open",
        "sar_search",
        "sar_confirmed",
        "sar_rejected",
        "sar_exempt",
        "sar_search",
        "sar_extend",
        "sar_close",
    ]
    assert cases.list_cases("open") == [] and cases.list_cases()[0]["confirmed"] == 1

    # Nothing of the requester is stored in clear.
    with store.engine.connect() as connection:
        stored = json.dumps(
            [
                dict(row)
                for table in (t.sar_cases, t.sar_identifiers, t.sar_documents, t.audit)
                for row in connection.execute(select(table)).mappings()
            ],
            default=str,
        ).lower()
    for value in ("olivia", "smith", "1984", "ls6", "9434765919"):
        assert value not in stored


def test_case_workflow_on_sqlite(tmp_path: Path, engines: Engines) -> None:
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    try:
        _check_workflow(store, _scan(store, write_share(tmp_path / "share"), engines))
    finally:
        store.close()


@pytest.mark.needs_postgres
def test_case_workflow_on_postgresql(fresh_postgres_url: str, tmp_path: Path, engines: Engines) -> None:
    store = open_catalogue(fresh_postgres_url)
    try:
        _check_workflow(store, _scan(store, write_share(tmp_path / "share"), engines))
    finally:
        store.close()


def test_a_case_with_another_key_is_refused(tmp_path: Path, engines: Engines) -> None:
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    try:
        _scan(store, write_share(tmp_path / "share"), engines)
        bind_pii_key(store, KEY)  # as `docintel scan` does
        with pytest.raises(PiiKeyMismatch):
            open_case(
                store,
                b"another-key-entirely-0123456789",
                {"name": [NAME]},
                received_on=RECEIVED,
                handler="IG Officer",
                user="test",
            )
        assert SarCaseStore(store).list_cases() == []
    finally:
        store.close()


def test_commands_from_open_to_close(tmp_path: Path, engines: Engines, settings: Settings) -> None:
    database = tmp_path / "catalogue.db"
    store = open_catalogue(f"sqlite:///{database}")
    ids = _scan(store, write_share(tmp_path / "share"), engines)
    store.close()
    runner = CliRunner()
    env = {"DOCINTEL_PII_KEY": KEY_HEX}
    catalogue = ["--catalogue", f"sqlite:///{database}"]

    def run(*args: str) -> str:
        result = runner.invoke(sar_group, [*args, *catalogue], obj={"settings": settings}, env=env)
        assert result.exit_code == 0, result.output
        return result.output

    opened = run(
        "open",
        "--name",
        NAME,
        "--nhs-number",
        NHS,
        "--email",
        EMAIL,
        "--dob",
        DOB,
        "--received",
        "2026-01-03",
        "--handler",
        "IG Officer",
    )
    assert "SAR-2026-0001 opened: due 2026-02-03" in opened
    assert "2 strong" in opened  # the letter (name, date of birth) and the visit record (NHS number)
    run("confirm", "SAR-2026-0001", ids["letter.txt"], ids["visit.pdf"])
    run("reject", "SAR-2026-0001", ids["lookalike.txt"], "--reason", "another person")
    run("exempt", "SAR-2026-0001", ids["visit.pdf"], "--exemption", "legal_privilege", "--page", "2")
    shown = run("show", "SAR-2026-0001")
    assert "requester O. S." in shown and "sar_exempt" in shown and "legal_privilege" in shown
    assert NAME not in shown and "1984" not in shown
    listed = json.loads(run("list", "--json"))
    assert listed[0]["id"] == "SAR-2026-0001" and listed[0]["confirmed"] == 2
    closed = run("close", "SAR-2026-0001", "--sent-on", "2026-02-10", "--how", "recorded post")
    assert "overdue by 7 days" in closed

    bad = runner.invoke(
        sar_group,
        ["open", "--name", NAME, "--nhs-number", "943 476 5918", "--handler", "x", *catalogue],
        obj={"settings": settings},
        env=env,
    )
    assert bad.exit_code == 1 and "not a valid NHS number" in bad.output
    missing = runner.invoke(sar_group, ["show", "SAR-1999-0001", *catalogue], obj={"settings": settings}, env=env)
    assert missing.exit_code == 1 and "no subject access case" in missing.output
