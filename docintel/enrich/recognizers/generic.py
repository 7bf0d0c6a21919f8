"""Presidio's generic recognizers, adapted to run offline and for UK numbers."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers
import tldextract
from presidio_analyzer import EntityRecognizer, RecognizerResult
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
# phonenumbers.Leniency.VALID: the number must be valid for its region, not merely the right length.
PHONE_LENIENCY_VALID = 1
# phonenumbers.Leniency.STRICT_GROUPING: valid, and its digit groups are the ones the region prints
# ("905-674-3793" passes for US; a UTR written "12345 67890" does not).
PHONE_LENIENCY_STRICT_GROUPING = 2
# A national number of another country written as one run of digits is a reference or account number in a UK
# document far more often than a phone number: it needs at least one separator between digits.
_SEPARATED_DIGITS = re.compile(r"\d[\s\-.()/]+\d")


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

        for match in phonenumbers.PhoneNumberMatcher(text, UK_PHONE_REGIONS[0], leniency=PHONE_LENIENCY_VALID):
            add(match, UK_PHONE_REGIONS[0])
        if not any(ch.isdigit() for ch in text):
            return results
        for region in self.other_regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=PHONE_LENIENCY_STRICT_GROUPING):
                if any(match.start < end and start < match.end for start, end in taken):
                    continue
                if not _SEPARATED_DIGITS.search(match.raw_string) or _is_uk_shaped(match.raw_string):
                    continue
                add(match, region)
        return EntityRecognizer.remove_duplicates(results)
