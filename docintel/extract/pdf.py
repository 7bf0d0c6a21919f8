"""PDF text: pypdfium2 for text layers and ruled tables, tesseract for scans.

pypdfium2 reads a text layer in about 1 ms a page and pdfplumber in about 80 (2-3 s on pages dense with
vector paths, such as forms), so tables are found from pypdfium2's page objects: straight path objects are
rules, crossing rules form grids, and neighbouring cells that no rule separates are one merged cell. Grids
are read cell by cell from pdfium's character boxes, each table row one line with its cells joined by
" | ". pdfium keeps right-to-left text in logical order, where pdfplumber returns it reversed. Pages whose
text layer is missing or junk (too few characters, ``(cid:NN)`` codes, private-use glyphs, symbols instead
of words) are rendered at ``OcrSettings.dpi`` and read with :class:`TesseractOcr`.
"""

from __future__ import annotations

import bisect
import ctypes
import io
import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from PIL import Image

from docintel.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from docintel.extract.base import ExtractContext
from docintel.extract.ocr import TesseractOcr, prepare_image
from docintel.extract.render import render_page
from docintel.models import Extraction, Page, PageMethod
from docintel.settings import OcrSettings

logger = logging.getLogger(__name__)

CELL_SEPARATOR = " | "

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
# Latin letters: the vowel test only makes sense for them (Cyrillic or Greek words have no Latin vowels).
_LATIN_LETTERS = re.compile(r"^[A-Za-z\u00c0-\u024f\u1e00-\u1eff]+$")
# Junk share of characters (control, private-use, replacement) above which a text layer is not text.
MAX_JUNK_CHAR_SHARE = 0.1
# Control characters (but tab and newline), private-use glyph codes, the replacement character, lone surrogates.
_JUNK_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ud800-\udfff\U000f0000-\U0010ffff]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Hyphens, apostrophes and slashes join words; ZWNJ/ZWJ sit inside Persian and Indic words.
_WORD_JOINERS = re.compile("[-'’/\u200c\u200d]")
# Arabic lam and the alefs it forms ligatures with (plain, madda, hamza above, hamza below).
_LAM = "\u0644"
_ALEFS = frozenset("\u0627\u0622\u0623\u0625")
_ALEF_LAM = re.compile("[\u0627\u0622\u0623\u0625]\u0644")
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
    """Decide whether a text layer holds real text (in any script) or is missing, font-code junk or symbols.

    Junk is what broken font encodings leave: ``(cid:NN)`` codes, private-use glyphs, replacement and
    control characters, or Latin-alphabet tokens that no language spells (symbol runs, consonant strings,
    random casing). Numbers count as text, and scripts without letter case (Arabic, Hebrew, CJK, Hangul,
    Indic) count as words when their tokens are letters, so only the Latin-shaped tests can reject them.
    """
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
    considered = words = numbers = 0
    # A few hundred tokens tell real text from junk as well as a whole page does, at a fraction of the cost.
    sample = (
        _CID_CODE.sub(" ", text).split()[:WORD_CHECK_SAMPLE_TOKENS] if cid_codes else tokens[:WORD_CHECK_SAMPLE_TOKENS]
    )
    for raw_token in sample:
        token = _strip_punctuation(raw_token)
        if not token:
            continue
        if _NUMBER_LIKE.match(token):
            numbers += 1  # figures are real text: a table of them, or a page of dates, is not junk
            continue
        considered += 1
        words += _is_word_shaped(token)
    if considered and (words + numbers) / (considered + numbers) < settings.min_text_layer_word_ratio:
        return TextLayerCheck(False, f"{words} of {considered} tokens look like words")
    return TextLayerCheck(True)


def _strip_punctuation(token: str) -> str:
    """The token without leading and trailing punctuation, ASCII or any script's (e.g. CJK brackets, 「」)."""
    start, end = 0, len(token)
    while start < end and (token[start] in _TOKEN_EDGE_PUNCTUATION or unicodedata.category(token[start])[0] == "P"):
        start += 1
    while end > start and (token[end - 1] in _TOKEN_EDGE_PUNCTUATION or unicodedata.category(token[end - 1])[0] == "P"):
        end -= 1
    return token[start:end]


def _is_word_shaped(token: str) -> bool:
    """Letters in one of the usual casings (hyphens and apostrophes allowed), and a vowel in longer Latin words.

    A part without cased letters (Arabic, Hebrew, CJK, Hangul, Indic...) is a word when it is made of
    letters and marks; CJK runs carry their punctuation and digits inside the token, so those pass too.
    """
    parts = [part for part in _WORD_JOINERS.split(token) if part]
    if not parts:
        return False
    for part in parts:
        if part.lower() == part.upper():  # no cased letters: not Latin, Greek or Cyrillic
            if not _is_uncased_script_word(part):
                return False
            continue
        # isalpha() is False for combining accents (decomposed é, Vietnamese tones): marks count as letters.
        if not part.isalpha() and not all(char.isalpha() or unicodedata.category(char)[0] == "M" for char in part):
            return False
        if len(part) > 3 and _LATIN_LETTERS.match(part) and not _VOWELS.intersection(part):
            return False
        if not (part.islower() or part.isupper() or (part[0].isupper() and part[1:].islower())):
            return False
    return True


