"""Re-classifying the catalogue after `docintel train`: classify and retain run again, dates follow, reviews stand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.train import train_command
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.models import Classification, DocumentRecord, DocumentStatus, PiiFinding, Provenance
from docintel.pipeline import Engines, reclassify_catalogued, retain_stage
from docintel.review.auth import Reviewer, Role
from docintel.review.store import Action, ReviewStore
from docintel.settings import RetentionSettings, Settings

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
MODIFIED = dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
REVIEWER = Reviewer("rita", Role.REVIEWER)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogueStore]:
    url = (
        f"sqlite:///{tmp_path / 'c.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    )
    with open_catalogue(url) as opened:
        yield opened


@pytest.fixture
def engines() -> Engines:
    """The rules classifier: re-classification is the same whichever classifier is configured, and this one is fast."""
    settings = Settings(config_dir=CONFIG_DIR, retention=RetentionSettings(classifier="rules"))
    return Engines(settings=settings, pii_key=b"k" * 32)


def stored(
    store: CatalogueStore, engines: Engines, name: str, locator: str, *, pii: list[PiiFinding]
) -> DocumentRecord:
    """A document catalogued as transitory correspondence (as an older model might have), through the retain stage."""
    record = DocumentRecord(
        id=name,
        provenance=Provenance(source="local", locator=locator, name=name, path="Schools", modified_at=MODIFIED),
        status=DocumentStatus.OK,
        file_type="pdf",
        pii=pii,
        classification=Classification(
            record_class="correspondence.transitory", confidence=0.4, explanation="old model", classifier="combined"
        ),
    )
    record = retain_stage(record, engines)
    store.save(record)
    return record


def test_reclassify_dates_a_date_of_birth_class_from_the_kept_birth_year(
    store: CatalogueStore, engines: Engines, tmp_path: Path
) -> None:
    dob = PiiFinding(entity_type="DATE_OF_BIRTH", start=0, end=10, text="14/03/2012", score=0.85)
    stored(store, engines, "Pupil_record_AJ.pdf", str(tmp_path / "gone" / "Pupil_record_AJ.pdf"), pii=[dob])
    stored(store, engines, "Pupil_record_BK.pdf", str(tmp_path / "gone" / "Pupil_record_BK.pdf"), pii=[dob])
    ReviewStore(store).decide(
        ["Pupil_record_BK.pdf"], Action.CHANGE, by=REVIEWER, schedule=engines.schedule, to_class="hr.personnel"
    )
    summary = reclassify_catalogued(store, engines)
    assert (summary.documents, summary.changed, summary.reread, summary.failed) == (1, 1, 0, 0)
    row = store.get("Pupil_record_AJ.pdf")
    assert row is not None
    assert row["record_class"] == "education.pupil_record" and row["classifier"] == "rules"
    assert row["disposal_date"] == dt.date(2037, 12, 31)  # from the birth year kept, with no text or finding
    assert row["birth_year"] == 2012
    reviewed = store.get("Pupil_record_BK.pdf")
    assert reviewed is not None and reviewed["record_class"] == "hr.personnel"  # a reviewer's class stands


def test_reclassify_reads_local_files_again_and_keeps_what_was_found(
    store: CatalogueStore, engines: Engines, tmp_path: Path
) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Invoice\nInvoice number INV-7. VAT £20. Amount due £120. Payment terms 30 days.\n")
    finding = PiiFinding(entity_type="EMAIL_ADDRESS", start=0, end=5, text="a@b.c", score=1.0, value_hash="h")
    stored(store, engines, "note.txt", str(path), pii=[finding])
    summary = reclassify_catalogued(store, engines)
    assert (summary.documents, summary.reread) == (1, 1)
    row = store.get("note.txt")
    assert row is not None and row["record_class"] == "finance.invoice"
    assert row["disposal_date"] == dt.date(2031, 3, 31)
    assert row["pii_counts"] == {"EMAIL_ADDRESS": 1}  # findings stay as stored: only the class is rewritten


def test_train_refuses_reclassify_with_another_head(tmp_path: Path) -> None:
    """Re-classification must use the head the classifier loads, not one written elsewhere."""
    result = CliRunner().invoke(train_command, ["--reclassify", "--output", str(tmp_path / "head.npz")])
    assert result.exit_code == 2
    assert "--reclassify classifies with the configured head_path" in result.output
