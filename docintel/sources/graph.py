"""SharePoint, OneDrive and Exchange mail through Microsoft Graph: find the drives (or mail folders), read their
delta feeds, fetch content.

One :class:`GraphSource` per entry of ``config/sources.yaml`` (kind ``sharepoint``: every site's document
libraries; kind ``onedrive``: every user's OneDrive; kind ``mailbox``: every mail folder of every user's
mailbox), each with include/exclude rules. The crawler (``docintel.crawl``) drives the per-drive delta rounds;
a mail folder is crawled as a drive whose files are its messages (``mail:<user id>:<folder id>``; Graph's
message delta is per folder, graph.md 2.4), each read as the message's MIME (an ``.eml``, attachments and all).
:meth:`GraphSource.fetch` streams one file's bytes from a freshly resolved pre-authenticated download URL (never
cached: it is a short-lived credential), or a message's MIME, with a size cap, and never writes them anywhere.

Every Graph call goes through a :class:`GraphCaller`, which honours a tenant-wide pause (a
:class:`PauseBoard`: in-process here, shared through Redis in ``workers/throttle.py``) and retries throttled
or failing calls after the wait Graph asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fnmatch
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docintel.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceThrottled,
    SourceUnavailable,
    TooLarge,
)
from docintel.models import Provenance
from docintel.settings import Settings, load_yaml_file
from docintel.sources.graph_client import (
    GraphAuth,
    create_graph_client,
    graph_auth_from_env,
    graph_call,
    shared_ssl_context,
)
from docintel.sources.share import ShareSourceConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

SOURCES_FILE = "sources.yaml"
DOWNLOAD_URL_KEY = "@microsoft.graph.downloadUrl"
# Show tombstones for removed items, and items reachable only through permission gaps (graph.md 2.3).
DELTA_PREFER = "deltashowremovedasdeleted, deltatraversepermissiongaps"
# How many times one Graph call is tried when it keeps being throttled or failing, before the job gives up
# (and rq re-runs it later).
MAX_CALL_ATTEMPTS = 8
# Back-off for failures without a Retry-After: base * 2**attempt, capped, with jitter so workers spread out.
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 60.0
DOWNLOAD_TIMEOUT_SECONDS = 120.0
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
# A mail folder crawled as a drive: "mail:<user id>:<folder id>" (user ids are GUIDs, with no colon).
MAIL_DRIVE_PREFIX = "mail:"
# The message fields a delta page asks for: what the item index keeps. Page size: graph.md 2.4.
MESSAGE_SELECT = "id,subject,changeKey,receivedDateTime,lastModifiedDateTime,webLink"
MAIL_DELTA_PREFER = "odata.maxpagesize=200"
# A message is catalogued under its subject, made safe as a file name, cut to this length.
MAX_MESSAGE_NAME_CHARS = 120


# --- configuration ----------------------------------------------------------------------------


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GraphSettings(_Config):
    """Where Graph is and how the crawler treats it (``graph:`` in sources.yaml)."""

    base_url: str = "https://graph.microsoft.com/v1.0"
    organisation: str = "council"
    max_inline_wait_seconds: float = Field(default=60.0, ge=0)
    max_download_bytes: int = Field(default=256 * 1024 * 1024, ge=1)


class GraphSourceConfig(_Config):
    """One crawled source with its include/exclude rules (fnmatch patterns, case-insensitive)."""

    name: str
    kind: Literal["sharepoint", "onedrive", "mailbox"]
    include_sites: list[str] = Field(default_factory=lambda: ["*"])
    exclude_sites: list[str] = Field(default_factory=list)
    include_libraries: list[str] = Field(default_factory=lambda: ["*"])
    exclude_libraries: list[str] = Field(default_factory=list)
    include_users: list[str] = Field(default_factory=lambda: ["*"])
    exclude_users: list[str] = Field(default_factory=list)
    # Mailboxes: folder paths ("Inbox", "Inbox/Projects"); an excluded folder's sub-folders are left out too.
    include_folders: list[str] = Field(default_factory=lambda: ["*"])
    exclude_folders: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)


class SourcesConfig(_Config):
    """The whole of ``config/sources.yaml``."""

    graph: GraphSettings = Field(default_factory=GraphSettings)
    # Graph sources and network shares (``kind: share``, docintel.sources.share), told apart by ``kind``.
    sources: list[Annotated[GraphSourceConfig | ShareSourceConfig, Field(discriminator="kind")]] = Field(
        default_factory=list
    )

    def any_source(self, name: str) -> GraphSourceConfig | ShareSourceConfig:
        """The source called ``name``, of any kind; ConfigError listing the known ones otherwise."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"unknown source {name!r}; known: {known}")

    def source(self, name: str) -> GraphSourceConfig:
        """The Graph source called ``name``; ConfigError when unknown or a share."""
        found = self.any_source(name)
        if not isinstance(found, GraphSourceConfig):
            raise ConfigError(f"source {name!r} is a network share, not a Graph source")
        return found


