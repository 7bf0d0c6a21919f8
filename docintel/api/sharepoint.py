"""Reading a submitted invoice from SharePoint or OneDrive, by drive and item id, through Microsoft Graph.

Power Automate's SharePoint trigger hands a flow the file's drive id and item id; sending those instead of the
bytes saves the flow a "Get file content" step and keeps large scans out of the flow's own payload limits.
The server reads the file with the crawler's Graph client (the official msgraph-sdk, app-only credentials
from ``DOCINTEL_GRAPH_*``; see docintel/sources/graph_client.py), so the same app registration serves both.

A request never waits long on Graph: throttling past ``MAX_INLINE_WAIT_SECONDS`` answers 503 with Retry-After,
and the flow's own retry policy sends it again. Graph's answers are translated for the API's caller:

    drive not allow-listed for the key      404 (checked first, by the API; the same answer as not found)
    item not found (or not a file)          404
    file over the API's upload limit        413
    Graph refused docintel's credentials    502 (the caller's API key is fine; the server's app is not)
    Graph throttling / unavailable          503 with Retry-After
    anything else from Graph                502
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from docintel.api.errors import ApiError, NotConfigured, ServiceBusy
from docintel.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceThrottled,
    SourceUnavailable,
)
from docintel.settings import Settings
from docintel.sources.graph import (
    SOURCES_FILE,
    GraphCaller,
    GraphSession,
    GraphSettings,
    GraphSource,
    GraphSourceConfig,
    LocalPauseBoard,
    load_sources_config,
)
from docintel.sources.graph_client import GraphAuth, close_graph_client, create_graph_client, graph_auth_from_env

logger = logging.getLogger(__name__)

# The longest throttling pause a request sits through before answering 503 (Power Automate times out at 120 s),
# and how many times one Graph call is tried before the request gives up.
MAX_INLINE_WAIT_SECONDS = 10.0
MAX_CALL_ATTEMPTS = 3
# Graph ids are opaque, but never this long nor holding path or query characters.
_MAX_ID_LENGTH = 256
_FORBIDDEN_ID_CHARACTERS = frozenset("/?#%\\ \t\r\n")
# One answer for an absent item and for a drive the key may not name, so neither tells the other apart.
ITEM_NOT_FOUND_MESSAGE = "no file with that drive_id and item_id that this API key may read"


class ItemNotFound(ApiError):
    """The SharePoint item does not exist, or is not a file."""

    http_status = 404


class GraphFailed(ApiError):
    """Graph would not give the file (the server's credentials, or an error on Graph's side)."""

    http_status = 502


@dataclass(frozen=True)
class SharePointReader:
    """Reads files by drive and item id; ``unavailable`` says why it cannot when Graph is not configured."""

    auth: GraphAuth | None
    graph: GraphSettings
    unavailable: str | None = None
    # Shared by every request of this server: when Graph throttles one, the others wait too (graph.md).
    board: LocalPauseBoard = field(default_factory=LocalPauseBoard, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SharePointReader:
        """Graph's endpoint from sources.yaml (when present) and credentials from the environment."""
        graph = GraphSettings()
        path = settings.config_path(SOURCES_FILE)
        if path.exists():
            try:
                graph = load_sources_config(path).graph
            except ConfigError as error:
                return cls(None, graph, f"SharePoint references are off: {error.message}")
        try:
            auth = graph_auth_from_env(base_url=graph.base_url)
        except ConfigError as error:
            return cls(None, graph, f"SharePoint references need Graph credentials: {error.message}")
        return cls(auth, graph)

    def check_available(self) -> None:
        """NotConfigured (501) when this server has no Graph credentials: says nothing about any item."""
        if self.auth is None:
            raise NotConfigured(
                f"{self.unavailable}; send the file itself as 'content' (base64) or as multipart 'file'"
            )

    async def read(self, drive_id: str, item_id: str, max_bytes: int) -> bytes:
        """The item's bytes; ApiError subclasses for everything the caller should hear about."""
        self.check_available()
        assert self.auth is not None  # check_available raised otherwise
        for label, value in (("drive_id", drive_id), ("item_id", item_id)):
            if not value or len(value) > _MAX_ID_LENGTH or _FORBIDDEN_ID_CHARACTERS.intersection(value):
                raise ItemNotFound(f"sharepoint.{label} is not a Graph id")
        wait = min(self.graph.max_inline_wait_seconds, MAX_INLINE_WAIT_SECONDS)
        caller = GraphCaller(self.board, max_inline_wait=wait, max_attempts=MAX_CALL_ATTEMPTS)
        # No retries inside the SDK: its retry handler would sit out a Retry-After of up to 180 s in the request.
        client = create_graph_client(self.auth, self.graph.organisation, sdk_max_retries=0)
        source = GraphSourceConfig(name="invoice-api", kind="sharepoint")
        session = GraphSession(client, caller, source, self.auth.base_url)
        try:
            return await session.download(drive_id, item_id, min(max_bytes, self.graph.max_download_bytes))
        except SourceNotFound:
            raise ItemNotFound(ITEM_NOT_FOUND_MESSAGE) from None
        except (SourceThrottled, SourceUnavailable) as error:
            logger.warning("SharePoint read for an invoice: Graph busy (%s)", error.kind)
            retry_after = getattr(error, "retry_after", None) or 30.0
            raise ServiceBusy(
                "Microsoft Graph is throttling or unavailable; try again", retry_after=retry_after
            ) from None
        except SourceAuthError:
            logger.error("SharePoint read for an invoice: Graph refused this server's credentials")
            raise GraphFailed("Microsoft Graph refused this server's credentials for that file") from None
        except SourceError as error:
            logger.warning("SharePoint read for an invoice failed: %s", error.kind)
            raise GraphFailed(f"Microsoft Graph could not give the file: {error.message}") from None
        finally:
            await session.aclose()
            await close_graph_client(client)


def site_drive_ids(settings: Settings, sites: Sequence[str]) -> list[str]:
    """The document libraries' drive ids of the sites named (name or display name, fnmatch patterns), via Graph.

    For ``docintel api-key create --site``: the allow-list holds drive ids, so a request is checked without a
    Graph call; a library added to the site later is not included until the key's drives are set again.
    ConfigError when Graph is not configured or no site matches.
    """
    graph = GraphSettings()
    path = settings.config_path(SOURCES_FILE)
    if path.exists():
        graph = load_sources_config(path).graph
    source = GraphSource(
        GraphSourceConfig(name="api-key", kind="sharepoint", include_sites=list(sites)),
        graph,
        graph_auth_from_env(base_url=graph.base_url),
    )

    async def listed() -> list[str]:
        async with source.session() as session:
            return [drive.drive_id for drive in await session.list_drives()]

    try:
        drives = asyncio.run(listed())
    except SourceError as error:
        raise ConfigError(f"could not list the sites' drives through Graph: {error.message}") from None
    if not drives:
        raise ConfigError(f"no SharePoint site named {', '.join(sites)} has a document library")
    return drives
