"""Pictures of a document's first pages, for a reviewer to see what they decide on: PDFs and images only.

Rendered in memory on request and returned as PNG bytes; nothing is written anywhere. Every picture is held
under a pixel cap (the page is scaled down to fit), and the same limits as reading apply: pages larger than
``limits.max_pdf_page_points`` are not rendered, images over ``limits.max_image_pixels`` are not opened.
"""

from __future__ import annotations

import io
import math

import pypdfium2 as pdfium
from PIL import Image

from docintel.errors import CorruptDocument
from docintel.extract.base import FileType
from docintel.extract.image import _open_image
from docintel.extract.pdf import _open_pdf
from docintel.settings import LimitSettings

# Never enlarge a page past this many pixels per point (144 dpi): sharper shows nothing more on screen.
MAX_RENDER_SCALE = 2.0
# Each step down when rounding to whole pixels overshoots the cap: 0.5% smaller, a few steps at most.
SCALE_STEP_DOWN = 0.995
RENDERABLE_TYPES = frozenset({FileType.PDF, FileType.IMAGE})


def fit_scale(width: float, height: float, max_pixels: int) -> float:
    """The scale that fits a width x height page into ``max_pixels`` (never above MAX_RENDER_SCALE)."""
    if width <= 0 or height <= 0:
        return 0.0
    scale = min(MAX_RENDER_SCALE, math.sqrt(max_pixels / (width * height)))
    # The renderer rounds each side up to whole pixels, which can take the area just past the cap.
    while scale > 0 and math.ceil(width * scale) * math.ceil(height * scale) > max_pixels:
        scale *= SCALE_STEP_DOWN
    return scale


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
                    continue  # a 300-inch page is not drawn, even scaled down: pdfium would still walk it
                scale = fit_scale(width, height, max_pixels)
                bitmap = page.render(scale=scale)
                try:
                    pictures.append(_png(bitmap.to_pil()))
                finally:
                    bitmap.close()
            except pdfium.PdfiumError as exc:
                raise CorruptDocument(f"page {index + 1} could not be rendered ({exc})") from exc
            finally:
                page.close()
    finally:
        document.close()
    return pictures


def _render_image(content: bytes, max_pixels: int, limits: LimitSettings) -> list[bytes]:
    image = _open_image(content, limits.max_image_pixels)
    try:
        scale = min(1.0, fit_scale(image.width, image.height, max_pixels))
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image.draft("RGB", size)  # JPEG decodes straight at a reduced size
        shown = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        shown = shown.resize(size) if shown.size != size else shown
        return [_png(shown)]
    except (OSError, ValueError) as exc:
        raise CorruptDocument(f"the image could not be rendered ({exc})") from exc
    finally:
        image.close()


__all__ = ["RENDERABLE_TYPES", "fit_scale", "render_first_pages"]
