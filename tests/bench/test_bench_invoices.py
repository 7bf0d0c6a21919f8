"""bench/invoices.py scoring: normalisation applied to both tools alike, and the table with its ratio column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.invoices import (
    GENERATED_FIELDS,
    SROIE_FIELDS,
    Reading,
    ToolRun,
    accept_report,
    bench_generated,
    non_name,
    normalise,
    report,
    score,
)
from docintel.settings import Settings


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


@pytest.mark.parametrize(
    ("value", "why"),
    [("Buyer", "label"), ("April 13", "date"), ("13/04/2025", "date"), ("£120.00", "amount"), ("Acme Ltd", None)],
)
def test_non_name(value: str, why: str | None) -> None:
    assert non_name(value) == why


def test_score_counts_role_confusions_non_names_and_auto_accept() -> None:
    truth = {"VendorName": "Brackenfold Print Services Ltd", "CustomerName": "Northshire County Council",
             "InvoiceDate": "2025-04-03", "InvoiceTotal": "120.00"}  # fmt: skip
    swapped = Reading(
        {
            "VendorName": "Northshire County Council",
            "CustomerName": "Brackenfold Print Services Ltd",
            "InvoiceDate": "2025-04-03",
            "InvoiceTotal": "120.00",
        },
        raw={"VendorName": 0.8, "CustomerName": 0.8, "InvoiceDate": 0.9, "InvoiceTotal": 0.9},
        accepted={"InvoiceDate": True, "InvoiceTotal": True},
    )
    labelled = Reading({"VendorName": "Buyer", "InvoiceDate": "2025-04-03"}, raw={"InvoiceDate": 0.9})
    run = ToolRun()
    score(run, "a", truth, swapped, GENERATED_FIELDS, None)
    score(run, "b", truth, labelled, GENERATED_FIELDS, None)
    assert run.confusions == 2
    assert run.non_names == ["b:VendorName=label"]
    assert len(run.records) == 6
    table = accept_report("generated", run)
    all_row = next(line for line in table.splitlines() if line.startswith("ALL")).split()
    assert all_row[1:] == ["6", "0.500", "2", "1.000", "0.333"]  # 6 judged, 3 right, 2 auto_accept, both right
    assert "invoices auto_accept 0/2" in table


def test_generated_dataset_runs_without_evaldata() -> None:
    runs = bench_generated(Path("."), None, 3, Settings())
    assert runs["docintel"].total().truth > 0
    assert runs["docintel"].failures == 0
