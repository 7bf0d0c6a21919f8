"""File bodies for emulated drive items, generated on demand from (tenant seed, item index, content version).

Nothing here is stored: the tenant keeps only a template code per item, and the same inputs always give
the same bytes (so the hashes reported in metadata match the bytes served). Documents are small but real:
plain text and CSV, a one-page PDF with a text layer and a DOCX, written directly (no reportlab or
python-docx round trip) so that a delta page of hundreds of items can hash its bodies in milliseconds.
Mail messages reuse the templates: the text of a message is a template's lines in a short letter, its
attachment (if any) the same text as a PDF or DOCX, and :func:`mime_message` writes both as RFC 822.
The people, NHS numbers and postcodes are synthetic (:mod:`docintel.synthetic`): the NHS numbers are in
the 999 test range and mail domains are reserved example domains.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from xml.sax.saxutils import escape

from docintel import synthetic

COUNCIL = "Wessex County Council"


@dataclass(frozen=True)
class Body:
    """Lines of a generated document, with its title (PDF/DOCX metadata and first line)."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """A kind of council document: its file-name stem and how to write its text."""

    name: str
    stem: str
    formats: tuple[str, ...]
    write: Callable[[random.Random, int], Body]


def _when(rng: random.Random) -> dt.date:
    return dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 2400))


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"£{rng.randint(low, high):,}.{rng.randint(0, 99):02d}"


def _invoice(rng: random.Random, version: int) -> Body:
    supplier = rng.choice(("Casterbridge Stationers Ltd", "Wessex Fleet Services", "Anglebury Catering"))
    number = f"INV-{rng.randint(10000, 99999)}"
    net = rng.randint(100, 20000)
    lines = (
        f"{supplier}",
        f"Invoice {number}",
        f"Invoice date: {_when(rng).isoformat()}",
        f"VAT registration number: GB {synthetic.vat_number(rng)}",
        f"Bill to: {COUNCIL}, County Hall, Casterbridge DT1 1XJ",
        f"Purchase order: PO{rng.randint(400000, 499999)}",
        f"Net amount: £{net:,}.00",
        f"VAT at 20%: £{net * 0.2:,.2f}",
        f"Total due: £{net * 1.2:,.2f}",
        f"Pay to sort code {synthetic.sort_code(rng)} account {synthetic.bank_account(rng)}",
        f"Revision {version}",
    )
    return Body(f"Invoice {number}", lines)


def _case_note(rng: random.Random, version: int) -> Body:
    client = synthetic.person_name(rng)
    worker = synthetic.person_name(rng)
    born = synthetic.date_of_birth(rng, earliest=1935, latest=2005)
    lines = (
        "Adult Social Care - case note",
        f"Client: {client}",
        f"Date of birth: {born.strftime('%d/%m/%Y')}",
        f"NHS number: {synthetic.nhs_number(rng)}",
        f"Address: {rng.randint(1, 120)} Mill Lane, Casterbridge {synthetic.postcode(rng)}",
        f"Telephone: {synthetic.uk_mobile(rng)}",
        f"Visit on {_when(rng).strftime('%d %B %Y')} by {worker}, social worker.",
        f"{client.split()[0]} reported difficulty managing stairs; referral made to occupational therapy.",
        "Next review in six weeks.",
        f"Revision {version}",
    )
    return Body(f"Case note {client}", lines)


def _minutes(rng: random.Random, version: int) -> Body:
    chair = synthetic.person_name(rng)
    members = ", ".join(f"Cllr {synthetic.person_name(rng)}" for _ in range(3))
    committee = rng.choice(("Cabinet", "Planning Committee", "Audit and Governance Committee"))
    lines = (
        f"{COUNCIL} - {committee}",
        f"Minutes of the meeting held on {_when(rng).strftime('%d %B %Y')} at County Hall",
        f"Present: Cllr {chair} (Chair), {members}",
        "1. Apologies for absence were received.",
        "2. The minutes of the previous meeting were agreed as a correct record.",
        f"3. The committee approved a budget of {_money(rng, 10000, 900000)} for highway maintenance.",
        "4. Date of next meeting to be confirmed.",
        f"Revision {version}",
    )
    return Body(f"{committee} minutes", lines)


def _planning(rng: random.Random, version: int) -> Body:
    applicant = synthetic.person_name(rng)
    reference = f"WX/{rng.randint(18, 24)}/{rng.randint(1000, 9999)}/FUL"
    lines = (
        f"{COUNCIL} - Town and Country Planning Act 1990",
        f"Decision notice, application {reference}",
        f"Applicant: {applicant}",
        f"Site: {rng.randint(1, 90)} Church Street, Anglebury {synthetic.postcode(rng)}",
        "Proposal: single storey rear extension.",
        f"Decision: {rng.choice(('Granted subject to conditions', 'Refused'))}",
        f"Date of decision: {_when(rng).isoformat()}",
        f"Revision {version}",
    )
    return Body(f"Planning decision {reference}", lines)


def _foi(rng: random.Random, version: int) -> Body:
    requester = synthetic.person_name(rng)
    lines = (
        f"Freedom of Information request FOI-{rng.randint(1000, 9999)}",
        f"From: {requester} <{synthetic.email_for(requester, rng)}>",
        f"Received: {_when(rng).isoformat()}",
        "Please provide the number of potholes repaired in each of the last three financial years,",
        "and the total spent on road resurfacing in the same period.",
        f"Revision {version}",
    )
    return Body(f"FOI request from {requester}", lines)


def _payroll(rng: random.Random, version: int) -> Body:
    rows = ["Employee,National Insurance number,Grade,Annual salary"]
    for _ in range(rng.randint(4, 9)):
        rows.append(
            f"{synthetic.person_name(rng)},{synthetic.nino(rng)},G{rng.randint(3, 12)},{rng.randint(21, 68)}000"
        )
    rows.append(f"Revision,{version},,")
    return Body("Payroll extract", tuple(rows))


def _policy(rng: random.Random, version: int) -> Body:
    topic = rng.choice(("Information Security", "Records Management", "Home Working", "Data Protection"))
    lines = (
        f"{COUNCIL} - {topic} Policy",
        f"Version {version}.{rng.randint(0, 9)}, approved {_when(rng).isoformat()}",
        "1. Purpose: this policy sets out how staff handle council information.",
        "2. Scope: all employees, members, contractors and volunteers.",
        "3. Review: the policy is reviewed every two years by the Senior Information Risk Owner.",
    )
    return Body(f"{topic} Policy", lines)


def _contract(rng: random.Random, version: int) -> Body:
    supplier = rng.choice(("Durnover Cleaning Services Ltd", "Budmouth Software plc", "Egdon Waste Ltd"))
    start = _when(rng)
    lines = (
        f"Contract between {COUNCIL} and {supplier}",
        f"Contract reference: WCC-{rng.randint(2018, 2024)}-{rng.randint(100, 999)}",
        f"Start date: {start.isoformat()}; term {rng.randint(2, 7)} years",
        f"Contract value: {_money(rng, 50000, 5000000)}",
        "The supplier shall comply with the UK GDPR and the Data Protection Act 2018.",
        f"Revision {version}",
    )
    return Body(f"Contract with {supplier}", lines)


# Order matters: an item's template code indexes KINDS, so append only.
TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template("invoice", "Invoice", ("pdf", "txt"), _invoice),
        Template("case_note", "Case note", ("docx", "txt"), _case_note),
        Template("minutes", "Minutes", ("docx", "pdf"), _minutes),
        Template("planning_decision", "Planning decision", ("pdf",), _planning),
        Template("foi_request", "FOI request", ("txt",), _foi),
        Template("payroll", "Payroll", ("csv",), _payroll),
        Template("policy", "Policy", ("docx", "pdf"), _policy),
        Template("contract", "Contract", ("pdf", "docx"), _contract),
    )
}

# Kind code 0 is a folder; codes 1.. are (template, format) pairs.
FOLDER_KIND = 0
KINDS: tuple[tuple[str, str], ...] = (
    ("", ""),
    *((template.name, fmt) for template in TEMPLATES.values() for fmt in template.formats),
)
KIND_CODES = {kind: code for code, kind in enumerate(KINDS) if code}

MIME_TYPES = {
    "txt": "text/plain",
    "csv": "text/csv",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def kind_code(template: str, fmt: str | None = None) -> int:
    """The kind code for a template (and format, default its first); ValueError names the known ones."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    chosen = fmt or TEMPLATES[template].formats[0]
    if (template, chosen) not in KIND_CODES:
        raise ValueError(
            f"template {template!r} has no format {chosen!r}; known: {', '.join(TEMPLATES[template].formats)}"
        )
    return KIND_CODES[(template, chosen)]


