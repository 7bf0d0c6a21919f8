"""A quick look at which way up a page of Latin-script text is, before tesseract reads it.

Tesseract reads a page turned 90 or 180 degrees as junk, and its own orientation detection (``--psm 0``)
needs a reading first to be affordable (see :mod:`docintel.extract.ocr`), so a turned page used to cost
two readings and an OSD run. This module answers from the pixels in a few milliseconds instead:

1. The page is reduced to about ``TARGET_LONG_SIDE`` pixels and thresholded (Otsu); each connected blob of
   ink of letter size is a glyph.
2. Each glyph is compared with its nearest neighbours that sit beside it on the same line. Glyphs that
   line up left-to-right have neighbours on the same text line; on a page turned 90 degrees they line up
   top-to-bottom instead. Whichever direction finds more glyphs with line neighbours is the line direction.
3. Along the lines, Latin script has many more ascenders (b d f h k l t, capitals, digits) than
   descenders (g j p q y): upright, more glyphs stick up above their neighbours' x-height band than hang
   below it; upside down, the reverse.

It only speaks when the evidence is strong (enough glyphs, a clear majority each way) and says nothing
otherwise; the caller still checks every reading, so a wrong guess costs time, never text. Scripts
without ascenders and descenders (Han, Hangul, all-capital receipts) give no majority, hence no answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree

# The page is reduced by a whole factor until its long side is about this (an A4 page at 300 DPI: by 2).
TARGET_LONG_SIDE = 1600
# Glyphs: blobs at least this many reduced pixels high...
MIN_GLYPH_PIXELS = 3
# ...no bigger than this share of the page (rules, pictures and frames are not glyphs)...
MAX_GLYPH_SHARE = 0.1
# ...and not much smaller than the typical blob (dots, specks, commas).
MIN_GLYPH_SIZE_OF_MEDIAN = 0.4
# Each glyph is compared with up to this many nearest glyphs...
NEIGHBOURS = 8
# ...of which those on its line (centres this close across the line, in glyph heights, and this close along it)...
SAME_LINE_ACROSS = 0.6
SAME_LINE_ALONG = 4.0
# ...must be at least this many for the glyph to count.
MIN_LINE_NEIGHBOURS = 3
# The x-height band of a glyph's line: from this percentile of its line neighbours' tops (counted downwards,
# so ascenders among them do not lift it) to the mirror percentile of their feet.
X_LINE_PERCENTILE = 65
# A glyph sticks up (an ascender) when its top is this share of the x-height above its neighbours' median top
# while its foot stays on their baseline (and the mirror image for a descender).
STICK_OUT = 0.2
STAY_IN = 0.2
# Glyphs looked at, at most (spread over the page): a few hundred decide; thousands only cost time.
MAX_SAMPLED_GLYPHS = 1500
# An answer needs this many glyphs on lines, one direction this many times ahead of the other...
MIN_LINED_GLYPHS = 20
DIRECTION_DOMINANCE = 3.0
# ...and along the lines at least this many ascenders plus descenders, one kind this many times the other
# and ahead by this many standard deviations of a fair coin (no asymmetry at all: Han, capitals, digits).
MIN_VOTES = 12
VOTE_DOMINANCE = 1.5
VOTE_Z = 2.0


@dataclass(frozen=True)
class OrientationGuess:
    """What the pixels say: the clockwise turn that makes the page upright, or None when they do not say."""

    rotation: int | None
    lined_across: int = 0  # glyphs with line neighbours when lines run left to right
    lined_down: int = 0  # ...when lines run top to bottom
    ascenders: int = 0  # along the chosen direction, read as if upright
    descenders: int = 0

    @property
    def evidence(self) -> float:
        """How many standard deviations of a fair coin the ascender/descender majority stands for."""
        votes = self.ascenders + self.descenders
        return abs(self.ascenders - self.descenders) / votes**0.5 if votes else 0.0


def guess_orientation(image: Image.Image) -> OrientationGuess:
    """Guess which way up a page of Latin text is from its glyphs; ``rotation`` None when unsure."""
    ink = ink_mask(image)
    boxes = glyph_boxes(ink)
    if len(boxes) < MIN_LINED_GLYPHS:
        return OrientationGuess(None)
    height = ink.shape[0]
    across = _line_votes(boxes)
    # The same glyphs on the page turned 90 degrees clockwise: (x, y) -> (height - y, x).
    turned = np.column_stack((boxes[:, 2], boxes[:, 3], height - boxes[:, 1], height - boxes[:, 0]))
    down = _line_votes(turned)
    lined_across, lined_down = across[2], down[2]
    if lined_across >= max(MIN_LINED_GLYPHS, DIRECTION_DOMINANCE * lined_down):
        ascenders, descenders, upright, flipped = across[0], across[1], 0, 180
    elif lined_down >= max(MIN_LINED_GLYPHS, DIRECTION_DOMINANCE * lined_across):
        ascenders, descenders, upright, flipped = down[0], down[1], 90, 270
    else:
        return OrientationGuess(None, lined_across, lined_down)
    guess = OrientationGuess(None, lined_across, lined_down, ascenders, descenders)
    if ascenders + descenders < MIN_VOTES or guess.evidence < VOTE_Z:
        return guess
    if ascenders >= VOTE_DOMINANCE * descenders:
        return replace(guess, rotation=upright)
    if descenders >= VOTE_DOMINANCE * ascenders:
        return replace(guess, rotation=flipped)
    return guess


def ink_mask(image: Image.Image) -> NDArray[np.bool_]:
    """Dark-on-light ink of the page, reduced to about ``TARGET_LONG_SIDE`` pixels, by Otsu's threshold."""
    factor = max(1, round(max(image.size) / TARGET_LONG_SIDE))
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    small = image.reduce(factor) if factor > 1 else image
    if small.mode != "L":
        small = small.convert("L")
    threshold = otsu_threshold(np.asarray(small.histogram(), dtype=np.float64))
    ink = np.asarray(small, dtype=np.uint8) <= threshold
    # Light text on a dark ground: the ink is the minority either way.
    return ~ink if ink.mean() > 0.5 else ink


