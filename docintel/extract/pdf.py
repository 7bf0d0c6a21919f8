"""PDF text: pypdfium2 for text layers and ruled tables, pdfplumber for merged-cell tables, tesseract for scans.

pypdfium2 reads a text layer in about 1 ms a page and pdfplumber in about 80 (much more on dense pages),
so tables are found from pypdfium2's page objects: straight path objects are rules, crossing rules form
grids. A regular grid (every rule spans it) is read cell by cell from pdfium's character boxes; only a
grid with merged cells sends its page to pdfplumber's table finder. Either way each table row becomes
one line with its cells joined by " | ". Pages whose text layer is missing or junk (too few characters,
``(cid:NN)`` codes, symbols instead of words) are rendered at ``OcrSettings.dpi`` and read with
:class:`TesseractOcr`.
"""

from __future__ import annotations

import bisect
import ctypes
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from PIL import Image

from docintel.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from docintel.extract.base import ExtractContext
from docintel.extract.ocr import TesseractOcr
from docintel.models import Extraction, Page, PageMethod
from docintel.settings import OcrSettings

logger = logging.getLogger(__name__)

CELL_SEPARATOR = " | "
POINTS_PER_INCH = 72

# A rule is a path at most this thick (points) and at least this long; thinner-than-text lines are grid lines.
RULE_MAX_THICKNESS = 2.0
RULE_MIN_LENGTH = 8.0
# A ruled table needs at least this many horizontal and vertical rules (a 2x2 grid has 3 of each).
TABLE_MIN_RULES = 3
# Rules closer than this (points) are the same rule: a cell border drawn twice, or a thick border's two edges.
RULE_SNAP = 2.0
# Stop counting page objects past this many: a map or a CAD drawing has tens of thousands.
TABLE_SCAN_MAX_OBJECTS = 5000

# Characters that mark a text layer as font-code junk rather than words.
_CID_CODE = re.compile(r"\(cid:\d+\)")
_TOKEN_EDGE_PUNCTUATION = "\"'‘’“”.,;:!?()[]{}<>*•·–—-/\\"  # noqa: S105 - not a password
_NUMBER_LIKE = re.compile(r"^[£$€+\-]?[\d.,:/%()\-]*\d[\d.,:/%()\-]*[a-zA-Z]{0,2}$")
_VOWELS = frozenset("aeiouyAEIOUYáéíóúàèìòùâêîôûäëïöüÿ")
# Junk share of characters (control, private-use, replacement) above which a text layer is not text.
MAX_JUNK_CHAR_SHARE = 0.1
# Control characters (but tab and newline), private-use glyph codes, the replacement character, lone surrogates.
_JUNK_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ud800-\udfff\U000f0000-\U0010ffff]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WORD_JOINERS = re.compile(r"[-'’/]")
# How many tokens of a page the word-shape test looks at.
WORD_CHECK_SAMPLE_TOKENS = 400
# Placeholder titles that PDF producers write when the author set none.
_PLACEHOLDER_TITLES = frozenset({"untitled", "unknown", "title", "document"})


@dataclass(frozen=True)
class TextLayerCheck:
    """Whether a page's text layer can be trusted, and why not."""

    usable: bool
    reason: str = ""


def check_text_layer(text: str, settings: OcrSettings) -> TextLayerCheck:
    """Decide whether a text layer holds real text or is missing, font-code junk or symbols."""
    tokens = text.split()
    visible = sum(map(len, tokens))
    if visible < settings.min_text_layer_chars:
        return TextLayerCheck(False, f"{visible} characters")
    cid_codes = _CID_CODE.findall(text)
    if sum(len(code) for code in cid_codes) > visible * MAX_JUNK_CHAR_SHARE:
        return TextLayerCheck(False, "font codes (cid:NN) instead of text")
    junk = len(_JUNK_CHARS.findall(text))
    if junk > visible * MAX_JUNK_CHAR_SHARE:
        return TextLayerCheck(False, "control or private-use characters")
    considered = words = 0
    # A few hundred tokens tell real text from junk as well as a whole page does, at a fraction of the cost.
    sample = (
        _CID_CODE.sub(" ", text).split()[:WORD_CHECK_SAMPLE_TOKENS] if cid_codes else tokens[:WORD_CHECK_SAMPLE_TOKENS]
    )
    for raw_token in sample:
        token = raw_token.strip(_TOKEN_EDGE_PUNCTUATION)
        if not token or _NUMBER_LIKE.match(token):
            continue  # numbers are real text but not words: a table of figures must not count as junk
        considered += 1
        words += _is_word_shaped(token)
    if considered and words / considered < settings.min_text_layer_word_ratio:
        return TextLayerCheck(False, f"{words} of {considered} tokens look like words")
    return TextLayerCheck(True)


