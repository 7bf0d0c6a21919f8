"""Line items read by columns: find the header row, take its columns' x-ranges, read rows until the totals.

A table that reaches the bottom of a page carries on at the top of the next one, under a repeated
header or, failing that, in the same columns: items spanning pages come back as one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from docintel.invoices import parse
from docintel.invoices.fields import LabelIndex, bounding_box, normalise_label
from docintel.invoices.layout import Line, Span, Word
from docintel.invoices.models import InvoiceField, InvoiceItem

# Header words per item column (normalised); a header row needs a description-like column and an amount-like one.
COLUMN_HEADERS: dict[str, tuple[str, ...]] = {
    "Description": (
        "description", "item", "items", "details", "product", "service", "services", "particulars", "title",
        "omschrijving", "artikel", "beschreibung", "bezeichnung", "désignation", "designation", "product name",
        "item description", "description of goods", "article",
    ),
    "Quantity": (
        "qty", "quantity", "qty.", "units", "hours", "hrs", "no", "aantal", "menge", "anzahl", "nombre", "qté",
    ),
    "Unit": ("unit", "uom", "unit of measure", "eenheid", "einheit"),
    "UnitPrice": (
        "unit price", "price", "rate", "price each", "unit cost", "each", "cost", "prijs", "stukprijs", "preis",
        "einzelpreis", "vk preis", "p u ht", "prix unitaire", "unit price £", "price £", "rate £",
    ),
    "TaxRate": ("vat", "vat %", "vat rate", "tax", "tax %", "tax rate", "btw", "btw %", "mwst", "tva", "tax(%)"),
    "Amount": (
        "amount", "total", "line total", "net", "net amount", "value", "amount £", "total £", "net £", "bedrag",
        "totaal", "betrag", "zeilenbetrag", "montant", "montant ht", "subtotal", "amount (gbp)", "ext price",
    ),
}  # fmt: skip
_HEADER_LOOKUP = {normalise_label(word): name for name, words in COLUMN_HEADERS.items() for word in words}
# How far past the last row a table may run before it counts as ended, in row heights.
MAX_ROW_GAP_HEIGHTS = 4.0
# A wrapped description line sits closer than this (in line heights) under its row; further is a footnote.
WRAPPED_LINE_GAP_HEIGHTS = 1.0
# A table whose last row is in the bottom part of a page may continue on the next page.
PAGE_BOTTOM = 0.8


@dataclass
class Column:
    """One column of an item table: its field and horizontal extent from the header."""

    name: str
    x0: float
    x1: float


def header_columns(line: Line) -> list[Column] | None:
    """The columns a header line names, or None when it is not an item-table header."""
    columns: list[Column] = []
    for phrase in line.phrases:
        # A phrase may hold two headers separated by a single space ("Qty Unit price"): try word runs.
        words = phrase.words
        start = 0
        while start < len(words):
            for end in range(len(words), start, -1):
                key = normalise_label(" ".join(word.text for word in words[start:end]))
                if key in _HEADER_LOOKUP:
                    span = Span(words[start:end])
                    columns.append(Column(_HEADER_LOOKUP[key], span.x0, span.x1))
                    start = end
                    break
            else:
                start += 1
    names = {column.name for column in columns}
    if "Description" not in names or not names & {"Amount", "UnitPrice"} or len(names) < 3:
        return None
    # A name may appear twice ("Total" and "Amount"): keep the rightmost Amount, the first of the others.
    kept: dict[str, Column] = {}
    for column in columns:
        if column.name == "Amount" or column.name not in kept:
            kept[column.name] = column
    return sorted(kept.values(), key=lambda column: column.x0)


def _column_for(word: Word, columns: list[Column]) -> Column:
    """The column a word belongs to: the one it overlaps most, else the nearest by centre."""
    best: tuple[float, Column] | None = None
    for column in columns:
        overlap = min(word.x1, column.x1) - max(word.x0, column.x0)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, column)
    if best is not None:
        return best[1]
    centre = (word.x0 + word.x1) / 2
    # Text left of a column's start belongs to the column before it, unless it is a right-aligned number.
    numeric = parse.find_amounts(word.text) != [] or parse.find_percent(word.text) is not None
    candidates = columns if numeric else [c for c in columns if c.x0 <= word.x1 + 0.01] or columns
    return min(candidates, key=lambda column: min(abs(centre - column.x0), abs(centre - column.x1)))


def _cells(line: Line, columns: list[Column]) -> dict[str, list[Word]]:
    cells: dict[str, list[Word]] = {}
    for word in line.words:
        cells.setdefault(_column_for(word, columns).name, []).append(word)
    return cells


def _field(words: list[Word], value: str, confidence: float, currency: str | None = None) -> InvoiceField:
    text = " ".join(word.text for word in words)
    read = min(word.conf for word in words)
    return InvoiceField(
        value=value,
        content=text,
        page=words[0].page,
        bounding_box=bounding_box(words),
        confidence=round(confidence * (0.5 + 0.5 * read), 3),
        currency=currency,
    )


def _item(cells: dict[str, list[Word]], currency: str | None) -> InvoiceItem | None:
    """An item from one row's cells, or None when the row has no amount (a description continuation line)."""
    fields: dict[str, InvoiceField] = {}
    for name in ("Amount", "UnitPrice"):
        words = cells.get(name)
        if not words:
            continue
        amount = parse.parse_amount(" ".join(word.text for word in words))
        if amount is not None:
            fields[name] = _field(words, parse.format_amount(amount), 0.9, currency)
    if "Amount" not in fields and "UnitPrice" not in fields:
        return None
    quantity_words = cells.get("Quantity")
    if quantity_words:
        text = " ".join(word.text for word in quantity_words)
        quantity = parse.parse_amount(text)
        if quantity is not None:
            fields["Quantity"] = _field(quantity_words, f"{quantity.normalize():f}", 0.88)
            unit = " ".join(word.text for word in quantity_words if not any(char.isdigit() for char in word.text))
            if unit and "Unit" not in cells:
                fields["Unit"] = _field(quantity_words, unit, 0.6)
    if cells.get("Unit"):
        fields["Unit"] = _field(cells["Unit"], " ".join(word.text for word in cells["Unit"]), 0.8)
    if cells.get("TaxRate"):
        rate = parse.find_percent(" ".join(word.text for word in cells["TaxRate"]))
        if rate is None:
            rate = parse.parse_amount(" ".join(word.text for word in cells["TaxRate"]))
            rate = rate if rate is not None and rate <= 100 else None
        if rate is not None:
            fields["TaxRate"] = _field(cells["TaxRate"], f"{rate.normalize():f}", 0.85)
    if cells.get("Description"):
        words = cells["Description"]
        fields["Description"] = _field(words, " ".join(word.text for word in words), 0.85)
    if "Amount" not in fields and "Quantity" in fields and "UnitPrice" in fields:
        # A table without a line-amount column: the amount is implied, and we say so with lower confidence.
        quantity = Decimal(str(fields["Quantity"].value))
        unit_price = Decimal(str(fields["UnitPrice"].value))
        implied = fields["UnitPrice"].model_copy(
            update={"value": parse.format_amount(quantity * unit_price), "confidence": 0.5}
        )
        fields["Amount"] = implied
    all_words = [word for words in cells.values() for word in words]
    confidence = min(field.confidence for field in fields.values())
    return InvoiceItem(
        fields=fields, page=all_words[0].page, bounding_box=bounding_box(all_words), confidence=confidence
    )


