"""Governance signals at scale: time and peak memory of computing every signal over a large catalogue.

    .venv/bin/python bench/signals.py                          # 100k documents
    .venv/bin/python bench/signals.py --documents 1000000 --repeat 1

Builds a throwaway SQLite catalogue of generated rows (no documents are read: random MinHash signatures,
paths, classes and dates, with planted exact duplicates, near-duplicates, wrong-place and stale documents),
then times ``docintel.governance.compute_signals`` (LSH, no pairwise comparison) and ``refresh_signals``
(the same plus writing the review pages' table), with this process's peak RSS (the catalogue is built in a
child process, so it is the signals' own). Each figure is the median of ``--repeat`` runs; the
planted counts are checked, so a wrong answer fails the bench rather than looking fast. No evaldata needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.config import SignalSettings, WrongPlaceRule
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.governance import compute_signals, refresh_signals

PLANTED = 1000  # of each signal
BATCH = 5000
SETTINGS = SignalSettings(
    stale_years=6,
    near_duplicate_similarity=0.8,
    wrong_place=[WrongPlaceRule(name="social care outside", classes=[r"social_care\..*"], allowed_paths=["care"])],
)


def populate(store: CatalogueStore, documents: int, seed: int = 1) -> None:
    """``documents`` rows; the first PLANTED of each kind carry a planted signal."""
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC)
    signatures = rng.integers(0, 2**32, size=(documents, 64), dtype=np.uint64).astype("<u4")
    near_base = documents - PLANTED  # rows near_base.. are near copies of rows 0..PLANTED-1 (58/64 equal)
    signatures[near_base:] = signatures[:PLANTED]
    signatures[near_base:, :6] += 1
    with store.transaction("bench populate", write=True) as connection:
        rows = []
        for index in range(documents):
            duplicate = PLANTED <= index < 2 * PLANTED  # pairs: 2k and 2k+1 share a hash
            sha = f"{index // 2:064x}" if duplicate else f"{index + 10**9:064x}"
            misplaced = 2 * PLANTED <= index < 3 * PLANTED
            stale = 3 * PLANTED <= index < 4 * PLANTED
            rows.append(
                {
                    "id": f"doc-{index:09d}",
                    "source": "local",
                    "locator": f"/share/{index}",
                    "name": f"{index}.pdf",
                    "path": f"Site{index % 50}/Folder{index % 500}",
                    "sha256": sha,
                    "status": "ok",
                    "record_class": "social_care.adult" if misplaced else "finance.invoice",
                    "modified_at": now - dt.timedelta(days=365 * (10 if stale else 1)),
                    "first_seen_at": now,
                    "processed_at": now,
                    "page_count": 1,
                    "text_chars": 1000,
                    "deleted": False,
                    "depth": 0,
                    "minhash": signatures[index].tobytes(),
                }
            )
            if len(rows) == BATCH:
                connection.execute(insert(t.documents), rows)
                rows = []
        if rows:
            connection.execute(insert(t.documents), rows)


def _populate_in_child(url: str, documents: int) -> None:
    with open_catalogue(url) as store:
        populate(store, documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docintel-signals-") as folder:
        url = f"sqlite:///{Path(folder) / 'catalogue.db'}"
        started = time.perf_counter()
        # Built in a child process, so this process's peak RSS is the signals' own.
        child = multiprocessing.get_context("spawn").Process(target=_populate_in_child, args=(url, args.documents))
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(f"building the catalogue failed (exit {child.exitcode})")
        build_seconds = time.perf_counter() - started
        store = open_catalogue(url)
        compute_times, refresh_times = [], []
        counts: dict[str, int] = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            counts = compute_signals(store, SETTINGS).counts()
            compute_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            refresh_signals(store, SETTINGS)
            refresh_times.append(time.perf_counter() - started)
        store.close()
    expected = {"duplicate": PLANTED, "near_duplicate": 2 * PLANTED, "wrong_place": PLANTED, "stale": PLANTED}
    result = {
        "documents": args.documents,
        "build_seconds": round(build_seconds, 1),
        "compute_seconds_median": round(statistics.median(compute_times), 2),
        "refresh_seconds_median": round(statistics.median(refresh_times), 2),
        "documents_per_second": round(args.documents / statistics.median(compute_times)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "counts": counts,
        "counts_as_planted": counts == expected,
    }
    print(json.dumps(result, indent=2))
    if counts != expected:
        sys.exit(f"signals found {counts}, planted {expected}")


if __name__ == "__main__":
    main()
