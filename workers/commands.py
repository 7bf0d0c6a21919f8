"""Click commands for the crawl path: ``crawl``, ``worker``, ``status`` and ``graph-emulator``.

The lead registers them on the ``docintel`` group (``main.add_command(crawl_command)`` ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from docintel.errors import DocintelError
from docintel.settings import get_settings
from workers.queues import ALL_QUEUES, CRAWL, get_queue, job_options, redis_connection


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
    """Enqueue an incremental crawl of SharePoint, OneDrive and mailbox sources (`docintel worker` runs it).

    \b
    Examples:
      docintel crawl                        # every source in config/sources.yaml
      docintel crawl --source sharepoint
      docintel crawl --source mail          # Exchange mailboxes only
      docintel crawl --every 3600           # now, then hourly (workers run the scheduler)
    """
    from docintel.sources.graph import sources_config
    from workers.jobs import crawl_source, schedule_crawl

    try:
        config = sources_config(get_settings())
        names = list(source_names) or [s.name for s in config.sources]
        for name in names:
            config.source(name)
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
    "--queues", default="crawl,extract,ocr,classify", show_default=True, help="Queues, highest priority first."
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
      docintel worker                                  # crawl, extract, ocr, classify
      docintel worker --queues ocr                     # scans only
      docintel worker --metrics-port 9100              # and metrics at http://127.0.0.1:9100/metrics
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
@click.option("--requeue-failed", is_flag=True, help="Put every failed job back on its queue.")
def status_command(show_failed: int, requeue_failed: bool) -> None:
    """Queue depths, failed jobs and each drive's last sync."""
    from docintel.catalogue.crawl_store import CrawlStore
    from docintel.catalogue.store import open_catalogue

    connection = redis_connection()
    click.echo(f"{'queue':<10} {'queued':>8} {'started':>8} {'scheduled':>10} {'failed':>8}")
    for name in ALL_QUEUES:
        queue = Queue(name, connection=connection)
        failed = FailedJobRegistry(queue=queue)
        if requeue_failed:
            for job_id in failed.get_job_ids():
                failed.requeue(job_id)
        counts = (queue.count, StartedJobRegistry(queue=queue).count, ScheduledJobRegistry(queue=queue).count)
        click.echo(f"{name:<10} {counts[0]:>8} {counts[1]:>8} {counts[2]:>10} {failed.count:>8}")
        for job_id in failed.get_job_ids(0, show_failed - 1) if show_failed else []:
            job = Job.fetch(job_id, connection=connection)
            reason = (job.exc_info or "").strip().splitlines()[-1:] or ["?"]
            click.echo(f"  failed {job_id}: {(job.func_name or '?').rsplit('.', 1)[-1]}: {reason[0][:150]}")
    try:
        store = open_catalogue(get_settings().catalogue.url)
    except DocintelError as error:
        _fail(error)
        return
    crawl_store = CrawlStore(store)
    checkpoints = crawl_store.checkpoints()
    click.echo(f"\n{'drive':<44} {'status':<8} {'last sync (UTC)':<20} {'round':>5} {'pending':>8}")
    for checkpoint in checkpoints:
        synced = checkpoint.last_sync_at.strftime("%Y-%m-%d %H:%M:%S") if checkpoint.last_sync_at else "never"
        pending = crawl_store.pending_count(checkpoint.drive_id)
        label = _fit(f"{checkpoint.source}:{checkpoint.label}", 44)
        click.echo(f"{label:<44} {checkpoint.status:<8} {synced:<20} {checkpoint.round:>5} {pending:>8}")
        if checkpoint.error_type:
            click.echo(f"  last error: {checkpoint.error_type}: {checkpoint.error_message}")
    if not checkpoints:
        click.echo("no drive crawled yet: run `docintel crawl` and `docintel worker`")
    store.close()


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
