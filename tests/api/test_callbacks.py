"""Callback signatures, URL checks and delivery to a real local receiver."""

from __future__ import annotations

import ipaddress

import pytest

from docintel.api.callbacks import (
    ADDRESS_NOT_ALLOWED,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CallbackUrlMalformed,
    CallbackUrlRejected,
    check_callback_url,
    deliver,
    is_public_address,
    pinned_address,
    signature,
    verify_signature,
)
from docintel.api.settings import ApiSettings, load_api_settings
from docintel.errors import ConfigError
from docintel.log import configure_logging
from tests.api.conftest import LOOPBACK_CALLBACKS, CallbackReceiver, free_port

LOOPBACK_ALLOWED = ApiSettings(callback_backoff_seconds=0.01, callback_allowed_internal=LOOPBACK_CALLBACKS)

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
    ("url", "settings"),
    [("https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=xyz", ApiSettings()),
     ("https://8.8.8.8/hook", ApiSettings()),
     ("https://[2001:4860:4860::8888]:8443/hook", ApiSettings()),
     ("http://localhost/hook", ApiSettings()),  # a name: resolved and judged at delivery, not here
     ("http://127.0.0.1:8123/hook", LOOPBACK_ALLOWED),
     ("https://10.20.3.4/hook", ApiSettings(callback_allowed_internal=["10.20.0.0/16"])),
     ("http://[::1]:9000/x", ApiSettings(callback_allowed_internal=["::1"]))],
    ids=["power-automate", "public-ipv4", "public-ipv6", "localhost-name", "allow-listed-loopback",
         "allow-listed-cidr", "allow-listed-ipv6-loopback"],
)  # fmt: skip
def test_accepted_callback_urls(url: str, settings: ApiSettings) -> None:
    assert check_callback_url(url, settings) == url


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


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/hook", "http://127.0.0.1:6379/", "https://10.0.0.5/", "https://172.16.9.9/",
     "https://192.168.1.10/", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/",
     "https://0.0.0.0/", "https://224.0.0.251/", "https://255.255.255.255/", "https://240.0.0.1/",
     "https://[::1]/", "https://[::]/", "https://[fe80::1]/", "https://[fc00::1]/", "https://[ff02::1]/",
     "https://[::ffff:127.0.0.1]/", "https://[::ffff:169.254.169.254]/", "https://[2002:a00:1::]/",
     "https://[64:ff9b::a9fe:a9fe]/", "https://[2001:db8::1]/"],
    ids=["loopback", "loopback-redis-port", "10/8", "172.16/12", "192.168/16", "metadata-link-local",
         "cgnat", "unspecified", "multicast", "broadcast", "reserved", "ipv6-loopback", "ipv6-unspecified",
         "ipv6-link-local", "ipv6-unique-local", "ipv6-multicast", "ipv4-mapped-loopback",
         "ipv4-mapped-link-local", "6to4-private", "nat64-link-local", "ipv6-documentation"],
)  # fmt: skip
def test_internal_address_literals_are_refused_at_submission(url: str) -> None:
    with pytest.raises(CallbackUrlRejected) as caught:
        check_callback_url(url, ApiSettings(callback_require_https=False))
    assert caught.value.http_status == 422
    assert ADDRESS_NOT_ALLOWED in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook\r\nX-Injected: 1", "https://example.com/a b", "https://example.com/\thook",
     "https://example.com/hook\x00", "https://example.com/hook\x7f", " https://example.com/hook",
     "https://example.com/hook\n", "https://example.com/\u00a0hook", "https://example.com/\u2028"],
    ids=["crlf", "space", "tab", "nul", "del", "leading-space", "trailing-newline", "nbsp", "line-separator"],
)  # fmt: skip
def test_urls_with_whitespace_or_control_characters_are_malformed(url: str) -> None:
    with pytest.raises(CallbackUrlMalformed) as caught:
        check_callback_url(url, ApiSettings())
    assert caught.value.http_status == 400


