"""Outlook MSG writer: messages read back by extract-msg, recognised by libmagic, parsed by olefile."""

from __future__ import annotations

import datetime as dt
import logging

import extract_msg
import magic
import olefile
import pytest

from docintel.samples.msg import build_msg

SENT = dt.datetime(2025, 7, 8, 18, 42, tzinfo=dt.UTC)
LARGE_ATTACHMENT = bytes(range(256)) * 40  # 10 KB: stored in regular sectors, not the mini stream


def _read(data: bytes) -> extract_msg.Message:
    message = extract_msg.openMsg(data)
    assert isinstance(message, extract_msg.Message), type(message)
    return message


def _message(**overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "subject": "Formal complaint - missed bin collections",
        "sender_name": "Olivia Smith",
        "sender_email": "olivia.smith@example.org",
        "to": [("Customer Services", "customer.services@wessex.example.gov.uk")],
        "body": "Dear Customer Services,\r\n\r\nMy recycling was missed again.\r\n",
        "attachments": [("log.csv", b"date,bin\r\n2025-04-14,recycling\r\n"), ("photo.bin", LARGE_ATTACHMENT)],
        "sent_at": SENT,
    }
    arguments.update(overrides)
    return build_msg(**arguments)  # type: ignore[arg-type]


def test_extract_msg_reads_back_subject_body_sender_recipients_and_date() -> None:
    message = _read(_message())
    try:
        assert message.subject == "Formal complaint - missed bin collections"
        assert message.body == "Dear Customer Services,\r\n\r\nMy recycling was missed again.\r\n"
        assert message.sender == "Olivia Smith <olivia.smith@example.org>"
        assert message.to == "Customer Services <customer.services@wessex.example.gov.uk>"
        assert message.classType == "IPM.Note"
        assert message.date == SENT
    finally:
        message.close()


def test_extract_msg_reads_back_attachment_names_and_bytes() -> None:
    message = _read(_message())
    try:
        found = {attachment.longFilename: attachment.data for attachment in message.attachments}
    finally:
        message.close()
    assert found == {"log.csv": b"date,bin\r\n2025-04-14,recycling\r\n", "photo.bin": LARGE_ATTACHMENT}


@pytest.mark.parametrize(
    ("subject", "recipients", "attachments"),
    [
        ("Plain ASCII", [("A Person", "a.person@example.org")], []),
        ("Non-ASCII: £25 – café ✓", [("Zoë Ní Bhriain", "zoe@example.org")], [("résumé.txt", b"cv")]),
        (
            "Two recipients, three attachments",
            [("First", "first@example.org"), ("Second", "second@example.net")],
            [("a.txt", b"a"), ("b.pdf", b"%PDF-1.4 fake"), ("empty.txt", b"")],
        ),
    ],
    ids=["no attachments", "unicode", "several"],
)
def test_round_trip_table(
    subject: str, recipients: list[tuple[str, str]], attachments: list[tuple[str, bytes]]
) -> None:
    message = _read(_message(subject=subject, to=recipients, attachments=attachments))
    try:
        assert message.subject == subject
        assert [(r.name, r.email) for r in message.recipients] == recipients
        assert [(a.longFilename, a.data or b"") for a in message.attachments] == attachments
    finally:
        message.close()


def test_libmagic_sees_an_outlook_compound_file() -> None:
    data = _message()
    assert magic.from_buffer(data, mime=True) == "application/vnd.ms-outlook"
    assert "CDFV2" in magic.from_buffer(data)


def test_layout_follows_ms_oxmsg() -> None:
    ole = olefile.OleFileIO(_message(), raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(path) for path in ole.listdir()}
    assert {
        "__properties_version1.0",
        "__substg1.0_0037001F",
        "__substg1.0_1000001F",
        "__substg1.0_0C1A001F",
        "__substg1.0_0C1F001F",
        "__substg1.0_0E04001F",
        "__substg1.0_001A001F",
        "__recip_version1.0_#00000000/__properties_version1.0",
        "__attach_version1.0_#00000000/__substg1.0_3707001F",
        "__attach_version1.0_#00000000/__substg1.0_37010102",
        "__attach_version1.0_#00000001/__substg1.0_37010102",
        "__nameid_version1.0/__substg1.0_00020102",
    } <= streams
    assert ole.openstream("__substg1.0_0037001F").read().decode("utf-16-le").startswith("Formal complaint")
    header = ole.openstream("__properties_version1.0").read()[:32]
    assert header[8:24] == (1).to_bytes(4, "little") + (2).to_bytes(4, "little") + (1).to_bytes(4, "little") + (
        2
    ).to_bytes(4, "little")


def test_extract_msg_logs_no_errors_reading_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="extract_msg"):
        message = _read(_message())
        _ = message.subject, message.body, message.sender, message.to, [a.data for a in message.attachments]
        message.close()
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_same_input_same_bytes() -> None:
    assert _message() == _message()
