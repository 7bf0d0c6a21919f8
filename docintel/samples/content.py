"""Synthetic council texts for the sample documents: fake people, valid fake identifiers, fixed seed.

Each document draws its people from its own ``random.Random`` seeded with the document's name, so
adding or changing one document never changes another. Identifiers come from
:mod:`docintel.synthetic` (NHS test range, Ofcom drama phone ranges, example.* mail domains).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from docintel import synthetic

SEED = 20250401
COUNCIL = "Wessex County Council"
COUNCIL_ADDRESS = ("County Hall", "Castle Street", "Casterbridge", "DT1 1XJ")
COUNCIL_DOMAIN = "wessex.example.gov.uk"


@dataclass(frozen=True)
class Heading:
    """A heading line; level 1 is the document title level."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of running text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table whose first row is the header."""

    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class TextDocument:
    """A document as a title, a running header/footer and a sequence of blocks, for any renderer."""

    title: str
    blocks: tuple[Block, ...]
    header: str = ""
    footer: str = ""

    def lines(self) -> list[str]:
        """The document as plain lines: tables become columns separated by two spaces."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Heading):
                out.extend(["", block.text.upper() if block.level == 1 else block.text])
            elif isinstance(block, Paragraph):
                out.extend(["", block.text])
            else:
                widths = [max(len(row[col]) for row in block.rows) for col in range(len(block.rows[0]))]
                out.append("")
                for row in block.rows:
                    cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                    out.append("  ".join(cells).rstrip())
        return out[1:] if out and not out[0] else out


@dataclass(frozen=True)
class Person:
    """A fake resident or officer with valid-format identifiers."""

    name: str
    email: str
    mobile: str
    landline: str
    postcode: str
    nhs_number: str
    nino: str
    date_of_birth: dt.date

    @property
    def first_name(self) -> str:
        """The given name."""
        return self.name.split()[0]

    @property
    def last_name(self) -> str:
        """The family name."""
        return self.name.split()[-1]


def rng_for(document: str) -> random.Random:
    """A generator seeded for one document, independent of every other document."""
    return random.Random(f"{SEED}:{document}")


def make_person(rng: random.Random, *, officer: bool = False, born: tuple[int, int] = (1950, 2000)) -> Person:
    """A fake person; officers get a council mail address, residents an example.* one."""
    name = synthetic.person_name(rng)
    email = synthetic.email_for(name, rng)
    if officer:
        email = f"{email.split('@')[0]}@{COUNCIL_DOMAIN}"
    return Person(
        name=name,
        email=email,
        mobile=synthetic.uk_mobile(rng),
        landline=synthetic.uk_landline(rng),
        postcode=synthetic.postcode(rng),
        nhs_number=synthetic.nhs_number(rng),
        nino=synthetic.nino(rng),
        date_of_birth=synthetic.date_of_birth(rng, earliest=born[0], latest=born[1]),
    )


def long_date(day: dt.date) -> str:
    """A date as UK letters write it: "3 March 2025"."""
    return f"{day.day} {day:%B %Y}"


def money(amount: float) -> str:
    """Pounds with thousands separators: "£1,234.50"."""
    return f"£{amount:,.2f}"


# --- invoice.pdf -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invoice:
    """A supplier invoice to the council."""

    supplier: str
    supplier_address: tuple[str, ...]
    vat_number: str
    number: str
    purchase_order: str
    issued: dt.date
    due: dt.date
    contact: Person
    lines: tuple[tuple[str, int, float], ...]  # description, quantity, unit price
    sort_code: str
    account_number: str
    vat_rate: float = 0.20

    @property
    def net(self) -> float:
        """Total before VAT."""
        return round(sum(quantity * price for _, quantity, price in self.lines), 2)

    @property
    def vat(self) -> float:
        """VAT at the invoice's rate."""
        return round(self.net * self.vat_rate, 2)

    @property
    def total(self) -> float:
        """Amount payable."""
        return round(self.net + self.vat, 2)


def invoice() -> Invoice:
    """Greenway Grounds Maintenance Ltd bills the council for verge cutting and tree works."""
    rng = rng_for("invoice")
    return Invoice(
        supplier="Greenway Grounds Maintenance Ltd",
        supplier_address=("Unit 4, Mellstock Business Park", "Weatherbury", synthetic.postcode(rng)),
        vat_number=synthetic.vat_number(rng),
        number="INV-2025-04817",
        purchase_order="PO 4500123987",
        issued=dt.date(2025, 6, 12),
        due=dt.date(2025, 7, 12),
        contact=make_person(rng),
        lines=(
            ("Highway verge cutting, rural network (May)", 1, 4850.00),
            ("Tree survey and crown lift, Froom Lane", 3, 420.00),
            ("Emergency fallen tree clearance (out of hours)", 2, 375.50),
            ("Green waste disposal, tonnes", 12, 38.75),
        ),
        sort_code=synthetic.sort_code(rng),
        account_number=synthetic.bank_account(rng),
    )


