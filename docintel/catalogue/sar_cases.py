"""Subject access request cases in the catalogue: the case, its identifier hashes, found documents, exemptions.

The only module that writes the ``sar_*`` tables. Every change a handler makes is written with its audit row in
the same transaction (``audit``, action ``sar_*``, target the case id), so a case's trail is never behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import DocintelError

# Rows looked up per IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 500
# A case's status.
OPEN, CLOSED = "open", "closed"
# A found document's decision.
PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"


class CaseNotFound(DocintelError):
    """No case with that id."""

    exit_code = 2
    http_status = 404


class CaseClosed(DocintelError):
    """The case is closed: nothing about it changes any more."""

    exit_code = 2
    http_status = 409


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(items), CHUNK):
        yield items[index : index + CHUNK]


class SarCaseStore:
    """Reads and writes subject access cases in a catalogue (SQLite or PostgreSQL)."""

    def __init__(self, store: CatalogueStore) -> None:
        self.store = store

    # -- audit ------------------------------------------------------------------------------------

    @staticmethod
    def _audit(
        connection: Connection,
        case_id: str,
        user: str,
        action: str,
        *,
        document_id: str | None = None,
        to_value: str | None = None,
        reason: str = "",
    ) -> None:
        connection.execute(
            insert(t.audit).values(
                at=_now(),
                user_name=user[:128],
                action=action[:32],
                document_id=document_id,
                target=case_id,
                from_value=None,
                to_value=to_value,
                reason=reason,
                outcome="done",
                batch_id=None,
            )
        )

    def audit(
        self,
        case_id: str,
        user: str,
        action: str,
        *,
        document_id: str | None = None,
        to_value: str | None = None,
        reason: str = "",
    ) -> None:
        """Record an action on a case that changes nothing in it (viewing, searching, bundling)."""
        with self.store.transaction(f"audit {action}", write=True) as connection:
            self._audit(connection, case_id, user, action, document_id=document_id, to_value=to_value, reason=reason)

    def audit_trail(self, case_id: str) -> list[dict[str, Any]]:
        """Every audited action on a case, oldest first."""
        a = t.audit
        query = (
            select(a.c.at, a.c.user_name, a.c.action, a.c.document_id, a.c.to_value, a.c.reason)
            .where(a.c.target == case_id, a.c.action.like("sar%"))
            .order_by(a.c.at, a.c.id)
        )
        with self.store.transaction("read case audit") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    # -- cases ------------------------------------------------------------------------------------

    def _next_id(self, connection: Connection, year: int) -> str:
        prefix = f"SAR-{year}-"
        count = connection.execute(
            select(func.count()).select_from(t.sar_cases).where(t.sar_cases.c.id.like(f"{prefix}%"))
        ).scalar_one()
        return f"{prefix}{count + 1:04d}"

    def create(self, case: dict[str, Any], identifiers: Iterable[dict[str, Any]], user: str) -> str:
        """Store a new case and its identifier hashes; its id (SAR-<year>-<n>)."""
        with self.store.transaction("open case", write=True) as connection:
            case_id = self._next_id(connection, case["received_on"].year)
            connection.execute(
                insert(t.sar_cases).values(id=case_id, status=OPEN, opened_by=user[:128], opened_at=_now(), **case)
            )
            rows = [{"case_id": case_id, **row} for row in identifiers]
            if rows:
                connection.execute(insert(t.sar_identifiers), rows)
            kinds = sorted({row["kind"] for row in rows})
            self._audit(
                connection, case_id, user, "sar_open", to_value=",".join(kinds), reason=f"handler {case['handler']}"
            )
        return case_id

    def get(self, case_id: str) -> dict[str, Any]:
        """A case's row; CaseNotFound when there is none."""
        with self.store.transaction("read case") as connection:
            row = connection.execute(select(t.sar_cases).where(t.sar_cases.c.id == case_id)).mappings().first()
        if row is None:
            raise CaseNotFound(f"no subject access case {case_id!r}")
        return dict(row)

    def _open_case(self, connection: Connection, case_id: str) -> dict[str, Any]:
        row = connection.execute(select(t.sar_cases).where(t.sar_cases.c.id == case_id)).mappings().first()
        if row is None:
            raise CaseNotFound(f"no subject access case {case_id!r}")
        if row["status"] == CLOSED:
            raise CaseClosed(f"case {case_id} is closed")
        return dict(row)

    def list_cases(self, status: str | None = None) -> list[dict[str, Any]]:
        """Cases, soonest deadline first, with counts of found, confirmed and pending documents."""
        c, d = t.sar_cases, t.sar_documents
        counts = (
            select(
                d.c.case_id,
                func.count().label("found"),
                func.sum(case((d.c.decision == CONFIRMED, 1), else_=0)).label("confirmed"),
                func.sum(case((d.c.decision == PENDING, 1), else_=0)).label("pending"),
            )
            .group_by(d.c.case_id)
            .subquery()
        )
        query = (
            select(c, counts.c.found, counts.c.confirmed, counts.c.pending)
            .outerjoin(counts, counts.c.case_id == c.c.id)
            .order_by(func.coalesce(c.c.extended_to, c.c.due_on), c.c.id)
        )
        if status is not None:
            query = query.where(c.c.status == status)
        with self.store.transaction("list cases") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def identifiers(self, case_id: str) -> list[dict[str, Any]]:
        """A case's identifier hashes (kind, form, entity type, hash, strength)."""
        i = t.sar_identifiers
        query = select(i.c.kind, i.c.form, i.c.entity_type, i.c.value_hash, i.c.strength).where(i.c.case_id == case_id)
        with self.store.transaction("read case identifiers") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def extend(self, case_id: str, extended_to: dt.date, reason: str, user: str) -> None:
        """Extend the deadline (complex or numerous requests), with the reason the requester must be told."""
        with self.store.transaction("extend case", write=True) as connection:
            self._open_case(connection, case_id)
            connection.execute(
                update(t.sar_cases)
                .where(t.sar_cases.c.id == case_id)
                .values(extended_to=extended_to, extension_reason=reason)
            )
            self._audit(connection, case_id, user, "sar_extend", to_value=extended_to.isoformat(), reason=reason)

    def close(self, case_id: str, sent_on: dt.date, sent: dict[str, Any], user: str) -> None:
        """Close a case, recording what was sent and when."""
        with self.store.transaction("close case", write=True) as connection:
            self._open_case(connection, case_id)
            connection.execute(
                update(t.sar_cases)
                .where(t.sar_cases.c.id == case_id)
                .values(status=CLOSED, closed_by=user[:128], closed_at=_now(), sent_on=sent_on, sent=sent)
            )
            self._audit(
                connection, case_id, user, "sar_close", to_value=sent_on.isoformat(), reason=str(sent.get("how", ""))
            )

    # -- found documents ----------------------------------------------------------------------------

    def record_found(self, case_id: str, found: Iterable[dict[str, Any]], user: str) -> int:
        """Store a search's documents: new ones pending, known ones re-scored with their decision kept."""
        rows = list(found)
        d = t.sar_documents
        with self.store.transaction("record case documents", write=True) as connection:
            self._open_case(connection, case_id)
            known = set(connection.execute(select(d.c.document_id).where(d.c.case_id == case_id)).scalars())
            rescored = [
                {
                    "doc": row["document_id"],
                    "new_score": row["score"],
                    "new_tie": row["tie"],
                    "new_reasons": row["reasons"],
                }
                for row in rows
                if row["document_id"] in known
            ]
            if rescored:  # one executemany: a repeated search of a large case is one round trip, not one per row
                connection.execute(
                    update(d)
                    .where(d.c.case_id == case_id, d.c.document_id == bindparam("doc"))
                    .values(score=bindparam("new_score"), tie=bindparam("new_tie"), reasons=bindparam("new_reasons")),
                    rescored,
                )
            new = [
                {
                    "case_id": case_id,
                    "document_id": row["document_id"],
                    "decision": PENDING,
                    **{k: row[k] for k in ("score", "tie", "reasons")},
                }
                for row in rows
                if row["document_id"] not in known
            ]
            if new:
                connection.execute(insert(d), new)
            connection.execute(update(t.sar_cases).where(t.sar_cases.c.id == case_id).values(searched_at=_now()))
            ties = {tie: sum(1 for row in rows if row["tie"] == tie) for tie in ("strong", "weak", "conflict")}
            self._audit(
                connection,
                case_id,
                user,
                "sar_search",
                to_value=str(len(rows)),
                reason=", ".join(f"{tie} {n}" for tie, n in ties.items()),
            )
        return len(new)

    def documents(self, case_id: str, decision: str | None = None) -> list[dict[str, Any]]:
        """A case's found documents with their catalogue row (masked name, path, title), best first."""
        s, doc = t.sar_documents, t.documents
        query = (
            select(
                s,
                doc.c.source,
                doc.c.name,
                doc.c.path,
                doc.c.title,
                doc.c.web_url,
                doc.c.modified_at,
                doc.c.parent_id,
                doc.c.file_type,
                doc.c.page_count,
            )
            .outerjoin(doc, doc.c.id == s.c.document_id)
            .where(s.c.case_id == case_id)
            .order_by(s.c.score.desc(), s.c.document_id)
        )
        if decision is not None:
            query = query.where(s.c.decision == decision)
        with self.store.transaction("read case documents") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def decide(self, case_id: str, document_id: str, decision: str, user: str, reason: str = "") -> None:
        """Confirm or reject a found document for the case."""
        if decision not in (CONFIRMED, REJECTED, PENDING):
            raise ValueError(f"unknown decision {decision!r}")
        d = t.sar_documents
        where = and_(d.c.case_id == case_id, d.c.document_id == document_id)
        with self.store.transaction("decide case document", write=True) as connection:
            self._open_case(connection, case_id)
            changed = connection.execute(
                update(d)
                .where(where)
                .values(decision=decision, decided_by=user[:128], decided_at=_now(), decision_reason=reason)
            ).rowcount
            if not changed:
                raise CaseNotFound(f"document {document_id} was not found for case {case_id}")
            self._audit(connection, case_id, user, f"sar_{decision}", document_id=document_id, reason=reason)

    # -- exemptions ---------------------------------------------------------------------------------

    def add_exemption(
        self, case_id: str, document_id: str, page: int | None, exemption: str, *, note: str, user: str
    ) -> None:
        """Withhold a page (or, page None, the whole document) under an exemption."""
        with self.store.transaction("record exemption", write=True) as connection:
            self._open_case(connection, case_id)
            known = connection.execute(
                select(t.sar_documents.c.document_id).where(
                    t.sar_documents.c.case_id == case_id, t.sar_documents.c.document_id == document_id
                )
            ).first()
            if known is None:
                raise CaseNotFound(f"document {document_id} was not found for case {case_id}")
            connection.execute(
                insert(t.sar_exemptions).values(
                    case_id=case_id,
                    document_id=document_id,
                    page=page,
                    exemption=exemption,
                    note=note,
                    recorded_by=user[:128],
                    recorded_at=_now(),
                )
            )
            where = "whole document" if page is None else f"page {page}"
            self._audit(
                connection,
                case_id,
                user,
                "sar_exempt",
                document_id=document_id,
                to_value=f"{exemption} ({where})",
                reason=note,
            )

    def exemptions(self, case_id: str) -> list[dict[str, Any]]:
        """A case's exemptions, by document and page."""
        e = t.sar_exemptions
        query = select(e).where(e.c.case_id == case_id).order_by(e.c.document_id, e.c.page, e.c.id)
        with self.store.transaction("read exemptions") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def remove_exemptions(self, case_id: str, document_id: str, user: str) -> None:
        """Drop every exemption of a document (a handler's mistake), audited."""
        with self.store.transaction("remove exemptions", write=True) as connection:
            self._open_case(connection, case_id)
            connection.execute(
                delete(t.sar_exemptions).where(
                    t.sar_exemptions.c.case_id == case_id, t.sar_exemptions.c.document_id == document_id
                )
            )
            self._audit(connection, case_id, user, "sar_unexempt", document_id=document_id)

    def mentions(self, case_id: str, document_id: str) -> list[dict[str, Any]]:
        """Where a document mentions the case's requester: every finding holding one of the case's hashes."""
        f, i = t.pii_findings, t.sar_identifiers
        query = (
            select(i.c.kind, f.c.entity_type, f.c.page, f.c.start, f.c.end, f.c.field)
            .join(i, and_(i.c.entity_type == f.c.entity_type, i.c.value_hash == f.c.value_hash))
            .where(i.c.case_id == case_id, f.c.document_id == document_id)
            .distinct()
            .order_by(f.c.start)
        )
        with self.store.transaction("read case mentions") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    # -- search queries over the catalogue ------------------------------------------------------------

    def findings_with_hashes(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """(document id, entity type, value hash) of every live finding whose (type, hash) is in ``pairs``."""
        f, doc = t.pii_findings, t.documents
        by_type: dict[str, list[str]] = {}
        for entity_type, value_hash in pairs:
            by_type.setdefault(entity_type, []).append(value_hash)
        found: list[tuple[str, str, str]] = []
        with self.store.transaction("search findings") as connection:
            for entity_type, hashes in by_type.items():
                for chunk in _chunks(hashes):
                    query = (
                        select(f.c.document_id, f.c.entity_type, f.c.value_hash)
                        .join(doc, doc.c.id == f.c.document_id)
                        .where(f.c.entity_type == entity_type, f.c.value_hash.in_(chunk), doc.c.deleted.is_(False))
                        .distinct()
                    )
                    found += [(row[0], row[1], row[2]) for row in connection.execute(query)]
        return found

    def findings_of_types(self, document_ids: Sequence[str], entity_types: Sequence[str]) -> list[tuple[str, str, str]]:
        """(document id, entity type, value hash) of every finding of the given types in the given documents."""
        f = t.pii_findings
        wanted = set(entity_types)
        found: set[tuple[str, str, str]] = set()
        with self.store.transaction("read findings") as connection:
            for chunk in _chunks(list(document_ids)):
                # By document id alone, types filtered here: with the type in the WHERE clause SQLite picks the
                # (type, hash) index and reads every finding of that type in the catalogue (seconds at 100k).
                query = select(f.c.document_id, f.c.entity_type, f.c.value_hash).where(f.c.document_id.in_(chunk))
                found.update((row[0], row[1], row[2]) for row in connection.execute(query) if row[1] in wanted)
        return sorted(found)