def _is_word_shaped(token: str) -> bool:
    """Letters only (hyphens and apostrophes allowed), a vowel in longer words, and one of the usual casings."""
    parts = [part for part in _WORD_JOINERS.split(token) if part]
    if not parts:
        return False
    for part in parts:
        if not part.isalpha():
            return False
        if len(part) > 3 and not _VOWELS.intersection(part):
            return False
        if not (part.islower() or part.isupper() or (part[0].isupper() and part[1:].islower())):
            return False
    return True


@dataclass(frozen=True)
class Rule:
    """A straight ruling line on a page, in PDF points: ``position`` is y for horizontal rules, x for vertical."""

    horizontal: bool
    position: float
    start: float
    end: float


@dataclass(frozen=True)
class RuledGrid:
    """A table drawn as a grid: column edges left to right, row edges top to bottom (PDF y falls downwards)."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    regular: bool  # every rule spans the whole grid: no merged cells, so cells are the plain cross product

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the cell holding a point, or None when the point is outside the grid."""
        if not (self.xs[0] <= x <= self.xs[-1] and self.ys[-1] <= y <= self.ys[0]):
            return None
        column = min(bisect.bisect_right(self.xs, x) - 1, len(self.xs) - 2)
        row = min(bisect.bisect_right([-y for y in self.ys], -y) - 1, len(self.ys) - 2)
        return row, column


def _classify_path(obj: object, bounds: tuple[float, float, float, float]) -> list[Rule]:
    left, bottom, right, top = bounds
    width, height = right - left, top - bottom
    if height <= RULE_MAX_THICKNESS and width >= RULE_MIN_LENGTH:
        return [Rule(True, (top + bottom) / 2, left, right)]
    if width <= RULE_MAX_THICKNESS and height >= RULE_MIN_LENGTH:
        return [Rule(False, (left + right) / 2, bottom, top)]
    if width >= RULE_MIN_LENGTH and height >= RULE_MIN_LENGTH and pdfium_c.FPDFPath_CountSegments(obj) <= 5:
        # A cell drawn as a rectangle (few segments; curves such as logos have many): its four edges.
        return [
            Rule(True, top, left, right),
            Rule(True, bottom, left, right),
            Rule(False, left, bottom, top),
            Rule(False, right, bottom, top),
        ]
    return []


def page_rules(page: pdfium.PdfPage, enough: int | None = None) -> list[Rule]:
    """Straight rules drawn by the page's path objects; stop once ``enough`` of each direction are found."""
    rules: list[Rule] = []
    horizontal = vertical = 0
    count = min(pdfium_c.FPDFPage_CountObjects(page), TABLE_SCAN_MAX_OBJECTS)
    left, bottom, right, top = (pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT())
    for index in range(count):
        obj = pdfium_c.FPDFPage_GetObject(page, index)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            continue
        found = _classify_path(obj, (left.value, bottom.value, right.value, top.value))
        rules.extend(found)
        horizontal += sum(rule.horizontal for rule in found)
        vertical += sum(not rule.horizontal for rule in found)
        if enough is not None and horizontal >= enough and vertical >= enough:
            break
    return rules


def has_ruled_table(page: pdfium.PdfPage) -> bool:
    """Cheaply tell whether a page draws enough horizontal and vertical rules to hold a table."""
    rules = page_rules(page, enough=TABLE_MIN_RULES)
    horizontal = sum(rule.horizontal for rule in rules)
    return horizontal >= TABLE_MIN_RULES and len(rules) - horizontal >= TABLE_MIN_RULES


def _merge_positions(positions: list[float]) -> list[float]:
    merged: list[float] = []
    for position in sorted(positions):
        if merged and position - merged[-1] <= RULE_SNAP:
            continue
        merged.append(position)
    return merged


