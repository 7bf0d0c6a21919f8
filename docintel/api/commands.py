"""Command-line commands of the invoice API, registered by ``docintel.cli``.

docintel serve [--host H] [--port P]        the HTTP API (uvicorn)
docintel api-key create NAME [--rate-limit N] [--scope S]... [--drive DRIVE_ID]... [--site NAME]...
docintel api-key list [--all] | revoke ID_OR_NAME | drives KEY_ID [--drive DRIVE_ID]... [--site NAME]...
docintel connector [--base-url URL] [--out FILE]   the Power Automate custom connector (OpenAPI 2.0)
docintel profiles list | approve KEY_ID NAME [--by WHO]   supplier profiles: shared, per key, broken
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from docintel.cli_errors import handle_errors
from docintel.settings import Settings, command_settings

DEFAULT_HOST = "127.0.0.1"  # loopback unless told otherwise: the council's reverse proxy fronts it
DEFAULT_PORT = 8080


def _settings(ctx: click.Context) -> Settings:
    """The settings the main group loaded, else this process's."""
    return command_settings(ctx.obj)


catalogue_option = click.option("--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL.")


@contextmanager
def _key_store(ctx: click.Context, catalogue_url: str | None) -> Iterator[Any]:
    from docintel.api.keys import ApiKeyStore
    from docintel.catalogue.store import open_catalogue

    store = open_catalogue(catalogue_url or _settings(ctx).catalogue.url)
    try:
        yield ApiKeyStore(store)
    finally:
        store.close()


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option("--metrics-port", type=int, metavar="PORT", help="Serve Prometheus metrics on PORT (default: off).")
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address for the metrics port (0.0.0.0: all)."
)
@catalogue_option
@click.pass_context
@handle_errors
def serve_command(
    ctx: click.Context, *, host: str, port: int, metrics_port: int | None, metrics_host: str, catalogue_url: str | None
) -> None:
    """Serve the invoice API (and the review UI when installed).

    Invoices are processed in-process on a bounded pool, or on the rq `invoices` queue when
    DOCINTEL_REDIS_URL is set (run `docintel worker --queues invoices` beside it). Without Redis, uploads of
    queued jobs wait on disk in DOCINTEL_API__SPOOL_DIR (default ./docintel-spool) so a server restarted after a
    crash resumes them. Limits come from DOCINTEL_API__* variables (e.g. DOCINTEL_API__MAX_UPLOAD_BYTES,
    DOCINTEL_API__RATE_LIMIT_PER_MINUTE, DOCINTEL_API__CALLBACK_ALLOWED_INTERNAL).
    """
    import uvicorn

    from docintel.api.app import create_app
    from docintel.extract.ocr import check_ocr_settings

    settings = _settings(ctx)
    check_ocr_settings(settings.ocr)  # scanned invoices need it; fail now, not on each scan
    if catalogue_url:
        catalogue = settings.catalogue.model_copy(update={"url": catalogue_url})
        settings = settings.model_copy(update={"catalogue": catalogue})
    _check_pii_key(settings)
    app = create_app(settings)
    if metrics_port is not None:
        _serve_metrics(settings, metrics_host, metrics_port)
    # One process: the in-process queue and rate limiter live in it (scale out with Redis and rq workers).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)


def _serve_metrics(settings: Settings, host: str, port: int) -> None:
    """Prometheus metrics from the catalogue (and the queues when Redis is configured) on their own port."""
    from docintel.api.settings import ENV_REDIS_URL
    from docintel.catalogue.store import open_catalogue
    from workers.metrics import DocintelCollector, start_metrics_server
    from workers.queues import redis_connection

    connection = redis_connection() if os.environ.get(ENV_REDIS_URL) else None
    url = settings.catalogue.url
    start_metrics_server(DocintelCollector(lambda: open_catalogue(url), connection), host, port)


def _check_pii_key(settings: Settings) -> None:
    """Refuse to serve subject access searches with a PII key other than the catalogue's (when one is set)."""
    from docintel import defaults
    from docintel.catalogue.store import open_catalogue
    from docintel.enrich.hashing import bind_pii_key, load_pii_key

    if not (os.environ.get(defaults.ENV_PII_KEY) or os.environ.get(defaults.ENV_PII_KEY_FILE)):
        return  # invoices only: subject access searches answer that no key is set
    with open_catalogue(settings.catalogue.url) as store:
        bind_pii_key(store, load_pii_key())


