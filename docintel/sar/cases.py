"""The case workflow: open a request, search for the requester, decide documents, extend, close.

Functions here are what the ``docintel sar`` commands and the review pages call; the SQL is in
:mod:`docintel.catalogue.sar_cases`. Every step is audited against the case id, naming who did it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from docintel.catalogue.sar_cases import SarCaseStore
from docintel.catalogue.store import CatalogueStore
from docintel.enrich.hashing import bind_pii_key
from docintel.sar.deadlines import Countdown, countdown, due_date, extended_due_date
from docintel.sar.identifiers import InvalidIdentifier, identifier_hashes, masked_label
from docintel.sar.search import DocumentTie, rank_documents


@dataclass(frozen=True)
class CaseView:
    """A case as a handler reads it: its row and the countdown to its current deadline."""

    row: Mapping[str, Any]
    clock: Countdown

    @property
    def deadline(self) -> dt.date:
        """The deadline in force: the extended one once extended."""
        return self.clock.deadline


def view(row: Mapping[str, Any], today: dt.date | None = None) -> CaseView:
    """The case with its countdown (a closed case counts down no more: its clock stops at the day it was sent)."""
    deadline = row["extended_to"] or row["due_on"]
    return CaseView(row, countdown(deadline, row["sent_on"] if row["status"] == "closed" and row["sent_on"] else today))


def open_case(
    store: CatalogueStore,
    key: bytes,
    identifiers: Mapping[str, Sequence[str]],
    *,
    received_on: dt.date,
    handler: str,
    user: str,
) -> str:
    """Record a new request: the requester's identifiers as keyed hashes, its deadline; the case id."""
    bind_pii_key(store, key)  # another key's hashes would find nothing: refuse rather than miss documents
    if received_on > dt.datetime.now(dt.UTC).date():
        raise InvalidIdentifier("the request cannot be received in the future")
    hashes = identifier_hashes(identifiers, key)
    case = {
        "label": masked_label(identifiers.get("name", ())),
        "received_on": received_on,
        "due_on": due_date(received_on),
        "handler": handler,
    }
    rows = [
        {
            "kind": h.kind,
            "form": h.form,
            "entity_type": h.entity_type,
            "value_hash": h.value_hash,
            "strength": h.strength,
        }
        for h in hashes
    ]
    return SarCaseStore(store).create(case, rows, user)


def search_case(store: CatalogueStore, case_id: str, user: str) -> list[DocumentTie]:
    """Search every catalogued source for the case's requester; store and return the ranked documents."""
    cases = SarCaseStore(store)
    cases.get(case_id)
    found = rank_documents(cases, cases.identifiers(case_id))
    cases.record_found(case_id, [tie.as_row() for tie in found], user)
    return found


def extend_case(store: CatalogueStore, case_id: str, reason: str, user: str) -> dt.date:
    """Extend the deadline by two further months (counted from receipt); the new deadline."""
    cases = SarCaseStore(store)
    extended = extended_due_date(cases.get(case_id)["received_on"])
    cases.extend(case_id, extended, reason, user)
    return extended
