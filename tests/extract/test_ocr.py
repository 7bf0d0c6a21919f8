"""TesseractOcr: TSV parsing, image preparation, and real tesseract runs on rendered text."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytesseract
import pytest
from PIL import Image

from docintel.errors import ConfigError, ExtractionError, ExtractionTimeout
from docintel.extract import ocr as ocr_module
from docintel.extract.ocr import (
    IMAGE_FILE_SUFFIX,
    OcrResult,
    OcrWord,
    Orientation,
    TesseractOcr,
    can_read_script,
    check_languages,
    installed_languages,
    may_be_turned,
    mean_confidence,
    missing_languages,
    osd_region,
    parse_osd,
    prepare_image,
    reads_only_latin,
    save_for_tesseract,
    solid_word_share,
    text_from_words,
    words_from_tsv,
)
from docintel.extract.orientation import OrientationGuess
from docintel.settings import OcrSettings

MINUTES = [
    "The planning committee met on Tuesday",
    "to consider the library extension and",
    "the highways budget for next year.",
    "Members approved the waste contract",
    "after a short debate about recycling.",
]

TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def _tsv(*rows: str) -> str:
    return "\n".join([TSV_HEADER, *rows]) + "\n"


@pytest.mark.parametrize(
    ("tsv", "expected_text", "expected_count"),
    [
        pytest.param(_tsv(), "", 0, id="header-only"),
        pytest.param("", "", 0, id="no-output"),
        pytest.param(
            _tsv(
                "1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t",
                "5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t95.5\tCouncil",
                "5\t1\t1\t1\t1\t2\t70\t10\t50\t20\t91.0\ttax",
            ),
            "Council tax",
            2,
            id="one-line-layout-rows-skipped",
        ),
        pytest.param(
            _tsv(
                "5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t90\tFirst",
                "5\t1\t1\t1\t2\t1\t10\t40\t50\t20\t90\tsecond",
                "5\t1\t1\t2\t1\t1\t10\t90\t50\t20\t90\tNew",
                "5\t1\t2\t1\t1\t1\t10\t140\t50\t20\t90\tblock",
            ),
            "First\nsecond\n\nNew\n\nblock",
            4,
            id="lines-paragraphs-blocks",
        ),
        pytest.param(
            _tsv("5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t-1\tghost", "5\t1\t1\t1\t1\t2\t10\t10\t50\t20\t80\t "),
            "",
            0,
            id="unrecognised-and-blank-words-dropped",
        ),
    ],
)
def test_words_from_tsv(tsv: str, expected_text: str, expected_count: int) -> None:
    words = words_from_tsv(tsv)
    assert len(words) == expected_count
    assert text_from_words(words) == expected_text


def test_words_keep_boxes_and_float_confidence() -> None:
    [word] = words_from_tsv(_tsv("5\t1\t3\t2\t4\t1\t11\t22\t33\t44\t87.25\tRates"))
    assert word == OcrWord(left=11, top=22, width=33, height=44, conf=87.25, text="Rates", block=3, paragraph=2, line=4)


def test_words_from_tsv_rejects_unknown_header() -> None:
    with pytest.raises(ExtractionError, match="unexpected header"):
        words_from_tsv("a\tb\tc\n1\t2\t3\n")


@pytest.mark.parametrize(
    ("confidences", "expected"),
    [([], 0.0), ([90.0], 90.0), ([80.0, 100.0, 60.0], 80.0)],
)
def test_mean_confidence(confidences: list[float], expected: float) -> None:
    words = [OcrWord(0, 0, 1, 1, conf, "w") for conf in confidences]
    assert mean_confidence(words) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mode", "fill", "expected_mode"),
    [
        ("RGB", (0, 0, 0), "L"),
        ("RGBA", (0, 0, 0, 255), "L"),
        ("LA", (0, 255), "L"),
        ("P", 0, "L"),
        ("1", 0, "1"),  # bilevel stays bilevel: tesseract then skips its own thresholding
        ("L", 0, "L"),
        ("CMYK", (0, 0, 0, 255), "L"),
        ("I;16", 0, "L"),
        ("I", 0, "L"),
        ("F", 0.0, "L"),
    ],
)
def test_prepare_image_gives_greyscale_with_dark_ink_on_white(mode: str, fill: object, expected_mode: str) -> None:
    transparent_modes = {"RGBA": (0, 0, 0, 0), "LA": (0, 0)}
    light = {"RGB": (255, 255, 255), "P": 255, "1": 255, "L": 255, "CMYK": (0, 0, 0, 0), "I;16": 65535, "I": 65535}
    background = transparent_modes.get(mode, light.get(mode, 1000.0))
    image = Image.new(mode, (20, 10), background)  # type: ignore[arg-type]
    if mode == "P":
        image.putpalette([0, 0, 0] * 255 + [255, 255, 255])
    image.paste(fill, (0, 0, 10, 10))  # type: ignore[arg-type]
    prepared = prepare_image(image)
    assert prepared.mode == expected_mode
    assert prepared.getpixel((2, 2)) < 60  # ink stays dark
    assert prepared.getpixel((15, 5)) > 200  # background (transparent or light) becomes white


@pytest.mark.parametrize(
    ("mode", "colour", "expected_mode"),
    [
        ("RGB", (141, 179, 226), "RGB"),  # a blue table header: kept in colour for tesseract's channel thresholds
        ("RGBA", (141, 179, 226, 255), "RGB"),
        ("CMYK", (120, 40, 0, 0), "RGB"),
        ("RGB", (128, 128, 128), "L"),  # grey stored as colour: one channel is enough
        ("RGBA", (128, 128, 128, 255), "L"),
    ],
)
def test_prepare_image_keeps_colour_and_reduces_grey(mode: str, colour: tuple[int, ...], expected_mode: str) -> None:
    image = Image.new(mode, (20, 10), colour)  # type: ignore[arg-type]
    assert prepare_image(image).mode == expected_mode


@pytest.mark.parametrize(
    ("mode", "source_format", "source_options"),
    [
        pytest.param("L", None, {}, id="grey"),
        pytest.param("RGB", None, {}, id="colour"),
        pytest.param("1", None, {}, id="bilevel"),
        pytest.param("1", "TIFF", {"compression": "group4"}, id="fax-tiff-compression-not-reused"),
        pytest.param("L", "TIFF", {"compression": "tiff_lzw"}, id="lzw-tiff-compression-not-reused"),
    ],
)
def test_images_go_to_tesseract_as_uncompressed_tiff(
    tmp_path: Path, mode: str, source_format: str | None, source_options: dict[str, str]
) -> None:
    image = Image.new(mode, (64, 32), 255 if mode != "RGB" else (255, 255, 255))
    image.paste(0 if mode != "RGB" else (0, 0, 0), (8, 8, 24, 24))
    if source_format:  # an image opened from a compressed TIFF carries its compression in .info
        source = tmp_path / "source.tif"
        image.save(source, format=source_format, **source_options)
        image = Image.open(source)
    target = tmp_path / f"page{IMAGE_FILE_SUFFIX}"
    save_for_tesseract(image, target)
    with Image.open(target) as written:
        assert (written.format, written.info["compression"], written.mode) == ("TIFF", "raw", mode)
        assert written.tobytes() == image.tobytes()


def _words(*specs: tuple[str, float]) -> list[OcrWord]:
    return [OcrWord(0, 0, 1, 1, conf, text) for text, conf in specs]


UPRIGHT_RECEIPT = _words(("TOTAL", 91), ("12.50", 88), ("Cash", 75), ("change", 64), ("0.50", 40), ("xq", 20))
TURNED_PAGE = _words(("pue", 35), ("ay}", 20), ("Aq", 12), ("'sa|", 8), ("youne|", 30), ("uo", 44), ("jo", 51))


@pytest.mark.parametrize(
    ("words", "share"),
    [
        pytest.param([], 0.0, id="nothing-read"),
        pytest.param(_words(("Council", 95), ("budget.", 90)), 1.0, id="all-solid"),
        pytest.param(_words(("Council", 95), ("budget", 40)), 0.5, id="low-confidence-not-solid"),
        pytest.param(_words(("of", 95), ("12.50", 95), ("a1b2", 95), ("tax", 95)), 0.25, id="short-numbers-mixed"),
    ],
)
def test_solid_word_share(words: list[OcrWord], share: float) -> None:
    assert solid_word_share(words) == pytest.approx(share)


@pytest.mark.parametrize(
    ("words", "confidence", "expected"),
    [
        pytest.param(TURNED_PAGE, 28.6, True, id="turned-page-junk"),
        pytest.param(UPRIGHT_RECEIPT, 63.0, False, id="poor-upright-receipt-keeps-solid-words"),
        pytest.param(_words(("Council", 96), ("budget", 95)), 95.5, False, id="clean-page"),
        pytest.param(_words(("pue", 96), ("ay}", 95)), 95.5, False, id="confident-reading"),
        pytest.param([], 0.0, False, id="blank-page"),
    ],
)
def test_orientation_is_checked_only_for_junk_readings(words: list[OcrWord], confidence: float, expected: bool) -> None:
    result = OcrResult(text=" ".join(word.text for word in words), confidence=confidence, words=words)
    assert may_be_turned(result) is expected


def test_tesseract_environment_limits_threads_only_for_tesseract() -> None:
    environment = pytesseract.pytesseract.environ  # type: ignore[attr-defined]
    assert environment["OMP_THREAD_LIMIT"] == "1"
    assert environment["PATH"] == os.environ["PATH"]
    assert dict(environment).keys() >= os.environ.keys()


@pytest.mark.needs_tesseract
def test_ocr_reads_words_lines_and_boxes(make_text_image) -> None:
    image = make_text_image(MINUTES, font_size=32)
    result = TesseractOcr().ocr(image)
    assert result.confidence > 85
    assert result.rotation == 0
    lines = result.text.splitlines()
    assert lines[0] == "The planning committee met on Tuesday"
    assert "highways budget" in result.text
    assert len([line for line in lines if line]) == len(MINUTES)
    for word in result.words:
        assert word.left >= 0 and word.left + word.width <= image.width
        assert word.top >= 0 and word.top + word.height <= image.height
        assert 0 <= word.conf <= 100
    assert {"planning", "committee", "recycling."} <= {word.text for word in result.words}


@pytest.mark.needs_tesseract
def test_bilevel_image_is_read_as_it_is(make_text_image) -> None:
    image = make_text_image(MINUTES, font_size=32).convert("1")
    result = TesseractOcr().ocr(image)
    assert result.text.splitlines()[0] == "The planning committee met on Tuesday"
    assert result.confidence > 85


@pytest.mark.needs_tesseract
@pytest.mark.parametrize("angle", [90, 180])
def test_ocr_turns_sideways_and_upside_down_pages(make_text_image, angle: int) -> None:
    image = make_text_image(MINUTES, font_size=32).rotate(angle, expand=True)
    result = TesseractOcr().ocr(image)
    assert result.rotation == angle  # PIL turned it counter-clockwise; OSD turns it back clockwise
    assert "planning committee" in result.text
    assert result.confidence > 85


class _CountingOcr(TesseractOcr):
    """TesseractOcr that records how often it asked tesseract for the page orientation and to read the page."""

    osd_runs = 0
    reads = 0

    def __init__(self, settings: OcrSettings | None = None) -> None:
        super().__init__(settings)
        self.osd_image_sizes: list[tuple[int, int]] = []

    def _detect_orientation(
        self,
        image: Image.Image,
        dpi: int | None,
        words: Sequence[OcrWord] = (),
        min_characters: int = ocr_module.OSD_MIN_CHARACTERS_TO_TRY,
    ) -> Orientation:
        self.osd_runs += 1
        return super()._detect_orientation(image, dpi, words, min_characters)

    def _run_osd(self, image: Image.Image, dpi: int | None, min_characters: int) -> Orientation | None:
        self.osd_image_sizes.append(image.size)
        return super()._run_osd(image, dpi, min_characters)

    def _read(self, image: Image.Image, dpi: int | None, rotation: int = 0) -> OcrResult:
        self.reads += 1
        return super()._read(image, dpi, rotation)


@pytest.fixture
def glyphs_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages whose glyphs give no answer (docintel.extract.orientation abstains): read first, then OSD if poor."""
    monkeypatch.setattr(ocr_module, "guess_orientation", lambda image: OrientationGuess(None))