@click.group("api-key")
def api_key_group() -> None:
    """Create, list and revoke API keys for RPA flows and other clients; set their SharePoint drives."""


_SCOPE_NAMES = ("invoices", "subject-access", "contracts")  # docintel.api.keys.Scope, without importing the API

drive_option = click.option(
    "--drive",
    "drives",
    multiple=True,
    metavar="DRIVE_ID",
    help="A SharePoint/OneDrive drive id the key may name in invoice references (repeat; default: none).",
)
site_option = click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="NAME",
    help="Allow every document library of this SharePoint site (name or display name; repeat). Resolved to "
    "drive ids through Graph now: a library added later needs `api-key drives` again.",
)


def _allowed_drives(ctx: click.Context, drives: tuple[str, ...], sites: tuple[str, ...]) -> list[str]:
    """The drive ids given, plus those of the sites named (looked up through Graph)."""
    if not sites:
        return list(drives)
    from docintel.api.sharepoint import site_drive_ids

    return [*drives, *site_drive_ids(_settings(ctx), sites)]


@api_key_group.command("create")
@click.argument("name")
@click.option("--rate-limit", type=int, metavar="N", help="Requests per minute for this key (default: the service's).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(_SCOPE_NAMES),
    help="What the key may call (repeat for several; default: invoices only). subject-access searches the "
    "whole catalogue for a person: grant it to the information-governance team's key alone.",
)
@drive_option
@site_option
@catalogue_option
@click.pass_context
@handle_errors
def create_key(
    ctx: click.Context,
    *,
    name: str,
    rate_limit: int | None,
    scopes: tuple[str, ...],
    drives: tuple[str, ...],
    sites: tuple[str, ...],
    catalogue_url: str | None,
) -> None:
    """Issue a key for client NAME; the key is printed once and cannot be shown again."""
    allowed = _allowed_drives(ctx, drives, sites)
    with _key_store(ctx, catalogue_url) as keys:
        issued = keys.create(name, rate_limit, scopes=scopes or ("invoices",), drives=allowed)
    granted = ", ".join(sorted(issued.client.scopes))
    click.echo(f"API key for {issued.client.name} (id {issued.client.key_id}, scopes: {granted}); store it now:")
    click.echo(f"  X-API-Key: {issued.key}")
    click.echo("Callback signing secret (verifies X-Docintel-Signature on result callbacks):")
    click.echo(f"  {issued.client.signing_secret}")


@api_key_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@catalogue_option
@click.pass_context
@handle_errors
def list_keys(ctx: click.Context, include_revoked: bool, catalogue_url: str | None) -> None:
    """List keys: id, client name, rate limit, created, revoked (never the keys themselves)."""
    with _key_store(ctx, catalogue_url) as keys:
        listed = keys.list(include_revoked=include_revoked)
    if not listed:
        click.echo("no API keys")
        return
    for info in listed:
        limit = f"{info.rate_limit_per_minute}/min" if info.rate_limit_per_minute else "default"
        revoked = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        scopes = ",".join(sorted(info.scopes))
        click.echo(
            f"{info.key_id}  {info.name:<30}  {limit:<10}  {scopes:<24}  {len(info.drives)} drive(s)  "
            f"created {info.created_at:%Y-%m-%d %H:%M}  {revoked}"
        )


@api_key_group.command("drives")
@click.argument("key_id")
@drive_option
@site_option
@catalogue_option
@click.pass_context
@handle_errors
def key_drives(
    ctx: click.Context, key_id: str, drives: tuple[str, ...], sites: tuple[str, ...], catalogue_url: str | None
) -> None:
    """Set the SharePoint drives key KEY_ID may name (replaces the list; none given: none), then print them."""
    allowed = set(_allowed_drives(ctx, drives, sites))
    with _key_store(ctx, catalogue_url) as keys:
        keys.set_drives(key_id, allowed)
    click.echo(f"key {key_id} may name {len(allowed)} drive(s)")
    for drive in sorted(allowed):
        click.echo(f"  {drive}")


