"""A labelled corpus of UK council documents made of generated (fake) people, for the PII bench.

Letters, case notes, emails and invoices in ordinary council sentences, carrying NHS numbers, NINOs, sort codes
and account numbers, UK phones, postcodes, VAT numbers, UTRs, emails, names and dates of birth from
:mod:`docintel.synthetic` (valid checksums, reserved test ranges), each with its exact character span. Distractors
with no personal data (dates of meetings, invoice numbers, amounts, job titles, council names) are mixed in so
precision means something. Deterministic by seed: tune on ``DEV_SEED``, report on ``TEST_SEED``.

    .venv/bin/python -m bench.ukdata --seed 2 --docs 3     # print a few documents with their labels
    .venv/bin/python -m bench.ukdata --styled --docs 4     # the corpus in other writers' styles
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field

from docintel import synthetic
from docintel.enrich.recognizers import checksums

DEV_SEED = 1  # for looking at errors and tuning
TEST_SEED = 20_240_611  # for the figures reported; never looked at while tuning
LABELS = (
    "PERSON", "UK_NHS", "UK_NINO", "UK_SORT_CODE", "UK_BANK_ACCOUNT", "PHONE_NUMBER", "UK_POSTCODE", "UK_VAT",
    "UK_UTR", "EMAIL_ADDRESS", "DATE_OF_BIRTH", "STREET_ADDRESS",
)  # fmt: skip

COUNCILS = ("Northshire County Council", "Westbrook Borough Council", "Eastmoor District Council")
TEAMS = ("Adult Social Care", "Children's Services", "Revenues and Benefits", "Housing Options", "Highways")
ROLES = ("Head of Service", "Chief Executive", "Team Manager", "Senior Social Worker", "Finance Officer")
STREETS = ("High Street", "Church Lane", "Station Road", "Mill Close", "Park Avenue", "Victoria Road", "Green Lane")
TOWNS = ("Leeds", "Bradford", "Harrogate", "York", "Wakefield", "Halifax", "Skipton")
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Dr")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


@dataclass
class Span:
    """A labelled value: type and offsets into the document text."""

    label: str
    start: int
    end: int
    value: str


@dataclass
class LabelledDoc:
    """One generated document and its labels."""

    kind: str
    text: str = ""
    spans: list[Span] = field(default_factory=list)

    def add(self, text: str) -> LabelledDoc:
        """Append unlabelled text."""
        self.text += text
        return self

    def value(self, label: str, value: str) -> LabelledDoc:
        """Append a labelled value."""
        self.spans.append(Span(label, len(self.text), len(self.text) + len(value), value))
        self.text += value
        return self

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"kind": self.kind, "text": self.text, "spans": [vars(span) for span in self.spans]}


def _utr(rng: random.Random) -> str:
    last_nine = "".join(rng.choice("0123456789") for _ in range(9))
    return checksums.utr_check_digit(last_nine) + last_nine


def _dob_text(rng: random.Random) -> str:
    date = synthetic.date_of_birth(rng)
    style = rng.randrange(3)
    if style == 0:
        return date.strftime("%d/%m/%Y")
    if style == 1:
        return f"{date.day} {MONTHS[date.month - 1]} {date.year}"
    return f"{date.day:02d}.{date.month:02d}.{date.year}"


def _other_date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(2019, 2025)}"


def _phone(rng: random.Random) -> str:
    return synthetic.uk_mobile(rng) if rng.random() < 0.5 else synthetic.uk_landline(rng)


class _Person:
    def __init__(self, rng: random.Random) -> None:
        self.first, self.last = rng.choice(synthetic.FIRST_NAMES), rng.choice(synthetic.LAST_NAMES)
        self.name = f"{self.first} {self.last}"
        self.title = rng.choice(HONORIFICS)
        self.email = synthetic.email_for(self.name, rng)


def _address(doc: LabelledDoc, rng: random.Random) -> None:
    # The street address runs on over the town (the postcode is its own finding).
    doc.value("STREET_ADDRESS", f"{rng.randint(1, 120)} {rng.choice(STREETS)}\n{rng.choice(TOWNS)}").add("\n")
    doc.value("UK_POSTCODE", synthetic.postcode(rng)).add("\n")


def letter(rng: random.Random) -> LabelledDoc:
    """A council letter to a resident about a service."""
    doc, person, officer = LabelledDoc("letter"), _Person(rng), _Person(rng)
    council, team = rng.choice(COUNCILS), rng.choice(TEAMS)
    doc.add(f"{council}\n{team}\nCounty Hall, {rng.choice(TOWNS)} ").value("UK_POSTCODE", synthetic.postcode(rng))
    doc.add(f"\n\n{_other_date(rng)}\n\n{person.title} ").value("PERSON", person.name).add("\n")
    _address(doc, rng)
    doc.add(f"\nDear {person.title} ").value("PERSON", person.last).add(",\n\n")
    doc.add(f"Re: your application of {_other_date(rng)}\n\n")
    doc.add("Thank you for the information you sent us. We have recorded your NHS number as ")
    doc.value("UK_NHS", synthetic.nhs_number(rng)).add(" and your date of birth as ").value(
        "DATE_OF_BIRTH", _dob_text(rng)
    )
    doc.add(". Your National Insurance number ").value("UK_NINO", synthetic.nino(rng))
    doc.add(" will be passed to the Department for Work and Pensions.\n\n")
    if rng.random() < 0.5:
        doc.add("Payments will be made to sort code ").value("UK_SORT_CODE", synthetic.sort_code(rng))
        doc.add(", account number ").value("UK_BANK_ACCOUNT", synthetic.bank_account(rng)).add(".\n\n")
    doc.add(f"If you have any questions please contact {officer.title} ").value("PERSON", officer.name)
    doc.add(f", {rng.choice(ROLES)}, on ").value("PHONE_NUMBER", _phone(rng)).add(" or email ")
    doc.value("EMAIL_ADDRESS", officer.email).add(f". The team meets on {_other_date(rng)}.\n\n")
    doc.add("Yours sincerely,\n\n").value("PERSON", officer.name).add(f"\n{rng.choice(ROLES)}\n{team}\n")
    return doc


def case_note(rng: random.Random) -> LabelledDoc:
    """A social care case note."""
    doc, client, worker, relative = LabelledDoc("case_note"), _Person(rng), _Person(rng), _Person(rng)
    doc.add(f"CASE NOTE - {rng.choice(TEAMS).upper()}\nClient: ").value("PERSON", client.name)
    doc.add("\nDOB: ").value("DATE_OF_BIRTH", _dob_text(rng)).add("\nNHS No: ").value(
        "UK_NHS", synthetic.nhs_number(rng)
    )
    doc.add("\nAddress: ")
    doc.value("STREET_ADDRESS", f"{rng.randint(1, 99)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}").add(" ").value(
        "UK_POSTCODE", synthetic.postcode(rng)
    )
    doc.add(f"\n\nVisit on {_other_date(rng)} by ").value("PERSON", worker.name).add(f" ({rng.choice(ROLES)}). ")
    # The client's first name on its own is still their name: labelled like any other mention.
    doc.value("PERSON", client.first).add(" was seen at home with her daughter, ").value("PERSON", relative.name)
    doc.add(", who can be reached on ").value("PHONE_NUMBER", _phone(rng)).add(". ")
    doc.add("She was born on ").value("DATE_OF_BIRTH", _dob_text(rng)).add(" according to the GP record. ")
    doc.add(f"The care package review is due by {_other_date(rng)} and costs £{rng.randint(100, 900)}.00 a week. ")
    doc.add("Her National Insurance number is ").value("UK_NINO", synthetic.nino(rng))
    doc.add(f". Case reference ASC/{rng.randint(10000, 99999)}.\n")
    return doc


def email(rng: random.Random) -> LabelledDoc:
    """An email between a resident and the council."""
    doc, resident, officer = LabelledDoc("email"), _Person(rng), _Person(rng)
    doc.add("From: ").value("PERSON", resident.name).add(" <").value("EMAIL_ADDRESS", resident.email).add(">\n")
    doc.add(f"To: {rng.choice(TEAMS)} <").value("EMAIL_ADDRESS", officer.email).add(">\n")
    doc.add(f"Subject: Council tax account\nSent: {_other_date(rng)}\n\nDear ").value("PERSON", officer.first)
    doc.add(",\n\nI moved to ").value("STREET_ADDRESS", f"{rng.randint(1, 60)} {rng.choice(STREETS)}").add(", ").value(
        "UK_POSTCODE", synthetic.postcode(rng)
    )
    doc.add(f" on {_other_date(rng)}. My mobile is ").value("PHONE_NUMBER", synthetic.uk_mobile(rng))
    doc.add(" and my self assessment UTR is ").value("UK_UTR", _utr(rng)).add(". ")
    doc.add("Please refund the overpayment to sort code ").value("UK_SORT_CODE", synthetic.sort_code(rng))
    doc.add(" account ").value("UK_BANK_ACCOUNT", synthetic.bank_account(rng)).add(".\n\nKind regards,\n")
    doc.value("PERSON", resident.name).add("\n")
    return doc


def invoice(rng: random.Random) -> LabelledDoc:
    """A supplier invoice to the council."""
    doc, contact = LabelledDoc("invoice"), _Person(rng)
    supplier = f"{rng.choice(synthetic.LAST_NAMES)} {rng.choice(('Building Services', 'Catering', 'Consulting'))} Ltd"
    doc.add(f"INVOICE\n{supplier}\nUnit {rng.randint(1, 30)}, {rng.choice(TOWNS)} Business Park, ")
    doc.value("UK_POSTCODE", synthetic.postcode(rng)).add("\nVAT Reg No: ").value("UK_VAT", synthetic.vat_number(rng))
    doc.add(f"\nInvoice number: INV-{rng.randint(100000, 999999)}\nInvoice date: {_other_date(rng)}\n")
    doc.add(f"Bill to: {rng.choice(COUNCILS)}, Accounts Payable\n\n")
    doc.add(
        f"{rng.randint(1, 40)} x service visit @ £{rng.randint(20, 90)}.00\nTotal due: £{rng.randint(500, 9000)}.00\n\n"
    )
    doc.add("Please pay by BACS to sort code ").value("UK_SORT_CODE", synthetic.sort_code(rng))
    doc.add(", account number ").value("UK_BANK_ACCOUNT", synthetic.bank_account(rng)).add(".\nQueries to ")
    doc.value("PERSON", contact.name).add(" on ").value("PHONE_NUMBER", synthetic.uk_landline(rng)).add(" or ")
    doc.value("EMAIL_ADDRESS", contact.email).add(".\n")
    return doc


GENERATORS = (letter, case_note, email, invoice)


def generate_corpus(seed: int, count: int = 200) -> list[LabelledDoc]:
    """``count`` labelled documents (a mix of the four kinds), the same for the same seed."""
    rng = random.Random(seed)
    return [GENERATORS[index % len(GENERATORS)](rng) for index in range(count)]


# --- a second corpus in other writers' styles (issue 20) --------------------------------------------------------
# Case notes, letters, e-mails and meeting notes as other teams write them: names at line starts and before
# possessives, after the phrases that bring a person in ("spoke to", "visited by", "the client,"), in salutations
# and sign-offs, in e-mail headers (including Outlook's "Surname, First"), and UK phones in national and international
# format from Ofcom's drama ranges libphonenumber calls invalid (07700 900xxx, 01632 960xxx) beside valid ones,
# always with a word that says phone. Phone-shaped digit runs without one (references, claim numbers) and
# capitalised non-names (teams, places, roles, benefits, days) are planted for precision. Its names come from lists
# of its own that share nothing with docintel.synthetic, so no rule is tuned to the names themselves.
STYLED_FIRST_NAMES = (
    "Bethany", "Declan", "Harpreet", "Yusuf", "Chloe", "Megan", "Ronan", "Zainab", "Kieran", "Lucy", "Imran",
    "Bronwen", "Connor", "Shauna", "Abdul", "Joanne", "Gareth", "Amara", "Reece", "Kerry", "Stanislaw", "Chidi",
    "Maisie", "Ffion", "Darren", "Nadia", "Sinead", "Wojciech", "Jasmine", "Dominic", "Tanisha", "Graham",
    "Hollie", "Bilal", "Eleanor", "Kayleigh", "Samir", "Morag", "Tyler", "Ruth",
)  # fmt: skip
STYLED_LAST_NAMES = (
    "Fletcher", "Gallagher", "Sandhu", "Begum", "Hussain", "Nowak", "Pritchard", "McLaughlin", "Ellis", "Marsh",
    "Bennett", "Chowdhury", "Adeyemi", "Doherty", "Lloyd", "Foster", "Rahman", "Kaur", "Whitfield", "Shaw",
    "Barker", "Henderson", "Oduya", "Byrne", "Ali", "Hughes-Morgan", "Mistry", "Wiśniewski", "Fairbairn", "Quinn",
    "Atkinson", "Sheikh", "Connolly", "Price", "Nwosu", "Grant",
)  # fmt: skip
STYLED_TEAMS = ("Early Help", "Adult Social Care", "Housing Solutions", "Revenues", "Youth Justice", "Blue Badge Team")
STYLED_ROLES = ("Social Worker", "Occupational Therapist", "Housing Officer", "Support Worker", "Team Manager",
                "Family Practitioner")  # fmt: skip
# Capitalised words that start lines and sentences in case notes and are not names.
STYLED_DISTRACTORS = (
    "Universal Credit claim discussed.", "Council Tax Reduction applied from April.", "Blue Badge renewal sent.",
    "Age UK to be contacted about a befriender.", "Citizens Advice appointment booked for Tuesday.",
    "Harrogate District Hospital discharge summary received.", "Care Act assessment completed.",
    "Leeds Teaching Hospitals letter on file.", "Best interests decision recorded.", "Team Manager informed.",
    "Safeguarding Adults Board threshold not met.", "Housing Benefit overpayment query closed.",
    "Personal Independence Payment decision awaited.", "Disabled Facilities Grant form sent to Victoria Road office.",
)  # fmt: skip
# Phone-shaped digit runs with no word that says phone: references, not numbers to ring.
STYLED_REFERENCES = ("Claim reference {}", "Case number {}", "Payment ID {}", "Invoice {}", "UPRN {}", "File ref {}")
_PHONE_CUES = ("ring {} on ", "rang from ", "call {} on ", "mobile: ", "tel. ", "phone number is ", "text {} on ",
               "contact number ", "mob ", "Tel: ", "can be phoned on ", "landline ")  # fmt: skip
_INTRODUCERS = ("Spoke to ", "Visited by ", "Home visit to ", "Telephone call from ", "Met with ", "Seen by ",
                "Email received from ", "Letter sent to ", "Referral made by ", "Discussed with ",
                "Joint visit with ")  # fmt: skip


class _StyledPerson:
    def __init__(self, rng: random.Random) -> None:
        self.first, self.last = rng.choice(STYLED_FIRST_NAMES), rng.choice(STYLED_LAST_NAMES)
        self.name = f"{self.first} {self.last}"
        self.title = rng.choice(HONORIFICS)
        self.email = synthetic.email_for(self.name.replace("-", " "), rng).replace("ś", "s")


def styled_phone(rng: random.Random) -> str:
    """A UK phone in a drama range, national or international, in one of the ways people write them."""
    kind = rng.randrange(4)
    if kind == 0:
        digits = f"07700 900{rng.randint(0, 999):03d}"
    elif kind == 1:
        digits = f"01632 960{rng.randint(0, 999):03d}"
    elif kind == 2:
        digits = f"020 7946 0{rng.randint(0, 999):03d}"
    else:
        digits = synthetic.uk_landline(rng)
    national = digits.replace(" ", "")
    style = rng.randrange(6)
    if style == 0:
        return digits
    if style == 1:
        return national
    if style == 2:
        return "+44 " + digits[1:]
    if style == 3:
        return "+44 (0)" + digits[1:]
    if style == 4 and national.startswith("07"):
        return f"{national[:5]}-{national[5:8]}-{national[8:]}"
    return f"({digits.split(' ', 1)[0]}) {digits.split(' ', 1)[1]}"


def _phone_with_cue(doc: LabelledDoc, rng: random.Random, pronoun: str) -> None:
    cue = rng.choice(_PHONE_CUES).format(pronoun)
    doc.add(cue[0].upper() + cue[1:] if doc.text.endswith(("\n", ". ")) else cue)
    doc.value("PHONE_NUMBER", styled_phone(rng))


def _reference(rng: random.Random) -> str:
    shape = rng.randrange(3)
    if shape == 0:
        return f"07700900{rng.randint(0, 999):03d}"
    if shape == 1:
        return f"01632960{rng.randint(0, 999):03d}"
    return "".join(rng.choice("0123456789") for _ in range(rng.choice((10, 11, 12))))


def styled_case_note(rng: random.Random) -> LabelledDoc:
    """Running case notes: dated entries, names at line starts, possessives, introducing phrases."""
    doc, client, worker, other = (
        LabelledDoc("styled_case_note"),
        _StyledPerson(rng),
        _StyledPerson(rng),
        _StyledPerson(rng),
    )
    doc.add(f"{rng.choice(STYLED_TEAMS)} - case recording\n\n")
    doc.add(f"{_other_date(rng)} ").add(rng.choice(_INTRODUCERS)).value("PERSON", client.name)
    doc.add(f" at home. {rng.choice(STYLED_DISTRACTORS)}\n")
    doc.value("PERSON", client.name).add("'s National Insurance number is ").value("UK_NINO", synthetic.nino(rng))
    doc.add(" and DOB ").value("DATE_OF_BIRTH", _dob_text(rng)).add(".\n")
    doc.value("PERSON", client.first).add(f" said the {rng.choice(STYLED_ROLES).lower()} had not called back. ")
    _phone_with_cue(doc, rng, "her")
    doc.add(".\n")
    if rng.random() < 0.5:
        doc.add("The client, ").value("PERSON", client.name).add(", asked that her son ").value("PERSON", other.first)
        doc.add(" be copied in. ")
    else:
        doc.add("Her neighbour ").value("PERSON", other.name).add(" was present. ")
    doc.add(f"{rng.choice(STYLED_DISTRACTORS)}\n")
    doc.add(f"{_other_date(rng)} ").add(rng.choice(_INTRODUCERS)).value("PERSON", other.name).add(". ")
    doc.value("PERSON", other.first).add(" agreed to help with shopping. ")
    _phone_with_cue(doc, rng, "him")
    doc.add(f". {rng.choice(STYLED_REFERENCES).format(_reference(rng))} noted.\n")
    doc.add(f"{_other_date(rng)} Case discussed in supervision with ").value("PERSON", worker.name).add(".\n")
    doc.add(f"{rng.choice(STYLED_DISTRACTORS)} Next review {_other_date(rng)}.\n\n")
    doc.value("PERSON", worker.name).add(f"\n{rng.choice(STYLED_ROLES)}\n")
    return doc


def styled_letter(rng: random.Random) -> LabelledDoc:
    """A letter with a "Dear Mrs X" salutation, the requester named in the body, and a signature block."""
    doc, person, officer = LabelledDoc("styled_letter"), _StyledPerson(rng), _StyledPerson(rng)
    doc.add(f"{rng.choice(COUNCILS)}\n{rng.choice(STYLED_TEAMS)}\n\n{_other_date(rng)}\n\n")
    doc.add(f"Our ref: {_reference(rng)}\n\n")
    if rng.random() < 0.5:
        doc.add(f"Dear {person.title} ").value("PERSON", person.last).add("\n\n")
    else:
        doc.add(f"Dear {person.title} ").value("PERSON", person.name).add(",\n\n")
    doc.add("I am writing about the request made on behalf of ").value("PERSON", person.name)
    doc.add(f" on {_other_date(rng)}. {rng.choice(STYLED_DISTRACTORS)} ")
    doc.add("If anything has changed please ring me on ").value("PHONE_NUMBER", styled_phone(rng))
    doc.add(f" or write to the {rng.choice(STYLED_TEAMS)} team.\n\n")
    doc.add(rng.choice(("Yours sincerely,\n\n", "Yours sincerely\n\n\n", "Kind regards,\n", "Yours faithfully,\n\n")))
    doc.value("PERSON", officer.name).add(f"\n{rng.choice(STYLED_ROLES)}\nTel: ").value(
        "PHONE_NUMBER", styled_phone(rng)
    )
    doc.add("\n")
    return doc


def styled_email(rng: random.Random) -> LabelledDoc:
    """An internal e-mail with Outlook-style headers, "Hi <Name>" and a first-name sign-off."""
    doc, sender, recipient, subject = (
        LabelledDoc("styled_email"),
        _StyledPerson(rng),
        _StyledPerson(rng),
        _StyledPerson(rng),
    )
    doc.add("From: ")
    if rng.random() < 0.5:
        doc.value("PERSON", f"{sender.last}, {sender.first}")
    else:
        doc.value("PERSON", sender.name)
    doc.add(" <").value("EMAIL_ADDRESS", sender.email).add(">\nTo: ").value("PERSON", recipient.name)
    doc.add(" <").value("EMAIL_ADDRESS", recipient.email).add(f">\nSent: {_other_date(rng)} 09:14\n")
    doc.add("Subject: Referral - ").value("PERSON", subject.name).add("\n\n")
    doc.add(rng.choice(("Hi ", "Hello ", "Morning "))).value("PERSON", recipient.first).add(",\n\n")
    doc.add("I spoke to ").value("PERSON", subject.name).add(" today. ")
    doc.value("PERSON", subject.first).add("'s mobile is ").value("PHONE_NUMBER", styled_phone(rng))
    doc.add(f" and the GP is aware. {rng.choice(STYLED_DISTRACTORS)} ")
    doc.add(f"{rng.choice(STYLED_REFERENCES).format(_reference(rng))} is on the system.\n\n")
    doc.add(rng.choice(("Thanks,\n", "Many thanks\n", "Best wishes,\n", "Regards\n")))
    doc.value("PERSON", sender.first).add("\n")
    return doc


def styled_meeting_note(rng: random.Random) -> LabelledDoc:
    """Notes of a multi-agency meeting: attendees with roles, actions owned by people."""
    doc = LabelledDoc("styled_meeting")
    chair, attendee, subject = _StyledPerson(rng), _StyledPerson(rng), _StyledPerson(rng)
    doc.add(f"Strategy meeting {_other_date(rng)}\nPresent: ").value("PERSON", chair.name)
    doc.add(" (Chair), ").value("PERSON", attendee.name).add(
        f" ({rng.choice(STYLED_ROLES)}), Police Liaison Officer\n\n"
    )
    doc.add("Concerns were raised about ").value("PERSON", subject.name).add(". ")
    doc.value("PERSON", subject.first).add(
        f" has not attended since {_other_date(rng)}. {rng.choice(STYLED_DISTRACTORS)}\n"
    )
    doc.add("Action: ").value("PERSON", attendee.first).add(" to phone the family on ").value(
        "PHONE_NUMBER", styled_phone(rng)
    )
    doc.add(f" by {rng.choice(('Friday', 'Monday', 'the end of the week'))}.\n")
    reference = rng.choice(STYLED_REFERENCES).format(_reference(rng))
    doc.add(f"{reference} to be updated by the {rng.choice(STYLED_TEAMS)} team.\n")
    return doc


STYLED_GENERATORS = (styled_case_note, styled_letter, styled_email, styled_meeting_note)


def generate_styled_corpus(seed: int, count: int = 200) -> list[LabelledDoc]:
    """``count`` labelled documents in the other writers' styles above, the same for the same seed."""
    rng = random.Random(seed)
    return [STYLED_GENERATORS[index % len(STYLED_GENERATORS)](rng) for index in range(count)]


def main(argv: list[str] | None = None) -> None:
    """Print generated documents, or write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEV_SEED)
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--json", help="write the corpus to this file")
    parser.add_argument("--styled", action="store_true", help="the other writers' styles corpus (issue 20)")
    args = parser.parse_args(argv)
    corpus = (generate_styled_corpus if args.styled else generate_corpus)(args.seed, args.docs)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([doc.to_json() for doc in corpus], handle, indent=1)
        return
    for doc in corpus:
        print(f"--- {doc.kind}\n{doc.text}")
        for span in doc.spans:
            print(f"  {span.label:16} {span.start:5}-{span.end:<5} {span.value!r}")


if __name__ == "__main__":
    main()