def load_sources_config(path: Path) -> SourcesConfig:
    """Parse sources.yaml; a bad key fails naming the file and the key."""
    data = load_yaml_file(path) or {}
    try:
        config = SourcesConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg']}") from exc
    names = [s.name for s in config.sources]
    if len(names) != len(set(names)):
        raise ConfigError(f"{path}: sources: names must be unique")
    return config


def sources_config(settings: Settings) -> SourcesConfig:
    """sources.yaml from the settings' configuration folder."""
    return load_sources_config(settings.config_path(SOURCES_FILE))


def _matches(value: str, include: list[str], exclude: list[str]) -> bool:
    lowered = value.lower()
    taken = any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in include)
    return taken and not any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in exclude)


# --- throttling -------------------------------------------------------------------------------


class PauseBoard(Protocol):
    """Where a tenant-wide "do not call Graph until" time is kept, so every worker honours it."""

    def paused_for(self) -> float:
        """Seconds until calls may resume (0 when not paused)."""
        ...

    def pause(self, seconds: float) -> float:
        """Extend the pause to at least ``seconds`` from now; returns the pause now in force."""
        ...


class LocalPauseBoard:
    """A pause shared by the callers of one process (``docintel crawl --in-process``, tests)."""

    def __init__(self) -> None:
        self._until = 0.0

    def paused_for(self) -> float:
        """Seconds until calls may resume."""
        return max(0.0, self._until - time.time())

    def pause(self, seconds: float) -> float:
        """Extend the pause."""
        self._until = max(self._until, time.time() + seconds)
        return self.paused_for()


