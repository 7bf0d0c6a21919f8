"""The command line: exit codes, analyze --json shape, scan → report → export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from docintel.cli import main

REPO = Path(__file__).resolve().parent.parent
LETTER = (
    "Wessex County Council, County Hall, Dorchester DT1 1XJ\n"
    "Dear Mrs Alice Thornbury,\n"
    "Re: Freedom of Information request FOI-2025-0113\n"
    "We received your request under the Freedom of Information Act 2000 on 3 March 2025. "
    "You can reach us on 020 7946 0123 or a.thornbury@example.org.\n"
)


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DOCINTEL_PII_KEY", "test-key-not-secret")
    monkeypatch.delenv("DOCINTEL_CATALOGUE_URL", raising=False)
    return CliRunner()


def test_help_teaches_every_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("scan", "analyze", "report", "export", "samples", "key"):
        assert command in result.output


def test_analyze_json_has_every_documented_field(runner: CliRunner, tmp_path: Path) -> None:
    letter = tmp_path / "foi-letter.txt"
    letter.write_text(LETTER, encoding="utf-8")
    result = runner.invoke(main, ["analyze", str(letter), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    for field in (
        "status",
        "error",
        "file_type",
        "mime_type",
        "pages",
        "text",
        "entities",
        "pii",
        "classification",
        "children",
    ):
        assert field in doc
    assert doc["status"] == "ok" and doc["error"] is None
    assert doc["file_type"] == "text"
    assert doc["pages"][0]["method"] == "text_layer"
    text = doc["text"]
    for span in doc["entities"] + doc["pii"]:
        assert text[span["start"] : span["end"]] == span["text"]
    assert any(f["entity_type"] == "PHONE_NUMBER" for f in doc["pii"])
    assert any(f["entity_type"] == "EMAIL_ADDRESS" for f in doc["pii"])
    classification = doc["classification"]
    assert classification["record_class"] == "foi.request"
    assert classification["explanation"]
    assert set(classification["retention"]) == {"period", "trigger", "action", "disposal_date"}


def test_analyze_failed_file_exits_1_with_error(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    result = runner.invoke(main, ["analyze", str(broken), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "failed"
    assert doc["error"]["type"] == "CorruptDocument"


def test_scan_report_export_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "share" / "FOI"
    folder.mkdir(parents=True)
    (folder / "request.txt").write_text(LETTER, encoding="utf-8")
    (folder / "empty.pdf").write_bytes(b"")
    catalogue = f"sqlite:///{tmp_path / 'cat.db'}"

    scanned = runner.invoke(main, ["scan", str(tmp_path / "share"), "--catalogue", catalogue])
    assert scanned.exit_code == 1, scanned.output  # one document failed
    assert "EmptyDocument" in scanned.output

    rescanned = runner.invoke(main, ["scan", str(tmp_path / "share"), "--catalogue", catalogue])
    assert "2 unchanged and skipped" in rescanned.output
    assert rescanned.exit_code == 0

    report = tmp_path / "report.html"
    reported = runner.invoke(main, ["report", "--catalogue", catalogue, "--out", str(report)])
    assert reported.exit_code == 0, reported.output
    html = report.read_text(encoding="utf-8")
    assert "foi.request" in html and "EmptyDocument" in html
    assert "Alice Thornbury" not in html and "020 7946 0123" not in html

    exported = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "jsonl"])
    assert exported.exit_code == 0
    lines = [json.loads(line) for line in exported.output.splitlines() if line.strip()]
    assert {line["status"] for line in lines} == {"ok", "failed"}
    assert "Alice" not in exported.output and "7946 0123" not in exported.output


def test_bad_config_exits_2_naming_the_key(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text("ocr:\n  dpii: 300\n", encoding="utf-8")
    result = runner.invoke(main, ["--config-dir", str(config), "analyze", __file__])
    assert result.exit_code == 2
    assert "ocr.dpii" in result.output


@pytest.mark.needs_tesseract
def test_scan_with_an_ocr_language_not_installed_exits_2_before_any_work(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCINTEL_OCR__LANGUAGE", "eng+cym")
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    catalogue = tmp_path / "c.db"
    result = runner.invoke(main, ["scan", str(tmp_path), "--catalogue", f"sqlite:///{catalogue}"])
    assert result.exit_code == 2, result.output
    assert "OCR language 'cym' is not installed" in result.output
    assert "apt-get install tesseract-ocr-cym" in result.output
    assert not catalogue.exists()


def test_scan_without_pii_key_exits_2(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCINTEL_PII_KEY")
    monkeypatch.delenv("DOCINTEL_PII_KEY_FILE", raising=False)
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    result = runner.invoke(main, ["scan", str(tmp_path), "--catalogue", f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 2
    assert "DOCINTEL_PII_KEY" in result.output


def test_redact_writes_a_copy_without_the_values(runner: CliRunner, tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text(LETTER, encoding="utf-8")
    out = tmp_path / "letter-redacted.txt"
    result = runner.invoke(main, ["redact", str(letter), "--out", str(out)])
    assert result.exit_code == 0, result.output
    redacted = out.read_text(encoding="utf-8")
    assert "020 7946 0123" not in redacted and "a.thornbury@example.org" not in redacted
    assert "[PHONE_NUMBER]" in redacted and "[EMAIL_ADDRESS]" in redacted
    assert "Freedom of Information" in redacted


def test_every_feature_command_loads_and_teaches(runner: CliRunner) -> None:
    from docintel.cli import LAZY_COMMANDS

    listing = runner.invoke(main, ["--help"]).output
    for name in LAZY_COMMANDS:
        assert name in listing
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output


def test_parquet_export_needs_an_out_file_and_writes_one(runner: CliRunner, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    catalogue = f"sqlite:///{tmp_path / 'c.db'}"
    refused = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "parquet"])
    assert refused.exit_code == 2 and "--out FILE" in refused.output
    written = runner.invoke(
        main, ["export", "--catalogue", catalogue, "--format", "parquet", "--out", str(tmp_path / "c.parquet")]
    )
    assert written.exit_code == 0, written.output
    assert pq.read_table(tmp_path / "c.parquet").num_rows == 0


def test_dcat_export_names_the_council_from_the_schedule(runner: CliRunner, tmp_path: Path) -> None:
    catalogue = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(main, ["export", "--catalogue", catalogue, "--format", "dcat"])
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)["@graph"]
    assert graph[0]["@type"] == "dcat:Catalog" and graph[0]["dct:publisher"]["foaf:name"] == "Example County Council"
