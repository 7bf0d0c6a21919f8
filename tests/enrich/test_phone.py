"""Phone matching: the shortcuts in front of libphonenumber's matcher change no match."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, SUPPORTED_REGIONS

from docintel.enrich.analyzer import TextAnalyzer
from docintel.enrich.recognizers import generic
from docintel.enrich.recognizers.generic import (
    MIN_POSSIBLE_PHONE_DIGITS,
    MIN_VALID_PHONE_DIGITS,
    PHONE_LENIENCY_POSSIBLE,
    PHONE_LENIENCY_STRICT_GROUPING,
    PHONE_LENIENCY_VALID,
    PhoneMatcher,
    UkPhoneRecognizer,
)

# The number types a valid number can be of (PhoneMetadata fields).
NUMBER_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
                "pager", "uan", "voicemail")  # fmt: skip


def _all_metadata() -> list[PhoneMetadata]:
    regions = [PhoneMetadata.metadata_for_region(region) for region in SUPPORTED_REGIONS]
    others = [PhoneMetadata.metadata_for_nongeo_region(code) for code in COUNTRY_CODES_FOR_NON_GEO_REGIONS]
    return [metadata for metadata in regions + others if metadata is not None]


def test_digit_minimums_are_the_fewest_any_region_allows() -> None:
    valid, possible = [], []
    for metadata in _all_metadata():
        code_digits = len(str(metadata.country_code))
        for name in NUMBER_TYPES:
            desc = getattr(metadata, name, None)
            if desc is None or desc.national_number_pattern is None:
                continue
            lengths = [n for n in (desc.possible_length or metadata.general_desc.possible_length) if n > 0]
            valid += [code_digits + n for n in lengths]
        general = metadata.general_desc
        lengths = [n for n in (*general.possible_length, *general.possible_length_local_only) if n > 0]
        possible += [code_digits + n for n in lengths]
    assert min(valid) == MIN_VALID_PHONE_DIGITS
    assert min(possible) == MIN_POSSIBLE_PHONE_DIGITS


MATCHER_TEXTS = [
    "Ring 0113 496 0000 or 07700 900123 before 5 May 2024; flat 3, 12 High Street, LS1 1AA.",
    "Wien +43 1234 and Berlin +49 30 1234, Munich 0049 89 12345678, a +49 12 line.",
    "NHS 943 476 5919, sort code 12-34-56, account 12345678, on 13.10.2006 at 10:30.",
    "Call 212-555-0143 or (905) 674-3793, or 1 800 555 0199; 22/10/2019 p. 12-14.",
    "+44 20 7946 0000 / 0044 161 496 0000 / +1 415 555 2671 / 0033 1 42 68 53 00",
    "4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 2026",
]


@pytest.mark.parametrize("text", MATCHER_TEXTS)
@pytest.mark.parametrize(
    ("region", "leniency"),
    [("GB", PHONE_LENIENCY_VALID), ("GB", PHONE_LENIENCY_POSSIBLE), ("US", PHONE_LENIENCY_STRICT_GROUPING)],
)
def test_matcher_finds_what_libphonenumber_finds(text: str, region: str, leniency: int) -> None:
    expected = [(m.start, m.end, m.number) for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency)]
    assert [(m.start, m.end, m.number) for m in PhoneMatcher(text, region, leniency)] == expected


def test_matcher_skips_short_candidates_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = phonenumbers.PhoneNumberMatcher._parse_and_verify

    def counting(self: phonenumbers.PhoneNumberMatcher, candidate: str, offset: int) -> object:
        parsed.append(candidate)
        return original(self, candidate, offset)

    monkeypatch.setattr(phonenumbers.PhoneNumberMatcher, "_parse_and_verify", counting)
    text = "Flat 3, 12 High Street, on 5 May 2024, ring 0113 496 0000"
    assert [m.raw_string for m in PhoneMatcher(text, "GB", PHONE_LENIENCY_VALID)] == ["0113 496 0000"]
    assert parsed == ["0113 496 0000"]


def test_national_numbers_are_searched_line_by_line_with_offsets_into_the_text() -> None:
    text = (
        "Dear Ms Price,\nour Toronto office is on 905-674-3793 (fax 905 674 3794).\n\n"
        "NHS number 943 476 5919, DOB 13.10.2006\nNew York: (212) 555-0143\nno digits here"
    )
    found = [(m.start, m.end) for m in UkPhoneRecognizer._national_matches(text, "US")]
    whole = [
        (m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "US", leniency=PHONE_LENIENCY_STRICT_GROUPING)
    ]
    assert found == whole
    # The NHS number has the North American shape too: the NHS recognizer's checked match outranks it later.
    assert [text[start:end] for start, end in found] == ["905-674-3793", "905 674 3794", "943 476 5919",
                                                         "(212) 555-0143"]  # fmt: skip


def test_text_without_national_grouping_is_not_scanned_for_other_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    regions: list[str] = []
    original = PhoneMatcher.__init__

    def recording(self: PhoneMatcher, text: str, region: str, leniency: int) -> None:
        regions.append(region)
        original(self, text, region, leniency)

    monkeypatch.setattr(generic.PhoneMatcher, "__init__", recording)
    UkPhoneRecognizer().analyze("Please ring 0113 496 0000 about the visit on 5 May.", ["PHONE_NUMBER"])
    assert set(regions) == {"GB"}  # GB twice: the valid pass, then the line with "ring" at POSSIBLE leniency


def _phones(analyzer: TextAnalyzer, text: str) -> list[str]:
    return [finding.text for finding in analyzer.analyze(text)[1] if finding.entity_type == "PHONE_NUMBER"]


# UK numbers in national and international format, Ofcom's drama ranges included (libphonenumber calls 07700 900xxx
# and 01632 960xxx invalid), wherever a word says phone.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("If anything changes please ring me on 07700 900123.", ["07700 900123"]),
        ("Kieran said to ring her on (01632) 960531.", ["(01632) 960531"]),
        ("Maisie's mobile is 07700-900-437 and the GP is aware.", ["07700-900-437"]),
        ("Rang from 01632960046.", ["01632960046"]),
        ("Action: Sinead to phone the family on 07700 900875 by Friday.", ["07700 900875"]),
        ("Can be phoned on 01632 960807.", ["01632 960807"]),
        ("Her contact number 07700900123 is on file.", ["07700900123"]),
        ("tel. 020 7946 0123", ["020 7946 0123"]),
        ("Call 01632 960111 or 01632 960222 after six.", ["01632 960111", "01632 960222"]),
        ("07700 900123 (mobile), 01632 960123 (landline)", ["07700 900123", "01632 960123"]),
        ("Text him on 07700 900999 when you arrive.", ["07700 900999"]),
        # international format: counted whatever the range, with or without a phone word
        ("Mobile: +44 (0)1632 960779.", ["+44 (0)1632 960779"]),
        ("Reach me on +44 7700 900437.", ["+44 7700 900437"]),
        # the national part of "+44 114 ..." passes the NHS check digit: still one phone number, not an NHS number
        ("Tel: +44 114 496 0436", ["+44 114 496 0436"]),
        ("Her mobile is +44 117 496 0809 and the GP is aware.", ["+44 117 496 0809"]),
        # valid ranges are found without a phone word, as before
        ("Queries to the office, 0113 496 0123.", ["0113 496 0123"]),
    ],
)
def test_uk_phones_with_a_phone_word(analyzer: TextAnalyzer, text: str, expected: list[str]) -> None:
    assert _phones(analyzer, text) == expected


# Phone-shaped digit runs without a word that says phone are references, not numbers to ring.
@pytest.mark.parametrize(
    "text",
    [
        "Payment ID 07700900426 noted.",
        "Claim reference 01632 960123 has been closed.",
        "Case number 01632960678 is on the system.",
        "Claim reference 01632960123, please call if anything changes.",  # a verb after the number: another clause
        "Ring the office about invoice 4821 and claim 01632960123.",  # the cue is for another word, digits between
        "Payment ID 0076816460 noted.",  # a 00 run without grouping is not an international number
        "UPRN 100023336956 on the register.",
        "Ring about claim 0163296012345.",  # too long for a UK number
    ],
)
def test_phone_shaped_references_without_a_phone_word(analyzer: TextAnalyzer, text: str) -> None:
    assert _phones(analyzer, text) == []
