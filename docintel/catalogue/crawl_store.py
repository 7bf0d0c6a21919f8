"""The crawler's tables: per-drive delta checkpoints and the item index (``drive_checkpoints``, ``drive_items``).

Writes are upserts keyed on (drive, item), so replaying a delta page after a crash, or two workers
recording the same item, leaves one row. On PostgreSQL they are ``INSERT ... ON CONFLICT DO UPDATE``; on
SQLite the same statement inside an IMMEDIATE transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import safe_summary

logger = logging.getLogger(__name__)

# Rows per keyset page when walking a drive's items.
ITEM_BATCH = 1000

STATUS_RUNNING, STATUS_IDLE, STATUS_FAILED = "running", "idle", "failed"


@dataclass(frozen=True)
class Checkpoint:
    """A drive's crawl state."""

    drive_id: str
    source: str
    kind: str
    label: str
    delta_link: str | None
    round: int
    status: str
    round_started_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    counts: dict[str, Any]
    error_type: str | None
    error_message: str | None
    owner: str | None = None  # whose OneDrive or mailbox, or which site: for operators' eyes only


@dataclass(frozen=True)
class ItemRow:
    """One file of the item index with what the catalogue holds for it (``doc_*``, None when not stored)."""

    drive_id: str
    item_id: str
    document_id: str | None
    name: str | None
    parent_id: str | None
    path: str
    etag: str | None
    ctag: str | None
    quick_xor_hash: str | None
    size: int | None
    mime_type: str | None
    web_url: str | None
    created_at: dt.datetime | None
    modified_at: dt.datetime | None
    deleted: bool
    processed_ctag: str | None
    processed_hash: str | None

    @property
    def needs_processing(self) -> bool:
        """True unless the catalogued content version is this one (same cTag, or same quickXorHash)."""
        if self.processed_ctag is None and self.processed_hash is None:
            return True
        if self.ctag is not None and self.ctag == self.processed_ctag:
            return False
        return not (self.quick_xor_hash is not None and self.quick_xor_hash == self.processed_hash)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CrawlStore:
    """Queries over the crawl tables, using a :class:`CatalogueStore`'s engine."""

    def __init__(self, store: CatalogueStore) -> None:
        self.store = store
        self._engine = store.engine
        self._dialect = store.dialect

    def _transaction(self, action: str, *, write: bool = False) -> AbstractContextManager[Connection]:
        return self.store.transaction(f"crawl {action}", write=write)

    def _insert(self, table: Any) -> Any:
        return postgresql.insert(table) if self._dialect == "postgresql" else sqlite.insert(table)

    # -- checkpoints --

    def checkpoint(self, drive_id: str) -> Checkpoint | None:
        """A drive's checkpoint, or None before its first round."""
        with self._transaction("read checkpoint") as connection:
            row = (
                connection.execute(select(t.drive_checkpoints).where(t.drive_checkpoints.c.drive_id == drive_id))
                .mappings()
                .one_or_none()
            )
        return Checkpoint(**dict(row)) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        """Every drive's checkpoint, by source and label."""
        query = select(t.drive_checkpoints).order_by(t.drive_checkpoints.c.source, t.drive_checkpoints.c.label)
        with self._transaction("read checkpoints") as connection:
            return [Checkpoint(**dict(row)) for row in connection.execute(query).mappings()]

    def begin_round(self, drive_id: str, source: str, kind: str, label: str, owner: str | None = None) -> Checkpoint:
        """Start a new round on a drive (round + 1, status running); returns the checkpoint to resume from."""
        c = t.drive_checkpoints
        now = _now()
        row: dict[str, Any] = {
            "drive_id": drive_id,
            "source": source,
            "kind": kind,
            "label": label,
            "owner": owner,
            "round": 1,
            "status": STATUS_RUNNING,
            "round_started_at": now,
            "counts": {},
        }
        statement = self._insert(c).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[c.c.drive_id],
            set_={
                "round": c.c.round + 1,
                "status": STATUS_RUNNING,
                "round_started_at": now,
                "source": source,
                "kind": kind,
                "label": label,
                # A round enqueued without its owner (an older job) keeps the name the last one stored.
                "owner": func.coalesce(statement.excluded.owner, c.c.owner),
            },
        )
        with self._transaction("begin round", write=True) as connection:
            connection.execute(statement)
            found = connection.execute(select(c).where(c.c.drive_id == drive_id)).mappings().one()
        return Checkpoint(**dict(found))

    def finish_round(self, drive_id: str, delta_link: str, counts: Mapping[str, Any]) -> None:
        """Store the round's deltaLink: call only once every item of the round is recorded or enqueued."""
        values = {
            "delta_link": delta_link,
            "status": STATUS_IDLE,
            "last_sync_at": _now(),
            "counts": dict(counts),
            "error_type": None,
            "error_message": None,
        }
        with self._transaction("finish round", write=True) as connection:
            connection.execute(
                update(t.drive_checkpoints).where(t.drive_checkpoints.c.drive_id == drive_id).values(values)
            )

    def fail_round(self, drive_id: str, error_type: str, message: str) -> None:
        """Record why a round stopped; its deltaLink stays the last good one."""
        values = {"status": STATUS_FAILED, "error_type": error_type, "error_message": safe_summary(message)}
        with self._transaction("fail round", write=True) as connection:
            connection.execute(
                update(t.drive_checkpoints).where(t.drive_checkpoints.c.drive_id == drive_id).values(values)
            )

    # -- items --

    def record_items(self, drive_id: str, round_no: int, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Upsert one delta page's items; returns the document ids of files that arrived as tombstones."""
        if not rows:
            return []
        i = t.drive_items
        live = [dict(r, drive_id=drive_id, seen_round=round_no, deleted=False) for r in rows if not r.get("deleted")]
        gone = [r["item_id"] for r in rows if r.get("deleted")]
        tombstoned: list[str] = []
        with self._transaction("record items", write=True) as connection:
            if live:
                # Pages may repeat an item: keep its last occurrence (the latest state), one row per key.
                unique = list({row["item_id"]: row for row in live}.values())
                # executemany of one cached statement: compiling a 200-row VALUES list per page cost more than
                # the round trip.
                statement = self._insert(i)
                updated = [name for name in unique[0] if name not in ("drive_id", "item_id")]
                statement = statement.on_conflict_do_update(
                    index_elements=[i.c.drive_id, i.c.item_id],
                    set_={name: statement.excluded[name] for name in updated},
                )
                connection.execute(statement, unique)
            if gone:
                ids = list(dict.fromkeys(gone))
                tombstoned = list(
                    connection.execute(
                        select(i.c.document_id).where(
                            i.c.drive_id == drive_id, i.c.item_id.in_(ids), i.c.document_id.is_not(None)
                        )
                    ).scalars()
                )
                connection.execute(
                    update(i)
                    .where(i.c.drive_id == drive_id, i.c.item_id.in_(ids))
                    .values(deleted=True, seen_round=round_no)
                )
        return tombstoned

    def sweep(self, drive_id: str, round_no: int) -> list[str]:
        """After a full resync: mark items the round did not see deleted; returns their document ids."""
        i = t.drive_items
        unseen = and_(i.c.drive_id == drive_id, i.c.seen_round < round_no, i.c.deleted.is_(False))
        with self._transaction("sweep", write=True) as connection:
            ids = list(
                connection.execute(select(i.c.document_id).where(unseen, i.c.document_id.is_not(None))).scalars()
            )
            connection.execute(update(i).where(unseen).values(deleted=True))
        return ids

    def folders(self, drive_id: str) -> dict[str, tuple[str | None, str | None, bool]]:
        """Every live folder of a drive: id -> (name, parent id, is root)."""
        i = t.drive_items
        query = select(i.c.item_id, i.c.name, i.c.parent_id).where(
            i.c.drive_id == drive_id, i.c.is_folder.is_(True), i.c.deleted.is_(False)
        )
        with self._transaction("read folders") as connection:
            return {item_id: (name, parent, parent is None) for item_id, name, parent in connection.execute(query)}

    def round_files(self, drive_id: str, round_no: int, batch: int = ITEM_BATCH) -> Iterator[list[dict[str, Any]]]:
        """Live files seen in a round, in batches, each with the catalogue's name/path/etag for it (``doc_*``)."""
        i, d = t.drive_items, t.documents
        last: str | None = None
        while True:
            query = (
                select(
                    i,
                    d.c.name.label("doc_name"),
                    d.c.path.label("doc_path"),
                    d.c.etag.label("doc_etag"),
                    d.c.deleted.label("doc_deleted"),
                )
                .select_from(i.outerjoin(d, d.c.id == i.c.document_id))
                .where(
                    i.c.drive_id == drive_id,
                    i.c.seen_round == round_no,
                    i.c.is_folder.is_(False),
                    i.c.deleted.is_(False),
                )
                .order_by(i.c.item_id)
                .limit(batch)
            )
            if last is not None:
                query = query.where(i.c.item_id > last)
            with self._transaction("read round files") as connection:
                rows = [dict(row) for row in connection.execute(query).mappings()]
            if not rows:
                return
            yield rows
            last = rows[-1]["item_id"]

    def set_document_ids(self, drive_id: str, ids: Mapping[str, str]) -> None:
        """Attach document ids to files (item id -> document id)."""
        if not ids:
            return
        i = t.drive_items
        statement = (
            update(i)
            .where(i.c.drive_id == bindparam("b_drive"), i.c.item_id == bindparam("b_item"))
            .values(document_id=bindparam("b_doc"))
        )
        params = [{"b_drive": drive_id, "b_item": item, "b_doc": doc} for item, doc in ids.items()]
        with self._transaction("set document ids", write=True) as connection:
            connection.execute(statement, params)

    def refresh_documents(self, updates: Sequence[Mapping[str, Any]]) -> None:
        """Rename/move/re-tag catalogued documents whose content did not change (no re-read needed)."""
        if not updates:
            return
        d = t.documents
        statement = (
            update(d)
            .where(d.c.id == bindparam("b_id"))
            .values(
                name=bindparam("b_name"),
                path=bindparam("b_path"),
                etag=bindparam("b_etag"),
                web_url=bindparam("b_web_url"),
                modified_at=bindparam("b_modified_at"),
                deleted=False,
            )
        )
        params = [{f"b_{key}": value for key, value in row.items() if key != "label_findings"} for row in updates]
        # A renamed or moved document's name and path findings follow its new name and path.
        relabelled = [row for row in updates if "label_findings" in row]
        f = t.pii_findings
        with self._transaction("refresh documents", write=True) as connection:
            connection.execute(statement, params)
            for row in relabelled:
                connection.execute(delete(f).where(f.c.document_id == row["id"], f.c.field.in_(("name", "path"))))
                if row["label_findings"]:
                    connection.execute(
                        insert(f), [{"document_id": row["id"], **found} for found in row["label_findings"]]
                    )

    def item_for_document(self, document_id: str) -> tuple[ItemRow, Checkpoint] | None:
        """The file behind a document id, with its drive's checkpoint (None when unknown)."""
        i, c = t.drive_items, t.drive_checkpoints
        with self._transaction("read item") as connection:
            row = connection.execute(select(i).where(i.c.document_id == document_id).limit(1)).mappings().one_or_none()
            if row is None:
                return None
            check = connection.execute(select(c).where(c.c.drive_id == row["drive_id"])).mappings().one_or_none()
        if check is None:
            return None
        checkpoint = Checkpoint(**dict(check))
        item = ItemRow(
            drive_id=row["drive_id"],
            item_id=row["item_id"],
            document_id=row["document_id"],
            name=row["name"],
            parent_id=row["parent_id"],
            path=self.path_of(row["drive_id"], row["parent_id"], checkpoint.label),
            etag=row["etag"],
            ctag=row["ctag"],
            quick_xor_hash=row["quick_xor_hash"],
            size=row["size"],
            mime_type=row["mime_type"],
            web_url=row["web_url"],
            created_at=row["created_at"],
            modified_at=row["modified_at"],
            deleted=row["deleted"],
            processed_ctag=row["processed_ctag"],
            processed_hash=row["processed_hash"],
        )
        return item, checkpoint

    def path_of(self, drive_id: str, parent_id: str | None, label: str) -> str:
        """The folder path of an item's parent (label/folder/...), walking the item index up to the root."""
        i = t.drive_items
        names: list[str] = []
        seen: set[str] = set()
        with self._transaction("read path") as connection:
            while parent_id is not None and parent_id not in seen:
                seen.add(parent_id)
                found = connection.execute(
                    select(i.c.name, i.c.parent_id).where(i.c.drive_id == drive_id, i.c.item_id == parent_id)
                ).one_or_none()
                if found is None or found.parent_id is None:
                    break  # the root (or a parent not recorded yet)
                names.append(found.name or "")
                parent_id = found.parent_id
        return "/".join([label, *reversed(names)])

    def mark_processed(self, drive_id: str, item_id: str, ctag: str | None, quick_xor_hash: str | None) -> None:
        """Record the content version the catalogue now holds for a file."""
        i = t.drive_items
        with self._transaction("mark processed", write=True) as connection:
            connection.execute(
                update(i)
                .where(i.c.drive_id == drive_id, i.c.item_id == item_id)
                .values(processed_ctag=ctag, processed_hash=quick_xor_hash, processed_at=_now())
            )

    def pending_count(self, drive_id: str | None = None) -> int:
        """Live files whose current content has not been catalogued yet."""
        i = t.drive_items
        stale = and_(
            i.c.is_folder.is_(False),
            i.c.deleted.is_(False),
            func.coalesce(i.c.processed_ctag, "") != func.coalesce(i.c.ctag, ""),
            func.coalesce(i.c.processed_hash, "") != func.coalesce(i.c.quick_xor_hash, ""),
        )
        query = select(func.count()).select_from(i).where(stale)
        if drive_id is not None:
            query = query.where(i.c.drive_id == drive_id)
        with self._transaction("count pending") as connection:
            return int(connection.execute(query).scalar_one())
