"""Logging set-up: plain text on a terminal, JSON lines in containers.

Records carry ids, stages and error classes; callers never pass document text, PII values,
tokens or secrets into log messages.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys

_NOISY_LIBRARIES = ("pdfminer", "extract_msg", "presidio-analyzer", "presidio_analyzer", "pypdfium2", "PIL")

# A URL's query string, up to the next whitespace or quote: HTTP clients log whole URLs, and the query is
# where Power Automate callbacks carry ``sig=`` and SharePoint download URLs carry ``tempauth=``.
_URL_QUERY = re.compile(r"(?P<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#'\"<>]*)\?[^\s#'\"<>]*")
# A bare path's query string, as urllib3 logs requests (``"GET /download.aspx?tempauth=... HTTP/1.1"``).
_PATH_QUERY = re.compile(r"(?P<path>(?:^|(?<=[\s\"'(]))/[^\s?#'\"<>]*)\?[^\s#'\"<>]*")
# User and password in a URL's authority (``https://user:secret@host``).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@'\"<>]+@")
REDACTED = "[redacted]"


def redact_urls(text: str) -> str:
    """Text with every URL's query string and credentials replaced by a marker; the rest left as it was."""
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)
    text = _URL_QUERY.sub(rf"\g<url>?{REDACTED}", text)
    return _PATH_QUERY.sub(rf"\g<path>?{REDACTED}", text)


class UrlSecretsFilter(logging.Filter):
    """Redacts URL query strings and credentials in every record a handler emits, whoever logged it.

    A handler filter, not a logger one: records from httpx, httpcore, urllib3 and the Azure SDK propagate to
    the root handler without passing through the filters of ancestor loggers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drops a record."""
        message = record.getMessage()
        redacted = redact_urls(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and exception class if any."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception"] = record.exc_info[0].__name__
        return json.dumps(payload)


def configure_logging(verbosity: int = 0, *, json_format: bool | None = None) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    if json_format is None:
        json_format = os.environ.get("DOCINTEL_LOG_FORMAT", "").lower() == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(UrlSecretsFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party parsers log fragments of the documents they choke on: keep them quiet.
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
