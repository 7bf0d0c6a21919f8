"""EPUB: spine order, package location, metadata, sniffing, and the bad books (corrupt, DRM, bombs)."""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from docintel.errors import ArchiveBomb, CorruptDocument, EmptyDocument, EncryptedDocument
from docintel.extract import default_registry
from docintel.extract.base import ExtractContext, FileType
from docintel.extract.epub import EpubExtractor, spine_items
from docintel.extract.sniff import sniff
from docintel.settings import LimitSettings

CHAPTERS = {
    "intro": "Welcome to the residents' guide to recycling collections.",
    "bins": "Green bins are emptied every second Tuesday from April to October.",
    "notes": "Bulky waste collections can be booked on the council website.",
}
XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>{title}</title><style>p {{ color: black }}</style></head>
<body><section epub:type="chapter"><h1>{title}</h1><p>{text}</p>
<script>document.write("never shown")</script></section></body></html>
"""


@dataclass
class Book:
    """A generated EPUB: chapters in manifest order, read in ``spine`` order, with knobs for damage."""

    chapters: dict[str, str] = field(default_factory=lambda: dict(CHAPTERS))
    spine: Sequence[str] = ("intro", "bins", "notes")
    non_linear: Sequence[str] = ()
    folder: str = "OEBPS"
    href_prefix: str = "text/"  # chapters live in a subfolder; hrefs are relative to the package
    with_mimetype: bool = True
    with_container: bool = True
    encrypted: Sequence[str] = ()  # member paths META-INF/encryption.xml lists
    extra_members: dict[str, bytes] = field(default_factory=dict)
    package_xml: str | None = None

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            if self.with_mimetype:
                archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            if self.with_container:
                archive.writestr(
                    "META-INF/container.xml",
                    '<?xml version="1.0"?><container version="1.0" '
                    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                    f'<rootfile full-path="{self._at("content.opf")}" media-type="application/oebps-package+xml"/>'
                    "</rootfiles></container>",
                )
            archive.writestr(self._at("content.opf"), self.package_xml or self._package())
            for name, text in self.chapters.items():
                archive.writestr(
                    self._at(f"{self.href_prefix}{name} chapter.xhtml"), XHTML.format(title=name.title(), text=text)
                )
            archive.writestr(self._at("style.css"), "p { margin: 0 }")
            if self.encrypted:
                references = "".join(
                    '<enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
                    f'<enc:CipherData><enc:CipherReference URI="{path}"/></enc:CipherData></enc:EncryptedData>'
                    for path in self.encrypted
                )
                archive.writestr(
                    "META-INF/encryption.xml",
                    '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                    f'xmlns:enc="http://www.w3.org/2001/04/xmlenc#">{references}</encryption>',
                )
            for name, data in self.extra_members.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def _at(self, name: str) -> str:
        return f"{self.folder}/{name}" if self.folder else name

    def _package(self) -> str:
        items = "".join(
            f'<item id="{name}" href="{self.href_prefix}{name}%20chapter.xhtml" media-type="application/xhtml+xml"/>'
            for name in self.chapters
        )
        items += '<item id="css" href="style.css" media-type="text/css"/>'
        refs = "".join(
            f'<itemref idref="{name}"' + (' linear="no"' if name in self.non_linear else "") + "/>"
            for name in self.spine
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Recycling in Wessex</dc:title>'
            "<dc:creator>Waste Services Team</dc:creator><dc:language>en-GB</dc:language></metadata>"
            f"<manifest>{items}</manifest><spine>{refs}</spine></package>"
        )


def _extract(content: bytes, limits: LimitSettings | None = None):
    return EpubExtractor().extract(content, ExtractContext(name="book.epub", limits=limits or LimitSettings()))


def test_chapters_are_read_in_spine_order_with_metadata() -> None:
    extraction = _extract(Book(spine=("bins", "intro", "notes")).bytes())
    texts = [page.text for page in extraction.pages]
    assert [page.number for page in extraction.pages] == [1, 2, 3]
    assert texts[0] == "Bins\n" + CHAPTERS["bins"]
    assert CHAPTERS["intro"] in texts[1] and CHAPTERS["notes"] in texts[2]
    assert extraction.title == "Recycling in Wessex"
    assert extraction.metadata["author"] == "Waste Services Team"
    assert extraction.metadata["language"] == "en-GB"
    assert all("never shown" not in text and "color" not in text for text in texts)  # scripts and styles


@pytest.mark.parametrize(
    ("book", "expected_order"),
    [
        pytest.param(Book(non_linear=("intro",)), ["bins", "notes", "intro"], id="non-linear-last"),
        pytest.param(Book(spine=("notes", "notes", "bins")), ["notes", "bins"], id="repeated-itemref-once"),
        pytest.param(Book(spine=("bins", "missing-id")), ["bins"], id="unknown-idref-skipped"),
        pytest.param(Book(folder="", href_prefix=""), ["intro", "bins", "notes"], id="package-at-the-root"),
        pytest.param(Book(with_container=False), ["intro", "bins", "notes"], id="no-container-one-opf"),
    ],
)
def test_reading_order(book: Book, expected_order: list[str]) -> None:
    pages = _extract(book.bytes()).pages
    assert [page.text.splitlines()[1] for page in pages] == [CHAPTERS[name] for name in expected_order]


def test_spine_resolves_relative_and_percent_encoded_hrefs() -> None:
    from lxml import etree

    package = etree.fromstring(Book()._package().encode())
    assert [item.path for item in spine_items(package, "OEBPS/content.opf")] == [
        "OEBPS/text/intro chapter.xhtml",
        "OEBPS/text/bins chapter.xhtml",
        "OEBPS/text/notes chapter.xhtml",
    ]


@pytest.mark.parametrize(
    ("book", "error"),
    [
        pytest.param(
            Book(with_container=False, extra_members={"other.opf": b"<package/>"}),
            CorruptDocument,
            id="two-packages-no-container",
        ),
        pytest.param(Book(package_xml="<package><manifest>"), CorruptDocument, id="package-does-not-parse"),
        pytest.param(Book(spine=()), CorruptDocument, id="empty-spine"),
        pytest.param(
            Book(encrypted=[f"OEBPS/text/{name} chapter.xhtml" for name in CHAPTERS]), EncryptedDocument, id="drm"
        ),
    ],
)
def test_bad_books_are_refused_with_the_right_error(book: Book, error: type[Exception]) -> None:
    with pytest.raises(error, match="EPUB"):
        _extract(book.bytes())


def test_external_entities_are_not_resolved() -> None:
    package = (
        Book()
        ._package()
        .replace(
            '<?xml version="1.0" encoding="utf-8"?>',
            '<?xml version="1.0"?><!DOCTYPE package [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
        )
        .replace("Recycling in Wessex", "&secret;")
    )
    extraction = _extract(Book(package_xml=package).bytes())
    assert socket.gethostname() not in (extraction.title or "")  # the entity stays unexpanded
    assert len(extraction.pages) == 3


def test_only_fonts_encrypted_is_still_read() -> None:
    # EPUB lists obfuscated fonts in encryption.xml too; they are not text, so the book reads normally.
    extraction = _extract(Book(encrypted=["OEBPS/fonts/body.otf"]).bytes())
    assert len(extraction.pages) == 3 and not extraction.notes


def test_some_chapters_encrypted_are_skipped_with_a_note() -> None:
    extraction = _extract(Book(encrypted=["OEBPS/text/bins chapter.xhtml"]).bytes())
    assert len(extraction.pages) == 2
    assert extraction.notes == ["1 encrypted content documents skipped"]


@pytest.mark.parametrize(
    ("content", "limits", "error"),
    [
        pytest.param(b"", LimitSettings(), EmptyDocument, id="empty"),
        pytest.param(b"PK\x03\x04" + bytes(range(256)) * 4, LimitSettings(), CorruptDocument, id="garbage"),
        pytest.param(
            Book(extra_members={"OEBPS/padding.xhtml": b"\x00" * (4 * 1024 * 1024)}).bytes(),
            LimitSettings(max_compression_ratio=50),
            ArchiveBomb,
            id="member-compressed-past-the-ratio",
        ),
        pytest.param(
            Book(extra_members={"OEBPS/big.bin": b"x" * 300_000}).bytes(),
            LimitSettings(max_archive_expanded_bytes=200_000),
            ArchiveBomb,
            id="expands-past-the-limit",
        ),
        pytest.param(
            Book(extra_members={f"OEBPS/img{n}.png": b"" for n in range(30)}).bytes(),
            LimitSettings(max_archive_members=20),
            ArchiveBomb,
            id="too-many-members",
        ),
    ],
)
def test_bad_bytes_and_bombs(content: bytes, limits: LimitSettings, error: type[Exception]) -> None:
    with pytest.raises(error):
        _extract(content, limits)


@pytest.mark.parametrize(
    ("book", "name"),
    [
        pytest.param(Book(), "book.epub", id="epub"),
        pytest.param(Book(), "book.zip", id="misnamed"),
        pytest.param(Book(with_mimetype=False), "book.epub", id="no-mimetype-member"),
    ],
)
def test_epub_is_sniffed_from_its_bytes(book: Book, name: str) -> None:
    file_type, mime = sniff(book.bytes(), name)
    assert (file_type, mime) == (FileType.EPUB, "application/epub+zip")
    assert default_registry().for_type(file_type).name == "epub"


def test_plain_zip_with_an_opf_but_no_container_stays_a_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/package.opf", "<package/>")
    assert sniff(buffer.getvalue(), "archive.zip")[0] is FileType.ZIP
