"""rq jobs that crawl network shares, sharded by folder (``docintel.share_crawl`` does the work).

- :func:`crawl_share_root` (queue ``crawl``): starts a round on one root of a ``kind: share`` source and
  enqueues its root shard; a round still running is left alone, one whose shards are all gone is closed first.
- :func:`crawl_share_shard` (``crawl``): lists up to ``shard_folders`` folders, enqueues the rest of its subtree
  as more shard jobs, and, when it is the last shard of the round, closes the round: deletions, then every
  changed file enqueued on ``extract``/``ocr`` as Graph items are (``process_document`` reads it through the
  path map).

A round's pending shards are a Redis set (``docintel:share:<drive>:<round>:pending``) and its counters a hash;
both expire a week after the round's last write. A shard's children are added before the shard is removed, so
the set empties only when the whole share has been listed; a shard killed mid-way is re-run by rq (its job id
is derived from the round and the folder, so enqueueing it twice queues it once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from redis import Redis

from docintel.catalogue.crawl_store import STATUS_RUNNING
from docintel.catalogue.share_store import ShareStore
from docintel.crawl import PendingDocument
from docintel.pipeline import masked_location
from docintel.share_crawl import (
    Shard,
    ShareContext,
    begin_share_round,
    crawl_shard,
    drive_for,
    finish_share_round,
)
from docintel.sources.share import ShareSource
from workers.jobs import _digest, context, enqueue_documents
from workers.queues import CRAWL, KEY_PREFIX, get_queue, job_options

logger = logging.getLogger(__name__)

# How long a round's ledger keys outlive its last write.
LEDGER_TTL_SECONDS = 7 * 86_400
# Remove the shard and count what is left in one step, so exactly the last shard sees zero.
_DONE = """
redis.call('SREM', KEYS[1], ARGV[1])
return redis.call('SCARD', KEYS[1])
"""


def shard_job_id(shard: Shard) -> str:
    """The job id of one shard of one round."""
    return f"share-{_digest(shard.drive_id, str(shard.round), shard.key)}"


@dataclass
class RedisRoundLedger:
    """A round's pending shards and counters in Redis, shared by every worker; shards go on the crawl queue."""

    connection: Redis
    drive_id: str
    round: int

    @property
    def _base(self) -> str:
        return f"{KEY_PREFIX}:share:{_digest(self.drive_id)}:{self.round}"

    def submit(self, shards: Sequence[Shard]) -> None:
        """Add the shards to the pending set, then enqueue a job for each (ids make re-submission harmless)."""
        if not shards:
            return
        pending = f"{self._base}:pending"
        with self.connection.pipeline() as pipe:
            pipe.sadd(pending, *[shard.key for shard in shards])
            pipe.expire(pending, LEDGER_TTL_SECONDS)
            pipe.execute()
        queue = get_queue(CRAWL, self.connection)
        options = job_options(CRAWL)
        options["timeout"] = options.pop("job_timeout")
        queue.enqueue_many(
            [
                queue.prepare_data(crawl_share_shard, (shard,), job_id=shard_job_id(shard), **options)  # type: ignore[arg-type]
                for shard in shards
            ]
        )

    def done(self, shard: Shard) -> int:
        """Remove a finished shard; returns how many are still pending."""
        return int(self.connection.eval(_DONE, 1, f"{self._base}:pending", shard.key))

    def pending(self) -> int:
        """Shards not finished yet."""
        return int(self.connection.scard(f"{self._base}:pending"))

    def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add to the round's counters."""
        key = f"{self._base}:counts"
        with self.connection.pipeline() as pipe:
            for name, value in counts.items():
                if value:
                    pipe.hincrby(key, name, value)
            pipe.expire(key, LEDGER_TTL_SECONDS)
            pipe.execute()

    def counts(self) -> dict[str, int]:
        """The round's counters."""
        raw = self.connection.hgetall(f"{self._base}:counts")
        return {k.decode() if isinstance(k, bytes) else str(k): int(v) for k, v in raw.items()}


def _context(source_name: str) -> tuple[ShareContext, ShareSource]:
    ctx = context()
    source = ctx.share(source_name)
    share = ShareContext(source, ShareStore(ctx.crawl_store), ctx.settings.limits.max_file_bytes)
    return share, source


def _finish(share: ShareContext, shard: Shard, ledger: RedisRoundLedger) -> None:
    ctx = context()

    def enqueue(pending: Sequence[PendingDocument]) -> None:
        enqueue_documents(ctx.connection, pending)

    drive = drive_for(share.source, shard.root)
    finish_share_round(
        share, drive, shard.round, ledger.counts(), enqueue, relabel=partial(masked_location, ctx.engines)
    )


def crawl_share_root(source_name: str, root: str) -> str:
    """Start a round on one root of a share source (unless one is still running); returns the drive id."""
    share, source = _context(source_name)
    drive = drive_for(source, root)
    checkpoint = share.crawl_store.checkpoint(drive.drive_id)
    if checkpoint is not None and checkpoint.status == STATUS_RUNNING:
        previous = RedisRoundLedger(context().connection, drive.drive_id, checkpoint.round)
        if previous.pending():
            logger.info("share %s: round %d still running", drive.drive_id, checkpoint.round)
            return drive.drive_id
        # Its shards are all done (or were lost with Redis): close it before starting the next one.
        anchor = Shard(source_name, root, drive.drive_id, checkpoint.round, "")
        _finish(share, anchor, previous)
    checkpoint, root_shard = begin_share_round(share, root)
    RedisRoundLedger(context().connection, drive.drive_id, checkpoint.round).submit([root_shard])
    return drive.drive_id


def crawl_share_shard(shard: Shard) -> str:
    """List one shard's folders; the last shard of the round closes it. Returns the shard's key."""
    share, _ = _context(shard.source)
    ledger = RedisRoundLedger(context().connection, shard.drive_id, shard.round)
    crawl_shard(share, shard, ledger)
    if ledger.done(shard) == 0:
        _finish(share, shard, ledger)
    return shard.key


def enqueue_share_roots(connection: Redis, source: ShareSource) -> list[str]:
    """Enqueue a round on every root of a share source; returns the drive ids."""
    queue = get_queue(CRAWL, connection)
    drives = []
    for root in source.config.roots:
        drive = drive_for(source, root)
        queue.enqueue(crawl_share_root, source.name, root, **job_options(CRAWL))
        drives.append(drive.drive_id)
    return drives
