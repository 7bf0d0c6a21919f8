"""File types, the extractor interface and the registry that dispatches on type.

The type comes from the bytes (libmagic, see :mod:`docintel.extract.sniff`), never the file name.
Each :class:`FileType` names its MIME types and the extractor registered for it; an extractor is
any object with a ``name`` and an ``extract(content, context) -> Extraction`` method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from docintel.errors import ConfigError, UnsupportedType
from docintel.models import Extraction
from docintel.settings import LimitSettings, OcrSettings


class FileType(StrEnum):
    """Every type docintel reads, with the MIME types libmagic reports for it."""

    PDF = "pdf"
    IMAGE = "image"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    DOC = "doc"
    XLS = "xls"
    PPT = "ppt"
    RTF = "rtf"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    EML = "eml"
    MSG = "msg"
    HTML = "html"
    EPUB = "epub"
    TEXT = "text"
    CSV = "csv"
    ZIP = "zip"
    UNKNOWN = "unknown"

    @property
    def mime_types(self) -> tuple[str, ...]:
        """MIME types that map to this file type."""
        return _MIME_TYPES.get(self, ())


_MIME_TYPES: dict[FileType, tuple[str, ...]] = {
    FileType.PDF: ("application/pdf",),
    FileType.IMAGE: ("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp", "image/webp"),
    FileType.DOCX: ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    FileType.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    FileType.PPTX: ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    FileType.DOC: ("application/msword",),
    FileType.XLS: ("application/vnd.ms-excel",),
    FileType.PPT: ("application/vnd.ms-powerpoint",),
    FileType.RTF: ("text/rtf", "application/rtf"),
    FileType.ODT: ("application/vnd.oasis.opendocument.text",),
    FileType.ODS: ("application/vnd.oasis.opendocument.spreadsheet",),
    FileType.ODP: ("application/vnd.oasis.opendocument.presentation",),
    FileType.EML: ("message/rfc822",),
    FileType.MSG: ("application/vnd.ms-outlook",),
    FileType.HTML: ("text/html", "application/xhtml+xml"),
    FileType.EPUB: ("application/epub+zip",),
    FileType.TEXT: ("text/plain",),
    FileType.CSV: ("text/csv",),
    FileType.ZIP: ("application/zip",),
}


@dataclass(frozen=True)
class ExtractContext:
    """What an extractor may need beyond the bytes: limits, OCR settings, and where it is."""

    name: str = ""  # file name, for messages and for formats that cannot be told by bytes alone
    limits: LimitSettings = field(default_factory=LimitSettings)
    ocr: OcrSettings = field(default_factory=OcrSettings)
    depth: int = 0  # nesting level: 0 for a top-level file, +1 per archive or attachment


class Extractor(Protocol):
    """Reads one file type into pages of text, child documents and metadata."""

    name: str
    version: str

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Read the bytes; raise an ExtractionError subclass when they cannot be read."""
        ...


class ExtractorRegistry:
    """Maps file types to extractors."""

    def __init__(self) -> None:
        self._by_type: dict[FileType, Extractor] = {}

    def register(self, file_type: FileType, extractor: Extractor) -> None:
        """Use ``extractor`` for ``file_type``, replacing any earlier one."""
        self._by_type[file_type] = extractor

    def for_type(self, file_type: FileType) -> Extractor:
        """The extractor for a type, or UnsupportedType naming the types we do read."""
        try:
            return self._by_type[file_type]
        except KeyError:
            known = ", ".join(sorted(t.value for t in self._by_type))
            raise UnsupportedType(f"no extractor for file type '{file_type.value}' (known: {known})") from None

    def by_name(self, name: str) -> Extractor:
        """Look an extractor up by its short name; unknown names list the known ones."""
        for extractor in self._by_type.values():
            if extractor.name == name:
                return extractor
        known = ", ".join(sorted({e.name for e in self._by_type.values()}))
        raise ConfigError(f"unknown extractor '{name}' (known: {known})")

    @property
    def file_types(self) -> list[FileType]:
        """File types with an extractor."""
        return list(self._by_type)
