"""Street addresses in the UK and US style: a house number, a street name and a street-type word."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

from docintel.enrich.recognizers.uk import CASE_SENSITIVE_FLAGS

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

# Street-type words that end a street name, in full and in their usual abbreviations (UK and US usage).
STREET_TYPES = (
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Drive", "Dr", "Close", "Way", "Court", "Ct",
    "Place", "Pl", "Boulevard", "Blvd", "Crescent", "Cres", "Terrace", "Grove", "Gardens", "Square", "Sq",
    "Parkway", "Pkwy", "Highway", "Hwy", "Row", "Mews", "Walk", "Hill", "Rise", "Vale", "View", "Parade",
    "Circle", "Cir", "Trail", "Trl", "Loop", "Path", "Pike", "Alley", "Plaza", "Wharf", "Esplanade", "Causeway",
    "Crossing", "Ridge", "Heights", "Green", "Park", "Gate", "Wynd", "Brow", "Bank", "Chase", "Meadow", "Meadows",
)  # fmt: skip
_TYPES = "|".join(sorted(STREET_TYPES, key=len, reverse=True))
_TYPES_UPPER = "|".join(sorted({word.upper() for word in STREET_TYPES}, key=len, reverse=True))
# "12", "12a", "12-14", "1436"; a five-digit number is still a US house number.
_NUMBER = r"(?<![\w/£$€.,-])\d{1,5}[A-Za-z]?(?:-\d{1,5}[A-Za-z]?)?"
# One to three name words: "High", "Martin Luther King", "5th", "St John's", "Smith-Jones".
_WORD = r"(?:[A-Z][a-z]+(?:['’][a-z]+)?(?:-[A-Z][a-z]+)?|\d{1,3}(?:st|nd|rd|th))"
_WORD_UPPER = r"(?:[A-Z]{2,}(?:['’][A-Z]+)?|\d{1,3}(?:ST|ND|RD|TH))"
# A flat or apartment after the street: "Apt. 864", "Suite 245", "Flat 3", "#12".
_UNIT = r"(?:,?[ \t]+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#)[ \t]*\d{1,5}[A-Za-z]?)?"


# What may follow a street on the next lines or after commas: a town, a county or state (or its two-letter
# code), a country, a US ZIP code; each part at most three capitalised words. A UK postcode is not taken: it is
# a UK_POSTCODE finding of its own. Nor is a line that opens a letter or a field ("Dear", "Tel", "Email").
_LOCALITY_PART = r"(?:[A-Z][A-Za-z'’-]*(?:[ \t]+[A-Z][A-Za-z'’-]*){0,2}(?:[ \t]+\d{4,6}(?:-\d{4})?)?|\d{5}(?:-\d{4})?)"
_LOCALITY = regex.compile(rf"(?:[ \t]*(?:,[ \t]*\n?|\n)[ \t]*,?[ \t]*{_LOCALITY_PART}(?![\w@]))")
_NOT_LOCALITY = frozenset(
    {"dear", "re", "ref", "tel", "telephone", "phone", "mobile", "email", "e-mail", "fax", "date", "dob", "nhs",
     "yours", "to", "from", "subject", "sent", "cc", "attn", "fao", "our", "your", "the", "we", "i", "please"}
)  # fmt: skip
# Parts of a place after the street, at most.
MAX_LOCALITY_PARTS = 4


def extend_over_locality(text: str, end: int) -> int:
    """The end of an address whose street ends at ``end``, taking the town, county/state, country and ZIP after it."""
    for _ in range(MAX_LOCALITY_PARTS):
        match = _LOCALITY.match(text, end)
        if match is None:
            break
        first_word = match.group().strip(" \t\n,").split(maxsplit=1)[0].lower().rstrip(".:")
        if first_word in _NOT_LOCALITY:
            break
        end = match.end()
    return end


class StreetAddressRecognizer(PatternRecognizer):
    """House number + street name + street type ("12 High Street", "1436 Redbud Drive Apt. 5"), UK or US style."""

    ENTITY: ClassVar[str] = "STREET_ADDRESS"
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("street_address", rf"{_NUMBER}[ \t]+(?:{_WORD}[ \t]+){{1,3}}(?:{_TYPES})(?![\w'’-]){_UNIT}", 0.6),
        # Capitals, as on envelopes and forms: "12 HIGH STREET".
        ("street_address_upper", rf"{_NUMBER}[ \t]+(?:{_WORD_UPPER}[ \t]+){{1,3}}(?:{_TYPES_UPPER})(?![\w'’-])", 0.5),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("address", "live", "lives", "resident", "home", "moved", "property")

    def __init__(self, context: list[str] | None = None, name: str | None = None) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=name or type(self).__name__,
            patterns=[Pattern(pattern_name, pattern, score) for pattern_name, pattern, score in self.PATTERNS],
            context=list(context) if context is not None else list(self.CONTEXT),
            global_regex_flags=CASE_SENSITIVE_FLAGS,
        )

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:  # fmt: skip
        """Street matches, each extended over the town, region, country and ZIP code written after it."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            result.end = extend_over_locality(text, result.end)
        return results

    def invalidate_result(self, pattern_text: str) -> bool:
        """A year before a place name ("in 2019 Council Park opened") is not a house number."""
        number = pattern_text.split(maxsplit=1)[0].rstrip(",")
        return number.isdigit() and len(number) == 4 and number.startswith(("19", "20"))
