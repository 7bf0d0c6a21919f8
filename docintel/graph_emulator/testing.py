"""Start an emulator for tests: in a background thread (fast, shares the tenant object) or a subprocess.

with running_emulator(spec_dict) as emulator:          # MAIL_TENANT: SMALL_TENANT plus mailboxes
    client.request_adapter.base_url = emulator.graph_url
    emulator.control("PUT", "/faults", {"rules": [{"status": 429, "retry_after": 1}]})
    emulator.control("POST", "/messages", {"user": "ada.lovelace@test.example.gov.uk", "attachment": "pdf"})
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from docintel.graph_emulator.api import EmulatorState
from docintel.graph_emulator.server import bind, create_state, uvicorn_servers
from docintel.graph_emulator.spec import TenantSpec, load_tenant_spec, parse_tenant_spec

_START_TIMEOUT_SECONDS = 120

# A small tenant for tests: two sites (three libraries), three users (one without OneDrive), nested folders.
SMALL_TENANT: dict[str, Any] = {
    "tenant": {"name": "Test Council", "domain": "testcouncil", "seed": 7},
    "sites": [
        {
            "name": "finance",
            "display_name": "Finance",
            "libraries": [
                {
                    "name": "Documents",
                    "files": [{"template": "policy", "format": "docx", "name": "Regulations.docx"}],
                    "folders": [
                        {"name": "Invoices", "files": 7, "templates": ["invoice"]},
                        {
                            "name": "Contracts",
                            "files": 2,
                            "templates": ["contract"],
                            "folders": [{"name": "Expired", "files": 1, "templates": ["contract"]}],
                        },
                    ],
                }
            ],
        },
        {
            "name": "social",
            "display_name": "Adult Social Care",
            "libraries": [
                {"name": "Documents", "folders": [{"name": "Case notes", "files": 4, "templates": ["case_note"]}]},
                {"name": "Archive", "files": 3, "templates": ["minutes"]},
            ],
        },
    ],
    "users": [
        {
            "user_principal_name": "ada.lovelace@test.example.gov.uk",
            "display_name": "Ada Lovelace",
            "drive": {"files": 2, "templates": ["foi_request"]},
        },
        {"user_principal_name": "no.drive@test.example.gov.uk", "display_name": "Noah Drive", "onedrive": False},
        {"user_principal_name": "grace.hopper@test.example.gov.uk", "display_name": "Grace Hopper"},
    ],
    "retention_labels": [
        {"name": "Financial records", "behavior_during_retention_period": "retain"},
        {"name": "Statutory register", "behavior_during_retention_period": "retainAsRegulatoryRecord"},
    ],
}

# SMALL_TENANT with Exchange mailboxes: Ada has 12 generated messages (three with an attachment), Grace an
# empty mailbox, Noah none (his mail endpoints answer 404 MailboxNotEnabledForRESTAPI).
MAIL_TENANT: dict[str, Any] = {
    **SMALL_TENANT,
    "users": [
        {**SMALL_TENANT["users"][0], "mailbox": True, "mail_messages": 12},
        SMALL_TENANT["users"][1],
        {**SMALL_TENANT["users"][2], "mailbox": True},
    ],
}


@dataclass
class RunningEmulator:
    """Where a started emulator listens, and a helper for its control API."""

    host: str
    port: int
    content_port: int
    state: EmulatorState | None = None  # only for the in-thread emulator
    _http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the Graph app."""
        return f"http://{self.host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """The base URL to give the SDK (``…/v1.0``)."""
        return f"{self.base_url}/v1.0"

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/_control{path}`` and return its JSON; raises for an error status."""
        if self._http is None:
            # One client for all calls: a new httpx client costs tens of ms (it builds an SSL context).
            self._http = httpx.Client(timeout=120)
        response = self._http.request(method, f"{self.base_url}/_control{path}", json=body)
        response.raise_for_status()
        return response.json()


def _spec(tenant: TenantSpec | dict[str, Any] | Path | str | None) -> TenantSpec:
    if isinstance(tenant, TenantSpec):
        return tenant
    if isinstance(tenant, dict):
        return parse_tenant_spec(tenant)
    from docintel.graph_emulator.server import demo_tenant

    return load_tenant_spec(Path(tenant) if tenant else demo_tenant())


@contextlib.contextmanager
def running_emulator(
    tenant: TenantSpec | dict[str, Any] | Path | str | None = None, host: str = "127.0.0.1"
) -> Iterator[RunningEmulator]:
    """Serve a tenant on free ports in a daemon thread for the duration of the block."""
    graph_sock, content_sock = bind(host, 0), bind(host, 0)
    state = create_state(_spec(tenant), content_sock.getsockname()[1])
    graph, content = uvicorn_servers(state)

    async def serve() -> None:
        await asyncio.gather(graph.serve(sockets=[graph_sock]), content.serve(sockets=[content_sock]))

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="graph-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not (graph.started and content.started):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Graph emulator did not start")
        time.sleep(0.01)
    try:
        yield RunningEmulator(host, graph_sock.getsockname()[1], content_sock.getsockname()[1], state)
    finally:
        graph.should_exit = content.should_exit = True
        thread.join(timeout=10)
        graph_sock.close()
        content_sock.close()


@contextlib.contextmanager
def emulator_process(tenant_file: Path | None = None, host: str = "127.0.0.1") -> Iterator[RunningEmulator]:
    """Serve a tenant file from a separate process (own GIL: for crawler benchmarks and worker tests)."""
    graph_sock, content_sock = bind(host, 0), bind(host, 0)
    port, content_port = graph_sock.getsockname()[1], content_sock.getsockname()[1]
    graph_sock.close()
    content_sock.close()
    command = [
        sys.executable,
        "-m",
        "docintel.graph_emulator",
        "--port",
        str(port),
        "--content-port",
        str(content_port),
        "--host",
        host,
    ]
    if tenant_file is not None:
        command += ["--tenant", str(tenant_file)]
    process = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    emulator = RunningEmulator(host, port, content_port)
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the Graph emulator exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{emulator.base_url}/_control/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the Graph emulator did not start")
            time.sleep(0.1)
        yield emulator
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def graph_client(graph_url: str, token: str = "emulator-token", retry_delay: float | None = None) -> Any:  # noqa: S107
    """A real ``GraphServiceClient`` pointed at an emulator with a static bearer token (create it inside the loop).

    ``retry_delay`` sets the SDK retry handler's base delay (its default is 3 s) to keep tests short.
    """
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    host = httpx.URL(graph_url).host

    class StaticTokenProvider(AccessTokenProvider):
        """Hands the same token to every request for the emulator host."""

        def __init__(self) -> None:
            self._validator = AllowedHostsValidator([host])

        async def get_authorization_token(
            self, uri: str, additional_authentication_context: dict[str, Any] | None = None
        ) -> str:
            return token if self._validator.is_url_host_valid(uri) else ""

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return self._validator

    options = {}
    if retry_delay is not None:
        options[RetryHandlerOption.get_key()] = RetryHandlerOption(delay=retry_delay)
    http_client = GraphClientFactory.create_with_default_middleware(options=options) if options else None
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticTokenProvider()), client=http_client)
    adapter.base_url = graph_url
    return GraphServiceClient(request_adapter=adapter)
