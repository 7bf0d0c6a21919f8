"""``docintel sar``: run a subject access request as a case, from request to disclosure bundle.

    docintel sar open --name "Olivia Smith" --dob 1984-03-03 --postcode "LS1 4AB" --received 2026-01-31 \
        --handler "A. Clerk"
    docintel sar search SAR-2026-0001
    docintel sar show SAR-2026-0001
    docintel sar confirm SAR-2026-0001 DOC_ID ...
    docintel sar reject SAR-2026-0001 DOC_ID --reason "another person"
    docintel sar exempt SAR-2026-0001 DOC_ID --exemption legal_privilege --page 2 --note "advice from counsel"
    docintel sar bundle SAR-2026-0001 --out DIR
    docintel sar close SAR-2026-0001 --sent-on 2026-02-20 --how "secure e-mail"

Who runs these is named in the case's audit trail by the operating-system account (``cli:<user>``); anyone who can
run them holds the catalogue's URL and the PII key, so the command line is for the information governance team's
own accounts. In the review pages only the ``sar`` role (and admin) sees cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import click

from docintel.catalogue.sar_cases import CONFIRMED, PENDING, REJECTED, SarCaseStore
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.cli_errors import handle_errors
from docintel.enrich.hashing import load_pii_key
from docintel.sar.bundle import EXEMPTIONS, build_bundle
from docintel.sar.cases import extend_case, open_case, search_case, view
from docintel.settings import command_settings
from docintel.subject_access import cli_searcher

_catalogue_option = click.option(
    "--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL (default: from settings)."
)


def _store(ctx: click.Context, catalogue_url: str | None) -> CatalogueStore:
    return open_catalogue(catalogue_url or command_settings(ctx.obj).catalogue.url)


def _date(value: str | None, what: str) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{what} must be YYYY-MM-DD") from exc


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


@click.group("sar")
def sar_group() -> None:
    """Subject access requests as cases: open, search, review, exempt, bundle, close (all audited)."""


@sar_group.command("open")
@click.option("--name", "names", multiple=True, help='The requester\'s name; repeat for former names ("Olivia Smith").')
@click.option("--dob", "dates_of_birth", multiple=True, metavar="DATE", help="Date of birth, YYYY-MM-DD.")
@click.option("--address", "addresses", multiple=True, help='First line of an address ("12 Acacia Avenue"); repeat.')
@click.option("--postcode", "postcodes", multiple=True, help="Postcode; repeat for former addresses.")
@click.option("--nhs-number", "nhs_numbers", multiple=True, help="NHS number, any spacing.")
@click.option("--nino", "ninos", multiple=True, help="National Insurance number.")
@click.option("--email", "emails", multiple=True, help="E-mail address; repeat.")
@click.option("--phone", "phones", multiple=True, help="Phone number; repeat.")
@click.option("--account", "accounts", multiple=True, help="Bank or council account number; repeat.")
@click.option("--received", metavar="DATE", help="Date the request was received, YYYY-MM-DD (default: today).")
@click.option("--handler", required=True, help="Who handles the case (shown on the case and the cover letter).")
@click.option("--search/--no-search", default=True, show_default=True, help="Search the catalogue straight away.")
@_catalogue_option
@click.pass_context
@handle_errors
def open_command(
    ctx: click.Context,
    *,
    names: tuple[str, ...],
    dates_of_birth: tuple[str, ...],
    addresses: tuple[str, ...],
    postcodes: tuple[str, ...],
    nhs_numbers: tuple[str, ...],
    ninos: tuple[str, ...],
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    accounts: tuple[str, ...],
    received: str | None,
    handler: str,
    search: bool,
    catalogue_url: str | None,
) -> None:
    """Open a case: the requester's identifiers are stored only as keyed hashes; prints the case id and deadline."""
    identifiers = {
        "name": names,
        "date_of_birth": dates_of_birth,
        "address": addresses,
        "postcode": postcodes,
        "nhs_number": nhs_numbers,
        "nino": ninos,
        "email": emails,
        "phone": phones,
        "account_number": accounts,
    }
    with _store(ctx, catalogue_url) as store:
        case_id = open_case(
            store,
            load_pii_key(),
            {k: v for k, v in identifiers.items() if v},
            received_on=_date(received, "--received"),
            handler=handler,
            user=cli_searcher(),
        )
        case = view(SarCaseStore(store).get(case_id))
        click.echo(f"{case_id} opened: due {case.deadline.isoformat()} ({case.clock.describe()})")
        if search:
            found = search_case(store, case_id, cli_searcher())
            click.echo(_found_line(found_ties(found)))


