"""Invoice field accuracy: docintel's extract_invoice side by side with invoice2data on the same files.

Datasets (field-level exact match after normalisation):
  invoice2data  ../shared/evaldata/invoice2data/compare: invoice2data's own regression set (12 invoices, none
                UK) with its expected JSON. Fields: issuer, invoice_number, date, date_due, amount,
                amount_untaxed, amount_tax, vat, currency (those present in each expected file). Each tool reads
                the same file (the PDF, else the PNG, else the TXT; both tools read text invoices),
                docintel runs with NO supplier profile.
  generated     docintel.samples.invoices: 60 generated invoices (no real data), 4 per language (English, German,
                French, Dutch, Spanish) and layout (letterhead; customer in the window, labelled; customer in
                the window unlabelled, the supplier named only in the footer and as payee), with their truth.
  sroie         ../shared/evaldata/sroie: 150 scanned Malaysian receipts, key/<id>.json = company, date,
                address, total; img/<id>.jpg. Micro precision / recall / F1 over the four fields, as ICDAR-2019
                task 3 scores them (a field counts as predicted when the tool gives a value).
                `--sroie-words transcript` feeds docintel SROIE's own line transcripts (box/<id>.csv, each
                line's words placed along its box) instead of OCR of the image: the field logic measured
                apart from OCR errors (the peer, reading the image, is then skipped for SROIE).

The peer: invoice2data==1.0.1 with its shipped templates and its default input cascade (pdftotext first; needs
poppler-utils), installed by this bench into its own venv under .bench/invoice2data-venv (its pins differ
from ours; it is light: regex, dateutil, PyYAML, click). Normalisation, applied to both tools alike:
  names/addresses  upper-case, letters and digits only, legal-form suffixes (Ltd, Inc., B.V., AG...) dropped
                   for issuer/company;
  ids              upper-case letters and digits only;      VAT numbers: the same;
  dates            ISO (the expected SROIE dates are read day-first, as they are written);
  amounts          Decimal equality to the cent.

After the accuracy tables, one table per dataset for auto_accept: per field the values judged, the share right,
how many were auto_accept, the precision among those (target >= 0.99) and the coverage (auto_accept / judged),
with the shipped calibration and 2-fold cross-fitted (each half of a dataset judged by cutoffs fitted on
everything else); whole invoices auto_accept; VendorName/CustomerName confusions; party names answered that are
labels, dates or amounts (target 0). `--calibrate` refits the cutoffs on the datasets run and writes
docintel/invoices/calibration_table.py.

    .venv/bin/python -m bench.invoices [--limit N] [--offset N] [--no-peer]
        [--datasets invoice2data,sroie,generated] [--sroie-words ocr|transcript] [--ocr-language eng+Latin]
        [--json out.json] [--misses] [--calibrate]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from bench._common import fmt, format_table, project_root, ratio, require_evaldata
from docintel.defaults import AUTO_ACCEPT_INVOICE_FIELDS, AUTO_ACCEPT_THRESHOLD
from docintel.errors import DocintelError
from docintel.extract.ocr import missing_languages
from docintel.invoices import InvoiceResult, extract_invoice
from docintel.invoices.calibration import Measurement, calibrate, calibrated, fit_cutoffs, write_table
from docintel.invoices.extract import read_fields
from docintel.invoices.fields import LABELS, normalise_label
from docintel.invoices.layout import Word, group_lines
from docintel.invoices.parse import MONTH_NAMES, find_amounts, parse_date
from docintel.samples.invoices import generate_set
from docintel.settings import Settings

T = TypeVar("T")

PEER_PACKAGE = "invoice2data==1.0.1"
PEER_VENV = project_root() / ".bench" / "invoice2data-venv"

# Expected-JSON key -> (docintel field names tried in order, normaliser kind).
INVOICE2DATA_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "issuer": (("VendorName",), "name"),
    "invoice_number": (("InvoiceId",), "id"),
    "date": (("InvoiceDate",), "date"),
    "date_due": (("DueDate",), "date"),
    "amount": (("InvoiceTotal", "AmountDue"), "amount"),
    "amount_untaxed": (("SubTotal",), "amount"),
    "amount_tax": (("TotalTax",), "amount"),
    "vat": (("VendorTaxId",), "id"),
    "currency": (("Currency",), "id"),
}
SROIE_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "company": (("VendorName",), "name"),
    "date": (("InvoiceDate",), "date"),
    "address": (("VendorAddress",), "text"),
    "total": (("InvoiceTotal", "AmountDue"), "amount"),
}
# The generated multilingual invoices' truth (docintel.samples.invoices), by docintel's own field names.
GENERATED_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "VendorName": (("VendorName",), "name"),
    "CustomerName": (("CustomerName",), "name"),
    "InvoiceId": (("InvoiceId",), "id"),
    "InvoiceDate": (("InvoiceDate",), "date"),
    "DueDate": (("DueDate",), "date"),
    "VendorTaxId": (("VendorTaxId",), "id"),
    "SubTotal": (("SubTotal",), "amount"),
    "TotalTax": (("TotalTax",), "amount"),
    "InvoiceTotal": (("InvoiceTotal",), "amount"),
    "Currency": (("Currency",), "id"),
}
# Generated invoices per language and layout (5 languages x 3 layouts).
GENERATED_PER_CELL = 4
CALIBRATION_TABLE = project_root() / "docintel" / "invoices" / "calibration_table.py"
# invoice2data's own keys for the SROIE fields (it has no address field).
PEER_SROIE_KEYS = {"company": "issuer", "date": "date", "address": "address", "total": "amount"}

_LEGAL_SUFFIX = re.compile(
    r"\b(LTD|LIMITED|INC|PLC|LLP|LLC|BV|B\s+V|GMBH|AG|SAS|SA|SARL|SL|S\s+L|SDN\s+BHD|BHD|SPOLKA AKCYJNA|"
    r"SPÓŁKA AKCYJNA|S\s+A|CO)\b\.?"
)

PEER_SCRIPT = r"""
import json, sys, time, logging
logging.disable(logging.CRITICAL)
from invoice2data import extract_data
from invoice2data.extract.loader import read_templates
templates = read_templates()
for path in sys.argv[1:]:
    start = time.perf_counter()
    try:
        result = extract_data(path, templates=templates)
        error = None
    except Exception as exc:
        result, error = {}, type(exc).__name__
    print(json.dumps({"path": path, "result": result or {}, "seconds": time.perf_counter() - start,
                      "error": error}, default=str), flush=True)
