"""Subject access search over a real catalogue built by scanning generated documents."""

from __future__ import annotations

import io
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import func, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.errors import ConfigError
from docintel.pipeline import Engines, scan_source
from docintel.redact import MASK_CHAR
from docintel.settings import Settings, load_settings
from docintel.sources.local import LocalFolderSource
from docintel.subject_access import (
    InvalidCriterion,
    Match,
    find_command,
    find_documents,
    kept_text,
    redacted_snippet,
    router,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
KEY = b"subject-access-test-key-0123456789"
KEY_HEX = KEY.hex()

# Fake identities: 943 476 5919 is the NHS's own documentation example; the others pass their checks.
NHS = "943 476 5919"
OTHER_NHS = "401 023 2137"
NINO = "JH 45 67 89 B"
EMAIL = "olivia.smith@example.org"
OTHER_EMAIL = "samuel.jones@example.net"
NAME = "Olivia Smith"

LETTER = f"""Northshire County Council
Adult Social Care

Dear Ms {NAME},

We have recorded your NHS number as {NHS} and your National Insurance number as {NINO}.
We will write to you at {EMAIL} when the assessment is complete.

Yours sincerely,

Samuel Jones
Team Manager
"""
CASE_NOTE = f"""Visit record

Client: {NAME}
NHS No: {NHS.replace(" ", "")}
Seen at home; the review is due in March. Contact {EMAIL.upper()} for updates.
"""
OTHER = f"""Housing Options

Dear Mr Samuel Jones,

Your NHS number {OTHER_NHS} was given on the form. Email {OTHER_EMAIL} with any questions.
"""
ATTACHED = f"""Referral form

Patient name: {NAME}
NHS number: {NHS}
"""


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    y = 800
    for line in text.splitlines():
        page.drawString(72, y, line)
        y -= 16
    page.save()
    return buffer.getvalue()


def _email_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "referrals@example.org"
    message["To"] = "intake@example.org"
    message["Subject"] = "Referral"
    message.set_content("Please see the attached referral.\n")
    message.add_attachment(ATTACHED.encode(), maintype="text", subtype="plain", filename="referral.txt")
    return message.as_bytes()


def _write_share(folder: Path) -> Path:
    (folder / "Care").mkdir(parents=True)
    (folder / "Housing").mkdir()
    (folder / "Care" / "letter.txt").write_text(LETTER, encoding="utf-8")
    (folder / "Care" / "visit.pdf").write_bytes(_pdf(CASE_NOTE))
    (folder / "Care" / "referral.eml").write_bytes(_email_with_attachment())
    (folder / "Housing" / "other.txt").write_text(OTHER, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG_DIR, environ={})


@pytest.fixture(scope="module")
def engines(settings: Settings) -> Engines:
    return Engines(settings=settings, pii_key=KEY)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, engines: Engines) -> tuple[CatalogueStore, Path, Path]:
    root = tmp_path_factory.mktemp("sar")
    share = _write_share(root / "share")
    database = root / "catalogue.db"
    store = open_catalogue(f"sqlite:///{database}")
    summary = scan_source(LocalFolderSource([share]), store, engines)
    assert summary.failed == 0
    return store, share, database


