"""Drive delta: the initial enumeration and incremental rounds replayed from a drive's change journal.

Token payloads (signed, opaque to clients):

- a *deltaLink* token ``{"k": "d", "d": drive, "ep": epoch, "s": change id, "t": issued}`` asks for the
  changes after change id ``s``;
- a *nextLink* token ``{"k": "n", ..., "s": since (-1 = full enumeration), "z": snapshot, "c": cursor}``
  continues a round. A round covers changes up to the snapshot taken on its first page; anything later
  waits for the next round, so nothing is lost between a deltaLink and the next call.

As on SharePoint, a page may be empty and still carry a nextLink, an item may appear more than once
(``repeat_rate``), parents of changed items are included, deleted items come back as tombstones, and a
token from an earlier epoch (``invalidate``) or older than ``delta_token_ttl_seconds`` gets 410.

Mail delta (:class:`MailDeltaFeed`) is per folder and simpler, as Exchange's is: a ``$deltatoken``
``{"k": "md", "u": user, "f": folder, "ep": epoch, "s": change id, "t": issued}`` and a ``$skiptoken``
``{"k": "mn", ..., "s", "z", "c", "m": page size}`` with the same snapshot rule; each message appears once
per round in its latest state, deleted ones as ``@removed``; a forged token gets 400, an invalidated or
expired one 410 ``SyncStateNotFound``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any

from docintel.graph_emulator.mail import Mailbox, MailFolder, MailStore, Message
from docintel.graph_emulator.responses import RESYNC_MESSAGE, GraphError
from docintel.graph_emulator.spec import EmulatorSpec
from docintel.graph_emulator.tenant import Drive, Tenant
from docintel.graph_emulator.tokens import TokenCodec
from docintel.graph_emulator.views import (
    Links,
    item_json,
    message_json,
    removed_message_json,
    select,
    tombstone_json,
)

# A page stops after scanning this many candidates per requested item, even if it is short (possibly
# empty): SharePoint does the same rather than hold a request open.
_SCAN_FACTOR = 20


@dataclass
class DeltaPage:
    """One page of a delta round."""

    items: list[dict[str, Any]]
    next_token: str | None = None
    delta_token: str | None = None


def _parse_timestamp(token: str) -> float | None:
    try:
        when = dt.datetime.fromisoformat(token.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


class DeltaFeed:
    """Serves delta pages for the drives of one tenant."""

    def __init__(self, tenant: Tenant, codec: TokenCodec, settings: EmulatorSpec) -> None:
        self.tenant = tenant
        self.codec = codec
        self.settings = settings

    def resync_error(self, links: Links, drive: Drive) -> GraphError:
        """410 resyncRequired with a Location header holding a fresh enumeration URL."""
        location = f"{links.graph_base}/drives/{drive.id}/root/delta"
        return GraphError(410, "resyncRequired", RESYNC_MESSAGE, headers={"Location": location})

    def _delta_token(self, drive: Drive, since: int, wanted: list[str] | None) -> str:
        payload: dict[str, Any] = {
            "k": "d",
            "d": drive.index,
            "ep": drive.epoch,
            "s": since,
            "t": round(time.time(), 3),
        }
        if wanted is not None:
            payload["q"] = wanted
        return self.codec.encode(payload)

    def open(self, drive: Drive, token: str | None, links: Links, wanted: list[str] | None) -> dict[str, Any]:
        """The cursor for a request: a new round from ``token`` (None = full enumeration) or a page in progress."""
        now = time.time()
        fresh = {"k": "n", "d": drive.index, "ep": drive.epoch, "z": self.tenant.change_seq, "c": None, "t": now}
        if wanted is not None:
            fresh["q"] = wanted
        if token is None:
            return {**fresh, "s": -1}
        if token == "latest":  # noqa: S105 - the special token value, not a secret
            return {**fresh, "k": "latest"}
        when = _parse_timestamp(token) if token[:1].isdigit() else None
        if when is not None:
            if when < self.tenant.created_at:
                return {**fresh, "s": -1}
            return {**fresh, "s": bisect.bisect_left(self.tenant.change_times, when)}
        payload = self.codec.decode(token)
        if payload is None or payload.get("d") != drive.index or payload.get("k") not in ("d", "n"):
            raise GraphError(400, "invalidRequest", "Invalid or malformed delta token.")
        ttl = self.settings.delta_token_ttl_seconds
        if payload["ep"] != drive.epoch or (ttl is not None and now - payload["t"] > ttl):
            raise self.resync_error(links, drive)
        if payload["k"] == "d":
            return {**fresh, "s": payload["s"], "q": payload.get("q", wanted)}
        return payload

    def page(self, drive: Drive, cursor: dict[str, Any], links: Links, page_size: int, ttl: float) -> DeltaPage:
        """One page from ``cursor``: items plus either a nextLink token or, on the last page, a deltaLink token."""
        wanted = cursor.get("q")
        if cursor["k"] == "latest":
            return DeltaPage([], delta_token=self._delta_token(drive, self.tenant.change_seq, wanted))
        since, snapshot = cursor["s"], cursor["z"]
        position = cursor["c"]
        if position is None:
            position = 0 if since < 0 else bisect.bisect_right(drive.journal_seq, since)
        rng = random.Random(f"{self.tenant.seed}:{drive.index}:{since}:{position}")
        if not cursor.get("e") and self.settings.empty_page_rate and rng.random() < self.settings.empty_page_rate:
            return DeltaPage([], next_token=self.codec.encode({**cursor, "c": position, "e": 1}))
        tenant = self.tenant
        emitted: list[int] = []
        repeat = cursor.get("r")
        if repeat is not None and self.settings.repeat_rate and rng.random() < self.settings.repeat_rate:
            emitted.append(repeat)
        budget = page_size * _SCAN_FACTOR
        if since < 0:
            order = drive.order
            end = len(order)
            while position < end and len(emitted) < page_size and budget:
                index = order[position]
                position += 1
                budget -= 1
                if tenant.alive[index]:
                    emitted.append(index)
        else:
            journal_seq, journal_item = drive.journal_seq, drive.journal_item
            end = bisect.bisect_right(journal_seq, snapshot)
            while position < end and len(emitted) < page_size and budget:
                index, seq = journal_item[position], journal_seq[position]
                position += 1
                budget -= 1
                # Only an item's latest change in this round is sent; later changes wait for the next round.
                if tenant.last_change[index] == seq:
                    emitted.append(index)
        items = [self._render(index, links, ttl, wanted) for index in emitted]
        if position >= end:
            return DeltaPage(items, delta_token=self._delta_token(drive, snapshot, wanted))
        following = {**cursor, "c": position, "e": 0, "r": emitted[-1] if emitted else None}
        return DeltaPage(items, next_token=self.codec.encode(following))

    def _render(self, index: int, links: Links, ttl: float, wanted: list[str] | None) -> dict[str, Any]:
        tenant = self.tenant
        if not tenant.alive[index]:
            return tombstone_json(tenant, index)
        item = item_json(tenant, index, links, codec=self.codec, ttl_seconds=ttl, in_delta=True)
        return select(item, set(wanted) if wanted is not None else None)


class MailDeltaFeed:
    """Serves message delta pages for the folders of a tenant's mailboxes."""

    def __init__(self, mail: MailStore, codec: TokenCodec, settings: EmulatorSpec) -> None:
        self.mail = mail
        self.codec = codec
        self.settings = settings

    def open(
        self, mailbox: Mailbox, folder: MailFolder, skip_token: str | None, delta_token: str | None, page_size: int
    ) -> dict[str, Any]:
        """The cursor for a request: a full enumeration, a new round from a deltaLink, or a page in progress."""
        now = time.time()
        fresh = {"k": "mn", "u": mailbox.user, "f": folder.index, "ep": mailbox.epoch, "z": self.mail.change_seq}
        fresh.update(c=None, m=page_size, t=now)
        token = skip_token or delta_token
        if token is None:
            return {**fresh, "s": -1}
        payload = self.codec.decode(token)
        kind = "mn" if skip_token else "md"
        if payload is None or payload.get("k") != kind or (payload["u"], payload["f"]) != (mailbox.user, folder.index):
            raise GraphError(400, "ErrorInvalidUrlQuery", "The sync state token is invalid or malformed.")
        ttl = self.settings.delta_token_ttl_seconds
        if payload["ep"] != mailbox.epoch or (ttl is not None and now - payload["t"] > ttl):
            raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found. Please resync.")
        if kind == "md":
            return {**fresh, "s": payload["s"]}
        return payload

    def page(self, mailbox: Mailbox, folder: MailFolder, cursor: dict[str, Any]) -> DeltaPage:
        """One page from ``cursor``: messages plus either a nextLink token or, last, a deltaLink token."""
        mail = self.mail
        since, snapshot, position, page_size = cursor["s"], cursor["z"], cursor["c"], cursor["m"]
        emitted: list[Message] = []
        if since < 0:
            numbers = folder.messages
            end = len(numbers)
            position = position or 0
            while position < end and len(emitted) < page_size:
                message = mail.messages[numbers[position]]
                position += 1
                if message.alive and message.added <= snapshot:
                    emitted.append(message)
        else:
            journal = folder.journal
            if position is None:
                position = mail.journal_position(folder, since)
            end = mail.journal_position(folder, snapshot)
            while position < end and len(emitted) < page_size:
                seq, number = journal[position]
                position += 1
                message = mail.messages[number]
                # Only a message's latest change in this round is sent; later changes wait for the next round.
                if message.last_change == seq:
                    emitted.append(message)
        items = [message_json(mail, m, in_delta=True) if m.alive else removed_message_json(m) for m in emitted]
        if position >= end:
            payload = {"k": "md", "u": mailbox.user, "f": folder.index, "ep": mailbox.epoch, "s": snapshot}
            return DeltaPage(items, delta_token=self.codec.encode({**payload, "t": round(time.time(), 3)}))
        return DeltaPage(items, next_token=self.codec.encode({**cursor, "c": position}))
