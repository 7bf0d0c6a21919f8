"""Who sent the invoice and who pays it: supplier and customer decided from the document's own signs.

Each sign names a party in a role. For the customer: a "Bill to" / "Rechnungsempfänger" / "Facturé à" block.
For the supplier: a "Sold by" / "Lieferant" label, the letterhead at the top, the footer's registered office or
share-capital line, the holder of the bank account to pay into, and the document's own e-mail or web domain in
a name. Signs are pooled per name (one name written two ways is one party); the supplier is the pooled name
with the most weight that the customer block does not claim. Its confidence grows with independent signs that
agree and shrinks with a rival name's weight; below a floor nothing is answered rather than a guess. A label,
a date, an amount or a code is never answered as a name, whatever sign proposed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docintel.invoices import parse
from docintel.invoices.fields import Candidate, LabelIndex, block_below, normalise_label
from docintel.invoices.layout import Line, Span, Word
from docintel.invoices.vendor import (
    LEGAL_SUFFIX,
    TRADE_SUFFIX,
    address_below,
    clean_name,
    domain_names,
    find_vendor,
)

# How much each kind of sign says "this name is the supplier", as a probability pooled by noisy-OR: a label
# that says so is the strongest; a registered-office footer and the payee of the bank account name the company
# that issues the invoice on nearly every European invoice; a domain match only supports another sign.
VENDOR_LABEL_WEIGHT = 0.8
FOOTER_WEIGHT = 0.7
PAYEE_WEIGHT = 0.7
DOMAIN_WEIGHT = 0.4
# A labelled customer block ("Bill to", "Kunde") names the customer; the weight is its confidence.
CUSTOMER_LABEL_WEIGHT = 0.8
# A rival supplier name lowers the winner's confidence by this share of the rival's own pooled weight.
RIVAL_PENALTY = 0.5
# Below this pooled confidence the supplier is not answered at all (a person reads it).
MIN_PARTY_CONFIDENCE = 0.3
# The footer is the bottom of a page; lines above this fraction of the page height are not footers.
FOOTER_TOP = 0.7
# Lines under a vendor or customer label searched for its value (a parenthesised aside may come first).
LABEL_VALUE_LINES = 4

# Footer lines that name the issuing company: registered office, share capital, registers and their numbers.
FOOTER_MARK = re.compile(
    r"\b(registered\s+office|regd\.?\s+office|registered\s+in\s+(england|scotland|wales|northern\s+ireland)|"
    r"company\s+(registration\s+)?(no|number)|au\s+capital|capital\s+social|si[eè]ge\s+social|rcs|kvk|"
    r"handelsregister|amtsgericht|registergericht|gesch[äa]ftsf[üu]hrer|sitz\s+der\s+gesellschaft|hrb|"
    r"registro\s+mercantil|inscrita)\b",
    re.IGNORECASE,
)
# Who the money goes to: the holder of the account to pay into.
PAYEE_MARK = re.compile(
    r"\b(account\s+name|account\s+holder|titulaire\s+du\s+compte|kontoinhaber|begunstigde|t\.\s?n\.\s?v\.?|"
    r"ten\s+name\s+van|beneficiary|b[ée]n[ée]ficiaire|titular\s+de\s+la\s+cuenta|(?:made\s+)?payable\s+to|"
    r"in\s+fav(?:ou?)r\s+of|a\s+nombre\s+de|zahlungsempf[äa]nger)\b\s*[:\-]?\s*",
    re.IGNORECASE,
)
# Where a name printed inline ends: the next label, a dash or a bank detail.
_NAME_END = re.compile(r"\s+[-–|•·]\s+|[,;:]|\s+\b(iban|bic|swift|sort\s+code|rib|bank)\b", re.IGNORECASE)
# "ATTN: Acme Ltd", "T.a.v. Jan", "z. Hd. Frau": the addressee's line, which names the customer after the prefix.
_ATTENTION = re.compile(
    r"^(attn|attention|fao|for\s+the\s+attention\s+of|t\.?\s?a\.?\s?v|z\.?\s?hd|à\s+l['’]attention\s+de|a/a)\b\.?\s*:?\s*",
    re.IGNORECASE,
)
# Company names are short; a longer line is a sentence of the letter ("Greetings from ... we're writing to ...").
MAX_NAME_WORDS = 8
# Countries printed on their own line at the end of an address block: a place, never a party.
PLACES = frozenset(
    {
        "united kingdom", "uk", "great britain", "england", "scotland", "wales", "northern ireland", "ireland",
        "nederland", "netherlands", "the netherlands", "holland", "deutschland", "germany", "france", "españa",
        "espana", "spain", "belgique", "belgië", "belgie", "belgium", "österreich", "austria", "schweiz", "suisse",
        "switzerland", "italia", "italy", "luxembourg", "portugal", "polska", "poland", "malaysia",
        "selangor", "selangor darul ehsan", "johor", "johor darul takzim", "kuala lumpur", "wilayah persekutuan",
        "pulau pinang", "penang", "singapore",
    }
)  # fmt: skip
# Contact lines are no name ("www.", "@", "Tel"), though a name may hold "Web" ("Amazon Web Services").
_CONTACT = re.compile(r"@|www\.|https?:|\b(tel|phone|fax|e-?mail)\b", re.IGNORECASE)
# A month and day with no year ("April 13", "13 avril"): a date, never a name.
_MONTH_DAY = re.compile(
    rf"^(?:on\s+)?(?:(?:{parse.MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th|er)?\.?\s+"
    rf"(?:{parse.MONTH_NAMES}))\.?$",
    re.IGNORECASE,
)


def not_a_name(text: str, index: LabelIndex) -> str | None:
    """Why a text cannot be a party's name (label, date, amount, code, sentence, place, generic), or None."""
    stripped = text.strip(" :,;|-.#")
    letters = sum(char.isalpha() for char in stripped)
    if normalise_label(stripped) in index.labels:
        return "label"
    date = parse.parse_date(stripped)
    if _MONTH_DAY.match(stripped) or (date is not None and date.end - date.start >= 0.5 * len(stripped)):
        return "date"
    amounts = parse.find_amounts(stripped)
    codes = sum(len(word) for word in re.findall(r"[^\W\d_]+", stripped) if word.upper() in parse.CURRENCY_CODES)
    if amounts and letters - codes < 4:
        return "amount"
    if letters < 2 or (len(stripped.split()) == 1 and any(char.isdigit() for char in stripped)):
        return "code"  # "invoice_number_1", "SCONL0303": one token with digits in it
    if len(stripped.split()) > MAX_NAME_WORDS:
        return "sentence"
    if stripped.lower() in PLACES:
        return "place"
    if _legal_form_only(stripped) or TRADE_SUFFIX.fullmatch(stripped):
        return "generic"  # "(M) SDN BHD", "COMPANY", "ELECTRICAL": a legal form or trade word alone names nobody
    if letters < 0.5 * len(stripped.replace(" ", "")):
        return "code"
    return None


