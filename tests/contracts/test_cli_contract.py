"""docintel analyze: the contract object for contracts, and --contract for any document."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from docintel.cli import main
from docintel.samples.contracts import generate_contract
from docintel.samples.office import docx_bytes

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("DOCINTEL_PII_KEY", "test-key-not-secret")
    monkeypatch.setenv("DOCINTEL_RETENTION__CLASSIFIER", "rules")
    return CliRunner()


def test_analyze_json_has_the_contract_object(runner: CliRunner, tmp_path: Path) -> None:
    generated = generate_contract("works", random.Random(11))
    path = tmp_path / "works-contract.docx"
    path.write_bytes(docx_bytes(generated.document))
    result = runner.invoke(main, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    contract = json.loads(result.stdout)["contract"]
    assert contract["kind"] == "works"
    assert [party["name"]["value"] for party in contract["parties"]] == generated.truth["parties"]
    end = contract["fields"]["end_date"]
    assert end["value"] == generated.truth["end_date"]
    assert {"content", "page", "start", "end", "confidence", "how"} <= set(end)


def test_contract_flag_reads_any_document(runner: CliRunner, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Note of a call. The lease of the depot ends on 31 March 2027.\n", encoding="utf-8")
    plain = json.loads(runner.invoke(main, ["analyze", str(note), "--json"]).stdout)
    assert plain["contract"] is None
    result = runner.invoke(main, ["analyze", str(note), "--json", "--contract"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contract"]["fields"]["end_date"]["value"] == "2027-03-31"
    text = runner.invoke(main, ["analyze", str(note), "--contract"])
    assert "end_date: 2027-03-31" in text.output
