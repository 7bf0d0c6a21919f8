"""The whole-corpus scan bench: process-tree memory, catalogue counts, crash detection, and one real scan."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import scan_evaldata
from bench.scan_evaldata import ScanFigures, TreeMemorySampler, descendants, read_catalogue, render


def _figures(**overrides: object) -> ScanFigures:
    values: dict[str, object] = {
        "path": "/data",
        "exit_code": 1,
        "seconds": 10.0,
        "peak_rss_largest_process": 400_000_000,
        "peak_rss_tree": 500_000_000,
        "files_on_disk": 5,
    }
    values.update(overrides)
    return ScanFigures(**values)  # type: ignore[arg-type]


def _catalogue(path: Path, rows: list[tuple[str | None, str | None, str | None, int, int]]) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE documents (id TEXT, status TEXT, error_type TEXT, file_type TEXT, depth INTEGER,"
            " deleted BOOLEAN)"
        )
        connection.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            [(str(index), *row) for index, row in enumerate(rows)],
        )
    return path


def test_read_catalogue_counts_status_errors_and_children(tmp_path: Path) -> None:
    database = _catalogue(
        tmp_path / "cat.db",
        [
            ("ok", None, "pdf", 0, 0),
            ("ok", None, "docx", 1, 0),
            ("failed", "CorruptDocument", "pdf", 0, 0),
            ("failed", "CorruptDocument", "docx", 0, 0),
            ("failed", "EncryptedDocument", "pdf", 0, 0),
            ("pending", None, "msg", 0, 0),
            ("ok", None, "pdf", 0, 1),  # deleted documents are not counted
        ],
    )
    figures = _figures()
    read_catalogue(database, figures)
    assert (figures.top_level_documents, figures.child_documents) == (5, 1)
    assert (figures.ok, figures.failed, figures.no_final_status) == (2, 3, 1)
    assert figures.failed_by_error == {"CorruptDocument": 2, "EncryptedDocument": 1}
    assert figures.failed_by_type == {"pdf": 2, "docx": 1}
    assert figures.crashes == 1  # the document left pending


@pytest.mark.parametrize(
    ("overrides", "crashes"),
    [
        ({"exit_code": 0}, 0),
        ({"exit_code": 1}, 0),  # some documents failed: recorded, not a crash
        ({"exit_code": 2}, 1),
        ({"exit_code": None, "timed_out": True}, 1),
        ({"exit_code": 1, "traceback_in_output": True}, 1),
        ({"exit_code": 1, "no_final_status": 2}, 2),
    ],
)
def test_crashes(overrides: dict[str, object], crashes: int) -> None:
    assert _figures(**overrides).crashes == crashes


@pytest.mark.parametrize(
    ("overrides", "verdicts"),
    [
        ({}, ("[PASS] zero crashes", "[PASS] peak memory")),
        ({"exit_code": 3, "peak_rss_tree": 2_000_000_000}, ("[FAIL] zero crashes", "[FAIL] peak memory")),
    ],
)
def test_render_shows_figures_failures_and_targets(overrides: dict[str, object], verdicts: tuple[str, str]) -> None:
    figures = _figures(failed=1, failed_by_error={"CorruptDocument": 1}, failed_by_type={"pdf": 1}, **overrides)
    text = render(figures)
    assert "CorruptDocument" in text and "failed by file type" in text
    for verdict in verdicts:
        assert verdict in text


def test_descendants_and_tree_memory_follow_grandchildren() -> None:
    grandparent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time; x = bytearray(60_000_000); time.sleep(3)'])",
        ]
    )
    try:
        sampler = TreeMemorySampler(grandparent.pid, interval=0.1)
        sampler.start()
        deadline = time.monotonic() + 10
        while not descendants(grandparent.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert descendants(grandparent.pid)
        time.sleep(1.0)
        sampler.stop()
        assert sampler.peak >= 60_000_000
    finally:
        grandparent.wait(timeout=30)


def test_scan_environment_supplies_config_and_a_throwaway_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCINTEL_PII_KEY", raising=False)
    monkeypatch.delenv("DOCINTEL_CONFIG_DIR", raising=False)
    monkeypatch.setenv("DOCINTEL_CATALOGUE_URL", "sqlite:///elsewhere.db")
    env = scan_evaldata.scan_environment()
    assert len(env["DOCINTEL_PII_KEY"]) == 64
    assert Path(env["DOCINTEL_CONFIG_DIR"]).name == "config"
    assert "DOCINTEL_CATALOGUE_URL" not in env  # --catalogue decides


def test_main_skips_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert scan_evaldata.main(["--path", str(tmp_path / "absent")]) == 0
    assert "SKIP" in capsys.readouterr().err


@pytest.mark.slow
def test_real_scan_of_a_small_folder(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "minutes.txt").write_text("The parish council met on Tuesday to agree the budget.\n", encoding="utf-8")
    (share / "empty.pdf").write_bytes(b"")
    figures = scan_evaldata.run_scan(share, tmp_path / "cat.db", tmp_path / "scan.log", timeout=300)
    assert figures.exit_code == 1, (tmp_path / "scan.log").read_text()  # one document failed, by design
    assert figures.files_on_disk == 2 and figures.top_level_documents == 2
    assert figures.ok == 1 and figures.failed_by_error == {"EmptyDocument": 1}
    assert figures.crashes == 0
    assert 0 < figures.peak_rss_largest_process < 1.5e9
    assert figures.peak_rss_tree > 0
