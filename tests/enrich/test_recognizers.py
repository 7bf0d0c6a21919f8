"""UK recognizers: tables of generated valid identifiers that must be found and near-misses that must not."""

from __future__ import annotations

import random

import pytest

from docintel import synthetic
from docintel.enrich.analyzer import TextAnalyzer
from docintel.enrich.recognizers import checksums, generate
from docintel.enrich.recognizers.registry import RECOGNIZERS, build_recognizer
from docintel.errors import ConfigError

SEEDS = range(12)


def _types_at(analyzer: TextAnalyzer, text: str, value: str) -> set[str]:
    """Entity types found exactly on ``value`` in ``text``."""
    start = text.index(value)
    _, findings = analyzer.analyze(text)
    return {f.entity_type for f in findings if f.start == start and f.end == start + len(value)}


def _all_types(analyzer: TextAnalyzer, text: str) -> set[str]:
    return {f.entity_type for f in analyzer.analyze(text)[1]}


# --- checksum functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("943 476 5919", True),
        ("9434765919", True),
        ("943-476-5919", True),
        ("943 476 5918", False),  # check digit off by one
        ("0000000000", False),  # passes mod-11 but is a placeholder
        ("943 476 591", False),
        ("94347659199", False),
    ],
)
def test_nhs_checksum_table(value: str, valid: bool) -> None:
    assert checksums.nhs_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("AB 12 34 56 C", True),
        ("AB123456C", True),
        ("ce123456d", True),  # compact and lower case still valid as a value
        ("AB 12 34 56 E", False),  # suffix beyond D
        ("DA 12 34 56 A", False),  # D never first
        ("AO 12 34 56 A", False),  # O never second
        ("AQ 12 34 56 A", False),  # Q never second
        ("BG 12 34 56 A", False),
        ("GB 12 34 56 A", False),
        ("KN 12 34 56 A", False),
        ("NK 12 34 56 A", False),
        ("NT 12 34 56 A", False),
        ("TN 12 34 56 A", False),
        ("ZZ 12 34 56 A", False),
        ("AB 12 34 5 C", False),
    ],
)
def test_nino_rules_table(value: str, valid: bool) -> None:
    assert checksums.nino_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("GB980780684", True),  # HMRC's published example, original scheme
        ("GB 980 7806 84", True),
        ("GB980780685", False),
        ("GB000000000", False),
        ("GB12345678", False),
        ("FR980780684", False),
    ],
)
def test_vat_checksum_table(value: str, valid: bool) -> None:
    assert checksums.vat_is_valid(value) is valid


def test_vat_9755_scheme_is_accepted() -> None:
    first_seven = "1234567"
    check = synthetic.vat_check_digits(first_seven, scheme_9755=True)
    assert check != synthetic.vat_check_digits(first_seven, scheme_9755=False)
    assert checksums.vat_is_valid(f"GB{first_seven}{check:02d}")


# --- recognizers on generated identifiers --------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_nhs_numbers_found(analyzer: TextAnalyzer, seed: int) -> None:
    value = synthetic.nhs_number(random.Random(seed))
    assert _types_at(analyzer, f"The patient's NHS number is {value} as recorded.", value) == {"UK_NHS"}


@pytest.mark.parametrize("seed", SEEDS)
def test_nhs_numbers_with_bad_check_digit_not_found(analyzer: TextAnalyzer, seed: int) -> None:
    value = generate.invalid_nhs_number(random.Random(seed))
    assert "UK_NHS" not in _all_types(analyzer, f"The patient's NHS number is {value} as recorded.")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_ninos_found_without_context(analyzer: TextAnalyzer, seed: int) -> None:
    value = synthetic.nino(random.Random(seed))
    assert _types_at(analyzer, f"Reference {value} was quoted on the form.", value) == {"UK_NINO"}


