"""One real analyzer (spaCy model + Presidio with the repo's pii.yaml) shared by the enrichment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.enrich.analyzer import TextAnalyzer
from docintel.settings import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="session")
def analyzer() -> TextAnalyzer:
    """The analyzer as the pipeline builds it from the repository's config folder, warmed once."""
    settings = load_settings(CONFIG_DIR, environ={})
    built = TextAnalyzer(settings)
    built.warm()
    return built