# --- planning-decision-scan.pdf ----------------------------------------------------------------------------


def planning_decision() -> TextDocument:
    """A planning decision notice (householder application, approved with conditions)."""
    rng = rng_for("planning-decision")
    applicant = make_person(rng)
    officer = make_person(rng, officer=True)
    return TextDocument(
        title="Notice of Planning Decision",
        header=f"{COUNCIL} - Planning and Building Control",
        blocks=(
            Heading(COUNCIL),
            Paragraph("Town and Country Planning Act 1990. Notice of Decision."),
            Paragraph("Application number: WX/25/01432/HOU"),
            Paragraph(f"Applicant: {applicant.name}, 14 Yalbury Close, Casterbridge {applicant.postcode}"),
            Paragraph("Proposal: Erection of a single storey rear extension and a detached garden room."),
            Paragraph("Date received: 3 February 2025. Decision date: 28 March 2025."),
            Paragraph(
                f"{COUNCIL} hereby GRANTS planning permission for the development described above, "
                "subject to the following conditions."
            ),
            Paragraph("1. The development shall begin within three years of the date of this permission."),
            Paragraph("2. Materials shall match those of the existing dwelling in colour and texture."),
            Paragraph("3. No windows shall be inserted in the eastern elevation of the extension."),
            Paragraph(
                "If you disagree with this decision you may appeal to the Planning Inspectorate "
                "within twelve weeks of the date of this notice."
            ),
            Paragraph(f"Case officer: {officer.name}, telephone {officer.landline}."),
            Paragraph("Signed: Head of Planning, 28 March 2025"),
        ),
    )


# --- accident-report.png -----------------------------------------------------------------------------------


def accident_form() -> TextDocument:
    """An employee accident report form from a highways depot (reportable under RIDDOR)."""
    rng = rng_for("accident-form")
    injured = make_person(rng, born=(1965, 1995))
    supervisor = make_person(rng, officer=True)
    return TextDocument(
        title="Accident and Incident Report Form",
        blocks=(
            Heading("Accident and Incident Report Form HS1"),
            Paragraph(f"{COUNCIL} - Health and Safety Team"),
            Paragraph("Section A: Person involved"),
            Paragraph(f"Name: {injured.name}    Job title: Highways Operative"),
            Paragraph(f"Date of birth: {injured.date_of_birth:%d/%m/%Y}    NI number: {injured.nino}"),
            Paragraph(f"Home postcode: {injured.postcode}"),
            Paragraph(f"Mobile: {injured.mobile}"),
            Paragraph("Section B: The incident"),
            Paragraph("Date: 14 May 2025    Time: 10:40    Place: Grey's Bridge Depot, Casterbridge"),
            Paragraph("Description: slipped on hydraulic oil while loading a gully tanker and"),
            Paragraph("fell from the rear step, fracturing the left wrist."),
            Paragraph("First aid given by the depot first aider; taken to Wessex County Hospital."),
            Paragraph("Section C: Reporting"),
            Paragraph("RIDDOR reportable: Yes (over-seven-day injury). HSE reference 1203344."),
            Paragraph(f"Reported by: {supervisor.name}, Depot Supervisor, {supervisor.landline}"),
            Paragraph("Signature: ............................    Date: 15/05/2025"),
        ),
    )


# --- committee-minutes.docx --------------------------------------------------------------------------------


