"""``docintel user``: manage the review pages' local accounts (create, list, password, role, disable).

Every change is written to the audit trail under the operating-system user who ran the command.
Passwords are prompted for (never taken on the command line, where they would land in shell history); when
standard input is not a terminal (a script, a provisioning tool) its first line is the password.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from docintel.catalogue.store import open_catalogue
from docintel.cli_errors import handle_errors
from docintel.review.auth import Role
from docintel.review.store import ReviewStore
from docintel.settings import get_settings

_ROLES = click.Choice([role.value for role in Role])


@contextmanager
def _review_store(catalogue_url: str | None) -> Iterator[ReviewStore]:
    url = catalogue_url or get_settings().catalogue.url
    with open_catalogue(url) as catalogue:
        yield ReviewStore(catalogue)


def _operator() -> str:
    """Who ran the command, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(prompt: str) -> str:
    """The new password: asked twice on a terminal, else the first line of standard input (no echo either way)."""
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("no password: standard input is not a terminal and its first line is empty")
    return password


_catalogue_option = click.option(
    "--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL (default: from settings)."
)


@click.group("user")
def user_command() -> None:
    """Manage local accounts for the review pages."""


@user_command.command("create")
@click.argument("name")
@click.option("--role", type=_ROLES, default=Role.REVIEWER.value, show_default=True, help="What the account may do.")
@click.option("--no-password", is_flag=True, help="An account that signs in only through the trusted proxy header.")
@_catalogue_option
@handle_errors
def create_user(name: str, role: str, no_password: bool, catalogue_url: str | None) -> None:
    """Create an account; prompts for its password (or reads it from standard input when that is not a terminal).

    \b
    Examples:
      docintel user create j.smith --role reviewer
      printf '%s\\n' "$PASSWORD" | docintel user create rpa.checker --role readonly
    """
    password = None if no_password else _read_password("Password")
    with _review_store(catalogue_url) as store:
        account = store.create_user(name, password, Role(role), by=_operator())
    click.echo(f"created {account.name} ({account.role.value})")


@user_command.command("list")
@_catalogue_option
@handle_errors
def list_users(catalogue_url: str | None) -> None:
    """List accounts with their roles."""
    with _review_store(catalogue_url) as store:
        accounts = store.list_users()
    for account in accounts:
        flags = [] if account.has_password else ["proxy only"]
        if account.disabled:
            flags.append("disabled")
        suffix = f"  ({', '.join(flags)})" if flags else ""
        click.echo(f"{account.name}\t{account.role.value}\t{account.created_at:%Y-%m-%d}{suffix}")


@user_command.command("set-password")
@click.argument("name")
@_catalogue_option
@handle_errors
def set_password(name: str, catalogue_url: str | None) -> None:
    """Replace an account's password; prompts for it (or reads it from standard input when that is not a terminal)."""
    password = _read_password("New password")
    with _review_store(catalogue_url) as store:
        store.set_password(name, password, by=_operator())
    click.echo(f"password changed for {name}")


@user_command.command("set-role")
@click.argument("name")
@click.argument("role", type=_ROLES)
@_catalogue_option
@handle_errors
def set_role(name: str, role: str, catalogue_url: str | None) -> None:
    """Change an account's role."""
    with _review_store(catalogue_url) as store:
        store.set_role(name, Role(role), by=_operator())
    click.echo(f"{name} is now {role}")


@user_command.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Re-enable the account instead.")
@_catalogue_option
@handle_errors
def disable_user(name: str, enable: bool, catalogue_url: str | None) -> None:
    """Stop an account signing in (its history stays in the audit trail)."""
    with _review_store(catalogue_url) as store:
        store.set_disabled(name, not enable, by=_operator())
    click.echo(f"{name} {'enabled' if enable else 'disabled'}")
