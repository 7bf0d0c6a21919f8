"""The Graph v1.0 surface: routes requests (also ``$batch`` inner requests) to the tenant, through the faults.

Framework-free on purpose: :meth:`GraphApi.handle` takes method, path (after ``/v1.0/``), query, headers
and body and returns an :class:`ApiResponse`, so ``$batch`` reuses exactly the same code path as a
single request (each inner request is faulted, throttled and counted on its own, as Graph does).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docintel.graph_emulator.delta import DeltaFeed, MailDeltaFeed
from docintel.graph_emulator.faults import FaultInjector, ResourceBudget
from docintel.graph_emulator.mail import Mailbox, MailFolder, Message
from docintel.graph_emulator.responses import (
    JSON_CONTENT_TYPE,
    ApiResponse,
    GraphError,
    new_request_id,
    standard_headers,
)
from docintel.graph_emulator.spec import EmulatorSpec
from docintel.graph_emulator.tenant import Drive, Tenant
from docintel.graph_emulator.tokens import TokenCodec
from docintel.graph_emulator.views import (
    Links,
    attachment_json,
    download_url,
    drive_json,
    item_json,
    mail_folder_json,
    message_json,
    select,
    site_json,
    user_json,
)

logger = logging.getLogger(__name__)

MAX_BATCH_REQUESTS = 20
MAX_USERS_PAGE = 999
# Resource-unit costs (SharePoint via Graph): single item 1, collections and token-less delta 2, writes 2.
RU_SINGLE, RU_COLLECTION, RU_WRITE = 1, 2, 2

_DRIVE_BASE = r"(?P<base>drives/[^/]+|sites/[^/]+/drives?(?:/[^/]+)?|users/[^/]+/drive|me/drive)"
# Mail paths: the folder may also come as mailFolders('id'), the form Outlook writes into its own links.
_MAILBOX = r"users/(?P<user>[^/]+)/"
_FOLDER = r"mailFolders(?:/(?P<folder>[^/(']+)|\('(?P<quoted>[^']+)'\))"
_MESSAGE = r"messages/(?P<message>[^/]+)"
_DELTA = r"messages/delta(?:\(\))?"
# Outlook's default page for mail collections ($top changes it; delta pages follow Prefer: odata.maxpagesize).
MAIL_PAGE_SIZE = 10
_MAX_PAGE_SIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.I)
_ITEM_OP = (
    r"(?:/(?P<item>root|items/[^/]+)"
    r"(?:/(?P<op>children|content|retentionLabel|delta(?:\(\)|\(token='(?P<token>[^']*)'\))?))?)?"
)


@dataclass
class Stats:
    """Request counters, readable through the control API."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    user_agents: Counter[str] = field(default_factory=Counter)
    downloads: int = 0
    bytes_served: int = 0

    def as_json(self, ru_used: int) -> dict[str, Any]:
        """The counters as JSON."""
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_route": dict(sorted(self.by_route.items())),
            "user_agents": dict(self.user_agents),
            "downloads": self.downloads,
            "bytes_served": self.bytes_served,
            "resource_units": ru_used,
        }


@dataclass
class EmulatorState:
    """Everything a running emulator shares between its Graph, content and control endpoints."""

    tenant: Tenant
    settings: EmulatorSpec
    codec: TokenCodec
    content_port: int
    faults: FaultInjector = field(default_factory=FaultInjector)
    budget: ResourceBudget = field(default_factory=ResourceBudget)
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self.feed = DeltaFeed(self.tenant, self.codec, self.settings)
        self.mail_feed = MailDeltaFeed(self.tenant.mail, self.codec, self.settings)
        self.budget.configure(self.settings.ru_per_minute, self.settings.ru_per_day)


Handler = Callable[["Request"], ApiResponse]


