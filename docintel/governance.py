"""Governance signals over the catalogue: exact and near duplicates, documents in the wrong place, stale ones.

:func:`compute_signals` streams the live documents' hashes, paths, classes, dates and stored MinHash
signatures (never text) and applies :mod:`classifiers.signals`: exact duplicates by sha256, near-duplicates
through LSH over the signatures (no pairwise comparison of the catalogue), wrong-place rules and the stale
threshold from ``signals`` in config/classifier.yaml. Memory is about 0.5 KB per document (the signature
matrix and the hash index), so a million documents fit in well under a gigabyte.

The static report and the export use the result directly. The review pages need to filter and count in
SQL, so :func:`refresh_signals` also writes it to the ``document_signals`` table; :class:`SignalCache`
rebuilds that table when the catalogue has changed since (new or deleted documents, reviewers' decisions,
a new day for the stale threshold, changed settings).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import case, delete, func, insert, select

from classifiers.config import SignalSettings
from classifiers.signals import (
    SIGNATURE_SIZE,
    DuplicateGroup,
    Misplaced,
    Stale,
    near_duplicate_matrix,
    stale,
    wrong_place,
)
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import DocintelError

log = logging.getLogger(__name__)

# Signal names, as the queue filter, the badges and the export use them.
DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"
WRONG_PLACE = "wrong_place"
STALE = "stale"
SIGNAL_NAMES = (DUPLICATE, NEAR_DUPLICATE, WRONG_PLACE, STALE)
# Rows per INSERT when writing the signals table.
_WRITE_BATCH = 1000
# Rows handed to the per-row rules (wrong place, stale) at a time.
_RULE_BATCH = 5000
_SIGNATURE_BYTES = SIGNATURE_SIZE * 4
# How often (seconds) a long-running server checks whether the catalogue changed since the last refresh.
RECHECK_SECONDS = 30.0
# Above this many documents the review pages rebuild the signals table in a background thread (~10k/s).
BACKGROUND_ABOVE = 20_000


@dataclass(frozen=True)
class DocumentSignals:
    """The signals one document shows; the empty default means none."""

    duplicate_group: str | None = None  # shared sha256
    duplicates: int = 0  # documents in the duplicate group, this one included
    near_group: str | None = None  # first document id of the near-duplicate group
    near_duplicates: int = 0
    wrong_place: str | None = None  # the rule's name
    stale_years: float | None = None

    @property
    def names(self) -> list[str]:
        """The signal names that apply, in the fixed order of SIGNAL_NAMES."""
        present = {
            DUPLICATE: self.duplicate_group is not None,
            NEAR_DUPLICATE: self.near_group is not None,
            WRONG_PLACE: self.wrong_place is not None,
            STALE: self.stale_years is not None,
        }
        return [name for name in SIGNAL_NAMES if present[name]]

    @property
    def badges(self) -> list[str]:
        """Short labels for a table cell: "duplicate x3", "wrong place: <rule>", "stale: 9 years"."""
        labels = []
        if self.duplicate_group is not None:
            labels.append(f"duplicate x{self.duplicates}")
        if self.near_group is not None:
            labels.append(f"near-duplicate x{self.near_duplicates}")
        if self.wrong_place is not None:
            labels.append(f"wrong place: {self.wrong_place}")
        if self.stale_years is not None:
            labels.append(f"stale: {self.stale_years:.0f} years")
        return labels

    def as_json(self) -> dict[str, Any]:
        """The export shape: every key present, null when the signal does not apply."""
        return {
            "flags": self.names,
            "duplicate_group": self.duplicate_group,
            "duplicates": self.duplicates or None,
            "near_duplicate_group": self.near_group,
            "near_duplicates": self.near_duplicates or None,
            "wrong_place": self.wrong_place,
            "stale": self.stale_years is not None,
            "stale_years": self.stale_years,
        }

    @classmethod
    def from_row(cls, row: Any) -> DocumentSignals:
        """From a ``document_signals`` row (mapping or Row)."""
        return cls(
            duplicate_group=row.duplicate_group,
            duplicates=row.duplicates or 0,
            near_group=row.near_group,
            near_duplicates=row.near_duplicates or 0,
            wrong_place=row.wrong_place,
            stale_years=row.stale_years,
        )


NO_SIGNALS = DocumentSignals()


@dataclass
class CatalogueSignals:
    """Signals for a set of live documents: the groups and lists, and the flags per document."""

    documents: int
    signed: int  # documents with a text signature (the ones near-duplicates can be found among)
    exact_groups: list[DuplicateGroup]
    near_groups: list[DuplicateGroup]
    misplaced: list[Misplaced]
    stale: list[Stale]
    stale_by_class: dict[str | None, int]
    by_document: dict[str, DocumentSignals] = field(default_factory=dict)
    computed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def for_document(self, doc_id: str) -> DocumentSignals:
        """One document's signals (the empty value when it has none)."""
        return self.by_document.get(doc_id, NO_SIGNALS)

    def counts(self) -> dict[str, int]:
        """Documents showing each signal."""
        counts = Counter(name for signals in self.by_document.values() for name in signals.names)
        return {name: counts.get(name, 0) for name in SIGNAL_NAMES}


