"""Migration triage on a share built from real documents, against planted truth, beside a file-name baseline.

    .venv/bin/python -m bench.triage                # 80 real documents + planted files
    .venv/bin/python -m bench.triage --documents 40 --keep /tmp/triage-tree

Builds a share in a temporary folder from ``../shared/evaldata/uk-council-dev`` (real council documents written
by others, one top folder per organisation), then plants, with known truth:

- duplicates: copies of real documents in another folder (half named "Copy of ...", half with the same name in a
  "Transfer" top folder), each copied later than its original;
- trivial files: Office owner files (``~$*.docx``), ``Thumbs.db``, ``.DS_Store``, ``desktop.ini``, Word temp
  files (``~WRL*.tmp``), ``*.tmp``, empty documents, installers (``.exe``, ``.msi``) and a file in a ``Temp``
  folder (these bytes are generated: no real installer is copied);
- expired documents: real documents whose labelled class (labels.csv, first class) is destroyed 6 years after the
  financial year or last change, with their modification date set to 2014; as many documents of permanent classes
  (committee papers, corporate policies) are dated 2014 too and must be kept; every other file is dated 2026-03-01.

It scans the share with ``docintel scan`` (a child process, a throwaway SQLite catalogue), triages the catalogue
with config/migration_map.yaml, and prints counts per recommendation and precision / recall per planted kind,
beside a naive baseline that sees only the file system: names and sizes (trivial), "Copy of" / "(1)" / "- Copy"
names (duplicate) and modification older than 6 years (dispose), everything else migrate.

Truth for "dispose" is the planted set; a real document dated by the share but classified by docintel into
another class is a miss, so dispose recall measures the classifier and retention too.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import project_root, require_evaldata

# Classes uk-council-dev has whose clock starts at the document's last change and whose action is destroy.
EXPIRING_CLASSES = ("finance.budget", "finance.invoice", "meetings.team_notes", "hr.payroll")
# Classes kept permanently: old documents of these are planted too, and must not be disposed of.
PERMANENT_CLASSES = ("governance.committee", "policy.corporate")
OLD = dt.datetime(2014, 6, 1, tzinfo=dt.UTC).timestamp()
RECENT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
COPY_TIME = dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()
KINDS = ("duplicate", "trivial", "dispose")
# Names the local source never catalogues (OS litter, Office owner files): planted, and reported apart.
SKIPPED_BY_SCAN = ("~$", "._")
SKIPPED_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}


def _labels(root: Path) -> list[dict[str, str]]:
    with (root / "uk-council-dev" / "labels.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build_share(evaldata: Path, share: Path, documents: int, seed: int) -> dict[str, set[Path]]:
    """Copy real documents into ``share`` and plant the kinds; returns the truth: kind -> planted files."""
    rng = random.Random(seed)
    rows = [row for row in _labels(evaldata) if row["text_layer"] == "ok"]
    rng.shuffle(rows)
    expiring = [row for row in rows if row["classes"].split("|")[0] in EXPIRING_CLASSES]
    others = [row for row in rows if row not in expiring]
    planted = max(4, documents // 5)
    chosen = expiring[:planted] + others[: documents - planted]
    # As many old documents of permanent classes: as old as the expired ones, and kept.
    kept_old = [row for row in others[: documents - planted] if row["classes"].split("|")[0] in PERMANENT_CLASSES]
    kept_old = kept_old[:planted]
    truth: dict[str, set[Path]] = {kind: set() for kind in (*KINDS, "old_permanent")}
    placed: list[Path] = []
    for row in chosen:
        source = evaldata / "uk-council-dev" / row["path"]
        target = share / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        old = row in expiring or row in kept_old
        os.utime(target, (OLD if old else RECENT, OLD if old else RECENT))
        if row in expiring:
            truth["dispose"].add(target)
        elif row in kept_old:
            truth["old_permanent"].add(target)
        placed.append(target)

    # Duplicates: copies made later than their originals, of documents not planted as expired.
    dated = {path for path in placed if path.stat().st_mtime == OLD}
    originals = [path for path in placed if path not in dated]
    for index, original in enumerate(rng.sample(originals, min(12, len(originals)))):
        if index % 2:
            copy = original.parent / f"Copy of {original.name}"
        else:
            copy = share / "Transfer" / original.name
            copy.parent.mkdir(exist_ok=True)
        if copy.exists():
            continue
        shutil.copyfile(original, copy)
        os.utime(copy, (COPY_TIME, COPY_TIME))
        truth["duplicate"].add(copy)

    # Trivial files, generated (owner files, litter, temp files, empty documents, installers, a Temp folder).
    folders = sorted({path.parent for path in placed})
    for index, folder in enumerate(folders):
        doc = next(path for path in placed if path.parent == folder)
        planted = {
            folder / f"~${doc.stem[:20]}.docx": b"\x0bowner file" + bytes(150),
            folder / "Thumbs.db": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
            folder / f"~WRL{index:04d}.tmp": os.urandom(300),
            folder / f"draft{index}.tmp": os.urandom(200),
            folder / f"Notes {index}.docx": b"",
        }
        if index % 3 == 0:
            planted[folder / ".DS_Store"] = bytes(6148)
            planted[folder / "desktop.ini"] = b"[.ShellClassInfo]\r\nIconResource=C:\\icon.dll,0\r\n"
        if index % 4 == 0:
            planted[folder / f"setup_{index}.exe"] = b"MZ\x90\x00" + os.urandom(2000)
            planted[folder / f"client_{index}.msi"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2000)
        for path, content in planted.items():
            path.write_bytes(content)
            os.utime(path, (RECENT, RECENT))
            truth["trivial"].add(path)
    temp = share / folders[0].relative_to(share) / "Temp"
    temp.mkdir()
    for original in rng.sample(originals, 3):
        copy = temp / f"working-{original.stem[:10]}.txt"
        copy.write_text("A working note kept while the file was edited.\n", encoding="utf-8")
        os.utime(copy, (RECENT, RECENT))
        truth["trivial"].add(copy)
    return truth


def scan(share: Path, catalogue: str) -> float:
    """``docintel scan`` the share into the catalogue (a child process); returns wall seconds."""
    env = dict(os.environ, DOCINTEL_PII_KEY=os.environ.get("DOCINTEL_PII_KEY", "bench-triage-key-0123456789abcdef"))
    started = time.perf_counter()
    command = [sys.executable, "-m", "docintel.cli", "scan", str(share), "--catalogue", catalogue, "--no-progress"]
    subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL, cwd=project_root())
    return time.perf_counter() - started


def naive_baseline(share: Path, today: dt.date) -> dict[Path, str]:
    """File-name rules only, over the file system: what a script without the catalogue would recommend."""
    trivial_names = ("~$", "._", "~wrl")
    trivial_suffixes = (".tmp", ".exe", ".msi", ".lnk", ".bak")
    cutoff = dt.datetime(today.year - 6, today.month, today.day, tzinfo=dt.UTC).timestamp()
    found: dict[Path, str] = {}
    for path in share.rglob("*"):
        if not path.is_file():
            continue
        name = path.name.lower()
        stat = path.stat()
        litter = name.startswith(trivial_names) or name.endswith(trivial_suffixes) or name in SKIPPED_NAMES
        if stat.st_size == 0 or litter:
            found[path] = "trivial"
        elif name.startswith("copy of ") or " - copy" in name or "(1)" in name:
            found[path] = "duplicate"
        elif stat.st_mtime < cutoff:
            found[path] = "dispose"
        else:
            found[path] = "migrate"
    return found


def _scores(predicted: dict[Path, str], truth: dict[str, set[Path]]) -> dict[str, tuple[float, float, int, int]]:
    scores = {}
    for kind in KINDS:
        chosen = {path for path, recommendation in predicted.items() if recommendation == kind}
        hits = len(chosen & truth[kind])
        precision = hits / len(chosen) if chosen else 0.0
        recall = hits / len(truth[kind]) if truth[kind] else 0.0
        scores[kind] = (precision, recall, len(chosen), hits)
    return scores


def main() -> None:
    """Build, scan, triage, and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--documents", type=int, default=80, help="real documents copied into the share")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", type=Path, help="build the share here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    evaldata = require_evaldata("uk-council-dev")

    from docintel.catalogue.store import open_catalogue
    from docintel.triage import load_migration_map, triage_catalogue

    work = args.keep or Path(tempfile.mkdtemp(prefix="docintel-triage-"))
    share = work / "Share"
    if share.exists():
        shutil.rmtree(share)
    share.mkdir(parents=True)
    truth = build_share(evaldata, share, args.documents, args.seed)
    all_files = [path for path in share.rglob("*") if path.is_file()]
    catalogue = f"sqlite:///{work / 'catalogue.db'}"
    if (work / "catalogue.db").exists():
        (work / "catalogue.db").unlink()
    scan_seconds = scan(share, catalogue)

    today = dt.date.today()
    migration_map = load_migration_map(project_root() / "config" / "migration_map.yaml")
    store = open_catalogue(catalogue)
    started = time.perf_counter()
    result = triage_catalogue(store, migration_map, today=today)
    triage_seconds = time.perf_counter() - started
    store.close()
    triaged: dict[Path, str] = {}
    for item in result.files:
        triaged[Path(item.source_file)] = item.recommendation.value
    skipped = [path for path in all_files if path.resolve() not in triaged]
    predicted = {path: triaged.get(path.resolve(), "not catalogued") for path in all_files}
    baseline = naive_baseline(share, today)

    print(
        f"Share: {len(all_files)} files ({args.documents} real documents from uk-council-dev, the rest planted); "
        f"scan {scan_seconds:.0f} s, triage {triage_seconds:.2f} s; {len(skipped)} files not catalogued "
        f"(the local source skips OS litter and Office owner files)."
    )
    print(
        f"Planted: {', '.join(f'{kind} {len(truth[kind])}' for kind in KINDS)}; "
        f"old documents of permanent classes (to keep) {len(truth['old_permanent'])}"
    )
    print()
    print(f"{'recommendation':<16}{'docintel':>10}{'baseline':>10}")
    ours, theirs = Counter(predicted.values()), Counter(baseline.values())
    for name in ("migrate", "dispose", "duplicate", "trivial", "review", "not catalogued"):
        print(f"{name:<16}{ours.get(name, 0):>10}{theirs.get(name, 0):>10}")
    print()
    header = f"{'docintel P':>11}{'R':>7}{'(pred/hit)':>12}   {'baseline P':>10}{'R':>7}{'(pred/hit)':>12}"
    print(f"{'planted kind':<14}{'n':>3}{header}")
    for kind, (ours_score, base_score) in zip(
        KINDS, zip(_scores(predicted, truth).values(), _scores(baseline, truth).values(), strict=True), strict=True
    ):
        print(
            f"{kind:<14}{len(truth[kind]):>3}{ours_score[0]:>11.2f}{ours_score[1]:>7.2f}"
            f"{f'({ours_score[2]}/{ours_score[3]})':>12}   {base_score[0]:>10.2f}{base_score[1]:>7.2f}"
            f"{f'({base_score[2]}/{base_score[3]})':>12}"
        )
    catalogued_trivial = {path for path in truth["trivial"] if path not in skipped}
    hits = sum(1 for path in catalogued_trivial if predicted[path] == "trivial")
    print(
        f"trivial, catalogued files only: docintel recall {hits / max(1, len(catalogued_trivial)):.2f} "
        f"({hits}/{len(catalogued_trivial)})"
    )
    for label, found in (("docintel", predicted), ("baseline", baseline)):
        disposed = sum(1 for path in truth["old_permanent"] if found[path] == "dispose")
        print(f"old documents of permanent classes disposed of by {label}: {disposed}/{len(truth['old_permanent'])}")
    wrong = Counter(predicted[path] for kind in KINDS for path in truth[kind] if predicted[path] != kind)
    print(f"planted files docintel recommended otherwise: {dict(wrong)}")
    need_files, need_bytes = result.need_not_move()
    total_bytes = sum(item.size for item in result.files) or 1
    print(f"need not move (catalogued): {need_files} files, {100 * need_bytes / total_bytes:.1f}% of bytes")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
