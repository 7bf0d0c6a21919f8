"""Generic fixture makers for extractor tests: text rendered to images, and PDFs built with reportlab.

Every fixture is generated here from invented text, so tests need no files on disk and hold no personal data.
Each fixture returns a function, so a test can ask for exactly the document it needs.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Table, TableStyle

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

RenderText = Callable[..., Image.Image]
MakePdf = Callable[..., bytes]


def render_text(
    lines: Sequence[str],
    *,
    font_size: int = 40,
    width: int | None = None,
    margin: int = 60,
    line_spacing: float = 1.6,
    mode: str = "L",
) -> Image.Image:
    """Draw black lines of DejaVuSans text on a white image just big enough to hold them."""
    font = ImageFont.truetype(str(FONT_PATH), font_size)
    text_width = max(int(font.getlength(line)) for line in lines)
    line_height = int(font_size * line_spacing)
    size = (width or text_width + 2 * margin, len(lines) * line_height + 2 * margin)
    background = 255 if mode in ("L", "1") else (255, 255, 255) if mode == "RGB" else (255, 255, 255, 255)
    image = Image.new(mode, size, background)
    ink = 0 if mode in ("L", "1") else (0, 0, 0) if mode == "RGB" else (0, 0, 0, 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((margin, margin + index * line_height), line, font=font, fill=ink)
    return image


def image_bytes(image: Image.Image, fmt: str = "PNG", **save_options: object) -> bytes:
    """Encode an image in a file format."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def text_pdf(
    pages: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    table: Sequence[Sequence[str]] | None = None,
    table_page: int = 0,
    table_style: Sequence[tuple[object, ...]] = (),
    lines_after: Sequence[str] = (),
    user_password: str | None = None,
    page_size: tuple[float, float] = A4,
) -> bytes:
    """A born-digital PDF: text lines per page; optionally a ruled table (extra TableStyle commands, lines after it)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=page_size, encrypt=user_password)
    if title:
        pdf.setTitle(title)
    _, height = page_size
    for number, lines in enumerate(pages):
        text = pdf.beginText(72, height - 72)
        text.setFont("Helvetica", 11)
        for line in lines:
            text.textLine(line)
        pdf.drawText(text)
        if table is not None and number == table_page:
            grid = Table([list(row) for row in table])
            grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), *table_style]))
            _, table_height = grid.wrapOn(pdf, 400, 400)
            table_bottom = height - 72 - 14 * (len(lines) + 2) - table_height
            grid.drawOn(pdf, 72, table_bottom)
            after = pdf.beginText(72, table_bottom - 30)
            after.setFont("Helvetica", 11)
            for line in lines_after:
                after.textLine(line)
            pdf.drawText(after)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def image_pdf(
    images: Sequence[Image.Image],
    *,
    dpi: int = 150,
    hidden_text: str | None = None,
) -> bytes:
    """A scanned-looking PDF: each image fills a page sized to it at ``dpi``; optional invisible junk text layer."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for image in images:
        page_width, page_height = image.width * 72 / dpi, image.height * 72 / dpi
        pdf.setPageSize((page_width, page_height))
        pdf.drawImage(ImageReader(image), 0, 0, width=page_width, height=page_height)
        if hidden_text:
            # Render mode 3 draws nothing, like the invisible text layer a scanner's OCR leaves behind.
            text = pdf.beginText(20, page_height - 30)
            text.setTextRenderMode(3)
            text.setFont("Helvetica", 10)
            text.textLine(hidden_text)
            pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def make_text_image() -> RenderText:
    """Render lines of text to a PIL image with DejaVuSans."""
    return render_text


@pytest.fixture
def make_text_pdf() -> MakePdf:
    """Build a born-digital PDF with reportlab."""
    return text_pdf


@pytest.fixture
def make_image_pdf() -> MakePdf:
    """Build an image-only (scanned) PDF with reportlab."""
    return image_pdf


@pytest.fixture
def encode_image() -> Callable[..., bytes]:
    """Encode a PIL image to bytes in a given format."""
    return image_bytes
