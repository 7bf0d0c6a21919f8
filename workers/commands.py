"""Click commands for the crawl path: ``crawl``, ``worker``, ``status`` and ``graph-emulator``.

The lead registers them on the ``docintel`` group (``main.add_command(crawl_command)`` ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from docintel.catalogue.crawl_store import Checkpoint
from docintel.errors import DocintelError
from docintel.settings import get_settings
from workers.queues import ALL_QUEUES, CRAWL, INVOICES, get_queue, job_options, redis_connection, redis_url


def _fail(error: DocintelError) -> None:
    click.secho(f"error: {error.message}", fg="red", err=True)
    sys.exit(error.exit_code)


@click.command("crawl")
@click.option(
    "--source", "source_names", multiple=True, metavar="NAME", help="Source from sources.yaml (default: all)."
)
@click.option("--every", "every", type=int, metavar="SECONDS", help="Also schedule an incremental crawl this often.")
@click.option("--schedule", "every", type=int, metavar="SECONDS", hidden=True)
def crawl_command(source_names: tuple[str, ...], every: int | None) -> None:
    """Enqueue an incremental crawl of SharePoint, OneDrive, mailbox and network-share sources (workers run it).

    \b
    Examples:
      docintel crawl                        # every source in config/sources.yaml
      docintel crawl --source sharepoint
      docintel crawl --source mail          # Exchange mailboxes only
      docintel crawl --source teams         # a kind: share source, sharded by folder
      docintel crawl --every 3600           # now, then hourly (workers run the scheduler)
    """
    from docintel.catalogue.store import open_catalogue
    from docintel.enrich.hashing import bind_pii_key, load_pii_key
    from docintel.sources.graph import sources_config
    from workers.jobs import crawl_source, schedule_crawl

    try:
        settings = get_settings()
        config = sources_config(settings)
        names = list(source_names) or [s.name for s in config.sources]
        for name in names:
            config.any_source(name)
        # Refuse now, not in every worker job, when this key is not the catalogue's.
        with open_catalogue(settings.catalogue.url) as store:
            bind_pii_key(store, load_pii_key())
    except DocintelError as error:
        _fail(error)
        return
    connection = redis_connection()
    queue = get_queue(CRAWL, connection)
    for name in names:
        job = queue.enqueue(crawl_source, name, **job_options(CRAWL))
        click.echo(f"enqueued crawl of {name}: job {job.id}")
        if every:
            scheduled = schedule_crawl(connection, name, every)
            click.echo(f"scheduled {name} every {every} s: job {scheduled.id}")


@click.command("worker")
@click.option(
    "--queues",
    default="invoices,callbacks,crawl,extract,ocr,classify",
    show_default=True,
    help="Queues, highest priority first (invoices, callbacks, crawl, extract, ocr, classify).",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-warm", is_flag=True, help="Do not load models before forking (crawl-only workers).")
@click.option("--metrics-port", type=int, metavar="PORT", help="Serve Prometheus metrics on PORT (default: off).")
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address for the metrics port (0.0.0.0: all)."
)
def worker_command(queues: str, burst: bool, no_warm: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Run an rq worker: loads models once, then forks a work horse per job.

    \b
    Examples:
      docintel worker                              # every queue, invoices first
      docintel worker --queues invoices            # a dedicated invoices worker for RPA flows
      docintel worker --queues callbacks --no-warm # delivers their results to the flows' callback URLs
      docintel worker --queues crawl,extract,ocr
      docintel worker --metrics-port 9100          # and metrics at http://127.0.0.1:9100/metrics
    """
    from workers.worker import run_worker

    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_QUEUES]
    if unknown or not names:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(ALL_QUEUES)}")
    try:
        metrics = (metrics_host, metrics_port) if metrics_port is not None else None
        run_worker(names, redis_connection(), burst=burst, warm=not no_warm, metrics_address=metrics)
    except DocintelError as error:
        _fail(error)


