"""What a document shows about its kind, read the way a records manager reads it: the evidence features.

A document is cut into regions, strongest first: its title and file name, the heading (the first characters
of its text), its first page, and the folder path (on SharePoint, the site and library names). In each region
the same *cues* are looked for: the document kinds a council publishes (agenda, minutes, statement of
accounts, AGAR, decision notice, FOI response, policy...), dates that mark a meeting or a financial year,
the language (Welsh councils publish bilingually), plus the words themselves. Every feature keeps where it
was first seen (region and character offsets), so a classification can point at the passages that decided
it without ever quoting them.

Words are weighed per region and normalised (a long first page does not outweigh a title), and a word counts
once however often it repeats: a keyword count alone cannot beat a clear title or document kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from classifiers.structure import file_type_of, fold_accents, without_mail_headers
from docintel.models import DocumentRecord, PageMethod

Where = Literal["title", "text", "path", "name"]

# How much of the text is the heading (where a document names itself) and how much is its first page.
HEADING_CHARS = 300
FIRST_PAGE_CHARS = 3000
# A word must be at least this long to count (shorter ones are mostly stop words and OCR debris).
MIN_WORD_LETTERS = 3

# Document kinds and the other cues, each a list of words and phrases (a trailing * matches any ending),
# matched on whole words after accents are folded, case-insensitive. The names are what explanations show;
# they are the product's vocabulary, never words quoted from a document.
KIND_CUES: dict[str, tuple[str, ...]] = {
    "minutes": ("minutes", "minute of", "mins", "cofnodion"),
    "draft": ("draft", "first edit", "firstedit", "unconfirmed", "unapproved", "drafft"),
    "agenda": ("agenda", "agendas", "summons", "notice of meeting", "notice of the meeting", "hereby summoned"),
    "meeting": ("meeting", "cyfarfod", "agm", "egm", "held at", "held on", "held in", "held by"),
    "attendance": ("present", "apologies", "in attendance", "quorum", "ymddiheuriadau", "declarations of interest"),
    "council": (
        "parish council", "town council", "community council", "district council", "county council",
        "city council", "borough council", "cyngor",
    ),
    "committee": ("committee", "board", "cabinet", "pwyllgor"),
    "accounts": ("accounts", "cyfrifon", "cash book", "cashbook", "balance sheet", "receipts and payments"),
    "statement of accounts": (
        "statement of accounts", "annual return", "annual governance", "accounting statements",
        "accounting statement", "agar", "certificate of exemption", "year ended", "year ending",
    ),
    "audit": ("audit", "auditor", "auditors", "audited", "bdo", "pkf", "mazars", "notice of public rights"),
    "bank reconciliation": ("reconciliation", "bank statement", "bank statements"),
    "budget": ("budget", "precept", "estimates", "reserves", "cyllideb", "variance", "variances"),
    "payments list": (
        "payments over", "payments in excess", "payments made", "expenditure", "items over", "spend over",
        "transparency code", "payee", "gbp100", "gbp250", "gbp500", "over 100", "over 250", "over 500",
    ),
    "invoice": ("invoice", "amount due", "remittance", "vat no", "vat number", "vat reg", "bill to", "payment terms"),
    "purchase order": ("purchase order", "order number"),
    "receipt": ("receipt", "thank you for your purchase", "thank you for your payment"),
    "policy": ("policy", "policies", "polisi"),
    "standing orders": ("standing orders", "rheolau sefydlog"),
    "financial regulations": ("financial regulations", "rheoliadau ariannol"),
    "code of conduct": ("code of conduct", "protocol", "protocols", "cod ymddygiad"),
    "constitution": ("constitution", "terms of reference", "procedure rules", "scheme of delegation", "cyfansoddiad"),
    "strategy": ("strategy", "action plan", "business plan", "corporate plan", "strategaeth"),
    "privacy": (
        "privacy notice", "privacy policy", "privacy statement", "data protection", "gdpr", "personal data",
        "preifatrwydd",
    ),
    "publication scheme": ("publication scheme",),
    "accessibility statement": ("accessibility statement",),
    "guidance": ("guidance", "guide", "handbook", "advice", "leaflet", "canllaw", "canllawiau"),
    "risk": ("risk register", "risk assessment", "risk management", "risk", "risks", "likelihood"),
    "health and safety": ("health and safety", "riddor", "inspection", "fire safety"),
    "accident": ("accident", "injury", "injured", "first aid"),
    "insurance": ("insurance", "insurer", "insured", "employers liability", "premium", "indemnity"),
    "freedom of information": (
        "freedom of information", "foi", "foia", "eir", "environmental information regulations",
        "information request", "request for information", "section 12", "section 21", "section 22",
        "section 36", "section 40", "section 43",
    ),
    "decision notice": ("decision notice", "information commissioner", "ico", "first tier tribunal"),
    "complaint": ("complaint", "complaints", "ombudsman", "complainant", "cwyn"),
    "planning": ("planning", "development", "cynllunio"),
    "planning decision": (
        "planning decision", "planning permission", "notice of decision", "permission is hereby", "approved plans",
        "refusal", "grant of permission",
    ),
    "planning application": (
        "planning application", "application no", "application number", "application ref", "proposed development",
        "proposed erection",
    ),
    "consultation": (
        "consultation", "questionnaire", "survey", "have your say", "objection", "objections", "representations",
        "ymgynghoriad",
    ),
    "traffic order": (
        "traffic regulation", "road traffic", "speed limit", "road closure", "diversion", "temporary prohibition",
        "temporary closure", "highway", "highways",
    ),
    "notice": ("notice", "hysbysiad"),
    "election": ("election", "elections", "poll", "candidate", "candidates", "elected", "ballot", "etholiad"),
    "newsletter": ("newsletter", "cylchlythyr", "shout out", "dates for your diary", "dates for your diaries", "news"),
    "letter": (
        "dear sir", "dear madam", "dear mr", "dear mrs", "dear ms", "dear miss", "dear dr", "dear councillor",
        "dear all", "yours sincerely", "yours faithfully",
    ),
    "report": ("report", "adroddiad"),
    "contract": ("contract", "contracts", "agreement", "terms and conditions", "the parties", "hereby", "contractor"),
    "deed": ("deed", "under seal", "executed as a deed", "common seal", "lease", "conveyance"),
    "non-disclosure": ("non disclosure", "nondisclosure", "confidentiality agreement", "confidential information"),
    "tender": ("tender", "tenders", "quotation", "quotations", "procurement", "invitation to tender", "bid", "bids"),
    "grant": ("grant", "grants", "grant aid", "grantiau"),
    "staff": ("employee", "employees", "staff", "personnel", "employment", "employer"),
    "pay": ("pay", "salary", "salaries", "payroll", "wages", "payslip", "allowance", "allowances", "facility time"),
    "recruitment": (
        "application form", "curriculum vitae", "cv", "shortlist*", "interview", "job description",
        "person specification", "vacancy", "applicant",
    ),
    "social care": (
        "looked after", "care plan", "safeguarding", "child protection", "foster*", "adoption", "social worker",
        "care act", "care leaver*",
    ),
    "pupil": ("pupil", "pupils", "school", "headteacher", "key stage"),
    "project": ("project", "projects", "programme", "milestone*", "user testing", "highlight report", "redesign"),
    "transcript": ("transcript", "hearing", "inquiry", "evidence session"),
    "press": ("press release", "press conference", "press notice", "briefing", "media"),
    "register of interests": (
        "register of interests", "register of members interests", "declaration of acceptance",
        "declaration of interests",
    ),
    "government": ("government response", "minister", "secretary of state", "hm government"),
    "police": ("police", "constabulary", "crime", "pcso"),
    "out of office": ("out of office", "out of the office", "automatic reply", "auto reply", "autoreply"),
}  # fmt: skip

# Dates a council's record carries in its heading: a meeting's day and hour, a financial year.
DATE_CUES: tuple[tuple[str, str], ...] = (
    (
        "meeting date",
        r"\b\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(19|20)\d\d\b"
        r"|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    ),
    ("time of day", r"\b\d{1,2}[.:]\d{2}\s*(am|pm)\b|\b\d{1,2}\s*(am|pm)\b"),
    ("financial year", r"\b(19|20)\d\d\s*[/-]\s*(19|20)?\d\d\b|\b31(st)?\s+march\b|\bfinancial year\b"),
)

# Words that mark Welsh text; a document with several of them is Welsh or bilingual.
_WELSH_WORDS = frozenset(
    ("yr", "mae", "ac", "gyda", "cyngor", "cymuned", "hefyd", "cyfarfod", "cofnodion", "yn", "gan", "ei", "eu",
     "sydd", "wedi", "bod", "hwn", "hon", "dros", "rhwng", "ymlaen", "croeso", "diolch", "cymru", "gymuned",
     "gynghorwyr", "cynghorydd")
)  # fmt: skip
_WELSH_MIN_WORDS = 6

_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_SEPARATORS = re.compile(r"[_\-.+]+")
_COMPILED_DATES = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in DATE_CUES)
_TEXT_LENGTH_BUCKETS = ((0, "empty"), (200, "short"), (3000, "medium"))


class _CueMatcher:
    """Finds the first occurrence of each cue in a token list: one pass, dictionary lookups per token."""

    def __init__(self, cues: dict[str, tuple[str, ...]]) -> None:
        self._by_first: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
        self._by_prefix: list[tuple[str, str, tuple[str, ...], bool]] = []
        for name, phrases in cues.items():
            for phrase in phrases:
                words = tuple(_TOKEN.findall(phrase.rstrip("*").lower()))
                open_ended = phrase.endswith("*")
                if open_ended and len(words) == 1:
                    self._by_prefix.append((name, words[0], words, open_ended))
                else:
                    self._by_first.setdefault(words[0], []).append((name, words, open_ended))

    def find(self, tokens: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Cue name -> (first token, token after the last) of its first occurrence; plurals match too."""
        found: dict[str, tuple[int, int]] = {}
        for i, token in enumerate(tokens):
            candidates = self._by_first.get(token, [])
            if token.endswith("s") and len(token) > 3:  # folders are plural: "Budgets", "Agendas", "Invoices"
                candidates = [*candidates, *self._by_first.get(token[:-1], ())]
            for name, words, open_ended in candidates:
                if name in found:
                    continue
                end = i + len(words)
                if end > len(tokens):
                    continue
                last = tokens[end - 1]
                last_ok = last.startswith(words[-1]) if open_ended else _same_word(last, words[-1])
                if last_ok and all(_same_word(tokens[i + k], words[k]) for k in range(1, len(words) - 1)):
                    found[name] = (i, end)
            for name, prefix, _, _ in self._by_prefix:
                if name not in found and token.startswith(prefix):
                    found[name] = (i, i + 1)
        return found


