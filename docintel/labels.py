"""Write-back: the Purview retention label of each reviewed SharePoint or OneDrive file, applied through Graph.

A records manager confirms or corrects a document's class in the review pages; ``docintel labels`` then sets
the label the schedule names for that class (``purview_label`` in retention_schedule.yaml) on the file, with
``PATCH /drives/{d}/items/{i}/retentionLabel {"name": ...}`` (graph.md section 4). Only reviewed documents are
labelled, never the classifier's own guesses, and only files (attachments and mail have no drive item of
their own). The label is read first: a file that already carries it is left alone (no write, no audit row), so
the command can run on a schedule. Each label applied is an audit row (action ``label``, from the old label to
the new). What a label then does (retain, declare a record, dispose) is Purview's: docintel never deletes a
file. A label the tenant has not published (400), a record whose label may no longer change (403) or a file
that is gone (404) is reported for that document and the run goes on; Graph throttling the tenant for longer
than a worker waits in place stops the run (what is done stays done; the next run carries on).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy import insert, select

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.cli_errors import EXIT_FAILURES, EXIT_OK, handle_errors
from docintel.errors import SourceError, SourceNotFound, SourceThrottled
from docintel.retention import RetentionSchedule
from docintel.review.store import LABEL_ACTION
from docintel.settings import command_settings
from docintel.sources.graph import MAIL_DRIVE_PREFIX, GraphSession

logger = logging.getLogger(__name__)

# Who the audit trail says applied a label (the action it records is the review store's LABEL_ACTION).
AUDIT_USER = "docintel labels"


@dataclass(frozen=True)
class LabelTarget:
    """A reviewed file and the label its reviewed class names."""

    document_id: str
    drive_id: str
    item_id: str
    record_class: str
    label: str


@dataclass
class LabelRun:
    """What a write-back run did: labels applied, files already labelled, and failures with their reasons."""

    applied: int = 0
    unchanged: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (document id, reason)
    stopped: str | None = None  # why the run ended early (Graph throttling the tenant beyond a short wait)

    @property
    def failed_by_kind(self) -> Counter[str]:
        """Failures counted by the start of their reason (the Graph status and code)."""
        return Counter(reason.split(":", 1)[0] for _, reason in self.failures)


def label_targets(store: CatalogueStore, schedule: RetentionSchedule) -> tuple[list[LabelTarget], int]:
    """Reviewed, live SharePoint and OneDrive files with the label of their reviewed class; and how many had none."""
    d, s = t.documents, t.review_state
    query = (
        select(d.c.id, d.c.drive_id, d.c.item_id, s.c.reviewed_class)
        .select_from(d.join(s, s.c.document_id == d.c.id))
        .where(
            d.c.deleted.is_(False),
            d.c.parent_id.is_(None),
            d.c.drive_id.is_not(None),
            d.c.item_id.is_not(None),
            ~d.c.drive_id.startswith(MAIL_DRIVE_PREFIX),
            s.c.reviewed_class.is_not(None),
        )
        .order_by(d.c.id)
    )
    labels = {entry.id: entry.purview_label for entry in schedule.classes}
    targets: list[LabelTarget] = []
    without = 0
    with store.transaction("read reviewed files") as connection:
        for document_id, drive_id, item_id, record_class in connection.execute(query):
            label = labels.get(record_class)
            if label is None:
                without += 1
            else:
                targets.append(LabelTarget(document_id, drive_id, item_id, record_class, label))
    return targets, without


async def apply_labels(
    session: GraphSession,
    store: CatalogueStore,
    targets: list[LabelTarget],
    *,
    dry_run: bool = False,
    progress: Callable[[LabelTarget], None] | None = None,
) -> LabelRun:
    """Set each target's label where the file does not carry it yet; with ``dry_run`` only count what would change."""
    from msgraph.generated.models.item_retention_label import ItemRetentionLabel

    run = LabelRun()
    for target in targets:
        item = session.client.drives.by_drive_id(target.drive_id).items.by_drive_item_id(target.item_id)
        label_builder = item.retention_label
        try:
            current = await _current_label(session, label_builder)
            if current == target.label:
                run.unchanged += 1
            elif dry_run:
                run.applied += 1
            else:
                patch = functools.partial(label_builder.patch, ItemRetentionLabel(name=target.label))
                await session.caller.call(patch, "apply retention label")
                _audit(store, target, current)
                run.applied += 1
        except SourceThrottled as error:
            # Every later call would wait out the same tenant-wide pause: stop, and let the next run go on.
            wait = f" for {error.retry_after:.0f} s" if error.retry_after is not None else ""
            run.stopped = f"Graph is throttling the tenant{wait}; run again later"
            logger.warning("retention labels: stopped after %d applied (Graph throttling)", run.applied)
            break
        except SourceError as error:
            logger.warning("document %s: retention label not applied (%s)", target.document_id, error.kind)
            run.failures.append((target.document_id, _reason(error)))
        if progress is not None:
            progress(target)
    return run