"""


def normalise(kind: str, value: Any) -> str | None:
    """A value in the comparable form for its kind, or None when absent or unreadable."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value)
    if kind == "amount":
        try:
            return str(Decimal(re.sub(r"[^\d.\-]", "", text.replace(",", "."))).quantize(Decimal("0.01")))
        except InvalidOperation:
            return None
    if kind == "date":
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}( .*)?", text):
            return text[:10]
        parsed = parse_date(text, day_first=True)
        return parsed.value.isoformat() if parsed else None
    upper = text.upper()
    if kind == "name":
        upper = _LEGAL_SUFFIX.sub(" ", re.sub(r"[.,]", " ", upper))
    return re.sub(r"[^0-9A-ZÀ-Ý]", "", upper) or None


@dataclass
class Tally:
    """Counts for one field: ground truths, predictions, correct predictions."""

    truth: int = 0
    predicted: int = 0
    correct: int = 0

    def add(self, expected: str | None, got: str | None) -> None:
        """Count one comparison."""
        self.truth += expected is not None
        self.predicted += got is not None
        self.correct += expected is not None and got == expected

    @property
    def accuracy(self) -> float | None:
        """Correct over ground truths (the exact-match accuracy the issue asks for)."""
        return self.correct / self.truth if self.truth else None

    def f1(self) -> tuple[float, float, float]:
        """Precision, recall, F1."""
        precision = self.correct / self.predicted if self.predicted else 0.0
        recall = self.correct / self.truth if self.truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