def committee_minutes() -> TextDocument:
    """Minutes of a Cabinet meeting: attendance table, decisions and a declared interest."""
    rng = rng_for("committee-minutes")
    members = [make_person(rng) for _ in range(5)]
    clerk = make_person(rng, officer=True)
    return TextDocument(
        title="Cabinet - Minutes of the meeting held on 9 July 2025",
        header=f"{COUNCIL} - Cabinet",
        footer="Minutes subject to confirmation at the next meeting. Page ",
        blocks=(
            Heading("Cabinet: Minutes of the meeting held on 9 July 2025", 1),
            Paragraph("Venue: Council Chamber, County Hall, Casterbridge. The meeting opened at 10:00."),
            Heading("Attendance", 2),
            Table(
                (
                    ("Name", "Role", "Present"),
                    (f"Cllr {members[0].name}", "Leader of the Council (Chair)", "Yes"),
                    (f"Cllr {members[1].name}", "Cabinet Member for Finance", "Yes"),
                    (f"Cllr {members[2].name}", "Cabinet Member for Highways", "Yes"),
                    (f"Cllr {members[3].name}", "Cabinet Member for Children's Services", "Apologies"),
                    (clerk.name, "Democratic Services Officer (clerk)", "Yes"),
                )
            ),
            Heading("1. Declarations of interest", 2),
            Paragraph(
                f"Cllr {members[2].name} declared a pecuniary interest in item 4 as a director of "
                "Weatherbury Quarries Ltd and left the chamber for that item."
            ),
            Heading("2. Minutes of the previous meeting", 2),
            Paragraph("The minutes of the meeting held on 11 June 2025 were agreed as a correct record."),
            Heading("3. Revenue budget monitoring, quarter 1", 2),
            Paragraph(
                "Cabinet noted a forecast overspend of £2.4 million, mainly in home-to-school transport, "
                "and RESOLVED to ask the Section 151 Officer to bring recovery proposals in September 2025."
            ),
            Heading("4. Award of the highways aggregates contract", 2),
            Paragraph(
                "RESOLVED to award the four-year contract to Egdon Aggregates Ltd at a value of "
                "£6,750,000, subject to the standstill period."
            ),
            Paragraph(f"The meeting closed at 12:15. Clerk: {clerk.name}, {clerk.email}, {clerk.landline}."),
        ),
    )


# --- child-protection-case-note.doc ------------------------------------------------------------------------


def case_note() -> TextDocument:
    """A children's social care case note (special category data; kept until the child is 75)."""
    rng = rng_for("case-note")
    child = make_person(rng, born=(2012, 2016))
    parent = make_person(rng, born=(1980, 1990))
    worker = make_person(rng, officer=True)
    return TextDocument(
        title="Children's Services - Case Note",
        header="OFFICIAL-SENSITIVE: PERSONAL",
        footer=f"{COUNCIL} Children's Services",
        blocks=(
            Heading("Child Protection - Case Note", 1),
            Table(
                (
                    ("Field", "Detail"),
                    ("Child", child.name),
                    ("Date of birth", child.date_of_birth.strftime("%d/%m/%Y")),
                    ("NHS number", child.nhs_number),
                    ("Case reference", "CS-2025-008812"),
                    ("Parent", f"{parent.name}, mobile {parent.mobile}"),
                    ("Address postcode", child.postcode),
                    ("Social worker", f"{worker.name}, {worker.email}"),
                )
            ),
            Heading("Home visit, 2 September 2025", 2),
            Paragraph(
                f"Unannounced visit at 16:30 with the family support worker. {child.first_name} was seen "
                "alone in their bedroom and said they felt safe at home. The kitchen had food in and the home "
                "was warm. A bruise on the left forearm was explained as a fall at school; the school confirmed "
                "an incident report from 29 August 2025."
            ),
            Paragraph(
                f"{parent.first_name} {parent.last_name} reported continuing rent arrears of £1,180 and agreed to "
                "a referral to the Household Support Fund."
            ),
            Heading("Actions", 2),
            Paragraph(
                "Strategy discussion with Wessex Police and the school nurse by 9 September 2025. "
                "Child protection plan review conference booked for 30 September 2025."
            ),
        ),
    )


# --- budget-2025-26.xlsx -----------------------------------------------------------------------------------

BUDGET_SUMMARY: tuple[tuple[str, int, int], ...] = (
    ("Adult Social Care", 186_420_000, 197_850_000),
    ("Children's Services", 112_300_000, 121_640_000),
    ("Highways and Transport", 48_750_000, 50_120_000),
    ("Waste Management", 31_980_000, 33_400_000),
    ("Libraries and Culture", 7_420_000, 7_150_000),
    ("Corporate Services", 24_600_000, 25_010_000),
)

BUDGET_SAVINGS: tuple[tuple[str, str, int, str], ...] = (
    ("ASC-01", "Review of residential care commissioning", 2_400_000, "Amber"),
    ("CS-04", "Home-to-school transport route optimisation", 1_150_000, "Red"),
    ("HT-02", "LED street lighting dimming regime", 380_000, "Green"),
    ("CORP-07", "Office rationalisation, South Walk annex", 620_000, "Green"),
)
BUDGET_PREPARED_BY = "Chief Finance Officer (Section 151 Officer)"


