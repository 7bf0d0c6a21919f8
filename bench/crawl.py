"""Crawl benchmark: enumeration rate, Graph requests per item and peak RSS against emulated tenants; the cost of
an incremental crawl after 1% of items changed; documents processed per second by rq workers.

    .venv/bin/python bench/crawl.py                       # 10k and 100k enumeration, 10k messages, 1% incremental,
                                                          # processing
    .venv/bin/python bench/crawl.py --sizes 10000,100000,1000000 --process 1000 --workers 2

Each enumeration runs in a fresh child process (its peak RSS is the crawler's), against an emulator in its
own process, into a fresh SQLite catalogue. Processing starts a throwaway redis-server and N ``docintel
worker`` processes (full pipeline: PII on) and reports documents per second and the workers' peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import current_rss_bytes
from docintel.graph_emulator.testing import emulator_process

ORGANISATION = "Bench Council"


def tenant_file(folder: Path, files: int, mailboxes: int = 0) -> Path:
    """A one-library tenant of ``files`` generated files (50 a folder, 10 sub-folders a folder), or with
    ``mailboxes`` users sharing ``files`` messages instead (each mailbox: Inbox, Sent Items, Archive)."""
    spec: dict[str, Any] = {"tenant": {"name": ORGANISATION, "domain": "bench", "seed": 1}}
    if mailboxes:
        spec["users"] = [
            {"user_principal_name": f"user{n}@bench.example.gov.uk", "display_name": f"User {n}", "mailbox": True,
             "mail_messages": files // mailboxes}
            for n in range(mailboxes)
        ]  # fmt: skip
    else:
        spec["sites"] = [{"name": "records", "libraries": [{"name": "Documents", "generate": {"files": files}}]}]
    path = folder / f"tenant-{files}-{mailboxes}.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def write_config(folder: Path, catalogue_url: str, graph_url: str, pii: bool) -> Path:
    """A config folder for workers: project schedule files, this catalogue, sources.yaml for the emulator."""
    project = Path(__file__).resolve().parent.parent / "config"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("retention_schedule.yaml", "classifier.yaml", "pii.yaml"):
        shutil.copy(project / name, folder / name)
    settings = {"catalogue": {"url": catalogue_url}, "pii": {"enabled": pii}}
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    sources = {
        "graph": {"base_url": graph_url, "organisation": ORGANISATION},
        "sources": [{"name": "sharepoint", "kind": "sharepoint"}],
    }
    (folder / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    return folder


# --- child: one crawl round over every drive, enumeration only -------------------------------------


def child_round(graph_url: str, catalogue_url: str, kind: str = "sharepoint") -> dict[str, Any]:
    """Run one round on every drive (or mail folder) of a source (no processing); report counts, time and RSS."""
    from docintel.catalogue.crawl_store import CrawlStore
    from docintel.catalogue.store import open_catalogue
    from docintel.crawl import crawl_drive
    from docintel.sources.graph import GraphSettings, GraphSource, GraphSourceConfig
    from docintel.sources.graph_client import GraphAuth

    store = open_catalogue(catalogue_url)
    crawl_store = CrawlStore(store)
    source = GraphSource(
        GraphSourceConfig.model_validate({"name": kind, "kind": kind}),
        GraphSettings(base_url=graph_url, organisation=ORGANISATION),
        GraphAuth(base_url=graph_url, token="bench-token"),
    )
    # A crawl worker is long-lived: its imports are loaded before any round, so they are not a round's cost.
    from docintel.sources.graph_client import create_graph_client, warm_sdk_models

    warm_sdk_models()

    async def warm_client() -> None:
        client = create_graph_client(source.auth, ORGANISATION)
        _ = client.drives.by_drive_id("warm").items.by_drive_item_id("root").delta, client.sites.get_all_sites

    asyncio.run(warm_client())
    started = time.perf_counter()
    totals = {"seen": 0, "pending": 0, "refreshed": 0, "deleted": 0, "pages": 0}

    async def run() -> None:
        async with source.session() as session:
            for drive in await session.list_drives():
                result = await crawl_drive(session, drive, crawl_store)
                for key in totals:
                    totals[key] += getattr(result, key)

    asyncio.run(run())
    seconds = time.perf_counter() - started
    store.close()
    return {**totals, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_round(graph_url: str, catalogue_url: str, kind: str = "sharepoint") -> dict[str, Any]:
    """One crawl round in a fresh child process, with the Graph requests it cost."""
    stats_url = graph_url.removesuffix("/v1.0") + "/_control/stats"
    before = httpx.get(stats_url, timeout=60).json()["requests"]
    output = subprocess.run(
        [sys.executable, __file__, "--child", graph_url, catalogue_url, kind],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["requests"] = httpx.get(stats_url, timeout=60).json()["requests"] - before
    return result


# --- processing through rq workers -----------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_with_workers(files: int, workers: int, workdir: Path) -> dict[str, Any]:
    """Crawl a ``files``-item tenant and process every document with ``workers`` rq worker processes."""
    port = free_port()
    redis_dir = workdir / "redis"
    redis_dir.mkdir()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(redis_dir)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    redis_url = f"redis://127.0.0.1:{port}/0"
    try:
        with emulator_process(tenant_file(workdir, files)) as emulator:
            catalogue = f"sqlite:///{workdir / 'processed.db'}"
            config = write_config(workdir / "config", catalogue, emulator.graph_url, pii=True)
            env = {
                **os.environ,
                "DOCINTEL_CONFIG_DIR": str(config),
                "DOCINTEL_GRAPH_BASE_URL": emulator.graph_url,
                "DOCINTEL_GRAPH_TOKEN": "bench-token",
                "DOCINTEL_REDIS_URL": redis_url,
                "DOCINTEL_PII_KEY": secrets.token_hex(32),  # docintel refuses a guessable key such as "11...1"
            }
            enqueue = "from workers.commands import crawl_command; crawl_command()"
            root = Path(__file__).resolve().parent.parent
            subprocess.run([sys.executable, "-c", enqueue, "--source", "sharepoint"], env=env, check=True, cwd=root)
            # Crawl first (one worker), so the timing below is processing only.
            worker = "from workers.commands import worker_command; worker_command()"
            crawl = [sys.executable, "-c", worker, "--queues", "crawl", "--burst", "--no-warm"]
            subprocess.run(crawl, env=env, check=True, cwd=root)
            started = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [sys.executable, "-c", worker, "--queues", "extract,ocr", "--burst"], env=env, cwd=root
                )
                for _ in range(workers)
            ]
            peak = 0
            while any(proc.poll() is None for proc in procs):
                # The worker parents hold the warmed models; each job's horse is a copy-on-write fork of one.
                peak = max(peak, *(current_rss_bytes(proc.pid) for proc in procs))
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            from docintel.catalogue.store import open_catalogue

            store = open_catalogue(catalogue)
            stored = sum(1 for _ in store.iter_documents(include_children=False))
            store.close()
        return {
            "documents": stored,
            "seconds": seconds,
            "docs_per_second": stored / seconds,
            "worker_peak_rss_mb": peak / 1024 / 1024,
        }
    finally:
        redis.terminate()
        redis.wait()


# --- main ------------------------------------------------------------------------------------------

MAIL_BENCH_MAILBOXES = 10


def _enumeration_row(full: dict[str, Any]) -> str:
    return (
        f"{full['seen']:>10,} {full['seconds']:>9.1f} {full['seen'] / full['seconds']:>9,.0f} "
        f"{full['requests']:>9,} {full['requests'] / full['seen']:>9.4f} {full['peak_rss_mb']:>15.0f}"
    )


def main() -> None:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="Tenant sizes to enumerate (comma-separated).")
    parser.add_argument("--incremental", type=int, default=100_000, help="Tenant size for the 1%% incremental run.")
    parser.add_argument("--process", type=int, default=1000, help="Tenant size processed by workers (0: skip).")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes for processing.")
    parser.add_argument(
        "--mail",
        type=int,
        default=10_000,
        help="Messages (in 10 mailboxes) to enumerate as a mailbox source (0: skip).",
    )
    parser.add_argument("--child", nargs=3, metavar=("GRAPH_URL", "CATALOGUE_URL", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_round(*args.child)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="docintel-bench-crawl-"))
    try:
        sizes = [int(size) for size in args.sizes.split(",") if size]
        print("Full enumeration (one delta round per drive, items recorded in an SQLite catalogue)")
        print(f"{'items':>10} {'seconds':>9} {'items/s':>9} {'requests':>9} {'req/item':>9} {'crawler RSS MB':>15}")
        incremental: dict[str, Any] | None = None
        for size in sizes:
            with emulator_process(tenant_file(workdir, size)) as emulator:
                catalogue = f"sqlite:///{workdir / f'enum-{size}.db'}"
                full = run_round(emulator.graph_url, catalogue)
                print(_enumeration_row(full), flush=True)
                if size == args.incremental:
                    changes = max(1, size // 100)
                    operations = ["edit", "add", "rename", "move", "delete"]
                    emulator.control("POST", "/mutate", {"count": changes, "seed": 5, "operations": operations})
                    incremental = {"full": full, "changes": changes, "round": run_round(emulator.graph_url, catalogue)}
        if args.mail:
            with emulator_process(tenant_file(workdir, args.mail, MAIL_BENCH_MAILBOXES)) as emulator:
                mail = run_round(emulator.graph_url, f"sqlite:///{workdir / 'mail.db'}", "mailbox")
            print(f"{_enumeration_row(mail)}   messages of {MAIL_BENCH_MAILBOXES} mailboxes x 3 folders", flush=True)
        if incremental:
            full, inc = incremental["full"], incremental["round"]
            print(f"\nIncremental round after {incremental['changes']:,} changes (1%) on {full['seen']:,} items")
            print(
                f"{'':<12} {'requests':>9} {'seconds':>9} {'items seen':>11} {'to process':>11} {'renamed/moved':>14}"
            )
            print(
                f"{'full':<12} {full['requests']:>9,} {full['seconds']:>9.2f} {full['seen']:>11,} "
                f"{full['pending']:>11,}"
            )
            print(
                f"{'incremental':<12} {inc['requests']:>9,} {inc['seconds']:>9.2f} {inc['seen']:>11,} "
                f"{inc['pending']:>11,} {inc['refreshed']:>14,}"
            )
            print(
                f"{'ratio':<12} {inc['requests'] / full['requests']:>9.1%} {inc['seconds'] / full['seconds']:>9.1%}"
                "   (target <= 3% of both)"
            )
        if args.process:
            result = process_with_workers(args.process, args.workers, workdir)
            print(
                f"\nProcessing {args.process:,}-item tenant with {args.workers} rq workers (PII on, rules classifier)"
            )
            print(
                f"{result['documents']:,} documents in {result['seconds']:.1f} s: "
                f"{result['docs_per_second']:.1f} docs/s; "
                f"worker peak RSS {result['worker_peak_rss_mb']:.0f} MB"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
