"""API keys, one or more per client (an RPA flow, a finance system), stored hashed.

A key looks like ``dik_<id>_<secret>``. The catalogue keeps the id, the SHA-256 of the whole key and the
client's callback signing secret; the key itself is shown once, when it is created. The id part lets a
lookup find the row without scanning, and lets logs name a client without holding its key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

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


@dataclass(frozen=True)
class ApiClient:
    """An authenticated client: who it is, its rate limit and its callback signing secret."""

    key_id: str
    name: str
    rate_limit_per_minute: int | None
    signing_secret: str


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as listed to an operator: never the key, never the signing secret."""

    key_id: str
    name: str
    rate_limit_per_minute: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None

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

    def create(self, name: str, rate_limit_per_minute: int | None = None) -> NewApiKey:
        """Issue a key for a client; the returned key is not stored anywhere and cannot be shown again."""
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
        }
        with self._store.transaction("create API key", write=True) as connection:
            connection.execute(insert(t.api_keys).values(row))
        logger.info("API key %s created for client %s", key_id, name)
        return NewApiKey(ApiClient(key_id, name, rate_limit_per_minute, signing_secret), key)

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
        return ApiClient(row["id"], row["name"], row["rate_limit_per_minute"], row["signing_secret"])

    def client(self, key_id: str) -> ApiClient | None:
        """A client by key id (revoked ones too: their finished jobs still get their callbacks signed)."""
        with self._store.transaction("read API key") as connection:
            row = connection.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).mappings().one_or_none()
        if row is None:
            return None
        return ApiClient(row["id"], row["name"], row["rate_limit_per_minute"], row["signing_secret"])

    def list(self, include_revoked: bool = False) -> list[ApiKeyInfo]:
        """Keys, oldest first."""
        query = select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        if not include_revoked:
            query = query.where(t.api_keys.c.revoked_at.is_(None))
        with self._store.transaction("list API keys") as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ApiKeyInfo(row["id"], row["name"], row["rate_limit_per_minute"], row["created_at"], row["revoked_at"])
            for row in rows
        ]

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