def _by_name(matches: list[Match]) -> dict[str, Match]:
    return {match.name: match for match in matches}


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"nhs_number": NHS}, {"letter.txt", "visit.pdf", "referral.txt"}),
        ({"nhs_number": NHS.replace(" ", "")}, {"letter.txt", "visit.pdf", "referral.txt"}),
        ({"nhs_number": "943-476-5919"}, {"letter.txt", "visit.pdf", "referral.txt"}),
        ({"nhs_number": OTHER_NHS}, {"other.txt"}),
        ({"nino": NINO}, {"letter.txt"}),
        ({"nino": NINO.replace(" ", "").lower()}, {"letter.txt"}),
        ({"email": EMAIL}, {"letter.txt", "visit.pdf"}),
        ({"email": EMAIL.upper()}, {"letter.txt", "visit.pdf"}),
        ({"email": OTHER_EMAIL}, {"other.txt"}),
        ({"name": NAME}, {"letter.txt", "visit.pdf", "referral.txt"}),
        ({"name": "  olivia   SMITH "}, {"letter.txt", "visit.pdf", "referral.txt"}),
        ({"nhs_number": NHS, "nino": NINO}, {"letter.txt"}),
        ({"nhs_number": NHS, "email": EMAIL}, {"letter.txt", "visit.pdf"}),
        ({"nhs_number": OTHER_NHS, "email": EMAIL}, set()),
        ({"email": "nobody@example.org"}, set()),
    ],
)
def test_find_by_identifiers_in_any_format(
    scanned: tuple[CatalogueStore, Path, Path], settings: Settings, criteria: dict[str, str], expected: set[str]
) -> None:
    store, _, _ = scanned
    matches = find_documents(store, key=KEY, settings=settings, snippets=False, **criteria)
    assert set(_by_name(matches)) == expected
    for match in matches:
        assert set(match.criteria) == set(criteria)
        assert match.mentions and all(m.start < m.end for m in match.mentions)


def test_any_ranks_documents_with_more_criteria_first(
    scanned: tuple[CatalogueStore, Path, Path], settings: Settings
) -> None:
    store, _, _ = scanned
    matches = find_documents(
        store, nhs_number=NHS, nino=NINO, email=EMAIL, key=KEY, settings=settings, snippets=False, require_all=False
    )
    assert matches[0].name == "letter.txt" and matches[0].criteria == ["nhs_number", "nino", "email"]
    assert [len(m.criteria) for m in matches] == sorted((len(m.criteria) for m in matches), reverse=True)
    assert {m.name for m in matches} == {"letter.txt", "visit.pdf", "referral.txt"}


def test_match_has_location_page_offsets_and_redacted_snippet(
    scanned: tuple[CatalogueStore, Path, Path], settings: Settings
) -> None:
    store, _, _ = scanned
    matches = _by_name(find_documents(store, nhs_number=NHS, key=KEY, settings=settings, snippets=True))
    letter, pdf, attachment = matches["letter.txt"], matches["visit.pdf"], matches["referral.txt"]
    assert letter.source == "local" and letter.path == "share/Care" and letter.page == 1
    assert pdf.page == 1 and attachment.parent_id is not None
    for match in (letter, pdf, attachment):
        assert match.snippet_unavailable is None, match.snippet_unavailable
        snippet = match.mentions[0].snippet
        assert snippet is not None and "[UK_NHS]" in snippet
        for clear in (NHS, NHS.replace(" ", ""), NAME, EMAIL, EMAIL.upper(), NINO):
            assert clear not in snippet
    assert "We have recorded your NHS number as [UK_NHS]" in (letter.mentions[0].snippet or "")


def test_snippet_missing_with_reason_when_document_cannot_be_reread(
    tmp_path: Path, engines: Engines, settings: Settings
) -> None:
    share = _write_share(tmp_path / "share")
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    scan_source(LocalFolderSource([share]), store, engines)
    (share / "Care" / "letter.txt").write_text(LETTER + "\nAdded later.\n", encoding="utf-8")
    (share / "Care" / "visit.pdf").unlink()
    with store.engine.begin() as connection:  # as if the e-mail had come from a Graph source
        connection.execute(update(t.documents).where(t.documents.c.name == "referral.eml").values(source="mail"))

    found = find_documents(store, nhs_number=NHS, key=KEY, settings=settings, snippets=True)
    reasons = {m.name: m.snippet_unavailable for m in found}
    assert reasons["letter.txt"] == "the document changed since it was catalogued"
    assert reasons["visit.pdf"] == "the file cannot be read (FileNotFoundError)"
    assert reasons["referral.txt"] is not None and "'mail' are not re-read" in reasons["referral.txt"]


