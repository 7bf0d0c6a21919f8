"""Graph source pieces without a tenant: config rules, Retry-After parsing, error translation, folder paths."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import httpx
import pytest
from kiota_abstractions.api_error import APIError

from docintel.crawl import folder_path
from docintel.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceThrottled,
    SourceUnavailable,
)
from docintel.sources.graph import GraphSourceConfig, load_sources_config
from docintel.sources.graph_client import (
    DeltaResyncRequired,
    graph_auth_from_env,
    retry_after_seconds,
    translate_graph_error,
    user_agent,
)

PROJECT_SOURCES = Path(__file__).resolve().parents[2] / "config" / "sources.yaml"


def test_the_shipped_sources_file_loads() -> None:
    config = load_sources_config(PROJECT_SOURCES)
    assert [s.kind for s in config.sources] == ["sharepoint", "onedrive"]
    assert config.source("onedrive").include_users == ["*"]
    with pytest.raises(ConfigError, match="unknown source 'mail'; known: sharepoint, onedrive"):
        config.source("mail")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [{name: a, kind: exchange}]", "sources.0.kind"),
        ("sources: [{name: a, kind: sharepoint, colour: red}]", "sources.0.colour"),
        ("graph: {organisation: x, secret: y}", "graph.secret"),
        ("sources: [{name: a, kind: onedrive}, {name: a, kind: sharepoint}]", "names must be unique"),
    ],
)
def test_bad_sources_files_fail_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_sources_config(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("path", "taken"),
    [
        ("finance/Documents/Invoices/Invoice 1.pdf", True),
        ("finance/Documents/~$Invoice 1.docx", False),
        ("finance/Documents/scratch.TMP", False),
        ("finance/Documents/tmp/notes.txt", True),
    ],
)
def test_exclude_paths_are_case_insensitive_globs(path: str, taken: bool) -> None:
    from docintel.sources.graph import GraphSettings, GraphSource
    from docintel.sources.graph_client import GraphAuth

    config = GraphSourceConfig(name="sp", kind="sharepoint", exclude_paths=["*/~$*", "*.tmp"])
    source = GraphSource(config, GraphSettings(), GraphAuth(token="t"))
    assert source.wants(path) is taken


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), ("200", 200.0), ("3, 5", 3.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_in_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_as_an_http_date() -> None:
    now = time.time()
    assert retry_after_seconds(email.utils.formatdate(now + 240, usegmt=True), now=now) == pytest.approx(240, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0


def _api_error(status: int, headers: dict[str, str] | None = None) -> APIError:
    error = APIError(f"status {status}")
    error.response_status_code = status
    error.response_headers = headers or {}
    return error


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (401, {}, SourceAuthError, None),
        (403, {}, SourceAuthError, None),
        (404, {}, SourceNotFound, None),
        (429, {"retry-after": "200"}, SourceThrottled, 200.0),
        (429, {}, SourceThrottled, 10.0),
        (503, {"retry-after": "7"}, SourceThrottled, 7.0),
        (503, {}, SourceUnavailable, None),
        (504, {}, SourceUnavailable, None),
        (400, {}, SourceError, None),
    ],
)
def test_graph_errors_translate_at_the_boundary(
    status: int, headers: dict[str, str], kind: type[SourceError], retry_after: float | None
) -> None:
    translated = translate_graph_error(_api_error(status, headers), "delta")
    assert type(translated) is kind
    assert str(status) in translated.message
    if retry_after is not None:
        assert isinstance(translated, SourceThrottled) and translated.retry_after == retry_after


def test_410_carries_the_resync_location_and_transport_errors_are_unavailable() -> None:
    error = translate_graph_error(_api_error(410, {"location": "http://graph/v1.0/drives/d/root/delta"}), "delta")
    assert isinstance(error, DeltaResyncRequired) and error.location == "http://graph/v1.0/drives/d/root/delta"
    assert isinstance(translate_graph_error(httpx.ConnectError("refused"), "delta"), SourceUnavailable)


def test_credentials_come_from_the_environment_and_never_print() -> None:
    env = {"DOCINTEL_GRAPH_TENANT_ID": "t", "DOCINTEL_GRAPH_CLIENT_ID": "c", "DOCINTEL_GRAPH_CLIENT_SECRET": "s3cret"}
    auth = graph_auth_from_env(env)
    assert auth.method == "secret" and auth.base_url == "https://graph.microsoft.com/v1.0"
    assert "s3cret" not in repr(auth)
    assert graph_auth_from_env({**env, "DOCINTEL_GRAPH_CERTIFICATE_PATH": "/k.pem"}).method == "certificate"
    with pytest.raises(ConfigError, match="DOCINTEL_GRAPH_CLIENT_SECRET or DOCINTEL_GRAPH_CERTIFICATE_PATH"):
        graph_auth_from_env({"DOCINTEL_GRAPH_TENANT_ID": "t", "DOCINTEL_GRAPH_CLIENT_ID": "c"})
    assert graph_auth_from_env({"DOCINTEL_GRAPH_TOKEN": "x"}, base_url="http://127.0.0.1:1/v1.0").method == "token"


def test_user_agent_is_decorated_as_microsoft_asks() -> None:
    assert user_agent("Wessex County Council").startswith("NONISV|Wessex County Council|docintel/")
    assert user_agent("Evil|Org\r\n").startswith("NONISV|EvilOrg|docintel/")


def test_folder_paths_rebuild_from_parents_even_after_a_move() -> None:
    folders = {"root": ("root", None, True), "a": ("Finance", "root", False), "b": ("Invoices", "a", False)}
    assert folder_path(folders, "b", "finance/Documents") == "finance/Documents/Finance/Invoices"
    assert folder_path(folders, "root", "finance/Documents") == "finance/Documents"
    assert folder_path({**folders, "a": ("Finance", "b", False)}, "b", "x") == "x/Finance/Invoices"  # a cycle ends
