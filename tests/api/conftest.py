"""Fixtures for the invoice API: real servers (redis-server, uvicorn, an HTTP callback receiver), generated invoices."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from docintel.api.app import create_app
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.samples import content as sample_content
from docintel.samples import pdf as sample_pdf
from docintel.settings import Settings

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def invoice_pdf() -> bytes:
    """A one-page born-digital UK VAT invoice (the demo sample, fake supplier)."""
    return sample_pdf.invoice_pdf(sample_content.invoice())


@pytest.fixture(scope="session")
def invoice_png() -> bytes:
    """A small photographed-style invoice drawn with DejaVu Sans, for the OCR path."""
    image = Image.new("L", (1240, 700), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 30)
    lines = ["Fenwick Stationers Ltd", "INVOICE", "Invoice No: FS-20931", "Invoice Date: 14/03/2025",
             "Subtotal: £100.00", "VAT 20%: £20.00", "Total: £120.00"]  # fmt: skip
    for row, text in enumerate(lines):
        draw.text((60, 40 + row * 85), text, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose config folder (supplier profiles) and catalogue live in the test's folder."""
    config = tmp_path / "config"
    config.mkdir()
    built = Settings.model_validate({"catalogue": {"url": f"sqlite:///{tmp_path / 'catalogue.db'}"}})
    built.config_dir = config
    return built


@pytest.fixture
def store(settings: Settings) -> Iterator[CatalogueStore]:
    """A migrated SQLite catalogue on disk (shared by threads, and by a worker process when needed)."""
    catalogue = open_catalogue(settings.catalogue.url)
    yield catalogue
    catalogue.close()


# The callback receiver listens on loopback, which callbacks may reach only when the operator allow-lists it.
LOOPBACK_CALLBACKS = ["127.0.0.1/32"]


@pytest.fixture
def api_settings() -> ApiSettings:
    """Small limits for tests; extraction in threads (no process start-up); callbacks allowed to loopback."""
    return ApiSettings(
        pool="thread",
        workers=2,
        max_upload_bytes=1_000_000,
        callback_backoff_seconds=0.05,
        callback_allowed_internal=LOOPBACK_CALLBACKS,
    )


@pytest.fixture
def keys(store: CatalogueStore) -> ApiKeyStore:
    """The API key store over the test catalogue."""
    return ApiKeyStore(store)


@pytest.fixture
def api_key(keys: ApiKeyStore) -> NewApiKey:
    """A freshly issued key for a test client."""
    return keys.create("test-flow")


@pytest.fixture
def app(settings: Settings, store: CatalogueStore, api_settings: ApiSettings) -> FastAPI:
    """The app with the in-process queue."""
    return create_app(settings, store=store, api_settings=api_settings)


@pytest.fixture
def client(app: FastAPI, api_key: NewApiKey) -> Iterator[TestClient]:
    """A TestClient (lifespan on) sending the test key."""
    with TestClient(app, headers={"X-API-Key": api_key.key}) as test_client:
        yield test_client


@dataclass
class Received:
    """One request the callback receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CallbackReceiver:
    """A real HTTP server on 127.0.0.1 that records POSTs and answers with the statuses it is told to."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; 200 after they run out
    arrived: threading.Event = field(default_factory=threading.Event)
    delay: float = 0.0  # seconds the receiver takes before answering

    def wait(self, count: int = 1, timeout: float = 20.0) -> list[Received]:
        """Block until ``count`` requests arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        return self.received


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A running callback receiver."""
    port = free_port()
    receiver = CallbackReceiver(url=f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(receiver.delay)
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            payload = json.dumps({"ok": status < 400}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            receiver.arrived.set()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@dataclass
class LiveServer:
    """A uvicorn server running in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread


@contextlib.contextmanager
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """Serve ``app`` with a real uvicorn on a free port of 127.0.0.1 for the duration of the block."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Start-up includes warming the extraction pool (the process pool imports the extractor).
    deadline = time.monotonic() + 180
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