@click.command("status")
@click.option("--failed", "show_failed", default=10, show_default=True, help="Failed jobs to list per queue.")
@click.option("--requeue-failed", is_flag=True, help="Put every failed job back on its queue (not invoices).")
@click.option("--runs", "show_runs", default=5, show_default=True, help="Latest scan runs to list.")
def status_command(show_failed: int, requeue_failed: bool, show_runs: int) -> None:
    """Queue depths (invoices too), failed jobs, each drive's or share root's last sync, and the latest runs.

    \b
    Examples:
      docintel status
      docintel status --requeue-failed      # after fixing what made crawl/extract/ocr jobs fail
    """
    from docintel.catalogue.crawl_store import CrawlStore
    from docintel.catalogue.share_store import ShareStore
    from docintel.catalogue.store import open_catalogue

    connection = redis_connection()
    queues_reachable = True
    try:
        _print_queues(connection, show_failed, requeue_failed)
    except RedisConnectionError:
        queues_reachable = False
        click.echo(f"queues: Redis is not reachable at {redacted_redis_url()}; scans run in-process without it")
    try:
        store = open_catalogue(get_settings().catalogue.url)
    except DocintelError as error:
        _fail(error)
        return
    if queues_reachable:
        from workers.invoices import reconcile_invoice_jobs

        reconciled = reconcile_invoice_jobs(connection)
        if reconciled:
            click.echo(f"{reconciled} invoice job(s) rq failed or lost are now recorded as failed in the catalogue")
    crawl_store = CrawlStore(store)
    checkpoints = crawl_store.checkpoints()
    click.echo(f"\n{'drive':<{DRIVE_WIDTH}} {'status':<8} {'last sync (UTC)':<20} {'round':>5} {'pending':>8}")
    for checkpoint in checkpoints:
        synced = checkpoint.last_sync_at.strftime("%Y-%m-%d %H:%M:%S") if checkpoint.last_sync_at else "never"
        pending = crawl_store.pending_count(checkpoint.drive_id)
        label = _fit(drive_label(checkpoint), DRIVE_WIDTH)
        click.echo(f"{label:<{DRIVE_WIDTH}} {checkpoint.status:<8} {synced:<20} {checkpoint.round:>5} {pending:>8}")
        if checkpoint.error_type:
            click.echo(f"  last error: {checkpoint.error_type}: {checkpoint.error_message}")
        if checkpoint.kind == "share":
            problems = ShareStore(crawl_store).problem_counts(checkpoint.drive_id)
            if problems:
                click.echo(f"  problems: {', '.join(f'{name} {count}' for name, count in sorted(problems.items()))}")
    if not checkpoints:
        click.echo("no drive crawled yet: run `docintel crawl` and `docintel worker`")
    store.interrupt_dead_runs()
    runs = store.recent_runs(show_runs) if show_runs else []
    if runs:
        click.echo(f"\n{'run':<32} {'source':<24} {'status':<12} {'started (UTC)':<20} counts")
    for run in runs:
        started = run["started_at"].strftime("%Y-%m-%d %H:%M:%S")
        counts = ", ".join(f"{name} {count}" for name, count in sorted((run["counts"] or {}).items()))
        click.echo(f"{run['id']:<32} {_fit(run['source'], 24):<24} {run['status']:<12} {started:<20} {counts}")
    store.close()


# Width of the drive column of `docintel status`: "mailbox:mail/Display Name <upn@council.gov.uk>/Inbox".
DRIVE_WIDTH = 72


def drive_label(checkpoint: Checkpoint) -> str:
    """A drive as an operator knows it: the user's name for a OneDrive or mailbox, the site's name for a library."""
    parts = checkpoint.label.split("/")
    if checkpoint.owner and len(parts) >= 2:
        # onedrive/<user id> and mail/<user id>/<folder>: the id; <site>/<library>: the site's URL name.
        parts[1 if checkpoint.kind in ("onedrive", "mailbox") else 0] = checkpoint.owner
    return f"{checkpoint.source}:{'/'.join(parts)}"


def redacted_redis_url() -> str:
    """The Redis URL without its password, for messages."""
    url = redis_url()
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if "@" in rest else url


def _print_queues(connection: Redis, show_failed: int, requeue_failed: bool) -> None:
    click.echo(f"{'queue':<10} {'queued':>8} {'started':>8} {'scheduled':>10} {'failed':>8}")
    for name in ALL_QUEUES:
        queue = Queue(name, connection=connection)
        failed = FailedJobRegistry(queue=queue)
        # A failed invoice already told its client (status and callback) to submit it again; its bytes are gone.
        if requeue_failed and name != INVOICES:
            for job_id in failed.get_job_ids():
                failed.requeue(job_id)
        counts = (queue.count, StartedJobRegistry(queue=queue).count, ScheduledJobRegistry(queue=queue).count)
        click.echo(f"{name:<10} {counts[0]:>8} {counts[1]:>8} {counts[2]:>10} {failed.count:>8}")
        for job_id in failed.get_job_ids(0, show_failed - 1) if show_failed else []:
            job = Job.fetch(job_id, connection=connection)
            result = job.latest_result()
            reason = ((result.exc_string if result else None) or "").strip().splitlines()[-1:] or ["?"]
            click.echo(f"  failed {job_id}: {(job.func_name or '?').rsplit('.', 1)[-1]}: {reason[0][:150]}")


@click.command("graph-emulator")
@click.option(
    "--tenant", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Tenant YAML (default: demo)."
)
@click.option("--port", type=int, default=8765, show_default=True, help="Graph port (serves /v1.0).")
@click.option("--content-port", type=int, help="Download host port (default: port + 1).")
@click.option("--host", default="127.0.0.1", show_default=True)
def graph_emulator_command(tenant: Path | None, port: int, content_port: int | None, host: str) -> None:
    """Serve a synthetic Microsoft 365 tenant that the Graph SDK cannot tell from the real one."""
    from docintel.graph_emulator.server import serve_command

    serve_command(tenant, port, content_port, host)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` in the middle, so both the source and the folder at the end still show."""
    if len(text) <= width:
        return text
    keep = width - 1
    return f"{text[: keep // 2]}…{text[len(text) - (keep - keep // 2) :]}"
