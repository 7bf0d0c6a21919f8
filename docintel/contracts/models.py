"""The contract result: key terms of one contract or agreement, each with its text span, page and confidence."""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ContractKind(StrEnum):
    """The kinds of contract and agreement a council holds."""

    SERVICES = "services"
    WORKS = "works"
    SUPPLY = "supply"
    FRAMEWORK_CALL_OFF = "framework_call_off"
    GRANT = "grant"
    LEASE = "lease"
    LICENCE = "licence"
    PLANNING_OBLIGATION = "planning_obligation"  # s106 and other planning agreements
    NDA = "nda"
    DATA_SHARING = "data_sharing"
    OTHER = "other"


class PartyRole(StrEnum):
    """Which side of the contract a party is on, from the council's point of view."""

    COUNCIL = "council"
    SUPPLIER = "supplier"  # supplier, contractor, provider, grantee, tenant, developer: the other side
    OTHER = "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContractField(_Model):
    """One extracted value: normalised value, the text it came from, where, and how sure we are (0-1)."""

    value: str | None = None  # dates ISO 8601, amounts Decimal strings, durations "3 years", flags "true"/"false"
    content: str = ""  # the document text the value was read from (in memory and analyze only; never stored)
    page: int | None = None
    start: int | None = None  # offsets into the document's text
    end: int | None = None
    confidence: float = 0.0
    how: str | None = None  # how a derived value was computed, e.g. "start 2024-04-01 + term 3 years"


class ContractParty(_Model):
    """A party to the contract with its role and, where printed, its Companies House and VAT numbers."""

    name: ContractField
    role: PartyRole = PartyRole.OTHER
    role_label: str | None = None  # the defined term the contract gives it, e.g. "the Supplier"
    organisation: bool = True  # False: the name looks like a person's and is personal data
    company_number: ContractField | None = None
    vat_number: ContractField | None = None
    name_hash: str | None = None  # keyed hash of a person's name (set by the pipeline; the catalogue keeps only this)


class Signatory(_Model):
    """Someone who signed, and when; the name is personal data and only its keyed hash is stored."""

    name: ContractField
    for_party: str | None = None  # the party they signed for, when the block says
    date: ContractField | None = None
    name_hash: str | None = None


# Field names of the scalar fields, in the order the result lists them.
FIELD_NAMES = (
    "title",
    "reference",
    "framework_reference",
    "effective_date",
    "start_date",
    "end_date",
    "term",
    "renewal",
    "notice_period",
    "governing_law",
    "jurisdiction",
    "total_value",
    "annual_value",
    "vat_treatment",
    "payment_terms",
    "data_processing",
    "executed_as_deed",
)
DATE_FIELDS = frozenset({"effective_date", "start_date", "end_date"})
AMOUNT_FIELDS = frozenset({"total_value", "annual_value"})


class ContractResult(_Model):
    """Everything read from one contract or agreement."""

    kind: ContractKind = ContractKind.OTHER
    kind_confidence: float = 0.0
    fields: dict[str, ContractField] = Field(default_factory=dict)
    parties: list[ContractParty] = Field(default_factory=list)
    signatories: list[Signatory] = Field(default_factory=list)
    currency: str | None = None  # ISO 4217 code of the values
    notes: list[str] = Field(default_factory=list)

    def value(self, name: str) -> str | None:
        """A field's value, or None when it was not found."""
        found = self.fields.get(name)
        return found.value if found else None

    def date(self, name: str) -> dt.date | None:
        """A date field as a date, or None."""
        value = self.value(name)
        return dt.date.fromisoformat(value) if value else None

    def notice_date(self) -> dt.date | None:
        """The last day notice can be given to end the contract at its end date (end date minus notice period)."""
        end = self.date("end_date")
        notice = self.value("notice_period")
        if end is None or not notice:
            return None
        number_text, _, unit = notice.partition(" ")
        try:
            number = float(number_text)
        except ValueError:
            return None
        if unit in ("month", "months", "year", "years") and number == int(number):
            months = int(number) * (12 if unit.startswith("year") else 1)
            total = end.year * 12 + end.month - 1 - months
            year, month = divmod(total, 12)
            return dt.date(year, month + 1, min(end.day, calendar.monthrange(year, month + 1)[1]))
        if unit in ("day", "days", "week", "weeks"):
            return end - dt.timedelta(days=number * (7 if unit.startswith("week") else 1))
        return None  # working days need the bank-holiday calendar

    @property
    def supplier(self) -> ContractParty | None:
        """The first party that is not the council."""
        for party in self.parties:
            if party.role is PartyRole.SUPPLIER:
                return party
        return next((p for p in self.parties if p.role is not PartyRole.COUNCIL), None)