OSD_REPORT = "Page number: 0\nOrientation in degrees: {deg}\nRotate: {rotate}\nOrientation confidence: {conf}\n"
OSD_REPORT += "Script: {script}\nScript confidence: 1.30\n"


@pytest.mark.parametrize(
    ("osd", "expected"),
    [
        pytest.param(
            OSD_REPORT.format(deg=180, rotate=180, conf=2.39, script="Latin"), Orientation(180, "Latin"), id="turned"
        ),
        pytest.param(
            OSD_REPORT.format(deg=0, rotate=0, conf=25.2, script="Han"), Orientation(0, "Han"), id="han-upright"
        ),
        pytest.param(
            OSD_REPORT.format(deg=90, rotate=270, conf=0.4, script="Latin"), Orientation(0, "Latin"), id="unsure"
        ),
        pytest.param(
            OSD_REPORT.format(deg=0, rotate=360, conf=9.0, script="Arabic"), Orientation(0, "Arabic"), id="full-turn"
        ),
        pytest.param("Page number: 0\nScript: Cyrillic\n", Orientation(0, "Cyrillic"), id="no-rotation-line"),
        pytest.param("Rotate: x\nOrientation confidence: 5\n", Orientation(0, None), id="garbled"),
        pytest.param("", Orientation(0, None), id="empty"),
    ],
)
def test_osd_report_is_parsed(osd: str, expected: Orientation) -> None:
    assert parse_osd(osd) == expected


