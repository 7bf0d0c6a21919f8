"""Plain text and CSV: encoding detection, newline normalisation, CSV rows as ``cell | cell`` lines."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import unicodedata

import charset_normalizer

from docintel.errors import CorruptDocument, EmptyDocument
from docintel.extract.base import ExtractContext
from docintel.models import Extraction, Page

logger = logging.getLogger(__name__)

# CSV exports from finance systems can run to millions of rows; the first rows decide what the file
# is about, and the rest would only swell the NLP stage. Beyond this many rows we stop with a note.
MAX_CSV_ROWS = 100_000

# charset-normalizer samples the bytes anyway; giving it at most this much keeps detection fast on
# large files without changing its answer.
ENCODING_SAMPLE_BYTES = 256 * 1024

# csv.Sniffer guesses a dialect from this much text: enough rows to see a consistent delimiter.
CSV_SNIFF_CHARS = 64 * 1024
CSV_DELIMITERS = ",;\t|"

# Text in which more than this share of characters are control characters or undecodable bytes is
# binary that libmagic mistook for text, not a document anyone could read.
MAX_CONTROL_CHAR_SHARE = 0.10

# Encodings that decode Western European text the way a UK council's legacy systems wrote it.
# charset-normalizer often ranks cp1250 or cp932 level with cp1252 on short English text with a
# pound sign (even cp775 for one sentence with curly quotes); for a UK deployment cp1252 is the
# likelier truth when it scores about as well.
_WESTERN_ENCODINGS = frozenset({"cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15"})
_CHAOS_TOLERANCE = 0.01
_COHERENCE_TOLERANCE = 0.2  # coherence is noisy on short texts: 0.53 vs 0.44 for one sentence

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
# UTF-16 LE text without a BOM (Windows exports) has a zero byte after nearly every ASCII character.
UTF16_ZERO_SHARE = 0.3
CELL_SEPARATOR = " | "


def bom_encoding(content: bytes) -> str | None:
    """The encoding a byte-order mark announces, or None when there is no BOM."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return encoding
    return None


def looks_like_utf16le(content: bytes) -> bool:
    """Whether BOM-less bytes look like UTF-16 LE text: zeros in most odd positions, few in even ones."""
    head = content[:4096]
    if len(head) < 8:
        return False
    odd, even = head[1::2], head[0::2]
    return odd.count(0) / len(odd) >= UTF16_ZERO_SHARE and even.count(0) / len(even) < UTF16_ZERO_SHARE / 3


def detect_encoding(content: bytes) -> str:
    """The encoding of some text bytes: BOM, else strict UTF-8, else charset-normalizer's best, else cp1252."""
    encoding = bom_encoding(content)
    if encoding:
        return encoding
    if looks_like_utf16le(content):
        return "utf-16-le"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a sample is still UTF-8.
        if not (exc.start >= len(content) - 3 and exc.reason == "unexpected end of data"):
            return _guess_legacy_encoding(content)
    return "utf-8"


def _guess_legacy_encoding(content: bytes) -> str:
    matches = charset_normalizer.from_bytes(content[:ENCODING_SAMPLE_BYTES])
    best = matches.best()
    if best is None:
        return "cp1252"
    western = [
        match
        for match in matches
        if match.encoding in _WESTERN_ENCODINGS
        and match.chaos <= best.chaos + _CHAOS_TOLERANCE
        and match.coherence >= best.coherence - _COHERENCE_TOLERANCE
    ]
    if western or best.encoding in _WESTERN_ENCODINGS:
        # cp1252 is a superset of Latin-1's printable characters, so it reads both.
        return "cp1252"
    return best.encoding


def decode_text(content: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode bytes to text with the declared encoding if it fits, else a detected one; never raises."""
    if declared and not bom_encoding(content):
        codec = codec_name(declared)
        if codec:
            try:
                return content.decode(codec), codec
            except UnicodeDecodeError:
                logger.debug("declared encoding %s does not fit; detecting", codec)
    encoding = detect_encoding(content)
    return content.decode(encoding, errors="replace"), encoding


def codec_name(label: str) -> str | None:
    """Python's codec name for a charset label from a header or meta tag, or None when unknown."""
    label = label.strip().strip("\"'").lower()
    # Browsers and mail clients read these labels as windows-1252 (WHATWG Encoding Standard).
    if label in {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252"}:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def normalise_newlines(text: str) -> str:
    """Turn CRLF and lone CR line ends into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def control_char_share(text: str) -> float:
    """Share of characters that are control characters (other than whitespace) or replacement characters."""
    if not text:
        return 0.0
    bad = sum(
        1 for char in text if char == "\ufffd" or (char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc")
    )
    return bad / len(text)


def read_text(content: bytes) -> tuple[str, str]:
    """Decode and normalise text bytes; raise CorruptDocument when they are binary garbage."""
    if not content:
        raise EmptyDocument("file is empty (0 bytes)")
    text, encoding = decode_text(content)
    text = normalise_newlines(text).lstrip("\ufeff")
    share = control_char_share(text)
    if share > MAX_CONTROL_CHAR_SHARE:
        raise CorruptDocument(f"not text: {share:.0%} of characters are control characters or undecodable bytes")
    return text, encoding


class TextExtractor:
    """Reads plain text files in any common encoding."""

    name = "text"
    version = charset_normalizer.__version__

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Decode the bytes into one page of text."""
        text, encoding = read_text(content)
        notes = [] if text.strip() else ["no text: the file holds only whitespace"]
        return Extraction(
            pages=[Page(number=1, text=text)],
            metadata={"encoding": encoding},
            component=self.name,
            notes=notes,
        )


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a text sample, or Excel's when csv.Sniffer cannot tell."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


class CsvExtractor:
    """Reads CSV (and TSV) files as one line per row with cells joined by ``" | "``."""

    name = "csv"
    version = charset_normalizer.__version__

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Decode the bytes, sniff the dialect and render the rows."""
        text, encoding = read_text(content)
        dialect = sniff_dialect(text[:CSV_SNIFF_CHARS])
        notes: list[str] = []
        lines: list[str] = []
        rows = 0
        try:
            for row in csv.reader(io.StringIO(text), dialect):
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                if rows >= MAX_CSV_ROWS:
                    notes.append(f"truncated after {MAX_CSV_ROWS} rows")
                    break
                lines.append(CELL_SEPARATOR.join(cells))
                rows += 1
        except csv.Error as exc:
            # A malformed row (say, a field over csv's size limit) should not lose the file: keep it as text.
            notes.append(f"not parseable as CSV at row {rows + 1} ({exc}); kept as plain text")
            lines = [line for line in text.split("\n") if line.strip()][:MAX_CSV_ROWS]
        if not lines:
            notes.append("no rows: the file holds only whitespace")
        return Extraction(
            pages=[Page(number=1, text="\n".join(lines))],
            metadata={"encoding": encoding, "delimiter": dialect.delimiter, "rows": str(rows)},
            component=self.name,
            notes=notes,
        )
