"""Exchange mailboxes through the real msgraph-sdk over real HTTP: folders, message delta, MIME, errors, faults."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from docintel.errors import ConfigError
from docintel.graph_emulator.spec import parse_tenant_spec
from docintel.graph_emulator.tenant import Tenant
from docintel.graph_emulator.testing import MAIL_TENANT, RunningEmulator, graph_client

ADA = "ada.lovelace@test.example.gov.uk"
GRACE = "grace.hopper@test.example.gov.uk"
NOAH = "no.drive@test.example.gov.uk"
AUTH = {"Authorization": "Bearer test-token"}
HTTP = httpx.Client(timeout=30)


@pytest.fixture
def mail_emulator(start_graph_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    """An emulator serving :data:`MAIL_TENANT`."""
    return start_graph_emulator(MAIL_TENANT)


def run(emulator: RunningEmulator, scenario: Callable[[Any], Awaitable[Any]], retry_delay: float | None = None) -> Any:
    """Run an async scenario with a fresh SDK client made inside its own event loop."""

    async def main() -> Any:
        return await scenario(graph_client(emulator.graph_url, retry_delay=retry_delay))

    return asyncio.run(main())


def folders_of(emulator: RunningEmulator, upn: str) -> dict[str, str]:
    """Folder display name -> id, from the control API."""
    user = next(u for u in emulator.control("GET", "/tenant")["users"] if u["user_principal_name"] == upn)
    return {f["name"]: f["id"] for f in user["mail_folders"]}


async def message_delta(
    client: Any, upn: str, folder: str, link: str | None = None, page_size: int | None = None
) -> tuple[list[Any], str, int]:
    """Follow a folder's message delta to its deltaLink: (messages in order, deltaLink, pages)."""
    builder = client.users.by_user_id(upn).mail_folders.by_mail_folder_id(folder).messages.delta
    cfg = RequestConfiguration()
    if page_size is not None:
        cfg.headers.add("Prefer", f"odata.maxpagesize={page_size}")
    page = await (builder.with_url(link) if link else builder).get(request_configuration=cfg)
    messages, pages = [], 1
    while True:
        messages.extend(page.value or [])
        if page.odata_next_link:
            assert "$skiptoken=" in page.odata_next_link
            page = await builder.with_url(page.odata_next_link).get(request_configuration=cfg)
            pages += 1
            continue
        assert "$deltatoken=" in page.odata_delta_link
        return messages, page.odata_delta_link, pages


def test_folders_are_listed_with_counts(mail_emulator: RunningEmulator) -> None:
    expected = mail_emulator.control("GET", f"/users/{ADA}/messages")

    async def scenario(client: Any) -> tuple[Any, Any, Any]:
        folders = await client.users.by_user_id(ADA).mail_folders.get()
        inbox = await client.users.by_user_id(ADA).mail_folders.by_mail_folder_id("inbox").get()
        empty = await client.users.by_user_id(GRACE).mail_folders.get()
        return folders, inbox, empty

    folders, inbox, empty = run(mail_emulator, scenario)
    assert [f.display_name for f in folders.value] == ["Inbox", "Sent Items", "Archive"]
    assert {f.parent_folder_id for f in folders.value} == {folders.value[0].parent_folder_id}
    for folder in folders.value:
        assert folder.child_folder_count == 0 and folder.is_hidden is False
        assert folder.total_item_count == sum(m["folder_id"] == folder.id for m in expected)
    assert sum(f.total_item_count for f in folders.value) == 12
    assert inbox.id == folders.value[0].id
    assert inbox.unread_item_count <= inbox.total_item_count
    assert [f.total_item_count for f in empty.value] == [0, 0, 0]


def test_folders_page_with_top(mail_emulator: RunningEmulator) -> None:
    response = HTTP.get(f"{mail_emulator.graph_url}/users/{ADA}/mailFolders?$top=2", headers=AUTH)
    body = response.json()
    assert [f["displayName"] for f in body["value"]] == ["Inbox", "Sent Items"]
    following = HTTP.get(body["@odata.nextLink"], headers=AUTH).json()
    assert [f["displayName"] for f in following["value"]] == ["Archive"]
    assert "@odata.nextLink" not in following


