"""A small trained embedding head shared by the model tests (the model loads once per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.config import ClassifierConfig
from classifiers.embeddings import static_table_path
from docintel.retention import RetentionSchedule, load_schedule

SCHEDULE_PATH = Path(__file__).resolve().parents[2] / "config" / "retention_schedule.yaml"
# Few documents per class: enough for the head to learn the generated classes, quick to embed on 2 cores.
SMALL_PER_CLASS = 4


@pytest.fixture(scope="session")
def schedule() -> RetentionSchedule:
    return load_schedule(SCHEDULE_PATH)


@pytest.fixture(scope="session")
def static_table() -> Path:
    """Where the static encoder's table lives in tests: where the product keeps it (the user's cache).

    Distilling passes the whole vocabulary through the transformer (~1 CPU-minute), so the tests, the
    pipeline runs they make and the demo share one table per machine; the table records the weights it came
    from, so a stale one is rebuilt, never used.
    """
    return static_table_path(ClassifierConfig())


@pytest.fixture(scope="session")
def small_config(tmp_path_factory: pytest.TempPathFactory, static_table: Path) -> ClassifierConfig:
    """The default (static) encoder over a small shipped set."""
    head = tmp_path_factory.mktemp("classifier") / "head.npz"
    return ClassifierConfig(
        head_path=head, static_table_path=static_table, per_class=SMALL_PER_CLASS, calibration_per_class=1,
        max_tokens=96,
    )  # fmt: skip


@pytest.fixture(scope="session")
def trained_config(schedule: RetentionSchedule, small_config: ClassifierConfig) -> ClassifierConfig:
    """small_config with its head trained and saved (once per session)."""
    from classifiers.train import train

    train(schedule, small_config)
    return small_config
