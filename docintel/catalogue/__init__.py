"""The catalogue: documents, results and runs in SQLite or PostgreSQL, with Alembic migrations."""

from docintel.catalogue.store import CatalogueStore, open_catalogue

__all__ = ["CatalogueStore", "open_catalogue"]
