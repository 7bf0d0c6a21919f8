"""Alembic migrations: the packaged revisions build exactly the schema in tables.py, on both backends."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import docintel.catalogue
from docintel.catalogue import tables
from docintel.catalogue.store import CatalogueStore, alembic_config, open_catalogue
from docintel.catalogue.tables import metadata
from docintel.errors import CatalogueError

# Every table the code declares, plus Alembic's own; schema_drift() checks the columns match too.
EXPECTED_TABLES = {"alembic_version", *tables.metadata.tables}
CORE_TABLES = {"runs", "documents", "pages", "entities", "pii_findings", "stage_runs"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'catalogue.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def schema_drift(store: CatalogueStore) -> list[object]:
    """Differences between the migrated database and tables.py, as Alembic autogenerate sees them."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_head_revision_matches_the_table_definitions(empty_url: str) -> None:
    with open_catalogue(empty_url) as store:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert store.schema_revision() == head
        assert set(inspect(store.engine).get_table_names()) == EXPECTED_TABLES
        assert schema_drift(store) == []
        indexes = {index["name"] for index in inspect(store.engine).get_indexes("documents")}
        assert {
            "ix_documents_sha256",
            "ix_documents_record_class",
            "ix_documents_status",
            "ix_documents_path",
        } <= indexes
        assert "ix_pii_findings_entity_type_value_hash" in {
            index["name"] for index in inspect(store.engine).get_indexes("pii_findings")
        }


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    with open_catalogue(empty_url) as store:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.upgrade_schema()
        assert schema_drift(store) == []


def test_reopening_is_a_no_op_and_keeps_data(empty_url: str) -> None:
    with open_catalogue(empty_url) as store:
        run_id = store.start_run("local")
    with open_catalogue(empty_url) as again:
        assert again.get_run(run_id) is not None


def test_works_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_catalogue("sqlite:///relative/here.db") as store:
        assert store.schema_revision() is not None
    assert (tmp_path / "relative" / "here.db").is_file()


def test_packaged_alembic_ini_finds_the_migrations() -> None:
    ini = Path(docintel.catalogue.__file__).parent / "migrations" / "alembic.ini"
    assert ini.is_file()
    script = ScriptDirectory.from_config(Config(str(ini)))
    assert script.get_current_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_catalogue_from_a_newer_docintel_is_refused(empty_url: str) -> None:
    with open_catalogue(empty_url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    with pytest.raises(CatalogueError, match="cannot be upgraded"):
        open_catalogue(empty_url)


def test_workers_opening_a_new_catalogue_together(empty_url: str) -> None:
    """Several processes starting at once must not race to create the same tables."""
    errors: list[BaseException] = []
    opened: list[CatalogueStore] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait(timeout=30)
            opened.append(open_catalogue(empty_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        assert len(opened) == 4
        assert schema_drift(opened[0]) == []
    finally:
        for store in opened:
            store.close()


def test_without_auto_upgrade_a_catalogue_behind_is_refused_until_migrated(empty_url: str) -> None:
    # A deployment turns auto_upgrade off and runs `docintel migrate` once: the others only check.
    with pytest.raises(CatalogueError, match=r"revision none, this docintel needs .*docintel migrate"):
        open_catalogue(empty_url, upgrade=False)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with open_catalogue(empty_url, upgrade=True) as store:
        assert store.schema_revision() == head
    with open_catalogue(empty_url, upgrade=False) as store:
        assert store.schema_revision() == head
    with open_catalogue(empty_url, upgrade=True) as store:
        command.downgrade(_config_on(store), "-1")
    with pytest.raises(CatalogueError, match="docintel migrate"):
        open_catalogue(empty_url, upgrade=False)


def _config_on(store: CatalogueStore) -> Config:
    config = alembic_config()
    config.attributes["connection"] = store.engine.connect()
    return config


def test_migrate_command_upgrades_once_and_the_setting_turns_upgrades_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from docintel.cli import main
    from docintel.settings import get_settings

    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    monkeypatch.setenv("DOCINTEL_CATALOGUE__AUTO_UPGRADE", "false")
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(main, ["report", "--catalogue", url, "--out", str(tmp_path / "r.html")])
        assert refused.exit_code != 0
        assert "run `docintel migrate` first" in refused.output
        migrated = CliRunner().invoke(main, ["migrate", "--catalogue", url])
        assert migrated.exit_code == 0, migrated.output
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert f"is at schema revision {head}" in migrated.output
        again = CliRunner().invoke(main, ["report", "--catalogue", url, "--out", str(tmp_path / "r.html")])
        assert again.exit_code == 0, again.output
    finally:
        get_settings.cache_clear()


def test_review_queue_revision_takes_the_review_flag_from_older_rows(empty_url: str) -> None:
    """Rows stored before 0011_review_queue get needs_review from the "needs review" their classifier wrote."""
    with open_catalogue(empty_url) as store:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006_document_texts")
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with store.engine.begin() as connection:
            for doc_id, record_class, explanation in (
                ("flagged", "finance.invoice", "needs review (confidence 0.40 < 0.60): model: finance.invoice"),
                ("accepted", "finance.invoice", "rule: title matches /invoices?/"),
                ("unread", None, None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO documents (id, source, locator, name, path, status, first_seen_at, processed_at,"
                        " page_count, text_chars, record_class, class_explanation, deleted, depth)"
                        " VALUES (:id, 'local', :locator, :name, '', 'ok', :seen, :processed,"
                        " 0, 0, :cls, :why, false, 0)"
                    ),
                    {
                        "id": doc_id,
                        "locator": doc_id,
                        "name": doc_id,
                        "seen": now,
                        "processed": now,
                        "cls": record_class,
                        "why": explanation,
                    },
                )
        store.upgrade_schema()
        with store.engine.connect() as connection:
            flags = dict(connection.execute(text("SELECT id, needs_review FROM documents")).all())
        assert {key: (None if value is None else bool(value)) for key, value in flags.items()} == {
            "flagged": True,
            "accepted": False,
            "unread": None,
        }
