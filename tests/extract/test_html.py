"""HTML: visible text only, block structure, tables, titles and encodings."""

from __future__ import annotations

import pytest

from docintel.errors import EmptyDocument
from docintel.extract.base import ExtractContext
from docintel.extract.html import HtmlExtractor, declared_charset, html_to_text

CONTEXT = ExtractContext(name="page.html")

PAGE = """<!DOCTYPE html>
<html><head><title>  Bin   collection
 days </title><style>body { color: red }</style><script>var secret = "script text";</script>
<meta charset="utf-8"></head>
<body>
<h1>Bin collection</h1>
<p>Collections are on <b>Tuesday</b>
   in the north ward.</p>
<noscript>Enable JavaScript</noscript>
<template><p>template text</p></template>
<div hidden>hidden attribute text</div>
<p style="color: red; DISPLAY : none">display none text</p>
<span style="visibility:hidden">invisible text</span>
<table><tr><th>Ward</th><th>Day</th></tr><tr><td>North</td><td>Tuesday</td></tr>
<tr><td>South</td><td><i>Friday</i></td></tr></table>
<ul><li>Garden waste</li><li>Recycling</li></ul>
Line one<br>Line two
<pre>  indented
    code</pre>
<!-- a comment -->after comment
<script>document.write("late script")</script>
</body></html>
"""


def test_visible_text_keeps_blocks_tables_and_drops_invisible_content():
    text = html_to_text(PAGE)
    assert text.split("\n") == [
        "Bin collection",
        "Collections are on Tuesday in the north ward.",
        "Ward | Day",
        "North | Tuesday",
        "South | Friday",
        "Garden waste",
        "Recycling",
        "Line one",
        "Line two",
        "indented",
        "code",
        "after comment",
    ]


@pytest.mark.parametrize(
    "invisible",
    ["script text", "body { color", "Enable JavaScript", "template text", "hidden attribute text",
     "display none text", "invisible text", "late script", "a comment"],
)  # fmt: skip
def test_invisible_content_is_dropped(invisible: str):
    assert invisible not in html_to_text(PAGE)


def test_extractor_sets_title_and_one_page():
    extraction = HtmlExtractor().extract(PAGE.encode(), CONTEXT)
    assert extraction.title == "Bin collection days"
    assert len(extraction.pages) == 1
    assert "Bin collection" in extraction.pages[0].text
    assert "Bin collection days" not in extraction.pages[0].text  # the title is not body text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('<html><head><meta charset="windows-1252"></head><body>Caf\xe9 \xa35</body></html>'.encode("latin-1"),
         "Café £5"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>\x80 10</p>'.encode("latin-1"),
         "€ 10"),
        ("<html><body>Café £5</body></html>".encode("utf-16"), "Café £5"),
        ("<html><body>Café £5</body></html>".encode("utf-8-sig"), "Café £5"),
        ('<meta charset="utf-8"><p>Caf\xe9 \xa35 paid</p>'.encode("latin-1"), "Café £5 paid"),  # meta lies
        ("<p>Café £5 for the licence, paid in full</p>".encode("cp1252"), "Café £5 for the licence, paid in full"),
    ],
    ids=["meta-charset", "http-equiv-latin1-means-cp1252", "utf16-bom", "utf8-bom", "meta-lies", "no-declaration"],
)  # fmt: skip
def test_encodings(content: bytes, expected: str):
    assert HtmlExtractor().extract(content, CONTEXT).pages[0].text == expected


@pytest.mark.parametrize(
    ("content", "charset"),
    [
        (b'<meta charset="UTF-8">', "UTF-8"),
        (b"<meta content='text/html; charset=koi8-r'>", "koi8-r"),
        (b"<p>x</p>", None),
    ],
)
def test_declared_charset(content: bytes, charset: str | None):
    assert declared_charset(content) == charset


@pytest.mark.parametrize(
    "html",
    ["", "   ", "<html></html>", "<script>only()</script>", '<?xml version="1.0" encoding="utf-8"?>'],
)
def test_pages_without_visible_text_give_empty_text(html: str):
    assert html_to_text(html) == ""


def test_xml_declaration_nul_bytes_and_deep_nesting_are_tolerated():
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><html><body><p>A\x00B</p></body></html>') == "AB"
    deep = "<div>" * 1500 + "deep text" + "</div>" * 1500
    assert html_to_text(deep) == "deep text"


def test_empty_file_raises_and_script_only_page_notes():
    with pytest.raises(EmptyDocument):
        HtmlExtractor().extract(b"", CONTEXT)
    extraction = HtmlExtractor().extract(b"<html><script>x()</script></html>", CONTEXT)
    assert extraction.pages[0].text == ""
    assert extraction.notes == ["no visible text"]
