"""The crawl index as a share crawler needs it: one folder's children, moves, cascades, and the problems table.

A share has no delta feed, so the crawler compares each folder's listing with the folder's children in
``drive_items`` and writes only the difference: a new, changed, renamed or moved-in entry is upserted (with
``seen_round`` = the round, through :meth:`CrawlStore.record_items`), an entry no longer there is marked deleted
in the same round, and unchanged entries are not written at all. Every write is conditional on what it saw
(``parent_id``), so two workers listing the source and the destination folder of a move in either order leave
the item live under its new parent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.crawl_store import CrawlStore

# Ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _touch_subtree(connection: Any, drive_id: str, folder_ids: Sequence[str], round_no: int) -> int:
    i = t.drive_items
    touched = 0
    frontier = list(folder_ids)
    seen: set[str] = set(frontier)
    while frontier:
        below: list[str] = []
        for chunk in _chunks(frontier):
            live = (i.c.drive_id == drive_id, i.c.parent_id.in_(chunk), i.c.deleted.is_(False))
            below.extend(connection.execute(select(i.c.item_id).where(*live, i.c.is_folder.is_(True))).scalars())
            result = connection.execute(update(i).where(*live, i.c.is_folder.is_(False)).values(seen_round=round_no))
            touched += result.rowcount
        frontier = [f for f in below if f not in seen]
        seen.update(frontier)
    return touched


@dataclass
class ShardWrites:
    """What one shard's listings changed, written together by :meth:`ShareStore.apply`."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # new, changed, renamed or moved-in entries
    missing: dict[str, list[str]] = field(default_factory=dict)  # folder id -> entries gone from it
    moved_folders: list[str] = field(default_factory=list)
    problems: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # folder id -> its problems now
    marked_missing: int = 0


@dataclass(frozen=True)
class IndexedChild:
    """What the index holds for one entry of a folder."""

    item_id: str
    name: str | None
    is_folder: bool
    ctag: str | None
    parent_id: str | None
    deleted: bool
    document_id: str | None = None


