"""Words with positions, grouped into lines and phrases: the page geometry the field finders read.

Born-digital PDF pages give words from pdfium's character boxes; scans and photos give tesseract's
word boxes. Both end up as :class:`Word` with edges as fractions of the page (origin top-left), so
the same distance thresholds work whatever the source resolution.
"""

from __future__ import annotations

import ctypes
import itertools
import re
import statistics
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from docintel.extract.ocr import OcrResult

# Two characters further apart than this share of the font height start a new word: pdfium does not
# always insert a generated space between words that a PDF places with explicit positioning.
WORD_GAP_OF_HEIGHT = 0.3
# A gap wider than this share of the line height between two words splits a line into phrases:
# label/value pairs and table cells are laid out with wider gaps than the spaces in a sentence.
PHRASE_GAP_OF_HEIGHT = 1.0
# Two words are on the same line when their vertical overlap is at least this share of the smaller height.
SAME_LINE_OVERLAP = 0.5


@dataclass(frozen=True)
class Word:
    """A word and its box on its page: edges as fractions of the page size, confidence 0-1."""

    text: str
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    conf: float = 1.0

    @property
    def height(self) -> float:
        """Height of the box."""
        return self.y1 - self.y0


@dataclass
class Span:
    """Consecutive words on one line (a phrase, or a whole line)."""

    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The words joined with single spaces."""
        return " ".join(word.text for word in self.words)

    @property
    def page(self) -> int:
        """The page the words are on."""
        return self.words[0].page

    @property
    def x0(self) -> float:
        """Left edge."""
        return min(word.x0 for word in self.words)

    @property
    def x1(self) -> float:
        """Right edge."""
        return max(word.x1 for word in self.words)

    @property
    def y0(self) -> float:
        """Top edge."""
        return min(word.y0 for word in self.words)

    @property
    def y1(self) -> float:
        """Bottom edge."""
        return max(word.y1 for word in self.words)

    @property
    def height(self) -> float:
        """Median word height: robust to one tall glyph."""
        return statistics.median(word.height for word in self.words)

    @property
    def conf(self) -> float:
        """The weakest word's confidence: a value is only as sure as its worst-read word."""
        return min(word.conf for word in self.words)


@dataclass
class Line(Span):
    """A line of words, split into phrases at wide gaps."""

    phrases: list[Span] = field(default_factory=list)

    def figures_after(self, phrase_index: int) -> bool:
        """Whether any phrase to the right of phrase ``phrase_index`` holds a digit (where a label's value sits)."""
        return any(char.isdigit() for phrase in self.phrases[phrase_index + 1 :] for char in phrase.text)


def pdf_page_words(page: pdfium.PdfPage, number: int) -> list[Word]:
    """Words of one PDF page from pdfium's per-character boxes."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        return _textpage_words(textpage, number, width, height)
    finally:
        textpage.close()


def _textpage_words(textpage: pdfium.PdfTextPage, number: int, width: float, height: float) -> list[Word]:
    # Loose boxes span the glyph's advance and the font's height: tight boxes of narrow glyphs ("1", ".")
    # leave gaps wider than a space inside a number.
    rect = pdfium_c.FS_RECTF()
    words: list[Word] = []
    chars: list[str] = []
    box: list[float] = []  # x0, y0 (top), x1, y1 (bottom) in points, top-left origin

    def flush() -> None:
        text = "".join(chars).strip()
        if text:
            words.append(Word(text, number, box[0] / width, box[1] / height, box[2] / width, box[3] / height))
        chars.clear()
        box.clear()

    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        char = chr(code) if code else " "
        if char.isspace() or code in (0xFFFE, 0xFFFF):
            flush()
            continue
        pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(rect))
        x0, x1, y0, y1 = rect.left, rect.right, height - rect.top, height - rect.bottom
        if box:
            char_height = max(box[3] - box[1], y1 - y0, 1.0)
            overlap = min(box[3], y1) - max(box[1], y0)
            if x0 - box[2] > WORD_GAP_OF_HEIGHT * char_height or x0 < box[0] - 0.5 or overlap < 0.2 * char_height:
                flush()
        if box:
            box[:] = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
        else:
            box[:] = [x0, y0, x1, y1]
        chars.append(char)
    flush()
    return words


# Rules, borders and specks that OCR reads as "words" ("|" at a receipt's edge, "—", "~"): they would end
# a line in no value, so they are dropped.
_RULE_CHARS = frozenset("|¦—–_~{}[]‘’“”'\"\\`")


def ocr_words(result: OcrResult, width: int, height: int, number: int) -> list[Word]:
    """Words of one OCR'd image, boxes scaled to fractions of the image, rules and borders left out."""
    return [
        Word(
            word.text,
            number,
            word.left / width,
            word.top / height,
            (word.left + word.width) / width,
            (word.top + word.height) / height,
            max(0.0, min(1.0, word.conf / 100)),
        )
        for word in result.words
        if not set(word.text) <= _RULE_CHARS
    ]