def found_ties(found: list[Any]) -> dict[str, int]:
    """Counts of found documents by tie."""
    counts = {"strong": 0, "weak": 0, "conflict": 0}
    for tie in found:
        counts[tie.tie] += 1
    return counts


def _found_line(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return (
        f"{total} document(s) found: {counts['strong']} strong, {counts['weak']} weak (name or one detail only), "
        f"{counts['conflict']} probably another person with the same name"
    )


@sar_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed cases too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_catalogue_option
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, *, show_all: bool, as_json: bool, catalogue_url: str | None) -> None:
    """Open cases (all with --all), soonest deadline first, counting down."""
    with _store(ctx, catalogue_url) as store:
        cases = SarCaseStore(store)
        rows = cases.list_cases(None if show_all else "open")
        for row in rows:
            cases.audit(row["id"], cli_searcher(), "sar_view", reason="list")
    if as_json:
        click.echo(
            json.dumps(
                [{**row, "countdown": view(row).clock.describe()} for row in rows], default=_json_default, indent=1
            )
        )
        return
    if not rows:
        click.echo("No cases.")
    for row in rows:
        case = view(row)
        click.echo(
            f"{row['id']}  {row['label']:<8} {row['status']:<6} received {row['received_on']}  due "
            f"{case.deadline} ({case.clock.describe() if row['status'] == 'open' else 'sent ' + str(row['sent_on'])})"
            f"  handler {row['handler']}  found {row['found'] or 0}, confirmed {row['confirmed'] or 0}, "
            f"pending {row['pending'] or 0}"
        )


@sar_group.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_catalogue_option
@click.pass_context
@handle_errors
def show_command(ctx: click.Context, *, case_id: str, as_json: bool, catalogue_url: str | None) -> None:
    """A case: deadline countdown, found documents with why, exemptions and the audit trail."""
    with _store(ctx, catalogue_url) as store:
        cases = SarCaseStore(store)
        row = cases.get(case_id)
        cases.audit(case_id, cli_searcher(), "sar_view")
        documents, exemptions, trail = cases.documents(case_id), cases.exemptions(case_id), cases.audit_trail(case_id)
        kinds = sorted({identifier["kind"] for identifier in cases.identifiers(case_id)})
    case = view(row)
    if as_json:
        data = {
            "case": row,
            "countdown": case.clock.describe(),
            "deadline": case.deadline,
            "identifier_kinds": kinds,
            "documents": documents,
            "exemptions": exemptions,
            "audit": trail,
        }
        click.echo(json.dumps(data, default=_json_default, indent=1))
        return
    click.echo(
        f"{row['id']}  requester {row['label']}  ({', '.join(kinds)})  handler {row['handler']}  {row['status']}"
    )
    click.echo(
        f"received {row['received_on']}, due {row['due_on']}"
        + (f", extended to {row['extended_to']} ({row['extension_reason']})" if row["extended_to"] else "")
        + f": {case.clock.describe()}"
    )
    if row["status"] == "closed":
        click.echo(f"closed: sent {row['sent_on']} {json.dumps(row['sent'])}")
    click.echo(f"\n{len(documents)} document(s):")
    for doc in documents:
        location = f"{doc['path']}/{doc['name']}" if doc["path"] else str(doc["name"])
        click.echo(
            f"  [{doc['decision']:<9}] {doc['tie']:<8} {doc['score']:.2f}  {doc['document_id']}  "
            f"{doc['source']}: {location}  ({'; '.join(doc['reasons'])})"
        )
    if exemptions:
        click.echo("\nexemptions:")
        for exemption in exemptions:
            where = "whole document" if exemption["page"] is None else f"page {exemption['page']}"
            click.echo(f"  {exemption['document_id']} {where}: {exemption['exemption']} ({exemption['note']})")
    click.echo("\naudit trail:")
    for entry in trail:
        click.echo(
            f"  {entry['at']:%Y-%m-%d %H:%M} {entry['user_name']} {entry['action']} "
            f"{entry['document_id'] or ''} {entry['to_value'] or ''} {entry['reason'] or ''}".rstrip()
        )


