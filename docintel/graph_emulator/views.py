"""Graph JSON shapes for sites, drives, users, drive items, mail folders and messages (what the SDK deserialises)."""

from __future__ import annotations

import base64
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from docintel.graph_emulator.mail import Mailbox, MailFolder, MailStore, Message
from docintel.graph_emulator.responses import iso
from docintel.graph_emulator.tenant import NO_PARENT, Drive, Site, Tenant, User
from docintel.graph_emulator.tokens import TokenCodec


@dataclass(frozen=True)
class Links:
    """Where the client reached us: the Graph base (…/v1.0) and the content host for download URLs."""

    graph_base: str
    content_base: str


def site_json(tenant: Tenant, site: Site) -> dict[str, Any]:
    """A site resource."""
    host = site.id.split(",")[0]
    return {
        "id": site.id,
        "name": site.name,
        "displayName": site.display_name,
        "description": site.description,
        "createdDateTime": iso(site.created),
        "lastModifiedDateTime": iso(site.created),
        "webUrl": site.web_url,
        "siteCollection": {"hostname": host},
        "root": {},
    }


def _identity(user: User | None, tenant: Tenant) -> dict[str, Any]:
    if user is None:
        return {"group": {"id": tenant.tenant_id, "displayName": tenant.name}}
    return {"user": {"id": user.id, "displayName": user.display_name, "email": user.user_principal_name}}


def drive_json(tenant: Tenant, drive: Drive) -> dict[str, Any]:
    """A drive resource with owner and quota."""
    owner = tenant.users[drive.owner_user] if drive.owner_user is not None else None
    return {
        "id": drive.id,
        "name": drive.name,
        "description": "",
        "driveType": drive.drive_type,
        "webUrl": drive.web_url,
        "createdDateTime": iso(drive.created),
        "lastModifiedDateTime": iso(tenant.modified(drive.root)),
        "createdBy": _identity(owner, tenant) if owner else {"user": {"displayName": "System Account"}},
        "owner": _identity(owner, tenant),
        "quota": {
            "deleted": 0,
            "remaining": 1_099_511_627_776,
            "state": "normal",
            "total": 1_099_511_627_776,
            "used": 0,
        },
    }


def user_json(tenant: Tenant, user: User) -> dict[str, Any]:
    """A user resource with the default property set."""
    return {
        "id": user.id,
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.user_principal_name,
        "mobilePhone": None,
        "officeLocation": "County Hall",
        "preferredLanguage": "en-GB",
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
    }


def download_url(tenant: Tenant, codec: TokenCodec, links: Links, index: int, ttl_seconds: float) -> str:
    """A pre-authenticated, expiring URL on the content host for the item's current content version."""
    token = codec.encode({"i": index, "v": tenant.content_version[index], "e": round(time.time() + ttl_seconds, 3)})
    return f"{links.content_base}/_layouts/15/download.aspx?UniqueId={tenant.item_guid(index)}&tempauth={token}"


def _author(tenant: Tenant, index: int) -> dict[str, Any]:
    drive = tenant.drives[tenant.drive_of[index]]
    if drive.owner_user is not None:
        return _identity(tenant.users[drive.owner_user], tenant)
    if tenant.users:
        return _identity(tenant.users[index % len(tenant.users)], tenant)
    return {"user": {"displayName": "System Account"}}


def item_json(
    tenant: Tenant,
    index: int,
    links: Links,
    *,
    codec: TokenCodec,
    ttl_seconds: float,
    in_delta: bool = False,
) -> dict[str, Any]:
    """A live driveItem. In delta feeds ``parentReference.path`` is omitted, as Graph does."""
    drive = tenant.drives[tenant.drive_of[index]]
    site = tenant.sites[drive.site]
    guid = tenant.item_guid(index)
    names = tenant.path_names(index)
    created, modified = tenant.created(index), tenant.modified(index)
    is_root = tenant.parent[index] == NO_PARENT
    item: dict[str, Any] = {
        "id": tenant.ids.encode(index),
        "name": "root" if is_root else names[-1],
        "eTag": f'"{{{guid}}},{tenant.version[index]}"',
        "createdDateTime": iso(created),
        "lastModifiedDateTime": iso(modified),
        "webUrl": drive.web_url + ("/" + "/".join(names) if names else ""),
        "createdBy": _author(tenant, index),
        "lastModifiedBy": _author(tenant, index),
        "fileSystemInfo": {"createdDateTime": iso(created), "lastModifiedDateTime": iso(modified)},
    }
    parent_ref: dict[str, Any] = {"driveType": drive.drive_type, "driveId": drive.id, "siteId": site.id}
    if not is_root:
        parent = tenant.parent[index]
        parent_ref["id"] = tenant.ids.encode(parent)
        if not in_delta:
            parent_names = names[:-1]
            parent_ref["name"] = parent_names[-1] if parent_names else drive.name
            parent_ref["path"] = f"/drives/{drive.id}/root:" + ("/" + "/".join(parent_names) if parent_names else "")
    item["parentReference"] = parent_ref
    if tenant.is_folder(index):
        item["size"] = 0
        item["folder"] = {"childCount": len(tenant.children.get(index, ()))}
        if is_root:
            item["root"] = {}
    else:
        facts = tenant.facts(index)
        item["cTag"] = f'"c:{{{guid}}},{tenant.content_version[index]}"'
        item["size"] = facts.size
        item["file"] = {"mimeType": tenant.mime_type(index), "hashes": dict(facts.hashes)}
        item["@microsoft.graph.downloadUrl"] = download_url(tenant, codec, links, index, ttl_seconds)
    item["sharepointIds"] = {
        "listId": drive.list_id,
        "listItemId": str(index),
        "listItemUniqueId": guid.lower(),
        "siteId": site.id.split(",")[1],
        "siteUrl": site.web_url,
        "tenantId": tenant.tenant_id,
        "webId": site.id.split(",")[2],
    }
    return item


