"""The disclosure bundle of a case: one PDF and a ZIP of redacted copies, each with an index and a redaction schedule.

Each confirmed document is re-read from its source (nothing is kept between runs) and redacted by
:func:`docintel.redact.redact_content`: every personal-data finding is removed except the requester's own (a
finding is the requester's when its keyed hash is one of the case's: the same hashes the search used), and pages
the handler marked exempt are replaced by a notice naming the exemption. PDFs are re-rendered as images, so no
text layer survives underneath a black box; other formats become text with ``[TYPE]`` in place of what was removed.

The bundle PDF is: the cover letter, the index of documents (source, date, title, pages in the bundle), the schedule
of redactions with their reasons, then every document. The ZIP holds the same redacted copies, one file each, with
``index.csv`` and ``schedule.csv``. A document that cannot be re-read (a source not re-read here, or changed since
it was catalogued) is listed in the index as not included, with why, so nothing goes missing silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from docintel.catalogue.sar_cases import CONFIRMED, SarCaseStore
from docintel.enrich.hashing import pii_hash
from docintel.enrich.name_variants import parse_person_name
from docintel.errors import DocintelError
from docintel.extract.sniff import sniff
from docintel.models import PiiFinding
from docintel.redact import redact_content
from docintel.subject_access import SnippetUnavailable, catalogued_documents, reread_content

if TYPE_CHECKING:
    from docintel.catalogue.store import CatalogueStore
    from docintel.enrich.analyzer import TextAnalyzer
    from docintel.settings import Settings

logger = logging.getLogger(__name__)

# Exemptions a handler may mark (Data Protection Act 2018, Schedule 2), as the schedule of redactions names them.
EXEMPTIONS: dict[str, str] = {
    "legal_privilege": "Legal professional privilege (DPA 2018 Sch. 2 para. 19)",
    "third_party": "Information about other people (DPA 2018 Sch. 2 paras. 16-17)",
    "crime_prevention": "Prevention or detection of crime (DPA 2018 Sch. 2 para. 2)",
}
# Why third parties' personal data is removed, as the schedule says it.
THIRD_PARTY_REASON = "Personal data of other people removed (DPA 2018 Sch. 2 para. 16)"

# The cover letter, unless the council gives its own (``--letter``): str.format fields below.
COVER_LETTER = """Our reference: {case_id}
Date: {date}

Dear {addressee},

Subject access request received on {received_on}

Thank you for your request for a copy of the personal information the council holds about you. We have searched
the council's records, including its shared drives, SharePoint sites, OneDrive folders and mailboxes.

Enclosed are {documents} document(s) ({pages} pages). An index of the documents follows this letter, and then a
schedule of what was removed from them and why. Information about other people has been removed to protect their
privacy; where information was withheld under an exemption, the schedule names the exemption.

If you are unhappy with this response, you may ask us for an internal review, and you have the right to complain
to the Information Commissioner's Office (ico.org.uk, 0303 123 1113).

Yours sincerely,

