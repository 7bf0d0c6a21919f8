"""Every documented failure mode, fed into one scan beside good documents (see DEVELOPERS.md)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from docintel.catalogue.store import open_catalogue
from docintel.pipeline import Engines, scan_source
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource

REPO = Path(__file__).resolve().parent.parent
GOOD_TEXT = "Wessex County Council\nInvoice number INV-2041 for grounds maintenance. Amount due: £1,250.00.\n"


def make_pdf(text: str, *, password: str | None = None) -> bytes:
    """A one-page born-digital PDF."""
    buffer = io.BytesIO()
    encrypt = StandardEncryption(password, canPrint=0) if password else None
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt=encrypt)
    y = 800
    for line in text.splitlines():
        pdf.drawString(72, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims a huge image (900 Mpx): a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def make_zip_bomb() -> bytes:
    """A ZIP holding one member that expands 1000-fold (zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\x00" * (20 * 1024 * 1024))
    return buffer.getvalue()


def make_drm_epub() -> bytes:
    """An EPUB whose only chapter META-INF/encryption.xml lists as encrypted (a DRM-protected e-book)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        archive.writestr(
            "book.opf",
            '<package xmlns="http://www.idpf.org/2007/opf"><manifest>'
            '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        archive.writestr("c1.xhtml", bytes(range(256)))  # ciphertext
        archive.writestr(
            "META-INF/encryption.xml",
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
            '<enc:CipherReference URI="c1.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>',
        )
    return buffer.getvalue()


BAD_INPUTS = {
    # name: (bytes or builder, expected error type)
    "empty.docx": (b"", "EmptyDocument"),
    "truncated.pdf": (make_pdf(GOOD_TEXT)[:600], "CorruptDocument"),
    "garbage.docx": (b"PK\x03\x04" + bytes(range(256)) * 8, "CorruptDocument"),
    "locked.pdf": (make_pdf(GOOD_TEXT, password="s3cret"), "EncryptedDocument"),
    "bomb.png": (make_png_bomb(), "TooLarge"),
    "bomb.zip": (make_zip_bomb(), "ArchiveBomb"),
    "drm.epub": (make_drm_epub(), "EncryptedDocument"),
    "huge.txt": (b"Lorem ipsum dolor sit amet. " * 4000, "TooLarge"),
    "program.bin": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "UnsupportedType"),
}


@pytest.fixture(scope="module")
def engines() -> Engines:
    settings = load_settings(REPO / "config", environ={"DOCINTEL_LIMITS__MAX_FILE_BYTES": "100000"})
    return Engines(settings=settings, pii_key=b"k" * 32)


@pytest.fixture()
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    (folder / "Finance").mkdir(parents=True)
    (folder / "Finance" / "invoice.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / "Finance" / "invoice.pdf").write_bytes(make_pdf(GOOD_TEXT))
    # Wrongly named: a PDF called .txt must be read as the PDF it is.
    (folder / "Finance" / "minutes-scan.txt").write_bytes(make_pdf("Minutes of the Cabinet meeting\n" + GOOD_TEXT))
    for name, (content, _) in BAD_INPUTS.items():
        (folder / name).write_bytes(content)
    return folder


def test_each_bad_input_is_recorded_with_its_reason_and_the_rest_is_processed(
    bad_folder: Path, tmp_path: Path, engines: Engines
) -> None:
    store = open_catalogue(f"sqlite:///{tmp_path / 'cat.db'}")
    summary = scan_source(LocalFolderSource([bad_folder]), store, engines)

    rows = {row["name"]: row for row in store.iter_documents()}
    for name, (_, expected_error) in BAD_INPUTS.items():
        assert rows[name]["status"] == "failed", name
        assert rows[name]["error_type"] == expected_error, (name, rows[name]["error_message"])
        assert rows[name]["error_message"], name
    for good in ("invoice.txt", "invoice.pdf", "minutes-scan.txt"):
        assert rows[good]["status"] == "ok", (good, rows[good]["error_message"])
        assert rows[good]["record_class"], good
    assert rows["minutes-scan.txt"]["file_type"] == "pdf"
    assert summary.failed == len(BAD_INPUTS)
    assert summary.discovered == len(BAD_INPUTS) + 3


def test_rescan_skips_unchanged_content_and_redoes_changed(bad_folder: Path, tmp_path: Path, engines: Engines) -> None:
    store = open_catalogue(f"sqlite:///{tmp_path / 'cat.db'}")
    source = LocalFolderSource([bad_folder / "Finance"])
    first = scan_source(source, store, engines)
    assert first.processed == 3

    (bad_folder / "Finance" / "invoice.txt").write_text(GOOD_TEXT + "Paid in full.\n", encoding="utf-8")
    second = scan_source(LocalFolderSource([bad_folder / "Finance"]), store, engines)
    assert second.skipped == 2
    assert second.processed == 1
    rows = [row for row in store.iter_documents() if row["name"] == "invoice.txt"]
    assert len(rows) == 1


def make_scanned_pdf(text: str) -> bytes:
    """A one-page image-only PDF: the text is drawn into a bitmap, so only OCR can read it."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (1240, 1754), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    ImageDraw.Draw(image).multiline_text((100, 120), text, fill=0, font=font, spacing=12)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.mark.needs_tesseract
def test_document_over_its_time_budget_is_recorded_as_timeout(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(make_scanned_pdf("Planning decision notice\n" * 20))
    (folder / "note.txt").write_text(GOOD_TEXT, encoding="utf-8")
    settings = load_settings(
        REPO / "config", environ={"DOCINTEL_LIMITS__DOCUMENT_TIMEOUT_SECONDS": "0.05", "DOCINTEL_PII__ENABLED": "false"}
    )
    store = open_catalogue(f"sqlite:///{tmp_path / 'cat.db'}")
    summary = scan_source(LocalFolderSource([folder]), store, Engines(settings=settings, pii_key=b"k" * 32))

    rows = {row["name"]: row for row in store.iter_documents()}
    assert rows["scan.pdf"]["error_type"] == "ExtractionTimeout"
    assert "0.05 s" in rows["scan.pdf"]["error_message"]
    assert rows["note.txt"]["status"] == "ok"
    assert summary.failures == {"ExtractionTimeout": 1}


def test_rescan_keeps_a_reviewers_class(bad_folder: Path, tmp_path: Path, engines: Engines) -> None:
    from docintel.review.auth import Reviewer, Role
    from docintel.review.store import Action, ReviewStore

    store = open_catalogue(f"sqlite:///{tmp_path / 'cat.db'}")
    scan_source(LocalFolderSource([bad_folder / "Finance"]), store, engines)
    invoice = next(row for row in store.iter_documents() if row["name"] == "invoice.txt")
    assert invoice["record_class"] == "finance.invoice"
    ReviewStore(store).decide(
        [invoice["id"]],
        Action.CHANGE,
        by=Reviewer("records.manager", Role.REVIEWER),
        schedule=engines.schedule,
        to_class="contracts.simple",
        reason="framework agreement, not an invoice",
    )

    (bad_folder / "Finance" / "invoice.txt").write_text(GOOD_TEXT + "Amended.\n", encoding="utf-8")
    scan_source(LocalFolderSource([bad_folder / "Finance"]), store, engines)
    row = store.get(invoice["id"])
    assert row is not None
    assert row["record_class"] == "contracts.simple"
    assert "records.manager" in row["class_explanation"]


def test_huge_text_is_searched_up_to_the_limit_and_findings_are_capped(tmp_path: Path) -> None:
    from docintel.pipeline import analyze_bytes

    settings = load_settings(
        REPO / "config",
        environ={"DOCINTEL_NLP__MAX_PII_SCAN_CHARS": "20000", "DOCINTEL_NLP__MAX_FINDINGS": "50"},
    )
    row = "Contact a.resident{n}@example.org about the missed bin collection.\n"
    content = "".join(row.format(n=n) for n in range(2000)).encode()
    record = analyze_bytes(content, "export.txt", Engines(settings=settings, pii_key=b"k" * 32))
    assert record.status.value == "ok"
    assert len(record.pii) == 50
    assert all(f.end <= 20000 for f in record.pii)
    assert any("first 20,000 of" in note for note in record.notes)
    assert any("the first 50 are kept" in note for note in record.notes)


def test_lone_surrogates_in_extracted_text_do_not_fail_enrichment(engines: Engines) -> None:
    from docintel.models import Extraction, Page
    from docintel.pipeline import analyze_bytes

    class SurrogateText:
        name, version = "surrogate", "1"

        def extract(self, content: bytes, context: object) -> Extraction:
            return Extraction(pages=[Page(number=1, text="Invoice \ud835 for Mr John Smith, 020 7946 0123")])

    from docintel.extract.base import FileType

    engines.extractors.register(FileType.TEXT, SurrogateText())
    try:
        record = analyze_bytes(b"Invoice for Mr John Smith", "x.txt", engines)
    finally:
        from docintel.extract.text import TextExtractor

        engines.extractors.register(FileType.TEXT, TextExtractor())
    assert record.status.value == "ok", record.error
    assert "\ufffd" in record.text
    assert any(f.entity_type == "PHONE_NUMBER" for f in record.pii)
