"""Building the Microsoft Graph client, and translating its errors at this one boundary.

Production uses app-only auth (``ClientSecretCredential`` or ``CertificateCredential``) with settings from
the environment; the emulator takes a static bearer token. Every request carries the User-Agent Microsoft
asks crawlers to send (``NONISV|<org>|docintel/<version>``) so the tenant's traffic is not deprioritised.

The SDK's own retry handler is kept for short waits only (one retry): long and repeated throttling is
handled by the crawler, which pauses every worker of the tenant (``workers/throttle.py``).

Environment variables (secrets only ever come from here):

    DOCINTEL_GRAPH_BASE_URL          https://graph.microsoft.com/v1.0, or the emulator's http://127.0.0.1:PORT/v1.0
    DOCINTEL_GRAPH_TOKEN             a static bearer token (the emulator; tests)
    DOCINTEL_GRAPH_TENANT_ID         Entra tenant (directory) id
    DOCINTEL_GRAPH_CLIENT_ID         the app registration's client id
    DOCINTEL_GRAPH_CLIENT_SECRET     client secret, or:
    DOCINTEL_GRAPH_CERTIFICATE_PATH  PEM/PFX certificate with its private key (+ _PASSWORD if encrypted)
"""

from __future__ import annotations

import email.utils
import logging
import os
import ssl
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from docintel import __version__
from docintel.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceThrottled,
    SourceUnavailable,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ENV_BASE_URL = "DOCINTEL_GRAPH_BASE_URL"
ENV_TOKEN = "DOCINTEL_GRAPH_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_TENANT_ID = "DOCINTEL_GRAPH_TENANT_ID"
ENV_CLIENT_ID = "DOCINTEL_GRAPH_CLIENT_ID"
ENV_CLIENT_SECRET = "DOCINTEL_GRAPH_CLIENT_SECRET"  # noqa: S105
ENV_CERTIFICATE_PATH = "DOCINTEL_GRAPH_CERTIFICATE_PATH"
ENV_CERTIFICATE_PASSWORD = "DOCINTEL_GRAPH_CERTIFICATE_PASSWORD"  # noqa: S105

# The SDK retries 429/503/504 itself this many times (its default is 3, waiting up to 180 s each): a single
# quick retry absorbs blips, and anything longer goes to the crawler's tenant-wide pause instead.
SDK_MAX_RETRIES = 1
SDK_RETRY_DELAY_SECONDS = 3.0
# Delay asked for when Graph throttles without a Retry-After header.
DEFAULT_RETRY_AFTER_SECONDS = 10.0


class DeltaResyncRequired(SourceError):
    """Graph answered 410 resyncRequired (or, for mail, syncStateNotFound): the delta token is gone; enumerate again.

    ``location`` is where to start the new enumeration when Graph says (drives do), else None (a fresh one).
    """

    http_status = 410

    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


@dataclass(frozen=True)
class GraphAuth:
    """How to reach Graph and prove who we are; built from the environment, never from config files."""

    base_url: str = GRAPH_BASE_URL
    token: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    certificate_path: str | None = None
    certificate_password: str | None = None

    def __repr__(self) -> str:
        # Never print a secret, even in a traceback's locals.
        return f"GraphAuth(base_url={self.base_url!r}, method={self.method!r})"

    @property
    def method(self) -> str:
        """Which credential will be used: token, certificate or secret."""
        if self.token:
            return "token"
        if self.certificate_path:
            return "certificate"
        return "secret"


def graph_auth_from_env(environ: Mapping[str, str] | None = None, base_url: str | None = None) -> GraphAuth:
    """Read the Graph endpoint and credentials from the environment (``base_url`` from config as fallback)."""
    env = os.environ if environ is None else environ
    auth = GraphAuth(
        base_url=(env.get(ENV_BASE_URL) or base_url or GRAPH_BASE_URL).rstrip("/"),
        token=env.get(ENV_TOKEN) or None,
        tenant_id=env.get(ENV_TENANT_ID) or None,
        client_id=env.get(ENV_CLIENT_ID) or None,
        client_secret=env.get(ENV_CLIENT_SECRET) or None,
        certificate_path=env.get(ENV_CERTIFICATE_PATH) or None,
        certificate_password=env.get(ENV_CERTIFICATE_PASSWORD) or None,
    )
    if auth.token is None:
        missing = [
            name for name, value in ((ENV_TENANT_ID, auth.tenant_id), (ENV_CLIENT_ID, auth.client_id)) if not value
        ]
        if not (auth.client_secret or auth.certificate_path):
            missing.append(f"{ENV_CLIENT_SECRET} or {ENV_CERTIFICATE_PATH}")
        if missing:
            raise ConfigError(f"Graph credentials missing from the environment: {', '.join(missing)}")
    return auth


def user_agent(organisation: str) -> str:
    """The User-Agent Microsoft asks enterprise crawlers to send."""
    safe = "".join(ch for ch in organisation if ch.isprintable() and ch not in "|\r\n") or "council"
    return f"NONISV|{safe}|docintel/{__version__}"


