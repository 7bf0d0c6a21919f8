"""UK personal-data recognizers in Presidio's shape: a regex per format, a checksum in ``validate_result``.

Patterns are case-sensitive on purpose (Presidio's default is IGNORECASE): UK identifiers are printed in
capitals, and case-blind matching turns ordinary words followed by numbers into NINOs and postcodes. Where
people do type identifiers in lower case (NINOs, postcodes) a separate lower-case pattern with its own,
lower score handles it. Context words are single lemmas because Presidio's enhancer compares them with one
token at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import UkDrivingLicenceRecognizer as PresidioUkDrivingLicenceRecognizer

from docintel.enrich.dates import MONTHS_PATTERN as _MONTHS
from docintel.enrich.dates import parse_date
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
        ("nino_lower", r"\b[a-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[a-d]\b", 0.55),
    )  # fmt: skip
    CONTEXT = ("insurance", "nino", "ni", "nic", "hmrc")
    # Lower-case prefixes that are English words ("on 12 03 19 a...") need a context word to count.
    WORD_PREFIXES = frozenset({"am", "an", "as", "at", "be", "by", "go", "he", "me", "my", "no", "of", "oh", "ok", "on",
                               "or", "so", "to", "we", "ye"})  # fmt: skip
    WORD_PREFIX_SCORE = 0.3

    def validate_result(self, pattern_text: str) -> bool | None:
        """Rule out prefixes HMRC never issues and mixed case; a valid one keeps the pattern score."""
        return (
            None if checksums.nino_is_valid(pattern_text) and checksums.nino_is_plausible_case(pattern_text) else False
        )

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:  # fmt: skip
        """Pattern matches, with lower-case matches that start with an English word scored down."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            prefix = text[result.start : result.start + 2]
            if prefix in self.WORD_PREFIXES:
                result.score = min(result.score, self.WORD_PREFIX_SCORE)
        return results


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
        # Without the space "AB12CD"-shaped part numbers match too; a lone token still passes (it has to
        # follow every Royal Mail position rule), but one glued to a reference (REF/AB12CD, X-AB12CD) does not.
        ("postcode_compact", rf"(?<![/\-])\b(?:{_OUTWARD}{_INWARD}|GIR0AA)\b(?![/\-])", 0.5),
        # Typed in lower case (web forms, emails): only next to a context word.
        ("postcode_lower", rf"\b(?:{_OUTWARD.lower()} ?{_INWARD.lower()})\b", 0.3),
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
    """UK VAT registration number with the mod-97 or 9755 check: GB + 9 digits, branch GB + 12, GBGD/GBHA + 3."""

    ENTITY = "UK_VAT"
    PATTERNS = (
        ("vat_gb", r"\bGB ?\d{3} ?\d{4} ?\d{2}(?: ?\d{3})?\b", 0.5),
        ("vat_gd_ha", r"\bGB ?(?:GD|HA) ?\d{3}\b", 0.5),
        # Without "GB" nine digits pass the check about once in 97 by chance: only next to "VAT".
        ("vat_bare", r"(?<![\d-])\d{3} ?\d{4} ?\d{2}(?![\d-])", 0.15),
    )  # fmt: skip
    CONTEXT = ("vat", "registration", "reg")

    def validate_result(self, pattern_text: str) -> bool | None:
        """The check digits decide; a bare nine-digit number keeps its low score (1 in 97 pass by chance)."""
        if not checksums.vat_any_is_valid(pattern_text):
            return False
        return True if pattern_text.upper().startswith("GB") else None


