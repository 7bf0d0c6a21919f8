"""Presidio's generic recognizers, adapted to run offline and for UK numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers
import tldextract
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

# Phone numbers are personal data whatever their country. GB comes first: a UK council's national-format
# numbers ("0113 496 0000") are read as UK ones, and any number written internationally ("+1 415 555 2671",
# "0033 1 42 68 53 00") is found by the GB pass already, whatever its country.
UK_PHONE_REGIONS = ("GB",)
# National formats of other countries, tried after GB on text no GB number covers. Each region costs one pass of
# libphonenumber's matcher (~1.5 ms per KB): the North American plan (US, Canada, Caribbean) is the one whose
# national numbers ("905-674-3793", "(212) 555-0143") UK documents commonly carry. Countries that dial with a
# trunk 0 (Ireland, Australia, most of Europe) are not worth a pass: their national numbers look UK-shaped and are
# refused below anyway, and UK writers give them in international form, which the GB pass already finds.
OTHER_PHONE_REGIONS = ("US",)
# phonenumbers.Leniency.POSSIBLE: the right length for its region, valid or not.
PHONE_LENIENCY_POSSIBLE = 0
# phonenumbers.Leniency.VALID: the number must be valid for its region, not merely the right length.
PHONE_LENIENCY_VALID = 1
# phonenumbers.Leniency.STRICT_GROUPING: valid, and its digit groups are the ones the region prints
# ("905-674-3793" passes for US; a UTR written "12345 67890" does not).
PHONE_LENIENCY_STRICT_GROUPING = 2
# A national number of another country written as one run of digits is a reference or account number in a UK
# document far more often than a phone number: it needs at least one separator between digits.
_SEPARATED_DIGITS = re.compile(r"\d[\s\-.()/]+\d")
# A number written with its international prefix ("+41 (0)96 471 07 95", "0046 8 928 571 38") was meant as a phone
# number: one of the right length counts even when libphonenumber does not know its range (new or fictional ranges).
_INTERNATIONAL_PREFIX = re.compile(r"^\s*(?:\+|00[1-9])")
_ANY_INTERNATIONAL_PREFIX = re.compile(r"\+\s*\d|(?<!\d)00[1-9]")
# A label that says the next number is a phone number ("Tel:", "Mobile", "Fax:", "call me on"), and the number after
# it on the same or the next line: 7 to 15 digits in phone grouping, with an optional extension ("x4587", "ext. 12").
# In that place a number of any country's shape is a phone number, even one libphonenumber cannot place.
_PHONE_LABEL = (
    r"(?:(?i:tel(?:ephone)?|phone(?:[ \t]+(?:no|number))?|mob(?:ile)?|cell(?:phone)?|fax|landline|desk"
    r"|direct[ \t]+line)"
    r"\.?[ \t]*(?:[:#]|-(?!\d))?[ \t]*\n?[ \t]*"
    r"|(?i:call|ring|text|phone|reach)[ \t]+(?:me|us|him|her|them)[ \t]+(?:at|on)[ \t]+)"
)
_PHONE_CANDIDATE = r"\+?\(?\d[\d \t().\-/]{4,22}\d\)?(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,5})?"
# ... or a number followed by the kind of line it is ("416 60 039 office", "(579)888-3058 fax").
_PHONE_KIND_AFTER = r"[ \t]*-?[ \t]*(?i:office|mobile|cell|fax|home|work|landline)\b"
_LABELLED_PHONE = re.compile(
    rf"\b{_PHONE_LABEL}(?P<number>{_PHONE_CANDIDATE})(?![\d\w])"
    rf"|(?<![\w+])(?P<before>{_PHONE_CANDIDATE})(?={_PHONE_KIND_AFTER})"
)
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 7, 15
# A word that says the number near it is one to ring ("ring her on", "mobile is", "phoned on", "Action: phone the
# family on"). Next to one, a UK number in national format counts when its length is possible, even in a range
# libphonenumber calls unassigned: Ofcom's drama ranges (07700 900xxx, 01632 960xxx) and ranges newer than its
# metadata. Without one, such a digit run is a reference ("Claim reference 07700900426") and is left alone.
_PHONE_CUE = re.compile(
    r"\b(?i:ring|rings|rang|ringing|tel|telephone[ds]?|telephoning|phone[ds]?|phoning|mobile|mob|call|calls|called|"
    r"calling|text|texts|texted|texting|landline|fax|dial|dialled|reach|reached|contactable|whatsapp|"
    r"contact[ \t]+(?:no|number))\b"
)
# How far before a national number its cue may be, on the same line: "mobile is", "can be phoned on", "phone the
# family on" all fit; a cue further back belongs to another clause.
PHONE_CUE_CHARS_BEFORE = 32
# ... and after it, only a word naming the kind of line: "07700 900123 (mobile)", "01632 960123 - landline" (a verb
# after a number belongs to the next clause: "Claim 01632960123, please call").
PHONE_CUE_CHARS_AFTER = 4
_PHONE_KINDS = frozenset({"mobile", "mob", "landline", "tel", "telephone", "phone", "fax"})
# A UK national number: the trunk 0 (an area code in brackets allowed), then 9 or 10 more digits.
_UK_NATIONAL = re.compile(r"^\(?0")
UK_NATIONAL_DIGITS = (10, 11)
# What joins numbers in a list: "01632 960111 or 01632 960222", "..., 020 7946 0000 / ...".
_NUMBER_LIST_JOIN = re.compile(r"^[ \t]*(?:[,/;&]|or|and)?[ \t]*(?:or|and)?[ \t]*$")
# Digit groups a national number of a region must show to pass STRICT_GROUPING there (a cheap test before the pass).
_NATIONAL_GROUPING = {"US": re.compile(r"(?<!\d)\(?\d{3}\)?[ \t.\-/]*\d{3}[ \t.\-/]+\d{4}(?!\d)")}
# A date or a date and time after a label ("Fax: 2024-03-12") is not a number to ring.
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
# The fewest digits, country code included, of a number libphonenumber accepts: a valid one (leniency VALID and
# stricter) has at least 6 (Austria and Germany have 4-digit national numbers: "+43 1234"), a possible one 4 (German
# local-only lengths). tests/enrich/test_phone.py derives both from phonenumbers' metadata for every region.
MIN_VALID_PHONE_DIGITS = 6
MIN_POSSIBLE_PHONE_DIGITS = 4


class PhoneMatcher(phonenumbers.PhoneNumberMatcher):
    """libphonenumber's matcher, refusing a candidate with too few digits to be any number before parsing it.

    Most digit runs in a letter are house numbers, days, years and postcode districts; each cost a parse and a
    validation. The matches are the same (a candidate this short has no number in it, nor does any part of it),
    except in text with so many candidates that libphonenumber's budget of tries (65,535) ran out: the refused ones
    no longer use it up, so later numbers are still found.
    """

    def __init__(self, text: str, region: str, leniency: int) -> None:
        super().__init__(text, region, leniency=leniency)
        self.min_digits = MIN_POSSIBLE_PHONE_DIGITS if leniency == PHONE_LENIENCY_POSSIBLE else MIN_VALID_PHONE_DIGITS

    def _extract_match(self, candidate: str, offset: int) -> phonenumbers.PhoneNumberMatch | None:
        if sum(ch.isdigit() for ch in candidate) < self.min_digits:
            return None
        match: phonenumbers.PhoneNumberMatch | None = super()._extract_match(candidate, offset)
        return match


def _lines_with(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` holding a match of ``pattern``, in order, each line once."""
    lines: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        if lines and match.start() < lines[-1][1]:
            continue
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        lines.append((start, len(text) if end == -1 else end))
    return lines


