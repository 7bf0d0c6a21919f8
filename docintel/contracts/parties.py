"""Who the contract is between: the preamble ("between X and Y"), defined-term parties and letter addressees."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docintel.contracts.models import PartyRole
from docintel.contracts.places import ALL_PLACES

# How far into the document the parties are looked for: a preamble sits on the first page or two.
PREAMBLE_CHARS = 6000
# A party name longer than this is a clause, not a name.
MAX_NAME_CHARS = 90

_QUOTE = "\"'“”‘’"
# Legal-form endings that mark an organisation, not a person.
ORGANISATION_WORDS = re.compile(
    r"\b(?:limited|ltd|plc|llp|lp|llc|l\.l\.c|inc|incorporated|corp|corporation|company|co|group|holdings|trust|"
    r"council|authority|partnership|partners|bank|association|society|university|college|school|foundation|"
    r"charity|cic|cio|agency|department|board|services|systems|technologies|n\.v|ag|s\.a|gmbh|b\.v|nhs|"
    r"commission|office|ministry|fund|capital|management|enterprises|international|industries|associates)\b\.?",
    re.IGNORECASE,
)
# Defined terms that say which side a party is on (council, supplier or neither).
COUNCIL_TERMS = ("council", "authority", "customer", "buyer", "purchaser", "landlord", "grantor", "licensor",
                 "employer", "client", "commissioner", "contracting authority", "county council")  # fmt: skip
SUPPLIER_TERMS = ("supplier", "contractor", "provider", "service provider", "consultant", "grantee", "recipient",
                  "tenant", "licensee", "developer", "owner", "vendor", "seller", "partner",
                  "organisation")  # fmt: skip

_BETWEEN = re.compile(r"\b(?:by\s+and\s+)?between\s*:?\s*", re.IGNORECASE)
_PREAMBLE_END = re.compile(
    r"\b(?:WHEREAS|RECITALS?|BACKGROUND|W\s?I\s?T\s?N\s?E\s?S\s?S\s?E\s?T\s?H|NOW,?\s+THEREFORE|"
    r"IT\s+IS\s+(?:HEREBY\s+)?AGREED"
    r"|Introduction|The\s+parties\s+agree|PREAMBLE)\b|\.\s*\r?\n\s*\r?\n|\.\s+(?=(?:The|This|In|As|Each)\s)"
)
_PARTY_SPLIT = re.compile(
    r"\)\s*[,;]?\s*(?:and|AND|&)\s+|;\s*(?:and\s+)?|,?\s+and\s+(?=\(?\d\)|\(?[ivx]+\)\s)|\(\s*\d\s*\)\s*|\b(?:and|"
    r"AND)\s*\r?\n",
)
# Where a party's name stops: its description ("a Delaware corporation", "whose registered office", address).
_NAME_STOP = re.compile(
    r"\s*\(|,?\s+(?:a|an)\s+(?=[A-Za-z]+\s+(?:corporation|company|limited|body|local|statutory|registered|public|"
    r"private|charit|partnership|individual|national|state|municipal|general|banking))|,\s+(?=[a-z])|\s+whose\s|"
    r"\s+with\s+(?:its|a|their|offices|principal)|\s+(?:of|at)\s+(?=[^,\n]{0,60}\d)|(?:(?<=(?i:council))|(?<=(?i:limited))|(?<=(?i:ltd))|(?<=(?i:plc))|(?<=(?i:llp)))\s+(?:of|at)\s+(?=[^\n(]{0,80}\d)|\s+(?:of|at)\s+(?=(?:[A-Z]\w*\s+){0,3}(?:Hall|House|Headquarters|Offices|Centre|Buildings?|Chambers)\b)|\s+(?:having|located|residing|"
    r"registered|incorporated|organi[sz]ed|acting|trading|hereinafter|herein|on\s+behalf)\b|\s+an\s+individual|"
    r",\s*(?:company|registration|reg\.?)\s|\s+\(?(?:company|registration)\s+(?:no|number)|:|\s{3,}|\r?\n\s*\r?\n"
)
_DEFINED = re.compile(rf"\(\s*(?:the\s+|each\s+a\s+|hereinafter\s+(?:called\s+|"
                      rf"referred\s+to\s+as\s+)?(?:the\s+)?)?[{_QUOTE}]"
                      rf"(?:the\s+)?([A-Z][\w .&-]{{1,40}}?)[{_QUOTE}]", re.IGNORECASE)  # fmt: skip
_LEADING = re.compile(r"^(?:\(?\s*(?:\d|[ivx]+|[a-h])\s*\)\s*|the\s+|THE\s+|and\s+|between\s+|:\s*|[-–•]\s*)+")
_CAPITALISED = re.compile(r"(?:[A-Z][\w.&'’-]*,?\s+(?:(?:of|and|the|de|for|&)\s+)?)*[A-Z][\w.&'’-]*\.?")


# Words that are never a party's whole name: defined roles, months, headings, document words.
_NOT_A_NAME = re.compile(
    r"(?i)^(?:the\s+)?(?:agreement|board(?:\s+of\s+directors)?(?:\s+of\s+.*)?|company|companies|employee|employer|"
    r"executive|"
    r"associate|director|officer|recipient|discloser|disclosing\s+party|receiving\s+party|party|parties|section|"
    r"schedule|"
    r"representatives?|information|confidential\s+information|background|recitals?|whereas|witnesseth|name|title|date|"
    r"by|signature|affiliated\s+companies|subsidiaries|affiliates|buyer|seller|purchaser|distributor|consultant|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|usa|united\s+states|exhibit.*|dear.*|re|"
    r"attention.*)\.?$"
)
_ADDRESS = re.compile(r"(?i)\d.*\b(?:drive|street|st\.|road|rd\.|avenue|ave\.?|boulevard|blvd|suite|floor|lane|way|"
                      r"place|"
                      r"plaza|park|square|court|p\.?o\.?\s+box)\b|\b(?:drive|street|avenue|boulevard|"
                      r"suite)\b.*\d")  # fmt: skip
_DOCUMENT_WORDS = re.compile(r"(?i)\b(?:agreement|confidential|section|exhibit|act|hereof|herein|parties)\b")
_MONTHS_OR_PLACES = re.compile(
    r"(?i)^(?:january|february|march|april|may|june|july|august|september|october|november|december)\b"
)


# Legal-form endings; a name ends at the last of a run of them ("Xinyuan Real Estate Co., Ltd.").
_LEGAL_FORM = (
    r"(?:Inc\.?|Incorporated|Corp\.?|Corporation|Co\.|Company|L\.?L\.?C\.?|L\.?L\.?P\.?|L\.?P\.?|Ltd\.?|Limited|PLC|plc|"
    r"N\.V\.|AG|S\.A\.|GmbH|B\.V\.|N\.A\.)"
)
_AFTER_LEGAL_FORM = re.compile(rf"^(?P<name>.*?\b{_LEGAL_FORM}(?:,?\s+{_LEGAL_FORM})*)(?P<rest>(?:[\s,(].*)?)$")
_TRAILING_WORDS = re.compile(
    r"(?:,?\s+(?:M\.D\.|Ph\.D\.|Esq\.?|Date|Print|Title|Name|Signature|Exhibit|Effective|Dated|By))+\.?$|\s*[“\"(].*$"
)
# Words that never occur in a party's name but do in the clauses the patterns catch by mistake.
_CLAUSE_WORDS = frozenset(
    {"you", "your", "whereas", "therefore", "effective", "dated", "signature", "print", "committee", "plan", "plans",
     "code", "remedies", "either", "neither", "no", "refrain", "potential", "retirement", "resignation", "address",
     "employee", "executive", "values", "ethics", "conduct", "acknowledgements", "definitions", "xxxx", "any", "its",
     "background", "other", "country", "inventions", "may", "board", "directors", "disclosing", "receiving", "party"}
)  # fmt: skip
_PLACES_LOWER = frozenset(place.lower() for place in ALL_PLACES)
_STATE_CODES = frozenset(
    ("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
     "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
     "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC")
)  # fmt: skip


def tidy_name(name: str) -> str:
    """A party name cut after its legal form and stripped of degrees, labels and defined-term quotes."""
    name = re.sub(r"\s+", " ", name).strip(" ,;:.") + ("." if name.rstrip().endswith(".") else "")
    name = _TRAILING_WORDS.sub("", name).strip(" ,;:")
    cut = _AFTER_LEGAL_FORM.match(name)
    if cut and cut.group("rest") and not re.match(r"^\s*(?:of|&|and)\b", cut.group("rest").lstrip(" ,")):
        name = cut.group("name")
    return name.strip(" ,;:")


_JOINED = re.compile(rf"^(?P<first>.*?\b{_LEGAL_FORM})\s+(?:and|&)\s+(?P<second>[A-Z].*)$")


def split_joined(name: str) -> list[str]:
    """Two organisations written as one ("Harbert Fund Advisors, Inc. and Harbert Management Corporation")."""
    parts: list[str] = []
    rest = name
    while (joined := _JOINED.match(rest)) is not None:
        parts.append(joined.group("first"))
        rest = joined.group("second")
    return [*parts, rest] if rest else parts


def plausible_party(name: str) -> bool:
    """False for what the patterns catch that is not a party: roles, months, headings, addresses, possessives."""
    if _NOT_A_NAME.match(name) or _ADDRESS.search(name) or _MONTHS_OR_PLACES.match(name):
        return False
    if name.lower() in _PLACES_LOWER:
        return False
    tail = name.rsplit(",", 1)
    if len(tail) == 2 and (tail[1].strip() in _STATE_CODES or tail[1].strip() in ALL_PLACES):
        return False
    if re.match(r"(?i)^compan(?:y|ies)\b", name):
        return False
    words = {word.strip(".,;:()").lower() for word in name.split()}
    if words & _CLAUSE_WORDS or (len(words) == 1 and any(word.isdigit() for word in words)):
        return False
    if name.endswith(("’s", "'s", "’S", "'S")):
        return False
    if _DOCUMENT_WORDS.search(name) and not ORGANISATION_WORDS.search(name):
        return False
    return not re.search(r"(?i)\b(?:and|or)\s+the\b|\band\s+(?:my|your)self\b", name)


@dataclass(frozen=True)
class PartyMatch:
    """A party name found in the text, its offsets, the defined term it was given and how it was found."""

    name: str
    start: int
    end: int
    defined_as: str | None
    rule: str


def is_organisation(name: str) -> bool:
    """True when the name carries a legal form or an institution's word (a person's name does not)."""
    return bool(ORGANISATION_WORDS.search(name)) or (name.isupper() and len(name.split()) > 3)


def role_for(name: str, defined_as: str | None) -> PartyRole:
    """The party's side: the council (or whoever buys), the supplier (or whoever provides), or other."""
    term = (defined_as or "").strip().lower().removeprefix("the ")
    if term in COUNCIL_TERMS or re.search(r"\b(?:council|authority)\b", name, re.IGNORECASE):
        return PartyRole.COUNCIL
    if term in SUPPLIER_TERMS:
        return PartyRole.SUPPLIER
    return PartyRole.OTHER


