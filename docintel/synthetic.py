"""Fake UK identities with valid checksums, for test fixtures, sample documents and benchmarks.

Every generator takes a ``random.Random`` so a seed reproduces the same people. Where a reserved
"fictional" range exists we use it (NHS numbers beginning 999, Ofcom's drama telephone ranges,
example.* mail domains), so generated documents can never point at a real person.
"""

from __future__ import annotations

import datetime as dt
import random
import string

import phonenumbers

# NHS numbers: weights 10..2 over the first nine digits; check = 11 - (sum mod 11), 11 -> 0, 10 is never issued.
NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# NHS England reserves numbers beginning 999 for testing; they pass the checksum but belong to nobody.
NHS_TEST_PREFIX = "999"

# NINO prefix rules (HMRC): neither letter D, F, I, Q, U or V; second letter not O; some pairs never issued.
NINO_BAD_LETTERS = frozenset("DFIQUV")
NINO_EXCLUDED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
NINO_SUFFIXES = "ABCD"

# VAT: weights 8..2 over the first seven digits; the last two digits make the total a multiple of 97,
# either directly (the original scheme) or after adding 55 (the "9755" scheme for numbers issued since 2010).
VAT_WEIGHTS = (8, 7, 6, 5, 4, 3, 2)
VAT_9755_OFFSET = 55

# Ofcom drama ranges that libphonenumber still accepts as valid geographic numbers; the caller appends
# the remaining digits. (01632 960xxx is Ofcom's too, but libphonenumber rejects it, so detectors would miss it.)
LANDLINE_DRAMA_RANGES = (
    ("020 7946 0", 3),
    ("0113 496 0", 3),
    ("0114 496 0", 3),
    ("0116 496 0", 3),
    ("0117 496 0", 3),
    ("0118 496 0", 3),
    ("0121 496 0", 3),
    ("0131 496 0", 3),
    ("0141 496 0", 3),
    ("0151 496 0", 3),
    ("0161 496 0", 3),
    ("0191 498 0", 3),
    ("028 9649 6", 3),
    ("029 2018 0", 3),
)
# Ofcom's mobile drama range is 07700 900000-900999, but libphonenumber marks all of 07700 9xxxxx
# invalid (so a phone recogniser rightly ignores it). We draw from the parts of the 07700 block that
# libphonenumber accepts as GB (some 07700 blocks are Jersey), asking it rather than hard-coding its metadata.
MOBILE_PREFIX = "07700"
MOBILE_DRAMA_BLOCK = range(900_000, 901_000)

# Postcode letters by position (Royal Mail format rules).
POSTCODE_AREAS = (
    "AB", "B", "BA", "BD", "BN", "BR", "BS", "CB", "CF", "CH", "CM", "CV", "DE", "DN", "E", "EC", "EH", "EX",
    "G", "GL", "GU", "HP", "HU", "IP", "KT", "L", "LE", "LS", "M", "ME", "MK", "N", "NE", "NG", "NR", "NW",
    "OX", "PE", "PL", "PO", "RG", "S", "SE", "SO", "SW", "TN", "TQ", "W", "WC", "WR", "YO",
)  # fmt: skip
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # never C, I, K, M, O, V

FIRST_NAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Freya", "Florence", "Evie", "Priya", "Aisha",
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Oscar", "Thomas", "Rhys", "Callum", "Mohammed",
    "Siobhan", "Eilidh", "Dafydd", "Niamh", "Ewan", "Hamish", "Fatima", "Tomasz", "Agnieszka", "Kwame",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
    "Jackson", "Wood", "Harris", "Edwards", "Turner", "Hughes", "Khan", "Okafor", "MacDonald", "Campbell",
    "Kowalski", "O'Brien", "Ahmed", "Lewis",
)  # fmt: skip
EMAIL_DOMAINS = ("example.org", "example.com", "example.net", "example.gov.uk", "mail.example.co.uk")


