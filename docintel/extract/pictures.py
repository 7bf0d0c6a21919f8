"""Pictures of a document's first pages, for a reviewer to see what they decide on: PDFs and images only.

Rendered in memory on request and returned as PNG bytes; nothing is written anywhere. Pages go through the one
render of :mod:`docintel.extract.render` under the preview's own pixel cap, and the reading limits apply too: pages
larger than ``limits.max_pdf_page_points`` are not drawn, images over ``limits.max_image_pixels`` are not opened.
"""

from __future__ import annotations

import io

from PIL import Image

from docintel.errors import CorruptDocument
from docintel.extract.base import FileType
from docintel.extract.image import _open_image
from docintel.extract.pdf import _open_pdf
from docintel.extract.render import POINTS_PER_INCH, capped_dpi, fit_image, render_page
from docintel.settings import LimitSettings

# Never enlarge a page past 144 dpi: sharper shows nothing more on screen.
MAX_PREVIEW_DPI = 144.0
RENDERABLE_TYPES = frozenset({FileType.PDF, FileType.IMAGE})


def preview_dpi(width: float, height: float, max_pixels: int) -> float:
    """The DPI that fits a width x height pt page into ``max_pixels`` (never above MAX_PREVIEW_DPI)."""
    if width <= 0 or height <= 0:
        return 0.0
    return capped_dpi(width, height, MAX_PREVIEW_DPI, max_pixels)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_first_pages(
    content: bytes, file_type: FileType, *, pages: int, max_pixels: int, limits: LimitSettings
) -> list[bytes]:
    """PNG pictures of up to ``pages`` first pages, each at most ``max_pixels``; [] for types not rendered."""
    if file_type is FileType.PDF:
        return _render_pdf(content, pages, max_pixels, limits)
    if file_type is FileType.IMAGE:
        return _render_image(content, max_pixels, limits)
    return []


def _render_pdf(content: bytes, pages: int, max_pixels: int, limits: LimitSettings) -> list[bytes]:
    document = _open_pdf(content)
    pictures: list[bytes] = []
    try:
        for index in range(min(pages, len(document))):
            page = document[index]
            try:
                width, height = page.get_size()
                if max(width, height) > limits.max_pdf_page_points:
                    continue  # a 300-inch page is not drawn, even scaled down
                rendered = render_page(page, MAX_PREVIEW_DPI, max_pixels, lambda image: image)
                pictures.append(_png(rendered.image))
            finally:
                page.close()
    finally:
        document.close()
    return pictures


def _render_image(content: bytes, max_pixels: int, limits: LimitSettings) -> list[bytes]:
    image = _open_image(content, limits.max_image_pixels)
    try:
        image.draft("RGB", (image.width, image.height))
        shown = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        return [_png(fit_image(shown, max_pixels))]
    except (OSError, ValueError) as exc:
        raise CorruptDocument(f"the image could not be rendered ({exc})") from exc
    finally:
        image.close()


__all__ = ["MAX_PREVIEW_DPI", "POINTS_PER_INCH", "RENDERABLE_TYPES", "preview_dpi", "render_first_pages"]
