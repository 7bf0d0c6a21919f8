"""Normalisation and keyed hashing of personal data, and where the key comes from."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from docintel.enrich.hashing import generate_key_file, load_pii_key, normalise, pii_hash
from docintel.errors import ConfigError

KEY = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")


@pytest.mark.parametrize(
    ("entity_type", "value", "expected"),
    [
        ("UK_NHS", "943 476 5919", "9434765919"),
        ("UK_NHS", "943-476-5919", "9434765919"),
        ("UK_NINO", "ab 12 34 56 c", "AB123456C"),
        ("UK_NINO", "AB123456C", "AB123456C"),
        ("EMAIL_ADDRESS", " Olivia.Smith@Example.ORG ", "olivia.smith@example.org"),
        ("PHONE_NUMBER", "0113 496 0123", "+441134960123"),
        ("PHONE_NUMBER", "+44 (0)113 496 0123", "+441134960123"),
        ("PHONE_NUMBER", "07700 100123", "+447700100123"),
        ("UK_POSTCODE", "ls6  2ab", "LS6 2AB"),
        ("UK_POSTCODE", "SW1A1AA", "SW1A 1AA"),
        ("PERSON", "  Olivia   SMITH ", "olivia smith"),
        ("PERSON", "STRASSE Straße", "strasse strasse"),
        ("UK_SORT_CODE", "20-00-01", "200001"),
        ("UK_VAT", "GB 980 7806 84", "GB980780684"),
        ("IBAN_CODE", "gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("ORG", "Leeds  City\nCouncil", "leeds city council"),  # default rule
    ],
)
def test_normalise_table(entity_type: str, value: str, expected: str) -> None:
    assert normalise(entity_type, value) == expected


def test_equal_after_normalising_means_equal_hash() -> None:
    assert pii_hash("UK_NHS", "943 476 5919", KEY) == pii_hash("UK_NHS", "9434765919", KEY)
    assert pii_hash("EMAIL_ADDRESS", "A@Example.org", KEY) == pii_hash("EMAIL_ADDRESS", "a@example.org", KEY)


def test_hash_is_hex_hmac_sha256() -> None:
    digest = pii_hash("UK_NHS", "9434765919", KEY)
    assert len(digest) == 64
    int(digest, 16)
    assert "9434765919" not in digest


def test_different_key_gives_different_hash() -> None:
    other = bytes(reversed(KEY))
    assert pii_hash("UK_NHS", "9434765919", KEY) != pii_hash("UK_NHS", "9434765919", other)


def test_hash_is_scoped_by_type() -> None:
    assert pii_hash("UK_BANK_ACCOUNT", "31926819", KEY) != pii_hash("PHONE_NUMBER", "31926819", KEY)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DOCINTEL_PII_KEY": KEY.hex()}, KEY),
        ({"DOCINTEL_PII_KEY": KEY.hex().upper()}, KEY),
        ({"DOCINTEL_PII_KEY": "a long passphrase, not hex"}, b"a long passphrase, not hex"),
    ],
)
def test_key_from_environment(environ: dict[str, str], expected: bytes) -> None:
    assert load_pii_key(environ) == expected


def test_key_from_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(KEY.hex() + "\n", encoding="utf-8")
    assert load_pii_key({"DOCINTEL_PII_KEY_FILE": str(path)}) == KEY


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"DOCINTEL_PII_KEY": "short"},
        {"DOCINTEL_PII_KEY_FILE": "/nonexistent/docintel-key"},
    ],
)
def test_missing_or_bad_key_is_a_config_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_pii_key(environ)
    assert "DOCINTEL_PII_KEY" in str(caught.value) or "shorter" in str(caught.value)


def test_missing_key_message_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError, match="DOCINTEL_PII_KEY_FILE"):
        load_pii_key({})


def test_bad_key_message_does_not_echo_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_pii_key({"DOCINTEL_PII_KEY": "tooshort1"})
    assert "tooshort1" not in str(caught.value)


def test_generate_key_file_creates_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / ".docintel-key"
    first = generate_key_file(path)
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert generate_key_file(path) == first  # an existing key is kept, never replaced
    assert load_pii_key({"DOCINTEL_PII_KEY_FILE": str(path)}) == first


def test_generated_keys_differ(tmp_path: Path) -> None:
    assert generate_key_file(tmp_path / "a") != generate_key_file(tmp_path / "b")
