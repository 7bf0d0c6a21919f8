"""Generated UK council contracts and agreements, labelled by construction, for tests and bench/contracts.py.

Seven kinds (services, works, framework call-off, grant, lease, s106 planning obligation, data sharing), each in
several layouts: a numbered-parties preamble or a "between X and Y" sentence, a key-details table or clauses
only, dates written "1 April 2024", "1st April 2024" or "01/04/2024", terms in words and figures, end dates
stated or left to be computed from the term. Names, company and VAT numbers are fictional (valid checksums);
nothing here is a real contract. ``truth`` holds what a reader should find, in docintel.contracts' value forms.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import random
from dataclasses import dataclass, field

from docintel import synthetic
from docintel.samples.content import Heading, Paragraph, Table, TextDocument

KINDS = ("services", "works", "framework_call_off", "grant", "lease", "planning_obligation", "data_sharing")
COUNCILS = ("Wessex County Council", "Casterbridge City Council", "Mid Wessex District Council",
            "Budmouth Borough Council", "Christminster City Council")  # fmt: skip
SUPPLIER_STEMS = ("Greenway", "Northgate", "Brightwater", "Hallmark", "Kestrel", "Oakfield", "Meridian", "Ashdown",
                  "Redbridge", "Sterling", "Harbour", "Summit", "Fernleigh", "Copperfield", "Whitestone")  # fmt: skip
SUPPLIER_TRADES = {
    "services": ("Facilities Management", "Care Services", "Grounds Maintenance", "IT Services", "Cleaning"),
    "works": ("Construction", "Civil Engineering", "Building Contractors", "Highways"),
    "framework_call_off": ("Digital", "Consulting", "Technology Solutions", "Professional Services"),
    "grant": ("Community Trust", "Arts Foundation", "Youth Association", "Food Bank"),
    "lease": ("Properties", "Estates", "Retail", "Cafe Company"),
    "planning_obligation": ("Homes", "Developments", "Land", "Regeneration"),
    "data_sharing": ("Health NHS Foundation Trust", "Police", "Clinical Commissioning", "Housing Association"),
}
LEGAL_FORMS = ("Limited", "Ltd", "PLC", "LLP")
TITLES = {
    "services": "CONTRACT FOR THE PROVISION OF {trade} SERVICES",
    "works": "WORKS CONTRACT: {trade} WORKS AT {site}",
    "framework_call_off": "CALL-OFF CONTRACT UNDER FRAMEWORK {framework}",
    "grant": "GRANT FUNDING AGREEMENT",
    "lease": "LEASE OF {site}",
    "planning_obligation": "AGREEMENT UNDER SECTION 106 OF THE TOWN AND COUNTRY PLANNING ACT 1990",
    "data_sharing": "DATA SHARING AGREEMENT",
}
SITES = ("Unit 4 Riverside Industrial Estate", "The Old Library, High Street", "Land at Mellstock Farm",
         "Kingsbere Depot", "Shottsford Community Centre")  # fmt: skip
SUPPLIER_ROLES = {
    "services": "Supplier", "works": "Contractor", "framework_call_off": "Supplier", "grant": "Grant Recipient",
    "lease": "Tenant", "planning_obligation": "Owner", "data_sharing": "Partner",
}  # fmt: skip
COUNCIL_ROLES = {"lease": "Landlord", "grant": "Council", "planning_obligation": "Council"}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten", 12: "twelve", 15: "fifteen",
                18: "eighteen", 24: "twenty-four", 25: "twenty-five", 36: "thirty-six"}  # fmt: skip
# How many lines a generated page holds when it is rendered as a scan (A4 at the sample font, with wrapping).
SCAN_LINES_PER_PAGE = 34


@dataclass
class GeneratedContract:
    """One generated contract: its content for the renderers and the values a reader should find."""

    kind: str
    document: TextDocument
    truth: dict[str, str | list[str]] = field(default_factory=dict)

    def text(self) -> str:
        """The contract as plain text (what a text-layer PDF or DOCX reads back as)."""
        return "\n".join(self.document.lines())


def _written_date(day: dt.date, rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"{day.day} {calendar.month_name[day.month]} {day.year}"
    if style == 1:
        suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
        return f"{day.day}{suffix} {calendar.month_name[day.month]} {day.year}"
    return day.strftime("%d/%m/%Y")


def _duration(number: int, unit: str, rng: random.Random) -> str:
    plural = unit if number == 1 else unit + "s"
    if number in NUMBER_WORDS and rng.random() < 0.7:
        return f"{NUMBER_WORDS[number]} ({number}) {plural}"
    return f"{number} {plural}"


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _company_number(rng: random.Random) -> str:
    return f"{rng.randrange(1, 13_999_999):08d}"


def generate_contract(kind: str, rng: random.Random) -> GeneratedContract:
    """One contract of ``kind`` (see KINDS) with random parties, dates, term, value and layout."""
    council = rng.choice(COUNCILS)
    trade = rng.choice(SUPPLIER_TRADES[kind])
    supplier = f"{rng.choice(SUPPLIER_STEMS)} {trade}"
    if kind != "data_sharing":
        supplier = f"{supplier} {rng.choice(LEGAL_FORMS)}"
    company_number = _company_number(rng)
    vat_number = synthetic.vat_number(rng)
    site = rng.choice(SITES)
    framework = f"RM{rng.randrange(3000, 6999)}"
    reference = f"{council.split()[0][:3].upper()}/{rng.randrange(2019, 2026)}/{rng.randrange(1, 9999):04d}"
    title = TITLES[kind].format(trade=trade.upper(), site=site.upper(), framework=framework)
    supplier_role = SUPPLIER_ROLES[kind]
    council_role = COUNCIL_ROLES.get(kind, "Council")

    signed = dt.date(rng.randrange(2019, 2026), rng.randrange(1, 13), rng.randrange(1, 29))
    start = signed + dt.timedelta(days=rng.randrange(0, 60))
    years = rng.choice((1, 2, 3, 4, 5)) if kind != "lease" else rng.choice((5, 10, 15, 25))
    term_months = years * 12 if rng.random() < 0.75 else rng.choice((18, 24, 36))
    term_months = term_months if kind != "lease" else years * 12
    term_unit_is_years = term_months % 12 == 0 and rng.random() < 0.8
    term_number, term_unit = (term_months // 12, "year") if term_unit_is_years else (term_months, "month")
    end = _add_months(start, term_months) - dt.timedelta(days=1)
    notice_months = rng.choice((1, 3, 6))
    value = rng.randrange(8, 4000) * 1000 + rng.choice((0, 250, 500))
    annual = kind == "lease"
    extension = rng.choice((0, 1, 2))

    truth: dict[str, str | list[str]] = {
        "kind": kind,
        "parties": [council, supplier],
        "effective_date": signed.isoformat(),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "term": f"{term_number} {term_unit}{'' if term_number == 1 else 's'}",
        "notice_period": f"{notice_months} month{'' if notice_months == 1 else 's'}",
        "governing_law": "England and Wales",
        "data_processing": "true" if kind in ("services", "framework_call_off", "data_sharing") else "false",
        "executed_as_deed": "true" if kind in ("lease", "planning_obligation") else "false",
    }
    if kind not in ("data_sharing", "planning_obligation"):
        truth["annual_value" if annual else "total_value"] = f"{value}.00"
    if kind == "framework_call_off":
        truth["framework_reference"] = framework

    blocks: list[Heading | Paragraph | Table] = [Heading(title)]
    if rng.random() < 0.5:
        blocks.append(Paragraph(f"Contract Reference: {reference}"))
    deed = truth["executed_as_deed"] == "true"
    blocks.append(Paragraph(f"THIS {'DEED' if deed else 'AGREEMENT'} is dated {_written_date(signed, rng)}"))
    supplier_detail = (
        f"(company number {company_number}) whose registered office is at {rng.randrange(1, 200)} "
        f"{rng.choice(('Mill Lane', 'Station Road', 'Church Street', 'Victoria Way'))}, {synthetic.postcode(rng)}"
        if kind != "data_sharing"
        else f"of {rng.choice(('Trust Headquarters', 'Headquarters'))}, {synthetic.postcode(rng)}"
    )
    if rng.random() < 0.6:
        blocks.append(Paragraph("BETWEEN:"))
        blocks.append(Paragraph(f'(1) {council.upper()} of County Hall, Castle Street, {synthetic.postcode(rng)} '
                                f'(the "{council_role}"); and'))  # fmt: skip
        blocks.append(Paragraph(f'(2) {supplier.upper()} {supplier_detail} (the "{supplier_role}").'))
        truth["parties"] = [council.upper(), supplier.upper()]
    else:
        blocks.append(
            Paragraph(
                f'This agreement is made between {council} of County Hall, Castle Street (the "{council_role}") and '
                f'{supplier} {supplier_detail} (the "{supplier_role}").'
            )
        )
    term_text = _duration(term_number, term_unit, rng)
    state_end = rng.random() < 0.5
    if rng.random() < 0.5:
        rows: list[tuple[str, str]] = [("Item", "Detail"), ("Commencement Date", _written_date(start, rng))]
        if state_end:
            rows.append(("Expiry Date", _written_date(end, rng)))
        rows.append(("Initial Term", term_text))
        if "total_value" in truth:
            rows.append(("Contract Value", f"£{value:,}.00 exclusive of VAT"))
        blocks.append(Heading("KEY DETAILS", 2))
        blocks.append(Table(tuple(rows)))
    else:
        end_clause = f" and shall expire on {_written_date(end, rng)}" if state_end else ""
        blocks.append(Heading("1. TERM", 2))
        blocks.append(
            Paragraph(
                f"1.1 This {'Lease' if kind == 'lease' else 'Agreement'} shall commence on {_written_date(start, rng)} "
                f'(the "Commencement Date"){end_clause}. The initial term of this '
                f"{'Lease' if kind == 'lease' else 'Agreement'} shall be {term_text} from the Commencement Date."
            )
        )
        if "total_value" in truth:
            blocks.append(Paragraph(f"1.2 The total Contract Value is £{value:,}.00 exclusive of VAT."))
    if annual:
        blocks.append(Paragraph(f"The Tenant shall pay a rent of £{value:,}.00 per annum by equal quarterly payments."))
    if extension:
        blocks.append(
            Paragraph(
                f"The {council_role} may extend this Agreement for up to {NUMBER_WORDS[extension]} further "
                f"{'period' if extension == 1 else 'periods'} of twelve (12) months each."
            )
        )
    blocks.append(Heading("2. TERMINATION", 2))
    blocks.append(
        Paragraph(
            f"Either party may terminate this Agreement by giving not less than "
            f"{_duration(notice_months, 'month', rng)}{chr(39) if notice_months > 1 else chr(39) + 's'} "
            "written notice to the other."
        )
    )
    if kind in ("services", "framework_call_off", "works"):
        blocks.append(
            Paragraph(
                f"The {council_role} shall pay each valid and undisputed invoice within 30 days of receipt of "
                f"a valid invoice. The {supplier_role}'s VAT registration number is {vat_number}."
            )
        )
    if kind == "planning_obligation":
        blocks.append(Paragraph("The Owner covenants with the Council to pay the Education Contribution and the "
                                "Highways Contribution before Commencement of Development."))  # fmt: skip
    if kind == "grant":
        blocks.append(Paragraph("The Grant shall be used only for the Project and any unspent Grant shall be repaid."))
    if truth["data_processing"] == "true":
        blocks.append(Heading("3. DATA PROTECTION", 2))
        blocks.append(
            Paragraph(
                "The parties shall comply with the Data Protection Legislation. Schedule 3 (Processing, Personal "
                "Data and Data Subjects) sets out the processing under Article 28 of the UK GDPR."
            )
        )
    blocks.append(Heading("4. GOVERNING LAW", 2))
    blocks.append(
        Paragraph(
            "This Agreement and any dispute arising from it shall be governed by the laws of England and Wales "
            "and the parties submit to the exclusive jurisdiction of the courts of England and Wales."
        )
    )
    signer = synthetic.person_name(rng)
    if deed:
        blocks.append(Paragraph(f"EXECUTED AS A DEED by affixing the common seal of {council.upper()} "
                                "in the presence of the Authorised Signatory."))  # fmt: skip
    blocks.append(Paragraph(f"Signed for and on behalf of {supplier}"))
    blocks.append(Paragraph(f"Name: {signer}"))
    blocks.append(Paragraph(f"Date: {_written_date(signed, rng)}"))
    truth["signatories"] = [signer]
    return GeneratedContract(kind, TextDocument(title=title, blocks=tuple(blocks)), truth)


def generate_contracts(count: int, seed: int = 19) -> list[GeneratedContract]:
    """``count`` contracts cycling through the kinds, reproducible from ``seed``."""
    rng = random.Random(seed)
    return [generate_contract(KINDS[index % len(KINDS)], rng) for index in range(count)]


def scanned_pdf(contract: GeneratedContract, seed: int = 0) -> bytes:
    """The contract as an image-only PDF (a scan: greyscale, skewed, specks), one image per page."""
    import pypdfium2 as pdfium

    from docintel.samples import images
    from docintel.samples.pdf import image_only_pdf

    rng = random.Random(seed)
    lines = contract.document.lines()
    merged = pdfium.PdfDocument.new()
    for first in range(0, len(lines), SCAN_LINES_PER_PAGE):
        page = images.render_page(lines[first : first + SCAN_LINES_PER_PAGE], 300, title_lines=1 if first == 0 else 0)
        merged.import_pages(pdfium.PdfDocument(image_only_pdf(images.scanned(page, rng), 300)))
    buffer = io.BytesIO()
    merged.save(buffer)
    return buffer.getvalue()
