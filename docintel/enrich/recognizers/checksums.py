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
