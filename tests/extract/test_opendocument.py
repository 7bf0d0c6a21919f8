"""ODT, ODS and ODP extraction.

Most fixtures are minimal OpenDocument packages written here by hand (mimetype, content.xml, styles.xml,
meta.xml, manifest), so they need no LibreOffice; a second set converts the generated DOCX/XLSX/PPTX
with LibreOffice to check real-world ODF output.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from docintel.errors import ArchiveBomb, CorruptDocument, EncryptedDocument
from docintel.extract.base import ExtractContext
from docintel.extract.legacy import LibreOfficeConverter, find_soffice
from docintel.extract.opendocument import OdpExtractor, OdsExtractor, OdtExtractor
from tests.extract.test_office import make_docx, make_pptx, make_xlsx

CONTEXT = ExtractContext(name="sample")

NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'office:version="1.3"'
)

ODT_BODY = """
<office:text>
  <text:sequence-decls><text:sequence-decl text:name="Figure"/></text:sequence-decls>
  <text:h text:outline-level="1">Planning Committee Minutes</text:h>
  <text:p>Members present:<text:s text:c="2"/>Cllr Example<text:tab/>(Chair)<text:note text:note-class="footnote">
    <text:note-citation>1</text:note-citation>
    <text:note-body><text:p>Attended remotely.</text:p></text:note-body></text:note></text:p>
  <text:list><text:list-item><text:p>Item one: apologies</text:p></text:list-item>
    <text:list-item><text:p>Item two: <text:span>declarations</text:span></text:p>
      <text:list><text:list-item><text:p>Nested item</text:p></text:list-item></text:list></text:list-item></text:list>
  <table:table table:name="Decisions">
    <table:table-column table:number-columns-repeated="2"/>
    <table:table-header-rows><table:table-row>
      <table:table-cell><text:p>Application</text:p></table:table-cell>
      <table:table-cell><text:p>Decision</text:p></table:table-cell></table:table-row></table:table-header-rows>
    <table:table-row><table:table-cell><text:p>24/0001/FUL</text:p></table:table-cell>
      <table:table-cell><text:p>Approved</text:p></table:table-cell></table:table-row>
  </table:table>
  <text:p>Anchored box follows.<draw:frame draw:name="Box"><draw:text-box>
    <text:p>Text inside a frame</text:p></draw:text-box></draw:frame></text:p>
  <text:tracked-changes><text:changed-region><text:deletion><text:p>Deleted words</text:p></text:deletion>
  </text:changed-region></text:tracked-changes>
</office:text>"""

ODT_STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {NAMESPACES}><office:master-styles>
  <style:master-page style:name="Standard">
    <style:header><text:p>OFFICIAL</text:p></style:header>
    <style:footer><text:p>Exampleshire County Council</text:p></style:footer>
  </style:master-page>
  <style:master-page style:name="Landscape">
    <style:header><text:p>OFFICIAL</text:p></style:header>
  </style:master-page>
</office:master-styles></office:document-styles>"""

ODS_BODY = """
<office:spreadsheet>
  <table:table table:name="Rents">
    <table:table-row><table:table-cell office:value-type="string"><text:p>Tenant ref</text:p></table:table-cell>
      <table:table-cell table:number-columns-repeated="3"/>
      <table:table-cell office:value-type="float" office:value="450"><text:p>450.00</text:p></table:table-cell>
      <table:table-cell table:number-columns-repeated="16379"/></table:table-row>
    <table:table-row table:number-rows-repeated="5"><table:table-cell table:number-columns-repeated="1024"/>
    </table:table-row>
    <table:table-row table:number-rows-repeated="2"><table:table-cell><text:p>Same</text:p></table:table-cell>
    </table:table-row>
    <table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="1024"/>
    </table:table-row>
  </table:table>
  <table:table table:name="Notes">
    <table:table-row><table:table-cell><text:p>Second sheet</text:p></table:table-cell></table:table-row>
  </table:table>
</office:spreadsheet>"""

ODP_BODY = """
<office:presentation>
  <draw:page draw:name="Slide1">
    <draw:frame presentation:class="title"><draw:text-box><text:p>Library Strategy</text:p></draw:text-box>
    </draw:frame>
    <draw:g><draw:frame><draw:text-box><text:p>Grouped text</text:p></draw:text-box></draw:frame></draw:g>
    <presentation:notes><draw:page-thumbnail/><draw:frame presentation:class="notes"><draw:text-box>
      <text:p>Remember the opening hours.</text:p></draw:text-box></draw:frame></presentation:notes>
  </draw:page>
  <draw:page draw:name="Slide2">
    <draw:frame><table:table><table:table-row>
      <table:table-cell><text:p>Branch</text:p></table:table-cell>
      <table:table-cell><text:p>Visits</text:p></table:table-cell></table:table-row></table:table></draw:frame>
  </draw:page>
</office:presentation>"""

META = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {NAMESPACES}><office:meta>
  <dc:title>Sample title</dc:title><meta:initial-creator>Author Example</meta:initial-creator>
  <meta:creation-date>2024-02-01T10:00:00</meta:creation-date>
