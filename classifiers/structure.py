"""What a document's form says before its words do: the kind of file it is, and a message's header block.

Both classifiers read these cues: the rules test decisive patterns on a message's body without its header
lines, and the model reads the kind of file as a word ("email", "scanned image").
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from docintel.extract.base import FileType
from docintel.models import DocumentRecord

EMAIL_TYPES = frozenset({FileType.EML.value, FileType.MSG.value})
# A message without mail headers (a body saved on its own, a broken export) sniffs as text or HTML; named
# .eml or .msg it is still a message, and that is the cue that matters for its class.
_PLAIN_TYPES = frozenset({FileType.TEXT.value, FileType.HTML.value})
_TYPE_BY_MIME = {mime: file_type.value for file_type in FileType for mime in file_type.mime_types}
_TYPE_BY_SUFFIX = {f".{file_type.value}": file_type.value for file_type in FileType}
# Words for the readability check: three or more letters, after accents are folded.
_WORD = re.compile(r"[a-z]{3,}")
# The header block docintel's mail extractor opens a message's text with (docintel.extract.mail.HEADER_BLOCK).
_HEADER_BLOCK = re.compile(r"\A\s*(?:(?:Subject|From|To|Cc|Date):[^\n]*(?:\n|\Z))+", re.IGNORECASE)


def file_type_of(record: DocumentRecord) -> str | None:
    """The record's kind of file: the sniffed type, else its MIME type, else its extension.

    A file named ``.eml``/``.msg`` whose bytes read as plain text or HTML counts as the message its name says.
    """
    suffix = PurePosixPath(record.provenance.name.replace("\\", "/")).suffix.lower()
    if record.file_type:
        by_name = _TYPE_BY_SUFFIX.get(suffix)
        if record.file_type in _PLAIN_TYPES and by_name in EMAIL_TYPES:
            return by_name
        return record.file_type
    if record.mime_type:
        return _TYPE_BY_MIME.get(record.mime_type.split(";")[0].strip().lower())
    # Only when nothing sniffed the bytes (records built by hand, tests) does the extension speak alone.
    return _TYPE_BY_SUFFIX.get(suffix)


def is_email(file_type: str | None) -> bool:
    """Whether a file type is a mail message."""
    return file_type in EMAIL_TYPES


def without_mail_headers(text: str) -> str:
    """The text after a leading mail header block (Subject/From/To/Cc/Date lines), or the text itself."""
    match = _HEADER_BLOCK.match(text)
    return text[match.end() :] if match else text


def fold_accents(text: str) -> str:
    """Text with accents taken off letters ("Procès-verbal" -> "Proces-verbal"), other characters kept.

    OCR and old encodings drop or swap accents at random; folding makes the same word one token either way.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def readable_words(text: str, vocabulary: frozenset[str]) -> tuple[int, int]:
    """How many of the text's words (three or more letters) the vocabulary knows, and how many there are.

    A text in another language, in a broken encoding or with no body at all has few known words: a model
    trained on English council documents has nothing to go on there.
    """
    words = _WORD.findall(fold_accents(text).lower())
    return sum(word in vocabulary for word in words), len(words)
