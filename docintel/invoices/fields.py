"""Header fields found by layout: a label, then its value in the same phrase, to its right, or below it.

Every label synonym belongs to one field. A phrase is read as the longest label it starts with, so
"VAT Reg No" is the vendor's VAT number and not the tax total. Candidates are scored by how strong the
label is, where the value sits relative to it and how well the words were read; the best one wins.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from docintel.invoices import parse
from docintel.invoices.layout import Line, Span, Word
from docintel.invoices.models import AMOUNT_FIELDS, BoundingBox, InvoiceField

# Label synonyms per field, strongest first: English, then the German, French, Dutch and Spanish that suppliers
# abroad print (and the Polish of peers' test sets). A phrase is read as the longest label it starts with.
LABELS: dict[str, tuple[str, ...]] = {
    "InvoiceId": (
        "invoice number", "invoice no", "invoice #", "invoice num", "invoice id", "invoice ref", "inv no",
        "tax invoice no", "tax invoice number", "bill no", "receipt no", "document no", "invoice",
        "factuurnummer", "factuur nummer", "rechnungsnr", "rechnungsnummer", "rechnung nr", "facture n", "facture",
        "receipt #", "doc no", "cash bill no", "bill #", "inv #", "faktura nr", "faktura vat nr", "numer faktury",
        "rechnungs nr", "rechnung nummer", "belegnummer", "numéro de facture", "n de facture", "facture no",
        "factuurnr", "factuur nr", "número de factura", "numero de factura", "n factura", "nº factura", "factura n",
        "factura nº", "factura no", "nº de factura", "factura",
    ),
    "InvoiceDate": (
        "invoice date", "date of invoice", "tax point", "invoice date tax point", "date of issue", "issue date",
        "issued", "bill date", "document date", "factuurdatum", "rechnungsdatum", "date de facture", "date",
        "datum", "dated", "data wystawienia", "belegdatum", "date de facturation", "date d émission",
        "datum factuur", "factuur datum", "fecha de factura", "fecha factura", "fecha de emisión",
        "fecha de expedición", "fecha",
    ),
    "DueDate": (
        "due date", "payment due", "payment due date", "pay by", "date due", "due by", "vervaldatum",
        "fälligkeitsdatum", "date d échéance", "échéance", "due", "fällig am", "zahlbar bis", "fälligkeit",
        "date limite de paiement", "à payer avant le", "uiterste betaaldatum", "te betalen voor",
        "fecha de vencimiento", "vencimiento",
    ),
    "PurchaseOrder": (
        "purchase order", "purchase order number", "purchase order no", "po number", "po no", "po #", "po ref",
        "your order", "your order no", "order number", "order no", "order ref", "your ref", "customer po",
        "bestellnummer", "bestell nr", "ihre bestellung", "bon de commande", "numéro de commande",
        "n de commande", "inkoopordernummer", "bestelnummer", "uw bestelling", "número de pedido",
        "orden de compra", "pedido",
    ),
    "PaymentTerm": (
        "payment terms", "terms of payment", "terms", "payment term", "zahlungsbedingungen", "zahlungsziel",
        "conditions de paiement", "conditions de règlement", "betalingsvoorwaarden", "betalingstermijn",
        "condiciones de pago",
    ),
    "SubTotal": (
        "subtotal", "sub total", "sub-total", "net total", "total net", "net amount", "total excl vat",
        "total excluding vat", "total before vat", "total ex vat", "goods total", "amount excl vat", "net",
        "totaal excl btw", "total ht", "nettobetrag", "netto", "summe netto", "untaxed amount", "total excl tax",
        "zwischensumme", "nettosumme", "gesamt netto", "montant ht", "sous total", "total hors taxes",
        "bedrag excl btw", "exclusief btw", "base imponible", "importe neto", "total sin iva",
        # Last: Dutch shops print "Subtotaal" for the sum of their VAT-inclusive lines beside "Exclusief BTW".
        "subtotaal",
    ),
    "TotalTax": (
        "total vat", "vat total", "vat amount", "total tax", "tax total", "tax amount", "vat", "tax", "sales tax",
        "gst", "total gst", "btw", "mwst", "ust", "tva", "vat @", "vat at", "umsatzsteuer", "mehrwertsteuer",
        "mwst betrag", "summe mwst", "zzgl mwst", "montant tva", "total tva", "btw bedrag", "totaal btw", "iva",
        "total iva", "importe iva", "cuota iva",
    ),
    "InvoiceTotal": (
        "invoice total", "grand total", "total incl vat", "total including vat", "total inc vat", "gross total",
        "total amount", "total gbp", "total £", "total", "totaal", "totaal incl btw", "gesamtbetrag", "total ttc",
        "rounded total", "total incl gst", "total inclusive gst", "nett total", "total sales", "gesamtsumme",
        "rechnungsbetrag", "summe brutto", "bruttobetrag", "endbetrag", "gesamt", "montant ttc", "total facture",
        "montant total", "totaalbedrag", "factuur totaal", "factuurbedrag", "total factura", "importe total",
    ),
    "AmountDue": (
        "amount due", "balance due", "total due", "amount payable", "total payable", "balance to pay",
        "please pay", "to pay", "te betalen", "zu zahlen", "total amount due", "net payable", "należność ogółem",
        "do zapłaty", "zahlbetrag", "offener betrag", "fälliger betrag", "net à payer", "somme à payer",
        "montant à payer", "reste à payer", "openstaand bedrag", "total a pagar", "importe a pagar",
    ),
    "VendorTaxId": (
        "vat reg no", "vat registration no", "vat registration number", "vat reg number", "vat no", "vat number",
        "vat id", "vat reg", "our vat no", "vat registration", "btw nummer", "btw nr", "ust id", "ustid",
        "ust idnr", "tva intracommunautaire", "gst reg no", "gst no", "gst id", "vat tin", "tax id", "nip",
        "ust id nr", "umsatzsteuer id", "umsatzsteuer identifikationsnummer", "steuernummer", "steuer nr",
        "n tva intracommunautaire", "numéro de tva", "n tva", "btw id", "btw identificatienummer", "nif", "cif",
        "nif cif", "n i f", "c i f",
    ),
    # Not a result field: the customer's own VAT number ("Uw BTW nummer"), so it is never read as the vendor's.
    "CustomerTaxId": (
        "your vat no", "your vat number", "customer vat no", "customer vat number", "uw btw nummer", "uw btw nr",
        "ihre ust idnr", "ihre ust id", "votre n tva", "votre numéro de tva", "su nif", "nif cliente",
        "cif cliente",
    ),
    "CustomerName": (
        "bill to", "billed to", "invoice to", "invoiced to", "invoice address", "customer", "sold to", "to",
        "client", "billing address", "bill to address", "factuuradres", "nabywca", "buyer", "purchaser",
        "rechnungsempfänger", "rechnungsadresse", "rechnung an", "kunde", "käufer", "facturé à",
        "adresse de facturation", "acheteur", "gefactureerd aan", "klant", "afnemer", "koper", "facturar a",
        "facturado a", "cliente", "comprador",
    ),
    "VendorName": (
        "supplier", "sold by", "seller", "vendor", "from", "service provider", "supplier name", "sprzedawca",
        "lieferant", "verkäufer", "rechnungssteller", "fournisseur", "vendeur", "émetteur", "leverancier",
        "verkoper", "proveedor", "vendedor", "emisor",
    ),
    # Not a result field: where goods go is not who pays, so these blocks are neither party's name.
    "ShipTo": (
        "ship to", "deliver to", "delivery address", "shipping address", "lieferadresse", "lieferanschrift",
        "adresse de livraison", "livré à", "afleveradres", "leveradres", "dirección de entrega", "enviar a",
    ),
    "SortCode": ("sort code", "sort-code", "bank sort code"),
    "AccountNumber": ("account number", "account no", "acc no", "a c no", "account", "bank account"),
    # Not result fields: what a receipt was paid with and the change given, to check the total against.
    "Paid": (
        "cash", "cash tendered", "tendered", "amount tendered", "paid", "amount paid", "payment", "card",
        "credit card", "debit card", "visa", "mastercard", "master",
    ),
    "Change": ("change", "change due", "cash change", "change amount", "balance returned"),
    # Cash sums rounded to the nearest five cents: the rounded total is the one paid.
    "Rounding": ("rounding", "rounding adj", "rounding adjustment", "round off", "rounding amount", "round adj"),
}  # fmt: skip

# Labels that are only read as labels when followed by a colon or a value on the same phrase: "Total" or
# "To" on their own are table headers and greetings as often as labels.
_WEAK_LABELS = frozenset(
    {
        "from",
        "vendor",
        "supplier",
        "to",
        "invoice",
        "facture",
        "customer",
        "client",
        "net",
        "terms",
        "account",
        "due",
        "date",
        "datum",
        "fecha",
        "klant",
        "kunde",
        "cliente",
        "gesamt",
        "factura",
        "pedido",
        "netto",
    }
)

# OCR misreads a letter of a long label word ("fotal", "Tatal"). A word read with less than full confidence (so
# never a text layer's) that is one letter from exactly one word of these fields' labels, as long as this, is read
# as that word.
FUZZY_LABEL_FIELDS = frozenset({"InvoiceTotal", "AmountDue", "SubTotal", "InvoiceDate", "InvoiceId"})
FUZZY_LABEL_MIN_CHARS = 5
FUZZY_LABEL_MAX_CONFIDENCE = 0.95

# Where the value sits relative to its label, and how much that placement is worth.
SAME_PHRASE_WEIGHT = 0.95
RIGHT_WEIGHT = 0.9
BELOW_WEIGHT = 0.8
# Whole numbers from this size up are read as references (GST ids, account numbers) rather than amounts.
MAX_WHOLE_AMOUNT = Decimal(10_000_000)
# A labelled date read only by taking OCR'd digits for its slashes: likely right, but say so.
MISREAD_DATE_CONFIDENCE = 0.6
# How far below a label (in label line heights) its value may sit.
BELOW_MAX_LINE_HEIGHTS = 2.5

_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|\b\d{5}\b|\b\d{4}\s?[A-Z]{2}\b")
_PHONE_OR_CONTACT = re.compile(
    r"(\btel\b|\bphone\b|\bfax\b|@|www\.|https?:|\bemail\b|\be-mail\b|\bgst\b|\bvat\b)", re.I
)


def normalise_label(text: str) -> str:
    """Lower-case, punctuation turned into spaces, whitespace collapsed ("Invoice No.:" -> "invoice no")."""
    text = text.lower().replace("#", " # ").replace("£", " £ ").replace("@", " @ ")
    return " ".join(re.sub(r"[^\w#£@]+", " ", text).split())


@dataclass
class Candidate:
    """A value proposed for a field, with its evidence."""

    name: str
    value: str | dict[str, str]
    content: str
    words: list[Word]
    confidence: float
    label: str | None = None
    currency: str | None = None
    number: Decimal | None = None  # amounts, to compare candidates
    rank: int = 0  # index of the label in its synonym list: lower is a stronger label
    context: str = ""  # the whole phrase the label started ("Total Sales (Excluding GST) :")

    def to_field(self) -> InvoiceField:
        """The candidate as a result field."""
        return InvoiceField(
            value=self.value,
            content=self.content,
            page=self.words[0].page if self.words else None,
            bounding_box=bounding_box(self.words),
            confidence=round(max(0.0, min(1.0, self.confidence)), 3),
            currency=self.currency,
            label=self.label,
        )


def bounding_box(words: Iterable[Word]) -> BoundingBox | None:
    """The box around some words (all on one page; the first word's page is used)."""
    words = list(words)
    if not words:
        return None
    return BoundingBox(
        page=words[0].page,
        x0=round(min(word.x0 for word in words), 4),
        y0=round(min(word.y0 for word in words), 4),
        x1=round(max(word.x1 for word in words), 4),
        y1=round(max(word.y1 for word in words), 4),
    )


@dataclass
class LabelIndex:
    """Every label synonym (with extra ones from a supplier profile) keyed by its normalised words."""

    labels: dict[str, tuple[str, int]] = field(default_factory=dict)  # normalised label -> (field, rank)
    longest: int = 1
    words: frozenset[str] = frozenset()  # every label word, to leave alone
    fuzzy_words: frozenset[str] = frozenset()  # label words an OCR'd word one letter off is read as

    @classmethod
    def build(cls, extra: Mapping[str, Iterable[str]] | None = None) -> LabelIndex:
        """The built-in labels, with a profile's labels first (rank -1: stronger than any built-in)."""
        index = cls()
        for name, synonyms in (extra or {}).items():
            for synonym in synonyms:
                index.labels[normalise_label(synonym)] = (name, -1)
        for name, synonyms in LABELS.items():
            for rank, synonym in enumerate(synonyms):
                index.labels.setdefault(normalise_label(synonym), (name, rank))
        index.longest = max(len(label.split()) for label in index.labels)
        index.words = frozenset(token for label in index.labels for token in label.split())
        index.fuzzy_words = frozenset(
            token
            for label, (name, _) in index.labels.items()
            if name in FUZZY_LABEL_FIELDS
            for token in label.split()
            if len(token) >= FUZZY_LABEL_MIN_CHARS and token.isalpha()
        )
        return index

    def _read_as_label(self, token: str) -> str:
        """The one label word an OCR'd token is a single letter away from ("fotal" -> "total"), else the token."""
        if token in self.words or len(token) < FUZZY_LABEL_MIN_CHARS or not token.isalpha():
            return token
        near = [
            word
            for word in self.fuzzy_words
            if len(word) == len(token) and sum(a != b for a, b in zip(word, token, strict=True)) == 1
        ]
        return near[0] if len(near) == 1 else token

    def match(self, span: Span, value_right: bool = False) -> tuple[str, int, str, int] | None:
        """(field, rank, label, words used) for the longest label the span starts with, else None.

        ``value_right``: the line carries figures in a later phrase, so a weak totals label standing alone
        ("Net" in one column, its amount in the next) is read as a label.
        """
        tokens: list[tuple[str, int]] = []  # normalised tokens with the index of the word they came from
        for position, word in enumerate(span.words):
            unsure = word.conf < FUZZY_LABEL_MAX_CONFIDENCE
            tokens.extend(
                (self._read_as_label(token) if unsure else token, position)
                for token in normalise_label(word.text).split()
            )
            if len(tokens) > self.longest:
                break
        for size in range(min(self.longest, len(tokens)), 0, -1):
            label = " ".join(token for token, _ in tokens[:size])
            if label in self.labels:
                name, rank = self.labels[label]
                used = tokens[size - 1][1] + 1
                rest_of_word = len(normalise_label(span.words[used - 1].text).split()) > sum(
                    1 for _, position in tokens[:size] if position == used - 1
                )
                if rest_of_word:
                    continue  # the label ends inside a word ("Totaal" is not "Total" + "aal")
                weak_total_with_value = value_right and name in AMOUNT_FIELDS and used == len(span.words)
                if label in _WEAK_LABELS and not (_looks_labelled(span, used) or weak_total_with_value):
                    continue
                return name, rank, label, used
        return None


def _looks_labelled(span: Span, used: int) -> bool:
    """A weak label counts when it ends in a colon or the phrase carries a value after it."""
    return span.words[used - 1].text.rstrip().endswith((":", "#", ".")) or used < len(span.words)


Parser = Callable[[str], tuple[str | dict[str, str], float, Decimal | None] | None]


def amount_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """The last amount in a value text, refusing texts that are mostly words and the years of dates in it."""
    for found in reversed(parse.find_dates(text)):
        text = text[: found.start] + " " * (found.end - found.start) + text[found.end :]
    # OCR of a receipt printer's wide decimal point leaves a space after it ("29. 70"): one amount, not two.
    text = _SPACED_DECIMALS.sub(r"\1.\2", text)
    amounts = parse.find_amounts(text)
    if not amounts:
        return None
    letters = sum(char.isalpha() for char in text)
    digits = sum(char.isdigit() for char in text)
    if letters > 3 * max(digits, 1) + 6:
        return None
    value = amounts[-1][0]
    if value == value.to_integral_value() and abs(value) >= MAX_WHOLE_AMOUNT:
        return None  # a long run of digits with no decimals is a reference or a tax number, not money
    return parse.format_amount(value), 0.9, value


_SPACED_DECIMALS = re.compile(r"(?<![\d.,])(\d{1,7})[.,]\s(\d{2})(?![\d.,%])")


def make_date_parser(day_first: bool) -> Parser:
    """A parser for date values, reading ambiguous numeric dates as the document's convention says."""

    def parser(text: str) -> tuple[str, float, Decimal | None] | None:
        parsed = parse.parse_date(text, day_first=day_first)
        if parsed is None:
            misread = parse.parse_misread_date(text)
            return (misread.value.isoformat(), MISREAD_DATE_CONFIDENCE, None) if misread else None
        return parsed.value.isoformat(), 0.85 if parsed.ambiguous else 0.92, None

    return parser


_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_.\-]*|\d+")


