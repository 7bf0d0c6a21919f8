"""Form cues of a document: its kind of file, a message's header block, accents, readable words."""

from __future__ import annotations

import pytest

from classifiers.structure import file_type_of, fold_accents, is_email, readable_words, without_mail_headers
from docintel.models import DocumentRecord, Provenance


def record(name: str, file_type: str | None, mime_type: str | None = None) -> DocumentRecord:
    return DocumentRecord(
        id="d", provenance=Provenance(source="local", locator=name, name=name), file_type=file_type, mime_type=mime_type
    )


@pytest.mark.parametrize(
    ("name", "file_type", "mime_type", "expected"),
    [
        ("a.pdf", "pdf", None, "pdf"),
        ("a.eml", "eml", None, "eml"),
        ("exported.eml", "text", None, "eml"),  # a body saved without headers is still a message
        ("exported.msg", "html", None, "msg"),
        ("page.html", "html", None, "html"),
        ("notes.txt", "text", None, "text"),
        ("named.eml", "pdf", None, "pdf"),  # a PDF named .eml is a PDF: only plain text defers to the name
        ("message", None, "message/rfc822", "eml"),
        ("report.docx", None, None, "docx"),
        ("noextension", None, None, None),
    ],
)
def test_file_type_of(name: str, file_type: str | None, mime_type: str | None, expected: str | None) -> None:
    assert file_type_of(record(name, file_type, mime_type)) == expected


@pytest.mark.parametrize(("file_type", "expected"), [("eml", True), ("msg", True), ("pdf", False), (None, False)])
def test_is_email(file_type: str | None, expected: bool) -> None:
    assert is_email(file_type) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Subject: Hi\nFrom: a@example.org\nTo: b@example.org\nDate: 2024-01-01\n\nBody here", "\nBody here"),
        ("Subject: only headers\nFrom: a@example.org", ""),
        ("Body first\nSubject: not a header block", "Body first\nSubject: not a header block"),
        ("Dear Sam,\nFrom: the team", "Dear Sam,\nFrom: the team"),
        ("", ""),
    ],
)
def test_without_mail_headers(text: str, expected: str) -> None:
    assert without_mail_headers(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Procès-verbal de la séance", "Proces-verbal de la seance"), ("plain ascii", "plain ascii"),
     ("Zürich – Straße", "Zurich – Straße"), ("naïve café", "naive cafe")],
)  # fmt: skip
def test_fold_accents(text: str, expected: str) -> None:
    assert fold_accents(text) == expected


VOCABULARY = frozenset({"please", "find", "attached", "invoice", "meeting"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please find attached the invoice", (4, 5)),  # "the" is known to no one here: 5 words, 4 known
        ("ÃÂ£ÃÂ²ÃÂ°ÃÂ¶", (0, 0)),  # mojibake has no three-letter words
        ("Réunion du comité: ordre du jour", (0, 4)),
        ("", (0, 0)),
        ("MEETING meeting Meeting", (3, 3)),
    ],
)
def test_readable_words(text: str, expected: tuple[int, int]) -> None:
    assert readable_words(text, VOCABULARY) == expected
