"""Settings: YAML files in ``config/`` parsed into pydantic models at start-up.

``config/settings.yaml`` holds the sections below. Environment variables override any key as
``DOCINTEL_<SECTION>__<KEY>`` (for example ``DOCINTEL_OCR__DPI=200``). A bad key or value fails at
start-up with a :class:`ConfigError` naming the file and the key. Secrets never live in these
files: they come from the environment (see ``docintel.enrich.hashing`` for the PII key).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docintel import defaults
from docintel.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitSettings(_Section):
    """Size, page and archive limits that protect a run from hostile or absurd files."""

    max_file_bytes: int = defaults.MAX_FILE_BYTES
    max_pdf_pages: int = defaults.MAX_PDF_PAGES
    max_image_pixels: int = defaults.MAX_IMAGE_PIXELS
    max_pdf_page_points: float = defaults.MAX_PDF_PAGE_POINTS
    max_render_pixels: int = Field(default=defaults.MAX_RENDER_PIXELS, gt=0)
    max_archive_depth: int = defaults.MAX_ARCHIVE_DEPTH
    max_archive_members: int = defaults.MAX_ARCHIVE_MEMBERS
    max_archive_expanded_bytes: int = defaults.MAX_ARCHIVE_EXPANDED_BYTES
    max_compression_ratio: float = defaults.MAX_COMPRESSION_RATIO
    convert_timeout_seconds: float = defaults.CONVERT_TIMEOUT_SECONDS
    document_timeout_seconds: float = defaults.DOCUMENT_TIMEOUT_SECONDS


class OcrSettings(_Section):
    """Tesseract OCR."""

    enabled: bool = True
    dpi: int = defaults.OCR_DPI
    language: str = defaults.OCR_LANGUAGE
    page_timeout_seconds: float = defaults.OCR_PAGE_TIMEOUT_SECONDS
    parallel_pages: int = defaults.OCR_PARALLEL_PAGES
    detect_orientation: bool = True
    min_text_layer_chars: int = defaults.MIN_TEXT_LAYER_CHARS
    min_text_layer_word_ratio: float = defaults.MIN_TEXT_LAYER_WORD_RATIO


class NlpSettings(_Section):
    """spaCy NER."""

    models: list[str] = Field(default_factory=lambda: list(defaults.SPACY_MODELS))
    entity_labels: list[str] = Field(default_factory=lambda: ["PERSON", "ORG", "GPE", "LOC", "DATE", "MONEY"])
    max_chars: int = defaults.MAX_NLP_CHARS
    max_pii_scan_chars: int = defaults.MAX_PII_SCAN_CHARS
    max_findings: int = defaults.MAX_FINDINGS_PER_DOCUMENT
    # Where the NER model's matrix products run: "numpy" (numpy's OpenBLAS, one thread) or "blis" (spaCy's
    # default); docintel.enrich.nlp.BLAS_BACKENDS says why.
    blas: Literal["numpy", "blis"] = "numpy"


class PiiSettings(_Section):
    """Presidio personal-data detection; the recogniser list lives in ``config/pii.yaml``."""

    enabled: bool = True
    config_file: str = "pii.yaml"


class RetentionSettings(_Section):
    """The retention schedule file and classifier choice."""

    schedule_file: str = "retention_schedule.yaml"
    classifier: str = "evidence"
    # The retain stage's floor for a DATE_OF_BIRTH finding to start a "DOB + N years" clock.
    date_of_birth_min_score: float = Field(default=defaults.DATE_OF_BIRTH_MIN_SCORE, ge=0, le=1)


class CatalogueSettings(_Section):
    """Where results are stored."""

    url: str = defaults.CATALOGUE_URL
    # Keep each document's text in the catalogue with every personal-data finding and name masked (offsets
    # unchanged), for subject-access snippets of documents that cannot be re-read (SharePoint, OneDrive, mail).
    keep_text: bool = False
    # Bring the catalogue's schema to this docintel's revision on open. A deployment with many processes turns it
    # off and runs `docintel migrate` once before they start: an upgrade then never races a running worker.
    auto_upgrade: bool = True


class ContractSettings(_Section):
    """Contract terms (docintel.contracts): which documents are read as contracts, and the alert windows."""

    # Documents classified into these retention classes are read for contract terms.
    classes: list[str] = Field(default_factory=lambda: list(defaults.CONTRACT_CLASSES))
    # Read every document as a contract, whatever its class (``docintel analyze --contract`` sets this).
    always: bool = False
    # Days ahead the report and register warn of contracts ending or reaching their notice date.
    alert_days: list[int] = Field(default_factory=lambda: list(defaults.CONTRACT_ALERT_DAYS))
    # Contracts at or above this value (GBP) belong in the Transparency Code register.
    register_threshold: float = defaults.TRANSPARENCY_CODE_THRESHOLD

    @field_validator("alert_days")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if not value or any(day <= 0 for day in value):
            raise ValueError("alert_days must be a non-empty list of positive day counts")
        return sorted(set(value))


class Settings(_Section):
    """All of docintel's settings."""

    limits: LimitSettings = Field(default_factory=LimitSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    contracts: ContractSettings = Field(default_factory=ContractSettings)
    config_dir: Path = Field(default=Path("config"), exclude=True)

    @model_validator(mode="after")
    def _kept_text_is_masked(self) -> Settings:
        # Kept text is masked by the personal-data search: without it the text would be kept in clear.
        if self.catalogue.keep_text and not self.pii.enabled:
            raise ValueError("catalogue.keep_text needs pii.enabled: kept text is masked by the personal-data search")
        return self

    def config_path(self, name: str) -> Path:
        """A file in the configuration folder."""
        return self.config_dir / name


def find_config_dir() -> Path:
    """The configuration folder: $DOCINTEL_CONFIG_DIR, else ./config, else the one beside the package."""
    env = os.environ.get(defaults.ENV_CONFIG_DIR)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise ConfigError(f"{defaults.ENV_CONFIG_DIR}={env} is not a folder")
        return path
    here = Path("config")
    if (here / "settings.yaml").is_file():
        return here
    beside = Path(__file__).resolve().parent.parent / "config"
    if beside.is_dir():
        return beside
    raise ConfigError(f"no configuration folder found: set {defaults.ENV_CONFIG_DIR}")


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {}
    sections = set(Settings.model_fields) - {"config_dir"}
    for name, value in environ.items():
        if not name.startswith(defaults.ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(defaults.ENV_PREFIX) :].lower().partition("__")
        if section not in sections:
            continue
        parsed = yaml.safe_load(value) if value else value
        overrides.setdefault(section, {})[key] = parsed
    return overrides


def load_settings(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read ``settings.yaml`` from the configuration folder and apply environment overrides."""
    config_dir = config_dir or find_config_dir()
    environ = dict(os.environ) if environ is None else environ
    path = config_dir / "settings.yaml"
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of sections")
        data = loaded
    for section, values in _env_overrides(environ).items():
        data.setdefault(section, {})
        if isinstance(data[section], dict):
            data[section].update(values)
    catalogue_url = environ.get(defaults.ENV_CATALOGUE_URL)
    if catalogue_url:
        data.setdefault("catalogue", {})["url"] = catalogue_url
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        where = f"{path}: {key}" if key else str(path)
        raise ConfigError(f"{where}: {first['msg']}") from exc
    settings.config_dir = config_dir
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, loaded once."""
    return load_settings()


def command_settings(context_object: object) -> Settings:
    """The settings the ``docintel`` group loaded (a command's ``ctx.obj["settings"]``), else this process's."""
    loaded = context_object.get("settings") if isinstance(context_object, dict) else None
    return loaded if isinstance(loaded, Settings) else get_settings()


def load_yaml_file(path: Path) -> Any:
    """Load a YAML configuration file, turning any problem into a ConfigError naming the file."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
