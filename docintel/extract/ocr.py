"""Tesseract OCR of page images: text with tesseract's line grouping, word boxes and a mean confidence.

Each call runs one tesseract process (through pytesseract) limited to one OpenMP thread, which on a
2-core machine is about 6x faster than tesseract's own threading; pages run side by side instead, in a
thread pool of ``OcrSettings.parallel_pages`` (the threads only wait on their processes).

Before any reading, the page's glyphs are looked at (:mod:`docintel.extract.orientation`, ~15 ms for an
A4 page at 300 DPI, Latin-script languages only): when they plainly show lines running the other way, or
more descenders than ascenders, the page is turned first and read once. That reading is checked like any
other; if it reads like junk, the page is read as it is and the better reading kept, so a wrong guess
costs a reading, never the text. On the bench's turned pages (90, 180 and 270 degrees) this replaced a
junk reading, an OSD run and a re-read with one reading: 2.0-2.9x the tesseract CLI's time -> 1.0-1.1x.

Otherwise the page is read as it is, and orientation detection (``--psm 0``) runs only when that reads
poorly (mean confidence under 70) AND few of its words are solid words (confidently read, alphabetic,
three letters or more): a sideways or upside-down page reads as short low-confidence junk, while a poor
but upright scan (a faded receipt) still yields plenty of solid words. When the glyphs showed the page
upright beyond doubt (``UPRIGHT_GUESS_TRUSTED_EVIDENCE``), a poor reading is a poor page (a faded scan, a
script the language does not read) and OSD is not asked either. An upright page costs one tesseract run,
like the tesseract CLI.

Run as tesseract's defaults have it, OSD cost 1.2-1.5x a reading of the same page (4.4 s against 3.5 s
on a dense Chinese page at 300 DPI): about half is page layout over the whole image, the rest classifying
up to 250 blobs (5 x ``min_characters_to_try``). So OSD looks only at the region of the first pass's
first words (about 300 characters' worth, at full resolution) and tries 50 blobs
(``min_characters_to_try=10``). On the bench's turned and foreign-script pages that cut OSD to 0.4-0.5x
of a reading (upside-down A4 page: 1.6 s -> 0.6 s; Chinese page: 5.1 s -> 1.7 s) with the same rotation
and script answers. A region too small for OSD falls back to the whole page. Fifty blobs tell the
rotation reliably but not always the script (a small turned English note came back "Cyrillic"), so a
turned page in a script the language cannot read is asked about again with the full 250-blob sample
before its re-read is skipped. (OSD on a downscaled copy was measured too: at half scale it stops
recognising rotated 200-DPI pages and saves little time.)
One ``--psm 1`` run (layout with OSD, then reading) instead of OSD plus a re-read was measured as well:
with ``min_orientation_margin`` lowered it reads 90/180-degree pages right in one process, but costs
1.2-1.9x a ``--psm 3`` reading, more than the cropped OSD plus a re-read on a page that needs no turn.

Colour images are handed to tesseract in colour: its thresholding looks at each channel, which keeps dark
text on coloured table shading that a single grey channel (PIL's luminance) loses.
"""

from __future__ import annotations

import functools
import logging
import os
import statistics
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytesseract
from PIL import Image, ImageChops

from docintel.errors import ConfigError, ExtractionError, ExtractionTimeout
from docintel.extract.orientation import OrientationGuess, guess_orientation
from docintel.settings import OcrSettings

logger = logging.getLogger(__name__)

INSTALL_HINT = "install it with: apt-get install tesseract-ocr"
# Seconds `tesseract --list-langs` may take (it only lists a folder).
LIST_LANGUAGES_TIMEOUT = 30

