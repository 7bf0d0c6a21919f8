"""Office Open XML: Word (DOCX), Excel (XLSX) and PowerPoint (PPTX).

OOXML files are ZIP packages, so every extractor first checks the ZIP against the archive limits
(a small file that inflates to gigabytes is refused before any library touches it) and turns an
OLE container into :class:`EncryptedDocument` when it is a password-protected package. Text comes
from python-docx, openpyxl and python-pptx; anything those libraries raise on bad input becomes a
:class:`CorruptDocument`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import docx
import msoffcrypto
import olefile
import openpyxl
import pptx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree
from pptx.shapes.group import GroupShape

from docintel.errors import ArchiveBomb, CorruptDocument, EncryptedDocument, ExtractionError
from docintel.extract.base import ExtractContext
from docintel.models import Extraction, Page
from docintel.settings import LimitSettings

logger = logging.getLogger(__name__)

# A spreadsheet can hold 1,048,576 rows x 16,384 columns; past these caps we stop reading a sheet
# and add a note, so one giant export cannot exhaust a worker's memory. 100k rows of text is far
# more than classification or PII detection needs from one sheet.
MAX_SHEET_ROWS = 100_000
# Cells visited per sheet (empty ones included, since visiting them costs time too).
MAX_SHEET_CELLS = 5_000_000
# Columns read per row; a stray value in column XFD must not make every row 16k cells wide.
MAX_SHEET_COLUMNS = 1_024

# Members smaller than this are not ratio-checked: short, repetitive XML parts (styles, empty
# sheets) legitimately compress several hundred times, and a small member cannot bomb anything.
RATIO_CHECK_MIN_BYTES = 1024 * 1024

CELL_SEPARATOR = " | "

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# WordprocessingML and markup-compatibility namespaces, for walking document.xml directly.
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = f"{{{W_NS}}}"
_MC = f"{{{MC_NS}}}"

# Parser for XML parts we read ourselves: no DTDs, no entities, no network, no huge trees.
SAFE_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)

_T = TypeVar("_T")


def check_zip_limits(content: bytes, limits: LimitSettings, kind: str, *, count_members: bool = False) -> None:
    """Refuse a ZIP package that is not a ZIP, or that would expand past the archive limits.

    ``count_members`` also holds it to ``max_archive_members`` (EPUB: every member may be a page to read;
    OOXML and OpenDocument packages are left uncounted, as a long deck or workbook has thousands of parts).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"{kind}: not a valid ZIP package ({type(exc).__name__}: {exc})") from exc
    if count_members and len(members) > limits.max_archive_members:
        raise ArchiveBomb(f"{kind}: {len(members)} members, limit {limits.max_archive_members}")
    # Declared sizes are what zipfile trusts: it stops inflating a member at its declared size and
    # fails its CRC if the data lies, so checking the directory is enough to bound memory.
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_archive_expanded_bytes:
            raise ArchiveBomb(
                f"{kind}: package expands past {limits.max_archive_expanded_bytes} bytes ({len(members)} members)"
            )
        if member.file_size >= RATIO_CHECK_MIN_BYTES:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise ArchiveBomb(
                    f"{kind}: a {member.file_size}-byte member is compressed {ratio:.0f}:1 "
                    f"(limit {limits.max_compression_ratio:.0f}:1)"
                )


def is_encrypted_office(content: bytes) -> bool:
    """True when the bytes are a password-protected Office file (encrypted OOXML or encrypted DOC/XLS/PPT)."""
    if not content.startswith(OLE_MAGIC):
        # A plain OOXML package is never encrypted as a whole (sheet/workbook protection is not encryption).
        return False
    try:
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            # An encrypted OOXML package is an OLE container holding these two streams.
            if ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"):
                return True
    except (OSError, ValueError, EOFError) as exc:
        logger.debug("OLE container unreadable while checking encryption: %s", type(exc).__name__)
        return False
    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(content)).is_encrypted())
    # msoffcrypto parses untrusted binary structures and raises anything from its own errors to
    # AssertionError and struct.error; "cannot tell" means "not known to be encrypted".
    except Exception as exc:
        logger.debug("msoffcrypto could not tell whether the file is encrypted: %s", type(exc).__name__)
        return False