def _word(left: int, top: int, width: int, height: int, text: str = "word") -> OcrWord:
    return OcrWord(left=left, top=top, width=width, height=height, conf=30.0, text=text)


@pytest.mark.parametrize(
    ("words", "size", "expected"),
    [
        pytest.param([], (1000, 1000), None, id="no-words"),
        pytest.param(
            [_word(100, 100, 200, 40), _word(320, 100, 150, 40)],
            (2000, 3000),
            (60, 60, 510, 180),
            id="margin-one-height",
        ),
        pytest.param(
            # Sideways text: the short side of a word is its width, and so is the margin.
            [_word(100, 500, 40, 200), _word(100, 280, 40, 150)],
            (2000, 3000),
            (60, 240, 180, 740),
            id="sideways",
        ),
        pytest.param([_word(5, 5, 100, 30)], (2000, 3000), (0, 0, 135, 65), id="clamped-at-the-edge"),
        pytest.param(
            # The first words hold 300 characters; the words after them stay out of the region.
            [_word(100, 100, 800, 40, "a" * 150), _word(100, 160, 800, 40, "b" * 150), _word(100, 2500, 800, 40)],
            (2000, 3000),
            (60, 60, 940, 240),
            id="first-300-characters",
        ),
        pytest.param([_word(50, 50, 900, 900)], (1000, 1000), None, id="most-of-the-image"),
    ],
)
def test_osd_region(words: list[OcrWord], size: tuple[int, int], expected: tuple[int, int, int, int] | None) -> None:
    assert osd_region(words, size) == expected


