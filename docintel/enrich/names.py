"""People's names: spaCy's PERSON spans with false ones removed, plus cheap rules for names the model misses.

No Presidio import here, so the NER entities can use the same filter without loading Presidio.

The small English model tags job titles ("Chief Executive"), council departments, street names and
all-caps headings as PERSON, and misses names right after an honorific ("Dear Mrs Olivia Smith"). Names here
come from three places, all over the one shared parse:

- spaCy PERSON spans, trimmed of honorifics, salutations and roles, then rejected when what is left looks
  like an organisation, a role, a place (the same text tagged GPE/LOC elsewhere in the document), a heading
  or a reference (digits, '@', '/');
- an honorific or salutation followed by capitalised words ("Cllr Amelia Hughes", "Dear Olivia Smith", "Hi Olivia"
  and "Morning Olivia" at a line start);
- the name line under a sign-off ("Yours sincerely,\n\nOlivia Smith", "Thanks,\nOlivia"), or over a role line with
  no sign-off ("Olivia Smith\nSocial Worker");
- a name after a phrase that brings a person into a case note or an e-mail ("Spoke to Olivia Smith", "visited by",
  "call from", "on behalf of", "The client, Olivia Smith,", "Referral - Olivia Smith"), and a name opening a line or
  a sentence before a possessive ("Olivia Smith's National Insurance number");
- the value of a form's name field ("Name: Olivia Smith", "Patient name:" on its own line, then the name) or of a
  field that names a person's role ("Client: Olivia Smith");
- a name written before an email address in angle brackets ("From: Olivia Smith <olivia@example.org>", Outlook's
  "From: Smith, Olivia <...>" as one name), before a
  role in brackets ("Olivia Smith (Team Manager)"), before "on" and a phone number ("call Olivia Smith on 0113 ..."),
  after a family relation ("her daughter, Olivia Smith") or after "called"/"named"/"my name is";
- a line holding only a name above an address ("Olivia Smith\n12 High Street");
- every other occurrence in the document of a full name found above, and of its first name standing alone.

The structural rules (honorific, salutation, sign-off, form field, email header) are trusted over spaCy's label:
"Dear Agnieszka" is a name even where the model tagged "Agnieszka" a place.
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
     "rev", "revd", "reverend", "master", "madam", "madame", "mme", "mister",
     # police ranks stand before a surname the same way ("Detective Sergeant Lyons", "Sgt Lyons")
     "sergeant", "sgt", "constable", "detective", "inspector", "insp"}
)  # fmt: skip
SALUTATIONS = frozenset(
    {"dear", "hi", "hello", "hey", "morning", "afternoon", "evening", "good", "attn", "attention", "fao", "to", "from",
     "cc", "re"}
)  # fmt: skip
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
     "everyone", "occupational", "therapist", "physiotherapist", "psychologist", "psychiatrist", "paramedic", "midwife",
     "visitor", "police", "liaison", "constable", "sergeant", "detective", "advocate", "assessor", "navigator",
     "mentor", "personal", "mum", "dad", "nan", "gran", "grandma", "grandad", "vice-chair"}
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
     "december", "england", "wales", "scotland", "ireland", "uk", "britain", "gov", "www", "http", "https",
     # council services and benefits that the model tags as people ("Early Help", "Universal Credit", "Blue Badge")
     "universal", "credit", "badge", "allowance", "reduction", "payment", "independence", "safeguarding", "welfare",
     "youth", "justice", "early", "help", "helpline", "benefit", "citizens", "advice", "gp", "hospitals", "surgeries",
     "councils", "schools", "trusts", "christmas", "easter", "gas", "energy", "water", "electricity", "broadband",
     "insurance", "landline"}
)  # fmt: skip
# Place words that are also common surnames ("Leo Hall", "Olivia Lane"): after a strong cue (an honorific, a
# relation, a form field) they do not make the span a place.
SURNAME_PLACE_WORDS = frozenset({"hall", "park", "church", "bridge", "bank", "court", "chapel", "house", "lane"})
# A name word: capitalised, letters with apostrophes/hyphens inside ("O'Brien", "Smith-Jones", "McDonald").
_NAME_WORD = r"(?:[A-Z]['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_INITIAL = r"[A-Z]\.?"
_NAME = rf"(?:{_INITIAL}\s+)?{_NAME_WORD}(?:[ \t]+(?:{_INITIAL}[ \t]+)?{_NAME_WORD}){{0,2}}"
# "Madam" and "Master" lead to "Madam Chair" and "Master Plan" more often than to names.
_TITLE_WORDS = "|".join(
    sorted((w.capitalize() for w in HONORIFICS - {"madam", "madame", "master", "mister"}), key=len, reverse=True)
)
_HONORIFIC_NAME = re.compile(rf"\b(?:{_TITLE_WORDS})\.?[ \t]+(?P<name>{_NAME})")
_DEAR_NAME = re.compile(
    rf"(?:\bDear|(?m:^)[ \t]*(?:Hi|Hello|Hey|(?:Good[ \t]+)?(?:[Mm]orning|[Aa]fternoon|[Ee]vening)))[ \t]+"
    rf"(?:(?:{_TITLE_WORDS})\.?[ \t]+)?(?P<name>{_NAME})"
)
_SIGN_OFF_NAME = re.compile(
    rf"(?im)^[ \t]*(?:yours[ \t]+(?:sincerely|faithfully|truly)|(?:kind|best|warm)[ \t]+regards|regards|"
    r"best[ \t]+wishes|(?:many[ \t]+|with[ \t]+)?thanks|thank[ \t]+you|cheers|best|all[ \t]+the[ \t]+best)[ \t]*[,.!]?"
    rf"[ \t]*\n(?:[ \t]*\n){{0,3}}[ \t]*(?P<name>(?-i:{_NAME}))[ \t]*$"
)
# A form field that holds a name: "Name: Åsa Laine", "Patient name: Olivia Smith", "Full Name:\n Ravil G Yefimov".
# Names on forms come from everywhere, so any alphabet's capitalised words count here.
_FIELD_NAME_WORD = r"(?:\p{Lu}['’])?\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?"
_FIELD_NAME = rf"{_FIELD_NAME_WORD}(?:[ \t]+(?:\p{{Lu}}\.?[ \t]+)?{_FIELD_NAME_WORD}){{0,3}}"
_FIELD_LABEL_NAME = regex.compile(
    r"(?im)^[ \t]*(?:(?:full|patient|client|applicant|customer|tenant|pupil|child|contact|employee|claimant|resident|"
    r"service[ \t]+user|account[ \t]+holder)[ \t]+)?name[ \t]*:[ \t]*\n?[ \t]*"
    rf"(?P<name>(?-i:{_FIELD_NAME}))[ \t]*$"
)
# A field whose value is a person, named by that person's role ("Client: Olivia Smith", "Next of kin: ...").
_FIELD_LABEL_PERSON = regex.compile(
    r"(?im)^[ \t]*(?:client|patient|applicant|tenant|claimant|resident|pupil|child|carer|parent|guardian|employee|"
    r"service[ \t]+user|next[ \t]+of[ \t]+kin|contact|case[ \t]*worker|social[ \t]+worker|key[ \t]+worker|"
    r"allocated[ \t]+worker|officer|author|attendee|witness|complainant|requester|data[ \t]+subject)[ \t]*:[ \t]*"
    rf"(?P<name>(?-i:{_FIELD_NAME}))[ \t]*$"
)
# A name before an email address in angle brackets: "From: Olivia Smith <olivia.smith@example.org>".
_EMAIL_HEADER_NAME = regex.compile(rf"(?P<name>{_FIELD_NAME})[ \t]*<[^<>@\s]+@[^<>\s]+>")
# Outlook's "Surname, First" in a header line or an address list: "From: Shaw, Morag <morag.shaw@example.org>".
_EMAIL_HEADER_SURNAME_FIRST = regex.compile(
    rf"(?im)(?:^[ \t]*(?:from|to|cc|bcc|sent[ \t]+by|reply-to|on[ \t]+behalf[ \t]+of)[ \t]*:?[ \t]*|;[ \t]*)"
    rf"(?P<name>(?-i:{_FIELD_NAME_WORD},[ \t]+{_FIELD_NAME_WORD}(?:[ \t]+(?:\p{{Lu}}\.?[ \t]+)?{_FIELD_NAME_WORD})?))"
    r"[ \t]*(?:<[^<>@\s]+@[^<>\s]+>|[ \t]*$|;)"
)
# A name after the words that bring a person into a case note or an e-mail: "Spoke to Olivia Smith", "visited by",
# "on behalf of", "The client, ...", "Telephone call from", "Email received from", "concerns about", "Referral - ...".
# Not when an acronym follows ("Spoke to Age UK": the name is an organisation's). Organisations follow these words too
# ("Call from Amazon", "seen by Reuters"), so one word defers to spaCy's ORG/GPE tag; two or more are trusted over it:
# the small model tags two-word names there as ORG, GPE or NORP ("Concerns were raised about Gareth Ellis" -> ORG).
_INTRODUCED_NAME = re.compile(
    r"\b(?i:spoke[ \t]+(?:to|with)|speaking[ \t]+(?:to|with)|(?:visited|seen|assessed|accompanied|interviewed|"
    r"referred|advised|supported|contacted)[ \t]+by|(?:visit|appointment)[ \t]+cancelled[ \t]+by|discussion[ \t]+with|"
    r"(?:message|voicemail)(?:[ \t]+left)?[ \t]+for|"
    r"met[ \t]+(?:with)?|discussed[ \t]+with|on[ \t]+behalf[ \t]+of|"
    r"supervision[ \t]+with|the[ \t]+(?:client|service[ \t]+user|resident|tenant|applicant|claimant|patient|child|"
    r"young[ \t]+person|requester|complainant|data[ \t]+subject)[ \t]*,|"
    r"(?:visit|call|meeting|appointment)[ \t]+(?:to|with|from)|"
    r"(?:e-?mail|letter|message|text|referral|voicemail)(?:[ \t]+(?:received|sent|made|left))?[ \t]+(?:from|to|by)|"
    r"(?:raised|concerns?|worries|worried)[ \t]+(?:about|for|regarding)|telephoned|phoned|rang|"
    r"referral[ \t]*(?:-|–|:|for))"
    rf"[ \t]+(?P<name>{_NAME})\b(?![ \t]+[A-Z]{{2,}}\b)"
)
# A name opening a line or a sentence before a possessive: "Olivia Smith's National Insurance number is ...".
_POSSESSIVE_NAME = re.compile(rf"(?m)(?:^|(?<=[.!?:][ \t])|(?<=[.!?:][ \t]{{2}}))[ \t]*(?P<name>{_NAME})(?=['’]s\b)")
# A signature without a sign-off: a line holding only a name over a line holding only a role ("Olivia Smith\nSocial
# Worker"); the role line is checked to be role words.
_NAME_ABOVE_ROLE = regex.compile(
    rf"(?m)^[ \t]*(?P<name>{_FIELD_NAME})[ \t]*\n[ \t]*(?P<role>[A-Za-z][A-Za-z' \t&-]{{2,60}}?)[ \t]*$"
)
# A name before a role in brackets: "Olivia Smith (Team Manager)"; the brackets are checked to hold role words.
# Any alphabet's capitalised words: "Bilal Wiśniewski (Chair)".
_ROLE_BRACKET_NAME = regex.compile(rf"(?P<name>{_FIELD_NAME})[ \t]*\((?P<role>[A-Za-z][A-Za-z' \t-]{{2,60}})\)")
# A name before "on" and a phone number: "Queries to Olivia Smith on 0113 496 0000".
_PHONE_AFTER_NAME = re.compile(rf"(?P<name>{_NAME})[ \t]+on[ \t]+(?=\+?\(?\d[\d ()\t-]{{8,}}\d)")
# A name after a family or care relation ("her daughter, Olivia Smith", "my son Jack") or a naming verb.
_RELATION_WORDS = (
    "daughter|son|mother|father|mum|mom|dad|wife|husband|partner|brother|sister|grandmother|grandfather|grandson|"
    "granddaughter|aunt|uncle|nephew|niece|cousin|stepson|stepdaughter|stepmother|stepfather|fianc[ée]e?|carer|"
    "neighbour|neighbor|friend|kid|child|baby|boyfriend|girlfriend|"
    # the people around a case: "his support worker, Leanne", "her advocate Tariq Mahmood"
    "(?:support|social|key|care)[ \t]+worker|keyworker|advocate|interpreter|solicitor|teacher|"
    "tutor|doctor|nurse|lodger|flatmate"
)
_RELATION_NAME = re.compile(
    rf"\b(?i:my|his|her|their|our|your)[ \t]+(?i:{_RELATION_WORDS})[ \t]*,?[ \t]+(?P<name>{_NAME})"
)
_NAMED_NAME = re.compile(
    rf"\b(?:(?i:called|named|known[ \t]+as)|(?i:my[ \t]+name[ \t]+is|call[ \t]+me))[ \t]+(?P<name>{_NAME})"
)
# A line that holds only a name, above an address: the next line (or the one after an organisation or a blank line)
# starts with a house number and a capitalised word, or a flat, suite or PO box ("Olivia Smith\n12 High Street").
# Quoted email lines (">") count as lines.
_NAME_ABOVE_ADDRESS = regex.compile(
    rf"(?m)^[ \t>]*(?P<name>{_FIELD_NAME})[ \t]*\n(?:[ \t>]*\n)?(?:[ \t>]*[^\n\d]{{2,60}}\n)?[ \t>]*"
    r"(?:\d{1,6}[A-Za-z]?[ \t]+(?:\d{1,6}[ \t]+)?\p{Lu}"
    r"|(?:Flat|Apt\.?|Apartment|Suite|Unit|P\.?[ \t]?O\.?[ \t]+Box)[ \t]+\d)"
)
# Words allowed inside a role in brackets besides ROLE_WORDS.
_ROLE_JOINERS = frozenset({"of", "and", "for", "the", "to", "&"})
# A field label right after a word: "Bill to:", "Ship to:", "Sold to:" (the word is a verb, not a name).
_LABEL_AFTER = re.compile(r"[ \t]+to[ \t]*:")
# The shortest first name propagated on its own through a document.
MIN_PROPAGATED_LETTERS = 3
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


def is_plausible_name(span_text: str, places: frozenset[str] = frozenset(), cued: bool = False) -> bool:
    """False for spans that are organisations, roles, places, headings or references rather than names.

    ``cued``: the span follows a strong cue (honorific, relation, form field), so a final word that is both a place
    word and a common surname ("Leo Hall") is read as the surname.
    """
    words = _words(span_text)
    if not words or any(ch.isdigit() or ch in "@/\\:#&+=_|" for ch in span_text):
        return False
    lowered = [word.lower() for word in words]
    surname_ok = cued and lowered[-1] in SURNAME_PLACE_WORDS
    if any(word in NON_NAME_WORDS for word in (lowered[:-1] if surname_ok else lowered)):
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


# Rules over the text: (pattern, source, trusted). A trusted rule's structure outweighs spaCy tagging the same words as
# a place or organisation elsewhere in the document; the others still defer to it.
_RULES: tuple[tuple[re.Pattern[str] | regex.Pattern[str], str, bool], ...] = (
    (_HONORIFIC_NAME, "honorific", True), (_DEAR_NAME, "salutation", True), (_SIGN_OFF_NAME, "sign_off", True),
    (_FIELD_LABEL_NAME, "name_field", True), (_FIELD_LABEL_PERSON, "name_field", True),
    (_EMAIL_HEADER_NAME, "email_header", True), (_ROLE_BRACKET_NAME, "role_after", True),
    (_PHONE_AFTER_NAME, "phone_after", True), (_RELATION_NAME, "relation", True), (_NAMED_NAME, "named", False),
    (_NAME_ABOVE_ADDRESS, "address_block", False), (_EMAIL_HEADER_SURNAME_FIRST, "email_header", True),
    (_INTRODUCED_NAME, "introduced", False),
    (_POSSESSIVE_NAME, "possessive", False), (_NAME_ABOVE_ROLE, "role_below", True),
)  # fmt: skip
# Untrusted rules whose spans of two words or more are trusted all the same (see _INTRODUCED_NAME).
_TRUSTED_WHEN_FULL = frozenset({"introduced"})
_CACHE_KEY = "docintel.name_spans"


def name_spans(doc: Doc, text: str | None = None) -> list[NameSpan]:
    """The names in a parsed document: filtered spaCy PERSON spans plus the rules in the module docstring."""
    # The PERSON recognizer and the NER entities both ask for the names of the same Doc: work them out once.
    cached = doc.user_data.get(_CACHE_KEY)
    if cached is not None:
        return list(cached)
    # doc.text joins every token afresh on each access; callers that already hold the text pass it in.
    text = doc.text if text is None else text
    places = frozenset(" ".join(_words(ent.text)).lower() for ent in doc.ents if ent.label_ in PLACE_LABELS)
    found: list[NameSpan] = []
    for ent in doc.ents:
        if ent.label_ != PERSON_ENTITY:
            continue
        pieces = _lines(text, ent.start_char, ent.end_char)
        for line_start, line_end in pieces:
            start, end = _trim(text, line_start, line_end)
            # One word left of a span the model ran over a line break is a fragment ("Skipton LS1 1AA\n\nVisit").
            if len(pieces) > 1 and len(_words(text[start:end])) < 2:
                continue
            if end > start and is_plausible_name(text[start:end], places) and not _LABEL_AFTER.match(text, end):
                found.append(NameSpan(start, end, "ner"))
    for pattern, source, trusted in _RULES:
        for match in pattern.finditer(text):
            if source in ("role_after", "role_below") and not _is_role(match.group("role")):
                continue
            start, end = _trim(text, match.start("name"), match.end("name"))
            if _only_role_trimmed(text, match.start("name"), start, end):
                continue
            full_trusted = source in _TRUSTED_WHEN_FULL and len(_words(text[start:end])) > 1
            deferred_to = frozenset() if trusted or full_trusted else places
            if end > start and is_plausible_name(text[start:end], deferred_to, cued=True):
                found.append(NameSpan(start, end, source))
    merged = _merge(found)
    merged = _merge(merged + _propagate(text, merged))
    doc.user_data[_CACHE_KEY] = tuple(merged)
    return merged


def _only_role_trimmed(text: str, matched_start: int, start: int, end: int) -> bool:
    """True when trimming took role words off the front and left one word: "Housing Options" is a team."""
    removed = [word.lower() for word in _words(text[matched_start:start])]
    # A rank is a title, not a team: "Detective Sergeant Lyons" leaves the name "Lyons".
    team_words = [word for word in removed if word in ROLE_WORDS and word not in HONORIFICS]
    return bool(team_words) and len(_words(text[start:end])) == 1


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at line breaks: a name never runs over two lines ("Grace Roberts\nHead of Service")."""
    pieces, position = [], start
    for part in text[start:end].split("\n"):
        pieces.append((position, position + len(part)))
        position += len(part) + 1
    return pieces