def otsu_threshold(histogram: NDArray[np.float64]) -> int:
    """The grey level that best splits a 256-bin histogram into two classes (Otsu's method)."""
    weight_below = np.cumsum(histogram)
    weight_above = weight_below[-1] - weight_below
    mass_below = np.cumsum(histogram * np.arange(len(histogram)))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass_below[-1] * weight_below / weight_below[-1] - mass_below) ** 2 / (weight_below * weight_above)
    return int(np.argmax(np.nan_to_num(between)))


def glyph_boxes(ink: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Boxes (top, bottom, left, right) of the letter-sized connected blobs of ink."""
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if not count:
        return np.empty((0, 4))
    # find_objects keeps memory to one slice pair per blob (pixel coordinate arrays would take tens of MB).
    corners = np.array(
        [(rows.start, rows.stop, cols.start, cols.stop) for rows, cols in ndimage.find_objects(labels)], dtype=np.intp
    )
    del labels
    page_height, page_width = ink.shape
    top, bottom, left, right = corners.T
    heights, widths = bottom - top, right - left
    # Narrow glyphs (l, i, t: one or two pixels wide once reduced) are kept: they are most of the ascenders.
    sized = (heights >= MIN_GLYPH_PIXELS) & (heights < MAX_GLYPH_SHARE * page_height)
    sized &= widths < 2 * MAX_GLYPH_SHARE * page_width
    if not sized.any():
        return np.empty((0, 4))
    extent = np.maximum(heights, widths)
    typical = float(np.median(extent[sized]))
    keep = sized & (extent >= MIN_GLYPH_SIZE_OF_MEDIAN * typical)
    return np.column_stack((top[keep], bottom[keep], left[keep], right[keep])).astype(np.float64)


def _line_votes(boxes: NDArray[np.float64]) -> tuple[int, int, int]:
    """(ascenders, descenders, glyphs with line neighbours) for lines running left to right."""
    top, bottom, left, right = boxes.T
    heights = bottom - top
    centres = np.column_stack(((left + right) / 2, (top + bottom) / 2))
    sample = np.linspace(0, len(boxes) - 1, min(len(boxes), MAX_SAMPLED_GLYPHS)).astype(int)
    count = min(NEIGHBOURS + 1, len(boxes))
    _, found = cKDTree(centres).query(centres[sample], k=count)
    neighbours = found[:, 1:]  # the first hit is the glyph itself
    me = sample[:, None]
    reach = np.maximum(heights[neighbours], heights[me])
    on_line = (np.abs(centres[neighbours, 1] - centres[me, 1]) < SAME_LINE_ACROSS * reach) & (
        np.abs(centres[neighbours, 0] - centres[me, 0]) < SAME_LINE_ALONG * reach
    )
    lined = on_line.sum(axis=1) >= MIN_LINE_NEIGHBOURS
    if not lined.any():
        return 0, 0, 0
    rows, neighbours, on_line = sample[lined], neighbours[lined], on_line[lined]
    line_top = _masked_percentile(top[neighbours], on_line, X_LINE_PERCENTILE)
    line_bottom = _masked_percentile(bottom[neighbours], on_line, 100 - X_LINE_PERCENTILE)
    x_height = line_bottom - line_top
    valid = x_height >= MIN_GLYPH_PIXELS
    up = (top[rows] < line_top - STICK_OUT * x_height) & (bottom[rows] <= line_bottom + STAY_IN * x_height)
    hang = (bottom[rows] > line_bottom + STICK_OUT * x_height) & (top[rows] >= line_top - STAY_IN * x_height)
    return int((up & valid).sum()), int((hang & valid).sum()), int(valid.sum())


def _masked_percentile(values: NDArray[np.float64], mask: NDArray[np.bool_], percent: float) -> NDArray[np.float64]:
    """Per row, the ``percent`` percentile (nearest rank) of the values where ``mask`` holds (each row has some)."""
    ranked = np.sort(np.where(mask, values, np.inf), axis=1)
    rank = np.rint(percent / 100 * (mask.sum(axis=1) - 1)).astype(np.intp)
    return np.take_along_axis(ranked, rank[:, None], axis=1)[:, 0]