@dataclass(frozen=True)
class Record:
    """One judged field: document, docintel's field name, raw and calibrated confidence, auto_accept, right."""

    doc: str
    field: str
    raw: float
    accepted: bool
    right: bool


@dataclass
class Reading:
    """docintel's answer for one file: values, raw confidences, auto_accept per field and per invoice."""

    values: dict[str, Any]
    raw: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, bool] = field(default_factory=dict)
    invoice_accepted: bool = False


def reading_of(result: InvoiceResult) -> Reading:
    """The bench's view of a result."""
    return Reading(
        {name: found.value for name, found in result.fields.items()},
        {name: found.raw_confidence or 0.0 for name, found in result.fields.items()},
        {name: found.auto_accept for name, found in result.fields.items()},
        result.auto_accept,
    )


@dataclass
class ToolRun:
    """One tool's results on one dataset."""

    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    seconds: list[float] = field(default_factory=list)
    failures: int = 0
    misses: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)  # docintel only: every judged field with its confidence
    invoices: list[tuple[bool, bool]] = field(default_factory=list)  # (auto_accept, every posting field right)
    confusions: int = 0  # VendorName answered with the customer's name, or CustomerName with the vendor's
    non_names: list[str] = field(default_factory=list)  # names answered that are labels, dates or amounts

    def total(self) -> Tally:
        """All fields pooled."""
        pooled = Tally()
        for tally in self.tallies.values():
            pooled.truth += tally.truth
            pooled.predicted += tally.predicted
            pooled.correct += tally.correct
        return pooled


def ours(path: Path, settings: Settings) -> tuple[Reading, float, str | None]:
    """docintel's reading of a file, seconds, and the error class if it failed."""
    return ours_bytes(path.read_bytes(), path.name, settings)


def ours_bytes(content: bytes, name: str, settings: Settings) -> tuple[Reading, float, str | None]:
    """docintel's reading of some bytes, seconds, and the error class if it failed."""
    start = time.perf_counter()
    try:
        result = extract_invoice(content, name, settings=settings, profiles=[])
    except DocintelError as exc:
        return Reading({}), time.perf_counter() - start, exc.kind
    return reading_of(result), time.perf_counter() - start, None


def transcript_words(box_csv: str, width: int, height: int) -> list[Word]:
    """Words of a SROIE box file: each line's transcript split at spaces, placed along the line's box by characters."""
    words: list[Word] = []
    for row in box_csv.splitlines():
        parts = row.split(",", 8)
        if len(parts) != 9 or not parts[8].strip():
            continue
        try:
            coords = [int(value) for value in parts[:8]]
        except ValueError:
            continue
        xs, ys = coords[0::2], coords[1::2]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        text = parts[8].strip()
        step = (x1 - x0) / max(len(text), 1)
        for match in re.finditer(r"\S+", text):
            words.append(
                Word(
                    match.group(0),
                    1,
                    (x0 + match.start() * step) / width,
                    y0 / height,
                    (x0 + match.end() * step) / width,
                    y1 / height,
                )
            )
    return words


def ours_from_transcript(image: Path, box: Path) -> tuple[Reading, float, str | None]:
    """docintel's fields for a receipt read from its SROIE transcript instead of OCR."""
    start = time.perf_counter()
    with Image.open(image) as picture:
        width, height = picture.size
    words = transcript_words(box.read_text(encoding="utf-8", errors="replace"), width, height)
    result = calibrate(read_fields(group_lines(words), []))
    return reading_of(result), time.perf_counter() - start, None


