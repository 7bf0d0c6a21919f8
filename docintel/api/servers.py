"""Heartbeats of the servers running in-process invoice queues on one catalogue.

Each ``docintel serve`` without Redis registers a row in ``api_servers`` under its queue's backend id and beats
every ``heartbeat_seconds``. A server whose last beat is older than ``heartbeat_timeout_seconds`` (or that has
no row: it shut down, or predates the table) has stopped; only its queued and running jobs are taken over by
another server, so a second server on the same catalogue (a rolling restart, review pages on another port)
leaves the first one's jobs alone. Clocks of servers sharing a PostgreSQL catalogue must agree to well within
the timeout (NTP does).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable

from sqlalchemy import delete, insert, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import DocintelError

logger = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ServerHeartbeat:
    """One server's row in ``api_servers``, kept fresh by a background thread while the server runs."""

    def __init__(
        self,
        store: CatalogueStore,
        server_id: str,
        interval_seconds: float,
        on_beat: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self.server_id = server_id
        self._interval = interval_seconds
        self._on_beat = on_beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self) -> None:
        """Record this server as alive now."""
        now = _now()
        row = {"id": self.server_id, "host": socket.gethostname()[:255], "pid": os.getpid(),
               "started_at": now, "last_beat_at": now}  # fmt: skip
        with self._store.transaction("register invoice server", write=True) as connection:
            connection.execute(insert(t.api_servers).values(row))

    def beat(self) -> None:
        """Refresh the last beat (re-registering if another server cleared the row while this one stalled)."""
        query = update(t.api_servers).where(t.api_servers.c.id == self.server_id).values(last_beat_at=_now())
        with self._store.transaction("server heartbeat", write=True) as connection:
            updated = connection.execute(query).rowcount
        if not updated:
            self.register()

    def start(self) -> None:
        """Beat in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="server-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.beat()
                if self._on_beat is not None:
                    self._on_beat()
            except DocintelError as error:
                # The catalogue is away for a moment: keep beating; missing a few beats is what the timeout allows.
                logger.warning("server heartbeat failed: %s", error.kind)

    def stop(self) -> None:
        """Stop beating and remove the row (call once no job is left: without a row, its jobs are up for grabs)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)
        with self._store.transaction("unregister invoice server", write=True) as connection:
            connection.execute(delete(t.api_servers).where(t.api_servers.c.id == self.server_id))


def live_servers(store: CatalogueStore, timeout_seconds: float) -> set[str]:
    """Ids of the servers that beat within the last ``timeout_seconds``."""
    cutoff = _now() - dt.timedelta(seconds=timeout_seconds)
    query = select(t.api_servers.c.id).where(t.api_servers.c.last_beat_at >= cutoff)
    with store.transaction("read live invoice servers") as connection:
        return set(connection.execute(query).scalars())


def forget_stopped_servers(store: CatalogueStore, timeout_seconds: float) -> int:
    """Delete rows of servers silent for ten timeouts (their jobs were taken over long ago)."""
    cutoff = _now() - dt.timedelta(seconds=10 * timeout_seconds)
    with store.transaction("forget stopped invoice servers", write=True) as connection:
        return int(connection.execute(delete(t.api_servers).where(t.api_servers.c.last_beat_at < cutoff)).rowcount)
