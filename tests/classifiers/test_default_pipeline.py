"""The product's default classifier (``combined``) through the real scan of the bundled samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.catalogue.store import open_catalogue
from docintel.pipeline import Engines, scan_source
from docintel.samples import generate_samples
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
# Samples whose class a records manager would not argue about; the last two are decided by the model,
# not by a rule, so the model's path is exercised end to end.
EXPECTED = {
    "invoice.pdf": "finance.invoice",
    "foi-request.eml": "foi.request",
    "FOI-2025-1187-response.pdf": "foi.request",  # the e-mail's attachment
    "payroll-summary.csv": "hr.payroll",
    "planning-decision-scan.pdf": "planning.decision",
    "tender-evaluation.txt": "procurement.tender",  # a member of archive.zip
}


@pytest.mark.slow
@pytest.mark.needs_tesseract
def test_default_settings_classify_the_samples_with_rules_then_model(
    tmp_path: Path, static_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the head is trained from the shipped set into ./.docintel on first use
    settings = load_settings(CONFIG_DIR, environ={"DOCINTEL_PII__ENABLED": "false"})
    assert settings.retention.classifier == "combined"
    samples = tmp_path / "samples"
    generate_samples(samples)
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        scan_source(LocalFolderSource([samples]), store, Engines(settings=settings, pii_key=b"k" * 32))
        classified = {row["name"]: row for row in store.iter_documents() if row["status"] == "ok"}
    assert (tmp_path / ".docintel" / "classifier-head.npz").is_file()
    found = {name: classified[name]["record_class"] for name in EXPECTED}
    assert found == EXPECTED
    for row in classified.values():
        assert row["classifier"] == "combined"
        assert row["class_explanation"].strip()
    model_decided = [
        classified[name]["class_explanation"] for name in ("planning-decision-scan.pdf", "tender-evaluation.txt")
    ]
    assert all(explanation.startswith("model:") for explanation in model_decided)