@pytest.mark.parametrize(
    ("language", "script", "expected"),
    [
        ("eng", "Latin", True),
        ("eng", "Fraktur", True),
        ("eng", None, True),
        ("eng+cym", "Latin", True),
        ("eng+chi_sim", "Han", True),
        ("ara", "Arabic", True),
        ("eng", "Han", False),
        ("eng", "Arabic", False),
        ("eng+cym", "Cyrillic", False),
        ("chi_sim", "Latin", False),
        ("xyz", "Han", True),  # a language this table does not know: re-read as before
        ("eng+xyz", "Han", True),
    ],
)
def test_script_readability(language: str, script: str | None, expected: bool) -> None:
    assert can_read_script(language, script) is expected


@pytest.mark.usefixtures("glyphs_cannot_tell")
@pytest.mark.needs_tesseract
@pytest.mark.parametrize(("angle", "osd_runs"), [(0, 0), (180, 1)])
def test_orientation_detection_runs_only_on_turned_pages(make_text_image, angle: int, osd_runs: int) -> None:
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32).rotate(angle, expand=True))
    # On this small image the quick OSD may misname the script; a second, full OSD then confirms it.
    assert osd_runs <= ocr.osd_runs <= 2 * osd_runs
    assert "planning committee" in result.text


@pytest.mark.usefixtures("glyphs_cannot_tell")
@pytest.mark.needs_tesseract
def test_turned_page_in_a_script_the_language_cannot_read_is_not_read_again(
    make_text_image: Callable[..., Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend "eng" reads only Han: OSD then reports a script it cannot read (Latin), as it does for
    # a Chinese scan under "eng", and the turned reading is skipped.
    monkeypatch.setitem(ocr_module.LANGUAGE_SCRIPTS, "eng", frozenset({"Han"}))
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32).rotate(180, expand=True))
    assert (ocr.osd_runs, ocr.reads) == (2, 1)  # the quick OSD, then the full sample confirming the script
    assert result.rotation == 0


