"""Redacted copies: values gone from a text file's output and from a PDF's pages (text layer and OCR)."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from docintel.enrich.analyzer import TextAnalyzer
from docintel.models import PiiFinding
from docintel.redact import mask_spans, redact_file, redact_text
from docintel.settings import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NHS = "943 476 5919"
EMAIL = "olivia.smith@example.org"


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    """The analyzer built from the repository's config."""
    built = TextAnalyzer(load_settings(CONFIG_DIR, environ={}))
    built.warm()
    return built


@pytest.mark.parametrize(
    ("text", "findings", "expected"),
    [
        (
            "NHS 943 476 5919.",
            [PiiFinding(entity_type="UK_NHS", start=4, end=16, text=NHS, score=1.0)],
            "NHS [UK_NHS].",
        ),
        ("no findings", [], "no findings"),
        (
            "a@example.org and Olivia",
            [
                PiiFinding(entity_type="EMAIL_ADDRESS", start=0, end=13, text="a@example.org", score=1.0),
                PiiFinding(entity_type="PERSON", start=18, end=24, text="Olivia", score=0.85),
            ],
            "[EMAIL_ADDRESS] and [PERSON]",
        ),
    ],
)
def test_redact_text_table(text: str, findings: list[PiiFinding], expected: str) -> None:
    assert redact_text(text, findings) == expected


def test_text_file_values_gone(analyzer: TextAnalyzer, tmp_path: Path) -> None:
    source = tmp_path / "letter.txt"
    source.write_text(f"Dear Mrs Olivia Smith,\nYour NHS number is {NHS}. Email {EMAIL} if wrong.\n", encoding="utf-8")
    out = tmp_path / "letter.redacted.txt"
    result = redact_file(source, out, analyzer)
    redacted = out.read_text(encoding="utf-8")
    for value in (NHS, EMAIL, "Olivia Smith"):
        assert value not in redacted
    assert "[UK_NHS]" in redacted and "[EMAIL_ADDRESS]" in redacted and "[PERSON]" in redacted
    assert result.method == "text"
    assert result.redacted["UK_NHS"] == 1


def _pdf_with_text(path: Path) -> None:
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 760, "Adult Social Care case summary")
    pdf.drawString(72, 740, f"Patient NHS number {NHS} was reviewed.")
    pdf.drawString(72, 720, f"Contact {EMAIL} for the care plan.")
    pdf.showPage()
    pdf.drawString(72, 760, "Second page with nothing personal on it.")
    pdf.save()


def test_born_digital_pdf_values_gone(analyzer: TextAnalyzer, tmp_path: Path) -> None:
    source, out = tmp_path / "case.pdf", tmp_path / "case.redacted.pdf"
    _pdf_with_text(source)
    result = redact_file(source, out, analyzer)
    assert result.method == "pdf_image" and result.pages == 2
    assert result.redacted["UK_NHS"] == 1 and result.redacted["EMAIL_ADDRESS"] == 1
    raw = out.read_bytes()
    assert raw.startswith(b"%PDF")
    for value in (NHS, EMAIL, "5919"):
        assert value.encode() not in raw
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert "".join(page.extract_text() or "" for page in pdf.pages) == ""  # image-only: no text layer left


@pytest.mark.needs_tesseract
def test_redacted_pdf_page_does_not_ocr_to_the_values(analyzer: TextAnalyzer, tmp_path: Path) -> None:
    import pytesseract

    source, out = tmp_path / "case.pdf", tmp_path / "case.redacted.pdf"
    _pdf_with_text(source)
    redact_file(source, out, analyzer)
    with pdfplumber.open(out) as pdf:
        image = pdf.pages[0].to_image(resolution=150).original
    text = pytesseract.image_to_string(image)
    assert "Adult Social Care" in text  # the rest of the page is still legible
    assert "5919" not in text and "example.org" not in text


@pytest.mark.needs_tesseract
def test_scanned_pdf_values_gone(analyzer: TextAnalyzer, tmp_path: Path) -> None:
    import pytesseract

    image = Image.new("RGB", (1240, 600), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 36)
    draw.text((80, 100), "Housing case note", fill="black", font=font)
    draw.text((80, 200), f"NHS number {NHS}", fill="black", font=font)
    draw.text((80, 300), f"Email {EMAIL}", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=150)
    source, out = tmp_path / "scan.pdf", tmp_path / "scan.redacted.pdf"
    source.write_bytes(buffer.getvalue())
    result = redact_file(source, out, analyzer)
    assert result.redacted["UK_NHS"] == 1
    with pdfplumber.open(out) as pdf:
        page_image = pdf.pages[0].to_image(resolution=150).original
    text = pytesseract.image_to_string(page_image)
    assert "Housing" in text
    assert "5919" not in text and "example.org" not in text


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("NHS 943 476 5919.", [(4, 16)], "NHS ███ ███ ████."),
        ("Ann Lee, ann@example.org", [(0, 7), (9, 24)], "███ ███, ███████████████"),
        ("overlap", [(0, 4), (2, 6)], "██████p"),
        ("edge", [(2, 99)], "ed██"),
        ("none", [], "none"),
    ],
)
def test_mask_spans_keeps_length_and_spaces(text: str, spans: list[tuple[int, int]], expected: str) -> None:
    masked = mask_spans(text, spans)
    assert masked == expected and len(masked) == len(text)
