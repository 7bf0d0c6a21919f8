"""People's names: spaCy's PERSON spans with false ones removed, plus cheap rules for names the model misses.

No Presidio import here, so the NER entities can use the same filter without loading Presidio.

The small English model tags job titles ("Chief Executive"), council departments, street names and
all-caps headings as PERSON, and misses names right after an honorific ("Dear Mrs Olivia Smith"). Names here
come from three places, all over the one shared parse:

- spaCy PERSON spans, trimmed of honorifics, salutations and roles, then rejected when what is left looks
  like an organisation, a role, a place (the same text tagged GPE/LOC elsewhere in the document), a heading
  or a reference (digits, '@', '/');
- an honorific or salutation followed by capitalised words ("Cllr Amelia Hughes", "Dear Olivia Smith");
- the name line under a letter's sign-off ("Yours sincerely,\n\nOlivia Smith");
- the value of a form's name field ("Name: Olivia Smith", "Patient name:" on its own line, then the name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from spacy.tokens import Doc

HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "cllr", "councillor", "prof", "professor", "sir", "dame", "lady", "lord",
     "rev", "revd", "reverend", "master", "madam", "madame", "mme", "mister"}
)  # fmt: skip
SALUTATIONS = frozenset({"dear", "hi", "hello", "attn", "attention", "fao", "to", "from", "cc", "re"})
# Words that make a span a role or job title rather than a name (all of a span's capitalised words in this set).
ROLE_WORDS = frozenset(
    {"chief", "executive", "head", "service", "services", "director", "deputy", "assistant", "manager", "officer",
     "coordinator", "co-ordinator", "adviser", "advisor", "leader", "chair", "chairman", "chairwoman", "chairperson",
     "mayor", "clerk", "solicitor", "lawyer", "worker", "social", "monitoring", "principal", "senior", "lead", "team",
     "support", "customer", "finance", "financial", "planning", "housing", "environmental", "health", "safety",
     "governance", "democratic", "corporate", "strategic", "interim", "acting", "cabinet", "member", "members",
     "portfolio", "holder", "secretary", "treasurer", "auditor", "inspector", "surveyor", "engineer", "consultant",
     "practitioner", "nurse", "headteacher", "teacher", "governor", "commissioner", "registrar", "coroner",
     "ombudsman", "controller", "administrator", "analyst", "apprentice", "caseworker", "specialist", "partner",
     "president", "vice", "general", "legal", "data", "protection", "information", "records", "rights", "access",
     "complaints", "adult", "adults", "children", "childrens", "family", "families", "education", "care", "revenues",
     "benefits", "highways", "waste", "licensing", "regulatory", "public", "operations", "communications", "hr",
     "human", "resources", "it", "ict", "digital", "procurement", "payroll", "pensions", "accounts", "payable",
     "receivable", "transport", "parking", "libraries", "leisure", "resident", "residents", "tenant", "tenants",
     "applicant", "claimant", "client", "patient", "pupil", "parent", "parents", "carer", "owner", "occupier", "the",
     "colleague", "colleagues", "friend", "friends", "all", "sirs", "householder", "guardian", "councillors",
     "everyone"}
)  # fmt: skip
# Words that make a span an organisation, a place or a document part, wherever they appear in it.
NON_NAME_WORDS = frozenset(
    {"council", "borough", "county", "district", "city", "parish", "department", "directorate", "division", "unit",
     "ltd", "limited", "plc", "llp", "llc", "inc", "trust", "nhs", "authority", "committee", "board", "partnership",
     "association", "society", "group", "centre", "center", "school", "academy", "college", "university",
     "hospital", "surgery", "practice", "office", "agency", "commission", "tribunal", "court", "street", "road",
     "avenue", "lane", "drive", "close", "crescent", "square", "place", "terrace", "gardens", "grove", "park",
     "house", "hall", "estate", "way", "walk", "row", "mews", "bridge", "station", "airport", "church", "chapel",
     "foundation", "charity", "fund", "bank", "building", "floor", "suite", "ref", "reference", "tel", "telephone",
     "email", "e-mail", "fax", "mobile", "postcode", "dob", "nino", "vat", "iban", "invoice", "page",
     "appendix", "annex", "section", "schedule", "policy", "report", "minutes", "agenda", "item", "act", "regulations",
     "yours", "sincerely", "faithfully", "regards", "thanks", "thank", "kind", "best", "wishes", "dear",
     "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
     "january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
     "december", "england", "wales", "scotland", "ireland", "uk", "britain", "gov", "www", "http", "https"}
)  # fmt: skip
# A name word: capitalised, letters with apostrophes/hyphens inside ("O'Brien", "Smith-Jones", "McDonald").
_NAME_WORD = r"(?:[A-Z]['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_INITIAL = r"[A-Z]\.?"
_NAME = rf"(?:{_INITIAL}\s+)?{_NAME_WORD}(?:[ \t]+(?:{_INITIAL}[ \t]+)?{_NAME_WORD}){{0,2}}"
# "Madam" and "Master" lead to "Madam Chair" and "Master Plan" more often than to names.
_TITLE_WORDS = "|".join(
    sorted((w.capitalize() for w in HONORIFICS - {"madam", "madame", "master", "mister"}), key=len, reverse=True)
)
_HONORIFIC_NAME = re.compile(rf"\b(?:{_TITLE_WORDS})\.?[ \t]+(?P<name>{_NAME})")
_DEAR_NAME = re.compile(rf"\bDear[ \t]+(?:(?:{_TITLE_WORDS})\.?[ \t]+)?(?P<name>{_NAME})")
_SIGN_OFF_NAME = re.compile(
    rf"(?im)^[ \t]*(?:yours[ \t]+(?:sincerely|faithfully|truly)|(?:kind|best|warm)[ \t]+regards|regards|"
    rf"best[ \t]+wishes|many[ \t]+thanks)[ \t]*,?[ \t]*\n(?:[ \t]*\n){{0,3}}[ \t]*(?P<name>(?-i:{_NAME}))[ \t]*$"
)
# A form field that holds a name: "Name: Åsa Laine", "Patient name: Olivia Smith", "Full Name:\n Ravil G Yefimov".
# Names on forms come from everywhere, so any alphabet's capitalised words count here.
_FIELD_NAME_WORD = r"\p{Lu}['’]?\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?"
_FIELD_NAME = rf"{_FIELD_NAME_WORD}(?:[ \t]+(?:\p{{Lu}}\.?[ \t]+)?{_FIELD_NAME_WORD}){{0,3}}"
_FIELD_LABEL_NAME = regex.compile(
    r"(?im)^[ \t]*(?:(?:full|patient|client|applicant|customer|tenant|pupil|child|contact|employee|claimant|resident|"
    r"service[ \t]+user|account[ \t]+holder)[ \t]+)?name[ \t]*:[ \t]*\n?[ \t]*"
    rf"(?P<name>(?-i:{_FIELD_NAME}))[ \t]*$"
)
_TRIM_CHARS = " \t\n\r,.;:()[]{}\"'’-–—"
PERSON_ENTITY = "PERSON"
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC", "ORG", "NORP"})


@dataclass(frozen=True)
class NameSpan:
    """A name found in a text: character offsets and where it came from."""

    start: int
    end: int
    source: str  # "ner", "honorific", "salutation", "sign_off", "name_field"


def _words(text: str) -> list[str]:
    return [word.strip(_TRIM_CHARS) for word in text.split() if word.strip(_TRIM_CHARS)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past leading honorifics, salutations and roles, and trailing roles or "'s"."""
    while start < end:
        span = text[start:end]
        stripped = span.lstrip(_TRIM_CHARS)
        start += len(span) - len(stripped)
        first = stripped.split(maxsplit=1)[0] if stripped.split() else ""
        key = first.strip(_TRIM_CHARS).lower()
        if first and (key in HONORIFICS or key in SALUTATIONS or key in ROLE_WORDS) and len(stripped.split()) > 1:
            start += len(first)
            continue
        break
    while end > start:
        span = text[start:end]
        for suffix in ("'s", "’s"):
            if span.endswith(suffix):
                span = span[: -len(suffix)]
        stripped = span.rstrip(_TRIM_CHARS)
        end = start + len(stripped)
        parts = stripped.rsplit(maxsplit=1)
        if len(parts) == 2 and parts[1].lower() in ROLE_WORDS:
            end = start + len(parts[0])
            continue
        break
    return start, end


