"""File-type sniffing from bytes: a table of generated files, misnamed files and the containers libmagic stops at."""

from __future__ import annotations

import email.message
import io
import os
import zipfile
from collections.abc import Callable

import docx
import openpyxl
import pptx
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from PIL import Image
from reportlab.pdfgen import canvas

from docintel.errors import EmptyDocument
from docintel.extract.base import FileType
from docintel.extract.sniff import looks_like_csv, looks_like_mail, magic_mime, sniff


def make_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, "Planning application 24/0001 for an extension")
    pdf.save()
    return buffer.getvalue()


def make_docx() -> bytes:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Minutes of the highways committee")
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Budget line"
    workbook.save(buffer)
    return buffer.getvalue()


def make_pptx() -> bytes:
    buffer = io.BytesIO()
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[0]).shapes.title.text = "Ward briefing"
    deck.save(buffer)
    return buffer.getvalue()


def make_image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, fmt)
    return buffer.getvalue()


def make_eml(html_only: bool = False) -> bytes:
    message = email.message.EmailMessage()
    message["From"] = "Planning Team <planning@example.gov.uk>"
    message["To"] = "applicant@example.org"
    message["Subject"] = "Your application"
    if html_only:
        message.set_content("<html><body><p>Your application was received.</p></body></html>", subtype="html")
    else:
        message.set_content("Your application was received.")
    return message.as_bytes()


def make_eml_html_headers_first() -> bytes:
    # Headers before the MIME block, HTML body: libmagic sees the HTML and calls it text/html.
    return (
        b"Subject: Road closure\r\nFrom: highways@example.gov.uk\r\nTo: residents@example.org\r\n"
        b"Date: Wed, 21 Mar 2018 14:14:32 -0800\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><title>x</title></head><body><p>The road is closed.</p></body></html>\r\n"
    )


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_docx_as_plain_zip() -> bytes:
    """A DOCX whose first member is a directory, which libmagic reports as application/zip."""
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    members = {"_rels/": b""}
    members.update({name: source.read(name) for name in sorted(source.namelist(), key=lambda n: n != "word/x")})
    return make_zip(members)


def make_odt(mimetype_first: bool) -> bytes:
    members = {
        "META-INF/manifest.xml": b'<?xml version="1.0"?><manifest:manifest/>',
        "content.xml": b'<?xml version="1.0"?><office:document-content/>',
    }
    mimetype = {"mimetype": b"application/vnd.oasis.opendocument.text"}
    ordered = {**mimetype, **members} if mimetype_first else {**members, **mimetype}
    return make_zip(ordered)


def make_encrypted_docx() -> bytes:
    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(make_docx())).encrypt("Passw0rd!", encrypted)
    return encrypted.getvalue()


PROSE = (
    "The committee met on Tuesday. Members discussed the budget, the library and the bins.\n"
    "It was agreed, after some debate, that the report be noted.\n"
    "Next meeting: to be confirmed.\n"
)

CASES: list[tuple[str, Callable[[], bytes], str, FileType]] = [
    ("pdf", make_pdf, "report.pdf", FileType.PDF),
    ("pdf named .txt", make_pdf, "notes.txt", FileType.PDF),
    ("docx", make_docx, "minutes.docx", FileType.DOCX),
    ("docx named .pdf", make_docx, "minutes.pdf", FileType.DOCX),
    ("docx libmagic calls zip", make_docx_as_plain_zip, "minutes.zip", FileType.DOCX),
    ("xlsx", make_xlsx, "budget.xlsx", FileType.XLSX),
    ("pptx named .docx", make_pptx, "briefing.docx", FileType.PPTX),
    ("png", lambda: make_image("PNG"), "scan.png", FileType.IMAGE),
    ("jpeg named .pdf", lambda: make_image("JPEG"), "scan.pdf", FileType.IMAGE),
    ("tiff", lambda: make_image("TIFF"), "scan.tif", FileType.IMAGE),
    ("eml", make_eml, "mail.eml", FileType.EML),
    ("eml html body", lambda: make_eml(html_only=True), "mail.eml", FileType.EML),
    ("eml headers then html", make_eml_html_headers_first, "mail.txt", FileType.EML),
    ("eml from received", lambda: b"Received: from mx.example.org\nSubject: hi\n\nbody\n", "", FileType.EML),
    (
        "html",
        lambda: b"<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p></body></html>",
        "",
        FileType.HTML,
    ),
    ("html fragment named .html", lambda: b"<p>Opening hours</p><div>Mon-Fri</div>", "page.html", FileType.HTML),
    ("csv", lambda: b"name,ward,amount\nA Smith,North,10\nB Jones,South,20\n", "data.txt", FileType.CSV),
    ("csv semicolons", lambda: b"name;ward;amount\nA;N;1\nB;S;2\nC;E;3\n", "export.txt", FileType.CSV),
    ("csv one column by name", lambda: b"reference\n24/0001\n24/0002\n", "refs.csv", FileType.CSV),
    ("text cp1252", lambda: "Fee: £25 for the café licence\nPaid in full\n".encode("cp1252"), "", FileType.TEXT),
    ("text utf-16 bom", lambda: "Fee: £25 for the café licence\n".encode("utf-16"), "", FileType.TEXT),
    ("text utf-16le no bom", lambda: "Fee: £25 for the licence, paid\n".encode("utf-16-le"), "", FileType.TEXT),
    ("prose with commas is not csv", PROSE.encode, "notes.txt", FileType.TEXT),
    ("memo with a subject line is not mail", lambda: b"Subject: budget\n\nPlease read.\n", "", FileType.TEXT),
    ("zip", lambda: make_zip({"a.txt": b"hello", "b.txt": b"world"}), "bundle.zip", FileType.ZIP),
    ("odt", lambda: make_odt(mimetype_first=True), "letter.odt", FileType.ODT),
    ("odt mimetype not first", lambda: make_odt(mimetype_first=False), "letter.zip", FileType.ODT),
    ("rtf", lambda: rb"{\rtf1\ansi Planning decision notice}", "notice.rtf", FileType.RTF),
    ("random bytes", lambda: os.urandom(4096), "data.bin", FileType.UNKNOWN),
]