{handler}
Information Governance
"""

# Characters the bundle's built-in font (Helvetica, cp1252) cannot draw are shown as this.
UNDRAWABLE = "*"


class NothingToBundle(DocintelError):
    """The case has no confirmed document to disclose."""

    exit_code = 2
    http_status = 409


@dataclass
class BundledDocument:
    """One confirmed document in the bundle: where it is, what was removed from it and why."""

    number: int
    document_id: str
    source: str
    title: str
    date: str
    copy_name: str | None = None
    bundle_pages: tuple[int, int] | None = None  # first and last page in the bundle PDF
    redacted: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)
    withheld_pages: dict[int, str] = field(default_factory=dict)  # page -> exemption label
    withheld_whole: str | None = None  # exemption label when the whole document is withheld
    not_included: str | None = None  # why it could not be re-read

    def schedule_rows(self) -> list[tuple[str, str, str]]:
        """(where, what, why) rows of the redaction schedule for this document."""
        rows = []
        if self.withheld_whole:
            rows.append(("whole document", "withheld", self.withheld_whole))
        for page, label in sorted(self.withheld_pages.items()):
            rows.append((f"page {page}", "page withheld", label))
        if self.redacted:
            what = ", ".join(
                f"{kind.lower().replace('_', ' ')} x{count}" for kind, count in sorted(self.redacted.items())
            )
            rows.append(("throughout", what, THIRD_PARTY_REASON))
        if self.not_included:
            rows.append(("whole document", "not included", self.not_included))
        return rows


@dataclass
class BundleResult:
    """The bundle written: its files, documents and size."""

    pdf_path: Path
    zip_path: Path
    documents: list[BundledDocument]
    pages: int
    sha256: str

    @property
    def included(self) -> list[BundledDocument]:
        """Documents whose (redacted) pages are in the bundle."""
        return [doc for doc in self.documents if doc.bundle_pages is not None]


def requester_keeper(identifiers: Iterable[Mapping[str, Any]], key: bytes) -> Callable[[PiiFinding], bool]:
    """A predicate true for findings that are the requester's own: their keyed hash is one of the case's."""
    wanted = {(row["entity_type"], row["value_hash"]) for row in identifiers}

    def forms(finding: PiiFinding) -> list[str]:
        texts = [finding.text]
        if finding.entity_type == "PERSON":
            # "Mrs Olivia Smith" as found; the case hashed "olivia smith": drop the title, both with and without marks.
            for keep_marks in (True, False):
                try:
                    name = parse_person_name(finding.text, keep_marks=keep_marks)
                except ValueError:
                    continue
                texts.append(" ".join((*name.given, name.surname)))
        return texts

    def keep(finding: PiiFinding) -> bool:
        return any((finding.entity_type, pii_hash(finding.entity_type, text, key)) in wanted for text in forms(finding))

    return keep


def _drawable(text: str) -> str:
    return "".join(ch if _encodable(ch) else UNDRAWABLE for ch in text)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _paragraphs(text: str, style: Any) -> list[Any]:
    from reportlab.platypus import Paragraph, Spacer

    flowables: list[Any] = []
    for line in text.splitlines():
        flowables.append(Paragraph(escape(_drawable(line)), style) if line.strip() else Spacer(1, 6))
    return flowables


# A letter block with a line this long is prose, reflowed as one paragraph; shorter lines (reference, date, the
# signature) keep their breaks.
PROSE_LINE_CHARS = 60


def _letter_text(letter: str) -> str:
    """The letter with its prose paragraphs joined into single lines, so the PDF wraps them to its own width."""
    blocks = letter.split("\n\n")
    flowed = [
        " ".join(block.split()) if any(len(line) > PROSE_LINE_CHARS for line in block.splitlines()) else block
        for block in blocks
    ]
    return "\n\n".join(flowed)


def _front_matter(case: Mapping[str, Any], letter: str, documents: list[BundledDocument]) -> bytes:
    """The cover letter, the index and the schedule of redactions as a PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ]
    )

    def table(header: list[str], rows: list[list[str]], widths: list[float]) -> Any:
        data = [[Paragraph(escape(_drawable(value)), cell) for value in row] for row in [header, *rows]]
        made = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
        made.setStyle(grid)
        return made

    story: list[Any] = _paragraphs(_letter_text(letter), styles["BodyText"])
    story += [PageBreak(), Paragraph(f"Index of documents - {escape(case['id'])}", styles["Heading2"]), Spacer(1, 4)]
    index_rows = []
    for doc in documents:
        if doc.bundle_pages:
            pages = f"{doc.bundle_pages[0]}-{doc.bundle_pages[1]}"
        else:
            pages = "withheld" if doc.withheld_whole else "not included"
        index_rows.append([str(doc.number), doc.source, doc.date, doc.title, pages])
    story.append(table(["No.", "Source", "Date", "Title", "Pages"], index_rows, [10, 25, 22, 95, 22]))
    story += [PageBreak(), Paragraph("Schedule of redactions", styles["Heading2"]), Spacer(1, 4)]
    schedule_rows = [[str(doc.number), *row] for doc in documents for row in doc.schedule_rows()]
    story.append(
        table(["No.", "Where", "What", "Why"], schedule_rows or [["-", "-", "nothing removed", "-"]], [10, 28, 62, 74])
    )
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"Subject access disclosure {case['id']}").build(story)
    return out.getvalue()


