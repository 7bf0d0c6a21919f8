"""HTML: the text a reader would see, with blocks on their own lines and table rows as ``cell | cell``."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import lxml
import lxml.html
from lxml import etree

from docintel.errors import EmptyDocument
from docintel.extract.base import ExtractContext
from docintel.extract.text import CELL_SEPARATOR, bom_encoding, decode_text
from docintel.models import Extraction, Page

logger = logging.getLogger(__name__)

# A meta charset declaration must sit in the first 1024 bytes (HTML spec); we look a little further
# because real pages put long comments first.
META_SCAN_BYTES = 4096

# Elements whose content a reader never sees.
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link", "iframe"})
# Elements that start a new line of text.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "html", "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "tfoot", "thead", "ul",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# libxml2 refuses NUL and most C0 controls in text; they carry no meaning in HTML.
_XML_INCOMPATIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPACES = re.compile(r"\s+")

_BREAK = object()  # marks a line break between blocks in the walker's output


def declared_charset(content: bytes) -> str | None:
    """The charset a page declares in a <meta> tag near its start, if any."""
    match = _META_CHARSET.search(content[:META_SCAN_BYTES])
    return match.group(1).decode("ascii", errors="replace") if match else None


def decode_html(content: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode HTML bytes: BOM, else the declared or meta charset if it fits, else detection."""
    if bom_encoding(content):
        return decode_text(content)
    return decode_text(content, declared or declared_charset(content))


def parse_html(html: str) -> Any:
    """Parse HTML text into an lxml tree, or None when there is nothing to parse."""
    html = _XML_INCOMPATIBLE.sub("", _XML_DECLARATION.sub("", html, count=1))
    if not html.strip():
        return None
    # huge_tree lifts libxml2's nesting limit of 256, past which it silently drops text.
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except etree.ParserError:
        return None


def html_title(root: Any) -> str | None:
    """The text of the first <title>, whitespace collapsed, or None."""
    for element in root.iter("title"):
        title = _SPACES.sub(" ", element.text_content()).strip()
        if title:
            return title
    return None


def _is_hidden(element: Any) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _tag(element: Any) -> str | None:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else None  # comments and processing instructions have no str tag


def _walk(root: Any) -> Iterator[object]:
    """Yield text pieces and _BREAK markers in reading order, iteratively (pages nest thousands deep)."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        tag = _tag(element)
        if closing:
            if tag in _BLOCK_TAGS or tag == "tr":
                yield _BREAK
            elif tag in _CELL_TAGS:
                yield CELL_SEPARATOR
            if element.tail:
                yield element.tail
            continue
        if tag is None or tag in _INVISIBLE_TAGS or _is_hidden(element):
            if element.tail and element is not root:
                yield element.tail
            continue
        if tag in _BLOCK_TAGS or tag in {"br", "tr"}:
            yield _BREAK
        if tag == "pre":
            # Preformatted text keeps its own line breaks.
            for line in element.text_content().split("\n"):
                yield line
                yield _BREAK
            if element.tail:
                yield element.tail
            continue
        if element.text:
            yield element.text
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))


def _render(pieces: Iterator[object]) -> str:
    lines: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if piece is _BREAK:
            lines.append("".join(current))
            current = []
        elif isinstance(piece, str):
            current.append(piece)
    lines.append("".join(current))
    cleaned: list[str] = []
    for line in lines:
        text = _SPACES.sub(" ", line).strip()
        # A row's trailing cell separator, and any left by hidden or empty cells, are noise.
        text = text.strip("|").strip() if CELL_SEPARATOR.strip() in text else text
        if text:
            cleaned.append(text)
    return "\n".join(cleaned)


def tree_to_text(root: Any) -> str:
    """Visible text of a parsed HTML tree."""
    return _render(_walk(root))


def html_to_text(html: str) -> str:
    """Visible text of an HTML string: blocks on their own lines, table rows as ``cell | cell``."""
    root = parse_html(html)
    return tree_to_text(root) if root is not None else ""


class HtmlExtractor:
    """Reads HTML pages into their visible text."""

    name = "html"
    version = ".".join(str(part) for part in lxml.etree.LXML_VERSION[:3])

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Decode the page and keep what a reader would see."""
        if not content:
            raise EmptyDocument("file is empty (0 bytes)")
        html, encoding = decode_html(content)
        root = parse_html(html)
        text = tree_to_text(root) if root is not None else ""
        notes = [] if text else ["no visible text"]
        return Extraction(
            pages=[Page(number=1, text=text)],
            title=html_title(root) if root is not None else None,
            metadata={"encoding": encoding},
            component=self.name,
            notes=notes,
        )
