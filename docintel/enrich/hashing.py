"""Keyed hashes of personal data, so the catalogue can find every mention of a value without storing it.

The key comes only from the environment: ``DOCINTEL_PII_KEY`` (hex, or any string of 16+ characters) or
``DOCINTEL_PII_KEY_FILE`` (a path to a file holding it). Neither the key nor any value is ever logged. A key
that is all one byte, a short pattern repeated or made of a handful of distinct bytes is refused: it hashes,
but anyone can guess it. The catalogue keeps the key's fingerprint (:func:`key_fingerprint`, an HMAC of a fixed
label, which reveals nothing of the key) so a run with another key is refused (``docintel.pipeline.bind_pii_key``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

import phonenumbers

from docintel import defaults
from docintel.errors import ConfigError, PiiKeyMismatch

logger = logging.getLogger(__name__)

# A key shorter than this is a typo or a placeholder, not a secret.
MIN_KEY_BYTES = 16
# Bytes of randomness in a generated key file (written as hex).
GENERATED_KEY_BYTES = 32
KEY_FILE_MODE = 0o600
# The demo writes its key here when neither variable is set.
DEMO_KEY_FILE = ".docintel-key"

# Fewer distinct byte values than this is a placeholder ("0000...", "abababab..."), not a secret: a random
# 16-byte key has about 15 distinct bytes, a 16-character passphrase about 11.
MIN_DISTINCT_KEY_BYTES = 8
# A key that is a pattern this short repeated ("abcd" * 8, "password" * 3) is typed, not random.
MAX_REPEATED_PATTERN_BYTES = 8
# The message whose keyed hash is the key's fingerprint; changing it would orphan every catalogue's check.
FINGERPRINT_LABEL = b"docintel pii key fingerprint v1"
# The catalogue setting that holds the fingerprint of the key its hashes were made with.
FINGERPRINT_SETTING = "pii_key_fingerprint"
# Group and other permission bits: a key file with any of them set can be read by other accounts.
_SHARED_MODE_BITS = 0o077

_SEPARATORS = re.compile(r"[\s\-.()/]")
_HEX_KEY = re.compile(r"[0-9a-fA-F]+")


def _collapse(value: str) -> str:
    return " ".join(value.split())


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _phone(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return _digits(value)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _postcode(value: str) -> str:
    compact = "".join(value.split()).upper()
    # The inward code is always the last three characters, so the space goes before them.
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


_NORMALISERS = {
    "UK_NHS": _digits,
    "UK_NINO": lambda v: _SEPARATORS.sub("", v).upper(),
    "UK_VAT": lambda v: _SEPARATORS.sub("", v).upper(),
    "UK_SORT_CODE": _digits,
    "UK_BANK_ACCOUNT": _digits,
    "CREDIT_CARD": _digits,
    "IBAN_CODE": lambda v: _SEPARATORS.sub("", v).upper(),
    "UK_PASSPORT": lambda v: _SEPARATORS.sub("", v).upper(),
    "UK_DRIVING_LICENCE": lambda v: _SEPARATORS.sub("", v).upper(),
    "EMAIL_ADDRESS": lambda v: v.strip().lower(),
    "PHONE_NUMBER": _phone,
    "UK_POSTCODE": _postcode,
    "PERSON": lambda v: _collapse(v).casefold(),
}


def normalise(entity_type: str, value: str) -> str:
    """The canonical form of a value of a type, so "943 476 5919" and "9434765919" hash alike."""
    normaliser = _NORMALISERS.get(entity_type)
    if normaliser is None:
        return _collapse(value).casefold()
    return normaliser(value)


def pii_hash(entity_type: str, value: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of "TYPE:normalised value" under ``key``."""
    # The type is part of the message so the same digits found as a phone number and as an account
    # number give different hashes: a subject access search by one type never pulls in the other.
    message = f"{entity_type}:{normalise(entity_type, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _parse_key(raw: str, origin: str) -> bytes:
    raw = raw.strip()
    if len(raw) >= 2 * MIN_KEY_BYTES and len(raw) % 2 == 0 and _HEX_KEY.fullmatch(raw):
        key = bytes.fromhex(raw)
    else:
        key = raw.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"the PII key from {origin} is shorter than {MIN_KEY_BYTES} bytes")
    weakness = key_weakness(key)
    if weakness:
        raise ConfigError(
            f"the PII key from {origin} is {weakness}: anyone could guess it; make a random one with "
            "`docintel key create PATH`"
        )
    return key


