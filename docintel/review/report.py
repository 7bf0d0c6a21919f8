"""The review report: one self-contained static HTML page for records managers, built from the catalogue.

It shows headline counts, documents per retention class, the largest folders and their classes, where
personal data concentrates (counts by type only, never values), failures grouped by error class, the
governance signals (duplicate and near-duplicate groups, documents in the wrong place, stale documents by
class; see :mod:`docintel.governance`) and the classifications the classifier was least sure of, each row
with the signals its document shows. Everything is escaped (file names are hostile input),
the page loads nothing from elsewhere, and a Content-Security-Policy forbids scripts outright.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from docintel import __version__, defaults
from docintel.catalogue.store import CatalogueStore

if TYPE_CHECKING:
    from classifiers.config import SignalSettings
    from docintel.governance import CatalogueSignals
    from docintel.triage import MigrationMap

log = logging.getLogger(__name__)

DEFAULT_TITLE = "Document catalogue report"
# Rows per table: enough to act on, short enough to read; the JSONL/CSV export holds everything.
DEFAULT_TOP_N = 20
DEFAULT_LOWEST_N = 20
DEFAULT_FAILURES_PER_TYPE = 50
# Duplicate groups listed (largest first) and members shown per group; wrong-place documents listed.
DEFAULT_GROUPS_N = 10
GROUP_MEMBERS_SHOWN = 10
DEFAULT_MISPLACED_N = 50
# Documents with no class at all: they failed before classification (see Failures). Distinct from the
# schedule's "unclassified" class, which the classifier chose.
UNCLASSIFIED = "(not classified: failed)"


@dataclass(frozen=True)
class Bar:
    """One labelled bar of a chart: a count and its width as a share of the largest."""

    key: str
    label: str
    count: int
    percent: float
    hue: int


def _hue(key: str) -> int:
    """A stable colour per class, so a class looks the same in every chart."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:4], 16) % 360


def _class_label(record_class: str | None, class_titles: Mapping[str, str]) -> str:
    if record_class is None:
        return UNCLASSIFIED
    title = class_titles.get(record_class)
    return f"{record_class} — {title}" if title else record_class


def _bars(counts: list[tuple[str | None, int]], class_titles: Mapping[str, str], total: int) -> list[Bar]:
    return [
        Bar(
            key=record_class or UNCLASSIFIED,
            label=_class_label(record_class, class_titles),
            count=count,
            percent=round(100.0 * count / total, 1) if total else 0.0,
            hue=_hue(record_class or UNCLASSIFIED),
        )
        for record_class, count in counts
    ]


def _group_rows(store: CatalogueStore, signals: CatalogueSignals, top_n: int) -> dict[str, list[dict[str, Any]]]:
    """The largest exact and near-duplicate groups, with the folder and name of the members shown."""
    from docintel.governance import describe_documents

    chosen = {"exact": signals.exact_groups[:top_n], "near": signals.near_groups[:top_n]}
    shown = [doc_id for groups in chosen.values() for g in groups for doc_id in g.document_ids[:GROUP_MEMBERS_SHOWN]]
    names = describe_documents(store, shown)
    return {
        kind: [
            {
                "key": group.key[:12],
                "size": len(group.document_ids),
                "members": [names.get(doc_id, ("", doc_id)) for doc_id in group.document_ids[:GROUP_MEMBERS_SHOWN]],
            }
            for group in groups
        ]
        for kind, groups in chosen.items()
    }