# Below this mean word confidence a page may be sideways or upside down: only then is OSD worth its cost.
ORIENTATION_CHECK_BELOW_CONFIDENCE = 70.0
# ...and only when solid words make up less than this share of the words read. Upright pages measured
# 0.4-0.85 (receipts lowest), pages turned 90 or 180 degrees about 0.1.
ORIENTATION_CHECK_BELOW_SOLID_SHARE = 0.25
# A solid word: read at least this confidently, and this many letters long.
SOLID_WORD_MIN_CONFIDENCE = 60.0
SOLID_WORD_MIN_LETTERS = 3
_WORD_EDGE_PUNCTUATION = ".,;:!?'\"()[]{}‘’“”-"
# OSD's own orientation confidence under which we do not trust its answer enough to rotate.
MIN_ORIENTATION_CONFIDENCE = 1.0
# OSD looks at the region of the first pass's first words holding at least this many characters...
OSD_REGION_MIN_CHARS = 300
# ...and classifies 5x this many blobs at most (tesseract's default 50, i.e. 250 blobs, costs 2-3x more).
OSD_MIN_CHARACTERS_TO_TRY = 10
# ...except to confirm a script the language cannot read, where this (tesseract's default) is asked for.
OSD_CONFIRM_MIN_CHARACTERS_TO_TRY = 50
# A region bigger than this share of the image saves too little to be worth a second try on failure.
OSD_REGION_MAX_SHARE = 0.8
# A poor reading of a page whose glyphs showed it upright this strongly (standard deviations, see
# OrientationGuess.evidence) is a poor page, not a turned one: OSD is not asked. Weaker evidence still asks.
UPRIGHT_GUESS_TRUSTED_EVIDENCE = 3.0
# Pages go to tesseract as files of this kind (see save_for_tesseract).
IMAGE_FILE_SUFFIX = ".tif"
# A rotated re-read must beat the first pass by this many points to be kept (noise on a blank page is ~0).
MIN_ROTATION_GAIN = 5.0
# The scripts (as OSD names them) that each tesseract language reads. A page OSD finds in another script
# (a Chinese scan under "eng") reads as junk whichever way up, so turning it and reading again gains nothing.
# A language missing here reads any script as far as this check goes: unknown means re-read, as before.
_LATIN = frozenset({"Latin", "Fraktur"})
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{code: _LATIN for code in ("eng", "cym", "gla", "gle", "fra", "deu", "spa", "ita", "por", "pol", "nld")},
    **{code: _LATIN for code in ("ron", "lit", "lav", "ces", "slk", "hun", "tur", "swe", "dan", "nor", "fin")},
    "ara": frozenset({"Arabic"}),
    "urd": frozenset({"Arabic"}),
    "fas": frozenset({"Arabic"}),
    "ben": frozenset({"Bengali"}),
    "hin": frozenset({"Devanagari"}),
    "guj": frozenset({"Gujarati"}),
    "pan": frozenset({"Gurmukhi"}),
    "tam": frozenset({"Tamil"}),
    "chi_sim": frozenset({"Han"}),
    "chi_tra": frozenset({"Han"}),
    "jpn": frozenset({"Han", "Japanese", "Hiragana", "Katakana"}),
    "kor": frozenset({"Han", "Hangul", "Korean"}),
    "rus": frozenset({"Cyrillic"}),
    "ukr": frozenset({"Cyrillic"}),
    "bul": frozenset({"Cyrillic"}),
    "ell": frozenset({"Greek"}),
    "heb": frozenset({"Hebrew"}),
    "tha": frozenset({"Thai"}),
}


