"""DOCX, XLSX and PPTX extraction, OOXML safety checks, and the encrypted-Office helper.

Every document is generated here with python-docx, openpyxl and python-pptx from invented text.
The builders are also used by test_legacy.py and test_opendocument.py (converted with LibreOffice).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import docx
import msoffcrypto
import openpyxl
import pptx
import pytest
from pptx.util import Inches, Pt

from docintel.errors import ArchiveBomb, CorruptDocument, EncryptedDocument
from docintel.extract import office
from docintel.extract.base import ExtractContext
from docintel.extract.office import DocxExtractor, PptxExtractor, XlsxExtractor, is_encrypted_office
from docintel.settings import LimitSettings

CONTEXT = ExtractContext(name="sample")


def make_docx() -> bytes:
    """A Word document with a heading, paragraphs, a table, a comment, and a header and footer."""
    document = docx.Document()
    document.core_properties.title = "Care Plan Review"
    document.core_properties.author = "Officer Example"
    document.add_heading("Care Plan Review", level=1)
    document.add_paragraph("The review meeting took place at County Hall.")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["Name", "Ward", "Review date"], ["Alex Sample", "North Ward", "1 March 2024"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    remark = document.add_paragraph("Actions agreed by the panel.")
    document.add_comment(remark.runs, text="Check the action owner", author="Reviewer", initials="R")
    section = document.sections[0]
    section.header.paragraphs[0].text = "OFFICIAL - SENSITIVE"
    section.footer.paragraphs[0].text = "Exampleshire County Council"
    document.add_section()  # its header is linked to the first: must appear once
    document.add_paragraph("Second section closing paragraph.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    """A workbook with two sheets: typed values, an empty row, and a sparse wide row."""
    workbook = openpyxl.Workbook()
    payments = workbook.active
    payments.title = "Payments"
    payments.append(["Supplier", "Amount", "Paid on", "Approved"])
    payments.append(["Acme Highways Ltd", 1250.0, dt.datetime(2024, 4, 5), True])
    payments.append([])
    payments.append(["Borough Print Co", 99.5, dt.datetime(2024, 4, 6, 14, 30), False])
    contacts = workbook.create_sheet("Contacts")
    contacts["A1"] = "Team"
    contacts["D1"] = "Extension"
    contacts["A2"] = "Highways"
    contacts["D2"] = 4021
    workbook.properties.title = "Supplier payments"
    workbook.properties.creator = "Finance Team"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_pptx() -> bytes:
    """A deck: a title slide with notes, and a slide with a table and a group of text boxes."""
    deck = pptx.Presentation()
    deck.core_properties.title = "Budget Briefing"
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Budget Briefing 2024"
    first.placeholders[1].text = "Savings proposals for consultation"
    first.notes_slide.notes_text_frame.text = "Speaker notes: mention the consultation deadline."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Spending by service"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, row in enumerate([["Service", "Spend"], ["Libraries", "2.1m"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    group = second.shapes.add_group_shape()
    for index, label in enumerate(["Grouped box one", "Grouped box two"]):
        box = group.shapes.add_textbox(Inches(1 + 3 * index), Inches(4), Inches(2), Inches(1))
        box.text_frame.text = label
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def encrypt_ooxml(content: bytes, password: str = "Passw0rd") -> bytes:
    """Password-protect an OOXML package with msoffcrypto-tool (agile encryption, as Office 2010+ does)."""
    out = io.BytesIO()
    msoffcrypto.OfficeFile(io.BytesIO(content)).encrypt(password, out)
    return out.getvalue()


def with_member(content: bytes, name: str, data: bytes) -> bytes:
    """A copy of a ZIP package with one more (deflated) member."""
    buffer = io.BytesIO(content)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    return {"docx": make_docx(), "xlsx": make_xlsx(), "pptx": make_pptx()}


@pytest.fixture(scope="module")
def encrypted_docx(samples: dict[str, bytes]) -> bytes:
    return encrypt_ooxml(samples["docx"])


def test_docx_reads_body_in_order_with_table_header_footer_and_comment(samples: dict[str, bytes]) -> None:
    extraction = DocxExtractor().extract(samples["docx"], CONTEXT)
    assert len(extraction.pages) == 1
    text = extraction.pages[0].text
    expected_order = [
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
    positions = [text.index(fragment) for fragment in expected_order]
    assert positions == sorted(positions)
    assert text.count("OFFICIAL - SENSITIVE") == 1  # linked header of section 2 not repeated
    assert extraction.title == "Care Plan Review"
    assert extraction.metadata["author"] == "Officer Example"
    assert extraction.component == "docx"


def test_xlsx_gives_one_page_per_sheet_with_rows_as_lines(samples: dict[str, bytes]) -> None:
    extraction = XlsxExtractor().extract(samples["xlsx"], CONTEXT)
    assert [page.text.splitlines() for page in extraction.pages] == [
        [
            "Payments",
            "Supplier | Amount | Paid on | Approved",
            "Acme Highways Ltd | 1250 | 2024-04-05 | TRUE",
            "Borough Print Co | 99.5 | 2024-04-06 14:30:00 | FALSE",
        ],
        ["Contacts", "Team |  |  | Extension", "Highways |  |  | 4021"],
    ]
    assert extraction.title == "Supplier payments"
    assert extraction.metadata["author"] == "Finance Team"
    assert extraction.notes == []


def test_xlsx_row_cap_truncates_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = openpyxl.Workbook()
    for index in range(50):
        workbook.active.append([f"row {index}", index])
    buffer = io.BytesIO()
    workbook.save(buffer)
    monkeypatch.setattr(office, "MAX_SHEET_ROWS", 10)
    extraction = XlsxExtractor().extract(buffer.getvalue(), CONTEXT)
    lines = extraction.pages[0].text.splitlines()
    assert lines[1:] == [f"row {index} | {index}" for index in range(10)]
    assert extraction.notes and "truncated after 10 rows" in extraction.notes[0]


def test_pptx_gives_one_page_per_slide_with_tables_groups_and_notes(samples: dict[str, bytes]) -> None:
    extraction = PptxExtractor().extract(samples["pptx"], CONTEXT)
    assert len(extraction.pages) == 2
    first, second = (page.text for page in extraction.pages)
    assert first.splitlines()[0] == "Budget Briefing 2024"
    assert "Savings proposals for consultation" in first
    assert first.rstrip().endswith("Speaker notes: mention the consultation deadline.")
    assert second.splitlines()[0] == "Spending by service"
    for line in ("Service | Spend", "Libraries | 2.1m", "Grouped box one", "Grouped box two"):
        assert line in second.splitlines()
    assert extraction.title == "Budget Briefing"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["a", "b"], "a | b"),
        (["a", "", "c", "", ""], "a |  | c"),
        (["", "", ""], ""),
        (["  two\n lines ", "x"], "two lines | x"),
    ],
)
def test_join_row(cells: list[str], expected: str) -> None:
    assert office.join_row(cells) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "TRUE"),
        (3.0, "3"),
        (2.5, "2.5"),
        (dt.datetime(2024, 1, 2), "2024-01-02"),
        (dt.datetime(2024, 1, 2, 9, 5), "2024-01-02 09:05:00"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        ("a\tb", "a b"),
    ],
)
def test_cell_text(value: object, expected: str) -> None:
    assert office.cell_text(value) == expected


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_encrypted_ooxml_is_detected_and_refused(kind: str, samples: dict[str, bytes]) -> None:
    encrypted = encrypt_ooxml(samples[kind])
    assert is_encrypted_office(encrypted)
    extractor = {"docx": DocxExtractor, "xlsx": XlsxExtractor, "pptx": PptxExtractor}[kind]()
    with pytest.raises(EncryptedDocument):
        extractor.extract(encrypted, CONTEXT)


@pytest.mark.parametrize(
    ("name", "encrypted"),
    [("plain docx", False), ("garbage", False), ("empty", False), ("ole magic only", False), ("encrypted", True)],
)
def test_is_encrypted_office(name: str, encrypted: bool, samples: dict[str, bytes], encrypted_docx: bytes) -> None:
    content = {
        "plain docx": samples["docx"],
        "garbage": b"not an office file at all" * 10,
        "empty": b"",
        "ole magic only": office.OLE_MAGIC + b"\0" * 100,
        "encrypted": encrypted_docx,
    }[name]
    assert is_encrypted_office(content) is encrypted


def _truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


def _zip_without_word_parts(_: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    return buffer.getvalue()


def _broken_document_xml(content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            archive.writestr(item, b"<w:document><unclosed>" if item.filename == "word/document.xml" else data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (_truncated, "not a valid ZIP"),
        (lambda _: b"\x00garbage bytes, not a zip" * 40, "not a valid ZIP"),
        (_zip_without_word_parts, "python-docx could not read"),
        (_broken_document_xml, "python-docx could not read"),
        (lambda _: office.OLE_MAGIC + b"\0" * 600, "OLE"),
    ],
    ids=["truncated", "garbage", "zip-not-docx", "bad-xml", "ole-not-encrypted"],
)
def test_bad_docx_is_corrupt(mangle: object, message: str, samples: dict[str, bytes]) -> None:
    content = mangle(samples["docx"])  # type: ignore[operator]
    with pytest.raises(CorruptDocument, match=message):
        DocxExtractor().extract(content, CONTEXT)


@pytest.mark.parametrize("extractor", [XlsxExtractor(), PptxExtractor()], ids=["xlsx", "pptx"])
def test_truncated_xlsx_and_pptx_are_corrupt(extractor: object, samples: dict[str, bytes]) -> None:
    kind = extractor.name  # type: ignore[attr-defined]
    with pytest.raises(CorruptDocument):
        extractor.extract(_truncated(samples[kind]), CONTEXT)  # type: ignore[attr-defined]


def test_zip_bomb_docx_is_refused(samples: dict[str, bytes]) -> None:
    bomb = with_member(samples["docx"], "word/media/zeros.bin", b"\0" * (50 * 1024 * 1024))
    assert len(bomb) < len(samples["docx"]) + 200_000  # 50 MB squeezed into ~50 KB
    with pytest.raises(ArchiveBomb, match="compressed"):
        DocxExtractor().extract(bomb, CONTEXT)


def test_package_over_the_expanded_size_limit_is_refused(samples: dict[str, bytes]) -> None:
    small_limit = ExtractContext(limits=LimitSettings(max_archive_expanded_bytes=10_000))
    with pytest.raises(ArchiveBomb, match="expands past 10000 bytes"):
        XlsxExtractor().extract(samples["xlsx"], small_limit)


def test_small_highly_compressible_member_is_not_a_bomb(samples: dict[str, bytes]) -> None:
    # 500 KB of one repeated XML line compresses ~1000:1 but is too small to harm anyone.
    padded = with_member(samples["docx"], "customXml/item9.xml", b"<a/>" * 125_000)
    assert "Care Plan Review" in DocxExtractor().extract(padded, CONTEXT).pages[0].text


def _with_main_type(content: bytes, main_type: str, with_macros: bool = True) -> bytes:
    """The package re-declared with another main content type (as Word/PowerPoint save .docm/.pptm/.dotx)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "[Content_Types].xml":
                text = data.decode("utf-8")
                for plain in (
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
                ):
                    text = text.replace(plain, main_type)
                data = text.encode("utf-8")
            copy.writestr(member, data)
        if with_macros:  # a macro project part; never run, never read
            copy.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 not a real VBA project")
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "main_type"),
    [
        ("docx", "application/vnd.ms-word.document.macroEnabled.main+xml"),
        ("docx", "application/vnd.ms-word.template.macroEnabledTemplate.main+xml"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"),
        ("pptx", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
        ("pptx", "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"),
    ],
    ids=["docm", "dotm", "dotx", "pptm", "ppsm", "potx"],
)
def test_macro_enabled_and_template_packages_are_read_like_documents(
    kind: str, main_type: str, samples: dict[str, bytes]
) -> None:
    variant = _with_main_type(samples[kind], main_type)
    if kind == "docx":
        with pytest.raises(ValueError, match="content type"):  # what python-docx does on its own
            docx.Document(io.BytesIO(variant))
    extractor = DocxExtractor() if kind == "docx" else PptxExtractor()
    expected = extractor.extract(samples[kind], CONTEXT)
    got = extractor.extract(variant, CONTEXT)
    assert [page.text for page in got.pages] == [page.text for page in expected.pages]


def test_plain_packages_are_not_copied(samples: dict[str, bytes]) -> None:
    assert office.as_plain_package(samples["docx"]) is samples["docx"]


def test_member_count_is_held_to_the_limit_only_where_asked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(30):
            archive.writestr(f"ppt/slides/slide{number}.xml", "<p/>")
    limits = LimitSettings(max_archive_members=20)
    office.check_zip_limits(buffer.getvalue(), limits, "PPTX")  # a long deck has many parts: not counted
    with pytest.raises(ArchiveBomb, match="EPUB: 30 members, limit 20"):
        office.check_zip_limits(buffer.getvalue(), limits, "EPUB", count_members=True)
