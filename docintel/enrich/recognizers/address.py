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
# Letters of any alphabet: street names abroad ("Diakou", "Præstevænget") are written in their own.
_WORD = r"(?:\p{Lu}\p{Ll}+(?:['’]\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?|\d{1,3}(?:st|nd|rd|th))"
_WORD_UPPER = r"(?:\p{Lu}{2,}(?:['’]\p{Lu}+)?|\d{1,3}(?:ST|ND|RD|TH))"
# A flat, suite or box number: "Apt. 864", "Suite 245", "Flat 3", "#12", "PO Box 17".
_UNIT_WORDS = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Room|P\.?[ \t]?O\.?[ \t]+Box|Box|#)"
_UNIT_PART = rf"{_UNIT_WORDS}[ \t]*\d{{1,5}}[A-Za-z]?"
# ... after the street on the same line.
_UNIT = rf"(?:,?[ \t]+{_UNIT_PART})?"
# Street-type words written BEFORE the name, with the house number after it in most of Europe ("Rue de la Gare 12",
# "Via Roma 7", "Calle Mayor 3") or before it in France and Canada ("62 Rue Gafsa").
PREFIX_STREET_TYPES = (
    "Rue", "Rua", "Via", "Viale", "Calle", "Carrer", "Avenida", "Avinguda", "Avenue", "Boulevard", "Chemin", "Allée",
    "Piazza", "Plaza", "Praça", "Largo", "Travessa", "Corso", "Strada", r"Ul\.", r"ul\.", "Ulica", "Odos", "Leoforos",
)  # fmt: skip
_PREFIX_TYPES = "|".join(sorted(PREFIX_STREET_TYPES, key=len, reverse=True))
# Street-type endings of one-word street names in Germanic and Nordic languages and Finnish ("Bahnhofstrasse 5",
# "Søndergade 52", "Storgatan 3", "Koskikatu 25"); the house number comes after the name.
STREET_SUFFIXES = (
    "straße", "strasse", "gasse", "weg", "allee", "platz", "damm", "gade", "vej", "stræde", "gata", "gatan", "vägen",
    "veien", "vegen", "katu", "tie", "kuja", "polku", "straat", "laan", "utca",
)  # fmt: skip
_SUFFIXES = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))
# Small words inside a street name abroad: "Rue de la Gare", "Rua do Arenque", "Via della Spiga".
_PARTICLE = r"(?:de|da|do|dos|das|des|du|la|le|les|del|della|di|dei|von|van|der|den|am|an|im)"
# A name word that is not the flat or suite word after the street ("62 Rue Gafsa Apt. 981").
_STREET_WORD = rf"(?!{_UNIT_WORDS}(?![\w'’-])){_WORD}"
_NAME_PART = rf"(?:{_STREET_WORD}|{_PARTICLE})"
# A house number after the name; a year there ("Spring Platz 2024") is a date.
_HOUSE_AFTER = r"(?!(?:19|20)\d\d\b)\d{1,4}[A-Za-z]?(?:-\d{1,4}[A-Za-z]?)?(?![\w/-])"


# What may follow a street on the next lines or after commas: a town, a county or state (or its two-letter
# code), a country, a US ZIP code; each part at most three capitalised words. A UK postcode is not taken: it is
# a UK_POSTCODE finding of its own. Nor is a line that opens a letter or a field ("Dear", "Tel", "Email").
_LOCALITY_PART = (
    r"(?:\p{Lu}[\p{L}'’-]*(?:[ \t]+\p{Lu}[\p{L}'’-]*){0,2}(?:[ \t]+\(\p{Lu}\p{L}+\))?(?:[ \t]+\d{4,6}(?:-\d{4})?)?"
    r"|\d{5}(?:-\d{4})?)"
)
# A flat or suite on a line of its own counts too: "74 Diakou Street\n Suite 680\n Kissousa".
_LOCALITY = regex.compile(rf"(?:[ \t]*(?:,[ \t]*\n?|\n)[ \t]*,?[ \t]*(?:{_UNIT_PART}|{_LOCALITY_PART})(?![\w@]))")
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
        # Street type first, house number after or before: "Rue de la Gare 12", "Via Roma 7", "62 Rue Gafsa".
        (
            "street_type_first",
            rf"(?<![\w-])(?:{_PREFIX_TYPES})(?:[ \t]+{_NAME_PART}){{0,3}}"
            rf"[ \t]+{_STREET_WORD}[ \t]+{_HOUSE_AFTER}{_UNIT}",
            0.6,
        ),
        (
            "number_street_type_first",
            rf"{_NUMBER}[ \t]+(?:{_PREFIX_TYPES})(?:[ \t]+{_NAME_PART}){{0,3}}[ \t]+{_STREET_WORD}"
            rf"(?![\w'’-]){_UNIT}",
            0.6,
        ),
        # One word ending in a street type, then the house number: "Bahnhofstrasse 5", "Søndergade 52".
        # A post-office box, and the US forces' form ("PSC 1234, Box 5678 / APO AE 09012").
        ("po_box", r"(?<![\w.])P\.?[ \t]?O\.?[ \t]+Box[ \t]+\d{1,6}(?!\d)", 0.6),
        (
            "military_box",
            r"\b(?:PSC|CMR|Unit)[ \t]+\d{1,5},?[ \t]+Box[ \t]+\d{1,5}"
            r"(?:[ \t]*\n?[ \t]*(?:APO|FPO|DPO)[ \t]+A[AEP][ \t]+\d{5})?(?!\d)",
            0.6,
        ),
        # A flat or apartment written on its own ("Flat 3", "Apt. 805"): part of someone's address.
        ("flat_number", r"(?<![\w.])(?:Apt\.?|Apartment|Flat|Suite)[ \t]*#?\d{1,5}[A-Za-z]?(?![\w/-])", 0.5),
        ("street_suffix_word", rf"(?<![\w-])\p{{Lu}}\p{{Ll}}*(?:{_SUFFIXES})[ \t]+{_HOUSE_AFTER}{_UNIT}", 0.6),
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