@api_key_group.command("revoke")
@click.argument("id_or_name")
@catalogue_option
@click.pass_context
@handle_errors
def revoke_key(ctx: click.Context, id_or_name: str, catalogue_url: str | None) -> None:
    """Revoke the key with this id, or every active key of the client with this name."""
    with _key_store(ctx, catalogue_url) as keys:
        count = keys.revoke(id_or_name)
    if count == 0:
        click.secho(f"error: no active API key with id or name {id_or_name!r}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"revoked {count} key(s)")


@click.command("connector")
@click.option(
    "--base-url",
    default=f"https://localhost:{DEFAULT_PORT}",
    show_default=True,
    help="Where Power Automate reaches the API (the reverse proxy's public https address).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docintel-invoices.swagger.json"),
    show_default=True,
    help="File to write; '-' for stdout.",
)
@click.pass_context
@handle_errors
def connector_command(ctx: click.Context, base_url: str, out: Path) -> None:
    """Write the Power Automate custom connector definition (OpenAPI 2.0) for the invoice API."""
    from docintel.api.app import create_app
    from docintel.api.connector import build_connector
    from docintel.api.settings import ApiSettings
    from docintel.catalogue.store import open_catalogue

    # The document depends on the routes only: build the app over a throwaway in-memory catalogue.
    store = open_catalogue("sqlite:///:memory:")
    try:
        app = create_app(_settings(ctx), store=store, api_settings=ApiSettings(pool="thread", workers=1))
        try:
            document = build_connector(app, base_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--base-url") from None
    finally:
        store.close()
    text = json.dumps(document, indent=2) + "\n"
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({len(document['paths'])} paths); import it in Power Automate: Custom connectors")


# The audit action of an approval (the review pages' audit list filters on it).
PROFILE_APPROVE_ACTION = "profile_approve"


@click.group("profiles")
def profiles_group() -> None:
    """Supplier profiles: the shared set, each API key's own (from its corrections), and broken files."""


@profiles_group.command("list")
@click.pass_context
@handle_errors
def list_profiles(ctx: click.Context) -> None:
    """List shared profiles, each key's own profiles awaiting approval, and files that do not load."""
    from docintel.invoices.extract import PROFILE_FOLDER
    from docintel.invoices.profiles import KEY_PROFILES_FOLDER, read_profiles

    shared_dir = _settings(ctx).config_path(PROFILE_FOLDER)
    folders = [("shared", shared_dir)]
    keys_dir = shared_dir / KEY_PROFILES_FOLDER
    if keys_dir.is_dir():
        folders += [(f"key {folder.name}", folder) for folder in sorted(keys_dir.iterdir()) if folder.is_dir()]
    broken = 0
    for label, folder in folders:
        profiles, problems = read_profiles(folder)
        for profile in profiles:
            keywords = ", ".join(profile.match)
            click.echo(f"{label:<18}  {profile.name:<40}  {len(profile.corrections):>3} correction(s)  [{keywords}]")
        for problem in problems:
            click.secho(f"{label:<18}  BROKEN (skipped): {problem}", fg="red")
        broken += len(problems)
    if broken:
        sys.exit(1)


@profiles_group.command("approve")
@click.argument("key_id")
@click.argument("name")
@click.option("--by", default=None, help="Who approves, for the audit trail (default: the operating-system account).")
@catalogue_option
@click.pass_context
@handle_errors
def approve_profile_command(
    ctx: click.Context, key_id: str, name: str, by: str | None, catalogue_url: str | None
) -> None:
    """Move profile NAME made by key KEY_ID's corrections into the shared set, used for every key's invoices.

    A shared profile of the same name (the one the key's corrections started from) is replaced.
    """
    import getpass

    from docintel.catalogue.store import open_catalogue
    from docintel.invoices.extract import PROFILE_FOLDER
    from docintel.invoices.profiles import approve_profile

    settings = _settings(ctx)
    approver = by or f"cli:{getpass.getuser()}"
    with open_catalogue(catalogue_url or settings.catalogue.url) as store:
        target = approve_profile(settings.config_path(PROFILE_FOLDER), key_id, name)
        store.record_audit(approver, PROFILE_APPROVE_ACTION, target=f"{key_id}/{name}", to_value="shared")
    click.echo(f"approved {name} (from key {key_id}) into the shared profiles: {target.name}")
