"""The control API under ``/_control``: tests and benchmarks drive the tenant and the faults through it.

Mutations go through the same :class:`Tenant` methods Graph writes use, so every change lands in the
drive's change journal and shows up in the next delta round. Mail changes (``/messages``) go through
:class:`~docintel.graph_emulator.mail.MailStore` and show up in the next round of the folder's message delta.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from docintel.graph_emulator.api import EmulatorState, Stats
from docintel.graph_emulator.faults import FaultSettings
from docintel.graph_emulator.mail import MailStore, Message
from docintel.graph_emulator.responses import GraphError
from docintel.graph_emulator.tenant import NO_PARENT, Tenant
from docintel.graph_emulator.views import mail_folder_json


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewItem(_Body):
    """A file from a template, or a folder when ``template`` is omitted."""

    drive_id: str
    parent_id: str | None = None
    parent_path: str | None = None
    name: str | None = None
    template: str | None = None
    format: str | None = None


class ItemChange(_Body):
    """Rename, move and/or edit the content of an item."""

    name: str | None = None
    parent_id: str | None = None
    edit_content: bool = False


Operation = Literal["edit", "add", "rename", "move", "delete"]


class RandomChanges(_Body):
    """Apply ``count`` random changes (edit, add, rename, move, delete) to files, seeded."""

    count: int = Field(ge=1)
    seed: int = 0
    drive_id: str | None = None
    operations: list[Operation] = Field(default_factory=lambda: list[Operation](["edit"]))


class ThrottleSettings(_Body):
    """Resource-unit limits (None = unlimited)."""

    ru_per_minute: int | None = None
    ru_per_day: int | None = None
    retry_after_format: Literal["seconds", "http-date"] = "seconds"
    initial_units: float | None = None  # start the minute bucket at this level (default: full)


class RuntimeSettings(_Body):
    """Emulator knobs that may change while it runs."""

    page_size: int | None = Field(default=None, ge=1)
    users_page_size: int | None = Field(default=None, ge=1, le=999)
    download_url_ttl_seconds: float | None = Field(default=None, gt=0)
    delta_token_ttl_seconds: float | None = Field(default=None, gt=0)
    empty_page_rate: float | None = Field(default=None, ge=0, le=1)
    repeat_rate: float | None = Field(default=None, ge=0, le=1)


class NewMailFolder(_Body):
    """A folder to create in a user's mailbox: under ``parent`` (id or well-known name), else at the top level."""

    user: str
    name: str = Field(min_length=1)
    parent: str | None = None


class Invalidate(_Body):
    """Whose delta tokens to invalidate: one drive, one user's mailbox, or (both omitted) every drive and mailbox."""

    drive_id: str | None = None
    user: str | None = None  # id or user principal name


class NewMessage(_Body):
    """A message delivered now to a user's folder (id, well-known name or display name)."""

    user: str  # id or user principal name
    folder: str = "inbox"
    template: str | None = None  # default: drawn from the seed
    attachment: Literal["pdf", "docx"] | None = None
    subject: str | None = None  # default: the document's title


class MessageChange(_Body):
    """An update to a message: always a new version (changeKey, ETag, text); optionally a subject or read flag."""

    subject: str | None = None
    is_read: bool | None = None


def item_summary(tenant: Tenant, index: int) -> dict[str, Any]:
    """What a test needs to compare a crawl with the tenant: ids, names, path, hashes, tags."""
    drive = tenant.drives[tenant.drive_of[index]]
    summary: dict[str, Any] = {
        "id": tenant.ids.encode(index),
        "drive_id": drive.id,
        "name": tenant.name_of(index) if tenant.parent[index] != NO_PARENT else "root",
        "path": "/".join(tenant.path_names(index)),
        "parent_id": tenant.ids.encode(tenant.parent[index]) if tenant.parent[index] != NO_PARENT else None,
        "folder": tenant.is_folder(index),
        "eTag_version": tenant.version[index],
    }
    if not tenant.is_folder(index):
        facts = tenant.facts(index)
        summary.update(
            size=facts.size,
            hashes=facts.hashes,
            content_version=tenant.content_version[index],
            mime_type=tenant.mime_type(index),
        )
    return summary


