"""Generated UK VAT invoices (reportlab) and scans of them (rendered with pdfium, saved by PIL)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from docintel import synthetic

POINTS_PER_INCH = 72


@dataclass
class InvoiceSpec:
    """What a generated invoice says, so tests can compare the extraction with the truth."""

    vendor: str = "Northgate Office Supplies Ltd"
    vendor_address: tuple[str, ...] = ("12 Mill Lane", "Leeds", "LS1 4AB")
    vat_number: str = ""
    customer: str = "Northshire County Council"
    customer_address: tuple[str, ...] = ("County Hall", "Market Street", "Northtown", "NT1 2CD")
    invoice_id: str = "INV-2025-0412"
    invoice_date: str = "03/04/2025"
    due_date: str = "03/05/2025"
    purchase_order: str = "PO-88123"
    terms: str = "30 days"
    items: list[tuple[str, int, Decimal]] = field(default_factory=list)  # description, quantity, unit price
    vat_rate: Decimal = Decimal(20)
    total_override: Decimal | None = None  # print a wrong total
    sort_code: str = "20-45-77"
    account: str = "41234567"
    repeat_header: bool = True

    @property
    def subtotal(self) -> Decimal:
        return sum((quantity * price for _, quantity, price in self.items), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.vat_rate / 100).quantize(Decimal("0.01"))

    @property
    def total(self) -> Decimal:
        return self.total_override if self.total_override is not None else self.subtotal + self.tax


def default_items(count: int, seed: int = 7) -> list[tuple[str, int, Decimal]]:
    rng = random.Random(seed)
    names = ("A4 copier paper, 80gsm", "Toner cartridge black", "Box files", "Desk chair", "Whiteboard markers",
             "Laminating pouches", "Staples 26/6", "Printer servicing")  # fmt: skip
    return [
        (f"{names[n % len(names)]} batch {n + 1}", rng.randint(1, 12), Decimal(rng.randint(150, 9999)) / 100)
        for n in range(count)
    ]


def make_spec(items: int = 4, *, valid_vat: bool = True, seed: int = 11, **overrides: object) -> InvoiceSpec:
    rng = random.Random(seed)
    vat = synthetic.vat_number(rng)
    if not valid_vat:
        vat = vat[:-2] + f"{(int(vat[-2:]) + 1) % 100:02d}"  # one off: the mod-97 check fails
    spec = InvoiceSpec(vat_number=vat, items=default_items(items, seed), **overrides)  # type: ignore[arg-type]
    return spec


def money(value: Decimal) -> str:
    return f"£{value:,.2f}"


def invoice_pdf(spec: InvoiceSpec) -> bytes:
    """A born-digital UK VAT invoice: letterhead, labelled header fields, item table, totals, bank details."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _, height = A4
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(40, height - 50, spec.vendor)
    pdf.setFont("Helvetica", 9)
    y = height - 66
    for line in spec.vendor_address:
        pdf.drawString(40, y, line)
        y -= 12
    pdf.drawString(
        40,
        y - 4,
        f"VAT Reg No: {spec.vat_number[:2]} {spec.vat_number[2:5]} {spec.vat_number[5:9]} {spec.vat_number[9:]}",
    )
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(400, height - 50, "INVOICE")
    pdf.setFont("Helvetica", 9)
    labels = [
        ("Invoice No:", spec.invoice_id),
        ("Invoice Date:", spec.invoice_date),
        ("Due Date:", spec.due_date),
        ("PO Number:", spec.purchase_order),
        ("Payment Terms:", spec.terms),
    ]
    y = height - 80
    for label, value in labels:
        pdf.drawString(360, y, label)
        pdf.drawString(450, y, value)
        y -= 13
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(40, height - 170, "Bill To:")
    pdf.setFont("Helvetica", 9)
    y = height - 183
    for line in (spec.customer, *spec.customer_address):
        pdf.drawString(40, y, line)
        y -= 12
    columns = (("Description", 40, "l"), ("Qty", 300, "r"), ("Unit price", 380, "r"), ("VAT", 440, "r"),
               ("Amount", 530, "r"))  # fmt: skip

    def header(y: float) -> None:
        pdf.setFont("Helvetica-Bold", 9)
        for title, x, align in columns:
            (pdf.drawString if align == "l" else pdf.drawRightString)(x, y, title)
        pdf.setFont("Helvetica", 9)

    y = height - 270
    header(y)
    y -= 16
    for description, quantity, price in spec.items:
        if y < 90:
            pdf.drawString(40, 50, "Continued overleaf")
            pdf.showPage()
            pdf.setFont("Helvetica", 9)
            pdf.drawString(40, height - 40, f"{spec.vendor} - invoice {spec.invoice_id} (continued)")
            y = height - 80
            if spec.repeat_header:
                header(y)
                y -= 16
        pdf.drawString(40, y, description)
        pdf.drawRightString(300, y, str(quantity))
        pdf.drawRightString(380, y, f"{price:,.2f}")
        pdf.drawRightString(440, y, f"{spec.vat_rate}%")
        pdf.drawRightString(530, y, f"{quantity * price:,.2f}")
        y -= 14
    if y < 150:
        pdf.showPage()
        pdf.setFont("Helvetica", 9)
        y = height - 80
    y -= 10
    for label, value in (("Subtotal", spec.subtotal), (f"VAT @ {spec.vat_rate}%", spec.tax),
                         ("Total", spec.total), ("Amount Due", spec.total)):  # fmt: skip
        pdf.drawString(380, y, label)
        pdf.drawRightString(530, y, money(value))
        y -= 14
    y -= 12
    pdf.drawString(40, y, "Payment by BACS to:")
    pdf.drawString(40, y - 13, f"Sort Code: {spec.sort_code}")
    pdf.drawString(40, y - 26, f"Account Number: {spec.account}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_pages(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    """Each page as a greyscale image at ``dpi``, as a scanner would deliver it."""
    document = pdfium.PdfDocument(pdf)
    try:
        images = []
        for page in document:
            bitmap = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True)
            image = bitmap.to_pil().copy()
            image.info["dpi"] = (dpi, dpi)
            images.append(image)
        return images
    finally:
        document.close()


def scanned_pdf(pdf: bytes, dpi: int = 300) -> bytes:
    """The invoice as an image-only PDF (no text layer)."""
    images = render_pages(pdf, dpi)
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def scanned_png(pdf: bytes, dpi: int = 300) -> bytes:
    """The first page as a PNG scan."""
    buffer = io.BytesIO()
    render_pages(pdf, dpi)[0].save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def uk_spec() -> InvoiceSpec:
    return make_spec(items=4)


@pytest.fixture(scope="session")
def uk_invoice(uk_spec: InvoiceSpec) -> bytes:
    return invoice_pdf(uk_spec)


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
RECEIPT_PHOTO_LINES = [
    ("centre", "KEDAI RUNCIT MAJU JAYA SDN BHD"),
    ("centre", "(123456-X)"),
    ("centre", "NO 12, JALAN BUNGA RAYA 3,"),
    ("centre", "43000 KAJANG, SELANGOR"),
    ("centre", "TEL: 03-8737 1234"),
    ("centre", "TAX INVOICE"),
    ("left", "DATE: 14/03/2018      TIME: 18:25"),
    ("row", ("MILO 1KG", "1 X 18.90", "18.90")),
    ("row", ("GARDENIA BREAD", "2 X 3.75", "7.50")),
    ("row", ("TOTAL SALES (EXCL GST)", "", "26.79")),
    ("row", ("GST 6%", "", "1.61")),
    ("row", ("ROUNDING ADJ", "", "-0.05")),
    ("row", ("TOTAL", "", "28.35")),
    ("row", ("CASH", "", "50.00")),
    ("row", ("CHANGE", "", "21.65")),
    ("centre", "THANK YOU, PLEASE COME AGAIN"),
]


def receipt_photo() -> bytes:
    """A narrow thermal-receipt-like image: centred letterhead, wide-spaced item rows, a border at the right."""
    font = ImageFont.truetype(str(FONT), 26)
    width, line_height = 720, 40
    image = Image.new("RGB", (width, line_height * (len(RECEIPT_PHOTO_LINES) + 4)), (248, 246, 240))
    draw = ImageDraw.Draw(image)
    for number, (kind, content) in enumerate(RECEIPT_PHOTO_LINES):
        y = line_height * (number + 2)
        if kind == "row":
            label, middle, amount = content
            draw.text((30, y), label, font=font, fill=(30, 30, 60))
            draw.text((330, y), middle, font=font, fill=(30, 30, 60))
            draw.text((width - 30 - draw.textlength(amount, font=font), y), amount, font=font, fill=(30, 30, 60))
        else:
            assert isinstance(content, str)
            x = 30 if kind == "left" else (width - draw.textlength(content, font=font)) / 2
            draw.text((x, y), content, font=font, fill=(30, 30, 60))
    draw.line([(width - 8, 10), (width - 8, image.height - 10)], fill=(60, 60, 60), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