@sar_group.command("search")
@click.argument("case_id")
@_catalogue_option
@click.pass_context
@handle_errors
def search_command(ctx: click.Context, *, case_id: str, catalogue_url: str | None) -> None:
    """Search every catalogued source again for the case's requester (decisions already made are kept)."""
    with _store(ctx, catalogue_url) as store:
        found = search_case(store, case_id, cli_searcher())
    click.echo(_found_line(found_ties(found)))
    for tie in found:
        click.echo(f"  {tie.tie:<8} {tie.score:.2f}  {tie.document_id}  ({'; '.join(tie.reasons())})")


def _decide(
    ctx: click.Context,
    *,
    case_id: str,
    document_ids: tuple[str, ...],
    decision: str,
    reason: str,
    catalogue_url: str | None,
) -> None:
    with _store(ctx, catalogue_url) as store:
        cases = SarCaseStore(store)
        for document_id in document_ids:
            cases.decide(case_id, document_id, decision, cli_searcher(), reason)
    click.echo(f"{len(document_ids)} document(s) {decision}")


@sar_group.command("confirm")
@click.argument("case_id")
@click.argument("document_ids", nargs=-1, required=True)
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@_catalogue_option
@click.pass_context
@handle_errors
def confirm_command(
    ctx: click.Context, *, case_id: str, document_ids: tuple[str, ...], reason: str, catalogue_url: str | None
) -> None:
    """Confirm documents as the requester's: they go into the bundle."""
    _decide(
        ctx, case_id=case_id, document_ids=document_ids, decision=CONFIRMED, reason=reason, catalogue_url=catalogue_url
    )


@sar_group.command("reject")
@click.argument("case_id")
@click.argument("document_ids", nargs=-1, required=True)
@click.option("--reason", default="", help='Why ("another person with the same name").')
@_catalogue_option
@click.pass_context
@handle_errors
def reject_command(
    ctx: click.Context, *, case_id: str, document_ids: tuple[str, ...], reason: str, catalogue_url: str | None
) -> None:
    """Reject documents: not about the requester; they stay out of the bundle."""
    _decide(
        ctx, case_id=case_id, document_ids=document_ids, decision=REJECTED, reason=reason, catalogue_url=catalogue_url
    )


@sar_group.command("exempt")
@click.argument("case_id")
@click.argument("document_id")
@click.option("--exemption", required=True, type=click.Choice(sorted(EXEMPTIONS)), help="The exemption applied.")
@click.option("--page", type=click.IntRange(min=1), help="The page withheld (default: the whole document).")
@click.option("--note", default="", help="The handler's note (kept in the case and its audit trail).")
@_catalogue_option
@click.pass_context
@handle_errors
def exempt_command(
    ctx: click.Context,
    *,
    case_id: str,
    document_id: str,
    exemption: str,
    page: int | None,
    note: str,
    catalogue_url: str | None,
) -> None:
    """Withhold a page, or a whole document, under an exemption; the schedule of redactions names it."""
    with _store(ctx, catalogue_url) as store:
        SarCaseStore(store).add_exemption(case_id, document_id, page, exemption, note=note, user=cli_searcher())
    click.echo(f"{document_id}: {'whole document' if page is None else f'page {page}'} withheld ({exemption})")