class UkPassportRecognizer(UkPatternRecognizer):
    """UK passport number: two letters + seven digits (current books), or nine digits (older books) with context.

    Two letters and seven digits count on their own, unless one of the words just before them names the token as
    some other reference ("Invoice No. CS0013132", "Company No: SA0127959"): the shapes are the same and nothing
    in the number tells them apart (the check digit is only printed in the machine-readable zone).
    """

    ENTITY = "UK_PASSPORT"
    PATTERNS = (
        ("passport_letters", r"\b(?:[A-Z]{2}|[a-z]{2})\d{7}\b", 0.5),
        # Nine digits are anything (a phone number, a reference): only next to "passport".
        ("passport_digits", r"(?<![\d-])\d{9}(?![\d-])", 0.15),
    )  # fmt: skip
    CONTEXT = ("passport", "hmpo")
    # Labels of references shaped like passport numbers; compared with the last words before the match.
    OTHER_REFERENCE_WORDS = frozenset({
        "account", "acc", "acct", "booking", "case", "claim", "company", "contract", "crn", "customer", "inv",
        "invoice", "job", "licence", "member", "membership", "order", "part", "po", "policy", "purchase", "receipt",
        "ref", "reference", "registration", "reg", "serial", "ticket", "tracking", "transaction", "trn", "vat",
    })  # fmt: skip
    OTHER_REFERENCE_WINDOW = 3  # words, on the same line
    OTHER_REFERENCE_SCORE = 0.3
    _WORD = regex.compile(r"[A-Za-z]+")

    def invalidate_result(self, pattern_text: str) -> bool:
        """A run of one digit is a placeholder."""
        return len(set(pattern_text[-7:])) == 1

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:  # fmt: skip
        """Pattern matches, with letters + digits labelled as another kind of reference scored down."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if not text[result.start].isalpha():
                continue
            line_start = text.rfind("\n", 0, result.start) + 1
            before = self._WORD.findall(text[max(line_start, result.start - 60) : result.start])
            if any(word.lower() in self.OTHER_REFERENCE_WORDS for word in before[-self.OTHER_REFERENCE_WINDOW :]):
                result.score = min(result.score, self.OTHER_REFERENCE_SCORE)
        return results


class UkUtrRecognizer(UkPatternRecognizer):
    """Unique Taxpayer Reference: ten digits (optionally with a K) whose first digit checks the rest."""

    ENTITY = "UK_UTR"
    PATTERNS = (
        ("utr", r"(?<![\d-])[Kk]?\d{5} ?\d{5}[Kk]?(?![\d-])", 0.15),
    )  # fmt: skip
    CONTEXT = ("utr", "taxpayer", "hmrc", "self", "assessment", "tax")

    def validate_result(self, pattern_text: str) -> bool | None:
        """A wrong check digit rules it out; a right one keeps the low score (one number in eleven passes by chance)."""
        return None if checksums.utr_is_valid(pattern_text) else False


class UkDrivingLicenceRecognizer(PresidioUkDrivingLicenceRecognizer):
    """DVLA licence number (surname, encoded date of birth, initials); the date must be a real calendar date."""

    def __init__(self, context: list[str] | None = None, name: str | None = None) -> None:
        super().__init__(context=context, name=name or type(self).__name__)

    def validate_result(self, pattern_text: str) -> bool | None:
        """Presidio's surname rules, then the encoded birth date (month + 50 for women) must exist."""
        if super().validate_result(pattern_text) is False:
            return False
        text = pattern_text.upper()
        decade, month, day, year_digit = int(text[5]), int(text[6:8]) % 50, int(text[8:10]), int(text[10])
        for century in (1900, 2000):
            try:
                dt.date(century + decade * 10 + year_digit, month, day)
            except ValueError:
                continue
            return None
        return False


# A birth cue in the few words before a date: "DOB", "D.O.B.", "date of birth", "born (on)", "birth date".
_BIRTH_CUE = regex.compile(r"(?i)\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|birth\s?date|born|birthday)")
# How far back (characters) a birth cue may sit: "Date of birth (if known): 3 March 1984".
BIRTH_CUE_WINDOW = 40