def _same_word(token: str, word: str) -> bool:
    """The word or its plural ("minute"/"minutes", "invoice"/"invoices")."""
    return token == word or (token.endswith("s") and token[:-1] == word)


_KINDS = _CueMatcher(KIND_CUES)


@dataclass(frozen=True)
class Span:
    """Where a feature was first seen: the region and character offsets into that region's string."""

    where: Where
    start: int
    end: int


@dataclass
class Features:
    """A document's features (name -> value) and where each was first seen (none for whole-document ones)."""

    values: dict[str, float] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def add(self, name: str, value: float, span: Span | None) -> None:
        """Set a feature once; the first span seen stays (regions are visited strongest first)."""
        if name not in self.values:
            self.values[name] = value
            if span is not None:
                self.spans[name] = span


@dataclass(frozen=True)
class _Region:
    label: str  # feature prefix: "title", "heading", "page", "path"
    where: Where
    text: str  # accent-folded, the same length as the original (offsets hold)
    offset: int  # where `text` starts in the original string


def _folded(text: str) -> str:
    """Accent-folded text of the same length (one character for one), so offsets stay valid."""
    if text.isascii():
        return text
    return "".join(fold_accents(char)[:1] or " " for char in text)


def _regions(record: DocumentRecord) -> list[_Region]:
    """The document's regions, strongest first."""
    regions: list[_Region] = []
    if record.title:
        regions.append(_Region("title", "title", _folded(record.title), 0))
    name = record.provenance.name
    if name:
        stem = PurePosixPath(name.replace("\\", "/")).stem
        start = name.replace("\\", "/").rfind(stem)
        regions.append(_Region("title", "name", _NAME_SEPARATORS.sub(" ", _folded(stem)), max(0, start)))
    body = without_mail_headers(record.text)
    offset = len(record.text) - len(body)
    first_page_end = FIRST_PAGE_CHARS
    if record.pages and record.pages[0].end > offset:
        first_page_end = min(FIRST_PAGE_CHARS, record.pages[0].end - offset)  # page 1, not what follows
    regions.append(_Region("heading", "text", _folded(body[: min(HEADING_CHARS, first_page_end)]), offset))
    regions.append(_Region("page", "text", _folded(body[:first_page_end]), offset))
    path = record.provenance.path.replace("\\", "/")
    if path:
        regions.append(_Region("path", "path", _NAME_SEPARATORS.sub(" ", _folded(path)), 0))
    return regions