# Building an SSL context reads the CA bundle (~40 ms); a crawler makes two clients per document, so share one.
_SSL_CONTEXT: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process (workers create it before forking)."""
    global _SSL_CONTEXT  # noqa: PLW0603 - a per-process cache
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = ssl.create_default_context()
    return _SSL_CONTEXT


def warm_sdk_models() -> None:
    """Import the SDK's model classes now: the first DriveItem deserialisation imports ~1,200 modules (2.6 s)."""
    from msgraph.generated.models.drive_item import DriveItem

    DriveItem().get_field_deserializers()


def _static_token_provider(token: str, hosts: list[str]) -> Any:
    from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator

    class StaticTokenProvider(AccessTokenProvider):
        """Hands the configured token to requests for the Graph host only (never to download hosts)."""

        def __init__(self) -> None:
            self._validator = AllowedHostsValidator(hosts)

        async def get_authorization_token(
            self, uri: str, additional_authentication_context: dict[str, Any] | None = None
        ) -> str:
            return token if self._validator.is_url_host_valid(uri) else ""

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return self._validator

    return StaticTokenProvider()


def _credential(auth: GraphAuth) -> Any:
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    if auth.certificate_path:
        return CertificateCredential(
            auth.tenant_id or "",
            auth.client_id or "",
            certificate_path=auth.certificate_path,
            password=auth.certificate_password,
        )
    return ClientSecretCredential(auth.tenant_id or "", auth.client_id or "", auth.client_secret or "")


def create_graph_client(
    auth: GraphAuth,
    organisation: str,
    *,
    sdk_max_retries: int = SDK_MAX_RETRIES,
    sdk_retry_delay: float = SDK_RETRY_DELAY_SECONDS,
) -> Any:
    """A ``GraphServiceClient`` for ``auth``; create it inside the event loop that uses it (the SDK is loop-bound)."""
    from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    options = {RetryHandlerOption.get_key(): RetryHandlerOption(delay=sdk_retry_delay, max_retries=sdk_max_retries)}
    # The SDK's default client settings (timeouts, HTTP/2), with the shared SSL context.
    base = httpx.AsyncClient(timeout=httpx.Timeout(100, connect=30), http2=True, verify=shared_ssl_context())
    http_client = GraphClientFactory.create_with_default_middleware(client=base, options=options)
    http_client.headers["User-Agent"] = user_agent(organisation)
    if auth.token:
        host = httpx.URL(auth.base_url).host
        provider: Any = BaseBearerTokenAuthenticationProvider(_static_token_provider(auth.token, [host]))
    else:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )

        provider = AzureIdentityAuthenticationProvider(_credential(auth), scopes=[GRAPH_SCOPE])
    adapter = GraphRequestAdapter(provider, client=http_client)
    adapter.base_url = auth.base_url
    return GraphServiceClient(request_adapter=adapter)


async def close_graph_client(client: Any) -> None:
    """Close the HTTP connections of a client from :func:`create_graph_client` (the SDK offers no close of its own)."""
    http_client = getattr(client.request_adapter, "_http_client", None)
    if isinstance(http_client, httpx.AsyncClient):
        await http_client.aclose()


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name) or headers.get(name.title())
    if isinstance(value, (set, list, tuple)):
        value = next(iter(value), None)
    return str(value) if value is not None else None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: whole seconds, ``"N,N"``, or an HTTP-date; None when absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.split(",")[0].strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# Error codes with which Outlook says a delta token's sync state is gone (graph.md 2.3): enumerate again.
_SYNC_STATE_GONE = {"syncstatenotfound", "syncstateinvalid"}


def translate_graph_error(exc: BaseException, what: str) -> SourceError:
    """The docintel error for an SDK or transport failure; messages carry status and code, never raw SDK text."""
    from kiota_abstractions.api_error import APIError

    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, httpx.TransportError):
        return SourceUnavailable(f"{what}: cannot reach Graph ({type(exc).__name__})")
    if not isinstance(exc, APIError):
        raise TypeError(f"not a Graph error: {type(exc).__name__}")
    status = exc.response_status_code or 0
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or "unknown"
    headers = exc.response_headers
    label = f"{what}: Graph {status} {code}"
    if status in (401, 403):
        return SourceAuthError(label)
    # A mail folder's expired delta state comes as a 400/404/410 with this code, not always as drives' 410.
    if status == 410 or (400 <= status < 500 and code.lower() in _SYNC_STATE_GONE):
        return DeltaResyncRequired(label, _header(headers, "location"))
    if status == 404:
        return SourceNotFound(label)
    retry_after = retry_after_seconds(_header(headers, "retry-after"))
    if status == 429 or (status in (503, 504) and retry_after is not None):
        return SourceThrottled(label, DEFAULT_RETRY_AFTER_SECONDS if retry_after is None else retry_after)
    if status >= 500 or status == 0:
        return SourceUnavailable(label)
    return SourceError(label)


async def graph_call(awaitable: Awaitable[T], what: str) -> T:
    """Await one SDK call, translating its failures into docintel errors."""
    from kiota_abstractions.api_error import APIError

    try:
        return await awaitable
    except (APIError, httpx.TransportError) as exc:
        raise translate_graph_error(exc, what) from exc
