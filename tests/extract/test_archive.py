"""ZIP archives: members as attachments, and every bomb and damage case stopped with the right error."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from docintel.errors import ArchiveBomb, CorruptDocument, EmptyDocument, EncryptedDocument
from docintel.extract.archive import ZipExtractor
from docintel.extract.base import ExtractContext
from docintel.settings import LimitSettings

CONTEXT = ExtractContext(name="bundle.zip")
LOCAL_HEADER = b"PK\x03\x04"
CENTRAL_HEADER = b"PK\x01\x02"


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def patch_headers(
    content: bytes, *, flag_bits: int | None = None, declared_size: int | None = None, only: str | None = None
) -> bytes:
    """Rewrite local and central headers (of one member, or all): set flag bits or forge the uncompressed size."""
    patched = bytearray(content)
    # (signature, flags offset, uncompressed size offset, name length offset, name offset)
    for signature, flag_offset, size_offset, name_len_offset, name_offset in (
        (LOCAL_HEADER, 6, 22, 26, 30),
        (CENTRAL_HEADER, 8, 24, 28, 46),
    ):
        start = 0
        while (start := patched.find(signature, start)) != -1:
            name_len = struct.unpack_from("<H", patched, start + name_len_offset)[0]
            name = bytes(patched[start + name_offset : start + name_offset + name_len]).decode()
            if only is not None and name != only:
                start += 4
                continue
            if flag_bits is not None:
                flags = struct.unpack_from("<H", patched, start + flag_offset)[0]
                struct.pack_into("<H", patched, start + flag_offset, flags | flag_bits)
            if declared_size is not None:
                struct.pack_into("<I", patched, start + size_offset, declared_size)
            start += 4
    return bytes(patched)


def test_members_become_attachments_and_the_listing_is_the_page():
    content = make_zip(
        {
            "reports/": b"",
            "reports/annual.txt": b"Annual report",
            "__MACOSX/reports/._annual.txt": b"resource fork",
            "reports/.DS_Store": b"finder",
            "minutes.txt": b"Minutes",
        }
    )
    extraction = ZipExtractor().extract(content, CONTEXT)
    assert [(a.name, a.content) for a in extraction.attachments] == [
        ("reports/annual.txt", b"Annual report"),
        ("minutes.txt", b"Minutes"),
    ]
    assert extraction.pages[0].text == "reports/annual.txt\nminutes.txt"
    assert extraction.attachments[0].modified_at is not None
    assert extraction.notes == []


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_every_stdlib_compression_method_reads(method: int):
    data = b"Council tax band D " * 500
    extraction = ZipExtractor().extract(make_zip({"a.txt": data}, method), CONTEXT)
    assert extraction.attachments[0].content == data


def test_nested_zip_is_an_attachment_that_extracts_one_level_deeper():
    inner = make_zip({"inner.txt": b"inner text"})
    outer = ZipExtractor().extract(make_zip({"inner.zip": inner, "outer.txt": b"outer"}), CONTEXT)
    assert [a.name for a in outer.attachments] == ["inner.zip", "outer.txt"]
    nested = ZipExtractor().extract(outer.attachments[0].content, ExtractContext(depth=1))
    assert [(a.name, a.content) for a in nested.attachments] == [("inner.txt", b"inner text")]


@pytest.mark.parametrize(("depth", "raises"), [(0, False), (2, False), (3, True), (7, True)])
def test_nesting_depth_limit(depth: int, raises: bool):
    content = make_zip({"a.txt": b"a"})
    context = ExtractContext(depth=depth, limits=LimitSettings(max_archive_depth=3))
    if raises:
        with pytest.raises(ArchiveBomb, match="nested too deep"):
            ZipExtractor().extract(content, context)
    else:
        assert ZipExtractor().extract(content, context).attachments


def test_too_many_members():
    content = make_zip({f"{index}.txt": b"x" for index in range(11)})
    with pytest.raises(ArchiveBomb, match="11 entries, limit 10"):
        ZipExtractor().extract(content, ExtractContext(limits=LimitSettings(max_archive_members=10)))
    assert len(ZipExtractor().extract(content, ExtractContext()).attachments) == 11


def test_declared_total_over_budget():
    content = make_zip({"a.bin": b"a" * 3000, "b.bin": b"b" * 3000})
    with pytest.raises(ArchiveBomb, match="declares 6000 bytes expanded, limit 5000"):
        ZipExtractor().extract(content, ExtractContext(limits=LimitSettings(max_archive_expanded_bytes=5000)))


def test_highly_compressible_member_beyond_ratio_is_a_bomb():
    content = make_zip({"readme.txt": b"ok", "zeros.bin": bytes(8 * 1024 * 1024)})
    assert len(content) < 64 * 1024
    with pytest.raises(ArchiveBomb, match=r"member 2 compresses \d+:1 .* limit 200:1"):
        ZipExtractor().extract(content, CONTEXT)


def test_small_highly_compressible_member_is_not_a_bomb():
    content = make_zip({"blank-form.txt": b" " * 100_000})
    assert ZipExtractor().extract(content, CONTEXT).attachments[0].content == b" " * 100_000


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_member_whose_declared_size_lies_is_stopped_while_reading(method: int):
    # Central and local headers claim 1,000 bytes; the member really inflates to 2 MB. The declared ratio
    # and totals pass, so only the read-time check can catch it.
    content = patch_headers(make_zip({"small.txt": bytes(2 * 1024 * 1024)}, method), declared_size=1000)
    assert zipfile.ZipFile(io.BytesIO(content)).infolist()[0].file_size == 1000
    with pytest.raises(ArchiveBomb, match="member 1 expands past the 1000 bytes its header declares"):
        ZipExtractor().extract(content, CONTEXT)


def test_all_members_encrypted_is_an_encrypted_document():
    content = patch_headers(make_zip({"a.txt": b"secret a", "b.txt": b"secret b"}), flag_bits=0x1)
    with pytest.raises(EncryptedDocument, match="all 2 members are encrypted"):
        ZipExtractor().extract(content, CONTEXT)


def test_some_members_encrypted_are_skipped_with_a_note():
    content = patch_headers(make_zip({"open.txt": b"open", "locked.txt": b"locked"}), flag_bits=0x1, only="locked.txt")
    extraction = ZipExtractor().extract(content, CONTEXT)
    assert [(a.name, a.content) for a in extraction.attachments] == [("open.txt", b"open")]
    assert extraction.notes == ["1 encrypted members skipped"]
    assert extraction.pages[0].text == "open.txt\nlocked.txt"


def damage_member(content: bytes, member: str) -> bytes:
    """Flip a byte in the middle of one member's compressed data."""
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", content, info.header_offset + 26)
    data_start = info.header_offset + 30 + name_len + extra_len
    damaged = bytearray(content)
    damaged[data_start + info.compress_size // 2] ^= 0xFF
    return bytes(damaged)


def test_damaged_member_is_skipped_and_all_damaged_is_corrupt():
    text = bytes(range(256)) * 8  # incompressible enough that a flipped byte lands in real data
    content = make_zip({"good.txt": b"good text", "bad.bin": text}, zipfile.ZIP_STORED)
    extraction = ZipExtractor().extract(damage_member(content, "bad.bin"), CONTEXT)
    assert [a.name for a in extraction.attachments] == ["good.txt"]
    assert extraction.notes == ["1 unreadable members skipped"]
    only_bad = make_zip({"bad.txt": b"bad text " * 50})
    with pytest.raises(CorruptDocument, match="none of the 1 ZIP members"):
        ZipExtractor().extract(damage_member(only_bad, "bad.txt"), CONTEXT)


@pytest.mark.parametrize("content", [b"PK\x03\x04truncated", b"not a zip at all", make_zip({"a": b"a"})[:40]])
def test_bad_zip_is_corrupt(content: bytes):
    with pytest.raises(CorruptDocument):
        ZipExtractor().extract(content, CONTEXT)


def test_empty_zip_file_and_empty_archive():
    with pytest.raises(EmptyDocument):
        ZipExtractor().extract(b"", CONTEXT)
    extraction = ZipExtractor().extract(make_zip({}), CONTEXT)
    assert extraction.attachments == [] and extraction.pages[0].text == ""