@dataclass
class Request:
    """One Graph request as the router sees it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    links: Links
    match: re.Match[str] | None = None

    def group(self, name: str) -> str | None:
        """A named part of the matched route."""
        return self.match.groupdict().get(name) if self.match else None


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, body, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})})


def _select(query: Mapping[str, str]) -> list[str] | None:
    raw = query.get("$select")
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else None


class GraphApi:
    """Routes Graph requests; one instance per running emulator."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.tenant = state.tenant
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = [
            ("GET", re.compile(r"sites"), "sites.search", self._sites_search),
            ("GET", re.compile(r"sites/getAllSites(?:\(\))?", re.I), "sites.getAllSites", self._sites_all),
            ("GET", re.compile(r"sites/root", re.I), "sites.get", self._site_root),
            ("GET", re.compile(r"sites/(?P<site>[^/]+)", re.I), "sites.get", self._site),
            ("GET", re.compile(r"sites/(?P<site>[^/]+)/drives", re.I), "sites.drives", self._site_drives),
            ("GET", re.compile(r"users", re.I), "users.list", self._users),
            ("GET", re.compile(r"users/(?P<user>[^/]+)", re.I), "users.get", self._user),
            ("GET|PATCH|DELETE", re.compile(_DRIVE_BASE + _ITEM_OP, re.I), "drive", self._drive_route),
            ("GET", re.compile(_MAILBOX + r"mailFolders", re.I), "mail.folders", self._mail_folders),
            ("GET", re.compile(_MAILBOX + _FOLDER, re.I), "mail.folder", self._mail_folder),
            ("GET", re.compile(_MAILBOX + _FOLDER + "/childFolders", re.I), "mail.folders", self._mail_folders),
            ("GET", re.compile(_MAILBOX + _FOLDER + "/messages", re.I), "mail.messages", self._mail_messages),
            ("GET", re.compile(_MAILBOX + _FOLDER + "/" + _DELTA, re.I), "mail.delta", self._mail_delta),
            ("GET", re.compile(_MAILBOX + "messages", re.I), "mail.messages", self._mail_messages),
            ("GET", re.compile(_MAILBOX + _DELTA, re.I), "mail.delta", self._mail_delta_unfoldered),
            ("GET", re.compile(_MAILBOX + _MESSAGE, re.I), "mail.message", self._mail_message),
            ("GET", re.compile(_MAILBOX + _MESSAGE + r"/\$value", re.I), "mail.content", self._mail_content),
            ("GET", re.compile(_MAILBOX + _MESSAGE + "/attachments", re.I), "mail.attachments", self._attachments),
            (
                "GET",
                re.compile(_MAILBOX + _MESSAGE + "/attachments/(?P<attachment>[^/]+)", re.I),
                "mail.attachment",
                self._attachment,
            ),
            ("POST", re.compile(r"\$batch", re.I), "batch", self._batch),
        ]

    # ---- entry point -----------------------------------------------------------------------------------

    def handle(  # noqa: PLR0917 - mirrors an HTTP request's parts; $batch calls it positionally too
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any, links: Links
    ) -> ApiResponse:
        """Answer one request (auth, faults, throttling, routing) with Graph's headers and error shapes."""
        state = self.state
        request_id = new_request_id()
        client_request_id = headers.get("client-request-id")
        path = path.strip("/")
        state.stats.requests += 1
        agent = headers.get("user-agent")
        if agent:
            state.stats.user_agents[agent] += 1
        route_name = "unknown"
        try:
            handler, match, route_name = self._route(method, path)
            request = Request(method.upper(), path, query, headers, body, links, match)
            if route_name != "batch":
                self._authorise(headers)
                injected = state.faults.check("graph", method, path)
                if injected is not None:
                    raise injected
                extra = state.budget.charge(self._cost(route_name, request))
            else:
                extra = {}
            response = handler(request)
            response.headers.update(extra)
        except GraphError as error:
            response = error.response(request_id, client_request_id)
            response.headers["Content-Type"] = JSON_CONTENT_TYPE
        state.stats.by_route[route_name] += 1
        state.stats.by_status[response.status] += 1
        response.headers.update(standard_headers(request_id, client_request_id))
        if response.status >= 400:
            logger.debug("graph %s %s -> %d", method, route_name, response.status)
        return response

    def _route(self, method: str, path: str) -> tuple[Handler, re.Match[str], str]:
        allowed = False
        for methods, pattern, name, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method.upper() in methods.split("|"):
                return handler, match, name
            allowed = True
        if allowed:
            raise GraphError(405, "BadRequest", f"The request method '{method}' is not allowed for this resource.")
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path.rsplit('/', maxsplit=1)[-1]}'.")

    def _authorise(self, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        required = self.state.settings.require_token
        if required is not None and token.strip() != required:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")

    def _cost(self, route_name: str, request: Request) -> int:
        if request.method in ("PATCH", "DELETE", "POST"):
            return RU_WRITE
        if route_name in ("sites.search", "sites.getAllSites", "sites.drives", "users.list"):
            return RU_COLLECTION
        if route_name in ("mail.folders", "mail.messages", "mail.attachments"):
            return RU_COLLECTION
        if route_name == "mail.delta":
            has_token = "$deltatoken" in request.query or "$skiptoken" in request.query
            return RU_SINGLE if has_token else RU_COLLECTION
        op = (request.group("op") or "").lower()
        if op == "children":
            return RU_COLLECTION
        if op.startswith("delta"):
            has_token = bool(request.group("token") or request.query.get("token"))
            return RU_SINGLE if has_token else RU_COLLECTION
        return RU_SINGLE

    # ---- sites and users -------------------------------------------------------------------------------

    def _page(
        self, request: Request, values: list[Any], default_top: int, base_path: str, extra_query: str = ""
    ) -> dict[str, Any]:
        codec = self.state.codec
        top = default_top
        offset = 0
        skip = request.query.get("$skiptoken")
        if skip:
            payload = codec.decode(skip)
            if payload is None or payload.get("p") != base_path:
                raise GraphError(400, "invalidRequest", "Invalid skip token.")
            offset, top = payload["o"], payload["top"]
        elif "$top" in request.query:
            top = self._top(request.query["$top"], MAX_USERS_PAGE)
        page = values[offset : offset + top]
        body: dict[str, Any] = {"value": page}
        if offset + top < len(values):
            token = codec.encode({"p": base_path, "o": offset + top, "top": top})
            body["@odata.nextLink"] = f"{request.links.graph_base}/{base_path}?{extra_query}$skiptoken={token}"
        return body

    @staticmethod
    def _top(raw: str, maximum: int) -> int:
        try:
            top = int(raw)
        except ValueError:
            top = -1
        if not 1 <= top <= maximum:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.",
            )
        return top

    def _site_list(self, query: str) -> list[dict[str, Any]]:
        needle = query.strip().strip('"').lower()
        sites = [s for s in self.tenant.sites if not s.personal]
        if needle not in ("", "*"):
            sites = [s for s in sites if needle in s.name.lower() or needle in s.display_name.lower()]
        return [site_json(self.tenant, s) for s in sites]

    def _sites_search(self, request: Request) -> ApiResponse:
        query = request.query.get("search", request.query.get("$search", "*"))
        values = self._site_list(query)
        body = self._page(request, values, self.state.settings.page_size, "sites", f"search={query}&")
        return _json(200, {"@odata.context": f"{request.links.graph_base}/$metadata#sites", **body})

    def _sites_all(self, request: Request) -> ApiResponse:
        body = self._page(request, self._site_list("*"), self.state.settings.page_size, "sites/getAllSites")
        return _json(200, {"@odata.context": f"{request.links.graph_base}/$metadata#sites", **body})

    def _site_root(self, request: Request) -> ApiResponse:
        sites = [s for s in self.tenant.sites if not s.personal]
        if not sites:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        return _json(200, site_json(self.tenant, sites[0]))

    def _site(self, request: Request) -> ApiResponse:
        return _json(200, site_json(self.tenant, self.tenant.site(request.group("site") or "")))

    def _site_drives(self, request: Request) -> ApiResponse:
        site = self.tenant.site(request.group("site") or "")
        drives = [drive_json(self.tenant, self.tenant.drives[d]) for d in site.drives]
        return _json(200, {"@odata.context": f"{request.links.graph_base}/$metadata#drives", "value": drives})

    def _users(self, request: Request) -> ApiResponse:
        wanted = _select(request.query)
        values = [select(user_json(self.tenant, u), set(wanted) if wanted else None) for u in self.tenant.users]
        extra = f"$select={request.query['$select']}&" if wanted else ""
        body = self._page(request, values, self.state.settings.users_page_size, "users", extra)
        return _json(200, {"@odata.context": f"{request.links.graph_base}/$metadata#users", **body})

    def _user(self, request: Request) -> ApiResponse:
        return _json(200, user_json(self.tenant, self.tenant.user(request.group("user") or "")))

    # ---- drives and items ---------------------------------------------------------------------------

    def _resolve_drive(self, base: str) -> Drive:
        parts = base.split("/")
        head = parts[0].lower()
        tenant = self.tenant
        if head == "drives":
            return tenant.drive(parts[1])
        if head == "me":
            raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
        if head == "users":
            user = tenant.user(parts[1])
            if user.drive is None:
                raise GraphError(404, "ResourceNotFound", "User's mysite not found.")
            return tenant.drives[user.drive]
        site = tenant.site(parts[1])
        if parts[2].lower() == "drives" and len(parts) == 4:
            drive = tenant.drive(parts[3])
            if drive.site != site.index:
                raise GraphError(404, "itemNotFound", "The resource could not be found.")
            return drive
        if parts[2].lower() != "drive" or len(parts) != 3 or not site.drives:
            raise GraphError(400, "BadRequest", "Resource not found for the segment 'drives'.")
        return tenant.drives[site.drives[0]]

    def _drive_route(self, request: Request) -> ApiResponse:
        base = request.group("base") or ""
        if base.lower().startswith("sites/") and base.lower().endswith("/drives"):
            if request.group("item") or request.method != "GET":
                raise GraphError(400, "BadRequest", "Resource not found for the segment 'drives'.")
            return self._site_drives_by_base(request, base)
        drive = self._resolve_drive(base)
        item_part = request.group("item")
        op = (request.group("op") or "").lower()
        if item_part is None:
            self._only(request, "GET")
            return _json(200, drive_json(self.tenant, drive))
        item_id = "root" if item_part.lower() == "root" else item_part.split("/", 1)[1]
        index = self.tenant.item(drive, item_id)
        if op == "":
            self._only(request, "GET")
            return self._item(request, index)
        if op == "children":
            self._only(request, "GET")
            return self._children(request, drive, index)
        if op == "content":
            self._only(request, "GET")
            return self._content(request, index)
        if op == "retentionlabel":
            return self._retention_label(request, index)
        self._only(request, "GET")
        if index != drive.root:
            raise GraphError(400, "invalidRequest", "Delta is only supported on the root of a document library.")
        return self._delta(request, drive)

    def _site_drives_by_base(self, request: Request, base: str) -> ApiResponse:
        request.match = re.fullmatch(r"sites/(?P<site>[^/]+)/drives", base, re.I)
        return self._site_drives(request)

    @staticmethod
    def _only(request: Request, method: str) -> None:
        if request.method != method:
            raise GraphError(
                405, "BadRequest", f"The request method '{request.method}' is not allowed for this resource."
            )

    def _render(self, request: Request, index: int) -> dict[str, Any]:
        item = item_json(
            self.tenant,
            index,
            request.links,
            codec=self.state.codec,
            ttl_seconds=self.state.settings.download_url_ttl_seconds,
        )
        wanted = _select(request.query)
        return select(item, set(wanted) if wanted else None)

    def _item(self, request: Request, index: int) -> ApiResponse:
        return _json(200, self._render(request, index))

    def _children(self, request: Request, drive: Drive, index: int) -> ApiResponse:
        if not self.tenant.is_folder(index):
            return _json(200, {"value": []})
        codec = self.state.codec
        offset, top = 0, self.state.settings.page_size
        skip = request.query.get("$skiptoken")
        query = dict(request.query)
        if skip:
            payload = codec.decode(skip)
            if payload is None or payload.get("f") != index:
                raise GraphError(400, "invalidRequest", "Invalid skip token.")
            offset, top, wanted = payload["o"], payload["top"], payload.get("q")
            if wanted:
                query["$select"] = ",".join(wanted)
        elif "$top" in request.query:
            top = self._top(request.query["$top"], MAX_USERS_PAGE)
        request.query = query
        children = self.tenant.children.get(index, ())
        page = [self._render(request, child) for child in children[offset : offset + top]]
        body: dict[str, Any] = {
            "@odata.context": f"{request.links.graph_base}/$metadata#Collection(driveItem)",
            "value": page,
        }
        if offset + top < len(children):
            token = codec.encode({"f": index, "o": offset + top, "top": top, "q": _select(query)})
            item_id = self.tenant.ids.encode(index)
            body["@odata.nextLink"] = (
                f"{request.links.graph_base}/drives/{drive.id}/items/{item_id}/children?$skiptoken={token}"
            )
        return _json(200, body)

    def _content(self, request: Request, index: int) -> ApiResponse:
        tenant = self.tenant
        if tenant.is_folder(index):
            raise GraphError(400, "invalidRequest", "The item is a folder and has no content.")
        guid = tenant.item_guid(index)
        tags = {f'"{{{guid}}},{tenant.version[index]}"', f'"c:{{{guid}}},{tenant.content_version[index]}"'}
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and (if_none_match.strip() == "*" or tags & set(re.findall(r'"[^"]*"', if_none_match))):
            return ApiResponse(304, None, {})
        url = download_url(tenant, self.state.codec, request.links, index, self.state.settings.download_url_ttl_seconds)
        return ApiResponse(302, None, {"Location": url})

    def _retention_label(self, request: Request, index: int) -> ApiResponse:
        tenant = self.tenant
        if request.method == "GET":
            label = tenant.retention_labels.get(index)
            if label is None:
                raise GraphError(404, "itemNotFound", "The item has no retention label.")
            return _json(200, label)
        if request.method == "DELETE":
            tenant.remove_retention_label(index)
            return ApiResponse(204, None, {})
        if not isinstance(request.body, dict):
            raise GraphError(400, "BadRequest", "A JSON body is required.")
        status, label = tenant.set_retention_label(index, request.body, request.headers.get("user-agent", "app"))
        return _json(status, label)

    def _delta(self, request: Request, drive: Drive) -> ApiResponse:
        settings = self.state.settings
        token = request.group("token")
        if token is None:
            token = request.query.get("token")
        feed = self.state.feed
        cursor = feed.open(drive, token, request.links, _select(request.query))
        page_size = settings.page_size
        if "$top" in request.query:
            page_size = self._top(request.query["$top"], MAX_USERS_PAGE)
        page = feed.page(drive, cursor, request.links, page_size, settings.download_url_ttl_seconds)
        body: dict[str, Any] = {
            "@odata.context": f"{request.links.graph_base}/$metadata#Collection(driveItem)",
            "value": page.items,
        }
        delta_url = f"{request.links.graph_base}/drives/{drive.id}/root/delta?token="
        if page.next_token is not None:
            body["@odata.nextLink"] = delta_url + page.next_token
        else:
            body["@odata.deltaLink"] = delta_url + (page.delta_token or "")
        return _json(200, body)

    # ---- mail ----------------------------------------------------------------------------------------

    def _mailbox(self, request: Request) -> Mailbox:
        key = request.group("user") or ""
        user = self.tenant.user_by_key.get(key) or self.tenant.user_by_key.get(key.lower())
        if user is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")
        return self.tenant.mail.mailbox(user.index)

    def _folder_of(self, request: Request, mailbox: Mailbox) -> MailFolder:
        return self.tenant.mail.folder(mailbox, request.group("folder") or request.group("quoted") or "")

    def _message_of(self, request: Request) -> Message:
        return self.tenant.mail.message(request.group("message") or "", self._mailbox(request))

    def _mail_folders(self, request: Request) -> ApiResponse:
        """The top-level folders, or a folder's childFolders (Graph lists one level at a time)."""
        mail, mailbox = self.tenant.mail, self._mailbox(request)
        parent = self._folder_of(request, mailbox) if request.group("folder") or request.group("quoted") else None
        values = [mail_folder_json(mail, mailbox, f) for f in mail.children(mailbox, parent)]
        path = f"users/{self.tenant.users[mailbox.user].id}/mailFolders"
        path += "" if parent is None else f"/{parent.id}/childFolders"
        body = self._page(request, values, MAIL_PAGE_SIZE, path)
        return _json(
            200,
            {"@odata.context": f"{request.links.graph_base}/$metadata#users('{mailbox.address}')/mailFolders", **body},
        )

    def _mail_folder(self, request: Request) -> ApiResponse:
        mailbox = self._mailbox(request)
        return _json(200, mail_folder_json(self.tenant.mail, mailbox, self._folder_of(request, mailbox)))

    def _mail_messages(self, request: Request) -> ApiResponse:
        mail = self.tenant.mail
        mailbox = self._mailbox(request)
        user_id = self.tenant.users[mailbox.user].id
        if request.group("folder") or request.group("quoted"):
            folder = self._folder_of(request, mailbox)
            messages, base_path = mail.live(folder), f"users/{user_id}/mailFolders/{folder.id}/messages"
        else:
            messages = [m for f in mailbox.folders for m in mail.live(f)]
            base_path = f"users/{user_id}/messages"
        messages.sort(key=lambda m: m.received, reverse=True)  # Outlook's default order: newest first
        body = self._page(request, messages, MAIL_PAGE_SIZE, base_path)
        body["value"] = [message_json(mail, m) for m in body["value"]]
        return _json(200, {"@odata.context": f"{request.links.graph_base}/$metadata#Collection(message)", **body})

    def _mail_delta(self, request: Request) -> ApiResponse:
        mailbox = self._mailbox(request)
        folder = self._folder_of(request, mailbox)
        prefer = _MAX_PAGE_SIZE.search(request.headers.get("prefer", ""))
        page_size = max(1, int(prefer.group(1))) if prefer else self.state.settings.page_size
        feed = self.state.mail_feed
        cursor = feed.open(
            mailbox, folder, request.query.get("$skiptoken"), request.query.get("$deltatoken"), page_size
        )
        if prefer:
            cursor["m"] = page_size
        page = feed.page(mailbox, folder, cursor)
        user_id = self.tenant.users[mailbox.user].id
        link = f"{request.links.graph_base}/users/{user_id}/mailFolders('{folder.id}')/messages/delta"
        body: dict[str, Any] = {
            "@odata.context": f"{request.links.graph_base}/$metadata#Collection(message)",
            "value": page.items,
        }
        if page.next_token is not None:
            body["@odata.nextLink"] = f"{link}?$skiptoken={page.next_token}"
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={page.delta_token}"
        headers = {"Preference-Applied": f"odata.maxpagesize={page_size}"} if prefer else {}
        return _json(200, body, headers)

    def _mail_delta_unfoldered(self, request: Request) -> ApiResponse:
        self._mailbox(request)
        raise GraphError(400, "BadRequest", "Change tracking is not supported against 'microsoft.graph.message'.")

    def _mail_message(self, request: Request) -> ApiResponse:
        message = self._message_of(request)
        body = message_json(self.tenant.mail, message)
        context = f"{request.links.graph_base}/$metadata#users('{request.group('user')}')/messages/$entity"
        return _json(200, {"@odata.context": context, **body})

    def _mail_content(self, request: Request) -> ApiResponse:
        return ApiResponse(200, self.tenant.mail.mime(self._message_of(request)), {"Content-Type": "message/rfc822"})

    def _attachments(self, request: Request) -> ApiResponse:
        attachments = attachment_json(self.tenant.mail, self._message_of(request))
        context = f"{request.links.graph_base}/$metadata#Collection(attachment)"
        return _json(200, {"@odata.context": context, "value": attachments})

    def _attachment(self, request: Request) -> ApiResponse:
        wanted = request.group("attachment")
        found = [a for a in attachment_json(self.tenant.mail, self._message_of(request)) if a["id"] == wanted]
        if not found:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return _json(200, found[0])

    # ---- $batch ---------------------------------------------------------------------------------------

    def _batch(self, request: Request) -> ApiResponse:
        body = request.body
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise GraphError(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > MAX_BATCH_REQUESTS:
            raise GraphError(
                400, "BadRequest", f"Number of batch request steps exceeds the maximum of {MAX_BATCH_REQUESTS}."
            )
        ids = [str(inner.get("id")) for inner in requests if isinstance(inner, dict)]
        if len(ids) != len(requests) or len(set(ids)) != len(ids):
            raise GraphError(400, "BadRequest", "Batch request ids must be unique.")
        statuses: dict[str, int] = {}
        responses = []
        for inner in requests:
            responses.append(self._batch_one(inner, request, statuses))
        return _json(200, {"responses": responses})

    def _batch_one(self, inner: dict[str, Any], outer: Request, statuses: dict[str, int]) -> dict[str, Any]:
        inner_id = str(inner["id"])
        depends = inner.get("dependsOn") or []
        if any(statuses.get(str(dep), 424) >= 400 for dep in depends):
            statuses[inner_id] = 424
            error = GraphError(424, "failedDependency", "The request was not executed because a dependency failed.")
            failed = error.response(new_request_id(), None)
            return {"id": inner_id, "status": 424, "headers": {"Content-Type": "application/json"}, "body": failed.body}
        url = str(inner.get("url", "")).lstrip("/")
        if url.lower().startswith("v1.0/"):
            url = url[5:]
        path, _, raw_query = url.partition("?")
        query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        path = urllib.parse.unquote(path)
        headers = {k.lower(): str(v) for k, v in (inner.get("headers") or {}).items()}
        for name in ("authorization", "user-agent"):
            if name in outer.headers and name not in headers:
                headers[name] = outer.headers[name]
        response = self.handle(str(inner.get("method", "GET")), path, query, headers, inner.get("body"), outer.links)
        statuses[inner_id] = response.status
        result: dict[str, Any] = {"id": inner_id, "status": response.status}
        out_headers = {
            k: v for k, v in response.headers.items() if k.lower() in ("location", "retry-after", "content-type")
        }
        if out_headers:
            result["headers"] = {
                ("Content-Type" if k.lower() == "content-type" else k): v for k, v in out_headers.items()
            }
        if isinstance(response.body, dict):
            result["body"] = response.body
            result.setdefault("headers", {})["Content-Type"] = "application/json"
        return result


def parse_body(raw: bytes) -> Any:
    """A request body as JSON when it is JSON (else None)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
