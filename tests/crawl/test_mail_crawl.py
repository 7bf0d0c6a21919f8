"""Exchange mailboxes crawled through the real msgraph-sdk against the emulator: full round, changes, exclusions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from docintel.graph_emulator.testing import MAIL_TENANT, RunningEmulator, running_emulator
from docintel.sources.graph import GraphSourceConfig, message_name
from tests.crawl.conftest import InProcessCrawler, catalogue_files

ADA = "ada.lovelace@test.example.gov.uk"


@pytest.fixture
def mail_emulator() -> Iterator[RunningEmulator]:
    """The small tenant with mailboxes: Ada has 12 messages, Grace an empty mailbox, Noah none."""
    with running_emulator(MAIL_TENANT) as running:
        yield running


def _mail_crawler(make_crawler: Callable[..., InProcessCrawler], emulator: RunningEmulator, url: str,
                  **rules: Any) -> InProcessCrawler:  # fmt: skip
    crawler = make_crawler(emulator, url)
    crawler.sources = {"mail": GraphSourceConfig(name="mail", kind="mailbox", **rules)}
    return crawler


def _tenant_messages(emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    """Every live message of every mailbox, by id, from the emulator's own listing."""
    messages: dict[str, dict[str, Any]] = {}
    for user in emulator.control("GET", "/tenant")["users"]:
        if user.get("mailbox"):
            messages.update({m["id"]: m for m in emulator.control("GET", f"/users/{user['id']}/messages")})
    return messages


def test_every_message_of_every_mailbox_is_catalogued_with_its_attachments(
    make_crawler: Callable[..., InProcessCrawler], mail_emulator: RunningEmulator, catalogue_url: str
) -> None:
    crawler = _mail_crawler(make_crawler, mail_emulator, catalogue_url)
    results = crawler.crawl()
    expected = _tenant_messages(mail_emulator)
    assert len(expected) == 12
    # Ada's three folders and Grace's three empty ones are crawled; Noah has no mailbox and is skipped.
    assert len(results) == 6 and sum(r.files for r in results) == 12
    found = catalogue_files(crawler.store)
    assert set(found) == set(expected)
    for message_id, want in expected.items():
        row = found[message_id]
        assert row["status"] == "ok", (row["name"], row["error_type"])
        assert row["name"] == message_name(want["subject"])
        assert row["source"] == "mailbox" and row["file_type"] == "eml"
        assert row["path"] == f"mail/{want['user_id']}/{want['folder_path']}"
    children = [r for r in crawler.store.iter_documents(include_children=True, include_deleted=False)
                if r["parent_id"] is not None]  # fmt: skip
    with_attachment = {m["attachment_name"] for m in expected.values() if m["has_attachments"]}
    assert with_attachment and with_attachment <= {child["name"] for child in children}


def test_new_changed_and_deleted_messages_are_caught_up_and_nothing_else_is_read_again(
    make_crawler: Callable[..., InProcessCrawler], mail_emulator: RunningEmulator, catalogue_url: str
) -> None:
    crawler = _mail_crawler(make_crawler, mail_emulator, catalogue_url)
    crawler.crawl()
    before = _tenant_messages(mail_emulator)
    changed, deleted, *_ = sorted(before)
    added = mail_emulator.control("POST", "/messages", {"user": ADA, "folder": "inbox", "attachment": "pdf"})
    mail_emulator.control("PATCH", f"/messages/{changed}", {"subject": "Revised: budget papers"})
    mail_emulator.control("DELETE", f"/messages/{deleted}")
    results = crawler.crawl()
    processed = {doc_id for result in results for doc_id in result.pending_ids}
    assert len(processed) == 2  # the new message and the changed one, nothing else
    found = catalogue_files(crawler.store)
    assert set(found) == set(_tenant_messages(mail_emulator)) == (set(before) - {deleted}) | {added["id"]}
    assert found[changed]["name"] == "Revised: budget papers.eml"
    assert found[added["id"]]["status"] == "ok"
    gone = [r for r in crawler.store.iter_documents(include_children=False, include_deleted=True)
            if r["item_id"] == deleted]  # fmt: skip
    assert gone and gone[0]["deleted"]


def test_an_expired_mail_delta_token_starts_the_folder_afresh(
    make_crawler: Callable[..., InProcessCrawler], mail_emulator: RunningEmulator
) -> None:
    crawler = _mail_crawler(make_crawler, mail_emulator, "sqlite://")
    crawler.crawl()
    mail_emulator.control("POST", "/delta/invalidate", {"user": ADA})
    results = crawler.crawl()
    assert sum(r.resyncs for r in results) == 3  # each of Ada's folders enumerated again
    assert sum(len(r.pending_ids) for r in results) == 0  # and nothing re-read: the change keys are the same
    assert set(catalogue_files(crawler.store)) == set(_tenant_messages(mail_emulator))


def test_excluded_folders_and_users_are_not_crawled(
    make_crawler: Callable[..., InProcessCrawler], mail_emulator: RunningEmulator
) -> None:
    crawler = _mail_crawler(make_crawler, mail_emulator, "sqlite://", exclude_folders=["sent*", "Archive"],
                            exclude_users=["grace*"])  # fmt: skip
    results = crawler.crawl()
    assert [r.drive_id.count(":") for r in results] == [2]  # Ada's Inbox alone
    inbox = {m["id"] for m in _tenant_messages(mail_emulator).values() if m["folder"] == "Inbox"}
    assert set(catalogue_files(crawler.store)) == inbox and inbox


def test_sub_folders_are_crawled_under_their_path_and_an_excluded_folder_takes_its_sub_folders_with_it(
    make_crawler: Callable[..., InProcessCrawler], mail_emulator: RunningEmulator
) -> None:
    folder = "/mail_folders"
    projects = mail_emulator.control("POST", folder, {"user": ADA, "parent": "inbox", "name": "Projects"})
    year = mail_emulator.control("POST", folder, {"user": ADA, "parent": projects["id"], "name": "2026"})
    old = mail_emulator.control("POST", folder, {"user": ADA, "parent": "archive", "name": "Old"})
    survey = mail_emulator.control("POST", "/messages", {"user": ADA, "folder": year["id"], "subject": "Bridge survey"})
    mail_emulator.control("POST", "/messages", {"user": ADA, "folder": old["id"], "subject": "2019 rota"})

    crawler = _mail_crawler(make_crawler, mail_emulator, "sqlite://", exclude_folders=["archive"])
    crawler.crawl()
    found = catalogue_files(crawler.store)
    assert found[survey["id"]]["path"] == f"mail/{survey['user_id']}/Inbox/Projects/2026"
    expected = {m["id"] for m in _tenant_messages(mail_emulator).values() if not m["folder_path"].startswith("Archive")}
    assert set(found) == expected