def key_weakness(key: bytes) -> str | None:
    """Why a key is too guessable to hash personal data with, or None when it is not."""
    if len(set(key)) == 1:
        return "one byte repeated (all zeros, say)"
    for period in range(1, min(MAX_REPEATED_PATTERN_BYTES, len(key) // 2) + 1):
        if len(key) % period == 0 and key == key[:period] * (len(key) // period):
            return f"a {period}-byte pattern repeated"
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
        return f"made of fewer than {MIN_DISTINCT_KEY_BYTES} distinct bytes"
    return None


def key_fingerprint(key: bytes) -> str:
    """A fingerprint that tells keys apart without revealing them: hex HMAC-SHA256 of a fixed label."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def _warn_if_shared(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & _SHARED_MODE_BITS:
        # The path is the operator's own setting, not a secret; the key itself is never logged.
        logger.warning(
            "the PII key file %s can be read by other accounts (mode %o); run chmod 600 on it",
            path,
            mode & 0o777,
        )


def load_pii_key(environ: dict[str, str] | None = None) -> bytes:
    """The PII hashing key from DOCINTEL_PII_KEY or the file named by DOCINTEL_PII_KEY_FILE."""
    environ = dict(os.environ) if environ is None else environ
    inline = environ.get(defaults.ENV_PII_KEY)
    if inline:
        return _parse_key(inline, defaults.ENV_PII_KEY)
    key_file = environ.get(defaults.ENV_PII_KEY_FILE)
    if key_file:
        try:
            raw = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{defaults.ENV_PII_KEY_FILE}={key_file}: cannot read ({type(exc).__name__})") from exc
        _warn_if_shared(Path(key_file))
        return _parse_key(raw, defaults.ENV_PII_KEY_FILE)
    raise ConfigError(
        f"no PII hashing key: set {defaults.ENV_PII_KEY} to 64 hex characters "
        f"(python -c 'import secrets; print(secrets.token_hex(32))') or {defaults.ENV_PII_KEY_FILE} "
        f"to a file holding one (the demo creates {DEMO_KEY_FILE})"
    )


def generate_key_file(path: Path | str) -> bytes:
    """The key in ``path``, creating the file with a new random key and 0600 permissions if absent."""
    path = Path(path)
    new_key = secrets.token_hex(GENERATED_KEY_BYTES)
    try:
        # O_EXCL: two processes starting together must not both write (and one overwrite the other's) key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        _warn_if_shared(path)
        return _parse_key(path.read_text(encoding="utf-8"), str(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(new_key + "\n")
    logger.info("created a new PII key file with mode %o", KEY_FILE_MODE)
    return bytes.fromhex(new_key)


class SettingStore(Protocol):
    """Where a catalogue keeps settings about itself (docintel.catalogue.store.CatalogueStore)."""

    def claim_setting(self, name: str, value: str) -> str:
        """Store ``value`` under ``name`` unless one is there; the stored value."""
        ...


def bind_pii_key(store: SettingStore, key: bytes) -> None:
    """Record the key's fingerprint in a new catalogue; PiiKeyMismatch when the catalogue was hashed with another."""
    fingerprint = key_fingerprint(key)
    if not hmac.compare_digest(store.claim_setting(FINGERPRINT_SETTING, fingerprint), fingerprint):
        raise PiiKeyMismatch(
            "the PII key is not the key this catalogue's personal data was hashed with: scanning would mix "
            "unmatchable hashes in and subject access searches would miss documents. Set "
            f"{defaults.ENV_PII_KEY} or {defaults.ENV_PII_KEY_FILE} to the catalogue's own key"
        )