def id_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """An identifier: the first token holding a digit ("INV-1001", "#BLR_WFLD2015", "42183017")."""
    text = text.strip().lstrip(":#").strip()
    match = _ID_TOKEN.search(text)
    if match is None or match.start() > 4:
        return None
    token = match.group(0).rstrip(".-/")
    if parse.parse_date(token) is not None and len(token) <= 10:
        return None
    return token, 0.88, None


def text_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """Free text such as payment terms."""
    text = text.strip(" :")
    return (text, 0.75, None) if len(text) >= 2 else None


def vat_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """A VAT number; an invalid UK checksum keeps the value with low confidence."""
    found = parse.find_vat_number(text)
    if found is None:
        # Other national tax numbers (NIP 774-00-01-454, SIREN 421 938 861): digits only, without a checksum.
        other = re.search(r"(?<![\w-])\d[\d\s-]{6,14}\d(?![\w-])", text)
        digits = re.sub(r"\D", "", other.group(0)) if other else ""
        return (digits, 0.5, None) if 8 <= len(digits) <= 12 else None
    value, valid = found
    return value, 0.95 if valid else 0.3, None


def sort_code_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """A sort code."""
    found = parse.find_sort_code(text)
    return (found, 0.9, None) if found else None


def account_parser(text: str) -> tuple[str, float, Decimal | None] | None:
    """An eight-digit account number."""
    found = parse.find_account_number(text)
    return (found, 0.9, None) if found else None


