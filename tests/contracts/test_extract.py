"""extract_contract on generated contract wording: each field, where it came from, and abstaining."""

from __future__ import annotations

import pytest

from docintel.contracts.extract import extract_contract
from docintel.contracts.models import ContractKind, PartyRole
from docintel.contracts.parse import add_duration, find_contract_dates, find_durations
from docintel.models import Page, join_pages

SERVICES = """CONTRACT FOR THE PROVISION OF GROUNDS MAINTENANCE SERVICES
Contract Reference: WCC/2024/0173

THIS AGREEMENT is dated 14 March 2024

BETWEEN:
(1) WESSEXSHIRE COUNTY COUNCIL of County Hall, Market Street, Wessex WX1 1AA (the "Council"); and
(2) GREENWAY LANDSCAPES LIMITED (company number 04567890) whose registered office is at 2 Mill Lane,
Wessex WX2 3BB (the "Supplier").

1. TERM
1.1 The Contract shall commence on 1 April 2024 (the "Commencement Date") and the initial term of this
Contract shall be three (3) years from the Commencement Date.
1.2 The Council may extend the Contract for up to two further periods of twelve (12) months each.
1.3 Either party may terminate this Contract by giving not less than three months' written notice.

2. PRICE AND PAYMENT
2.1 The total Contract Value is £1,250,000.00 exclusive of VAT.
2.2 The Council shall pay each valid and undisputed invoice within 30 days of receipt of a valid invoice.

3. DATA PROTECTION
3.1 The parties shall comply with Schedule 4 (Processing, Personal Data and Data Subjects) under Article 28 UK GDPR.

4. GOVERNING LAW
4.1 This Contract shall be governed by and construed in accordance with the laws of England and Wales and the
parties submit to the exclusive jurisdiction of the courts of England and Wales.

Signed for and on behalf of GREENWAY LANDSCAPES LIMITED
Name: Alex Example
Date: 12 March 2024
"""

NDA = """MUTUAL NON-DISCLOSURE AGREEMENT
This Agreement is made as of February 18, 2013, by and between Acme Widgets, Inc., a Delaware corporation
("Acme") and Example Holdings LLC (the "Recipient").
1. The obligations of the Recipient under this Agreement shall terminate two (2) years from the date hereof.
2. This Agreement shall be governed by the laws of the State of New York.
"""


def _pages(*texts: str) -> tuple[list[Page], str]:
    return join_pages([Page(number=index + 1, text=text) for index, text in enumerate(texts)])


def test_uk_services_contract_fields_with_their_source_and_page() -> None:
    first, second = SERVICES.split("2. PRICE AND PAYMENT")
    pages, text = _pages(first, "2. PRICE AND PAYMENT" + second)
    result = extract_contract(text, pages)

    assert result.kind is ContractKind.SERVICES
    assert result.value("reference") == "WCC/2024/0173"
    assert result.value("effective_date") == "2024-03-14"
    assert result.value("start_date") == "2024-04-01"
    assert result.value("term") == "3 years"
    end = result.fields["end_date"]
    assert end.value == "2027-03-31"
    assert end.how == "start 2024-04-01 + term 3 years"
    assert end.confidence < result.fields["start_date"].confidence  # computed, not stated
    assert result.value("renewal") == "2 x 12 months"
    assert result.value("notice_period") == "3 months"
    assert result.value("total_value") == "1250000.00"
    assert result.currency == "GBP"
    assert result.value("vat_treatment") == "exclusive"
    assert result.value("payment_terms") == "30 days from invoice"
    assert result.value("governing_law") == "England and Wales"
    assert result.value("jurisdiction") == "England and Wales"
    assert result.value("data_processing") == "true"
    assert result.value("executed_as_deed") == "false"

    value = result.fields["total_value"]
    assert value.page == 2
    assert value.start is not None and value.end is not None
    assert "£1,250,000.00" in text[value.start : value.end]
    assert "£1,250,000.00" in value.content

    council, supplier = result.parties
    assert council.name.value == "WESSEXSHIRE COUNTY COUNCIL"
    assert council.role is PartyRole.COUNCIL
    assert supplier.name.value == "GREENWAY LANDSCAPES LIMITED"
    assert supplier.role is PartyRole.SUPPLIER
    assert supplier.role_label == "Supplier"
    assert supplier.company_number is not None and supplier.company_number.value == "04567890"
    assert result.supplier is supplier

    [signatory] = result.signatories
    assert signatory.name.value == "Alex Example"
    assert signatory.date is not None and signatory.date.value == "2024-03-12"


