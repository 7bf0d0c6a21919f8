"""Street addresses in the UK and US style: a house number, a street name and a street-type word."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import regex
from presidio_analyzer import AnalysisExplanation, Pattern, PatternRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

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


# Words of a street name written without a street type: the first capitalised (or an abbreviation such as "Avda."),
# the others also lower case ("Erzsébet tér", "Kálmán Imre u.", "Trenerys gate").
_NAME_FIRST = rf"(?:{_STREET_WORD}|\p{{Lu}}\p{{Ll}}{{0,4}}\.)"
_NAME_NEXT = rf"(?:{_STREET_WORD}|{_PARTICLE}|\p{{Ll}}{{1,12}}\.?|\p{{Lu}}\.)"
# Words before a number that make it a document part, a room or a time, not a house: "Page 12", "Room 3".
NOT_STREET_NAMES = frozenset(
    {"page", "pages", "section", "chapter", "table", "figure", "fig", "appendix", "annex", "item", "items", "room",
     "floor", "level", "unit", "units", "year", "years", "phase", "stage", "part", "schedule", "clause", "paragraph",
     "para", "article", "volume", "vol", "issue", "version", "week", "weeks", "day", "days", "month", "months",
     "grade", "band", "step", "option", "question", "note", "notes", "rule", "regulation", "act", "line", "row",
     "column", "box", "ward", "bed", "flat", "suite", "apt", "no", "number", "ref", "case", "invoice", "order", "tel",
     "about", "over", "under", "aged", "age", "top", "class", "group", "team", "area", "zone", "route", "bus",
     "platform", "gate", "terminal", "site", "plot", "lot", "block", "building", "window", "door", "desk", "key",
     "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday",
     "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mr", "mrs", "ms", "dr", "the", "and", "or",
     "of", "to", "in", "on", "at", "by", "for", "from", "with", "covid", "windows", "iso", "pcn"}
)  # fmt: skip
# English function words end a street name written before its number ("Her address is Kiannonkatu 98"); the small
# words of street names abroad ("Rue de la Gare") do not.
_BOUNDARY_WORDS = NOT_STREET_NAMES | (STOP_WORDS - set(_PARTICLE.strip("(?:)").split("|"))) | {"address", "lives"}
# Just before a street, on the same line: a building number ("28245 Puruntie 82"), which belongs to the address.
# A flat's own number ("Flat 3 12 High Street") is not one: the flat and the street are joined instead.
_NUMBER_BEFORE = regex.compile(rf"(?<![\w£$€.,/-])(?<!{_UNIT_WORDS}[ \t]*)(?!(?:19|20)\d\d\b)\d{{1,6}}[ \t]+$")
# Address parts separated by no more than this are one address ("Apt. 675 62314 Mellemvej 32", "Flat 3, 12 High St").
_JOINABLE_GAP = regex.compile(r"^[ \t]*,?[ \t]*$")
# Words after "Name 12" that make the number a quantity: "moved to Leeds 12 years ago", "Harrogate 3 times".
_QUANTITY_AFTER = (
    r"(?![ \t]+(?i:years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|times?|per|percent|miles?|"
    r"km|metres?|meters?|points?|goals?|runs?|wickets?|votes?|people|pupils|children|members|pages?|items?|of)\b)"
)
# Just before a street, on the same line: words that say an address follows ("lives at", "address:").
_ADDRESS_CUE_BEFORE = regex.compile(
    r"(?i:address(?:[ \t]+is)?|lives?[ \t]+(?:at|on|in)|living[ \t]+at|resides?[ \t]+at|moved[ \t]+to|"
    r"located[ \t]+at|sen[dt][ \t]+(?:it[ \t]+|this[ \t]+)?to|deliver(?:ed)?[ \t]+to|return(?:ed)?[ \t]+to|"
    r"corner[ \t]+of|office[ \t]+is[ \t]+at)"
    r"[ \t]*:?[ \t]*\n?[ \t]*(?:\d{1,6}[ \t]+)?$"
)
# Just after a street: a flat or suite, or a European postal code and town ("Harjukuja 54, 53100 Lappeenranta").
_ADDRESS_AFTER = regex.compile(
    rf"^(?:[ \t]*,?[ \t]*\n?[ \t]*{_UNIT_PART}|[ \t]*,[ \t]*(?:[A-Z]{{1,2}}-)?\d{{4,5}}[ \t]+\p{{Lu}})"
)
# How far before a street to look for a building number or an address cue.
CUE_WINDOW = 40


def _join_adjacent(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """One result per address: parts that overlap or touch on a line ("Flat 3" + "12 High Street") are joined."""
    joined: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (r.start, -r.end)):
        last = joined[-1] if joined else None
        if last is not None and (result.start <= last.end or _JOINABLE_GAP.match(text[last.end : result.start])):
            last.end = max(last.end, result.end)
            last.score = max(last.score, result.score)
            continue
        joined.append(result)
    return joined


def _name_number_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of a "Name 12" match that is an address, past leading words that cannot be part of a street name
    ("Lives at Bahnhofstrasse 5" gives "Bahnhofstrasse 5"); None when it is not an address."""
    words = list(regex.finditer(r"\S+", text[start:end]))
    if len(words) < 2:
        return None
    # Drop leading words up to the last one that cannot belong to a street name.
    for index in range(len(words) - 2, -1, -1):
        if words[index].group().strip(".,").lower() in _BOUNDARY_WORDS:
            if index + 1 >= len(words) - 1 or not words[index + 1].group()[0].isupper():
                return None
            start += words[index + 1].start()
            break
    return (start, end) if _name_number_confirmed(text, start, end) else None


