"""Parsers for invoice values: amounts, dates (UK day-first unless shown otherwise), currencies, bank details."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from docintel.enrich.recognizers.checksums import vat_any_is_valid

# Symbols and codes that name a currency; codes are matched as whole words.
CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD", "₹": "INR", "zł": "PLN"}
CURRENCY_CODES = {
    "GBP": "GBP",
    "EUR": "EUR",
    "USD": "USD",
    "INR": "INR",
    "PLN": "PLN",
    "RS": "INR",
    "RM": "MYR",
    "MYR": "MYR",
    "CHF": "CHF",
}
_CODE_PATTERN = re.compile(r"\b(" + "|".join(CURRENCY_CODES) + r")\.?(?=[\s\d]|$)", re.IGNORECASE)

# An amount: optional sign or bracket, digit groups with , . space or ' separators, up to two decimals.
_AMOUNT = re.compile(
    r"(?<![0-9A-Za-z.,/:-])(?P<neg>[-(])?\s?(?:(?:GBP|EUR|USD|INR|PLN|MYR|RM|Rs\.?)\s?)?(?:[£€$₹]\s?)?"
    # French and German print thousands with a (no-break) space: "1 234,56" (only with a decimal comma, so that
    # a quantity and a price side by side are never read as one number).
    r"(?P<number>\d{1,3}(?:[ \u00a0\u202f]\d{3})+,\d{2}|\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?"
    r"|\d+(?:[.,]\d{1,2})?)"
    r"(?!\d|[.,]\d|\s?%|/\d)"
)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")

MONTHS = {
    # English, then the Dutch, German, French and Spanish months (and their abbreviations) that differ from English.
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "juni": 6, "juli": 7, "augustus": 8, "oktober": 10,
    "januar": 1, "februar": 2, "märz": 3, "mai": 5, "okt": 10, "dezember": 12, "dez": 12,
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    "mrt": 3, "maerz": 3, "mär": 3, "janv": 1, "févr": 2, "fevr": 2, "avr": 4, "juil": 7, "déc": 12,
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "dic": 12,
}  # fmt: skip
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# Not part of a longer chain of digit groups: "04.21.93.11.20" is a phone number, not 21 April 1993.
_NUMERIC_DATE = re.compile(r"(?<!\d)(?<!\d[/.\-])(\d{1,4})\s?([/.\-])\s?(\d{1,2})\s?\2\s?(\d{2,4})(?!\d)(?![/.\-]\d)")
# A receipt printer's slashes that OCR read as a digit or a bar ("17/03/2018" -> "1770372018"): day, month and a
# four-digit year with one such character between each, tried only on a labelled date's value.
_MISREAD_SEPARATORS = re.compile(r"(?<!\d)(\d{2})[71lI|](\d{2})[71lI|]((?:19|20)\d{2})(?!\d)")
# "3rd April 2025", "7. Mai 2014", "1er juillet 2015", "12 de marzo de 2024".
_DAY_MONTH_NAME = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|e)?[\s.\-/]*(?:de\s+)?({MONTH_NAMES})\b\.?[\s.\-/,]*(?:de\s+|del\s+)?"
    r"(\d{4}|\d{2})(?!\d)",
    re.IGNORECASE,
)
_MONTH_NAME_DAY = re.compile(
    rf"\b({MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE
)
# Two-digit years: 00-69 are 2000s, 70-99 the 1900s (as Python's %y).
TWO_DIGIT_YEAR_PIVOT = 70

_SORT_CODE = re.compile(r"(?<!\d)(\d{2})[-\s]?(\d{2})[-\s]?(\d{2})(?!\d)")
_ACCOUNT = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?)\b")
_UK_VAT = re.compile(r"\b(GB\s?)?(\d{3}\s?\d{4}\s?\d{2}(?:\s?\d{3})?)\b")
_EU_VAT = re.compile(r"\b((?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK)"
                     r"\s?[0-9A-Z](?:\s?[0-9A-Z]){7,11})\b")  # fmt: skip


@dataclass(frozen=True)
class ParsedDate:
    """A date read from text; ``ambiguous`` when day and month could be swapped and the reading was a choice."""

    value: dt.date
    ambiguous: bool
    start: int
    end: int
    month_first_evidence: bool = False  # the text could only be read month-first (e.g. 12/31/2024)


def parse_amount(text: str) -> Decimal | None:
    """The last amount in ``text`` as a Decimal ("£1,234.50" -> 1234.50; "1.234,50" -> 1234.50), else None."""
    found = find_amounts(text)
    return found[-1][0] if found else None


def find_amounts(text: str) -> list[tuple[Decimal, int, int]]:
    """Every amount in ``text`` with its offsets, percentages and dates left out."""
    results: list[tuple[Decimal, int, int]] = []
    for match in _AMOUNT.finditer(text):
        value = _to_decimal(match.group("number"))
        if value is None:
            continue
        if match.group("neg"):
            value = -value
        results.append((value, match.start("number"), match.end()))
    return results


def _to_decimal(number: str) -> Decimal | None:
    number = re.sub(r"['\s\u00a0\u202f]", "", number)
    last_dot, last_comma = number.rfind("."), number.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        # "12,50" is a decimal comma; "1,250" a thousands comma.
        decimal_mark = "," if len(number) - last_comma - 1 != 3 else ""
    elif last_dot >= 0:
        # "1.250" alone is read as a decimal (UK and US invoices); grouped "1.250.000" is thousands.
        decimal_mark = "." if number.count(".") == 1 else ""
    else:
        decimal_mark = ""
    thousands = {".", ","} - {decimal_mark}
    for mark in thousands:
        number = number.replace(mark, "")
    if decimal_mark:
        number = number.replace(decimal_mark, ".")
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def format_amount(value: Decimal) -> str:
    """An amount as a plain Decimal string with at least two decimals ("1234.50")."""
    quantised = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value
    return f"{quantised:f}"


def find_percent(text: str) -> Decimal | None:
    """The first percentage in ``text`` ("20%" -> 20), else None."""
    match = _PERCENT.search(text)
    return _to_decimal(match.group(1)) if match else None


def detect_currency(text: str) -> str | None:
    """The ISO code of the first currency symbol or code in ``text``, else None."""
    for symbol, code in CURRENCY_SYMBOLS.items():
        if symbol in text:
            return code
    match = _CODE_PATTERN.search(text)
    return CURRENCY_CODES[match.group(1).upper()] if match else None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= TWO_DIGIT_YEAR_PIVOT else 2000
    return year


def find_dates(text: str, *, day_first: bool = True) -> list[ParsedDate]:
    """Every date in ``text``; numeric dates with both parts 12 or under are read day-first unless told otherwise."""
    found: list[ParsedDate] = []
    for match in _NUMERIC_DATE.finditer(text):
        first, separator, second, third = match.groups()
        try:
            if len(first) == 4:  # ISO order yyyy-mm-dd
                found.append(ParsedDate(dt.date(int(first), int(second), int(third)), False, *match.span()))
                continue
            if len(first) == 3 or len(third) == 3:
                continue
            a, b, year = int(first), int(second), _year(third)
            if a > 12 and b <= 12:
                found.append(ParsedDate(dt.date(year, b, a), False, *match.span()))
            elif b > 12 and a <= 12:
                found.append(ParsedDate(dt.date(year, a, b), False, *match.span(), month_first_evidence=True))
            elif separator == ".":
                # Dotted dates are a continental (day-first) convention; US dates use slashes.
                found.append(ParsedDate(dt.date(year, b, a), False, *match.span()))
            else:
                day, month = (a, b) if day_first else (b, a)
                found.append(ParsedDate(dt.date(year, month, day), a != b, *match.span()))
        except ValueError:
            continue
    for match in _DAY_MONTH_NAME.finditer(text):
        try:
            value = dt.date(_year(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
        except ValueError:
            continue
        found.append(ParsedDate(value, False, *match.span()))
    for match in _MONTH_NAME_DAY.finditer(text):
        try:
            value = dt.date(int(match.group(3)), MONTHS[match.group(1).lower()], int(match.group(2)))
        except ValueError:
            continue
        found.append(ParsedDate(value, False, *match.span()))
    found.sort(key=lambda parsed: parsed.start)
    return found


def parse_date(text: str, *, day_first: bool = True) -> ParsedDate | None:
    """The first plausible date in ``text`` (years 1990-2099), else None."""
    for parsed in find_dates(text, day_first=day_first):
        if 1990 <= parsed.value.year <= 2099:
            return parsed
    return None


def parse_misread_date(text: str) -> ParsedDate | None:
    """A day-first numeric date whose separators OCR read as "7", "1", "l" or "|" ("Date: 1770372018"), else None.

    Only for a value printed after a date label: elsewhere such a run of digits is more likely a number.
    """
    for match in _MISREAD_SEPARATORS.finditer(text):
        try:
            value = dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            continue
        return ParsedDate(value, True, *match.span())
    return None


def find_vat_number(text: str) -> tuple[str, bool] | None:
    """A VAT number in ``text`` as (normalised form, checksum valid); UK numbers are checked, EU ones only shaped."""
    uk = _UK_VAT.search(text)
    if uk:
        digits = re.sub(r"\s", "", uk.group(2))
        return "GB" + digits, vat_any_is_valid(digits)
    eu = _EU_VAT.search(text.upper())
    if eu:
        return re.sub(r"\s", "", eu.group(1)), True
    return None


def iban_is_valid(value: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN."""
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def find_iban(text: str) -> str | None:
    """A checksum-valid IBAN in ``text``, compact, else None."""
    for match in _IBAN.finditer(text.upper()):
        candidate = re.sub(r"\s", "", match.group(1))
        if iban_is_valid(candidate):
            return candidate
    return None


def find_sort_code(text: str) -> str | None:
    """A sort code in ``text`` as "12-34-56", else None."""
    match = _SORT_CODE.search(text)
    return "-".join(match.groups()) if match else None


def find_account_number(text: str) -> str | None:
    """An eight-digit UK account number in ``text``, else None."""
    match = _ACCOUNT.search(text)
    return match.group(1) if match else None
