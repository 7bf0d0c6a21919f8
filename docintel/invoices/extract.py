"""extract_invoice: bytes in, Azure-named invoice fields, line items and validation checks out.

The data flow: sniff (PDF or image, else UnsupportedType) -> words with boxes (pdfium text layer, or
tesseract for scanned pages and images) -> lines and phrases -> item tables by columns -> labelled
header fields by position -> vendor and customer blocks -> validation, which also lowers the confidence
of the fields a failed check involves.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from PIL import Image

from docintel.errors import EmptyDocument, TooLarge, UnsupportedType
from docintel.extract.base import FileType
from docintel.extract.image import _count_frames, _frames, _open_image
from docintel.extract.ocr import TesseractOcr
from docintel.extract.pdf import _open_pdf, check_text_layer, render_pages
from docintel.extract.sniff import sniff
from docintel.invoices import parse
from docintel.invoices.fields import (
    Candidate,
    LabelIndex,
    Parser,
    account_parser,
    amount_parser,
    best_by_field,
    block_below,
    document_currency,
    id_parser,
    join_spans,
    labelled_candidates,
    make_date_parser,
    sort_code_parser,
    text_parser,
    vat_parser,
)
from docintel.invoices.images import enlarged, pages_to_reread
from docintel.invoices.layout import Line, Span, Word, group_lines, ocr_words, pdf_page_words, text_words
from docintel.invoices.models import (
    FIELD_NAMES,
    CheckStatus,
    InvoiceField,
    InvoiceItem,
    InvoiceResult,
    LayoutLine,
    ValidationCheck,
)
from docintel.invoices.profiles import SupplierProfile, load_profiles, select_profile
from docintel.invoices.table import find_items
from docintel.invoices.totals import choose_total
from docintel.invoices.validate import validate
from docintel.invoices.vendor import find_vendor, name_like
from docintel.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# Invoices are short; a 500-page "invoice" is a statement export or an attack on the OCR budget.
MAX_INVOICE_PAGES = 50
# Folder under the configuration folder holding supplier profiles.
PROFILE_FOLDER = "suppliers"
# Confidence multiplier for fields a failed validation check involves: they may be right, but say so.
FAILED_CHECK_PENALTY = 0.6
# Confidence of a profile's fixed vendor values (the profile matched on the supplier's own keywords).
PROFILE_CONFIDENCE = 0.97
# tesseract's page segmentation for invoice and receipt photos: one block of lines (--psm 6). Its own layout
# analysis (--psm 3) splits a receipt's wide-spaced columns into blocks and drops words; on SROIE receipts
# --psm 6 read 0.815 of the transcripts' words against 0.773 (mean over the first 30), and the field logic
# regroups words into lines and columns by their boxes anyway. Scanned PDF pages keep --psm 3.
IMAGE_PAGE_SEGMENTATION = 6
_CHECK_FIELDS = {
    "items_sum_to_subtotal": ("SubTotal",),
    "subtotal_plus_tax_is_total": ("SubTotal", "TotalTax", "InvoiceTotal"),
    "vat_rate_consistent": ("TotalTax",),
    "vat_number_valid": ("VendorTaxId",),
}


def extract_invoice(
    content: bytes,
    name: str = "",
    *,
    settings: Settings | None = None,
    profiles: Sequence[SupplierProfile] | Path | str | None = None,
    ocr: TesseractOcr | None = None,
) -> InvoiceResult:
    """Read an invoice (PDF or image); raise UnsupportedType for anything else, EmptyDocument for no bytes."""
    started = time.perf_counter()
    if not content:
        raise EmptyDocument("the invoice file has no bytes")
    settings = settings or get_settings()
    if len(content) > settings.limits.max_file_bytes:
        raise TooLarge(f"the invoice is {len(content):,} bytes, over the limit of {settings.limits.max_file_bytes:,}")
    file_type, mime = sniff(content, name)
    notes: list[str] = []
    rereading: list[Word] | None = None
    if file_type == FileType.PDF:
        words, page_count, methods = _pdf_words(content, settings, ocr, notes)
    elif file_type == FileType.IMAGE:
        words, rereading, page_count, methods = _image_words(content, settings, ocr, notes)
    elif file_type == FileType.TEXT:
        # Plain-text invoices (ERP and e-mail exports) carry the same labels in fixed-width columns.
        words, page_count, methods = text_words(_decode_text(content)), 1, {"text"}
    else:
        raise UnsupportedType(f"an invoice must be a PDF, an image or plain text; this file is {mime}")
    lines = group_lines(words)
    if profiles is None:
        profiles = load_profiles(settings.config_path(PROFILE_FOLDER))
    elif isinstance(profiles, Path | str):
        profiles = load_profiles(profiles)
    result = read_fields(lines, list(profiles))
    if rereading is not None:
        result = merge_readings(result, read_fields(group_lines(rereading), list(profiles)))
    result.pages = page_count
    result.method = methods.pop() if len(methods) == 1 else "mixed"
    result.notes = notes + result.notes
    result.seconds = round(time.perf_counter() - started, 4)
    logger.debug(
        "invoice read: %d page(s), %s, %d item(s), %.3f s", page_count, result.method, len(result.items), result.seconds
    )
    return result


def _decode_text(content: bytes) -> str:
    """Text bytes as UTF-8 (with a BOM or without), else Windows-1252, the two encodings exports use."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _pdf_words(
    content: bytes, settings: Settings, ocr: TesseractOcr | None, notes: list[str]
) -> tuple[list[Word], int, set[str]]:
    """Words of every page: the text layer where it is usable, OCR of the rendered page elsewhere."""
    document = _open_pdf(content)
    try:
        total = len(document)
        if total == 0:
            raise EmptyDocument("the PDF has no pages")
        count = min(total, MAX_INVOICE_PAGES)
        if count < total:
            notes.append(f"read the first {count} of {total} pages")
        words: list[Word] = []
        scans: list[int] = []
        for index in range(count):
            page = document[index]
            try:
                page_words = pdf_page_words(page, index + 1)
            finally:
                page.close()
            text = " ".join(word.text for word in page_words)
            if check_text_layer(text, settings.ocr).usable:
                words.extend(page_words)
            else:
                scans.append(index)
        methods = {"text_layer"} if len(scans) < count else set()
        if scans:
            methods.add("ocr")
            if not settings.ocr.enabled:
                notes.append(f"{len(scans)} scanned page(s) not read (OCR disabled)")
            else:
                reader = ocr or TesseractOcr(settings.ocr)
                # Rendered lazily, as the OCR pool takes them, so at most its few pages are held at once; each
                # image carries its own DPI (lower than asked for a page too big for the pixel cap).
                sizes: list[tuple[int, int]] = []

                def rendered() -> Iterator[Image.Image]:
                    for image in render_pages(document, scans, settings.ocr.dpi, settings.limits.max_render_pixels):
                        sizes.append(image.size)  # result i comes back after image i was rendered
                        yield image

                for number, (index, result) in enumerate(zip(scans, reader.ocr_many(rendered()), strict=True)):
                    width, height = sizes[number]
                    words.extend(ocr_words(result, width, height, index + 1))
        return words, total, methods
    finally:
        document.close()