@pytest.mark.usefixtures("glyphs_cannot_tell")
@pytest.mark.needs_tesseract
def test_turned_page_in_a_readable_script_is_read_again(make_text_image: Callable[..., Image.Image]) -> None:
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32).rotate(180, expand=True))
    assert ocr.osd_runs in (1, 2) and ocr.reads == 2
    assert result.rotation == 180 and "planning committee" in result.text


@pytest.mark.usefixtures("glyphs_cannot_tell")
@pytest.mark.needs_tesseract
@pytest.mark.parametrize("angle", [90, 180])  # at 270 tesseract's own vertical-text handling reads it upright
def test_orientation_is_detected_on_the_text_region_of_a_large_page(
    make_text_image: Callable[..., Image.Image], angle: int
) -> None:
    # A short note near the top of an A4 page at 300 DPI: OSD looks at the note, not the whole page.
    page = Image.new("L", (2480, 3508), 255)
    page.paste(make_text_image(MINUTES, font_size=40), (150, 200))
    ocr = _CountingOcr()
    result = ocr.ocr(page.rotate(angle, expand=True), dpi=300)
    assert result.rotation == angle
    assert "planning committee" in result.text
    assert ocr.osd_image_sizes
    for width, height in ocr.osd_image_sizes:
        assert width * height < 0.2 * page.width * page.height