def test_full_delta_in_small_pages_yields_every_message_once(mail_emulator: RunningEmulator) -> None:
    expected = {m["id"]: m for m in mail_emulator.control("GET", f"/users/{ADA}/messages")}
    folders = folders_of(mail_emulator, ADA)

    async def scenario(client: Any) -> dict[str, tuple[list[Any], str, int]]:
        return {name: await message_delta(client, ADA, folder_id, page_size=2) for name, folder_id in folders.items()}

    rounds = run(mail_emulator, scenario)
    seen = [m.id for messages, _, _ in rounds.values() for m in messages]
    assert sorted(seen) == sorted(expected)  # every message exactly once
    inbox, inbox_link, inbox_pages = rounds["Inbox"]
    assert len(inbox) == 6
    assert inbox_pages == 3  # 6 messages in pages of 2
    assert inbox_link.startswith(f"{mail_emulator.graph_url}/users/")
    for name, (messages, _, _) in rounds.items():
        for message in messages:
            want = expected[message.id]
            assert want["folder"] == name and message.parent_folder_id == folders[name]
            assert message.subject == want["subject"]
            assert message.from_.email_address.address == want["from"]
            assert message.to_recipients[0].email_address.address == want["to"]
            assert message.change_key == want["change_key"]
            assert message.additional_data["@odata.etag"] == f'W/"{want["change_key"]}"'
            assert message.has_attachments == want["has_attachments"]
            assert message.internet_message_id == want["internet_message_id"]
            assert message.received_date_time >= message.sent_date_time
            assert message.body_preview.startswith("Dear ")
            assert message.web_link.startswith("https://outlook.office365.com/owa/?ItemID=")
            assert "/" not in message.id


def test_delta_link_returns_exactly_the_added_updated_and_deleted_messages(mail_emulator: RunningEmulator) -> None:
    control = mail_emulator.control
    inbox = folders_of(mail_emulator, ADA)["Inbox"]
    existing = [m for m in control("GET", f"/users/{ADA}/messages") if m["folder"] == "Inbox"]
    updated, deleted = existing[0], existing[1]

    async def scenario(client: Any) -> dict[str, Any]:
        _, link, _ = await message_delta(client, ADA, inbox, page_size=4)
        quiet, link, _ = await message_delta(client, ADA, inbox, link)
        added = control("POST", "/messages", {"user": ADA, "folder": "Inbox", "template": "invoice"})
        control("POST", "/messages", {"user": ADA, "folder": "Archive"})  # another folder: not in this feed
        changed = control("PATCH", f"/messages/{updated['id']}", {"is_read": True})
        assert control("DELETE", f"/messages/{deleted['id']}") == {"deleted": 1}
        changes, link, _ = await message_delta(client, ADA, inbox, link)
        after, _, _ = await message_delta(client, ADA, inbox, link)
        return {"quiet": quiet, "changes": changes, "added": added, "changed": changed, "after": after}

    result = run(mail_emulator, scenario)
    assert result["quiet"] == []
    by_id = {m.id: m for m in result["changes"]}
    assert len(result["changes"]) == len(by_id) == 3
    assert set(by_id) == {result["added"]["id"], updated["id"], deleted["id"]}
    new = by_id[result["added"]["id"]]
    assert new.subject.startswith("Invoice INV-") and new.parent_folder_id == inbox
    change = by_id[updated["id"]]
    assert change.change_key == result["changed"]["change_key"] != updated["change_key"]
    assert change.additional_data["@odata.etag"] == f'W/"{change.change_key}"'
    assert change.is_read is True
    removed = by_id[deleted["id"]]
    assert removed.additional_data["@removed"] == {"reason": "deleted"}
    assert removed.odata_type == "#microsoft.graph.message"
    assert removed.subject is None
    assert result["after"] == []


def test_delta_page_and_removed_entry_wire_shape(mail_emulator: RunningEmulator) -> None:
    inbox = folders_of(mail_emulator, ADA)["Inbox"]
    url = f"{mail_emulator.graph_url}/users/{ADA}/mailFolders/{inbox}/messages/delta()"
    first = HTTP.get(url, headers={**AUTH, "Prefer": "odata.maxpagesize=5"})
    assert first.headers["preference-applied"] == "odata.maxpagesize=5"
    page = first.json()
    assert len(page["value"]) == 5 and page["value"][0]["@odata.type"] == "#microsoft.graph.message"
    rest = HTTP.get(page["@odata.nextLink"], headers=AUTH).json()  # the page size rides in the token
    assert len(rest["value"]) == 1
    victim = page["value"][0]["id"]
    mail_emulator.control("DELETE", f"/messages/{victim}")
    changes = HTTP.get(rest["@odata.deltaLink"] + "&$select=subject", headers=AUTH).json()
    assert changes["value"] == [
        {"@odata.type": "#microsoft.graph.message", "id": victim, "@removed": {"reason": "deleted"}}
    ]
    forged = HTTP.get(rest["@odata.deltaLink"][:-3] + "abc", headers=AUTH)
    assert forged.status_code == 400
    mail_emulator.control("POST", "/delta/invalidate", {"user": ADA})
    expired = HTTP.get(changes["@odata.deltaLink"], headers=AUTH)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "SyncStateNotFound"