def _matrix(buffer: bytearray) -> np.ndarray:
    # A view on the buffer, not a copy: at a million documents that is 256 MB saved.
    return np.frombuffer(buffer, dtype="<u4").reshape(-1, SIGNATURE_SIZE).astype(np.uint32, copy=False)


def compute_signals(
    store: CatalogueStore, settings: SignalSettings, *, prefix: str = "", now: dt.datetime | None = None
) -> CatalogueSignals:
    """Every governance signal over the live documents (or those in folder ``prefix`` and below)."""
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    by_hash: dict[str, list[str]] = defaultdict(list)
    signed_ids: list[str] = []
    signatures = bytearray()
    misplaced: list[Misplaced] = []
    stale_found: list[Stale] = []
    stale_by_class: Counter[str | None] = Counter()
    documents = 0

    def judge(batch: list[dict[str, Any]]) -> None:
        misplaced.extend(wrong_place(batch, settings.wrong_place))
        found = stale(batch, settings.stale_years, now)
        classes = {row["id"]: row["record_class"] for row in batch}
        stale_by_class.update(classes[item.document_id] for item in found)
        stale_found.extend(found)

    batch: list[dict[str, Any]] = []
    for row in store.iter_signal_rows(prefix):
        documents += 1
        if row["sha256"]:
            by_hash[row["sha256"]].append(row["id"])
        signature = row["minhash"]
        if signature is not None and len(signature) == _SIGNATURE_BYTES:
            signed_ids.append(row["id"])
            signatures += signature
        batch.append(row)
        if len(batch) >= _RULE_BATCH:
            judge(batch)
            batch = []
    judge(batch)

    exact_groups = sorted(
        (DuplicateGroup(digest, tuple(sorted(ids)), "exact") for digest, ids in by_hash.items() if len(ids) > 1),
        key=lambda group: (-len(group.document_ids), group.key),
    )
    del by_hash
    exact_of = {doc_id: group.key for group in exact_groups for doc_id in group.document_ids}
    near_groups = [
        group
        for group in near_duplicate_matrix(signed_ids, _matrix(signatures), settings.near_duplicate_similarity)
        # Copies of one file are reported once, as exact duplicates.
        if len({exact_of.get(doc_id, doc_id) for doc_id in group.document_ids}) > 1
    ]
    result = CatalogueSignals(
        documents=documents,
        signed=len(signed_ids),
        exact_groups=exact_groups,
        near_groups=near_groups,
        misplaced=sorted(misplaced, key=lambda item: (item.rule, item.path, item.document_id)),
        stale=sorted(stale_found, key=lambda item: item.modified_at),
        stale_by_class=dict(sorted(stale_by_class.items(), key=lambda item: (-item[1], item[0] or ""))),
        computed_at=now,
    )
    result.by_document = _per_document(result)
    log.info(
        "governance signals over %d documents (%d signed) in %.2f s: %s",
        documents,
        len(signed_ids),
        time.monotonic() - started,
        result.counts(),
    )
    return result


def _per_document(signals: CatalogueSignals) -> dict[str, DocumentSignals]:
    values: dict[str, dict[str, Any]] = defaultdict(dict)
    for group in signals.exact_groups:
        for doc_id in group.document_ids:
            values[doc_id].update(duplicate_group=group.key, duplicates=len(group.document_ids))
    for group in signals.near_groups:
        for doc_id in group.document_ids:
            values[doc_id].update(near_group=group.key, near_duplicates=len(group.document_ids))
    for item in signals.misplaced:
        values[item.document_id]["wrong_place"] = item.rule
    for entry in signals.stale:
        values[entry.document_id]["stale_years"] = entry.years
    return {doc_id: DocumentSignals(**fields) for doc_id, fields in values.items()}


