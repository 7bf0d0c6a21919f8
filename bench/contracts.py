"""Contract key-term accuracy: Kleister-NDA (real US SEC NDAs) and generated UK contracts (labelled by construction).

Datasets:
  kleister   ../shared/evaldata/kleister-nda-train: 240 NDAs, ground_truth.jsonl. Scored as its SOURCE.md says
             GEval scores it (MultiLabel-F1:u): key=value pairs per document, values normalised as Kleister does
             (commas dropped, "&" -> "and", spaces and colons -> "_", ISO dates, "{n}_{units}" terms) and
             upper-cased; micro precision / recall / F1 over all pairs, overall and per key. Nothing is learned
             from this set (the extractor is rules only), so no cross-validation applies: every document is unseen
             by construction. Documents are read through docintel's own extract stage (PDF text layer or OCR).
  uk         generated UK contracts and agreements (docintel.contracts.synthetic: services, works, framework
             call-off, grant, lease, s106, data-sharing; varied layouts and wording, some rendered as scanned
             images and read by OCR). GENERATED DATA, labelled by construction: per-field precision / recall / F1.
  spend      invoices matched to the generated contracts' suppliers (exact names, case and legal-form variants,
             VAT number only), with a planted near-name supplier per contract whose invoices must match nothing:
             precision / recall of invoice -> contract assignments. GENERATED DATA.

    .venv/bin/python -m bench.contracts [--datasets kleister,uk,spend] [--limit N] [--uk-count N] [--uk-scans N]
        [--misses] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import format_table, require_evaldata
from docintel.contracts.extract import extract_contract
from docintel.contracts.models import ContractResult
from docintel.models import Page, Provenance
from docintel.pipeline import Engines, extract_stage, new_record, sniff_stage
from docintel.settings import Settings

KLEISTER_KEYS = ("effective_date", "jurisdiction", "party", "term")


@dataclass
class Tally:
    """True positives, false positives and false negatives of one key."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, predicted: set[str], expected: set[str], where: str) -> None:
        """Count one document's pairs for this key."""
        self.tp += len(predicted & expected)
        self.fp += len(predicted - expected)
        self.fn += len(expected - predicted)
        if predicted != expected:
            self.misses.append(f"{where}: predicted {sorted(predicted)} expected {sorted(expected)}")

    def scores(self) -> tuple[float, float, float]:
        """Precision, recall, F1 (1.0 when there was nothing to find and nothing was found)."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def read_pages(path_or_bytes: Path | bytes, name: str, engines: Engines) -> tuple[list[Page], str]:
    """Pages and text of a file, read as docintel's extract stage reads it."""
    content = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    record = new_record(Provenance(source="local", locator=name, name=name, size=len(content)))
    record = sniff_stage(record, content)
    record, _ = extract_stage(record, content, engines)
    return record.pages, record.text


# Kleister's expected.tsv writes legal forms one way whatever the document printed ("Incorporated" -> "Inc.",
# "L.L.C." -> "LLC", "Limited" -> "Ltd."): the gold's convention, applied to our names before comparing.
_KLEISTER_FORMS = (
    (re.compile(r"\bIncorporated$|\bInc$", re.I), "Inc."),
    (re.compile(r"\bL\.L\.C\.?$", re.I), "LLC"),
    (re.compile(r"\bL\.P\.?$", re.I), "LP"),
    (re.compile(r"\bLimited$", re.I), "Ltd."),
    (re.compile(r"\bLtd$", re.I), "Ltd."),
)


def kleister_value(value: str) -> str:
    """A value in Kleister's normalised, upper-cased form."""
    for pattern, form in _KLEISTER_FORMS:
        value = pattern.sub(form, value.strip())
    value = value.replace("&", " and ").replace(",", "")
    value = re.sub(r"[\s:]+", "_", value.strip())
    return value.upper()