def _legal_form_only(text: str) -> bool:
    """Whether a text is a legal form and its trimmings alone ("(M) SDN BHD"), unlike a short name ("MR D.I.Y. Ltd")."""
    rest = re.sub(r"\([^()]{0,3}\)", " ", LEGAL_SUFFIX.sub(" ", text))
    return LEGAL_SUFFIX.search(text) is not None and sum(char.isalpha() for char in rest) < 2


@dataclass
class Sign:
    """One reason to think a name is a party's: which role, how strong, what kind of sign, where."""

    role: str  # "vendor" or "customer"
    name: str
    words: list[Word]
    weight: float
    kind: str  # label, letterhead, footer, payee
    line_index: int
    address: list[Span] = field(default_factory=list)


@dataclass
class Parties:
    """The supplier and the customer as decided, with the lines the customer's block takes up."""

    vendor: Candidate | None = None
    vendor_kind: str | None = None
    vendor_address: list[Span] = field(default_factory=list)
    customer: Candidate | None = None
    customer_address: list[Span] = field(default_factory=list)
    customer_lines: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _party_key(name: str) -> str:
    """A name compared loosely: lower-case letters and digits, without its legal form."""
    return re.sub(r"[^0-9a-zà-ÿ]", "", LEGAL_SUFFIX.sub(" ", name).lower())


