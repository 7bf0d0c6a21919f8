"""Alembic environment for the docintel catalogue.

docintel runs migrations in code (``CatalogueStore`` hands in an open connection through
``config.attributes["connection"]``). For the alembic command line, the URL comes from ``-x url=...``
or ``$DOCINTEL_CATALOGUE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from docintel.catalogue.store import normalise_url
from docintel.catalogue.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite can only ALTER a table by copying it, which batch mode does for us.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url_from_command_line() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DOCINTEL_CATALOGUE_URL")
    if not url:
        raise SystemExit("give the catalogue URL: alembic -x url=... or DOCINTEL_CATALOGUE_URL")
    return normalise_url(url).render_as_string(hide_password=False)


if context.is_offline_mode():
    context.configure(url=_url_from_command_line(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        engine = create_engine(_url_from_command_line(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
