"""`docintel triage` end to end: a generated share scanned with `docintel scan`, then triaged from the catalogue.

The share holds an invoice last changed in 2012 (past its disposal date), an identical copy of a report in another
folder, a Word temp file, an empty document, an installer and a letter in a folder named after a (fake) person.
Checks each recommendation, that holds block disposal, that the per-file exports and the report keep names
masked, and that the migration task files carry the real folder paths and are audited. Overrides are checked on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import text

from docintel.catalogue.store import open_catalogue
from docintel.catalogue.triage import overrides, set_override
from docintel.cli import main
from docintel.review.auth import Reviewer, Role
from docintel.review.store import HoldScope, ReviewStore
from docintel.triage import Recommendation, load_migration_map, triage_catalogue

REPO = Path(__file__).resolve().parents[1]
KEY = "triage-test-key-0123456789abcdef-xyz"
NAME = "Olivia Smith"  # a fake person: the folder name must never leave the catalogue in clear but for migration
OLD = dt.datetime(2012, 6, 1, tzinfo=dt.UTC).timestamp()
RECENT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()


def _pdf(lines: list[str], title: str | None = None) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    if title:
        page.setTitle(title)
    y = 800
    for line in lines:
        page.drawString(72, y, line)
        y -= 20
    page.save()
    return buffer.getvalue()


INVOICE = [
    "INVOICE",
    "Invoice number: INV-20120415",
    "Invoice date: 15 April 2012",
    "Supplier: Example Grounds Maintenance Ltd",
    "Grounds maintenance services, April 2012",
    "Net amount: 1,200.00  VAT at 20%: 240.00  Total due: 1,440.00",
    "Payment terms: 30 days. Please quote the invoice number on your remittance.",
]
POLICY = [
    "Data Protection Policy",
    "This policy sets out how the council complies with the UK GDPR and the Data Protection Act 2018.",
    "It applies to all staff, councillors, contractors and agency workers.",
    "The policy is approved by cabinet and reviewed every three years by the information governance board.",
]
REPORT = [
    "Highways maintenance programme 2026/27",
    "The programme sets out the resurfacing schemes agreed by the cabinet member.",
    "Schemes are prioritised by condition survey results and road hierarchy.",
]


def _write_share(root: Path) -> Path:
    finance, highways, care = root / "Finance", root / "Highways", root / "Care" / NAME
    for folder in (finance, highways, care, root / "Transfer", root / "Policies"):
        folder.mkdir(parents=True)
    programme = _pdf(REPORT, "Highways maintenance programme")  # one PDF: reportlab stamps each with its time
    files = {
        finance / "invoice INV-20120415.pdf": (_pdf(INVOICE, "Invoice INV-20120415"), OLD),
        highways / "programme.pdf": (programme, RECENT),
        root / "Transfer" / "programme.pdf": (programme, RECENT + 86400),
        highways / "~WRL0001.tmp": (os.urandom(400), RECENT),
        highways / "notes.docx": (b"", RECENT),
        finance / "setup.exe": (b"MZ\x90\x00" + bytes(1000), RECENT),
        care / "letter.pdf": (_pdf(["Letter about the care package review."]), RECENT),
        root / "Policies" / "Data protection policy.pdf": (_pdf(POLICY, "Data Protection Policy"), RECENT),
    }
    for path, (content, when) in files.items():
        path.write_bytes(content)
        os.utime(path, (when, when))
    return root


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The generated share and a SQLite catalogue it was scanned into (once for the module)."""
    work = tmp_path_factory.mktemp("triage")
    share = _write_share(work / "share")
    catalogue = f"sqlite:///{work / 'catalogue.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
        patch.setenv("DOCINTEL_PII_KEY", KEY)
        result = CliRunner().invoke(main, ["scan", str(share), "--catalogue", catalogue, "--no-progress"])
    assert result.exit_code in (0, 1), result.output  # the empty file and the installer fail; the run goes on
    yield share, catalogue


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with the repository's config."""
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DOCINTEL_PII_KEY", KEY)
    return CliRunner()


