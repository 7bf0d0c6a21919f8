"""Checks on a client's corrected invoice values before anything is stored or learnt from them.

A correction feeds a supplier profile, which later fixes values on other invoices: a value that is not a
valid value of its field (a currency that is not an ISO 4217 code, a UK VAT number whose check digits are
wrong, a date that is not a date) would be repeated on every invoice the profile matches, so it is refused
with the field and the reason. A vendor name that is a generic word ("Invoice", "Ltd", anything under four
letters or digits) is refused too: as a profile keyword it would match nearly every invoice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from docintel.enrich.recognizers.checksums import vat_any_is_valid
from docintel.errors import DocintelError
from docintel.invoices import parse
from docintel.invoices.models import AMOUNT_FIELDS, DATE_FIELDS

# Active ISO 4217 alphabetic codes (the standard's list 1, 2024), fund and precious-metal codes left out:
# nobody invoices a council in them.
_ISO_4217_TEXT = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
    GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
"""
ISO_4217_CODES = frozenset(_ISO_4217_TEXT.split())

# Words found on nearly every invoice: a profile keyword made of these alone would match other suppliers'.
_GENERIC_TEXT = """
    invoice invoices inv tax vat receipt receipts bill bills billing total subtotal amount due balance
    payment payments paid customer customers client supplier suppliers vendor seller buyer ltd limited plc
    llp llc inc co company corp corporation group holdings services service statement account accounts
    credit debit note order purchase sales date number no ref reference page the and of for to from uk gbp
    usd eur pounds sterling
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
# A keyword needs at least this many letters or digits: shorter ones ("Co", "A&B") occur by chance in any
# text. Digits count, so a VAT number ("GB123456789") is a keyword of its own.
MIN_KEYWORD_LETTERS = 4
# Longest corrected value kept: an address or payment term, never a page of text.
MAX_VALUE_CHARS = 500
# Amounts beyond this are typing mistakes, not council invoices.
MAX_AMOUNT = Decimal("1e12")

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class InvalidCorrection(DocintelError):
    """A corrected value that is not a valid value of its field; nothing of the correction is stored."""

    exit_code = 2
    http_status = 422


def keyword_is_generic(keyword: str) -> bool:
    """True when a keyword would match invoices of many suppliers: too short, or generic words only."""
    words = [word.casefold() for word in _WORD.findall(keyword)]
    if sum(len(word) for word in words) < MIN_KEYWORD_LETTERS:
        return True
    return all(word in GENERIC_WORDS for word in words)


def _check_text(field: str, value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidCorrection(f"{field}: the corrected value is empty")
    if len(cleaned) > MAX_VALUE_CHARS:
        raise InvalidCorrection(f"{field}: the corrected value is over {MAX_VALUE_CHARS} characters")
    if not cleaned.isprintable():
        raise InvalidCorrection(f"{field}: the corrected value holds control characters")
    return cleaned


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217_CODES:
        raise InvalidCorrection("Currency: must be an ISO 4217 code such as GBP, EUR or USD")
    return code


def _check_vat_number(value: str) -> str:
    found = parse.find_vat_number(value)
    compact = re.sub(r"[\s.-]", "", value).upper()
    if found is None or found[0].removeprefix("GB") not in compact:
        raise InvalidCorrection("VendorTaxId: not a VAT number (GB and 9 digits, or an EU VAT number)")
    number, valid = found
    if number.startswith("GB") and not (valid and vat_any_is_valid(number)):
        raise InvalidCorrection("VendorTaxId: the UK VAT number's check digits are wrong")
    return number


def _check_date(field: str, value: str) -> str:
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidCorrection(f"{field}: must be a date as YYYY-MM-DD") from None


def _check_amount(field: str, value: str) -> str:
    text = value.strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidCorrection(f"{field}: must be an amount such as 1234.50 (no currency sign)") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidCorrection(f"{field}: must be an amount such as 1234.50, with at most two decimals")
    return parse.format_amount(amount)


def _check_vendor_name(value: str) -> str:
    name = _check_text("VendorName", value)
    if keyword_is_generic(name):
        raise InvalidCorrection(
            f"VendorName: {name!r} is a generic word (or under {MIN_KEYWORD_LETTERS} letters) and would match "
            "other suppliers' invoices; send the supplier's own name"
        )
    return name


def check_corrections(corrections: Mapping[str, str]) -> dict[str, str]:
    """Each corrected value checked and normalised; InvalidCorrection naming the first bad field."""
    checked: dict[str, str] = {}
    for field, value in corrections.items():
        if field == "Currency":
            checked[field] = _check_currency(value)
        elif field == "VendorTaxId":
            checked[field] = _check_vat_number(value)
        elif field == "VendorName":
            checked[field] = _check_vendor_name(value)
        elif field in DATE_FIELDS:
            checked[field] = _check_date(field, value)
        elif field in AMOUNT_FIELDS:
            checked[field] = _check_amount(field, value)
        else:
            checked[field] = _check_text(field, value)
    return checked
