"""The logging set-up: URL secrets never reach the log, whichever library logged the URL."""

from __future__ import annotations

import logging

import pytest

from docintel.log import REDACTED, configure_logging, redact_urls


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('POST https://prod-12.logic.azure.com/workflows/a/invoke?api-version=1&sig=AbC123 "HTTP/1.1 200 OK"',
         f'POST https://prod-12.logic.azure.com/workflows/a/invoke?{REDACTED} "HTTP/1.1 200 OK"'),
        ("https://tenant.sharepoint.com/_layouts/15/download.aspx?UniqueId=1&tempauth=eyJ0 redirect",
         f"https://tenant.sharepoint.com/_layouts/15/download.aspx?{REDACTED} redirect"),
        ('https://tenant.sharepoint.com:443 "GET /_layouts/15/download.aspx?tempauth=eyJ0 HTTP/1.1" 200 1234',
         f'https://tenant.sharepoint.com:443 "GET /_layouts/15/download.aspx?{REDACTED} HTTP/1.1" 200 1234'),
        ("Request URL: 'https://graph.example/v1.0/drives/b!x/items/01?$select=id'",
         f"Request URL: 'https://graph.example/v1.0/drives/b!x/items/01?{REDACTED}'"),
        ("posting to https://flow:p4ss@hooks.example/x", f"posting to https://{REDACTED}@hooks.example/x"),
        ("GET https://g.example/drives/b!x/root/delta 200", "GET https://g.example/drives/b!x/root/delta 200"),
        ("invoice job 1f2e queued for key k1 (pdf, 12 bytes)", "invoice job 1f2e queued for key k1 (pdf, 12 bytes)"),
        ("what? nothing here?", "what? nothing here?"),
    ],
    ids=["callback-sig", "tempauth", "urllib3-path", "azure-quoted", "credentials", "no-query", "plain", "question"],
)  # fmt: skip
def test_redact_urls(message: str, expected: str) -> None:
    assert redact_urls(message) == expected


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("json_format", [False, True], ids=["text", "json"])
def test_configured_handler_redacts_records_of_http_libraries(
    capsys: pytest.CaptureFixture[str], json_format: bool
) -> None:
    configure_logging(2, json_format=json_format)
    for name in ("httpx", "httpcore.http11", "urllib3.connectionpool", "azure.core.pipeline.policies"):
        logging.getLogger(name).debug("HTTP Request: GET %s %s", "https://h.example/a?sig=S3CR3T", '"HTTP/1.1 200 OK"')
    logged = capsys.readouterr().err
    assert logged.count("https://h.example/a?[redacted]") == 4, logged
    assert "S3CR3T" not in logged
