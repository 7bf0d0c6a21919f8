"""Command-line commands of the invoice API, registered by ``docintel.cli``.

docintel serve [--host H] [--port P]        the HTTP API (uvicorn)
docintel api-key create NAME [--rate-limit N] | list [--all] | revoke ID_OR_NAME
docintel connector [--base-url URL] [--out FILE]   the Power Automate custom connector (OpenAPI 2.0)
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
    DOCINTEL_REDIS_URL is set (run `docintel worker --queues invoices` beside it). Limits come from
    DOCINTEL_API__* variables (e.g. DOCINTEL_API__MAX_UPLOAD_BYTES, DOCINTEL_API__RATE_LIMIT_PER_MINUTE).
    """
    import uvicorn

    from docintel.api.app import create_app
    from docintel.extract.ocr import check_ocr_settings

    settings = _settings(ctx)
    check_ocr_settings(settings.ocr)  # scanned invoices need it; fail now, not on each scan
    if catalogue_url:
        catalogue = settings.catalogue.model_copy(update={"url": catalogue_url})
        settings = settings.model_copy(update={"catalogue": catalogue})
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


@click.group("api-key")
def api_key_group() -> None:
    """Create, list and revoke API keys for RPA flows and other clients."""


@api_key_group.command("create")
@click.argument("name")
@click.option("--rate-limit", type=int, metavar="N", help="Requests per minute for this key (default: the service's).")
@catalogue_option
@click.pass_context
@handle_errors
def create_key(ctx: click.Context, name: str, rate_limit: int | None, catalogue_url: str | None) -> None:
    """Issue a key for client NAME; the key is printed once and cannot be shown again."""
    with _key_store(ctx, catalogue_url) as keys:
        issued = keys.create(name, rate_limit)
    click.echo(f"API key for {issued.client.name} (id {issued.client.key_id}); store it now, it is not kept:")
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
        click.echo(f"{info.key_id}  {info.name:<30}  {limit:<10}  created {info.created_at:%Y-%m-%d %H:%M}  {revoked}")


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
