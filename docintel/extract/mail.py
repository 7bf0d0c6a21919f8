"""Mail: RFC 822 messages (.eml, stdlib ``email``) and Outlook messages (.msg, ``extract-msg``).

A message becomes one page (a short header block, then the body: plain text preferred, else HTML
reduced to its visible text) and its attachments become child documents, attached messages
included. Sender, recipients, date and subject go into metadata: they are personal data, so they
stay in memory and the pipeline decides what, if anything, is stored.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.errors
import email.header
import email.utils
import logging
import mimetypes
import platform
import re
from collections.abc import Callable
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

import extract_msg
import olefile

from docintel.errors import CorruptDocument, EmptyDocument
from docintel.extract.base import ExtractContext
from docintel.extract.html import decode_html, html_to_text
from docintel.extract.text import codec_name, decode_text, normalise_newlines
from docintel.models import Attachment, Extraction, Page

logger = logging.getLogger(__name__)

# extract-msg and its RTF decoder log at INFO/DEBUG per property and per RTF token, with message
# content in the records; keep only their warnings.
for _noisy in ("extract_msg", "RTFDE"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

# Header lines that open the page, in this order.
HEADER_BLOCK = ("Subject", "From", "To", "Cc", "Date")
# Headers that count as mail headers when deciding whether some bytes are a mail at all.
_MAIL_HEADERS = frozenset(
    {"from", "to", "cc", "subject", "date", "received", "message-id", "mime-version", "return-path", "sender"}
)
# An OLE file smaller than this cannot hold a header, a FAT sector and a directory; olefile also
# treats shorter bytes as a file *path*, which extract-msg would then open.
MIN_OLE_BYTES = 1536

_UUENCODE_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\n]+)\n(.*?)^end[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_T = TypeVar("_T")


def _safe_name(name: str | None, fallback: str) -> str:
    """The last path component of an attachment name (mail clients send full Windows paths)."""
    if not name:
        return fallback
    base = PureWindowsPath(PurePosixPath(name.strip()).name).name.strip()
    return base or fallback


def _message_header_block(headers: dict[str, str]) -> str:
    lines = [f"{key}: {headers[key.lower()]}" for key in HEADER_BLOCK if headers.get(key.lower())]
    return "\n".join(lines)


def _page_text(headers: dict[str, str], body: str) -> str:
    block = _message_header_block(headers)
    body = normalise_newlines(body).strip()
    return f"{block}\n\n{body}" if block and body else block or body


def _iso_date(value: str) -> str:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    return parsed.isoformat() if parsed else value


def split_uuencoded(text: str) -> tuple[str, list[Attachment], list[str]]:
    """Cut uuencoded blocks (``begin 644 name`` ... ``end``) out of a body and decode them as attachments."""
    attachments: list[Attachment] = []
    notes: list[str] = []

    def decode(match: re.Match[str]) -> str:
        data = bytearray()
        try:
            for line in match.group(2).split("\n"):
                if line.strip() and line.strip() != "`":
                    data += binascii.a2b_uu(line)
        except binascii.Error:
            notes.append("a uuencoded block could not be decoded and was left in the body")
            return match.group(0)
        attachments.append(Attachment(name=_safe_name(match.group(1), "uuencoded.bin"), content=bytes(data)))
        return ""

    return _UUENCODE_BLOCK.sub(decode, text), attachments, notes


class _EmlReader:
    """One pass over a parsed message: the body, extra inline text and the attachments."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.notes: list[str] = []
        self.attachments: list[Attachment] = []
        self.extra_text: list[str] = []
        self.body_format = ""

    def header(self, name: str) -> str:
        """A header as readable text; malformed headers fall back to a raw decode instead of failing."""
        try:
            value = self.message.get(name)
            return " ".join(str(value).split()) if value is not None else ""
        # The modern header parser raises assorted errors on malformed headers (CPython bugs over the
        # years); the raw value decoded by the legacy path is good enough for a header line.
        except Exception as exc:
            logger.debug("header %s unparseable (%s); using raw value", name, type(exc).__name__)
        for key, raw in self.message.raw_items():
            if key.lower() == name.lower():
                try:
                    return str(email.header.make_header(email.header.decode_header(str(raw))))
                except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
                    return " ".join(str(raw).split())
        return ""

    def read(self) -> str:
        """Find the body part, collect attachments, and return the body text."""
        body_part = self._body_part()
        body = self._part_text(body_part) if body_part is not None else ""
        self._collect(self.message, body_part, self._alternatives_of(body_part))
        if self.extra_text:
            body = "\n\n".join(part for part in [body, *self.extra_text] if part.strip())
        return body

    def _body_part(self) -> Message | None:
        if isinstance(self.message, EmailMessage):
            try:
                body: Message | None = self.message.get_body(preferencelist=("plain", "html"))
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                self.notes.append(f"MIME structure unreadable ({type(exc).__name__}); body taken from the first part")
                body = None
            if body is not None:
                return body
        for part in self.message.walk():
            if part.get_content_type() in {"text/plain", "text/html"} and not self._is_attachment(part):
                return part
        return None

    def _alternatives_of(self, body_part: Message | None) -> set[int]:
        """Ids of the other renderings of the body (the HTML twin of a plain body, say), which are not extra text."""
        if body_part is None:
            return set()
        for part in self.message.walk():
            if part.get_content_type() == "multipart/alternative":
                members = part.get_payload()
                if isinstance(members, list) and any(member is body_part for member in members):
                    return {id(member) for member in members}
        return {id(body_part)}

    @staticmethod
    def _is_attachment(part: Message) -> bool:
        try:
            filename = part.get_filename()
        except (ValueError, LookupError, TypeError, IndexError):
            filename = "attachment"  # a name we cannot decode is still a name
        return bool(filename) or part.get_content_disposition() == "attachment"

    def _part_text(self, part: Message) -> str:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        charset = part.get_content_charset()
        if part.get_content_type() == "text/html":
            self.body_format = self.body_format or "html"
            html, _ = decode_html(payload, charset)
            return html_to_text(html)
        self.body_format = self.body_format or "plain"
        text, encoding = decode_text(payload, charset)
        if charset and encoding != codec_name(charset):
            self.notes.append(f"declared charset {charset!r} did not fit; read as {encoding}")
        text, uuencoded, notes = split_uuencoded(normalise_newlines(text))
        self.attachments.extend(uuencoded)
        self.notes.extend(notes)
        return text

    def _collect(self, part: Message, body_part: Message | None, alternatives: set[int]) -> None:
        # An explicit stack: a hostile mail can nest multiparts deeper than Python's recursion limit.
        stack: list[Any] = [part]
        while stack:
            current = stack.pop()
            content_type = current.get_content_type()
            if content_type in {"message/rfc822", "message/global"}:
                self._attach_message(current)
                continue
            if current.is_multipart():
                payload = current.get_payload()
                if isinstance(payload, list):
                    stack.extend(reversed(payload))
                continue
            if current is body_part:
                continue
            if not self._is_attachment(current) and current.get_content_maintype() == "text":
                if id(current) not in alternatives and content_type in {"text/plain", "text/html"}:
                    self.extra_text.append(self._part_text(current))
                continue
            self._attach_leaf(current)

    def _attach_leaf(self, part: Message) -> None:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            self.notes.append("an attachment without content was skipped")
            return
        index = len(self.attachments) + 1
        extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        if part.get_content_type() == "application/ms-tnef":
            extension = ".dat"  # winmail.dat: passed on as is; no reader for TNEF yet
        try:
            filename = part.get_filename()
        except (ValueError, LookupError, TypeError, IndexError):
            filename = None
        name = _safe_name(filename, f"attachment-{index}{extension}")
        self.attachments.append(Attachment(name=name, content=payload))

    def _attach_message(self, part: Message) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self.notes.append("an attached message without content was skipped")
            return
        try:
            content = inner.as_bytes()
        # Re-serialising with the modern policy fails on some malformed headers; the legacy policy copes.
        except Exception:
            content = inner.as_bytes(policy=policy.compat32)
        index = len(self.attachments) + 1
        try:
            filename = part.get_filename()
        except (ValueError, LookupError, TypeError, IndexError):
            filename = None
        self.attachments.append(Attachment(name=_safe_name(filename, f"message-{index}.eml"), content=content))