def check_ooxml_container(content: bytes, limits: LimitSettings, kind: str) -> None:
    """Raise the right error for bytes that should be an OOXML package but may be encrypted, OLE or a bomb."""
    if content.startswith(OLE_MAGIC):
        if is_encrypted_office(content):
            raise EncryptedDocument(f"{kind}: password-protected Office file")
        raise CorruptDocument(f"{kind}: an OLE (legacy Office) container, not an OOXML package")
    check_zip_limits(content, limits, kind)


# Macro-enabled and template packages differ from documents only in their main part's content type, which
# python-docx and python-pptx refuse by name. Text is all we read (macros are never run): declare them plain.
_PLAIN_MAIN_TYPES = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    ),
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    ),
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    ),
}
_CONTENT_TYPES_PART = "[Content_Types].xml"


def as_plain_package(content: bytes) -> bytes:
    """The package with a macro-enabled, template or slideshow main part declared as a plain document.

    Called after :func:`check_zip_limits`, so the copy is bounded; a package that needs no change is returned as is.
    """
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        try:
            types = package.read(_CONTENT_TYPES_PART).decode("utf-8")
        except (KeyError, UnicodeDecodeError, zipfile.BadZipFile):
            return content  # the library reports what is wrong with it
        plain = types
        for special, document in _PLAIN_MAIN_TYPES.items():
            plain = plain.replace(f'"{special}"', f'"{document}"')
        if plain == types:
            return content
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for member in package.infolist():
                data = plain.encode("utf-8") if member.filename == _CONTENT_TYPES_PART else package.read(member)
                copy.writestr(member, data)
    return out.getvalue()


def open_with(library: str, kind: str, opener: Callable[[], _T]) -> _T:
    """Call a library's opener and translate whatever it raises on bad bytes into CorruptDocument."""
    try:
        return opener()
    except ExtractionError:
        raise
    # python-docx, openpyxl and python-pptx raise KeyError, ValueError, TypeError, XMLSyntaxError,
    # BadZipFile and their own errors on malformed packages; all of them mean "not readable".
    except Exception as exc:
        raise CorruptDocument(f"{kind}: {library} could not read the package ({type(exc).__name__}: {exc})") from exc


def cell_text(value: Any) -> str:
    """A spreadsheet value as text: integral floats without '.0', dates in ISO form, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def join_row(cells: Iterable[str]) -> str:
    """Cells of one row as a line, trailing empty cells dropped; empty string for an empty row."""
    values = [" ".join(cell.split()) for cell in cells]
    while values and not values[-1]:
        values.pop()
    return CELL_SEPARATOR.join(values)


def _core_metadata(properties: Any) -> tuple[str | None, dict[str, str]]:
    """Title and the useful core properties of an OOXML package (same API in docx, openpyxl, pptx)."""
    metadata: dict[str, str] = {}
    for key in ("title", "subject", "author", "creator", "last_modified_by", "keywords", "category"):
        value = getattr(properties, key, None)
        if isinstance(value, str) and value.strip():
            metadata[key] = value.strip()
    for key in ("created", "modified"):
        value = getattr(properties, key, None)
        if isinstance(value, dt.datetime):
            metadata[key] = value.isoformat()
    # openpyxl calls the author "creator"; keep one name.
    if "creator" in metadata:
        metadata.setdefault("author", metadata.pop("creator"))
    return metadata.get("title"), metadata


# --- Word -------------------------------------------------------------------------------------------------------


def _run_text(element: Any, out: list[str], boxes: list[Any]) -> None:
    """Append the visible text under a paragraph element, collecting text boxes for later."""
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments and processing instructions
            continue
        if tag == f"{_W}t":
            out.append(child.text or "")
        elif tag == f"{_W}tab":
            out.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            out.append("-")
        elif tag == f"{_W}txbxContent":
            boxes.append(child)
        elif tag == f"{_MC}Fallback":
            # mc:AlternateContent repeats a drawing (and its text box) as a VML fallback: read it once.
            continue
        elif tag in (f"{_W}delText", f"{_W}instrText", f"{_W}rPr", f"{_W}pPr"):
            continue
        else:
            _run_text(child, out, boxes)


def _paragraph_lines(paragraph: Any) -> list[str]:
    """A w:p element's text, then the text of any text boxes anchored in it."""
    parts: list[str] = []
    boxes: list[Any] = []
    _run_text(paragraph, parts, boxes)
    lines = ["".join(parts).strip()]
    for box in boxes:
        lines.extend(_block_lines(box))
    return [line for line in lines if line]