def body_rng(seed: int, item_index: int, version: int) -> random.Random:
    """The random source for one version of one item's body."""
    digest = hashlib.blake2b(f"{seed}:{item_index}:{version}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def render(kind: int, seed: int, item_index: int, version: int) -> bytes:
    """The bytes of one version of one file."""
    template_name, fmt = KINDS[kind]
    body = TEMPLATES[template_name].write(body_rng(seed, item_index, version), version)
    if fmt == "pdf":
        return pdf_bytes(body)
    if fmt == "docx":
        return docx_bytes(body)
    return ("\r\n" if fmt == "csv" else "\n").join(body.lines).encode("utf-8") + b"\n"


def _pdf_string(text: str) -> str:
    safe = text.encode("cp1252", "replace").decode("latin-1")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(body: Body) -> bytes:
    """A one-page A4 PDF with a Helvetica text layer, one line per body line."""
    text_ops = " T* ".join(f"{_pdf_string(line)} Tj" for line in body.lines)
    stream = f"BT /F1 11 Tf 14 TL 56 780 Td {text_ops} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        f"<< /Title {_pdf_string(body.title)} /Producer (docintel graph emulator) >>".encode("latin-1"),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    "</Relationships>"
)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# Fixed member timestamp: zip entries otherwise carry "now" and the bytes (and hashes) would drift.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def docx_bytes(body: Body) -> bytes:
    """A minimal WordprocessingML package: one paragraph per body line, the title in core properties."""
    paragraphs = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>' for line in body.lines)
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W_NS}">'
        f"<w:body>{paragraphs}<w:sectPr/></w:body></w:document>"
    )
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(body.title)}</dc:title><dc:creator>{COUNCIL}</dc:creator></cp:coreProperties>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _PACKAGE_RELS),
            ("word/document.xml", document),
            ("docProps/core.xml", core),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# ---- mail -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message."""

    name: str
    mime_type: str
    data: bytes