def kleister_confidences(result: ContractResult) -> dict[str, dict[str, float]]:
    """Each predicted pair's confidence, per key, for the reliability table."""
    found: dict[str, dict[str, float]] = {key: {} for key in KLEISTER_KEYS}
    for party in result.parties:
        if party.name.value:
            found["party"][kleister_value(party.name.value)] = party.name.confidence
    for key, name in (("effective_date", "effective_date"), ("jurisdiction", "governing_law"), ("term", "term")):
        field_ = result.fields.get(name)
        if field_ and field_.value:
            value = field_.value
            if key == "jurisdiction":
                value = kleister_value(value)
            elif key == "term":
                number, unit = value.split(" ", 1)
                value = kleister_value(f"{number}_{unit}")
            found[key][value] = field_.confidence
    return found


def kleister_pairs(result: ContractResult) -> dict[str, set[str]]:
    """The result as Kleister key=value pairs, per key."""
    pairs: dict[str, set[str]] = {key: set() for key in KLEISTER_KEYS}
    for party in result.parties:
        if party.name.value:
            pairs["party"].add(kleister_value(party.name.value))
    effective = result.fields.get("effective_date")
    if effective and effective.value:
        pairs["effective_date"].add(effective.value)
    law = result.fields.get("governing_law")
    if law and law.value:
        pairs["jurisdiction"].add(kleister_value(law.value))
    term = result.fields.get("term")
    if term and term.value:
        number, unit = term.value.split(" ", 1)
        pairs["term"].add(kleister_value(f"{number}_{unit}"))
    return pairs


def expected_pairs(row: dict[str, Any]) -> dict[str, set[str]]:
    """The gold pairs of one ground-truth row, upper-cased."""
    pairs: dict[str, set[str]] = {key: set() for key in KLEISTER_KEYS}
    for item in str(row["expected"]).split():
        key, _, value = item.partition("=")
        pairs[key].add(value.upper())
    return pairs


def bench_kleister(limit: int | None, show_misses: bool) -> dict[str, Any]:
    """Score extract_contract on Kleister-NDA train (240 real NDAs)."""
    root = require_evaldata("kleister-nda-train") / "kleister-nda-train"
    rows = [json.loads(line) for line in (root / "ground_truth.jsonl").read_text().splitlines() if line.strip()]
    rows = rows[:limit] if limit else rows
    engines = Engines(settings=Settings())
    tallies = {key: Tally() for key in KLEISTER_KEYS}
    reliability: dict[float, list[int]] = defaultdict(lambda: [0, 0])  # confidence -> [right, predicted]
    seconds = 0.0
    for row in rows:
        pages, text = read_pages(root / "documents" / row["file"], row["file"], engines)
        started = time.perf_counter()
        result = extract_contract(text, pages)
        seconds += time.perf_counter() - started
        predicted, expected = kleister_pairs(result), expected_pairs(row)
        for key in KLEISTER_KEYS:
            tallies[key].add(predicted[key], expected[key], row["file"][:8])
        for key, values in kleister_confidences(result).items():
            for value, confidence in values.items():
                reliability[confidence][0] += value in expected[key]
                reliability[confidence][1] += 1
    overall = Tally(
        tp=sum(t.tp for t in tallies.values()),
        fp=sum(t.fp for t in tallies.values()),
        fn=sum(t.fn for t in tallies.values()),
    )
    table_rows = []
    for key, tally in [*tallies.items(), ("overall", overall)]:
        precision, recall, f1 = tally.scores()
        table_rows.append(
            [key, str(tally.tp), str(tally.fp), str(tally.fn), f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}"]
        )
    print(
        format_table(
            ["key", "tp", "fp", "fn", "precision", "recall", "F1"],
            table_rows,
            title=f"Kleister-NDA train, {len(rows)} real US SEC NDAs "
            "(MultiLabel-F1:u, micro; rules only, nothing learned)",
        )
    )
    print(
        format_table(
            ["stated confidence", "pairs", "right", "measured precision"],
            [[f"{c:.2f}", str(n), str(r), f"{r / n:.3f}"] for c, (r, n) in sorted(reliability.items(), reverse=True)],
            title="Calibration: each rule's stated confidence against its precision here",
        )
    )
    print(
        f"extraction {seconds / max(1, len(rows)) * 1000:.1f} ms/document "
        "(CPU, offline; reading the PDFs not counted)\n"
    )
    if show_misses:
        for key, tally in tallies.items():
            print(f"-- misses: {key}")
            for line in tally.misses:
                print("  " + line)
    return {
        key: dict(zip(("precision", "recall", "f1"), t.scores(), strict=True))
        for key, t in [*tallies.items(), ("overall", overall)]
    }


