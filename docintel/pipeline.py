"""The pipeline: sources → fetch → sniff → extract → enrich → classify → contract → retain → sign → catalogue.

Each stage is one function that takes a :class:`DocumentRecord` and returns an updated copy; the
only I/O goes through the components in :class:`Engines` (extractors, analyzer, classifier) and the
catalogue store handed in. The same functions run in-process (``docintel scan``/``analyze``) and in
rq jobs (``workers/``).

A stage that raises a :class:`DocintelError` marks the document failed with that error's class and
safe message; later stages are skipped, the run goes on. Any other exception is a bug and propagates,
except inside a third-party parser, where hostile input can raise anything: there it is recorded as
``CorruptDocument`` and logged with its traceback.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import hashlib
import logging
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from docintel import __version__
from docintel.errors import (
    ArchiveBomb,
    CorruptDocument,
    DocintelError,
    ExtractionTimeout,
    PassedOver,
    UnsupportedType,
)
from docintel.extract import default_registry
from docintel.extract.base import ExtractContext, ExtractorRegistry, FileType
from docintel.extract.sniff import sniff
from docintel.models import (
    Attachment,
    Classification,
    DocumentRecord,
    DocumentStatus,
    Entity,
    ErrorInfo,
    Page,
    PiiFinding,
    Provenance,
    StageRun,
    StageStatus,
    join_pages,
)
from docintel.retention import UNCLASSIFIED, birth_year_in, retain
from docintel.settings import Settings
from docintel.sources.base import SourceConnector, document_id
from docintel.sources.local import LocalFolderSource, PassedOverEntry

if TYPE_CHECKING:
    from classifiers.base import RetentionClassifier
    from classifiers.config import SignalSettings
    from docintel.catalogue.store import CatalogueStore
    from docintel.enrich.analyzer import TextAnalyzer
    from docintel.enrich.fields import LabelMasker
    from docintel.retention import RetentionSchedule

logger = logging.getLogger(__name__)


@dataclass
class Engines:
    """The components the stages use, built once per process and loaded lazily."""

    settings: Settings
    extractors: ExtractorRegistry = field(default_factory=default_registry)
    pii_key: bytes | None = None

    @cached_property
    def analyzer(self) -> TextAnalyzer:
        """spaCy + Presidio, loaded on first use (seconds, hundreds of MB)."""
        from docintel.enrich.analyzer import get_analyzer

        return get_analyzer(self.settings)

    @cached_property
    def schedule(self) -> RetentionSchedule:
        """The council's retention schedule."""
        from docintel.retention import load_schedule

        return load_schedule(self.settings.config_path(self.settings.retention.schedule_file))

    @cached_property
    def classifier(self) -> RetentionClassifier:
        """The configured retention classifier."""
        from classifiers import get_classifier

        return get_classifier(self.settings.retention.classifier, self.schedule)

    @cached_property
    def key(self) -> bytes:
        """The key for hashing personal data (from the environment)."""
        if self.pii_key is not None:
            return self.pii_key
        from docintel.enrich.hashing import load_pii_key

        return load_pii_key()

    @cached_property
    def label_masker(self) -> LabelMasker:
        """Masks personal data in file names, folder paths, titles and locators (the text's recognizers)."""
        from docintel.enrich.fields import LabelMasker

        return LabelMasker(self.analyzer, self.key)

    @cached_property
    def signal_settings(self) -> SignalSettings:
        """Governance signal settings (``signals`` in config/classifier.yaml): shingle size for text signatures."""
        from classifiers.config import load_classifier_config

        return load_classifier_config(settings=self.settings).signals

    def check_ocr(self) -> None:
        """Fail fast (ConfigError) when OCR is on and tesseract cannot load the configured language."""
        from docintel.extract.ocr import check_ocr_settings

        check_ocr_settings(self.settings.ocr)

    def warm(self) -> None:
        """Check the OCR language and load every model now (workers call this before forking)."""
        self.check_ocr()
        _ = self.key, self.signal_settings
        warm_classifier = getattr(self.classifier, "warm", None)
        if callable(warm_classifier):  # the model classifiers load their encoder and head here
            warm_classifier()
        if self.settings.pii.enabled:
            self.analyzer.warm()


