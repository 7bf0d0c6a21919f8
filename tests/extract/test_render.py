"""The pixel cap on every render: huge pages get a lower DPI, and running out of memory is TooLarge."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pypdfium2 as pdfium
import pytest
from PIL import Image

from docintel.defaults import MAX_RENDER_PIXELS
from docintel.extract import ExtractContext
from docintel.extract.ocr import prepare_image
from docintel.extract.pdf import PdfExtractor, render_pages
from docintel.extract.render import capped_dpi, fit_image, render_page
from docintel.samples.pdf import oversized_page_pdf
from docintel.settings import LimitSettings, OcrSettings


def _bitmap_pixels(width: float, height: float, dpi: float) -> int:
    return math.ceil(width * dpi / 72) * math.ceil(height * dpi / 72)


@pytest.mark.parametrize(
    ("width", "height", "dpi", "max_pixels", "lowered"),
    [(595, 842, 300, MAX_RENDER_PIXELS, False),      # A4
     (1191, 1684, 300, MAX_RENDER_PIXELS, False),    # A2: still full resolution
     (2384, 3370, 300, MAX_RENDER_PIXELS, True),     # A0
     (14400, 14400, 300, MAX_RENDER_PIXELS, True),   # the PDF maximum without UserUnit
     (21600, 21600, 300, MAX_RENDER_PIXELS, True),   # the 1.3 KB render bomb
     (21600, 10, 300, 1_000_000, True),              # a long thin strip
     (1000, 1000, 72, 1_000_000, False),             # exactly at the cap
     (1000, 1001, 72, 1_000_000, True)],             # one row over it
    ids=["a4", "a2", "a0", "pdf-max", "bomb", "strip", "at-cap", "one-over"],
)  # fmt: skip
def test_capped_dpi_keeps_every_bitmap_under_the_cap(width, height, dpi, max_pixels, lowered) -> None:
    chosen = capped_dpi(width, height, dpi, max_pixels)
    assert _bitmap_pixels(width, height, chosen) <= max_pixels
    assert (chosen < dpi) is lowered
    if lowered:  # lowered only as far as needed: within a percent of the cap
        assert _bitmap_pixels(width, height, chosen) > max_pixels * 0.99


def test_the_render_bomb_renders_under_the_cap_with_its_real_dpi() -> None:
    document = pdfium.PdfDocument(oversized_page_pdf(21600))
    try:
        rendered = render_page(document[0], 300, MAX_RENDER_PIXELS, prepare_image)
    finally:
        document.close()
    width, height = rendered.image.size
    assert width * height <= MAX_RENDER_PIXELS
    assert rendered.dpi < 23.5  # 300 inches of page in ~6,300 pixels
    assert rendered.image.info["dpi"] == (rendered.dpi, rendered.dpi)
    assert width == math.ceil(21600 * rendered.dpi / 72)


def test_render_pages_applies_the_cap_for_every_caller() -> None:
    document = pdfium.PdfDocument(oversized_page_pdf(14400))
    try:
        (image,) = list(render_pages(document, [0], 300, 4_000_000))
    finally:
        document.close()
    assert image.width * image.height <= 4_000_000


def test_the_scan_path_reads_a_page_under_the_points_limit_at_a_lower_dpi() -> None:
    limits = LimitSettings(max_render_pixels=2_000_000)
    context = ExtractContext(limits=limits, ocr=OcrSettings(detect_orientation=False))
    extraction = PdfExtractor().extract(oversized_page_pdf(7200), context)  # 100 inches: 900 Mpx at 300 DPI
    assert len(extraction.pages) == 1  # read (OCR found little at ~10 DPI), not a failure or a 23 GB bitmap


def test_fit_image_scales_big_images_and_their_dpi() -> None:
    image = Image.new("L", (4000, 3000), 255)
    image.info["dpi"] = (300, 300)
    fitted = fit_image(image, 3_000_000)
    assert fitted.width * fitted.height <= 3_000_000
    assert fitted.info["dpi"][0] == pytest.approx(300 * fitted.width / 4000, rel=0.01)
    assert fit_image(image, 12_000_000) is image


def test_running_out_of_memory_during_a_render_is_too_large_not_corrupt(tmp_path) -> None:
    """A real MemoryError: a child process capped at 300 MB more address space renders a 1 Gpx page."""
    script = textwrap.dedent(
        """
        import resource
        import pypdfium2 as pdfium
        from docintel.errors import TooLarge
        from docintel.extract.ocr import prepare_image
        from docintel.extract.render import render_page
        from docintel.samples.pdf import oversized_page_pdf

        document = pdfium.PdfDocument(oversized_page_pdf(21600))
        page = document[0]
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + 300 * 2**20, resource.RLIM_INFINITY))
        try:
            render_page(page, 300, 1_000_000_000, prepare_image)
        except TooLarge as error:
            print("TooLarge:", error)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("TooLarge: a 21600x21600 pt page could not be rendered"), done.stdout
