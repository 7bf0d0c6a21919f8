"""Migration triage: for every file of a share, what to do with it when the share moves to SharePoint Online.

Each live top-level document in the catalogue gets one recommendation and a reason:

- **trivial**: empty, temporary, system or application files, installers, caches (``trivial`` in
  config/migration_map.yaml): nothing a records manager needs to keep;
- **duplicate**: an identical copy (same SHA-256) of a file kept in its canonical place (see :func:`canonical_copy`);
- **dispose**: past its disposal date, the class's action is one of ``dispose_actions`` (destroy), no legal hold;
  the reason names the class and the date;
- **review**: the class is unsure (the classifier flagged it, or there is none), personal data where the class
  does not expect it, a class stored outside its folders (the wrong-place signal), a file that could not be read,
  or a disposal date passed with an action other than destroy;
- **migrate**: everything else, with the SharePoint site, library and folder its class maps to.

Precedence, first match wins: **hold > override > trivial > duplicate > dispose > review > migrate**. A legal
hold blocks every recommendation that leaves a file behind (dispose, duplicate, trivial): a held file is
recommended for migration, and the reason says which recommendation the hold blocked. A records manager's
override (review pages, audited) replaces the computed recommendation, except that it cannot leave a held file
behind. Trivial comes before duplicate so that two copies of an empty file are "trivial", not a canonical copy
kept; duplicate before dispose so that a canonical copy carries the disposal decision for its group.

Privacy: the recommendations, reasons and roll-ups use the catalogue's masked names and paths (safe for the
review pages and Power BI). Only the SharePoint Migration Tool task files (:func:`migration_tasks`) carry real
source folders, because a migration tool has to read them; ``docintel triage`` writes those for an operator with
the catalogue and the share on the host, and audits that it did (docs/security.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import json
import logging
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import click
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from docintel.catalogue.store import CatalogueStore
from docintel.catalogue.triage import TriageOverride, iter_triage_rows, matching_ids, overrides
from docintel.errors import ConfigError, DocintelError
from docintel.settings import load_yaml_file

log = logging.getLogger(__name__)

MIGRATION_MAP_FILE = "migration_map.yaml"
UNCLASSIFIED = "unclassified"
# Why a file could not be read, when that is all there is to say about an empty file.
_EMPTY_ERROR = "EmptyDocument"
# Names and folders that mark a copy rather than the original (canonical copy choice).
_COPY_MARKER = re.compile(r"(^copy of\b|[ _-]copy\b|\(\d+\)|\bbackups?\b|\bold\b|\barchived?\b|\bduplicates?\b)", re.I)


class Recommendation(StrEnum):
    """What to do with a file when the share is migrated."""

    MIGRATE = "migrate"
    DISPOSE = "dispose"
    DUPLICATE = "duplicate"
    TRIVIAL = "trivial"
    REVIEW = "review"


# The recommendations that leave a file behind: a legal hold blocks all three.
LEAVE_BEHIND = frozenset({Recommendation.DISPOSE, Recommendation.DUPLICATE, Recommendation.TRIVIAL})
# The order reports list them in.
RECOMMENDATIONS = tuple(Recommendation)


class MigrationTarget(BaseModel):
    """A SharePoint site, library and folder pattern files of a class go to."""

    model_config = ConfigDict(extra="forbid")

    site_url: str
    library: str = Field(min_length=1)
    folder: str = "{top}/{path}"

    @field_validator("site_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// SharePoint site URL")
        return value.rstrip("/")

    @field_validator("folder")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for name in re.findall(r"{(\w*)}", value):
            if name not in ("path", "top", "class", "year"):
                raise ValueError(f"unknown placeholder {{{name}}}: use {{path}}, {{top}}, {{class}} or {{year}}")
        return value


class TrivialRules(BaseModel):
    """File-name and folder-name patterns (case-insensitive shell patterns) of files not worth migrating."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(default_factory=list)
    installers: list[str] = Field(default_factory=list)
    folders: list[str] = Field(default_factory=list)


