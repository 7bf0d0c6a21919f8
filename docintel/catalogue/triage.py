"""The migration triage's catalogue reads and writes: the files to triage, and records managers' overrides.

Triage works on whatever the catalogue holds for a share's files (``documents`` rows from ``docintel scan`` of a
folder, or from a crawler): top-level, live rows only (an e-mail attachment or an archive member is not a file
of the share and moves with its container). No text is read; personal data is counted, never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore

# Rows per keyset page when streaming the files to triage.
TRIAGE_BATCH = 5000
# The audit trail's action for a changed or cleared triage override.
OVERRIDE_ACTION = "triage_override"

_TRIAGE_COLUMNS = (
    "id",
    "source",
    "locator",
    "source_locator",
    "name",
    "path",
    "size",
    "sha256",
    "file_type",
    "status",
    "error_type",
    "created_at",
    "modified_at",
    "record_class",
    "class_confidence",
    "needs_review",
    "retention_action",
    "disposal_date",
)


@dataclass(frozen=True)
class TriageOverride:
    """A records manager's recommendation for one document, replacing the computed one."""

    document_id: str
    recommendation: str
    reason: str
    user_name: str
    at: dt.datetime


def iter_triage_rows(store: CatalogueStore, pii_types: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Live top-level documents (the share's files) with the columns triage reads, and ``pii``: how many findings
    of ``pii_types`` each holds (anywhere: text, name, path, title).

    Streamed in id order by keyset pages, one short read transaction each.
    """
    d = t.documents
    pii = (
        select(t.pii_findings.c.document_id, func.count().label("pii"))
        .where(t.pii_findings.c.entity_type.in_(list(pii_types)))
        .group_by(t.pii_findings.c.document_id)
        .subquery()
    )
    columns = [d.c[name] for name in _TRIAGE_COLUMNS]
    query = (
        select(*columns, func.coalesce(pii.c.pii, 0).label("pii"))
        .select_from(d.outerjoin(pii, pii.c.document_id == d.c.id))
        .where(d.c.deleted.is_(False), d.c.parent_id.is_(None))
    )
    yield from store.iter_keyset(query, d.c.id, "read triage rows", TRIAGE_BATCH)


def matching_ids(store: CatalogueStore, condition: ColumnElement[bool]) -> set[str]:
    """Ids of live documents meeting a condition on ``documents`` (e.g. the review store's hold coverage)."""
    d = t.documents
    with store.transaction("read matching documents") as connection:
        return set(connection.execute(select(d.c.id).where(d.c.deleted.is_(False), condition)).scalars())


def overrides(store: CatalogueStore, ids: Sequence[str] | None = None) -> dict[str, TriageOverride]:
    """The current overrides, by document id (only those of ``ids`` when given)."""
    o = t.triage_overrides
    query = select(o)
    found: dict[str, TriageOverride] = {}
    with store.transaction("read triage overrides") as connection:
        chunks = (
            [query]
            if ids is None
            else [query.where(o.c.document_id.in_(ids[start : start + 500])) for start in range(0, len(ids), 500)]
        )
        for chunk in chunks:
            for row in connection.execute(chunk):
                found[row.document_id] = TriageOverride(
                    row.document_id, row.recommendation, row.reason, row.user_name, row.at
                )
    return found


def set_override(
    store: CatalogueStore,
    document_id: str,
    recommendation: str | None,
    *,
    user_name: str,
    reason: str,
    computed: str,
    outcome: str = "done",
) -> None:
    """Record (or, with ``recommendation`` None, clear) an override, with its audit row, in one transaction.

    ``computed`` is the recommendation the rules give, kept in the audit row as the value overridden. A refused
    attempt (``outcome`` "refused") writes the audit row only.
    """
    o = t.triage_overrides
    now = dt.datetime.now(dt.UTC)
    with store.transaction("write triage override", write=True) as connection:
        previous = connection.execute(select(o.c.recommendation).where(o.c.document_id == document_id)).scalar()
        if outcome == "done":
            connection.execute(delete(o).where(o.c.document_id == document_id))
            if recommendation is not None:
                connection.execute(
                    insert(o).values(
                        document_id=document_id,
                        recommendation=recommendation,
                        reason=reason,
                        user_name=user_name,
                        at=now,
                    )
                )
        connection.execute(
            insert(t.audit).values(
                at=now,
                user_name=user_name[:128],
                action=OVERRIDE_ACTION,
                document_id=document_id,
                target=None,
                from_value=previous or computed,
                to_value=recommendation or f"{computed} (override cleared)",
                reason=reason,
                outcome=outcome,
                batch_id=None,
            )
        )