def message_summary(mail: MailStore, message: Message, user_id: str) -> dict[str, Any]:
    """What a test needs to compare a mail crawl with the tenant."""
    folder = mail.mailboxes[message.user].folders[message.folder]
    return {
        "id": message.id,
        "user_id": user_id,
        "folder_id": folder.id,
        "folder": folder.display_name,
        "folder_path": mail.folder_path(mail.mailboxes[message.user], folder),
        "subject": message.subject,
        "from": message.sender[1],
        "to": message.to[1],
        "has_attachments": message.attachment_format is not None,
        "attachment_name": mail.attachment_name(message),
        "change_key": mail.change_key(message),
        "version": message.version,
        "internet_message_id": message.internet_message_id,
    }


def build_router(state: EmulatorState) -> APIRouter:
    """The /_control routes bound to one emulator's state."""
    router = APIRouter(prefix="/_control")
    tenant = state.tenant

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/tenant")
    async def describe() -> dict[str, Any]:
        return {
            "name": tenant.name,
            "items": tenant.item_count(),
            "change_id": tenant.change_seq,
            "sites": [
                {
                    "id": s.id,
                    "name": s.name,
                    "personal": s.personal,
                    "drive_ids": [tenant.drives[d].id for d in s.drives],
                }
                for s in tenant.sites
            ],
            "users": [
                {
                    "id": u.id,
                    "user_principal_name": u.user_principal_name,
                    "drive_id": tenant.drives[u.drive].id if u.drive is not None else None,
                    "mailbox": u.index in tenant.mail.mailboxes,
                    "mail_folders": [
                        {"id": f.id, "name": f.display_name, "messages": len(tenant.mail.live(f))}
                        for f in (tenant.mail.mailboxes[u.index].folders if u.index in tenant.mail.mailboxes else [])
                    ],
                }
                for u in tenant.users
            ],
            "drives": [
                {
                    "id": d.id,
                    "name": d.name,
                    "drive_type": d.drive_type,
                    "root_id": tenant.ids.encode(d.root),
                    "items": sum(tenant.alive[i] for i in d.order),
                }
                for d in tenant.drives
            ],
        }

    @router.get("/drives/{drive_id}/items")
    async def drive_items(drive_id: str, path: str | None = None) -> Any:
        drive = tenant.drive(drive_id)
        if path is not None:
            return item_summary(tenant, tenant.item_by_path(drive, path))
        return [item_summary(tenant, i) for i in drive.order if tenant.alive[i]]

    @router.post("/items", status_code=201)
    async def add(body: NewItem) -> dict[str, Any]:
        drive = tenant.drive(body.drive_id)
        if body.parent_id:
            parent = tenant.item(drive, body.parent_id)
        else:
            parent = tenant.item_by_path(drive, body.parent_path or "")
        return item_summary(tenant, tenant.add_item(drive, parent, body.name, body.template, body.format))

    @router.patch("/items/{item_id}")
    async def change(item_id: str, body: ItemChange) -> dict[str, Any]:
        index = tenant.item_by_id(item_id)
        if body.parent_id is not None:
            tenant.move_item(index, tenant.item_by_id(body.parent_id), body.name)
        elif body.name is not None:
            tenant.rename_item(index, body.name)
        if body.edit_content:
            tenant.edit_item(index)
        return item_summary(tenant, index)

    @router.delete("/items/{item_id}")
    async def delete(item_id: str) -> dict[str, int]:
        return {"deleted": tenant.delete_item(tenant.item_by_id(item_id))}

    @router.get("/users/{user}/messages")
    async def user_messages(user: str) -> list[dict[str, Any]]:
        owner = tenant.user(user)
        mailbox = tenant.mail.mailbox(owner.index)
        return [message_summary(tenant.mail, m, owner.id) for f in mailbox.folders for m in tenant.mail.live(f)]

    @router.post("/mail_folders", status_code=201)
    async def add_mail_folder(body: NewMailFolder) -> dict[str, Any]:
        owner = tenant.user(body.user)
        mailbox = tenant.mail.mailbox(owner.index)
        parent = None if body.parent is None else tenant.mail.folder(mailbox, body.parent)
        return mail_folder_json(tenant.mail, mailbox, tenant.mail.add_folder(mailbox, parent, body.name))

    @router.post("/messages", status_code=201)
    async def add_message(body: NewMessage) -> dict[str, Any]:
        owner = tenant.user(body.user)
        mailbox = tenant.mail.mailbox(owner.index)
        folder = tenant.mail.folder(mailbox, body.folder)
        message = tenant.mail.add_message(mailbox, folder, body.template, body.attachment, body.subject)
        return message_summary(tenant.mail, message, owner.id)

    @router.patch("/messages/{message_id}")
    async def change_message(message_id: str, body: MessageChange) -> dict[str, Any]:
        message = tenant.mail.message(message_id)
        tenant.mail.update_message(message, body.subject, body.is_read)
        return message_summary(tenant.mail, message, tenant.users[message.user].id)

    @router.delete("/messages/{message_id}")
    async def delete_message(message_id: str) -> dict[str, int]:
        tenant.mail.delete_message(tenant.mail.message(message_id))
        return {"deleted": 1}

    @router.post("/mutate")
    async def mutate(body: RandomChanges) -> dict[str, Any]:
        return random_changes(tenant, body)

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return state.faults.settings.model_dump()

    @router.put("/faults")
    async def set_faults(body: FaultSettings) -> dict[str, Any]:
        state.faults.configure(body)
        return body.model_dump()

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults.configure(FaultSettings())
        return state.faults.settings.model_dump()

    @router.put("/throttle")
    async def throttle(body: ThrottleSettings) -> dict[str, Any]:
        state.budget.configure(body.ru_per_minute, body.ru_per_day, body.retry_after_format, body.initial_units)
        return body.model_dump()

    @router.put("/settings")
    async def settings(body: RuntimeSettings) -> dict[str, Any]:
        for key, value in body.model_dump(exclude_unset=True).items():
            setattr(state.settings, key, value)
        return state.settings.model_dump()

    @router.post("/delta/invalidate")
    async def invalidate(body: Invalidate) -> dict[str, Any]:
        if body.user is not None:
            tenant.mail.invalidate(tenant.mail.mailbox(tenant.user(body.user).index))
        elif body.drive_id is not None:
            tenant.invalidate_tokens(tenant.drive(body.drive_id))
        else:
            tenant.invalidate_tokens()
            tenant.mail.invalidate()
        return {"invalidated": body.user or body.drive_id or "all"}

    @router.get("/stats")
    async def stats() -> dict[str, Any]:
        return state.stats.as_json(state.budget.used)

    @router.post("/stats/reset")
    async def reset_stats() -> dict[str, Any]:
        state.stats = Stats()
        state.budget.used = 0
        return state.stats.as_json(0)

    return router


