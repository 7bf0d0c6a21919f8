"""Images (PNG, JPEG, TIFF, GIF, BMP, WEBP): OCR each page, one page per TIFF frame.

Pillow reads only the header on open, so the pixel limit is checked before anything is decoded:
``Image.MAX_IMAGE_PIXELS`` is set from ``LimitSettings.max_image_pixels`` for the open (and restored
after), Pillow's bomb warning is raised as an error, and every frame of a multi-page file is checked again.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageOps, UnidentifiedImageError

from docintel.errors import CorruptDocument, EmptyDocument, TooLarge
from docintel.extract.base import ExtractContext
from docintel.extract.ocr import TesseractOcr, prepare_image
from docintel.extract.render import fit_image
from docintel.models import Extraction, Page, PageMethod

logger = logging.getLogger(__name__)

# Formats whose extra frames are pages of a document; other formats' frames are animation.
_PAGED_FORMATS = frozenset({"TIFF", "MPO"})
_PIXEL_LIMIT_LOCK = threading.Lock()


class ImageExtractor:
    """Reads images with tesseract, one page per TIFF frame."""

    name = "image"
    version = f"pillow {Image.__version__}"  # Pillow decodes; tesseract's version is recorded by the OCR

    def __init__(self, ocr: TesseractOcr | None = None) -> None:
        self._ocr = ocr

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """OCR every page of the image; raise TooLarge for pixel bombs and CorruptDocument for bad bytes."""
        if not content:
            raise EmptyDocument("the image file has no bytes")
        limit = context.limits.max_image_pixels
        image = _open_image(content, limit)
        try:
            image_format = image.format or "unknown"
            frames = _count_frames(image) if image_format in _PAGED_FORMATS else 1
            notes: list[str] = []
            count = min(frames, context.limits.max_pdf_pages)
            if count < frames:
                notes.append(f"read the first {count} of {frames} frames (limit max_pdf_pages)")
            metadata = {"format": image_format, "frames": str(frames), "size": f"{image.width}x{image.height}"}
            if not context.ocr.enabled:
                notes.append(f"{count} image page(s) not read (OCR disabled)")
                pages = [Page(number=number, text="", method=PageMethod.OCR) for number in range(1, count + 1)]
            else:
                ocr = self._ocr or TesseractOcr(context.ocr)
                results = ocr.ocr_many(_frames(image, count, limit, context.limits.max_render_pixels))
                pages = [
                    Page(number=number, text=result.text, method=PageMethod.OCR, ocr_confidence=result.confidence)
                    for number, result in enumerate(results, start=1)
                ]
        finally:
            image.close()
        return Extraction(pages=pages, metadata=metadata, component=f"{self.name} {self.version}", notes=notes)


def _open_image(content: bytes, limit: int) -> Image.Image:
    """Open image bytes (header only), refusing decompression bombs and bytes Pillow cannot identify."""
    try:
        with _pixel_limit(limit), warnings.catch_warnings():
            # Pillow only warns between 1x and 2x the limit; a bomb at 1.5x is still a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge(f"image over the pixel limit of {limit:,} ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise CorruptDocument("not a readable image (format not recognised)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports malformed headers as OSError, SyntaxError or ValueError depending on the plugin.
        raise CorruptDocument(f"not a readable image ({exc})") from exc
    _check_pixels(image, limit, frame=1)
    return image


def _count_frames(image: Image.Image) -> int:
    """Frames in a multi-page file; counting walks the whole frame chain, so a broken chain shows here."""
    try:
        return int(getattr(image, "n_frames", 1))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"not a readable image (broken frame list: {exc})") from exc


@contextmanager
def _pixel_limit(limit: int) -> Iterator[None]:
    """Set Pillow's bomb limit for one open, then put back the process-wide value.

    Pillow reads ``Image.MAX_IMAGE_PIXELS`` everywhere (even when drawing text), so leaving our limit
    in place would change other code's behaviour; the lock keeps two extractions from interleaving.
    """
    with _PIXEL_LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _check_pixels(image: Image.Image, limit: int, frame: int) -> None:
    pixels = image.width * image.height
    if pixels > limit:
        raise TooLarge(
            f"image frame {frame} is {image.width}x{image.height} = {pixels:,} pixels, over the limit of {limit:,}"
        )


def _frames(image: Image.Image, count: int, limit: int, max_render_pixels: int) -> Iterator[Image.Image]:
    """Decode frames one at a time, upright (EXIF orientation) and prepared for OCR (bilevel, grey or colour).

    A frame over ``max_render_pixels`` is scaled down to fit (a JPEG is decoded at a reduced scale outright).
    """
    dpi = image.info.get("dpi")
    for index in range(count):
        try:
            image.seek(index)
            _check_pixels(image, limit, frame=index + 1)
            full_side = max(image.size)
            if image.format == "JPEG" and image.width * image.height > max_render_pixels:
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale for the asking: the full bitmap is never built.
                ratio = math.sqrt(max_render_pixels / (image.width * image.height))
                image.draft(image.mode, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
            image.load()
            frame = fit_image(prepare_image(ImageOps.exif_transpose(image) or image), max_render_pixels)
        except TooLarge:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Truncated files fail here, at decode time, not at open.
            raise CorruptDocument(f"image frame {index + 1} could not be decoded ({exc})") from exc
        if frame is image:
            frame = image.copy()  # the next seek would change it under the OCR thread
        frame_dpi = image.info.get("dpi", dpi)
        if isinstance(frame_dpi, tuple) and len(frame_dpi) == 2 and frame_dpi[0]:
            # A frame scaled down to the pixel cap covers the same paper with fewer pixels: fewer dots per inch.
            shrink = max(frame.size) / full_side
            frame.info["dpi"] = (float(frame_dpi[0]) * shrink, float(frame_dpi[1]) * shrink)
        yield frame
