"""Redacted copies of documents: personal data replaced by its type in text, blacked out on PDF pages.

- Text formats (anything docintel extracts that is not a PDF): the extracted text, pages joined, with every
  finding replaced by ``[TYPE]`` through presidio-anonymizer; written as UTF-8 text.
- PDFs: each page is re-rendered to an image (pypdfium2) and the findings are blacked out on it, then the
  images are written as a new image-only PDF, so no text layer survives to leak what was covered. Boxes come
  from pdfplumber's character boxes on born-digital pages and from tesseract's word boxes on scanned pages.
  The price is a larger, unsearchable output; drawing boxes over the original text layer would leave the
  text extractable underneath.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docintel.errors import CorruptDocument, TooLarge
from docintel.extract import ExtractContext, FileType, default_registry
from docintel.extract.render import render_page
from docintel.extract.sniff import sniff
from docintel.models import PiiFinding, join_pages

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from PIL import Image

    from docintel.enrich.analyzer import TextAnalyzer
    from docintel.settings import Settings

logger = logging.getLogger(__name__)

# What masks a personal-data character in text kept in the catalogue (catalogue.keep_text).
MASK_CHAR = "\u2588"
_NOT_SPACE = re.compile(r"\S")
# Rendering resolution of redacted PDF pages: legible for people, and an A4 page stays under ~1 MB as PNG.
REDACT_DPI = 150
# Black boxes grow by this many pixels each side so anti-aliased glyph edges are covered too.
BOX_PADDING_PX = 2


@dataclass
class RedactionResult:
    """What a redaction did: the output, how many values of each type it removed, and how."""

    out_path: Path
    file_type: str
    method: str  # "text" or "pdf_image"
    pages: int = 0
    redacted: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)  # findings ``keep`` accepted, by type
    withheld_pages: list[int] = field(default_factory=list)  # 1-based


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with every non-space character inside ``spans`` replaced by a block: same length, same offsets.

    The catalogue keeps text masked this way, so the findings' offsets still index into it (subject-access
    snippets are cut from it) while no value survives in clear.
    """
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    for span_start, span_end in sorted(spans):
        start, end = max(span_start, done), min(span_end, len(text))
        if start >= end:
            continue
        pieces += [text[done:start], _NOT_SPACE.sub(MASK_CHAR, text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def redact_text(text: str, findings: list[PiiFinding]) -> str:
    """``text`` with each finding's span replaced by ``[ENTITY_TYPE]`` (presidio-anonymizer's replace operator)."""
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    if not findings:
        return text
    results = [RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in findings]
    operators = {
        kind: OperatorConfig("replace", {"new_value": f"[{kind}]"}) for kind in {f.entity_type for f in findings}
    }
    return AnonymizerEngine().anonymize(text=text, analyzer_results=results, operators=operators).text


def redact_file(
    path: Path | str, out_path: Path | str, analyzer: TextAnalyzer, settings: Settings | None = None
) -> RedactionResult:
    """Write a redacted copy of ``path`` to ``out_path``: a PDF stays a PDF (image-only), anything else becomes text."""
    path = Path(path)
    return redact_content(path.read_bytes(), path.name, out_path, analyzer, settings)


def _split_kept(
    findings: list[PiiFinding], keep: Callable[[PiiFinding], bool] | None, result: RedactionResult
) -> list[PiiFinding]:
    """The findings to remove; those ``keep`` accepts are counted as kept."""
    removed = []
    for finding in findings:
        if keep is not None and keep(finding):
            result.kept[finding.entity_type] += 1
        else:
            removed.append(finding)
    result.redacted.update(f.entity_type for f in removed)
    return removed


def redact_content(
    content: bytes,
    name: str,
    out_path: Path | str,
    analyzer: TextAnalyzer,
    settings: Settings | None = None,
    *,
    keep: Callable[[PiiFinding], bool] | None = None,
    withheld_pages: Mapping[int, str] | None = None,
) -> RedactionResult:
    """Redact a document's bytes into ``out_path``; ``keep`` spares findings, ``withheld_pages`` (1-based) go whole."""
    out_path = Path(out_path)
    withheld = dict(withheld_pages or {})
    file_type, _mime = sniff(content, name)
    context = ExtractContext(name=name) if settings is None else ExtractContext(
        name=name, limits=settings.limits, ocr=settings.ocr
    )  # fmt: skip
    if file_type is FileType.PDF:
        return _redact_pdf(content, out_path, analyzer, context, keep=keep, withheld=withheld)
    extraction = default_registry().for_type(file_type).extract(content, context)
    result = RedactionResult(out_path, file_type.value, "text", len(extraction.pages))
    pages = []
    for number, page in enumerate(extraction.pages, start=1):
        if number in withheld:
            result.withheld_pages.append(number)
        pages.append(
            page.model_copy(update={"text": f"[PAGE {number} WITHHELD: {withheld[number]}]"})
            if number in withheld
            else page
        )
    _, text = join_pages(pages)
    _, findings = analyzer.analyze(text)
    text = redact_text(text, _split_kept(findings, keep, result))
    out_path.write_text(text, encoding="utf-8")
    logger.info("redacted %d values from a %s document", sum(result.redacted.values()), file_type.value)
    return result


@dataclass(frozen=True)
class _Box:
    """A word or character run on a page image, in pixels, with its offsets in the page text."""

    start: int
    end: int
    left: float
    top: float
    right: float
    bottom: float


def _text_layer_boxes(page: object, scale: float) -> tuple[str, list[_Box]]:
    """The page text rebuilt from pdfplumber characters (one box per character), lines split on their top."""
    chars = sorted(
        (c for c in page.chars if c.get("text", "").strip()),  # type: ignore[attr-defined]
        key=lambda c: (round(float(c["top"])), float(c["x0"])),
    )
    text, boxes = "", []
    previous: dict[str, object] | None = None
    for char in chars:
        if previous is not None:
            same_line = abs(float(char["top"]) - float(previous["top"])) < float(char["size"]) / 2  # type: ignore[arg-type]
            if not same_line:
                text += "\n"
            elif float(char["x0"]) - float(previous["x1"]) > float(char["size"]) * 0.2:  # type: ignore[arg-type]
                text += " "
        start = len(text)
        text += char["text"]
        boxes.append(_Box(start, len(text), char["x0"] * scale, char["top"] * scale, char["x1"] * scale,
                          char["bottom"] * scale))  # fmt: skip
        previous = char
    return text, boxes


def _ocr_boxes(image: Image.Image, context: ExtractContext) -> tuple[str, list[_Box], Image.Image]:
    """The page text from tesseract's words (one box per word), and the image those boxes are on."""
    from docintel.extract.ocr import TesseractOcr

    result = TesseractOcr(context.ocr).ocr(image)  # at the DPI the page was rendered at (in image.info)
    if result.rotation:
        image = image.rotate(-result.rotation, expand=True)
    text, boxes = "", []
    previous = None
    for word in result.words:
        if previous is not None:
            text += " " if (word.block, word.paragraph, word.line) == previous else "\n"
        start = len(text)
        text += word.text
        boxes.append(_Box(start, len(text), word.left, word.top, word.left + word.width, word.top + word.height))
        previous = (word.block, word.paragraph, word.line)
    return text, boxes, image


def _black_out(image: Image.Image, boxes: list[_Box], findings: list[PiiFinding]) -> int:
    """Draw a black rectangle over every box a finding overlaps; the number of boxes covered."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    covered = 0
    for finding in findings:
        for box in boxes:
            if box.start < finding.end and finding.start < box.end:
                draw.rectangle(
                    (box.left - BOX_PADDING_PX, box.top - BOX_PADDING_PX,
                     box.right + BOX_PADDING_PX, box.bottom + BOX_PADDING_PX),
                    fill="black",
                )  # fmt: skip
                covered += 1
    return covered


def _rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def _withheld_page(image: Image.Image, label: str) -> Image.Image:
    """A blank page of the same size saying which exemption withheld it: nothing of the original survives."""
    from PIL import Image as PilImage
    from PIL import ImageDraw, ImageFont

    page = PilImage.new("RGB", image.size, "white")
    font = ImageFont.load_default(size=max(12, image.size[0] // 40))
    ImageDraw.Draw(page).text((image.size[0] // 12, image.size[1] // 8), f"Page withheld: {label}", fill="black",
                              font=font)  # fmt: skip
    return page


def _redact_pdf(
    content: bytes,
    out_path: Path,
    analyzer: TextAnalyzer,
    context: ExtractContext,
    *,
    keep: Callable[[PiiFinding], bool] | None = None,
    withheld: Mapping[int, str] | None = None,
) -> RedactionResult:
    import io

    import pdfplumber
    import pypdfium2

    result = RedactionResult(out_path, FileType.PDF.value, "pdf_image")
    images: list[Image.Image] = []
    try:
        rendered = pypdfium2.PdfDocument(content)
        plumbed = pdfplumber.open(io.BytesIO(content))
    except Exception as exc:  # pypdfium2 and pdfminer raise their own (and bare) exception types on bad files
        raise CorruptDocument(f"PDF could not be opened for redaction: {type(exc).__name__}") from exc
    try:
        if len(rendered) > context.limits.max_pdf_pages:
            raise TooLarge(f"PDF has {len(rendered)} pages, over the {context.limits.max_pdf_pages} limit")
        for index in range(len(rendered)):
            page = rendered[index]
            try:
                # Under the pixel cap a huge page comes back at a lower DPI: its boxes scale with what it got.
                bitmap = render_page(page, REDACT_DPI, context.limits.max_render_pixels, _rgb)
            finally:
                page.close()
            image = bitmap.image
            if withheld and index + 1 in withheld:
                images.append(_withheld_page(image, withheld[index + 1]))
                result.withheld_pages.append(index + 1)
                continue
            text, boxes = _text_layer_boxes(plumbed.pages[index], bitmap.scale)
            if len(text.strip()) < context.ocr.min_text_layer_chars:
                text, boxes, image = _ocr_boxes(image, context)
            _, findings = analyzer.analyze(text)
            _black_out(image, boxes, _split_kept(findings, keep, result))
            images.append(image)
    finally:
        plumbed.close()
        rendered.close()
    result.pages = len(images)
    if not images:
        raise CorruptDocument("PDF has no pages")
    images[0].save(out_path, format="PDF", save_all=True, append_images=images[1:], resolution=REDACT_DPI)
    logger.info("redacted %d values on %d PDF pages", sum(result.redacted.values()), result.pages)
    return result
