"""Pictures of first pages for the review page: pixel-capped, bounded by the reading limits, PDFs and images only."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from docintel.errors import CorruptDocument, TooLarge
from docintel.extract.base import FileType
from docintel.extract.pictures import MAX_PREVIEW_DPI, POINTS_PER_INCH, preview_dpi, render_first_pages
from docintel.settings import LimitSettings

LIMITS = LimitSettings()


def pdf_of(*sizes: tuple[float, float]) -> bytes:
    """A PDF with one page per (width, height) in points, each saying its number."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    for number, size in enumerate(sizes, start=1):
        drawing.setPageSize(size)
        drawing.drawString(10, 10, f"page {number}")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def sizes_of(pictures: list[bytes]) -> list[tuple[int, int]]:
    return [Image.open(io.BytesIO(png)).size for png in pictures]


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"),
    [(595, 842, 1_400_000), (595, 842, 20_000), (842, 595, 50_000), (100, 100, 10_000_000), (7, 3000, 5_000)],
)
def test_preview_dpi_keeps_whole_pixels_under_the_cap(width: float, height: float, max_pixels: int) -> None:
    scale = preview_dpi(width, height, max_pixels) / POINTS_PER_INCH
    assert 0 < scale <= MAX_PREVIEW_DPI / POINTS_PER_INCH
    assert math.ceil(width * scale) * math.ceil(height * scale) <= max_pixels


def test_pdf_first_pages_only_each_under_the_cap() -> None:
    content = pdf_of((595, 842), (842, 595), (595, 842))
    sizes = sizes_of(render_first_pages(content, FileType.PDF, pages=2, max_pixels=60_000, limits=LIMITS))
    assert len(sizes) == 2
    assert all(w * h <= 60_000 for w, h in sizes)
    assert sizes[0][0] < sizes[0][1] and sizes[1][0] > sizes[1][1]  # portrait then landscape, as in the file


def test_a_page_past_the_size_limit_is_not_drawn() -> None:
    content = pdf_of((595, 842), (20_000, 20_000))
    sizes = sizes_of(render_first_pages(content, FileType.PDF, pages=2, max_pixels=60_000, limits=LIMITS))
    assert len(sizes) == 1  # the 277-inch page is skipped, however small it would be drawn


def test_image_is_scaled_under_the_cap() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "white").save(buffer, format="PNG")
    sizes = sizes_of(render_first_pages(buffer.getvalue(), FileType.IMAGE, pages=2, max_pixels=40_000, limits=LIMITS))
    assert len(sizes) == 1 and sizes[0][0] * sizes[0][1] <= 40_000


def test_image_over_the_pixel_limit_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("L", (400, 400)).save(buffer, format="PNG")
    limits = LimitSettings(max_image_pixels=10_000)
    with pytest.raises(TooLarge):
        render_first_pages(buffer.getvalue(), FileType.IMAGE, pages=1, max_pixels=40_000, limits=limits)


def test_other_types_are_not_drawn_and_broken_pdfs_are_corrupt() -> None:
    assert render_first_pages(b"plain text", FileType.TEXT, pages=2, max_pixels=40_000, limits=LIMITS) == []
    with pytest.raises(CorruptDocument):
        render_first_pages(b"%PDF-1.7 broken", FileType.PDF, pages=2, max_pixels=40_000, limits=LIMITS)
