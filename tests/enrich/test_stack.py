"""spaCy and Presidio load without torch and transformers, which stay importable for the code that needs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# A fresh interpreter: the test process has imported torch already (classifier tests, conftest).
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from click.testing import CliRunner
    from docintel.cli import main

    letter = Path(sys.argv[1])
    result = CliRunner().invoke(main, ["analyze", str(letter), "--json"])
    report = json.loads(result.stdout)
    loaded = sorted(name for name in ("torch", "transformers") if name in sys.modules)
    import torch
    print(json.dumps({"exit": result.exit_code, "status": report["status"], "pii": len(report["pii"]),
                      "entities": len(report["entities"]), "class": report["classification"]["record_class"],
                      "loaded": loaded, "torch_after": hasattr(torch, "tensor")}))
    """
)


@pytest.mark.slow
def test_analyze_runs_without_torch_in_the_process(tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text(
        "Dear Mr John Smith,\nYour NHS number 943 476 5919 is on file at 1 High Street, Leeds LS1 4AP.\n"
        "Invoice INV-2041 from Northgate Supplies Ltd, total £1,250.00, VAT GB 123 4567 89.\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(letter)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["exit"] == 0
    assert outcome["status"] == "ok"
    assert outcome["pii"] >= 3  # person, NHS number, postcode at least
    assert outcome["entities"] >= 1
    assert outcome["class"] != "unclassified"
    assert outcome["loaded"] == []
    assert outcome["torch_after"] is True