def ensure_peer() -> Path | None:
    """The peer venv's python, creating the venv and installing invoice2data on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {PEER_PACKAGE} into {PEER_VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEER_PACKAGE], check=True)
    probe = subprocess.run([str(python), "-c", "import invoice2data"], capture_output=True, check=False)
    return python if probe.returncode == 0 else None


def run_peer(python: Path, paths: list[Path]) -> dict[str, tuple[dict[str, Any], float, str | None]]:
    """invoice2data's output per file, in one process (templates load once), two processes side by side."""
    halves = [paths[0::2], paths[1::2]]
    results: dict[str, tuple[dict[str, Any], float, str | None]] = {}

    def run(chunk: list[Path]) -> list[str]:
        if not chunk:
            return []
        done = subprocess.run(
            [str(python), "-c", PEER_SCRIPT, *map(str, chunk)], capture_output=True, text=True, check=False
        )
        return done.stdout.splitlines()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for lines in pool.map(run, halves):
            for line in lines:
                record = json.loads(line)
                results[record["path"]] = (record["result"], record["seconds"], record["error"])
    return results


def score(
    run: ToolRun,
    name: str,
    expected: dict[str, Any],
    got: dict[str, Any] | Reading,
    mapping: dict[str, tuple[tuple[str, ...], str]],
    peer_keys: dict[str, str] | None,
) -> None:
    """Compare one file's fields with the expected ones (and, for docintel, record confidences and roles)."""
    reading = got if isinstance(got, Reading) else None
    values: dict[str, Any] = got.values if isinstance(got, Reading) else got
    posting_right = {field_name: False for field_name in AUTO_ACCEPT_INVOICE_FIELDS}
    for key, (our_names, kind) in mapping.items():
        if key not in expected:
            continue
        want = normalise(kind, expected[key])
        if peer_keys is not None:
            value, used = values.get(peer_keys.get(key, key)), None
        else:
            used = next((n for n in our_names if values.get(n) not in (None, "")), None)
            value = values[used] if used else None
        have = normalise(kind, value)
        run.tallies[key].add(want, have)
        if want is not None and have != want:
            run.misses.append(f"{name}:{key} want={want} got={have}")
        if reading is not None and used is not None and want is not None:
            right = have == want
            run.records.append(Record(name, used, reading.raw.get(used, 0.0), reading.accepted.get(used, False), right))
            if used in posting_right:
                posting_right[used] = right
    if reading is None:
        return
    run.invoices.append((reading.invoice_accepted, all(posting_right.values())))
    vendor, customer = values.get("VendorName"), values.get("CustomerName")
    truth_vendor = normalise("name", expected.get("VendorName") or expected.get("issuer") or expected.get("company"))
    truth_customer = normalise("name", expected.get("CustomerName"))
    if truth_customer is not None and normalise("name", vendor) == truth_customer:
        run.confusions += 1
    if truth_vendor is not None and normalise("name", customer) == truth_vendor:
        run.confusions += 1
    for role, text in (("VendorName", vendor), ("CustomerName", customer)):
        why = non_name(text)
        if why is not None:
            run.non_names.append(f"{name}:{role}={why}")


_ALL_LABELS = frozenset(normalise_label(synonym) for synonyms in LABELS.values() for synonym in synonyms)
_MONTH_DAY = re.compile(rf"^(?:{MONTH_NAMES})\.?\s+\d{{1,2}}\b|^\d{{1,2}}\.?\s+(?:{MONTH_NAMES})\b", re.IGNORECASE)


