"""Sign-in for the review pages: review settings, roles, password hashing and signed session cookies.

Reviewers sign in with a local account (scrypt-hashed password, signed session cookie) or, when enabled in
``config/review.yaml``, are named by a header that the council's reverse proxy sets after its own sign-in.
The header is believed only from the proxy addresses listed in the settings. The cookie-signing secret comes
from ``$DOCINTEL_REVIEW_SECRET`` (or a file named by ``$DOCINTEL_REVIEW_SECRET_FILE``), never from YAML.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from docintel.errors import ConfigError
from docintel.settings import find_config_dir, load_yaml_file

log = logging.getLogger(__name__)

REVIEW_CONFIG_FILE = "review.yaml"
ENV_REVIEW_SECRET = "DOCINTEL_REVIEW_SECRET"  # noqa: S105 - the variable's name, not a secret
ENV_REVIEW_SECRET_FILE = "DOCINTEL_REVIEW_SECRET_FILE"  # noqa: S105
ENV_REVIEW_PREFIX = "DOCINTEL_REVIEW__"

# scrypt cost: 2**14 x 8 uses 16 MiB and ~50 ms per check on the build machine, which slows password
# guessing without making sign-in sluggish (OWASP's minimum for scrypt).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_KEY_BYTES = 32
SALT_BYTES = 16
# Account names show up in the audit trail and CSV export: keep them short and printable.
MAX_USER_NAME = 128
MIN_PASSWORD_LENGTH = 10

# Failed sign-ins allowed per account name and per address in a window before sign-in answers 429: a
# person mistyping tries a few times; a password guesser gets five tries a quarter-hour.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW_SECONDS = 15 * 60

_SESSION_SALT = "docintel.review.session"


class Role(StrEnum):
    """What a signed-in person may do: readonly views, reviewer also decides, admin also releases holds.

    ``sar``: an information governance officer who runs subject access cases (and reads, as readonly does); only
    this role and admin see cases, which name who asked and what was found about them.
    """

    READONLY = "readonly"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    SAR = "sar"

    @property
    def can_decide(self) -> bool:
        """Accept or change classes, place holds and approve disposal."""
        return self in (Role.REVIEWER, Role.ADMIN)

    @property
    def can_release_holds(self) -> bool:
        """Lift a legal hold (a decision with legal weight, kept to administrators)."""
        return self is Role.ADMIN

    @property
    def can_handle_sar(self) -> bool:
        """Open, see, decide and bundle subject access cases."""
        return self in (Role.SAR, Role.ADMIN)


class ReviewSettings(BaseModel):
    """Settings of the review pages, from ``config/review.yaml`` and ``DOCINTEL_REVIEW__<KEY>`` variables."""

    model_config = ConfigDict(extra="forbid")

    session_cookie: str = "docintel_review"
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)  # one working day
    # Off by default so the demo works over plain http on localhost; SET IT TRUE in every deployment behind
    # TLS (docs/security.md): without it the session cookie also travels over any plain-http request.
    secure_cookies: bool = False
    trusted_header_enabled: bool = False
    trusted_header_name: str = "X-Remote-User"
    trusted_header_default_role: Role = Role.READONLY  # for proxy users without a local account
    # Addresses or CIDR networks ("10.20.0.0/16") whose trusted header is believed.
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    page_size: int = Field(default=50, gt=0, le=1000)
    max_bulk_documents: int = Field(default=10_000, gt=0)
    max_failed_sign_ins: int = Field(default=MAX_FAILED_SIGN_INS, gt=0)
    failed_sign_in_window_seconds: int = Field(default=FAILED_SIGN_IN_WINDOW_SECONDS, gt=0)

    # Who sees a document's contents on its page (its first pages and the passages that decided its class, read
    # again from the source on request, never stored). Read-only accounts see the catalogue's facts only.
    preview_roles: list[Role] = Field(default_factory=lambda: [Role.REVIEWER, Role.ADMIN])
    preview_pages: int = Field(default=2, ge=0, le=10)  # first pages drawn; 0 draws none
    # Largest picture of one page, in pixels (about 1000 x 1400: an A4 page readable on screen, ~150 kB as PNG).
    preview_max_pixels: int = Field(default=1_400_000, gt=0, le=20_000_000)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
        return values

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether a peer address is one of the trusted proxies (exact address or inside a listed network)."""
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in ipaddress.ip_network(value.strip(), strict=False) for value in self.trusted_proxies)


