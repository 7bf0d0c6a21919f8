"""The ``docintel`` command line.

Exit status: 0 when everything succeeded, 1 when some documents failed (the run still completed),
2 for usage and configuration errors.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from docintel import __version__, defaults
from docintel.cli_errors import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, handle_errors
from docintel.contracts.models import ContractResult
from docintel.errors import ConfigError
from docintel.log import configure_logging
from docintel.models import DocumentRecord, DocumentStatus
from docintel.settings import Settings, load_settings


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _catalogue_url(settings: Settings, option: str | None) -> str:
    return option or settings.catalogue.url


catalogue_option = click.option(
    "--catalogue",
    "catalogue_url",
    metavar="URL",
    help=f"Catalogue database URL: sqlite:///FILE or postgresql://USER@HOST/DB. "
    f"Default: ${defaults.ENV_CATALOGUE_URL}, else {defaults.CATALOGUE_URL}.",
)


# Commands that live beside their feature, imported only when run: the invoice API and the model stack
# take seconds to import, and `docintel --help` must not pay for them. name -> (module:attribute, short help).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "find": ("docintel.subject_access:find_command", "List documents that mention a person (subject access)."),
    "triage": ("docintel.triage:triage_command", "Migration triage: migrate, dispose, duplicate, trivial or review."),
    "sar": ("docintel.sar.commands:sar_group", "Subject access requests as cases, from request to disclosure bundle."),
    "serve": ("docintel.api.commands:serve_command", "Serve the invoice API and the review pages."),
    "api-key": ("docintel.api.commands:api_key_group", "Create, list and revoke API keys (scopes, SharePoint drives)."),
    "connector": ("docintel.api.commands:connector_command", "Write the Power Automate custom connector."),
    "profiles": (
        "docintel.api.commands:profiles_group",
        "List supplier profiles; approve a key's into the shared set.",
    ),
    "user": ("docintel.review.commands:user_command", "Manage local accounts for the review pages."),
    "train": ("classifiers.train:train_command", "Retrain the retention model from reviewers' decisions."),
    "labels": ("docintel.labels:labels_command", "Apply Purview retention labels to reviewed SharePoint files."),
    "crawl": (
        "workers.commands:crawl_command",
        "Enqueue a crawl of SharePoint, OneDrive, mailboxes (delta) and shares.",
    ),
    "worker": ("workers.commands:worker_command", "Run an rq worker (models loaded once, before forking)."),
    "status": ("workers.commands:status_command", "Queue depths, failed jobs, each drive's last sync."),
    "graph-emulator": ("workers.commands:graph_emulator_command", "Serve the Microsoft Graph emulator (demo/tests)."),
}


class LazyGroup(click.Group):
    """A click group whose feature commands are imported when used, not when listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and lazy command names, sorted."""
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing a lazy one on first use."""
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, _, attribute = LAZY_COMMANDS[cmd_name][0].partition(":")
        loaded = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(loaded, click.Command):
            raise TypeError(f"{LAZY_COMMANDS[cmd_name][0]} is not a click command")
        self.add_command(loaded, cmd_name)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands with their short help, without importing the lazy ones."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, LAZY_COMMANDS[name][1]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="docintel")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