def non_name(value: Any) -> str | None:
    """Why an answered party name is no name (a label, a date, an amount), judged apart from docintel's own guard."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip(" :#.,")
    if normalise_label(text) in _ALL_LABELS:
        return "label"
    if _MONTH_DAY.search(text) or parse_date(text) is not None:
        return "date"
    if find_amounts(text) and sum(char.isalpha() for char in text) < 4:
        return "amount"
    return None


def window(cases: list[T], offset: int, limit: int | None) -> list[T]:
    """The cases from ``offset`` on, at most ``limit`` of them (a split to tune on, another to confirm on)."""
    return cases[offset : offset + limit] if limit else cases[offset:]


def bench_invoice2data(
    root: Path, peer: Path | None, limit: int | None, settings: Settings, offset: int = 0, words: str = "ocr"
) -> dict[str, ToolRun]:
    """Both tools over invoice2data's compare set."""
    folder = root / "invoice2data" / "compare"
    cases: list[tuple[Path, dict[str, Any]]] = []
    for expected_path in sorted(folder.glob("*.json")):
        for suffix in (".pdf", ".png", ".txt"):
            source = expected_path.with_suffix(suffix)
            if source.exists():
                cases.append((source, json.loads(expected_path.read_text(encoding="utf-8"))[0]))
                break
    cases = window(cases, offset, limit)
    runs = {"docintel": ToolRun()}
    for path, expected in cases:
        got, seconds, error = ours(path, settings)
        runs["docintel"].seconds.append(seconds)
        runs["docintel"].failures += error is not None
        score(runs["docintel"], path.name, expected, got, INVOICE2DATA_FIELDS, None)
    if peer is not None:
        runs["invoice2data"] = peer_run(peer, cases, INVOICE2DATA_FIELDS, {key: key for key in INVOICE2DATA_FIELDS})
    return runs


def bench_sroie(
    root: Path, peer: Path | None, limit: int | None, settings: Settings, offset: int = 0, words: str = "ocr"
) -> dict[str, ToolRun]:
    """Both tools over the SROIE receipts (docintel two files at a time: each OCR is its own process).

    ``words="transcript"`` reads docintel's words from the SROIE transcripts instead of OCR, without the peer.
    """
    folder = root / "sroie"
    cases = [
        (folder / "img" / f"{key.stem}.jpg", json.loads(key.read_text(encoding="utf-8")))
        for key in sorted((folder / "key").glob("*.json"))
        if (folder / "img" / f"{key.stem}.jpg").exists()
    ]
    cases = window(cases, offset, limit)
    runs = {"docintel": ToolRun()}
    if words == "transcript":
        peer = None
        outputs = [ours_from_transcript(path, folder / "box" / f"{path.stem}.csv") for path, _ in cases]
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outputs = list(pool.map(lambda case: ours(case[0], settings), cases))
    for (path, expected), (got, seconds, error) in zip(cases, outputs, strict=True):
        runs["docintel"].seconds.append(seconds)
        runs["docintel"].failures += error is not None
        score(runs["docintel"], path.name, expected, got, SROIE_FIELDS, None)
    if peer is not None:
        runs["invoice2data"] = peer_run(peer, cases, SROIE_FIELDS, PEER_SROIE_KEYS)
    return runs


def bench_generated(
    root: Path, peer: Path | None, limit: int | None, settings: Settings, offset: int = 0, words: str = "ocr"
) -> dict[str, ToolRun]:
    """docintel over generated invoices in five languages and three layouts (no peer: none of its templates match)."""
    invoices = window(generate_set(GENERATED_PER_CELL), offset, limit)
    run = ToolRun()
    for number, invoice in enumerate(invoices):
        got, seconds, error = ours_bytes(invoice.pdf, "invoice.pdf", settings)
        run.seconds.append(seconds)
        run.failures += error is not None
        score(run, f"{invoice.language}-{invoice.layout}-{number}", invoice.truth, got, GENERATED_FIELDS, None)
    return {"docintel": run}


def peer_run(
    peer: Path,
    cases: list[tuple[Path, dict[str, Any]]],
    fields: dict[str, tuple[tuple[str, ...], str]],
    peer_keys: dict[str, str],
) -> ToolRun:
    """invoice2data over the cases, scored like docintel; ``peer_keys`` names its output key for each field."""
    run = ToolRun()
    results = run_peer(peer, [path for path, _ in cases])
    for path, expected in cases:
        got, seconds, error = results.get(str(path), ({}, 0.0, "no output"))
        run.seconds.append(seconds)
        run.failures += error is not None or not got
        score(run, path.name, expected, got, fields, peer_keys)
    return run


