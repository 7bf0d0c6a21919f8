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
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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


def shaded_table(labels: Sequence[str]) -> Image.Image:
    """Black header labels on cell-blue shading over a white table body, like a Word table with a header style."""
    font = ImageFont.truetype(str(FONT_PATH), 28)
    image = Image.new("RGB", (1400, 420), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 1360, 200), fill=(141, 179, 226), outline=(0, 0, 0), width=2)
    draw.rectangle((40, 200, 1360, 380), outline=(0, 0, 0), width=2)
    for index, label in enumerate(labels):
        draw.text((60 + 330 * index, 100), label, font=font, fill=(0, 0, 0))
        draw.text((60 + 330 * index, 270), f"{index + 5}", font=font, fill=(0, 0, 0))
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
    unicode_font: bool = False,
) -> bytes:
    """A born-digital PDF: text lines per page; optionally a ruled table (extra TableStyle commands, lines after it).

    ``unicode_font`` embeds DejaVuSans (Latin, Greek, Cyrillic, Hebrew, Arabic letters; no CJK) instead of
    Helvetica. Lines and cells in a right-to-left script (keep them free of Latin and digits) are drawn in
    visual order, right to left, as PDF producers write them; Arabic stays unshaped (isolated letter forms).
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=page_size, encrypt=user_password)
    font = _dejavu() if unicode_font else "Helvetica"
    if title:
        pdf.setTitle(title)
    _, height = page_size
    for number, lines in enumerate(pages):
        text = pdf.beginText(72, height - 72)
        text.setFont(font, 11)
        for line in lines:
            text.textLine(_visual_order(line))
        pdf.drawText(text)
        if table is not None and number == table_page:
            grid = Table([[_visual_order(cell) for cell in row] for row in table])
            style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTNAME", (0, 0), (-1, -1), font)]
            grid.setStyle(TableStyle([*style, *table_style]))
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


def _visual_order(line: str) -> str:
    """A right-to-left line as drawn left to right on the page: reversed (good for lines of RTL letters only)."""
    if any("\u0590" <= char <= "\u06ff" for char in line):
        return line[::-1]
    return line


def _dejavu() -> str:
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_PATH)))
    return "DejaVuSans"


def two_column_pdf(left: Sequence[str], right: Sequence[str], *, line_by_line: bool = False) -> bytes:
    """A page with two columns of text lines, drawn column by column (as typesetters do) or line across line."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _, height = A4
    placements = [(72, index, line) for index, line in enumerate(left)]
    placements += [(320, index, line) for index, line in enumerate(right)]
    if line_by_line:
        placements.sort(key=lambda item: (item[1], item[0]))
    for x, index, line in placements:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(x, height - 72 - 14 * index, line)
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
def make_shaded_table() -> Callable[[Sequence[str]], Image.Image]:
    """Draw a colour table image whose header labels sit on blue shading."""
    return shaded_table


@pytest.fixture
def make_text_pdf() -> MakePdf:
    """Build a born-digital PDF with reportlab."""
    return text_pdf


@pytest.fixture
def make_two_column_pdf() -> MakePdf:
    """Build a born-digital two-column page with reportlab."""
    return two_column_pdf


@pytest.fixture
def make_image_pdf() -> MakePdf:
    """Build an image-only (scanned) PDF with reportlab."""
    return image_pdf


@pytest.fixture
def encode_image() -> Callable[..., bytes]:
    """Encode a PIL image to bytes in a given format."""
    return image_bytes
