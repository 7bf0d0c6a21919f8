"""Rasterising: the one place a PDF page becomes a bitmap, or a decoded image is scaled for OCR, under one pixel cap.

Every render (the scan path's OCR, invoice OCR, redaction) asks :func:`render_page` for a page at a DPI; a page
whose bitmap at that DPI would hold more than ``max_pixels`` is rendered at the lower DPI that fits, so memory per
render is bounded by the cap whatever size the page claims (a one-page PDF can declare a 21600 x 21600 pt page in
1.3 KB). Images too big for the cap are scaled down the same way by :func:`fit_image`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from docintel.errors import CorruptDocument, TooLarge

POINTS_PER_INCH = 72


@dataclass(frozen=True)
class RenderedPage:
    """A page's bitmap and the DPI it was really rendered at (lower than asked when the page is huge)."""

    image: Image.Image
    dpi: float

    @property
    def scale(self) -> float:
        """Pixels per PDF point."""
        return self.dpi / POINTS_PER_INCH


def capped_dpi(width_points: float, height_points: float, dpi: float, max_pixels: int) -> float:
    """``dpi``, lowered just enough that the page's bitmap (pdfium rounds sides up) holds at most ``max_pixels``."""
    scale = dpi / POINTS_PER_INCH

    def pixels(at: float) -> int:
        return math.ceil(width_points * at) * math.ceil(height_points * at)

    if pixels(scale) <= max_pixels:
        return dpi
    scale = math.sqrt(max_pixels / (width_points * height_points))
    # Rounding each side up can still overshoot by a row or column: step down until it fits.
    while scale > 0 and pixels(scale) > max_pixels:
        scale *= 0.999
    return scale * POINTS_PER_INCH


def render_page(
    page: pdfium.PdfPage, dpi: float, max_pixels: int, prepare: Callable[[Image.Image], Image.Image]
) -> RenderedPage:
    """Render one page at ``dpi`` (lowered for huge pages), passed through ``prepare`` into an image of its own.

    MemoryError is TooLarge (the page cannot be held even under the cap on this machine), not a corrupt file.
    """
    width, height = page.get_size()
    actual = capped_dpi(width, height, dpi, max_pixels)
    try:
        bitmap = page.render(scale=actual / POINTS_PER_INCH)
        try:
            # to_pil may share the bitmap's buffer, which close() frees: copy unless prepare made a new image.
            raw = bitmap.to_pil()
            image = prepare(raw)
            if image is raw:
                image = raw.copy()
        finally:
            bitmap.close()
    except MemoryError as exc:
        raise TooLarge(f"a {width:.0f}x{height:.0f} pt page could not be rendered in the memory available") from exc
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"a page could not be rendered ({exc})") from exc
    image.info["dpi"] = (actual, actual)
    return RenderedPage(image, actual)


def fit_image(image: Image.Image, max_pixels: int) -> Image.Image:
    """The image itself when it holds at most ``max_pixels``, else a copy scaled down to fit (its DPI scaled too)."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    ratio = math.sqrt(max_pixels / (width * height))
    size = (max(1, math.floor(width * ratio)), max(1, math.floor(height * ratio)))
    try:
        fitted = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    except MemoryError as exc:
        raise TooLarge(f"a {width}x{height} image could not be scaled in the memory available") from exc
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2 and dpi[0]:
        fitted.info["dpi"] = (float(dpi[0]) * ratio, float(dpi[1]) * ratio)
    return fitted
