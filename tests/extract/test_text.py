"""Plain text and CSV: encodings, newlines, CSV dialects, row caps and binary garbage."""

from __future__ import annotations

import os

import pytest

from docintel.errors import CorruptDocument, EmptyDocument
from docintel.extract import text as text_module
from docintel.extract.base import ExtractContext
from docintel.extract.text import CsvExtractor, TextExtractor, control_char_share, decode_text, detect_encoding

CONTEXT = ExtractContext(name="file.txt")

SAMPLE = "Fee: £25 for the café licence – paid “in full”\nSecond line\n"


@pytest.mark.parametrize(
    ("content", "expected_text"),
    [
        (SAMPLE.encode("utf-8"), SAMPLE),
        (SAMPLE.encode("utf-8-sig"), SAMPLE),
        (SAMPLE.encode("cp1252"), SAMPLE),
        (SAMPLE.encode("utf-16"), SAMPLE),
        (SAMPLE.encode("utf-16-le"), SAMPLE),
        (SAMPLE.encode("utf-32"), SAMPLE),
        ("Grüße aus München, schöne Straße\n".encode("latin-1"), "Grüße aus München, schöne Straße\n"),
        ("Привет, как дела? Это тестовый документ для проверки.\n".encode("cp1251"),
         "Привет, как дела? Это тестовый документ для проверки.\n"),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "utf16-bom", "utf16le-no-bom", "utf32", "latin1", "cp1251"],
)  # fmt: skip
def test_text_extractor_decodes_common_encodings(content: bytes, expected_text: str):
    extraction = TextExtractor().extract(content, CONTEXT)
    assert extraction.pages[0].text == expected_text
    assert extraction.metadata["encoding"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"a\r\nb\r\n", "a\nb\n"), (b"a\rb\r", "a\nb\n"), (b"a\nb", "a\nb"), (b"a\r\n\r\nb", "a\n\nb")],
)
def test_newlines_are_normalised(content: bytes, expected: str):
    assert TextExtractor().extract(content, CONTEXT).pages[0].text == expected


def test_declared_encoding_is_used_when_it_fits_and_ignored_when_it_does_not():
    assert decode_text("café".encode("cp1252"), "iso-8859-1") == ("café", "cp1252")
    text, encoding = decode_text("café".encode(), "no-such-charset")
    assert (text, encoding) == ("café", "utf-8")
    text, encoding = decode_text("naïve £5".encode(), "ascii")  # declared ASCII, really UTF-8: no crash
    assert encoding == "cp1252" and text.startswith("na")


def test_utf8_cut_mid_character_at_the_end_of_a_sample_is_still_utf8():
    assert detect_encoding("café £".encode()[:-1]) == "utf-8"


def test_binary_garbage_is_corrupt():
    garbage = bytes(range(0, 32)) * 200
    with pytest.raises(CorruptDocument, match="control characters"):
        TextExtractor().extract(garbage, CONTEXT)


def test_random_bytes_never_crash_the_decoder():
    for _ in range(20):
        text, encoding = decode_text(os.urandom(512))
        assert isinstance(text, str) and encoding


@pytest.mark.parametrize(("text", "share"), [("abc", 0.0), ("a\tb\nc", 0.0), ("a\x00", 0.5), ("\ufffd\ufffd", 1.0)])
def test_control_char_share(text: str, share: float):
    assert control_char_share(text) == share


def test_empty_file_raises_empty_document():
    with pytest.raises(EmptyDocument):
        TextExtractor().extract(b"", CONTEXT)
    with pytest.raises(EmptyDocument):
        CsvExtractor().extract(b"", CONTEXT)


def test_whitespace_only_text_is_kept_with_a_note():
    extraction = TextExtractor().extract(b"  \n\n ", CONTEXT)
    assert extraction.pages[0].text.strip() == ""
    assert extraction.notes


@pytest.mark.parametrize(
    ("content", "expected_lines", "delimiter"),
    [
        ("name,amount\nA Smith,£5\nB Jones,£10.50\n".encode("cp1252"),
         ["name | amount", "A Smith | £5", "B Jones | £10.50"], ","),
        (b"ref;ward;note\n1;North;ok\n2;South;late\n",
         ["ref | ward | note", "1 | North | ok", "2 | South | late"], ";"),
        (b"ref\tward\n1\tNorth\n2\tSouth\n", ["ref | ward", "1 | North", "2 | South"], "\t"),
        (b'name,comment\r\nA,"says ""hi"", twice"\r\n\r\nB,"two\nlines"\r\n',
         ["name | comment", 'A | says "hi", twice', "B | two\nlines"], ","),
    ],
    ids=["cp1252-pound", "semicolon", "tab", "quoted"],
)  # fmt: skip
def test_csv_rows_become_lines_of_cells(content: bytes, expected_lines: list[str], delimiter: str):
    extraction = CsvExtractor().extract(content, CONTEXT)
    assert extraction.pages[0].text == "\n".join(expected_lines)
    assert extraction.metadata["delimiter"] == delimiter


def test_csv_rows_are_capped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(text_module, "MAX_CSV_ROWS", 10)
    content = "\n".join(f"{i},row {i}" for i in range(50)).encode()
    extraction = CsvExtractor().extract(content, CONTEXT)
    assert len(extraction.pages[0].text.split("\n")) == 10
    assert extraction.metadata["rows"] == "10"
    assert any("truncated after 10 rows" in note for note in extraction.notes)


def test_csv_with_an_oversized_field_is_kept_as_text():
    content = b"a,b\n1," + b"x" * (200 * 1024) + b"\n2,y\n"
    extraction = CsvExtractor().extract(content, CONTEXT)
    assert extraction.pages[0].text.startswith("a,b\n1,xxx")
    assert any("kept as plain text" in note for note in extraction.notes)