def report(title: str, runs: dict[str, ToolRun], with_f1: bool) -> str:
    """Per-field table (accuracy, or P/R/F1) with one column per tool, and an overall row."""
    tools = list(runs)
    keys = sorted({key for run in runs.values() for key in run.tallies})
    headers = ["field", "n"] + [f"{tool} {'F1' if with_f1 else 'acc'}" for tool in tools]
    if len(tools) > 1:
        headers.append(f"ratio {tools[0]}/{tools[1]}")

    def cells(name: str, tallies: list[Tally]) -> list[str]:
        figures = [tally.f1()[2] if with_f1 else tally.accuracy for tally in tallies]
        row = [name, str(tallies[0].truth), *(fmt(figure) for figure in figures)]
        if len(figures) > 1:
            row.append(fmt(ratio(figures[0], figures[1]), 2))
        return row

    rows = [cells(key, [runs[tool].tallies[key] for tool in tools]) for key in keys]
    rows.append(cells("ALL", [runs[tool].total() for tool in tools]))
    lines = [format_table(headers, rows, title)]
    for tool, run in runs.items():
        precision, recall, f1 = run.total().f1()
        seconds = sorted(run.seconds)
        p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))] if seconds else None
        lines.append(
            f"  {tool}: P {precision:.3f} R {recall:.3f} F1 {f1:.3f}; files failed/empty {run.failures}; "
            f"s/file median {fmt(seconds[len(seconds) // 2] if seconds else None)} p95 {fmt(p95)}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class DocMeasurement(Measurement):
    """A measurement that knows its document, so cross-fitting can hold a half of the documents out."""

    doc: str = ""


def _folds(records: list[Record]) -> list[set[str]]:
    docs = sorted({record.doc for record in records})
    return [set(docs[0::2]), set(docs[1::2])]


def accept_report(title: str, run: ToolRun, cross: dict[str, list[DocMeasurement]] | None = None) -> str:
    """Per field: values judged, answered right, auto_accept, precision among them, coverage; whole invoices too.

    ``cross``: every dataset's measurements, so that each half of this dataset's documents is also judged with
    cutoffs fitted without it (the other half here, and every other dataset): a figure the fit never saw.
    """
    rows = []
    fields = sorted({record.field for record in run.records})
    cross_accepted: dict[tuple[str, str], bool] = {}
    if cross is not None:
        for fold in _folds(run.records):
            training = [m for rows in cross.values() for m in rows if not (m.dataset == title and m.doc in fold)]
            cutoffs = fit_cutoffs(training)
            for record in run.records:
                if record.doc in fold:
                    confidence = calibrated(record.field, record.raw, cutoffs)
                    cross_accepted[(record.doc, record.field)] = confidence >= AUTO_ACCEPT_THRESHOLD
    for name in [*fields, "ALL"]:
        rows_for = [r for r in run.records if name in ("ALL", r.field)]
        accepted = [r for r in rows_for if r.accepted]
        row = [
            name,
            str(len(rows_for)),
            fmt(sum(r.right for r in rows_for) / len(rows_for) if rows_for else None),
            str(len(accepted)),
            fmt(sum(r.right for r in accepted) / len(accepted) if accepted else None),
            fmt(len(accepted) / len(rows_for) if rows_for else None),
        ]
        if cross is not None:
            crossed = [r for r in rows_for if cross_accepted.get((r.doc, r.field))]
            row += [
                str(len(crossed)),
                fmt(sum(r.right for r in crossed) / len(crossed) if crossed else None),
                fmt(len(crossed) / len(rows_for) if rows_for else None),
            ]
        rows.append(row)
    headers = ["field", "judged", "right", "auto", "precision@auto", "coverage"]
    if cross is not None:
        headers += ["auto (2-fold)", "precision (2-fold)", "coverage (2-fold)"]
    lines = [format_table(headers, rows, f"{title}: auto_accept at {AUTO_ACCEPT_THRESHOLD} (shipped calibration)")]
    accepted_invoices = [right for accepted, right in run.invoices if accepted]
    lines.append(
        f"  invoices auto_accept {len(accepted_invoices)}/{len(run.invoices)} "
        f"(coverage {fmt(len(accepted_invoices) / len(run.invoices) if run.invoices else None)}), "
        f"of which every posting field right {sum(accepted_invoices)}; "
        f"VendorName/CustomerName confusions {run.confusions}; names that are labels, dates or amounts "
        f"{len(run.non_names)}" + (f" ({', '.join(run.non_names[:5])})" if run.non_names else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benches and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="files per dataset")
    parser.add_argument("--offset", type=int, default=0, help="skip this many files of each dataset first")
    parser.add_argument(
        "--sroie-words",
        choices=("ocr", "transcript"),
        default="ocr",
        help="SROIE words from OCR of the image (default) or from SROIE's own line transcripts",
    )
    parser.add_argument(
        "--ocr-language",
        default=None,
        help="tesseract language(s) for scans, e.g. eng+Latin (default: docintel's, eng); "
        "Latin comes from apt-get install tesseract-ocr-script-latn",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip invoice2data")
    parser.add_argument("--datasets", default="invoice2data,sroie,generated")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the auto_accept cutoffs on the datasets run and write docintel/invoices/calibration_table.py",
    )
    parser.add_argument("--json", type=Path, default=None, help="write per-field counts and misses here")
    parser.add_argument("--misses", action="store_true", help="print docintel's misses")
    args = parser.parse_args(argv)
    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    settings = Settings()
    if args.ocr_language:
        problem = missing_languages(args.ocr_language)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        settings = settings.model_copy(update={"ocr": settings.ocr.model_copy(update={"language": args.ocr_language})})
    print(f"OCR language: {settings.ocr.language}")
    root = require_evaldata(*[name for name in datasets if name != "generated"])
    peer = None if args.no_peer else ensure_peer()
    if not args.no_peer and peer is None:
        print("invoice2data could not be installed: peer columns skipped", file=sys.stderr)
    benches: dict[str, tuple[Callable[..., dict[str, ToolRun]], bool]] = {
        "invoice2data": (bench_invoice2data, False),
        "sroie": (bench_sroie, True),
        "generated": (bench_generated, False),
    }
    dump: dict[str, Any] = {}
    ours_by_dataset: dict[str, ToolRun] = {}
    for name in datasets:
        function, with_f1 = benches[name]
        runs = function(root, peer, args.limit, settings, args.offset, args.sroie_words)
        ours_by_dataset[name] = runs["docintel"]
        print(report(f"\n{name}: field exact match after normalisation", runs, with_f1))
        if args.misses:
            for miss in runs["docintel"].misses:
                print("   miss", miss)
        dump[name] = {
            tool: {
                "fields": {key: vars(tally) for key, tally in run.tallies.items()},
                "failures": run.failures,
                "seconds": run.seconds,
                "misses": run.misses,
                "records": [vars(record) for record in run.records],
            }
            for tool, run in runs.items()
        }
    measurements = {
        name: [DocMeasurement(name, r.field, r.raw, r.right, r.doc) for r in run.records]
        for name, run in ours_by_dataset.items()
    }
    for name, run in ours_by_dataset.items():
        print("\n" + accept_report(name, run, measurements))
    if args.calibrate:
        pooled = [m for rows in measurements.values() for m in rows]
        cutoffs = fit_cutoffs(pooled)
        CALIBRATION_TABLE.write_text(write_table(cutoffs, ", ".join(datasets)), encoding="utf-8")
        print(
            f"\ncalibration: {len(cutoffs)} field(s) with a cutoff written to {CALIBRATION_TABLE.name}: "
            + "; ".join(f"{f} raw>={c[0]} ({c[2]}/{c[1]})" for f, c in sorted(cutoffs.items()))
        )
    if args.json:
        args.json.write_text(json.dumps(dump, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
