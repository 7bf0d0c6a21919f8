"""Governance signals shown beside the retention class: duplicates, near-duplicates, wrong place, stale.

Functions over catalogue rows (dicts with the ``documents`` table's columns: ``id``, ``sha256``, ``path``,
``record_class``, ``modified_at``, ``deleted``...) or over (id, text) pairs where the text is in hand (the
catalogue keeps no text, so near-duplicates are found while records are still in memory, or from a
stored signature: :func:`text_signature` gives 64 integers that the catalogue keeps instead of the text).

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
# Shingle hashes permuted per block when signing a long text (block x 64 x 8 bytes: 5 MB).
_MINHASH_BLOCK = 10_000
_LOW_32 = 0xFFFFFFFF
# LSH buckets up to this size are checked pair by pair; larger ones (boilerplate shared by thousands of
# documents) against one representative at a time, so the cost stays linear in the bucket.
_PAIRWISE_BUCKET = 256


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


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def shingle_hashes(text: str, words: int = 5) -> np.ndarray:
    """A 64-bit hash of each run of ``words`` lower-case words (of the whole text when it is shorter).

    Each distinct word is hashed once (blake2b, stable across processes) and runs are combined in numpy,
    so a long text costs one pass over its words rather than a hash of every shingle string.
    """
    tokens = _WORD.findall(text.lower())
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    vocabulary: dict[str, int] = {}
    positions = np.fromiter(
        (vocabulary.setdefault(token, len(vocabulary)) for token in tokens), dtype=np.int64, count=len(tokens)
    )
    word_hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big") for word in vocabulary),
        dtype=np.uint64,
        count=len(vocabulary),
    )
    sequence = word_hashes[positions]
    width = min(words, len(sequence))
    runs = len(sequence) - width + 1
    combined = np.zeros(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):  # order matters: "a b" and "b a" differ
            combined = _mix(combined * np.uint64(0x100000001B3) + sequence[offset : offset + runs])
    return combined


def minhash(text: str, words: int = 5) -> np.ndarray:
    """A MinHash signature of the text's shingles (64 values); equal positions estimate Jaccard similarity.

    Empty text gives the all-ones signature, which no real text shares. Long texts are permuted in blocks,
    so an 800-page handbook needs a few MB, not a matrix of every shingle by every hash function.
    """
    hashes = shingle_hashes(text, words)
    signature = np.full(SIGNATURE_SIZE, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, len(hashes), _MINHASH_BLOCK):
        block = hashes[start : start + _MINHASH_BLOCK]
        with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
            permuted = block[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]
        np.minimum(signature, permuted.min(axis=0), out=signature)
    return signature


def text_signature(text: str, words: int = 5) -> list[int] | None:
    """The compact signature the catalogue keeps for a text: 64 ints of 32 bits, or None when it has no words.

    The low 32 bits of each MinHash value: two different minima agree by chance once in 2**32, so the
    similarity estimate is unchanged while the stored signature is half the size (256 bytes).
    """
    if not _WORD.search(text):
        return None
    return [int(value) & _LOW_32 for value in minhash(text, words)]


def signature_bytes(signature: Sequence[int]) -> bytes:
    """A compact signature as the catalogue stores it (64 little-endian uint32)."""
    return np.asarray(signature, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    """A stored signature back as an array (uint32)."""
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def similarity(left: np.ndarray, right: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets."""
    return float(np.mean(left == right))


def near_duplicates(signatures: Mapping[str, np.ndarray], threshold: float = 0.8) -> list[DuplicateGroup]:
    """Groups of documents whose signatures estimate Jaccard >= ``threshold`` (connected groups), largest first.

    Candidates come from locality-sensitive hashing (16 bands of 4 values): pairs near 0.8 share a band with
    probability ~0.999, pairs below 0.3 rarely do, so a million signatures are not compared pairwise.
    Identical texts count too; callers that show both signals drop groups :func:`exact_duplicates` reports.
    """
    ids = list(signatures)
    if not ids:
        return []
    return near_duplicate_matrix(ids, np.stack([signatures[doc_id] for doc_id in ids]), threshold)


def _band_keys(band: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a band (a collision only costs a wasted comparison)."""
    words = np.ascontiguousarray(band).view(np.uint64)  # 4 x uint32 -> 2 words, 4 x uint64 -> 4
    keys = words[:, 0].copy()
    with np.errstate(over="ignore"):
        for column in range(1, words.shape[1]):
            keys = _mix(keys) ^ words[:, column]
    return keys


def near_duplicate_matrix(ids: Sequence[str], matrix: np.ndarray, threshold: float = 0.8) -> list[DuplicateGroup]:
    """:func:`near_duplicates` over one signature per row of ``matrix`` (rows in the order of ``ids``).

    Each band is sorted once (n log n), so memory is the matrix plus a few arrays of n: the way to run it
    over a whole catalogue.
    """
    count = len(ids)
    parent = list(range(count))
    joined: set[int] = set()  # only documents that met another are grouped at the end

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def join(left: int, right: int) -> None:
        left_root, right_root = root(left), root(right)
        if left_root != right_root:
            parent[max(left_root, right_root)] = min(left_root, right_root)
            joined.update((left, right))

    for band in range(_BANDS):
        keys = _band_keys(matrix[:, band * _ROWS : (band + 1) * _ROWS])
        order = np.argsort(keys)
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, count])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
            members = order[start : start + size]
            if len({root(member) for member in members.tolist()}) == 1:
                continue  # already one group through an earlier band
            block = matrix[members]
            if size <= _PAIRWISE_BUCKET:
                for position in range(size - 1):
                    similar = (block[position + 1 :] == block[position]).mean(axis=1) >= threshold
                    for other in np.flatnonzero(similar).tolist():
                        join(int(members[position]), int(members[position + 1 + other]))
                continue
            remaining = np.arange(size)
            while remaining.size > 1:
                representative = remaining[0]
                similar = (block[remaining] == block[representative]).mean(axis=1) >= threshold
                for other in remaining[similar].tolist():
                    join(int(members[representative]), int(members[other]))
                remaining = remaining[~similar]
    groups: dict[int, list[str]] = defaultdict(list)
    for index in joined:
        groups[root(index)].append(ids[index])
    found = [sorted(members) for members in groups.values() if len(members) > 1]
    return sorted(
        (DuplicateGroup(members[0], tuple(members), "near") for members in found),
        key=lambda g: (-len(g.document_ids), g.key),
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
