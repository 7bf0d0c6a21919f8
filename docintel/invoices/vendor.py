"""The vendor's name and address: the letterhead at the top of page one, read the way a clerk reads it.

A letterhead is a name, then the address lines under it until the phone, tax number or document title.
The name is chosen among the top lines by what a company name looks like rather than by position alone:
a legal-form or trade suffix (Ltd, PLC, GmbH, Sdn Bhd, Enterprise, Trading...), a match with the domain
of the document's own e-mail address or website, the same name repeated further down (a footer), large
type, and nearness to the top. Receipts (a name, then address lines, centred) and invoices (a name in one
column, the invoice details in another) both fit that shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docintel.invoices import parse
from docintel.invoices.fields import Candidate, LabelIndex, without_junk_prefix
from docintel.invoices.layout import Line, Span

# Only the top of page one holds the letterhead (a footer repeat is evidence, not a candidate).
LETTERHEAD_BOTTOM = 0.45
# Lines further apart than this many line heights are separate blocks.
BLOCK_GAP_HEIGHTS = 2.2
# Most addresses fit in this many lines.
MAX_ADDRESS_LINES = 5
# Phrases of one line closer than this many line heights may together be one name ("SRI    MELUR    ENTERPRISE"
# on a receipt: edges are fractions of the page, so on a tall receipt a gap reads about twice as wide).
WHOLE_LINE_GAP_HEIGHTS = 6
# OCR reads a logo or a picture above the name as junk words with confidence near 0; a name is read better.
MIN_NAME_CONFIDENCE = 0.45

LEGAL_SUFFIX = re.compile(
    r"\b(ltd|limited|plc|llp|llc|inc|corp|corporation|b\.?\s?v|n\.?\s?v|gmbh|ag|s\.?\s?a\.?\s?s?|sarl|s\.?r\.?l|"
    r"s[do0]n\.?\s?(?:b[hn][do0]|8hd)|bhd|berhad|s/b|pty|pvt|p\.?\s?l\.?c|spółka akcyjna|sp\.? z o\.?\s?o|oy|ab|"
    r"s\.?\s?b)\b\.?",
    re.IGNORECASE,
)
TRADE_SUFFIX = re.compile(
    r"\b(enterprises?|trading|traders?|co|company|services|group|holdings|industries|restaurants?|cafe|café|"
    r"bakery|stores?|mart|supermarket|hardware|electrical|stationery|pharmacy|station|hotel|kitchen|"
    r"perniagaan|syarikat|kedai|solutions|consulting|associates|partners|council)\b\.?",
    re.IGNORECASE,
)
# Document titles, greetings and boilerplate that sit at the top but are not a name.
_TITLE = re.compile(
    r"^(simplified\s+|full\s+|official\s+|original\s+|copy\s+|kopie\s+)?(tax\s+)?(invoice|receipt|bill|cash\s+bill|"
    r"credit\s+note|statement|quotation|delivery\s+note|payment\s+receipt|factuur|rechnung|facture|faktura|"
    r"cash\s+sales?|sales\s+receipt|order|guest\s+check|welcome|thank\s+you)\b|"
    # "Date:", "Time 10:25", "Page 1", "To" alone; but not "TIME OUT CAFE" or "TOPAZ STORES".
    r"^(page|date|time|to|from|copy|original)\b\s*([:#.\d]|$)|"
    # Who served and where: "Cashier: Amy", "Salesperson. Dan", "Table 9", "Counter 2", "Served by Jo".
    r"^(cashier|salesperson|sales\s+person|operator|counter|table|till|terminal|served\s+by|staff)\b",
    re.IGNORECASE,
)
_REGISTRATION = re.compile(
    r"(\b(reg|regd|registration|registered|company\s+no|co\.?\s?no|roc|gst|vat|sst|tin|gstin|cin|siren|siret|kvk|"
    r"coc|btw|ust|tax\s+id|business\s+no|abn)\b|^\(?[A-Z]{0,3}\d{4,}[-\s]?[A-Z]?\)?$|"
    # A company number in brackets anywhere on the line: "BR NO.: (204711-H)", "(CO. NO. 330152-W)".
    r"\([^()]*\d{4,}\s?-?\s?[A-Z]?\s*[)}\]])",
    re.IGNORECASE,
)
CONTACT = re.compile(
    r"(\btel\b|\btelephone\b|\bphone\b|\bfax\b|\bmobile\b|\bhp\b|\bh/p\b|@|www\.|https?:|\be-?mail\b|\bweb\b|"
    r"\b0\d{1,3}[-\s]?\d{6,8}\b)",
    re.IGNORECASE,
)
_DOMAIN = re.compile(r"(?:@|www\.|https?://(?:www\.)?)([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*)", re.IGNORECASE)
_GENERIC_DOMAINS = frozenset({"gmail", "yahoo", "hotmail", "outlook", "example", "mail", "live", "icloud", "aol"})
# What a name line is not: the first line of an address ("No. 18, Jalan ...", "Lot 6 ...", "Unit 4, ...").
# A number starting a name is no sign ("7 Star Mart"); a number with a comma or "&" after it is ("67, Jln").
_ADDRESS_START = re.compile(r"^(?:no[.:]?\s?\d|lot\s?\d|unit\s|level\s?\d|suite\s|\d+[a-z]?\s?[,&/])", re.IGNORECASE)
# Fewer letters than this is a logo's initials or OCR junk more often than a trading name.
MIN_NAME_LETTERS = 4
SHORT_NAME_PENALTY = -0.5
# The letterhead's shape: a name with address lines under it that reach a postcode.
LETTERHEAD_SHAPE_EVIDENCE = 0.4
# A postcode or zip: UK, five-digit (Malaysia, France, Germany, US), Dutch.
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|(?<![\d-])\d{5}(?![\d-])|\b\d{4}\s?[A-Z]{2}\b")


# "SITE: 1048", "TABLE : BAR 7": a label, a colon and a short value, which no address line looks like.
_LABEL_VALUE = re.compile(r"^[^\W\d_][\w .#/-]{0,20}?\s?:\s?\S")
_CORPORATE_NOTE = re.compile(
    r"\b(formerly|previously|trading\s+as|t/a|licensee|franchisee|a\s+member\s+of|a\s+division\s+of|part\s+of)\b",
    re.IGNORECASE,
)
# A region or country on its own line, up to three words without digits ("SELANGOR.", "West Yorkshire").
_REGION = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+){0,2}\.?")
# A time of day or opening hours ("18:25", "1000 HRS").
_CLOCK = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)|\b\d{3,4}\s?HRS\b|\bhours\b", re.IGNORECASE)


@dataclass
class VendorBlock:
    """The vendor's name (and the lines it came from) and the address lines under it."""

    name: Candidate
    line_index: int
    address: list[Span]


