"""Render text onto page images (PIL + DejaVu Sans), optionally made to look scanned: skew, speckle, blur."""

from __future__ import annotations

import io
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
A4_INCHES = (8.27, 11.69)
MARGIN_INCHES = 0.9
BODY_POINTS = 11
TITLE_POINTS = 14
LINE_SPACING = 1.45
# Share of pixels flipped to dark specks on a "scan": enough to look like dust, too little to fool OCR.
SPECKLE_RATE = 0.0004


def _font(path: Path, points: float, dpi: int) -> ImageFont.FreeTypeFont:
    # Bold is optional: fonts-dejavu-core ships it, but fall back to the regular face rather than fail.
    chosen = path if path.is_file() else FONT_PATH
    return ImageFont.truetype(str(chosen), size=round(points * dpi / 72))


def render_page(
    lines: list[str],
    dpi: int,
    *,
    size_inches: tuple[float, float] = A4_INCHES,
    title_lines: int = 1,
    form_rules: bool = False,
) -> Image.Image:
    """Draw lines of text, wrapped to the margins, on a white greyscale page; the first lines in bold."""
    width, height = round(size_inches[0] * dpi), round(size_inches[1] * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    body = _font(FONT_PATH, BODY_POINTS, dpi)
    title = _font(FONT_BOLD_PATH, TITLE_POINTS, dpi)
    margin = round(MARGIN_INCHES * dpi)
    y = margin
    for index, line in enumerate(lines):
        font = title if index < title_lines else body
        step = round(font.size * LINE_SPACING)
        chars_per_line = int((width - 2 * margin) / (font.getlength("abcdefghij klmnopqrst") / 21))
        if not line:
            y += step // 2
            continue
        for part in textwrap.wrap(line, chars_per_line) or [""]:
            if y + step > height - margin:
                raise ValueError("text does not fit on one page")
            draw.text((margin, y), part, fill=0, font=font)
            y += step
            if form_rules and index >= title_lines:
                # Paper forms print a rule under each answer line; OCR must read past it.
                rule_y = y - step // 10  # below the descenders, so the rule never touches a character
                draw.line((margin, rule_y, width - margin, rule_y), fill=190, width=max(1, dpi // 150))
    return page


def scanned(page: Image.Image, rng: random.Random, *, skew_degrees: float = 0.7, blur: bool = True) -> Image.Image:
    """Make a clean page look scanned: a slight rotation, dust specks and (optionally) a little optical blur."""
    tilted = page.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    pixels = tilted.load()
    assert pixels is not None
    width, height = tilted.size
    for _ in range(int(width * height * SPECKLE_RATE)):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.randrange(0, 120)
    return tilted.filter(ImageFilter.GaussianBlur(radius=0.6)) if blur else tilted


def png_bytes(image: Image.Image) -> bytes:
    """PNG encoding of an image (Pillow writes no timestamp, so output is reproducible)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 70) -> bytes:
    """JPEG encoding of an image."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
