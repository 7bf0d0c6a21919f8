"""The content host: pre-authenticated, expiring download URLs (``/_layouts/15/download.aspx``) with Range.

It runs on its own port, as SharePoint's download host differs from graph.microsoft.com, so the SDK's
redirect handler drops the bearer token when following the 302, exactly as against a real tenant.
"""

from __future__ import annotations

import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from docintel.graph_emulator.api import EmulatorState
from docintel.graph_emulator.responses import GraphError, new_request_id, standard_headers

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single-range ``Range`` header; None when it should be ignored."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        return (max(0, size - length), size - 1) if length else (size, size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return start, end


def _error(error: GraphError) -> Response:
    request_id = new_request_id()
    response = error.response(request_id, None)
    return JSONResponse(
        response.body, status_code=error.status, headers={**response.headers, **standard_headers(request_id, None)}
    )


async def download(request: Request, state: EmulatorState) -> Response:
    """GET/HEAD a file body by its tempauth token; 401 when expired, 206 for a satisfiable Range."""
    stats = state.stats
    stats.requests += 1
    stats.by_route["content.download"] += 1
    injected = state.faults.check("content", request.method, request.url.path)
    if injected is not None:
        stats.by_status[injected.status] += 1
        return _error(injected)
    payload = state.codec.decode(request.query_params.get("tempauth", ""))
    tenant = state.tenant
    if payload is None or payload.get("e", 0) < time.time():
        stats.by_status[401] += 1
        return _error(GraphError(401, "unauthenticated", "The download URL has expired or is not valid."))
    index, version = int(payload["i"]), int(payload["v"])
    if index >= len(tenant.alive) or not tenant.alive[index]:
        stats.by_status[404] += 1
        return _error(GraphError(404, "itemNotFound", "The resource could not be found."))
    body = tenant.body(index, version)
    size = len(body)
    name = tenant.name_of(index).replace('"', "")
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{name}"',
        "ETag": f'"{{{tenant.item_guid(index)}}},{version}"',
    }
    status = 200
    range_header = request.headers.get("range")
    if range_header:
        span = _byte_range(range_header, size)
        if span is not None:
            start, end = span
            if start >= size or start > end:
                stats.by_status[416] += 1
                return Response(b"", status_code=416, headers={"Content-Range": f"bytes */{size}"})
            body = body[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            status = 206
    stats.by_status[status] += 1
    stats.downloads += 1
    stats.bytes_served += len(body)
    if request.method == "HEAD":
        return Response(
            b"",
            status_code=status,
            media_type=tenant.mime_type(index),
            headers={**headers, "Content-Length": str(len(body))},
        )
    return Response(body, status_code=status, media_type=tenant.mime_type(index), headers=headers)