# A label glued to its value by a colon ("TOTAL:$8.40", "DATE:12/03/2018"): the label ends in a letter.
_GLUED_LABEL = re.compile(r"([^\W\d_][^:]*?[^\W\d_]\.?:)(?=\S*\d)(\S+)")


def split_glued(word: Word) -> list[Word]:
    """A word that is a label and its value with no space between, as two words (the box shared by characters)."""
    match = _GLUED_LABEL.fullmatch(word.text)
    if match is None:
        return [word]
    cut = word.x0 + (word.x1 - word.x0) * len(match.group(1)) / len(word.text)
    return [
        Word(match.group(1), word.page, word.x0, word.y0, cut, word.y1, word.conf),
        Word(match.group(2), word.page, cut, word.y0, word.x1, word.y1, word.conf),
    ]


def group_lines(words: list[Word]) -> list[Line]:
    """Group words into lines (by vertical overlap), left to right, lines top to bottom and page by page."""
    lines: list[Line] = []
    by_page: dict[int, list[Word]] = {}
    for word in (part for whole in words for part in split_glued(whole)):
        by_page.setdefault(word.page, []).append(word)
    for number in sorted(by_page):
        page_lines: list[Line] = []
        for word in sorted(by_page[number], key=lambda item: ((item.y0 + item.y1) / 2, item.x0)):
            target = None
            for line in reversed(page_lines[-4:]):  # only recent lines can still overlap, words come top-down
                overlap = min(line.y1, word.y1) - max(line.y0, word.y0)
                if overlap >= SAME_LINE_OVERLAP * min(line.height, word.height):
                    target = line
                    break
            if target is None:
                page_lines.append(Line(words=[word]))
            else:
                target.words.append(word)
        for line in page_lines:
            line.words.sort(key=lambda item: item.x0)
            line.phrases = split_phrases(line.words)
        page_lines.sort(key=lambda item: item.y0)
        lines.extend(page_lines)
    return lines


def split_phrases(words: list[Word]) -> list[Span]:
    """Split a left-to-right run of words into phrases wherever the gap is wider than the line height."""
    if not words:
        return []
    limit = PHRASE_GAP_OF_HEIGHT * statistics.median(word.height for word in words)
    phrases = [Span(words=[words[0]])]
    for previous, word in itertools.pairwise(words):
        if word.x0 - previous.x1 > limit:
            phrases.append(Span(words=[word]))
        else:
            phrases[-1].words.append(word)
    return phrases


# Plain-text invoices are laid out in a fixed-width font: a character is this wide for a line height of one.
TEXT_CHAR_WIDTH = 0.6
# The glyphs fill this share of a text line's height.
TEXT_GLYPH_HEIGHT = 0.8


def text_words(text: str, page: int = 1) -> list[Word]:
    """Words of a plain-text invoice with boxes from their column and row, as a fixed-width font would place them.

    Both axes share one scale, so gap-to-height ratios (phrases split at two or more spaces) hold as on a page.
    """
    rows = [row.expandtabs(8) for row in text.splitlines()]
    if not rows:
        return []
    width = max((len(row) for row in rows), default=1) * TEXT_CHAR_WIDTH
    scale = max(width, float(len(rows)), 1.0)
    words: list[Word] = []
    for number, row in enumerate(rows):
        column = 0
        for token in row.split(" "):
            if token:
                words.append(
                    Word(
                        token,
                        page,
                        column * TEXT_CHAR_WIDTH / scale,
                        number / scale,
                        (column + len(token)) * TEXT_CHAR_WIDTH / scale,
                        (number + TEXT_GLYPH_HEIGHT) / scale,
                    )
                )
            column += len(token) + 1
    return words
