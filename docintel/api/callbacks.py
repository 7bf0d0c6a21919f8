"""Signed result callbacks: the finished job is POSTed to the client's URL with an HMAC-SHA256 signature.

Headers sent with every callback::

    X-Docintel-Job-Id: <job id>
    X-Docintel-Timestamp: <unix seconds>
    X-Docintel-Signature: sha256=<hex HMAC-SHA256(signing secret, "<timestamp>.<raw body>")>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body with the signing secret it
was given with its API key (:func:`verify_signature` does exactly that), and rejects stale timestamps so
a captured callback cannot be replayed.

Where callbacks may go (server-side request forgery): the URL is checked when the job is submitted (absolute
http(s), no credentials, no control characters or whitespace, https unless the host is loopback), and again
before every delivery: the host name is resolved and every address it resolves to must be public, that is not
loopback, private, link-local, multicast, unspecified or reserved (IPv4 and IPv6, including IPv4-mapped,
6to4 and NAT64 forms), unless the operator allow-listed it (``callback_allowed_internal``: CIDRs or host
names). The request then goes to the address that was checked, with the URL's host in the Host header and as
the TLS server name, so a DNS answer that changes between the check and the connection (rebinding) is never
followed. A refused callback is never attempted, so its outcome says nothing about which ports answer HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx

from docintel.api.settings import CALLBACK_TOLERANCE_SECONDS, ApiSettings
from docintel.errors import DocintelError

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Docintel-Signature"
TIMESTAMP_HEADER = "X-Docintel-Timestamp"
JOB_ID_HEADER = "X-Docintel-Job-Id"
_SCHEME = "sha256="
_MAX_URL = 2048
_LOOPBACK_NAMES = frozenset({"localhost"})
# What a refused callback reports: the same words whatever the address, so it says nothing about the network.
ADDRESS_NOT_ALLOWED = "refused: address not allowed"
# IPv6 prefixes that carry an IPv4 address a router forwards to: NAT64 (RFC 6052) and 6to4 (RFC 3056).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class CallbackUrlRejected(DocintelError):
    """The callback URL is not one the service will call."""

    http_status = 422


class CallbackUrlMalformed(CallbackUrlRejected):
    """The callback URL holds control characters or whitespace: no client means that, and no server parses it alike."""

    http_status = 400


@dataclass(frozen=True)
class CallbackOutcome:
    """How a delivery ended: delivered or not, after how many attempts, the last HTTP status, and any refusal."""

    delivered: bool
    attempts: int
    status_code: int | None = None
    refused: str | None = None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return _SCHEME + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    presented: str,
    *,
    tolerance_seconds: float = CALLBACK_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``presented`` signs ``body`` at ``timestamp`` and the timestamp is recent."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IpAddress) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local, multicast, etc."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and not is_public_address(embedded):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return True  # judged by the IPv4 address it maps (::ffff:0:0/96 itself counts as private)
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


def parse_allowed_internal(entries: list[str]) -> tuple[list[IpNetwork], set[str]]:
    """Split ``callback_allowed_internal`` into networks (CIDRs, single addresses) and host names."""
    networks: list[IpNetwork] = []
    names: set[str] = set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return networks, names


def address_allowed(address: IpAddress, host: str, settings: ApiSettings) -> bool:
    """Whether a callback may connect to ``address`` (resolved from ``host``)."""
    if is_public_address(address):
        return True
    networks, names = parse_allowed_internal(settings.callback_allowed_internal)
    if host.lower().rstrip(".") in names:
        return True
    embedded = _embedded_ipv4(address)
    return any(candidate in network for network in networks for candidate in (address, embedded) if candidate)


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def pinned_address(host: str, port: int, settings: ApiSettings, resolver: Resolver = resolve_host) -> IpAddress | None:
    """The address to connect to, or None when the host resolves to any address callbacks may not reach.

    Every address must pass, not just the first: a name with one public and one internal address would
    otherwise reach the internal one whenever the resolver's order changes.
    """
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        addresses = [ipaddress.ip_address(address.split("%")[0]) for address in resolver(host, port)]
    else:
        addresses = [literal]
    if not addresses or not all(address_allowed(address, host, settings) for address in addresses):
        return None
    return addresses[0]


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_callback_url(url: str, settings: ApiSettings) -> str:
    """The URL when the service may call it; CallbackUrlRejected (never echoing the URL) otherwise."""
    if any(character.isspace() or not character.isprintable() for character in url):
        # A CR/LF could split the request line; a space is parsed differently by every HTTP stack.
        raise CallbackUrlMalformed("callback_url must not contain whitespace or control characters")
    if len(url) > _MAX_URL:
        raise CallbackUrlRejected(f"callback_url is longer than {_MAX_URL} characters")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise CallbackUrlRejected("callback_url must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise CallbackUrlRejected("callback_url must not carry credentials; use the signature to authenticate")
    if parts.scheme == "http" and settings.callback_require_https and not _is_loopback(host):
        raise CallbackUrlRejected("callback_url must use https (plain http is allowed to loopback addresses only)")
    if settings.callback_allowed_hosts and host.lower() not in {h.lower() for h in settings.callback_allowed_hosts}:
        raise CallbackUrlRejected(f"callback host {host} is not in the allowed callback hosts")
    try:
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise CallbackUrlRejected("callback_url has an invalid port") from None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: resolved, checked and pinned at each delivery
    # An address in the URL itself can be judged now, before the job is even queued.
    if not address_allowed(literal, host, settings):
        raise CallbackUrlRejected(f"callback_url {ADDRESS_NOT_ALLOWED}")
    return url


def _pinned_request(parts: SplitResult, address: IpAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL to request (the checked address in place of the host), its Host header and its TLS server name."""
    host = parts.hostname or ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    url = parts._replace(netloc=netloc).geturl()
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return url, {"Host": host_header}, extensions


