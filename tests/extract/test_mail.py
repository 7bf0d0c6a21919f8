"""Mail: EML via the stdlib parser (bodies, headers, attachments, odd MIME) and MSG via extract-msg."""

from __future__ import annotations

import binascii
import email.message
import email.policy
import io

import pytest
from reportlab.pdfgen import canvas

from docintel.errors import CorruptDocument, EmptyDocument
from docintel.extract.base import ExtractContext
from docintel.extract.mail import EmlExtractor, MsgExtractor, split_uuencoded
from docintel.settings import LimitSettings

CONTEXT = ExtractContext(name="message.eml")


def make_pdf(text: str = "Invoice 1001") -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


def make_message(subject: str = "Planning application 24/0001") -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = "Planning Team <planning@example.gov.uk>"
    message["To"] = "Alex Example <alex@example.org>"
    message["Cc"] = "Ward Councillor <cllr@example.gov.uk>"
    message["Date"] = "Tue, 04 Mar 2025 10:15:00 +0000"
    message["Subject"] = subject
    return message


def rich_message() -> bytes:
    """Plain + HTML alternative body, a PDF attachment, and a forwarded message with its own attachment."""
    inner = make_message("Original request")
    inner.set_content("Please find my request below.")
    inner.add_attachment(b"inner attachment text", maintype="text", subtype="plain", filename="request.txt")
    outer = make_message()
    outer.set_content("Your application has been validated.\nReference 24/0001.")
    outer.add_alternative(
        "<html><body><p>Your application has been <b>validated</b>.</p></body></html>", subtype="html"
    )
    outer.add_attachment(make_pdf(), maintype="application", subtype="pdf", filename="decision.pdf")
    outer.add_attachment(inner, filename="forwarded.eml")
    return outer.as_bytes()


def test_eml_body_headers_and_attachments():
    extraction = EmlExtractor().extract(rich_message(), CONTEXT)
    page = extraction.pages[0].text
    assert page.startswith(
        "Subject: Planning application 24/0001\nFrom: Planning Team <planning@example.gov.uk>\n"
        "To: Alex Example <alex@example.org>\nCc: Ward Councillor <cllr@example.gov.uk>\n"
        "Date: 2025-03-04T10:15:00+00:00\n\nYour application has been validated."
    )
    assert "<b>" not in page and page.count("validated") == 1  # plain preferred, HTML twin not repeated
    assert "Please find my request" not in page  # the forwarded message is a child, not body text
    assert extraction.title == "Planning application 24/0001"
    assert extraction.metadata["from"] == "Planning Team <planning@example.gov.uk>"
    assert extraction.metadata["to"] == "Alex Example <alex@example.org>"
    assert extraction.metadata["body_format"] == "plain"
    names = [attachment.name for attachment in extraction.attachments]
    assert names == ["decision.pdf", "forwarded.eml"]
    pdf, forwarded = extraction.attachments
    assert pdf.content.startswith(b"%PDF-")
    child = EmlExtractor().extract(forwarded.content, ExtractContext(depth=1))
    assert child.title == "Original request"
    assert [a.name for a in child.attachments] == ["request.txt"]
    assert child.attachments[0].content == b"inner attachment text"


def test_html_only_mail_is_reduced_to_visible_text():
    message = make_message()
    message.set_content(
        "<html><head><style>p{}</style></head><body><p>Hello</p><script>x()</script><p>World</p></body></html>",
        subtype="html",
    )
    extraction = EmlExtractor().extract(message.as_bytes(), CONTEXT)
    assert extraction.pages[0].text.endswith("\n\nHello\nWorld")
    assert extraction.metadata["body_format"] == "html"