def new_record(provenance: Provenance, *, depth: int = 0) -> DocumentRecord:
    """A pending record for a document a source has discovered."""
    return DocumentRecord(
        id=document_id(provenance.source, provenance.locator),
        provenance=provenance,
        size=provenance.size,
        depth=depth,
    )


def _failed(record: DocumentRecord, error: DocintelError) -> DocumentRecord:
    return record.model_copy(
        update={"status": DocumentStatus.FAILED, "error": ErrorInfo(type=error.kind, message=error.message)}
    )


def _stage_run(
    record: DocumentRecord,
    stage: str,
    component: str,
    *,
    started: float,
    version: str = "",
    error: DocintelError | None = None,
) -> DocumentRecord:
    run = StageRun(
        stage=stage,
        component=component,
        version=version,
        started_at=dt.datetime.fromtimestamp(started, dt.UTC),
        seconds=round(time.time() - started, 6),
        status=StageStatus.FAILED if error else StageStatus.OK,
        error=ErrorInfo(type=error.kind, message=error.message) if error else None,
    )
    return record.model_copy(update={"stage_runs": [*record.stage_runs, run]})


@contextlib.contextmanager
def _time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise ExtractionTimeout if the block runs longer than ``seconds`` (main thread only)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise ExtractionTimeout(f"{what} took longer than {seconds:g} s (limits.document_timeout_seconds)")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# What third-party parsers raise on hostile input. Caught only around an extractor call, where it means
# "these bytes do not parse", never around our own logic.
_PARSER_FAILURES = (
    MemoryError,
    RecursionError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AssertionError,
    AttributeError,
    OSError,
    EOFError,
    UnicodeError,
    ZeroDivisionError,
    OverflowError,
)


# --- stages -----------------------------------------------------------------------------------


