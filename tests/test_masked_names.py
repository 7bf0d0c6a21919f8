"""Personal data in file names, folder paths, PDF titles and e-mail subjects: never stored, exported or shown in clear.

A share is generated with a person's name and a valid NHS number in a folder and a file name, a NINO only in a
PDF's title and an e-mail address only in a message's subject; it is scanned with `docintel scan` at -vv, then
every store and output is searched for the values: the catalogue (every column of every table), the JSONL, CSV,
Parquet and DCAT exports, the HTML report, the review pages and the log. Subject access still finds each
document by the identifier that appears only in its labels.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from docintel.catalogue.store import open_catalogue
from docintel.cli import main
from docintel.enrich.fields import LabelMasker
from docintel.enrich.hashing import pii_hash
from docintel.errors import EnrichmentError
from docintel.models import Entity, PiiFinding, Provenance
from docintel.pipeline import Engines, mask_labels_stage, new_record
from docintel.settings import load_settings
from docintel.subject_access import find_command, find_documents
from tests.review.review_fixtures import READER, add_accounts, make_app, sign_in

REPO = Path(__file__).resolve().parents[1]
KEY = "masked-names-test-key-0123456789abcdef"

# Fake identities: 943 476 5919 is the NHS's own documentation example; the NINO passes its prefix rules.
NAME = "Olivia Smith"
NHS = "943 476 5919"
NINO = "JH 45 67 89 B"
EMAIL = "olivia.smith@example.org"
# Every form a value could leak in (spaced, compact, either case).
LEAKS = ["Olivia", "Smith", NHS, NHS.replace(" ", ""), NINO, NINO.replace(" ", ""), EMAIL, "olivia.smith"]

LETTER_NAME = f"Letter to {NAME} re {NHS}.pdf"
REPORT_TITLE = f"Assessment for {NINO}"
SUBJECT = f"Complaint from {EMAIL}"


def _pdf(text: str, title: str | None = None) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    if title:
        page.setTitle(title)
    page.drawString(72, 800, text)
    page.save()
    return buffer.getvalue()


def _message() -> bytes:
    message = EmailMessage()
    message["From"] = "contact@example.org"
    message["To"] = "complaints@example.org"
    message["Subject"] = SUBJECT
    message.set_content("A complaint about the grounds maintenance contract was received.\n")
    return message.as_bytes()


def _write_share(root: Path) -> Path:
    folder = root / "Care" / NAME
    folder.mkdir(parents=True)
    (folder / LETTER_NAME).write_bytes(_pdf(f"The enclosed assessment of the care package for NHS number {NHS}."))
    (root / "Care" / "assessment.pdf").write_bytes(_pdf("The assessment was completed in March.", REPORT_TITLE))
    (root / "Care" / "message.eml").write_bytes(_message())
    (folder / f"Notes on {NAME}.pdf").write_bytes(b"")  # unreadable: failed, and still masked
    return root


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [value for value in LEAKS if value.lower() in lowered]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with the repository's config and a PII key."""
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DOCINTEL_PII_KEY", KEY)
    return CliRunner()


