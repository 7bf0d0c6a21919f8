"""bench/invoices.py scoring: normalisation applied to both tools alike, and the table with its ratio column."""

from __future__ import annotations

import pytest

from bench.invoices import SROIE_FIELDS, ToolRun, normalise, report, score


@pytest.mark.parametrize(
    ("kind", "value", "normalised"),
    [
        ("amount", "RM 1,234.5", None),  # a thousands comma reads as a decimal point: unreadable, not a guess
        ("amount", "9.00", "9.00"),
        ("amount", ["12.5"], "12.50"),
        ("date", "25/12/2018", "2018-12-25"),
        ("date", "2018-12-25 20:13:39", "2018-12-25"),
        ("name", "Harbour Stationers Sdn. Bhd.", "HARBOURSTATIONERS"),
        ("text", "No. 5, Jalan 3/2", "NO5JALAN32"),
        ("text", "", None),
    ],
)
def test_normalise(kind: str, value: object, normalised: str | None) -> None:
    assert normalise(kind, value) == normalised


def test_report_pools_fields_and_gives_the_ratio_to_the_peer() -> None:
    expected = {"company": "Harbour Stationers", "date": "25/12/2018", "address": "5 Quay Road", "total": "9.00"}
    ours, peer = ToolRun(), ToolRun()
    ours_got = {"VendorName": "HARBOUR STATIONERS", "InvoiceDate": "2018-12-25", "InvoiceTotal": "9.00"}
    score(ours, "r1.jpg", expected, ours_got, SROIE_FIELDS, None)
    score(
        peer,
        "r1.jpg",
        expected,
        {"issuer": "Harbour Stationers", "amount": 8.0},
        SROIE_FIELDS,
        {"company": "issuer", "total": "amount"},
    )
    assert (ours.total().truth, ours.total().predicted, ours.total().correct) == (4, 3, 3)
    assert (peer.total().predicted, peer.total().correct) == (2, 1)
    table = report("sroie", {"docintel": ours, "invoice2data": peer}, with_f1=True)
    header, _, *rows = table.splitlines()[1:]
    assert header.split()[-1] == "docintel/invoice2data"
    overall = next(row for row in rows if row.startswith("ALL")).split()
    # docintel: P 1, R 0.75, F1 0.857; peer: P 0.5, R 0.25, F1 0.333; ratio 2.57
    assert overall[2:] == ["0.857", "0.333", "2.57"]
