"""DOC, XLS, PPT and RTF through LibreOffice headless.

The legacy files are made by converting the generated DOCX/XLSX/PPTX (see test_office.py) with
LibreOffice itself; an RTF is also written by hand. Checks of the bytes (garbage, encryption) run
without LibreOffice.
"""

from __future__ import annotations

import time
from pathlib import Path

import olefile
import pytest

from docintel.errors import ConfigError, CorruptDocument, EncryptedDocument, ExtractionTimeout, UnsupportedType
from docintel.extract.base import ExtractContext, FileType
from docintel.extract.legacy import (
    DOC,
    RTF,
    LegacyOfficeExtractor,
    LibreOfficeConverter,
    check_legacy_bytes,
    find_soffice,
)
from docintel.settings import LimitSettings
from tests.extract.test_office import encrypt_ooxml, make_docx, make_pptx, make_xlsx

CONTEXT = ExtractContext(name="sample")

needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) is not installed")

HAND_WRITTEN_RTF = (
    rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Times New Roman;}}"
    rb"{\info{\title Tenancy Notice}{\author Housing Team}}"
    rb"\pard\b Notice of Rent Increase\b0\par"
    rb"\pard Rent for 12 Example Road rises to \'a3105.00 a week.\par"
    rb"\trowd\cellx3000\cellx6000 Week\cell Amount\cell\row"
    rb"\trowd\cellx3000\cellx6000 1 April\cell 105.00\cell\row"
    rb"\pard Housing Services\par}"
)


@pytest.fixture(scope="session")
def legacy_files() -> dict[str, bytes]:
    """DOC, RTF, XLS and PPT written by LibreOffice from the generated OOXML samples."""
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    converter = LibreOfficeConverter()
    docx = make_docx()
    return {
        "doc": converter.convert(docx, "docx", "doc", timeout=120),
        "rtf": converter.convert(docx, "docx", "rtf", timeout=120),
        "xls": converter.convert(make_xlsx(), "xlsx", "xls", timeout=120),
        "ppt": converter.convert(make_pptx(), "pptx", "ppt", timeout=120),
    }


WORD_LINES = [
    "OFFICIAL - SENSITIVE",
    "Care Plan Review",
    "The review meeting took place at County Hall.",
    "Name | Ward | Review date",
    "Alex Sample | North Ward | 1 March 2024",
    "Actions agreed by the panel.",
    "Second section closing paragraph.",
    "Check the action owner",
    "Exampleshire County Council",
]


@pytest.mark.needs_libreoffice
@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "pages", "title"),
    [
        ("doc", [WORD_LINES], "Care Plan Review"),
        ("rtf", [WORD_LINES], "Care Plan Review"),
        (
            "xls",
            [
                [
                    "Payments",
                    "Supplier | Amount | Paid on | Approved",
                    "Acme Highways Ltd | 1250 | 2024-04-05 | TRUE",
                    "Borough Print Co | 99.5 | 2024-04-06 14:30:00 | FALSE",
                ],
                ["Contacts", "Team |  |  | Extension", "Highways |  |  | 4021"],
            ],
            "Supplier payments",
        ),
        (
            "ppt",
            [
                ["Budget Briefing 2024", "Savings proposals for consultation", "", "Speaker notes:"],
                ["Spending by service", "Service | Spend", "Libraries | 2.1m", "Grouped box one", "Grouped box two"],
            ],
            "Budget Briefing",
        ),
    ],
)
def test_legacy_formats_give_the_same_text_as_their_ooxml_source(
    kind: str, pages: list[list[str]], title: str, legacy_files: dict[str, bytes]
) -> None:
    started = time.monotonic()
    extraction = LegacyOfficeExtractor(FileType(kind)).extract(legacy_files[kind], CONTEXT)
    seconds = time.monotonic() - started
    assert len(extraction.pages) == len(pages)
    for page, lines in zip(extraction.pages, pages, strict=True):
        text = page.text
        positions = [text.index(line) for line in lines if line]
        assert positions == sorted(positions)
    assert extraction.title == title
    assert extraction.component == kind
    assert seconds < 60  # one LibreOffice start; typically 1-3 s here