def test_mime_content_parses_with_its_attachment(mail_emulator: RunningEmulator) -> None:
    messages = mail_emulator.control("GET", f"/users/{ADA}/messages")
    with_file = next(m for m in messages if m["has_attachments"])
    plain = next(m for m in messages if not m["has_attachments"])

    async def scenario(client: Any) -> tuple[bytes, bytes, Any, Any]:
        builder = client.users.by_user_id(ADA).messages
        raw = await builder.by_message_id(with_file["id"]).content.get()
        raw_plain = await builder.by_message_id(plain["id"]).content.get()
        message = await builder.by_message_id(with_file["id"]).get()
        attachments = await builder.by_message_id(with_file["id"]).attachments.get()
        return raw, raw_plain, message, attachments

    raw, raw_plain, message, attachments = run(mail_emulator, scenario)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == with_file["subject"] == message.subject
    assert parsed["Message-ID"] == with_file["internet_message_id"]
    assert parsed["From"].addresses[0].addr_spec == with_file["from"]
    body = parsed.get_body(("plain",))
    assert body is not None and f"Please find attached {with_file['attachment_name']}." in body.get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == with_file["attachment_name"]
    data = attachment.get_content()
    assert data[:5] == b"%PDF-" or data[:2] == b"PK"
    assert attachments.value[0].name == with_file["attachment_name"]
    assert attachments.value[0].content_bytes == data
    simple = email.message_from_bytes(raw_plain, policy=email.policy.default)
    assert simple.get_content_type() == "text/plain" and not list(simple.iter_attachments())
    response = HTTP.get(f"{mail_emulator.graph_url}/users/{ADA}/messages/{with_file['id']}/$VALUE", headers=AUTH)
    assert response.headers["content-type"] == "message/rfc822" and response.content == raw


def test_update_gives_a_new_version_of_the_content(mail_emulator: RunningEmulator) -> None:
    target = next(m for m in mail_emulator.control("GET", f"/users/{ADA}/messages") if m["has_attachments"])
    url = f"{mail_emulator.graph_url}/users/{ADA}/messages/{target['id']}"
    before, before_json = HTTP.get(url + "/$value", headers=AUTH).content, HTTP.get(url, headers=AUTH).json()
    changed = mail_emulator.control("PATCH", f"/messages/{target['id']}", {})
    after, after_json = HTTP.get(url + "/$value", headers=AUTH).content, HTTP.get(url, headers=AUTH).json()
    assert changed["version"] == target["version"] + 1
    assert after != before
    assert after_json["changeKey"] != before_json["changeKey"]
    assert after_json["@odata.etag"] != before_json["@odata.etag"]
    assert after_json["lastModifiedDateTime"] > before_json["lastModifiedDateTime"]
    assert after_json["subject"] == before_json["subject"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"users/{ADA}/messages/AAMkAGnope", 404, "ErrorItemNotFound"),
        (f"users/{ADA}/messages/AAMkAGnope/$value", 404, "ErrorItemNotFound"),
        (f"users/{ADA}/mailFolders/nofolder/messages/delta", 404, "ErrorItemNotFound"),
        (f"users/{NOAH}/mailFolders", 404, "MailboxNotEnabledForRESTAPI"),
        (f"users/{NOAH}/mailFolders/inbox/messages/delta()", 404, "MailboxNotEnabledForRESTAPI"),
        (f"users/{NOAH}/messages", 404, "MailboxNotEnabledForRESTAPI"),
        ("users/nobody@test.example.gov.uk/mailFolders", 404, "ErrorInvalidUser"),
        (f"users/{ADA}/messages/delta()", 400, "BadRequest"),
        (f"USERS/{ADA}/MAILFOLDERS('inbox')/MESSAGES/DELTA", 200, None),
        (f"users/{ADA}/mailFolders/Archive/messages?$top=1", 200, None),
    ],
)
def test_mail_paths_and_errors(mail_emulator: RunningEmulator, path: str, status: int, code: str | None) -> None:
    response = HTTP.get(f"{mail_emulator.graph_url}/{path}", headers=AUTH)
    assert response.status_code == status
    body = response.json()
    if code:
        assert body["error"]["code"] == code
    else:
        assert body["value"]


