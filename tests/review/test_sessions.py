"""Sessions, sign-in throttling, proxies and account names (issue 13, the Low list), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_fixtures import ADMIN, PASSWORD, REVIEWER, add_accounts, csrf_from, make_app, populate, sign_in
from sqlalchemy import text

from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.errors import ConfigError
from docintel.review.auth import FailedSignIns, ReviewSettings, Role
from docintel.review.store import ReviewStore
from docintel.review.web import ReviewRuntime


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogueStore]:
    """A populated catalogue on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    with open_catalogue(url) as opened:
        populate(opened)
        yield opened


@pytest.fixture
def app_runtime(store: CatalogueStore) -> tuple[TestClient, ReviewRuntime]:
    app, runtime = make_app(store)
    add_accounts(runtime.store)
    return TestClient(app), runtime


def _copy(client: TestClient) -> TestClient:
    """Another browser holding the same session cookie (a copied or stolen cookie)."""
    other = TestClient(client.app)
    other.cookies.update(client.cookies)
    return other


def test_sign_out_ends_the_session_and_any_copy_of_its_cookie(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, _ = app_runtime
    csrf = sign_in(client, REVIEWER.name)
    copied = _copy(client)
    assert copied.get("/review/").status_code == 200
    out = client.post("/review/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/review/").status_code == 401
    assert copied.get("/review/").status_code == 401
    sign_in(client, REVIEWER.name)  # signing in again works
    assert client.get("/review/").status_code == 200


def test_set_password_ends_existing_sessions(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    sign_in(client, REVIEWER.name)
    assert client.get("/review/").status_code == 200
    runtime.store.set_password(REVIEWER.name, "a brand new password", by="admin")
    assert client.get("/review/").status_code == 401
    sign_in(client, REVIEWER.name, "a brand new password")
    assert client.get("/review/").status_code == 200


def test_account_names_are_not_case_sensitive(app_runtime: tuple[TestClient, ReviewRuntime]) -> None:
    client, runtime = app_runtime
    sign_in(client, REVIEWER.name.upper())
    page = client.get("/review/")
    assert page.status_code == 200 and REVIEWER.name in page.text
    with pytest.raises(ConfigError, match="already exists"):
        runtime.store.create_user(ADMIN.name.title(), PASSWORD, Role.ADMIN, by="test")
    runtime.store.set_role(REVIEWER.name.upper(), Role.READONLY, by="test")
    assert runtime.store.account_role(REVIEWER.name) == (Role.READONLY, False)


def test_names_made_before_keep_working_whatever_their_case(store: CatalogueStore) -> None:
    review = ReviewStore(store)
    review.create_user("Mixed.Case", PASSWORD, Role.REVIEWER, by="test")
    with store.engine.begin() as connection:  # as an older docintel stored it
        assert connection.execute(text("SELECT name FROM users WHERE name = 'Mixed.Case'")).scalar() == "Mixed.Case"
    for typed in ("Mixed.Case", "mixed.case", "MIXED.CASE"):
        reviewer = review.authenticate(typed, PASSWORD)
        assert reviewer is not None and reviewer.name == "Mixed.Case"


def test_sign_in_is_throttled_per_account_and_a_right_password_does_not_get_through(
    store: CatalogueStore,
) -> None:
    app, runtime = make_app(store, ReviewSettings(max_failed_sign_ins=3))
    add_accounts(runtime.store)
    client = TestClient(app)

    def attempt(name: str, password: str) -> int:
        page = client.get("/review/login")
        data = {"name": name, "password": password, "csrf_token": csrf_from(page.text), "next": "/review/"}
        return client.post("/review/login", data=data, follow_redirects=False).status_code

    assert [attempt(REVIEWER.name, f"guess number {n}") for n in range(3)] == [401, 401, 401]
    assert attempt(REVIEWER.name.upper(), PASSWORD) == 429  # the right password, too late: not even tried
    response = client.post(
        "/review/login",
        data={"name": REVIEWER.name, "password": "x" * 12, "csrf_token": csrf_from(client.get("/review/login").text)},
    )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_failed_sign_ins_expire_after_the_window() -> None:
    now = [1000.0]
    throttle = FailedSignIns(2, 60, clock=lambda: now[0])
    throttle.record("user:a", "ip:1")
    assert throttle.wait("user:a") is None
    throttle.record("user:a")
    assert throttle.wait("user:a", "ip:2") == pytest.approx(60)
    assert throttle.wait("user:b", "ip:1") is None  # one failure on ip:1 only
    now[0] += 61
    assert throttle.wait("user:a") is None


@pytest.mark.parametrize("page", ["99999999999999999999999", "100000001"])
@pytest.mark.parametrize("path", ["/review/queue", "/review/audit"])
def test_page_numbers_past_any_page_are_400_not_500(
    app_runtime: tuple[TestClient, ReviewRuntime], path: str, page: str
) -> None:
    client, _ = app_runtime
    sign_in(client, REVIEWER.name)
    assert client.get(path, params={"page": page}).status_code == 400
    assert client.get(path, params={"page": "2"}).status_code == 200


def test_trusted_proxies_accept_cidr_networks(store: CatalogueStore) -> None:
    settings = ReviewSettings(trusted_header_enabled=True, trusted_proxies=["10.20.0.0/16", "::1"])
    assert settings.is_trusted_proxy("10.20.3.4") and settings.is_trusted_proxy("::1")
    assert not settings.is_trusted_proxy("10.21.0.1") and not settings.is_trusted_proxy("not-an-address")
    # The test client's peer is "testclient" (not an address): the header is not believed.
    app, runtime = make_app(store, settings)
    add_accounts(runtime.store)
    assert TestClient(app).get("/review/", headers={"X-Remote-User": ADMIN.name}).status_code == 401
    # A proxy inside the listed network names the reviewer, whatever case the header uses.
    proxied = TestClient(app, client=("10.20.3.4", 50000), headers={"X-Remote-User": ADMIN.name.upper()})
    page = proxied.get("/review/")
    assert page.status_code == 200 and ADMIN.name in page.text
    outside = TestClient(app, client=("10.21.0.1", 50000), headers={"X-Remote-User": ADMIN.name})
    assert outside.get("/review/").status_code == 401
    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        ReviewSettings(trusted_proxies=["proxy.council.local"])
