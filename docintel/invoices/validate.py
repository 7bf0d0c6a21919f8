"""Arithmetic and checksum checks over the extracted fields, returned beside them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from docintel.enrich.recognizers.checksums import vat_any_is_valid
from docintel.invoices.models import CheckStatus, InvoiceField, InvoiceItem, ValidationCheck

# Rounding slack: each line may be rounded to the penny on its own, so sums may drift a penny per line.
PENNY = Decimal("0.01")
# UK VAT rates (standard, reduced, zero) a whole-invoice tax/subtotal ratio is compared with.
UK_VAT_RATES = (Decimal(20), Decimal(5), Decimal(0))
RATE_TOLERANCE_PERCENT = Decimal("0.1")
# VAT rates (standard first, then reduced and zero) of the countries suppliers abroad invoice from, keyed by
# the VAT number's country prefix: a German invoice's 19% is right, not "outside UK VAT rates".
VAT_RATES_BY_COUNTRY: dict[str, tuple[Decimal, ...]] = {
    "GB": UK_VAT_RATES,
    "DE": (Decimal(19), Decimal(7), Decimal(0)),
    "FR": (Decimal(20), Decimal(10), Decimal("5.5"), Decimal("2.1"), Decimal(0)),
    "NL": (Decimal(21), Decimal(9), Decimal(0)),
    "ES": (Decimal(21), Decimal(10), Decimal(4), Decimal(0)),
    "BE": (Decimal(21), Decimal(12), Decimal(6), Decimal(0)),
    "IE": (Decimal(23), Decimal("13.5"), Decimal(9), Decimal(0)),
    "IT": (Decimal(22), Decimal(10), Decimal(5), Decimal(4), Decimal(0)),
    "AT": (Decimal(20), Decimal(13), Decimal(10), Decimal(0)),
    "PT": (Decimal(23), Decimal(13), Decimal(6), Decimal(0)),
    "LU": (Decimal(17), Decimal(14), Decimal(8), Decimal(3), Decimal(0)),
    "PL": (Decimal(23), Decimal(8), Decimal(5), Decimal(0)),
}


def _amount(field: InvoiceField | None) -> Decimal | None:
    if field is None or not isinstance(field.value, str):
        return None
    try:
        return Decimal(field.value)
    except InvalidOperation:
        return None


def check_items_sum(items: list[InvoiceItem], subtotal: InvoiceField | None) -> ValidationCheck:
    """Line item amounts add up to the subtotal."""
    name = "items_sum_to_subtotal"
    amounts = [_amount(item.fields.get("Amount")) for item in items]
    expected = _amount(subtotal)
    if not items or expected is None or any(amount is None for amount in amounts):
        return ValidationCheck(name=name, status=CheckStatus.SKIPPED, message="needs line item amounts and a subtotal")
    total = sum((amount for amount in amounts if amount is not None), Decimal(0))
    ok = abs(total - expected) <= PENNY * max(1, len(items))
    return ValidationCheck(
        name=name,
        status=CheckStatus.PASS if ok else CheckStatus.FAIL,
        message=f"{len(items)} line items add up to the subtotal" if ok else "line items do not add up to the subtotal",
        expected=str(expected),
        actual=str(total),
    )


def check_total(subtotal: InvoiceField | None, tax: InvoiceField | None, total: InvoiceField | None) -> ValidationCheck:
    """Subtotal plus tax equals the invoice total."""
    name = "subtotal_plus_tax_is_total"
    sub, vat, grand = _amount(subtotal), _amount(tax), _amount(total)
    if sub is None or vat is None or grand is None:
        return ValidationCheck(name=name, status=CheckStatus.SKIPPED, message="needs a subtotal, a tax and a total")
    ok = abs(sub + vat - grand) <= PENNY
    return ValidationCheck(
        name=name,
        status=CheckStatus.PASS if ok else CheckStatus.FAIL,
        message="subtotal + tax = total" if ok else "subtotal + tax does not equal the total",
        expected=str(sub + vat),
        actual=str(grand),
    )


def check_vat_rate(
    items: list[InvoiceItem], subtotal: InvoiceField | None, tax: InvoiceField | None, country: str = "GB"
) -> ValidationCheck:
    """The tax matches the items' VAT rates, or (without rates per item) a VAT rate of the supplier's country."""
    name = "vat_rate_consistent"
    sub, vat = _amount(subtotal), _amount(tax)
    if sub is None or vat is None or sub == 0:
        return ValidationCheck(name=name, status=CheckStatus.SKIPPED, message="needs a subtotal and a tax amount")
    rated = [(item.fields.get("Amount"), item.fields.get("TaxRate")) for item in items]
    if rated and all(amount is not None and rate is not None for amount, rate in rated):
        expected = sum(
            ((_amount(amount) or Decimal(0)) * Decimal(str(rate.value)) / 100 for amount, rate in rated if rate),
            Decimal(0),
        ).quantize(PENNY)
        ok = abs(expected - vat) <= PENNY * max(1, len(items))
        message = "tax matches the line items' VAT rates" if ok else "tax does not match the line items' VAT rates"
        return ValidationCheck(
            name=name, status=CheckStatus.PASS if ok else CheckStatus.FAIL, message=message, expected=str(expected),
            actual=str(vat),
        )  # fmt: skip
    rate = (vat / sub * 100).quantize(Decimal("0.01"))
    rates = VAT_RATES_BY_COUNTRY.get(country, UK_VAT_RATES)
    nearest = min(rates, key=lambda known: abs(known - rate))
    # A mixed-rate invoice sits between the rates; only a rate outside 0 to the standard rate is clearly wrong.
    ok = abs(nearest - rate) <= RATE_TOLERANCE_PERCENT or Decimal(0) <= rate <= max(rates)
    where = "UK" if country not in VAT_RATES_BY_COUNTRY or country == "GB" else country
    return ValidationCheck(
        name=name,
        status=CheckStatus.PASS if ok else CheckStatus.FAIL,
        message=f"tax is {rate}% of the subtotal" + ("" if ok else f", outside {where} VAT rates"),
        expected=f"{nearest}%",
        actual=f"{rate}%",
    )


def check_vat_number(vat_number: InvoiceField | None) -> ValidationCheck:
    """The vendor's UK VAT number passes its mod-97 check (non-UK numbers are not checked)."""
    name = "vat_number_valid"
    if vat_number is None or not isinstance(vat_number.value, str):
        return ValidationCheck(name=name, status=CheckStatus.SKIPPED, message="no VAT number found")
    if not vat_number.value.upper().startswith("GB"):
        return ValidationCheck(name=name, status=CheckStatus.SKIPPED, message="not a UK VAT number; not checked")
    ok = vat_any_is_valid(vat_number.value)
    return ValidationCheck(
        name=name,
        status=CheckStatus.PASS if ok else CheckStatus.FAIL,
        message="VAT number check digits are valid" if ok else "VAT number check digits are wrong",
        actual=vat_number.value,
    )


def _vat_country(vat_number: InvoiceField | None) -> str:
    """The country prefix of the supplier's VAT number ("DE123456789" -> "DE"), UK when there is none."""
    if vat_number is None or not isinstance(vat_number.value, str) or not vat_number.value[:2].isalpha():
        return "GB"
    return vat_number.value[:2].upper()


def validate(fields: dict[str, InvoiceField], items: list[InvoiceItem]) -> list[ValidationCheck]:
    """Every check, in a fixed order."""
    return [
        check_items_sum(items, fields.get("SubTotal")),
        check_total(fields.get("SubTotal"), fields.get("TotalTax"), fields.get("InvoiceTotal")),
        check_vat_rate(items, fields.get("SubTotal"), fields.get("TotalTax"), _vat_country(fields.get("VendorTaxId"))),
        check_vat_number(fields.get("VendorTaxId")),
    ]