# --- project-board.pptx ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slide:
    """A slide: title, bullet lines or a table, and speaker notes."""

    title: str
    bullets: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    notes: str = ""


def project_board() -> tuple[Slide, ...]:
    """Highlight report to the Libraries Digital Transformation project board."""
    rng = rng_for("project-board")
    manager = make_person(rng, officer=True)
    sponsor = make_person(rng, officer=True)
    return (
        Slide(
            title="Libraries Digital Transformation - Project Board, 17 June 2025",
            bullets=(f"Project manager: {manager.name}", f"Senior responsible owner: {sponsor.name}", COUNCIL),
            notes=f"Welcome the board. Apologies from Finance. Contact {manager.email} or {manager.mobile}.",
        ),
        Slide(
            title="Milestones and RAG status",
            table=(
                ("Milestone", "Due", "Status"),
                ("Self-service kiosks in 12 branches", "31/07/2025", "Green"),
                ("New library management system live", "30/09/2025", "Amber"),
                ("Decommission legacy catalogue server", "31/12/2025", "Red"),
            ),
            notes="The supplier, Bibliotech Systems Ltd, has slipped data migration by four weeks.",
        ),
        Slide(
            title="Budget and risks",
            bullets=(
                "Capital budget £1,240,000; spent to date £655,300",
                "Risk R7: data migration of 410,000 borrower records (personal data) - DPIA approved",
                "Decision needed: approve change request CR-14 for £48,500",
            ),
            notes=f"{sponsor.first_name} to confirm the change request with the Section 151 Officer by 24 June 2025.",
        ),
    )


# --- corporate-policy.odt ----------------------------------------------------------------------------------


def corporate_policy() -> TextDocument:
    """The council's records retention and disposal policy (a corporate policy, reviewed every three years)."""
    rng = rng_for("corporate-policy")
    owner = make_person(rng, officer=True)
    return TextDocument(
        title="Records Retention and Disposal Policy",
        blocks=(
            Heading("Records Retention and Disposal Policy", 1),
            Paragraph(f"{COUNCIL}. Version 3.1, approved by the Audit and Governance Committee on 4 March 2025."),
            Heading("1. Purpose", 2),
            Paragraph(
                "This policy sets out how the council keeps its records for as long as they are needed for "
                "business, legal and historical purposes, and disposes of them securely when they are not, in "
                "line with the UK GDPR, the Data Protection Act 2018 and the Local Government Act 1972."
            ),
            Heading("2. Scope", 2),
            Paragraph(
                "All records created or received by councillors, employees, contractors and partner "
                "organisations acting on behalf of the council, in any format."
            ),
            Heading("3. Responsibilities", 2),
            Paragraph(
                f"The Senior Information Risk Owner is accountable for this policy. The Information Governance "
                f"Manager, {owner.name} ({owner.email}, {owner.landline}), maintains the retention schedule."
            ),
            Heading("4. Review", 2),
            Paragraph("This policy will be reviewed by 31 March 2028 or sooner if legislation changes."),
        ),
    )


# --- foi-request.eml ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoiCase:
    """A Freedom of Information request and the council's response letter."""

    requester: Person
    officer: Person
    reference: str
    received: dt.date
    request_text: str
    response: TextDocument


def foi_case() -> FoiCase:
    """An FOI request about pothole compensation claims, and the response letter."""
    rng = rng_for("foi")
    requester = make_person(rng)
    officer = make_person(rng, officer=True)
    reference = "FOI-2025-1187"
    request_text = (
        "Under the Freedom of Information Act 2000, please provide for each of the financial years 2022-23, "
        "2023-24 and 2024-25: (1) the number of compensation claims received for vehicle damage caused by "
        "potholes on roads maintained by Wessex County Council; (2) the number paid; and (3) the total amount paid."
    )
    response = TextDocument(
        title=f"Freedom of Information response {reference}",
        blocks=(
            Paragraph(f"{COUNCIL}, Information Governance Team, County Hall, Casterbridge"),
            Paragraph(f"Our reference: {reference}    Date: 3 April 2025"),
            Paragraph(f"Dear {requester.name},"),
            Paragraph(
                "Thank you for your request received on 6 March 2025. We hold the information you asked for "
                "and it is set out below."
            ),
            Table(
                (
                    ("Financial year", "Claims received", "Claims paid", "Total paid"),
                    ("2022-23", "1,284", "211", "£96,420.18"),
                    ("2023-24", "1,902", "348", "£171,055.40"),
                    ("2024-25", "2,115", "402", "£203,877.65"),
                )
            ),
            Paragraph(
                "If you are unhappy with this response you may ask for an internal review within 40 working "
                "days, and then complain to the Information Commissioner's Office."
            ),
            Paragraph(f"Yours sincerely, {officer.name}, Information Governance Officer, {officer.landline}"),
        ),
    )
    return FoiCase(requester, officer, reference, dt.date(2025, 3, 6), request_text, response)