@pytest.mark.parametrize("seed", SEEDS)
def test_ninos_with_bad_prefix_not_found(analyzer: TextAnalyzer, seed: int) -> None:
    value = generate.invalid_nino(random.Random(seed))
    assert "UK_NINO" not in _all_types(analyzer, f"National Insurance number {value} on the form.")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_vat_numbers_found(analyzer: TextAnalyzer, seed: int) -> None:
    value = synthetic.vat_number(random.Random(seed))
    assert _types_at(analyzer, f"Supplier VAT registration {value} on the invoice.", value) == {"UK_VAT"}


@pytest.mark.parametrize("seed", SEEDS)
def test_vat_numbers_with_bad_check_not_found(analyzer: TextAnalyzer, seed: int) -> None:
    value = generate.invalid_vat_number(random.Random(seed))
    assert "UK_VAT" not in _all_types(analyzer, f"Supplier VAT registration {value} on the invoice.")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_postcodes_found_without_context(analyzer: TextAnalyzer, seed: int) -> None:
    value = synthetic.postcode(random.Random(seed))
    assert _types_at(analyzer, f"Flat 2, Leeds {value}, England", value) == {"UK_POSTCODE"}


@pytest.mark.parametrize(
    "text",
    [
        "Part number QV1 1AA is out of stock.",  # Q, V never first letters
        "Batch AB1 1CA was shipped.",  # C never in the inward code
        "Meet in room 12 3AB.",  # outward code must start with a letter
        "The SW1A 1AAA variant does not exist.",  # too long
        "Turn the dial to ab1 2cd.",  # lower case is not how postcodes are printed
    ],
)
def test_postcode_near_misses_not_found(analyzer: TextAnalyzer, text: str) -> None:
    assert "UK_POSTCODE" not in _all_types(analyzer, text)


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ("Postcode: LS62AB", "LS62AB", True),
        ("Deliver to LS62AB today", "LS62AB", True),  # a lone token following every Royal Mail rule counts
        ("Order REF/LS62AB was sent", "LS62AB", False),  # glued to a reference: part of it
        ("Stock code X-LS62AB", "LS62AB", False),
        ("postcode ls6 2ab", "ls6 2ab", True),  # lower case only with a context word
        ("turn to ls6 2ab now", "ls6 2ab", False),
    ],
)
def test_compact_and_lower_case_postcodes(analyzer: TextAnalyzer, text: str, value: str, found: bool) -> None:
    assert (_types_at(analyzer, text, value) == {"UK_POSTCODE"}) is found


@pytest.mark.parametrize("generator", [synthetic.uk_mobile, synthetic.uk_landline])
@pytest.mark.parametrize("seed", range(6))
def test_generated_phone_numbers_found(analyzer: TextAnalyzer, generator: object, seed: int) -> None:
    value = generator(random.Random(seed))  # type: ignore[operator]
    assert _types_at(analyzer, f"Please ring {value} before noon.", value) == {"PHONE_NUMBER"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Call (212) 555-0143 in New York.", "(212) 555-0143"),  # any country's number is personal data
        ("Her cousin's number is 905-674-3793.", "905-674-3793"),
        ("Paris office: +33 1 42 68 53 00.", "+33 1 42 68 53 00"),
        ("Dial 0033 1 42 68 53 00 from the UK.", "0033 1 42 68 53 00"),
        ("Mobile +91 98765 43210 (India).", "+91 98765 43210"),
        ("Rufnummer +49 30 1234 5678.", "+49 30 1234 5678"),
        # written with the international prefix: a phone number even in a range libphonenumber does not know
        ("Desk: +1-984-182-0190 (Raleigh)", "+1-984-182-0190"),
        ("Zurich desk +41 (0)96 471 07 95.", "+41 (0)96 471 07 95"),
        # after a phone label or before a line kind: any country's grouping, extensions kept
        ("Phone:\n60-56-85-91\n\nE-mail: a@example.org", "60-56-85-91"),
        ("Fax: 345-899-3560x4587", "345-899-3560x4587"),
        ("Can someone call me on 9472 7916? Thanks.", "9472 7916"),
        ("416 60 039 office\n", "416 60 039"),
        ("(579)888-3058 fax", "(579)888-3058"),
    ],
)
def test_phone_numbers_of_other_countries(analyzer: TextAnalyzer, text: str, value: str) -> None:
    assert _types_at(analyzer, text, value) == {"PHONE_NUMBER"}


