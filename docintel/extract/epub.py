"""EPUB e-books: the XHTML documents of the spine, in reading order, each read by the HTML extractor.

An EPUB is a ZIP (``mimetype`` first, ``application/epub+zip``) whose ``META-INF/container.xml`` names
the package document (``.opf``). The package lists every resource (manifest) and the reading order
(spine, items marked ``linear="no"`` last). Each content document in the spine becomes one page, its
visible text taken by :mod:`docintel.extract.html`; images, stylesheets and fonts are not read.

The package goes through the same archive limits as OOXML and OpenDocument before anything is
inflated (expanded size, compression ratio, member count), XML is parsed with the locked-down parser
(no DTDs, entities or network), and a book whose content documents are encrypted (DRM, listed in
``META-INF/encryption.xml``) is refused as encrypted. Obfuscated fonts, which EPUB also lists there,
are no obstacle: fonts are not read.
"""

from __future__ import annotations

import io
import logging
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urldefrag

from lxml import etree

from docintel.errors import CorruptDocument, EmptyDocument, EncryptedDocument
from docintel.extract.base import ExtractContext
from docintel.extract.html import decode_html, html_title, parse_html, tree_to_text
from docintel.extract.office import SAFE_XML_PARSER, check_zip_limits
from docintel.models import Extraction, Page

logger = logging.getLogger(__name__)

EPUB_MIME = "application/epub+zip"
CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
# Media types of spine documents that hold text (EPUB 3 XHTML; EPUB 2 also allowed plain HTML).
CONTENT_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/html"})

NS = {
    "container": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
# Package metadata kept (Dublin Core element -> metadata key).
_METADATA = {"title": "title", "creator": "author", "language": "language", "date": "date", "publisher": "publisher"}


@dataclass(frozen=True)
class SpineItem:
    """One document of the reading order: its path inside the ZIP and whether it is in the main flow."""

    path: str
    media_type: str
    linear: bool = True


class EpubExtractor:
    """Reads EPUB 2 and 3 books: one page per spine document, in reading order."""

    name = "epub"
    version = "1.0"

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Check the package against the archive limits, then read its spine through the HTML extractor."""
        if not content:
            raise EmptyDocument("file is empty (0 bytes)")
        check_zip_limits(content, context.limits, "EPUB", count_members=True)
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return self._read(archive, context)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
            # A member whose data does not match its header (bad CRC, truncated), or an unsupported method.
            raise CorruptDocument(f"EPUB: a member cannot be read ({type(exc).__name__})") from exc

    def _read(self, archive: zipfile.ZipFile, context: ExtractContext) -> Extraction:
        names = set(archive.namelist())
        opf_path = package_path(archive, names)
        package = _parse_xml(archive, opf_path)
        spine = spine_items(package, opf_path)
        if not spine:
            raise CorruptDocument("EPUB: the package lists no content documents in its spine")
        encrypted = encrypted_paths(archive) if ENCRYPTION in names else set()
        readable = [item for item in spine if item.path not in encrypted]
        if not readable:
            raise EncryptedDocument(f"EPUB: all {len(spine)} content documents are encrypted (DRM)")
        notes: list[str] = []
        if len(readable) < len(spine):
            notes.append(f"{len(spine) - len(readable)} encrypted content documents skipped")
        pages: list[Page] = []
        missing = 0
        first_title: str | None = None
        for item in sorted(readable, key=lambda item: not item.linear):  # stable: linear ones first, in order
            if item.path not in names:
                missing += 1
                continue
            html, _encoding = decode_html(archive.read(item.path))
            root = parse_html(html)
            if root is None:
                continue
            first_title = first_title or html_title(root)
            text = tree_to_text(root)
            if text:
                pages.append(Page(number=len(pages) + 1, text=text))
        if missing:
            notes.append(f"{missing} spine documents missing from the package")
            if missing == len(readable):
                raise CorruptDocument(f"EPUB: none of the {missing} spine documents is in the package")
        if not pages:
            notes.append("no visible text")
            pages.append(Page(number=1, text=""))
        metadata = package_metadata(package)
        metadata["spine_documents"] = str(len(spine))
        return Extraction(
            pages=pages,
            title=metadata.get("title") or first_title,
            metadata=metadata,
            component=self.name,
            notes=notes,
        )


def package_path(archive: zipfile.ZipFile, names: set[str]) -> str:
    """Where the package document (.opf) is: as container.xml says, else the only .opf in the ZIP."""
    if CONTAINER in names:
        container = _parse_xml(archive, CONTAINER)
        for rootfile in container.iter(f"{{{NS['container']}}}rootfile"):
            path = rootfile.get("full-path")
            media_type = rootfile.get("media-type", "application/oebps-package+xml")
            if path and media_type == "application/oebps-package+xml" and path in names:
                return path
    candidates = sorted(name for name in names if name.lower().endswith(".opf"))
    if len(candidates) == 1:
        return candidates[0]
    raise CorruptDocument(f"EPUB: no package document ({len(candidates)} .opf files and no usable {CONTAINER})")


def spine_items(package: Any, opf_path: str) -> list[SpineItem]:
    """The spine's text documents in reading order, with paths resolved against the package document."""
    base = posixpath.dirname(opf_path)
    manifest: dict[str, tuple[str, str]] = {}
    for item in package.iter(f"{{{NS['opf']}}}item"):
        identifier, href = item.get("id"), item.get("href")
        if identifier and href:
            manifest[identifier] = (_resolve(base, href), (item.get("media-type") or "").strip().lower())
    items: list[SpineItem] = []
    seen: set[str] = set()
    for itemref in package.iter(f"{{{NS['opf']}}}itemref"):
        entry = manifest.get(itemref.get("idref", ""))
        if entry is None:
            continue
        path, media_type = entry
        if media_type not in CONTENT_TYPES or path in seen:
            continue
        seen.add(path)
        items.append(SpineItem(path, media_type, linear=itemref.get("linear", "yes").strip().lower() != "no"))
    return items


def encrypted_paths(archive: zipfile.ZipFile) -> set[str]:
    """Members that META-INF/encryption.xml lists as encrypted (paths there are relative to the ZIP root)."""
    encryption = _parse_xml(archive, ENCRYPTION)
    paths: set[str] = set()
    for reference in encryption.iter(f"{{{NS['enc']}}}CipherReference"):
        uri = reference.get("URI")
        if uri:
            paths.add(_resolve("", uri))
    return paths


def package_metadata(package: Any) -> dict[str, str]:
    """Title, author, language, date and publisher from the package's Dublin Core metadata."""
    metadata: dict[str, str] = {}
    for element, key in _METADATA.items():
        found = package.find(f".//{{{NS['dc']}}}{element}")
        if found is not None and found.text and found.text.strip():
            metadata[key] = " ".join(found.text.split())
    return metadata


def _resolve(base: str, href: str) -> str:
    """A manifest href (percent-encoded, maybe with a fragment) as a ZIP member name."""
    path = unquote(urldefrag(href)[0])
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")


def _parse_xml(archive: zipfile.ZipFile, member: str) -> Any:
    try:
        return etree.fromstring(archive.read(member), SAFE_XML_PARSER)
    except KeyError as exc:
        raise CorruptDocument(f"EPUB: {member} is missing") from exc
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"EPUB: {member} does not parse ({exc})") from exc
