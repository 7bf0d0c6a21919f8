"""Presidio's generic recognizers, adapted to run offline and for UK numbers."""

from __future__ import annotations

from functools import lru_cache

import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

# The regions phone numbers are matched for: a UK council's documents, where a US-format reading of
# a UK digit string is a false positive.
UK_PHONE_REGIONS = ("GB",)
# phonenumbers.Leniency.VALID: the number must be valid for its region, not merely the right length.
PHONE_LENIENCY_VALID = 1


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


class UkPhoneRecognizer(PhoneRecognizer):
    """Presidio's libphonenumber recognizer for GB numbers, with a configurable base score."""

    def __init__(self, context: list[str] | None = None, name: str | None = None, score: float = 0.5) -> None:
        # PhoneRecognizer reads SCORE from the instance when it builds results, so a per-instance value works.
        self.SCORE = score
        super().__init__(
            context=context,
            supported_regions=UK_PHONE_REGIONS,
            leniency=PHONE_LENIENCY_VALID,
            name=name or type(self).__name__,
        )
