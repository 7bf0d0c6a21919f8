"""Statutory deadlines: one calendar month from receipt (ICO), two further months when extended."""

from __future__ import annotations

import datetime as dt

import pytest

from docintel.sar.deadlines import add_calendar_months, countdown, due_date, extended_due_date

D = dt.date


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2026, 1, 3), D(2026, 2, 3)),  # the corresponding day
        (D(2026, 1, 31), D(2026, 2, 28)),  # no 31 February: the month's last day
        (D(2028, 1, 31), D(2028, 2, 29)),  # leap year
        (D(2028, 1, 29), D(2028, 2, 29)),
        (D(2026, 1, 29), D(2026, 2, 28)),
        (D(2026, 3, 31), D(2026, 4, 30)),
        (D(2026, 8, 31), D(2026, 9, 30)),
        (D(2026, 12, 15), D(2027, 1, 15)),  # across the year end
        (D(2026, 12, 31), D(2027, 1, 31)),
        (D(2026, 2, 28), D(2026, 3, 28)),  # the corresponding day, not the month's end
    ],
)
def test_due_date_is_one_calendar_month(received: dt.date, due: dt.date) -> None:
    assert due_date(received) == due


@pytest.mark.parametrize(
    ("received", "extended"),
    [
        (D(2026, 1, 3), D(2026, 4, 3)),
        (D(2026, 1, 31), D(2026, 4, 30)),  # counted from receipt, not from the clipped 28 February
        (D(2026, 11, 30), D(2027, 2, 28)),
        (D(2027, 11, 29), D(2028, 2, 29)),
        (D(2026, 10, 31), D(2027, 1, 31)),
    ],
)
def test_extension_adds_two_further_months_from_receipt(received: dt.date, extended: dt.date) -> None:
    assert extended_due_date(received) == extended


def test_add_calendar_months_over_many_years() -> None:
    assert add_calendar_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_calendar_months(D(2024, 2, 29), 48) == D(2028, 2, 29)


@pytest.mark.parametrize(
    ("today", "days", "text", "overdue"),
    [
        (D(2026, 2, 1), 2, "2 days left", False),
        (D(2026, 2, 2), 1, "1 day left", False),
        (D(2026, 2, 3), 0, "due today", False),
        (D(2026, 2, 4), -1, "overdue by 1 day", True),
        (D(2026, 2, 10), -7, "overdue by 7 days", True),
    ],
)
def test_countdown(today: dt.date, days: int, text: str, overdue: bool) -> None:
    clock = countdown(D(2026, 2, 3), today)
    assert (clock.days_left, clock.describe(), clock.overdue) == (days, text, overdue)