def domain_names(lines: list[Line]) -> set[str]:
    """Second-level names of the document's e-mail and web domains ("azure-interior.com" -> "azureinterior")."""
    names: set[str] = set()
    for line in lines:
        for match in _DOMAIN.finditer(line.text):
            parts = match.group(1).lower().split(".")
            if len(parts) < 2:
                continue
            label = parts[-3] if len(parts) >= 3 and len(parts[-2]) <= 3 else parts[-2]
            label = label.replace("-", "")
            if len(label) >= 3 and label not in _GENERIC_DOMAINS:
                names.add(label)
    return names


def _mean_conf(span: Span) -> float:
    return sum(word.conf for word in span.words) / len(span.words)


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-zà-ÿ]", "", text.lower())


def name_like(text: str, index: LabelIndex, span: Span) -> bool:
    """True when a text could be a company name: mostly letters, not a title, label, contact line or date."""
    letters = sum(char.isalpha() for char in text)
    if letters < 2 or letters < 0.55 * len(text.replace(" ", "")):
        return False
    if text.startswith("(") and text.endswith(")"):
        return False  # an aside ("(Not to be used for payment remittance)"), not a name
    if _TITLE.search(text) or CONTACT.search(text) or _REGISTRATION.search(text):
        return False
    if parse.parse_date(text) or (parse.find_amounts(text) and letters < 4):
        return False
    return index.match(span) is None


def _units(line: Line, index: LabelIndex) -> list[Span]:
    """The phrases of a line, and the whole line when all its phrases are name-like (wide-spaced receipt type).

    A phrase that is only a legal form ("Sdn Bhd" set apart by OCR's gaps) is no name alone: it stands for the
    phrases before it on the line with it. A leading word OCR was unsure of (a speck before the name) is left out.
    """
    units = []
    for position, phrase in enumerate(line.phrases):
        unit = phrase
        if position and legal_tail(phrase.text):
            unit = Span([word for earlier in line.phrases[: position + 1] for word in earlier.words])
        units.append(without_junk_prefix(unit))
    if len(line.phrases) > 1 and not POSTCODE.search(line.text.upper()):
        whole = Span(list(line.words))
        gaps_ok = all(
            b.x0 - a.x1 < WHOLE_LINE_GAP_HEIGHTS * line.height
            for a, b in zip(line.phrases, line.phrases[1:], strict=False)
        )
        labelled = any(index.match(phrase) is not None for phrase in line.phrases)
        if gaps_ok and not labelled and name_like(_without_registration(whole.text), index, whole):
            units.append(without_junk_prefix(whole))
    return units


_INLINE_REGISTRATION = re.compile(r"\(?\b[A-Z]{0,3}\d{4,}-?[A-Z]?\b\)?\s*$", re.IGNORECASE)


