"""API keys, one or more per client (an RPA flow, a finance system), stored hashed.

A key looks like ``dik_<id>_<secret>``. The catalogue keeps the id, the SHA-256 of the whole key and the
client's callback signing secret; the key itself is shown once, when it is created. The id part lets a
lookup find the row without scanning, and lets logs name a client without holding its key.

Each key carries scopes (what it may call: :class:`Scope`, ``invoices`` unless told otherwise) and the
SharePoint drives it may name in an invoice reference (none unless allow-listed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, or_, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import ConfigError

logger = logging.getLogger(__name__)

KEY_PREFIX = "dik"
# 6 random bytes name a key (12 hex characters): unique enough across a council's few dozen clients,
# and the unique index catches the rare clash.
_ID_BYTES = 6
# 32 random bytes of secret: 256 bits, beyond brute force even with the hash in hand.
_SECRET_BYTES = 32
_SIGNING_SECRET_BYTES = 32
_MAX_NAME = 128
# Graph drive ids are opaque but short, and never hold spaces, slashes or query characters.
_MAX_DRIVE_ID = 256
_DRIVE_ID_FORBIDDEN = frozenset("/?#%\\ \t\r\n,")


class Scope(StrEnum):
    """What a key may call: each is granted explicitly at ``docintel api-key create --scope``."""

    INVOICES = "invoices"  # POST /v1/invoices, its jobs and corrections
    SUBJECT_ACCESS = "subject-access"  # GET /v1/subject-access: where a person's data is, across the catalogue
    CONTRACTS = "contracts"  # the contract register's endpoints, when they come


DEFAULT_SCOPES = frozenset({Scope.INVOICES})


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Scopes from names; ConfigError naming the known ones for an unknown name."""
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value.strip().lower()))
        except ValueError:
            raise ConfigError(f"unknown API key scope {value!r}; known: {', '.join(Scope)}") from None
    return frozenset(scopes)


def check_drive_ids(values: Iterable[str]) -> frozenset[str]:
    """Drive ids as given, after a shape check (ConfigError for one that cannot be a Graph id)."""
    drives = set()
    for value in values:
        drive = value.strip()
        if not drive or len(drive) > _MAX_DRIVE_ID or _DRIVE_ID_FORBIDDEN.intersection(drive):
            raise ConfigError(f"{drive!r} is not a Graph drive id (b!... as Graph returns it)")
        drives.add(drive)
    return frozenset(drives)


def _scopes_from_row(text: str | None) -> frozenset[Scope]:
    # Stored space-separated; a name this version does not know (a newer docintel's) grants nothing.
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in (text or "").split() if name in known)