def _append_description(item: InvoiceItem, words: list[Word]) -> None:
    """Add a wrapped description line to an item."""
    extra = " ".join(word.text for word in words)
    current = item.fields.get("Description")
    if current is None:
        item.fields["Description"] = _field(words, extra, 0.8)
    else:
        current.value = f"{current.value} {extra}"
        current.content = f"{current.content}\n{extra}"


def find_items(lines: list[Line], index: LabelIndex, currency: str | None) -> tuple[list[InvoiceItem], set[int]]:
    """Line items from every item table, and the indexes of the lines the tables used (header and rows)."""
    items: list[InvoiceItem] = []
    used: set[int] = set()
    columns: list[Column] | None = None
    last_row: Line | None = None
    continuing = False  # the previous page's table ran to its bottom without reaching the totals
    i = 0
    while i < len(lines):
        line = lines[i]
        header = header_columns(line)
        if header is not None:
            columns, last_row, continuing = header, line, False
            used.add(i)
            i += 1
            continue
        if columns is None:
            i += 1
            continue
        if last_row is not None and line.page != last_row.page:
            continuing = last_row.y1 > PAGE_BOTTOM
            last_row = None
            if not continuing:
                columns = None
                continue
        if last_row is not None and line.y0 - last_row.y1 > MAX_ROW_GAP_HEIGHTS * line.height:
            columns = None
            continue
        if _is_totals_line(line, index):
            columns = None  # the totals block ends the table
            continue
        cells = _cells(line, columns)
        item = _item(cells, currency)
        if item is not None:
            items.append(item)
            used.add(i)
            last_row = line
        elif last_row is None and continuing:
            pass  # page furniture above the continued table (letterhead, "continued")
        elif (
            items
            and set(cells) == {"Description"}
            and last_row is not None
            and line.y0 - last_row.y1 < WRAPPED_LINE_GAP_HEIGHTS * line.height
        ):
            _append_description(items[-1], cells["Description"])
            used.add(i)
            last_row = line
        i += 1
    return items, used


_TOTAL_FIELDS = frozenset({"SubTotal", "TotalTax", "InvoiceTotal", "AmountDue"})


def _is_totals_line(line: Line, index: LabelIndex) -> bool:
    """A line that starts with a totals label followed by nothing or by figures ("Tax advice" is an item)."""
    first = line.phrases[0]
    matched = index.match(first, value_right=line.figures_after(0))
    if matched is None or matched[0] not in _TOTAL_FIELDS:
        return False
    rest = " ".join(word.text for word in first.words[matched[3] :])
    return not rest.strip(" :") or not any(char.isalpha() for char in rest.replace("%", ""))
