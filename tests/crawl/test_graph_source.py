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
from docintel.sources.graph import (
    GraphSourceConfig,
    delta_item_from_message,
    load_sources_config,
    mail_drive_id,
    mail_ids,
    message_name,
)
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
    assert [s.kind for s in config.sources] == ["sharepoint", "onedrive", "mailbox"]
    assert config.source("onedrive").include_users == ["*"]
    assert "Junk Email" in config.source("mail").exclude_folders
    with pytest.raises(ConfigError, match="unknown source 'exchange'; known: sharepoint, onedrive, mail"):
        config.source("exchange")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [{name: a, kind: exchange}]", r"sources\.0: .*'kind'.*'sharepoint', 'onedrive', 'mailbox', 'share'"),
        ("sources: [{name: a, kind: sharepoint, colour: red}]", r"sources\.0\.sharepoint\.colour"),
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


def _odata_error(status: int, code: str) -> APIError:
    from msgraph.generated.models.o_data_errors.main_error import MainError
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    error = ODataError(error=MainError(code=code, message="sync state gone"))
    error.response_status_code = status
    error.response_headers = {}
    return error


@pytest.mark.parametrize(("status", "code"), [(404, "SyncStateNotFound"), (400, "syncStateInvalid"), (410, "x")])
def test_an_expired_mail_sync_state_asks_for_a_fresh_enumeration(status: int, code: str) -> None:
    error = translate_graph_error(_odata_error(status, code), "delta")
    assert isinstance(error, DeltaResyncRequired) and error.location is None
    assert type(translate_graph_error(_odata_error(404, "ErrorItemNotFound"), "download message")) is SourceNotFound


def test_mail_folders_are_crawled_as_drives_of_messages() -> None:
    drive_id = mail_drive_id("7f3c2a10-0000-4000-8000-000000000001", "AAMkAD=folder_id-1")
    assert mail_ids(drive_id) == ("7f3c2a10-0000-4000-8000-000000000001", "AAMkAD=folder_id-1")
    assert mail_ids("b!drive-id") is None
    item = delta_item_from_message(
        {"id": "m1", "subject": "Re: Invoice 4471 / April", "changeKey": "CQAAAB", "@odata.etag": 'W/"CQAAAB"',
         "receivedDateTime": "2026-04-03T09:15:00Z", "lastModifiedDateTime": "2026-04-03T09:16:00Z",
         "webLink": "https://outlook.office365.com/owa/?ItemID=m1"}
    )  # fmt: skip
    assert (item.name, item.ctag, item.etag, item.is_folder, item.deleted) == (
        "Re: Invoice 4471 April.eml", "CQAAAB", 'W/"CQAAAB"', False, False
    )  # fmt: skip
    assert item.created_at is not None and item.created_at.isoformat() == "2026-04-03T09:15:00+00:00"
    removed = delta_item_from_message({"id": "m2", "@removed": {"reason": "deleted"}})
    assert (removed.item_id, removed.deleted) == ("m2", True)


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        (None, "(no subject).eml"),
        ("  ", "(no subject).eml"),
        ('Re: 3/4 "draft"\\final\tv2\n', 'Re: 3 4 "draft" final v2.eml'),
        ("x" * 300, "x" * 120 + ".eml"),
    ],
)
def test_message_names_are_safe_file_names(subject: str | None, name: str) -> None:
    assert message_name(subject) == name
