"""Incremental crawl of a network share, sharded by folder so several workers enumerate one share together.

A round on one root of a ``kind: share`` source:

1. :func:`begin_share_round` bumps the root's checkpoint (a "drive" ``share:<digest>`` in ``drive_checkpoints``)
   and returns the root :class:`Shard`.
2. :func:`crawl_shard` lists folders depth-first from its shard's folder, up to ``shard_folders`` of them, and
   hands every folder still on its stack to the :class:`RoundLedger` as a new shard (the ``crawl`` queue's jobs
   under rq; a local deque in-process). Each folder's listing is compared with the index
   (:class:`~docintel.catalogue.share_store.ShareStore`): only new, changed (size or mtime), renamed, moved and
   vanished entries are written, so a re-crawl's catalogue work is O(changes). Items are keyed by file id, so a
   moved file keeps its document id and its history; a moved folder's files get their new paths.
3. The shard that empties the ledger runs :func:`finish_share_round`: folders deleted this round take their
   subtrees with them, deleted files are marked deleted in the catalogue, and every file the round wrote is
   reconciled exactly as a Graph round's are (:func:`docintel.crawl.reconcile_round`): renamed or moved ones
   refreshed in place, changed ones handed to ``on_pending`` (the ``extract``/``ocr`` queues).

Durability: every write is an upsert or a conditional update, a shard's children are registered before the
shard is marked done, and finishing is idempotent (it acts only on a checkpoint still running that round). A
shard killed with ``kill -9`` is re-run by rq and repeats only its own folders; nothing is lost and nothing is
counted twice in the catalogue (the round's counts may count a re-run shard twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from docintel.catalogue.crawl_store import STATUS_RUNNING, Checkpoint, CrawlStore
from docintel.catalogue.share_store import IndexedChild, ShardWrites, ShareStore
from docintel.crawl import PendingSink, Relabel, RoundResult, reconcile_round
from docintel.errors import SourceUnavailable
from docintel.sources.base import document_id
from docintel.sources.graph import DriveRef, locator
from docintel.sources.share import (
    KIND,
    FolderFilter,
    ShareEntry,
    ShareSource,
    display_name,
    drive_id_for,
    list_folder,
    mime_type_for,
    root_label,
)

logger = logging.getLogger(__name__)

# The round-state counters every shard adds to (and the checkpoint stores at the end of the round).
COUNTERS = ("folders", "files", "written", "missing", "moved_folders", "replaced", "problems", "fs_calls", "shards")


@dataclass(frozen=True)
class Shard:
    """A folder whose subtree one crawl job enumerates (until it hands parts of it to other jobs)."""

    source: str
    root: str  # as written in sources.yaml
    drive_id: str
    round: int
    folder_id: str  # the folder's item id
    folders: tuple[str, ...] = ()  # path components from the root, as the OS spells them
    target: str | None = None  # the real path when the folder was reached through a followed link
    id_prefix: str = ""  # scopes the ids of a followed link's tree
    ancestors: tuple[tuple[int, int], ...] = ()  # (device, inode) above it, when links are followed

    @property
    def key(self) -> str:
        """A short stable name for this shard within its round (job ids, the ledger's set)."""
        raw = "\x00".join((*self.folders, self.target or "", self.id_prefix))
        return hashlib.sha256(os.fsencode(raw)).hexdigest()[:24]


class RoundLedger(Protocol):
    """The shards of one round still to run, and the round's counters; shared by every worker of the round."""

    def submit(self, shards: Sequence[Shard]) -> None:
        """Register shards as pending and schedule them."""
        ...

    def done(self, shard: Shard) -> int:
        """Mark a shard finished (its children are already submitted); returns how many are still pending."""
        ...

    def pending(self) -> int:
        """Shards still pending."""
        ...

    def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add to the round's counters."""
        ...

    def counts(self) -> dict[str, int]:
        """The round's counters so far."""
        ...


@dataclass
class LocalRoundLedger:
    """A round run in this process (``docintel crawl --in-process`` style, tests, the bench's 1-worker line)."""

    queue: deque[Shard] = field(default_factory=deque)
    keys: set[str] = field(default_factory=set)
    totals: dict[str, int] = field(default_factory=dict)

    def submit(self, shards: Sequence[Shard]) -> None:
        """Queue the shards here."""
        for shard in shards:
            if shard.key not in self.keys:
                self.keys.add(shard.key)
                self.queue.append(shard)

    def done(self, shard: Shard) -> int:
        """Forget a finished shard."""
        self.keys.discard(shard.key)
        return len(self.keys)

    def pending(self) -> int:
        """Shards not finished yet."""
        return len(self.keys)

    def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add to the totals."""
        for name, value in counts.items():
            self.totals[name] = self.totals.get(name, 0) + value

    def counts(self) -> dict[str, int]:
        """The totals."""
        return dict(self.totals)


@dataclass(frozen=True)
class ShareContext:
    """What a shard needs besides itself: the source on this machine, the index, the size limit."""

    source: ShareSource
    share_store: ShareStore
    max_file_bytes: int | None = None

    @property
    def crawl_store(self) -> CrawlStore:
        """The crawl tables."""
        return self.share_store.crawl_store


def drive_for(source: ShareSource, root: str) -> DriveRef:
    """The crawl-index drive of one root of a share source."""
    return DriveRef(drive_id_for(source.name, root), source.name, KIND, root_label(root))


def _modified(entry: ShareEntry) -> dt.datetime | None:
    if entry.mtime_ns is None:
        return None
    return dt.datetime.fromtimestamp(entry.mtime_ns / 1e9, tz=dt.UTC)


def _row(drive_id: str, parent_id: str | None, entry: ShareEntry) -> dict[str, Any]:
    doc_id = None if entry.is_folder else document_id(KIND, locator(drive_id, entry.item_id))
    return {
        "item_id": entry.item_id,
        "document_id": doc_id,
        "name": display_name(entry.name),
        "parent_id": parent_id,
        "is_folder": entry.is_folder,
        "etag": None,
        # A share file's content version is its size and mtime; it fills both columns the pending checks read.
        "ctag": entry.version,
        "quick_xor_hash": entry.version,
        "size": entry.size,
        "mime_type": None if entry.is_folder else mime_type_for(entry.name),
        "web_url": None,
        "created_at": None,
        "modified_at": _modified(entry),
    }


def begin_share_round(context: ShareContext, root: str) -> tuple[Checkpoint, Shard]:
    """Start a round on one root: the checkpoint (round + 1) and the root shard to submit."""
    source, crawl_store = context.source, context.crawl_store
    drive = drive_for(source, root)
    local = source.local_root(root)
    try:
        info = os.stat(local)
    except OSError as error:
        # The mount is missing or down: the round cannot start; rq retries the job later.
        raise SourceUnavailable(
            f"share root of source {source.name!r} is not reachable ({type(error).__name__})"
        ) from error
    checkpoint = crawl_store.begin_round(drive.drive_id, drive.source, drive.kind, drive.label)
    root_id = str(info.st_ino)
    known = context.share_store.items(drive.drive_id, [root_id]).get(root_id)
    if known is None or known.deleted or known.parent_id is not None:
        root_entry = ShareEntry("", root_id, True)
        row = _row(drive.drive_id, None, root_entry) | {"name": None}
        crawl_store.record_items(drive.drive_id, checkpoint.round, [row])
    ancestors = ((info.st_dev, info.st_ino),) if source.config.follow_links else ()
    shard = Shard(source.name, root, drive.drive_id, checkpoint.round, root_id, ancestors=ancestors)
    return checkpoint, shard


@dataclass
class _Folder:
    folder_id: str
    folders: tuple[str, ...]
    target: str | None
    id_prefix: str
    ancestors: tuple[tuple[int, int], ...]


def crawl_shard(context: ShareContext, shard: Shard, ledger: RoundLedger) -> dict[str, int]:
    """List a shard's folders (up to ``shard_folders``), write what changed, submit the rest of its subtree."""
    source = context.source
    rules = source.rules(context.max_file_bytes)
    local_root = source.local_root(shard.root)
    windows_root = len(shard.root)
    problem_folders = context.share_store.problem_folders(shard.drive_id)
    counts = dict.fromkeys(COUNTERS, 0)
    stack = [_Folder(shard.folder_id, shard.folders, shard.target, shard.id_prefix, shard.ancestors)]
    writes = ShardWrites()
    while stack and counts["folders"] < source.config.shard_folders:
        folder = stack.pop()
        found = _crawl_folder(context, shard, folder, rules, local_root, windows_root, problem_folders, counts, writes)
        stack.extend(reversed(found))
    # One transaction for the whole shard: its folders' changes are written together or (killed) not at all.
    context.share_store.apply(shard.drive_id, shard.round, writes)
    counts["written"] += len(writes.rows)
    counts["missing"] += writes.marked_missing
    counts["moved_folders"] += len(writes.moved_folders)
    children = [
        replace(
            shard,
            folder_id=f.folder_id,
            folders=f.folders,
            target=f.target,
            id_prefix=f.id_prefix,
            ancestors=f.ancestors,
        )
        for f in stack
    ]
    counts["shards"] = 1
    if children:
        ledger.submit(children)
    ledger.add_counts(counts)
    return counts


def _reused_file_id(entry: ShareEntry, name: str, folder_id: str, before: IndexedChild | None) -> bool:
    """Whether a file id seen before elsewhere now names a different file (the file system reused it)."""
    if entry.is_folder or before is None or before.is_folder:
        return False
    return before.name != name and before.parent_id != folder_id and before.ctag != entry.version


def _crawl_folder(  # noqa: PLR0917 - one folder's listing against the index, private
    context: ShareContext,
    shard: Shard,
    folder: _Folder,
    rules: FolderFilter,
    local_root: Path,
    windows_root: int,
    problem_folders: set[str],
    counts: dict[str, int],
    writes: ShardWrites,
) -> list[_Folder]:
    """Compare one folder's listing with the index and add the difference to ``writes``; returns its sub-folders."""
    share_store, drive_id = context.share_store, shard.drive_id
    path = Path(folder.target) if folder.target else local_root.joinpath(*folder.folders)
    relative = "/".join(display_name(part) for part in folder.folders)
    windows_chars = windows_root + sum(len(display_name(part)) + 1 for part in folder.folders)
    ancestors = folder.ancestors
    if rules.follow_links:
        try:
            info = os.stat(path)
            ancestors = (*ancestors, (info.st_dev, info.st_ino))
            counts["fs_calls"] += 1
        except OSError:
            pass  # the listing below reports it
    listing = list_folder(
        path, relative, windows_chars, rules, ancestors=frozenset(ancestors), id_prefix=folder.id_prefix
    )
    counts["folders"] += 1
    counts["fs_calls"] += listing.calls
    counts["problems"] += len(listing.problems)
    if listing.problems or folder.folder_id in problem_folders:
        problem_rows = [
            {"name": display_name(p.name), "problem": p.problem, "detail": p.detail} for p in listing.problems
        ]
        writes.problems[folder.folder_id] = problem_rows
    if not listing.listed:
        return []  # unreadable now: what the index holds under it stays as it was
    indexed = share_store.children(drive_id, folder.folder_id)
    current = {entry.item_id: entry for entry in listing.entries}
    arrived = [item_id for item_id in current if item_id not in indexed]
    elsewhere: dict[str, IndexedChild] = share_store.items(drive_id, arrived) if arrived else {}
    rows: list[dict[str, Any]] = []
    moved_folders: list[str] = []
    replaced: list[str] = []
    for entry in listing.entries:
        counts["files"] += not entry.is_folder
        old = indexed.get(entry.item_id)
        name = display_name(entry.name)
        if old is not None and old.name == name and old.ctag == entry.version:
            continue
        row = _row(drive_id, folder.folder_id, entry)
        before = old or elsewhere.get(entry.item_id)
        if entry.is_folder and before is not None and (before.name != name or before.parent_id != folder.folder_id):
            moved_folders.append(entry.item_id)
        elif _reused_file_id(entry, name, folder.folder_id, before) and before is not None:
            # Another folder, another name and other content: a new file that got a deleted file's id (inode
            # reuse), not a move. The deleted file's record is closed; the new file gets a record of its own.
            row["document_id"] = document_id(KIND, locator(drive_id, f"{entry.item_id}@{entry.version}"))
            if before.document_id is not None and before.document_id != row["document_id"]:
                replaced.append(before.document_id)
        rows.append(row)
    if replaced:
        share_store.store.mark_deleted(replaced)
        counts["replaced"] = counts.get("replaced", 0) + len(replaced)
    writes.rows.extend(rows)
    missing = [item_id for item_id in indexed if item_id not in current]
    if missing:
        writes.missing[folder.folder_id] = missing
    writes.moved_folders.extend(moved_folders)
    subfolders = []
    for entry in listing.entries:
        if not entry.is_folder:
            continue
        # Below a followed link the real path is the link's target; ids there are scoped by the link.
        target = entry.target or (str(Path(folder.target) / entry.name) if folder.target else None)
        prefix = f"{entry.item_id}/" if entry.target is not None else folder.id_prefix
        subfolders.append(_Folder(entry.item_id, (*folder.folders, entry.name), target, prefix, ancestors))
    return subfolders


def finish_share_round(
    context: ShareContext,
    drive: DriveRef,
    round_no: int,
    counts: Mapping[str, int],
    on_pending: PendingSink | None = None,
    *,
    relabel: Relabel | None = None,
    keep_pending_ids: bool = False,
) -> RoundResult | None:
    """Close a round whose shards are all done; None when the checkpoint has moved on (it was closed already)."""
    crawl_store = context.crawl_store
    checkpoint = crawl_store.checkpoint(drive.drive_id)
    if checkpoint is None or checkpoint.round != round_no or checkpoint.status != STATUS_RUNNING:
        return None
    started = checkpoint.round_started_at
    result = RoundResult(drive.drive_id, round_no)
    deleted = context.share_store.cascade_deletions(drive.drive_id, round_no)
    result.deleted = crawl_store.store.mark_deleted(deleted) if deleted else 0
    reconcile_round(drive, crawl_store, result, on_pending, None, keep_pending_ids, relabel)
    if started is not None:
        result.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    stored = {**result.counts(), **{name: counts.get(name, 0) for name in COUNTERS}}
    stored["problems_recorded"] = sum(context.share_store.problem_counts(drive.drive_id).values())
    crawl_store.finish_round(drive.drive_id, f"share-round:{round_no}", stored)
    logger.info(
        "share %s round %d: %d folders, %d files, %d written, %d to process, %d deleted",
        drive.drive_id,
        round_no,
        counts.get("folders", 0),
        counts.get("files", 0),
        counts.get("written", 0),
        result.pending,
        result.deleted,
    )
    return result


def crawl_share_in_process(
    context: ShareContext,
    on_pending: PendingSink | None = None,
    *,
    relabel: Relabel | None = None,
    keep_pending_ids: bool = False,
    stop_after_shards: int | None = None,
) -> list[RoundResult]:
    """One round on every root of a share source, all shards in this process; returns each root's result.

    ``stop_after_shards`` abandons the round after that many shards (tests of interrupted rounds).
    """
    results: list[RoundResult] = []
    for root in context.source.config.roots:
        started = time.monotonic()
        drive = drive_for(context.source, root)
        checkpoint, root_shard = begin_share_round(context, root)
        ledger = LocalRoundLedger()
        ledger.submit([root_shard])
        ran = 0
        while ledger.queue:
            if stop_after_shards is not None and ran >= stop_after_shards:
                return results
            shard = ledger.queue.popleft()
            crawl_shard(context, shard, ledger)
            ledger.done(shard)
            ran += 1
        result = finish_share_round(
            context,
            drive,
            checkpoint.round,
            ledger.counts(),
            on_pending,
            relabel=relabel,
            keep_pending_ids=keep_pending_ids,
        )
        if result is not None:
            result.seconds = time.monotonic() - started
            results.append(result)
    return results