class MigrationMap(BaseModel):
    """config/migration_map.yaml: targets per retention class, and the triage rules records managers tune."""

    model_config = ConfigDict(extra="forbid")

    default: MigrationTarget
    classes: dict[str, MigrationTarget] = Field(default_factory=dict)
    trivial: TrivialRules = Field(default_factory=TrivialRules)
    personal_data_types: list[str] = Field(default_factory=list)
    personal_data_classes: list[str] = Field(default_factory=list)
    dispose_actions: list[str] = Field(default_factory=lambda: ["destroy"])

    def target_for(self, record_class: str | None) -> MigrationTarget:
        """The class's target: its own entry, else the longest matching "prefix.*" entry, else the default."""
        if record_class and record_class in self.classes:
            return self.classes[record_class]
        best: tuple[int, MigrationTarget] | None = None
        for pattern, target in self.classes.items():
            if record_class and _class_matches(pattern, record_class) and (best is None or len(pattern) > best[0]):
                best = (len(pattern), target)
        return best[1] if best else self.default

    def expects_personal_data(self, record_class: str | None) -> bool:
        """Whether personal data belongs in documents of this class."""
        return bool(record_class) and any(_class_matches(p, str(record_class)) for p in self.personal_data_classes)


def _class_matches(pattern: str, record_class: str) -> bool:
    if pattern.endswith(".*"):
        return record_class.startswith(pattern[:-1])
    return pattern == record_class