def describe_documents(store: CatalogueStore, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Document id -> (folder path, file name), for listing group members."""
    found: dict[str, tuple[str, str]] = {}
    unique = list(dict.fromkeys(ids))
    d = t.documents
    with store.transaction("read document names") as connection:
        for start in range(0, len(unique), 500):
            query = select(d.c.id, d.c.path, d.c.name).where(d.c.id.in_(unique[start : start + 500]))
            for doc_id, path, name in connection.execute(query):
                found[doc_id] = (path, name)
    return found


def _signal_rows(signals: CatalogueSignals) -> Iterator[dict[str, Any]]:
    for doc_id, values in signals.by_document.items():
        yield {
            "document_id": doc_id,
            "duplicate_group": values.duplicate_group,
            "duplicates": values.duplicates or None,
            "near_group": values.near_group,
            "near_duplicates": values.near_duplicates or None,
            "wrong_place": values.wrong_place,
            "stale_years": values.stale_years,
        }


def refresh_signals(
    store: CatalogueStore, settings: SignalSettings, *, now: dt.datetime | None = None
) -> CatalogueSignals:
    """Compute the signals over the whole catalogue and replace the ``document_signals`` table with them."""
    signals = compute_signals(store, settings, now=now)
    with store.transaction("write signals", write=True) as connection:
        connection.execute(delete(t.document_signals))
        rows: list[dict[str, Any]] = []
        for row in _signal_rows(signals):
            rows.append(row)
            if len(rows) >= _WRITE_BATCH:
                connection.execute(insert(t.document_signals), rows)
                rows = []
        if rows:
            connection.execute(insert(t.document_signals), rows)
    return signals


def catalogue_version(store: CatalogueStore) -> tuple[Any, ...]:
    """What the signals depend on, cheaply: document count, deletions, latest save, latest review decision."""
    d = t.documents
    with store.transaction("read catalogue version") as connection:
        documents = connection.execute(
            select(
                func.count(), func.coalesce(func.sum(case((d.c.deleted, 1), else_=0)), 0), func.max(d.c.processed_at)
            )
        ).one()
        decision = connection.execute(select(func.max(t.review_decisions.c.id))).scalar_one()
    return (*documents, decision)


class SignalCache:
    """Keeps ``document_signals`` current for a long-running server, rebuilding it only when needed.

    A catalogue of up to ``background_above`` documents is rebuilt inside the request that notices the change
    (seconds at most); a larger one in a background thread, one rebuild at a time, while the pages show the
    signals computed last.
    """

    def __init__(
        self,
        settings: SignalSettings,
        recheck_seconds: float = RECHECK_SECONDS,
        background_above: int = BACKGROUND_ABOVE,
    ) -> None:
        self.settings = settings
        self.recheck_seconds = recheck_seconds
        self.background_above = background_above
        self.computed_at: dt.datetime | None = None
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._checked = float("-inf")
        self._running = False
        self._settings_digest = hashlib.sha256(settings.model_dump_json().encode("utf-8")).hexdigest()

    @property
    def updating(self) -> bool:
        """Whether a background rebuild is under way."""
        return self._running

    def ensure_fresh(self, store: CatalogueStore, *, force: bool = False) -> bool:
        """Rebuild the table if the catalogue, the settings or the day changed since the last build.

        True when a rebuild was done (or, for a large catalogue, started in the background).
        """
        with self._lock:
            if self._running or (not force and time.monotonic() - self._checked < self.recheck_seconds):
                return False
            version = (*catalogue_version(store), dt.date.today().isoformat(), self._settings_digest)
            self._checked = time.monotonic()
            if not force and version == self._version:
                return False
            if version[0] > self.background_above:
                self._running = True
                threading.Thread(
                    target=self._rebuild_in_background, args=(store, version), name="docintel-signals", daemon=True
                ).start()
                return True
            refresh_signals(store, self.settings)
            self._version, self.computed_at = version, dt.datetime.now(dt.UTC)
            return True

    def _rebuild_in_background(self, store: CatalogueStore, version: tuple[Any, ...]) -> None:
        try:
            refresh_signals(store, self.settings)
            with self._lock:
                self._version, self.computed_at = version, dt.datetime.now(dt.UTC)
        except DocintelError as error:
            # The next check tries again; the pages keep the signals computed last.
            log.warning("governance signals not rebuilt: %s", error.message)
        finally:
            self._running = False

    def invalidate(self) -> None:
        """Check again on the next request (after a decision that may change a class)."""
        with self._lock:
            self._checked = float("-inf")


__all__ = [
    "DUPLICATE",
    "NEAR_DUPLICATE",
    "SIGNAL_NAMES",
    "STALE",
    "WRONG_PLACE",
    "CatalogueSignals",
    "DocumentSignals",
    "SignalCache",
    "compute_signals",
    "describe_documents",
    "refresh_signals",
]