def _same_party(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a)))


def _strip_attention(span: Span) -> Span:
    """The span without an "ATTN:" or "T.a.v." prefix (the words after it name the addressee)."""
    match = _ATTENTION.match(span.text)
    if match is None:
        return span
    consumed, kept = 0, []
    for word in span.words:
        if consumed >= match.end():
            kept.append(word)
        consumed += len(word.text) + 1
    return Span(kept) if kept else span


def _usable(span: Span, index: LabelIndex) -> bool:
    text = span.text.strip(" :,;|-")
    if not text or (text.startswith("(") and text.endswith(")")) or _CONTACT.search(text):
        return False
    return not_a_name(text, index) is None and index.match(span) is None


def _label_value(lines: list[Line], line_index: int, phrase_index: int, used: int, index: LabelIndex) -> Span | None:
    """The name a party label introduces: after it in its phrase, in the next phrase, or under it in its column."""
    line = lines[line_index]
    phrase = line.phrases[phrase_index]
    options: list[Span] = []
    rest = [word for word in phrase.words[used:] if any(char.isalnum() for char in word.text)]
    if rest:
        options.append(Span(rest))
    if phrase_index + 1 < len(line.phrases):
        options.append(line.phrases[phrase_index + 1])
    for option in options:
        named = _strip_attention(option)
        if _usable(named, index):
            return named
    if options:
        return None  # the label's own line holds its value, and that value is no name
    label_left, label_right = phrase.x0, phrase.x1
    limit = line.y1 + LABEL_VALUE_LINES * 1.8 * line.height
    for below in lines[line_index + 1 : line_index + 1 + LABEL_VALUE_LINES]:
        if below.page != line.page or below.y0 > limit:
            break
        column = [p for p in below.phrases if p.x0 <= label_right + 0.02 and p.x1 >= label_left - 0.02]
        if not column:
            continue
        candidate = _strip_attention(column[0])
        text = candidate.text.strip()
        if text.startswith("(") and text.endswith(")"):
            continue  # "(Not to be used for payment remittance)" between a label and its name
        return candidate if _usable(candidate, index) else None
    return None


def _line_index_of(lines: list[Line], word: Word) -> int:
    return next(i for i, line in enumerate(lines) if any(item is word for item in line.words))


def labelled_signs(lines: list[Line], index: LabelIndex, skip: set[int]) -> tuple[list[Sign], set[int]]:
    """Signs from vendor and customer labels, and every line a customer or delivery block takes up."""
    signs: list[Sign] = []
    block_lines: set[int] = set()
    for line_index, line in enumerate(lines):
        if line_index in skip:
            continue
        for phrase_index, phrase in enumerate(line.phrases):
            matched = index.match(phrase)
            if matched is None or matched[0] not in {"VendorName", "CustomerName", "ShipTo"}:
                continue
            name, _, _, used = matched
            value = _label_value(lines, line_index, phrase_index, used, index)
            if name != "VendorName":
                # The customer's (or the delivery) block is never the supplier, whatever it looks like.
                anchor = value if value is not None else Span(phrase.words)
                anchor_line = _line_index_of(lines, anchor.words[0])
                block_lines.update({line_index, anchor_line})
                block = block_below(lines, anchor_line, anchor, index)
                block_lines.update(_line_index_of(lines, span.words[0]) for span in block)
                if name == "CustomerName" and value is not None:
                    signs.append(
                        Sign("customer", clean_name(value.text), value.words, CUSTOMER_LABEL_WEIGHT, "label",
                             anchor_line, block)
                    )  # fmt: skip
            elif value is not None:
                value_line = _line_index_of(lines, value.words[0])
                address = address_below(lines, value_line, value, index)
                signs.append(
                    Sign("vendor", clean_name(value.text), value.words, VENDOR_LABEL_WEIGHT, "label", value_line,
                         address)
                )  # fmt: skip
    return signs, block_lines