def _covers(rules: list[Rule], position: float, low: float, high: float) -> bool:
    """Whether the rules at ``position`` together run (almost) the whole way from ``low`` to ``high``."""
    spans = sorted((rule.start, rule.end) for rule in rules if abs(rule.position - position) <= RULE_SNAP)
    covered, reach = 0.0, low
    for span_start, span_end in spans:
        start, end = max(span_start, reach), min(span_end, high)
        if end > start:
            covered += end - start
            reach = end
    return covered >= (high - low) - 2 * RULE_SNAP


def find_grids(rules: list[Rule]) -> list[RuledGrid]:
    """Group crossing rules into grids of at least 2x2 cells."""
    horizontals = [rule for rule in rules if rule.horizontal]
    verticals = [rule for rule in rules if not rule.horizontal]
    parent = list(range(len(horizontals) + len(verticals)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for h_index, h_rule in enumerate(horizontals):
        for v_index, v_rule in enumerate(verticals):
            crosses = (
                h_rule.start - RULE_SNAP <= v_rule.position <= h_rule.end + RULE_SNAP
                and v_rule.start - RULE_SNAP <= h_rule.position <= v_rule.end + RULE_SNAP
            )
            if crosses:
                parent[root(h_index)] = root(len(horizontals) + v_index)
    groups: dict[int, list[Rule]] = {}
    for index, rule in enumerate(horizontals + verticals):
        groups.setdefault(root(index), []).append(rule)
    grids: list[RuledGrid] = []
    for group in groups.values():
        group_h = [rule for rule in group if rule.horizontal]
        group_v = [rule for rule in group if not rule.horizontal]
        ys = _merge_positions([rule.position for rule in group_h])
        xs = _merge_positions([rule.position for rule in group_v])
        if len(xs) < 3 or len(ys) < 3:
            continue
        regular = all(_covers(group_h, y, xs[0], xs[-1]) for y in ys) and all(
            _covers(group_v, x, ys[0], ys[-1]) for x in xs
        )
        grids.append(RuledGrid(tuple(xs), tuple(reversed(ys)), regular))
    return grids


def grid_page_text(textpage: pdfium.PdfTextPage, grids: list[RuledGrid]) -> str:
    """A page's text with each regular grid's rows on their own lines, cells joined, read from pdfium's char boxes.

    Characters are taken in pdfium's reading order; a grid's rows go where its first character was met.
    """
    left, right, bottom, top = (ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double())
    segments: list[list[str] | int] = [[]]  # runs of outside text, and grid numbers where each grid belongs
    cells: list[dict[tuple[int, int], list[str]]] = [{} for _ in grids]
    current: list[str] = []  # where generated spaces and line breaks go: the region of the last real char
    placed: set[int] = set()
    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if pdfium_c.FPDFText_IsGenerated(textpage, index) or char in "\r\n":
            current.append(char)
            continue
        pdfium_c.FPDFText_GetCharBox(textpage, index, left, right, bottom, top)
        x, y = (left.value + right.value) / 2, (bottom.value + top.value) / 2
        for number, grid in enumerate(grids):
            cell = grid.cell_at(x, y)
            if cell is not None:
                if number not in placed:
                    placed.add(number)
                    segments.extend([number, []])
                current = cells[number].setdefault(cell, [])
                break
        else:
            last = segments[-1]
            assert isinstance(last, list)
            current = last
        current.append(char)
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            grid = grids[segment]
            for row in range(len(grid.ys) - 1):
                row_cells = [
                    " ".join("".join(cells[segment].get((row, column), [])).replace("\ufffe", "-").split())
                    for column in range(len(grid.xs) - 1)
                ]
                if any(row_cells):
                    parts.append(CELL_SEPARATOR.join(row_cells))
        else:
            text = _clean_text_layer("".join(segment))
            if text:
                parts.append(text)
    return "\n".join(parts)


def _has_graphics(page: pdfium.PdfPage) -> bool:
    """Whether a page draws anything besides text: a page with neither text nor graphics is blank, not a scan."""
    for index in range(pdfium_c.FPDFPage_CountObjects(page)):
        if pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page, index)) != pdfium_c.FPDF_PAGEOBJ_TEXT:
            return True
    return False