def _language(tokens: Sequence[re.Match[str]]) -> tuple[str | None, tuple[int, int] | None]:
    """'welsh' or 'bilingual' when the first page has enough Welsh words, with the first one's offsets."""
    welsh = [match for match in tokens if match.group(0) in _WELSH_WORDS]
    if len({match.group(0) for match in welsh}) < _WELSH_MIN_WORDS:
        return None, None
    first = (welsh[0].start(), welsh[0].end())
    return ("welsh" if len(welsh) * 3 > len(tokens) else "bilingual"), first


def document_features(record: DocumentRecord) -> Features:
    """Every feature of a record, each with where it was first seen."""
    features = Features()
    regions = _regions(record)
    words_by_label: dict[str, dict[str, Span]] = {}
    page_tokens: list[re.Match[str]] = []
    for region in regions:
        matches = list(_TOKEN.finditer(region.text.lower()))
        tokens = [match.group(0) for match in matches]
        for name, (first, after) in _KINDS.find(tokens).items():
            span = Span(region.where, region.offset + matches[first].start(), region.offset + matches[after - 1].end())
            features.add(f"kind:{name}@{region.label}", 1.0, span)
        seen = words_by_label.setdefault(region.label, {})
        for match in matches:
            word = match.group(0)
            if word not in seen and len(word) >= MIN_WORD_LETTERS and word.isalpha():
                seen[word] = Span(region.where, region.offset + match.start(), region.offset + match.end())
        if region.label == "page":
            page_tokens = matches
        if region.label in ("title", "heading"):
            for name, pattern in _COMPILED_DATES:
                dated = pattern.search(region.text)
                if dated:
                    span = Span(region.where, region.offset + dated.start(), region.offset + dated.end())
                    features.add(f"date:{name}@{region.label}", 1.0, span)
    # Words, normalised per region so each region weighs the same whatever its length; a word counts once.
    for label, seen in words_by_label.items():
        if seen:
            value = 1.0 / math.sqrt(len(seen))
            for word, span in seen.items():
                features.add(f"word:{word}@{label}", value, span)
    file_type = file_type_of(record)
    if file_type:
        name = record.provenance.name
        dot = name.rfind(".")
        features.add(f"file type:{file_type}", 1.0, Span("name", dot, len(name)) if dot >= 0 else None)
    page_region = next(r for r in regions if r.label == "page")
    language, welsh_word = _language(page_tokens)
    if language and welsh_word:
        start, end = welsh_word
        features.add(f"language:{language}", 1.0, Span("text", page_region.offset + start, page_region.offset + end))
    length = len(record.text.strip())
    bucket = next((label for limit, label in reversed(_TEXT_LENGTH_BUCKETS) if length > limit), "empty")
    features.add(f"length:{bucket}", 1.0, None)
    if any(page.method is PageMethod.OCR for page in record.pages[:1]):
        features.add("scan:ocr", 1.0, None)
    return features


def describe_feature(name: str) -> tuple[str, str]:
    """A feature in a reader's words: (what it is, where), e.g. ("document kind 'minutes'", "title")."""
    kind, _, rest = name.partition(":")
    what, _, region = rest.partition("@")
    region_words = {"title": "title or file name", "heading": "heading", "page": "first page", "path": "folder path"}
    where = region_words.get(region, "")
    if kind == "kind":
        return f"document kind '{what}'", where
    if kind == "date":
        return what, where
    if kind == "word":
        return "wording", where  # the word itself is never repeated in an explanation
    if kind == "file type":
        return f"file type {what}", "file name"
    if kind == "language":
        return f"{what} language", "first page"
    return f"{kind} {what}", ""