def random_changes(tenant: Tenant, body: RandomChanges) -> dict[str, Any]:
    """Apply seeded random changes to live files; returns how many of each were made."""
    rng = random.Random(body.seed)
    drives = [tenant.drive(body.drive_id)] if body.drive_id else tenant.drives
    done: dict[str, int] = dict.fromkeys(body.operations, 0)
    attempts = 0
    while sum(done.values()) < body.count and attempts < body.count * 20:
        attempts += 1
        drive = rng.choice(drives)
        index = drive.order[rng.randrange(len(drive.order))]
        if not tenant.alive[index] or tenant.is_folder(index):
            continue
        operation = rng.choice(body.operations)
        try:
            if operation == "edit":
                tenant.edit_item(index)
            elif operation == "add":
                tenant.add_item(drive, tenant.parent[index], None, "policy", None)
            elif operation == "rename":
                stem, dot, ext = tenant.name_of(index).rpartition(".")
                tenant.rename_item(index, f"{stem} renamed {tenant.change_seq}{dot}{ext}")
            elif operation == "move":
                target = drive.order[rng.randrange(len(drive.order))]
                target = target if tenant.is_folder(target) else tenant.parent[target]
                if not tenant.alive[target] or target == tenant.parent[index]:
                    continue
                tenant.move_item(index, target)
            else:
                tenant.delete_item(index)
        except GraphError:
            continue
        done[operation] += 1
    return {"changes": done, "change_id": tenant.change_seq}


def graph_error_handler(request: Request, error: Exception) -> JSONResponse:
    """GraphErrors raised by control routes answer with their status and Graph's error body."""
    assert isinstance(error, GraphError)
    return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=error.status)
