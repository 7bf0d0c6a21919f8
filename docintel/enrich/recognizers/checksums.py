"""Check-digit and format rules for UK identifiers, shared by the recognizers, the hashing and the tests."""

from __future__ import annotations

import re

from docintel import synthetic

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def compact(value: str) -> str:
    """The value without spaces, hyphens or other separators."""
    return _NON_ALNUM.sub("", value)


def nhs_is_valid(value: str) -> bool:
    """True when ``value`` is ten digits (separators allowed) with a correct mod-11 check digit."""
    digits = compact(value)
    if len(digits) != 10 or not digits.isdigit():
        return False
    # A run of one digit passes mod-11 (0000000000) but is never issued; it shows up as a placeholder.
    if len(set(digits)) == 1:
        return False
    return synthetic.nhs_check_digit(digits[:9]) == int(digits[9])


def nino_is_valid(value: str) -> bool:
    """True when ``value`` is a National Insurance number with an issuable prefix and a suffix A-D."""
    text = compact(value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", text):
        return False
    return text[:2] in synthetic.NINO_VALID_PREFIXES


def vat_is_valid(value: str) -> bool:
    """True when ``value`` is "GB" + 9 digits passing the mod-97 check, original or 9755 scheme."""
    text = compact(value).upper()
    if not re.fullmatch(r"GB\d{9}", text):
        return False
    digits = text[2:]
    first_seven, check = digits[:7], int(digits[7:])
    if first_seven == "0000000":
        return False
    return check in {
        synthetic.vat_check_digits(first_seven, scheme_9755=False),
        synthetic.vat_check_digits(first_seven, scheme_9755=True),
    }


# VAT numbers of government departments (GD, 000-499) and health authorities (HA, 500-999).
_VAT_GD_MAX = 499


def vat_any_is_valid(value: str) -> bool:
    """True for any UK VAT form: 9 digits (GB optional), branch GB + 12 digits, or GBGD/GBHA + 3 digits."""
    text = compact(value).upper()
    if text.startswith(("GBGD", "GBHA")):
        digits = text[4:]
        if len(digits) != 3 or not digits.isdigit():
            return False
        return (int(digits) <= _VAT_GD_MAX) == (text[2:4] == "GD")
    if not text.startswith("GB"):
        text = "GB" + text
    if re.fullmatch(r"GB\d{12}", text):
        # The last three digits are a branch (trader division) number; the first nine carry the check.
        text = text[:11]
    return vat_is_valid(text)


# UTR: the FIRST digit checks the other nine (HMRC; as in python-stdnum's stdnum.gb.utr).
UTR_WEIGHTS = (6, 7, 8, 9, 10, 5, 4, 3, 2)
UTR_CHECK_CHARS = "21987654321"


def utr_check_digit(last_nine: str) -> str:
    """The leading check digit of a UTR for its last nine digits."""
    total = sum(int(digit) * weight for digit, weight in zip(last_nine, UTR_WEIGHTS, strict=True))
    return UTR_CHECK_CHARS[total % 11]


def utr_is_valid(value: str) -> bool:
    """True when ``value`` is a ten-digit Unique Taxpayer Reference (optional K) with a correct check digit."""
    digits = compact(value).upper().strip("K")
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    return digits[0] == utr_check_digit(digits[1:])


def nino_is_plausible_case(value: str) -> bool:
    """A NINO is printed all upper case or (typed) all lower case; "Ab 12..." is prose, not a NINO."""
    letters = "".join(ch for ch in value if ch.isalpha())
    return letters.isupper() or letters.islower()