@click.option("--log-json", is_flag=True, default=None, help="Log as JSON lines (also DOCINTEL_LOG_FORMAT=json).")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=defaults.ENV_CONFIG_DIR,
    help="Folder with settings.yaml, pii.yaml and retention_schedule.yaml (default: ./config).",
)
@click.pass_context
def main(ctx: click.Context, verbose: int, log_json: bool | None, config_dir: Path | None) -> None:
    """docintel: find out what is in the council's documents.

    Reads documents (PDF, scans, Office, OpenDocument, mail, HTML, EPUB, text, archives), finds people,
    organisations, dates, money and UK personal data, places each document in the council's
    retention schedule with a disposal date, and records it all in a catalogue.

    \b
    Typical first run:
      export DOCINTEL_PII_KEY_FILE=.docintel-key && docintel key create .docintel-key
      docintel scan /mnt/shares/finance            # read everything into docintel.db
      docintel report --out report.html            # what records managers review
      docintel analyze letter.pdf --json           # everything docintel sees in one file

    Settings: config/settings.yaml; any key can be overridden with DOCINTEL_<SECTION>__<KEY>.
    """
    configure_logging(verbose, json_format=log_json)
    ctx.ensure_object(dict)
    try:
        ctx.obj["settings"] = load_settings(config_dir)
    except ConfigError as error:
        click.secho(f"error: {error.message}", fg="red", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@catalogue_option
@click.option("--force", is_flag=True, help="Process every file again, even when its content is unchanged.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Worker processes reading documents (default: the cores this process may use). Each loads its own "
    "models: budget about 0.5 GB of memory per worker (454 MB peak measured on real documents). "
    "--jobs 1 reads in this process, with no workers.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (it is off anyway when stderr is not a terminal).")
@click.pass_context
@handle_errors
def scan(  # noqa: PLR0917 - click passes each option by position
    ctx: click.Context,
    paths: tuple[Path, ...],
    catalogue_url: str | None,
    force: bool,
    jobs: int | None,
    no_progress: bool,
) -> None:
    """Read every file under PATHS into the catalogue.

    Files whose content is unchanged since the last scan are skipped (use --force to redo them).
    A file that cannot be read is recorded as failed with the reason, and the scan goes on; with
    --jobs above 1 that includes a file that kills its worker process (out of memory, a parser crash).
    Symbolic links (never followed), fifos, sockets, devices and files or folders this account may not
    read are not read: each is counted in the summary and recorded as failed with the reason.
    Ctrl-C or SIGTERM stops cleanly (exit 130); run the same command again to carry on.
    Exits 0 when every document succeeded, 1 when some failed (with a summary by reason).

    \b
    Examples:
      docintel scan ./samples
      docintel scan /mnt/share/Finance /mnt/share/HR --catalogue postgresql://docintel@db/catalogue
      docintel scan /mnt/share/Finance --jobs 2
    """
    from docintel.catalogue.store import open_catalogue
    from docintel.enrich.hashing import bind_pii_key
    from docintel.errors import DocintelError
    from docintel.pipeline import Engines, RunSummary, scan_source
    from docintel.scan_pool import default_jobs, scan_source_in_workers
    from docintel.sources.local import LocalFolderSource

    settings = _settings(ctx)
    engines = Engines(settings=settings)
    _ = engines.key  # fail fast, before any work, when the PII key is missing...
    engines.check_ocr()  # ...or the OCR language is not installed
    url = _catalogue_url(settings, catalogue_url)
    store = open_catalogue(url)
    try:
        bind_pii_key(store, engines.key)  # a catalogue hashed with another key would mix unmatchable hashes in
    except DocintelError:
        store.close()
        raise
    source = LocalFolderSource(paths)
    discovered = list(source.discover())
    jobs = jobs or default_jobs()
    passed_over = RunSummary()
    for entry in source.skipped:
        passed_over.count_passed_over(entry.error)
    said = passed_over.passed_over_text()  # "Skipped 3: 2 symbolic links (not followed), 1 permission denied"
    skipped_note = f" ({said[0].lower()}{said[1:]})" if said else ""
    workers = f"; {jobs} worker processes" if jobs > 1 else ""
    click.echo(f"Found {len(discovered)} files{skipped_note}; catalogue: {_display_url(url)}{workers}", err=True)
    show_bar = not no_progress and sys.stderr.isatty()
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops as cleanly as Ctrl-C
    try:
        with click.progressbar(length=len(discovered), label="Scanning", file=sys.stderr, hidden=not show_bar) as bar:
            options: dict[str, Any] = {"force": force, "progress": lambda _p: bar.update(1), "discovered": discovered}
            if jobs > 1:
                summary = scan_source_in_workers(source, store, engines, jobs=jobs, **options)
            else:
                summary = scan_source(source, store, engines, **options)
    except KeyboardInterrupt:
        store.close()
        click.echo("Interrupted: the documents stored so far are kept; run the same command again to carry on.")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    click.echo(
        f"Scanned {summary.discovered} files in {summary.seconds:.1f} s: {summary.processed} processed, "
        f"{summary.skipped} unchanged and skipped; documents (incl. attachments): {summary.ok} ok, "
        f"{summary.failed} failed."
    )
    if summary.passed_over:
        click.echo(f"{summary.passed_over_text()}; each is listed with its reason in `docintel report`.")
    if summary.failures:
        click.echo("Failures by reason:")
        for reason, count in summary.failures.most_common():
            click.echo(f"  {reason:<20} {count}")
        click.echo("See `docintel report` for each failed document and its message.")
    store.close()
    sys.exit(EXIT_FAILURES if summary.failed else EXIT_OK)


# Exit status of a scan stopped by Ctrl-C or SIGTERM (the shell's 128 + SIGINT).
EXIT_INTERRUPTED = 130


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _display_url(url: str) -> str:
    from docintel.errors import safe_summary

    return safe_summary(url)


def _record_json(record: DocumentRecord) -> dict[str, Any]:
    classification = record.classification
    retention = classification.retention if classification else None
    return {
        "id": record.id,
        "name": record.provenance.name,
        "status": "failed" if record.status is DocumentStatus.FAILED else "ok",
        "error": record.error.model_dump() if record.error else None,
        "file_type": record.file_type,
        "mime_type": record.mime_type,
        "size": record.size,
        "sha256": record.sha256,
        "title": record.title,
        "metadata": record.metadata,
        "pages": [
            {"number": p.number, "text": p.text, "method": p.method.value, "ocr_confidence": p.ocr_confidence}
            for p in record.pages
        ],
        "text": record.text,
        "entities": [{"label": e.label, "start": e.start, "end": e.end, "text": e.text} for e in record.entities],
        "pii": [
            {"entity_type": f.entity_type, "start": f.start, "end": f.end, "text": f.text, "score": round(f.score, 3)}
            for f in record.pii
        ],
        "classification": None
        if classification is None
        else {
            "record_class": classification.record_class,
            "confidence": round(classification.confidence, 3),
            "explanation": classification.explanation,
            "retention": None
            if retention is None
            else {
                "period": retention.period,
                "trigger": retention.trigger,
                "action": retention.action,
                "disposal_date": retention.disposal_date.isoformat() if retention.disposal_date else None,
            },
        },
        "contract": record.contract.model_dump(mode="json") if record.contract else None,
        "notes": record.notes,
        "stages": [
            {"stage": s.stage, "component": s.component, "seconds": s.seconds, "status": s.status.value}
            for s in record.stage_runs
        ],
        "children": [_record_json(child) for child in record.children],
    }


def _print_record(record: DocumentRecord, indent: str = "") -> None:
    status = click.style("ok", fg="green") if record.status is DocumentStatus.OK else click.style("failed", fg="red")
    click.echo(f"{indent}{record.provenance.name}: {status} ({record.file_type or '?'}, {record.mime_type or '?'})")
    if record.error:
        click.echo(f"{indent}  error: {record.error.type}: {record.error.message}")
    if record.pages:
        methods = ", ".join(sorted({p.method.value for p in record.pages}))
        click.echo(f"{indent}  pages: {len(record.pages)} ({methods}); {len(record.text):,} characters")
    if record.entities:
        by_label: dict[str, int] = {}
        for entity in record.entities:
            by_label[entity.label] = by_label.get(entity.label, 0) + 1
        click.echo(f"{indent}  entities: " + ", ".join(f"{k} {v}" for k, v in sorted(by_label.items())))
    if record.pii:
        by_type: dict[str, int] = {}
        for finding in record.pii:
            by_type[finding.entity_type] = by_type.get(finding.entity_type, 0) + 1
        click.echo(f"{indent}  personal data: " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())))
    if record.classification:
        c = record.classification
        click.echo(f"{indent}  class: {c.record_class} (confidence {c.confidence:.2f})")
        click.echo(f"{indent}  why: {c.explanation}")
        if c.retention:
            date = c.retention.disposal_date.isoformat() if c.retention.disposal_date else "not yet known"
            click.echo(
                f"{indent}  retention: {c.retention.period} from {c.retention.trigger}, then {c.retention.action}; "
                f"disposal date {date}"
            )
    if record.contract:
        _print_contract(record.contract, indent)
    for child in record.children:
        _print_record(child, indent + "  ")