def _is_role(words: str) -> bool:
    """True when bracketed words are a job title: role words, with "of"/"and" between them."""
    parts = [part.lower() for part in words.split()]
    return (
        bool(parts)
        and all(part in ROLE_WORDS or part in _ROLE_JOINERS for part in parts)
        and any(part in ROLE_WORDS for part in parts)
    )


def _propagate(text: str, names: list[NameSpan]) -> list[NameSpan]:
    """Other occurrences of the names found: each full name, and the first name where it stands alone."""
    full = {text[span.start : span.end] for span in names if " " in text[span.start : span.end].strip()}
    firsts = {name.split()[0] for name in full}
    firsts = {
        word
        for word in firsts
        if len(word) >= MIN_PROPAGATED_LETTERS and word.isalpha() and word.lower() not in NON_NAME_WORDS | ROLE_WORDS
    }
    if not full:
        return []
    alternatives = "|".join(regex.escape(name) for name in sorted(full | firsts, key=len, reverse=True))
    # A whole word, not part of a longer run of capitalised words ("Grace" alone, not in "Grace Church Hall").
    pattern = regex.compile(
        rf"(?<![\p{{L}}'’-])(?<!\p{{Lu}}\p{{L}}*[ \t])(?:{alternatives})(?![\p{{L}}-])(?!['’](?!s\b))(?![ \t]\p{{Lu}})"
    )
    return [NameSpan(match.start(), match.end(), "propagated") for match in pattern.finditer(text)]


def _merge(spans: list[NameSpan]) -> list[NameSpan]:
    """One span per overlapping group: the longest, so "Olivia" (NER) and "Olivia Smith" (rule) give the latter."""
    kept: list[NameSpan] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)