def nhs_check_digit(first_nine: str) -> int | None:
    """The NHS mod-11 check digit for nine digits, or None when the result is 10 (never issued)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number(rng: random.Random, *, test_range: bool = True) -> str:
    """A mod-11 valid NHS number formatted "999 123 4560"; ``test_range`` keeps it in the 999 test block."""
    while True:
        if test_range:
            first_nine = NHS_TEST_PREFIX + "".join(rng.choice(string.digits) for _ in range(6))
        else:
            first_nine = str(rng.randint(400_000_000, 799_999_999))
        check = nhs_check_digit(first_nine)
        if check is not None:
            digits = f"{first_nine}{check}"
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def _nino_prefix_letters() -> list[str]:
    letters = [c for c in string.ascii_uppercase if c not in NINO_BAD_LETTERS]
    return [a + b for a in letters for b in letters if b != "O" and a + b not in NINO_EXCLUDED_PREFIXES]


NINO_VALID_PREFIXES = tuple(_nino_prefix_letters())


def nino(rng: random.Random) -> str:
    """A National Insurance number with a valid prefix and suffix, formatted "AB 12 34 56 C"."""
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    prefix = rng.choice(NINO_VALID_PREFIXES)
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice(NINO_SUFFIXES)}"


def vat_check_digits(first_seven: str, *, scheme_9755: bool = False) -> int:
    """The two VAT check digits for seven digits under the original or the 9755 scheme."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seven, VAT_WEIGHTS, strict=True))
    if scheme_9755:
        total += VAT_9755_OFFSET
    return -total % 97


def vat_number(rng: random.Random) -> str:
    """A UK VAT registration number "GB" + 9 digits passing the mod-97 (or 9755) check."""
    first_seven = "".join(rng.choice(string.digits) for _ in range(7))
    check = vat_check_digits(first_seven, scheme_9755=rng.random() < 0.5)
    return f"GB{first_seven}{check:02d}"


def sort_code(rng: random.Random) -> str:
    """A bank sort code formatted "12-34-56"."""
    return "-".join(f"{rng.randint(0, 99):02d}" for _ in range(3))


def bank_account(rng: random.Random) -> str:
    """An eight-digit bank account number."""
    return "".join(rng.choice(string.digits) for _ in range(8))


def uk_mobile(rng: random.Random) -> str:
    """A UK mobile number that libphonenumber accepts, formatted "07700 123456"."""
    while True:
        number = f"{MOBILE_PREFIX} {rng.randint(0, 999_999):06d}"
        if phonenumbers.is_valid_number_for_region(phonenumbers.parse(number, "GB"), "GB"):
            return number


def uk_landline(rng: random.Random) -> str:
    """A UK geographic number from an Ofcom drama range, formatted as it is usually written."""
    prefix, width = rng.choice(LANDLINE_DRAMA_RANGES)
    return prefix + "".join(rng.choice(string.digits) for _ in range(width))


def postcode(rng: random.Random) -> str:
    """A postcode of valid format ("SW1A 1AA" shape rules), for a plausible area; not checked against PAF."""
    area = rng.choice(POSTCODE_AREAS)
    district = str(rng.randint(1, 9 if len(area) == 1 else 20))
    inward = f"{rng.randint(0, 9)}{rng.choice(POSTCODE_INWARD_LETTERS)}{rng.choice(POSTCODE_INWARD_LETTERS)}"
    return f"{area}{district} {inward}"


def person_name(rng: random.Random) -> str:
    """A first and last name drawn from common UK names."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def email_for(name: str, rng: random.Random | None = None) -> str:
    """An email address for a name at a reserved example domain ("olivia.smith@example.org")."""
    local = ".".join("".join(c for c in part.lower() if c.isalnum()) for part in name.split())
    domain = rng.choice(EMAIL_DOMAINS) if rng is not None else EMAIL_DOMAINS[0]
    return f"{local}@{domain}"


def date_of_birth(rng: random.Random, *, earliest: int = 1930, latest: int = 2010) -> dt.date:
    """A date of birth between the first of January of ``earliest`` and the last day of ``latest``."""
    start = dt.date(earliest, 1, 1).toordinal()
    end = dt.date(latest, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))