class ShareStore:
    """Share-crawl queries over the crawl tables, using a :class:`CrawlStore` (and its catalogue's engine)."""

    def __init__(self, crawl_store: CrawlStore) -> None:
        self.crawl_store = crawl_store
        self.store = crawl_store.store

    def _transaction(self, action: str, *, write: bool = False) -> Any:
        return self.store.transaction(f"share {action}", write=write)

    def children(self, drive_id: str, folder_id: str) -> dict[str, IndexedChild]:
        """The live entries the index holds under one folder, by item id."""
        i = t.drive_items
        query = select(
            i.c.item_id, i.c.name, i.c.is_folder, i.c.ctag, i.c.parent_id, i.c.deleted, i.c.document_id
        ).where(i.c.drive_id == drive_id, i.c.parent_id == folder_id, i.c.deleted.is_(False))
        with self._transaction("read children") as connection:
            return {row[0]: IndexedChild(*row) for row in connection.execute(query)}

    def items(self, drive_id: str, item_ids: Sequence[str]) -> dict[str, IndexedChild]:
        """What the index holds for these items (live or deleted), by item id: tells a move from a new file."""
        i = t.drive_items
        found: dict[str, IndexedChild] = {}
        with self._transaction("read items") as connection:
            for chunk in _chunks(list(item_ids)):
                query = select(
                    i.c.item_id, i.c.name, i.c.is_folder, i.c.ctag, i.c.parent_id, i.c.deleted, i.c.document_id
                ).where(i.c.drive_id == drive_id, i.c.item_id.in_(chunk))
                found.update({row[0]: IndexedChild(*row) for row in connection.execute(query)})
        return found

    def mark_missing(self, drive_id: str, folder_id: str, item_ids: Sequence[str], round_no: int) -> int:
        """Entries gone from a folder's listing: deleted this round, unless another listing has moved them since."""
        i = t.drive_items
        marked = 0
        with self._transaction("mark missing", write=True) as connection:
            for chunk in _chunks(list(item_ids)):
                result = connection.execute(
                    update(i)
                    .where(i.c.drive_id == drive_id, i.c.parent_id == folder_id, i.c.item_id.in_(chunk))
                    .values(deleted=True, seen_round=round_no)
                )
                marked += result.rowcount
        return marked

    def touch_subtree(self, drive_id: str, folder_ids: Sequence[str], round_no: int) -> int:
        """Mark every live file under moved or renamed folders seen this round, so their paths are refreshed."""
        with self._transaction("touch subtree", write=True) as connection:
            return _touch_subtree(connection, drive_id, folder_ids, round_no)

    def apply(self, drive_id: str, round_no: int, writes: ShardWrites) -> None:
        """Write what a shard found, in one transaction: changed entries, vanished ones, moved folders, problems.

        One commit per shard instead of several per folder: on SQLite each commit is a disk sync, which made a
        folder cost ~40 ms on a busy disk.
        """
        i, p = t.drive_items, t.share_problems
        with self._transaction("apply shard", write=True) as connection:
            if writes.rows:
                live = [dict(row, drive_id=drive_id, seen_round=round_no, deleted=False) for row in writes.rows]
                unique = list({row["item_id"]: row for row in live}.values())
                statement = self.crawl_store._insert(i)  # the crawl store's dialect-aware insert
                updated = [name for name in unique[0] if name not in ("drive_id", "item_id")]
                statement = statement.on_conflict_do_update(
                    index_elements=[i.c.drive_id, i.c.item_id],
                    set_={name: statement.excluded[name] for name in updated},
                )
                connection.execute(statement, unique)
            for folder_id, item_ids in writes.missing.items():
                for chunk in _chunks(item_ids):
                    result = connection.execute(
                        update(i)
                        .where(i.c.drive_id == drive_id, i.c.parent_id == folder_id, i.c.item_id.in_(chunk))
                        .values(deleted=True, seen_round=round_no)
                    )
                    writes.marked_missing += result.rowcount
            if writes.moved_folders:
                _touch_subtree(connection, drive_id, writes.moved_folders, round_no)
            now = dt.datetime.now(dt.UTC)
            for folder_id, problems in writes.problems.items():
                connection.execute(delete(p).where(p.c.drive_id == drive_id, p.c.folder_id == folder_id))
                unique_problems = {(row["name"][:1024], row["problem"]): row for row in problems}
                if unique_problems:
                    connection.execute(
                        insert(p),
                        [
                            {
                                "drive_id": drive_id,
                                "folder_id": folder_id,
                                "name": name,
                                "problem": problem,
                                "detail": row.get("detail") or None,
                                "round": round_no,
                                "recorded_at": now,
                            }
                            for (name, problem), row in unique_problems.items()
                        ],
                    )

    def cascade_deletions(self, drive_id: str, round_no: int) -> list[str]:
        """Delete everything under folders deleted this round; returns the document ids of every file deleted."""
        i = t.drive_items
        with self._transaction("cascade deletions", write=True) as connection:
            frontier = list(
                connection.execute(
                    select(i.c.item_id).where(
                        i.c.drive_id == drive_id,
                        i.c.seen_round == round_no,
                        i.c.deleted.is_(True),
                        i.c.is_folder.is_(True),
                    )
                ).scalars()
            )
            seen = set(frontier)
            while frontier:
                below: list[str] = []
                for chunk in _chunks(frontier):
                    live = (i.c.drive_id == drive_id, i.c.parent_id.in_(chunk), i.c.deleted.is_(False))
                    below.extend(
                        connection.execute(select(i.c.item_id).where(*live, i.c.is_folder.is_(True))).scalars()
                    )
                    connection.execute(update(i).where(*live).values(deleted=True, seen_round=round_no))
                frontier = [f for f in below if f not in seen]
                seen.update(frontier)
            return list(
                connection.execute(
                    select(i.c.document_id).where(
                        i.c.drive_id == drive_id,
                        i.c.seen_round == round_no,
                        i.c.deleted.is_(True),
                        i.c.document_id.is_not(None),
                    )
                ).scalars()
            )

    # -- problems --

    def problem_folders(self, drive_id: str) -> set[str]:
        """Folders that had a problem recorded (their rows are replaced when they are listed again)."""
        p = t.share_problems
        with self._transaction("read problem folders") as connection:
            return set(connection.execute(select(p.c.folder_id).where(p.c.drive_id == drive_id).distinct()).scalars())

    def replace_problems(
        self, drive_id: str, folder_id: str, round_no: int, problems: Sequence[Mapping[str, str]]
    ) -> None:
        """A folder's problems as of its latest listing (none: its old rows are removed)."""
        p = t.share_problems
        now = dt.datetime.now(dt.UTC)
        unique = {(row["name"], row["problem"]): row for row in problems}
        with self._transaction("replace problems", write=True) as connection:
            connection.execute(delete(p).where(p.c.drive_id == drive_id, p.c.folder_id == folder_id))
            if unique:
                connection.execute(
                    insert(p),
                    [
                        {
                            "drive_id": drive_id,
                            "folder_id": folder_id,
                            "name": name[:1024],
                            "problem": problem,
                            "detail": row.get("detail") or None,
                            "round": round_no,
                            "recorded_at": now,
                        }
                        for (name, problem), row in unique.items()
                    ],
                )

    def problems(self, drive_id: str) -> list[dict[str, Any]]:
        """Every recorded problem of a drive, by folder and name."""
        p = t.share_problems
        query = select(p).where(p.c.drive_id == drive_id).order_by(p.c.folder_id, p.c.name, p.c.problem)
        with self._transaction("read problems") as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def problem_counts(self, drive_id: str) -> dict[str, int]:
        """How many entries of a drive have each kind of problem."""
        p = t.share_problems
        query = select(p.c.problem, func.count()).where(p.c.drive_id == drive_id).group_by(p.c.problem)
        with self._transaction("count problems") as connection:
            return {problem: int(count) for problem, count in connection.execute(query)}