@lru_cache(maxsize=1)
def offline_domain_extractor() -> tldextract.TLDExtract:
    """A TLDExtract that only uses the public-suffix snapshot bundled with tldextract (no download, no cache)."""
    # tldextract's module-level extract() fetches publicsuffix.org on first use; with no network that call
    # stalls for its timeout on every new process. An empty URL list and no cache dir means "snapshot only".
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer with the domain check done against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        """An address counts when its domain ends in a known public suffix."""
        return offline_domain_extractor()(pattern_text).fqdn != ""


def _is_uk_shaped(raw: str) -> bool:
    """True for a trunk-0 number of a length a GB number can have: the GB pass already judged it (and said no)."""
    # In a UK council's documents "07700 900123" is a UK number (here Ofcom's drama range, so invalid), not a
    # valid number of some other country that also dials with a leading 0. Numbers without the trunk 0 (US, India)
    # and international ones are unaffected.
    if not raw.lstrip("( ").startswith("0"):
        return False
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse(raw, UK_PHONE_REGIONS[0])))
    except phonenumbers.NumberParseException:
        return False


class UkPhoneRecognizer(PhoneRecognizer):
    """Phone numbers via libphonenumber: any valid GB or international number, and other countries' national
    formats when they are printed with their own digit grouping."""

    def __init__(
        self,
        context: list[str] | None = None,
        name: str | None = None,
        score: float = 0.5,
        other_regions: tuple[str, ...] = OTHER_PHONE_REGIONS,
    ) -> None:
        # PhoneRecognizer reads SCORE from the instance when it builds results, so a per-instance value works.
        self.SCORE = score
        self.other_regions = tuple(other_regions)
        super().__init__(
            context=context,
            supported_regions=UK_PHONE_REGIONS + self.other_regions,
            leniency=PHONE_LENIENCY_VALID,
            name=name or type(self).__name__,
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """GB and international numbers first, then other regions' national numbers where no match sits yet."""
        results: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []

        def add(match: phonenumbers.PhoneNumberMatch, region: str) -> None:
            taken.append((match.start, match.end))
            results.append(self._get_recognizer_result(match, text, region, nlp_artifacts))

        if not any(ch.isdigit() for ch in text):
            return results
        for match in PhoneMatcher(text, UK_PHONE_REGIONS[0], PHONE_LENIENCY_VALID):
            add(match, UK_PHONE_REGIONS[0])
        # A number written with its international prefix was meant as a phone number even where libphonenumber does
        # not know the range: a second pass at POSSIBLE leniency, only over text that has such a prefix.
        if _ANY_INTERNATIONAL_PREFIX.search(text):
            for match in PhoneMatcher(text, UK_PHONE_REGIONS[0], PHONE_LENIENCY_POSSIBLE):
                # "0076816460" is a reference, not Russia: a 00 prefix counts with its digits grouped, like "+".
                raw = match.raw_string
                if (
                    _INTERNATIONAL_PREFIX.match(raw)
                    and (raw.lstrip().startswith("+") or _SEPARATED_DIGITS.search(raw))
                    and not any(match.start < end and start < match.end for start, end in taken)
                ):
                    add(match, UK_PHONE_REGIONS[0])
        for region in self.other_regions:
            for match in self._national_matches(text, region):
                if any(match.start < end and start < match.end for start, end in taken):
                    continue
                if not _SEPARATED_DIGITS.search(match.raw_string) or _is_uk_shaped(match.raw_string):
                    continue
                add(match, region)
        for start, end in cued_national_phone_spans(text):
            if not any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                taken.append((start, end))
                results.append(self._labelled_result(start, end, "phone_cue", "UK number next to a phone word"))
        for start, end in labelled_phone_spans(text):
            if not any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                taken.append((start, end))
                results.append(self._labelled_result(start, end))
        return EntityRecognizer.remove_duplicates(results)

    @staticmethod
    def _national_matches(text: str, region: str) -> Iterator[phonenumbers.PhoneNumberMatch]:
        """``region``'s national numbers in ``text`` in its own digit grouping, with offsets into ``text``."""
        grouping = _NATIONAL_GROUPING.get(region)
        if grouping is None:
            yield from PhoneMatcher(text, region, PHONE_LENIENCY_STRICT_GROUPING)
            return
        # A number in the region's grouping ("905-674-3793" for the North American plan) holds a match of the
        # grouping pattern, so only the lines holding one are scanned. libphonenumber's candidates never span a line
        # break, and a line break before or after a candidate counts as nothing, so a line gives what the whole text
        # gives there; a letter with no such digits costs no scan at all.
        for line_start, line_end in _lines_with(grouping, text):
            for match in PhoneMatcher(text[line_start:line_end], region, PHONE_LENIENCY_STRICT_GROUPING):
                yield phonenumbers.PhoneNumberMatch(line_start + match.start, match.raw_string, match.number)

    def _labelled_result(
        self, start: int, end: int, source: str = "phone_label", why: str = "number after a phone label"
    ) -> RecognizerResult:
        name = str(getattr(self, "name", type(self).__name__))
        return RecognizerResult(
            entity_type="PHONE_NUMBER",
            start=start,
            end=end,
            score=self.SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=name, original_score=self.SCORE, textual_explanation=why
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                "source": source,
            },
        )


