"""Migration triage: the rules' table of cases, their precedence, holds and overrides, and the migration task files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from docintel.catalogue.triage import TriageOverride
from docintel.errors import ConfigError
from docintel.triage import (
    MigrationMap,
    MigrationTarget,
    Recommendation,
    TrivialRules,
    canonical_copy,
    load_migration_map,
    migration_tasks,
    top_folder,
    triage_rows,
    write_spmt_csv,
    write_spmt_json,
    write_triage_csv,
)

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 12, 8)
RECENT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shipped_map() -> MigrationMap:
    """The migration map the repository ships (records managers edit it)."""
    return load_migration_map(REPO / "config" / "migration_map.yaml")


def _row(doc_id: str = "d1", **values: Any) -> dict[str, Any]:
    name = values.pop("name", f"{doc_id}.pdf")
    folder = values.pop("folder", "share/Finance")
    row = {
        "id": doc_id,
        "source": "local",
        "name": name,
        "path": folder,
        "locator": f"/srv/{folder}/{name}",
        "source_locator": None,
        "size": 1000,
        "sha256": f"sha-{doc_id}",
        "file_type": "pdf",
        "status": "ok",
        "error_type": None,
        "created_at": RECENT,
        "modified_at": RECENT,
        "record_class": "finance.budget",
        "class_confidence": 0.9,
        "needs_review": False,
        "retention_action": "destroy",
        "disposal_date": dt.date(2033, 3, 31),
        "pii": 0,
    }
    row.update(values)
    return row


def _one(row: dict[str, Any], migration_map: MigrationMap, **kwargs: Any) -> tuple[Recommendation, str]:
    item = triage_rows([row], migration_map, today=TODAY, **kwargs).files[0]
    return item.recommendation, item.reason


CASES = [
    ("plain budget", {}, Recommendation.MIGRATE, "finance.budget"),
    ("empty file", {"size": 0}, Recommendation.TRIVIAL, "empty file"),
    ("empty, failed to read", {"size": None, "status": "failed", "error_type": "EmptyDocument"}, "trivial", "empty"),
    ("Office owner file", {"name": "~$budget.docx"}, Recommendation.TRIVIAL, "temporary or system file"),
    ("Word temp file", {"name": "~WRL0003.tmp"}, Recommendation.TRIVIAL, "~*.tmp"),
    ("Thumbs.db", {"name": "Thumbs.db"}, Recommendation.TRIVIAL, "thumbs.db"),
    ("installer", {"name": "Setup.EXE", "status": "failed"}, Recommendation.TRIVIAL, "installer (*.exe)"),
    ("cache folder", {"folder": "share/Finance/Temp"}, Recommendation.TRIVIAL, "folder (temp)"),
    (
        "past its date",
        {"disposal_date": dt.date(2019, 3, 31)},
        Recommendation.DISPOSE,
        "finance.budget: disposal date 2019-03-31",
    ),
    ("disposal day is today", {"disposal_date": TODAY}, Recommendation.DISPOSE, "2026-12-08"),
    (
        "past, action review",
        {"disposal_date": dt.date(2020, 1, 1), "retention_action": "review"},
        "review",
        "action review",
    ),
    ("not read", {"status": "failed", "error_type": "CorruptDocument"}, Recommendation.REVIEW, "CorruptDocument"),
    ("no class", {"record_class": None}, Recommendation.REVIEW, "no retention class"),
    ("unclassified", {"record_class": "unclassified"}, Recommendation.REVIEW, "no retention class"),
    (
        "flagged class",
        {"needs_review": True, "class_confidence": 0.41},
        Recommendation.REVIEW,
        "low-confidence class (0.41)",
    ),
    ("NHS number in a budget", {"pii": 2}, Recommendation.REVIEW, "personal data (2 findings)"),
    ("NHS number in HR", {"pii": 2, "record_class": "hr.personnel"}, Recommendation.MIGRATE, "hr.personnel"),
    ("not yet due", {"disposal_date": TODAY + dt.timedelta(days=1)}, Recommendation.MIGRATE, "migrate"),
]


@pytest.mark.parametrize(("values", "expected", "reason"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_each_rule_gives_its_recommendation_and_reason(
    shipped_map: MigrationMap, values: dict[str, Any], expected: str, reason: str
) -> None:
    recommendation, why = _one(_row(**values), shipped_map)
    assert recommendation == expected
    assert reason in why


def test_wrong_place_goes_to_review(shipped_map: MigrationMap) -> None:
    row = _row(record_class="hr.personnel")
    assert _one(row, shipped_map, wrong_place={"d1": "HR records outside HR"}) == (
        Recommendation.REVIEW,
        "hr.personnel: wrong place (HR records outside HR)",
    )


def test_an_identical_copy_is_a_duplicate_of_the_canonical_one(shipped_map: MigrationMap) -> None:
    rows = [
        _row("copy", name="Copy of budget.pdf", sha256="same"),
        _row("original", name="budget.pdf", sha256="same", modified_at=RECENT - dt.timedelta(days=9)),
        _row("transfer", name="budget.pdf", folder="share/Transfer", sha256="same"),
        _row("other", sha256="different"),
    ]
    by_id = {item.document_id: item for item in triage_rows(rows, shipped_map, today=TODAY).files}
    assert by_id["original"].recommendation is Recommendation.MIGRATE
    assert by_id["other"].recommendation is Recommendation.MIGRATE
    for copy in ("copy", "transfer"):
        assert by_id[copy].recommendation is Recommendation.DUPLICATE
        assert by_id[copy].reason == "identical copy kept at share/Finance/budget.pdf (original)"


@pytest.mark.parametrize(
    ("rows", "kept"),
    [
        # Named or filed as a copy loses, whatever its depth or date.
        ([_row("a", name="budget (1).pdf"), _row("b", folder="share/Finance/2019/Q1")], "b"),
        ([_row("a", folder="share/Backup"), _row("b", folder="share/Finance/Deep/Er")], "b"),
        # Then the shallowest folder, then the oldest change, then the path: the choice never depends on row order.
        ([_row("a", folder="share/Finance/Sub"), _row("b", folder="share/HR")], "b"),
        ([_row("a", modified_at=RECENT), _row("b", modified_at=RECENT - dt.timedelta(days=1))], "b"),
        ([_row("b", folder="share/B"), _row("a", folder="share/A")], "a"),
    ],
)
def test_the_canonical_copy_is_chosen_by_documented_rules(rows: list[dict[str, Any]], kept: str) -> None:
    assert canonical_copy(rows)["id"] == kept
    assert canonical_copy(list(reversed(rows)))["id"] == kept


def test_precedence_trivial_then_duplicate_then_dispose(shipped_map: MigrationMap) -> None:
    past = dt.date(2019, 3, 31)
    rows = [
        # Two empty files: trivial, not a canonical copy kept and a duplicate.
        _row("e1", size=0, sha256="empty"),
        _row("e2", size=0, sha256="empty", folder="share/HR"),
        # Two expired copies: the canonical one carries the disposal, the other is a duplicate.
        _row("x1", sha256="old", disposal_date=past),
        _row("x2", sha256="old", disposal_date=past, name="Copy of x1.pdf"),
    ]
    found = {item.document_id: item.recommendation for item in triage_rows(rows, shipped_map, today=TODAY).files}
    assert found == {
        "e1": Recommendation.TRIVIAL,
        "e2": Recommendation.TRIVIAL,
        "x1": Recommendation.DISPOSE,
        "x2": Recommendation.DUPLICATE,
    }


def _override(doc_id: str, recommendation: str) -> TriageOverride:
    return TriageOverride(doc_id, recommendation, "checked with the service", "rm-alice", dt.datetime.now(dt.UTC))


def test_a_hold_blocks_every_recommendation_that_leaves_a_file_behind(shipped_map: MigrationMap) -> None:
    rows = [
        _row("expired", disposal_date=dt.date(2019, 3, 31)),
        _row("empty", size=0),
        _row("copy", sha256="same", name="Copy of a.pdf"),
        _row("original", sha256="same"),
        _row("overridden"),
    ]
    held = {"expired", "empty", "copy", "overridden"}
    result = triage_rows(
        rows, shipped_map, held=held, overridden={"overridden": _override("overridden", "dispose")}, today=TODAY
    )
    by_id = {item.document_id: item for item in result.files}
    for doc_id, blocked in (
        ("expired", "dispose"),
        ("empty", "trivial"),
        ("copy", "duplicate"),
        ("overridden", "dispose"),
    ):
        item = by_id[doc_id]
        assert item.recommendation is Recommendation.MIGRATE and item.on_hold
        assert item.reason.startswith(f"legal hold: kept and migrated, not {blocked}")
        assert item.target is not None
    assert by_id["expired"].computed is Recommendation.DISPOSE  # what the rules said is kept for the export


def test_an_override_replaces_the_rules_and_says_who(shipped_map: MigrationMap) -> None:
    rows = [_row("a"), _row("b", needs_review=True)]
    overridden = {"a": _override("a", "review"), "b": _override("b", "migrate")}
    by_id = {
        item.document_id: item for item in triage_rows(rows, shipped_map, overridden=overridden, today=TODAY).files
    }
    assert by_id["a"].recommendation is Recommendation.REVIEW and by_id["a"].computed is Recommendation.MIGRATE
    assert by_id["a"].reason == "override by rm-alice: checked with the service (rules: migrate)"
    assert by_id["b"].recommendation is Recommendation.MIGRATE and by_id["b"].overridden_by == "rm-alice"
    assert by_id["b"].target is not None


def test_targets_come_from_the_class_pattern_or_the_default(shipped_map: MigrationMap) -> None:
    assert shipped_map.target_for("social_care.adult").library == "Case Records"  # "social_care.*"
    assert shipped_map.target_for("policy.corporate").library == "Policies"
    assert shipped_map.target_for("no.such_class") == shipped_map.default
    assert shipped_map.target_for(None) == shipped_map.default
    specific = MigrationMap(
        default=MigrationTarget(site_url="https://t.sharepoint.com/sites/a", library="A"),
        classes={
            "finance.*": MigrationTarget(site_url="https://t.sharepoint.com/sites/f", library="F"),
            "finance.invoice": MigrationTarget(site_url="https://t.sharepoint.com/sites/i", library="I"),
        },
    )
    assert specific.target_for("finance.invoice").library == "I"
    assert specific.target_for("finance.budget").library == "F"


def test_folder_patterns_fill_in_top_folder_path_class_and_year(shipped_map: MigrationMap) -> None:
    row = _row(folder="share/Finance/Budgets/2019", modified_at=dt.datetime(2019, 5, 1, tzinfo=dt.UTC))
    item = triage_rows([row], shipped_map, today=TODAY).files[0]
    assert item.target is not None
    assert (item.target.site_url, item.target.library) == (
        "https://example.sharepoint.com/sites/finance",
        "Finance Records",
    )
    assert item.target.folder == "2019/Budgets/2019"  # "{year}/{path}": below the top folder
    assert top_folder(item.path) == "share/Finance"
    other = triage_rows([_row(record_class="policy.corporate", folder="share")], shipped_map, today=TODAY).files[0]
    assert other.target is not None and other.target.folder == ""  # "{top}/{path}" of the scanned folder itself


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("default: {site_url: http://x, library: D}", "default.site_url"),
        ("default: {site_url: 'https://x', library: D, folder: '{owner}'}", "default.folder"),
        (
            "default: {site_url: 'https://x', library: D}\nclasses: {a.b: {site_url: 'https://y'}}",
            "classes.a.b.library",
        ),
        ("default: {site_url: 'https://x', library: D}\nmystery: 1", "mystery"),
        ("classes: {}", "default"),
    ],
)
def test_a_bad_migration_map_names_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "migration_map.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_migration_map(path)
    assert str(path) in raised.value.message and f": {key}:" in raised.value.message


def _share_rows() -> list[dict[str, Any]]:
    return [
        _row("f1", folder="share/Finance", locator="/srv/share/Finance/f1.pdf"),
        _row("f2", folder="share/Finance/2019", locator="/srv/share/Finance/2019/f2.pdf"),
        _row("h1", folder="share/HR", locator="/srv/share/HR/h1.pdf", record_class="hr.personnel"),
        _row("h2", folder="share/HR", locator="/srv/share/HR/h2.pdf", record_class="hr.personnel", size=0),
        # A folder named after a person: masked in the catalogue, real in the task (a migration needs real paths).
        _row(
            "c1",
            folder="share/Care/<PERSON>",
            name="letter.pdf",
            locator="/srv/share/Care/<PERSON>/letter.pdf",
            source_locator="/srv/share/Care/Olivia Smith/letter.pdf",
            record_class="social_care.adult",
        ),
    ]


def test_one_task_per_folder_to_migrate_with_real_source_paths(shipped_map: MigrationMap) -> None:
    result = triage_rows(_share_rows(), shipped_map, today=TODAY)
    tasks = migration_tasks(result, shipped_map)
    assert [(t.source, t.target_site_url, t.target_library, t.target_folder, t.files) for t in tasks] == [
        ("/srv/share/Care/Olivia Smith", "https://example.sharepoint.com/sites/social-care", "Case Records",
         "Care/Olivia Smith", 1),
        # share/Finance/2019 goes to the same library below its parent's folder: the parent's task copies it.
        ("/srv/share/Finance", "https://example.sharepoint.com/sites/finance", "Finance Records", "2026", 1),
        ("/srv/share/HR", "https://example.sharepoint.com/sites/hr", "HR Records", "HR", 1),
    ]  # fmt: skip


def test_spmt_csv_and_json_are_the_bulk_formats_the_tools_read(shipped_map: MigrationMap) -> None:
    tasks = migration_tasks(triage_rows(_share_rows(), shipped_map, today=TODAY), shipped_map)
    out = io.StringIO(newline="")
    assert write_spmt_csv(tasks, out) == 3
    text = out.getvalue()
    assert text.endswith("\r\n") and not text.startswith("Source")  # no header row
    rows = list(csv.reader(io.StringIO(text)))
    assert all(len(row) == 6 for row in rows)
    assert rows[1] == [
        "/srv/share/Finance", "", "", "https://example.sharepoint.com/sites/finance", "Finance Records", "2026"
    ]  # fmt: skip
    out = io.StringIO()
    write_spmt_json(tasks, out)
    document = json.loads(out.getvalue())
    assert document["Tasks"][2] == {
        "SourcePath": "/srv/share/HR",
        "TargetPath": "https://example.sharepoint.com/sites/hr",
        "TargetList": "HR Records",
        "TargetListRelativePath": "HR",
    }


def test_a_windows_share_path_keeps_its_backslashes(shipped_map: MigrationMap) -> None:
    row = _row(folder="share/Finance", locator="\\\\fileserver\\share\\Finance\\f1.pdf")
    tasks = migration_tasks(triage_rows([row], shipped_map, today=TODAY), shipped_map)
    assert [task.source for task in tasks] == ["\\\\fileserver\\share\\Finance"]


def test_the_per_file_export_has_masked_paths_and_is_formula_safe(shipped_map: MigrationMap) -> None:
    rows = [*_share_rows(), _row("evil", name="=HYPERLINK(1).pdf")]
    out = io.StringIO()
    write_triage_csv(triage_rows(rows, shipped_map, today=TODAY), out)
    text = out.getvalue()
    assert "Olivia" not in text and "share/Care/<PERSON>" in text
    exported = {row["document_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert exported["evil"]["name"] == "'=HYPERLINK(1).pdf"
    assert exported["h2"]["recommendation"] == "trivial" and exported["h2"]["target_library"] == ""


def test_totals_count_files_and_bytes_per_recommendation_and_top_folder(shipped_map: MigrationMap) -> None:
    result = triage_rows(_share_rows(), shipped_map, today=TODAY)
    totals = result.totals()
    assert totals[Recommendation.MIGRATE] == (4, 4000)
    assert totals[Recommendation.TRIVIAL] == (1, 0)
    assert totals[Recommendation.DISPOSE] == (0, 0)
    assert result.need_not_move() == (1, 0)
    by_top = result.by_top_folder()
    assert by_top["share/Finance"][Recommendation.MIGRATE] == (2, 2000)
    assert by_top["share/HR"][Recommendation.TRIVIAL] == (1, 0)


def test_trivial_rules_match_without_case() -> None:
    rules = TrivialRules(names=["thumbs.db"], installers=["*.msi"], folders=["$recycle.bin"])
    migration_map = MigrationMap(
        default=MigrationTarget(site_url="https://t.sharepoint.com/sites/a", library="A"), trivial=rules
    )
    rows = [_row("a", name="THUMBS.DB"), _row("b", name="Client.MSI"), _row("c", folder="share/$RECYCLE.BIN/S-1")]
    assert {item.recommendation for item in triage_rows(rows, migration_map, today=TODAY).files} == {
        Recommendation.TRIVIAL
    }
