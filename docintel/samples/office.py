"""Office samples: DOCX (python-docx), XLSX (openpyxl), PPTX (python-pptx), ODT (written by hand) and
legacy formats converted from those by LibreOffice.

Office files are ZIP packages that record the time of writing twice, in each member's ZIP header and
in ``docProps/core.xml``; both are pinned here so that the same content always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import openpyxl
import pptx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph as DocxParagraph
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter
from pptx.util import Inches, Pt

from docintel.samples.content import (
    BUDGET_PREPARED_BY,
    BUDGET_SAVINGS,
    BUDGET_SUMMARY,
    COUNCIL,
    Heading,
    Paragraph,
    Slide,
    TextDocument,
)

logger = logging.getLogger(__name__)

# The moment every sample claims to have been written: fixed so output is byte-for-byte reproducible.
FIXED_TIME = dt.datetime(2025, 9, 1, 9, 0, 0)
ZIP_TIME = (2025, 9, 1, 9, 0, 0)
AUTHOR = "docintel sample generator"


def normalise_zip(package: bytes) -> bytes:
    """Rewrite a ZIP with every member's timestamp and attributes fixed, keeping order and compression."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 0
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def zip_archive(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A deflated ZIP of (path, bytes) members, with folder entries for each folder, reproducibly stamped."""
    out = io.BytesIO()
    folders: list[str] = []
    for name, _ in members:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth]) + "/"
            if folder not in folders:
                folders.append(folder)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            info = zipfile.ZipInfo(folder, date_time=ZIP_TIME)
            info.external_attr = (0o40755 << 16) | 0x10  # directory, as Windows and Info-ZIP mark it
            archive.writestr(info, b"")
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


# --- DOCX ---------------------------------------------------------------------------------------------------


def _add_page_number(paragraph: DocxParagraph) -> None:
    # python-docx has no API for fields; a PAGE field is three runs of raw WordprocessingML.
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def docx_bytes(document: TextDocument) -> bytes:
    """A Word document with headings, tables, and the document's running header and footer."""
    word = docx.Document()
    properties = word.core_properties
    properties.title = document.title
    properties.author = AUTHOR
    properties.last_modified_by = AUTHOR
    properties.created = FIXED_TIME
    properties.modified = FIXED_TIME
    properties.revision = 1
    section = word.sections[0]
    if document.header:
        section.header.paragraphs[0].text = document.header
    if document.footer:
        footer = section.footer.paragraphs[0]
        footer.text = document.footer
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if document.footer.rstrip().endswith("Page"):
            _add_page_number(footer)
    for block in document.blocks:
        if isinstance(block, Heading):
            word.add_heading(block.text, level=block.level)
        elif isinstance(block, Paragraph):
            word.add_paragraph(block.text)
        else:
            table = word.add_table(rows=len(block.rows), cols=len(block.rows[0]))
            table.style = "Table Grid"
            for row_cells, row in zip(table.rows, block.rows, strict=True):
                for cell, text in zip(row_cells.cells, row, strict=True):
                    cell.text = text
            for cell in table.rows[0].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            word.add_paragraph()
    buffer = io.BytesIO()
    word.save(buffer)
    return normalise_zip(buffer.getvalue())


# --- XLSX ---------------------------------------------------------------------------------------------------


def budget_xlsx() -> bytes:
    """The 2025-26 revenue budget: a service summary sheet and a savings plan sheet, values not formulas."""
    book = openpyxl.Workbook()
    book.properties.creator = AUTHOR
    book.properties.title = "Revenue Budget 2025-26"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    bold = Font(bold=True)
    summary.append([f"{COUNCIL} - Revenue Budget 2025-26"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    summary.append(["Service", "Budget 2024-25 (£)", "Budget 2025-26 (£)", "Change (£)", "Change (%)"])
    for cell in summary[3]:
        cell.font = bold
    # Values rather than formulas: openpyxl stores no cached results, and a reader using cached values
    # (as extractors do) would see empty cells.
    for service, previous, current in BUDGET_SUMMARY:
        summary.append(
            [service, previous, current, current - previous, round((current - previous) / previous * 100, 1)]
        )
    previous_total = sum(row[1] for row in BUDGET_SUMMARY)
    current_total = sum(row[2] for row in BUDGET_SUMMARY)
    summary.append(
        [
            "Net revenue budget",
            previous_total,
            current_total,
            current_total - previous_total,
            round((current_total - previous_total) / previous_total * 100, 1),
        ]
    )
    for cell in summary[summary.max_row]:
        cell.font = bold
    summary.append([])
    summary.append([f"Prepared by the {BUDGET_PREPARED_BY}, approved by Full Council on 20 February 2025."])
    for column, width in zip("ABCDE", (34, 20, 20, 14, 12), strict=True):
        summary.column_dimensions[column].width = width
    for row in summary.iter_rows(min_row=4, max_row=summary.max_row, min_col=2, max_col=4):
        for cell in row:
            cell.number_format = "#,##0"

    savings = book.create_sheet("Savings")
    savings.append(["Reference", "Proposal", "Saving 2025-26 (£)", "Delivery RAG"])
    for cell in savings[1]:
        cell.font = bold
    for saving in BUDGET_SAVINGS:
        savings.append(list(saving))
    savings.append(["", "Total savings", sum(s[2] for s in BUDGET_SAVINGS), ""])
    savings.column_dimensions["B"].width = 48
    savings.column_dimensions["C"].width = 20

    buffer = io.BytesIO()
    # ExcelWriter directly: save_workbook would stamp the modification time with the clock.
    ExcelWriter(book, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return normalise_zip(buffer.getvalue())


# --- PPTX ---------------------------------------------------------------------------------------------------


def pptx_bytes(slides: Sequence[Slide]) -> bytes:
    """A slide deck: a title slide, then slides with bullets or a table, each with speaker notes."""
    deck = pptx.Presentation()
    properties = deck.core_properties
    properties.title = slides[0].title
    properties.author = AUTHOR
    properties.last_modified_by = AUTHOR
    properties.created = FIXED_TIME
    properties.modified = FIXED_TIME
    properties.revision = 1
    title_layout, content_layout, title_only_layout = (
        deck.slide_layouts[0],
        deck.slide_layouts[1],
        deck.slide_layouts[5],
    )
    for index, spec in enumerate(slides):
        if index == 0:
            slide = deck.slides.add_slide(title_layout)
            slide.placeholders[1].text_frame.text = "\n".join(spec.bullets)
        elif spec.table:
            slide = deck.slides.add_slide(title_only_layout)
            rows, cols = len(spec.table), len(spec.table[0])
            shape = slide.shapes.add_table(rows, cols, Inches(0.5), Inches(1.8), Inches(9), Inches(0.4) * rows)
            for row_index, row in enumerate(spec.table):
                for col_index, text in enumerate(row):
                    cell = shape.table.cell(row_index, col_index)
                    cell.text = text
                    cell.text_frame.paragraphs[0].runs[0].font.size = Pt(16)
        else:
            slide = deck.slides.add_slide(content_layout)
            body = slide.placeholders[1].text_frame
            body.text = spec.bullets[0]
            for bullet in spec.bullets[1:]:
                body.add_paragraph().text = bullet
        title = slide.shapes.title
        assert title is not None
        title.text = spec.title
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = spec.notes
    buffer = io.BytesIO()
    deck.save(buffer)
    return normalise_zip(buffer.getvalue())


# --- ODT (OpenDocument text, written by hand: small, reproducible, no LibreOffice needed) -------------------

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'office:version="1.3"'
)
ODT_MIME = "application/vnd.oasis.opendocument.text"


def _odt_body(document: TextDocument) -> str:
    parts: list[str] = []
    for number, block in enumerate(document.blocks):
        if isinstance(block, Heading):
            style = f"Heading_20_{block.level}"
            parts.append(
                f'<text:h text:style-name="{style}" text:outline-level="{block.level}">{escape(block.text)}</text:h>'
            )
        elif isinstance(block, Paragraph):
            parts.append(f'<text:p text:style-name="Text_20_body">{escape(block.text)}</text:p>')
        else:
            columns = len(block.rows[0])
            rows = "".join(
                "<table:table-row>"
                + "".join(
                    f'<table:table-cell office:value-type="string"><text:p>{escape(cell)}</text:p></table:table-cell>'
                    for cell in row
                )
                + "</table:table-row>"
                for row in block.rows
            )
            parts.append(
                f'<table:table table:name="Table{number}">'
                f'<table:table-column table:number-columns-repeated="{columns}"/>{rows}</table:table>'
            )
    return "".join(parts)


def odt_bytes(document: TextDocument) -> bytes:
    """An OpenDocument text file: headings, body paragraphs and tables, with title metadata."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}>'
        f"<office:body><office:text>{_odt_body(document)}</office:text></office:body></office:document-content>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_ODF_NS}><office:styles>'
        '<style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph">'
        '<style:paragraph-properties fo:margin-bottom="0.25cm"/></style:style>'
        '<style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph" '
        'style:default-outline-level="1">'
        '<style:text-properties fo:font-size="18pt" fo:font-weight="bold"/></style:style>'
        '<style:style style:name="Heading_20_2" style:display-name="Heading 2" style:family="paragraph" '
        'style:default-outline-level="2">'
        '<style:text-properties fo:font-size="14pt" fo:font-weight="bold"/></style:style>'
        "</office:styles></office:document-styles>"
    )
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {_ODF_NS}><office:meta>'
        f"<dc:title>{escape(document.title)}</dc:title><meta:initial-creator>{AUTHOR}</meta:initial-creator>"
        f"<meta:creation-date>{FIXED_TIME.isoformat()}</meta:creation-date>"
        f"<dc:date>{FIXED_TIME.isoformat()}</dc:date></office:meta></office:document-meta>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODT_MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # ODF requires "mimetype" first and stored uncompressed: that is how libmagic and readers recognise it.
        archive.writestr(zipfile.ZipInfo("mimetype", date_time=ZIP_TIME), ODT_MIME, compress_type=zipfile.ZIP_STORED)
        for name, text in (
            ("META-INF/manifest.xml", manifest),
            ("content.xml", content),
            ("styles.xml", styles),
            ("meta.xml", meta),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --- LibreOffice conversion ---------------------------------------------------------------------------------


def soffice_path() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(content: bytes, source_suffix: str, target: str, timeout: float) -> bytes | None:
    """Convert a document with headless LibreOffice (e.g. DOCX to "doc"); None when LibreOffice is absent."""
    binary = soffice_path()
    if binary is None:
        logger.warning("LibreOffice (soffice) not found: skipping conversion to %s", target)
        return None
    with tempfile.TemporaryDirectory(prefix="docintel-samples-") as work:
        folder = Path(work)
        source = folder / f"source{source_suffix}"
        source.write_bytes(content)
        # A private profile: a shared one is locked by any other running soffice, and the first start writes it.
        profile = (folder / "profile").as_uri()
        command = [binary, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
                   "--convert-to", target, "--outdir", str(folder / "out"), str(source)]  # fmt: skip
        # Own session, so a timeout can kill soffice.bin too and not just the launcher script in front of it.
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            logger.warning("LibreOffice conversion to %s timed out after %s s", target, timeout)
            return None
        produced = folder / "out" / f"source.{target.split(':', maxsplit=1)[0]}"
        if returncode != 0 or not produced.is_file():
            logger.warning("LibreOffice conversion to %s failed (exit code %s)", target, returncode)
            return None
        return produced.read_bytes()
