"""PDF samples with reportlab: born-digital documents, an image-only scan, an encrypted and a truncated file.

Every canvas and document template is built with ``invariant=1`` so reportlab writes fixed dates and
document ids, and the same content always gives the same bytes.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from PIL import Image
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer
from reportlab.platypus import Paragraph as PdfParagraph
from reportlab.platypus import Table as PdfTable
from reportlab.platypus.tables import TableStyle

from docintel.samples.content import (
    COUNCIL,
    COUNCIL_ADDRESS,
    Heading,
    Invoice,
    Paragraph,
    TextDocument,
    long_date,
    money,
)

AUTHOR = "docintel sample generator"
# RC4 128-bit (PDF 1.4 revision 3): its keys derive from the passwords and the (invariant) document id, so the
# file is reproducible; reportlab's AES-256 mode draws random salts.
ENCRYPTION_STRENGTH = 128
_STYLES = getSampleStyleSheet()
_TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee")),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _markup(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _flowables(document: TextDocument) -> list[Flowable]:
    story: list[Flowable] = []
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(PdfParagraph(_markup(block.text), _STYLES["Heading1" if block.level == 1 else "Heading2"]))
        elif isinstance(block, Paragraph):
            story.append(PdfParagraph(_markup(block.text), _STYLES["BodyText"]))
        else:
            story.append(PdfTable([list(row) for row in block.rows], style=_TABLE_STYLE, hAlign="LEFT"))
            story.append(Spacer(1, 4 * mm))
    return story


def _template(buffer: io.BytesIO, title: str, encrypt: StandardEncryption | None = None) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=AUTHOR,
        creator=AUTHOR,
        invariant=1,
        encrypt=encrypt,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )


def document_pdf(document: TextDocument, *, user_password: str | None = None) -> bytes:
    """A born-digital PDF of a text document; with ``user_password`` it cannot be opened without it."""
    buffer = io.BytesIO()
    encrypt = StandardEncryption(user_password, strength=ENCRYPTION_STRENGTH) if user_password else None
    _template(buffer, document.title, encrypt).build(_flowables(document))
    return buffer.getvalue()


def invoice_pdf(invoice: Invoice) -> bytes:
    """A supplier invoice: letterhead, addresses, a ruled line-item table, totals and bank details."""
    body = _STYLES["BodyText"]
    right = ParagraphStyle("right", parent=body, alignment=2)
    story: list[Flowable] = [
        PdfParagraph(_markup(invoice.supplier), _STYLES["Title"]),
        PdfParagraph(_markup(", ".join(invoice.supplier_address)), body),
        PdfParagraph(f"VAT registration number: {invoice.vat_number}", body),
        Spacer(1, 6 * mm),
        PdfParagraph("TAX INVOICE", _STYLES["Heading1"]),
        PdfTable(
            [
                [
                    PdfParagraph(
                        _markup("Invoice to:\n" + COUNCIL + "\nAccounts Payable\n" + "\n".join(COUNCIL_ADDRESS)), body
                    ),
                    PdfParagraph(
                        _markup(
                            f"Invoice number: {invoice.number}\nInvoice date: {long_date(invoice.issued)}\n"
                            f"Your order: {invoice.purchase_order}\nPayment due: {long_date(invoice.due)}"
                        ),
                        right,
                    ),
                ]
            ],
            colWidths=[85 * mm, 85 * mm],
        ),
        Spacer(1, 6 * mm),
    ]
    rows: list[list[str]] = [["Description", "Qty", "Unit price", "Amount"]]
    rows += [[text, str(quantity), money(price), money(quantity * price)] for text, quantity, price in invoice.lines]
    rows += [
        ["", "", "Net", money(invoice.net)],
        ["", "", f"VAT {invoice.vat_rate:.0%}", money(invoice.vat)],
        ["", "", "Total due", money(invoice.total)],
    ]
    items = PdfTable(rows, colWidths=[95 * mm, 15 * mm, 30 * mm, 30 * mm], hAlign="LEFT")
    items.setStyle(_TABLE_STYLE)
    items.setStyle(
        TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("FONTNAME", (2, -1), (-1, -1), "Helvetica-Bold")])
    )
    story += [
        items,
        Spacer(1, 8 * mm),
        PdfParagraph("Payment by BACS within 30 days to:", body),
        PdfParagraph(
            f"Account name: {escape(invoice.supplier)}. Sort code: {invoice.sort_code}. "
            f"Account number: {invoice.account_number}.",
            body,
        ),
        PdfParagraph(
            f"Queries: {escape(invoice.contact.name)}, Credit Control, {invoice.contact.landline}, "
            f"{escape(invoice.contact.email)}",
            body,
        ),
    ]
    buffer = io.BytesIO()
    _template(buffer, f"Invoice {invoice.number}").build(story)
    return buffer.getvalue()


def image_only_pdf(page: Image.Image, dpi: int) -> bytes:
    """A PDF whose single page is just an image (a scan): no text layer at all."""
    buffer = io.BytesIO()
    width, height = page.size[0] * 72 / dpi, page.size[1] * 72 / dpi
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    pdf.setAuthor(AUTHOR)
    pdf.setCreator("Scanner MFP (simulated)")
    pdf.drawImage(ImageReader(page), 0, 0, width=width, height=height)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def oversized_page_pdf(side_points: float = 21600) -> bytes:
    """A ~1 KB PDF of one square page ``side_points`` wide (300 inches by default) and a line of text: a render bomb."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(side_points, side_points), invariant=1)
    pdf.setFont("Helvetica", 48)
    pdf.drawString(72, side_points - 144, "INVOICE")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def truncated(pdf: bytes, keep: float = 0.55) -> bytes:
    """The first part of a PDF, cut off mid-stream as an interrupted copy leaves it."""
    cut = max(int(len(pdf) * keep), 16)
    stream_at = pdf.find(b"stream", len(pdf) // 4)
    if 0 < stream_at < len(pdf) - 64:
        # Cut inside a content stream so the damage is in the data, not just a missing trailer.
        cut = stream_at + 40
    return pdf[:cut]
