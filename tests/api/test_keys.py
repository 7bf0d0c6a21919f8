"""API keys: issued once, stored hashed, checked, listed and revoked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from docintel.api.keys import KEY_PREFIX, ApiKeyStore, hash_key
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.errors import ConfigError


def test_created_key_authenticates_and_is_stored_only_as_a_hash(keys: ApiKeyStore, store: CatalogueStore) -> None:
    issued = keys.create("accounts-payable-flow", rate_limit_per_minute=30)
    assert issued.key.startswith(f"{KEY_PREFIX}_{issued.client.key_id}_")
    client = keys.authenticate(issued.key)
    assert client is not None
    assert (client.name, client.rate_limit_per_minute) == ("accounts-payable-flow", 30)
    with store.engine.connect() as connection:
        row = connection.execute(select(t.api_keys)).mappings().one()
    assert row["key_hash"] == hash_key(issued.key)
    assert issued.key not in {str(value) for value in row.values()}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key + "x",
        lambda key: key[:-1],
        lambda key: key.replace(KEY_PREFIX, "abc", 1),
        lambda key: key.split("_", 2)[2],
        lambda key: "",
        lambda key: f"{KEY_PREFIX}_{'0' * 12}_{key.split('_', 2)[2]}",
    ],
    ids=["extra-char", "cut-short", "wrong-prefix", "secret-only", "empty", "other-id-same-secret"],
)
def test_wrong_keys_do_not_authenticate(keys: ApiKeyStore, mangle) -> None:
    issued = keys.create("flow")
    assert keys.authenticate(mangle(issued.key)) is None


def test_surrounding_whitespace_is_forgiven(keys: ApiKeyStore) -> None:
    issued = keys.create("flow")
    assert keys.authenticate(f"  {issued.key}\n") is not None


def test_revoke_by_id_and_by_name(keys: ApiKeyStore) -> None:
    first, second, other = keys.create("flow-a"), keys.create("flow-a"), keys.create("flow-b")
    assert keys.revoke(first.client.key_id) == 1
    assert keys.authenticate(first.key) is None
    assert keys.authenticate(second.key) is not None
    assert keys.revoke("flow-a") == 1
    assert keys.revoke("flow-a") == 0
    assert keys.authenticate(other.key) is not None
    assert [info.name for info in keys.list()] == ["flow-b"]
    listed = keys.list(include_revoked=True)
    assert [info.active for info in listed] == [False, False, True]
    # A revoked client's signing secret stays available for callbacks of jobs it already submitted.
    revoked = keys.client(first.client.key_id)
    assert revoked is not None
    assert revoked.signing_secret == first.client.signing_secret


@pytest.mark.parametrize(("name", "limit"), [("", None), ("   ", None), ("x" * 129, None), ("ok", 0), ("ok", -5)])
def test_bad_key_requests_are_refused(keys: ApiKeyStore, name: str, limit: int | None) -> None:
    with pytest.raises(ConfigError):
        keys.create(name, limit)


def test_every_key_and_secret_is_different(keys: ApiKeyStore) -> None:
    issued = [keys.create("flow") for _ in range(20)]
    assert len({item.key for item in issued}) == 20
    assert len({item.client.signing_secret for item in issued}) == 20