@pytest.mark.slow
def test_names_paths_titles_and_subjects_are_masked_everywhere(
    runner: CliRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    share = _write_share(tmp_path / "share")
    database = tmp_path / "catalogue.db"
    catalogue = f"sqlite:///{database}"
    caplog.set_level(logging.DEBUG)
    scanned = runner.invoke(main, ["-vv", "scan", str(share), "--catalogue", catalogue, "--no-progress"])
    assert scanned.exit_code == 1, scanned.output  # the empty file failed; the run went on
    assert _leaks(scanned.output) == [] and _leaks(caplog.text) == []

    # The catalogue: every value of every table, except the one column that must keep the raw local path.
    with sqlite3.connect(database) as connection:
        rows = {
            table: connection.execute(f'SELECT * FROM "{table}"').fetchall()  # names from sqlite_master
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        documents = connection.execute("SELECT name, path, title, locator, source_locator, web_url FROM documents")
        by_name = {row[0]: row for row in documents}
    source_locators = [row[4] for row in by_name.values() if row[4]]
    folder = (share / "Care" / NAME).resolve()
    # Kept only to re-read these two files, whose own paths hold the name.
    assert sorted(source_locators) == sorted([str(folder / LETTER_NAME), str(folder / f"Notes on {NAME}.pdf")])
    leftover = "\n".join(repr(row) for table_rows in rows.values() for row in table_rows)
    for source_locator in source_locators:
        leftover = leftover.replace(repr(source_locator), "")
    assert _leaks(leftover) == [], [v for line in leftover.splitlines() for v in line.split(", '") if _leaks(v)]
    letter = by_name["Letter to <PERSON> re <UK_NHS>.pdf"]
    assert letter[1] == "share/Care/<PERSON>"
    assert letter[3].endswith("/Care/<PERSON>/Letter to <PERSON> re <UK_NHS>.pdf")
    assert "Notes on <PERSON>.pdf" in by_name  # a document that failed is masked too
    assert by_name["assessment.pdf"][2] == "Assessment for <UK_NINO>"
    assert by_name["message.eml"][2] == "Complaint from <EMAIL_ADDRESS>"

    # Exports and the report.
    for fmt in ("jsonl", "csv", "dcat"):
        exported = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", fmt])
        assert exported.exit_code == 0, exported.output
        assert "<UK_NHS>" in exported.output and _leaks(exported.output) == [], fmt
    parquet = tmp_path / "catalogue.parquet"
    assert (
        runner.invoke(
            main, ["export", "--catalogue", catalogue, "--format", "parquet", "--out", str(parquet)]
        ).exit_code
        == 0
    )
    assert _leaks(json.dumps(pq.read_table(parquet).to_pylist(), default=str)) == []
    report = tmp_path / "report.html"
    assert runner.invoke(main, ["report", "--catalogue", catalogue, "--out", str(report)]).exit_code == 0
    assert _leaks(report.read_text(encoding="utf-8")) == []

    # The review pages: the queue and each document's page, as the catalogue gives them (a read-only account; a
    # reviewer allowed a preview also sees the document itself, re-read from its source on request, never stored).
    with open_catalogue(catalogue) as store:
        app, runtime = make_app(store)
        add_accounts(runtime.store)
        client = TestClient(app)
        sign_in(client, READER.name)
        pages = [client.get("/review/queue?page_size=50").text, client.get("/review/").text]
        for (doc_id,) in rows_of(database, "SELECT id FROM documents"):
            page = client.get(f"/review/document?id={doc_id}")
            assert page.status_code == 200
            pages.append(page.text)
        assert "Letter to &lt;PERSON&gt; re &lt;UK_NHS&gt;.pdf" in "".join(pages)
        assert _leaks("".join(pages)) == []

        # Subject access finds each document by the identifier only its labels hold.
        key = KEY.encode()
        settings = load_settings(REPO / "config", environ={})
        for criteria, expected, where in (
            ({"nhs_number": NHS.replace(" ", "")}, "Letter to <PERSON> re <UK_NHS>.pdf", "name"),
            ({"nino": NINO}, "assessment.pdf", "title"),
            ({"email": EMAIL.upper()}, "message.eml", "title"),
        ):
            matches = find_documents(store, key=key, settings=settings, snippets=True, **criteria)
            assert [match.name for match in matches] == [expected], criteria
            mention = next(m for m in matches[0].mentions if m.field == where)
            assert "<" in (mention.snippet or "") and _leaks(mention.snippet or "") == []
            for mention in matches[0].mentions:  # the letter's text too: re-read through its unmasked locator
                assert mention.snippet and _leaks(mention.snippet) == [], mention
        by_person = find_documents(store, key=key, settings=settings, name=NAME)
        assert {match.name: {m.field for m in match.mentions} for match in by_person} == {
            "Letter to <PERSON> re <UK_NHS>.pdf": {"name", "path"},
            "Notes on <PERSON>.pdf": {"name", "path"},
        }
        found = CliRunner().invoke(find_command, ["--catalogue", catalogue, "--nino", NINO, "--snippets"])
        assert found.exit_code == 0, found.output
        assert "nino: in its title, chars 15-28: Assessment for <UK_NINO>" in found.output
        letter_mentions = find_documents(store, key=key, settings=settings, nhs_number=NHS, snippets=True)[0].mentions
        assert {m.field for m in letter_mentions} == {"name", "text"}
        assert any(m.field == "text" and "[UK_NHS]" in (m.snippet or "") for m in letter_mentions)


def rows_of(database: Path, query: str) -> list[tuple[object, ...]]:
    """Rows of a query on the SQLite catalogue file."""
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


@pytest.mark.parametrize(
    ("label", "where", "masked", "types"),
    [
        (LETTER_NAME, "name", "Letter to <PERSON> re <UK_NHS>.pdf", ["PERSON", "UK_NHS"]),
        ("Letter_to_Olivia_Smith_9434765919.pdf", "name", "Letter_to_<PERSON>_<UK_NHS>.pdf", ["PERSON", "UK_NHS"]),
        (f"Social Care/{NAME}/Reviews", "path", "Social Care/<PERSON>/Reviews", ["PERSON"]),
        (REPORT_TITLE, "title", "Assessment for <UK_NINO>", ["UK_NINO"]),
        (SUBJECT, "title", "Complaint from <EMAIL_ADDRESS>", ["EMAIL_ADDRESS"]),
        (f"Notes on {NAME}.pdf", "name", "Notes on <PERSON>.pdf", ["PERSON"]),
        ("Minutes of the Highways Committee.docx", "name", "Minutes of the Highways Committee.docx", []),
        ("Finance/Invoices/2025", "path", "Finance/Invoices/2025", []),
        ("", "title", "", []),
    ],
)
def test_label_masker(label: str, where: str, masked: str, types: list[str], engines: Engines) -> None:
    result = engines.label_masker.mask(label, where)  # type: ignore[arg-type]
    assert result.masked == masked
    assert [finding.entity_type for finding in result.findings] == types
    assert all(finding.field == where and finding.value_hash and finding.page is None for finding in result.findings)
    # Offsets index the unmasked label; the hash is the one a subject-access search computes.
    for finding in result.findings:
        assert finding.value_hash == pii_hash(
            finding.entity_type, label[finding.start : finding.end].replace("_", " "), KEY.encode()
        )


def test_path_findings_carry_offsets_into_the_whole_path(engines: Engines) -> None:
    path = f"Care/{NAME}/Letters"
    finding = engines.label_masker.mask(path, "path").findings[0]
    assert path[finding.start : finding.end] == NAME
    assert isinstance(engines.label_masker, LabelMasker)


@pytest.fixture(scope="module")
def engines() -> Engines:
    """Engines with the repository's settings and the test key (the analyzer loads once for the module)."""
    return Engines(settings=load_settings(REPO / "config", environ={}), pii_key=KEY.encode())


class _BrokenAnalyzer:
    """An analyzer that fails as spaCy does on input it cannot take (EnrichmentError)."""

    def analyze(self, text: str, key: bytes | None = None) -> tuple[list[Entity], list[PiiFinding]]:
        raise EnrichmentError("text analysis failed: ValueError")


def test_labels_that_could_not_be_searched_are_withheld_and_the_document_failed() -> None:
    engines = Engines(settings=load_settings(REPO / "config", environ={}), pii_key=KEY.encode())
    engines.__dict__["label_masker"] = LabelMasker(_BrokenAnalyzer(), KEY.encode())  # type: ignore[arg-type]
    provenance = Provenance(source="local", locator=f"/share/{NAME}/{LETTER_NAME}", name=LETTER_NAME,
                            path=f"share/{NAME}", web_url=f"file:///share/{NAME}/{LETTER_NAME}")  # fmt: skip
    record = mask_labels_stage(new_record(provenance).model_copy(update={"title": REPORT_TITLE}), engines)
    assert record.status.value == "failed" and record.error is not None and record.error.type == "EnrichmentError"
    assert _leaks(record.model_copy(update={"provenance": record.provenance.model_copy(
        update={"source_locator": None})}).model_dump_json()) == []  # fmt: skip
    assert record.provenance.source_locator == provenance.locator  # kept aside to re-read the file, as ever
