"""Network shares as a crawled source: real folders, real symlinks and loops, real permissions, SQLite and PostgreSQL.

Permission denied: the tests run as root, which reads everything, so the enumeration that must meet a folder it
cannot read runs in a forked child that drops to ``nobody`` (``os.setuid``) over a tree made world-traversable;
under an ordinary user ``chmod 000`` alone is enough and the crawl runs in-process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from docintel.catalogue.crawl_store import CrawlStore
from docintel.catalogue.share_store import ShareStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.crawl import process_crawled
from docintel.errors import ConfigError
from docintel.pipeline import Engines, masked_location
from docintel.settings import load_settings
from docintel.share_crawl import ShareContext, crawl_share_in_process, drive_for
from docintel.sources.graph import load_sources_config
from docintel.sources.share import ShareSource, ShareSourceConfig, map_root, parse_path_map
from tests.crawl.conftest import PII_KEY, write_config

UNC_ROOT = "\\\\san01\\teams"
NOBODY = 65534


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _tree(root: Path) -> None:
    """A small team area: three folders of plain-text documents (generated, no personal data)."""
    for folder in ("Finance/Invoices", "Finance/Budgets", "Planning"):
        for index in range(3):
            _write(root / folder / f"note {index}.txt", f"{folder} note {index}: committee minutes for item {index}.")


@pytest.fixture
def share_root() -> Iterator[Path]:
    """A share mounted at a world-traversable temporary folder (the permission test's child runs as nobody)."""
    base = Path(tempfile.mkdtemp(prefix="docintel-share-"))
    base.chmod(0o755)
    root = base / "teams"
    root.mkdir()
    _tree(root)
    yield root
    for folder, _, _ in os.walk(base):
        os.chmod(folder, 0o755)
    shutil.rmtree(base)


class ShareRig:
    """A share source over ``share_root`` mapped from its UNC name, a catalogue, and the pipeline's engines."""

    def __init__(self, root: Path, url: str, config: Path, **options: Any) -> None:
        self.root = root
        self.url = url
        settings = load_settings(write_config(config, url, "http://127.0.0.1:9/v1.0"), environ={})
        self.settings = settings
        self.config = ShareSourceConfig(
            name="teams", kind="share", roots=[UNC_ROOT], path_map={UNC_ROOT: str(root)}, **options
        )
        self.source = ShareSource(self.config, environ={})
        self.store: CatalogueStore = open_catalogue(url)
        self.crawl_store = CrawlStore(self.store)
        self.shares = ShareStore(self.crawl_store)
        self.engines = Engines(settings=settings, pii_key=bytes.fromhex(PII_KEY))
        self.drive = drive_for(self.source, UNC_ROOT)

    def context(self) -> ShareContext:
        """What the shard jobs get."""
        return ShareContext(self.source, self.shares, self.settings.limits.max_file_bytes)

    def crawl(self, process: bool = True) -> Any:
        """One round; then every pending document through the pipeline, as the extract jobs would."""
        results = crawl_share_in_process(
            self.context(), relabel=partial(masked_location, self.engines), keep_pending_ids=True
        )
        if process:
            for doc_id in results[0].pending_ids:
                process_crawled(doc_id, self.crawl_store, self.engines, lambda name: self.source)
        return results[0]

    def documents(self) -> dict[str, dict[str, Any]]:
        """Live catalogued documents by id."""
        return {r["id"]: r for r in self.store.iter_documents(include_children=False, include_deleted=False)}


@pytest.fixture
def rig(share_root: Path, catalogue_url: str, tmp_path: Path) -> Iterator[ShareRig]:
    """A rig on SQLite and on PostgreSQL."""
    made = ShareRig(share_root, catalogue_url, tmp_path / "config")
    yield made
    made.store.close()


def test_full_crawl_catalogues_every_file_under_its_unc_path(rig: ShareRig) -> None:
    result = rig.crawl()

    assert result.files == result.pending == 9
    docs = rig.documents()
    assert len(docs) == 9
    assert all(d["status"] == "ok" and d["source"] == "share" for d in docs.values()), docs
    assert {(d["path"], d["name"]) for d in docs.values()} == {
        (f"san01/teams/{folder}", f"note {i}.txt")
        for folder in ("Finance/Invoices", "Finance/Budgets", "Planning")
        for i in range(3)
    }
    checkpoint = rig.crawl_store.checkpoint(rig.drive.drive_id)
    assert checkpoint is not None and checkpoint.status == "idle" and checkpoint.kind == "share"
    assert (
        checkpoint.label == "san01/teams" and checkpoint.counts["folders"] == 5
    )  # root, Finance and its two, Planning
    assert rig.crawl_store.pending_count(rig.drive.drive_id) == 0


def test_recrawl_writes_only_changes_and_a_moved_file_or_folder_keeps_its_record(rig: ShareRig) -> None:
    rig.crawl()
    before = rig.documents()
    by_name = {(d["path"], d["name"]): doc_id for doc_id, d in before.items()}
    root = rig.root
    edited = root / "Finance/Invoices/note 0.txt"
    edited.write_text("Finance invoice note 0, amended with a longer text.", encoding="utf-8")
    (root / "Finance/Invoices/note 1.txt").rename(root / "Planning/moved note.txt")
    (root / "Finance/Invoices/note 2.txt").unlink()
    (root / "Finance/Budgets").rename(root / "Planning/Budgets 2026")  # a whole folder moves
    _write(root / "Planning/new.txt", "A new planning note.")

    result = rig.crawl()

    after = rig.documents()
    assert result.pending == 2  # the edited file and the new one: nothing else is read again
    counts = rig.crawl_store.checkpoint(rig.drive.drive_id).counts  # type: ignore[union-attr]
    # The new file may get the deleted one's inode (ext4 and tmpfs reuse them at once): either way the deleted
    # file's record is closed, once.
    assert result.deleted + counts["replaced"] == 1
    moved_id = by_name[("san01/teams/Finance/Invoices", "note 1.txt")]
    assert after[moved_id]["path"] == "san01/teams/Planning" and after[moved_id]["name"] == "moved note.txt"
    assert after[moved_id]["sha256"] == before[moved_id]["sha256"]
    for i in range(3):
        budget = by_name[("san01/teams/Finance/Budgets", f"note {i}.txt")]
        assert after[budget]["path"] == "san01/teams/Planning/Budgets 2026"
    assert by_name[("san01/teams/Finance/Invoices", "note 2.txt")] not in after
    edited_id = by_name[("san01/teams/Finance/Invoices", "note 0.txt")]
    assert after[edited_id]["sha256"] != before[edited_id]["sha256"]
    assert len(after) == 9
    # Unchanged files were not rewritten in the index: the round wrote the changes only.
    assert counts["written"] <= 5, counts  # edited, moved file, moved folder, new file (+ nothing else)


def test_a_deleted_folder_takes_its_files_with_it_and_an_unchanged_share_costs_no_writes(rig: ShareRig) -> None:
    rig.crawl()
    shutil.rmtree(rig.root / "Finance")
    result = rig.crawl()
    assert result.deleted == 6
    assert {d["path"] for d in rig.documents().values()} == {"san01/teams/Planning"}
    quiet = rig.crawl()
    counts = rig.crawl_store.checkpoint(rig.drive.drive_id).counts  # type: ignore[union-attr]
    assert (quiet.pending, quiet.deleted, counts["written"], counts["missing"]) == (0, 0, 0, 0)


def _problems(rig: ShareRig) -> dict[tuple[str, str], str | None]:
    return {(p["name"], p["problem"]): p["detail"] for p in rig.shares.problems(rig.drive.drive_id)}


def test_links_loops_long_paths_odd_names_sparse_and_huge_files_are_recorded_and_the_crawl_goes_on(
    share_root: Path, catalogue_url: str, tmp_path: Path
) -> None:
    outside = share_root.parent / "elsewhere"
    _write(outside / "linked.txt", "A document kept outside the share, reached through a link.")
    (share_root / "Planning/to elsewhere").symlink_to(outside)  # followed: outside every root
    (share_root / "Planning/to finance").symlink_to(share_root / "Finance")  # inside: crawled at its real place
    (outside / "back").symlink_to(outside)  # a loop once the link is followed
    (share_root / "Planning/file link.txt").symlink_to(share_root / "Planning/note 0.txt")
    deep = share_root / ("d" * 120) / ("e" * 120)
    _write(deep / "long name.txt", "Deep.")
    odd = os.fsencode(share_root / "Planning") + b"/caf\xe9 menu.txt"
    fd = os.open(odd, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"Menu for the canteen.")
    os.close(fd)
    with (share_root / "Planning/disk image.txt").open("wb") as handle:
        handle.truncate(600_000)  # sparse: no blocks behind it
    with (share_root / "Planning/huge.txt").open("wb") as handle:
        handle.truncate(3_000_000)  # over the 2 MB limit below
    rig = ShareRig(share_root, catalogue_url, tmp_path / "config", follow_links=True)
    rig.settings.limits.max_file_bytes = 2_000_000

    rig.crawl()

    problems = _problems(rig)
    assert ("back", "loop") in problems
    assert problems[("to finance", "symlink")] == "into the share: crawled at its real place"
    assert problems[("file link.txt", "symlink")] == "into the share: crawled at its real place"
    assert int(problems[("long name.txt", "path_too_long")] or 0) > 260
    assert ("caf\ufffd menu.txt", "undecodable_name") in problems
    assert ("disk image.txt", "sparse") in problems and ("huge.txt", "huge") in problems
    every = list(rig.documents().values())
    docs = {d["name"]: d for d in every}
    assert docs["linked.txt"]["status"] == "ok"  # reached through the followed link
    assert docs["caf\ufffd menu.txt"]["status"] == "ok"  # found again by its file id for reading
    assert docs["long name.txt"]["status"] == "ok"
    assert docs["huge.txt"]["status"] == "failed" and docs["huge.txt"]["error_type"] == "TooLarge"
    assert len([d for d in every if d["path"].startswith("san01/teams/Finance/")]) == 6


def test_links_are_reported_and_not_followed_by_default(rig: ShareRig) -> None:
    (rig.root / "Planning/to finance").symlink_to(rig.root / "Finance")
    rig.crawl()
    assert _problems(rig)[("to finance", "symlink")] is None
    assert len(rig.documents()) == 9


def _crawl_as_nobody(rig: ShareRig) -> None:
    """Run the enumeration in a child that cannot read what root can (see the module docstring)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            store = open_catalogue(rig.url)
            shares = ShareStore(CrawlStore(store))
            crawl_share_in_process(ShareContext(rig.source, shares, rig.settings.limits.max_file_bytes))
            store.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.needs_postgres
def test_a_folder_that_cannot_be_read_is_recorded_and_its_catalogued_files_are_kept(
    share_root: Path, fresh_postgres_url: str, tmp_path: Path
) -> None:
    # PostgreSQL only: the unprivileged child reaches it over TCP, where an SQLite file under root's private
    # pytest folder would be out of its reach.
    rig = ShareRig(share_root, fresh_postgres_url, tmp_path / "config")
    rig.crawl()
    secret = rig.root / "Finance/Invoices"
    secret.chmod(0o000)
    _write(rig.root / "Planning/after.txt", "Listed although a sibling folder is refused.")
    if os.geteuid() == 0:
        _crawl_as_nobody(rig)
    else:
        crawl_share_in_process(rig.context())
    secret.chmod(0o755)

    assert _problems(rig) == {("", "permission_denied"): None}
    index = rig.crawl_store.pending_count(rig.drive.drive_id)
    assert index == 1  # the new file; the refused folder's three files are still catalogued, not deleted
    assert len(rig.documents()) == 9
    rig.crawl()
    assert _problems(rig) == {}  # readable again: its problem row is gone
    rig.store.close()


def test_a_file_vanishing_before_it_is_read_is_gone_not_failed(rig: ShareRig) -> None:
    results = crawl_share_in_process(rig.context(), keep_pending_ids=True)
    (rig.root / "Planning/note 0.txt").unlink()
    outcomes = [process_crawled(d, rig.crawl_store, rig.engines, lambda _: rig.source) for d in results[0].pending_ids]
    assert sorted(outcomes) == ["gone"] + ["ok"] * 8


def test_path_map_from_config_and_environment(tmp_path: Path) -> None:
    assert map_root("\\\\SAN01\\Teams\\", {"\\\\san01\\teams": "/mnt/teams"}) == Path("/mnt/teams")
    assert map_root("\\\\san01\\teams\\Finance", {"\\\\san01\\teams": "/mnt/t"}) == Path("/mnt/t/Finance")
    assert map_root("/srv/share", {}) == Path("/srv/share")
    assert parse_path_map("\\\\san01\\teams=/mnt/teams; \\\\san01\\home=/mnt/home") == {
        "\\\\san01\\teams": "/mnt/teams",
        "\\\\san01\\home": "/mnt/home",
    }
    source = ShareSource(
        ShareSourceConfig(name="t", kind="share", roots=[UNC_ROOT], path_map={UNC_ROOT: "/mnt/a"}),
        environ={"DOCINTEL_SHARE_PATH_MAP": f"{UNC_ROOT}=/mnt/b"},
    )
    assert source.local_root(UNC_ROOT) == Path("/mnt/b")  # this host's mount wins
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{"name": "teams", "kind": "share", "roots": [UNC_ROOT]}]}))
    assert isinstance(load_sources_config(sources).any_source("teams"), ShareSourceConfig)
    sources.write_text(yaml.safe_dump({"sources": [{"name": "teams", "kind": "share", "roots": [], "x": 1}]}))
    with pytest.raises(ConfigError, match=r"sources\.yaml"):
        load_sources_config(sources)
