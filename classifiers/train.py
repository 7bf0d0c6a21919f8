"""Training the retention model: the shipped generated set plus reviewers' approved corrections.

``docintel train`` (:data:`train_command`) reads the catalogue's ``review_decisions`` (revision 0002_review):
for every document whose latest approved decision names a class, that class is its label. The catalogue
keeps no document text, so a corrected document is read again from its source when it is a local file
(``--reread``, the default) and otherwise learnt from its title, file name and folder. Nothing from
``../shared/evaldata`` is ever used. The head is written to ``head_path`` (config/classifier.yaml).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from classifiers.config import ClassifierConfig, load_classifier_config
from classifiers.embeddings import EmbeddingHead, TextEncoder, encoder_for, train_head
from classifiers.structure import without_mail_headers
from classifiers.training import CALIBRATION_SEED, TRAINING_SEED, TrainingExample, generate_examples
from docintel.errors import CatalogueError, DocintelError
from docintel.retention import UNCLASSIFIED, RetentionSchedule, load_schedule
from docintel.settings import Settings, load_settings

if TYPE_CHECKING:
    from docintel.catalogue.store import CatalogueStore

logger = logging.getLogger(__name__)

REVIEW_DECISIONS_TABLE = "review_decisions"
# How much of a re-read document's text training keeps: the model only reads the start anyway.
REREAD_TEXT_CHARS = 20_000


@dataclass
class TrainReport:
    """What a training run used and produced."""

    head_path: Path
    generated: int
    corrections: int
    corrections_reread: int
    classes: int
    zero_shot: int
    temperature: float
    seconds: float
    encoder: str = ""
    per_class_corrections: dict[str, int] = field(default_factory=dict)


def shipped_examples(schedule: RetentionSchedule, per_class: int, seed: int = TRAINING_SEED) -> list[TrainingExample]:
    """The generated training documents for every class of the schedule that has templates."""
    return generate_examples(
        [class_id for class_id in schedule.ids if class_id != UNCLASSIFIED], per_class=per_class, seed=seed
    )


def hardened(example: TrainingExample) -> TrainingExample:
    """A calibration document without its title, folder or telling file name, and only its first lines.

    Generated documents are easy; calibrating on them as they are fits a temperature that makes real, messier
    documents look certain. Taking away the strongest cues gives held-out data closer to the hard cases.
    """
    body = without_mail_headers(example.text)
    if body is not example.text:
        # A message keeps its sender, recipients and date (what any message shows), not its subject.
        headers = [line for line in example.text[: -len(body) or None].splitlines() if line.strip()]
        kept = [line for line in headers if not line.lower().startswith("subject:")]
        lines = [line for line in body.splitlines() if line.strip()][:3]
        text = "\n".join([*kept, "", *lines])
    else:
        text = "\n".join(example.text.splitlines()[1:4])  # the first line is the title
    return replace(example, title=None, path="", name=f"document.{example.file_type}", text=text)


def train_from_shipped_set(
    schedule: RetentionSchedule,
    config: ClassifierConfig,
    encoder: TextEncoder | None = None,
    extra: list[TrainingExample] | None = None,
) -> EmbeddingHead:
    """A head trained on the shipped set (plus ``extra`` labelled examples), calibrated on a held-out generated set."""
    encoder = encoder or encoder_for(config)
    examples = shipped_examples(schedule, config.per_class) + list(extra or [])
    calibration = [
        hardened(example)
        for example in (
            shipped_examples(schedule, config.calibration_per_class, seed=CALIBRATION_SEED)
            if config.calibration_per_class
            else []
        )
    ]
    return train_head(
        schedule,
        encoder,
        examples,
        calibration,
        text_chars=config.text_chars,
        regularisation=config.regularisation,
        zero_shot_scale=config.zero_shot_scale,
        zero_shot_bias=config.zero_shot_bias,
        batch_size=config.batch_size,
        lexical_features=config.lexical_features,
    )


def approved_labels(store: CatalogueStore) -> list[dict[str, object]]:
    """Per document, its latest approved class decision joined with its catalogue row (title, name, path...)."""
    from sqlalchemy import MetaData, Table, and_, select
    from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

    try:
        tables = MetaData()
        decisions = Table(REVIEW_DECISIONS_TABLE, tables, autoload_with=store.engine)
        documents = Table("documents", tables, autoload_with=store.engine)
    except NoSuchTableError:
        logger.info("catalogue has no %s table yet: no reviewer corrections", REVIEW_DECISIONS_TABLE)
        return []
    except SQLAlchemyError as exc:
        raise CatalogueError(f"could not read the catalogue schema: {type(exc).__name__}") from exc
    query = (
        select(
            decisions.c.document_id,
            decisions.c.to_class,
            documents.c.source,
            documents.c.locator,
            documents.c.name,
            documents.c.path,
            documents.c.title,
            documents.c.file_type,
        )
        .join(documents, documents.c.id == decisions.c.document_id)
        .where(and_(decisions.c.approved.is_(True), decisions.c.to_class.is_not(None)))
        .order_by(decisions.c.document_id, decisions.c.at, decisions.c.id)
    )
    latest: dict[str, dict[str, object]] = {}
    try:
        with store.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                latest[str(row["document_id"])] = dict(row)  # later decisions overwrite earlier ones
    except SQLAlchemyError as exc:
        raise CatalogueError(f"could not read review decisions: {type(exc).__name__}") from exc
    return list(latest.values())


def _reread_text(row: dict[str, object], settings: Settings) -> str:
    """The text of a corrected local document, read again through docintel's extractors ("" when not possible)."""
    from docintel.models import DocumentStatus, Provenance
    from docintel.pipeline import Engines, extract_stage, new_record, sniff_stage

    path = Path(str(row["locator"]))
    if row["source"] != "local" or not path.is_file():
        return ""
    try:
        content = path.read_bytes()
    except OSError:
        return ""
    record = new_record(Provenance(source="local", locator=str(path), name=str(row["name"]), path=str(row["path"])))
    record = sniff_stage(record, content)
    if record.status is DocumentStatus.FAILED:
        return ""
    record, _ = extract_stage(record, content, Engines(settings))
    return record.text[:REREAD_TEXT_CHARS] if record.status is not DocumentStatus.FAILED else ""