def _clean_text_layer(text: str) -> str:
    # pdfium ends lines with CRLF, replaces a hyphen that breaks a word at a line end (and the line
    # break) with U+FFFE (U+0002 in older builds), and leaves control characters for unmapped glyphs.
    # The hyphen and break are put back as printed; joining the halves would also join "council-owned".
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "-\n").replace("\x02", "-\n")
    return _CONTROL_CHARS.sub("", text).strip()


def table_page_text(page: pdfplumber.page.Page) -> str | None:
    """A page's text with each ruled table's rows on their own lines; None when pdfplumber finds no real table."""
    tables = [(table, table.extract()) for table in page.find_tables()]
    tables = [(table, rows) for table, rows in tables if len(rows) >= 2 and max(len(row) for row in rows) >= 2]
    if not tables:
        return None
    lines: list[tuple[float, float, str]] = []
    outside = page
    for table, rows in tables:
        # Tables can overhang the page edge; strict=False clips instead of raising.
        outside = outside.outside_bbox(table.bbox, strict=False)
        for row, cells in zip(table.rows, rows, strict=True):
            cell_texts = [" ".join((cell or "").split()) for cell in cells]
            lines.append((row.bbox[1], row.bbox[0], CELL_SEPARATOR.join(cell_texts)))
    for line in outside.extract_text_lines():
        lines.append((line["top"], line["x0"], line["text"]))
    lines.sort(key=lambda item: (round(item[0]), item[1]))
    return "\n".join(text for _, _, text in lines)


