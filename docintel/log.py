"""Logging set-up: plain text on a terminal, JSON lines in containers.

Records carry ids, stages and error classes; callers never pass document text, PII values,
tokens or secrets into log messages.
"""

from __future__ import annotations

import json
import logging
import os
import sys

_NOISY_LIBRARIES = ("pdfminer", "extract_msg", "presidio-analyzer", "presidio_analyzer", "pypdfium2", "PIL")


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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party parsers log fragments of the documents they choke on: keep them quiet.
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
