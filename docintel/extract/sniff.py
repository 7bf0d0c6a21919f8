"""File type from the bytes: libmagic first, then a look inside where libmagic stops at the container.

libmagic names most formats outright. It stops short on three containers, so we look inside them:
OLE compound files (MSG, DOC, XLS, PPT and password-protected OOXML all share one), ZIP files
(OOXML, ODF and EPUB are zips with a known manifest) and text (CSV, HTML and RFC 822 mail are all text).
The file name is only a tie-breaker where the bytes cannot tell (a ``.csv`` of one column, which
OOXML type an encrypted package holds, an OLE file too damaged to list).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import zipfile
from functools import lru_cache
from pathlib import PurePosixPath

import magic
import olefile

from docintel.errors import EmptyDocument
from docintel.extract.base import FileType
from docintel.extract.text import CSV_DELIMITERS, bom_encoding, looks_like_utf16le

logger = logging.getLogger(__name__)

# libmagic finds the type of an OLE file from its directory, which may sit anywhere in the file:
# measured on the Tika corpus, a 2 KB prefix named no OLE type at all and a 64 KB prefix still
# called a 72 KB MSG generic OLE. Whole files up to this size cost at most ~13 ms (4 MB of text),
# binary formats ~1 ms, so we hand libmagic everything up to here.
SNIFF_BYTES = 8 * 1024 * 1024

# How much of a text file the CSV / HTML / mail checks look at.
TEXT_SAMPLE_BYTES = 64 * 1024

# Largest ZIP manifest ([Content_Types].xml or ODF's mimetype) we read to tell OOXML or ODF apart.
MANIFEST_MAX_BYTES = 1024 * 1024

# A CSV must show at least this many rows of the same width before we call unnamed text CSV.
CSV_MIN_ROWS = 3
CSV_SAMPLE_ROWS = 50

# MIME type we report for an OOXML package wrapped in OLE encryption. We report it as the OOXML type
# its name suggests (else DOCX) so the office extractor runs, sees the OLE container and raises
# EncryptedDocument (docintel.extract.office.is_encrypted_office).
ENCRYPTED_OOXML_MIME = "application/encrypted"

# libmagic's names for an OLE file it could not place, or an encrypted one.
_GENERIC_OLE_MIMES = frozenset(
    {
        "application/x-ole-storage",
        "application/cdfv2",
        "application/cdfv2-corrupt",
        "application/cdfv2-encrypted",
        "application/encrypted",
        "application/vnd.ms-office",
    }
)
_OLE_MAGIC = olefile.MAGIC
_ZIP_MAGIC = b"PK\x03\x04"
_EPUB_CONTAINER = "META-INF/container.xml"

# MIME types libmagic (or an OOXML manifest) uses beyond those FileType lists.
_MIME_ALIASES: dict[str, FileType] = {
    "image/x-ms-bmp": FileType.IMAGE,
    "image/x-tiff": FileType.IMAGE,
    "application/vnd.ms-word.document.macroenabled.12": FileType.DOCX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": FileType.DOCX,
    "application/vnd.ms-excel.sheet.macroenabled.12": FileType.XLSX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template": FileType.XLSX,
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": FileType.PPTX,
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow": FileType.PPTX,
    "application/vnd.openxmlformats-officedocument.presentationml.template": FileType.PPTX,
    "application/vnd.oasis.opendocument.text-template": FileType.ODT,
    "application/vnd.oasis.opendocument.spreadsheet-template": FileType.ODS,
    "application/vnd.oasis.opendocument.presentation-template": FileType.ODP,
    "application/json": FileType.TEXT,
    "application/xml": FileType.TEXT,
}

# Main-part content types in an OOXML [Content_Types].xml, by the file type they make.
_OOXML_MAIN_PARTS: tuple[tuple[str, FileType], ...] = (
    ("wordprocessingml.document.main+xml", FileType.DOCX),
    ("wordprocessingml.template.main+xml", FileType.DOCX),
    ("ms-word.document.macroenabled.main+xml", FileType.DOCX),
    ("ms-word.template.macroenabledtemplate.main+xml", FileType.DOCX),
    ("spreadsheetml.sheet.main+xml", FileType.XLSX),
    ("spreadsheetml.template.main+xml", FileType.XLSX),
    ("ms-excel.sheet.macroenabled.main+xml", FileType.XLSX),
    ("presentationml.presentation.main+xml", FileType.PPTX),
    ("presentationml.slideshow.main+xml", FileType.PPTX),
    ("presentationml.template.main+xml", FileType.PPTX),
    ("ms-powerpoint.presentation.macroenabled.main+xml", FileType.PPTX),
)
_XLSB_MAIN_PART = "ms-excel.sheet.binary.macroenabled.main"
_XLSB_MIME = "application/vnd.ms-excel.sheet.binary.macroenabled.12"
# Where the main part lives when [Content_Types].xml is missing or odd.
_OOXML_MAIN_MEMBERS: tuple[tuple[str, FileType], ...] = (
    ("word/document.xml", FileType.DOCX),
    ("xl/workbook.xml", FileType.XLSX),
    ("ppt/presentation.xml", FileType.PPTX),
)

_OOXML_BY_SUFFIX: dict[str, FileType] = {
    ".docx": FileType.DOCX,
    ".docm": FileType.DOCX,
    ".dotx": FileType.DOCX,
    ".xlsx": FileType.XLSX,
    ".xlsm": FileType.XLSX,
    ".xltx": FileType.XLSX,
    ".pptx": FileType.PPTX,
    ".pptm": FileType.PPTX,
    ".ppsx": FileType.PPTX,
}
_OLE_BY_SUFFIX: dict[str, FileType] = {
    ".msg": FileType.MSG,
    ".doc": FileType.DOC,
    ".dot": FileType.DOC,
    ".xls": FileType.XLS,
    ".xlt": FileType.XLS,
    ".ppt": FileType.PPT,
    ".pps": FileType.PPT,
    **_OOXML_BY_SUFFIX,
}
_CSV_SUFFIXES = frozenset({".csv", ".tsv"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

# RFC 822 header names that mark a mail (as opposed to any "Key: value" text).
_MAIL_HEADERS = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "received", "return-path", "mime-version",
        "message-id", "reply-to", "sender", "delivered-to", "in-reply-to", "references",
        "x-mailer", "content-type", "content-transfer-encoding", "x-originating-ip", "thread-topic",
    }
)  # fmt: skip
# Any one of these alone starts a mail; "Subject:" or "Date:" alone could start a memo.
_MAIL_START_HEADERS = frozenset({"received", "return-path", "mime-version", "delivered-to", "message-id"})
_HEADER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)[ \t]*:")
_HTML_MARKERS = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(r"<(p|div|span|table|br|a|h[1-6]|ul|li|b|i|strong|em)[\s/>]", re.IGNORECASE)


def _mime_map() -> dict[str, FileType]:
    mapping = {mime.lower(): file_type for file_type in FileType for mime in file_type.mime_types}
    mapping.update(_MIME_ALIASES)
    return mapping


_BY_MIME = _mime_map()
_magic_lock = threading.Lock()


@lru_cache(maxsize=1)
def _magic() -> magic.Magic:
    return magic.Magic(mime=True)


def magic_mime(content: bytes) -> str:
    """libmagic's MIME type for the first SNIFF_BYTES of the content."""
    # One libmagic handle is not safe to share between threads; the API server sniffs from several.
    with _magic_lock:
        return str(_magic().from_buffer(content[:SNIFF_BYTES]))