def _print_contract(contract: ContractResult, indent: str) -> None:
    click.echo(f"{indent}  contract: {contract.kind.value} (confidence {contract.kind_confidence:.2f})")
    for party in contract.parties:
        role = party.role_label or party.role.value
        click.echo(f"{indent}    party: {party.name.value} ({role}, page {party.name.page or '?'})")
    for name, found in contract.fields.items():
        if found.value is None:
            continue
        where = f"page {found.page}" if found.page else (found.how or "not stated")
        click.echo(f"{indent}    {name}: {found.value} ({where}, confidence {found.confidence:.2f})")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (text, pages, entities, PII, class, contract)."
)
@click.option(
    "--contract",
    "as_contract",
    is_flag=True,
    help="Read the file for contract terms whatever its class (by default only contracts and agreements are).",
)
@click.pass_context
@handle_errors
def analyze(ctx: click.Context, file: Path, as_json: bool, as_contract: bool) -> None:
    """Run every stage on one FILE and show what docintel finds, without touching the catalogue.

    The output shows personal data values: it is for the operator looking at a local file. The
    catalogue never stores them in clear. Documents classified as contracts or agreements also get
    a "contract" object: parties, dates, term, renewal, notice, law, value, payment terms,
    signatories and whether a data-processing schedule is attached, each with its text, page and
    confidence.

    \b
    Examples:
      docintel analyze invoice.pdf
      docintel analyze scan.tiff --json | jq .classification
      docintel analyze lease.pdf --contract --json | jq .contract
    """
    from docintel.pipeline import Engines, analyze_bytes

    settings = _settings(ctx)
    if as_contract:
        settings = settings.model_copy(update={"contracts": settings.contracts.model_copy(update={"always": True})})
    # Hashes are not shown here, so a throwaway key serves when none is configured.
    has_key = os.environ.get(defaults.ENV_PII_KEY) or os.environ.get(defaults.ENV_PII_KEY_FILE)
    engines = Engines(settings=settings, pii_key=None if has_key else secrets.token_bytes(32))
    content = file.read_bytes()
    if len(content) > settings.limits.max_file_bytes:
        from docintel.errors import TooLarge

        raise TooLarge(f"file is {len(content):,} bytes; the limit is {settings.limits.max_file_bytes:,}")
    record = analyze_bytes(content, file.name, engines)
    if as_json:
        click.echo(json.dumps(_record_json(record), ensure_ascii=False, indent=2))
    else:
        _print_record(record)
    sys.exit(EXIT_FAILURES if record.status is DocumentStatus.FAILED else EXIT_OK)


