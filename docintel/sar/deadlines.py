"""Statutory deadlines of a subject access request, in calendar months as the ICO counts them.

The clock starts on the day the request is received. It ends on the corresponding calendar date of the next month
(received 3 January: due 3 February); when that month has no such date, on its last day (received 31 January: due
28 February, 29 in a leap year). An extension for complex or numerous requests adds two further months, counted
from receipt too (received 31 January: extended to 30 April, not 28 April).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

# One calendar month to answer (UK GDPR Article 12(3)); two further months when extended.
RESPONSE_MONTHS = 1
EXTENSION_MONTHS = 2


def add_calendar_months(start: dt.date, months: int) -> dt.date:
    """The corresponding date ``months`` later, or that month's last day when it has no such date."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_date(received_on: dt.date) -> dt.date:
    """The statutory deadline of a request received on ``received_on``."""
    return add_calendar_months(received_on, RESPONSE_MONTHS)


def extended_due_date(received_on: dt.date) -> dt.date:
    """The deadline once extended by two further months."""
    return add_calendar_months(received_on, RESPONSE_MONTHS + EXTENSION_MONTHS)


@dataclass(frozen=True)
class Countdown:
    """How long is left before a deadline, as the handler reads it."""

    deadline: dt.date
    days_left: int  # negative once overdue

    @property
    def overdue(self) -> bool:
        """True once the deadline has passed."""
        return self.days_left < 0

    def describe(self) -> str:
        """ "12 days left", "due today", "overdue by 3 days"."""
        if self.days_left == 0:
            return "due today"
        if self.days_left > 0:
            return f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"
        late = -self.days_left
        return f"overdue by {late} day{'s' if late != 1 else ''}"


def countdown(deadline: dt.date, today: dt.date | None = None) -> Countdown:
    """Days from ``today`` (default: the UTC date) to ``deadline``."""
    today = today or dt.datetime.now(dt.UTC).date()
    return Countdown(deadline, (deadline - today).days)
