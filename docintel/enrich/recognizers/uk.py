"""UK personal-data recognizers in Presidio's shape: a regex per format, a checksum in ``validate_result``.

Patterns are case-sensitive on purpose (Presidio's default is IGNORECASE): UK identifiers are printed in
capitals, and lower-case matching turns ordinary words followed by numbers into NINOs and postcodes.
Context words are single lemmas because Presidio's enhancer compares them with one token at a time.
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern, PatternRecognizer

from docintel.enrich.recognizers import checksums

# Case-sensitive, but still multi-line; Presidio passes these to the `regex` module.
CASE_SENSITIVE_FLAGS = regex.DOTALL | regex.MULTILINE


class UkPatternRecognizer(PatternRecognizer):
    """Base for the UK recognizers: class-level entity, patterns and context, overridable per instance."""

    ENTITY: ClassVar[str] = ""
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = ()  # (name, regex, score)
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    COUNTRY_CODE = "uk"

    def __init__(self, context: list[str] | None = None, name: str | None = None) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=name or type(self).__name__,
            patterns=[Pattern(pattern_name, pattern, score) for pattern_name, pattern, score in self.PATTERNS],
            context=list(context) if context is not None else list(self.CONTEXT),
            global_regex_flags=CASE_SENSITIVE_FLAGS,
        )


class UkNhsNumberRecognizer(UkPatternRecognizer):
    """NHS number: ten digits, usually 3-3-4, with the mod-11 check digit."""

    ENTITY = "UK_NHS"
    PATTERNS = (
        ("nhs_spaced", r"(?<![\d-])\d{3}([ -]?)\d{3}\1\d{4}(?![\d-])", 0.5),
    )  # fmt: skip
    CONTEXT = ("nhs", "health", "patient", "gp", "hospital")

    def validate_result(self, pattern_text: str) -> bool:
        """A valid check digit makes it an NHS number; a wrong one rules it out."""
        return checksums.nhs_is_valid(pattern_text)


class UkNinoRecognizer(UkPatternRecognizer):
    """National Insurance number: two prefix letters HMRC issues, six digits, suffix A-D."""

    ENTITY = "UK_NINO"
    PATTERNS = (
        ("nino", r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", 0.65),
    )  # fmt: skip
    CONTEXT = ("insurance", "nino", "ni", "nic", "hmrc")

    def validate_result(self, pattern_text: str) -> bool | None:
        """Rule out prefixes HMRC never issues; a valid one keeps the pattern score (there is no checksum)."""
        return None if checksums.nino_is_valid(pattern_text) else False


# Royal Mail rules by position: 1st letter not Q/V/X, 2nd not I/J/Z, 3rd (A9A) and 4th (AA9A) from
# short lists, inward code digit + two letters never C/I/K/M/O/V. GIR 0AA is Girobank's historic code.
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"


class UkPostcodeRecognizer(UkPatternRecognizer):
    """UK postcode in any of the six formats; the spaced form passes the default threshold on its own."""

    ENTITY = "UK_POSTCODE"
    PATTERNS = (
        ("postcode_spaced", rf"\b(?:{_OUTWARD} {_INWARD}|GIR 0AA)\b", 0.6),
        # Without the space "AB12CD"-shaped part numbers match too, so this needs a context word.
        ("postcode_compact", rf"\b(?:{_OUTWARD}{_INWARD}|GIR0AA)\b", 0.3),
    )  # fmt: skip
    CONTEXT = ("postcode", "address", "street", "road", "avenue", "lane", "drive", "close")


class UkSortCodeRecognizer(UkPatternRecognizer):
    """Bank sort code nn-nn-nn; on its own it looks like a date, so it only counts next to "sort"."""

    ENTITY = "UK_SORT_CODE"
    PATTERNS = (
        ("sort_code", r"(?<![\d-])\d{2}-\d{2}-\d{2}(?![\d-])", 0.1),
        ("sort_code_spaced", r"(?<!\d)(?<!\d )\d{2} \d{2} \d{2}(?! ?\d)", 0.05),
    )  # fmt: skip
    CONTEXT = ("sort", "bank")

    def invalidate_result(self, pattern_text: str) -> bool:
        """00-00-00 is a placeholder, not a sort code."""
        return set(checksums.compact(pattern_text)) == {"0"}


class UkBankAccountRecognizer(UkPatternRecognizer):
    """Eight-digit bank account number, only near the word "account"."""

    ENTITY = "UK_BANK_ACCOUNT"
    PATTERNS = (
        ("account_number", r"(?<![\d-])\d{8}(?![\d-])", 0.05),
    )  # fmt: skip
    CONTEXT = ("account", "acc", "acct", "a/c")

    def invalidate_result(self, pattern_text: str) -> bool:
        """A run of one digit is a placeholder."""
        return len(set(pattern_text)) == 1


class UkVatNumberRecognizer(UkPatternRecognizer):
    """UK VAT registration number: GB + 9 digits with the mod-97 or 9755 check."""

    ENTITY = "UK_VAT"
    PATTERNS = (
        ("vat_gb", r"\bGB ?\d{3} ?\d{4} ?\d{2}\b", 0.5),
    )  # fmt: skip
    CONTEXT = ("vat", "registration", "reg")

    def validate_result(self, pattern_text: str) -> bool:
        """The check digits decide."""
        return checksums.vat_is_valid(pattern_text)