@pytest.mark.parametrize(
    ("charset_header", "body_bytes", "expected"),
    [
        ('text/plain; charset="x-no-such-charset"', "Fee £25 café".encode("cp1252"), "Fee £25 café"),
        ("text/plain", "Fee £25 café".encode(), "Fee £25 café"),  # no charset, 8-bit UTF-8
        ('text/plain; charset="us-ascii"', "Fee £25 café".encode("cp1252"), "Fee £25 café"),  # lies
        ('text/plain; charset="utf-8"', "Fee £25 café".encode("cp1252"), "Fee £25 café"),  # lies
    ],
    ids=["unknown-charset", "missing-charset", "ascii-declared-cp1252", "utf8-declared-cp1252"],
)
def test_bad_and_missing_charsets(charset_header: str, body_bytes: bytes, expected: str):
    raw = (
        b"From: a@example.org\nTo: b@example.org\nSubject: Fees\nMIME-Version: 1.0\n"
        b"Content-Type: " + charset_header.encode() + b"\nContent-Transfer-Encoding: 8bit\n\n" + body_bytes + b"\n"
    )
    extraction = EmlExtractor().extract(raw, CONTEXT)
    assert extraction.pages[0].text.endswith(expected)


def test_encoded_headers_are_decoded():
    raw = b"From: =?utf-8?q?Ren=C3=A9e?= <r@example.org>\nSubject: =?iso-8859-1?q?Caf=E9_licence?=\n\nbody\n"
    extraction = EmlExtractor().extract(raw, CONTEXT)
    assert extraction.title == "Café licence"
    assert extraction.metadata["from"] == "Renée <r@example.org>"


def test_uuencoded_attachment_in_body_and_uuencode_transfer_encoding():
    data = b"scanned letter bytes " * 5
    uu = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    raw = b"From: a@example.org\nSubject: uu\n\nSee attached.\nbegin 644 letter.txt\n" + uu + b"`\nend\nThanks\n"
    extraction = EmlExtractor().extract(raw, CONTEXT)
    assert [(a.name, a.content) for a in extraction.attachments] == [("letter.txt", data)]
    assert "begin 644" not in extraction.pages[0].text and "Thanks" in extraction.pages[0].text
    part = (
        b"From: a@example.org\nSubject: uu\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain\n\nbody\n--XX\nContent-Type: application/octet-stream; name=x.bin\n"
        b"Content-Disposition: attachment; filename=x.bin\nContent-Transfer-Encoding: x-uuencode\n\n"
        b"begin 644 x.bin\n" + uu + b"`\nend\n--XX--\n"
    )
    extraction = EmlExtractor().extract(part, CONTEXT)
    assert [(a.name, a.content) for a in extraction.attachments] == [("x.bin", data)]


def test_tnef_winmail_dat_is_passed_on_as_an_attachment():
    message = make_message()
    message.set_content("See attached")
    message.add_attachment(b"\x78\x9f\x3e\x22tnef", maintype="application", subtype="ms-tnef", filename="winmail.dat")
    extraction = EmlExtractor().extract(message.as_bytes(), CONTEXT)
    assert [(a.name, a.content[:4]) for a in extraction.attachments] == [("winmail.dat", b"\x78\x9f\x3e\x22")]


def test_inline_image_without_a_name_and_attachment_with_a_path_name():
    raw = (
        b"From: a@example.org\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=B\n\n"
        b"--B\nContent-Type: text/html\n\n<p>Logo below</p>\n"
        b"--B\nContent-Type: image/png\nContent-Transfer-Encoding: base64\nContent-ID: <logo>\n\niVBORw0KGgo=\n"
        b'--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename="C:\\\\Users\\\\x\\\\notes.txt"\n\n'
        b"notes\n--B--\n"
    )
    extraction = EmlExtractor().extract(raw, CONTEXT)
    assert [a.name for a in extraction.attachments] == ["attachment-1.png", "notes.txt"]
    assert extraction.pages[0].text.endswith("Logo below")


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@example.org\nSubject: broken\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=NOPE\n\n"
        b"--OTHER\nContent-Type: text/plain\n\ntext without the declared boundary\n",
        b"From: a@example.org\nSubject: bad b64\nContent-Transfer-Encoding: base64\n\n!!!not base64@@@\n",
        b"From: a@example.org\nSubject: no body\n",
        b"From: a@example.org\nSubject: =?bogus?x?zzz?=\nTo: ,,,@@@\nDate: not a date\n\nbody\n",
        b"From a@example.org Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: mbox\n\nbody\n",
    ],
    ids=["missing-boundary", "bad-base64", "headers-only", "garbled-headers", "mbox-line"],
)
def test_odd_but_parseable_mail_never_crashes(raw: bytes):
    extraction = EmlExtractor().extract(raw, CONTEXT)
    assert extraction.pages[0].text.startswith("Subject: ")