def load_review_settings(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> ReviewSettings:
    """Read ``review.yaml`` (optional) from the configuration folder and apply environment overrides."""
    environ = dict(os.environ) if environ is None else environ
    config_dir = config_dir or find_config_dir()
    path = config_dir / REVIEW_CONFIG_FILE
    data: dict[str, Any] = {}
    if path.is_file():
        loaded = load_yaml_file(path) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings")
        data = loaded
    for name, value in environ.items():
        if name.startswith(ENV_REVIEW_PREFIX):
            data[name[len(ENV_REVIEW_PREFIX) :].lower()] = yaml.safe_load(value) if value else value
    try:
        return ReviewSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg']}") from exc


def load_session_secret(environ: dict[str, str] | None = None) -> str:
    """The cookie-signing secret from the environment; a random one (sessions end on restart) when unset."""
    environ = dict(os.environ) if environ is None else environ
    secret = environ.get(ENV_REVIEW_SECRET)
    secret_file = environ.get(ENV_REVIEW_SECRET_FILE)
    if not secret and secret_file:
        try:
            secret = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{ENV_REVIEW_SECRET_FILE}={secret_file}: cannot read ({exc.strerror})") from exc
    if secret:
        if len(secret) < 16:
            raise ConfigError(f"{ENV_REVIEW_SECRET}: use at least 16 characters")
        return secret
    log.warning(
        "no %s set: review sessions are signed with a random key and end when the server restarts", ENV_REVIEW_SECRET
    )
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` as ``scrypt$n$r$p$salt$key`` (base64 parts)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_KEY_BYTES
    )
    encoded = [base64.b64encode(part).decode("ascii") for part in (salt, key)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


# Checked against when the account does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the stored scrypt hash; always spends one scrypt computation."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = (stored or _DUMMY_HASH).split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return stored is not None and hmac.compare_digest(key, expected)


def check_user_name(name: str) -> str:
    """A valid account name, stripped; raises ConfigError for an empty, long or unprintable one."""
    name = name.strip()
    if not name or len(name) > MAX_USER_NAME or not name.isprintable() or any(c in name for c in "$,;\"'<>"):
        raise ConfigError(f"user name must be 1-{MAX_USER_NAME} printable characters without $ , ; quotes or <>")
    return name


def check_password(password: str) -> str:
    """The password if it is long enough; raises ConfigError otherwise."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return password


@dataclass(frozen=True)
class Reviewer:
    """The person behind a request: name, role and how they signed in ("password" or "proxy")."""

    name: str
    role: Role
    method: str = "password"

    @property
    def can_decide(self) -> bool:
        """Whether this person may make review decisions."""
        return self.role.can_decide

    @property
    def can_release_holds(self) -> bool:
        """Whether this person may release legal holds."""
        return self.role.can_release_holds

    @property
    def can_handle_sar(self) -> bool:
        """Whether this person may open, see, decide and bundle subject access cases."""
        return self.role.can_handle_sar


class SessionCodec:
    """Signs and checks the session cookie: a small dict (user, CSRF token, flash messages), time-limited."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SESSION_SALT)
        self.max_age_seconds = max_age_seconds

    def dumps(self, session: dict[str, Any]) -> str:
        """The signed cookie value."""
        return self._serializer.dumps(session)

    def loads(self, value: str | None) -> dict[str, Any]:
        """The session in a cookie; an empty dict when absent, tampered with or expired."""
        if not value:
            return {}
        try:
            loaded = self._serializer.loads(value, max_age=self.max_age_seconds)
        except BadSignature:
            return {}
        return loaded if isinstance(loaded, dict) else {}


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(24)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the session's."""
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))


class FailedSignIns:
    """Failed sign-ins per key (an account name, an address) in a sliding window, in this server's memory.

    Checked before the password is, so a guesser who has used up the window learns nothing more, right
    or wrong; a successful sign-in does not reset the count (it would let a guesser interleave its own).
    """

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def wait(self, *keys: str) -> float | None:
        """Seconds until any of the keys may try again, or None when all may try now."""
        now = self._clock()
        with self._lock:
            waits = [
                recent[0] + self._window - now for key in keys if len(recent := self._recent(key, now)) >= self._limit
            ]
        return max(waits) if waits else None

    def record(self, *keys: str) -> None:
        """Count a failed attempt against each key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