def sniff(content: bytes, name: str = "") -> tuple[FileType, str]:
    """The file type and MIME type of some bytes; the name only breaks ties the bytes cannot."""
    if not content:
        raise EmptyDocument("file is empty (0 bytes)")
    mime = magic_mime(content)
    key = mime.lower()
    suffix = PurePosixPath(name.lower()).suffix
    if key in _GENERIC_OLE_MIMES or (key == "application/octet-stream" and content.startswith(_OLE_MAGIC)):
        return _sniff_ole(content, mime, suffix)
    if key == "application/zip" or (key == "application/octet-stream" and content.startswith(_ZIP_MAGIC)):
        return _sniff_zip(content)
    if key == "message/rfc822":
        return FileType.EML, mime
    if key.startswith("text/") or key in {"application/xml", "application/json"}:
        return _sniff_text(content, key, suffix)
    if key == "application/octet-stream" and looks_like_utf16le(content):
        return _sniff_text(content, "text/plain", suffix)
    file_type = _BY_MIME.get(key, FileType.UNKNOWN)
    return file_type, mime


def _canonical(file_type: FileType) -> str:
    return file_type.mime_types[0] if file_type.mime_types else "application/octet-stream"


def _sniff_ole(content: bytes, mime: str, suffix: str) -> tuple[FileType, str]:
    try:
        with olefile.OleFileIO(content) as ole:
            roots = {entry[0] for entry in ole.listdir(streams=True, storages=True) if entry}
    except (OSError, ValueError, IndexError, TypeError) as exc:
        # olefile raises assorted errors on damaged files; the extractor for the named type reports the damage.
        logger.debug("OLE directory unreadable (%s)", type(exc).__name__)
        guess = _OLE_BY_SUFFIX.get(suffix, FileType.UNKNOWN)
        return guess, mime if guess is FileType.UNKNOWN else _canonical(guess)
    if "EncryptionInfo" in roots and "EncryptedPackage" in roots:
        return _OOXML_BY_SUFFIX.get(suffix, FileType.DOCX), ENCRYPTED_OOXML_MIME
    if any(root.startswith(("__substg1.0_", "__properties_version1.0")) for root in roots):
        return FileType.MSG, _canonical(FileType.MSG)
    for stream, file_type in (
        ("WordDocument", FileType.DOC),
        ("Workbook", FileType.XLS),
        ("Book", FileType.XLS),
        ("PowerPoint Document", FileType.PPT),
    ):
        if stream in roots:
            return file_type, _canonical(file_type)
    return FileType.UNKNOWN, mime


