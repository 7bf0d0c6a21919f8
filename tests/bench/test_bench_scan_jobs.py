"""The scan --jobs throughput bench: the sampled mix, reading a catalogue, and the table's medians and ratios."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.scan_jobs import JobsRun, copy_mix, read_run, render, sample_mix


def test_the_mix_spreads_over_the_corpus_and_leaves_ground_truth_out(tmp_path: Path) -> None:
    corpus = tmp_path / "evaldata"
    for folder in ("alpha", "beta", "gamma"):
        (corpus / folder / "groundtruth").mkdir(parents=True)
        (corpus / folder / "SOURCE.md").write_text("notes")
        (corpus / folder / "groundtruth" / "a.md").write_text("truth")
        for n in range(4):
            (corpus / folder / f"doc-{n}.txt").write_text(f"{folder} {n}")
    mix = sample_mix(corpus, 6)
    assert len(mix) == 6
    assert {path.parent.name for path in mix} == {"alpha", "beta", "gamma"}
    assert all(path.suffix == ".txt" for path in mix)
    assert len(sample_mix(corpus, 100)) == 12  # never more than the corpus holds
    copy_mix(mix, corpus, tmp_path / "mix")
    assert sorted(p.relative_to(tmp_path / "mix") for p in (tmp_path / "mix").rglob("*.txt")) == sorted(
        p.relative_to(corpus) for p in mix
    )


def test_read_run_counts_documents_and_pages_but_not_entries_passed_over(tmp_path: Path) -> None:
    database = tmp_path / "c.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE documents (id TEXT, status TEXT, error_type TEXT, record_class TEXT, sha256 TEXT,"
            " page_count INTEGER)"
        )
        connection.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("a", "ok", None, "finance.invoice", "h1", 3),
                ("b", "failed", "CorruptDocument", None, "h2", None),
                ("c", "failed", "SymbolicLink", None, None, None),
            ],
        )
    documents, pages, failed, catalogue = read_run(database)
    assert (documents, pages, failed) == (2, 3, 1)
    assert catalogue[0] == ("a", "ok", "", "finance.invoice", "h1")


def _run(jobs: int, seconds: float, cpu: float, catalogue: list[tuple[str, str, str, str, str]]) -> JobsRun:
    return JobsRun(
        jobs=jobs, seconds=seconds, cpu_seconds=cpu, documents=10, pages=40, failed=1, exit_code=1,
        peak_rss_largest_process=500_000_000, peak_rss_worker=400_000_000 if jobs > 1 else 0,
        peak_rss_tree=900_000_000, catalogue=catalogue,
    )  # fmt: skip


def test_render_gives_medians_per_core_figures_and_the_scaling_ratio() -> None:
    same = [("a", "ok", "", "x", "h")]
    runs = [_run(1, 10.0, 9.0, same), _run(1, 12.0, 9.0, same), _run(1, 100.0, 9.0, same)]
    runs += [_run(2, 5.0, 10.0, same), _run(2, 6.0, 10.0, same), _run(2, 50.0, 10.0, [("a", "failed", "", "", "h")])]
    table = render(runs, cores=2, mix="test mix")
    baseline = next(line for line in table.splitlines() if "--jobs 1" in line)
    parallel = next(line for line in table.splitlines() if "--jobs 2" in line)
    cells = re.split(r"\s{2,}", parallel.strip())  # columns are two spaces apart
    # medians: 12 s and 6 s -> 0.833 and 1.667 docs/s; per core 1.667 / 2; scaling 2.00x
    assert "0.833" in baseline and "(baseline: one process)" in baseline
    assert cells[2:7] == ["6.0", "1.667", "6.67", "0.833", "3.33"]
    assert "2.00x" in cells and cells[-1] == "NO"  # one --jobs 2 catalogue differed from the baseline's