def _name_number_confirmed(text: str, start: int, end: int) -> bool:
    """True when a "Name 12" match is an address: a building number or an address cue before it, a flat or a
    postal code after it."""
    line_before = text[max(0, start - CUE_WINDOW) : start].rsplit("\n", 2)
    before = "\n".join(line_before[-2:]) if len(line_before) > 1 and not line_before[-1].strip() else line_before[-1]
    return bool(
        _NUMBER_BEFORE.search(line_before[-1])
        or _ADDRESS_CUE_BEFORE.search(before)
        or _ADDRESS_AFTER.match(text[end : end + CUE_WINDOW])
    )


# What may follow a street on the next lines or after commas: a town, a county or state (or its two-letter
# code), a country, a US ZIP code; each part at most three capitalised words. A UK postcode is not taken: it is
# a UK_POSTCODE finding of its own. Nor is a line that opens a letter or a field ("Dear", "Tel", "Email").
_LOCALITY_PART = (
    # a European postal code before the town ("53100 Lappeenranta", "D-80331 München")
    r"(?:(?:[A-Z]{1,2}-)?\d{4,5}[ \t]+\p{Lu}[\p{L}'’-]*(?:[ \t]+\p{Lu}[\p{L}'’-]*){0,2}"
    r"|\p{Lu}[\p{L}'’-]*(?:[ \t]+\p{Lu}[\p{L}'’-]*){0,2}(?:[ \t]+\(\p{Lu}\p{L}+\))?(?:[ \t]+\d{4,6}(?:-\d{4})?)?"
    r"|\d{5}(?:-\d{4})?)"
)
# A flat or suite on a line of its own counts too: "74 Diakou Street\n Suite 680\n Kissousa"; so does a country and
# postal code after one blank line ("Riisa\n\n Estonia 62488"), the way address labels are often laid out.
# Lines of a quoted email reply start with ">", list lines with a bullet (which text extraction often turns into "?"):
# the address goes on after the marker.
_QUOTE = r"(?:[ \t]*(?:>+|[•·▪‣*]|\?{1,3}(?=[ \t])))?"
_LOCALITY = regex.compile(
    rf"(?:[ \t]*(?:,[ \t]*\n?|\n){_QUOTE}[ \t]*,?[ \t]*(?:{_UNIT_PART}|{_LOCALITY_PART})(?![\w@])"
    rf"|[ \t]*\n{_QUOTE}[ \t]*\n{_QUOTE}[ \t]*\p{{Lu}}[\p{{L}}'’-]*(?:[ \t]+\p{{Lu}}[\p{{L}}'’-]*){{0,2}}"
    r"[ \t]+\d{4,6}(?![\w@]))"
)
# After a flat or suite the town may follow on the same line without a comma: "Suite 215 Nungatta Australia".
_UNIT_AT_END = regex.compile(rf"{_UNIT_PART}$")
_LOCALITY_AFTER_UNIT = regex.compile(rf"[ \t]+{_LOCALITY_PART}(?![\w@])")
_NOT_LOCALITY = frozenset(
    {"dear", "re", "ref", "tel", "telephone", "phone", "mobile", "email", "e-mail", "fax", "date", "dob", "nhs",
     "yours", "to", "from", "subject", "sent", "cc", "attn", "fao", "our", "your", "the", "we", "i", "please"}
)  # fmt: skip
# Characters at the end of an address searched for a flat or suite ("Apartment 12345A").
UNIT_CHARS = 20
# Parts of a place after the street, at most.
MAX_LOCALITY_PARTS = 4


def extend_over_locality(text: str, end: int) -> int:
    """The end of an address whose street ends at ``end``, taking the town, county/state, country and ZIP after it."""
    for _ in range(MAX_LOCALITY_PARTS):
        match = _LOCALITY.match(text, end)
        if match is None and _UNIT_AT_END.search(text, max(0, end - UNIT_CHARS), end):
            match = _LOCALITY_AFTER_UNIT.match(text, end)
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
    # A street name of any language without a street-type word, then the house number ("Kiannonkatu 98", "Erzsébet
    # tér 19.", "Avda. Rio Nalon 58"): only where the text around it says it is an address (_name_number_confirmed).
    # Matched apart from PATTERNS so that a refused long match cannot hide a shorter pattern match inside it.
    NAME_NUMBER = regex.compile(
        rf"(?<![\w'’.-]){_NAME_FIRST}(?:[ \t]+{_NAME_NEXT}){{0,3}}[ \t]+{_HOUSE_AFTER}{_QUANTITY_AFTER}\.?{_UNIT}",
        CASE_SENSITIVE_FLAGS,
    )
    NAME_NUMBER_SCORE = 0.6
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
        for match in self.NAME_NUMBER.finditer(text):
            span = _name_number_span(text, match.start(), match.end())
            if span is not None:  # overlapping matches are joined below
                results.append(self._name_number_result(*span))
        for result in results:
            before = _NUMBER_BEFORE.search(text, max(0, result.start - CUE_WINDOW), result.start)
            if before is not None:
                result.start = before.start()
            result.end = extend_over_locality(text, result.end)
        return _join_adjacent(text, results)

    def _name_number_result(self, start: int, end: int) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=str(getattr(self, "name", type(self).__name__)),
            original_score=self.NAME_NUMBER_SCORE,
            pattern_name="name_number",
            textual_explanation="street name and house number in an address",
        )
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=self.NAME_NUMBER_SCORE,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: str(getattr(self, "name", type(self).__name__)),
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        """A year before a place name ("in 2019 Council Park opened") is not a house number."""
        number = pattern_text.split(maxsplit=1)[0].rstrip(",")
        return number.isdigit() and len(number) == 4 and number.startswith(("19", "20"))