def test_kept_text_gives_snippets_for_sources_that_cannot_be_reread(tmp_path: Path) -> None:
    settings = load_settings(CONFIG_DIR, environ={"DOCINTEL_CATALOGUE__KEEP_TEXT": "true"})
    share = _write_share(tmp_path / "share")
    database = tmp_path / "catalogue.db"
    store = open_catalogue(f"sqlite:///{database}")
    scan_source(LocalFolderSource([share]), store, Engines(settings=settings, pii_key=KEY))
    with store.engine.begin() as connection:  # as if every document had come from SharePoint, then vanished
        connection.execute(update(t.documents).values(source="sharepoint"))
    (share / "Care" / "letter.txt").unlink()

    matches = _by_name(find_documents(store, nhs_number=NHS, key=KEY, settings=settings, snippets=True))
    assert set(matches) == {"letter.txt", "visit.pdf", "referral.txt"}
    for match in matches.values():
        assert match.snippet_unavailable is None, match.snippet_unavailable
        assert "[UK_NHS]" in (match.mentions[0].snippet or "")
    assert "We have recorded your NHS number as [UK_NHS]" in (matches["letter.txt"].mentions[0].snippet or "")
    # What was kept is the text itself, masked where personal data was, with the offsets unchanged.
    letter_id = matches["letter.txt"].document_id
    kept = kept_text(store, letter_id)
    assert kept is not None
    assert "We have recorded your NHS number as" in kept and "Adult Social Care" in kept
    mention = matches["letter.txt"].mentions[0]
    assert set(kept[mention.start : mention.end].replace(" ", "")) == {MASK_CHAR}
    raw = database.read_bytes()
    for clear in (NHS, NHS.replace(" ", ""), NINO, EMAIL, EMAIL.upper(), NAME, OTHER_EMAIL, "Samuel Jones"):
        assert clear.encode() not in raw


def test_kept_text_is_removed_when_a_rescan_does_not_keep_it(tmp_path: Path, settings: Settings) -> None:
    keeping = load_settings(CONFIG_DIR, environ={"DOCINTEL_CATALOGUE__KEEP_TEXT": "true"})
    share = _write_share(tmp_path / "share")
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    scan_source(LocalFolderSource([share]), store, Engines(settings=keeping, pii_key=KEY))
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.document_texts)).scalar_one() == 5
    scan_source(LocalFolderSource([share]), store, Engines(settings=settings, pii_key=KEY), force=True)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.document_texts)).scalar_one() == 0


def test_keep_text_without_the_personal_data_search_is_refused() -> None:
    environ = {"DOCINTEL_CATALOGUE__KEEP_TEXT": "true", "DOCINTEL_PII__ENABLED": "false"}
    with pytest.raises(ConfigError, match=r"keep_text needs pii\.enabled"):
        load_settings(CONFIG_DIR, environ=environ)


def test_catalogue_never_holds_the_values_in_clear(scanned: tuple[CatalogueStore, Path, Path]) -> None:
    _, _, database = scanned
    raw = database.read_bytes()
    for clear in (NHS, NHS.replace(" ", ""), NINO, NINO.replace(" ", ""), EMAIL, EMAIL.upper(), NAME, OTHER_EMAIL):
        assert clear.encode() not in raw
        assert clear.lower().encode() not in raw


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "give at least one of"),
        ({"nhs_number": "943 476 5918"}, "not a valid NHS number"),
        ({"nino": "JH 45 67 89"}, "not a valid National Insurance number"),
        ({"email": "not-an-address"}, "not an email address"),
        ({"name": "   "}, "name is empty"),
    ],
)
def test_invalid_criteria_are_refused(
    scanned: tuple[CatalogueStore, Path, Path], criteria: dict[str, str], message: str
) -> None:
    store, _, _ = scanned
    with pytest.raises(InvalidCriterion, match=message):
        find_documents(store, key=KEY, snippets=False, **criteria)


@pytest.mark.parametrize(
    ("text", "start", "end", "findings", "expected"),
    [
        ("NHS 943 476 5919 ok", 4, 16, [(4, 16, "UK_NHS")], "NHS [UK_NHS] ok"),
        ("Olivia Smith, NHS 943 476 5919.", 18, 30, [(0, 12, "PERSON"), (18, 30, "UK_NHS")], "[PERSON], NHS [UK_NHS]."),
        ("a\nb   c 12345 d", 8, 13, [(8, 13, "X")], "a b c [X] d"),
    ],
)
def test_redacted_snippet(text: str, start: int, end: int, findings: list[tuple[int, int, str]], expected: str) -> None:
    assert redacted_snippet(text, start, end, findings) == expected