@main.command()
@catalogue_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docintel-report.html"),
    show_default=True,
    help="Where to write the HTML report.",
)
@click.pass_context
@handle_errors
def report(ctx: click.Context, catalogue_url: str | None, out: Path) -> None:
    """Write a static HTML report for records managers.

    Counts per retention class and per folder, personal-data hotspots (counts only), failures with
    their reasons, governance signals (duplicates, near-duplicates, documents in the wrong place, stale
    documents), migration triage totals (when config has migration_map.yaml), contracts ending or reaching
    their notice date within contracts.alert_days, and the least confident classifications to review
    first. One self-contained file: e-mail it or put it on the intranet.
    """
    from classifiers.config import load_classifier_config
    from docintel.catalogue.store import open_catalogue
    from docintel.retention import load_schedule
    from docintel.review.report import render_report
    from docintel.triage import MIGRATION_MAP_FILE, load_migration_map

    settings = _settings(ctx)
    signal_settings = load_classifier_config(settings=settings).signals
    map_path = settings.config_path(MIGRATION_MAP_FILE)
    migration_map = load_migration_map(map_path) if map_path.is_file() else None
    store = open_catalogue(_catalogue_url(settings, catalogue_url))
    schedule = load_schedule(settings.config_path(settings.retention.schedule_file))
    path = render_report(
        store,
        out,
        class_titles={c.id: c.title for c in schedule.classes},
        signal_settings=signal_settings,
        contract_alert_days=settings.contracts.alert_days,
        migration_map=migration_map,
    )
    store.close()
    click.echo(f"Report written to {path}")


@main.command()
@catalogue_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet", "dcat", "contracts-register"]),
    default="jsonl",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: standard output).")