def _image_words(
    content: bytes, settings: Settings, ocr: TesseractOcr | None, notes: list[str]
) -> tuple[list[Word], list[Word] | None, int, set[str]]:
    """Words of every frame of an image by OCR, and a second reading's where the text is small (else None).

    The second reading reads enlarged copies of the frames with small text (``docintel.invoices.images``) and
    keeps the first reading of the others.
    """
    limit = settings.limits.max_image_pixels
    image = _open_image(content, limit)
    try:
        frames = _count_frames(image) if (image.format or "") in {"TIFF", "MPO"} else 1
        count = min(frames, MAX_INVOICE_PAGES)
        if not settings.ocr.enabled:
            notes.append("image not read (OCR disabled)")
            return [], None, frames, {"ocr"}
        pictures: list[Image.Image] = list(_frames(image, count, limit, settings.limits.max_render_pixels))
    finally:
        image.close()
    reader = ocr or TesseractOcr(settings.ocr, page_segmentation=IMAGE_PAGE_SEGMENTATION)
    results = list(reader.ocr_many(pictures))
    readings = [ocr_words(result, picture.width, picture.height, number)
                for number, (picture, result) in enumerate(zip(pictures, results, strict=True), start=1)]  # fmt: skip
    words = [word for reading in readings for word in reading]
    small = pages_to_reread(results)
    if not small:
        return words, None, frames, {"ocr"}
    copies = [enlarged(pictures[index], factor) for index, factor in small]
    for (index, _), copy, result in zip(small, copies, reader.ocr_many(copies), strict=True):
        readings[index] = ocr_words(result, copy.width, copy.height, index + 1)
    notes.append(f"{len(small)} page(s) with small text read twice, the second time enlarged")
    return words, [word for reading in readings for word in reading], frames, {"ocr"}