def message_rng(seed: int, number: int, version: int) -> random.Random:
    """The random source for one version of one message (a namespace apart from file bodies)."""
    digest = hashlib.blake2b(f"mail:{seed}:{number}:{version}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def message_document(template: str, seed: int, number: int, version: int) -> Body:
    """The document a message carries: its text, and its attachment's text when it has one."""
    return TEMPLATES[template].write(message_rng(seed, number, version), version)


def message_text(document: Body, recipient: str, sender: str, attachment_name: str | None) -> str:
    """A short letter around the document's lines."""
    opening = f"Please find attached {attachment_name}." if attachment_name else "Please see the details below."
    greeting = f"Dear {recipient.split(maxsplit=1)[0]},"
    return "\n".join((greeting, "", opening, "", *document.lines, "", "Kind regards,", sender))


def attachment_bytes(document: Body, fmt: str) -> bytes:
    """A document rendered as a PDF or DOCX attachment."""
    if fmt == "pdf":
        return pdf_bytes(document)
    if fmt == "docx":
        return docx_bytes(document)
    raise ValueError(f"attachments are pdf or docx, not {fmt!r}")


def mime_message(
    *,
    sender: tuple[str, str],
    to: tuple[str, str],
    subject: str,
    sent: float,
    message_id: str,
    text: str,
    attachment: Attachment | None,
) -> bytes:
    """An RFC 822 message (CRLF line ends) with a text/plain body and an optional attachment; same input, same bytes."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = email.utils.formataddr(sender)
    message["To"] = email.utils.formataddr(to)
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(sent, usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(text)
    if attachment is not None:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name)
        # The stdlib draws a random boundary; a derived one keeps the bytes reproducible.
        message.set_boundary("=_docintel_" + hashlib.blake2b(message_id.encode(), digest_size=8).hexdigest())
    return message.as_bytes()
