"""The orientation guess from glyphs: which way up a page of Latin text is, before tesseract reads it."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from docintel.extract.orientation import OrientationGuess, glyph_boxes, guess_orientation, ink_mask, otsu_threshold
from tests.extract.conftest import FONT_PATH, render_text

LETTER = [
    "Dear resident, thank you for your letter about the",
    "parking permit scheme in the high street. The highways",
    "committee will consider the proposal at its meeting",
    "in July, and officers will reply to every objection.",
    "Please quote the reference below in any reply to us.",
    "Yours faithfully, the Head of Transport and Planning",
]
CAPITALS = [line.upper() for line in LETTER]
FIGURES = ["1042.50  2261.75  880.10  1403.00", "3150.25  4172.80  905.65  2219.40"] * 3


def _a4_page(lines: list[str], font_size: int = 40) -> Image.Image:
    """The lines near the top of a white A4 page at 300 DPI, as a scanner would deliver a short letter."""
    page = Image.new("L", (2480, 3508), 255)
    page.paste(render_text(lines, font_size=font_size), (150, 200))
    return page


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
@pytest.mark.parametrize(
    "make_page",
    [
        pytest.param(lambda: render_text(LETTER, font_size=32), id="note"),
        pytest.param(lambda: render_text(LETTER, font_size=24, mode="RGB"), id="colour-note"),
        pytest.param(lambda: render_text(LETTER, font_size=32).convert("1"), id="bilevel-note"),
        pytest.param(lambda: ImageOps.invert(render_text(LETTER, font_size=32)), id="light-on-dark"),
        pytest.param(lambda: _a4_page(LETTER, font_size=50), id="letter-on-a4"),
    ],
)
def test_turned_latin_text_is_recognised(make_page, angle: int) -> None:
    page = make_page().rotate(angle, expand=True)  # PIL turns counter-clockwise; the fix is `angle` clockwise
    assert guess_orientation(page).rotation == angle


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
@pytest.mark.parametrize(
    "make_page",
    [
        pytest.param(lambda: render_text(CAPITALS, font_size=32), id="capitals"),
        pytest.param(lambda: render_text(FIGURES, font_size=32), id="figures"),
        pytest.param(lambda: render_text(["Minutes"], font_size=32), id="one-word"),
        pytest.param(lambda: Image.new("L", (1200, 1600), 255), id="blank"),
        pytest.param(lambda: Image.new("L", (1200, 1600), 0), id="black"),
        pytest.param(lambda: _speckles(1200, 1600), id="speckles"),
    ],
)
def test_pages_without_ascender_evidence_get_no_answer(make_page, angle: int) -> None:
    assert guess_orientation(make_page().rotate(angle, expand=True)).rotation is None


def _speckles(width: int, height: int) -> Image.Image:
    """Random dots and blobs of letter size, in no lines: a halftone picture or a dirty scan."""
    rng = random.Random(7)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for _ in range(3000):
        x, y, size = rng.randrange(width), rng.randrange(height), rng.randrange(2, 14)
        draw.ellipse((x, y, x + size, y + rng.randrange(2, 14)), fill=0)
    return image


def test_answer_reports_its_evidence() -> None:
    guess = guess_orientation(render_text(LETTER, font_size=32).rotate(90, expand=True))
    assert guess.lined_down > 3 * guess.lined_across
    assert guess.ascenders > 1.5 * guess.descenders  # read along the lines, turned upright


@pytest.mark.parametrize(
    ("dark", "light", "expected_range"),
    [
        pytest.param(20, 235, range(20, 235), id="ink-and-paper"),
        pytest.param(100, 140, range(100, 140), id="faded"),
    ],
)
def test_otsu_threshold_splits_ink_from_paper(dark: int, light: int, expected_range: range) -> None:
    histogram = np.zeros(256)
    histogram[dark] = 1000
    histogram[light] = 9000
    assert otsu_threshold(histogram) in expected_range


def test_ink_is_the_minority_whichever_the_polarity() -> None:
    image = render_text(LETTER, font_size=32)
    assert ink_mask(image).mean() < 0.5
    assert ink_mask(ImageOps.invert(image)).mean() < 0.5
    assert (ink_mask(image) == ink_mask(ImageOps.invert(image))).mean() > 0.99


def test_glyph_boxes_keep_letters_and_drop_rules_and_dots() -> None:
    image = Image.new("L", (1000, 400), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT_PATH), 48)
    draw.text((50, 50), "lid", font=font, fill=0)
    draw.rectangle((20, 300, 980, 304), fill=0)  # a table rule: too wide to be a glyph
    boxes = glyph_boxes(ink_mask(image))
    heights = boxes[:, 1] - boxes[:, 0]
    widths = boxes[:, 3] - boxes[:, 2]
    # l, the stem of i and d are glyphs (the narrow l included); the dot of the i and the rule are not.
    assert len(boxes) == 3
    assert widths.max() < 100 and heights.min() >= 20


@pytest.mark.parametrize(
    ("ascenders", "descenders", "evidence"),
    [(0, 0, 0.0), (9, 0, 3.0), (0, 9, 3.0), (50, 50, 0.0), (60, 40, 2.0)],
)
def test_evidence_is_the_majority_in_standard_deviations(ascenders: int, descenders: int, evidence: float) -> None:
    guess = OrientationGuess(0, 100, 0, ascenders=ascenders, descenders=descenders)
    assert guess.evidence == pytest.approx(evidence)