@pytest.mark.parametrize("raw", [b"%PDF-1.4 not a mail", b"just some words\nand more words\n", b"\x00\x01\x02"])
def test_non_mail_is_corrupt(raw: bytes):
    with pytest.raises(CorruptDocument):
        EmlExtractor().extract(raw, CONTEXT)


def test_empty_mail_raises_empty_document():
    with pytest.raises(EmptyDocument):
        EmlExtractor().extract(b"", CONTEXT)


def test_attachments_beyond_depth_or_count_limits_are_dropped_with_a_note():
    message = make_message()
    message.set_content("body")
    for index in range(3):
        message.add_attachment(b"x", maintype="text", subtype="plain", filename=f"{index}.txt")
    deep = EmlExtractor().extract(message.as_bytes(), ExtractContext(depth=3))
    assert deep.attachments == [] and "nested too deep" in deep.notes[0]
    capped = EmlExtractor().extract(message.as_bytes(), ExtractContext(limits=LimitSettings(max_archive_members=2)))
    assert [a.name for a in capped.attachments] == ["0.txt", "1.txt"]
    assert any("1 attachments dropped" in note for note in capped.notes)


def test_split_uuencoded_leaves_plain_text_alone():
    assert split_uuencoded("no blocks here\nbegin the meeting\nend") == (
        "no blocks here\nbegin the meeting\nend",
        [],
        [],
    )


# --- MSG -------------------------------------------------------------------------------------------


def test_msg_not_ole_is_corrupt():
    with pytest.raises(CorruptDocument):
        MsgExtractor().extract(b"not an OLE file" * 200, CONTEXT)
    with pytest.raises(CorruptDocument):
        MsgExtractor().extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000, CONTEXT)
    with pytest.raises(EmptyDocument):
        MsgExtractor().extract(b"", CONTEXT)


def test_msg_short_bytes_are_never_taken_for_a_path(tmp_path):
    # extract-msg treats short bytes as a file name; the extractor must refuse them before that.
    target = tmp_path / "secret.msg"
    target.write_bytes(b"x")
    with pytest.raises(CorruptDocument):
        MsgExtractor().extract(str(target).encode(), CONTEXT)


def test_msg_fields_body_and_attachments():
    samples = pytest.importorskip("docintel.samples.msg", reason="MSG writer not available")
    pdf = make_pdf()
    content = samples.build_msg(
        subject="Tenancy agreement",
        sender_name="Housing Team",
        sender_email="housing@example.gov.uk",
        to=[("Sam Tenant", "sam@example.org")],
        body="Your tenancy starts on Monday.\r\nRegards",
        attachments=[("agreement.pdf", pdf), ("notes.txt", b"bring ID")],
    )
    extraction = MsgExtractor().extract(content, ExtractContext(name="mail.msg"))
    page = extraction.pages[0].text
    assert page.startswith("Subject: Tenancy agreement\nFrom: ")
    assert page.endswith("Your tenancy starts on Monday.\nRegards")
    assert extraction.title == "Tenancy agreement"
    assert "housing@example.gov.uk" in extraction.metadata["from"]
    assert "Sam Tenant" in extraction.metadata["to"]
    assert extraction.metadata["body_format"] == "plain"
    assert [(a.name, a.content) for a in extraction.attachments] == [("agreement.pdf", pdf), ("notes.txt", b"bring ID")]