@pytest.mark.needs_libreoffice
@needs_soffice
def test_hand_written_rtf() -> None:
    extraction = LegacyOfficeExtractor(FileType.RTF).extract(HAND_WRITTEN_RTF, CONTEXT)
    assert extraction.pages[0].text.splitlines() == [
        "Notice of Rent Increase",
        "Rent for 12 Example Road rises to £105.00 a week.",
        "Week | Amount",
        "1 April | 105.00",
        "Housing Services",
    ]
    assert extraction.title == "Tenancy Notice"


@pytest.mark.needs_libreoffice
@pytest.mark.slow
def test_ole_file_libreoffice_cannot_load_is_corrupt(legacy_files: dict[str, bytes], tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.doc"
    damaged.write_bytes(legacy_files["doc"])
    with olefile.OleFileIO(str(damaged), write_mode=True) as ole:
        size = len(ole.openstream("WordDocument").read())
        ole.write_stream("WordDocument", b"\0" * size)
    with pytest.raises(CorruptDocument, match="LibreOffice produced no docx output"):
        LegacyOfficeExtractor(FileType.DOC).extract(damaged.read_bytes(), CONTEXT)


@pytest.mark.needs_libreoffice
@needs_soffice
def test_conversion_over_budget_times_out_and_the_next_one_works() -> None:
    converter = LibreOfficeConverter()
    extractor = LegacyOfficeExtractor(FileType.RTF, converter)
    hurried = ExtractContext(limits=LimitSettings(convert_timeout_seconds=0.05))
    with pytest.raises(ExtractionTimeout, match=r"overran 0\.05 s"):
        extractor.extract(HAND_WRITTEN_RTF, hurried)
    assert "Housing Services" in extractor.extract(HAND_WRITTEN_RTF, CONTEXT).pages[0].text


@pytest.mark.parametrize(
    ("kind", "content", "error", "message"),
    [
        ("doc", b"garbage bytes, not a Word file" * 20, CorruptDocument, "not an OLE"),
        ("xls", b"", CorruptDocument, "not an OLE"),
        ("ppt", b"%PDF-1.7 not a presentation", CorruptDocument, "not an OLE"),
        ("rtf", b"plain text pretending to be RTF", CorruptDocument, "rtf"),
        ("doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, CorruptDocument, "unreadable OLE"),
    ],
    ids=["doc-garbage", "xls-empty", "ppt-pdf", "rtf-text", "doc-broken-ole"],
)
def test_bad_legacy_bytes_are_refused_before_conversion(
    kind: str, content: bytes, error: type[Exception], message: str
) -> None:
    # These checks run before LibreOffice, which would otherwise import garbage as plain text.
    with pytest.raises(error, match=message):
        LegacyOfficeExtractor(FileType(kind)).extract(content, CONTEXT)


def test_encrypted_office_file_sniffed_as_doc_is_encrypted() -> None:
    encrypted = encrypt_ooxml(make_docx())
    with pytest.raises(EncryptedDocument):
        check_legacy_bytes(encrypted, DOC)


@pytest.mark.needs_libreoffice
@pytest.mark.slow
def test_ole_without_the_expected_stream_is_corrupt(legacy_files: dict[str, bytes]) -> None:
    # A real XLS handed over as DOC: OLE, but no WordDocument stream.
    with pytest.raises(CorruptDocument, match="without a WordDocument stream"):
        check_legacy_bytes(legacy_files["xls"], DOC)


def test_rtf_check_accepts_bom_and_leading_whitespace() -> None:
    check_legacy_bytes(b"\xef\xbb\xbf\r\n" + HAND_WRITTEN_RTF, RTF)
    with pytest.raises(CorruptDocument):
        check_legacy_bytes(b"{\\pict not rtf}", RTF)


def test_missing_soffice_names_the_packages_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UnsupportedType, match="apt-get install libreoffice-writer-nogui"):
        LegacyOfficeExtractor(FileType.RTF, LibreOfficeConverter()).extract(HAND_WRITTEN_RTF, CONTEXT)


def test_unknown_legacy_type_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: doc, ppt, rtf, xls"):
        LegacyOfficeExtractor(FileType.PDF)