def is_plausible_name(span_text: str, places: frozenset[str] = frozenset()) -> bool:
    """False for spans that are organisations, roles, places, headings or references rather than names."""
    words = _words(span_text)
    if not words or any(ch.isdigit() or ch in "@/\\:#&+=_|" for ch in span_text):
        return False
    lowered = [word.lower() for word in words]
    if any(word in NON_NAME_WORDS for word in lowered):
        return False
    capitalised = [word for word in words if word[0].isupper()]
    if not capitalised or all(word.lower() in ROLE_WORDS | HONORIFICS | SALUTATIONS for word in capitalised):
        return False
    letters = "".join(ch for ch in span_text if ch.isalpha())
    # An all-capitals span of some length is a heading ("HOUSING SERVICES", "ANNUAL REPORT"), not a name.
    if letters.isupper() and len(letters) > 3:
        return False
    if not words[0][0].isupper():
        return False
    return " ".join(lowered) not in places


def name_spans(doc: Doc, text: str | None = None) -> list[NameSpan]:
    """The names in a parsed document: filtered spaCy PERSON spans plus honorific, salutation and sign-off names."""
    # doc.text joins every token afresh on each access; callers that already hold the text pass it in.
    text = doc.text if text is None else text
    places = frozenset(" ".join(_words(ent.text)).lower() for ent in doc.ents if ent.label_ in PLACE_LABELS)
    found: list[NameSpan] = []
    for ent in doc.ents:
        if ent.label_ != PERSON_ENTITY:
            continue
        start, end = _trim(text, ent.start_char, ent.end_char)
        if end > start and is_plausible_name(text[start:end], places):
            found.append(NameSpan(start, end, "ner"))
    rules: tuple[tuple[re.Pattern[str] | regex.Pattern[str], str], ...] = (
        (_HONORIFIC_NAME, "honorific"), (_DEAR_NAME, "salutation"), (_SIGN_OFF_NAME, "sign_off"),
        (_FIELD_LABEL_NAME, "name_field"),
    )  # fmt: skip
    for pattern, source in rules:
        for match in pattern.finditer(text):
            start, end = _trim(text, match.start("name"), match.end("name"))
            if end > start and is_plausible_name(text[start:end], places):
                found.append(NameSpan(start, end, source))
    return _merge(found)


def _merge(spans: list[NameSpan]) -> list[NameSpan]:
    """One span per overlapping group: the longest, so "Olivia" (NER) and "Olivia Smith" (rule) give the latter."""
    kept: list[NameSpan] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)