def test_redacted_snippet_cuts_at_words_and_clips_findings_at_the_edge() -> None:
    text = "Intro words here. Olivia Smith said the number 943 476 5919 is hers; mail olivia@example.org today or later"
    nhs, person, email = text.index("943"), text.index("Olivia"), text.index("olivia@")
    # The window starts inside "Smith": the whole word is kept and the clipped PERSON span still becomes [PERSON].
    context = nhs - (text.index("Smith") + 2)
    findings = [(person, person + 12, "PERSON"), (nhs, nhs + 12, "UK_NHS"), (email, email + 18, "EMAIL")]
    snippet = redacted_snippet(text, nhs, nhs + 12, findings, context=context)
    assert snippet == "…[PERSON] said the number [UK_NHS] is hers; mail [EMAIL]…"


def test_find_command_text_and_json(scanned: tuple[CatalogueStore, Path, Path], settings: Settings) -> None:
    _, _, database = scanned
    runner = CliRunner()
    env = {"DOCINTEL_PII_KEY": KEY_HEX}
    args = ["--catalogue", f"sqlite:///{database}", "--nhs-number", "9434765919", "--email", EMAIL.upper()]
    result = runner.invoke(find_command, [*args, "--json", "--snippets"], obj={"settings": settings}, env=env)
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.output)
    assert {item["name"] for item in data} == {"letter.txt", "visit.pdf"}
    snippets = [m["snippet"] for item in data for m in item["mentions"] if m["snippet"]]
    assert snippets and all(f"[{m['entity_type']}]" in m["snippet"] for item in data for m in item["mentions"])
    assert NHS not in result.output and EMAIL not in result.output.lower()

    result = runner.invoke(find_command, args, obj={"settings": settings}, env=env)
    assert result.exit_code == 0 and "2 document(s)" in result.output and "share/Care/letter.txt" in result.output

    result = runner.invoke(find_command, ["--catalogue", f"sqlite:///{database}"], obj={"settings": settings}, env=env)
    assert result.exit_code == 2 and "give at least one of" in result.output


def test_find_command_without_key_fails_with_usage_status(
    scanned: tuple[CatalogueStore, Path, Path], settings: Settings
) -> None:
    _, _, database = scanned
    result = CliRunner().invoke(
        find_command,
        ["--catalogue", f"sqlite:///{database}", "--nino", NINO],
        obj={"settings": settings},
        env={"DOCINTEL_PII_KEY": "", "DOCINTEL_PII_KEY_FILE": ""},
    )
    assert result.exit_code == 2 and "no PII hashing key" in result.output


def test_http_endpoint(scanned: tuple[CatalogueStore, Path, Path], settings: Settings) -> None:
    store, _, _ = scanned
    app = FastAPI()
    app.state.store, app.state.settings, app.state.pii_key = store, settings, KEY
    app.include_router(router)
    client = TestClient(app)
    response = client.get("/v1/subject-access", params={"nhs_number": NHS, "name": NAME.lower()})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {m["name"] for m in body["matches"]} == {"letter.txt", "visit.pdf", "referral.txt"}
    assert NHS not in response.text and NAME not in response.text
    assert client.get("/v1/subject-access", params={"nhs_number": "123"}).status_code == 422
    assert client.get("/v1/subject-access").status_code == 422


@pytest.mark.needs_postgres
def test_find_on_postgresql(postgres_url: str, tmp_path: Path, engines: Engines, settings: Settings) -> None:
    share = _write_share(tmp_path / "share")
    store = open_catalogue(postgres_url)
    try:
        scan_source(LocalFolderSource([share]), store, engines)
        matches = _by_name(
            find_documents(
                store, nhs_number=NHS.replace(" ", ""), email=EMAIL.upper(), key=KEY, settings=settings, snippets=True
            )
        )
        assert set(matches) == {"letter.txt", "visit.pdf"}
        assert "[UK_NHS]" in (matches["letter.txt"].mentions[0].snippet or "")
    finally:
        store.close()