@lru_cache(maxsize=1)
def _default_index() -> LabelIndex:
    return LabelIndex.build()


def _day_first(lines: list[Line], profile: SupplierProfile | None) -> bool:
    """UK order unless a profile says otherwise or the document has a date only month-first can read (12/31/2024)."""
    if profile is not None and profile.date_order is not None:
        return profile.date_order == "day_first"
    month_first = day_first = 0
    for line in lines:
        for parsed in parse.find_dates(line.text):
            if parsed.month_first_evidence:
                month_first += 1
            elif not parsed.ambiguous and "/" in line.text[parsed.start : parsed.end]:
                day_first += 1
    return not (month_first and not day_first)


def _line_of(lines: list[Line], word: Word) -> int:
    return next(i for i, line in enumerate(lines) if any(item is word for item in line.words))


def _phrase_of(line: Line, word: Word) -> Span:
    return next(phrase for phrase in line.phrases if any(item is word for item in phrase.words))


def _block_field(spans: list[Span], confidence: float) -> InvoiceField | None:
    if not spans:
        return None
    words = [word for span in spans for word in span.words]
    text = join_spans(spans)
    return Candidate("", text, "\n".join(span.text for span in spans), words, confidence).to_field()


def read_fields(lines: list[Line], profiles: list[SupplierProfile]) -> InvoiceResult:
    """Every field, item and check from a document's lines."""
    layout = [
        LayoutLine(page=line.page, text=line.text, x0=line.x0, y0=line.y0, x1=line.x1, y1=line.y1) for line in lines
    ]
    if not lines:
        empty = {name: InvoiceField() for name in FIELD_NAMES}
        return InvoiceResult(fields=empty, validation=validate(empty, []), notes=["no text found"], layout=layout)
    text = "\n".join(line.text for line in lines)
    profile = select_profile(profiles, text)
    index = LabelIndex.build(profile.labels) if profile and profile.labels else _default_index()
    day_first = _day_first(lines, profile)
    currency = document_currency(lines)
    currency_code = profile.currency if profile and profile.currency else (currency.value if currency else None)

    items, table_lines = find_items(lines, index, currency_code if isinstance(currency_code, str) else None)
    date_parser = make_date_parser(day_first)
    parsers: dict[str, Parser] = {
        "InvoiceId": id_parser,
        "InvoiceDate": date_parser,
        "DueDate": date_parser,
        "PurchaseOrder": id_parser,
        "PaymentTerm": text_parser,
        "SubTotal": amount_parser,
        "TotalTax": amount_parser,
        "InvoiceTotal": amount_parser,
        "AmountDue": amount_parser,
        "VendorTaxId": vat_parser,
        "VendorName": text_parser,
        "CustomerName": text_parser,
        "SortCode": sort_code_parser,
        "AccountNumber": account_parser,
        "Paid": amount_parser,
        "Change": amount_parser,
        "Rounding": amount_parser,
    }
    candidates = labelled_candidates(lines, index, parsers, skip=table_lines)
    best = best_by_field(candidates, lines[-1].page)
    fields: dict[str, InvoiceField] = {}
    for name in ("InvoiceId", "InvoiceDate", "DueDate", "PurchaseOrder", "PaymentTerm", "VendorTaxId"):
        if name in best:
            fields[name] = best[name].to_field()
    for name in ("SubTotal", "TotalTax", "InvoiceTotal", "AmountDue"):
        if name in best:
            found = best[name]
            found.currency = found.currency or (currency_code if isinstance(currency_code, str) else None)
            fields[name] = found.to_field()

    _pick_total(fields, candidates, currency_code, lines[-1].page)
    _find_unlabelled(lines, fields, day_first)

    customer_lines: set[int] = set()
    if "CustomerName" in best:
        found = best["CustomerName"]
        fields["CustomerName"] = found.to_field()
        line_index = _line_of(lines, found.words[0])
        customer_lines.add(line_index)
        block = block_below(lines, line_index, _phrase_of(lines[line_index], found.words[0]), index)
        address = _block_field(block, 0.7)
        if address is not None:
            fields["CustomerAddress"] = address
            customer_lines.update(_line_of(lines, span.words[0]) for span in block)

    if profile is not None and profile.vendor_name:
        fields["VendorName"] = InvoiceField(value=profile.vendor_name, content="", confidence=PROFILE_CONFIDENCE)
        vendor_line = None
    elif "VendorName" in best and isinstance(best["VendorName"].value, str) and _name_like(best["VendorName"], index):
        fields["VendorName"] = best["VendorName"].to_field()
        vendor_line = (_line_of(lines, best["VendorName"].words[0]), best["VendorName"].words[0])
    else:
        vendor_line = None
        letterhead = find_vendor(lines, index, customer_lines | table_lines)
        if letterhead is not None:
            fields["VendorName"] = letterhead.name.to_field()
            address = _block_field(letterhead.address, 0.65)
            if address is not None:
                fields["VendorAddress"] = address
    if vendor_line is not None:
        line_index, word = vendor_line
        block = block_below(lines, line_index, _phrase_of(lines[line_index], word), index)
        address = _block_field(block, 0.65)
        if address is not None:
            fields["VendorAddress"] = address
    if profile is not None and profile.vendor_tax_id and "VendorTaxId" not in fields:
        fields["VendorTaxId"] = InvoiceField(value=profile.vendor_tax_id, confidence=PROFILE_CONFIDENCE)

    payment = _payment_details(best, lines)
    if payment is not None:
        fields["PaymentDetails"] = payment
    if profile is not None and profile.currency:
        fields["Currency"] = InvoiceField(value=profile.currency, confidence=PROFILE_CONFIDENCE)
    elif currency is not None:
        fields["Currency"] = currency.to_field()

    checks = _checked(fields, items)
    ordered = {name: fields.get(name) or InvoiceField() for name in FIELD_NAMES}
    return InvoiceResult(
        fields=ordered,
        items=items,
        validation=checks,
        profile=profile.name if profile else None,
        day_first=day_first,
        layout=layout,
    )


