"""Peer side of the extraction bench: partition files with ``unstructured`` and report text and timings.

Runs INSIDE ``.bench/unstructured-venv`` (created by ``bench/extract.py``), never in docintel's venv, so
it imports nothing from docintel. For each file it calls
``unstructured.partition.auto.partition(filename=..., strategy=...)`` and writes one JSON line:
``{"path", "text", "seconds", "cpu_seconds", "pages", "elements", "error"}``.

Usage: ``python peer_unstructured.py --strategy fast --out results.jsonl FILE...``
(``--strategy ocr_only`` for scans and images: tesseract, as docintel uses).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

# unstructured pings a telemetry endpoint on import unless told not to; the bench runs offline.
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# One tesseract thread per process, the setting docintel uses; the default threading is ~6x slower on 2 cores.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

PAGE_SEPARATOR = "\n\n"


class FileTimeoutError(Exception):
    """A single file overran its time budget."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise FileTimeoutError("timed out")


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def partition_file(path: str, strategy: str, timeout: int) -> dict[str, Any]:
    """Partition one file and return its text, timings and page count, or the error that stopped it."""
    # imported here, after the environment above is set, and only in the peer venv
    from unstructured.partition.auto import partition

    start, cpu_start = time.perf_counter(), _cpu_seconds()
    signal.alarm(timeout)
    try:
        elements = partition(filename=path, strategy=strategy, languages=["eng"])
    except FileTimeoutError:
        return _failure(path, "Timeout", start, cpu_start)
    except Exception as exc:  # the peer's own exception types vary by partitioner; report them all
        return _failure(path, type(exc).__name__, start, cpu_start)
    finally:
        signal.alarm(0)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    texts = [element.text for element in elements if getattr(element, "text", "")]
    page_numbers = [getattr(element.metadata, "page_number", None) for element in elements]
    pages = max((number for number in page_numbers if number), default=1)
    return {
        "path": path,
        "text": PAGE_SEPARATOR.join(texts),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "pages": pages,
        "elements": len(elements),
        "error": None,
    }


def _failure(path: str, error: str, start: float, cpu_start: float) -> dict[str, Any]:
    return {
        "path": path,
        "text": "",
        "seconds": time.perf_counter() - start,
        "cpu_seconds": _cpu_seconds() - cpu_start,
        "pages": 0,
        "elements": 0,
        "error": error,
    }


def main(argv: list[str] | None = None) -> int:
    """Partition every file given and write one JSON line per file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--strategy", default="fast", help="unstructured strategy: fast, ocr_only, auto")
    parser.add_argument("--out", required=True, help="JSON-lines file to write")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per file")
    parser.add_argument(
        "--warmup", type=int, default=3, help="files tried, untimed, until one succeeds (imports, models)"
    )
    args = parser.parse_args(argv)

    signal.signal(signal.SIGALRM, _on_alarm)
    # Warm up on the first file that partitions cleanly: a failing file may stop before the lazy imports.
    for path in args.files[: args.warmup]:
        if partition_file(path, args.strategy, args.timeout)["error"] is None:
            break
    with Path(args.out).open("w", encoding="utf-8") as out:
        for path in args.files:
            result = partition_file(path, args.strategy, args.timeout)
            out.write(json.dumps(result) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