def _table_lines(table: Any) -> list[str]:
    """Rows of a w:tbl as lines; a cell's paragraphs are joined with spaces, nested tables follow the row."""
    lines: list[str] = []
    for row in table.iterchildren(f"{_W}tr"):
        cells: list[str] = []
        nested: list[str] = []
        for cell in row.iterchildren(f"{_W}tc"):
            cell_parts: list[str] = []
            for block in cell.iterchildren():
                if block.tag == f"{_W}tbl":
                    nested.extend(_table_lines(block))
                else:
                    cell_parts.extend(_block_lines_of(block))
            cells.append(" ".join(cell_parts))
        line = join_row(cells)
        if line:
            lines.append(line)
        lines.extend(nested)
    return lines


def _block_lines_of(block: Any) -> list[str]:
    """Lines of one block-level element: paragraph, table, or content control holding blocks."""
    tag = block.tag
    if tag == f"{_W}p":
        return _paragraph_lines(block)
    if tag == f"{_W}tbl":
        return _table_lines(block)
    if tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins", f"{_W}smartTag"):
        return _block_lines(block)
    return []


def _block_lines(container: Any) -> list[str]:
    """Lines of every block in a body, header, footer, note, comment or text box, in document order."""
    lines: list[str] = []
    for block in container.iterchildren():
        lines.extend(_block_lines_of(block))
    return lines


def _related_part_lines(document_part: Any, reltype: str, item_tag: str) -> list[str]:
    """Text of footnotes, endnotes or comments: each item's blocks, separators skipped."""
    lines: list[str] = []
    for rel in document_part.rels.values():
        if rel.is_external or rel.reltype != reltype:
            continue
        root = etree.fromstring(rel.target_part.blob, SAFE_XML_PARSER)
        for item in root.iterchildren(f"{_W}{item_tag}"):
            # Footnote ids -1/0 are Word's separator lines, typed "separator"/"continuationSeparator".
            if item.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            lines.extend(_block_lines(item))
    return lines


def _header_footer_lines(document: Any) -> tuple[list[str], list[str]]:
    """Distinct header and footer texts across all sections (a header linked to the previous one is read once)."""
    headers: list[str] = []
    footers: list[str] = []
    for section in document.sections:
        for attr, bucket in (
            ("first_page_header", headers),
            ("header", headers),
            ("even_page_header", headers),
            ("first_page_footer", footers),
            ("footer", footers),
            ("even_page_footer", footers),
        ):
            part = getattr(section, attr)
            if part.is_linked_to_previous:
                continue
            text = "\n".join(_block_lines(part._element))
            if text and text not in bucket:
                bucket.append(text)
    return headers, footers