def _is_uncased_script_word(part: str) -> bool:
    """Letters of a caseless script, with the marks, digits and punctuation that run inside CJK and Arabic text."""
    letters = 0
    for char in part:
        category = unicodedata.category(char)
        if category[0] == "L":
            letters += 1
        elif category[0] not in "MNP":
            return False  # symbols (Sm, So, Sc...) are what junk is made of
    return letters > 0


@dataclass(frozen=True)
class Rule:
    """A straight ruling line on a page, in PDF points: ``position`` is y for horizontal rules, x for vertical."""

    horizontal: bool
    position: float
    start: float
    end: float


@dataclass(frozen=True)
class RuledGrid:
    """A table drawn as a grid: column edges left to right, row edges top to bottom (PDF y falls downwards).

    ``merged`` maps each cell that a missing inner rule joins to a neighbour onto the top-left cell of the
    merged cell; cells not in it stand alone.
    """

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    regular: bool  # every rule spans the whole grid: no merged cells, so cells are the plain cross product
    merged: Mapping[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the (merged) cell holding a point, or None when the point is outside the grid."""
        if not (self.xs[0] <= x <= self.xs[-1] and self.ys[-1] <= y <= self.ys[0]):
            return None
        column = min(bisect.bisect_right(self.xs, x) - 1, len(self.xs) - 2)
        row = min(bisect.bisect_right([-y for y in self.ys], -y) - 1, len(self.ys) - 2)
        return self.merged.get((row, column), (row, column))


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
    return _spans_cover(_spans_at(rules, position), low, high)


def _spans_at(rules: list[Rule], position: float) -> list[tuple[float, float]]:
    return sorted((rule.start, rule.end) for rule in rules if abs(rule.position - position) <= RULE_SNAP)


def _spans_cover(spans: list[tuple[float, float]], low: float, high: float) -> bool:
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
        top_down = tuple(reversed(ys))
        merged = {} if regular else _merged_cells(group_h, group_v, xs, top_down)
        grids.append(RuledGrid(tuple(xs), top_down, regular, merged))
    return grids


def _merged_cells(
    horizontals: list[Rule], verticals: list[Rule], xs: list[float], ys: tuple[float, ...]
) -> dict[tuple[int, int], tuple[int, int]]:
    """Join neighbouring cells that no rule separates; map every joined cell to its merged cell's top-left cell."""
    rows, columns = len(ys) - 1, len(xs) - 1
    v_spans = [_spans_at(verticals, x) for x in xs]
    h_spans = [_spans_at(horizontals, y) for y in ys]
    parent = {(row, column): (row, column) for row in range(rows) for column in range(columns)}

    def root(cell: tuple[int, int]) -> tuple[int, int]:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    def join(first: tuple[int, int], second: tuple[int, int]) -> None:
        first_root, second_root = root(first), root(second)
        if first_root != second_root:
            # The smaller (row, column) wins, so a merged cell is named by its top-left cell.
            low, high = sorted((first_root, second_root))
            parent[high] = low

    for row in range(rows):
        for column in range(columns):
            if column + 1 < columns and not _spans_cover(v_spans[column + 1], ys[row + 1], ys[row]):
                join((row, column), (row, column + 1))
            if row + 1 < rows and not _spans_cover(h_spans[row + 1], xs[column], xs[column + 1]):
                join((row, column), (row + 1, column))
    return {cell: root(cell) for cell in parent if root(cell) != cell}


def grid_page_text(textpage: pdfium.PdfTextPage, grids: list[RuledGrid]) -> str:
    """A page's text with each grid's rows on their own lines, cells joined, read from pdfium's char boxes.

    Characters are taken in pdfium's reading order (logical order for right-to-left scripts); a grid's
    rows go where its first character was met. A merged cell's text goes in its top-left cell, and the
    cells it covers stay empty, so columns keep their places.
    """
    left, right, bottom, top = (ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double())
    segments: list[list[str] | int] = [[]]  # runs of outside text, and grid numbers where each grid belongs
    cells: list[dict[tuple[int, int], list[str]]] = [{} for _ in grids]
    current: list[str] = []  # where generated spaces and line breaks go: the region of the last real char
    placed: set[int] = set()
    previous_box: tuple[float, float, float, float] | None = None
    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if pdfium_c.FPDFText_IsGenerated(textpage, index) or char in "\r\n":
            current.append(char)
            continue
        pdfium_c.FPDFText_GetCharBox(textpage, index, left, right, bottom, top)
        box = (left.value, right.value, bottom.value, top.value)
        if char == _LAM and box == previous_box and current and current[-1] in _ALEFS:
            current.insert(len(current) - 1, char)  # a lam-alef ligature pdfium spelt alef first (see below)
            continue
        previous_box = box
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
                    " ".join(
                        _CONTROL_CHARS.sub(
                            "", "".join(cells[segment].get((row, column), [])).replace("\ufffe", "-")
                        ).split()
                    )
                    for column in range(len(grid.xs) - 1)
                ]
                if any(row_cells):
                    parts.append(CELL_SEPARATOR.join(row_cells))
        else:
            text = _clean_text_layer("".join(segment))
            if text:
                parts.append(text)
    return "\n".join(parts)


