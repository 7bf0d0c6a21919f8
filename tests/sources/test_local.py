"""The local folder source: discovery order, provenance, ignored files, entries passed over, fetch limits."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
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


# --- entries that are not read, and why ----------------------------------------------------------


@pytest.fixture()
def odd_share(tmp_path: Path) -> Path:
    """A share with one regular file beside every kind of entry discovery passes over."""
    root = tmp_path / "Share"
    (root / "Finance" / "2024").mkdir(parents=True)
    (root / "Finance" / "report.txt").write_text("report")
    (root / "Finance" / "copy.txt").symlink_to(root / "Finance" / "report.txt")  # link to a file
    (root / "Finance" / "archive").symlink_to(root / "Finance" / "2024")  # link to a folder
    (root / "Finance" / "gone.txt").symlink_to(root / "Finance" / "deleted.txt")  # dangling
    (root / "Finance" / "self").symlink_to("self")  # a loop of one link
    (root / "Finance" / "2024" / "up").symlink_to(root / "Finance")  # a loop through a folder above
    os.mkfifo(root / "Finance" / "queue")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(root / "Finance" / "agent.sock"))
    listener.close()
    return root


def test_links_fifos_and_sockets_are_passed_over_and_said(odd_share: Path) -> None:
    source = LocalFolderSource([odd_share])
    found = list(source.discover())
    assert [p.name for p in found] == ["report.txt"]
    said = {entry.provenance.name: (entry.error.kind, entry.error.message) for entry in source.skipped}
    assert said == {
        "agent.sock": ("SpecialFile", "special file: a socket, not a document; not read"),
        "archive": ("SymbolicLink", "symbolic link to a folder; not followed (scan the folder itself to read it)"),
        "copy.txt": ("SymbolicLink", "symbolic link to a file; not followed (scan the file itself to read it)"),
        "gone.txt": ("SymbolicLink", "dangling symbolic link: its target does not exist; not followed"),
        "queue": ("SpecialFile", "special file: a fifo (named pipe), not a document; not read"),
        "self": ("SymbolicLink", "symbolic link loop: the link leads back to itself; not followed"),
        "up": ("SymbolicLink", "symbolic link loop: it points at a folder above itself; not followed"),
    }
    # The entry itself is recorded, never its target: a link's locator is the link's own path.
    up = next(e.provenance for e in source.skipped if e.provenance.name == "up")
    assert up.locator == str(odd_share / "Finance" / "2024" / "up") and up.path == "Share/Finance/2024"
    # A second discovery starts afresh.
    list(source.discover())
    assert len(source.skipped) == 7


def test_a_device_node_is_passed_over(tmp_path: Path) -> None:
    try:
        os.mknod(tmp_path / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("this container may not create device nodes")
    source = LocalFolderSource([tmp_path])
    assert list(source.discover()) == []
    assert [(e.error.kind, e.error.message) for e in source.skipped] == [
        ("SpecialFile", "special file: a device, not a document; not read")
    ]


def test_a_root_given_as_a_link_is_read(odd_share: Path, tmp_path: Path) -> None:
    link = tmp_path / "finance-link"
    link.symlink_to(odd_share / "Finance" / "2024")
    (odd_share / "Finance" / "2024" / "budget.txt").write_text("budget")
    source = LocalFolderSource([link])
    assert [p.name for p in source.discover()] == ["budget.txt"]


# An unprivileged account (tests run as root, who may read anything): discovery runs in a child as nobody.
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
DISCOVER_AS_NOBODY = """
import json, sys
from docintel.sources.local import LocalFolderSource
source = LocalFolderSource([sys.argv[1]])
found = [p.name for p in source.discover()]
skipped = [[e.provenance.name, e.error.kind, e.error.message] for e in source.skipped]
print(json.dumps({"found": found, "skipped": skipped}))
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_unreadable_files_and_folders_are_passed_over_as_permission_denied() -> None:
    # Not under pytest's tmp_path: that is private to root, and nobody must reach the share.
    base = Path(tempfile.mkdtemp(prefix="docintel-perm-"))
    try:
        base.chmod(0o755)
        share = base / "Share"
        (share / "Closed").mkdir(parents=True)
        (share / "Closed" / "inside.txt").write_text("inside")
        (share / "open.txt").write_text("open")
        (share / "secret.txt").write_text("secret")
        (share / "secret.txt").chmod(0o000)
        (share / "Closed").chmod(0o000)
        share.chmod(0o755)
        (share / "open.txt").chmod(0o644)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HOME": str(base)}
        result = subprocess.run(
            [*NOBODY, sys.executable, "-c", DISCOVER_AS_NOBODY, str(share)],
            capture_output=True, text=True, check=False, env=env, cwd=base,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        seen = json.loads(result.stdout)
        assert seen["found"] == ["open.txt"]
        assert sorted(seen["skipped"]) == [
            ["Closed", "PermissionDenied", "permission denied: this account may not list the folder"],
            ["secret.txt", "PermissionDenied", "permission denied: this account may not read the file"],
        ]
    finally:
        (base / "Share" / "Closed").chmod(0o755)
        shutil.rmtree(base)
