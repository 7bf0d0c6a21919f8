"""docintel's exception tree.

Foreign exceptions (pdfminer, zipfile, SQLAlchemy, the Graph SDK...) are translated into these once,
at the boundary of the component that called the library. Anything else that escapes is a bug and
fails loudly.

    DocintelError                   base; ``retryable``, ``exit_code``, ``http_status``
    ├── ConfigError                 bad settings file, unknown key, unknown component name (exit 2)
    │   └── PiiKeyMismatch          the PII key is not the one the catalogue was hashed with
    ├── SourceError                 a source could not give us a document
    │   ├── SourceAuthError         credentials refused (401/403)
    │   ├── SourceNotFound          item or drive gone (404)
    │   ├── SourceThrottled         429/503 with Retry-After (retryable)
    │   ├── SourceUnavailable       network or 5xx (retryable)
    │   └── PassedOver              a folder entry the local source does not read (recorded, never fatal)
    │       ├── SymbolicLink        a link to a file or folder, dangling or looping: not followed
    │       ├── SpecialFile         a fifo, socket or device: not a document
    │       └── PermissionDenied    a file or folder this process may not read
    ├── ExtractionError             a document could not be read
    │   ├── UnsupportedType         no extractor for the sniffed type
    │   ├── EmptyDocument           zero bytes, or no content at all
    │   ├── EncryptedDocument       password-protected
    │   ├── TooLarge                over a size, page or pixel limit
    │   │   └── ArchiveBomb         archive expands past its limits (size, ratio, members, depth)
    │   ├── CorruptDocument         the bytes do not parse as the sniffed type
    │   ├── ExtractionTimeout       a parser or OCR call overran its time budget (retryable)
    │   └── WorkerCrashed           the process reading the document died (out of memory, parser crash, killed)
    ├── EnrichmentError             NER / PII stage failed
    ├── ClassificationError         retention classification failed
    └── CatalogueError              the catalogue could not be read or written (retryable)
"""

from __future__ import annotations

import re

# Messages are stored in the catalogue and shown in reports: keep them short and free of secrets.
_MAX_SAFE_MESSAGE = 300
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:password|passwd|pwd|secret|token|key|sig)=)[^&\s]+"),
    re.compile(r"(?i)(://[^:/\s]+:)[^@\s]+(@)"),
]


def safe_summary(text: str) -> str:
    """Strip credentials from a message and cut it to a length fit for logs and the catalogue."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***" + (m.group(2) if m.lastindex == 2 else ""), text)
    text = " ".join(text.split())
    if len(text) > _MAX_SAFE_MESSAGE:
        text = text[: _MAX_SAFE_MESSAGE - 1] + "…"
    return text


class DocintelError(Exception):
    """Root of every error docintel raises on purpose."""

    retryable: bool = False
    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(safe_summary(message))

    @property
    def message(self) -> str:
        """The safe message, without the class name."""
        return str(self)

    @property
    def kind(self) -> str:
        """The error class name, as recorded in the catalogue."""
        return type(self).__name__


class ConfigError(DocintelError):
    """A settings file, key or component name is wrong; the process cannot start."""

    exit_code = 2


class PiiKeyMismatch(ConfigError):
    """The PII key differs from the one the catalogue's hashes were made with: searches would miss."""


class SourceError(DocintelError):
    """A source could not list or deliver a document."""

    http_status = 502


class SourceAuthError(SourceError):
    """The source refused our credentials."""

    http_status = 401


class SourceNotFound(SourceError):
    """The item, drive or folder does not exist (any more)."""

    http_status = 404


class SourceThrottled(SourceError):
    """The source asked us to slow down; wait ``retry_after`` seconds."""

    retryable = True
    http_status = 429

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """The source is unreachable or failing; try again later."""

    retryable = True
    http_status = 503


class PassedOver(SourceError):
    """A folder entry the local source lists but does not read; recorded in the catalogue so it is seen."""

    #: how the scan summary names entries of this kind, one and many ("Skipped 3: 2 symbolic links (not followed)")
    summary_label = ("other entry not read", "other entries not read")


class SymbolicLink(PassedOver):
    """A symbolic link (to a file or folder, dangling, or a loop): never followed."""

    summary_label = ("symbolic link (not followed)", "symbolic links (not followed)")


class SpecialFile(PassedOver):
    """A fifo, socket or device node: reading it would block or never end, and it is no document."""

    summary_label = ("special file (fifo, socket, device)", "special files (fifos, sockets, devices)")


class PermissionDenied(PassedOver):
    """A file or folder this process is not allowed to read."""

    http_status = 403
    summary_label = ("permission denied", "permission denied")


class ExtractionError(DocintelError):
    """A document could not be read."""

    http_status = 422


class UnsupportedType(ExtractionError):
    """No extractor handles the sniffed file type."""

    http_status = 415


class EmptyDocument(ExtractionError):
    """The file has no bytes, or nothing in it to read."""


class EncryptedDocument(ExtractionError):
    """The file is password-protected and we hold no password."""


class TooLarge(ExtractionError):
    """The file is over a configured size, page or pixel limit."""

    http_status = 413


class ArchiveBomb(TooLarge):
    """An archive (or compressed stream) expands beyond its limits."""


class CorruptDocument(ExtractionError):
    """The bytes do not parse as the type they were sniffed as."""


class ExtractionTimeout(ExtractionError):
    """A parser, converter or OCR call overran its time budget."""

    retryable = True
    http_status = 504


class WorkerCrashed(ExtractionError):
    """The worker process reading this document died under it: out of memory, a crash in a parser, or killed."""


class EnrichmentError(DocintelError):
    """Entity or personal-data detection failed."""


class ClassificationError(DocintelError):
    """Retention classification failed."""


class CatalogueError(DocintelError):
    """The catalogue could not be read or written."""

    retryable = True
    http_status = 503