def _inline_name(text: str, words: list[Word], start: int) -> tuple[str, list[Word]] | None:
    """The name printed in a line from character ``start`` to the next separator, with its words."""
    rest = text[start:]
    end = _NAME_END.search(rest)
    name = rest[: end.start()] if end else rest
    name = name.strip(" :-–")
    if not name:
        return None
    offset, picked = 0, []
    for word in words:
        if offset + len(word.text) > start and offset < start + len(name):
            picked.append(word)
        offset += len(word.text) + 1
    return name, picked or words


def _legal_name_in(text: str) -> tuple[int, str] | None:
    """The first "Name Legal-form" in a footer line ("Free SAS au capital ..." -> "Free SAS"), with its offset."""
    for suffix in LEGAL_SUFFIX.finditer(text):
        before = text[: suffix.start()]
        cut = max(before.rfind(mark) for mark in (":", ",", "–", " - ", "|", "•", "·", "."))
        start = cut + 1 if cut >= 0 else 0
        name = text[start : suffix.end()].strip()
        words = re.findall(r"[^\W\d_]{2,}", text[start : suffix.start()])
        if 1 <= len(words) <= 6:
            return start + (len(text[start:]) - len(text[start:].lstrip())), name
    return None


def footer_signs(lines: list[Line], index: LabelIndex, exclude: set[int]) -> list[Sign]:
    """Supplier names from registered-office and share-capital footers (the name in the line or just above it)."""
    signs: list[Sign] = []
    for line_index, line in enumerate(lines):
        if line.y0 < FOOTER_TOP or line_index in exclude or not FOOTER_MARK.search(line.text):
            continue
        found = _legal_name_in(line.text)
        if found is not None:
            start, legal_name = found
            inline = _inline_name(line.text, list(line.words), start)
            if inline is not None and len(inline[0]) > len(legal_name):
                # "Free SAS au capital de ..." printed on: the name ends with its legal form.
                inline = _inline_name(line.text[: start + len(legal_name)], list(line.words), start)
            if inline is not None and _usable(Span(inline[1]), index) and not_a_name(inline[0], index) is None:
                signs.append(Sign("vendor", clean_name(inline[0]), inline[1], FOOTER_WEIGHT, "footer", line_index))
                continue
        if line_index > 0:
            above = lines[line_index - 1]
            close = above.page == line.page and line.y0 - above.y1 < 1.5 * max(line.height, above.height)
            span = Span(list(above.words))
            if close and len(above.phrases) == 1 and len(above.words) <= 6 and _usable(span, index):
                signs.append(Sign("vendor", clean_name(span.text), span.words, FOOTER_WEIGHT, "footer", line_index - 1))
    return signs


def payee_signs(lines: list[Line], index: LabelIndex, exclude: set[int]) -> list[Sign]:
    """Supplier names from the bank details: the account holder, "payable to", "in favour of"."""
    signs: list[Sign] = []
    for line_index, line in enumerate(lines):
        if line_index in exclude:
            continue
        match = PAYEE_MARK.search(line.text)
        if match is None:
            continue
        inline = _inline_name(line.text, list(line.words), match.end())
        if inline is not None and _usable(Span(inline[1]), index):
            signs.append(Sign("vendor", clean_name(inline[0]), inline[1], PAYEE_WEIGHT, "payee", line_index))
        elif inline is None and line_index + 1 < len(lines):
            following = lines[line_index + 1]
            span = following.phrases[0]
            if following.page == line.page and _usable(span, index):
                signs.append(Sign("vendor", clean_name(span.text), span.words, PAYEE_WEIGHT, "payee", line_index + 1))
    return signs