@pytest.mark.parametrize(
    "text",
    [
        # UK-shaped and invalid, with no phone word: never re-read as another country's (with one, it is a UK phone:
        # tests/enrich/test_phone.py)
        "Reference 07700 900123 (Ofcom drama range, not a valid number).",
        "Invoice 12345 of 2024.",
        "Reference 9056743793 on the form.",  # another country's number as one run of digits: a reference
        "Self assessment UTR 12345 67890.",  # not grouped the way any region prints phone numbers
        "Sort code 12-34-56, account 12345678.",
        "Meeting on 2024-03-12 at 10.30.",
        "Fax: 2024-03-12",  # a date after a phone label
        "Phone number: 12",  # too few digits
        "Ref +12",  # a plus sign before a short number
    ],
)
def test_phone_negatives(analyzer: TextAnalyzer, text: str) -> None:
    assert "PHONE_NUMBER" not in _all_types(analyzer, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("She lives at 12 High Street, Leeds.", "12 High Street, Leeds"),  # the town belongs to the address
        ("12 High Street\nLeeds\nLS1 1AA", "12 High Street\nLeeds"),  # the postcode is a finding of its own
        ("1436 Redbud Drive\nSpringfield, IL 62704", "1436 Redbud Drive\nSpringfield, IL 62704"),
        ("3 Mill Close\nDear Sir", "3 Mill Close"),
        ("Billing address: 1436 Redbud Drive Apt. 864", "1436 Redbud Drive Apt. 864"),
        ("Send it to 221B Baker Street.", "221B Baker Street"),
        ("ADDRESS: 14 CHURCH LANE", "14 CHURCH LANE"),
        ("They moved to 40 St John Street in May.", "40 St John Street"),
        # abroad: street type first, house number after; one-word names ending in a street type; any alphabet
        ("Her flat is at Rue de la Gare 12 in Lyon.", "Rue de la Gare 12"),
        ("Write to 62 Rue Gafsa Apt. 981\nToronto", "62 Rue Gafsa Apt. 981\nToronto"),
        ("Lives at Bahnhofstrasse 5 now.", "Bahnhofstrasse 5"),
        ("Søndergade 52", "Søndergade 52"),
        # a flat or suite on its own line, then the town and the country with its postal code
        (
            "74 Diakou Street\n Suite 680\n Kissousa\n Cyprus 36903",
            "74 Diakou Street\n Suite 680\n Kissousa\n Cyprus 36903",
        ),
        ("Send it to P.O. Box 242.", "P.O. Box 242"),
        ("PSC 1234, Box 5678\nAPO AE 09012", "PSC 1234, Box 5678\nAPO AE 09012"),
        ("She rents Flat 3 above the shop.", "Flat 3"),
        # a street name without a street type, where the text says it is an address
        ("Her address is Kiannonkatu 98, 53100 Lappeenranta.", "Kiannonkatu 98, 53100 Lappeenranta"),
        ("Address:\nHafnarstraeti 5\nAkureyri", "Hafnarstraeti 5\nAkureyri"),
        ("Edeby 55\n Apt. 297\n Tystberga", "Edeby 55\n Apt. 297\n Tystberga"),  # a flat after it
        ("Lives at Bahnhofstrasse 5 now.", "Bahnhofstrasse 5"),
        # a building number before the street; a flat and its street joined; a blank line before the country
        ("Write to 28245 Puruntie 82 Apt. 595\nLappeenranta", "28245 Puruntie 82 Apt. 595\nLappeenranta"),
        ("Flat 3 12 High Street, Leeds", "Flat 3 12 High Street, Leeds"),
        ("12 Timms Drive Suite 215 Nungatta Australia", "12 Timms Drive Suite 215 Nungatta Australia"),
        ("> 69 Gordon Terrace\n> Suite 828\n> Bashall Town", "69 Gordon Terrace\n> Suite 828\n> Bashall Town"),
        (
            "41086 Kiannonkatu 98\n Suite 464\n Oulu\n\n Finland 80896",
            "41086 Kiannonkatu 98\n Suite 464\n Oulu\n\n Finland 80896",
        ),
    ],
)
def test_street_addresses(analyzer: TextAnalyzer, text: str, value: str) -> None:
    assert _types_at(analyzer, text, value) == {"STREET_ADDRESS"}


