"""Issue 4 recognizer quality: UTR, VAT forms, passports, dates of birth, names, allow-lists, overlap trimming."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench import ukdata
from docintel.enrich.analyzer import TextAnalyzer
from docintel.enrich.names import is_plausible_name
from docintel.enrich.pii import PiiConfig, resolve_overlaps
from docintel.enrich.recognizers import checksums
from docintel.enrich.recognizers.uk import parse_date
from docintel.models import PiiFinding


def _found(analyzer: TextAnalyzer, text: str) -> set[tuple[str, str]]:
    return {(f.entity_type, f.text) for f in analyzer.analyze(text)[1]}


@pytest.mark.parametrize(
    ("value", "valid"),
    [("1955839661", True), ("2955839661", False), ("19558 39661", True), ("1955839661K", True),
     ("0000000000", False), ("195583966", False)],
)  # fmt: skip
def test_utr_checksum_table(value: str, valid: bool) -> None:
    assert checksums.utr_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [("980780684", True), ("GB980780684001", True), ("GBGD123", True), ("GBHA599", True),
     ("GBGD599", False), ("GBHA123", False), ("980780685", False), ("GB98078068400", False)],
)  # fmt: skip
def test_vat_forms_table(value: str, valid: bool) -> None:
    assert checksums.vat_any_is_valid(value) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Self assessment UTR 1955839661 on file.", ("UK_UTR", "1955839661")),
        ("Order 1955839661 was shipped.", None),  # valid check digit but no context: 1 in 11 numbers pass
        ("UTR 2955839661 on file.", None),  # wrong check digit
        ("VAT number 980780684 on the invoice.", ("UK_VAT", "980780684")),
        ("Branch VAT GB980780684001 applies.", ("UK_VAT", "GB980780684001")),
        ("Government VAT GBGD001 applies.", ("UK_VAT", "GBGD001")),
        ("Ticket 980780684 closed.", None),
        ("Passport number 123456789 expired.", ("UK_PASSPORT", "123456789")),
        ("Date of birth: 03/04/1981", ("DATE_OF_BIRTH", "03/04/1981")),
        ("DOB 3rd March 1984, seen today.", ("DATE_OF_BIRTH", "3rd March 1984")),
        ("She was born on 12.05.1950 in Leeds.", ("DATE_OF_BIRTH", "12.05.1950")),
        ("We have your date of birth as 04/03/1974.", ("DATE_OF_BIRTH", "04/03/1974")),  # a full stop after the year
        ("The meeting on 03/04/2021 was cancelled.", None),  # a date without birth context
        ("DOB 31/02/1980", None),  # no such date
        ("NI number hh 01 02 03 d", ("UK_NINO", "hh 01 02 03 d")),
        ("meet on 12 03 19 a day", None),  # lower case with an English-word prefix and no context
        ("Licence MORGA607054SM9IJ seen.", ("UK_DRIVING_LICENCE", "MORGA607054SM9IJ")),
        ("Licence MORGA602314SM9IJ seen.", None),  # 31 February is no birth date
        ("Car AB51 ABC parked.", ("UK_VEHICLE_REGISTRATION", "AB51 ABC")),
    ],
)
def test_identifier_table(analyzer: TextAnalyzer, text: str, expected: tuple[str, str] | None) -> None:
    found = _found(analyzer, text)
    if expected is None:
        assert not {kind for kind, _ in found} - {"PERSON"}
    else:
        assert expected in found


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Dear Mrs Olivia Smith,\nThank you.", ["Olivia Smith"]),
        ("The report from Cllr Amelia Hughes was noted.", ["Amelia Hughes"]),
        ("Yours sincerely,\n\nPriya Patel\nHead of Service", ["Priya Patel"]),
        ("The Chief Executive and the Head of Service agreed.", []),
        ("HOUSING SERVICES ANNUAL REPORT", []),
        ("Dear Sir or Madam,", []),
        ("Westbrook Borough Council approved the plan.", []),
        ("Send it to Mr O'Brien today.", ["O'Brien"]),
        # a form's name field, in any alphabet, on the label's line or the next
        ("Case opened\nName: Åsa Lindqvist\nPhone: 0113 496 0123", ["Åsa Lindqvist"]),
        ("Patient name:\n  Tomasz K Nowak\n", ["Tomasz K Nowak"]),
        ("Name: Housing Services\nRef: 12", []),  # a role in the name field is still not a name
        ("Name of scheme: Riverside Park\n", []),
        # a field named by the person's role; an email header; a role in brackets; "on" and a phone number
        ("Client: Tomasz O'Brien\nDOB: 13/04/1971", ["Tomasz O'Brien"]),
        ("From: Arthur Davies <arthur.davies@example.org>", ["Arthur Davies"]),
        ("To: Housing Options <housing@example.org>", []),  # a team, not a person
        ("Visit by Hamish Lewis (Finance Officer) today.", ["Hamish Lewis"]),
        ("Visit by Leeds Hospital (Ward 3) today.", []),  # brackets that hold no job title
        ("Queries to Sophia Green on 0191 498 0079 please.", ["Sophia Green"]),
        ("Call Leeds City Council on 0113 496 0000.", []),
        # a family relation; "Hall" after a strong cue is a surname, not a building
        ("She lives with her daughter, Leo Hall, in town.", ["Leo Hall"]),
        ("Dear Mr Hall,\nThank you.", ["Hall"]),
        ("The meeting is in the Town Hall.", []),
        # a sign-off name the model tags as an organisation; a model span run over a line break
        ("Kind regards,\nArthur Davies\n", ["Arthur Davies"]),
        ("Yours sincerely,\n\nGrace Roberts\nHead of Service\nHousing Options", ["Grace Roberts"]),
        # a name found once is found again, and so is its first name alone
        ("Client: Niamh Ahmed\nNotes: Niamh was seen at home.", ["Niamh Ahmed", "Niamh"]),
        ("Bill to: Eastmoor District Council", []),  # "Bill to:" is a label
        # a line holding only a name above an address; an organisation there is not a name
        ("Olivia Smith\n12 High Street\nLeeds", ["Olivia Smith"]),
        ("> Tomasz K Nowak\n> 935 69 Gordon Terrace\n> Suite 828", ["Tomasz K Nowak"]),
        ("Leeds City Council\n1 Civic Square\nLeeds", []),
        ("Housing Options\n12 High Street", []),
    ],
)
def test_person_table(analyzer: TextAnalyzer, text: str, names: list[str]) -> None:
    people = [f.text for f in analyzer.analyze(text)[1] if f.entity_type == "PERSON"]
    assert people == names


@pytest.mark.parametrize(
    ("span", "plausible"),
    [("Olivia Smith", True), ("Chief Executive", False), ("Head of Service", False), ("Leeds City Council", False),
     ("Flat 2", False), ("ANNUAL REPORT", False), ("Station Road", False), ("Leeds", False), ("Ewan", True)],
)  # fmt: skip
def test_plausible_name_table(span: str, plausible: bool) -> None:
    assert is_plausible_name(span, places=frozenset({"leeds"})) is plausible


def test_ner_name_overlapping_a_pattern_is_trimmed_not_dropped() -> None:
    name = PiiFinding(entity_type="PERSON", start=0, end=20, text="Olivia Smith 943 476", score=0.85,
                      recognizer="UkPersonRecognizer")  # fmt: skip
    nhs = PiiFinding(entity_type="UK_NHS", start=13, end=25, text="943 476 5919", score=1.0, recognizer="Nhs")
    kept = resolve_overlaps([name, nhs])
    assert [(f.entity_type, f.text, f.start, f.end) for f in kept] == [
        ("PERSON", "Olivia Smith", 0, 12),
        ("UK_NHS", "943 476 5919", 13, 25),
    ]


@pytest.mark.parametrize(
    ("kind", "value", "allowed"),
    [("PHONE_NUMBER", "+44 113 496 0000", True), ("PHONE_NUMBER", "0113 496 0001", False),
     ("EMAIL_ADDRESS", "FOI@northshire.gov.uk", True), ("EMAIL_ADDRESS", "olivia@example.org", False),
     ("UK_POSTCODE", "ls11ur", True), ("UK_NHS", "943 476 5919", False)],
)  # fmt: skip
def test_allow_list_table(kind: str, value: str, allowed: bool) -> None:
    config = PiiConfig(
        allow_list={"PHONE_NUMBER": ["0113 496 0000"], "EMAIL_ADDRESS": ["foi@*"], "UK_POSTCODE": ["LS1 1UR"]}
    )
    assert config.is_allowed(kind, value) is allowed


def test_allow_listed_values_are_not_reported(analyzer: TextAnalyzer) -> None:
    found = _found(analyzer, "Call the switchboard on 0113 496 0000 or write to foi@northshire.gov.uk, LS1 1UR.")
    assert not found & {("PHONE_NUMBER", "0113 496 0000"), ("EMAIL_ADDRESS", "foi@northshire.gov.uk")}


def test_phone_is_not_a_date_entity(analyzer: TextAnalyzer) -> None:
    entities, findings = analyzer.analyze("Please ring 0113 496 0123 or 07700 900456 tomorrow.")
    phones = [(f.start, f.end) for f in findings if f.entity_type == "PHONE_NUMBER"]
    assert phones
    assert not [e for e in entities if any(e.start < end and start < e.end for start, end in phones)]


@pytest.mark.parametrize(
    ("value", "valid"), [("03/04/1981", True), ("31/02/1980", False), ("3 March 1984", True), ("01/01/2999", False)]
)
def test_parse_date_table(value: str, valid: bool) -> None:
    assert (parse_date(value) is not None) is valid


def test_generated_corpus_is_deterministic_with_exact_spans() -> None:
    first, again = ukdata.generate_corpus(7, 12), ukdata.generate_corpus(7, 12)
    assert [d.text for d in first] == [d.text for d in again]
    assert ukdata.generate_corpus(8, 12)[0].text != first[0].text
    for doc in first:
        assert doc.spans
        for span in doc.spans:
            assert doc.text[span.start : span.end] == span.value
    assert {s.label for d in first for s in d.spans} == set(ukdata.LABELS)
    assert random.Random(ukdata.TEST_SEED).random() != random.Random(ukdata.DEV_SEED).random()


def test_config_file_parses() -> None:
    from docintel.enrich.pii import load_pii_config

    config = load_pii_config(Path(__file__).resolve().parents[2] / "config" / "pii.yaml")
    assert {"UK_UTR", "DATE_OF_BIRTH", "UK_VEHICLE_REGISTRATION"} <= set(config.enabled())
    assert config.allow_list
