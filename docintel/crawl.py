"""Incremental crawl of a Graph drive: one delta round from the stored deltaLink to a new one.

A round reads delta pages and records every item in the crawl index as it goes (tombstones mark the
catalogued document deleted at once). When the last page arrives it rebuilds folder paths, refreshes
documents that were only renamed or moved, and hands every file whose content the catalogue does not hold
yet (cTag and quickXorHash both differ from the processed version) to ``on_pending`` — the rq crawl job
enqueues them. Only then is the new deltaLink stored: a crash at any point re-runs the round from the
previous deltaLink, and re-recording or re-enqueueing an item is harmless (upserts; jobs skip content
already processed).

A 410 ``resyncRequired`` restarts the round as a full enumeration; at its end every item the enumeration
did not see is marked deleted (mark and sweep), and unchanged files are still not re-read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.store import CatalogueStore
from docintel.errors import DocintelError, SourceNotFound
from docintel.models import DocumentRecord, Provenance
from docintel.pipeline import (
    Engines,
    MaskedLocation,
    keep_reviewed_class,
    mask_labels_stage,
    new_record,
    process_document,
)
from docintel.sources.base import ContentFetcher, document_id
from docintel.sources.graph import DeltaItem, DriveRef, GraphSession, locator
from docintel.sources.graph_client import DeltaResyncRequired

logger = logging.getLogger(__name__)

# A round that hits 410 more often than this gives up (the tenant keeps invalidating tokens): rq retries later.
MAX_RESYNCS_PER_ROUND = 3


@dataclass(frozen=True)
class PendingDocument:
    """A file whose current content must go through the pipeline."""

    document_id: str
    drive_id: str
    item_id: str
    mime_type: str | None
    size: int | None
    version: str | None = None  # cTag and quickXorHash: which content version is to be processed


PendingSink = Callable[[Sequence[PendingDocument]], None]
# (name, folder path, web URL) -> the same with personal data masked, and what was found.
Relabel = Callable[[str, str, str | None], MaskedLocation]


@dataclass
class RoundResult:
    """What one delta round did."""

    drive_id: str
    round: int
    pages: int = 0
    seen: int = 0
    files: int = 0
    pending: int = 0
    refreshed: int = 0
    deleted: int = 0
    excluded: int = 0
    resyncs: int = 0
    seconds: float = 0.0
    pending_ids: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, Any]:
        """The counts stored on the drive's checkpoint."""
        values = asdict(self)
        for key in ("drive_id", "round", "pending_ids"):
            values.pop(key)
        values["seconds"] = round(self.seconds, 3)
        return values


def _item_row(drive: DriveRef, item: DeltaItem) -> dict[str, Any]:
    if item.deleted:
        return {"item_id": item.item_id, "deleted": True}
    return {
        "item_id": item.item_id,
        "document_id": None if item.is_folder else document_id(drive.kind, locator(drive.drive_id, item.item_id)),
        "name": item.name,
        "parent_id": None if item.is_root else item.parent_id,
        "is_folder": item.is_folder,
        "etag": item.etag,
        "ctag": item.ctag,
        "quick_xor_hash": item.quick_xor_hash,
        "size": item.size,
        "mime_type": item.mime_type,
        "web_url": item.web_url,
        "created_at": item.created_at,
        "modified_at": item.modified_at,
    }


def folder_path(folders: Mapping[str, tuple[str | None, str | None, bool]], parent_id: str | None, label: str) -> str:
    """label/folder/sub-folder for an item whose parent is ``parent_id`` (the root contributes no name)."""
    names: list[str] = []
    seen: set[str] = set()
    while parent_id is not None and parent_id in folders and parent_id not in seen:
        seen.add(parent_id)
        name, grandparent, is_root = folders[parent_id]
        if is_root:
            break
        names.append(name or "")
        parent_id = grandparent
    return "/".join([label, *reversed(names)])


def _needs_processing(row: Mapping[str, Any]) -> bool:
    if row["processed_ctag"] is None and row["processed_hash"] is None:
        return True
    if row["ctag"] is not None and row["ctag"] == row["processed_ctag"]:
        return False
    return not (row["quick_xor_hash"] is not None and row["quick_xor_hash"] == row["processed_hash"])