@pytest.mark.parametrize(
    "text",
    [
        "Section 12 Road Traffic Act 1988 applies.",  # no street name before the street type
        "In 2019 Council Park opened to the public.",  # a year, not a house number
        "Unit 5, Leeds Business Park",  # a business unit, with a comma after the number
        "We paid £30 Main Street Traders.",
        "Item 3 covers the Station Road scheme.",
        "The Spring Platz 2024 festival.",  # a year after a street-looking word
        "Via email 5 times.",  # a prefix street type needs a capitalised name
        "Unit 7 of the course.",  # a unit alone is not a home
        # a name and a number that are not a street
        "He moved to Leeds 12 years ago.",
        "It was sent to Harrogate 3 times.",
        "Please see Appendix 3, Leeds.",
        "Meet at Committee Room 3, County Hall.",
        "The report was returned to Ward 12 yesterday.",
        "Leeds United 2, Chelsea 1",
        "Chelsea 98 won the cup.",  # no address cue, flat or postal code
        "Her address is Room 5 of the annex.",
    ],
)
def test_street_address_negatives(analyzer: TextAnalyzer, text: str) -> None:
    assert "STREET_ADDRESS" not in _all_types(analyzer, text)


@pytest.mark.parametrize("seed", SEEDS)
def test_sort_code_and_account_with_context(analyzer: TextAnalyzer, seed: int) -> None:
    rng = random.Random(seed)
    code, account = synthetic.sort_code(rng), synthetic.bank_account(rng)
    if set(code) <= {"0", "-"} or len(set(account)) == 1:
        pytest.skip("placeholder-shaped value")
    text = f"Please pay into sort code {code}, account number {account}."
    assert _types_at(analyzer, text, code) == {"UK_SORT_CODE"}
    assert _types_at(analyzer, text, account) == {"UK_BANK_ACCOUNT"}


@pytest.mark.parametrize(
    "text",
    [
        "The meeting on 12-03-24 was postponed.",  # a date shaped like a sort code, no context
        "Reference 31926819 refers to the planning file.",  # eight digits, no "account"
        "Sort code 00-00-00 is a placeholder.",
    ],
)
def test_sort_code_and_account_negatives(analyzer: TextAnalyzer, text: str) -> None:
    assert not {"UK_SORT_CODE", "UK_BANK_ACCOUNT"} & _all_types(analyzer, text)


