"""The local folder source: discovery order, provenance, ignored files and fetch limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.errors import SourceNotFound, TooLarge
from docintel.sources.base import document_id
from docintel.sources.local import LocalFolderSource


@pytest.fixture()
def share(tmp_path: Path) -> Path:
    root = tmp_path / "Share"
    (root / "HR" / "2024").mkdir(parents=True)
    (root / "Finance").mkdir()
    (root / "Finance" / "b.txt").write_text("b")
    (root / "Finance" / "a.txt").write_text("a")
    (root / "HR" / "2024" / "c.txt").write_text("c" * 50)
    (root / "HR" / "~$c.docx").write_text("lock file")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x")
    (root / "Thumbs.db").write_text("x")
    return root


def test_discovers_files_in_stable_order_with_folders(share: Path) -> None:
    found = list(LocalFolderSource([share]).discover())
    assert [(p.path, p.name) for p in found] == [
        ("Share/Finance", "a.txt"),
        ("Share/Finance", "b.txt"),
        ("Share/HR/2024", "c.txt"),
    ]
    assert all(p.source == "local" and p.size is not None and p.modified_at for p in found)


def test_single_file_root(share: Path) -> None:
    found = list(LocalFolderSource([share / "Finance" / "a.txt"]).discover())
    assert [p.name for p in found] == ["a.txt"]


def test_missing_root_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound):
        LocalFolderSource([tmp_path / "nope"])


def test_fetch_refuses_files_over_the_limit_before_reading(share: Path) -> None:
    source = LocalFolderSource([share])
    big = next(p for p in source.discover() if p.name == "c.txt")
    with pytest.raises(TooLarge, match="50 bytes"):
        source.fetch(big, max_bytes=10)
    assert source.fetch(big, max_bytes=100) == b"c" * 50


def test_fetch_of_vanished_file(share: Path) -> None:
    source = LocalFolderSource([share])
    first = next(iter(source.discover()))
    Path(first.locator).unlink()
    with pytest.raises(SourceNotFound):
        source.fetch(first, max_bytes=100)


def test_document_ids_are_stable_and_distinct() -> None:
    assert document_id("local", "/a") == document_id("local", "/a")
    assert document_id("local", "/a") != document_id("local", "/b")
    assert document_id("local", "/a") != document_id("sharepoint", "/a")
