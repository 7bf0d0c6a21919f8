"""Share crawl benchmark: enumeration rate, file-system calls and peak RSS of a full crawl of a generated share,
and the cost of a re-crawl after 1% of its files changed, moved or were deleted (beside the full crawl, same run).

    .venv/bin/python bench/share.py                          # 100,000 files in 10,000 folders
    .venv/bin/python bench/share.py --sizes 100000,1000000   # and a million in 100,000 folders

The tree is generated data (small files made with os.open in a tight loop) under a temporary folder on the
working disk, removed afterwards. Each crawl runs in a fresh child process (its peak RSS is the crawler's),
in-process (one worker: the shards run one after another), into a fresh SQLite catalogue; no file is read
(enumeration only). File-system calls are the crawler's own count of scandir, lstat and stat calls; "missing"
counts entries the re-crawl found gone from their folder (deleted, or moved away and found again elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FILES_PER_FOLDER = 10
CHANGED_SHARE = 0.01


def generate(root: Path, files: int) -> None:
    """``files`` small files, ten a folder, folders 100 to a parent."""
    folders = max(1, files // FILES_PER_FOLDER)
    payload = b"minutes of the meeting\n"
    for index in range(folders):
        folder = root / f"area {index // 100:04d}" / f"folder {index:06d}"
        os.makedirs(folder, exist_ok=True)
        base = os.fsencode(folder)
        for number in range(FILES_PER_FOLDER):
            fd = os.open(base + b"/note %d.txt" % number, os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, payload)
            os.close(fd)


def change(root: Path, files: int, seed: int = 7) -> dict[str, int]:
    """Touch 1% of the files: a third edited, a third moved to another folder, a third deleted."""
    rng = random.Random(seed)
    folders = max(1, files // FILES_PER_FOLDER)
    picks = rng.sample(range(files), int(files * CHANGED_SHARE))
    done = {"edited": 0, "moved": 0, "deleted": 0}
    for turn, pick in enumerate(picks):
        index, number = divmod(pick, FILES_PER_FOLDER)
        path = root / f"area {index // 100:04d}" / f"folder {index:06d}" / f"note {number}.txt"
        if turn % 3 == 0:
            path.write_bytes(b"minutes of the meeting, amended\n")
            done["edited"] += 1
        elif turn % 3 == 1:
            other = rng.randrange(folders)
            path.rename(root / f"area {other // 100:04d}" / f"folder {other:06d}" / f"moved {turn}.txt")
            done["moved"] += 1
        else:
            path.unlink()
            done["deleted"] += 1
    return done


def crawl_child(root: str, url: str) -> None:
    """One round in this (child) process; prints its figures as JSON."""
    from docintel.catalogue.crawl_store import CrawlStore
    from docintel.catalogue.share_store import ShareStore
    from docintel.catalogue.store import open_catalogue
    from docintel.share_crawl import ShareContext, crawl_share_in_process
    from docintel.sources.share import ShareSource, ShareSourceConfig

    config = ShareSourceConfig(
        name="bench", kind="share", roots=["\\\\san01\\bench"], path_map={"\\\\san01\\bench": root}
    )
    store = open_catalogue(url)
    context = ShareContext(ShareSource(config, environ={}), ShareStore(CrawlStore(store)))
    started = time.monotonic()
    pending = 0

    def count(batch: object) -> None:
        nonlocal pending
        pending += len(batch)  # type: ignore[arg-type]

    result = crawl_share_in_process(context, count)[0]
    seconds = time.monotonic() - started
    checkpoint = CrawlStore(store).checkpoint(result.drive_id)
    counts = checkpoint.counts if checkpoint else {}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "files": counts.get("files", 0),
                "fs_calls": counts.get("fs_calls", 0),
                "written": counts.get("written", 0),
                "pending": pending,
                "missing": counts.get("missing", 0),
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
    store.close()


def run_crawl(root: Path, url: str) -> dict[str, float]:
    """A crawl in a fresh child process."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(root), url], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        crawl_child(*args.child)
        return
    work = Path(__file__).resolve().parent.parent / ".bench"
    work.mkdir(exist_ok=True)
    print("generated share (enumeration only, 1 worker in-process, SQLite catalogue)")
    header = ("files", "crawl", "seconds", "files/s", "fs calls", "written", "to read", "missing", "RSS MB")
    print("{:>10} {:<9} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>7}".format(*header))
    for size in (int(s) for s in args.sizes.split(",")):
        base = Path(tempfile.mkdtemp(prefix="share-bench-", dir=work))
        try:
            root = base / "bench"
            started = time.monotonic()
            generate(root, size)
            generated = time.monotonic() - started
            url = f"sqlite:///{base / 'catalogue.db'}"
            full = run_crawl(root, url)
            changes = change(root, size)
            again = run_crawl(root, url)
            for label, row in (("full", full), ("re-crawl", again)):
                print(
                    f"{size:>10,} {label:<9} {row['seconds']:>8.1f} {row['files'] / row['seconds']:>8,.0f} "
                    f"{row['fs_calls']:>9,} {row['written']:>8,} {row['pending']:>8,} {row['missing']:>8,} "
                    f"{row['rss_mb']:>7.0f}"
                )
            print(
                f"{'':>10} re-crawl / full: {again['seconds'] / full['seconds']:.1%} of the time, "
                f"{again['fs_calls'] / full['fs_calls']:.1%} of the file-system calls, "
                f"{again['written'] / max(1, full['written']):.2%} of the index writes "
                f"(changes: {changes}; tree generated in {generated:.0f} s)"
            )
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