@pytest.mark.usefixtures("glyphs_cannot_tell")
@pytest.mark.needs_tesseract
def test_orientation_falls_back_to_the_whole_page_when_the_region_is_too_small(
    make_text_image: Callable[..., Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A region holding too few characters for OSD (here a blank corner): OSD fails there and runs on the whole image.
    monkeypatch.setattr(ocr_module, "osd_region", lambda words, size: (0, 0, 40, 40))
    ocr = _CountingOcr()
    image = make_text_image(MINUTES, font_size=32).rotate(180, expand=True)
    result = ocr.ocr(image)
    assert ocr.osd_image_sizes[:2] == [(40, 40), image.size]
    assert result.rotation == 180 and "planning committee" in result.text


@pytest.mark.needs_tesseract
@pytest.mark.parametrize("angle", [90, 180, 270])
def test_turned_page_whose_glyphs_tell_is_read_once(make_text_image: Callable[..., Image.Image], angle: int) -> None:
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32).rotate(angle, expand=True))
    assert (ocr.reads, ocr.osd_runs) == (1, 0)
    assert result.rotation == angle
    assert result.text.splitlines()[0] == "The planning committee met on Tuesday"


@pytest.mark.needs_tesseract
def test_wrong_guess_costs_a_reading_not_the_text(
    make_text_image: Callable[..., Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Glyphs misjudged as upside down: the turned reading is junk, so the page is read as it is and that is kept.
    monkeypatch.setattr(ocr_module, "guess_orientation", lambda image: OrientationGuess(180))
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32))
    assert ocr.reads == 2
    assert result.rotation == 0
    assert result.text.splitlines()[0] == "The planning committee met on Tuesday"


@pytest.mark.needs_tesseract
@pytest.mark.parametrize(
    ("guess", "osd_asked"),
    [
        pytest.param(None, True, id="glyphs-silent"),
        pytest.param(OrientationGuess(0, 150, 5, ascenders=14, descenders=6), True, id="weakly-upright"),
        pytest.param(OrientationGuess(0, 150, 5, ascenders=40, descenders=10), False, id="plainly-upright"),
    ],
)
def test_poor_reading_of_a_plainly_upright_page_does_not_ask_osd(
    make_text_image: Callable[..., Image.Image],
    monkeypatch: pytest.MonkeyPatch,
    guess: OrientationGuess | None,
    osd_asked: bool,
) -> None:
    # Every reading counts as poor here (a faded scan, or a script the language cannot read): whether OSD
    # is asked then depends only on how plainly the glyphs showed the page upright.
    monkeypatch.setattr(ocr_module, "may_be_turned", lambda result: True)
    if guess is None:
        monkeypatch.setattr(ocr_module, "guess_orientation", lambda image: OrientationGuess(None))
    else:
        monkeypatch.setattr(ocr_module, "guess_orientation", lambda image: guess)
    ocr = _CountingOcr()
    result = ocr.ocr(make_text_image(MINUTES, font_size=32))
    assert (ocr.osd_runs > 0) is osd_asked
    assert "planning committee" in result.text


@pytest.mark.needs_tesseract
def test_no_guess_without_orientation_detection_or_for_other_scripts(
    make_text_image: Callable[..., Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(image: Image.Image) -> OrientationGuess:
        raise AssertionError("the glyph guess must not run")

    monkeypatch.setattr(ocr_module, "guess_orientation", fail)
    image = make_text_image(MINUTES, font_size=32)
    assert TesseractOcr(OcrSettings(detect_orientation=False)).ocr(image).rotation == 0
    monkeypatch.setitem(ocr_module.LANGUAGE_SCRIPTS, "eng", frozenset({"Han"}))
    assert "planning committee" in TesseractOcr().ocr(image).text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("eng", True), ("eng+cym", True), ("fra+deu", True), ("eng+chi_sim", False), ("rus", False), ("xyz", False)],
)
def test_glyph_guess_is_for_latin_script_languages(language: str, expected: bool) -> None:
    assert reads_only_latin(language) is expected


@pytest.mark.needs_tesseract
def test_dark_text_on_coloured_shading_is_read(make_shaded_table) -> None:
    labels = ["Disability", "Participants", "Completed", "Terminated"]
    result = TesseractOcr().ocr(make_shaded_table(labels))
    assert set(labels) <= set(result.text.split())  # in one grey channel tesseract reads nothing of this image