class GraphCaller:
    """Makes Graph calls that wait out tenant-wide pauses and retry throttling and transient failures."""

    def __init__(
        self,
        board: PauseBoard | None = None,
        *,
        max_inline_wait: float = 60.0,
        max_attempts: int = MAX_CALL_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
    ) -> None:
        self.board = board or LocalPauseBoard()
        self.max_inline_wait = max_inline_wait
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.calls = 0
        self.throttled = 0

    async def wait_if_paused(self) -> None:
        """Sleep through a tenant-wide pause; a pause longer than ``max_inline_wait`` raises SourceThrottled."""
        wait = self.board.paused_for()
        if wait <= 0:
            return
        if wait > self.max_inline_wait:
            raise SourceThrottled(f"tenant paused by Graph throttling for {wait:.0f} s", retry_after=wait)
        await asyncio.sleep(wait)

    async def call(self, make: Callable[[], Awaitable[T]], what: str) -> T:
        """Run ``make()`` (a fresh awaitable per attempt) until it succeeds or the attempts run out."""
        attempt = 0
        while True:
            await self.wait_if_paused()
            self.calls += 1
            try:
                return await graph_call(make(), what)
            except SourceThrottled as error:
                self.throttled += 1
                attempt += 1
                wait = error.retry_after if error.retry_after is not None else self.backoff(attempt)
                # Everyone pauses, including this caller: Microsoft asks all threads of an app to back off.
                self.board.pause(wait)
                logger.info("graph throttled on %s: pausing the tenant %.1f s (attempt %d)", what, wait, attempt)
                if attempt >= self.max_attempts or wait > self.max_inline_wait:
                    raise
            except SourceUnavailable:
                attempt += 1
                if attempt >= self.max_attempts:
                    raise
                wait = self.backoff(attempt)
                logger.info("graph unavailable on %s: retry in %.1f s (attempt %d)", what, wait, attempt)
                await asyncio.sleep(wait)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` of a call that failed without a Retry-After."""
        return min(BACKOFF_MAX_SECONDS, self.backoff_base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


# --- what the crawler sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class DriveRef:
    """A drive to crawl: its id, which source found it, and a label for folder paths (site/library)."""

    drive_id: str
    source: str
    kind: str
    label: str
    web_url: str | None = None
    # Whose OneDrive or mailbox ("display name <UPN>"), or which site (display name): `docintel status` shows
    # it; the label keeps the user's id because folder paths end up in reports and exports.
    owner: str | None = None


def user_owner(user: Any) -> str | None:
    """A user as an operator knows them: "display name <UPN>", or whichever of the two Graph gave."""
    name, upn = user.display_name, user.user_principal_name
    if name and upn:
        return f"{name} <{upn}>"
    return name or upn or None


@dataclass(frozen=True)
class DeltaItem:
    """One driveItem of a delta page, reduced to what the catalogue needs."""

    item_id: str
    deleted: bool
    is_folder: bool
    is_root: bool = False
    name: str | None = None
    parent_id: str | None = None
    ctag: str | None = None
    etag: str | None = None
    quick_xor_hash: str | None = None
    size: int | None = None
    mime_type: str | None = None
    web_url: str | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None


@dataclass(frozen=True)
class DeltaPage:
    """One page of a delta round: items, and either the next page's link or the round's deltaLink."""

    items: list[DeltaItem]
    next_link: str | None
    delta_link: str | None


def delta_item(item: Any) -> DeltaItem:
    """A DeltaItem from the SDK's DriveItem."""
    file = item.file
    hashes = file.hashes if file is not None else None
    parent = item.parent_reference
    return DeltaItem(
        item_id=item.id,
        deleted=item.deleted is not None,
        is_folder=item.folder is not None or item.root is not None,
        is_root=item.root is not None,
        name=item.name,
        parent_id=parent.id if parent is not None else None,
        ctag=item.c_tag,
        etag=item.e_tag,
        quick_xor_hash=hashes.quick_xor_hash if hashes is not None else None,
        size=item.size,
        mime_type=file.mime_type if file is not None else None,
        web_url=item.web_url,
        created_at=item.created_date_time,
        modified_at=item.last_modified_date_time,
    )


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def delta_item_from_json(item: dict[str, Any]) -> DeltaItem:
    """A DeltaItem from a driveItem's JSON."""
    file = item.get("file")
    parent = item.get("parentReference") or {}
    hashes = (file or {}).get("hashes") or {}
    return DeltaItem(
        item_id=item["id"],
        deleted="deleted" in item,
        is_folder="folder" in item or "root" in item,
        is_root="root" in item,
        name=item.get("name"),
        parent_id=parent.get("id"),
        ctag=item.get("cTag"),
        etag=item.get("eTag"),
        quick_xor_hash=hashes.get("quickXorHash"),
        size=item.get("size"),
        mime_type=(file or {}).get("mimeType"),
        web_url=item.get("webUrl"),
        created_at=_timestamp(item.get("createdDateTime")),
        modified_at=_timestamp(item.get("lastModifiedDateTime")),
    )


def mail_drive_id(user_id: str, folder_id: str) -> str:
    """The drive id a mail folder is crawled under."""
    return f"{MAIL_DRIVE_PREFIX}{user_id}:{folder_id}"


def mail_ids(drive_id: str) -> tuple[str, str] | None:
    """(user id, folder id) of a mail folder's drive id; None for a real drive."""
    if not drive_id.startswith(MAIL_DRIVE_PREFIX):
        return None
    user_id, _, folder_id = drive_id.removeprefix(MAIL_DRIVE_PREFIX).partition(":")
    return user_id, folder_id


# Slashes would read as folders in the path rules; control characters break logs and reports.
_UNSAFE_IN_NAME = re.compile(r"[\\/\x00-\x1f\x7f]+")


def message_name(subject: str | None) -> str:
    """A message's file name: its subject without slashes or control characters, cut short, as an ``.eml``."""
    cleaned = " ".join(_UNSAFE_IN_NAME.sub(" ", subject or "").split())[:MAX_MESSAGE_NAME_CHARS].strip()
    return f"{cleaned or '(no subject)'}.eml"


def delta_item_from_message(message: dict[str, Any]) -> DeltaItem:
    """A DeltaItem from a message of a mail folder's delta page (``@removed`` marks a deleted or moved one)."""
    if "@removed" in message:
        return DeltaItem(item_id=message["id"], deleted=True, is_folder=False)
    return DeltaItem(
        item_id=message["id"],
        deleted=False,
        is_folder=False,
        name=message_name(message.get("subject")),
        ctag=message.get("changeKey"),
        etag=message.get("@odata.etag"),
        mime_type="message/rfc822",
        web_url=message.get("webLink"),
        created_at=_timestamp(message.get("receivedDateTime")),
        modified_at=_timestamp(message.get("lastModifiedDateTime")),
    )


def locator(drive_id: str, item_id: str) -> str:
    """How a Graph document is found again: drive id and item id."""
    return f"{drive_id}/{item_id}"


class GraphSession:
    """One event loop's Graph client, with the calls the crawler and the fetch stage need."""

    def __init__(self, client: Any, caller: GraphCaller, config: GraphSourceConfig, base_url: str) -> None:
        self.client = client
        self.caller = caller
        self.config = config
        self.base_url = base_url
        self._http: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        """Close the download client."""
        if self._http is not None:
            await self._http.aclose()

    # -- discovery --

    async def list_drives(self) -> list[DriveRef]:
        """Every drive this source covers, after its include/exclude rules."""
        if self.config.kind == "sharepoint":
            return await self._site_drives()
        if self.config.kind == "mailbox":
            return await self._mail_folders()
        return await self._user_drives()

    async def _site_drives(self) -> list[DriveRef]:
        config, caller, client = self.config, self.caller, self.client
        builder = client.sites.get_all_sites
        page = await caller.call(builder.get, "list sites")
        sites = list(page.value or [])
        while page.odata_next_link:
            link = page.odata_next_link
            page = await caller.call(builder.with_url(link).get, "list sites")
            sites.extend(page.value or [])
        drives: list[DriveRef] = []
        for site in sites:
            names = [site.name or "", site.display_name or ""]
            if not any(_matches(n, config.include_sites, config.exclude_sites) for n in names if n):
                continue
            site_id = site.id
            listed = await caller.call(client.sites.by_site_id(site_id).drives.get, "list site drives")
            for drive in listed.value or []:
                if drive.drive_type not in (None, "documentLibrary"):
                    continue
                if not _matches(drive.name or "", config.include_libraries, config.exclude_libraries):
                    continue
                label = f"{site.name or site.display_name}/{drive.name}"
                owner = site.display_name or site.name
                drives.append(DriveRef(drive.id, config.name, config.kind, label, drive.web_url, owner))
        return drives

    async def _users(self) -> list[Any]:
        """Every user the source's include/exclude rules take (by user principal name)."""
        config, caller, client = self.config, self.caller, self.client
        page = await caller.call(client.users.get, "list users")
        users = list(page.value or [])
        while page.odata_next_link:
            link = page.odata_next_link
            page = await caller.call(client.users.with_url(link).get, "list users")
            users.extend(page.value or [])
        return [
            user
            for user in users
            if _matches(user.user_principal_name or "", config.include_users, config.exclude_users)
        ]

    async def _user_drives(self) -> list[DriveRef]:
        config, caller, client = self.config, self.caller, self.client
        drives: list[DriveRef] = []
        for user in await self._users():
            user_id = user.id
            try:
                drive = await caller.call(client.users.by_user_id(user_id).drive.get, "get user drive")
            except SourceNotFound:
                continue  # OneDrive not provisioned ("User's mysite not found")
            # The user's id, not their name: folder paths end up in reports and logs.
            label = f"onedrive/{user_id}"
            drives.append(DriveRef(drive.id, config.name, config.kind, label, drive.web_url, user_owner(user)))
        return drives

    async def _mail_folders(self) -> list[DriveRef]:
        drives: list[DriveRef] = []
        for user in await self._users():
            try:
                folders = await self._folders_under(user.id, None, "")
            except SourceNotFound:
                continue  # no mailbox ("MailboxNotEnabledForRESTAPI")
            # The user's id, not their name, in the label: folder paths end up in reports and logs.
            owner, source = user_owner(user), self.config.name
            drives.extend(
                DriveRef(mail_drive_id(user.id, folder_id), source, "mailbox", f"mail/{user.id}/{path}", owner=owner)
                for folder_id, path in folders
            )
        return drives

    async def _folders_under(self, user_id: str, parent_id: str | None, parent_path: str) -> list[tuple[str, str]]:
        """(id, path) of the mail folders under ``parent_id`` (the top level when None) that the rules take."""
        config, caller = self.config, self.caller
        mail = self.client.users.by_user_id(user_id).mail_folders
        builder = mail if parent_id is None else mail.by_mail_folder_id(parent_id).child_folders
        page = await caller.call(builder.get, "list mail folders")
        listed = list(page.value or [])
        while page.odata_next_link:
            page = await caller.call(builder.with_url(page.odata_next_link).get, "list mail folders")
            listed.extend(page.value or [])
        found: list[tuple[str, str]] = []
        for folder in listed:
            path = f"{parent_path}{folder.display_name or folder.id}"
            if _matches(path, ["*"], config.exclude_folders):
                if _matches(path, config.include_folders, []):
                    found.append((folder.id, path))
                if folder.child_folder_count:
                    found.extend(await self._folders_under(user_id, folder.id, f"{path}/"))
        return found

    # -- delta --

    async def delta_page(self, drive_id: str, link: str | None) -> DeltaPage:
        """One delta page: the first of a full enumeration (``link`` None) or the page at ``link``.

        The page goes through the SDK's request adapter (auth, retry, redirect and User-Agent middleware, and
        its ODataError mapping) but is read as JSON: the SDK's DriveItem deserialiser re-runs ~1,200 imports
        per item (6 ms each, 85% of a crawl's CPU when measured).
        """
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        adapter = self.client.request_adapter
        errors = {"XXX": ODataError}
        mail = mail_ids(drive_id)
        reader: Callable[[dict[str, Any]], DeltaItem]
        if mail is None:
            first = self.client.drives.by_drive_id(drive_id).items.by_drive_item_id("root").delta
            prefer, reader = DELTA_PREFER, delta_item_from_json
        else:
            first = self.client.users.by_user_id(mail[0]).mail_folders.by_mail_folder_id(mail[1]).messages.delta
            first = first.with_url(
                f"{self.base_url}/users/{quote(mail[0], safe='')}/mailFolders/{quote(mail[1], safe='')}"
                f"/messages/delta?$select={MESSAGE_SELECT}"
            )
            prefer, reader = MAIL_DELTA_PREFER, delta_item_from_message

        def request() -> Awaitable[Any]:
            cfg: RequestConfiguration[Any] = RequestConfiguration()
            cfg.headers.add("Prefer", prefer)
            info: RequestInformation = first.to_get_request_information(cfg)
            if link:
                info = RequestInformation(Method.GET, link)
                info.headers.add("Prefer", prefer)
            info.headers.try_add("Accept", "application/json")
            return adapter.send_primitive_async(info, "bytes", errors)

        raw = await self.caller.call(request, "delta")
        body = json.loads(raw or b"{}")
        items = [reader(item) for item in body.get("value") or []]
        return DeltaPage(items, body.get("@odata.nextLink"), body.get("@odata.deltaLink"))

    # -- content --

    async def resolve(self, drive_id: str, item_id: str) -> tuple[str, int | None, str | None]:
        """A fresh download URL for an item, with its current size and cTag."""
        builder = self.client.drives.by_drive_id(drive_id).items.by_drive_item_id(item_id)
        url = f"{self.base_url}/drives/{drive_id}/items/{item_id}?$select=id,size,cTag,file,{DOWNLOAD_URL_KEY}"
        item = await self.caller.call(builder.with_url(url).get, "resolve download")
        download = (item.additional_data or {}).get(DOWNLOAD_URL_KEY)
        if item.file is None or not download:
            raise SourceNotFound("item has no content to download (a folder, or not a file any more)")
        return str(download), item.size, item.c_tag

    async def download(self, drive_id: str, item_id: str, max_bytes: int) -> bytes:
        """The item's bytes, streamed from a freshly resolved URL; TooLarge past ``max_bytes``.

        The URL is resolved again for every attempt: it is short-lived, and a failed attempt may be retried
        long after. An expired URL (401/403) gets one fresh one; a failing download host gets the caller's
        back-off, like any Graph call.
        """
        mail = mail_ids(drive_id)
        if mail is not None:
            return await self._message_mime(mail[0], item_id, max_bytes)
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=True, verify=shared_ssl_context()
            )
        expired = failures = 0
        while True:
            url, size, _ = await self.resolve(drive_id, item_id)
            if size is not None and size > max_bytes:
                raise TooLarge(f"file is {size:,} bytes; the limit is {max_bytes:,} (limits.max_file_bytes)")
            await self.caller.wait_if_paused()
            try:
                return await self._stream(url, max_bytes)
            except SourceAuthError:
                expired += 1
                if expired > 1:
                    raise
            except SourceUnavailable:
                failures += 1
                if failures >= self.caller.max_attempts:
                    raise
                await asyncio.sleep(self.caller.backoff(failures))

    async def _message_mime(self, user_id: str, message_id: str, max_bytes: int) -> bytes:
        """A message as MIME (RFC 822, attachments included): what the mail reader reads as an ``.eml``."""
        builder = self.client.users.by_user_id(user_id).messages.by_message_id(message_id).content
        content = await self.caller.call(builder.get, "download message")
        if content is None:
            raise SourceNotFound("message has no content")
        if len(content) > max_bytes:
            raise TooLarge(f"message is {len(content):,} bytes; the limit is {max_bytes:,} (limits.max_file_bytes)")
        return bytes(content)

    async def _stream(self, url: str, max_bytes: int) -> bytes:
        assert self._http is not None
        chunks: list[bytes] = []
        received = 0
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code in (401, 403):
                    raise SourceAuthError(f"download refused: {response.status_code}")
                if response.status_code == 404:
                    raise SourceNotFound("download: the file is gone")
                if response.status_code == 429 or response.status_code >= 500:
                    raise SourceUnavailable(f"download failed: {response.status_code}")
                if response.status_code >= 400:
                    raise SourceError(f"download failed: {response.status_code}")
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK_BYTES):
                    received += len(chunk)
                    if received > max_bytes:
                        raise TooLarge(f"file is over the limit of {max_bytes:,} bytes (limits.max_file_bytes)")
                    chunks.append(chunk)
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"download failed: {type(exc).__name__}") from exc
        return b"".join(chunks)


class GraphSource:
    """A SharePoint, OneDrive or mailbox source (an entry of sources.yaml), and the fetch stage's SourceConnector."""

    def __init__(
        self,
        config: GraphSourceConfig,
        graph: GraphSettings | None = None,
        auth: GraphAuth | None = None,
        *,
        board: PauseBoard | None = None,
        sdk_retry_delay: float | None = None,
        sdk_max_retries: int | None = None,
    ) -> None:
        self.config = config
        self.graph = graph or GraphSettings()
        self.auth = auth or graph_auth_from_env(base_url=self.graph.base_url)
        self.board = board or LocalPauseBoard()
        self.sdk_retry_delay = sdk_retry_delay
        self.sdk_max_retries = sdk_max_retries
        self.name = config.kind  # the provenance source: "sharepoint", "onedrive" or "mailbox"

    def wants(self, path: str) -> bool:
        """Whether a file at ``path`` (label/folders/name) passes the exclude_paths rules."""
        return _matches(path, ["*"], self.config.exclude_paths)

    def caller(self) -> GraphCaller:
        """A caller bound to this source's pause board."""
        return GraphCaller(self.board, max_inline_wait=self.graph.max_inline_wait_seconds)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[GraphSession]:
        """A Graph session for the running event loop."""
        kwargs: dict[str, Any] = {}
        if self.sdk_retry_delay is not None:
            kwargs["sdk_retry_delay"] = self.sdk_retry_delay
        if self.sdk_max_retries is not None:
            kwargs["sdk_max_retries"] = self.sdk_max_retries
        client = create_graph_client(self.auth, self.graph.organisation, **kwargs)
        session = GraphSession(client, self.caller(), self.config, self.auth.base_url)
        try:
            yield session
        finally:
            await session.aclose()

    def discover(self) -> Iterator[Provenance]:
        """Every file of every drive, from one full delta enumeration each (``docintel crawl`` is incremental)."""

        async def collect() -> list[Provenance]:
            found: list[Provenance] = []
            async with self.session() as session:
                for drive in await session.list_drives():
                    link: str | None = None
                    while True:
                        page = await session.delta_page(drive.drive_id, link)
                        found.extend(
                            Provenance(
                                source=self.name,
                                locator=locator(drive.drive_id, item.item_id),
                                name=item.name or item.item_id,
                                path=drive.label,
                                drive_id=drive.drive_id,
                                item_id=item.item_id,
                                etag=item.etag,
                                ctag=item.ctag,
                                web_url=item.web_url,
                                size=item.size,
                                created_at=item.created_at,
                                modified_at=item.modified_at,
                            )
                            for item in page.items
                            if not item.deleted and not item.is_folder
                        )
                        if page.next_link is None:
                            break
                        link = page.next_link
            return found

        yield from asyncio.run(collect())

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """The file's bytes (SourceError when Graph cannot give them; TooLarge past the cap)."""
        if not provenance.drive_id or not provenance.item_id:
            raise SourceNotFound(f"not a Graph document: {provenance.name}")
        cap = min(max_bytes, self.graph.max_download_bytes)

        async def run() -> bytes:
            async with self.session() as session:
                return await session.download(provenance.drive_id or "", provenance.item_id or "", cap)

        return asyncio.run(run())