@pytest.mark.parametrize(("content_factory", "name", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sniff_finds_the_type_from_the_bytes(content_factory: Callable[[], bytes], name: str, expected: FileType):
    file_type, mime = sniff(content_factory(), name)
    assert file_type is expected
    assert mime


def test_mime_type_is_the_real_one_for_a_misnamed_file():
    file_type, mime = sniff(make_docx(), "minutes.pdf")
    assert (file_type, mime) == (FileType.DOCX, FileType.DOCX.mime_types[0])


def test_docx_fixture_really_reaches_the_zip_manifest_path():
    # Guards the table case above: if libmagic learns this layout, the manifest peek is no longer exercised.
    assert magic_mime(make_docx_as_plain_zip()) == "application/zip"


@pytest.mark.parametrize(
    ("name", "expected"), [("budget.xlsx", FileType.XLSX), ("deck.pptx", FileType.PPTX), ("", FileType.DOCX)]
)
def test_encrypted_ooxml_is_reported_as_its_named_type_with_encrypted_mime(name: str, expected: FileType):
    file_type, mime = sniff(make_encrypted_docx(), name)
    assert file_type is expected
    assert mime == "application/encrypted"


def test_zero_bytes_raise_empty_document():
    with pytest.raises(EmptyDocument):
        sniff(b"", "empty.txt")


def test_truncated_zip_is_still_a_zip():
    content = make_docx()[:600]
    assert sniff(content, "minutes.docx") == (FileType.ZIP, "application/zip")


def test_msg_sniffs_as_msg():
    samples = pytest.importorskip("docintel.samples.msg", reason="MSG writer not available")
    content = samples.build_msg(
        subject="Tenancy", sender_name="Housing", sender_email="housing@example.gov.uk",
        to=[("Tenant", "tenant@example.org")], body="Your tenancy starts on Monday.", attachments=[],
    )  # fmt: skip
    assert sniff(content, "")[0] is FileType.MSG


@pytest.mark.parametrize(
    ("streams", "expected"),
    [
        ({"WordDocument": b"\0" * 4096}, FileType.DOC),
        ({"Workbook": b"\0" * 4096}, FileType.XLS),
        ({"PowerPoint Document": b"\0" * 4096}, FileType.PPT),
        ({"__substg1.0_0037001F": "Subject".encode("utf-16-le"), "__properties_version1.0": b"\0" * 32}, FileType.MSG),
        ({"SomethingElse": b"\0" * 4096}, FileType.UNKNOWN),
    ],
)
def test_generic_ole_is_placed_by_its_streams(streams: dict[str, bytes], expected: FileType):
    cfb = pytest.importorskip("docintel.samples.cfb", reason="compound file writer not available")
    assert sniff(cfb.build_compound_file(streams), "")[0] is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("From: a@example.org\nTo: b@example.org\nSubject: x\n\nbody", True),
        ("From someone@example.org Mon Jan 1 00:00:00 2024\nFrom: a@example.org\nTo: b\n\nbody", True),
        ("Return-Path: <a@example.org>\n\nbody", True),
        ("MIME-Version: 1.0\nContent-Type: text/plain\n\nbody", True),
        ("Subject: budget\n\nPlease read.", False),
        ("Dear resident,\nFrom: the council\nTo: you", False),
        ("Name: A Smith\nAddress: 1 High Street\n\n", False),
    ],
)
def test_looks_like_mail(text: str, expected: bool):
    assert looks_like_mail(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", True),
        ("a\tb\n1\t2\n3\t4\n", True),
        ('name,comment\nA,"x, y"\nB,"z"\n', True),
        ("a,b\n1,2\n", False),  # too few rows to tell from prose
        (PROSE, False),
        ("one\ntwo\nthree\n", False),
    ],
)
def test_looks_like_csv(text: str, expected: bool):
    assert looks_like_csv(text) is expected