@sar_group.command("extend")
@click.argument("case_id")
@click.option("--reason", required=True, help="Why the request is complex or numerous (the requester is told).")
@_catalogue_option
@click.pass_context
@handle_errors
def extend_command(ctx: click.Context, *, case_id: str, reason: str, catalogue_url: str | None) -> None:
    """Extend the deadline by two further months (three calendar months from receipt)."""
    with _store(ctx, catalogue_url) as store:
        extended = extend_case(store, case_id, reason, cli_searcher())
    click.echo(f"{case_id} extended to {extended.isoformat()}")


@sar_group.command("bundle")
@click.argument("case_id")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for <case>-bundle.pdf and <case>-bundle.zip.",
)
@click.option("--addressee", help="Name on the cover letter (used for the letter only, never stored).")
@click.option(
    "--letter",
    "letter_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Cover letter template (str.format fields: case_id, date, addressee, received_on, documents, pages, handler).",
)
@_catalogue_option
@click.pass_context
@handle_errors
def bundle_command(
    ctx: click.Context,
    *,
    case_id: str,
    out_dir: Path,
    addressee: str | None,
    letter_file: Path | None,
    catalogue_url: str | None,
) -> None:
    """Write the disclosure bundle: confirmed documents re-read and redacted, with index and redaction schedule."""
    from docintel.enrich.analyzer import get_analyzer

    settings = command_settings(ctx.obj)
    with _store(ctx, catalogue_url) as store:
        result = build_bundle(
            store,
            case_id,
            out_dir,
            analyzer=get_analyzer(settings),
            settings=settings,
            key=load_pii_key(),
            user=cli_searcher(),
            addressee=addressee,
            letter_template=letter_file.read_text(encoding="utf-8") if letter_file else None,
        )
    click.echo(f"{result.pdf_path} ({result.pages} pages, {len(result.included)} documents, sha256 {result.sha256})")
    click.echo(str(result.zip_path))
    for doc in result.documents:
        if doc.not_included:
            click.secho(f"  not included: {doc.number}. {doc.document_id}: {doc.not_included}", fg="yellow")


@sar_group.command("close")
@click.argument("case_id")
@click.option("--sent-on", metavar="DATE", help="Date the response was sent, YYYY-MM-DD (default: today).")
@click.option("--how", required=True, help='How it was sent ("secure e-mail", "recorded post").')
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The bundle PDF sent: its SHA-256 is recorded.",
)
@_catalogue_option
@click.pass_context
@handle_errors
def close_command(
    ctx: click.Context,
    *,
    case_id: str,
    sent_on: str | None,
    how: str,
    bundle_file: Path | None,
    catalogue_url: str | None,
) -> None:
    """Close the case, recording what was sent, how and when."""
    with _store(ctx, catalogue_url) as store:
        cases = SarCaseStore(store)
        confirmed = cases.documents(case_id, CONFIRMED)
        pending = cases.documents(case_id, PENDING)
        sent: dict[str, Any] = {
            "how": how,
            "documents": [doc["document_id"] for doc in confirmed],
            "pending_when_closed": len(pending),
        }
        if bundle_file is not None:
            sent["bundle_sha256"] = hashlib.sha256(bundle_file.read_bytes()).hexdigest()
        sent_date = _date(sent_on, "--sent-on")
        cases.close(case_id, sent_date, sent, cli_searcher())
        late = view(cases.get(case_id)).clock
    click.echo(
        f"{case_id} closed: sent {sent_date.isoformat()} by {how}" + (f" ({late.describe()})" if late.overdue else "")
    )
