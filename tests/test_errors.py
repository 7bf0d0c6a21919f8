"""The error tree and the safe summary that keeps secrets out of logs and the catalogue."""

from __future__ import annotations

import pytest

from docintel import errors


@pytest.mark.parametrize(
    ("raw", "leaked"),
    [
        ("GET failed: Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi"),
        ("https://x.example/dl?sig=AbC123&expires=1", "AbC123"),
        ("connect postgresql://docintel:hunter2@db/cat failed", "hunter2"),
        ("bad client_secret: password=pa55word", "pa55word"),
    ],
)
def test_safe_summary_strips_credentials(raw: str, leaked: str) -> None:
    assert leaked not in errors.safe_summary(raw)


def test_safe_summary_truncates_and_folds_whitespace() -> None:
    summary = errors.safe_summary("word\n\t" * 200)
    assert len(summary) <= 300
    assert "\n" not in summary


@pytest.mark.parametrize(
    ("cls", "parent", "retryable"),
    [
        (errors.ArchiveBomb, errors.TooLarge, False),
        (errors.TooLarge, errors.ExtractionError, False),
        (errors.ExtractionTimeout, errors.ExtractionError, True),
        (errors.SourceThrottled, errors.SourceError, True),
        (errors.SourceUnavailable, errors.SourceError, True),
        (errors.SourceNotFound, errors.SourceError, False),
        (errors.CatalogueError, errors.DocintelError, True),
    ],
)
def test_tree_and_retryable(cls: type[errors.DocintelError], parent: type, retryable: bool) -> None:
    error = cls("x")
    assert isinstance(error, parent)
    assert error.retryable is retryable
    assert error.kind == cls.__name__


def test_config_error_exits_2() -> None:
    assert errors.ConfigError("x").exit_code == 2
    assert errors.CorruptDocument("x").exit_code == 1
