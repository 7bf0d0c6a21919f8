"""The worker entry: warm models once, put back jobs of crashed workers, then let rq fork a horse per job.

Models (spaCy, Presidio, the classifier) load before the fork, so every work horse inherits them
copy-on-write instead of loading them per job (rq.md: 45 ms vs 256 ms per job for a 400 MB object).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

from redis import Redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job
from rq.registry import StartedJobRegistry

from workers import invoices, jobs
from workers.queues import CALLBACKS, INVOICES, MAINTENANCE_INTERVAL_SECONDS, get_queue

logger = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def requeue_abandoned(connection: Redis, queue_names: Sequence[str]) -> int:
    """Put jobs whose worker died (``kill -9``, OOM, power loss on this host) straight back on their queue.

    rq notices an abandoned job only when its heartbeat lease lapses (a minute or more), then retries it
    after the queue's back-off interval. A crash is not a transient error worth backing off from: a job
    whose worker is unregistered, or registered on this host with a dead pid, is re-queued at once.
    """
    host = socket.gethostname()
    requeued = 0
    for name in queue_names:
        queue = get_queue(name, connection)
        registry = StartedJobRegistry(queue=queue)
        for entry in connection.zrange(registry.key, 0, -1):
            composite = entry.decode() if isinstance(entry, bytes) else str(entry)
            job_id, _, execution_id = composite.partition(":")
            try:
                worker_name = Execution.fetch(execution_id, job_id, connection).worker_name
            except Exception:  # an execution record gone with its worker: orphaned too
                worker_name = ""
            key = Worker.redis_worker_namespace_prefix + worker_name
            worker = Worker.find_by_key(key, connection) if worker_name else None
            if worker is not None and not (worker.hostname == host and worker.pid and not _alive(worker.pid)):
                continue
            connection.zrem(registry.key, composite)
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue
            queue.enqueue_job(job, at_front=True)
            if name == INVOICES:
                invoices.requeued(job_id)  # the catalogue row says running: back to queued, or it is skipped
            requeued += 1
            logger.warning("job %s of a dead worker re-queued", job_id)
    return requeued


def run_worker(
    queue_names: Sequence[str],
    connection: Redis,
    *,
    burst: bool = False,
    warm: bool = True,
    metrics_address: tuple[str, int] | None = None,
) -> bool:
    """Warm the models, recover abandoned jobs, then work the queues (in order of priority).

    ``metrics_address`` (host, port): also serve Prometheus metrics there, this worker's job counts among them.
    """
    if warm:
        if set(queue_names) - {INVOICES, CALLBACKS}:
            jobs.warm(connection)
        if INVOICES in queue_names:
            invoices.warm()
    requeue_abandoned(connection, queue_names)
    if INVOICES in queue_names:
        reconciled = invoices.reconcile_invoice_jobs(connection)
        if reconciled:
            logger.warning("%d invoice job(s) rq had failed or lost recorded as failed in the catalogue", reconciled)
    queues = [get_queue(name, connection) for name in queue_names]
    worker = Worker(
        queues,
        connection=connection,
        work_horse_killed_handler=invoices.invoice_horse_killed,
        maintenance_interval=MAINTENANCE_INTERVAL_SECONDS,
    )
    if metrics_address is not None:
        from docintel.catalogue.store import open_catalogue
        from docintel.settings import get_settings
        from workers.metrics import DocintelCollector, start_metrics_server

        url = get_settings().catalogue.url
        collector = DocintelCollector(lambda: open_catalogue(url), connection, worker_name=worker.name)
        start_metrics_server(collector, *metrics_address)
    return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