def _without_registration(text: str) -> str:
    """A name line without the company number printed after it ("7 STAR MART S/B (402113-X)")."""
    return _INLINE_REGISTRATION.sub("", text).strip()


def legal_tail(text: str) -> bool:
    """True when a line is only a legal form and its trimmings ("SDN BHD", "CO. (M) SDN BHD", "LIMITED")."""
    rest, count = LEGAL_SUFFIX.subn(" ", _without_registration(text))
    return count > 0 and not any(
        len(word) >= 3 for word in re.findall(r"[^\W\d_]+", re.sub(r"\([^()]{0,3}\)", " ", rest))
    )


# OCR misreads of the Malaysian legal form, one letter off ("SDN BND", "SDN 8HD", "SON BHD"): read as written.
_SDN_BHD_MISREAD = re.compile(r"\bS[DO0]N\.?\s?(?:B[HN][DO0]|8HD|BH0)\b\.?", re.IGNORECASE)


def clean_name(text: str) -> str:
    """A name cut after its legal form ("Acme Ltd, 1 High St" -> "Acme Ltd") and without a trailing title word."""
    text = _SDN_BHD_MISREAD.sub("SDN BHD", _without_registration(text.strip(" :,;|-")))
    suffixes = list(LEGAL_SUFFIX.finditer(text))
    suffix = suffixes[-1] if suffixes else None
    if suffix is not None and suffix.end() < len(text) and suffix.start() > 0:
        text = text[: suffix.end()]
    text = re.sub(r"\s+(tax\s+)?(invoice|receipt|factuur|rechnung|facture)$", "", text, flags=re.IGNORECASE)
    return text.strip(" :,;|-")


