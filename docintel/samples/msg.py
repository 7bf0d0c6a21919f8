"""Write Outlook ``.msg`` files ([MS-OXMSG]) on top of the compound file writer.

A message is a CFB container: one ``__properties_version1.0`` stream of fixed-size property entries per
object, a ``__substg1.0_IIIITTTT`` stream per variable-length property (strings as UTF-16LE, binaries as
is), one storage per recipient and per attachment, and a named-property map (empty here).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import struct
from collections.abc import Sequence

from docintel.samples.cfb import Storage, build_compound_file

# Property types ([MS-OXCDATA] 2.11.1).
PT_LONG = 0x0003
PT_BOOLEAN = 0x000B
PT_UNICODE = 0x001F
PT_SYSTIME = 0x0040
PT_BINARY = 0x0102

# Property ids ([MS-OXPROPS]).
PID_MESSAGE_CLASS = 0x001A
PID_SUBJECT = 0x0037
PID_CLIENT_SUBMIT_TIME = 0x0039
PID_SENT_REPRESENTING_NAME = 0x0042
PID_SENT_REPRESENTING_EMAIL = 0x0065
PID_SENDER_NAME = 0x0C1A
PID_SENDER_ADDRTYPE = 0x0C1E
PID_SENDER_EMAIL = 0x0C1F
PID_DISPLAY_TO = 0x0E04
PID_MESSAGE_DELIVERY_TIME = 0x0E06
PID_MESSAGE_FLAGS = 0x0E07
PID_HAS_ATTACHMENTS = 0x0E1B
PID_NORMALIZED_SUBJECT = 0x0E1D
PID_ATTACH_SIZE = 0x0E20
PID_ATTACH_NUM = 0x0E21
PID_BODY = 0x1000
PID_DISPLAY_NAME = 0x3001
PID_ADDRTYPE = 0x3002
PID_EMAIL_ADDRESS = 0x3003
PID_ATTACH_DATA_BINARY = 0x3701
PID_ATTACH_FILENAME = 0x3704
PID_ATTACH_METHOD = 0x3705
PID_ATTACH_LONG_FILENAME = 0x3707
PID_ATTACH_MIME_TAG = 0x370E
PID_RECIPIENT_TYPE = 0x0C15
PID_SMTP_ADDRESS = 0x39FE
PID_SENDER_SMTP_ADDRESS = 0x5D01

MAPI_TO = 1
ATTACH_BY_VALUE = 1
MSGFLAG_READ = 0x0001
# Property flags: readable | writable, as Outlook writes them.
_PROP_FLAGS = 0x00000006
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
_NAMEID_STREAMS = ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102")

PropertyValue = str | bytes | int | bool | dt.datetime


def _filetime(when: dt.datetime) -> int:
    return int((when - _FILETIME_EPOCH).total_seconds() * 10_000_000)


def _property_storage(properties: list[tuple[int, int, PropertyValue]], header: bytes) -> dict[str, bytes]:
    """The property stream (header + 16-byte entries) and one substg stream per variable-length value."""
    entries: list[bytes] = []
    streams: dict[str, bytes] = {}
    for prop_id, prop_type, value in properties:
        tag = (prop_id << 16) | prop_type
        if prop_type in (PT_UNICODE, PT_BINARY):
            data = value.encode("utf-16-le") if isinstance(value, str) else value
            assert isinstance(data, bytes)
            streams[f"__substg1.0_{tag:08X}"] = data
            # Unicode string sizes count the terminating NUL, which the stream itself leaves out.
            size = len(data) + 2 if prop_type == PT_UNICODE else len(data)
            fixed = struct.pack("<II", size, 0)
        elif prop_type == PT_SYSTIME:
            assert isinstance(value, dt.datetime)
            fixed = struct.pack("<Q", _filetime(value))
        elif prop_type in (PT_LONG, PT_BOOLEAN):
            assert isinstance(value, int)
            fixed = struct.pack("<II", int(value), 0)
        else:
            raise ValueError(f"unsupported property type 0x{prop_type:04X}")
        entries.append(struct.pack("<II", tag, _PROP_FLAGS) + fixed)
    streams["__properties_version1.0"] = header + b"".join(entries)
    return streams


def _recipient(index: int, name: str, address: str) -> dict[str, bytes]:
    return _property_storage(
        [
            (PID_RECIPIENT_TYPE, PT_LONG, MAPI_TO),
            (PID_DISPLAY_NAME, PT_UNICODE, name),
            (PID_ADDRTYPE, PT_UNICODE, "SMTP"),
            (PID_EMAIL_ADDRESS, PT_UNICODE, address),
            (PID_SMTP_ADDRESS, PT_UNICODE, address),
        ],
        header=bytes(8),
    )


def _attachment(index: int, filename: str, data: bytes) -> dict[str, bytes]:
    stem, dot, extension = filename.rpartition(".")
    short_name = f"{(stem or extension)[:8]}{dot}{extension[:3] if dot else ''}".upper()
    mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return _property_storage(
        [
            (PID_ATTACH_METHOD, PT_LONG, ATTACH_BY_VALUE),
            (PID_ATTACH_NUM, PT_LONG, index),
            (PID_ATTACH_SIZE, PT_LONG, len(data)),
            (PID_DISPLAY_NAME, PT_UNICODE, filename),
            (PID_ATTACH_LONG_FILENAME, PT_UNICODE, filename),
            (PID_ATTACH_FILENAME, PT_UNICODE, short_name),
            (PID_ATTACH_MIME_TAG, PT_UNICODE, mime_type),
            (PID_ATTACH_DATA_BINARY, PT_BINARY, data),
        ],
        header=bytes(8),
    )


def build_msg(  # noqa: PLR0917 - the positional order is the agreed interface
    subject: str,
    sender_name: str,
    sender_email: str,
    to: Sequence[tuple[str, str]],
    body: str,
    attachments: Sequence[tuple[str, bytes]],
    sent_at: dt.datetime | None = None,
) -> bytes:
    """An Outlook message (IPM.Note) with plain-text body; ``to`` holds (display name, address) pairs."""
    sent_at = sent_at or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    properties: list[tuple[int, int, PropertyValue]] = [
        (PID_MESSAGE_CLASS, PT_UNICODE, "IPM.Note"),
        (PID_SUBJECT, PT_UNICODE, subject),
        (PID_NORMALIZED_SUBJECT, PT_UNICODE, subject),
        (PID_BODY, PT_UNICODE, body),
        (PID_SENDER_NAME, PT_UNICODE, sender_name),
        (PID_SENDER_ADDRTYPE, PT_UNICODE, "SMTP"),
        (PID_SENDER_EMAIL, PT_UNICODE, sender_email),
        (PID_SENDER_SMTP_ADDRESS, PT_UNICODE, sender_email),
        (PID_SENT_REPRESENTING_NAME, PT_UNICODE, sender_name),
        (PID_SENT_REPRESENTING_EMAIL, PT_UNICODE, sender_email),
        (PID_DISPLAY_TO, PT_UNICODE, "; ".join(name for name, _ in to)),
        (PID_CLIENT_SUBMIT_TIME, PT_SYSTIME, sent_at),
        (PID_MESSAGE_DELIVERY_TIME, PT_SYSTIME, sent_at),
        (PID_MESSAGE_FLAGS, PT_LONG, MSGFLAG_READ),
        (PID_HAS_ATTACHMENTS, PT_BOOLEAN, bool(attachments)),
    ]
    # Top-level header: 8 reserved bytes, next recipient id, next attachment id, the two counts, 8 reserved.
    header = struct.pack("<8xIIII8x", len(to), len(attachments), len(to), len(attachments))
    tree: dict[str, bytes | Storage] = dict(_property_storage(properties, header))
    tree["__nameid_version1.0"] = dict.fromkeys(_NAMEID_STREAMS, b"")
    for index, (name, address) in enumerate(to):
        tree[f"__recip_version1.0_#{index:08X}"] = _recipient(index, name, address)
    for index, (filename, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{index:08X}"] = _attachment(index, filename, data)
    return build_compound_file(tree)
