"""extract_contract: a contract's text in, its key terms out, each with the text it came from, page and confidence.

The data flow: kind (title and opening words) -> parties (preamble, defined terms, letter addressee) with
company and VAT numbers -> dated clauses (effective, commencement, expiry) -> durations (term, renewal,
notice) -> law and courts -> money (value, annual value, VAT, payment terms) -> schedules (UK GDPR Article 28)
-> signatures. Every rule abstains when its cue is absent: a missing field is better than a guessed one.
Confidences are per-rule levels checked against measured precision by bench/contracts.py's calibration table.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from docintel.contracts.models import (
    ContractField,
    ContractKind,
    ContractParty,
    ContractResult,
    Signatory,
)
from docintel.contracts.parse import Duration, add_duration, find_contract_dates, find_durations
from docintel.contracts.parties import (
    PREAMBLE_CHARS,
    PartyMatch,
    defined_term_parties,
    individual_party,
    is_organisation,
    letter_parties,
    mentioned_organisations,
    plausible_party,
    preamble_parties,
    role_for,
    signing_organisations,
    split_joined,
    tidy_name,
)
from docintel.contracts.places import PLACE_PATTERN, UK_JURISDICTIONS, US_STATES, canonical_place
from docintel.enrich.recognizers.checksums import vat_any_is_valid
from docintel.invoices.parse import ParsedDate, detect_currency, find_amounts, format_amount

if TYPE_CHECKING:
    from docintel.models import Page

logger = logging.getLogger(__name__)

# How far into the document the title and kind are read.
TITLE_LINES = 40
# Contracts longer than this are read for terms in their first part only; schedules past it rarely restate them.
MAX_CONTRACT_CHARS = 400_000

# Rule confidences. bench/contracts.py prints each one against the precision its rules reach on Kleister-NDA
# (2026-12-08: 0.9 -> 0.89-0.99 by field, 0.75 -> 0.72-0.74); derived values rank below stated ones.
STATED = 0.9  # a labelled value: "Commencement Date: 1 April 2024", "governed by the laws of England"
CUED = 0.75  # a value beside a weaker cue: "dated as of", "for a period of"
COMPUTED = 0.7  # a value computed from others (end = start + term)
GUESSED = 0.45  # the first date of the preamble, a title line without "agreement"

_KIND_CUES: tuple[tuple[ContractKind, re.Pattern[str]], ...] = (
    (ContractKind.PLANNING_OBLIGATION, re.compile(r"section\s+106|s\.?\s?106\b|planning\s+obligation|"
                                                  r"unilateral\s+undertaking", re.I)),
    (ContractKind.DATA_SHARING, re.compile(r"data[\s-]+sharing\s+(?:agreement|protocol)|"
                                           r"information\s+sharing\s+agreement", re.I)),
    (ContractKind.NDA, re.compile(r"non[\s-]*disclosure|confidentiality\s+(?:agreement|undertaking)", re.I)),
    (ContractKind.FRAMEWORK_CALL_OFF, re.compile(r"call[\s-]*off|framework\s+(?:agreement|contract)|"
                                                 r"\bRM\s?\d{3,4}\b", re.I)),
    (ContractKind.GRANT, re.compile(r"grant\s+(?:funding\s+)?agreement|grant\s+offer|conditions\s+of\s+grant", re.I)),
    (ContractKind.LEASE, re.compile(r"\blease\b|\bunderlease\b|\btenancy\b", re.I)),
    (ContractKind.LICENCE, re.compile(r"\blicen[cs]e\s+(?:agreement|to\s+occupy)|\blicen[cs]e\b", re.I)),
    (ContractKind.WORKS, re.compile(r"\bworks\s+contract|\bJCT\b|\bNEC\d?\b|building\s+contract|"
                                    r"construction\s+contract|\bthe\s+works\b", re.I)),
    (ContractKind.SUPPLY, re.compile(r"supply\s+(?:of\s+goods|agreement|contract)|"
                                     r"contract\s+for\s+the\s+supply", re.I)),
    (ContractKind.SERVICES, re.compile(r"services?\s+(?:agreement|contract)|"
                                       r"contract\s+for\s+(?:the\s+provision\s+of\s+)?(?:\w+\s+){0,3}services|"
                                       r"the\s+services\b", re.I)),
)  # fmt: skip
_TITLE_WORDS = re.compile(
    r"\b(?:agreement|contract|lease|licen[cs]e|deed|undertaking|memorandum\s+of\s+understanding|call[\s-]*off|"
    r"terms\s+and\s+conditions|order\s+form)\b",
    re.IGNORECASE,
)

_DATE_CUES: dict[str, tuple[tuple[re.Pattern[str], float], ...]] = {
    "effective_date": (
        (re.compile(r"(?:[“\"]Effective\s+Date[”\"]\s*(?:shall\s+)?means?|Effective\s+Date\s*:|"
                    r"effective\s+(?:date\s+)?(?:as\s+)?(?:of|from|on)|"
                    r"with\s+effect\s+from|made\s+(?:and\s+entered\s+into\s+)?(?:effective\s+)?(?:as\s+of|on|this)|"
                    r"entered\s+into\s+"
                    r"(?:(?:effective\s+)?(?:for\s+all\s+purposes\s+)?as\s+of|on|this)|"
                    r"(?:is\s+)?dated\s+(?:as\s+of\s+)?|THIS\s+(?:DEED|AGREEMENT)\s+is\s+dated|"
                    r"DATED\s*:?|\beffective|effective\s+date\s+of\s+this[^.]{0,60}?\s+is|Date\s+of\s+(?:this\s+)?Agreement\s*:?|DATE\s*:|"
                    r"as\s+of)\s*(?:the\s+)?\Z", re.I | re.M), STATED),
    ),
    "start_date": (
        (re.compile(r"(?:[“\"]?Commencement\s+Date[”\"]?\s*(?:shall\s+)?(?:means?|is|:)|"
                    r"^\s*(?:Commencement|Start)\s+Date[ \t:|]*|"
                    r"Start\s+Date\s*(?:means?|is|"
                    r":)|(?:shall\s+)?(?:commence|begin|start)s?\s+on|"
                    r"(?:commencing|starting|beginning)\s+on|Contract\s+(?:Start|Commencement)\s+Date\s*:?|"
                    r"term\s+(?:commencing|starting|beginning)\s+(?:on|from)|"
                    r"Grant\s+Period\s*:?\s*from|Period\s*:?\s*from|"
                    r"from\s+and\s+including)\s*(?:the\s+)?\Z", re.I | re.M), STATED),
    ),
    "end_date": (
        (re.compile(r"(?:[“\"]?(?:Expiry|End|Termination|Expiration)\s+Date[”\"]?\s*(?:shall\s+)?(?:means?|is|:)|"
                    r"^\s*(?:Expiry|End)\s+Date[ \t:|]*|"
                    r""
                    r"Contract\s+(?:End|Expiry)\s+Date\s*:?|"
                    r"(?:shall\s+)?(?:expire|end|terminate)s?\s+on|(?:ending|expiring)\s+on|"
                    r"until\s+(?:and\s+including\s+)?|to\s+and\s+including|"
                    r"up\s+to\s+and\s+including)\s*(?:the\s+)?\Z", re.I | re.M), STATED),
    ),
}  # fmt: skip
_CUE_WINDOW = 120
_SALUTATION = re.compile(r"\n\s*(?:Dear\s|Ladies\s+and\s+Gentlemen|Gentlemen)", re.IGNORECASE)
# An agreement with a person in their own right: "you", "I", "Employee", "Executive".
_INDIVIDUAL_CUES = re.compile(r"\b(?:you|your|I|my|Employee|Executive|Associate|Director)\b")

# A term is a duration anchored to the contract itself ("two years from the date hereof", "the Term of this
# Agreement shall be three years"); durations anchored to something else (after employment ends, per invoice)
# are restrictive covenants, payment terms or notice periods, not the contract's term.
_TERM_ANCHOR_AFTER = re.compile(
    r"^\W{0,3}(?:period\s+)?(?:thereafter\b|or\s+until\b|(?:commencing\s+|beginning\s+|starting\s+|"
    r"running\s+)?(?:from|after|following|of|"
    r"beginning\s+on|commencing\s+on)\s+(?:and\s+(?:after|including)\s+)?(?:the\s+|its\s+|such\s+|this\s+)?(?:date|"
    r"effective|execution|"
    r"signing|commencement|start|(?:initial\s+)?receipt|(?:initial\s+|first\s+)?disclosure|today|this|agreement|"
    r"letter))",
    re.IGNORECASE,
)
_TERM_CONTEXT_BEFORE = re.compile(
    r"(?:terminat|expir|term\b|remain|continue|survive|in\s+(?:full\s+)?(?:force|effect)|until|"
    r"for\s+a\s+(?:fixed\s+)?period|"
    r"obligations?|shall\s+(?:last|run|be))[^.;]{0,120}$",
    re.IGNORECASE,
)
_TERM_STATED = re.compile(
    r"(?:^[ \t]*(?:Initial\s+)?Term[ \t:|]+|(?:initial\s+)?term\s+of\s+(?:this|the)\s+(?:letter\s+)?"
    r"(?:agreement|contract|lease|licen[cs]e)\s+(?:shall\s+be|is|will\s+be)|[“\"]Term[”\"]\s+(?:shall\s+)?means?|"
    r"(?:Contract|Initial|Grant|Agreement)\s+(?:Period|Term)\s*(?:means|is|:|shall\s+be)|for\s+a\s+(?:fixed\s+)?term\s+of)"
    r"[^.;]{0,40}\Z",
    re.IGNORECASE | re.MULTILINE,
)
_TERM_EXCLUDED_BEFORE = re.compile(
    r"(?:employment|separation|notice|invoice|prior\s+to|before)[^.;]{0,60}$", re.IGNORECASE
)
_TERM_CONTEXT_CHARS = 160
# Weakest tie to the agreement a term may have and still be reported (see _term): on Kleister-NDA the
# obligations-only tie (2) was right for 2 of 8 terms, so only a term tied to the agreement itself is reported.
MIN_TERM_STRENGTH = 3
_RENEWAL = re.compile(
    r"(?:option\s+to\s+(?:extend|renew)|may\s+(?:be\s+)?(?:extend|renew)(?:ed)?|(?:extension|renewal)\s+(?:period|"
    r"option)s?|"
    r"automatically\s+(?:renew|extend)|renew(?:ed|s)?\s+automatically|further\s+period)[^.]{0,200}",
    re.IGNORECASE,
)
_NOTICE = re.compile(
    r"(?:(?:not\s+less\s+than|at\s+least|giving|gives?|give|upon|on|with|"
    r"by)\s+)(?P<period>[^.;]{1,40}?)\s*(?:[’']s?\s+)?(?:prior\s+|advance\s+)?"
    r"(?:written\s+)?notice",
    re.IGNORECASE,
)
# "laws of the State of New York", "laws of England and Wales", "Delaware law": the place, then a cue before it.
_LAW = re.compile(
    rf"\blaws?\s+of\s+(?:the\s+)?(?:(?:State|Commonwealth)\s+of\s+)?(?P<place>{PLACE_PATTERN})\b"
    rf"|\b(?:the\s+)?(?:internal\s+)?(?P<place2>{PLACE_PATTERN})\s+law\b",
    re.IGNORECASE,
)
_LAW_CUE = re.compile(
    r"govern|constru|interpret|enforce|applicable\s+law|choice\s+of\s+law|proper\s+law", re.IGNORECASE
)
_LAW_CUE_WINDOW = 250
_COURTS = re.compile(
    rf"(?:jurisdiction\s+of\s+(?:the\s+)?(?:\w+\s+){{0,3}}courts?\s+(?:of|in|located\s+in|sitting\s+in)\s+(?:the\s+)?"
    rf"(?:(?:State|Commonwealth)\s+of\s+)?(?P<place>{PLACE_PATTERN})\b|courts\s+of\s+(?P<place2>{PLACE_PATTERN})\s+"
    rf"(?:shall\s+)?have\s+(?:\w+\s+)?jurisdiction)",
    re.IGNORECASE,
)
_VALUE_CUES = re.compile(
    r"(?:(?:total\s+)?(?:contract|agreement)\s+(?:value|price|sum)|(?:maximum|total|estimated)\s+(?:contract\s+)?value|"
    r"(?:the\s+)?(?:total\s+)?(?:grant|award)\s+(?:amount|of|sum)|sum\s+of|contribution\s+of|price\s+of|"
    r"not\s+(?:to\s+)?exceed|"
    r"Charges?\s+(?:shall\s+)?(?:not\s+exceed|be|of)|(?:annual\s+)?rent\s+of|value\s+of)\b[^£$€\d]{0,40}",
    re.IGNORECASE,
)
_ANNUAL = re.compile(r"\b(?:per\s+annum|a\s+year|per\s+year|each\s+year|annual(?:ly)?|p\.?a\.?)\b", re.IGNORECASE)
_VAT_TREATMENT = (
    (re.compile(r"\b(?:exclusive\s+of|excluding|plus|excl\.?|exc\.?|\+)\s*(?:any\s+)?(?:applicable\s+)?VAT\b|"
                r"\bnet\s+of\s+VAT\b", re.I), "exclusive"),
    (re.compile(r"\b(?:inclusive\s+of|including|incl\.?|inc\.?)\s+(?:any\s+)?VAT\b", re.I), "inclusive"),
    (re.compile(r"\b(?:exempt\s+from\s+VAT|VAT[\s-]+exempt|outside\s+the\s+scope\s+of\s+VAT|"
                r"not\s+subject\s+to\s+VAT)\b", re.I), "exempt"),
)  # fmt: skip
_PAYMENT = re.compile(
    r"(?:within|no\s+later\s+than|not\s+later\s+than)\s+(?P<period>[^.;]{1,30}?)\s+(?:of|from|after|following)\s+"
    r"(?:the\s+)?(?:date\s+of\s+)?(?:receipt\s+(?:by\s+the\s+\w+\s+)?of\s+)?(?:a\s+|an\s+)?(?:valid|undisputed|"
    r"correct|proper)?\s*(?:and\s+undisputed\s+)?(?:VAT\s+)?invoice",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"(?:Contract|Agreement|Call[\s-]*Off|Order|Lease|Grant|Our|Tender|Project)\s+(?:Ref(?:erence)?|No\.?|"
    r"Number)\.?\s*(?:No\.?)?\s*[:\-]?\s*"
    r"(?P<ref>[A-Z0-9][A-Z0-9/_.-]{2,30}\d[A-Z0-9/_.-]*)",
    re.IGNORECASE,
)
_FRAMEWORK = re.compile(r"\b(?P<ref>RM\s?\d{3,4}(?:\.\d{1,2})?(?:\s?/\s?\d+)?)\b")
_DATA_PROCESSING = re.compile(
    r"Article\s+28|data\s+processing\s+(?:agreement|schedule|annex|addendum|terms)|"
    r"Processing,\s+Personal\s+Data\s+and\s+Data\s+Subjects|"
    r"Schedule\s+\d+\s*[-–:]?\s*(?:Data\s+Protection|Processing\s+Personal\s+Data)",
    re.IGNORECASE,
)
_DEED = re.compile(
    r"executed\s+(?:as\s+a\s+deed|by\s+affixing)|common\s+seal|signed\s+as\s+a\s+deed|delivered\s+as\s+a\s+deed|"
    r"THIS\s+DEED",
    re.I,
)
_COMPANY_NUMBER = re.compile(
    r"(?:company|registration|registered)\s+(?:registration\s+)?(?:number|no\.?)\s*:?\s*(?P<number>(?:[A-Z]{2}|"
    r"\d{2})\d{6})\b",
    re.IGNORECASE,
)
_VAT_NUMBER = re.compile(
    r"VAT\s+(?:registration\s+)?(?:number|no\.?|reg\.?\s*no\.?)\s*:?\s*(?P<number>(?:GB\s?)?\d{3}\s?\d{4}\s?\d{2})\b",
    re.I,
)
_SIGNATORY = re.compile(
    r"(?:^|\n)\s*(?:Signed\s+by\s*:?\s*|Name\s*(?:\(print\))?\s*:\s*|"
    r"Print(?:ed)?\s+name\s*:\s*|"
    r"By\s*:\s*/s/\s*|/s/\s*)(?P<name>[A-Z][a-zA-Z.'’-]+(?:\s+[A-Z][a-zA-Z.'’-]+){1,3})[ \t]*(?=\r?\n|$|,)",
)
_SIGNATURE_DATE = re.compile(r"(?:^|\n)\s*Date(?:d)?\s*:?\s*(?P<rest>[^\n]{4,40})", re.IGNORECASE)


@dataclass(frozen=True)
class _Text:
    """The text being read and a way to find the page of an offset."""

    text: str
    page_starts: tuple[int, ...]
    page_numbers: tuple[int, ...]
    day_first: bool = True

    def dates(self, start: int = 0, end: int | None = None) -> list[ParsedDate]:
        """Dates in text[start:end], offsets into the whole text."""
        found = find_contract_dates(self.text[start:end], day_first=self.day_first)
        return [ParsedDate(d.value, d.ambiguous, d.start + start, d.end + start) for d in found]

    def page_of(self, offset: int) -> int | None:
        if not self.page_numbers:
            return None
        return self.page_numbers[max(0, bisect.bisect_right(self.page_starts, offset) - 1)]

    def field(
        self, value: str | None, start: int, end: int, confidence: float, how: str | None = None
    ) -> ContractField:
        return ContractField(
            value=value,
            content=re.sub(r"\s+", " ", self.text[start:end]).strip(),
            page=self.page_of(start),
            start=start,
            end=end,
            confidence=round(confidence, 3),
            how=how,
        )


def extract_contract(
    text: str, pages: Sequence[Page] = (), *, title: str | None = None, day_first: bool | None = None
) -> ContractResult:
    """Read a contract's key terms from its text; ``pages`` (with offsets into ``text``) give each value's page.

    ``title`` is the file's own title (PDF or Office metadata), used when the text shows none.

    Numeric dates are read day-first (UK) unless ``day_first`` is False or, when it is None, the contract shows
    US conventions (governed by a US state's law, or dollar amounts and no pounds).
    """
    clipped = _same_length_plain(text[:MAX_CONTRACT_CHARS])
    if day_first is None:
        day_first = not _looks_american(clipped)
    source = _Text(
        clipped,
        tuple(page.start for page in pages),
        tuple(page.number for page in pages),
        day_first,
    )
    result = ContractResult()
    notes: list[str] = []
    if len(text) > MAX_CONTRACT_CHARS:
        notes.append(f"read the first {MAX_CONTRACT_CHARS:,} characters for terms")
    title_field = _title(source)
    if title_field is None and title and _TITLE_WORDS.search(title):
        title_field = ContractField(value=title.strip(), content=title.strip(), confidence=CUED, how="file metadata")
    if title_field:
        result.fields["title"] = title_field
    result.kind, result.kind_confidence = _kind(source, title_field)
    result.parties = _parties(source)
    for name, found in (
        ("reference", _reference(source)),
        ("framework_reference", _framework(source, title_field)),
    ):
        if found:
            result.fields[name] = found
    for name in ("effective_date", "start_date", "end_date"):
        found = _cued_date(source, name)
        if found:
            result.fields[name] = found
    # A letter agreement takes effect on the letter's date; "dated as of" in its body names other agreements.
    letter_date = _letter_date(source) if _SALUTATION.search(source.text[:PREAMBLE_CHARS]) else None
    if letter_date is not None:
        result.fields["effective_date"] = letter_date
    if "effective_date" not in result.fields:
        found = _letter_date(source) or _witness_date(source)
        if found:
            result.fields["effective_date"] = found
    term = _term(source)
    if term:
        result.fields["term"] = term[0]
    _complete_dates(source, result, term[1] if term else None)
    for name, finder in (
        ("renewal", _renewal),
        ("notice_period", _notice),
        ("governing_law", _governing_law),
        ("jurisdiction", _courts),
        ("vat_treatment", _vat_treatment),
        ("payment_terms", _payment_terms),
    ):
        found = finder(source)
        if found:
            result.fields[name] = found
    if "jurisdiction" not in result.fields and "governing_law" in result.fields:
        law = result.fields["governing_law"]
        result.fields["jurisdiction"] = law.model_copy(
            update={"confidence": CUED, "how": "courts of the governing law"}
        )
    values = _values(source)
    result.fields.update(values)
    currency = detect_currency(" ".join(field.content for field in values.values()))
    result.currency = currency
    result.fields["data_processing"] = _data_processing(source)
    deed = _DEED.search(source.text)
    result.fields["executed_as_deed"] = (
        source.field("true", deed.start(), deed.end(), STATED)
        if deed
        else ContractField(value="false", confidence=CUED, how="no seal or deed wording found")
    )
    result.signatories = _signatories(source)
    result.notes = notes
    return result


# --- title and kind ----------------------------------------------------------------------------


def _title(source: _Text) -> ContractField | None:
    offset = 0
    fallback: ContractField | None = None
    for number, line in enumerate(source.text[:PREAMBLE_CHARS].splitlines(keepends=True)):
        if number >= TITLE_LINES:
            break
        stripped = line.strip()
        start = offset + line.find(stripped) if stripped else offset
        offset += len(line)
        if not stripped or len(stripped) > 120 or re.match(r"(?i)^(?:ex-|exhibit|execution|page\s+\d|\d+$)", stripped):
            continue
        if _TITLE_WORDS.search(stripped) and (stripped.isupper() or stripped.istitle() or len(stripped.split()) <= 10):
            title = re.sub(r"\s+", " ", stripped).strip(" .:")
            return source.field(title, start, start + len(stripped), STATED if stripped.isupper() else CUED)
        if fallback is None and stripped.isupper() and len(stripped.split()) >= 2:
            fallback = source.field(re.sub(r"\s+", " ", stripped), start, start + len(stripped), GUESSED)
    return fallback


def _kind(source: _Text, title: ContractField | None) -> tuple[ContractKind, float]:
    head = source.text[:PREAMBLE_CHARS]
    title_text = title.value if title and title.value else ""
    for kind, cue in _KIND_CUES:
        if title_text and cue.search(title_text):
            return kind, STATED
    for kind, cue in _KIND_CUES:
        if cue.search(head):
            return kind, CUED
    return ContractKind.OTHER, GUESSED


# --- parties -----------------------------------------------------------------------------------


def _parties(source: _Text) -> list[ContractParty]:
    matches: list[PartyMatch] = preamble_parties(source.text)
    if len(matches) < 2:
        known = {m.name.lower() for m in matches}
        for extra in [*letter_parties(source.text), *defined_term_parties(source.text)]:
            if extra.name.lower() not in known and not any(
                extra.name.lower() in k or k in extra.name.lower() for k in known
            ):
                matches.append(extra)
                known.add(extra.name.lower())
            if len(matches) >= 2:
                break
    if len(matches) < 2:
        known = {m.name.lower() for m in matches}
        organisations = [m for m in matches if is_organisation(m.name)]
        extras = signing_organisations(source.text)
        if not organisations:
            extras += mentioned_organisations(source.text)[:1]
        for extra in extras:
            if extra.name.lower() not in known and not any(
                extra.name.lower() in k or k in extra.name.lower() for k in known
            ):
                matches.append(extra)
                known.add(extra.name.lower())
            if len(matches) >= 2:
                break
    if len(matches) < 2 and _INDIVIDUAL_CUES.search(source.text[:PREAMBLE_CHARS]):
        person = individual_party(source.text)
        if person and all(person.name.lower() != m.name.lower() for m in matches):
            matches.append(person)
    tidied: list[PartyMatch] = []
    for match in matches:
        for part in split_joined(tidy_name(match.name)):
            offset = source.text.find(part, match.start, match.end + 1)
            start = offset if offset >= 0 else match.start
            if plausible_party(part) and all(part.lower() != kept.name.lower() for kept in tidied):
                tidied.append(PartyMatch(part, start, start + len(part), match.defined_as, match.rule))
    parties: list[ContractParty] = []
    for match in tidied:
        confidence = STATED if match.rule == "between" else CUED
        organisation = is_organisation(match.name)
        party = ContractParty(
            name=source.field(match.name, match.start, match.end, confidence),
            role=role_for(match.name, match.defined_as),
            role_label=match.defined_as,
            organisation=organisation,
        )
        window_end = min(len(source.text), match.end + 400)
        company = _COMPANY_NUMBER.search(source.text, match.end, window_end)
        if company:
            party.company_number = source.field(company.group("number").upper(), company.start(), company.end(), STATED)
        vat = _VAT_NUMBER.search(source.text, match.end, window_end)
        if vat:
            digits = re.sub(r"\D", "", vat.group("number"))
            valid = vat_any_is_valid(digits)
            party.vat_number = source.field("GB" + digits, vat.start(), vat.end(), STATED if valid else GUESSED)
        parties.append(party)
    return parties


# --- references --------------------------------------------------------------------------------


def _reference(source: _Text) -> ContractField | None:
    match = _REFERENCE.search(source.text[: PREAMBLE_CHARS * 2])
    if match is None:
        return None
    return source.field(match.group("ref").rstrip(".-/"), match.start(), match.end(), STATED)


def _framework(source: _Text, title: ContractField | None) -> ContractField | None:
    match = _FRAMEWORK.search(source.text)
    if match is None:
        in_title = _FRAMEWORK.search(title.content) if title and title.how == "file metadata" else None
        if in_title is None or title is None:
            return None
        return title.model_copy(update={"value": re.sub(r"\s", "", in_title.group("ref"))})
    return source.field(re.sub(r"\s", "", match.group("ref")), match.start(), match.end(), STATED)


# --- dates and term ----------------------------------------------------------------------------


# Web-page and word-processor spacing: no-break and thin spaces, and a space left before a comma in a date written
# into a form ("April 6th      , 2005"). Replaced character for character so every offset still indexes the text.
_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\r": "\n"})
_SPACE_BEFORE_COMMA = re.compile(r"(?<=\w)([ \t]+),")


def _same_length_plain(text: str) -> str:
    plain = text.translate(_SPACES)
    return _SPACE_BEFORE_COMMA.sub(lambda match: "," + match.group(1), plain)


def _looks_american(text: str) -> bool:
    for law in _LAW.finditer(text):
        place = canonical_place(law.group("place") or law.group("place2"))
        if place in US_STATES or place == "United States":
            return True
        if place in UK_JURISDICTIONS:
            return False
    return "$" in text and "£" not in text


def _cued_date(source: _Text, name: str) -> ContractField | None:
    text = source.text
    limit = PREAMBLE_CHARS if name == "effective_date" else len(text)
    for date in source.dates(0, limit):
        before = text[max(0, date.start - _CUE_WINDOW) : date.start]
        for cue, confidence in _DATE_CUES[name]:
            found = cue.search(before)
            if found:
                start = date.start - (len(before) - found.start())
                return source.field(date.value.isoformat(), start, date.end, confidence)
    return None


# How strongly the words before a duration tie it to the contract's own term: "this Agreement shall expire" (3),
# "obligations ... shall terminate" (2), any other period anchored to the agreement's date (1: a standstill or a
# restriction more often than the term, so it is kept only when nothing better is found and with low confidence).
_TERM_AGREEMENT = re.compile(
    r"(?:this\s+(?:letter\s+)?agreement|this\s+contract|this\s+letter|this\s+lease|the\s+term|term\s*[.:]|hereunder)"
    r"[^.;]{0,100}?(?:terminat|expir|remain|continue|in\s+(?:full\s+)?(?:force|effect)|be\s+effective|"
    r"last)[^.;]{0,60}$",
    re.IGNORECASE,
)
_TERM_OBLIGATIONS = re.compile(
    r"(?:obligations?|confidentiality|non-?disclosure|restrictions?|undertakings?|covenants?)[^.;]{0,80}?"
    r"(?:terminat|expir|remain|continue|survive|in\s+(?:full\s+)?(?:force|effect)|apply|last)[^.;]{0,60}$",
    re.IGNORECASE,
)


# A letter's date sits alone on a line near the top; a deed's "IN WITNESS WHEREOF ... this 16th day of May, 2011".
_LETTER_DATE_CHARS = 800
_WITNESS = re.compile(
    r"IN\s+WITNESS\s+WHEREOF[^.]{0,200}?(?:as\s+of|this|on|dated)\s+(?:the\s+)?(?=(?-i:\d|[A-Z]))", re.IGNORECASE
)
_SIGNED_DATE = re.compile(r"(?:^|\n)[ \t]*(?:Date|Dated)\s*:?[ \t]*(?=\S)", re.IGNORECASE)


def _letter_date(source: _Text) -> ContractField | None:
    text = source.text
    for date in source.dates(0, _LETTER_DATE_CHARS):
        line_start = text.rfind("\n", 0, date.start) + 1
        line_end = text.find("\n", date.end)
        line_end = len(text) if line_end < 0 else line_end
        if not text[line_start : date.start].strip(" \t,") and len(text[date.end : line_end].strip()) <= 2:
            return source.field(date.value.isoformat(), date.start, date.end, CUED, how="the letter's date")
    return None


def _witness_date(source: _Text) -> ContractField | None:
    text = source.text
    for witness in _WITNESS.finditer(text):
        dates = source.dates(witness.end(), witness.end() + 60)
        if dates and dates[0].start - witness.end() < 5:
            return source.field(
                dates[0].value.isoformat(), witness.start(), dates[0].end, CUED, how="the execution date"
            )
    tail = max(0, len(text) - 4000)
    for signed in _SIGNED_DATE.finditer(text, tail):
        dates = source.dates(signed.end(), signed.end() + 40)
        if dates and dates[0].start == signed.end():
            return source.field(dates[0].value.isoformat(), signed.start(), dates[0].end, CUED, how="a signature date")
    return None


# Tie patterns from strongest to weakest, with their strength.
_TERM_TIES = ((3, _TERM_AGREEMENT), (2, _TERM_OBLIGATIONS), (1, _TERM_CONTEXT_BEFORE))


def _term(source: _Text) -> tuple[ContractField, Duration] | None:
    text = source.text
    best: tuple[int, int, Duration] | None = None  # (strength, start of the cue, duration)
    for duration in find_durations(text):
        if duration.unit not in ("years", "months", "weeks", "days"):
            continue
        before = text[max(0, duration.start - _TERM_CONTEXT_CHARS) : duration.start]
        after = text[duration.end : duration.end + 80]
        if _TERM_EXCLUDED_BEFORE.search(before[-80:]):
            continue
        strength, cue = 3, _TERM_STATED.search(before)
        if cue is None and _TERM_ANCHOR_AFTER.search(after):
            strength, cue = next(
                ((tie, found) for tie, pattern in _TERM_TIES if (found := pattern.search(before))), (0, None)
            )
        if cue is None:
            continue
        start = duration.start - (len(before) - cue.start())
        if best is None or strength > best[0]:
            best = (strength, start, duration)
    if best is None or best[0] < MIN_TERM_STRENGTH:
        return None
    strength, start, duration = best
    confidence = {3: STATED, 2: CUED}.get(strength, GUESSED)
    return source.field(duration.text, start, duration.end, confidence), duration


def _complete_dates(source: _Text, result: ContractResult, term: Duration | None) -> None:
    """Fill start and end dates the document implies: start from the effective date, end from start plus term."""
    fields = result.fields
    if "start_date" not in fields and "effective_date" in fields:
        effective = fields["effective_date"]
        fields["start_date"] = effective.model_copy(
            update={"confidence": min(effective.confidence, COMPUTED), "how": "the effective date"}
        )
    if "end_date" in fields or term is None or "start_date" not in fields:
        return
    start_value = fields["start_date"].value
    if start_value is None:
        return
    end = add_duration(dt.date.fromisoformat(start_value), term)
    if end is None:
        return
    term_field = fields["term"]
    fields["end_date"] = ContractField(
        value=end.isoformat(),
        content=term_field.content,
        page=term_field.page,
        start=term_field.start,
        end=term_field.end,
        confidence=min(COMPUTED, fields["start_date"].confidence, term_field.confidence),
        how=f"start {start_value} + term {term.text}",
    )


# --- renewal, notice, law ----------------------------------------------------------------------


def _renewal(source: _Text) -> ContractField | None:
    match = _RENEWAL.search(source.text)
    if match is None:
        return None
    clause = match.group(0)
    durations = find_durations(clause)
    count = re.search(
        r"\b(one|two|three|four|\d)\s*(?:\(\d\)\s*)?(?:further\s+)?(?:period|option|extension)s?", clause, re.I
    )
    if not durations:
        value = "automatic renewal" if re.search(r"automatic", clause, re.I) else "option to extend"
    else:
        times = count.group(1).lower() if count else "1"
        times_number = {"one": 1, "two": 2, "three": 3, "four": 4}.get(times, int(times) if times.isdigit() else 1)
        value = f"{times_number} x {durations[0].text}"
    return source.field(value, match.start(), match.end(), CUED)


def _notice(source: _Text) -> ContractField | None:
    for match in _NOTICE.finditer(source.text):
        durations = find_durations(match.group("period"))
        if durations:
            return source.field(durations[0].text, match.start(), match.end(), CUED)
    return None


def _governing_law(source: _Text) -> ContractField | None:
    for match in _LAW.finditer(source.text):
        before = source.text[max(0, match.start() - _LAW_CUE_WINDOW) : match.end() + 40]
        if not _LAW_CUE.search(before):
            continue
        place = canonical_place(match.group("place") or match.group("place2"))
        return source.field(place, match.start(), match.end(), STATED)
    return None


def _courts(source: _Text) -> ContractField | None:
    match = _COURTS.search(source.text)
    if match is None:
        return None
    place = canonical_place(match.group("place") or match.group("place2"))
    return source.field(place, match.start(), match.end(), STATED)


# --- money -------------------------------------------------------------------------------------


def _values(source: _Text) -> dict[str, ContractField]:
    found: dict[str, ContractField] = {}
    for cue in _VALUE_CUES.finditer(source.text):
        window = source.text[cue.end() : cue.end() + 60]
        if not re.match(r"\s*(?:GBP|£|\$|€|EUR|USD)", window):
            continue
        amounts = find_amounts(window)
        if not amounts:
            continue
        value, _, amount_end = amounts[0]
        if value < 1:
            continue
        after = source.text[cue.end() + amount_end : cue.end() + amount_end + 40]
        name = "annual_value" if _ANNUAL.search(after) or _ANNUAL.search(cue.group(0)) else "total_value"
        if name in found:
            continue
        found[name] = source.field(format_amount(Decimal(value)), cue.start(), cue.end() + amount_end, STATED)
    return found


def _vat_treatment(source: _Text) -> ContractField | None:
    for pattern, treatment in _VAT_TREATMENT:
        match = pattern.search(source.text)
        if match:
            return source.field(treatment, match.start(), match.end(), STATED)
    return None


def _payment_terms(source: _Text) -> ContractField | None:
    for match in _PAYMENT.finditer(source.text):
        durations = find_durations(match.group("period"))
        if durations:
            return source.field(f"{durations[0].text} from invoice", match.start(), match.end(), STATED)
    return None


# --- schedules and signatures ------------------------------------------------------------------


def _data_processing(source: _Text) -> ContractField:
    match = _DATA_PROCESSING.search(source.text)
    if match:
        return source.field("true", match.start(), match.end(), STATED)
    return ContractField(value="false", confidence=CUED, how="no Article 28 or data-processing schedule found")


def _signatories(source: _Text) -> list[Signatory]:
    text = source.text
    signatories: list[Signatory] = []
    seen: set[str] = set()
    for match in _SIGNATORY.finditer(text):
        name = re.sub(r"\s+", " ", match.group("name")).strip()
        if name.lower() in seen or is_organisation(name) or len(name.split()) < 2:
            continue
        seen.add(name.lower())
        date_field = None
        date_match = _SIGNATURE_DATE.search(text, match.end(), min(len(text), match.end() + 300))
        if date_match:
            dates = find_contract_dates(date_match.group("rest"), day_first=source.day_first)
            if dates:
                offset = date_match.start("rest")
                date_field = source.field(
                    dates[0].value.isoformat(), offset + dates[0].start, offset + dates[0].end, STATED
                )
        block = text[max(0, match.start() - 200) : match.start()]
        behalf = re.search(r"(?:on\s+behalf\s+of|for)\s+([A-Z][\w&.' -]{2,60}?)\s*(?:\r?\n|:|$)", block)
        signatories.append(
            Signatory(
                name=source.field(name, match.start("name"), match.end("name"), CUED),
                for_party=behalf.group(1).strip() if behalf and is_organisation(behalf.group(1)) else None,
                date=date_field,
            )
        )
    return signatories
