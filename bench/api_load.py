"""Invoice API under load: p95 latency of ``?wait`` for a one-page born-digital invoice, then N concurrent
clients for S seconds with no error and no lost job.

Starts ``docintel serve`` (the real command, uvicorn, in its own process) on a free port of 127.0.0.1 over a
throwaway SQLite catalogue, issues one API key per client, and drives it with httpx from asyncio. Every
job id a client got back is checked in the catalogue at the end: a job counts as lost unless it succeeded.
Needs no evaluation data (the invoice is the generated demo sample).

    .venv/bin/python -m bench.api_load                       # 50 latency samples, 20 clients x 60 s
    .venv/bin/python -m bench.api_load --pool thread --clients 5 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from docintel.api.keys import ApiKeyStore
from docintel.catalogue import tables as t
from docintel.catalogue.store import open_catalogue
from docintel.samples import content as sample_content
from docintel.samples import pdf as sample_pdf

# A key's budget far above what the bench sends: the bench measures processing, not the limiter.
BENCH_RATE_LIMIT = 1_000_000
# Hard bounds so a misbehaving server cannot keep the bench looping: per-request timeout and polls per job.
REQUEST_TIMEOUT_SECONDS = 120.0
MAX_POLLS_PER_JOB = 2400
POLL_PAUSE_SECONDS = 0.05
STARTUP_TIMEOUT_SECONDS = 180.0
P95_TARGET_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0-1) of some values."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    """What the concurrent phase saw."""

    submitted: int = 0
    inline: int = 0  # answered 200 within the wait
    accepted: int = 0  # answered 202, then polled
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # submit to final result, seconds
    job_ids: list[str] = field(default_factory=list)


async def _wait_for_server(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"docintel serve exited with status {process.returncode}")
            try:
                if (await http.get(f"{url}/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("docintel serve did not start")


async def _one_invoice(http: httpx.AsyncClient, invoice: bytes, wait: float, result: LoadResult) -> None:
    started = time.perf_counter()
    response = await http.post("/v1/invoices", params={"wait": wait}, files={"file": ("invoice.pdf", invoice)})
    result.submitted += 1
    if response.status_code not in (200, 202):
        result.errors.append(f"submit HTTP {response.status_code}")
        return
    job = response.json()
    result.job_ids.append(job["id"])
    if response.status_code == 200:
        result.inline += 1
    else:
        result.accepted += 1
        location = response.headers["Location"]
        for _ in range(MAX_POLLS_PER_JOB):
            await asyncio.sleep(POLL_PAUSE_SECONDS)
            response = await http.get(location)
            if response.status_code != 202:
                break
        if response.status_code != 200:
            result.errors.append(f"poll HTTP {response.status_code}")
            return
        job = response.json()
    if job["status"] != "succeeded":
        result.errors.append(f"job {job['status']}: {(job.get('error') or {}).get('type')}")
        return
    result.latencies.append(time.perf_counter() - started)


async def _latency(url: str, key: str, invoice: bytes, samples: int) -> list[float]:
    result = LoadResult()
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        for _ in range(3):  # warm-up: first requests pay for imports and connection set-up
            await _one_invoice(http, invoice, 30, LoadResult())
        for _ in range(samples):
            await _one_invoice(http, invoice, 30, result)
    if result.errors:
        raise SystemExit(f"latency phase had errors: {result.errors[:5]}")
    return result.latencies


async def _client_loop(url: str, key: str, invoice: bytes, until: float, wait: float, result: LoadResult) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        while time.monotonic() < until:
            try:
                await _one_invoice(http, invoice, wait, result)
            except httpx.HTTPError as error:
                result.errors.append(type(error).__name__)


async def _load(url: str, keys: list[str], invoice: bytes, seconds: float, wait: float) -> LoadResult:
    result = LoadResult()
    until = time.monotonic() + seconds
    await asyncio.gather(*(_client_loop(url, key, invoice, until, wait, result) for key in keys))
    return result


def main(argv: list[str] | None = None) -> int:
    """Run both phases and print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=50, help="sequential ?wait requests for the latency figure")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--wait", type=float, default=10.0, help="?wait the concurrent clients send")
    parser.add_argument("--pool", choices=("process", "thread"), default=None, help="in-process pool kind")
    parser.add_argument("--workers", type=int, default=None, help="in-process pool size (default: cores)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="docintel-api-load-"))
    catalogue_url = f"sqlite:///{workdir / 'catalogue.db'}"
    store = open_catalogue(catalogue_url)
    key_store = ApiKeyStore(store)
    keys = [key_store.create(f"bench-client-{n}", BENCH_RATE_LIMIT).key for n in range(max(1, args.clients))]
    invoice = sample_pdf.invoice_pdf(sample_content.invoice())

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # Uploads of queued jobs are spooled to disk (as in production), in the bench's own folder.
    env = {**os.environ, "DOCINTEL_API__RESULT_TTL_SECONDS": "3600", "DOCINTEL_API__SPOOL_DIR": str(workdir / "spool")}
    if args.pool:
        env["DOCINTEL_API__POOL"] = args.pool
    if args.workers:
        env["DOCINTEL_API__WORKERS"] = str(args.workers)
    code = "from docintel.api.commands import serve_command; serve_command()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "--host", "127.0.0.1", "--port", str(port), "--catalogue", catalogue_url],
        env=env,
    )
    try:
        asyncio.run(_wait_for_server(url, server))
        latencies = asyncio.run(_latency(url, keys[0], invoice, args.samples))
        load = asyncio.run(_load(url, keys, invoice, args.seconds, args.wait))
    finally:
        died = server.poll()
        server.terminate()
        server.wait(timeout=60)
    if died is not None:
        print(f"SERVER DIED during the bench with exit status {died}", file=sys.stderr)

    with store.engine.connect() as connection:
        rows = connection.execute(select(t.invoice_jobs.c.id, t.invoice_jobs.c.status))
        statuses = {row.id: row.status for row in rows}
    store.close()
    shutil.rmtree(workdir, ignore_errors=True)
    lost = [job_id for job_id in load.job_ids if statuses.get(job_id) != "succeeded"]

    p95 = percentile(latencies, 0.95)
    pool, workers = args.pool or "default", args.workers or "default"
    print(f"pool: {pool}  workers: {workers}  invoice: 1 page, {len(invoice)} bytes")
    print("\n| phase | figure | value |\n|---|---|---|")
    print(f"| latency (?wait, sequential) | samples | {len(latencies)} |")
    print(f"| | p50 / p95 / max s | {statistics.median(latencies):.3f} / {p95:.3f} / {max(latencies):.3f} |")
    phase = f"load ({len(keys)} clients x {args.seconds:.0f} s, ?wait={args.wait:g})"
    print(f"| {phase} | jobs submitted | {load.submitted} |")
    print(f"| | inline 200 / 202 then polled | {load.inline} / {load.accepted} |")
    print(f"| | throughput jobs/s | {load.submitted / args.seconds:.1f} |")
    if load.latencies:
        print(f"| | p50 / p95 s end to end | {statistics.median(load.latencies):.3f} / "
              f"{percentile(load.latencies, 0.95):.3f} |")  # fmt: skip
    print(f"| | errors | {len(load.errors)} |")
    print(f"| | lost jobs | {len(lost)} |")
    if load.errors:
        print("errors:", sorted(set(load.errors))[:10])
    ok = p95 <= P95_TARGET_SECONDS and not load.errors and not lost
    print(f"\ntargets (p95 <= {P95_TARGET_SECONDS} s, no error, no lost job): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
