"""OpenDocument: text (ODT), spreadsheets (ODS) and presentations (ODP).

An OpenDocument file is a ZIP holding ``content.xml`` (the body), ``styles.xml`` (page headers and
footers) and ``meta.xml`` (title, author). We read them with lxml and a locked-down parser (no DTDs,
entities or network) after the same archive-limit checks as OOXML.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from typing import Any

from lxml import etree

from docintel.errors import CorruptDocument, EncryptedDocument
from docintel.extract.base import ExtractContext
from docintel.extract.office import (
    MAX_SHEET_CELLS,
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    OLE_MAGIC,
    SAFE_XML_PARSER,
    check_zip_limits,
    is_encrypted_office,
    join_row,
)
from docintel.models import Extraction, Page

logger = logging.getLogger(__name__)

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}


def _tag(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


P, H = _tag("text", "p"), _tag("text", "h")
SPACE, TAB, LINE_BREAK = _tag("text", "s"), _tag("text", "tab"), _tag("text", "line-break")
NOTE, NOTE_BODY, NOTE_CITATION = _tag("text", "note"), _tag("text", "note-body"), _tag("text", "note-citation")
TRACKED_CHANGES = _tag("text", "tracked-changes")
ANNOTATION = _tag("office", "annotation")
TABLE, ROW, CELL, COVERED_CELL = (
    _tag("table", "table"),
    _tag("table", "table-row"),
    _tag("table", "table-cell"),
    _tag("table", "covered-table-cell"),
)
ROWS_REPEATED, COLUMNS_REPEATED = _tag("table", "number-rows-repeated"), _tag("table", "number-columns-repeated")
TABLE_NAME = _tag("table", "name")
DRAW_PAGE, DRAW_NAME = _tag("draw", "page"), _tag("draw", "name")
NOTES = _tag("presentation", "notes")
# Inline drawing containers whose text boxes hold paragraphs of their own.
DRAWINGS = {_tag("draw", name) for name in ("frame", "custom-shape", "g", "text-box", "rect", "ellipse")}
# Elements that hold no document text (forms, change-tracking history of deleted text, page sequences).
SKIPPED = {TRACKED_CHANGES, _tag("office", "forms"), _tag("text", "sequence-decls"), _tag("text", "variable-decls")}


class _Collector:
    """Lines of the main flow, plus notes and comments gathered on the way to append at the end."""

    def __init__(self) -> None:
        self.notes: list[str] = []


def _inline_text(element: Any, out: list[str], deferred: list[Any], collector: _Collector) -> None:
    """Append the text inside a paragraph; drawings are deferred, notes and comments collected."""
    if element.text:
        out.append(element.text)
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            pass
        elif tag == SPACE:
            out.append(" " * int(child.get(_tag("text", "c"), "1") or 1))
        elif tag == TAB:
            out.append("\t")
        elif tag == LINE_BREAK:
            out.append("\n")
        elif tag == NOTE:
            body = child.find(NOTE_BODY)
            if body is not None:
                collector.notes.extend(_flow_lines(body, collector))
        elif tag == ANNOTATION:
            collector.notes.extend(_flow_lines(child, collector))
        elif tag == NOTE_CITATION:
            pass
        elif tag in DRAWINGS:
            deferred.append(child)
        else:
            _inline_text(child, out, deferred, collector)
        if child.tail:
            out.append(child.tail)


def _paragraph_lines(paragraph: Any, collector: _Collector) -> list[str]:
    """A text:p or text:h as a line, followed by the lines of any text boxes anchored in it."""
    parts: list[str] = []
    deferred: list[Any] = []
    _inline_text(paragraph, parts, deferred, collector)
    lines = ["".join(parts).strip()]
    for drawing in deferred:
        lines.extend(_flow_lines(drawing, collector))
    return [line for line in lines if line]


def _repeat(element: Any, attribute: str) -> int:
    try:
        return max(int(element.get(attribute, "1")), 1)
    except ValueError:
        return 1


def _table_rows(table: Any, collector: _Collector) -> tuple[list[str], bool]:
    """Rows of a table:table as lines (repeats expanded within the sheet caps), and whether a cap was hit."""
    lines: list[str] = []
    visited = 0
    for row in table.iter(ROW):
        if _nearest_table(row) is not table:
            continue  # a row of a nested table: read with its own table
        cells: list[str] = []
        # Spreadsheets pad rows with an empty cell repeated thousands of times: count empties and
        # only write them out when a value follows, so columns keep their places.
        pending_empty = 0
        for cell in row:
            if cell.tag not in (CELL, COVERED_CELL):
                continue
            text = " ".join(" ".join(_flow_lines(cell, collector)).split())
            if not text:
                pending_empty += _repeat(cell, COLUMNS_REPEATED)
                continue
            cells.extend([""] * min(pending_empty, MAX_SHEET_COLUMNS - len(cells)))
            pending_empty = 0
            cells.extend([text] * min(_repeat(cell, COLUMNS_REPEATED), MAX_SHEET_COLUMNS - len(cells)))
            if len(cells) >= MAX_SHEET_COLUMNS:
                break
        line = join_row(cells)
        repeat = _repeat(row, ROWS_REPEATED)
        visited += repeat * max(len(cells), 1)
        if line:
            lines.extend([line] * min(repeat, MAX_SHEET_ROWS - len(lines)))
        if len(lines) >= MAX_SHEET_ROWS or visited >= MAX_SHEET_CELLS:
            return lines, True
    return lines, False


def _nearest_table(element: Any) -> Any:
    parent = element.getparent()
    while parent is not None and parent.tag != TABLE:
        parent = parent.getparent()
    return parent


def _flow_lines(container: Any, collector: _Collector) -> list[str]:
    """Lines of every paragraph, heading, list and table under an element, in document order."""
    lines: list[str] = []
    for child in container:
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIPPED or tag == NOTES:
            continue
        if tag in (P, H):
            lines.extend(_paragraph_lines(child, collector))
        elif tag == TABLE:
            lines.extend(_table_rows(child, collector)[0])
        elif tag == ANNOTATION:
            collector.notes.extend(_flow_lines(child, collector))
        else:
            lines.extend(_flow_lines(child, collector))
    return lines


class _Package:
    """The parsed parts of an OpenDocument ZIP."""

    def __init__(self, content: bytes, context: ExtractContext, kind: str) -> None:
        if content.startswith(OLE_MAGIC):
            if is_encrypted_office(content):
                raise EncryptedDocument(f"{kind}: password-protected Office file")
            raise CorruptDocument(f"{kind}: an OLE container, not an OpenDocument package")
        check_zip_limits(content, context.limits, kind)
        self.kind = kind
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "content.xml" not in names:
                raise CorruptDocument(f"{kind}: no content.xml in the package")
            if "META-INF/manifest.xml" in names and self._content_encrypted(archive.read("META-INF/manifest.xml")):
                raise EncryptedDocument(f"{kind}: password-protected OpenDocument file")
            self.content = self._parse(archive, "content.xml")
            self.styles = self._parse(archive, "styles.xml") if "styles.xml" in names else None
            self.meta = self._parse(archive, "meta.xml") if "meta.xml" in names else None

    def _parse(self, archive: zipfile.ZipFile, member: str) -> Any:
        try:
            return etree.fromstring(archive.read(member), SAFE_XML_PARSER)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CorruptDocument(f"{self.kind}: {member} does not parse ({type(exc).__name__}: {exc})") from exc

    def _content_encrypted(self, manifest: bytes) -> bool:
        try:
            root = etree.fromstring(manifest, SAFE_XML_PARSER)
        except etree.XMLSyntaxError:
            return False  # an unreadable manifest is not proof of encryption; content.xml will tell
        for entry in root.iter(_tag("manifest", "file-entry")):
            if entry.get(_tag("manifest", "full-path")) == "content.xml":
                return entry.find(_tag("manifest", "encryption-data")) is not None
        return False

    def body(self, kind_element: str) -> Any:
        """The office:text / office:spreadsheet / office:presentation element."""
        body = self.content.find(f"{_tag('office', 'body')}/{_tag('office', kind_element)}")
        if body is None:
            raise CorruptDocument(f"{self.kind}: content.xml has no office:{kind_element} body")
        return body

    def headers_and_footers(self) -> tuple[list[str], list[str]]:
        """Distinct header and footer texts of the master pages in styles.xml."""
        headers: list[str] = []
        footers: list[str] = []
        if self.styles is None:
            return headers, footers
        for master in self.styles.iter(_tag("style", "master-page")):
            for local, bucket in (("header", headers), ("header-first", headers), ("footer", footers)):
                for part in master.iterchildren(_tag("style", local)):
                    text = "\n".join(_flow_lines(part, _Collector()))
                    if text and text not in bucket:
                        bucket.append(text)
        return headers, footers

    def metadata(self) -> tuple[str | None, dict[str, str]]:
        """Title and core properties from meta.xml."""
        metadata: dict[str, str] = {}
        if self.meta is None:
            return None, metadata
        fields = {
            "title": ("dc", "title"),
            "subject": ("dc", "subject"),
            "author": ("meta", "initial-creator"),
            "last_modified_by": ("dc", "creator"),
            "keywords": ("meta", "keyword"),
            "created": ("meta", "creation-date"),
            "modified": ("dc", "date"),
        }
        for key, (prefix, local) in fields.items():
            found = self.meta.find(f".//{_tag(prefix, local)}")
            if found is not None and found.text and found.text.strip():
                metadata[key] = found.text.strip()
        return metadata.get("title"), metadata


def _read(kind: str, reader: Callable[[], Extraction]) -> Extraction:
    # lxml raises its own errors on malformed but well-formed-enough trees (bad attribute values etc.).
    try:
        return reader()
    except (etree.LxmlError, ValueError) as exc:
        raise CorruptDocument(f"{kind}: malformed OpenDocument content ({type(exc).__name__}: {exc})") from exc


class OdtExtractor:
    """Reads an OpenDocument text: headings, paragraphs, lists, tables, text boxes, headers, footers and notes."""

    name = "odt"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page holding the whole document, like DOCX."""
        package = _Package(content, context, "ODT")

        def read() -> Extraction:
            collector = _Collector()
            body = _flow_lines(package.body("text"), collector)
            headers, footers = package.headers_and_footers()
            blocks = [headers, body, collector.notes, footers]
            text = "\n\n".join("\n".join(block) for block in blocks if block)
            title, metadata = package.metadata()
            return Extraction(pages=[Page(number=1, text=text)], title=title, metadata=metadata, component=self.name)

        return _read("ODT", read)