def load_migration_map(path: Path) -> MigrationMap:
    """Read and validate the migration map; a bad file fails naming the file and the key."""
    data = load_yaml_file(path)
    try:
        return MigrationMap.model_validate(data or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {key}: {error['msg']}") from None


@dataclass(frozen=True)
class ResolvedTarget:
    """Where one file goes: site URL, library and the folder inside it (real folder names, see module docs)."""

    site_url: str
    library: str
    folder: str


@dataclass
class FileTriage:
    """One file's recommendation, its reason, and what it was computed from (masked names and paths only)."""

    document_id: str
    name: str
    path: str  # the catalogue's (masked) folder path
    size: int
    record_class: str | None
    disposal_date: dt.date | None
    recommendation: Recommendation
    reason: str
    computed: Recommendation  # the rules' recommendation before a hold or an override
    on_hold: bool = False
    overridden_by: str | None = None
    target: ResolvedTarget | None = None  # for migrate; folders use the masked path until tasks are made
    source_file: str = ""  # the file as the source names it (unmasked): only for migration tasks, never shown
    modified_at: dt.datetime | None = None

    @property
    def top_folder(self) -> str:
        """The scanned folder and its top folder the file is in (see :func:`top_folder`)."""
        return top_folder(self.path)


def top_folder(path: str) -> str:
    """The scanned folder and the top folder below it ("share/Finance"): what a share's totals are grouped by.

    A catalogue path starts with the name of the folder given to ``docintel scan`` (or a crawler's drive label);
    files directly in it are grouped under that name alone.
    """
    return "/".join([s for s in path.strip("/").split("/") if s][:2]) or "(root)"


def _matches_any(value: str, patterns: Iterable[str]) -> str | None:
    lowered = value.lower()
    for pattern in patterns:
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return pattern
    return None


def trivial_reason(row: Mapping[str, Any], rules: TrivialRules) -> str | None:
    """Why a file is trivial (empty, a temporary or system file, an installer, in a cache folder), or None."""
    if row.get("size") == 0 or row.get("error_type") == _EMPTY_ERROR:
        return "empty file"
    name = str(row.get("name") or "")
    if pattern := _matches_any(name, rules.installers):
        return f"installer ({pattern})"
    if pattern := _matches_any(name, rules.names):
        return f"temporary or system file ({pattern})"
    for segment in str(row.get("path") or "").split("/"):
        if segment and (pattern := _matches_any(segment, rules.folders)):
            return f"in a cache, temporary or system folder ({pattern})"
    return None


def _copy_marked(row: Mapping[str, Any]) -> bool:
    return bool(_COPY_MARKER.search(str(row.get("name") or ""))) or any(
        _COPY_MARKER.search(segment) for segment in str(row.get("path") or "").split("/")
    )


def canonical_copy(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The copy to keep among identical files: one not named or filed as a copy ("Copy of", "(1)", "Backup", "Old"),
    then the shallowest folder, then the oldest modification, then the path and name (so the choice is stable)."""
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)

    def key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        path = str(row.get("path") or "")
        modified = row.get("modified_at") or far_future
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=dt.UTC)
        return (_copy_marked(row), path.count("/"), modified, path, str(row.get("name") or ""), str(row["id"]))

    return min(rows, key=key)


def _source_file(row: Mapping[str, Any]) -> str:
    return str(row.get("source_locator") or row.get("locator") or "")


@dataclass
class TriageResult:
    """Every file's triage, and the totals the report, dashboard and exports show."""

    files: list[FileTriage]
    computed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def totals(self) -> dict[Recommendation, tuple[int, int]]:
        """(files, bytes) per recommendation, every recommendation present."""
        return _totals(self.files)

    def by_top_folder(self) -> dict[str, dict[Recommendation, tuple[int, int]]]:
        """(files, bytes) per recommendation for each top folder, largest folder first."""
        groups: dict[str, list[FileTriage]] = defaultdict(list)
        for item in self.files:
            groups[item.top_folder].append(item)
        ordered = sorted(groups.items(), key=lambda pair: (-sum(f.size for f in pair[1]), pair[0]))
        return {folder: _totals(items) for folder, items in ordered}

    def by_folder(self) -> dict[str, dict[Recommendation, tuple[int, int]]]:
        """(files, bytes) per recommendation for each folder (files directly in it), by path."""
        groups: dict[str, list[FileTriage]] = defaultdict(list)
        for item in self.files:
            groups[item.path].append(item)
        return {folder: _totals(groups[folder]) for folder in sorted(groups)}

    def need_not_move(self) -> tuple[int, int]:
        """(files, bytes) recommended to be left behind (dispose, duplicate, trivial)."""
        totals = self.totals()
        return (
            sum(totals[r][0] for r in LEAVE_BEHIND),
            sum(totals[r][1] for r in LEAVE_BEHIND),
        )


def _totals(files: Iterable[FileTriage]) -> dict[Recommendation, tuple[int, int]]:
    counts: Counter[Recommendation] = Counter()
    sizes: Counter[Recommendation] = Counter()
    for item in files:
        counts[item.recommendation] += 1
        sizes[item.recommendation] += item.size
    return {r: (counts[r], sizes[r]) for r in RECOMMENDATIONS}


def _resolve_target(target: MigrationTarget, item: FileTriage, folder: str) -> ResolvedTarget:
    """The target with its folder pattern filled in; ``folder`` is the file's folder path (masked or real)."""
    # The first segment is the scanned folder's own name (the library replaces it); then the top folder, then below.
    segments = [s for s in folder.strip("/").split("/") if s][1:]
    top, below = (segments[0], "/".join(segments[1:])) if segments else ("", "")
    year = str(item.modified_at.year) if item.modified_at else ""
    filled = target.folder.format(path=below, top=top, **{"class": item.record_class or UNCLASSIFIED, "year": year})
    return ResolvedTarget(target.site_url, target.library, "/".join(s for s in filled.split("/") if s))


def triage_rows(
    rows: Iterable[Mapping[str, Any]],
    migration_map: MigrationMap,
    *,
    held: set[str] | frozenset[str] = frozenset(),
    wrong_place: Mapping[str, str] | None = None,
    overridden: Mapping[str, TriageOverride] | None = None,
    today: dt.date | None = None,
) -> TriageResult:
    """Recommend what to do with each file (rows as :func:`docintel.catalogue.triage.iter_triage_rows` yields them).

    ``held``: ids of documents under an active legal hold; ``wrong_place``: id -> the wrong-place rule it breaks;
    ``overridden``: records managers' overrides by id.
    """
    today = today or dt.date.today()
    wrong_place = wrong_place or {}
    overridden = overridden or {}
    materialised = list(rows)
    rules = migration_map.trivial

    trivial = {str(row["id"]): reason for row in materialised if (reason := trivial_reason(row, rules))}
    by_hash: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in materialised:
        if row.get("sha256") and str(row["id"]) not in trivial:
            by_hash[str(row["sha256"])].append(row)
    duplicate_of: dict[str, Mapping[str, Any]] = {}
    for group in by_hash.values():
        if len(group) > 1:
            keep = canonical_copy(group)
            duplicate_of.update((str(row["id"]), keep) for row in group if row is not keep)

    files = []
    for row in materialised:
        doc_id = str(row["id"])
        recommendation, reason = _computed(
            row, migration_map, trivial=trivial, duplicate_of=duplicate_of, wrong_place=wrong_place, today=today
        )
        item = FileTriage(
            document_id=doc_id,
            name=str(row.get("name") or ""),
            path=str(row.get("path") or ""),
            size=int(row.get("size") or 0),
            record_class=row.get("record_class"),
            disposal_date=row.get("disposal_date"),
            recommendation=recommendation,
            reason=reason,
            computed=recommendation,
            on_hold=doc_id in held,
            source_file=_source_file(row),
            modified_at=row.get("modified_at"),
        )
        override = overridden.get(doc_id)
        if override is not None:
            item.recommendation = Recommendation(override.recommendation)
            item.reason = f"override by {override.user_name}: {override.reason} (rules: {recommendation.value})"
            item.overridden_by = override.user_name
        if item.on_hold and item.recommendation in LEAVE_BEHIND:
            item.reason = f"legal hold: kept and migrated, not {item.recommendation.value} ({item.reason})"
            item.recommendation = Recommendation.MIGRATE
        if item.recommendation is Recommendation.MIGRATE:
            item.target = _resolve_target(migration_map.target_for(item.record_class), item, item.path)
        files.append(item)
    return TriageResult(files)


def _computed(
    row: Mapping[str, Any],
    migration_map: MigrationMap,
    *,
    trivial: Mapping[str, str],
    duplicate_of: Mapping[str, Mapping[str, Any]],
    wrong_place: Mapping[str, str],
    today: dt.date,
) -> tuple[Recommendation, str]:
    """The rules' recommendation and reason, in precedence order (trivial > duplicate > dispose > review > migrate)."""
    doc_id = str(row["id"])
    if doc_id in trivial:
        return Recommendation.TRIVIAL, trivial[doc_id]
    if doc_id in duplicate_of:
        keep = duplicate_of[doc_id]
        where = "/".join(part for part in (str(keep.get("path") or ""), str(keep.get("name") or "")) if part)
        return Recommendation.DUPLICATE, f"identical copy kept at {where} ({keep['id']})"
    record_class = row.get("record_class")
    disposal = row.get("disposal_date")
    action = row.get("retention_action")
    if disposal is not None and disposal <= today:
        if action in migration_map.dispose_actions:
            return Recommendation.DISPOSE, f"{record_class}: disposal date {disposal.isoformat()} passed ({action})"
        return Recommendation.REVIEW, f"{record_class}: retention ended {disposal.isoformat()}, action {action}"
    if row.get("status") != "ok":
        return Recommendation.REVIEW, f"could not be read ({row.get('error_type') or row.get('status')})"
    if not record_class or record_class == UNCLASSIFIED:
        return Recommendation.REVIEW, "no retention class"
    if row.get("needs_review"):
        confidence = row.get("class_confidence")
        shown = f" ({confidence:.2f})" if isinstance(confidence, float) else ""
        return Recommendation.REVIEW, f"{record_class}: low-confidence class{shown}"
    if row.get("pii") and not migration_map.expects_personal_data(record_class):
        return Recommendation.REVIEW, (
            f"{record_class}: personal data ({row['pii']} findings) this class should not hold"
        )
    if doc_id in wrong_place:
        return Recommendation.REVIEW, f"{record_class}: wrong place ({wrong_place[doc_id]})"
    return Recommendation.MIGRATE, f"{record_class}: migrate"


def triage_catalogue(
    store: CatalogueStore,
    migration_map: MigrationMap,
    *,
    today: dt.date | None = None,
    signal_settings: Any = None,
) -> TriageResult:
    """Triage every live top-level document of the catalogue, with its holds, overrides and wrong-place signals."""
    from classifiers.config import load_classifier_config
    from classifiers.signals import wrong_place
    from docintel.review.store import ReviewStore, hold_condition

    rows = list(iter_triage_rows(store, migration_map.personal_data_types))
    settings = signal_settings or load_classifier_config().signals
    misplaced = {item.document_id: item.rule for item in wrong_place(rows, settings.wrong_place)}
    holds = ReviewStore(store).holds(active_only=True)
    held = matching_ids(store, hold_condition(holds)) if holds else set()
    result = triage_rows(
        rows, migration_map, held=held, wrong_place=misplaced, overridden=overrides(store), today=today
    )
    log.info("triage of %d files: %s", len(result.files), {r.value: n for r, (n, _) in result.totals().items()})
    return result


# -- exports ---------------------------------------------------------------------------------------------

# The per-file export (CSV for spreadsheets, Parquet for Power BI): masked names and paths, never real ones.
TRIAGE_COLUMNS = (
    "document_id",
    "top_folder",
    "path",
    "name",
    "size",
    "record_class",
    "disposal_date",
    "recommendation",
    "reason",
    "computed",
    "on_hold",
    "overridden_by",
    "target_site_url",
    "target_library",
    "target_folder",
)
# Spreadsheets run a cell starting with these as a formula (the same guard as docintel.export).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _record(item: FileTriage) -> dict[str, Any]:
    target = item.target
    return {
        "document_id": item.document_id,
        "top_folder": item.top_folder,
        "path": item.path,
        "name": item.name,
        "size": item.size,
        "record_class": item.record_class,
        "disposal_date": item.disposal_date,
        "recommendation": item.recommendation.value,
        "reason": item.reason,
        "computed": item.computed.value,
        "on_hold": item.on_hold,
        "overridden_by": item.overridden_by,
        "target_site_url": target.site_url if target else None,
        "target_library": target.library if target else None,
        "target_folder": target.folder if target else None,
    }


def _safe_cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def write_triage_csv(result: TriageResult, out: TextIO) -> int:
    """One row per file with its recommendation, reason and target (masked paths); returns rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRIAGE_COLUMNS)
    for item in result.files:
        record = _record(item)
        writer.writerow([_safe_cell(record[column]) for column in TRIAGE_COLUMNS])
    return len(result.files)


def write_triage_parquet(result: TriageResult, out: Path) -> int:
    """The per-file CSV's columns, typed, as Parquet for Power BI; returns rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"size": pa.int64(), "disposal_date": pa.date32(), "on_hold": pa.bool_()}
    schema = pa.schema([pa.field(column, types.get(column, pa.string())) for column in TRIAGE_COLUMNS])
    table = pa.Table.from_pylist([_record(item) for item in result.files], schema=schema)
    pq.write_table(table, out, compression="zstd")
    return len(result.files)


@dataclass(frozen=True)
class MigrationTask:
    """One bulk-migration task: a source folder to a SharePoint site, library and folder (real names)."""

    source: str
    target_site_url: str
    target_library: str
    target_folder: str
    files: int
    bytes: int


def _separator(path: str) -> str:
    """The separator a source path uses: backslash for a Windows or UNC path, else "/"."""
    return "\\" if "\\" in path and "/" not in path else "/"


def _split_folder(source_file: str) -> tuple[str, str]:
    """(folder, separator) of a file as its source names it: a local or UNC path."""
    separator = _separator(source_file)
    return source_file.rpartition(separator)[0], separator


def _real_folder_path(item: FileTriage) -> str:
    """The file's folder path with real names: the source folder's last segments, as many as the masked path has.

    Masking replaces values segment by segment, so the masked folder path and the real one have the same depth.
    """
    folder, separator = _split_folder(item.source_file)
    depth = len([s for s in item.path.strip("/").split("/") if s])
    segments = [s for s in folder.split(separator) if s]
    return "/".join(segments[len(segments) - depth :]) if depth else ""


def migration_tasks(result: TriageResult, migration_map: MigrationMap) -> list[MigrationTask]:
    """One task per source folder holding files to migrate, to the target of the folder's largest class by bytes.

    SharePoint Migration Tool and Migration Manager copy a folder with everything below it, so a folder whose
    parent folder has a task to the same site, library and matching sub-folder is left to that task. Files
    left behind must be removed from (or filtered out of) the share before the tasks run: docs/migration.md.
    Files of other classes in the same folder travel with the folder's task; the per-file export names their
    own targets.
    """
    folders: dict[str, list[FileTriage]] = defaultdict(list)
    for item in result.files:
        if item.recommendation is Recommendation.MIGRATE and item.source_file:
            folders[_split_folder(item.source_file)[0]].append(item)
    tasks: dict[str, MigrationTask] = {}
    for source in sorted(folders):
        items = folders[source]
        by_class: Counter[str | None] = Counter()
        for item in items:
            by_class[item.record_class] += item.size or 1
        main_class = max(by_class.items(), key=lambda pair: (pair[1], pair[0] or ""))[0]
        representative = next(item for item in items if item.record_class == main_class)
        real_folder = _real_folder_path(representative)
        target = _resolve_target(migration_map.target_for(main_class), representative, real_folder)
        tasks[source] = MigrationTask(
            source=source,
            target_site_url=target.site_url,
            target_library=target.library,
            target_folder=target.folder,
            files=len(items),
            bytes=sum(item.size for item in items),
        )
    return [task for task in tasks.values() if not _covered_by_parent(task, tasks)]


def _covered_by_parent(task: MigrationTask, tasks: Mapping[str, MigrationTask]) -> bool:
    """Whether the nearest ancestor folder with a task copies this folder to the same place already."""
    separator = _separator(task.source)
    folder, suffix = task.source, list[str]()
    while True:
        parent, found, last = folder.rpartition(separator)
        if not found or not parent:
            return False
        suffix.insert(0, last)
        above = tasks.get(parent)
        if above is not None:
            return (
                above.target_site_url == task.target_site_url
                and above.target_library == task.target_library
                and "/".join(part for part in (above.target_folder, *suffix) if part) == task.target_folder
            )
        folder = parent


def write_spmt_csv(tasks: Sequence[MigrationTask], out: TextIO) -> int:
    """The SharePoint Migration Tool / Migration Manager bulk CSV: no header row, six columns per task
    (Source, SourceDocLib, SourceSubFolder, TargetWeb, TargetDocLib, TargetSubFolder; the two source-library
    columns stay empty for a file share)."""
    writer = csv.writer(out, lineterminator="\r\n")
    for task in tasks:
        writer.writerow([task.source, "", "", task.target_site_url, task.target_library, task.target_folder])
    return len(tasks)


def write_spmt_json(tasks: Sequence[MigrationTask], out: TextIO) -> int:
    """The SharePoint Migration Tool bulk JSON: ``{"Tasks": [{"SourcePath", "TargetPath", "TargetList",
    "TargetListRelativePath"}]}``."""
    document = {
        "Tasks": [
            {
                "SourcePath": task.source,
                "TargetPath": task.target_site_url,
                "TargetList": task.target_library,
                "TargetListRelativePath": task.target_folder,
            }
            for task in tasks
        ]
    }
    json.dump(document, out, indent=2, ensure_ascii=False)
    out.write("\n")
    return len(tasks)


# -- the command -----------------------------------------------------------------------------------------

TRIAGE_EXPORT_ACTION = "triage_export"
_FORMATS = ("summary", "csv", "parquet", "spmt-csv", "spmt-json")


def human_size(value: int) -> str:
    """Bytes for people: 1.2 GB, 340 MB, 12 KB."""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} B"  # pragma: no cover - the loop always returns


def summary_lines(result: TriageResult, *, top_n: int = 20) -> list[str]:
    """The totals as text: per recommendation, what need not move, and per top folder."""
    totals = result.totals()
    all_files = sum(n for n, _ in totals.values()) or 1
    all_bytes = sum(b for _, b in totals.values()) or 1
    lines = [f"{'recommendation':<15}{'files':>8}{'%':>7}{'bytes':>12}{'%':>7}"]
    for recommendation in RECOMMENDATIONS:
        files, size = totals[recommendation]
        lines.append(
            f"{recommendation.value:<15}{files:>8}{100 * files / all_files:>6.1f}%{human_size(size):>12}"
            f"{100 * size / all_bytes:>6.1f}%"
        )
    files, size = result.need_not_move()
    lines.append(
        f"Need not move (dispose, duplicate, trivial): {files} files ({100 * files / all_files:.1f}%), "
        f"{human_size(size)} ({100 * size / all_bytes:.1f}%)"
    )
    lines.append("")
    lines.append(f"{'top folder':<30}" + "".join(f"{r.value:>10}" for r in RECOMMENDATIONS) + f"{'bytes':>12}")
    for folder, counts in list(result.by_top_folder().items())[:top_n]:
        total_bytes = sum(b for _, b in counts.values())
        lines.append(
            f"{folder[:29]:<30}"
            + "".join(f"{counts[r][0]:>10}" for r in RECOMMENDATIONS)
            + f"{human_size(total_bytes):>12}"
        )
    return lines


def _cli_user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.command("triage")
@click.option("--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL (default: from settings).")
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"Migration map (default: {MIGRATION_MAP_FILE} in the configuration folder).",
)
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="summary", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: standard output).")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge disposal dates as on this day (default: today).",
)
@click.pass_context
def triage_command(
    ctx: click.Context, *, catalogue_url: str | None, map_file: Path | None, fmt: str, out: Path | None, as_of: Any
) -> None:
    """Recommend, for every catalogued file of a share, migrate, dispose, duplicate, trivial or review.

    summary prints files and bytes per recommendation and per top folder. csv and parquet (for Power BI) write
    one row per file with its recommendation, reason and SharePoint target, with the catalogue's masked names
    and paths. spmt-csv and spmt-json write the bulk-migration file the SharePoint Migration Tool and
    Migration Manager read: one task per folder to migrate, with the REAL source folder paths (audited).

    \b
    Examples:
      docintel triage
      docintel triage --format csv --out triage.csv
      docintel triage --format spmt-csv --out spmt-tasks.csv
    """
    from docintel.catalogue.store import open_catalogue
    from docintel.settings import command_settings

    try:
        settings = command_settings(ctx.obj)
        migration_map = load_migration_map(map_file or settings.config_path(MIGRATION_MAP_FILE))
        if fmt == "parquet" and out is None:
            raise click.UsageError("--format parquet writes a binary file: give it --out FILE")
        store = open_catalogue(catalogue_url or settings.catalogue.url)
        try:
            result = triage_catalogue(store, migration_map, today=as_of.date() if as_of else None)
            written, noun = _write(result, migration_map, fmt, out)
            if fmt.startswith("spmt"):
                # Real folder paths leave the catalogue here: who wrote them, and how many, goes in the audit.
                store.record_audit(_cli_user(), TRIAGE_EXPORT_ACTION, target=fmt, to_value=f"{written} tasks")
        finally:
            store.close()
    except DocintelError as error:
        click.secho(f"error: {error.message}", fg="red", err=True)
        sys.exit(2 if isinstance(error, ConfigError) else 1)
    if out is not None:
        click.echo(f"Wrote {written} {noun} to {out}", err=True)


def _write(result: TriageResult, migration_map: MigrationMap, fmt: str, out: Path | None) -> tuple[int, str]:
    if fmt == "parquet" and out is not None:
        return write_triage_parquet(result, out), "files"

    def write(handle: TextIO) -> tuple[int, str]:
        if fmt == "summary":
            handle.write("\n".join(summary_lines(result)) + "\n")
            return len(result.files), "files"
        if fmt == "csv":
            return write_triage_csv(result, handle), "files"
        tasks = migration_tasks(result, migration_map)
        if fmt == "spmt-csv":
            return write_spmt_csv(tasks, handle), "tasks"
        return write_spmt_json(tasks, handle), "tasks"

    if out is None:
        return write(sys.stdout)
    with out.open("w", encoding="utf-8", newline="") as handle:
        return write(handle)
