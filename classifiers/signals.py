"""Governance signals shown beside the retention class: duplicates, near-duplicates, wrong place, stale.

Functions over catalogue rows (dicts with the ``documents`` table's columns: ``id``, ``sha256``, ``path``,
``record_class``, ``modified_at``, ``deleted``...) or over (id, text) pairs where the text is in hand (the
catalogue keeps no text, so near-duplicates are found while records are still in memory, or from a
stored signature: :func:`minhash` gives 64 integers that can be kept instead of the text).

- exact duplicates: the same sha256;
- near-duplicates: MinHash over word shingles, estimated Jaccard similarity >= ``near_duplicate_similarity``
  (candidates found through LSH bands, so a million signatures are not compared pairwise);
- wrong place: a class that belongs only under certain folders (e.g. social care records outside the
  social care sites), per ``signals.wrong_place`` in config/classifier.yaml;
- stale: not modified for ``stale_years`` years.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.config import SignalSettings, WrongPlaceRule

Row = Mapping[str, Any]

_WORD = re.compile(r"\w+")
# MinHash signature length, and its split into LSH bands of rows (16 x 4: the S-curve turns near 0.5 Jaccard).
SIGNATURE_SIZE = 64
_BANDS = 16
_ROWS = SIGNATURE_SIZE // _BANDS
_MINHASH_SEED = 20260
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class DuplicateGroup:
    """Documents with the same content: ``key`` is the shared sha256, or the first id for near-duplicates."""

    key: str
    document_ids: tuple[str, ...]
    kind: str  # "exact" or "near"


@dataclass(frozen=True)
class Misplaced:
    """A document stored outside the folders its class belongs in."""

    document_id: str
    record_class: str
    path: str
    rule: str


@dataclass(frozen=True)
class Stale:
    """A document not modified for a long time."""

    document_id: str
    modified_at: dt.datetime
    years: float


def _live(rows: Iterable[Row]) -> Iterable[Row]:
    return (row for row in rows if not row.get("deleted"))


def exact_duplicates(rows: Iterable[Row]) -> list[DuplicateGroup]:
    """Groups of two or more live documents with the same sha256, largest first."""
    by_hash: dict[str, list[str]] = defaultdict(list)
    for row in _live(rows):
        if row.get("sha256"):
            by_hash[str(row["sha256"])].append(str(row["id"]))
    groups = [DuplicateGroup(digest, tuple(sorted(ids)), "exact") for digest, ids in by_hash.items() if len(ids) > 1]
    return sorted(groups, key=lambda group: (-len(group.document_ids), group.key))


def shingles(text: str, words: int = 5) -> set[str]:
    """Overlapping runs of ``words`` lower-case words (the whole text when it is shorter)."""
    tokens = _WORD.findall(text.lower())
    if len(tokens) <= words:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[index : index + words]) for index in range(len(tokens) - words + 1)}


def _hash_family(count: int) -> tuple[np.ndarray, np.ndarray]:
    # Fixed odd multipliers and offsets (a seeded generator, so signatures compare across processes and runs).
    generator = np.random.default_rng(_MINHASH_SEED)
    multipliers = generator.integers(1, 2**63 - 1, size=count, dtype=np.uint64) | np.uint64(1)
    offsets = generator.integers(0, 2**63 - 1, size=count, dtype=np.uint64)
    return multipliers, offsets


_MULTIPLIERS, _OFFSETS = _hash_family(SIGNATURE_SIZE)


def minhash(text: str, words: int = 5) -> np.ndarray:
    """A MinHash signature of the text's shingles (64 values); equal positions estimate Jaccard similarity.

    Empty text gives the all-ones signature, which no real text shares.
    """
    values = [
        int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")
        for shingle in shingles(text, words)
    ]
    if not values:
        return np.full(SIGNATURE_SIZE, np.iinfo(np.uint64).max, dtype=np.uint64)
    hashes = np.array(values, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        permuted = hashes[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]
    return permuted.min(axis=0)


def similarity(left: np.ndarray, right: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets."""
    return float(np.mean(left == right))