def parse_eml(content: bytes) -> Message:
    """Parse RFC 822 bytes, or raise CorruptDocument when they carry no mail headers at all."""
    if not content:
        raise EmptyDocument("file is empty (0 bytes)")
    if content.startswith(b"From "):
        content = content.split(b"\n", 1)[1] if b"\n" in content else b""  # mbox separator line
    message = BytesParser(policy=policy.default).parsebytes(content)
    names = {key.lower() for key in message}
    if not names & _MAIL_HEADERS:
        raise CorruptDocument("not a mail message: no RFC 822 headers found")
    return message


class EmlExtractor:
    """Reads RFC 822 mail (.eml): headers, body and attachments."""

    name = "eml"
    version = platform.python_version()

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Parse the message into one page of text and a list of attachments."""
        message = parse_eml(content)
        reader = _EmlReader(message)
        headers = {key.lower(): reader.header(key) for key in HEADER_BLOCK}
        if headers["date"]:
            headers["date"] = _iso_date(headers["date"])
        body = reader.read()
        notes = list(reader.notes)
        if message.defects:
            notes.append(f"{len(message.defects)} MIME defects tolerated")
        attachments = _apply_attachment_limits(reader.attachments, context, notes)
        metadata = {key: value for key, value in headers.items() if value}
        if reader.body_format:
            metadata["body_format"] = reader.body_format
        metadata["attachments"] = str(len(attachments))
        return Extraction(
            pages=[Page(number=1, text=_page_text(headers, body))],
            attachments=attachments,
            title=headers["subject"] or None,
            metadata=metadata,
            component=self.name,
            notes=notes,
        )


def _apply_attachment_limits(
    attachments: list[Attachment], context: ExtractContext, notes: list[str]
) -> list[Attachment]:
    """Drop attachments past the nesting depth or member count limits, with a note (the message itself stays)."""
    limits = context.limits
    if attachments and context.depth >= limits.max_archive_depth:
        notes.append(
            f"{len(attachments)} attachments not extracted: nested too deep "
            f"(depth {context.depth}, limit {limits.max_archive_depth})"
        )
        return []
    if len(attachments) > limits.max_archive_members:
        notes.append(
            f"{len(attachments) - limits.max_archive_members} attachments dropped "
            f"(limit {limits.max_archive_members} per message)"
        )
        return attachments[: limits.max_archive_members]
    return attachments


def _msg_value(getter: Callable[..., _T], label: str, notes: list[str], *args: Any) -> _T | None:
    """Call an extract-msg getter, turning any error into a note; extract-msg raises anything on odd properties."""
    try:
        return getter(*args)
    # extract-msg decodes properties, RTF and HTML lazily and lets its parsers' errors (UnicodeDecodeError,
    # struct.error, KeyError, its own exceptions...) escape; one unreadable property must not lose the message.
    except Exception as exc:
        notes.append(f"could not read the message {label} ({type(exc).__name__})")
        return None


def _msg_attr(source: Any, attribute: str, label: str, notes: list[str]) -> Any:
    """An extract-msg property (computed lazily, so reading it may raise), or None with a note."""
    return _msg_value(getattr, label, notes, source, attribute, None)


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return " ".join(str(value).split())


class MsgExtractor:
    """Reads Outlook messages (.msg): headers, body and attachments, embedded messages included."""

    name = "msg"
    version = extract_msg.__version__

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Open the OLE message with extract-msg and read it into one page and its attachments."""
        if not content:
            raise EmptyDocument("file is empty (0 bytes)")
        if len(content) < MIN_OLE_BYTES or not content.startswith(olefile.MAGIC):
            raise CorruptDocument("not an Outlook message: no OLE compound file header")
        try:
            message = extract_msg.openMsg(content, strict=False, delayAttachments=True)
        # extract-msg raises its own errors, olefile's OSError, ValueError and others on damaged files.
        except Exception as exc:
            raise CorruptDocument(f"not a readable Outlook message ({type(exc).__name__})") from exc
        try:
            return self._read(message, context)
        finally:
            message.close()

    def _read(self, message: Any, context: ExtractContext) -> Extraction:
        notes: list[str] = []
        headers = {
            "subject": _text_of(_msg_attr(message, "subject", "subject", notes)),
            "from": _text_of(_msg_attr(message, "sender", "sender", notes)),
            "to": _text_of(_msg_attr(message, "to", "recipients", notes)),
            "cc": _text_of(_msg_attr(message, "cc", "cc recipients", notes)),
            "date": _text_of(_msg_attr(message, "date", "date", notes)),
        }
        body, body_format = self._body(message, notes)
        attachments = _apply_attachment_limits(self._attachments(message, notes), context, notes)
        metadata = {key: value for key, value in headers.items() if value}
        metadata["message_class"] = _text_of(_msg_attr(message, "classType", "class", notes))
        if body_format:
            metadata["body_format"] = body_format
        metadata["attachments"] = str(len(attachments))
        return Extraction(
            pages=[Page(number=1, text=_page_text(headers, body))],
            attachments=attachments,
            title=headers["subject"] or None,
            metadata=metadata,
            component=self.name,
            notes=notes,
        )

    @staticmethod
    def _body(message: Any, notes: list[str]) -> tuple[str, str]:
        plain = _msg_attr(message, "body", "plain body", notes)
        if isinstance(plain, str) and plain.strip():
            return plain, "plain"
        html = _msg_attr(message, "htmlBody", "HTML body", notes)
        if isinstance(html, bytes) and html.strip():
            return html_to_text(decode_html(html)[0]), "html"
        rtf = _msg_attr(message, "rtfBody", "RTF body", notes)
        if rtf:
            from_rtf = _msg_value(
                message.deencapsulateBody, "RTF body", notes, rtf, extract_msg.enums.DeencapType.PLAIN
            )
            if isinstance(from_rtf, str) and from_rtf.strip():
                return from_rtf, "rtf"
            notes.append("the body is only in RTF and could not be converted to text")
        return "", ""

    @staticmethod
    def _attachments(message: Any, notes: list[str]) -> list[Attachment]:
        found = _msg_attr(message, "attachments", "attachments", notes) or []
        attachments: list[Attachment] = []
        for index, attachment in enumerate(found, start=1):
            data = _msg_attr(attachment, "data", f"attachment {index}", notes)
            filename = _msg_value(attachment.getFilename, f"attachment {index} name", notes)
            if isinstance(data, bytes):
                name = _safe_name(filename, f"attachment-{index}.bin")
            elif data is not None and hasattr(data, "exportBytes"):
                exported = _msg_value(data.exportBytes, f"embedded message {index}", notes)
                if not isinstance(exported, bytes):
                    continue
                data = exported
                name = _safe_name(filename, f"message-{index}.msg")
                if not name.lower().endswith(".msg"):
                    name += ".msg"
            else:
                notes.append(f"attachment {index} skipped: no file content (link or unsupported kind)")
                continue
            modified = _msg_attr(attachment, "modifiedAt", f"attachment {index} date", notes)
            attachments.append(
                Attachment(name=name, content=data, modified_at=modified if isinstance(modified, dt.datetime) else None)
            )
        return attachments