def deliver(
    url: str, job_id: str, body: bytes, secret: str, settings: ApiSettings, *, resolver: Resolver = resolve_host
) -> CallbackOutcome:
    """POST a signed body to the callback URL, retrying connection errors, 429 and 5xx with backoff.

    The host is resolved before each attempt and the request goes to the checked address; a host that
    resolves to an address callbacks may not reach is refused without any attempt.
    """
    status_code: int | None = None
    attempts = 0
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with httpx.Client(timeout=settings.callback_timeout_seconds, follow_redirects=False) as client:
        for attempt in range(1, settings.callback_attempts + 1):
            try:
                address = pinned_address(host, port, settings, resolver)
            except OSError as exc:
                # The name does not resolve now: like a connection error, worth another try later.
                logger.warning("callback for job %s: its host did not resolve (%s)", job_id, type(exc).__name__)
                attempts, status_code = attempt, None
            else:
                if address is None:
                    logger.warning("callback for job %s refused: its host resolves to an address not allowed", job_id)
                    return CallbackOutcome(False, 0, None, ADDRESS_NOT_ALLOWED)
                attempts = attempt
                answer = _attempt(client, parts, address, job_id=job_id, body=body, secret=secret, attempt=attempt)
                if isinstance(answer, CallbackOutcome):
                    return answer
                status_code = answer
                if status_code is not None and status_code != 429 and status_code < 500:
                    break  # the receiver refused this body; sending it again changes nothing
            if attempt < settings.callback_attempts:
                time.sleep(settings.callback_backoff_seconds * 2 ** (attempt - 1))
    return CallbackOutcome(False, attempts, status_code)


def _attempt(
    client: httpx.Client, parts: SplitResult, address: IpAddress, *, job_id: str, body: bytes, secret: str, attempt: int
) -> CallbackOutcome | int | None:
    """One signed POST to the checked address: the outcome when delivered, else its HTTP status (None: no answer)."""
    url, host_header, extensions = _pinned_request(parts, address)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        JOB_ID_HEADER: job_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        **host_header,
    }
    request = client.build_request("POST", url, content=body, headers=headers, extensions=extensions)
    try:
        response = client.send(request)
    except httpx.HTTPError as exc:
        # Never the URL: a Power Automate trigger URL carries its own access signature.
        logger.warning("callback for job %s attempt %d failed: %s", job_id, attempt, type(exc).__name__)
        return None
    if response.is_success:
        logger.info("callback for job %s delivered (HTTP %d)", job_id, response.status_code)
        return CallbackOutcome(True, attempt, response.status_code)
    logger.warning("callback for job %s attempt %d got HTTP %d", job_id, attempt, response.status_code)
    return response.status_code