async def crawl_drive(
    session: GraphSession,
    drive: DriveRef,
    crawl_store: CrawlStore,
    on_pending: PendingSink | None = None,
    *,
    wants: Callable[[str], bool] | None = None,
    keep_pending_ids: bool = False,
    relabel: Relabel | None = None,
) -> RoundResult:
    """Run one delta round on ``drive``; see the module docstring for the durability contract.

    ``relabel`` masks personal data in the name, path and web URL of renamed or moved files before they are
    written (:func:`docintel.pipeline.masked_location`); without it they are written as Graph gives them.
    """
    started = time.monotonic()
    store: CatalogueStore = crawl_store.store
    checkpoint = crawl_store.begin_round(drive.drive_id, drive.source, drive.kind, drive.label, drive.owner)
    result = RoundResult(drive.drive_id, checkpoint.round)
    link = checkpoint.delta_link
    try:
        delta_link = await _read_round(session, drive, crawl_store, store, result, link)
        if result.resyncs:
            swept = crawl_store.sweep(drive.drive_id, result.round)
            result.deleted += store.mark_deleted(swept) if swept else 0
        reconcile_round(drive, crawl_store, result, on_pending, wants, keep_pending_ids, relabel)
    except Exception as error:
        crawl_store.fail_round(drive.drive_id, type(error).__name__, str(error))
        raise
    result.seconds = time.monotonic() - started
    crawl_store.finish_round(drive.drive_id, delta_link, result.counts())
    logger.info(
        "drive %s round %d: %d items, %d to process, %d deleted, %d resyncs",
        drive.drive_id,
        result.round,
        result.seen,
        result.pending,
        result.deleted,
        result.resyncs,
    )
    return result


async def _read_round(  # noqa: PLR0917 - one round's collaborators, private
    session: GraphSession,
    drive: DriveRef,
    crawl_store: CrawlStore,
    store: CatalogueStore,
    result: RoundResult,
    link: str | None,
) -> str:
    while True:
        try:
            page = await session.delta_page(drive.drive_id, link)
        except DeltaResyncRequired as error:
            result.resyncs += 1
            if result.resyncs > MAX_RESYNCS_PER_ROUND:
                raise
            logger.warning("drive %s: delta token expired (410); full resync", drive.drive_id)
            link = error.location  # a fresh enumeration; None also starts one
            continue
        result.pages += 1
        result.seen += len(page.items)
        rows = [_item_row(drive, item) for item in page.items]
        tombstoned = crawl_store.record_items(drive.drive_id, result.round, rows)
        if tombstoned:
            result.deleted += store.mark_deleted(tombstoned)
        if page.next_link is not None:
            link = page.next_link
            continue
        if page.delta_link is None:
            raise DeltaResyncRequired("delta round ended without a deltaLink")
        return page.delta_link


def reconcile_round(  # noqa: PLR0917 - one round's collaborators (share rounds reuse it)
    drive: DriveRef,
    crawl_store: CrawlStore,
    result: RoundResult,
    on_pending: PendingSink | None,
    wants: Callable[[str], bool] | None,
    keep_pending_ids: bool,
    relabel: Relabel | None = None,
) -> None:
    """Paths, metadata-only refreshes and the hand-over of changed files, for every file the round saw."""
    folders = crawl_store.folders(drive.drive_id)
    for rows in crawl_store.round_files(drive.drive_id, result.round):
        pending: list[PendingDocument] = []
        refresh: list[dict[str, Any]] = []
        for row in rows:
            result.files += 1
            path = folder_path(folders, row["parent_id"], drive.label)
            if wants is not None and not wants(f"{path}/{row['name'] or ''}"):
                result.excluded += 1
                continue
            doc_id = row["document_id"]
            if _needs_processing(row):
                version = f"{row['ctag']}|{row['quick_xor_hash']}"
                pending.append(
                    PendingDocument(doc_id, drive.drive_id, row["item_id"], row["mime_type"], row["size"], version)
                )
            elif row["doc_name"] is not None:
                # The catalogue holds names and paths masked: compare and store them masked too.
                location = relabel(row["name"] or "", path, row["web_url"]) if relabel else None
                name = location.name if location else row["name"]
                masked_path = location.path if location else path
                if (
                    row["doc_name"] != name
                    or row["doc_path"] != masked_path
                    or row["doc_etag"] != row["etag"]
                    or row["doc_deleted"]
                ):
                    update = {
                        "id": doc_id,
                        "name": name,
                        "path": masked_path,
                        "etag": row["etag"],
                        "web_url": location.web_url if location else row["web_url"],
                        "modified_at": row["modified_at"],
                    }
                    if location is not None:
                        update["label_findings"] = location.finding_rows()
                    refresh.append(update)
        crawl_store.refresh_documents(refresh)
        result.refreshed += len(refresh)
        if pending and on_pending is not None:
            on_pending(pending)
        result.pending += len(pending)
        if keep_pending_ids:
            result.pending_ids.extend(p.document_id for p in pending)


