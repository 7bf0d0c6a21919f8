"""The PII key's fingerprint in the catalogue (issue 13, item 12): another key is refused, weak keys too."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from docintel.catalogue.store import open_catalogue
from docintel.cli import main
from docintel.enrich.hashing import (
    FINGERPRINT_SETTING,
    bind_pii_key,
    generate_key_file,
    key_fingerprint,
    key_weakness,
    load_pii_key,
)
from docintel.errors import ConfigError, PiiKeyMismatch
from docintel.subject_access import find_documents

REPO = Path(__file__).resolve().parents[2]
KEY_A = bytes.fromhex("9f2c41d7a80b36e5c17d4f9021ab6c3e58d0e7f1a2b4c6d8e0f1325476a8b9c0")
KEY_B = bytes.fromhex("0e1d2c3b4a5968778695a4b3c2d1e0ff1e2d3c4b5a69788796a5b4c3d2e1f001")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalogue on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def test_first_key_is_recorded_as_a_fingerprint_never_the_key(catalogue_url: str) -> None:
    with open_catalogue(catalogue_url) as store:
        bind_pii_key(store, KEY_A)
        stored = store.setting(FINGERPRINT_SETTING)
        bind_pii_key(store, KEY_A)  # the same key again is fine
    assert stored == key_fingerprint(KEY_A)
    assert KEY_A.hex() not in stored and stored != key_fingerprint(KEY_B)


def test_another_key_is_refused_and_the_fingerprint_kept(catalogue_url: str) -> None:
    with open_catalogue(catalogue_url) as store:
        bind_pii_key(store, KEY_A)
        with pytest.raises(PiiKeyMismatch, match="not the key this catalogue") as caught:
            bind_pii_key(store, KEY_B)
        assert caught.value.exit_code == 2
        assert KEY_B.hex() not in caught.value.message
        assert store.setting(FINGERPRINT_SETTING) == key_fingerprint(KEY_A)


def test_subject_access_search_with_another_key_is_refused_not_empty(catalogue_url: str) -> None:
    with open_catalogue(catalogue_url) as store:
        bind_pii_key(store, KEY_A)
        assert find_documents(store, nhs_number="943 476 5919", key=KEY_A, snippets=False) == []
        with pytest.raises(PiiKeyMismatch):
            find_documents(store, nhs_number="943 476 5919", key=KEY_B, snippets=False)


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.delenv("DOCINTEL_PII_KEY_FILE", raising=False)
    monkeypatch.delenv("DOCINTEL_CATALOGUE_URL", raising=False)
    return CliRunner()


def test_scan_and_find_with_another_key_exit_2(
    runner: CliRunner, catalogue_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCINTEL_PII__ENABLED", "false")  # the key check, not the models, is under test
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "note.txt").write_text("Minutes of the parks committee.", encoding="utf-8")
    monkeypatch.setenv("DOCINTEL_PII_KEY", KEY_A.hex())
    first = runner.invoke(main, ["scan", str(folder), "--catalogue", catalogue_url, "--no-progress"])
    assert first.exit_code == 0, first.output
    monkeypatch.setenv("DOCINTEL_PII_KEY", KEY_B.hex())
    second = runner.invoke(main, ["scan", str(folder), "--catalogue", catalogue_url, "--no-progress", "--force"])
    assert second.exit_code == 2, second.output
    assert "not the key this catalogue" in second.output
    found = runner.invoke(main, ["find", "--nhs-number", "943 476 5919", "--catalogue", catalogue_url])
    assert found.exit_code == 2, found.output
    assert "No catalogued document" not in found.output


@pytest.mark.parametrize(
    "raw",
    [
        "0" * 64,  # all-zero hex
        "00" * 16,
        "a" * 40,  # one character repeated
        "abcd" * 8,  # a short pattern repeated (also valid hex)
        "password" * 3,
        "aabbaabbccddccdd",  # few distinct bytes
    ],
)
def test_weak_keys_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(ConfigError, match="anyone could guess it") as caught:
        load_pii_key({"DOCINTEL_PII_KEY": raw})
    assert raw not in caught.value.message


@pytest.mark.parametrize("raw", [KEY_A.hex(), "test-key-not-secret", "a long passphrase, not hex"])
def test_good_keys_pass(raw: str) -> None:
    assert key_weakness(load_pii_key({"DOCINTEL_PII_KEY": raw})) is None


def test_key_create_makes_a_key_that_passes(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        assert key_weakness(generate_key_file(tmp_path / name)) is None


def test_group_readable_key_file_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "key"
    path.write_text(KEY_A.hex() + "\n", encoding="utf-8")
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="docintel.enrich.hashing"):
        assert load_pii_key({"DOCINTEL_PII_KEY_FILE": str(path)}) == KEY_A
    assert "can be read by other accounts" in caplog.text and "chmod 600" in caplog.text
    assert KEY_A.hex() not in caplog.text
    caplog.clear()
    os.chmod(path, 0o600)
    with caplog.at_level(logging.WARNING, logger="docintel.enrich.hashing"):
        load_pii_key({"DOCINTEL_PII_KEY_FILE": str(path)})
    assert "can be read by other accounts" not in caplog.text


def test_serve_with_another_key_exits_2_before_listening(
    runner: CliRunner, catalogue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_catalogue(catalogue_url) as store:
        bind_pii_key(store, KEY_A)
    monkeypatch.setenv("DOCINTEL_PII_KEY", KEY_B.hex())
    monkeypatch.setenv("DOCINTEL_OCR__ENABLED", "false")
    result = runner.invoke(main, ["serve", "--port", "1", "--catalogue", catalogue_url])
    assert result.exit_code == 2, result.output
    assert "not the key this catalogue" in result.output