def cued_national_phone_spans(text: str) -> list[tuple[int, int]]:
    """Spans of UK numbers in national format of a possible length with a phone word just before or after them."""
    spans: list[tuple[int, int]] = []
    # Only lines with a cue word are matched: most lines of a document have none, and each matcher pass costs.
    for line_start, line_end in _lines_with(_PHONE_CUE, text):
        line = text[line_start:line_end]
        cues = [(m.start(), m.end(), m.group().lower()) for m in _PHONE_CUE.finditer(line)]
        last_end = None
        for match in PhoneMatcher(line, UK_PHONE_REGIONS[0], PHONE_LENIENCY_POSSIBLE):
            digits = sum(ch.isdigit() for ch in match.raw_string)
            if not _UK_NATIONAL.match(match.raw_string) or digits not in UK_NATIONAL_DIGITS:
                continue
            # "Call 01632 960111 or 01632 960222": the cue covers a list of numbers.
            listed = last_end is not None and _NUMBER_LIST_JOIN.match(line[last_end : match.start]) is not None
            if listed or _has_phone_cue(line, cues, match.start, match.end):
                spans.append((line_start + match.start, line_start + match.end))
                last_end = match.end
    return spans


def _has_phone_cue(line: str, cues: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """True when a cue word sits just before [start, end) or just after it, with no other digits in between."""
    for cue_start, cue_end, word in cues:
        if start - PHONE_CUE_CHARS_BEFORE <= cue_start and cue_end <= start:
            between = line[cue_end:start]
        elif word in _PHONE_KINDS and end <= cue_start <= end + PHONE_CUE_CHARS_AFTER:
            between = line[end:cue_start]
        else:
            continue
        if not any(ch.isdigit() for ch in between):
            return True
    return False


def labelled_phone_spans(text: str) -> list[tuple[int, int]]:
    """Spans of numbers that a phone label introduces ("Tel: ...", "call me on ...") or follows ("... fax")."""
    spans = []
    for match in _LABELLED_PHONE.finditer(text):
        group = "number" if match.group("number") is not None else "before"
        start, end = match.span(group)
        value = match.group(group)
        # A trailing ")" belongs to the number only when it closes an area code: "(020) 7946 0000" not "... 0000)".
        if value.endswith(")") and value.count("(") < value.count(")"):
            end -= 1
        digits = sum(ch.isdigit() for ch in text[start:end])
        if PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS and not _DATE_LIKE.match(text[start:end]):
            spans.append((start, end))
    return spans