@dataclass(frozen=True)
class ApiClient:
    """An authenticated client: who it is, its rate limit and its callback signing secret."""

    key_id: str
    name: str
    rate_limit_per_minute: int | None
    signing_secret: str
    scopes: frozenset[Scope] = DEFAULT_SCOPES
    drives: frozenset[str] = field(default_factory=frozenset)

    def may(self, scope: Scope) -> bool:
        """Whether the key was granted this scope."""
        return scope in self.scopes


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as listed to an operator: never the key, never the signing secret."""

    key_id: str
    name: str
    rate_limit_per_minute: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    scopes: frozenset[Scope] = DEFAULT_SCOPES
    drives: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        """True while the key has not been revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: the only time the key itself exists outside the client."""

    client: ApiClient
    key: str


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _client(row: Any) -> ApiClient:
    return ApiClient(
        row["id"],
        row["name"],
        row["rate_limit_per_minute"],
        row["signing_secret"],
        _scopes_from_row(row["scopes"]),
        frozenset(row["drives"] or ()),
    )


def key_prefix(presented: str) -> str:
    """The part of a presented key that may be logged and throttled on: its id, never the secret."""
    key_id = _key_id(presented.strip())
    return key_id if key_id is not None and len(key_id) <= 2 * _ID_BYTES else "(malformed)"


def _key_id(key: str) -> str | None:
    prefix, sep, rest = key.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not sep or not sep2 or not key_id or not secret:
        return None
    return key_id


class ApiKeyStore:
    """Creates, checks, lists and revokes API keys in the catalogue."""

    def __init__(self, store: CatalogueStore) -> None:
        # The store's transaction helper gives SQLite write locks up front and translates errors safely.
        self._store = store

    def create(
        self,
        name: str,
        rate_limit_per_minute: int | None = None,
        *,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        drives: Iterable[str] = (),
    ) -> NewApiKey:
        """Issue a key for a client; the returned key is not stored anywhere and cannot be shown again."""
        granted = parse_scopes(scopes)
        if not granted:
            raise ConfigError(f"an API key needs at least one scope; known: {', '.join(Scope)}")
        allowed_drives = check_drive_ids(drives)
        name = name.strip()
        if not name or len(name) > _MAX_NAME:
            raise ConfigError(f"an API key name must be 1 to {_MAX_NAME} characters")
        if rate_limit_per_minute is not None and rate_limit_per_minute <= 0:
            raise ConfigError("an API key's rate limit must be a positive number of requests per minute")
        key_id = secrets.token_hex(_ID_BYTES)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        signing_secret = secrets.token_urlsafe(_SIGNING_SECRET_BYTES)
        row = {
            "id": key_id,
            "name": name,
            "key_hash": hash_key(key),
            "signing_secret": signing_secret,
            "rate_limit_per_minute": rate_limit_per_minute,
            "created_at": dt.datetime.now(dt.UTC),
            "scopes": " ".join(sorted(granted)),
            "drives": sorted(allowed_drives),
        }
        with self._store.transaction("create API key", write=True) as connection:
            connection.execute(insert(t.api_keys).values(row))
        logger.info("API key %s created for client %s with scopes %s", key_id, name, row["scopes"])
        client = ApiClient(key_id, name, rate_limit_per_minute, signing_secret, granted, allowed_drives)
        return NewApiKey(client, key)

    def authenticate(self, presented: str | None) -> ApiClient | None:
        """The client a presented key belongs to, or None when it is unknown, malformed or revoked."""
        if not presented:
            return None
        key_id = _key_id(presented.strip())
        if key_id is None:
            return None
        query = select(t.api_keys).where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
        with self._store.transaction("check API key") as connection:
            row = connection.execute(query).mappings().one_or_none()
        if row is None or not hmac.compare_digest(row["key_hash"], hash_key(presented.strip())):
            return None
        return _client(row)

    def client(self, key_id: str) -> ApiClient | None:
        """A client by key id (revoked ones too: their finished jobs still get their callbacks signed)."""
        with self._store.transaction("read API key") as connection:
            row = connection.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).mappings().one_or_none()
        if row is None:
            return None
        return _client(row)

    def list(self, include_revoked: bool = False) -> list[ApiKeyInfo]:
        """Keys, oldest first."""
        query = select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        if not include_revoked:
            query = query.where(t.api_keys.c.revoked_at.is_(None))
        with self._store.transaction("list API keys") as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ApiKeyInfo(
                row["id"],
                row["name"],
                row["rate_limit_per_minute"],
                row["created_at"],
                row["revoked_at"],
                _scopes_from_row(row["scopes"]),
                frozenset(row["drives"] or ()),
            )
            for row in rows
        ]

    def set_drives(self, key_id: str, drives: Iterable[str]) -> None:
        """Replace the SharePoint drives an active key may name (an empty list: none)."""
        allowed = sorted(check_drive_ids(drives))
        query = (
            update(t.api_keys)
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(drives=allowed)
        )
        with self._store.transaction("set API key drives", write=True) as connection:
            if connection.execute(query).rowcount == 0:
                raise ConfigError(f"no active API key with id {key_id!r}")
        logger.info("API key %s may now name %d SharePoint drive(s)", key_id, len(allowed))

    def revoke(self, id_or_name: str) -> int:
        """Revoke the key with this id, or every active key of the client with this name; returns how many."""
        query = (
            update(t.api_keys)
            .where(or_(t.api_keys.c.id == id_or_name, t.api_keys.c.name == id_or_name))
            .where(t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        with self._store.transaction("revoke API key", write=True) as connection:
            count = connection.execute(query).rowcount
        logger.info("revoked %d API key(s)", count)
        return int(count)
