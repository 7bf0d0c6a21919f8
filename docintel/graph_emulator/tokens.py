"""Opaque, tamper-evident tokens for skip tokens, delta tokens and pre-authenticated download URLs.

A token is base64url(JSON payload) + "." + a truncated HMAC over it, so clients cannot forge or edit
them, and the payload (change id, cursor, expiry...) stays private to the emulator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

_MAC_BYTES = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Signs and reads tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES])

    def encode(self, payload: dict[str, Any]) -> str:
        """A signed token for ``payload`` (JSON-serialisable)."""
        body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._mac(body)}"

    def decode(self, token: str) -> dict[str, Any] | None:
        """The payload of a token this codec signed, or None when it is malformed or forged."""
        body, _, mac = token.partition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        return payload if isinstance(payload, dict) else None