class _TesseractEnvironment(Mapping[str, str]):
    """The live process environment, with OMP_THREAD_LIMIT=1 for the tesseract subprocesses only."""

    _OVERRIDES: ClassVar[dict[str, str]] = {"OMP_THREAD_LIMIT": "1"}

    def __getitem__(self, key: str) -> str:
        return self._OVERRIDES.get(key) or os.environ[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._OVERRIDES
        yield from (key for key in os.environ if key not in self._OVERRIDES)

    def __len__(self) -> int:
        return len(set(os.environ) | set(self._OVERRIDES))


# pytesseract passes its module-level ``environ`` to every subprocess. Setting the limit in os.environ
# instead would also throttle OpenMP in this process (torch, numpy), so only tesseract gets it.
pytesseract.pytesseract.environ = _TesseractEnvironment()


@dataclass(frozen=True)
class OcrWord:
    """One recognised word with its box in image pixels and tesseract's confidence (0-100)."""

    left: int
    top: int
    width: int
    height: int
    conf: float
    text: str
    block: int = 0
    paragraph: int = 0
    line: int = 0


@dataclass(frozen=True)
class Orientation:
    """What tesseract's orientation and script detection (``--psm 0``) reported for a page."""

    rotation: int = 0  # clockwise degrees that make the page upright; 0 when OSD could not tell
    script: str | None = None


@dataclass(frozen=True)
class OcrResult:
    """What OCR read on one image: text, mean word confidence (0-100), words with boxes, rotation applied."""

    text: str
    confidence: float
    words: list[OcrWord] = field(default_factory=list)
    rotation: int = 0  # degrees clockwise the image was turned before the kept reading


def words_from_tsv(tsv: str) -> list[OcrWord]:
    """Parse tesseract's TSV output into words, skipping layout rows and empty or unrecognised words."""
    lines = tsv.splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    try:
        columns = {name: header.index(name) for name in ("block_num", "par_num", "line_num", "left", "top")}
        columns |= {name: header.index(name) for name in ("width", "height", "conf", "text")}
    except ValueError as exc:
        raise ExtractionError(f"tesseract TSV output has an unexpected header: {exc}") from exc
    words: list[OcrWord] = []
    for row in lines[1:]:
        cells = row.split("\t")
        if len(cells) <= columns["text"]:
            continue
        text = cells[columns["text"]].strip()
        conf = float(cells[columns["conf"]])
        if not text or conf < 0:
            continue
        words.append(
            OcrWord(
                left=int(cells[columns["left"]]),
                top=int(cells[columns["top"]]),
                width=int(cells[columns["width"]]),
                height=int(cells[columns["height"]]),
                conf=conf,
                text=text,
                block=int(cells[columns["block_num"]]),
                paragraph=int(cells[columns["par_num"]]),
                line=int(cells[columns["line_num"]]),
            )
        )
    return words


def text_from_words(words: list[OcrWord]) -> str:
    """Join words as tesseract groups them: spaces in a line, newlines between lines, blank lines between paragraphs."""
    parts: list[str] = []
    previous_line: tuple[int, int, int] | None = None
    for word in words:
        line_key = (word.block, word.paragraph, word.line)
        if previous_line is None:
            pass
        elif line_key == previous_line:
            parts.append(" ")
        elif line_key[:2] == previous_line[:2]:
            parts.append("\n")
        else:
            parts.append("\n\n")
        parts.append(word.text)
        previous_line = line_key
    return "".join(parts)


def mean_confidence(words: list[OcrWord]) -> float:
    """Mean word confidence, 0 when nothing was read."""
    return sum(word.conf for word in words) / len(words) if words else 0.0


def solid_word_share(words: list[OcrWord]) -> float:
    """Share of words read confidently that are made of letters, three or more: low on a turned page."""
    if not words:
        return 0.0
    solid = 0
    for word in words:
        letters = word.text.strip(_WORD_EDGE_PUNCTUATION)
        solid += word.conf >= SOLID_WORD_MIN_CONFIDENCE and len(letters) >= SOLID_WORD_MIN_LETTERS and letters.isalpha()
    return solid / len(words)


def may_be_turned(result: OcrResult) -> bool:
    """Whether a first reading looks like a sideways or upside-down page: poor confidence and few solid words.

    Nothing read at all is a blank page (or a picture): OSD needs text to work with, so it is not asked.
    """
    return (
        bool(result.words)
        and result.confidence < ORIENTATION_CHECK_BELOW_CONFIDENCE
        and solid_word_share(result.words) < ORIENTATION_CHECK_BELOW_SOLID_SHARE
    )


def parse_osd(osd: str) -> Orientation:
    """Read tesseract's OSD report; a rotation OSD is not confident about counts as none."""
    values = {
        key.strip(): value.strip() for key, value in (line.split(":", 1) for line in osd.splitlines() if ":" in line)
    }
    script = values.get("Script") or None
    try:
        rotate = int(values["Rotate"])
        confidence = float(values["Orientation confidence"])
    except (KeyError, ValueError):
        return Orientation(0, script)
    return Orientation(rotate % 360 if confidence >= MIN_ORIENTATION_CONFIDENCE else 0, script)


def osd_region(words: Sequence[OcrWord], size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) around the first words holding ``OSD_REGION_MIN_CHARS`` characters.

    The words' boxes are where the first pass found text, right even on a turned page; the margin is one
    word's short side so no glyph is cut. None when there are no words or the box is most of the image.
    """
    chosen: list[OcrWord] = []
    chars = 0
    for word in words:
        chosen.append(word)
        chars += len(word.text)
        if chars >= OSD_REGION_MIN_CHARS:
            break
    if not chosen:
        return None
    margin = int(statistics.median(min(word.width, word.height) for word in chosen))
    left = max(0, min(word.left for word in chosen) - margin)
    top = max(0, min(word.top for word in chosen) - margin)
    right = min(size[0], max(word.left + word.width for word in chosen) + margin)
    bottom = min(size[1], max(word.top + word.height for word in chosen) + margin)
    if right <= left or bottom <= top or (right - left) * (bottom - top) > OSD_REGION_MAX_SHARE * size[0] * size[1]:
        return None
    return left, top, right, bottom


def can_read_script(language: str, script: str | None) -> bool:
    """Whether tesseract with ``language`` ("eng", "eng+cym") can read text in ``script``; unknowns count as yes."""
    if script is None:
        return True
    readable: set[str] = set()
    for code in language.split("+"):
        scripts = LANGUAGE_SCRIPTS.get(code.strip())
        if scripts is None:
            return True
        readable |= scripts
    return script in readable


def reads_only_latin(language: str) -> bool:
    """Whether every tesseract language in ``language`` ("eng", "eng+cym") reads Latin script only."""
    return all(LANGUAGE_SCRIPTS.get(code.strip()) == _LATIN for code in language.split("+"))


def _turn(image: Image.Image, rotation: int) -> Image.Image:
    """The image turned ``rotation`` degrees clockwise (OSD's "Rotate"; PIL turns counter-clockwise)."""
    fill = (255, 255, 255) if image.mode == "RGB" else 255
    return image.rotate(-rotation, expand=True, fillcolor=fill)


def prepare_image(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white; colour stays RGB (tesseract thresholds each channel), the rest 8-bit grey.

    A bilevel image stays bilevel: tesseract uses a 1-bit image as its threshold result and skips its own
    thresholding (5% of a fax-like A4 page's reading time, same text). The result may be the image itself
    (already bilevel, 8-bit grey or true colour): copy it before changing it.
    """
    if image.mode in ("L", "1"):
        return image
    if image.mode in ("P", "PA"):
        # A palette of greys is a greyscale image: keep it one channel, a third of the bytes to write.
        image = image.convert("RGBA")
        if _is_grey(image):
            image = image.convert("LA")
    if image.mode in ("LA", "La"):
        la = image.convert("LA")
        background = Image.new("L", la.size, 255)
        background.paste(la.getchannel("L"), mask=la.getchannel("A"))
        return background
    if image.mode in ("RGBA", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float scans: stretch the actual range into 8 bits rather than clipping it.
        floats = image.convert("F")
        low, high = (float(bound) for bound in floats.getextrema())  # type: ignore[arg-type]
        scale = 255.0 / (high - low) if high > low else 1.0
        return floats.point(lambda value: value * scale - low * scale).convert("L")
    if image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    if image.mode == "RGB":
        # Most scans are grey stored as colour: one channel is a third of the bytes to write and threshold.
        return image.convert("L") if _is_grey(image) else image
    return image.convert("L")


def _is_grey(image: Image.Image) -> bool:
    """Whether every pixel of an RGB(A) image has equal red, green and blue."""
    red, green, blue = image.getchannel("R"), image.getchannel("G"), image.getchannel("B")
    return ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(red, blue).getbbox() is None


class TesseractOcr:
    """OCR of PIL images with tesseract, one process per page, several pages in parallel."""

    name = "tesseract"

    def __init__(self, settings: OcrSettings | None = None, *, page_segmentation: int = 3) -> None:
        self.settings = settings or OcrSettings()
        # tesseract's --psm: 3 finds the page's layout; 6 reads one block of lines (receipts, see docintel.invoices).
        self.page_segmentation = page_segmentation
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The tesseract binary's version, e.g. "5.3.0"."""
        if self._version is None:
            try:
                self._version = str(pytesseract.get_tesseract_version())
            except pytesseract.TesseractNotFoundError as exc:
                raise ExtractionError(f"tesseract is not installed or not on PATH; {INSTALL_HINT}") from exc
        return self._version

    def ocr(self, image: Image.Image, dpi: int | None = None) -> OcrResult:
        """Read one image; ``dpi`` (or the image's own DPI) tells tesseract the scale of the text."""
        dpi = dpi or _image_dpi(image)
        prepared = prepare_image(image)
        guess = self._guess(prepared)
        guessed = guess.rotation or 0
        if not guessed:
            upright = guess.rotation == 0 and guess.evidence >= UPRIGHT_GUESS_TRUSTED_EVIDENCE
            return self._read_as_it_is(prepared, dpi, ask_osd=not upright)
        turned = self._read(_turn(prepared, guessed), dpi, guessed)
        if not may_be_turned(turned):
            return turned
        # The glyphs were misread, or the page is poor either way: read it as it is, then keep the better.
        logger.debug("orientation: guessed rotate %d, read poorly (%.1f): reading as it is", guessed, turned.confidence)
        as_is = self._read_as_it_is(prepared, dpi, turned)
        if as_is.rotation == guessed:
            return as_is
        gain = MIN_ROTATION_GAIN if as_is.rotation == 0 else 0.0
        return turned if turned.confidence >= as_is.confidence + gain else as_is

    def _guess(self, image: Image.Image) -> OrientationGuess:
        """What the page's glyphs say about its orientation before any reading (Latin-script languages only)."""
        if not self.settings.detect_orientation or not reads_only_latin(self.settings.language):
            return OrientationGuess(None)
        guess = guess_orientation(image)
        logger.debug(
            "orientation guess %s: lined %d across, %d down; %d ascenders, %d descenders",
            guess.rotation,
            guess.lined_across,
            guess.lined_down,
            guess.ascenders,
            guess.descenders,
        )
        return guess

    def _read_as_it_is(
        self, prepared: Image.Image, dpi: int | None, known: OcrResult | None = None, *, ask_osd: bool = True
    ) -> OcrResult:
        """Read the page as it is; when that reads like a turned page, ask OSD and read it turned.

        ``known`` is a turned reading already made, reused when OSD asks for the same turn. Without
        ``ask_osd`` (the glyphs showed the page upright) a poor reading is kept as it is.
        """
        first = self._read(prepared, dpi)
        if not self.settings.detect_orientation or not ask_osd or not may_be_turned(first):
            return first
        orientation = self._detect_orientation(prepared, dpi, first.words)
        rotation = orientation.rotation
        if not rotation:
            return first
        if not can_read_script(self.settings.language, orientation.script):
            # 50 blobs tell the rotation reliably but not always the script (a turned English note came back
            # "Cyrillic"): before giving up on the page, ask again with tesseract's full sample of 250 blobs.
            orientation = self._detect_orientation(prepared, dpi, first.words, OSD_CONFIRM_MIN_CHARACTERS_TO_TRY)
            rotation = orientation.rotation
        if rotation and not can_read_script(self.settings.language, orientation.script):
            logger.debug(
                "orientation: rotate %d, but the page is in %s script: not re-read", rotation, orientation.script
            )
            return first
        turned = known if known is not None and known.rotation == rotation else None
        if turned is None:
            turned = self._read(_turn(prepared, rotation), dpi, rotation)
        logger.debug("orientation: rotate %d, confidence %.1f -> %.1f", rotation, first.confidence, turned.confidence)
        return turned if turned.confidence >= first.confidence + MIN_ROTATION_GAIN else first

    def ocr_many(self, images: Iterable[Image.Image], dpi: int | None = None) -> Iterator[OcrResult]:
        """Read images in order, ``parallel_pages`` at a time; images are pulled lazily to bound memory."""
        workers = max(1, self.settings.parallel_pages)
        if workers == 1:
            for image in images:
                yield self.ocr(image, dpi)
            return
        pending: deque[Future[OcrResult]] = deque()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tesseract")
        try:
            for image in images:
                pending.append(pool.submit(self.ocr, image, dpi))
                # Keep one page queued behind each running one, no more: rendered pages are ~9 MB each.
                while len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # Not waiting: when the document's time budget expires mid-read, the run must move on at once;
            # a page already in tesseract finishes (bounded by page_timeout_seconds) and is dropped.
            pool.shutdown(wait=False, cancel_futures=True)

    def _read(self, image: Image.Image, dpi: int | None, rotation: int = 0) -> OcrResult:
        config = f"--psm {self.page_segmentation}" + (f" --dpi {dpi}" if dpi else "")
        with _image_file(image) as path:
            tsv = self._run(pytesseract.image_to_data, str(path), lang=self.settings.language, config=config)
        words = words_from_tsv(tsv)
        return OcrResult(text_from_words(words), round(mean_confidence(words), 2), words, rotation)

    def _detect_orientation(
        self,
        image: Image.Image,
        dpi: int | None,
        words: Sequence[OcrWord] = (),
        min_characters: int = OSD_MIN_CHARACTERS_TO_TRY,
    ) -> Orientation:
        """OSD's rotation (clockwise degrees to make the page upright) and script; nothing when it cannot tell.

        With the first pass's ``words``, OSD looks only at the region of the first of them (see
        ``osd_region``); when that region holds too little for OSD, it looks at the whole image.
        """
        region = osd_region(words, image.size)
        if region is not None:
            orientation = self._run_osd(image.crop(region), dpi, min_characters)
            if orientation is not None:
                return orientation
            logger.debug("orientation detection on the text region failed, trying the whole page")
        return self._run_osd(image, dpi, min_characters) or Orientation()

    def _run_osd(self, image: Image.Image, dpi: int | None, min_characters: int) -> Orientation | None:
        """One ``--psm 0`` run; None when tesseract could not tell (too few characters, or it failed)."""
        config = f"-c min_characters_to_try={min_characters}" + (f" --dpi {dpi}" if dpi else "")
        try:
            with _image_file(image) as path:
                osd = self._run(pytesseract.image_to_osd, str(path), config=config)
        except ExtractionTimeout:
            raise
        except ExtractionError as exc:
            logger.debug("orientation detection failed: %s", exc)
            return None
        return parse_osd(osd)

    def _run(self, function: Callable[..., object], path: str, **kwargs: object) -> str:
        """Call a pytesseract function, translating its failures into docintel errors."""
        timeout = self.settings.page_timeout_seconds
        try:
            return str(function(path, timeout=timeout, **kwargs))
        except pytesseract.TesseractNotFoundError as exc:
            raise ExtractionError(f"tesseract is not installed or not on PATH; {INSTALL_HINT}") from exc
        except pytesseract.TesseractError as exc:
            problem = missing_languages(str(kwargs.get("lang", ""))) if "loading language" in exc.message else None
            if problem is not None:
                raise ExtractionError(problem) from exc
            raise ExtractionError(f"tesseract failed (exit {exc.status}): {exc.message}") from exc
        except RuntimeError as exc:
            # pytesseract signals its timeout with a bare RuntimeError after killing the process.
            if "timeout" in str(exc).lower():
                raise ExtractionTimeout(f"OCR of a page took longer than {timeout:g} s") from exc
            raise


def installed_languages() -> frozenset[str] | None:
    """What ``tesseract --list-langs`` names ("eng", "osd", "Latin"); None when tesseract is not installed."""
    return _list_languages(pytesseract.pytesseract.tesseract_cmd, os.environ.get("TESSDATA_PREFIX"))


@functools.cache
def _list_languages(binary: str, tessdata: str | None) -> frozenset[str] | None:
    # Asked once per binary and tessdata folder: each call runs a tesseract process. Not through
    # pytesseract.get_languages, which drops names that are not lower case (the script models, "Latin").
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=LIST_LANGUAGES_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # The first line is the heading 'List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (3):'.
    return frozenset(line.strip() for line in listed.stdout.splitlines()[1:] if line.strip())


def check_languages(language: str) -> None:
    """Raise ConfigError naming each part of ``language`` ("eng+cym") that the installed tesseract cannot load.

    Run before a scan, a worker or the invoice service starts: a language that is not installed would
    otherwise fail every scanned page, one document at a time, or, beside one that is ("eng+cym" without
    cym), be dropped by tesseract with a warning on stderr only. A missing tesseract is left to each
    document's own error (born-digital documents need no OCR).
    """
    problem = missing_languages(language)
    if problem is not None:
        raise ConfigError(problem)


def check_ocr_settings(settings: OcrSettings) -> None:
    """:func:`check_languages` for the configured language, when OCR is on."""
    if settings.enabled:
        check_languages(settings.language)


def missing_languages(language: str) -> str | None:
    """What is wrong when tesseract cannot load part of ``language``, with the package to install; else None."""
    installed = installed_languages()
    if installed is None:
        return None
    missing = [code for code in (part.strip() for part in language.split("+")) if code and code not in installed]
    if not missing:
        return None
    packages = " ".join(_language_package(code) for code in missing)
    return (
        f"OCR language {'+'.join(missing)!r} is not installed for tesseract (installed: "
        f"{', '.join(sorted(installed))}); install it with: apt-get install {packages}, or change ocr.language"
    )


def _language_package(code: str) -> str:
    """The Debian package of a tesseract language: "cym" -> tesseract-ocr-cym, "chi_sim" -> tesseract-ocr-chi-sim."""
    if code[:1].isupper() or code.startswith("script/"):
        # Script models ("Latin", "Cyrillic") come in packages named by the script's ISO 15924 code.
        return f"tesseract-ocr-script-{_SCRIPT_CODES.get(code.removeprefix('script/'), '<script>')}"
    return f"tesseract-ocr-{code.lower().replace('_', '-')}"


# ISO 15924 codes of the commonest script models' Debian packages (tesseract-ocr-script-latn is "Latin").
_SCRIPT_CODES = {"Latin": "latn", "Cyrillic": "cyrl", "Greek": "grek", "Arabic": "arab", "Devanagari": "deva"}


def save_for_tesseract(image: Image.Image, path: Path | str) -> None:
    """Write an image as the uncompressed TIFF that tesseract reads fastest (``IMAGE_FILE_SUFFIX``).

    Measured per page with tesseract 5.3 (same pixels, same text out): an uncompressed TIFF costs ~4 ms
    to write for a grey A4 page at 300 DPI and ~12 ms in colour, like PNM, but leptonica reads PNM a
    byte at a time, so tesseract took 0.10-0.15 s longer on a grey page and 0.25-0.35 s longer on a
    colour one from PNM; PNG reads as fast as TIFF but costs ~80 ms to compress. Compression is set
    explicitly: Pillow would otherwise reuse a source TIFF's (group 4, LZW).
    """
    image.save(path, format="TIFF", compression="raw")


@contextmanager
def _image_file(image: Image.Image) -> Iterator[Path]:
    """Write an image to a temporary uncompressed file for tesseract and remove it afterwards."""
    handle, name = tempfile.mkstemp(prefix="docintel-ocr-", suffix=IMAGE_FILE_SUFFIX)
    os.close(handle)
    path = Path(name)
    try:
        save_for_tesseract(image, path)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _image_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and dpi and dpi[0]:
        value = round(float(dpi[0]))
        return value if value >= 50 else None
    return None