UK_FIELDS = (
    "kind", "parties", "effective_date", "start_date", "end_date", "term", "notice_period", "total_value",
    "annual_value", "governing_law", "framework_reference", "data_processing", "executed_as_deed", "signatories",
)  # fmt: skip


def _normal(value: str) -> str:
    return " ".join(value.replace(",", " ").split()).casefold()


def uk_predicted(result: ContractResult) -> dict[str, set[str]]:
    """The result's values per UK field, normalised for comparison."""
    found: dict[str, set[str]] = {name: set() for name in UK_FIELDS}
    found["kind"].add(result.kind.value)
    found["parties"] = {_normal(p.name.value) for p in result.parties if p.name.value}
    found["signatories"] = {_normal(s.name.value) for s in result.signatories if s.name.value}
    for name in UK_FIELDS:
        field_ = result.fields.get(name)
        if field_ is not None and field_.value is not None:
            found[name].add(_normal(field_.value))
    return found


def bench_uk(count: int, scans: int, show_misses: bool) -> dict[str, Any]:
    """Score extract_contract on generated UK contracts (PDF, DOCX and scanned PDF), per field."""
    from docintel.samples.contracts import generate_contracts, scanned_pdf
    from docintel.samples.office import docx_bytes
    from docintel.samples.pdf import document_pdf

    engines = Engines(settings=Settings())
    tallies = {name: Tally() for name in UK_FIELDS}
    formats: dict[str, int] = defaultdict(int)
    for index, contract in enumerate(generate_contracts(count)):
        if index < scans:
            name, content = f"uk-{index}.pdf", scanned_pdf(contract, seed=index)
            formats["scanned PDF (OCR)"] += 1
        elif index % 3 == 0:
            name, content = f"uk-{index}.docx", docx_bytes(contract.document)
            formats["DOCX"] += 1
        else:
            name, content = f"uk-{index}.pdf", document_pdf(contract.document)
            formats["PDF"] += 1
        pages, text = read_pages(content, name, engines)
        predicted = uk_predicted(extract_contract(text, pages))
        for field_name in UK_FIELDS:
            expected_value = contract.truth.get(field_name)
            values = expected_value if isinstance(expected_value, list) else [expected_value] if expected_value else []
            tallies[field_name].add(predicted[field_name], {_normal(v) for v in values}, f"{name} {contract.kind}")
    overall = Tally(
        tp=sum(t.tp for t in tallies.values()),
        fp=sum(t.fp for t in tallies.values()),
        fn=sum(t.fn for t in tallies.values()),
    )
    rows = []
    for key, tally in [*tallies.items(), ("overall", overall)]:
        precision, recall, f1 = tally.scores()
        rows.append(
            [key, str(tally.tp), str(tally.fp), str(tally.fn), f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}"]
        )
    made = ", ".join(f"{n} {kind}" for kind, n in formats.items())
    print(
        format_table(
            ["field", "tp", "fp", "fn", "precision", "recall", "F1"],
            rows,
            title=f"GENERATED UK contracts ({count}: {made}; 7 kinds; labelled by construction, not real documents)",
        )
    )
    if show_misses:
        for key, tally in tallies.items():
            for line in tally.misses:
                print(f"  {key}: {line}")
    return {
        key: dict(zip(("precision", "recall", "f1"), t.scores(), strict=True))
        for key, t in [*tallies.items(), ("overall", overall)]
    }


# Near-names planted beside each real supplier: a different company whose invoices must match no contract.
_NEAR_NAME_SWAPS = (
    ("Services", "Solutions"), ("Limited", "Group Limited"), ("Ltd", "Holdings Ltd"), ("LLP", "Partners LLP"),
    ("PLC", "Group PLC"), ("Construction", "Constructions"), ("Care", "Carers"),
)  # fmt: skip