def test_unknown_message_and_user_without_mailbox_through_the_sdk(mail_emulator: RunningEmulator) -> None:
    async def scenario(client: Any) -> tuple[ODataError, ODataError]:
        with pytest.raises(ODataError) as missing:
            await client.users.by_user_id(ADA).messages.by_message_id("AAMkAGnope").get()
        with pytest.raises(ODataError) as no_mailbox:
            await client.users.by_user_id(NOAH).mail_folders.get()
        return missing.value, no_mailbox.value

    missing, no_mailbox = run(mail_emulator, scenario)
    assert (missing.response_status_code, missing.error.code) == (404, "ErrorItemNotFound")
    assert (no_mailbox.response_status_code, no_mailbox.error.code) == (404, "MailboxNotEnabledForRESTAPI")


def test_throttling_rule_on_mail_paths_gives_429_with_retry_after(mail_emulator: RunningEmulator) -> None:
    mail_emulator.control(
        "PUT", "/faults", {"rules": [{"status": 429, "count": 2, "retry_after": 1, "path": "mailFolders"}]}
    )
    inbox_url = f"{mail_emulator.graph_url}/users/{ADA}/mailFolders/inbox/messages/delta"
    throttled = HTTP.get(inbox_url, headers=AUTH)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json()["error"]["code"] == "activityLimitReached"
    assert HTTP.get(f"{mail_emulator.graph_url}/users/{ADA}/messages", headers=AUTH).status_code == 200  # not matched
    started = time.monotonic()
    folders = run(mail_emulator, lambda client: client.users.by_user_id(ADA).mail_folders.get())
    assert time.monotonic() - started >= 1.0  # the SDK honoured Retry-After once, then succeeded
    assert len(folders.value) == 3
    assert mail_emulator.control("GET", "/stats")["by_route"]["mail.folders"] == 2


def test_mailboxes_are_deterministic_and_spec_checked() -> None:
    first, second = Tenant(parse_tenant_spec(MAIL_TENANT)), Tenant(parse_tenant_spec(MAIL_TENANT))
    assert [m.id for m in first.mail.messages] == [m.id for m in second.mail.messages]
    assert first.mail.mime(first.mail.messages[1]) == second.mail.mime(second.mail.messages[1])
    assert sum(m.attachment_format is not None for m in first.mail.messages) == 3  # one in four
    assert {m.folder for m in first.mail.messages} == {0, 1, 2}
    generated = Tenant(parse_tenant_spec({"generate_users": {"count": 40, "mailbox_ratio": 0.5, "mail_messages": 3}}))
    assert 10 < len(generated.mail.mailboxes) < 30
    assert len(generated.mail.messages) == 3 * len(generated.mail.mailboxes)
    with pytest.raises(ConfigError, match=r"users\.0: .*mail_messages needs mailbox"):
        parse_tenant_spec(
            {"users": [{"user_principal_name": "a@x.example", "display_name": "A B", "mail_messages": 2}]}
        )


def test_child_folders_are_listed_one_level_at_a_time(mail_emulator: RunningEmulator) -> None:
    projects = mail_emulator.control("POST", "/mail_folders", {"user": ADA, "parent": "inbox", "name": "Projects"})
    year = mail_emulator.control("POST", "/mail_folders", {"user": ADA, "parent": projects["id"], "name": "2026"})
    mail_emulator.control("POST", "/messages", {"user": ADA, "folder": year["id"], "subject": "Bridge survey"})
    with pytest.raises(httpx.HTTPStatusError):  # the name is taken under Inbox
        mail_emulator.control("POST", "/mail_folders", {"user": ADA, "parent": "inbox", "name": "projects"})

    async def scenario(client: Any) -> tuple[Any, Any, Any]:
        folders = client.users.by_user_id(ADA).mail_folders
        top = await folders.get()
        under_inbox = await folders.by_mail_folder_id("inbox").child_folders.get()
        under_projects = await folders.by_mail_folder_id(projects["id"]).child_folders.get()
        return top, under_inbox, under_projects

    top, under_inbox, under_projects = run(mail_emulator, scenario)
    counts = {f.display_name: f.child_folder_count for f in top.value}
    assert counts == {"Inbox": 1, "Sent Items": 0, "Archive": 0}  # Projects is not at the top level
    assert [(f.id, f.child_folder_count) for f in under_inbox.value] == [(projects["id"], 1)]
    assert [(f.display_name, f.parent_folder_id, f.total_item_count) for f in under_projects.value] == [
        ("2026", projects["id"], 1)
    ]
    summary = next(m for m in mail_emulator.control("GET", f"/users/{ADA}/messages") if m["subject"] == "Bridge survey")
    assert summary["folder_path"] == "Inbox/Projects/2026"
