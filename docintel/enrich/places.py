"""Places the small spaCy model misses, found by the words before them: "flew to LEPPEN", "grew up in Riverlea".

The model knows common place names in ordinary case; a village, a foreign town or a name in capitals after a
travel or residence phrase it often leaves untagged. Here the phrase is the evidence, and the place is the run of
capitalised words (any alphabet, all capitals too) right after it.
"""

from __future__ import annotations

import regex

from docintel.enrich.names import HONORIFICS, NON_NAME_WORDS, ROLE_WORDS

# Phrases after which a capitalised name is a place.
_CUE = (
    r"(?:flew|flown|flying|travel(?:l?ed)?|moved(?:[ \t]+here)?|relocated|emigrated|returned|went|drove|"
    r"commuted|arrived|lives?|living|lived|grew[ \t]+up|born|raised|based|stationed|originally|am|is|was)"
    r"[ \t]+(?:back[ \t]+)?(?:to|in|from|at)"
    r"|\b(?:where|place[ \t]+of[ \t]+birth|town|city|country)[ \t]*:"
)
_PLACE_WORD = r"\p{Lu}[\p{L}'’\-]*\p{L}|\p{Lu}"
_PARTICLE = r"(?:de|da|do|del|della|di|du|la|le|les|of|on|upon|under|en|sur|am|an|im|bei|nad|u)"
_PLACE = regex.compile(
    rf"(?i:\b{_CUE})[ \t]+(?P<place>(?:{_PLACE_WORD})(?:[ \t\-]+(?:{_PARTICLE}[ \t]+)?(?:{_PLACE_WORD})){{0,3}})"
    r"(?![\p{L}\d])"
)
# Words that follow such a phrase without being a place: "moved to Flat 3", "was at Home", "arrived in May".
NOT_PLACES = frozenset(
    {"the", "a", "an", "my", "his", "her", "our", "their", "this", "that", "home", "work", "school", "church", "town",
     "hospital", "court", "bed", "hand", "care", "flat", "apt", "suite", "unit", "room", "i", "we", "you", "he", "she",
     "it", "they", "may", "first", "last", "next", "number", "no", "order", "time", "least", "all", "one"}
)  # fmt: skip
_MONTHS_AND_DAYS = frozenset(
    {"january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
     "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)  # fmt: skip
_EXCLUDED = NOT_PLACES | _MONTHS_AND_DAYS | HONORIFICS | (NON_NAME_WORDS - {"city", "county", "district", "parish"})


def place_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each place named right after a travel or residence phrase."""
    spans = []
    for match in _PLACE.finditer(text):
        start = match.start("place")
        end = start
        # Words up to the first that is no part of a place ("LEPPEN on Tuesday" gives "LEPPEN").
        for word in regex.finditer(r"[^ \t\-]+", match.group("place")):
            lowered = word.group().lower()
            if lowered in _EXCLUDED or lowered in ROLE_WORDS:
                break
            if not regex.fullmatch(_PARTICLE, lowered):
                end = start + word.end()
        if end > start:
            spans.append((start, end))
    return spans
