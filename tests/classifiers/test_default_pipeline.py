"""The product's default classifier (``evidence``) through the real scan of the bundled samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from docintel.catalogue.store import open_catalogue
from docintel.pipeline import Engines, scan_source
from docintel.samples import generate_samples
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
# Samples whose class a records manager would not argue about.
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
def test_default_settings_classify_the_samples_with_the_shipped_evidence_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing is trained or written on first use: the model ships in the package
    settings = load_settings(CONFIG_DIR, environ={"DOCINTEL_PII__ENABLED": "false"})
    assert settings.retention.classifier == "evidence"
    samples = tmp_path / "samples"
    generate_samples(samples)
    with open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}") as store:
        scan_source(LocalFolderSource([samples]), store, Engines(settings=settings, pii_key=b"k" * 32))
        classified = {row["name"]: row for row in store.iter_documents() if row["status"] == "ok"}
    assert not (tmp_path / ".docintel").exists()
    found = {name: classified[name]["record_class"] for name in EXPECTED}
    assert found == EXPECTED
    for row in classified.values():
        assert row["classifier"] == "evidence"
        assert row["class_explanation"].strip()
    assert any(row["class_explanation"].startswith("evidence:") for row in classified.values())