@pytest.mark.parametrize(
    ("resolved", "allowed", "expected"),
    [(["93.184.215.14"], [], "93.184.215.14"),
     (["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"], [], "2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
     (["127.0.0.1"], [], None),
     (["93.184.215.14", "10.1.2.3"], [], None),  # one internal answer is enough to refuse
     (["::ffff:10.1.2.3"], [], None),
     (["fe80::1%eth0"], [], None),
     (["169.254.169.254"], ["10.0.0.0/8"], None),
     (["10.1.2.3"], ["10.0.0.0/8"], "10.1.2.3"),
     (["::ffff:10.1.2.3"], ["10.0.0.0/8"], "::ffff:10.1.2.3"),
     (["10.1.2.3"], ["hooks.council.example"], "10.1.2.3"),
     ([], [], None)],
    ids=["public", "public-dual-stack", "loopback", "mixed", "ipv4-mapped-private", "scoped-link-local",
         "other-cidr-allowed", "cidr-allowed", "mapped-in-allowed-cidr", "host-allowed", "no-answer"],
)  # fmt: skip
def test_pinned_address_judges_every_resolved_address(resolved: list[str], allowed: list[str], expected) -> None:
    settings = ApiSettings(callback_allowed_internal=allowed)
    pinned = pinned_address("hooks.council.example", 443, settings, resolver=lambda _host, _port: resolved)
    assert pinned == (ipaddress.ip_address(expected) if expected else None)


def test_public_address_table() -> None:
    assert is_public_address(ipaddress.ip_address("8.8.8.8"))
    assert not is_public_address(ipaddress.ip_address("::ffff:192.168.0.1"))
    assert is_public_address(ipaddress.ip_address("::ffff:8.8.8.8"))


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host", "http://x/"], ids=["bad-prefix", "space", "url"])
def test_a_bad_allow_list_entry_fails_at_start_up(entry: str) -> None:
    with pytest.raises(ConfigError, match="CALLBACK_ALLOWED_INTERNAL"):
        load_api_settings({"DOCINTEL_API__CALLBACK_ALLOWED_INTERNAL": f"[{entry!r}]"})


def test_a_name_resolving_to_loopback_is_refused_without_any_attempt(callback_receiver: CallbackReceiver) -> None:
    port = int(callback_receiver.url.rsplit(":", 1)[1].split("/")[0])
    outcome = deliver(f"http://localhost:{port}/hook", "job1", BODY, SECRET, ApiSettings(callback_backoff_seconds=0))
    assert (outcome.delivered, outcome.attempts, outcome.refused) == (False, 0, ADDRESS_NOT_ALLOWED)
    assert callback_receiver.received == []


def test_a_closed_internal_port_and_an_open_one_look_the_same() -> None:
    settings = ApiSettings(callback_backoff_seconds=0)
    closed = deliver(f"http://localhost:{free_port()}/", "job1", BODY, SECRET, settings)
    open_port = deliver("http://localhost:1/", "job1", BODY, SECRET, settings)
    assert closed == open_port  # neither attempted: nothing to learn about which ports answer


def test_delivery_connects_to_the_checked_address_not_a_second_lookup(callback_receiver: CallbackReceiver) -> None:
    """DNS rebinding: the name is resolved once per attempt, checked, and that address is the one connected to."""
    port = int(callback_receiver.url.rsplit(":", 1)[1].split("/")[0])
    lookups: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    settings = ApiSettings(callback_allowed_internal=["hooks.council.example"])
    url = f"http://hooks.council.example:{port}/hook?sig=abc"
    outcome = deliver(url, "job1", BODY, SECRET, settings, resolver=resolver)
    assert outcome.delivered, outcome
    assert lookups == ["hooks.council.example"]  # "hooks.council.example" resolves nowhere else in the sandbox
    received = callback_receiver.received[-1]
    assert received.headers["Host"] == f"hooks.council.example:{port}"
    assert received.path == "/hook?sig=abc"


def test_deliver_retries_server_errors_then_succeeds(callback_receiver: CallbackReceiver) -> None:
    callback_receiver.statuses = [500, 429]
    outcome = deliver(callback_receiver.url, "job1", BODY, SECRET, LOOPBACK_ALLOWED)
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (True, 3, 200)
    last = callback_receiver.received[-1]
    assert last.body == BODY
    assert verify_signature(SECRET, last.headers[TIMESTAMP_HEADER], last.body, last.headers[SIGNATURE_HEADER])


def test_deliver_does_not_retry_a_refusal(callback_receiver: CallbackReceiver) -> None:
    callback_receiver.statuses = [400]
    outcome = deliver(callback_receiver.url, "job1", BODY, SECRET, LOOPBACK_ALLOWED)
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (False, 1, 400)


def test_deliver_gives_up_on_an_unreachable_receiver() -> None:
    settings = LOOPBACK_ALLOWED.model_copy(update={"callback_attempts": 2, "callback_timeout_seconds": 1})
    outcome = deliver(f"http://127.0.0.1:{free_port()}/hook", "job1", BODY, SECRET, settings)
    assert (outcome.delivered, outcome.attempts, outcome.status_code) == (False, 2, None)


@pytest.mark.usefixtures("restored_logging")
def test_callback_signatures_in_the_url_never_reach_the_debug_log(
    callback_receiver: CallbackReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(2)  # -vv: httpx and httpcore log every request
    url = f"{callback_receiver.url}?api-version=2016-06-01&sp=%2Ftriggers&sig=Zm9vYmFyc2VjcmV0"
    assert deliver(url, "job1", BODY, SECRET, LOOPBACK_ALLOWED).delivered
    logged = capsys.readouterr().err
    assert "HTTP Request: POST" in logged and "/hook?[redacted]" in logged
    assert "Zm9vYmFyc2VjcmV0" not in logged and "sig=" not in logged