def _words_text(words: list[Word]) -> str:
    return " ".join(word.text for word in words)


def _below(lines: list[Line], line_index: int, label: Span) -> Span | None:
    """The first phrase under a label, overlapping its column, within a few line heights."""
    line = lines[line_index]
    limit = line.y1 + BELOW_MAX_LINE_HEIGHTS * line.height
    for below in lines[line_index + 1 : line_index + 6]:
        if below.page != line.page or below.y0 > limit:
            return None
        for phrase in below.phrases:
            if phrase.x0 <= label.x1 + 0.02 and phrase.x1 >= label.x0 - 0.02:
                return phrase
    return None


# OCR reads a speck, a stamp or the edge of a logo before a label as a short word it is unsure of ("cae TOTAL").
JUNK_WORD_MAX_CONFIDENCE = 0.5
JUNK_WORD_MAX_CHARS = 3


def without_junk_prefix(span: Span) -> Span:
    """The span without a leading short word OCR was unsure of, or the span itself when it has none."""
    if len(span.words) < 2:
        return span
    first = span.words[0]
    if first.conf < JUNK_WORD_MAX_CONFIDENCE and len(first.text) <= JUNK_WORD_MAX_CHARS:
        return Span(span.words[1:])
    return span


def labelled_candidates(
    lines: list[Line], index: LabelIndex, parsers: Mapping[str, Parser], skip: set[int] | None = None
) -> list[Candidate]:
    """Values next to labels, for every field that has a parser."""
    found: list[Candidate] = []
    for line_index, line in enumerate(lines):
        if skip and line_index in skip:
            continue
        for phrase_index, whole in enumerate(line.phrases):
            phrase = whole
            matched = index.match(phrase, value_right=line.figures_after(phrase_index))
            if matched is None:
                phrase = without_junk_prefix(whole)
                matched = index.match(phrase) if phrase is not whole else None
            if matched is None:
                continue
            name, rank, _, used = matched
            parser = parsers.get(name)
            if parser is None:
                continue
            label_strength = 1.0 if rank < 0 else max(0.75, 1.0 - 0.01 * rank)
            options: list[tuple[list[Word], float]] = []
            if used < len(phrase.words):
                options.append((phrase.words[used:], SAME_PHRASE_WEIGHT))
            if phrase_index + 1 < len(line.phrases):
                options.append((line.phrases[phrase_index + 1].words, RIGHT_WEIGHT))
            if phrase_index + 2 < len(line.phrases):
                # "TOTAL   RM   14.10": a currency or a colon set apart from the value.
                rest = [word for later in line.phrases[phrase_index + 1 :] for word in later.words]
                options.append((rest, RIGHT_WEIGHT * 0.97))
                # "TOTAL  SALES  (INCLUSIVE OF GST) :  94.87": a wide-spaced label, its value at the line's end.
                options.append((line.phrases[-1].words, RIGHT_WEIGHT * 0.9))
            below = _below(lines, line_index, Span(phrase.words[:used]))
            if below is not None:
                options.append((below.words, BELOW_WEIGHT))
            for words, weight in options:
                text = _words_text(words)
                parsed = parser(text)
                if parsed is None:
                    continue
                value, parse_confidence, number = parsed
                if weight == BELOW_WEIGHT and number is not None and number == number.to_integral_value():
                    continue  # a whole number under a label is a column's quantity or code more often than money
                read_confidence = min(word.conf for word in words)
                # The label's whole wording, up to the value, when the value sits further along the line.
                context = phrase.text
                if words[0] in line.words and words[0] not in phrase.words:
                    start, end = line.words.index(phrase.words[0]), line.words.index(words[0])
                    context = _words_text(line.words[start:end])
                found.append(
                    Candidate(
                        name=name,
                        value=value,
                        content=text,
                        words=words,
                        confidence=label_strength * weight * parse_confidence * (0.5 + 0.5 * read_confidence),
                        label=_words_text(phrase.words[:used]),
                        currency=parse.detect_currency(text),
                        number=number,
                        rank=rank,
                        context=context,
                    )
                )
                break
    return found


