"""Extraction: one extractor per file type, dispatched on the type sniffed from the bytes.

Where each format is read:

    pdf.py           PDF text layer and ruled tables (pypdfium2), scans → ocr.py
    ocr.py           tesseract OCR with orientation detection and word boxes
    orientation.py   which way up a page of Latin text is, from its glyphs, before OCR
    image.py         PNG, JPEG, TIFF (multi-page), GIF, BMP, WebP → OCR
    office.py        DOCX, XLSX, PPTX
    opendocument.py  ODT, ODS, ODP
    legacy.py        DOC, XLS, PPT, RTF (LibreOffice headless → the OOXML readers)
    mail.py          EML, Outlook MSG; attachments become child documents
    html.py          HTML (visible text only)
    epub.py          EPUB e-books: the spine's XHTML documents in reading order → html.py
    text.py          TXT, CSV with encoding detection
    archive.py       ZIP, with depth, member-count, size and ratio limits
    sniff.py         the real type, from libmagic
"""

from __future__ import annotations

from docintel.extract.base import ExtractContext, Extractor, ExtractorRegistry, FileType

__all__ = ["ExtractContext", "Extractor", "ExtractorRegistry", "FileType", "default_registry"]


def default_registry() -> ExtractorRegistry:
    """A registry with an extractor for every file type docintel reads."""
    from docintel.extract.archive import ZipExtractor
    from docintel.extract.epub import EpubExtractor
    from docintel.extract.html import HtmlExtractor
    from docintel.extract.image import ImageExtractor
    from docintel.extract.legacy import LegacyOfficeExtractor
    from docintel.extract.mail import EmlExtractor, MsgExtractor
    from docintel.extract.office import DocxExtractor, PptxExtractor, XlsxExtractor
    from docintel.extract.opendocument import OdpExtractor, OdsExtractor, OdtExtractor
    from docintel.extract.pdf import PdfExtractor
    from docintel.extract.text import CsvExtractor, TextExtractor

    registry = ExtractorRegistry()
    registry.register(FileType.PDF, PdfExtractor())
    registry.register(FileType.IMAGE, ImageExtractor())
    registry.register(FileType.DOCX, DocxExtractor())
    registry.register(FileType.XLSX, XlsxExtractor())
    registry.register(FileType.PPTX, PptxExtractor())
    registry.register(FileType.ODT, OdtExtractor())
    registry.register(FileType.ODS, OdsExtractor())
    registry.register(FileType.ODP, OdpExtractor())
    for legacy in (FileType.DOC, FileType.XLS, FileType.PPT, FileType.RTF):
        registry.register(legacy, LegacyOfficeExtractor(legacy))
    registry.register(FileType.EML, EmlExtractor())
    registry.register(FileType.MSG, MsgExtractor())
    registry.register(FileType.HTML, HtmlExtractor())
    registry.register(FileType.EPUB, EpubExtractor())
    registry.register(FileType.TEXT, TextExtractor())
    registry.register(FileType.CSV, CsvExtractor())
    registry.register(FileType.ZIP, ZipExtractor())
    return registry