def fix_lam_alef_ligatures(textpage: pdfium.PdfTextPage, text: str) -> str:
    """Put lam before alef where pdfium spelt an Arabic lam-alef ligature glyph backwards.

    A ligature glyph maps to two characters that share one character box; pdfium emits the alef first
    ("اإلنتاجية" for "الإنتاجية"), which breaks the article al- before every alef-initial word. Only pairs
    whose boxes coincide are swapped, so a real alef-then-lam ("ألم") stays as written. ``text`` must be
    the page's full ``get_text_range()``, whose indexes are pdfium's character indexes.
    """
    if _LAM not in text or not _ALEF_LAM.search(text):
        return text
    chars = list(text)
    for match in _ALEF_LAM.finditer(text):
        alef = match.start()
        # Characters outside the BMP take two UTF-16 units in the text, shifting indexes: verify before swapping.
        if pdfium_c.FPDFText_GetUnicode(textpage, alef) != ord(text[alef]) or pdfium_c.FPDFText_GetUnicode(
            textpage, alef + 1
        ) != ord(_LAM):
            continue
        if textpage.get_charbox(alef) == textpage.get_charbox(alef + 1):
            chars[alef], chars[alef + 1] = chars[alef + 1], chars[alef]
    return "".join(chars)


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


class PdfExtractor:
    """Reads PDFs: text layer per page, tables as rows, OCR for scanned or junk pages."""

    name = "pdf"
    # The libraries decide what text comes out, so their versions are the extractor's version.
    version = f"pypdfium2 {pdfium.PYPDFIUM_INFO}"

    def __init__(self, ocr: TesseractOcr | None = None) -> None:
        self._ocr = ocr

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Read every page (up to the page limit); raise EncryptedDocument, CorruptDocument, EmptyDocument, TooLarge."""
        if not content:
            raise EmptyDocument("the PDF file has no bytes")
        document = _open_pdf(content)
        try:
            return self._extract(document, context)
        finally:
            document.close()

    def _extract(self, document: pdfium.PdfDocument, context: ExtractContext) -> Extraction:
        total = len(document)
        if total == 0:
            raise EmptyDocument("the PDF has no pages")
        notes: list[str] = []
        count = min(total, context.limits.max_pdf_pages)
        if count < total:
            notes.append(f"read the first {count} of {total} pages (limit max_pdf_pages)")

        texts: dict[int, str] = {}
        scan_pages: list[int] = []
        for index in range(count):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = _clean_text_layer(fix_lam_alef_ligatures(textpage, textpage.get_text_range()))
                finally:
                    textpage.close()
                check = check_text_layer(text, context.ocr)
                if check.usable:
                    texts[index] = text
                    if has_ruled_table(page):
                        grids = find_grids(page_rules(page))
                        if grids:
                            texts[index] = self._read_grids(page, grids)
                elif not text and not _has_graphics(page):
                    texts[index] = ""  # a blank page: nothing to OCR
                else:
                    logger.debug("page %d has no usable text layer (%s)", index + 1, check.reason)
                    scan_pages.append(index)
            finally:
                page.close()

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
        # No dpi for the OCR: each image carries its own, lower than asked for a page too big for the pixel cap.
        images = render_pages(document, renderable, settings.dpi, context.limits.max_render_pixels)
        for index, result in zip(renderable, ocr.ocr_many(images), strict=True):
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


def render_pages(document: pdfium.PdfDocument, indexes: list[int], dpi: int, max_pixels: int) -> Iterator[Image.Image]:
    """Render pages one at a time, as the OCR pool asks for them (pdfium is not thread-safe): grey unless in colour.

    Pages are rendered in colour because tesseract thresholds each channel: dark text on coloured shading
    (table headers) survives that and is lost in one grey channel. Pages with no colour are reduced to grey.
    A page too big for ``max_pixels`` at ``dpi`` is rendered at a lower DPI; its image says which.
    """
    for index in indexes:
        page = document[index]
        try:
            rendered = render_page(page, dpi, max_pixels, prepare_image)
        except CorruptDocument as exc:
            raise CorruptDocument(f"page {index + 1} could not be rendered for OCR ({exc})") from exc
        finally:
            page.close()
        yield rendered.image


def _title(document: pdfium.PdfDocument) -> str | None:
    title = " ".join(document.get_metadata_dict(skip_empty=True).get("Title", "").split())
    if not title or title.lower() in _PLACEHOLDER_TITLES:
        return None
    return title