def _signals_context(
    store: CatalogueStore, settings: SignalSettings, class_titles: Mapping[str, str], top_n: int
) -> tuple[CatalogueSignals, dict[str, Any]]:
    from docintel.governance import compute_signals, describe_documents

    signals = compute_signals(store, settings)
    groups = _group_rows(store, signals, top_n)
    misplaced = signals.misplaced[:DEFAULT_MISPLACED_N]
    names = describe_documents(store, [item.document_id for item in misplaced])
    context = {
        "counts": signals.counts(),
        "documents": signals.documents,
        "exact_groups": groups["exact"],
        "exact_total": len(signals.exact_groups),
        "near_groups": groups["near"],
        "near_total": len(signals.near_groups),
        "misplaced": [
            {
                "item": item,
                "name": names.get(item.document_id, ("", item.document_id))[1],
                "label": _class_label(item.record_class, class_titles),
            }
            for item in misplaced
        ],
        "misplaced_total": len(signals.misplaced),
        "stale_by_class": [
            (_class_label(record_class, class_titles), count) for record_class, count in signals.stale_by_class.items()
        ],
        "stale_years": settings.stale_years,
        "similarity": settings.near_duplicate_similarity,
        "group_members_shown": GROUP_MEMBERS_SHOWN,
    }
    return signals, context


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # autoescape on every template: names, paths, messages and explanations all come from documents.
    return Environment(
        loader=PackageLoader("docintel.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _triage_context(store: CatalogueStore, migration_map: MigrationMap, top_n: int) -> dict[str, Any]:
    """The migration triage's totals: bars per recommendation (share of bytes) and a table per top folder."""
    from docintel.triage import LEAVE_BEHIND, RECOMMENDATIONS, human_size, triage_catalogue

    result = triage_catalogue(store, migration_map)
    totals = result.totals()
    all_bytes = sum(size for _, size in totals.values())
    stay_files, stay_bytes = result.need_not_move()
    return {
        "bars": [
            {
                "key": recommendation.value,
                "files": files,
                "size": human_size(size),
                "percent": round(100.0 * size / all_bytes, 1) if all_bytes else 0.0,
                "leave": recommendation in LEAVE_BEHIND,
            }
            for recommendation, (files, size) in totals.items()
        ],
        "recommendations": [r.value for r in RECOMMENDATIONS],
        "files": len(result.files),
        "stay_files": stay_files,
        "stay_size": human_size(stay_bytes),
        "stay_percent": round(100.0 * stay_bytes / all_bytes, 1) if all_bytes else 0.0,
        "folders": [
            {
                "folder": folder,
                "counts": [counts[r][0] for r in RECOMMENDATIONS],
                "size": human_size(sum(size for _, size in counts.values())),
            }
            for folder, counts in list(result.by_top_folder().items())[:top_n]
        ],
    }


def build_report_html(
    store: CatalogueStore,
    *,
    title: str = DEFAULT_TITLE,
    class_titles: Mapping[str, str] | None = None,
    top_n: int = DEFAULT_TOP_N,
    lowest_n: int = DEFAULT_LOWEST_N,
    failures_per_type: int = DEFAULT_FAILURES_PER_TYPE,
    signal_settings: SignalSettings | None = None,
    contract_alert_days: Sequence[int] = defaults.CONTRACT_ALERT_DAYS,
    migration_map: MigrationMap | None = None,
) -> str:
    """The report as an HTML string (``signal_settings`` default: config/classifier.yaml's ``signals``).

    With a ``migration_map`` it also carries the migration triage's totals (files and bytes per recommendation
    and per top folder).
    """
    from classifiers.config import load_classifier_config
    from docintel.contracts.register import contract_alerts

    titles = dict(class_titles or {})
    signals, signals_context = _signals_context(
        store, signal_settings or load_classifier_config().signals, titles, DEFAULT_GROUPS_N
    )
    summary = store.summary()
    classes = store.class_counts()
    largest_class = max((c.documents for c in classes), default=0)
    folders = store.folder_counts(top_n)
    largest_folder = max((f.documents for f in folders), default=0)
    pii_folders, pii_documents = store.pii_hotspots(top_n)
    largest_pii = max((h.findings for h in pii_folders), default=0)
    context = {
        "title": title,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "summary": summary,
        "class_bars": _bars([(c.record_class, c.documents) for c in classes], titles, largest_class),
        "class_total": sum(c.documents for c in classes),
        "folders": [
            {
                "path": folder.path or "(root)",
                "documents": folder.documents,
                "percent": round(100.0 * folder.documents / largest_folder, 1) if largest_folder else 0.0,
                "segments": _bars(list(folder.classes.items()), titles, folder.documents),
            }
            for folder in folders
        ],
        "pii_folders": [
            {
                "path": hotspot.path or "(root)",
                "findings": hotspot.findings,
                "by_type": hotspot.by_type,
                "percent": round(100.0 * hotspot.findings / largest_pii, 1) if largest_pii else 0.0,
            }
            for hotspot in pii_folders
        ],
        "pii_documents": [
            {"item": item, "badges": signals.for_document(item.document_id or "").badges} for item in pii_documents
        ],
        "signals": signals_context,
        "failures": store.failures(failures_per_type),
        "lowest": [
            {
                "item": item,
                "label": _class_label(item.record_class, titles),
                "badges": signals.for_document(item.document_id).badges,
            }
            for item in store.lowest_confidence(lowest_n)
        ],
        "runs": store.recent_runs(5),
        "top_n": top_n,
        "triage": _triage_context(store, migration_map, top_n) if migration_map is not None else None,
        "contract_windows": sorted(set(contract_alert_days)),
        "contract_alerts": contract_alerts(
            store.iter_contracts(), today=dt.datetime.now(dt.UTC).date(), windows=contract_alert_days
        ),
    }
    return _environment().get_template("report.html").render(context)


def render_report(
    store: CatalogueStore,
    out_path: Path,
    *,
    title: str = DEFAULT_TITLE,
    class_titles: Mapping[str, str] | None = None,
    top_n: int = DEFAULT_TOP_N,
    lowest_n: int = DEFAULT_LOWEST_N,
    failures_per_type: int = DEFAULT_FAILURES_PER_TYPE,
    signal_settings: SignalSettings | None = None,
    contract_alert_days: Sequence[int] = defaults.CONTRACT_ALERT_DAYS,
    migration_map: MigrationMap | None = None,
) -> Path:
    """Write the review report to ``out_path`` as one self-contained HTML file and return the path."""
    html = build_report_html(
        store,
        title=title,
        class_titles=class_titles,
        top_n=top_n,
        lowest_n=lowest_n,
        failures_per_type=failures_per_type,
        signal_settings=signal_settings,
        contract_alert_days=contract_alert_days,
        migration_map=migration_map,
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a reader never sees half a report.
    handle, temp_name = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out_path.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes it owner-only; the report is meant to be shared
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            temp.write(html)
        os.replace(temp_name, out_path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    log.info("review report written to %s (%d bytes)", out_path, len(html.encode("utf-8")))
    return out_path