def correction_examples(
    store: CatalogueStore, schedule: RetentionSchedule, settings: Settings, *, reread: bool = True
) -> tuple[list[TrainingExample], int]:
    """Labelled examples from reviewers' approved decisions, and how many were re-read from their source."""
    examples, reread_count = [], 0
    known = set(schedule.ids)
    for row in approved_labels(store):
        class_id = str(row["to_class"])
        if class_id not in known or class_id == UNCLASSIFIED:
            logger.warning(
                "document %s: approved class %s is not in the schedule; skipped", row["document_id"], class_id
            )
            continue
        text = _reread_text(row, settings) if reread else ""
        reread_count += bool(text)
        examples.append(
            TrainingExample(
                class_id=class_id,
                title=str(row["title"]) if row["title"] else None,
                # The catalogue id stands in for the name in explanations (see embeddings.example_label).
                name=str(row["name"] or row["document_id"]),
                path=str(row["path"] or ""),
                text=text,
                file_type=str(row["file_type"] or ""),
                origin="review",
            )
        )
    return examples, reread_count


def train(
    schedule: RetentionSchedule,
    config: ClassifierConfig,
    *,
    store: CatalogueStore | None = None,
    settings: Settings | None = None,
    reread: bool = True,
    head_path: Path | None = None,
) -> TrainReport:
    """Train on the shipped set plus approved corrections, save the head, and say what went in."""
    started = time.perf_counter()
    corrections: list[TrainingExample] = []
    reread_count = 0
    if store is not None:
        corrections, reread_count = correction_examples(store, schedule, settings or load_settings(), reread=reread)
    head = train_from_shipped_set(schedule, config, extra=corrections)
    path = head_path or config.head_path
    head.save(path)
    from classifiers.combined import _drop_head_cache

    _drop_head_cache()
    return TrainReport(
        head_path=path,
        generated=len(head.example_classes) - len(corrections),
        corrections=len(corrections),
        corrections_reread=reread_count,
        classes=len(head.class_ids),
        zero_shot=len(head.zero_shot_ids),
        temperature=head.temperature,
        seconds=time.perf_counter() - started,
        encoder=head.encoder,
        per_class_corrections=dict(Counter(example.class_id for example in corrections)),
    )


@click.command("train")
@click.option("--catalogue", "catalogue_url", help="Catalogue URL to read approved decisions from (default: settings).")
@click.option("--no-corrections", is_flag=True, help="Train on the shipped generated set only.")
@click.option(
    "--reread/--no-reread", default=True, show_default=True, help="Re-read corrected local files for their text."
)
@click.option("--output", type=click.Path(path_type=Path), help="Where to write the head (default: head_path).")
@click.option(
    "--reclassify",
    is_flag=True,
    help="Then classify again every catalogued document no reviewer has classified, with its disposal date.",
)
def train_command(
    catalogue_url: str | None, no_corrections: bool, reread: bool, output: Path | None, reclassify: bool
) -> None:
    """Retrain the retention model from the shipped set and reviewers' approved corrections."""
    from docintel.catalogue.store import open_catalogue
    from docintel.pipeline import Engines, ReclassifySummary, reclassify_catalogued
    from docintel.retention import schedule_from_settings

    if reclassify and output is not None:
        raise click.UsageError("--reclassify classifies with the configured head_path: leave out --output")
    summary: ReclassifySummary | None = None
    try:
        settings = load_settings()
        config = load_classifier_config(settings=settings)
        schedule = schedule_from_settings(settings)
        needs_store = reclassify or not no_corrections
        store = open_catalogue(catalogue_url or settings.catalogue.url) if needs_store else None
        try:
            corrections_from = None if no_corrections else store
            report = train(schedule, config, store=corrections_from, settings=settings, reread=reread, head_path=output)
            if reclassify and store is not None:
                # The new head is loaded afresh (train dropped the cache); classify and retain run as in a scan.
                summary = reclassify_catalogued(store, Engines(settings), reread=reread)
        finally:
            if store is not None:
                store.close()
    except DocintelError as error:
        raise click.ClickException(f"{error.kind}: {error.message}") from error
    click.echo(
        f"trained {report.classes} classes ({report.zero_shot} zero-shot) on {report.generated} generated and "
        f"{report.corrections} corrected documents ({report.corrections_reread} re-read); "
        f"encoder '{report.encoder}'; temperature {report.temperature:.2f}; {report.seconds:.1f}s; "
        f"head written to {report.head_path}"
    )
    for class_id, count in sorted(report.per_class_corrections.items()):
        click.echo(f"  {class_id}: {count} corrections")
    if summary is not None:
        click.echo(
            f"re-classified {summary.documents} unreviewed documents ({summary.reread} re-read): "
            f"{summary.changed} changed class, {summary.failed} failed; disposal dates recomputed"
        )


__all__ = ["TrainReport", "load_schedule", "train", "train_command", "train_from_shipped_set"]