class PdfExtractor:
    """Reads PDFs: text layer per page, tables as rows, OCR for scanned or junk pages."""

    name = "pdf"
    # The libraries decide what text comes out, so their versions are the extractor's version.
    version = f"pypdfium2 {pdfium.PYPDFIUM_INFO} / pdfplumber {pdfplumber.__version__}"

    def __init__(self, ocr: TesseractOcr | None = None) -> None:
        self._ocr = ocr

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Read every page (up to the page limit); raise EncryptedDocument, CorruptDocument, EmptyDocument, TooLarge."""
        if not content:
            raise EmptyDocument("the PDF file has no bytes")
        document = _open_pdf(content)
        try:
            return self._extract(document, content, context)
        finally:
            document.close()

    def _extract(self, document: pdfium.PdfDocument, content: bytes, context: ExtractContext) -> Extraction:
        total = len(document)
        if total == 0:
            raise EmptyDocument("the PDF has no pages")
        notes: list[str] = []
        count = min(total, context.limits.max_pdf_pages)
        if count < total:
            notes.append(f"read the first {count} of {total} pages (limit max_pdf_pages)")

        texts: dict[int, str] = {}
        table_pages: list[int] = []
        scan_pages: list[int] = []
        for index in range(count):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = _clean_text_layer(textpage.get_text_range())
                finally:
                    textpage.close()
                check = check_text_layer(text, context.ocr)
                if check.usable:
                    texts[index] = text
                    if has_ruled_table(page):
                        grids = find_grids(page_rules(page))
                        if any(not grid.regular for grid in grids):
                            table_pages.append(index)  # merged cells: pdfplumber's table finder handles those
                        elif grids:
                            texts[index] = self._read_grids(page, grids)
                elif not text and not _has_graphics(page):
                    texts[index] = ""  # a blank page: nothing to OCR
                else:
                    logger.debug("page %d has no usable text layer (%s)", index + 1, check.reason)
                    scan_pages.append(index)
            finally:
                page.close()

        if table_pages:
            texts.update(self._read_tables(content, table_pages, notes))
        pages = [Page(number=index + 1, text=text) for index, text in texts.items()]
        if scan_pages:
            pages.extend(self._read_scans(document, scan_pages, context, notes))
        pages.sort(key=lambda page: page.number)
        metadata = {"page_count": str(total)}
        if scan_pages:
            metadata["ocr_pages"] = str(len(scan_pages))
        return Extraction(
            pages=pages,
            title=_title(document),
            metadata=metadata,
            component=f"{self.name} {self.version}",
            notes=notes,
        )

    @staticmethod
    def _read_grids(page: pdfium.PdfPage, grids: list[RuledGrid]) -> str:
        textpage = page.get_textpage()
        try:
            return grid_page_text(textpage, grids)
        finally:
            textpage.close()

    def _read_tables(self, content: bytes, indexes: list[int], notes: list[str]) -> dict[int, str]:
        """Re-read the pages that draw grids with pdfplumber so their tables keep rows and cells."""
        texts: dict[int, str] = {}
        failed = 0
        try:
            with pdfplumber.open(io.BytesIO(content), pages=[index + 1 for index in indexes]) as plumber:
                for index, page in zip(indexes, plumber.pages, strict=True):
                    try:
                        text = table_page_text(page)
                    except Exception as exc:  # pdfminer raises many types; pdfium's text stands
                        logger.warning("table extraction failed on page %d: %s", index + 1, type(exc).__name__)
                        failed += 1
                        continue
                    finally:
                        page.close()
                    if text is not None:
                        texts[index] = text
        except Exception as exc:  # as above, for the whole file
            logger.warning("table extraction failed, keeping plain text: %s", type(exc).__name__)
            failed = len(indexes) - len(texts)
        if failed:
            notes.append(f"tables not extracted on {failed} page(s); plain text kept")
        return texts

    def _read_scans(
        self, document: pdfium.PdfDocument, indexes: list[int], context: ExtractContext, notes: list[str]
    ) -> list[Page]:
        """OCR the pages without a usable text layer, or leave them empty with a note when OCR cannot run."""
        settings = context.ocr
        if not settings.enabled:
            notes.append(f"{len(indexes)} page(s) without a usable text layer were not read (OCR disabled)")
            return [Page(number=index + 1, text="", method=PageMethod.OCR) for index in indexes]
        limit = context.limits.max_pdf_page_points
        renderable: list[int] = []
        pages: list[Page] = []
        for index in indexes:
            page = document[index]
            width, height = page.get_size()
            page.close()
            if max(width, height) > limit:
                if len(document) == 1:
                    raise TooLarge(f"the only page is {width:.0f}x{height:.0f} pt, over the {limit:g} pt render limit")
                notes.append(f"page {index + 1} is {width:.0f}x{height:.0f} pt, over the {limit:g} pt limit: not OCR'd")
                pages.append(Page(number=index + 1, text="", method=PageMethod.OCR))
            else:
                renderable.append(index)
        ocr = self._ocr or TesseractOcr(settings)
        images = _render_pages(document, renderable, settings.dpi)
        for index, result in zip(renderable, ocr.ocr_many(images, dpi=settings.dpi), strict=True):
            pages.append(
                Page(number=index + 1, text=result.text, method=PageMethod.OCR, ocr_confidence=result.confidence)
            )
        return pages


def _open_pdf(content: bytes) -> pdfium.PdfDocument:
    """Open PDF bytes with pdfium, translating its load errors."""
    try:
        return pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument("the PDF is password-protected") from exc
        if _declares_no_pages(content):
            raise EmptyDocument("the PDF has no pages") from exc
        raise CorruptDocument(f"not a readable PDF ({exc})") from exc


def _declares_no_pages(content: bytes) -> bool:
    """Whether a PDF pdfium refused is a well-formed file with an empty page tree (pdfium rejects those too)."""
    try:
        document = PDFDocument(PDFParser(io.BytesIO(content)))
        pages = resolve1(document.catalog.get("Pages"))
        return isinstance(pages, dict) and resolve1(pages.get("Count")) == 0 and not resolve1(pages.get("Kids"))
    except Exception:  # any pdfminer failure means the file is corrupt, which the caller reports
        return False


def _render_pages(document: pdfium.PdfDocument, indexes: list[int], dpi: int) -> Iterator[Image.Image]:
    """Render pages to greyscale images one at a time, as the OCR pool asks for them (pdfium is not thread-safe)."""
    for index in indexes:
        page = document[index]
        try:
            bitmap = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True)
            try:
                # to_pil shares the bitmap's buffer, which close() frees: copy before closing.
                image = bitmap.to_pil().copy()
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise CorruptDocument(f"page {index + 1} could not be rendered for OCR ({exc})") from exc
        finally:
            page.close()
        image.info["dpi"] = (dpi, dpi)
        yield image


def _title(document: pdfium.PdfDocument) -> str | None:
    title = " ".join(document.get_metadata_dict(skip_empty=True).get("Title", "").split())
    if not title or title.lower() in _PLACEHOLDER_TITLES:
        return None
    return title