def _by_name(output: str) -> dict[str, dict[str, str]]:
    return {f"{row['path']}/{row['name']}": row for row in csv.DictReader(io.StringIO(output))}


@pytest.mark.slow
def test_each_file_of_the_share_gets_its_recommendation(scanned: tuple[Path, str], runner: CliRunner) -> None:
    _, catalogue = scanned
    result = runner.invoke(main, ["triage", "--catalogue", catalogue, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = _by_name(result.output)
    assert rows["share/Finance/invoice INV-20120415.pdf"]["recommendation"] == "dispose"
    assert (
        "finance.invoice: disposal date 2019-03-31 passed" in rows["share/Finance/invoice INV-20120415.pdf"]["reason"]
    )
    assert rows["share/Transfer/programme.pdf"]["recommendation"] == "duplicate"  # copied a day later
    assert "identical copy kept at share/Highways/programme.pdf" in rows["share/Transfer/programme.pdf"]["reason"]
    assert rows["share/Highways/programme.pdf"]["recommendation"] != "duplicate"
    for trivial in ("share/Highways/~WRL0001.tmp", "share/Highways/notes.docx", "share/Finance/setup.exe"):
        assert rows[trivial]["recommendation"] == "trivial", trivial
    # Names stay masked in the per-file export: the person's folder is "<PERSON>".
    assert NAME.split(maxsplit=1)[0] not in result.output and "share/Care/<PERSON>/letter.pdf" in rows

    summary = runner.invoke(main, ["triage", "--catalogue", catalogue])
    assert summary.exit_code == 0, summary.output
    assert "Need not move (dispose, duplicate, trivial): 5 files" in summary.output
    assert "share/Highways" in summary.output and NAME not in summary.output
    assert rows["share/Policies/Data protection policy.pdf"]["recommendation"] == "migrate"
    assert rows["share/Policies/Data protection policy.pdf"]["target_library"] == "Policies"


@pytest.mark.slow
def test_parquet_and_the_report_carry_the_totals_masked(
    scanned: tuple[Path, str], runner: CliRunner, tmp_path: Path
) -> None:
    _, catalogue = scanned
    out = tmp_path / "triage.parquet"
    assert (
        runner.invoke(main, ["triage", "--catalogue", catalogue, "--format", "parquet", "--out", str(out)]).exit_code
        == 0
    )
    table = pq.read_table(out).to_pylist()
    assert len(table) == 8 and {row["recommendation"] for row in table} >= {"dispose", "duplicate", "trivial"}
    assert all(NAME not in (row["path"] or "") for row in table)
    report = tmp_path / "report.html"
    assert runner.invoke(main, ["report", "--catalogue", catalogue, "--out", str(report)]).exit_code == 0
    html = report.read_text(encoding="utf-8")
    assert 'id="triage"' in html and 'id="triage-dispose"' in html and NAME not in html
    no_parquet_out = runner.invoke(main, ["triage", "--catalogue", catalogue, "--format", "parquet"])
    assert no_parquet_out.exit_code == 2 and "--out" in no_parquet_out.output


@pytest.mark.slow
def test_migration_task_files_have_real_paths_and_are_audited(
    scanned: tuple[Path, str], runner: CliRunner, tmp_path: Path
) -> None:
    share, catalogue = scanned
    spmt_csv, spmt_json = tmp_path / "tasks.csv", tmp_path / "tasks.json"
    assert (
        runner.invoke(
            main, ["triage", "--catalogue", catalogue, "--format", "spmt-csv", "--out", str(spmt_csv)]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            main, ["triage", "--catalogue", catalogue, "--format", "spmt-json", "--out", str(spmt_json)]
        ).exit_code
        == 0
    )
    rows = list(csv.reader(spmt_csv.open(encoding="utf-8", newline="")))
    sources = {row[0] for row in rows}
    assert str((share / "Policies").resolve()) in sources
    assert str((share / "Finance").resolve()) not in sources  # its invoice is disposed of, its installer trivial
    assert str((share / "Transfer").resolve()) not in sources  # only a duplicate there
    assert all(len(row) == 6 and row[3].startswith("https://") for row in rows)
    tasks = json.loads(spmt_json.read_text(encoding="utf-8"))["Tasks"]
    assert {task["SourcePath"] for task in tasks} == sources
    # Real names are in the task files only, and each export is in the audit trail (who, format, how many).
    with sqlite3.connect(catalogue.removeprefix("sqlite:///")) as connection:
        audited = connection.execute(
            "SELECT user_name, target, to_value FROM audit WHERE action = 'triage_export'"
        ).fetchall()
    assert {target for _, target, _ in audited} >= {"spmt-csv", "spmt-json"}
    assert all(user.startswith("cli") and value.endswith("tasks") for user, _, value in audited)


@pytest.mark.slow
def test_a_hold_blocks_disposal_of_the_expired_invoice(scanned: tuple[Path, str], tmp_path: Path) -> None:
    _, catalogue = scanned
    migration_map = load_migration_map(REPO / "config" / "migration_map.yaml")
    with open_catalogue(catalogue) as store:
        review = ReviewStore(store)
        hold = review.place_hold(HoldScope.FOLDER, "share/Finance", "audit inquiry", by=Reviewer("ada", Role.ADMIN))
        try:
            items = {f"{item.path}/{item.name}": item for item in triage_catalogue(store, migration_map).files}
            invoice = items["share/Finance/invoice INV-20120415.pdf"]
            assert invoice.recommendation is Recommendation.MIGRATE and invoice.on_hold
            assert invoice.reason.startswith("legal hold: kept and migrated, not dispose")
            assert items["share/Finance/setup.exe"].recommendation is Recommendation.MIGRATE
        finally:
            review.release_hold(hold.id, "inquiry closed", by=Reviewer("ada", Role.ADMIN))
        items = {f"{item.path}/{item.name}": item for item in triage_catalogue(store, migration_map).files}
        assert items["share/Finance/invoice INV-20120415.pdf"].recommendation is Recommendation.DISPOSE


def test_a_missing_or_broken_map_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "map.yaml"
    broken.write_text("default: {site_url: 'https://x', library: ''}\n", encoding="utf-8")
    catalogue = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(main, ["triage", "--catalogue", catalogue, "--map", str(broken)])
    assert result.exit_code == 2 and "default.library" in result.output


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A catalogue on each backend; the PostgreSQL one has its overrides emptied first."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    with open_catalogue(url) as cleaner, cleaner.engine.begin() as connection:
        connection.execute(text("DELETE FROM triage_overrides"))
        connection.execute(text("DELETE FROM audit WHERE action = 'triage_override'"))
    yield url


def test_overrides_are_stored_replaced_cleared_and_audited(catalogue_url: str) -> None:
    with open_catalogue(catalogue_url) as store:
        set_override(store, "doc-1", "review", user_name="rita", reason="ask the service", computed="migrate")
        set_override(store, "doc-1", "dispose", user_name="ada", reason="superseded", computed="migrate")
        set_override(store, "doc-2", "trivial", user_name="rita", reason="held", computed="migrate", outcome="refused")
        found = overrides(store)
        assert set(found) == {"doc-1"}  # a refused override is audited, not stored
        assert (found["doc-1"].recommendation, found["doc-1"].user_name) == ("dispose", "ada")
        assert overrides(store, ["doc-2", "doc-1"]).keys() == {"doc-1"}
        set_override(store, "doc-1", None, user_name="ada", reason="rules are right", computed="migrate")
        assert overrides(store) == {}
        with store.transaction("read audit") as connection:
            rows = connection.execute(
                text(
                    "SELECT document_id, user_name, from_value, to_value, outcome FROM audit "
                    "WHERE action = 'triage_override' ORDER BY id"
                )
            ).all()
    assert [tuple(row) for row in rows] == [
        ("doc-1", "rita", "migrate", "review", "done"),
        ("doc-1", "ada", "review", "dispose", "done"),
        ("doc-2", "rita", "migrate", "trivial", "refused"),
        ("doc-1", "ada", "dispose", "migrate (override cleared)", "done"),
    ]