def find_vendor(lines: list[Line], index: LabelIndex, exclude: set[int]) -> VendorBlock | None:
    """The letterhead: the best company-name candidate at the top of page one and the address lines under it."""
    if not lines:
        return None
    page = lines[0].page
    top = [i for i, line in enumerate(lines) if line.page == page and line.y0 <= LETTERHEAD_BOTTOM and i not in exclude]
    if not top:
        return None
    heights = sorted(lines[i].height for i in top)
    median_height = heights[len(heights) // 2] or 1e-6
    domains = domain_names(lines)
    compact_lines = [_compact(line.text) for line in lines]
    best: tuple[float, int, Span, float] | None = None
    name_like_seen = 0
    for i in top:
        line_scored = False
        fragment_evidence = 0.0
        fragment_score = float("-inf")
        units = _units(lines[i], index)
        for unit in units:
            text = _without_registration(unit.text.strip(" :,;|-"))
            if not name_like(text, index, unit) or _mean_conf(unit) < MIN_NAME_CONFIDENCE or _address_like(text):
                continue
            line_scored = True
            compact = _compact(text)
            score = min(unit.height / median_height, 2.5) + (1 - unit.y0) * 0.8 - 0.15 * name_like_seen
            evidence = 0.0
            if LEGAL_SUFFIX.search(text):
                evidence += 1.5
            elif TRADE_SUFFIX.search(text):
                evidence += 0.8
            if any(domain in compact or (len(compact) >= 4 and compact in domain) for domain in domains):
                evidence += 1.2
            if len(compact) >= 5 and any(
                compact in other for j, other in enumerate(compact_lines) if abs(j - i) > 3 and lines[j].y0 > 0.5
            ):
                evidence += 0.5
            whole_line = unit is units[-1] and len(units) > len(lines[i].phrases)
            if whole_line:
                # The whole wide-spaced line carries its fragments' evidence (a word of it repeated in a footer
                # is evidence for the whole name), and so beats them.
                evidence = max(evidence, fragment_evidence)
            else:
                fragment_evidence = max(fragment_evidence, evidence)
            if sum(char.isalpha() for char in text) < MIN_NAME_LETTERS:
                score += SHORT_NAME_PENALTY
            if _heads_address(lines, i, unit, index):
                evidence += LETTERHEAD_SHAPE_EVIDENCE
            score += evidence + 0.05 * len(unit.words)
            if whole_line:
                # A short word in the line ("&") lowers its median height: the whole still beats its parts.
                score = max(score, fragment_score + 0.01)
            else:
                fragment_score = max(fragment_score, score)
            if best is None or score > best[0]:
                best = (score, i, unit, evidence)
        name_like_seen += line_scored
    if best is None:
        return None
    _, line_index, unit, evidence = best
    name_spans = [unit]
    end_index = line_index
    # Only the legal form won ("SDN BHD", "CO. (M) SDN BHD" under "CAHAYA BOOK"): the name is the line above.
    if line_index > 0 and legal_tail(unit.text):
        above = lines[line_index - 1]
        above_text = _without_registration(above.text.strip(" :,;|-"))
        close = unit.y0 - above.y1 < BLOCK_GAP_HEIGHTS * max(above.height, unit.height)
        if above.page == page and close and name_like(above_text, index, Span(list(above.words))):
            name_spans.insert(0, Span(list(above.words)))
            line_index -= 1
    # A name broken over two lines: "SINAR BARU HARDWARE &" / "ELECTRICAL", or the legal form on its own line.
    if line_index + 1 < len(lines) and lines[line_index + 1].page == page:
        following = lines[line_index + 1]
        following_text = following.text.strip()
        if unit.text.rstrip().endswith(("&", " and", " AND", "-")) or (
            not LEGAL_SUFFIX.search(unit.text) and legal_tail(following_text)
        ):
            name_spans.append(Span(list(following.words)))
            end_index = line_index + 1
    text = clean_name(" ".join(span.text.strip(" :,;|") for span in name_spans))
    words = [word for span in name_spans for word in span.words]
    confidence = min(0.95, 0.5 + 0.15 * min(evidence, 2.5)) * (0.5 + 0.5 * min(span.conf for span in name_spans))
    candidate = Candidate("VendorName", text, text, words, confidence)
    address = address_below(lines, end_index, name_spans[0], index)
    return VendorBlock(candidate, line_index, address)


def _address_like(text: str) -> bool:
    """Whether a line reads as an address line, never the name: a house number first, or a postcode without a
    legal form before it (a one-line letterhead "Acme Ltd, 1 High St, Leeds LS1 4AB" still names the company)."""
    if _ADDRESS_START.search(text):
        return True
    postcode = POSTCODE.search(text.upper())
    return postcode is not None and not LEGAL_SUFFIX.search(text[: postcode.start()])


def _heads_address(lines: list[Line], line_index: int, unit: Span, index: LabelIndex) -> bool:
    """Whether address lines reaching a postcode follow a name candidate in its column."""
    return any(POSTCODE.search(span.text.upper()) for span in address_below(lines, line_index, unit, index))


def address_below(lines: list[Line], line_index: int, anchor: Span, index: LabelIndex) -> list[Span]:
    """Address lines under a name, in its column, to the postcode (and a state after it), stopping at contacts,
    labels and titles; company numbers and dates between the name and the first address line are passed over."""
    block: list[Span] = []
    previous = lines[line_index]
    # Centred letterheads put longer address lines either side of a short name.
    left, right = anchor.x0 - 0.15, max(anchor.x1, anchor.x0 + 0.2) + 0.15
    postcode_seen = False
    for line in lines[line_index + 1 : line_index + 1 + MAX_ADDRESS_LINES * 2]:
        if line.page != previous.page or line.y0 - previous.y1 > BLOCK_GAP_HEIGHTS * max(previous.height, line.height):
            break
        column = [phrase for phrase in line.phrases if phrase.x0 < right and phrase.x1 > left]
        if not column:
            continue
        span = Span([word for phrase in column for word in phrase.words])
        text = span.text.strip()
        if sum(char.isalnum() for char in text) < 2:
            continue  # a speck or a rule OCR read as a character or two, inside the block
        # Between the name and the address sit company numbers, a printed date or a "SITE: 1048"; after the
        # address (its postcode read) the same lines end it, and so does a branch name in brackets.
        aside = (
            (_REGISTRATION.search(text) and not POSTCODE.search(text.upper()))
            or (_LABEL_VALUE.search(text) and not _ADDRESS_START.search(text))  # but "No: 1-1, Jalan ..."
            or (not block and (parse.parse_date(text) or _CLOCK.search(text)))
            # "formerly known as ...", "Licensee of ...", another company's name: about the company, not where it is.
            or (not block and (_CORPORATE_NOTE.search(text) or LEGAL_SUFFIX.search(text)))
        )
        if aside and not block:
            previous = line
            continue
        if aside or (postcode_seen and (text.startswith("(") or _CLOCK.search(text))):
            break
        if postcode_seen and not (block[-1].text.rstrip().endswith((",", "-")) or _REGION.fullmatch(text)):
            break  # after the postcode only a region or country ("SELANGOR DARUL EHSAN") continues the address
        if CONTACT.search(text) or _TITLE.search(text) or index.match(span) is not None or parse.parse_date(text):
            break
        if sum(char.isalpha() for char in text) < 2:
            break
        block.append(span)
        previous = line
        postcode = POSTCODE.search(text.upper())
        # A UK (or Dutch) postcode ends the address ("Leeds LS1 4AB"); a numeric one may be followed by a
        # region ("45900 SUNGAI LIMAU" / "SELANGOR DARUL EHSAN").
        final = postcode is not None and not postcode.group(0).isdigit() and not text[postcode.end() :].strip(" .,")
        if postcode_seen or len(block) >= MAX_ADDRESS_LINES or final:
            break
        postcode_seen = postcode is not None
    return block