def _checked(
    fields: dict[str, InvoiceField],
    items: list[InvoiceItem],
    penalised: Callable[[str, str], bool] = lambda _field, _check: False,
) -> list[ValidationCheck]:
    """The validation checks, with the confidence of every field a failed check involves lowered.

    ``penalised(field, check)`` says a field was lowered for that check already (it keeps its confidence).
    """
    checks = validate(fields, items)
    for check in checks:
        if check.status == CheckStatus.FAIL:
            for name in _CHECK_FIELDS[check.name]:
                if name in fields and not penalised(name, check.name):
                    fields[name].confidence = round(fields[name].confidence * FAILED_CHECK_PENALTY, 3)
    return checks


def merge_readings(first: InvoiceResult, second: InvoiceResult) -> InvoiceResult:
    """Two OCR readings of one document as one result: each field from the reading more confident of it.

    The items, layout and notes are the first reading's; the checks are made again on the merged fields.
    A tie keeps the first reading's field.
    """
    fields: dict[str, InvoiceField] = {}
    source: dict[str, InvoiceResult] = {}
    for name in FIELD_NAMES:
        mine, other = first.fields.get(name) or InvoiceField(), second.fields.get(name) or InvoiceField()
        source[name] = second if other.value is not None and other.confidence > mine.confidence else first
        fields[name] = (other if source[name] is second else mine).model_copy(deep=True)
    present = {name: found for name, found in fields.items() if found.value is not None}

    def failed_before(name: str, check_name: str) -> bool:
        # A field whose own reading failed the same check has had its confidence lowered for it already.
        return any(c.name == check_name and c.status == CheckStatus.FAIL for c in source[name].validation)

    checks = _checked(present, first.items, failed_before)
    return first.model_copy(update={"fields": fields, "validation": checks})


def _name_like(candidate: Candidate, index: LabelIndex) -> bool:
    return isinstance(candidate.value, str) and name_like(candidate.value, index, Span(candidate.words))


def _amount_value(found: InvoiceField | None) -> Decimal | None:
    return Decimal(found.value) if found is not None and isinstance(found.value, str) else None


def _pick_total(fields: dict[str, InvoiceField], candidates: list[Candidate], currency: object, last_page: int) -> None:
    """The invoice total chosen by label words and arithmetic among every total-like candidate."""
    chosen = choose_total(
        candidates, _amount_value(fields.get("SubTotal")), _amount_value(fields.get("TotalTax")), last_page
    )
    if chosen is None:
        return
    chosen.currency = chosen.currency or (currency if isinstance(currency, str) else None)
    fields["InvoiceTotal"] = chosen.to_field()


def _find_unlabelled(lines: list[Line], fields: dict[str, InvoiceField], day_first: bool) -> None:
    """Fallbacks for a missing date or VAT number: the first one on the page, with a confidence that says so."""
    if "InvoiceDate" not in fields:
        dated = unlabelled_date(lines, day_first)
        if dated is not None:
            fields["InvoiceDate"] = dated.to_field()
    if "VendorTaxId" not in fields:
        vat_number = unlabelled_vat_number(lines)
        if vat_number is not None:
            fields["VendorTaxId"] = vat_number.to_field()