def sniff_stage(record: DocumentRecord, content: bytes) -> DocumentRecord:
    """Hash the bytes and find the real file type from them (never from the name)."""
    started = time.time()
    record = record.model_copy(update={"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
    try:
        file_type, mime = sniff(content, record.provenance.name)
        record = record.model_copy(update={"file_type": file_type.value, "mime_type": mime})
        if file_type is FileType.UNKNOWN:
            raise UnsupportedType(f"unsupported file type {mime}")
    except DocintelError as error:
        return _failed(_stage_run(record, "sniff", "libmagic", started=started, error=error), error)
    return _stage_run(record, "sniff", "libmagic", started=started)


def extract_stage(record: DocumentRecord, content: bytes, engines: Engines) -> tuple[DocumentRecord, list[Attachment]]:
    """Read pages of text (text layer or OCR) and find child documents."""
    started = time.time()
    settings = engines.settings
    component, version = "none", ""
    try:
        extractor = engines.extractors.for_type(FileType(record.file_type or FileType.UNKNOWN.value))
        component, version = extractor.name, getattr(extractor, "version", "")
        context = ExtractContext(
            name=record.provenance.name, limits=settings.limits, ocr=settings.ocr, depth=record.depth
        )
        # Nested documents share the top-level document's alarm: only the outermost call sets one.
        limit = settings.limits.document_timeout_seconds if record.depth == 0 else 0
        with _time_limit(limit, f"reading {record.file_type}"):
            try:
                extraction = extractor.extract(content, context)
            except DocintelError:
                raise
            except _PARSER_FAILURES as exc:
                logger.warning(
                    "document %s: %s parser raised %s", record.id, extractor.name, type(exc).__name__, exc_info=True
                )
                raise CorruptDocument(f"{extractor.name} parser failed: {type(exc).__name__}") from exc
    except DocintelError as error:
        return _failed(
            _stage_run(record, "extract", component, started=started, version=version, error=error), error
        ), []
    pages, text = join_pages([_clean_page(page) for page in extraction.pages])
    record = record.model_copy(
        update={
            "pages": pages,
            "text": text,
            "title": extraction.title or record.title,
            "metadata": {**record.metadata, **extraction.metadata},
            "notes": [*record.notes, *extraction.notes],
        }
    )
    return _stage_run(record, "extract", component, started=started, version=version), extraction.attachments


# Lone UTF-16 surrogates (broken ToUnicode maps in PDFs) are not text: they cannot be encoded, and spaCy and
# the catalogue fail on them. They become U+FFFD, one for one, so offsets stay the same.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_page(page: Page) -> Page:
    if _LONE_SURROGATE.search(page.text) is None:
        return page
    return page.model_copy(update={"text": _LONE_SURROGATE.sub("\ufffd", page.text)})


def enrich_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Find named entities and personal data in one NLP pass; hash every value with the PII key."""
    if not engines.settings.pii.enabled or not record.text.strip():
        return record
    started = time.time()
    analyzer = engines.analyzer
    nlp = engines.settings.nlp
    notes = list(record.notes)
    text = record.text
    if len(text) > nlp.max_pii_scan_chars:
        notes.append(f"personal data searched in the first {nlp.max_pii_scan_chars:,} of {len(text):,} characters")
        text = text[: nlp.max_pii_scan_chars]
    try:
        entities, findings = analyzer.analyze(text)
    except DocintelError as error:
        return _failed(_stage_run(record, "enrich", "spacy+presidio", started=started, error=error), error)
    from docintel.enrich.hashing import pii_hash

    kept_text = _kept_text(text, entities, findings, engines.settings)
    if len(findings) > nlp.max_findings:
        notes.append(f"{len(findings):,} personal-data findings; the first {nlp.max_findings:,} are kept")
        findings = findings[: nlp.max_findings]
    entities = entities[: nlp.max_findings]
    key = engines.key
    page_of = _page_finder(record)
    entities = [
        e.model_copy(update={"page": page_of(e.start), "value_hash": pii_hash(e.label, e.text, key)}) for e in entities
    ]
    findings = [
        f.model_copy(update={"page": page_of(f.start), "value_hash": pii_hash(f.entity_type, f.text, key)})
        for f in findings
    ]
    update = {"entities": entities, "pii": findings, "notes": notes, "kept_text": kept_text}
    record = record.model_copy(update=update)
    return _stage_run(record, "enrich", "spacy+presidio", started=started, version=getattr(analyzer, "version", ""))


def _kept_text(text: str, entities: list[Entity], findings: list[PiiFinding], settings: Settings) -> str | None:
    """The text to keep in the catalogue (catalogue.keep_text), every finding and name masked; else None.

    Only the part that every recognizer read is kept: NER (names) stops at nlp.max_chars, so text past it
    could hold names in clear, and ``text`` is already cut where the personal-data search stopped.
    """
    if not settings.catalogue.keep_text:
        return None
    from docintel.redact import mask_spans

    spans = [(f.start, f.end) for f in findings]
    spans += [(e.start, e.end) for e in entities if e.label == "PERSON"]
    return mask_spans(text[: settings.nlp.max_chars], spans)


def _page_finder(record: DocumentRecord) -> Callable[[int], int | None]:
    """Offset -> page number by binary search (documents can have thousands of pages and findings)."""
    starts = [page.start for page in record.pages]
    numbers = [page.number for page in record.pages]

    def page_of(offset: int) -> int | None:
        if not numbers:
            return None
        return numbers[max(0, bisect.bisect_right(starts, offset) - 1)]

    return page_of


def classify_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Choose the retention class, with confidence, explanation and disposal date."""
    started = time.time()
    classifier = engines.classifier
    try:
        classification = classifier.classify(record)
    except DocintelError as error:
        return _failed(_stage_run(record, "classify", classifier.name, started=started, error=error), error)
    record = record.model_copy(update={"classification": classification})
    return _stage_run(record, "classify", classifier.name, started=started, version=getattr(classifier, "version", ""))


def retain_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Set the retention and disposal date of the record's class: the one place dates are chosen for new records.

    Also keeps the year of the latest date of birth found (never the date) so that a reviewer who later puts
    the document in a "DOB + N years" class gets its date from the catalogue (docintel.retention.retain).
    """
    started = time.time()
    birth_year = birth_year_in(record.pii, engines.settings.retention.date_of_birth_min_score)
    if birth_year is None:
        birth_year = record.birth_year  # a record re-classified without its text keeps what was found before
    record = record.model_copy(update={"birth_year": birth_year})
    classification = record.classification
    if classification is None:
        return record
    try:
        retention = retain(
            engines.schedule,
            classification.record_class,
            created=record.provenance.created_at,
            modified=record.provenance.modified_at,
            birth_year=birth_year,
            expiry_date=record.contract.date("end_date") if record.contract is not None else None,
        )
    except DocintelError as error:
        return _failed(_stage_run(record, "retain", "schedule", started=started, error=error), error)
    classification = classification.model_copy(update={"retention": retention})
    record = record.model_copy(update={"classification": classification})
    return _stage_run(record, "retain", "schedule", started=started, version=engines.schedule.version)


def contract_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Read contract terms from documents classified as contracts (or every document when contracts.always is on).

    Person names (individual parties, signatories) get a keyed hash, and a contract executed as a deed moves from the
    simple-contract class to the deed class (12 years, not 6). The contract's end date starts the retention clock
    of "expiry" classes in retain_stage, which runs next.
    """
    settings = engines.settings.contracts
    classification = record.classification
    if not settings.always and (classification is None or classification.record_class not in settings.classes):
        return record
    from docintel.contracts.extract import extract_contract
    from docintel.enrich.hashing import pii_hash

    started = time.time()
    contract = extract_contract(record.text, record.pages)
    key = engines.key
    for party in contract.parties:
        if not party.organisation and party.name.value:
            party.name_hash = pii_hash("PERSON", party.name.value, key)
    for signatory in contract.signatories:
        if signatory.name.value:
            signatory.name_hash = pii_hash("PERSON", signatory.name.value, key)
    record = record.model_copy(update={"contract": contract})
    if classification is not None:
        record = record.model_copy(update={"classification": _contract_class(record, classification, engines)})
    return _stage_run(record, "contract", "contract-rules", started=started, version=__version__)


def _contract_class(record: DocumentRecord, classification: Classification, engines: Engines) -> Classification:
    """The classification, moved to the deed class when the contract was executed as a deed (dates: retain_stage)."""
    from docintel import defaults

    contract = record.contract
    if contract is None or classification.classifier == "review":
        return classification
    deed = contract.fields.get("executed_as_deed")
    if (
        deed is None
        or deed.value != "true"
        or classification.record_class not in engines.settings.contracts.classes
        or classification.record_class == defaults.DEED_CLASS
        or defaults.DEED_CLASS not in engines.schedule.ids
    ):
        return classification
    explanation = f"{classification.explanation}; executed as a deed (page {deed.page or '?'}), so kept as a deed"
    return classification.model_copy(update={"record_class": defaults.DEED_CLASS, "explanation": explanation})


def signature_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Keep a MinHash signature of the text (64 ints) so near-duplicates are found later without the text."""
    from classifiers.signals import text_signature

    return record.model_copy(update={"minhash": text_signature(record.text, engines.signal_settings.shingle_words)})


def mask_labels_stage(record: DocumentRecord, engines: Engines) -> DocumentRecord:
    """Mask personal data in the file name, folder path, title and locator of a record and its children.

    Runs on every record just before it is stored, failed ones included (a file that could not be read still
    has a name). The findings join the text's, hashed, so subject access finds a document by its name; the
    web URL is dropped when it spells out a masked value; an unmasked locator is kept aside only for
    re-reading the file (``Provenance.source_locator``).
    """
    children = [mask_labels_stage(child, engines) for child in record.children]
    if not engines.settings.pii.enabled:
        return record.model_copy(update={"children": children}) if children else record
    prov = record.provenance
    masker = engines.label_masker
    try:
        name, path = masker.mask(prov.name, "name"), masker.mask(prov.path, "path")
        title, locator = masker.mask(record.title, "title"), masker.mask(prov.locator, "locator")
    except DocintelError as error:
        # Nothing may be stored in clear that was not searched: withhold the labels and say why.
        withheld = "<WITHHELD>"
        provenance = prov.model_copy(
            update={
                "name": withheld,
                "path": withheld,
                "locator": withheld,
                "source_locator": prov.locator,
                "web_url": None,
            }
        )
        # The classifier's explanation may quote words of the unsearched labels: it goes too.
        withheld_update: dict[str, Any] = {
            "provenance": provenance,
            "title": None,
            "classification": None,
            "children": children,
        }
        return _failed(record.model_copy(update=withheld_update), error)
    raw_values = {label[f.start : f.end] for label, masked in ((prov.name, name), (prov.path, path),
                  (record.title or "", title), (prov.locator, locator)) for f in masked.findings}  # fmt: skip
    web_url = prov.web_url
    if web_url and any(value in unquote(web_url) for value in raw_values):
        web_url = None
    provenance = prov.model_copy(
        update={
            "name": name.masked,
            "path": path.masked,
            "locator": locator.masked,
            "source_locator": prov.locator if locator.changed else prov.source_locator,
            "web_url": web_url,
        }
    )
    # The locator's findings repeat the path's and name's: only those three labels' findings are kept.
    pii = [*record.pii, *name.findings, *path.findings, *title.findings]
    update: dict[str, Any] = {"provenance": provenance, "title": title.masked if record.title else None}
    if record.classification is not None:
        explanation = _scrub_explanation(record.classification.explanation, pii)
        update["classification"] = record.classification.model_copy(update={"explanation": explanation})
    return record.model_copy(update={**update, "pii": pii, "children": children})


@dataclass(frozen=True)
class MaskedLocation:
    """A file's name, folder path and web URL with personal data masked, and the name's and path's findings."""

    name: str
    path: str
    web_url: str | None
    findings: list[PiiFinding]

    def finding_rows(self) -> list[dict[str, Any]]:
        """The findings as pii_findings rows (without the document id): hashes and offsets, never values."""
        return [
            {"entity_type": f.entity_type, "page": None, "start": f.start, "end": f.end, "score": f.score,
             "recognizer": f.recognizer, "value_hash": f.value_hash, "field": f.field}
            for f in self.findings
        ]  # fmt: skip


def masked_location(engines: Engines, name: str, path: str, web_url: str | None) -> MaskedLocation:
    """A renamed or moved file's new name, path and web URL as the catalogue keeps them (the crawler's refresh)."""
    if not engines.settings.pii.enabled:
        return MaskedLocation(name, path, web_url, [])
    masked_name, masked_path = engines.label_masker.mask(name, "name"), engines.label_masker.mask(path, "path")
    raw_values = {name[f.start : f.end] for f in masked_name.findings} | {
        path[f.start : f.end] for f in masked_path.findings
    }
    kept_url = None if web_url and any(value in unquote(web_url) for value in raw_values) else web_url
    findings = [*masked_name.findings, *masked_path.findings]
    return MaskedLocation(masked_name.masked, masked_path.masked, kept_url, findings)


_QUOTED_TERM = re.compile(r"'([^'\s]+)'")
_WORD = re.compile(r"\w+")


def _scrub_explanation(explanation: str, findings: list[PiiFinding]) -> str:
    """The classifier's explanation with every quoted term that is a word of a finding replaced by ``<PII>``.

    The embedding classifier names the terms that drove it ('olivia', 'smith'), read from the name, path
    and text: a term that is part of a personal-data value must not reach the catalogue.
    """
    words = {word for finding in findings for word in _WORD.findall(finding.text.lower())}
    if not words:
        return explanation
    return _QUOTED_TERM.sub(lambda m: "'<PII>'" if m.group(1).lower() in words else m.group(0), explanation)


# --- one document, with its children --------------------------------------------------------


def _child_record(parent: DocumentRecord, attachment: Attachment) -> DocumentRecord:
    provenance = Provenance(
        source=parent.provenance.source,
        locator=f"{parent.provenance.locator}!/{attachment.name}",
        name=attachment.name.rsplit("/", 1)[-1] or attachment.name,
        path=parent.provenance.path,
        parent_id=parent.id,
        web_url=parent.provenance.web_url,
        size=len(attachment.content),
        created_at=parent.provenance.created_at,
        modified_at=attachment.modified_at or parent.provenance.modified_at,
    )
    return new_record(provenance, depth=parent.depth + 1)


def process_document(record: DocumentRecord, content: bytes, engines: Engines) -> DocumentRecord:
    """Run sniff → extract → enrich → classify → contract → retain → sign on a document and its attachments."""
    record = sniff_stage(record, content)
    attachments: list[Attachment] = []
    if record.status is not DocumentStatus.FAILED:
        record, attachments = extract_stage(record, content, engines)
    if record.status is not DocumentStatus.FAILED:
        record = enrich_stage(record, engines)
    if record.status is not DocumentStatus.FAILED:
        record = classify_stage(record, engines)
    if record.status is not DocumentStatus.FAILED:
        record = contract_stage(record, engines)
    if record.status is not DocumentStatus.FAILED:
        record = retain_stage(record, engines)
    if record.status is not DocumentStatus.FAILED:
        record = signature_stage(record, engines)
        record = record.model_copy(update={"status": DocumentStatus.OK})
    children = []
    max_depth = engines.settings.limits.max_archive_depth
    for attachment in attachments:
        child = _child_record(record, attachment)
        if child.depth > max_depth:
            error = ArchiveBomb(
                f"nested {child.depth} levels deep; the limit is {max_depth} (limits.max_archive_depth)"
            )
            children.append(_failed(child, error))
            continue
        children.append(process_document(child, attachment.content, engines))
    if children:
        record = record.model_copy(update={"children": children})
    return record


def fetch_stage(
    record: DocumentRecord, source: SourceConnector, engines: Engines
) -> tuple[DocumentRecord, bytes | None]:
    """Get the document's bytes from its source; a failure is recorded on the record, not raised."""
    started = time.time()
    try:
        content = source.fetch(record.provenance, engines.settings.limits.max_file_bytes)
    except DocintelError as error:
        return _failed(_stage_run(record, "fetch", source.name, started=started, error=error), error), None
    return _stage_run(record, "fetch", source.name, started=started), content


def fetch_and_process(provenance: Provenance, source: SourceConnector, engines: Engines) -> DocumentRecord:
    """Fetch a discovered document and run every stage on it."""
    record, content = fetch_stage(new_record(provenance), source, engines)
    if content is None:
        return record
    return process_document(record, content, engines)


# --- a whole source into the catalogue ------------------------------------------------------


@dataclass
class RunSummary:
    """What a scan did: counts, failures by reason, and the folder entries passed over (links, fifos...) by kind."""

    run_id: str = ""
    discovered: int = 0
    processed: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    passed_over: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    interrupted: bool = False
    _passed_over_labels: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def count(self, record: DocumentRecord) -> None:
        """Add a stored record (and its children) to the counts."""
        if record.status is DocumentStatus.FAILED:
            self.failed += 1
            self.failures[record.error.type if record.error else "unknown"] += 1
        else:
            self.ok += 1
        for child in record.children:
            self.count(child)

    def count_passed_over(self, error: PassedOver) -> None:
        """Add a folder entry that was not read, under its kind (``SymbolicLink``, ``PermissionDenied``...)."""
        self.passed_over[error.kind] += 1
        self._passed_over_labels[error.kind] = error.summary_label

    def passed_over_text(self) -> str:
        """ "Skipped 3: 2 symbolic links (not followed), 1 permission denied", or "" when nothing was passed over."""
        if not self.passed_over:
            return ""
        kinds = ", ".join(
            f"{count} {self._passed_over_labels[kind][count != 1]}" for kind, count in self.passed_over.most_common()
        )
        return f"Skipped {sum(self.passed_over.values())}: {kinds}"

    def as_dict(self) -> dict[str, int]:
        """Counts for the catalogue's run row."""
        return {
            "discovered": self.discovered,
            "processed": self.processed,
            "skipped": self.skipped,
            "ok": self.ok,
            "failed": self.failed,
            "passed_over": sum(self.passed_over.values()),
        }


@dataclass(frozen=True)
class ScanItem:
    """One entry of a scan, with what the catalogue already knows of it: the unit a scan worker is handed.

    ``known`` is the catalogued (sha256, status) of the document, None when new or when the scan is forced;
    ``reviewed`` a reviewer's (class, by, at); ``not_read`` is why the entry is recorded failed without being
    read: a folder entry the source passed over (:class:`PassedOver`), or a document whose worker died.
    """

    provenance: Provenance
    known: tuple[str | None, str] | None = None
    reviewed: tuple[str, str | None, dt.datetime | None] | None = None
    not_read: DocintelError | None = None

    @property
    def passed_over(self) -> PassedOver | None:
        """Why the source passed this entry over (a link, a fifo, permission denied), else None."""
        return self.not_read if isinstance(self.not_read, PassedOver) else None

    @property
    def document_id(self) -> str:
        """The catalogue id of the entry."""
        return document_id(self.provenance.source, self.provenance.locator)


def not_read_item(item: ScanItem, error: DocintelError) -> ScanItem:
    """The item again, to be recorded failed with ``error`` without being read (its worker died on it)."""
    return ScanItem(item.provenance, not_read=error)


def scan_items(
    store: CatalogueStore,
    documents: Sequence[Provenance],
    passed_over: Sequence[PassedOverEntry] = (),
    *,
    force: bool = False,
) -> Iterator[ScanItem]:
    """The scan's work in discovery order, catalogue look-ups done a batch at a time; passed-over entries last."""
    for batch_start in range(0, len(documents), _SKIP_CHECK_BATCH):
        batch = documents[batch_start : batch_start + _SKIP_CHECK_BATCH]
        ids = [document_id(p.source, p.locator) for p in batch]
        known = {} if force else store.known_hashes(ids)
        reviewed = store.reviewed_classes(ids)
        for doc_id, provenance in zip(ids, batch, strict=True):
            yield ScanItem(provenance, known=known.get(doc_id), reviewed=reviewed.get(doc_id))
    for entry in passed_over:
        yield ScanItem(entry.provenance, not_read=entry.error)


def prepare_item(item: ScanItem, source: SourceConnector, engines: Engines) -> DocumentRecord | None:
    """Everything a scan does to one entry before storing it (the heavy part); None when its content is unchanged.

    A scan worker process runs this; the process that owns the catalogue stores what it returns.
    """
    record = new_record(item.provenance)
    if item.not_read is not None:
        return mask_labels_stage(_failed(record, item.not_read), engines)
    record, content = fetch_stage(record, source, engines)
    if content is not None and item.known is not None and item.known[0] == hashlib.sha256(content).hexdigest():
        return None
    if content is not None:
        record = process_document(record, content, engines)
        if item.reviewed is not None:
            record = keep_reviewed_class(record, engines, *item.reviewed)
    return mask_labels_stage(record, engines)


def store_prepared(item: ScanItem, record: DocumentRecord | None, store: CatalogueStore, summary: RunSummary) -> None:
    """Store what :func:`prepare_item` made of an entry (one transaction), and count it."""
    if record is None:
        summary.skipped += 1
        return
    store.save(record, run_id=summary.run_id)
    if item.passed_over is not None:
        summary.count_passed_over(item.passed_over)
        return
    summary.processed += 1
    summary.count(record)
    logger.info("document %s: %s", record.id, record.status.value)


def scan_source(
    source: SourceConnector,
    store: CatalogueStore,
    engines: Engines,
    *,
    force: bool = False,
    progress: Callable[[Provenance], None] | None = None,
    discovered: list[Provenance] | None = None,
    passed_over: Sequence[PassedOverEntry] | None = None,
) -> RunSummary:
    """Process every document of a source into the catalogue, in this process, skipping content already catalogued.

    Each document is stored as soon as it is processed, so a crash or kill loses at most the document
    in hand; re-running picks up where it stopped (unchanged content is skipped by hash). Entries the
    source passed over (``source.skipped`` unless given) are recorded as failed with the reason.
    ``docintel scan --jobs N`` runs the same steps in N processes (:mod:`docintel.scan_pool`).
    """
    started = time.time()
    summary = RunSummary(run_id=store.start_run(source.name))
    items = discovered if discovered is not None else list(source.discover())
    if passed_over is None:
        passed_over = list(getattr(source, "skipped", []))
    summary.discovered = len(items)
    status = "finished"
    try:
        for item in scan_items(store, items, passed_over, force=force):
            store_prepared(item, prepare_item(item, source, engines), store, summary)
            if progress and item.passed_over is None:
                progress(item.provenance)
    except KeyboardInterrupt:
        status, summary.interrupted = "interrupted", True
        raise
    finally:
        summary.seconds = time.time() - started
        store.finish_run(summary.run_id, summary.as_dict(), status=status)
    return summary


# How many documents' catalogue hashes are looked up in one query when deciding what to skip.
_SKIP_CHECK_BATCH = 500


def keep_reviewed_class(
    record: DocumentRecord,
    engines: Engines,
    record_class: str,
    reviewed_by: str | None,
    reviewed_at: dt.datetime | None,
) -> DocumentRecord:
    """A reviewer's class outranks any classifier: re-applied, with its retention, when a document is re-read."""
    try:
        engines.schedule.get(record_class)
    except DocintelError:
        logger.warning("document %s: reviewed class %s is no longer in the schedule", record.id, record_class)
        return record
    when = reviewed_at.date().isoformat() if reviewed_at else "an earlier date"
    found = record.classification
    classification = Classification(
        record_class=record_class,
        confidence=1.0,
        explanation=f"set by reviewer {reviewed_by or 'unknown'} on {when}",
        classifier="review",
        # The classifier's own verdict is kept: the dashboard measures what it accepted against reviewers' classes.
        needs_review=found is None or found.needs_review or found.record_class == UNCLASSIFIED,
    )
    # Through the retain stage, so a date-of-birth class gets its date here as it does after classify.
    return retain_stage(record.model_copy(update={"classification": classification}), engines)


@dataclass
class ReclassifySummary:
    """What re-classifying the catalogue did."""

    documents: int = 0
    changed: int = 0  # documents whose class changed
    reread: int = 0  # read again from their local source for their text
    failed: int = 0


def catalogued_record(row: dict[str, Any]) -> DocumentRecord:
    """A record rebuilt from a catalogue row: identity, provenance, title, type and birth year (no text)."""
    provenance = Provenance(
        source=row["source"],
        locator=row["locator"],
        name=row["name"],
        path=row["path"] or "",
        parent_id=row.get("parent_id"),
        drive_id=row.get("drive_id"),
        item_id=row.get("item_id"),
        web_url=row.get("web_url"),
        size=row.get("size"),
        created_at=row.get("created_at"),
        modified_at=row.get("modified_at"),
    )
    return DocumentRecord(
        id=row["id"],
        provenance=provenance,
        sha256=row.get("sha256"),
        mime_type=row.get("mime_type"),
        file_type=row.get("file_type"),
        status=DocumentStatus.OK,
        title=row.get("title"),
        depth=row.get("depth") or 0,
        birth_year=row.get("birth_year"),
    )


def _reread_local(record: DocumentRecord, engines: Engines) -> DocumentRecord | None:
    """The record with its text read again from a local file, or None when it is not local or cannot be read."""
    if record.provenance.source != "local" or record.provenance.parent_id:
        return None
    fetched, content = fetch_stage(record, LocalFolderSource([]), engines)
    if content is None:
        return None
    read, _ = extract_stage(sniff_stage(fetched, content), content, engines)
    return read if read.status is not DocumentStatus.FAILED else None


def reclassify_catalogued(store: CatalogueStore, engines: Engines, *, reread: bool = True) -> ReclassifySummary:
    """Classify again every catalogued document no reviewer has classified (after ``docintel train``), with dates.

    Each document's text is its kept masked text (catalogue.keep_text), else the local file read again
    (``reread``), else none: the classifier then reads its title, name and folder. Classify and retain run as
    in a scan, so disposal dates (date-of-birth classes from the kept birth year) are the retain stage's.
    Only the class, retention and evidence are rewritten; pages, findings and stage runs stay as stored.
    """
    summary = ReclassifySummary()
    for row in store.iter_unreviewed():
        record = catalogued_record(row)
        if row.get("kept_text"):
            record = record.model_copy(update={"text": row["kept_text"]})
        elif reread:
            read = _reread_local(record, engines)
            if read is not None:
                record = read.model_copy(update={"stage_runs": []})
                summary.reread += 1
        summary.documents += 1
        record = retain_stage(classify_stage(record, engines), engines)
        if record.status is DocumentStatus.FAILED:
            summary.failed += 1
            logger.warning(
                "document %s: re-classification failed: %s", record.id, record.error.type if record.error else ""
            )
            continue
        new_class = record.classification.record_class if record.classification else None
        summary.changed += new_class != row.get("record_class")
        store.update_classification(record)
    return summary


def analyze_bytes(content: bytes, name: str, engines: Engines) -> DocumentRecord:
    """Run every stage on one in-memory file (``docintel analyze`` and the API use this)."""
    provenance = Provenance(source="local", locator=name, name=name, size=len(content))
    return process_document(new_record(provenance), content, engines)


def pipeline_version() -> str:
    """The docintel version recorded on stage runs and runs."""
    return __version__