class OdsExtractor:
    """Reads an OpenDocument spreadsheet: one page per sheet, starting with its name, rows as lines."""

    name = "ods"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page per sheet; rows capped like XLSX."""
        package = _Package(content, context, "ODS")

        def read() -> Extraction:
            pages: list[Page] = []
            notes: list[str] = []
            for number, table in enumerate(package.body("spreadsheet").iterchildren(TABLE), start=1):
                name = table.get(TABLE_NAME, f"Sheet{number}")
                lines, truncated = _table_rows(table, _Collector())
                if truncated:
                    notes.append(f"sheet '{name}' truncated after {len(lines)} rows")
                pages.append(Page(number=number, text="\n".join([name, *lines])))
            title, metadata = package.metadata()
            return Extraction(pages=pages, title=title, metadata=metadata, notes=notes, component=self.name)

        return _read("ODS", read)


class OdpExtractor:
    """Reads an OpenDocument presentation: one page per slide, with its speaker notes."""

    name = "odp"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page per draw:page, in order; notes follow the slide text."""
        package = _Package(content, context, "ODP")

        def read() -> Extraction:
            pages: list[Page] = []
            for number, slide in enumerate(package.body("presentation").iterchildren(DRAW_PAGE), start=1):
                collector = _Collector()
                lines = _flow_lines(slide, collector) + collector.notes
                for notes in slide.iterchildren(NOTES):
                    speaker = _flow_lines(notes, _Collector())
                    if speaker:
                        lines += ["", *speaker]
                pages.append(Page(number=number, text="\n".join(lines)))
            title, metadata = package.metadata()
            return Extraction(pages=pages, title=title, metadata=metadata, component=self.name)

        return _read("ODP", read)