# --- complaint.msg -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    """A resident's complaint email with a log of missed collections attached."""

    resident: Person
    subject: str
    body: str
    attachment_name: str
    attachment: bytes


def complaint() -> Complaint:
    """A stage 1 complaint about repeatedly missed bin collections."""
    rng = rng_for("complaint")
    resident = make_person(rng)
    body = (
        "Dear Customer Services,\r\n\r\n"
        "I wish to make a formal complaint. My recycling has been missed on four collection days since "
        "April 2025 despite reports each time (references WX-88120, WX-88431, WX-89002 and WX-89377).\r\n\r\n"
        f"My address is 7 Durnover Lane, Casterbridge {resident.postcode}. I care for my mother, who is "
        "disabled, and we were promised an assisted collection in March.\r\n\r\n"
        f"Please call me on {resident.mobile} or reply to {resident.email}.\r\n\r\n"
        f"Yours faithfully,\r\n{resident.name}\r\n"
    )
    log = "date,bin,reference\r\n2025-04-14,recycling,WX-88120\r\n2025-05-12,recycling,WX-88431\r\n"
    log += "2025-06-09,recycling,WX-89002\r\n2025-07-07,recycling,WX-89377\r\n"
    return Complaint(
        resident=resident,
        subject="Formal complaint - missed assisted bin collections",
        body=body,
        attachment_name="missed-collections.csv",
        attachment=log.encode("ascii"),
    )


# --- accident-report.html ----------------------------------------------------------------------------------


def public_incident() -> TextDocument:
    """An online report of a member of the public tripping on a damaged pavement (a potential claim)."""
    rng = rng_for("public-incident")
    claimant = make_person(rng, born=(1940, 1960))
    inspector = make_person(rng, officer=True)
    return TextDocument(
        title="Highways incident report HI-2025-3321",
        blocks=(
            Heading("Highways incident report HI-2025-3321", 1),
            Paragraph(
                f"Reported online on 21 August 2025 by {claimant.name} ({claimant.email}, {claimant.landline}), "
                f"home postcode {claimant.postcode}."
            ),
            Table(
                (
                    ("Field", "Value"),
                    ("Date of incident", "19 August 2025"),
                    ("Location", "High West Street, Casterbridge, outside number 31"),
                    ("What happened", "Tripped on a lifted paving slab, about 40 mm proud"),
                    ("Injuries", "Grazed hands, sprained right ankle; attended minor injuries unit"),
                    ("Claim intended", "Yes - personal injury, estimated £2,500"),
                )
            ),
            Paragraph(
                f"Inspection by {inspector.name} on 22 August 2025 found a 45 mm trip hazard, made safe the same "
                "day. Referred to the insurance team, Zurich Municipal reference ZM/PL/554210."
            ),
        ),
    )


# --- recruitment-letter.txt --------------------------------------------------------------------------------


def recruitment_letter() -> TextDocument:
    """A letter to an unsuccessful candidate (kept six months after the recruitment campaign)."""
    rng = rng_for("recruitment")
    candidate = make_person(rng)
    hr = make_person(rng, officer=True)
    return TextDocument(
        title="Application for the post of Trading Standards Officer",
        blocks=(
            Paragraph(f"{COUNCIL}\nHuman Resources, County Hall, Casterbridge"),
            Paragraph(f"{candidate.name}\n22 Mixen Lane\nCasterbridge\n{candidate.postcode}"),
            Paragraph("18 August 2025"),
            Paragraph(f"Dear {candidate.name},"),
            Paragraph("Application for the post of Trading Standards Officer (ref. TSO-0725), £38,220 - £41,771"),
            Paragraph(
                "Thank you for attending the interview on 12 August 2025. I am sorry to tell you that on this "
                "occasion you have not been successful. The panel was impressed by your presentation on "
                "doorstep crime and we'd welcome a future application."
            ),
            Paragraph(
                "We keep recruitment records for six months after the appointment is made, and then destroy "
                "them securely. If you would like feedback, please contact me on "
                f"{hr.landline} or {hr.email}."
            ),
            Paragraph(f"Yours sincerely,\n{hr.name}\nHR Business Partner"),
        ),
    )


