"""Prometheus metrics for operators, served on their own port by `docintel serve` and `docintel worker`.

Every figure is read at scrape time from the state the processes share, the catalogue and Redis, so any process
reports the whole deployment consistently (documents processed and failed by reason, stage durations, queue depths,
Graph throttling), and a worker adds its own job counts. Nothing here holds a document's name, text or personal data:
only counts, durations, queue names, stages and error classes.

Catalogue counts are cached for ``CATALOGUE_TTL_SECONDS``: counting ten million rows on every scrape of every process
would load the database more than the work it measures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from docintel.catalogue.store import CatalogueStore, OperationalCounts
from docintel.errors import DocintelError
from workers.queues import ALL_QUEUES
from workers.throttle import THROTTLED_COUNT_KEY, THROTTLED_SECONDS_KEY, pause_keys

log = logging.getLogger(__name__)

CATALOGUE_TTL_SECONDS = 30.0  # scrapes closer together than this reuse the last catalogue counts


class DocintelCollector(Collector):
    """Collects docintel's metrics from the catalogue and Redis when Prometheus scrapes."""

    def __init__(
        self,
        open_store: Callable[[], CatalogueStore],
        connection: Redis | None,
        worker_name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_store = open_store
        self._connection = connection
        self._worker_name = worker_name
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, OperationalCounts] | None = None

    def collect(self) -> Iterator[Metric]:
        """The metric families, from the catalogue (cached briefly) and from Redis."""
        yield from self._catalogue_metrics()
        if self._connection is not None:
            try:
                yield from self._queue_metrics(self._connection)
            except RedisError as exc:
                log.warning("metrics: Redis unavailable: %s", type(exc).__name__)
                yield _gauge("docintel_redis_up", "1 when Redis answered this scrape.", 0)
            else:
                yield _gauge("docintel_redis_up", "1 when Redis answered this scrape.", 1)

    def _counts(self) -> OperationalCounts | None:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] >= CATALOGUE_TTL_SECONDS:
                try:
                    with self._open_store() as store:
                        self._cached = (now, store.operational_counts())
                except DocintelError as exc:
                    log.warning("metrics: catalogue unavailable: %s", type(exc).__name__)
                    return None
            return self._cached[1]

    def _catalogue_metrics(self) -> Iterator[Metric]:
        counts = self._counts()
        yield _gauge("docintel_catalogue_up", "1 when the catalogue answered (maybe cached).", counts is not None)
        if counts is None:
            return
        documents = GaugeMetricFamily("docintel_documents", "Catalogued documents by status.", labels=["status"])
        for status, number in sorted(counts.documents_by_status.items()):
            documents.add_metric([status], number)
        yield documents
        failed = GaugeMetricFamily(
            "docintel_documents_failed", "Failed documents by error class.", labels=["error_type"]
        )
        for error_type, number in sorted(counts.failed_by_error.items()):
            failed.add_metric([error_type], number)
        yield failed
        stages = SummaryMetricFamily(
            "docintel_stage_seconds", "Time spent in each pipeline stage, over all stage runs.", labels=["stage"]
        )
        for stage, (runs, seconds) in sorted(counts.stage_seconds.items()):
            stages.add_metric([stage], count_value=runs, sum_value=seconds)
        yield stages

    def _queue_metrics(self, connection: Redis) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("docintel_queue_jobs", "Jobs per rq queue and state.", labels=["queue", "state"])
        for name in ALL_QUEUES:
            queue = Queue(name, connection=connection)
            jobs.add_metric([name, "queued"], queue.count)
            jobs.add_metric([name, "started"], StartedJobRegistry(queue=queue).count)
            jobs.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
            jobs.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
        yield jobs
        yield _gauge("docintel_workers", "rq workers registered in Redis.", Worker.count(connection=connection))
        throttled = int(connection.get(THROTTLED_COUNT_KEY) or 0)
        asked = float(connection.get(THROTTLED_SECONDS_KEY) or 0.0)
        yield _counter("docintel_graph_throttled", "Graph throttling answers that paused the tenant.", throttled)
        yield _counter("docintel_graph_throttle_wait_seconds", "Pause asked for by Graph's Retry-After, summed.", asked)
        pause = GaugeMetricFamily(
            "docintel_graph_pause_seconds", "Seconds until Graph calls resume, per tenant.", labels=["tenant"]
        )
        now = time.time()
        for tenant, key in pause_keys(connection):
            until = float(connection.get(key) or 0.0)
            pause.add_metric([tenant], max(0.0, until - now))
        yield pause
        if self._worker_name:
            yield from self._worker_metrics(connection, self._worker_name)

    @staticmethod
    def _worker_metrics(connection: Redis, name: str) -> Iterator[Metric]:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
        if worker is None:
            return
        jobs = CounterMetricFamily("docintel_worker_jobs", "Jobs this worker finished, by outcome.", labels=["outcome"])
        jobs.add_metric(["succeeded"], worker.successful_job_count)
        jobs.add_metric(["failed"], worker.failed_job_count)
        yield jobs
        yield _counter("docintel_worker_busy_seconds", "Time this worker spent on jobs.", worker.total_working_time)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))


def start_metrics_server(collector: DocintelCollector, host: str, port: int) -> Any:
    """Serve ``collector`` in the Prometheus text format on ``host:port`` from a daemon thread; returns the server."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server
