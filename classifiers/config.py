"""Settings of the retention model and the governance signals, from ``config/classifier.yaml``.

Any top-level key may be overridden by ``DOCINTEL_CLASSIFIER__<KEY>`` (the same convention as settings.yaml).
A bad key or value fails at start-up with a ConfigError naming the file and the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from docintel.errors import ConfigError
from docintel.settings import Settings, get_settings, load_yaml_file

CONFIG_FILE = "classifier.yaml"
ENV_PREFIX = "DOCINTEL_CLASSIFIER__"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WrongPlaceRule(_Config):
    """Documents of ``classes`` belong only under folders matching one of ``allowed_paths``."""

    name: str
    classes: list[str]  # regular expressions over class ids
    allowed_paths: list[str]  # regular expressions over "site/folder/..." paths, case-insensitive

    @field_validator("classes", "allowed_paths")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression /{pattern}/: {exc}") from exc
        return patterns


class SignalSettings(_Config):
    """Thresholds and rules of the governance signals."""

    stale_years: float = Field(default=6, gt=0)
    near_duplicate_similarity: float = Field(default=0.8, gt=0, le=1)
    shingle_words: int = Field(default=5, ge=1, le=20)
    wrong_place: list[WrongPlaceRule] = Field(default_factory=list)


class ClassifierConfig(_Config):
    """How the combined classifier decides, where its model head lives, and how it is trained."""

    review_threshold: float = Field(default=0.6, ge=0, le=1)
    strong_rule_confidence: float = Field(default=0.55, ge=0, le=1)
    head_path: Path = Path(".docintel/classifier-head.npz")
    encoder: Literal["static", "transformer"] = "static"
    static_table_path: Path | None = None  # None: the user's cache (~/.cache/docintel), one per machine
    max_tokens: int = Field(default=128, ge=16, le=512)
    static_max_tokens: int = Field(default=512, ge=16, le=100_000)
    text_chars: int = Field(default=1200, gt=0)
    batch_size: int = Field(default=32, ge=1)
    per_class: int = Field(default=40, ge=1)
    calibration_per_class: int = Field(default=10, ge=0)
    regularisation: float = Field(default=4.0, gt=0)
    lexical_features: bool = True
    zero_shot_scale: float = 10.0
    zero_shot_bias: float = -3.0
    readable_min_words: int = Field(default=3, ge=0)
    readable_min_share: float = Field(default=0.25, ge=0, le=1)
    signals: SignalSettings = Field(default_factory=SignalSettings)


def load_classifier_config(
    config_dir: Path | None = None, environ: dict[str, str] | None = None, settings: Settings | None = None
) -> ClassifierConfig:
    """``classifier.yaml`` from the configuration folder (defaults when absent), with environment overrides."""
    if config_dir is None:
        config_dir = (settings or get_settings()).config_dir
    environ = dict(os.environ) if environ is None else environ
    path = config_dir / CONFIG_FILE
    data: Any = load_yaml_file(path) if path.is_file() else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX):
            data[name[len(ENV_PREFIX) :].lower()] = yaml.safe_load(value) if value else value
    try:
        return ClassifierConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {key}: {first['msg'].removeprefix('Value error, ')}") from exc