</office:meta></office:document-meta>"""

MIME = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def manifest(kind: str, encrypted: bool = False) -> str:
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="AAAA"/>'
        "</manifest:encryption-data>"
        if encrypted
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIME[kind]}"/>'
        f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{encryption}'
        "</manifest:file-entry></manifest:manifest>"
    )


def make_odf(kind: str, body: str, *, styles: str | None = None, content: bytes | None = None, **extra: bytes) -> bytes:
    """A minimal OpenDocument package: mimetype first and stored, then the XML parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIME[kind], compress_type=zipfile.ZIP_STORED)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NAMESPACES}><office:body>{body}'
        archive.writestr(
            "content.xml", content if content is not None else xml + "</office:body></office:document-content>"
        )
        archive.writestr("meta.xml", META)
        if styles:
            archive.writestr("styles.xml", styles)
        archive.writestr("META-INF/manifest.xml", extra.pop("manifest", manifest(kind).encode()))
        for name, data in extra.items():
            archive.writestr(name.replace("__", "/"), data)
    return buffer.getvalue()


def test_odt_reads_headings_lists_tables_frames_notes_headers_and_footers() -> None:
    extraction = OdtExtractor().extract(make_odf("odt", ODT_BODY, styles=ODT_STYLES), CONTEXT)
    assert extraction.pages[0].text.splitlines() == [
        "OFFICIAL",
        "",
        "Planning Committee Minutes",
        "Members present:  Cllr Example\t(Chair)",
        "Item one: apologies",
        "Item two: declarations",
        "Nested item",
        "Application | Decision",
        "24/0001/FUL | Approved",
        "Anchored box follows.",
        "Text inside a frame",
        "",
        "Attended remotely.",
        "",
        "Exampleshire County Council",
    ]
    assert extraction.title == "Sample title"
    assert extraction.metadata["author"] == "Author Example"


def test_ods_gives_one_page_per_sheet_and_does_not_expand_padding() -> None:
    extraction = OdsExtractor().extract(make_odf("ods", ODS_BODY), CONTEXT)
    assert [page.text.splitlines() for page in extraction.pages] == [
        ["Rents", "Tenant ref |  |  |  | 450.00", "Same", "Same"],
        ["Notes", "Second sheet"],
    ]
    assert extraction.notes == []


def test_odp_gives_one_page_per_slide_with_notes() -> None:
    extraction = OdpExtractor().extract(make_odf("odp", ODP_BODY), CONTEXT)
    assert [page.text.splitlines() for page in extraction.pages] == [
        ["Library Strategy", "Grouped text", "", "Remember the opening hours."],
        ["Branch | Visits"],
    ]


def test_external_entities_are_not_resolved() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        b"<text:p>before &secret; after</text:p></office:text></office:body></office:document-content>"
    )
    text = OdtExtractor().extract(make_odf("odt", "", content=hostile), CONTEXT).pages[0].text
    assert "root:" not in text
    assert text.startswith("before")


@pytest.mark.parametrize(
    ("package", "error", "message"),
    [
        (make_odf("odt", ODT_BODY)[:300], CorruptDocument, "not a valid ZIP"),
        (make_odf("odt", "", content=b"<office:document-content><broken"), CorruptDocument, "content.xml"),
        (make_odf("ods", "<office:text/>"), CorruptDocument, "no office:spreadsheet body"),
        (make_odf("odt", ODT_BODY, manifest=manifest("odt", encrypted=True).encode()), EncryptedDocument, "password"),
        (
            make_odf("odt", ODT_BODY, Pictures__zeros__bin=b"\0" * (50 * 1024 * 1024)),
            ArchiveBomb,
            "compressed",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, CorruptDocument, "OLE"),
    ],
    ids=["truncated", "bad-xml", "wrong-body", "encrypted", "zip-bomb", "ole"],
)
def test_bad_opendocument_packages(package: bytes, error: type[Exception], message: str) -> None:
    extractor = OdsExtractor() if b"spreadsheet" in package else OdtExtractor()
    with pytest.raises(error, match=message):
        extractor.extract(package, CONTEXT)


def test_package_without_content_xml_is_corrupt() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", MIME["odt"])
    with pytest.raises(CorruptDocument, match=r"no content\.xml"):
        OdtExtractor().extract(buffer.getvalue(), CONTEXT)


@pytest.fixture(scope="session")
def converted_odf() -> dict[str, bytes]:
    """The generated DOCX/XLSX/PPTX converted to ODT/ODS/ODP by LibreOffice."""
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    converter = LibreOfficeConverter()
    return {
        "odt": converter.convert(make_docx(), "docx", "odt", timeout=120),
        "ods": converter.convert(make_xlsx(), "xlsx", "ods", timeout=120),
        "odp": converter.convert(make_pptx(), "pptx", "odp", timeout=120),
    }


@pytest.mark.needs_libreoffice
@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "pages", "expected"),
    [
        (
            "odt",
            1,
            [
                "OFFICIAL - SENSITIVE",
                "Care Plan Review",
                "Name | Ward | Review date",
                "Alex Sample | North Ward | 1 March 2024",
                "Check the action owner",
                "Exampleshire County Council",
            ],
        ),
        ("ods", 2, ["Payments", "Acme Highways Ltd | 1250", "Contacts", "Highways |  |  | 4021"]),
        (
            "odp",
            2,
            [
                "Budget Briefing 2024",
                "Speaker notes: mention the consultation deadline.",
                "Libraries | 2.1m",
                "Grouped box two",
            ],
        ),
    ],
)
def test_libreoffice_written_opendocument(
    kind: str, pages: int, expected: list[str], converted_odf: dict[str, bytes]
) -> None:
    extractor = {"odt": OdtExtractor, "ods": OdsExtractor, "odp": OdpExtractor}[kind]()
    extraction = extractor.extract(converted_odf[kind], CONTEXT)
    assert len(extraction.pages) == pages
    text = "\n".join(page.text for page in extraction.pages)
    positions = [text.index(fragment) for fragment in expected]
    assert positions == sorted(positions)
