"""PdfExtractor on generated PDFs: text layers, ruled tables, scans, junk text layers, and every failure mode."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest

from docintel.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge
from docintel.extract.base import ExtractContext
from docintel.extract.pdf import (
    PdfExtractor,
    Rule,
    check_text_layer,
    find_grids,
    has_ruled_table,
    page_rules,
)
from docintel.models import PageMethod
from docintel.settings import LimitSettings, OcrSettings

LETTER = [
    "Dear resident,",
    "Your application for a parking permit has been approved by the highways team.",
    "Please display the permit in your windscreen from the first of next month.",
]
SCAN_TEXT = [
    "Notice of planning decision",
    "The council has granted permission",
    "for a single storey rear extension.",
    "Conditions are listed overleaf.",
]
BUDGET_TABLE = [
    ["Service", "Budget", "Spent"],
    ["Libraries", "1,200", "1,150"],
    ["Highways", "9,800", "10,020"],
    ["Waste collection", "4,400", "4,390"],
]


def _extract(content: bytes, **overrides: object) -> object:
    return PdfExtractor().extract(content, ExtractContext(name="test.pdf", **overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(" ".join(LETTER), id="prose"),
        pytest.param(
            "Service Budget Spent\nLibraries 1,200 1,150\nHighways 9,800 10,020 £4.5m 12/03/2024", id="figures"
        ),
        pytest.param("Officer's re-assessment of the council-owned car park, item 4(b).", id="hyphens-apostrophes"),
        pytest.param("MINUTES OF THE CABINET MEETING HELD AT COUNTY HALL", id="upper-case"),
        pytest.param("Réunion du conseil: café, école, bibliothèque municipale.", id="accents"),
        pytest.param("Re\u0301union du conseil: cafe\u0301, e\u0301cole, bibliothe\u0300que.", id="decomposed-accents"),
        pytest.param("تحسين الإنتاجية وحل المشكلات من خلال البرمجة بلغة R وPython", id="arabic"),
        pytest.param("وعليه، فإن الحكومة المصرية تضع «رؤية» واضحة للتنمية.", id="arabic-punctuation"),
        pytest.param("شرکت بورس کالای ایران می‌خواهد استاندارد را اعلام کند", id="persian-zwnj"),
        pytest.param("הוועדה לתכנון ולבנייה אישרה את הבקשה להרחבת הספרייה", id="hebrew"),
        pytest.param("东北电气发展股份有限公司 2018 年第一季度报告全文（如有）", id="chinese"),
        pytest.param(
            "公司董事会、监事会及董事、监事、高级管理人员保证季度报告内容的真实", id="chinese-inner-punctuation"
        ),
        pytest.param("코로나바이러스감염증-19 관련 보험 현황 「감염병의 예방 및 관리에 관한 법률」", id="korean"),
        pytest.param("Заседание городского совета по вопросам бюджета", id="cyrillic"),
        pytest.param("Συνεδρίαση του δημοτικού συμβουλίου για τον προϋπολογισμό", id="greek"),
        pytest.param("2015 189,175.14 111,824.05 2016-10-28 ZOq5 20I5 59.1M 18.18 9,568.40", id="mostly-figures"),
        pytest.param("Minutes of the meeting held on 4 May", id="short-page-few-words"),
    ],
)
def test_text_layer_usable(text: str) -> None:
    assert check_text_layer(text, OcrSettings()).usable


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "0 characters", id="empty"),
        pytest.param("Page 1 of 3", "characters", id="too-short"),
        pytest.param("(cid:12)(cid:34)(cid:56) (cid:7)(cid:8)(cid:9) (cid:10)(cid:11) ok", "cid", id="cid-codes"),
        pytest.param("#$%& '()*+ ,-./ :;<= >?@[ \\]^_ `{|}~ #$%& '()*", "tokens look like words", id="symbols"),
        pytest.param("xkcd qwrtz bnmpl vvxz ghjkl trwqp zxcvb mnbvc lkjh", "tokens look like words", id="consonants"),
        pytest.param("aBcDeF gHiJkL mNoPqR sTuVwX yZaBcD eFgHiJ kLmNoP", "tokens look like words", id="mixed-case"),
        pytest.param("\ue001\ue002\ue003 \ue004\ue005\ue006 \ue007\ue008 " * 4 + "rates", "private-use", id="pua"),
        pytest.param("\x01\x02\x03\x04 \x05\x06\x07\x08 \x0e\x0f\x10\x11 " * 3 + "rates", "control", id="control"),
        pytest.param(
            "\ufffd\ufffd\ufffd \ufffd\ufffd \ufffd\ufffd\ufffd\ufffd council tax band" * 2,
            "private-use",
            id="replacement",
        ),
        pytest.param("■□▲△ ●○◆◇ ★☆♠♣ ♥♦♪♫ ■□▲△ ●○◆◇", "tokens look like words", id="dingbats"),
    ],
)
def test_text_layer_unusable(text: str, reason: str) -> None:
    check = check_text_layer(text, OcrSettings())
    assert not check.usable
    assert reason in check.reason


def test_text_layer_thresholds_come_from_settings() -> None:
    assert not check_text_layer("Short note", OcrSettings(min_text_layer_chars=20)).usable
    assert check_text_layer("Short note", OcrSettings(min_text_layer_chars=5)).usable
    half_junk = "council budget report xkcd qwrtz bnmpl"
    assert check_text_layer(half_junk, OcrSettings(min_text_layer_word_ratio=0.5)).usable
    assert not check_text_layer(half_junk, OcrSettings(min_text_layer_word_ratio=0.6)).usable


def test_born_digital_pages_title_and_metadata(make_text_pdf) -> None:
    content = make_text_pdf([LETTER, ["Second page about council tax bands and discounts."]], title="Parking permit")
    extraction = _extract(content)
    assert [page.number for page in extraction.pages] == [1, 2]
    assert all(page.method is PageMethod.TEXT_LAYER for page in extraction.pages)
    assert all(page.ocr_confidence is None for page in extraction.pages)
    assert extraction.pages[0].text.splitlines() == LETTER
    assert "council tax bands" in extraction.pages[1].text
    assert extraction.title == "Parking permit"
    assert extraction.metadata["page_count"] == "2"
    assert extraction.component.startswith("pdf ")
    assert extraction.notes == []


def test_line_end_hyphen_is_kept_as_printed(make_text_pdf) -> None:
    content = make_text_pdf([["The committee agreed the recycl-", "ing contract for next year and beyond."]])
    assert _extract(content).pages[0].text == "The committee agreed the recycl-\ning contract for next year and beyond."


@pytest.mark.parametrize("title", [None, "untitled", "  "])
def test_missing_or_placeholder_title_is_none(make_text_pdf, title: str | None) -> None:
    assert _extract(make_text_pdf([LETTER], title=title)).title is None


def test_ruled_table_keeps_rows_and_cells(make_text_pdf) -> None:
    content = make_text_pdf([["Budget monitoring report", "Quarter two figures below."]], table=BUDGET_TABLE)
    lines = _extract(content).pages[0].text.splitlines()
    assert lines[0] == "Budget monitoring report"
    table_rows = [" | ".join(row) for row in BUDGET_TABLE]
    assert lines[-len(table_rows) :] == table_rows


@pytest.mark.parametrize(("table", "expected"), [(BUDGET_TABLE, True), (None, False)])
def test_ruled_table_detection_from_page_objects(make_text_pdf, table, expected: bool) -> None:
    document = pdfium.PdfDocument(make_text_pdf([LETTER], table=table))
    try:
        page = document[0]
        assert has_ruled_table(page) is expected
        page.close()
    finally:
        document.close()


def test_table_cells_with_line_breaks_and_blanks_and_text_after(make_text_pdf) -> None:
    table = [["Service", "Budget", "Spent"], ["Libraries", "", "1,150"], ["Highways\nand roads", "9,800", "10,020"]]
    content = make_text_pdf([["Report heading"]], table=table, lines_after=["Closing paragraph after the table."])
    assert _extract(content).pages[0].text.splitlines() == [
        "Report heading",
        "Service | Budget | Spent",
        "Libraries |  | 1,150",
        "Highways and roads | 9,800 | 10,020",
        "Closing paragraph after the table.",
    ]


def test_table_with_merged_cells_is_read_from_char_boxes(make_text_pdf) -> None:
    table = [["Quarter two", "", ""], ["Libraries", "1,200", "1,150"], ["Highways", "9,800", "10,020"]]
    content = make_text_pdf([["Report heading"]], table=table, table_style=[("SPAN", (0, 0), (-1, 0))])
    document = pdfium.PdfDocument(content)
    [grid] = find_grids(page_rules(document[0]))
    assert not grid.regular  # the spanning header row has no inner rules
    lines = _extract(content).pages[0].text.splitlines()
    assert lines == ["Report heading", "Quarter two |  | ", "Libraries | 1,200 | 1,150", "Highways | 9,800 | 10,020"]


def test_table_with_cell_merged_down_keeps_text_in_its_top_row(make_text_pdf) -> None:
    table = [["Service", "Budget"], ["Libraries and archives", "1,200"], ["", "1,150"], ["Highways", "9,800"]]
    content = make_text_pdf([["Report heading"]], table=table, table_style=[("SPAN", (0, 1), (0, 2))])
    lines = _extract(content).pages[0].text.splitlines()
    assert lines == [
        "Report heading",
        "Service | Budget",
        "Libraries and archives | 1,200",
        " | 1,150",
        "Highways | 9,800",
    ]


def test_right_to_left_table_keeps_logical_order(make_text_pdf) -> None:
    table = [["ميزانية الخدمات", ""], ["المكتبات", "1,200"], ["הספרייה העירונית", "9,800"]]
    content = make_text_pdf([["Budget"]], table=table, table_style=[("SPAN", (0, 0), (-1, 0))], unicode_font=True)
    lines = _extract(content).pages[0].text.splitlines()
    assert lines == ["Budget", "ميزانية الخدمات | ", "المكتبات | 1,200", "הספרייה העירונית | 9,800"]


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(["تحسين الإنتاجية وحل المشكلات من خلال البرمجة", "ألم الرأس ليس مرضا"], id="arabic"),
        pytest.param(["شرکت بورس کالای ایران", "استاندارد کالا"], id="persian"),
        pytest.param(["הוועדה לתכנון ולבנייה אישרה את הבקשה", "להרחבת הספרייה העירונית"], id="hebrew"),
        pytest.param(["Заседание городского совета по вопросам", "бюджета на следующий год"], id="cyrillic"),
    ],
)
def test_unicode_text_layer_is_read_without_ocr(make_text_pdf, lines: list[str]) -> None:
    content = make_text_pdf([lines], unicode_font=True)
    extraction = _extract(content, ocr=OcrSettings(enabled=False))
    [page] = extraction.pages
    assert page.method is PageMethod.TEXT_LAYER
    assert page.text.splitlines() == lines  # logical order kept; a real alef-lam ("ألم") is not swapped
    assert extraction.notes == []


def test_two_column_page_keeps_each_column_together(make_two_column_pdf) -> None:
    left = ["The cabinet considered the", "library extension and the", "highways budget."]
    right = ["Members then approved the", "waste collection contract", "after a short debate."]
    text = _extract(make_two_column_pdf(left, right)).pages[0].text
    assert text.splitlines() == left + right


def _h(y: float, x0: float = 0, x1: float = 100) -> Rule:
    return Rule(True, y, x0, x1)


def _v(x: float, y0: float = 0, y1: float = 60) -> Rule:
    return Rule(False, x, y0, y1)


GRID_2X2 = [_h(0), _h(30), _h(60), _v(0), _v(50), _v(100)]


@pytest.mark.parametrize(
    ("rules", "merged"),
    [
        pytest.param(GRID_2X2, {}, id="regular"),
        pytest.param([_h(0), _h(30), _h(60), _v(0), _v(50, 0, 30), _v(100)], {(0, 1): (0, 0)}, id="top-row-across"),
        pytest.param([_h(0), _h(30, 0, 50), _h(60), _v(0), _v(50), _v(100)], {(1, 1): (0, 1)}, id="right-column-down"),
        pytest.param(
            [_h(0), _h(30, 50, 100), _h(60), _v(0), _v(50, 0, 30), _v(100)],
            {(0, 1): (0, 0), (1, 0): (0, 0)},
            id="l-shape",
        ),
    ],
)
def test_merged_cells_map_to_their_top_left_cell(rules: list[Rule], merged: dict) -> None:
    [grid] = find_grids(rules)
    assert dict(grid.merged) == merged
    assert grid.regular is (not merged)
    for cell, anchor in merged.items():
        row, column = cell
        x, y = (grid.xs[column] + grid.xs[column + 1]) / 2, (grid.ys[row] + grid.ys[row + 1]) / 2
        assert grid.cell_at(x, y) == anchor


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param([_h(0), _h(30), _h(60), _v(0), _v(50), _v(100)], [(2, 2, True)], id="2x2-full-grid"),
        pytest.param([_h(0), _h(30), _h(60), _v(0), _v(50, 0, 30), _v(100)], [(2, 2, False)], id="2x2-merged-top-row"),
        pytest.param([_h(0), _h(60), _v(0), _v(100)], [], id="single-box-is-no-table"),
        pytest.param([_h(0), _h(30), _h(60)], [], id="horizontal-rules-only"),
        pytest.param([_h(10, 0, 500)], [], id="letterhead-rule"),
        pytest.param(
            [*GRID_2X2, _h(200), _h(230), _h(260), _v(0, 200, 260), _v(50, 200, 260), _v(100, 200, 260)],
            [(2, 2, True), (2, 2, True)],
            id="two-separate-tables",
        ),
        pytest.param(
            [_h(0), _h(0.5), _h(30), _h(60), _v(0), _v(1.0), _v(50), _v(100)], [(2, 2, True)], id="double-drawn-rules"
        ),
    ],
)
def test_find_grids(rules: list[Rule], expected: list[tuple[int, int, bool]]) -> None:
    grids = find_grids(rules)
    assert sorted((len(grid.ys) - 1, len(grid.xs) - 1, grid.regular) for grid in grids) == expected


def test_grid_cell_lookup() -> None:
    [grid] = find_grids([_h(0), _h(30), _h(60), _v(0), _v(50), _v(100)])
    assert grid.cell_at(10, 50) == (0, 0)  # top-left: PDF y grows upwards
    assert grid.cell_at(75, 10) == (1, 1)
    assert grid.cell_at(100, 0) == (1, 1)  # on the outer edge
    assert grid.cell_at(150, 10) is None


def test_table_on_second_page_only(make_text_pdf) -> None:
    content = make_text_pdf([LETTER, ["Appendix A"]], table=BUDGET_TABLE, table_page=1)
    pages = _extract(content).pages
    assert " | " not in pages[0].text
    assert "Waste collection | 4,400 | 4,390" in pages[1].text


@pytest.mark.needs_tesseract
def test_scanned_page_is_ocrd(make_text_image, make_image_pdf) -> None:
    content = make_image_pdf([make_text_image(SCAN_TEXT, font_size=40)], dpi=200)
    extraction = _extract(content)
    [page] = extraction.pages
    assert page.method is PageMethod.OCR
    assert page.ocr_confidence is not None and page.ocr_confidence > 80
    assert "planning decision" in page.text
    assert "single storey rear extension" in page.text
    assert extraction.metadata["ocr_pages"] == "1"


@pytest.mark.needs_tesseract
def test_colour_scan_is_rendered_in_colour_for_ocr(make_shaded_table, make_image_pdf) -> None:
    labels = ["Disability", "Participants", "Completed", "Terminated"]
    [page] = _extract(make_image_pdf([make_shaded_table(labels)], dpi=200)).pages
    assert page.method is PageMethod.OCR
    assert set(labels) <= set(page.text.split())


@pytest.mark.needs_tesseract
def test_upside_down_scan_is_turned(make_text_image, make_image_pdf) -> None:
    content = make_image_pdf([make_text_image(SCAN_TEXT, font_size=40).rotate(180)], dpi=200)
    [page] = _extract(content).pages
    assert page.method is PageMethod.OCR
    assert "planning decision" in page.text


@pytest.mark.needs_tesseract
def test_junk_text_layer_over_scan_is_replaced_by_ocr(make_text_image, make_image_pdf) -> None:
    junk = "#$%& '()*+ ,-./ :;<= >?@[ ]^_` {|}~ #$%& '()*+ ,-./"
    content = make_image_pdf([make_text_image(SCAN_TEXT, font_size=40)], dpi=200, hidden_text=junk)
    assert "{|}~" in pdfium.PdfDocument(content)[0].get_textpage().get_text_range()  # the junk layer is there
    [page] = _extract(content).pages
    assert page.method is PageMethod.OCR
    assert "planning decision" in page.text
    assert "{|}~" not in page.text


@pytest.mark.needs_tesseract
def test_good_invisible_text_layer_is_kept_without_ocr(make_text_image, make_image_pdf) -> None:
    layer = "Notice of planning decision: the council has granted permission."
    content = make_image_pdf([make_text_image(SCAN_TEXT, font_size=40)], dpi=200, hidden_text=layer)
    [page] = _extract(content).pages
    assert page.method is PageMethod.TEXT_LAYER
    assert page.text == layer


@pytest.mark.needs_tesseract
def test_mixed_document_uses_text_layer_and_ocr_per_page(make_text_pdf, make_text_image, make_image_pdf) -> None:
    scan = make_image_pdf([make_text_image(SCAN_TEXT, font_size=40)], dpi=200)
    text = make_text_pdf([LETTER])
    merged = pdfium.PdfDocument.new()
    for part in (text, scan, text):
        source = pdfium.PdfDocument(part)
        merged.import_pages(source)
    buffer = io.BytesIO()
    merged.save(buffer)
    pages = _extract(buffer.getvalue()).pages
    assert [page.method for page in pages] == [PageMethod.TEXT_LAYER, PageMethod.OCR, PageMethod.TEXT_LAYER]
    assert [page.number for page in pages] == [1, 2, 3]
    assert "planning decision" in pages[1].text


def test_scan_with_ocr_disabled_gets_empty_text_and_note(make_text_image, make_image_pdf) -> None:
    content = make_image_pdf([make_text_image(SCAN_TEXT)])
    extraction = _extract(content, ocr=OcrSettings(enabled=False))
    [page] = extraction.pages
    assert page.text == ""
    assert page.method is PageMethod.OCR
    assert any("OCR disabled" in note for note in extraction.notes)


def test_blank_page_is_empty_without_ocr(make_text_pdf) -> None:
    extraction = _extract(make_text_pdf([LETTER, []]), ocr=OcrSettings(enabled=False))
    assert extraction.pages[1].text == ""
    assert extraction.pages[1].method is PageMethod.TEXT_LAYER
    assert extraction.notes == []


def test_page_limit_reads_first_pages_with_note(make_text_pdf) -> None:
    content = make_text_pdf([[f"Page {n} of the committee minutes for the year."] for n in range(1, 6)])
    extraction = _extract(content, limits=LimitSettings(max_pdf_pages=2))
    assert [page.number for page in extraction.pages] == [1, 2]
    assert extraction.metadata["page_count"] == "5"
    assert extraction.notes == ["read the first 2 of 5 pages (limit max_pdf_pages)"]


def test_oversized_only_page_is_too_large(make_text_image, make_image_pdf) -> None:
    content = make_image_pdf([make_text_image(SCAN_TEXT)])
    with pytest.raises(TooLarge, match="render limit"):
        _extract(content, limits=LimitSettings(max_pdf_page_points=100))


def test_oversized_page_among_others_is_skipped_with_note(make_text_pdf, make_text_image, make_image_pdf) -> None:
    merged = pdfium.PdfDocument.new()
    merged.import_pages(pdfium.PdfDocument(make_text_pdf([LETTER], page_size=(200, 200))))
    merged.import_pages(pdfium.PdfDocument(make_image_pdf([make_text_image(SCAN_TEXT)], dpi=72)))
    buffer = io.BytesIO()
    merged.save(buffer)
    extraction = _extract(buffer.getvalue(), limits=LimitSettings(max_pdf_page_points=300))
    assert extraction.pages[0].text.startswith("Dear resident")
    assert extraction.pages[1].text == ""
    assert any("page 2" in note and "not OCR'd" in note for note in extraction.notes)


def test_password_protected_pdf_is_encrypted(make_text_pdf) -> None:
    with pytest.raises(EncryptedDocument, match="password"):
        _extract(make_text_pdf([LETTER], user_password="s3cret"))


@pytest.mark.parametrize(
    "make_content",
    [
        pytest.param(lambda pdf: pdf[: len(pdf) // 2], id="truncated-half"),
        pytest.param(lambda pdf: pdf[:200], id="truncated-header"),
        pytest.param(lambda pdf: b"%PDF-1.4\n" + b"\x00garbage" * 100, id="garbage-after-header"),
        pytest.param(lambda pdf: b"this is not a pdf at all" * 10, id="not-pdf"),
    ],
)
def test_unparsable_pdf_is_corrupt(make_text_pdf, make_content) -> None:
    with pytest.raises(CorruptDocument, match="not a readable PDF"):
        _extract(make_content(make_text_pdf([LETTER] * 3)))


def test_zero_page_pdf_is_empty() -> None:
    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    with pytest.raises(EmptyDocument, match="no pages"):
        _extract(buffer.getvalue())


def test_zero_bytes_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        _extract(b"")
