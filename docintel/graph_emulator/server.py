"""Serving the emulator: the Graph app (``/v1.0`` + ``/_control``) and the content app, on two ports.

``run(tenant_file, port, content_port)`` blocks and serves both with uvicorn in one event loop;
:func:`serve_command` is what ``docintel graph-emulator [--tenant FILE] --port N`` calls.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.applications import Starlette
from starlette.routing import Route

from docintel.graph_emulator.api import EmulatorState, GraphApi, parse_body
from docintel.graph_emulator.control import build_router, graph_error_handler
from docintel.graph_emulator.download import download
from docintel.graph_emulator.responses import GraphError
from docintel.graph_emulator.spec import TenantSpec, load_tenant_spec
from docintel.graph_emulator.tenant import Tenant
from docintel.graph_emulator.tokens import TokenCodec
from docintel.graph_emulator.views import Links
from docintel.settings import find_config_dir

logger = logging.getLogger(__name__)

DEMO_TENANT_FILE = "demo-tenant.yaml"
GRAPH_METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"]


def demo_tenant() -> Path:
    """The demo tenant's YAML in the configuration folder (found as settings find it: installed images too)."""
    return find_config_dir() / DEMO_TENANT_FILE


def create_state(spec: TenantSpec, content_port: int) -> EmulatorState:
    """Build the tenant and the shared state; download and delta tokens are signed with a per-process secret."""
    return EmulatorState(
        tenant=Tenant(spec),
        settings=spec.emulator.model_copy(deep=True),
        codec=TokenCodec(secrets.token_bytes(32)),
        content_port=content_port,
    )


def create_graph_app(state: EmulatorState) -> FastAPI:
    """The Graph-facing app: every /v1.0 path goes to :class:`GraphApi`; /_control to the control router."""
    app = FastAPI(title="docintel Graph emulator", docs_url="/_control/docs", openapi_url="/_control/openapi.json")
    api = GraphApi(state)
    app.include_router(build_router(state))
    app.add_exception_handler(GraphError, graph_error_handler)

    @app.api_route("/v1.0/{path:path}", methods=GRAPH_METHODS)
    async def graph(path: str, request: Request) -> Response:
        scheme, host = request.url.scheme, request.url.hostname or "127.0.0.1"
        links = Links(f"{scheme}://{request.url.netloc}/v1.0", f"{scheme}://{host}:{state.content_port}")
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = parse_body(await request.body()) if request.method in ("POST", "PATCH", "PUT") else None
        result = api.handle(request.method, path, dict(request.query_params), headers, body, links)
        return Response(result.json_bytes(), status_code=result.status, headers=result.headers)

    return app


def create_content_app(state: EmulatorState) -> Starlette:
    """The download host that the 302s point at."""

    async def endpoint(request: Request) -> Response:
        return await download(request, state)

    return Starlette(routes=[Route("/_layouts/15/download.aspx", endpoint, methods=["GET", "HEAD"])])


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one)."""
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is IPPROTO_TCP, and
    # without it Nagle + delayed ACK add ~40 ms to every response written in two parts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_servers(state: EmulatorState, log_level: str = "warning") -> tuple[uvicorn.Server, uvicorn.Server]:
    """Two uvicorn servers (Graph, content) ready to serve on sockets given to ``serve``."""
    graph = uvicorn.Server(
        uvicorn.Config(create_graph_app(state), log_level=log_level, lifespan="off", access_log=False)
    )
    content = uvicorn.Server(
        uvicorn.Config(create_content_app(state), log_level=log_level, lifespan="off", access_log=False)
    )
    return graph, content


async def serve_forever(
    state: EmulatorState, graph_sock: socket.socket, content_sock: socket.socket, log_level: str = "warning"
) -> None:
    """Serve both apps until either server is told to exit."""
    graph, content = uvicorn_servers(state, log_level)
    await asyncio.gather(graph.serve(sockets=[graph_sock]), content.serve(sockets=[content_sock]))


def run(tenant_file: Path | str | None, port: int, content_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve the tenant in ``tenant_file`` (default: the demo tenant) until interrupted."""
    spec = load_tenant_spec(Path(tenant_file) if tenant_file else demo_tenant())
    graph_sock = bind(host, port)
    content_sock = bind(host, content_port if content_port is not None else (port + 1 if port else 0))
    state = create_state(spec, content_sock.getsockname()[1])
    logger.info(
        "graph emulator: %d items; Graph on http://%s:%d/v1.0, downloads on port %d",
        state.tenant.item_count(),
        host,
        graph_sock.getsockname()[1],
        state.content_port,
    )
    asyncio.run(serve_forever(state, graph_sock, content_sock, "info"))


def serve_command(tenant: Path | None, port: int, content_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Entry point for ``docintel graph-emulator [--tenant FILE] --port N [--content-port M] [--host H]``."""
    run(tenant, port, content_port, host)