def best_by_field(candidates: list[Candidate], last_page: int) -> dict[str, Candidate]:
    """The winning candidate per field: strongest label, then highest score; totals prefer the bottom of the end."""
    best: dict[str, Candidate] = {}
    grouped: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.name, []).append(candidate)
    for name, group in grouped.items():
        if name in {"InvoiceTotal", "AmountDue", "SubTotal", "TotalTax"}:
            # Totals sit at the end: a "Total" on an earlier page is a carried-forward page total.
            on_last = [c for c in group if c.words[0].page == last_page] or group
            top_rank = min(c.rank for c in on_last)
            strongest = [c for c in on_last if c.rank <= top_rank + 2]
            best[name] = max(strongest, key=lambda c: (c.number or Decimal(0), c.confidence))
        else:
            best[name] = max(group, key=lambda c: (c.confidence - 0.02 * max(c.rank, 0), -c.words[0].y0))
    return best


def document_currency(lines: list[Line]) -> Candidate | None:
    """The currency the document uses most, from symbols and codes beside its amounts."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, list[Word]] = {}
    for line in lines:
        for word in line.words:
            code = parse.detect_currency(word.text)
            if code:
                counts[code] += 1
                first_seen.setdefault(code, [word])
    if not counts:
        return None
    code, count = counts.most_common(1)[0]
    share = count / sum(counts.values())
    words = first_seen[code]
    return Candidate("Currency", code, words[0].text, words, 0.6 + 0.35 * share)


def block_below(lines: list[Line], line_index: int, anchor: Span, index: LabelIndex, max_lines: int = 5) -> list[Span]:
    """Address-like phrases under an anchor phrase in the same column, until a gap, a label or contact details."""
    block: list[Span] = []
    previous = lines[line_index]
    for line in lines[line_index + 1 : line_index + 1 + max_lines * 2]:
        if line.page != previous.page or line.y0 - previous.y1 > 1.6 * max(previous.height, line.height):
            break
        column = [p for p in line.phrases if p.x0 < anchor.x0 + 0.1 and p.x1 > anchor.x0 - 0.02]
        if not column:
            continue
        phrase = column[0]
        if index.match(phrase) is not None or _PHONE_OR_CONTACT.search(phrase.text):
            break
        block.append(phrase)
        previous = line
        if _POSTCODE.search(phrase.text) or len(block) >= max_lines:
            break
    return block


def join_spans(spans: list[Span]) -> str:
    """Address lines joined with commas."""
    return ", ".join(span.text.strip(" ,") for span in spans)
