"""The api-key commands and ``serve`` as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from docintel.api.commands import api_key_group
from docintel.api.keys import ApiKeyStore
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings
from tests.api.conftest import free_port


def _run(settings: Settings, *args: str):
    return CliRunner().invoke(api_key_group, list(args), obj={"settings": settings})


def test_create_prints_the_key_once_and_it_works(settings: Settings, store: CatalogueStore) -> None:
    created = _run(settings, "create", "finance-flow", "--rate-limit", "10")
    assert created.exit_code == 0, created.output
    key = re.search(r"X-API-Key: (\S+)", created.output).group(1)
    client = ApiKeyStore(store).authenticate(key)
    assert client is not None and client.rate_limit_per_minute == 10
    listed = _run(settings, "list")
    assert "finance-flow" in listed.output and "10/min" in listed.output
    assert key not in listed.output and client.signing_secret not in listed.output


def test_create_with_scopes_and_drives_then_change_the_drives(settings: Settings, store: CatalogueStore) -> None:
    created = _run(settings, "create", "ig-team", "--scope", "subject-access", "--drive", "b!abc", "--drive", "b!def")
    assert created.exit_code == 0, created.output
    assert "scopes: subject-access" in created.output
    key = re.search(r"X-API-Key: (\S+)", created.output).group(1)
    client = ApiKeyStore(store).authenticate(key)
    assert client is not None and client.scopes == {"subject-access"} and client.drives == {"b!abc", "b!def"}
    listed = _run(settings, "list").output
    assert "subject-access" in listed and "2 drive(s)" in listed
    default = _run(settings, "create", "rpa")
    assert "scopes: invoices)" in default.output
    changed = _run(settings, "drives", client.key_id, "--drive", "b!xyz")
    assert changed.exit_code == 0 and "b!xyz" in changed.output
    assert ApiKeyStore(store).client(client.key_id).drives == {"b!xyz"}
    assert _run(settings, "create", "x", "--scope", "everything").exit_code == 2
    assert _run(settings, "create", "x", "--drive", "b!a/../b").exit_code == 2
    assert _run(settings, "drives", "no-such-key").exit_code == 2


def test_revoke_then_list(settings: Settings, store: CatalogueStore) -> None:
    _run(settings, "create", "old-flow")
    assert _run(settings, "revoke", "old-flow").exit_code == 0
    assert _run(settings, "list").output.strip() == "no API keys"
    assert "revoked" in _run(settings, "list", "--all").output
    missing = _run(settings, "revoke", "never-existed")
    assert missing.exit_code == 1


@pytest.mark.parametrize("args", [["create", ""], ["create", "x", "--rate-limit", "0"]], ids=["no-name", "zero-limit"])
def test_bad_create_exits_2(settings: Settings, store: CatalogueStore, args: list[str]) -> None:
    assert _run(settings, *args).exit_code == 2


@pytest.mark.slow
def test_serve_answers_on_the_given_port(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    code = "from docintel.api.commands import serve_command; serve_command()"
    env = {**os.environ, "DOCINTEL_CONFIG_DIR": str(settings.config_dir), "DOCINTEL_API__POOL": "thread"}
    (settings.config_dir / "settings.yaml").write_text("{}\n", encoding="utf-8")
    command = [sys.executable, "-c", code, "--port", str(port), "--catalogue", settings.catalogue.url]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{'0' * 32}").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.needs_tesseract
def test_serve_with_an_ocr_language_not_installed_exits_2_before_listening(settings: Settings) -> None:
    from docintel.api.commands import serve_command
    from docintel.settings import OcrSettings

    welsh = settings.model_copy(update={"ocr": OcrSettings(language="eng+cym")})
    result = CliRunner().invoke(serve_command, ["--port", str(free_port())], obj={"settings": welsh})
    assert result.exit_code == 2, result.output
    assert "apt-get install tesseract-ocr-cym" in result.output