def tombstone_json(tenant: Tenant, index: int) -> dict[str, Any]:
    """A delta tombstone: no name, no cTag, ``deleted.state``, as OneDrive for Business sends them."""
    drive = tenant.drives[tenant.drive_of[index]]
    item: dict[str, Any] = {
        "id": tenant.ids.encode(index),
        "parentReference": {
            "driveType": drive.drive_type,
            "driveId": drive.id,
            "id": tenant.ids.encode(tenant.parent[index]),
        },
        "deleted": {"state": "deleted"},
    }
    item["folder" if tenant.is_folder(index) else "file"] = {}
    return item


# Properties Graph only returns when asked for with $select.
SELECT_ONLY = frozenset({"sharepointIds"})


def select(item: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    """Apply ``$select`` (top-level, case-insensitive); without it drop the select-only properties."""
    if wanted is None:
        return {key: value for key, value in item.items() if key not in SELECT_ONLY}
    lowered = {name.lower() for name in wanted}
    return {key: value for key, value in item.items() if key.lower() in lowered or key in ("deleted", "@odata.type")}


# ---- mail -------------------------------------------------------------------------------------------

MESSAGE_TYPE = "#microsoft.graph.message"
# Graph's bodyPreview is the first 255 characters of the body text.
BODY_PREVIEW_CHARS = 255


def mail_folder_json(mail: MailStore, mailbox: Mailbox, folder: MailFolder) -> dict[str, Any]:
    """A mailFolder resource."""
    live = mail.live(folder)
    return {
        "id": folder.id,
        "displayName": folder.display_name,
        "parentFolderId": mailbox.root_folder_id if folder.parent is None else mailbox.folders[folder.parent].id,
        "childFolderCount": len(mail.children(mailbox, folder)),
        "unreadItemCount": sum(not m.is_read for m in live),
        "totalItemCount": len(live),
        "sizeInBytes": 0,
        "isHidden": False,
    }


def _recipient(person: tuple[str, str]) -> dict[str, Any]:
    return {"emailAddress": {"name": person[0], "address": person[1]}}


def message_json(mail: MailStore, message: Message, *, in_delta: bool = False) -> dict[str, Any]:
    """A message resource (text body); in delta feeds it also carries ``@odata.type``."""
    mailbox = mail.mailboxes[message.user]
    change_key = mail.change_key(message)
    text = mail.text(message)
    item: dict[str, Any] = {"@odata.type": MESSAGE_TYPE} if in_delta else {}
    item.update(
        {
            "@odata.etag": f'W/"{change_key}"',
            "id": message.id,
            "createdDateTime": iso(message.received),
            "lastModifiedDateTime": iso(message.modified),
            "changeKey": change_key,
            "categories": [],
            "receivedDateTime": iso(message.received),
            "sentDateTime": iso(message.sent),
            "hasAttachments": message.attachment_format is not None,
            "internetMessageId": message.internet_message_id,
            "subject": message.subject,
            "bodyPreview": " ".join(text.split())[:BODY_PREVIEW_CHARS],
            "importance": "normal",
            "parentFolderId": mailbox.folders[message.folder].id,
            "conversationId": message.conversation_id,
            "isDeliveryReceiptRequested": False,
            "isReadReceiptRequested": False,
            "isRead": message.is_read,
            "isDraft": False,
            "webLink": "https://outlook.office365.com/owa/?ItemID="
            + urllib.parse.quote(message.id, safe="")
            + "&exvsurl=1&viewmodel=ReadMessageItem",
            "inferenceClassification": "focused",
            "body": {"contentType": "text", "content": text},
            "sender": _recipient(message.sender),
            "from": _recipient(message.sender),
            "toRecipients": [_recipient(message.to)],
            "ccRecipients": [],
            "bccRecipients": [],
            "replyTo": [],
            "flag": {"flagStatus": "notFlagged"},
        }
    )
    return item


def removed_message_json(message: Message) -> dict[str, Any]:
    """A deleted message in a delta feed."""
    return {"@odata.type": MESSAGE_TYPE, "id": message.id, "@removed": {"reason": "deleted"}}


def attachment_json(mail: MailStore, message: Message) -> list[dict[str, Any]]:
    """The message's fileAttachments, with base64 ``contentBytes`` (the Python SDK has no attachment $value)."""
    attachment = mail.attachment(message)
    if attachment is None:
        return []
    return [
        {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "id": message.id + "BEgAQA",
            "lastModifiedDateTime": iso(message.modified),
            "name": attachment.name,
            "contentType": attachment.mime_type,
            "size": len(attachment.data),
            "isInline": False,
            "contentId": None,
            "contentLocation": None,
            "contentBytes": base64.b64encode(attachment.data).decode("ascii"),
        }
    ]