def near_duplicates(signatures: Mapping[str, np.ndarray], threshold: float = 0.8) -> list[DuplicateGroup]:
    """Groups of documents whose signatures estimate Jaccard >= ``threshold`` (connected groups), largest first.

    Candidates come from locality-sensitive hashing (16 bands of 4 values): pairs near 0.8 share a band with
    probability ~0.999, pairs below 0.3 rarely do, so a million signatures are not compared pairwise.
    Identical texts count too; callers that show both signals drop groups :func:`exact_duplicates` reports.
    """
    buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
    for doc_id, signature in signatures.items():
        for band in range(_BANDS):
            buckets[(band, signature[band * _ROWS : (band + 1) * _ROWS].tobytes())].append(doc_id)
    parent = {doc_id: doc_id for doc_id in signatures}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    for members in buckets.values():
        for position, left in enumerate(members):
            for right in members[position + 1 :]:
                if root(left) != root(right) and similarity(signatures[left], signatures[right]) >= threshold:
                    parent[root(right)] = root(left)
    groups: dict[str, list[str]] = defaultdict(list)
    for doc_id in signatures:
        groups[root(doc_id)].append(doc_id)
    found = [sorted(ids) for ids in groups.values() if len(ids) > 1]
    return sorted(
        (DuplicateGroup(ids[0], tuple(ids), "near") for ids in found), key=lambda g: (-len(g.document_ids), g.key)
    )


def near_duplicate_texts(texts: Mapping[str, str], settings: SignalSettings | None = None) -> list[DuplicateGroup]:
    """:func:`near_duplicates` over texts in hand (documents with no words are left out)."""
    settings = settings or SignalSettings()
    signatures = {doc_id: minhash(text, settings.shingle_words) for doc_id, text in texts.items() if _WORD.search(text)}
    return near_duplicates(signatures, settings.near_duplicate_similarity)


def wrong_place(rows: Iterable[Row], rules: Sequence[WrongPlaceRule]) -> list[Misplaced]:
    """Live documents whose class a rule restricts to certain folders, stored elsewhere."""
    compiled = [
        (
            rule,
            [re.compile(pattern) for pattern in rule.classes],
            [re.compile(pattern, re.IGNORECASE) for pattern in rule.allowed_paths],
        )
        for rule in rules
    ]
    found = []
    for row in _live(rows):
        record_class = row.get("record_class")
        if not record_class:
            continue
        path = str(row.get("path") or "").replace("\\", "/")
        for rule, classes, allowed in compiled:
            if any(pattern.fullmatch(record_class) for pattern in classes) and not any(
                pattern.search(path) for pattern in allowed
            ):
                found.append(Misplaced(str(row["id"]), str(record_class), path, rule.name))
                break
    return found


def stale(rows: Iterable[Row], years: float, now: dt.datetime | None = None) -> list[Stale]:
    """Live documents last modified more than ``years`` years before ``now``, oldest first."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=years * _DAYS_PER_YEAR)
    found = []
    for row in _live(rows):
        modified = row.get("modified_at")
        if not isinstance(modified, dt.datetime):
            continue
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=dt.UTC)
        if modified < cutoff:
            age = (now - modified).days / _DAYS_PER_YEAR
            found.append(Stale(str(row["id"]), modified, round(age, 1)))
    return sorted(found, key=lambda item: item.modified_at)


@dataclass
class GovernanceSignals:
    """Every row-based signal for a set of catalogue rows."""

    exact_duplicates: list[DuplicateGroup]
    misplaced: list[Misplaced]
    stale: list[Stale]

    def by_document(self) -> dict[str, list[str]]:
        """Signal names per document id, for a column beside the class in reports."""
        flags: dict[str, list[str]] = defaultdict(list)
        for group in self.exact_duplicates:
            for doc_id in group.document_ids:
                flags[doc_id].append(f"duplicate x{len(group.document_ids)}")
        for item in self.misplaced:
            flags[item.document_id].append(f"wrong place: {item.rule}")
        for entry in self.stale:
            flags[entry.document_id].append(f"stale: {entry.years:.0f} years")
        return dict(flags)


def governance_signals(
    rows: Iterable[Row], settings: SignalSettings, now: dt.datetime | None = None
) -> GovernanceSignals:
    """Exact duplicates, wrong place and stale documents over catalogue rows (e.g. ``store.iter_documents()``)."""
    materialised = list(rows)
    return GovernanceSignals(
        exact_duplicates=exact_duplicates(materialised),
        misplaced=wrong_place(materialised, settings.wrong_place),
        stale=stale(materialised, settings.stale_years, now),
    )
