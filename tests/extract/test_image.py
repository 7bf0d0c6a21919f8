"""ImageExtractor on generated images: every format, multi-page TIFF, transparency, bombs and broken files."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import pytest
from PIL import Image, features

from docintel.errors import CorruptDocument, EmptyDocument, TooLarge
from docintel.extract.base import ExtractContext
from docintel.extract.image import ImageExtractor
from docintel.models import Extraction, PageMethod
from docintel.settings import LimitSettings, OcrSettings

NOTICE = ["Waste collection notice", "Bins are emptied on Friday"]


def _extract(content: bytes, **overrides: object) -> Extraction:
    return ImageExtractor().extract(content, ExtractContext(name="scan", **overrides))  # type: ignore[arg-type]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of all-white rows: a few hundred KB on disk that would decode to width x height pixels."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row * 1000) for _ in range(height // 1000)]
    chunks.append(compressor.compress(row * (height % 1000)))
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(chunks))
        + _png_chunk(b"IEND", b"")
    )


FORMATS = [
    pytest.param("PNG", {}, id="png"),
    pytest.param("JPEG", {"quality": 90}, id="jpeg"),
    pytest.param("TIFF", {"compression": "tiff_lzw"}, id="tiff"),
    pytest.param("GIF", {}, id="gif"),
    pytest.param("BMP", {}, id="bmp"),
    pytest.param(
        "WEBP",
        {"lossless": True},
        id="webp",
        marks=pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WEBP"),
    ),
]


@pytest.mark.needs_tesseract
@pytest.mark.parametrize(("fmt", "options"), FORMATS)
def test_every_format_is_ocrd(make_text_image, encode_image, fmt: str, options: dict[str, object]) -> None:
    content = encode_image(make_text_image(NOTICE, mode="RGB"), fmt, **options)
    extraction = _extract(content)
    [page] = extraction.pages
    assert page.method is PageMethod.OCR
    assert page.text == "\n".join(NOTICE)
    assert page.ocr_confidence is not None and page.ocr_confidence > 80
    assert extraction.metadata["format"] == fmt
    assert extraction.component.startswith("image pillow")


@pytest.mark.needs_tesseract
def test_colour_table_header_on_shading_is_read(make_shaded_table, encode_image) -> None:
    labels = ["Disability", "Participants", "Completed", "Terminated"]
    [page] = _extract(encode_image(make_shaded_table(labels), "PNG")).pages
    assert set(labels) <= set(page.text.split())


@pytest.mark.needs_tesseract
def test_transparent_background_is_read_as_white(make_text_image, encode_image) -> None:
    ink = make_text_image(NOTICE)  # black on white; make the white fully transparent and the ink opaque black
    transparent = Image.new("RGBA", ink.size, (0, 0, 0, 0))
    transparent.putalpha(ink.point(lambda value: 255 - value))
    [page] = _extract(encode_image(transparent, "PNG")).pages
    assert "Bins are emptied on Friday" in page.text


@pytest.mark.needs_tesseract
def test_palette_image_is_read(make_text_image, encode_image) -> None:
    palette = make_text_image(NOTICE, mode="RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    [page] = _extract(encode_image(palette, "PNG")).pages
    assert "Waste collection notice" in page.text


@pytest.mark.needs_tesseract
def test_multi_page_tiff_gives_one_page_per_frame(make_text_image) -> None:
    frames = [make_text_image([f"Page {word} of the tenancy file"]) for word in ("one", "two", "three")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    extraction = _extract(buffer.getvalue())
    assert [page.number for page in extraction.pages] == [1, 2, 3]
    assert [page.text for page in extraction.pages] == [
        "Page one of the tenancy file",
        "Page two of the tenancy file",
        "Page three of the tenancy file",
    ]
    assert extraction.metadata["frames"] == "3"


def test_multi_page_tiff_over_page_limit_reads_first_frames(make_text_image) -> None:
    frames = [make_text_image([f"Frame {n}"]) for n in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    extraction = _extract(buffer.getvalue(), limits=LimitSettings(max_pdf_pages=2), ocr=OcrSettings(enabled=False))
    assert [page.number for page in extraction.pages] == [1, 2]
    assert "read the first 2 of 4 frames (limit max_pdf_pages)" in extraction.notes


def test_animated_gif_is_one_page(make_text_image) -> None:
    frames = [make_text_image([f"Frame {n}"], mode="RGB").convert("P") for n in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    extraction = _extract(buffer.getvalue(), ocr=OcrSettings(enabled=False))
    assert len(extraction.pages) == 1


def test_ocr_disabled_gives_empty_pages_and_note(make_text_image, encode_image) -> None:
    extraction = _extract(encode_image(make_text_image(NOTICE)), ocr=OcrSettings(enabled=False))
    [page] = extraction.pages
    assert page.text == ""
    assert page.method is PageMethod.OCR
    assert extraction.notes == ["1 image page(s) not read (OCR disabled)"]


def test_decompression_bomb_png_is_too_large() -> None:
    content = bomb_png(30_000, 30_000)
    assert len(content) < 300_000  # the fixture stays small: the point is how far it would expand
    with pytest.raises(TooLarge) as caught:
        _extract(content)
    assert "178,956,970" in caught.value.message
    assert "900000000 pixels" in caught.value.message


@pytest.mark.parametrize(
    ("size", "limit", "refused"),
    [
        pytest.param((100, 100), 9_999, True, id="just-over-limit-warning-band"),
        pytest.param((100, 100), 4_000, True, id="over-twice-limit"),
        pytest.param((100, 100), 10_000, False, id="at-limit"),
        pytest.param((50, 50), 10_000, False, id="under-limit"),
    ],
)
def test_pixel_limit_from_settings(encode_image, size: tuple[int, int], limit: int, refused: bool) -> None:
    content = encode_image(Image.new("L", size, 255))
    context = {"limits": LimitSettings(max_image_pixels=limit), "ocr": OcrSettings(enabled=False)}
    if refused:
        with pytest.raises(TooLarge, match=f"{limit:,}"):
            _extract(content, **context)
    else:
        assert len(_extract(content, **context).pages) == 1


@pytest.mark.needs_tesseract
def test_oversized_later_tiff_frame_is_too_large() -> None:
    buffer = io.BytesIO()
    Image.new("L", (50, 50), 255).save(buffer, "TIFF", save_all=True, append_images=[Image.new("L", (200, 200), 255)])
    with pytest.raises(TooLarge, match="frame 2 is 200x200 = 40,000 pixels, over the limit of 10,000"):
        _extract(buffer.getvalue(), limits=LimitSettings(max_image_pixels=10_000), ocr=OcrSettings(enabled=True))


@pytest.mark.parametrize(
    ("fmt", "cut"),
    [
        pytest.param("PNG", 0.5, id="png-half"),
        pytest.param("JPEG", 0.3, id="jpeg-third"),
        pytest.param("PNG", 0.05, id="png-header-only"),
    ],
)
def test_truncated_image_is_corrupt(make_text_image, encode_image, fmt: str, cut: float) -> None:
    content = encode_image(make_text_image(NOTICE, mode="RGB"), fmt)
    with pytest.raises(CorruptDocument):
        _extract(content[: int(len(content) * cut)])


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not an image at all" * 20, id="text"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-signature-then-zeros"),
        pytest.param(b"GIF89a" + b"\xff" * 10, id="gif-header-garbage"),
    ],
)
def test_garbage_bytes_are_corrupt(content: bytes) -> None:
    with pytest.raises(CorruptDocument, match="not a readable image"):
        _extract(content)


def test_zero_bytes_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        _extract(b"")


@pytest.mark.parametrize("limit", [100, 10**10])
def test_pillow_pixel_limit_is_restored_after_extraction(encode_image, limit: int) -> None:
    before = Image.MAX_IMAGE_PIXELS
    content = encode_image(Image.new("L", (20, 20), 255))
    with contextlib.suppress(TooLarge):
        _extract(content, limits=LimitSettings(max_image_pixels=limit), ocr=OcrSettings(enabled=False))
    assert before == Image.MAX_IMAGE_PIXELS