class DocxExtractor:
    """Reads a Word document: body in order (paragraphs and tables), headers, footers, notes and comments."""

    name = "docx"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page holding the whole document; Word has no fixed pages."""
        check_ooxml_container(content, context.limits, "DOCX")
        package = open_with("zipfile", "DOCX", lambda: as_plain_package(content))
        document = open_with("python-docx", "DOCX", lambda: docx.Document(io.BytesIO(package)))

        def read() -> tuple[list[list[str]], str | None, dict[str, str]]:
            headers, footers = _header_footer_lines(document)
            body = _block_lines(document.element.body)
            notes = _related_part_lines(document.part, RT.FOOTNOTES, "footnote")
            notes += _related_part_lines(document.part, RT.ENDNOTES, "endnote")
            comments = _related_part_lines(document.part, RT.COMMENTS, "comment")
            title, metadata = _core_metadata(document.core_properties)
            return [headers, body, notes, comments, footers], title, metadata

        blocks, title, metadata = open_with("python-docx", "DOCX", read)
        text = "\n\n".join("\n".join(block) for block in blocks if block)
        return Extraction(pages=[Page(number=1, text=text)], title=title, metadata=metadata, component=self.name)


# --- Excel ------------------------------------------------------------------------------------------------------


def _sheet_lines(sheet: Any) -> tuple[list[str], str | None]:
    """Non-empty rows of a read-only worksheet as lines, and a note when a cap cut it short."""
    # The <dimension> tag can lie (under-report); forget it so rows are read at their real width.
    sheet.reset_dimensions()
    lines: list[str] = []
    visited = 0
    wide = False
    for row in sheet.iter_rows(values_only=True):
        visited += max(len(row), 1)
        wide = wide or len(row) > MAX_SHEET_COLUMNS
        line = join_row(cell_text(value) for value in row[:MAX_SHEET_COLUMNS])
        if line:
            lines.append(line)
        if len(lines) >= MAX_SHEET_ROWS or visited >= MAX_SHEET_CELLS:
            return lines, f"sheet '{sheet.title}' truncated after {len(lines)} rows ({visited} cells read)"
    if wide:
        return lines, f"sheet '{sheet.title}' truncated to its first {MAX_SHEET_COLUMNS} columns"
    return lines, None


class XlsxExtractor:
    """Reads an Excel workbook in read-only mode: one page per worksheet, rows as lines."""

    name = "xlsx"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page per worksheet, starting with the sheet name; cached formula values, not formulas."""
        check_ooxml_container(content, context.limits, "XLSX")
        workbook = open_with(
            "openpyxl", "XLSX", lambda: openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        )
        pages: list[Page] = []
        notes: list[str] = []
        try:
            title, metadata = _core_metadata(workbook.properties)
            for number, sheet in enumerate(workbook.worksheets, start=1):
                lines, note = open_with("openpyxl", "XLSX", functools.partial(_sheet_lines, sheet))
                if note:
                    notes.append(note)
                pages.append(Page(number=number, text="\n".join([sheet.title, *lines])))
        finally:
            workbook.close()
        return Extraction(pages=pages, title=title, metadata=metadata, notes=notes, component=self.name)


# --- PowerPoint -------------------------------------------------------------------------------------------------


def _shape_lines(shapes: Iterable[Any]) -> Iterator[str]:
    """Text of shapes in slide order: text frames, table rows, and grouped shapes recursively."""
    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _shape_lines(shape.shapes)
            continue
        if getattr(shape, "has_text_frame", False):
            for paragraph in shape.text_frame.paragraphs:
                text = " ".join(paragraph.text.split())
                if text:
                    yield text
        if getattr(shape, "has_table", False):
            for row in shape.table.rows:
                line = join_row(cell.text for cell in row.cells)
                if line:
                    yield line


def _slide_text(slide: Any) -> str:
    """A slide's title first, then its other shapes, then its speaker notes."""
    title_shape = slide.shapes.title
    lines: list[str] = []
    if title_shape is not None:
        lines.extend(_shape_lines([title_shape]))
    others = [shape for shape in slide.shapes if title_shape is None or shape.shape_id != title_shape.shape_id]
    lines.extend(_shape_lines(others))
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = frame.text.strip() if frame is not None else ""
        if notes:
            lines.append("")
            lines.append(notes)
    return "\n".join(lines)


class PptxExtractor:
    """Reads a PowerPoint deck: one page per slide with titles, text, tables, groups and speaker notes."""

    name = "pptx"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """One page per slide, in slide order."""
        check_ooxml_container(content, context.limits, "PPTX")
        package = open_with("zipfile", "PPTX", lambda: as_plain_package(content))
        presentation = open_with("python-pptx", "PPTX", lambda: pptx.Presentation(io.BytesIO(package)))

        def read() -> tuple[list[Page], str | None, dict[str, str]]:
            pages = [
                Page(number=number, text=_slide_text(slide))
                for number, slide in enumerate(presentation.slides, start=1)
            ]
            title, metadata = _core_metadata(presentation.core_properties)
            return pages, title, metadata

        pages, title, metadata = open_with("python-pptx", "PPTX", read)
        return Extraction(pages=pages, title=title, metadata=metadata, component=self.name)