# --- payroll-summary.csv -----------------------------------------------------------------------------------

PAYROLL_HEADER = ("employee_id", "name", "ni_number", "tax_code", "department", "gross_pay", "tax", "employee_ni",
                  "pension", "net_pay", "sort_code", "account_number")  # fmt: skip
_DEPARTMENTS = ("Highways", "Adult Social Care", "Libraries", "Finance", "Children's Services", "Waste")


def payroll_rows() -> list[tuple[str, ...]]:
    """Twelve employees' pay for the month ending 30 June 2025, figures that add up."""
    rng = rng_for("payroll")
    rows: list[tuple[str, ...]] = [PAYROLL_HEADER]
    for index in range(12):
        name = synthetic.person_name(rng)
        gross = round(rng.uniform(1_850, 5_400), 2)
        tax = round(max(gross - 1_047.50, 0) * 0.2, 2)
        employee_ni = round(max(gross - 1_048, 0) * 0.08, 2)
        pension = round(gross * 0.065, 2)
        net = round(gross - tax - employee_ni - pension, 2)
        rows.append(
            (
                f"E{10_400 + index * 37}",
                name,
                synthetic.nino(rng),
                "1257L",
                rng.choice(_DEPARTMENTS),
                f"{gross:.2f}",
                f"{tax:.2f}",
                f"{employee_ni:.2f}",
                f"{pension:.2f}",
                f"{net:.2f}",
                synthetic.sort_code(rng),
                synthetic.bank_account(rng),
            )
        )
    return rows


# --- archive.zip members -----------------------------------------------------------------------------------


def contract() -> TextDocument:
    """A call-off contract for school catering (a contract under seal: kept 12 years after expiry)."""
    rng = rng_for("contract")
    supplier_contact = make_person(rng)
    officer = make_person(rng, officer=True)
    return TextDocument(
        title="Call-off Contract WX-PROC-2024-017",
        header="Contract WX-PROC-2024-017 - Commercial in confidence",
        blocks=(
            Heading("Call-off Contract for School Catering Services", 1),
            Paragraph(
                f"This contract is made on 1 September 2024 between {COUNCIL} (the Authority) and Budmouth "
                "Catering Ltd, company number 08123456 (the Supplier)."
            ),
            Heading("Term and value", 2),
            Paragraph(
                "The contract runs from 1 September 2024 to 31 August 2028, with an option to extend by two "
                "years. The estimated total value is £3,960,000 excluding VAT."
            ),
            Heading("Key personnel", 2),
            Table(
                (
                    ("Party", "Contact", "Email"),
                    ("Supplier", supplier_contact.name, supplier_contact.email),
                    ("Authority", officer.name, officer.email),
                )
            ),
            Paragraph("Executed as a deed by affixing the Common Seal of the Authority."),
        ),
    )


def tender_evaluation() -> TextDocument:
    """A tender evaluation summary for the same procurement."""
    return TextDocument(
        title="Tender evaluation summary WX-PROC-2024-017",
        blocks=(
            Paragraph("Tender evaluation summary - School Catering Services (WX-PROC-2024-017)"),
            Paragraph("Evaluation panel met on 18 June 2024. Quality 60%, price 40%."),
            Table(
                (
                    ("Bidder", "Quality", "Price", "Total"),
                    ("Budmouth Catering Ltd", "52.0", "38.1", "90.1"),
                    ("Anglebury Foods plc", "47.5", "40.0", "87.5"),
                    ("Sherton Kitchens Ltd", "41.0", "33.6", "74.6"),
                )
            ),
            Paragraph("Recommendation: award to Budmouth Catering Ltd, approved by the Head of Procurement."),
        ),
    )


def minutes_extract() -> TextDocument:
    """A short extract of minutes, saved with the wrong extension to show sniffing by content."""
    return TextDocument(
        title="Extract from the minutes of the Licensing Committee, 2 October 2025",
        blocks=(
            Heading("Licensing Committee - extract of minutes, 2 October 2025", 1),
            Paragraph(
                "Item 5: Application for a premises licence, The Three Mariners, High Street, Casterbridge. "
                "RESOLVED that the licence be granted with the conditions agreed with Wessex Police."
            ),
        ),
    )