# Confidence of a GB VAT number found with no label, by whether its checksum holds.
UNLABELLED_VAT_VALID = 0.6
UNLABELLED_VAT_UNCHECKED = 0.25


def unlabelled_vat_number(lines: list[Line]) -> Candidate | None:
    """The first GB VAT number on the page when no label names one, less sure when its checksum fails."""
    phrases = (phrase for line in lines for phrase in line.phrases if "GB" in phrase.text.upper().replace(" ", ""))
    for phrase in phrases:
        found = parse.find_vat_number(phrase.text)
        if found is not None and found[0].startswith("GB"):
            confidence = UNLABELLED_VAT_VALID if found[1] else UNLABELLED_VAT_UNCHECKED
            return Candidate("VendorTaxId", found[0], phrase.text, phrase.words, confidence)
    return None


# An unlabelled date with a time of day beside it is the transaction's ("25/12/2018 8:13 PM"); a printed
# four-digit year or month name is a date more surely than two-digit groups; digits glued to letters
# ("RC11-23-42") are a code. Weights of those signs when choosing among the page's unlabelled dates.
DATE_WITH_TIME = 0.3
DATE_WRITTEN_OUT = 0.3
DATE_IN_CODE = -0.6
_CLOCK = re.compile(r"(?<![\d.])\d{1,2}:\d{2}(?!\d)")


def unlabelled_date(lines: list[Line], day_first: bool) -> Candidate | None:
    """The most date-like date on the page when no label names one, with a confidence that says it is a guess.

    Each line is read phrase by phrase and whole (OCR splits "21 Apr 2019" into phrases on wide-spaced receipts).
    """
    best: tuple[float, Candidate] | None = None
    for number, line in enumerate(lines):
        has_clock = _CLOCK.search(line.text) is not None
        spans = line.phrases if len(line.phrases) == 1 else [*line.phrases, line]
        for span in spans:
            text = span.text
            parsed = parse.parse_date(text, day_first=day_first)
            if parsed is None:
                continue
            written = text[parsed.start : parsed.end]
            score = -0.1 * number / len(lines)
            score += DATE_WITH_TIME if has_clock else 0.0
            score += DATE_WRITTEN_OUT if re.search(r"\d{4}|[^\W\d_]{3}", written) else 0.0
            score += DATE_IN_CODE if parsed.start > 0 and text[parsed.start - 1].isalpha() else 0.0
            words = _words_at(span, parsed.start, parsed.end)
            candidate = Candidate("InvoiceDate", parsed.value.isoformat(), written, words, 0.45)
            if best is None or score > best[0]:
                best = (score, candidate)
    return best[1] if best else None


def _words_at(span: Span, start: int, end: int) -> list[Word]:
    """The words of a span that the characters start..end of its text fall in."""
    words: list[Word] = []
    offset = 0
    for word in span.words:
        if offset < end and offset + len(word.text) > start:
            words.append(word)
        offset += len(word.text) + 1
    return words or list(span.words)


def _payment_details(best: dict[str, Candidate], lines: list[Line]) -> InvoiceField | None:
    """Sort code, account number and IBAN as one field whose value maps each part."""
    value: dict[str, str] = {}
    words: list[Word] = []
    contents: list[str] = []
    confidences: list[float] = []
    for part, key in (("SortCode", "SortCode"), ("AccountNumber", "AccountNumber")):
        if part in best and isinstance(best[part].value, str):
            value[key] = str(best[part].value)
            words.extend(best[part].words)
            contents.append(best[part].content)
            confidences.append(best[part].confidence)
    for line in lines:
        iban = parse.find_iban(line.text)
        if iban:
            value["IBAN"] = iban
            words.extend(line.words)
            contents.append(line.text)
            confidences.append(0.9 * line.conf + 0.05)
            break
    if not value:
        return None
    field = Candidate("PaymentDetails", value, "\n".join(contents), words, min(confidences)).to_field()
    return field


def items_total(items: list[InvoiceItem]) -> Decimal:
    """Sum of the items' amounts (items without one count as zero)."""
    total = Decimal(0)
    for item in items:
        amount = item.fields.get("Amount")
        if amount is not None and isinstance(amount.value, str):
            total += Decimal(amount.value)
    return total