@click.pass_context
@handle_errors
def export(ctx: click.Context, catalogue_url: str | None, fmt: str, out: Path | None) -> None:
    """Export the catalogue: one record per document, with no personal data values.

    JSONL has one line per document: provenance, type, status and error, page methods, entity and
    PII counts by type, classification, disposal date and governance signals (duplicate and
    near-duplicate groups, wrong place, stale). CSV has the same without the signals, flattened.
    Parquet (for Power BI; needs --out) has the CSV's columns, typed. DCAT is a DCAT v3 JSON-LD
    information asset register: a dataset per library, OneDrive, mailbox or top folder, a
    distribution per document (retention and personal-data counts in docintel's terms).

    contracts-register is the Local Government Transparency Code 2015 contract register: one row per
    contract at or above contracts.register_threshold (or of unknown value), with the Code's fields,
    "to_fill" naming the columns a person must fill and "to_check" the ones read with low confidence.
    CSV, or Parquet when --out ends in .parquet. People's names are never written: a supplier who is an
    individual is listed in "to_fill".

    \b
    Examples:
      docintel export --format csv --out catalogue.csv
      docintel export --format contracts-register --out contracts-register.csv
      docintel export --format contracts-register --out contracts-register.parquet
    """
    from classifiers.config import load_classifier_config
    from docintel.catalogue.store import open_catalogue
    from docintel.export import export_csv, export_jsonl, export_parquet

    settings = _settings(ctx)
    if fmt == "contracts-register":
        _export_register(settings, _catalogue_url(settings, catalogue_url), out)
        return
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet writes a binary file: give it --out FILE")
    store = open_catalogue(_catalogue_url(settings, catalogue_url))
    if fmt == "parquet" and out is not None:
        try:
            click.echo(f"Exported {export_parquet(store, out)} documents to {out}", err=True)
        finally:
            store.close()
        return
    signal_settings = load_classifier_config(settings=settings).signals if fmt == "jsonl" else None

    def write(handle: TextIO) -> int:
        if signal_settings is not None:
            return export_jsonl(store, handle, signal_settings=signal_settings)
        if fmt == "dcat":
            from docintel.dcat import export_dcat
            from docintel.retention import load_schedule

            schedule = load_schedule(settings.config_path(settings.retention.schedule_file))
            return export_dcat(store, handle, publisher=schedule.council or "the council")
        return export_csv(store, handle)

    if out is None:
        count = write(sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = write(handle)
        click.echo(f"Exported {count} documents to {out}", err=True)
    store.close()


def _export_register(settings: Settings, catalogue_url: str, out: Path | None) -> None:
    from docintel.catalogue.store import open_catalogue
    from docintel.contracts.register import register_rows, write_register_csv, write_register_parquet

    with open_catalogue(catalogue_url) as store:
        rows = register_rows(store, threshold=settings.contracts.register_threshold)
        if out is not None and out.suffix.lower() == ".parquet":
            count = write_register_parquet(rows, out)
        elif out is None:
            count = write_register_csv(rows, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                count = write_register_csv(rows, handle)
    click.echo(f"Exported {count} contracts to the register" + (f" in {out}" if out else ""), err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to write the redacted copy."
)
@click.pass_context
@handle_errors
def redact(ctx: click.Context, file: Path, out: Path) -> None:
    """Write a copy of FILE with its personal data removed.

    A PDF stays a PDF: every page is re-rendered as an image with the values blacked out, so no text
    layer survives. Every other format is written as text with each value replaced by its type,
    e.g. [UK_NHS]. Check the copy before you release it: detection is good, not perfect.

    \b
    Examples:
      docintel redact case-note.pdf --out case-note-redacted.pdf
      docintel redact complaint.msg --out complaint-redacted.txt
    """
    from docintel.enrich.analyzer import get_analyzer
    from docintel.redact import redact_file

    settings = _settings(ctx)
    if out.resolve() == file.resolve():
        raise ConfigError("--out must not be the input file")
    result = redact_file(file, out, get_analyzer(settings), settings)
    removed = ", ".join(f"{kind} {count}" for kind, count in sorted(result.redacted.items())) or "nothing found"
    click.echo(f"Wrote {result.out_path} ({result.method}, {result.pages} pages); removed: {removed}")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def samples(out_dir: Path) -> None:
    """Write the bundled sample documents (synthetic, no real personal data) into OUT_DIR.

    One of each format docintel reads, plus a corrupt PDF, a password-protected PDF, an empty file
    and a wrongly-named file, to show how failures are reported.
    """
    from docintel.samples import generate_samples

    paths = generate_samples(out_dir)
    click.echo(f"Wrote {len(paths)} sample documents to {out_dir}")


@main.command()
@catalogue_option
@click.pass_context
@handle_errors
def migrate(ctx: click.Context, catalogue_url: str | None) -> None:
    """Create the catalogue, or upgrade its schema to this docintel's revision, and exit.

    Run it once before serve and the workers start when catalogue.auto_upgrade is off (as in
    compose.yaml); they then only check the revision. Safe to run again: an up-to-date catalogue is left as is.

    \b
    Examples:
      docintel migrate --catalogue postgresql://docintel@db/docintel
      docker-compose run --rm migrate
    """
    from docintel.catalogue.store import open_catalogue

    url = _catalogue_url(_settings(ctx), catalogue_url)
    with open_catalogue(url, upgrade=True) as store:
        click.echo(f"catalogue {store.url} is at schema revision {store.schema_revision()}")


@main.group()
def key() -> None:
    """Manage the key that hashes personal data in the catalogue."""


@key.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def key_create(path: Path) -> None:
    """Create a new random key file at PATH (mode 0600), unless one exists.

    Point DOCINTEL_PII_KEY_FILE at it. Keep it safe and backed up: without the same key, subject
    access searches cannot match documents catalogued before.
    """
    from docintel.enrich.hashing import generate_key_file

    existed = path.exists()
    generate_key_file(path)
    click.echo(
        f"{'Kept existing' if existed else 'Created'} key file {path}; export {defaults.ENV_PII_KEY_FILE}={path}"
    )


if __name__ == "__main__":
    main()