@pytest.mark.parametrize("seed", range(6))
def test_generated_emails_found(analyzer: TextAnalyzer, seed: int) -> None:
    rng = random.Random(seed)
    value = synthetic.email_for(synthetic.person_name(rng), rng)
    assert _types_at(analyzer, f"Write to {value} with questions.", value) == {"EMAIL_ADDRESS"}


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 for the refund.", "IBAN_CODE"),
        ("Card 4111 1111 1111 1111 was charged.", "CREDIT_CARD"),
        ("Driving licence MORGA753116SM9IJ was produced.", "UK_DRIVING_LICENCE"),
        ("Passport number 123456789 expired.", "UK_PASSPORT"),  # older nine-digit books, with context
        ("Order 123456789 was dispatched.", None),  # nine digits alone are anything
        ("Passport number AB1234567 expired.", "UK_PASSPORT"),
        ("Holder AB1234567 of the scheme.", "UK_PASSPORT"),  # the current format counts on its own
        ("Invoice No.: CS0013132", None),  # the same shape, labelled as another reference
        ("COMPANY NO: SA0127959-D", None),
        ("Order ref AB1234567 was dispatched.", None),
        ("Passport ref AB1234567 was seen.", "UK_PASSPORT"),  # "passport" outweighs the reference label
        ("IBAN GB82 WEST 1234 5698 7654 33 for the refund.", None),  # bad IBAN checksum
        ("Card 4111 1111 1111 1112 was charged.", None),  # fails Luhn
    ],
)
def test_other_identifier_table(analyzer: TextAnalyzer, text: str, entity: str | None) -> None:
    found = _all_types(analyzer, text)
    if entity is None:
        assert not found & {"IBAN_CODE", "CREDIT_CARD", "UK_DRIVING_LICENCE", "UK_PASSPORT"}
    else:
        assert entity in found


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Vehicle LN14 HGT was clamped.", "LN14 HGT"),  # current format: March 2014
        ("Seen on camera: BD62XYZ", "BD62XYZ"),
        ("reg yk70-abc (typed in a form)", "yk70-abc"),
        ("My old car is M456 DEF.", "M456 DEF"),  # prefix plate in ordinary text
        ("The van ABC 123D was parked.", "ABC 123D"),  # suffix plate
        ("K1 ABC", "K1 ABC"),
        ("Parking: car reg 1 ABC outside.", "1 ABC"),  # dateless plate, with context
        ("PCN ISSUED TO VEHICLE A123 BCD", "A123 BCD"),  # among capitals, with context
    ],
)
def test_vehicle_registrations(analyzer: TextAnalyzer, text: str, value: str) -> None:
    assert _types_at(analyzer, text, value) == {"UK_VEHICLE_REGISTRATION"}


@pytest.mark.parametrize(
    "text",
    [
        "Code IB51 ABC is not issued.",  # I is no region letter
        "Code TA51 ABC is not issued.",  # nor is T
        "Code AB35 ABC is not issued.",  # 35 is no age identifier
        "Code AB51 AIB is not issued.",  # I never appears in the random letters
        "Code O123 BCD is not issued.",  # O is no year letter
        "SECTION A1 AND B2 APPLY",  # capitals all round, no context
        "Print it as an A4 PDF please.",  # a common abbreviation
        "See REF 12A of the contract.",
        "Room 1 ABC is booked.",  # dateless shape without context
        "Order XXXAB51ABCYYY shipped.",
    ],
)
def test_vehicle_registration_negatives(analyzer: TextAnalyzer, text: str) -> None:
    assert "UK_VEHICLE_REGISTRATION" not in _all_types(analyzer, text)


@pytest.mark.parametrize(
    "text",
    [
        "Her SSN 078-05-1120 was on an American form.",
        "Routing 011000015, account held in Ohio; ITIN 912-70-1234.",
        "Licence number D1234567 issued in California.",
    ],
)
def test_us_recognizers_are_off(analyzer: TextAnalyzer, text: str) -> None:
    found = _all_types(analyzer, text)
    assert not {t for t in found if t.startswith("US_")}
    assert not [name for name in analyzer.recognizer_names() if name.startswith("Us")]


def test_person_from_shared_ner(analyzer: TextAnalyzer) -> None:
    text = "The complaint was handled by Dr Priya Patel at County Hall."
    findings = analyzer.analyze(text)[1]
    people = [f for f in findings if f.entity_type == "PERSON"]
    assert [f.text for f in people] == ["Priya Patel"]  # the honorific trimmed off, "County Hall" not a name
    assert all(f.recognizer == "UkPersonRecognizer" for f in people)


def test_findings_carry_recognizer_and_score(analyzer: TextAnalyzer) -> None:
    _, findings = analyzer.analyze("NHS number 943 476 5919.")
    (finding,) = findings
    assert finding.recognizer == "UkNhsNumberRecognizer"
    assert finding.score == 1.0
    assert finding.text == "943 476 5919"


def test_unknown_recognizer_lists_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        build_recognizer("US_SSN")
    assert "UK_NHS" in str(caught.value)
    assert set(RECOGNIZERS) >= {"UK_NHS", "UK_NINO", "UK_POSTCODE", "PHONE_NUMBER", "PERSON"}