class UkDateOfBirthRecognizer(PatternRecognizer):
    """A calendar date that follows a birth cue ("DOB", "date of birth", "born"); a bare date is not personal data."""

    ENTITY = "DATE_OF_BIRTH"
    PATTERNS = (
        # A full stop after the year ends the sentence ("... born on 04/03/1974."); one before a digit continues it.
        ("date_numeric", r"(?<![\d/.-])(?P<d>\d{1,2})([/.-])(?P<m>\d{1,2})\2(?P<y>\d{4}|\d{2})(?![\d/-]|\.\d)", 0.1),
        ("date_words", rf"(?i)\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn>{_MONTHS})\.?,?\s+(?P<y>\d{{4}})\b", 0.1),
        ("date_us_words", rf"(?i)\b(?P<mn>{_MONTHS})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", 0.1),
        ("date_iso", r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])", 0.1),
    )  # fmt: skip
    CUE_SCORE = 0.85

    def __init__(self, context: list[str] | None = None, name: str | None = None) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=name or type(self).__name__,
            patterns=[Pattern(pattern_name, pattern, score) for pattern_name, pattern, score in self.PATTERNS],
            # The cue check below replaces Presidio's lemma context: "date of birth" is a phrase, "D.O.B." splits.
            context=list(context) if context is not None else [],
            global_regex_flags=CASE_SENSITIVE_FLAGS,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """The text must be a real date no later than today; being one does not make it a birth date."""
        return None if parse_date(pattern_text) is not None else False

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:  # fmt: skip
        """Dates, scored up to CUE_SCORE when a birth cue sits just before them on the same line."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            window = text[max(0, result.start - BIRTH_CUE_WINDOW) : result.start]
            window = window.rsplit("\n", 1)[-1] if "\n" in window.rstrip("\n") else window
            if _BIRTH_CUE.search(window):
                result.score = max(result.score, self.CUE_SCORE)
        return results


# DVLA number plates. Current (Sept 2001 on): a memory tag (region letter + DVLA office letter), the age identifier
# (02-29 for March, 51-79 for September registrations) and three random letters, never I or Q. The region letters
# in use leave out I, J, Q, T, U, X and Z; the office letter leaves out I, Q and Z.
_PLATE_REGION = "A-HK-PR-SVWY"
_PLATE_OFFICE = "A-HJ-PR-Y"
_PLATE_LETTER = "A-HJ-PR-Z"
_PLATE_AGE = "(?:0[2-9]|[12][0-9]|5[1-9]|[67][0-9])"
# Prefix (1983-2001) and suffix (1963-1983) plates: a year letter (never I, O, Q, U or Z), a serial of 1-999 and three
# letters, the year letter before or after. Dateless plates (before 1963, kept as cherished numbers): 1-3 letters and
# 1-4 digits either way round.
_PLATE_YEAR = "A-HJ-NPR-TV-Y"
_PLATE_SERIAL = r"[1-9]\d{0,2}"
# Letter groups of an older-format plate that are words or everyday abbreviations in capitals ("A4 PDF", "REF 12A",
# "AND 3D"): such a match needs a context word, like any older plate in shouted (all-capitals) text.
_PLATE_COMMON_WORDS = frozenset(
    {"THE", "AND", "FOR", "ARE", "BUT", "NOT", "YOU", "ALL", "ANY", "CAN", "HAD", "HER", "WAS", "ONE", "OUR", "OUT",
     "HAS", "HIS", "HOW", "ITS", "MAY", "NEW", "NOW", "OLD", "SEE", "TWO", "WAY", "WHO", "DID", "GET", "LET", "PUT",
     "SAY", "SHE", "TOO", "USE", "PER", "VIA", "PDF", "DOC", "XLS", "CSV", "JPG", "PNG", "GIF", "TXT", "LED", "GPS",
     "USB", "REF", "FIG", "SEC", "APP", "ART", "PAR", "TAB", "NHS", "GMT", "BST", "UTC", "VAT", "PLC", "LTD", "INC",
     "EUR", "GBP", "USD", "ROW", "COL", "NOV", "DEC", "JAN", "FEB", "MAR", "APR", "JUN", "JUL", "AUG", "SEP", "OCT",
     "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", "MIN", "MAX", "AGE", "KEY", "SET", "TOP", "END"}
)  # fmt: skip
# Score of an older-format plate that only counts next to a context word ("reg", "vehicle"...).
PLATE_NEEDS_CONTEXT_SCORE = 0.15


class UkVehicleRegistrationRecognizer(UkPatternRecognizer):
    """DVLA number plates: current plates by their memory tag and age identifier; prefix and suffix plates written in
    capitals in ordinary text; dateless plates and older plates among capitals only next to a context word."""

    ENTITY = "UK_VEHICLE_REGISTRATION"
    PATTERNS = (
        ("current", rf"\b[{_PLATE_REGION}][{_PLATE_OFFICE}]{_PLATE_AGE}[ -]?[{_PLATE_LETTER}]{{3}}\b", 0.6),
        # Typed in lower case (a web form): no ordinary word has this shape.
        ("current_lower", rf"\b[{_PLATE_REGION.lower()}][{_PLATE_OFFICE.lower()}]{_PLATE_AGE}[ -]?"
                          rf"[{_PLATE_LETTER.lower()}]{{3}}\b", 0.5),
        ("prefix", rf"\b[{_PLATE_YEAR}]{_PLATE_SERIAL}[ -]?[{_PLATE_OFFICE}][{_PLATE_LETTER}]{{2}}\b", 0.5),
        ("suffix", rf"\b[{_PLATE_OFFICE}][{_PLATE_LETTER}]{{2}}[ -]?{_PLATE_SERIAL}[ -]?[{_PLATE_YEAR}]\b", 0.5),
        (
            "dateless",
            rf"(?<![\w-])(?:[{_PLATE_OFFICE}]{{1,3}}[ -]?[1-9]\d{{0,3}}|[1-9]\d{{0,3}}[ -]?[{_PLATE_OFFICE}]{{1,3}})"
            r"(?![\w-]| \d)",
            PLATE_NEEDS_CONTEXT_SCORE,
        ),
    )  # fmt: skip
    CONTEXT = ("vehicle", "registration", "reg", "vrn", "car", "van", "plate", "pcn", "parking", "dvla", "mot", "v5c")
    OLDER_FORMATS = frozenset({"prefix", "suffix"})

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:  # fmt: skip
        """Plate matches, with older formats among capitals or made of a common word scored down to need context."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            explanation = result.analysis_explanation
            if explanation is None or explanation.pattern_name not in self.OLDER_FORMATS:
                continue
            letters = "".join(ch for ch in text[result.start : result.end] if ch.isalpha())
            group = letters[-3:] if explanation.pattern_name == "prefix" else letters[:3]
            if group in _PLATE_COMMON_WORDS or _among_capitals(text, result.start, result.end):
                result.score = min(result.score, PLATE_NEEDS_CONTEXT_SCORE)
        return results


_WORD_BEFORE = regex.compile(r"(\p{L}+)[^\p{L}\n]*$")
_WORD_AFTER = regex.compile(r"^[^\p{L}\n]*(\p{L}+)")
# How far either side of a match to look for the neighbouring word.
NEIGHBOUR_WINDOW = 30


def _among_capitals(text: str, start: int, end: int) -> bool:
    """True when the nearest word on either side (same line) is written in capitals: a heading or shouted text."""
    before = _WORD_BEFORE.search(text[max(0, start - NEIGHBOUR_WINDOW) : start])
    after = _WORD_AFTER.search(text[end : end + NEIGHBOUR_WINDOW])
    return any(match is not None and len(match.group(1)) > 1 and match.group(1).isupper() for match in (before, after))