def clean_name(text: str, start: int) -> tuple[str, int, int] | None:
    """A party name at the head of ``text`` (which starts at offset ``start``), trimmed of descriptions."""
    lead = _LEADING.match(text)
    offset = lead.end() if lead else 0
    body = text[offset:]
    stop = _NAME_STOP.search(body)
    name = body[: stop.start()] if stop else body[:MAX_NAME_CHARS]
    name = re.sub(r"\s+", " ", name).strip(" ,;:" + _QUOTE)
    # A name may start in lower case when a legal form says it is a name ("resTORbio, Inc.").
    if not name or len(name) > MAX_NAME_CHARS:
        return None
    if not (name[0].isupper() or name[0].isdigit() or re.search(rf"\b{_LEGAL_FORM}$", name)):
        return None
    words = name.split()
    if len(words) > 12 or sum(1 for w in words if w[:1].isupper() or w[:1].isdigit()) < max(1, len(words) // 2):
        return None
    if re.fullmatch(r"(?i)(?:this|the)?\s*(?:agreement|parties|party|company|undersigned|you|we|i)", name):
        return None
    if not plausible_party(name):
        return None
    head = start + offset + (body.find(name.split()[0]) if name.split()[0] in body else 0)
    return name, head, head + len(name)


def preamble_parties(text: str) -> list[PartyMatch]:
    """Parties named in a "between X and Y" preamble, in order."""
    window = text[:PREAMBLE_CHARS]
    between = _BETWEEN.search(window)
    if between is None:
        return []
    rest_start = between.end()
    end = _PREAMBLE_END.search(window, rest_start + 10)
    segment_end = end.start() if end else min(len(window), rest_start + 1500)
    found: list[PartyMatch] = []
    position = rest_start
    pieces: list[tuple[int, int]] = []
    for split in _PARTY_SPLIT.finditer(window, rest_start, segment_end):
        if split.start() > position:
            pieces.append((position, split.start() + (1 if window[split.start()] == ")" else 0)))
        position = split.end()
    pieces.append((position, segment_end))
    for piece_start, piece_end in pieces:
        piece = window[piece_start:piece_end]
        cleaned = clean_name(piece, piece_start)
        if cleaned is None:
            continue
        defined = _DEFINED.search(piece)
        found.append(PartyMatch(cleaned[0], cleaned[1], cleaned[2], defined.group(1) if defined else None, "between"))
        if len(found) == 4:
            break
    return found


def defined_term_parties(text: str) -> list[PartyMatch]:
    """Names given a party's defined term anywhere in the preamble: 'Acme Ltd (the "Supplier")'."""
    window = text[:PREAMBLE_CHARS]
    found: list[PartyMatch] = []
    for defined in _DEFINED.finditer(window):
        term = defined.group(1).strip()
        if term.lower() in ("agreement", "effective date", "confidential information", "purpose", "transaction"):
            continue
        before = window[max(0, defined.start() - 200) : defined.start()]
        # The name is the last capitalised run before the parenthesis, past any ", a Delaware corporation".
        before = re.split(r",?\s+(?:a|an)\s+[A-Za-z ]{0,40}(?:corporation|company|partnership|limited)[^,(]*,?\s*$",
                          before)[0]  # fmt: skip
        names = list(_CAPITALISED.finditer(before))
        if not names:
            continue
        match = names[-1]
        name = re.sub(r"\s+", " ", match.group(0)).strip(" ,")
        if len(name) < 3 or len(name) > MAX_NAME_CHARS or not plausible_party(name):
            continue
        start = max(0, defined.start() - 200) + match.start()
        found.append(PartyMatch(name, start, start + len(match.group(0)), term, "defined_term"))
    return found


# A letter agreement: the addressee block between the date line and "Dear ..." / "Ladies and Gentlemen".
_SALUTATION = re.compile(r"\n\s*(?:Dear\s|Ladies\s+and\s+Gentlemen|Gentlemen|To\s+whom)", re.IGNORECASE)
# Signature-block labels of an individual party ("EMPLOYEE: Adrian Adams", "EXECUTIVE /s/ Jane Doe").
_INDIVIDUAL_LABEL = re.compile(
    r"(?:^|\n)[ \t]*(?:EMPLOYEE|EXECUTIVE|ASSOCIATE|DIRECTOR|CONSULTANT|INDIVIDUAL|ADVISOR|OFFICER|OPTIONEE)\s*:?[ \t]*"
    r"(?:/s/\s*)?(?P<name>[A-Z][a-zA-Z.'’-]+(?:[ \t]+[A-Z][a-zA-Z.'’-]*){1,3})[ \t]*(?=\n|$)"
)
_SIGNED = re.compile(r"/s/\s*(?P<name>[A-Z][a-zA-Z.'’-]+(?:[ \t]+[A-Z][a-zA-Z.'’-]*){1,3})")
# How much of the end of the document holds the signature blocks.
SIGNATURE_CHARS = 4000


def letter_parties(text: str) -> list[PartyMatch]:
    """The sender (letterhead) and addressee organisations of a letter agreement."""
    head = text[:PREAMBLE_CHARS]
    salutation = _SALUTATION.search(head)
    if salutation is None:
        return []
    found: list[PartyMatch] = []
    offset = 0
    for line in head[: salutation.start()].splitlines(keepends=True):
        stripped = line.strip().strip(",")
        start = offset + line.find(stripped) if stripped else offset
        offset += len(line)
        if not stripped or len(stripped) > MAX_NAME_CHARS or not is_organisation(stripped):
            continue
        if plausible_party(stripped) and not re.match(r"(?i)^(?:ex-|exhibit)", stripped):
            found.append(PartyMatch(stripped, start, start + len(stripped), None, "letter"))
    return found


def individual_party(text: str) -> PartyMatch | None:
    """A person who is a party in their own right (employee, executive, director), from the signature blocks."""
    tail_start = max(0, len(text) - SIGNATURE_CHARS)
    tail = text[tail_start:]
    labelled = _INDIVIDUAL_LABEL.search(tail)
    if labelled:
        name = labelled.group("name").strip()
        return PartyMatch(
            name, tail_start + labelled.start("name"), tail_start + labelled.end("name"), None, "signature"
        )
    for signed in _SIGNED.finditer(tail):
        line_start = tail.rfind("\n", 0, signed.start()) + 1
        before = tail[max(line_start, signed.start() - 12) : signed.start()]
        if re.search(r"(?i)\bby\b|\bits\b", before):
            continue
        name = signed.group("name").strip()
        if not is_organisation(name):
            return PartyMatch(
                name, tail_start + signed.start("name"), tail_start + signed.end("name"), None, "signature"
            )
    return None


# A signature block: the organisation's name on its own line, then "By:" on one of the next lines.
_SIGNING_ORGANISATION = re.compile(
    r"(?:^|\n)[ \t]*(?P<name>[^\n]{3,90}?)[ \t:]*\n(?:[ \t]*\n)?[ \t]*By\s*:", re.IGNORECASE
)


def signing_organisations(text: str) -> list[PartyMatch]:
    """Organisations named above a "By:" line in the signature blocks at the end of the document."""
    tail_start = max(0, len(text) - SIGNATURE_CHARS)
    found: list[PartyMatch] = []
    for match in _SIGNING_ORGANISATION.finditer(text, tail_start):
        name = tidy_name(match.group("name").strip())
        if is_organisation(name) and plausible_party(name) and re.search(rf"\b{_LEGAL_FORM}$", name):
            found.append(PartyMatch(name, match.start("name"), match.start("name") + len(name), None, "signature"))
    return found


# An organisation mentioned by its full name with a legal form ("Virginia National Bank", "Acme Holdings, Inc.").
_ORGANISATION_MENTION = re.compile(
    rf"(?<![\w.])(?:[A-Z][\w.&'’!-]*,?[ \t]+(?:(?:of|and|&|the)[ \t]+)?){{0,5}}{_LEGAL_FORM}(?![\w])"
)
# How far into the document an unlabelled organisation counts as a party.
MENTION_CHARS = 1500


def mentioned_organisations(text: str) -> list[PartyMatch]:
    """Organisations named with a legal form near the top, in order: the last resort for a one-party reading."""
    found: list[PartyMatch] = []
    for match in _ORGANISATION_MENTION.finditer(text[:MENTION_CHARS]):
        name = tidy_name(match.group(0))
        if len(name.split()) >= 2 and plausible_party(name) and not re.match(rf"^{_LEGAL_FORM}$", name):
            found.append(PartyMatch(name, match.start(), match.start() + len(name), None, "mention"))
    return found
