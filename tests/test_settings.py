"""Settings: YAML, environment overrides and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.errors import ConfigError
from docintel.settings import load_settings

REPO = Path(__file__).resolve().parent.parent


def test_shipped_settings_load() -> None:
    settings = load_settings(REPO / "config", environ={})
    assert settings.ocr.dpi == 300
    assert settings.catalogue.url == "sqlite:///docintel.db"


@pytest.mark.parametrize(
    ("environ", "check"),
    [
        ({"DOCINTEL_OCR__DPI": "200"}, lambda s: s.ocr.dpi == 200),
        ({"DOCINTEL_OCR__ENABLED": "false"}, lambda s: s.ocr.enabled is False),
        ({"DOCINTEL_CATALOGUE_URL": "postgresql://x@db/cat"}, lambda s: s.catalogue.url == "postgresql://x@db/cat"),
        ({"DOCINTEL_NLP__ENTITY_LABELS": "[PERSON, ORG]"}, lambda s: s.nlp.entity_labels == ["PERSON", "ORG"]),
        ({"DOCINTEL_UNRELATED": "1"}, lambda s: s.ocr.dpi == 300),
    ],
)
def test_environment_overrides(environ: dict[str, str], check) -> None:  # type: ignore[no-untyped-def]
    assert check(load_settings(REPO / "config", environ=environ))


@pytest.mark.parametrize(
    ("yaml_text", "named"),
    [
        ("ocr:\n  dpii: 300\n", "ocr.dpii"),
        ("limits:\n  max_file_bytes: lots\n", "limits.max_file_bytes"),
        ("nonsense: {}\n", "nonsense"),
        ("ocr: [unclosed\n", "not valid YAML"),
        ("nlp:\n  blas: mkl\n", "nlp.blas"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path: Path, yaml_text: str, named: str) -> None:
    (tmp_path / "settings.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert named in str(caught.value)
    assert "settings.yaml" in str(caught.value)


def test_bad_environment_value_fails(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ocr\.dpi"):
        load_settings(REPO / "config", environ={"DOCINTEL_OCR__DPI": "high"})