def _sniff_zip(content: bytes) -> tuple[FileType, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _read_member(archive, "mimetype").decode("ascii", errors="replace").strip().lower()
                odf_type = _BY_MIME.get(declared)
                if odf_type in {FileType.ODT, FileType.ODS, FileType.ODP, FileType.EPUB}:
                    return odf_type, declared
            if _EPUB_CONTAINER in names and any(name.lower().endswith(".opf") for name in names):
                return FileType.EPUB, FileType.EPUB.mime_types[0]  # an EPUB whose mimetype member is missing
            if "[Content_Types].xml" in names:
                manifest = _read_member(archive, "[Content_Types].xml").decode("utf-8", errors="replace").lower()
                if _XLSB_MAIN_PART in manifest:
                    return FileType.UNKNOWN, _XLSB_MIME  # no reader for binary workbooks
                for marker, file_type in _OOXML_MAIN_PARTS:
                    if marker in manifest:
                        return file_type, _canonical(file_type)
                for member, file_type in _OOXML_MAIN_MEMBERS:
                    if member in names:
                        return file_type, _canonical(file_type)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError):
        # Damaged zips are still zips: the archive extractor reports the damage as CorruptDocument.
        logger.debug("zip manifest unreadable")
    return FileType.ZIP, "application/zip"


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    with archive.open(member) as handle:
        return handle.read(MANIFEST_MAX_BYTES)


def _sniff_text(content: bytes, mime: str, suffix: str) -> tuple[FileType, str]:
    sample = _decode_sample(content[:TEXT_SAMPLE_BYTES])
    # A mail with an HTML body starts with headers, yet libmagic sees the HTML and says text/html.
    if looks_like_mail(sample):
        return FileType.EML, "message/rfc822"
    if mime in {"text/html", "application/xhtml+xml"}:
        return FileType.HTML, mime
    if _HTML_MARKERS.search(sample[:4096]) or (suffix in _HTML_SUFFIXES and _HTML_TAG.search(sample)):
        return FileType.HTML, "text/html"
    if mime == "text/csv" or (mime == "text/plain" and (suffix in _CSV_SUFFIXES or looks_like_csv(sample))):
        return FileType.CSV, "text/csv"
    if mime == "text/rtf":
        return FileType.RTF, mime
    # libmagic calls prose "text/x-c" or "text/troff" now and then; any text is readable as text.
    return FileType.TEXT, mime


def _decode_sample(sample: bytes) -> str:
    encoding = bom_encoding(sample)
    if encoding is None and looks_like_utf16le(sample):
        encoding = "utf-16-le"
    # Latin-1 never fails and keeps ASCII intact, which is all the structural checks need.
    return sample.decode(encoding or "latin-1", errors="replace").lstrip("\ufeff")


def looks_like_mail(text: str) -> bool:
    """Whether text starts with an RFC 822 header block that names mail headers."""
    lines = text.split("\n")
    if lines and lines[0].startswith("From "):
        lines = lines[1:]  # an mbox separator line
    seen: set[str] = set()
    for raw_line in lines[:200]:
        line = raw_line.rstrip("\r")
        if not line:
            break
        if line[0] in " \t" and seen:
            continue  # a folded header continues
        match = _HEADER_LINE.match(line)
        if not match:
            return False
        seen.add(match.group(1).lower())
    mail_headers = seen & _MAIL_HEADERS
    return bool(mail_headers & _MAIL_START_HEADERS) or (len(mail_headers) >= 2 and bool(seen & {"from", "to"}))


def looks_like_csv(text: str) -> bool:
    """Whether text reads as delimited rows of one consistent width (at least CSV_MIN_ROWS rows)."""
    lines = [line for line in text.split("\n")[:CSV_SAMPLE_ROWS] if line.strip()]
    if len(text) >= TEXT_SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line short
    if len(lines) < CSV_MIN_ROWS:
        return False
    sample = "\n".join(lines)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:
        return False
    try:
        widths = {len(row) for row in csv.reader(io.StringIO(sample), dialect) if row}
    except csv.Error:
        return False
    return len(widths) == 1 and widths.pop() >= 2
