"""Shared bench helpers: locating the evaluation data, timing, memory, ratios and tables."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import _common


def test_evaldata_sits_beside_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_common.ENV_EVALDATA, raising=False)
    root = _common.project_root()
    assert (root / "pyproject.toml").is_file()
    assert _common.evaldata_dir() == root.parent / "shared" / "evaldata"


def test_evaldata_location_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sroie").mkdir()
    monkeypatch.setenv(_common.ENV_EVALDATA, str(tmp_path))
    assert _common.require_evaldata("sroie") == tmp_path


@pytest.mark.parametrize("missing", ["root", "subfolder"])
def test_require_evaldata_skips_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    root = tmp_path / "absent" if missing == "root" else tmp_path
    monkeypatch.setenv(_common.ENV_EVALDATA, str(root))
    with pytest.raises(SystemExit) as exit_info:
        _common.require_evaldata("sroie")
    assert exit_info.value.code == _common.SKIP_EXIT_CODE == 0
    err = capsys.readouterr().err
    assert err.startswith("SKIP:") and "evaldata" in err


def test_median_seconds_takes_the_middle_sample() -> None:
    delays = iter([0.0, 0.05, 0.0, 0.2])  # warm-up, then three timed calls

    def work() -> None:
        time.sleep(next(delays))

    assert 0.04 < _common.median_seconds(work, repeat=3, warmup=1) < 0.15


def test_median_seconds_needs_a_repeat() -> None:
    with pytest.raises(ValueError, match="repeat"):
        _common.median_seconds(lambda: None, repeat=0)


def test_timed_returns_the_result() -> None:
    result, seconds = _common.timed(lambda: 42)
    assert result == 42 and seconds >= 0


def test_cpu_seconds_include_waited_children() -> None:
    before = _common.cpu_seconds()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert _common.cpu_seconds() - before > 0.05


def test_memory_figures_are_plausible() -> None:
    subprocess.run([sys.executable, "-c", "x = bytearray(50_000_000)"], check=True)
    assert _common.children_peak_rss_bytes() >= 50_000_000
    # ru_maxrss is updated lazily by the kernel, so the two are compared loosely
    assert _common.current_rss_bytes() > 10_000_000
    assert _common.self_peak_rss_bytes() > 10_000_000
    assert _common.current_rss_bytes(pid=2**22 + 1) == 0  # no such process


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [(2.0, 4.0, 0.5), (1.0, 0.0, None), (None, 1.0, None), (1.0, None, None), (float("nan"), 1.0, None)],
)
def test_ratio(ours: float | None, theirs: float | None, expected: float | None) -> None:
    assert _common.ratio(ours, theirs) == expected


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(None, 3, "-"), (float("nan"), 3, "-"), (0.12345, 3, "0.123"), (1.5, 1, "1.5"), (7, 3, "7"), ("x", 3, "x")],
)
def test_fmt(value: float | int | str | None, digits: int, text: str) -> None:
    assert _common.fmt(value, digits) == text


def test_format_bytes_uses_decimal_megabytes() -> None:
    assert _common.format_bytes(1_500_000_000) == "1,500 MB"


def test_format_table_aligns_columns() -> None:
    table = _common.format_table(["format", "files"], [["PDF", "12"], ["DOCX (long)", "3"]], title="T")
    lines = table.splitlines()
    assert lines[0] == "T"
    assert lines[1] == "format       files"
    assert lines[3] == "PDF             12"
    assert lines[4] == "DOCX (long)      3"
    assert len({len(line) for line in lines[1:]}) == 1