def _pooled(weights: list[float]) -> float:
    """Independent signs pooled by noisy-OR: each one leaves only its own doubt."""
    doubt = 1.0
    for weight in weights:
        doubt *= 1.0 - max(0.0, min(1.0, weight))
    return 1.0 - doubt


# Which sign's wording stands for a pooled party: a label's, then the letterhead's, the footer's, the payee's.
_KIND_ORDER = ("label", "letterhead", "footer", "payee")


def decide_parties(lines: list[Line], index: LabelIndex, skip: set[int]) -> Parties:
    """The supplier and customer of a document, from every sign found; no supplier when the signs are too weak."""
    parties = Parties()
    if not lines:
        return parties
    signs, block_lines = labelled_signs(lines, index, skip)
    customers = sorted((s for s in signs if s.role == "customer"), key=lambda s: (s.line_index, -s.weight))
    parties.customer_lines = set(block_lines)
    if customers:
        chosen = customers[0]
        confidence = chosen.weight * (0.5 + 0.5 * Span(chosen.words).conf)
        parties.customer = Candidate("CustomerName", chosen.name, chosen.name, chosen.words, confidence)
        parties.customer_address = chosen.address
    exclude = skip | block_lines
    vendor_signs = [s for s in signs if s.role == "vendor"]
    letterhead = find_vendor(lines, index, exclude)
    if letterhead is not None and isinstance(letterhead.name.value, str):
        vendor_signs.append(
            Sign("vendor", letterhead.name.value, letterhead.name.words, letterhead.name.confidence, "letterhead",
                 letterhead.line_index, letterhead.address)
        )  # fmt: skip
    vendor_signs += footer_signs(lines, index, exclude)
    vendor_signs += payee_signs(lines, index, exclude)
    vendor_signs = [sign for sign in vendor_signs if not_a_name(sign.name, index) is None]
    customer_keys = [_party_key(s.name) for s in customers]
    groups: list[list[Sign]] = []
    for sign in vendor_signs:
        key = _party_key(sign.name)
        if not key or (any(_same_party(key, other) for other in customer_keys) and sign.kind != "label"):
            continue  # the customer's own name, printed again in a letterhead-like place
        for group in groups:
            if any(_same_party(key, _party_key(member.name)) for member in group):
                group.append(sign)
                break
        else:
            groups.append([sign])
    if not groups:
        return parties
    domains = domain_names([line for number, line in enumerate(lines) if number not in block_lines])
    scored = []
    for group in groups:
        best_per_kind: dict[str, float] = {}
        for member in group:
            best_per_kind[member.kind] = max(best_per_kind.get(member.kind, 0.0), member.weight)
        weights = list(best_per_kind.values())
        keys = {_party_key(member.name) for member in group}
        if any(domain in key or (len(key) >= 4 and key in domain) for domain in domains for key in keys):
            weights.append(DOMAIN_WEIGHT)
        scored.append((_pooled(weights), group))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    confidence, group = scored[0]
    if len(scored) > 1:
        confidence *= 1.0 - RIVAL_PENALTY * scored[1][0]
    if confidence < MIN_PARTY_CONFIDENCE:
        parties.notes.append("supplier not answered: the signs for its name were too weak or disagreed")
        return parties
    # A member that carries the legal form speaks for the party ("Free SAS" in the footer over "Free Service
    # Abonné" in the letterhead), then the strongest kind of sign.
    spokesman = min(group, key=lambda s: (LEGAL_SUFFIX.search(s.name) is None, _KIND_ORDER.index(s.kind), -s.weight))
    parties.vendor = Candidate("VendorName", spokesman.name, spokesman.name, spokesman.words, confidence)
    parties.vendor_kind = spokesman.kind
    parties.vendor_address = spokesman.address
    return parties