def bench_spend(count: int, seed: int = 19) -> dict[str, float]:
    """Spend matching on generated contracts and invoices with planted near-name suppliers."""
    import datetime as dt
    import random
    from decimal import Decimal

    from docintel.contracts.spend import InvoiceSummary, match_spend
    from docintel.samples.contracts import generate_contracts

    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    invoices: list[InvoiceSummary] = []
    truth: dict[str, str | None] = {}
    for index, contract in enumerate(generate_contracts(count, seed)):
        result = extract_contract(contract.text())
        supplier = result.supplier
        if supplier is None or not supplier.name.value:
            continue
        doc_id = f"contract-{index}"
        rows.append(
            {
                "document_id": doc_id,
                "supplier_name": supplier.name.value,
                "supplier_vat_number": supplier.vat_number.value if supplier.vat_number else None,
                "supplier_company_number": supplier.company_number.value if supplier.company_number else None,
                "start_date": result.date("start_date"),
                "end_date": result.date("end_date"),
                "total_value": result.value("total_value"),
            }
        )
        name = supplier.name.value
        start = result.date("start_date") or dt.date(2024, 1, 1)
        variants = [
            name,
            name.upper().replace(" LIMITED", " LTD").replace(" LTD", " LIMITED")
            if rng.random() < 0.5
            else name.title(),
            None,  # name missing: only the VAT number (when the contract printed one) can match it
        ]
        for number, variant in enumerate(variants):
            invoice_id = f"{doc_id}-inv{number}"
            vat = supplier.vat_number.value if supplier.vat_number and (variant is None or rng.random() < 0.3) else None
            invoices.append(InvoiceSummary(invoice_id, variant, vendor_vat=vat, date=start, total=Decimal("100")))
            truth[invoice_id] = doc_id if (variant is not None or vat is not None) else None
        near = name
        for old, new in _NEAR_NAME_SWAPS:
            if old in near:
                near = near.replace(old, new, 1)
                break
        else:
            near = near + " Group"
        invoices.append(InvoiceSummary(f"{doc_id}-near", near, date=start, total=Decimal("100")))
        truth[f"{doc_id}-near"] = None
    report = match_spend(rows, invoices)
    assigned = report.assigned
    correct = sum(1 for invoice_id, doc_id in assigned.items() if truth.get(invoice_id) == doc_id)
    should = sum(1 for doc_id in truth.values() if doc_id is not None)
    precision = correct / len(assigned) if assigned else 1.0
    recall = correct / should if should else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    planted = sum(1 for invoice_id in truth if invoice_id.endswith("-near"))
    wrongly = sum(1 for invoice_id in assigned if invoice_id.endswith("-near"))
    print(
        format_table(
            ["set", "contracts", "invoices", "assigned", "correct", "precision", "recall", "F1", "near-names matched"],
            [[ "generated", str(len(rows)), str(len(invoices)), str(len(assigned)), str(correct), f"{precision:.3f}",
               f"{recall:.3f}", f"{f1:.3f}", f"{wrongly}/{planted}"]],
            title="Spend against contract, GENERATED contracts and invoices (planted near-name suppliers)",
        )
    )  # fmt: skip
    return {"precision": precision, "recall": recall, "f1": f1}


def main(argv: Iterable[str] | None = None) -> None:
    """Run the chosen datasets and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="kleister,uk,spend")
    parser.add_argument("--limit", type=int, default=None, help="Kleister documents to read (default: all 240).")
    parser.add_argument("--uk-count", type=int, default=70, help="Generated UK contracts (default: 70, 10 per kind).")
    parser.add_argument("--uk-scans", type=int, default=7, help="How many of them are rendered as scans and OCR'd.")
    parser.add_argument("--misses", action="store_true", help="List every wrong or missing value.")
    parser.add_argument("--json", type=Path, help="Write the scores as JSON here.")
    args = parser.parse_args(list(argv) if argv is not None else None)
    datasets = {name.strip() for name in args.datasets.split(",") if name.strip()}
    scores: dict[str, Any] = {}
    if "kleister" in datasets:
        scores["kleister"] = bench_kleister(args.limit, args.misses)
    if "uk" in datasets:
        scores["uk"] = bench_uk(args.uk_count, args.uk_scans, args.misses)
    if "spend" in datasets:
        scores["spend"] = bench_spend(args.uk_count)
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