def test_us_nda_reads_month_first_and_state_law() -> None:
    result = extract_contract(NDA)
    assert result.kind is ContractKind.NDA
    assert [p.name.value for p in result.parties] == ["Acme Widgets, Inc.", "Example Holdings LLC"]
    assert result.value("effective_date") == "2013-02-18"
    assert result.value("governing_law") == "New York"
    assert result.value("term") == "2 years"


def test_abstains_when_the_text_states_nothing() -> None:
    result = extract_contract(
        "Minutes of the parish council meeting held in the village hall.\nApologies were received."
    )
    for name in ("effective_date", "end_date", "term", "total_value", "governing_law", "notice_period", "renewal"):
        assert name not in result.fields
    assert result.parties == []
    assert result.kind is ContractKind.OTHER


def test_restrictive_covenant_after_employment_is_not_the_term() -> None:
    text = (
        "AGREEMENT\nDuring your employment and for a period of 12 months after your separation from the Company "
        "you shall not solicit its employees."
    )
    assert "term" not in extract_contract(text).fields


def test_deed_is_recognised() -> None:
    text = "THIS DEED is dated 1 May 2020\nEXECUTED AS A DEED by affixing the common seal of the Council"
    assert extract_contract(text).value("executed_as_deed") == "true"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("three (3) years", "3 years"),
        ("a period of eighteen months", "18 months"),
        ("thirty-six (36) months", "36 months"),
        ("one year", "1 year"),
        ("ninety (90) days", "90 days"),
        ("5 working days", "5 working days"),
    ],
)
def test_durations(text: str, expected: str) -> None:
    assert [d.text for d in find_durations(text)] == [expected]


@pytest.mark.parametrize("text", ["Section 3 of the Act", "no period stated", "year-end accounts"])
def test_no_duration(text: str) -> None:
    assert find_durations(text) == []


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("the 4th day of May, 2005", True, "2005-05-04"),
        ("1 April 2024", True, "2024-04-01"),
        ("01/04/2024", True, "2024-04-01"),
        ("8/11/08", False, "2008-08-11"),
        ("February 18, 2013", True, "2013-02-18"),
    ],
)
def test_contract_dates(text: str, day_first: bool, expected: str) -> None:
    [found] = find_contract_dates(text, day_first=day_first)
    assert found.value.isoformat() == expected


@pytest.mark.parametrize(
    ("start", "term", "end"),
    [
        ("2024-04-01", "three (3) years", "2027-03-31"),
        ("2024-01-31", "1 month", "2024-02-28"),
        ("2024-05-01", "90 days", "2024-07-29"),
    ],
)
def test_end_date_from_term(start: str, term: str, end: str) -> None:
    import datetime as dt

    [duration] = find_durations(term)
    assert add_duration(dt.date.fromisoformat(start), duration) == dt.date.fromisoformat(end)


def test_long_contract_is_read_in_its_first_part_with_a_note() -> None:
    from docintel.contracts.extract import MAX_CONTRACT_CHARS

    schedule = "Schedule 7 (Specification). The Supplier shall cut the grass. " * (MAX_CONTRACT_CHARS // 50)
    result = extract_contract(SERVICES + schedule)
    assert result.value("total_value") == "1250000.00"
    assert result.notes == [f"read the first {MAX_CONTRACT_CHARS:,} characters for terms"]


@pytest.mark.parametrize("text", ["", "   \n\n  ", "\x00\x01\x02", "£££ $$$ 12/13/14/15 day of , 20"])
def test_empty_or_garbled_text_gives_an_empty_result(text: str) -> None:
    result = extract_contract(text)
    assert result.parties == [] and result.signatories == []
    assert {name for name, found in result.fields.items() if found.start is not None} <= {"title"}