def _text_pdf(text: str, heading: str) -> bytes:
    """A redacted text document laid out as PDF pages for the bundle."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("doc", fontName="Helvetica", fontSize=9, leading=11)
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(
        [Paragraph(escape(_drawable(heading)), styles["Heading3"]), *_paragraphs(text, body)]
    )
    return out.getvalue()


def _page_count(pdf: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def _merge(parts: list[bytes], out_path: Path) -> int:
    import pypdfium2

    merged = pypdfium2.PdfDocument.new()
    sources = []
    try:
        for part in parts:
            source = pypdfium2.PdfDocument(part)
            sources.append(source)
            merged.import_pages(source)
        merged.save(str(out_path))
        return len(merged)
    finally:
        for source in sources:
            source.close()
        merged.close()


def _title(row: Mapping[str, Any]) -> str:
    # Catalogued titles and names are masked already: no third party's name shows in the index.
    return str(row.get("title") or row.get("name") or row["document_id"])


def build_bundle(
    store: CatalogueStore,
    case_id: str,
    out_dir: Path | str,
    *,
    analyzer: TextAnalyzer,
    settings: Settings,
    key: bytes,
    user: str,
    addressee: str | None = None,
    letter_template: str | None = None,
) -> BundleResult:
    """Write ``<case>-bundle.pdf`` and ``<case>-bundle.zip`` into ``out_dir`` (module docstring); audited."""
    cases = SarCaseStore(store)
    case = cases.get(case_id)
    confirmed = cases.documents(case_id, CONFIRMED)
    if not confirmed:
        raise NothingToBundle(f"case {case_id} has no confirmed document: confirm documents before bundling")
    keep = requester_keeper(cases.identifiers(case_id), key)
    exemptions: dict[str, list[dict[str, Any]]] = {}
    for exemption in cases.exemptions(case_id):
        exemptions.setdefault(exemption["document_id"], []).append(exemption)
    rows = catalogued_documents(store, [row["document_id"] for row in confirmed])
    confirmed.sort(key=lambda row: (row["modified_at"] or dt.datetime.min.replace(tzinfo=dt.UTC), _title(row)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    documents: list[BundledDocument] = []
    parts: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix="docintel-sar-") as work:
        copies: list[Path] = []
        for number, row in enumerate(confirmed, start=1):
            modified = row["modified_at"]
            doc = BundledDocument(
                number,
                row["document_id"],
                row["source"] or "",
                _title(row),
                modified.date().isoformat() if modified else "",
            )
            documents.append(doc)
            marked = exemptions.get(doc.document_id, [])
            whole = next((e for e in marked if e["page"] is None), None)
            if whole is not None:
                doc.withheld_whole = EXEMPTIONS.get(whole["exemption"], whole["exemption"])
                continue
            doc.withheld_pages = {e["page"]: EXEMPTIONS.get(e["exemption"], e["exemption"]) for e in marked}
            part = _redacted_part(doc, rows=rows, settings=settings, analyzer=analyzer, keep=keep, work=Path(work))
            if part is None:
                continue
            copy, pdf = part
            copies.append(copy)
            parts.append(pdf)
        letter = (letter_template or COVER_LETTER).format(
            case_id=case_id,
            date=dt.datetime.now(dt.UTC).date().isoformat(),
            addressee=addressee or "Requester",
            received_on=case["received_on"].isoformat(),
            documents=len(parts),
            pages=sum(_page_count(pdf) for pdf in parts),
            handler=case["handler"],
        )
        # Two passes: the index needs each document's first page, which follows the front matter.
        front_pages = _page_count(_front_matter(case, letter, documents))
        _number_pages(documents, parts, front_pages)
        front = _front_matter(case, letter, documents)
        if _page_count(front) != front_pages:  # page ranges grew the index by a page: number again
            _number_pages(documents, parts, _page_count(front))
            front = _front_matter(case, letter, documents)
        pdf_path = out_dir / f"{case_id}-bundle.pdf"
        pages = _merge([front, *parts], pdf_path)
        zip_path = out_dir / f"{case_id}-bundle.zip"
        _write_zip(zip_path, letter, documents, copies)
    sha256 = hashlib.sha256(pdf_path.read_bytes()).hexdigest()
    cases.audit(
        case_id,
        user,
        "sar_bundle",
        to_value=sha256,
        reason=f"{len(parts)} documents, {pages} pages, {sum(1 for d in documents if d.not_included)} not included",
    )
    logger.info("bundle of case %s: %d documents, %d pages", case_id, len(parts), pages)
    return BundleResult(pdf_path, zip_path, documents, pages, sha256)


def _redacted_part(
    doc: BundledDocument,
    *,
    rows: Mapping[str, Mapping[str, Any]],
    settings: Settings,
    analyzer: TextAnalyzer,
    keep: Callable[[PiiFinding], bool],
    work: Path,
) -> tuple[Path, bytes] | None:
    """The redacted copy of one document and its pages for the bundle; None (with the reason) when not re-read."""
    if doc.document_id not in rows:
        doc.not_included = "no longer in the catalogue (deleted at its source)"
        return None
    try:
        content = reread_content(doc.document_id, rows, settings)
        file_type, _ = sniff(content, str(rows[doc.document_id]["name"]))
        suffix = "pdf" if file_type.value == "pdf" else "txt"
        copy = work / f"{doc.number:03d}-{doc.document_id[:12]}.{suffix}"
        result = redact_content(
            content,
            str(rows[doc.document_id]["name"]),
            copy,
            analyzer,
            settings,
            keep=keep,
            withheld_pages=doc.withheld_pages,
        )
    except SnippetUnavailable as reason:
        doc.not_included = f"could not be re-read: {reason}"
        return None
    except DocintelError as error:
        doc.not_included = f"could not be redacted ({error.kind})"
        return None
    doc.copy_name = copy.name
    doc.redacted, doc.kept = result.redacted, result.kept
    pdf = (
        copy.read_bytes()
        if suffix == "pdf"
        else _text_pdf(copy.read_text(encoding="utf-8"), f"{doc.number}. {doc.title}")
    )
    return copy, pdf


def _number_pages(documents: list[BundledDocument], parts: list[bytes], first_page: int) -> None:
    """Set each included document's page range in the bundle, documents following the front matter."""
    page = first_page + 1
    included = iter(parts)
    for doc in documents:
        if doc.copy_name is None:
            doc.bundle_pages = None
            continue
        count = _page_count(next(included))
        doc.bundle_pages = (page, page + count - 1)
        page += count


def _write_zip(zip_path: Path, letter: str, documents: list[BundledDocument], copies: list[Path]) -> None:
    index, schedule = io.StringIO(), io.StringIO()
    index_writer = csv.writer(index)
    index_writer.writerow(["number", "source", "date", "title", "file", "bundle_pages", "status"])
    schedule_writer = csv.writer(schedule)
    schedule_writer.writerow(["number", "where", "what", "why"])
    for doc in documents:
        pages = f"{doc.bundle_pages[0]}-{doc.bundle_pages[1]}" if doc.bundle_pages else ""
        status = "withheld" if doc.withheld_whole else ("not included" if doc.not_included else "included")
        index_writer.writerow([doc.number, doc.source, doc.date, doc.title, doc.copy_name or "", pages, status])
        for row in doc.schedule_rows():
            schedule_writer.writerow([doc.number, *row])
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cover-letter.txt", letter)
        archive.writestr("index.csv", index.getvalue())
        archive.writestr("schedule.csv", schedule.getvalue())
        for copy in copies:
            archive.write(copy, f"documents/{copy.name}")
