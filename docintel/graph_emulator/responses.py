"""Graph's response conventions: the error body, the standard headers, and the exception that carries them."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

RESYNC_MESSAGE = (
    "Resync required. Replace any local items with the server's version (including deletes) if you're sure that "
    "the service was up to date with your local changes when you last sync'd. Upload any local changes that the "
    "server doesn't know about."
)


@dataclass
class ApiResponse:
    """A response before it is written to the wire (also the shape of a ``$batch`` inner response)."""

    status: int
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        """The body as bytes (JSON bodies serialised compactly)."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


class GraphError(Exception):
    """An error Graph would answer with: HTTP status, Graph error code, message and extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner_code: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner_code = inner_code

    def response(self, request_id: str, client_request_id: str | None) -> ApiResponse:
        """This error as Graph's JSON error body."""
        return ApiResponse(
            self.status,
            error_body(self.code, self.message, request_id, client_request_id, self.inner_code),
            dict(self.headers),
        )


def error_body(
    code: str, message: str, request_id: str, client_request_id: str | None, inner_code: str | None = None
) -> dict[str, Any]:
    """``{"error": {"code", "message", "innerError": {...}}}`` exactly as Graph writes it."""
    inner: dict[str, Any] = {}
    if inner_code:
        inner["code"] = inner_code
    inner["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    inner["request-id"] = request_id
    inner["client-request-id"] = client_request_id or request_id
    return {"error": {"code": code, "message": message, "innerError": inner}}


def standard_headers(request_id: str, client_request_id: str | None) -> dict[str, str]:
    """The headers every Graph response carries."""
    return {
        "request-id": request_id,
        "client-request-id": client_request_id or request_id,
        "x-ms-ags-diagnostic": json.dumps({"ServerInfo": {"DataCenter": "UK South", "Slice": "E", "Ring": "emulator"}}),
        "Cache-Control": "no-store",
    }


def new_request_id() -> str:
    """A fresh request id (a GUID, as Graph uses)."""
    return str(uuid.uuid4())


def http_date(when: float) -> str:
    """An RFC 7231 HTTP-date for a POSIX time."""
    return email.utils.formatdate(when, usegmt=True)


def iso(when: float) -> str:
    """A POSIX time as Graph's UTC ISO 8601 form ("2024-01-02T03:04:05Z")."""
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