def process_crawled(
    document_id: str,
    crawl_store: CrawlStore,
    engines: Engines,
    source_for: Callable[[str], ContentFetcher],
    *,
    route: Callable[[bytes], bool] | None = None,
) -> str:
    """Fetch, read, enrich, classify and store one crawled file; returns what happened.

    "skipped": deleted since, or this content version is already catalogued (a re-run); "gone": the item
    vanished before it was read; "routed": ``route`` took the bytes elsewhere (the OCR queue); otherwise
    the stored record's status. Retryable source errors (throttling, outages) are raised for the caller
    to retry; other failures are stored on the record.
    """
    found = crawl_store.item_for_document(document_id)
    if found is None:
        logger.warning("document %s: not in the crawl index", document_id)
        return "gone"
    item, checkpoint = found
    if item.deleted or not item.needs_processing:
        return "skipped"
    source = source_for(checkpoint.source)
    provenance = Provenance(
        source=checkpoint.kind,
        locator=locator(item.drive_id, item.item_id),
        name=item.name or item.item_id,
        path=item.path,
        drive_id=item.drive_id,
        item_id=item.item_id,
        etag=item.etag,
        ctag=item.ctag,
        web_url=item.web_url,
        size=item.size,
        created_at=item.created_at,
        modified_at=item.modified_at,
    )
    store = crawl_store.store
    fresh = new_record(provenance)
    if fresh.id != document_id:
        # The index gave this file a record of its own (a share file that got a deleted file's id): keep it.
        fresh = fresh.model_copy(update={"id": document_id})
    try:
        record, content = _fetch(fresh, source, engines)
    except SourceNotFound:
        logger.info("document %s: gone from its drive before it was read", document_id)
        return "gone"
    if content is not None:
        if route is not None and route(content):
            return "routed"
        record = process_document(record, content, engines)
        reviewed = store.reviewed_classes([record.id]).get(record.id)
        if reviewed is not None:
            record = keep_reviewed_class(record, engines, *reviewed)
    record = mask_labels_stage(record, engines)
    store.save(record)
    crawl_store.mark_processed(item.drive_id, item.item_id, item.ctag, item.quick_xor_hash)
    logger.info("document %s: %s", record.id, record.status.value)
    return record.status.value


def _fetch(record: DocumentRecord, source: ContentFetcher, engines: Engines) -> tuple[DocumentRecord, bytes | None]:
    """The fetch stage, except that retryable errors and a vanished item are raised rather than recorded."""
    try:
        content = source.fetch(record.provenance, engines.settings.limits.max_file_bytes)
    except DocintelError as error:
        if error.retryable or isinstance(error, SourceNotFound):
            raise
        from docintel.pipeline import fetch_stage

        # Re-run through the fetch stage so the failure is recorded exactly as `docintel scan` records it.
        return fetch_stage(record, _Failing(source.name, error), engines)
    from docintel.pipeline import fetch_stage

    return fetch_stage(record, _Fetched(source.name, content), engines)


@dataclass
class _Fetched:
    """Hands already-fetched bytes to the fetch stage, so its stage run is recorded the usual way."""

    name: str
    content: bytes

    def discover(self) -> Any:
        """Not a discovering source."""
        return iter(())

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """The bytes fetched already."""
        return self.content


@dataclass
class _Failing:
    """Hands a fetch failure to the fetch stage."""

    name: str
    error: DocintelError

    def discover(self) -> Any:
        """Not a discovering source."""
        return iter(())

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """Raise the failure."""
        raise self.error