@pytest.mark.needs_tesseract
def test_ocr_without_orientation_detection_reads_upside_down_page_as_it_is(make_text_image) -> None:
    image = make_text_image(MINUTES, font_size=32).rotate(180)
    result = TesseractOcr(OcrSettings(detect_orientation=False)).ocr(image)
    assert result.rotation == 0
    assert "planning committee" not in result.text


@pytest.mark.needs_tesseract
def test_ocr_of_blank_page_is_empty_even_though_orientation_detection_fails() -> None:
    result = TesseractOcr().ocr(Image.new("L", (600, 400), 255))
    assert result.text == ""
    assert result.confidence == 0.0
    assert result.words == []


@pytest.mark.needs_tesseract
def test_ocr_many_keeps_order_while_running_in_parallel(make_text_image) -> None:
    labels = ["Alpha budget", "Bravo library", "Charlie highways", "Delta waste", "Echo school"]
    images = (make_text_image([label], font_size=36) for label in labels)
    results = list(TesseractOcr(OcrSettings(parallel_pages=2)).ocr_many(images))
    assert [result.text for result in results] == labels


@pytest.mark.needs_tesseract
def test_ocr_timeout_becomes_extraction_timeout(make_text_image) -> None:
    ocr = TesseractOcr(OcrSettings(page_timeout_seconds=0.001))
    with pytest.raises(ExtractionTimeout, match="longer than"):
        ocr.ocr(make_text_image(MINUTES))
    assert ExtractionTimeout.retryable


@pytest.mark.needs_tesseract
def test_a_language_not_installed_fails_the_page_naming_the_package(make_text_image) -> None:
    ocr = TesseractOcr(OcrSettings(language="no_such_language"))
    with pytest.raises(ExtractionError, match=r"'no_such_language' is not installed.*tesseract-ocr-no-such-language"):
        ocr.ocr(make_text_image(["Council"]))


@pytest.mark.needs_tesseract
def test_tesseract_failure_becomes_extraction_error(
    make_text_image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.traineddata").write_bytes(b"not a model")  # listed as installed, fails to load
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    with pytest.raises(ExtractionError, match=r"tesseract failed \(exit 1\).*Failed loading language 'bad'"):
        TesseractOcr(OcrSettings(language="bad")).ocr(make_text_image(["Council"]))


@pytest.mark.needs_tesseract
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("eng", None),
        ("eng+osd", None),
        ("eng+cym", r"OCR language 'cym' is not installed .*installed: .*eng.*apt-get install tesseract-ocr-cym"),
        ("chi_sim+cym", r"'chi_sim\+cym' .*tesseract-ocr-chi-sim tesseract-ocr-cym"),
        ("Cyrillic", r"apt-get install tesseract-ocr-script-cyrl"),
        ("Fraktur", r"apt-get install tesseract-ocr-script-<script>"),
    ],
)
def test_languages_are_checked_against_what_tesseract_can_load(language: str, message: str | None) -> None:
    if message is None:
        check_languages(language)
        assert missing_languages(language) is None
        return
    with pytest.raises(ConfigError, match=message):
        check_languages(language)


def test_missing_tesseract_binary_gives_install_hint(make_text_image, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    ocr = TesseractOcr()
    with pytest.raises(ExtractionError, match="apt-get install tesseract-ocr"):
        ocr.ocr(make_text_image(["Council"]))
    with pytest.raises(ExtractionError, match="apt-get install tesseract-ocr"):
        _ = TesseractOcr().version


@pytest.mark.needs_tesseract
def test_version_names_the_tesseract_binary() -> None:
    assert TesseractOcr().version.split(".")[0].isdigit()


@pytest.mark.needs_tesseract
def test_installed_languages_include_script_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("eng", "Latin", "chi_sim"):
        (tmp_path / f"{name}.traineddata").write_bytes(b"")  # --list-langs lists the folder's models by name
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert installed_languages() == {"eng", "Latin", "chi_sim"}
    assert missing_languages("eng+Latin") is None
