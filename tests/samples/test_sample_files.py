"""The demo's sample documents: each file exists, sniffs as its type, reads as intended, and is reproducible."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import logging
import os
import re
import shutil
import subprocess
import zipfile
from email.message import EmailMessage
from pathlib import Path
from xml.etree import ElementTree

import charset_normalizer
import docx
import extract_msg
import magic
import olefile
import openpyxl
import pdfplumber
import pptx
import pypdfium2
import pytest
from bs4 import BeautifulSoup

from docintel import synthetic
from docintel.samples import SAMPLE_FILES, SAMPLE_PDF_PASSWORD, generate_samples, office

HAS_SOFFICE = shutil.which("soffice") is not None
HAS_TESSERACT = shutil.which("tesseract") is not None
MAX_SAMPLE_BYTES = 300 * 1024
NINO_PATTERN = re.compile(r"\b([A-Z]{2}) \d{2} \d{2} \d{2} [A-D]\b")
NHS_PATTERN = re.compile(r"\b(\d{3}) (\d{3}) (\d{4})\b")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("samples")
    return {path.name: path for path in generate_samples(out_dir)}


def _pdf_text(data: bytes, password: str | None = None) -> str:
    document = pypdfium2.PdfDocument(data, password=password)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _ocr(image_path: Path) -> str:
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    completed = subprocess.run(
        ["tesseract", str(image_path), "-"], capture_output=True, text=True, env=environment, check=True, timeout=120
    )
    return completed.stdout


def _nhs_valid(match: re.Match[str]) -> bool:
    digits = "".join(match.groups())
    return synthetic.nhs_check_digit(digits[:9]) == int(digits[9])


# --- every file is there, small, and sniffs as its real type ---------------------------------------------

EXPECTED_MIME: list[tuple[str, tuple[str, ...]]] = [
    ("invoice.pdf", ("application/pdf",)),
    ("planning-decision-scan.pdf", ("application/pdf",)),
    ("accident-report.png", ("image/png",)),
    ("committee-minutes.docx", ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)),
    ("child-protection-case-note.doc", ("application/msword",)),
    ("budget-2025-26.xlsx", ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)),
    ("project-board.pptx", ("application/vnd.openxmlformats-officedocument.presentationml.presentation",)),
    ("corporate-policy.odt", ("application/vnd.oasis.opendocument.text",)),
    ("foi-request.eml", ("message/rfc822",)),
    ("complaint.msg", ("application/vnd.ms-outlook",)),
    ("accident-report.html", ("text/html",)),
    ("recruitment-letter.txt", ("text/plain",)),
    ("payroll-summary.csv", ("text/csv", "text/plain")),  # older libmagic has no CSV rule
    ("archive.zip", ("application/zip",)),
    ("corrupt.pdf", ("application/pdf",)),
    ("password-protected.pdf", ("application/pdf",)),
    ("minutes-scan.txt", ("application/pdf",)),  # the name says text; the bytes say PDF
    ("empty.docx", ("inode/x-empty", "application/x-empty")),
]


def test_the_table_covers_every_sample() -> None:
    assert {name for name, _ in EXPECTED_MIME} == {sample.name for sample in SAMPLE_FILES}


@pytest.mark.parametrize(("name", "mimes"), EXPECTED_MIME, ids=[name for name, _ in EXPECTED_MIME])
def test_sample_exists_is_small_and_sniffs_as_its_type(
    samples: dict[str, Path], name: str, mimes: tuple[str, ...]
) -> None:
    if name.endswith(".doc") and not HAS_SOFFICE:
        pytest.skip("LibreOffice is not installed")
    path = samples[name]
    size = path.stat().st_size
    assert size == 0 if name == "empty.docx" else 0 < size < MAX_SAMPLE_BYTES
    assert magic.from_file(str(path), mime=True) in mimes


def test_generate_samples_returns_the_paths_it_wrote_in_order(samples: dict[str, Path]) -> None:
    expected = [s.name for s in SAMPLE_FILES if HAS_SOFFICE or not s.needs_libreoffice]
    assert list(samples) == expected
    assert all(path.is_file() for path in samples.values())


# --- PDFs: born-digital, scanned, broken and locked ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected_text"),
    [
        ("invoice.pdf", "TAX INVOICE"),
        ("minutes-scan.txt", "Licensing Committee"),
    ],
)
def test_good_pdfs_open_with_a_text_layer(samples: dict[str, Path], name: str, expected_text: str) -> None:
    assert expected_text in _pdf_text(samples[name].read_bytes())


@pytest.mark.parametrize(
    ("name", "error_fragment"),
    [("corrupt.pdf", "Data format error"), ("password-protected.pdf", "Incorrect password")],
)
def test_broken_pdfs_fail_to_open(samples: dict[str, Path], name: str, error_fragment: str) -> None:
    data = samples[name].read_bytes()
    assert data.startswith(b"%PDF-")
    with pytest.raises(pypdfium2.PdfiumError, match=error_fragment):
        pypdfium2.PdfDocument(data)


def test_password_protected_pdf_opens_with_its_password(samples: dict[str, Path]) -> None:
    text = _pdf_text(samples["password-protected.pdf"].read_bytes(), password=SAMPLE_PDF_PASSWORD)
    assert "Child Protection" in text
    assert any(_nhs_valid(m) for m in NHS_PATTERN.finditer(text))


def test_invoice_has_a_ruled_table_valid_vat_number_and_bank_details(samples: dict[str, Path]) -> None:
    with pdfplumber.open(samples["invoice.pdf"]) as document:
        page = document.pages[0]
        tables = page.extract_tables()
        text = page.extract_text()
    assert tables[0][0] == ["Description", "Qty", "Unit price", "Amount"]
    assert tables[0][-1][-2:] == ["Total due", "£8,791.20"]
    vat = re.search(r"GB(\d{7})(\d{2})", text)
    assert vat is not None
    check = int(vat.group(2))
    assert check in {
        synthetic.vat_check_digits(vat.group(1)),
        synthetic.vat_check_digits(vat.group(1), scheme_9755=True),
    }
    assert re.search(r"Sort code: \d{2}-\d{2}-\d{2}\. Account number: \d{8}", text)
    assert "Wessex County Council" in text


def test_scanned_pdf_is_one_image_and_no_text(samples: dict[str, Path]) -> None:
    document = pypdfium2.PdfDocument(samples["planning-decision-scan.pdf"])
    try:
        assert len(document) == 1
        page = document[0]
        assert page.get_textpage().get_text_range().strip() == ""
        objects = list(page.get_objects())
        assert [obj.type for obj in objects] == [pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)  # A4
    finally:
        document.close()


@pytest.mark.slow
@pytest.mark.needs_tesseract
@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract is not installed")
def test_scanned_pdf_reads_well_under_ocr(samples: dict[str, Path], tmp_path: Path) -> None:
    document = pypdfium2.PdfDocument(samples["planning-decision-scan.pdf"])
    image_path = tmp_path / "page.png"
    document[0].render(scale=300 / 72).to_pil().save(image_path)
    document.close()
    text = _ocr(image_path)
    for expected in ("Notice of Decision", "WX/25/01432/HOU", "28 March 2025", "Planning Inspectorate"):
        assert expected in text
    assert re.search(r"0\d{3} 496 0\d{3}", text)  # the case officer's drama-range number


@pytest.mark.needs_tesseract
@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract is not installed")
def test_accident_form_png_reads_well_under_ocr(samples: dict[str, Path]) -> None:
    text = _ocr(samples["accident-report.png"])
    assert "ACCIDENT AND INCIDENT REPORT FORM" in text
    match = NINO_PATTERN.search(text)
    assert match is not None and match.group(1) in synthetic.NINO_VALID_PREFIXES
    assert re.search(r"Date of birth: \d{2}/\d{2}/\d{4}", text)
    assert re.search(r"Mobile: 07700 \d{6}", text)


# --- office formats ----------------------------------------------------------------------------------------


def test_minutes_docx_has_headings_attendance_table_header_and_footer(samples: dict[str, Path]) -> None:
    document = docx.Document(str(samples["committee-minutes.docx"]))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings[0].startswith("Cabinet: Minutes")
    assert "Attendance" in headings
    table = document.tables[0]
    assert [cell.text for cell in table.rows[0].cells] == ["Name", "Role", "Present"]
    assert len(table.rows) == 6
    section = document.sections[0]
    assert "Wessex County Council" in section.header.paragraphs[0].text
    assert "Page" in section.footer.paragraphs[0].text
    assert 'w:instrText xml:space="preserve">PAGE<' in section.footer.paragraphs[0]._p.xml


@pytest.mark.needs_libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_case_note_doc_is_a_word_97_file_with_the_case_note(samples: dict[str, Path]) -> None:
    data = samples["child-protection-case-note.doc"].read_bytes()
    ole = olefile.OleFileIO(data)
    assert ole.exists("WordDocument")
    # Word 97 keeps text in the WordDocument stream; LibreOffice writes it as UTF-16 pieces for non-ASCII runs
    # and cp1252 otherwise, so look for a phrase in either encoding.
    word = ole.openstream("WordDocument").read()
    phrase = "Unannounced visit"
    assert phrase.encode("cp1252") in word or phrase.encode("utf-16-le") in word


def test_budget_xlsx_has_two_sheets_of_consistent_figures(samples: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(samples["budget-2025-26.xlsx"], data_only=True)
    assert book.sheetnames == ["Summary", "Savings"]
    rows = list(book["Summary"].iter_rows(min_row=4, values_only=True))
    services = [row for row in rows if row[0] and isinstance(row[1], int)]
    *lines, total = services
    assert total[0] == "Net revenue budget"
    assert sum(row[2] for row in lines) == total[2]
    assert all(row[3] == row[2] - row[1] for row in services)
    savings = list(book["Savings"].iter_rows(min_row=2, values_only=True))
    assert savings[-1][2] == sum(row[2] for row in savings[:-1])


def test_project_board_pptx_has_a_table_and_speaker_notes(samples: dict[str, Path]) -> None:
    deck = pptx.Presentation(str(samples["project-board.pptx"]))
    slides = list(deck.slides)
    assert len(slides) == 3
    tables = [shape.table for slide in slides for shape in slide.shapes if shape.has_table]
    assert tables and tables[0].cell(0, 0).text == "Milestone"
    notes = [slide.notes_slide.notes_text_frame.text for slide in slides if slide.has_notes_slide]
    assert len(notes) == 3
    assert any("@wessex.example.gov.uk" in note for note in notes)


def test_policy_odt_is_valid_opendocument(samples: dict[str, Path]) -> None:
    with zipfile.ZipFile(samples["corporate-policy.odt"]) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        content = ElementTree.fromstring(archive.read("content.xml"))
        ElementTree.fromstring(archive.read("META-INF/manifest.xml"))
    text_ns = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
    headings = [element.text for element in content.iter(f"{text_ns}h")]
    assert headings[0] == "Records Retention and Disposal Policy"
    body = " ".join(element.text or "" for element in content.iter(f"{text_ns}p"))
    assert "Data Protection Act 2018" in body


@pytest.mark.slow
@pytest.mark.needs_libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_hand_written_odt(samples: dict[str, Path], tmp_path: Path) -> None:
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "txt:Text",
         "--outdir", str(tmp_path), str(samples["corporate-policy.odt"])],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    text = (tmp_path / "corporate-policy.txt").read_text(encoding="utf-8-sig")
    assert "Records Retention and Disposal Policy" in text
    assert "3. Responsibilities" in text


# --- mail, web and text ------------------------------------------------------------------------------------


def test_foi_email_has_text_and_html_alternatives_and_a_pdf_attachment(samples: dict[str, Path]) -> None:
    message = email.message_from_bytes(samples["foi-request.eml"].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"].startswith("Your Freedom of Information request FOI-2025-1187")
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and "Freedom of Information Act 2000" in plain.get_content()
    assert html is not None and "<blockquote>" in html.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["FOI-2025-1187-response.pdf"]
    pdf_bytes = attachments[0].get_content()
    assert "Claims received" in _pdf_text(pdf_bytes)


def test_complaint_msg_reads_back_with_its_attachment(samples: dict[str, Path]) -> None:
    message = extract_msg.openMsg(str(samples["complaint.msg"]))
    assert isinstance(message, extract_msg.Message)
    try:
        assert message.subject == "Formal complaint - missed assisted bin collections"
        assert message.body is not None and "formal complaint" in message.body
        assert message.sender is not None and "@example." in message.sender
        [attachment] = message.attachments
        assert attachment.longFilename == "missed-collections.csv"
        assert isinstance(attachment.data, bytes) and attachment.data.startswith(b"date,bin,reference")
    finally:
        message.close()


def test_html_page_has_script_and_style_to_drop_and_a_table(samples: dict[str, Path]) -> None:
    soup = BeautifulSoup(samples["accident-report.html"].read_bytes(), "lxml")
    assert soup.find("script") is not None and soup.find("style") is not None
    for element in soup(["script", "style"]):
        element.decompose()
    text = soup.get_text(" ")
    assert "MUST NOT BE EXTRACTED" not in text
    assert "Tripped on a lifted paving slab" in text
    assert [th.get_text() for th in soup.find_all("th")] == ["Field", "Value"]


def test_recruitment_letter_is_cp1252_not_utf8(samples: dict[str, Path]) -> None:
    data = samples["recruitment-letter.txt"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\xa3" in data and b"\x96" in data and b"\r\n" in data  # £, en dash, Windows line ends
    best = charset_normalizer.from_bytes(data).best()
    assert best is not None
    assert "£38,220 – £41,771" in " ".join(str(best).split())


def test_payroll_csv_has_valid_ninos_and_figures_that_add_up(samples: dict[str, Path]) -> None:
    rows = list(csv.DictReader(io.StringIO(samples["payroll-summary.csv"].read_text(encoding="utf-8"))))
    assert len(rows) == 12
    for row in rows:
        match = NINO_PATTERN.fullmatch(row["ni_number"])
        assert match is not None and match.group(1) in synthetic.NINO_VALID_PREFIXES
        deductions = float(row["tax"]) + float(row["employee_ni"]) + float(row["pension"])
        assert float(row["net_pay"]) == pytest.approx(float(row["gross_pay"]) - deductions, abs=0.011)
        assert re.fullmatch(r"\d{2}-\d{2}-\d{2}", row["sort_code"])


def test_archive_zip_nests_a_contract_docx_and_a_tender_text(samples: dict[str, Path]) -> None:
    with zipfile.ZipFile(samples["archive.zip"]) as archive:
        names = archive.namelist()
        contract = archive.read("procurement/WX-PROC-2024-017/call-off-contract.docx")
        tender = archive.read("procurement/WX-PROC-2024-017/evaluation/tender-evaluation.txt")
    assert "procurement/WX-PROC-2024-017/evaluation/" in names
    assert "Budmouth Catering Ltd" in tender.decode("utf-8")
    contract_text = "\n".join(p.text for p in docx.Document(io.BytesIO(contract)).paragraphs)
    assert "£3,960,000" in contract_text


# --- personal data planted where the document type would hold it -------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("committee-minutes.docx", r"@wessex\.example\.gov\.uk"),
        ("accident-report.html", r"\b[A-Z]{1,2}\d{1,2} \d[A-Z]{2}\b"),  # postcode
        ("payroll-summary.csv", NINO_PATTERN.pattern),
        ("recruitment-letter.txt", r"0\d{3} 496 0\d{3}"),
    ],
)
def test_documents_carry_fake_personal_data(samples: dict[str, Path], name: str, pattern: str) -> None:
    path = samples[name]
    if name.endswith(".docx"):
        document = docx.Document(str(path))
        text = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
        text += "\n".join(p.text for p in document.paragraphs)
    else:
        text = path.read_bytes().decode("cp1252" if name.endswith(".txt") else "utf-8")
    assert re.search(pattern, text)


# --- reproducibility and the missing-LibreOffice path ------------------------------------------------------


@pytest.mark.parametrize("sample", [s for s in SAMPLE_FILES if not s.needs_libreoffice], ids=lambda s: s.name)
def test_samples_are_byte_for_byte_reproducible(samples: dict[str, Path], sample: object) -> None:
    assert hasattr(sample, "build") and hasattr(sample, "name")
    assert sample.build() == samples[sample.name].read_bytes()


def test_conversion_without_libreoffice_returns_none_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH with no soffice on it
    with caplog.at_level(logging.WARNING, logger="docintel.samples"):
        assert office.convert_with_libreoffice(b"PK", ".docx", "doc", timeout=10) is None
    assert any("soffice" in record.getMessage() for record in caplog.records)


@pytest.mark.needs_libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
@pytest.mark.parametrize(
    ("target", "timeout"),
    [("no-such-filter", 120.0), ("doc", 0.05)],
    ids=["unknown target format", "timeout"],
)
def test_failed_conversions_return_none_and_warn(target: str, timeout: float, caplog: pytest.LogCaptureFixture) -> None:
    # The successful conversion is exercised by the module fixture (child-protection-case-note.doc).
    with caplog.at_level(logging.WARNING, logger="docintel.samples"):
        assert office.convert_with_libreoffice(b"Plain words.", ".txt", target, timeout=timeout) is None
    assert any("LibreOffice conversion" in record.getMessage() for record in caplog.records)


@pytest.mark.slow
def test_without_libreoffice_the_doc_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # a real PATH with no soffice on it
    with caplog.at_level(logging.WARNING, logger="docintel.samples"):
        written = generate_samples(tmp_path / "out")
    names = [path.name for path in written]
    assert "child-protection-case-note.doc" not in names
    assert len(names) == len(SAMPLE_FILES) - 1
    assert any("soffice" in record.getMessage() for record in caplog.records)
    assert any("child-protection-case-note.doc" in record.getMessage() for record in caplog.records)
