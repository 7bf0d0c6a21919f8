"""Callback signatures, URL checks and delivery to a real local receiver."""

from __future__ import annotations

import pytest

from docintel.api.callbacks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CallbackUrlRejected,
    check_callback_url,
    deliver,
    signature,
    verify_signature,
)
from docintel.api.settings import ApiSettings
from tests.api.conftest import CallbackReceiver

SECRET = "s3cret-for-tests"
BODY = b'{"id": "abc", "status": "succeeded"}'
NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now", "valid"),
    [
        (SECRET, str(NOW), BODY, NOW, True),
        (SECRET, str(NOW), BODY, NOW + 299, True),
        (SECRET, str(NOW), BODY + b" ", NOW, False),
        ("another-secret", str(NOW), BODY, NOW, False),
        (SECRET, str(NOW), BODY, NOW + 301, False),
        (SECRET, str(NOW), BODY, NOW - 301, False),
        (SECRET, "yesterday", BODY, NOW, False),
    ],
    ids=["valid", "valid-late", "tampered-body", "wrong-secret", "stale", "from-future", "bad-timestamp"],
)
def test_verify_signature(secret: str, timestamp: str, body: bytes, now: int, valid: bool) -> None:
    presented = signature(SECRET, str(NOW), BODY)
    assert presented.startswith("sha256=") and len(presented) == 7 + 64
    assert verify_signature(secret, timestamp, body, presented, now=now) is valid


def test_signature_covers_the_timestamp() -> None:
    assert signature(SECRET, "1", BODY) != signature(SECRET, "2", BODY)


@pytest.mark.parametrize(
    "url",
    ["https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=xyz",
     "http://127.0.0.1:8123/hook", "http://localhost/hook", "http://[::1]:9000/x"],
    ids=["power-automate", "loopback-ip", "localhost", "ipv6-loopback"],
)  # fmt: skip
def test_accepted_callback_urls(url: str) -> None:
    assert check_callback_url(url, ApiSettings()) == url


@pytest.mark.parametrize(
    ("url", "settings"),
    [
        ("http://finance.internal/hook", ApiSettings()),
        ("ftp://example.com/hook", ApiSettings()),
        ("/relative/hook", ApiSettings()),
        ("https://user:pass@example.com/hook", ApiSettings()),
        ("https://evil.example.com/hook", ApiSettings(callback_allowed_hosts=["flows.council.example"])),
        ("https://example.com/" + "a" * 2100, ApiSettings()),
    ],
    ids=["plain-http", "ftp", "relative", "credentials", "not-allowed-host", "too-long"],
)
def test_rejected_callback_urls(url: str, settings: ApiSettings) -> None:
    with pytest.raises(CallbackUrlRejected) as caught:
        check_callback_url(url, settings)
    assert "pass" not in str(caught.value)  # never echo credentials or the URL itself
    assert url not in str(caught.value)


def test_deliver_retries_server_errors_then_succeeds(callback_receiver: CallbackReceiver) -> None:
    callback_receiver.statuses = [500, 429]
    outcome = deliver(callback_receiver.url, "job1", BODY, SECRET, ApiSettings(callback_backoff_seconds=0.01))
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (True, 3, 200)
    last = callback_receiver.received[-1]
    assert last.body == BODY
    assert verify_signature(SECRET, last.headers[TIMESTAMP_HEADER], last.body, last.headers[SIGNATURE_HEADER])


def test_deliver_does_not_retry_a_refusal(callback_receiver: CallbackReceiver) -> None:
    callback_receiver.statuses = [400]
    outcome = deliver(callback_receiver.url, "job1", BODY, SECRET, ApiSettings(callback_backoff_seconds=0.01))
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (False, 1, 400)


def test_deliver_gives_up_on_an_unreachable_receiver() -> None:
    from tests.api.conftest import free_port

    settings = ApiSettings(callback_backoff_seconds=0.01, callback_attempts=2, callback_timeout_seconds=1)
    outcome = deliver(f"http://127.0.0.1:{free_port()}/hook", "job1", BODY, SECRET, settings)
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (False, 2, None)