async def _current_label(session: GraphSession, label_builder: Any) -> str | None:
    """The label a file carries now, or None (Graph answers 404 for a file without one)."""
    try:
        current = await session.caller.call(label_builder.get, "read retention label")
    except SourceNotFound:
        return None
    name = getattr(current, "name", None)
    return str(name) if name else None


def _reason(error: SourceError) -> str:
    # The translated message is "<what>: Graph <status> <code>"; keep "Graph <status> <code>" first for grouping.
    what, _, graph = error.message.partition(": ")
    return f"{graph}: {what}" if graph else error.message


def _audit(store: CatalogueStore, target: LabelTarget, previous: str | None) -> None:
    row = {
        "at": dt.datetime.now(dt.UTC),
        "user_name": AUDIT_USER,
        "action": LABEL_ACTION,
        "document_id": target.document_id,
        "target": target.record_class,
        "from_value": previous or "",
        "to_value": target.label,
        "reason": f"reviewed class {target.record_class}",
        "outcome": "done",
    }
    with store.transaction("audit retention label", write=True) as connection:
        connection.execute(insert(t.audit), [row])


def run_labels(
    open_session: Callable[[], AbstractAsyncContextManager[GraphSession]],
    store: CatalogueStore,
    targets: list[LabelTarget],
    *,
    dry_run: bool = False,
    progress: Callable[[LabelTarget], None] | None = None,
) -> LabelRun:
    """Open a Graph session and apply the labels in it."""

    async def main() -> LabelRun:
        async with open_session() as session:
            return await apply_labels(session, store, targets, dry_run=dry_run, progress=progress)

    return asyncio.run(main())


@click.command("labels")
@click.option("--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read the files' labels and count what would change; write nothing (it cannot tell a label the tenant "
    "has not published: the file plan is not readable with application permissions).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (it is off anyway when stderr is not a terminal).")
@click.pass_context
@handle_errors
def labels_command(ctx: click.Context, catalogue_url: str | None, dry_run: bool, no_progress: bool) -> None:
    """Apply Purview retention labels to reviewed SharePoint and OneDrive files.

    Each file whose class a records manager confirmed or corrected gets the label that class names
    (purview_label in config/retention_schedule.yaml), unless it carries it already. Graph credentials
    come from the environment, as for `docintel crawl`; the app needs Files.ReadWrite.All or
    Sites.ReadWrite.All. Exits 0 when every label was applied, 1 when some failed.

    \b
    Examples:
      docintel labels --dry-run          # what would change
      docintel labels                    # apply; safe to run on a schedule
    """
    from docintel.catalogue.store import open_catalogue
    from docintel.retention import load_schedule
    from docintel.sources.graph import GraphSource, GraphSourceConfig, sources_config

    settings = command_settings(ctx.obj)
    schedule = load_schedule(settings.config_path(settings.retention.schedule_file))
    source = GraphSource(GraphSourceConfig(name="labels", kind="sharepoint"), sources_config(settings).graph)
    store = open_catalogue(catalogue_url or settings.catalogue.url)
    try:
        targets, without = label_targets(store, schedule)
        click.echo(f"{len(targets)} reviewed file(s) with a label to check; {without} whose class names none", err=True)
        show_bar = not no_progress and sys.stderr.isatty()
        with click.progressbar(length=len(targets), label="Labelling", file=sys.stderr, hidden=not show_bar) as bar:
            run = run_labels(source.session, store, targets, dry_run=dry_run, progress=lambda _t: bar.update(1))
    finally:
        store.close()
    verb = "would be applied" if dry_run else "applied"
    click.echo(f"Labels {verb}: {run.applied}; already in place: {run.unchanged}; failed: {len(run.failures)}.")
    for kind, count in run.failed_by_kind.most_common():
        click.echo(f"  {kind:<40} {count}")
    for document_id, reason in run.failures[:20]:
        click.echo(f"  {document_id}  {reason}")
    if run.stopped:
        click.echo(f"Stopped early: {run.stopped}.")
    sys.exit(EXIT_FAILURES if run.failures or run.stopped else EXIT_OK)
