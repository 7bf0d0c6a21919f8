"""The compound file writer, read back with olefile in strict mode and checked against [MS-CFB] rules."""

from __future__ import annotations

import struct

import olefile
import pytest

from docintel.samples.cfb import (
    MINI_STREAM_CUTOFF,
    NOSTREAM,
    SECTOR_SIZE,
    CfbError,
    Storage,
    build_compound_file,
)

RED, BLACK = 0, 1


def _streams(tree: Storage, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], bytes]:
    found: dict[tuple[str, ...], bytes] = {}
    for name, value in tree.items():
        if isinstance(value, bytes):
            found[(*prefix, name)] = value
        else:
            found.update(_streams(value, (*prefix, name)))
    return found


def _open(data: bytes) -> olefile.OleFileIO:
    # DEFECT_INCORRECT: olefile raises on anything the spec calls wrong instead of logging it.
    return olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)


TREES: list[tuple[str, Storage]] = [
    ("one small stream", {"alpha": b"hello"}),
    ("empty stream", {"empty": b"", "other": b"x"}),
    ("just under the mini cutoff", {"small": b"s" * (MINI_STREAM_CUTOFF - 1)}),
    ("exactly the mini cutoff", {"big": b"b" * MINI_STREAM_CUTOFF}),
    ("big and small mixed", {"big": bytes(range(256)) * 40, "small": b"tiny", "mid": b"m" * 700}),
    ("needs two FAT sectors", {"huge": b"h" * (SECTOR_SIZE * 200)}),
    ("many siblings span directory sectors", {f"stream{i:02d}": bytes([i]) * (i * 13) for i in range(40)}),
    (
        "nested storages",
        {"__properties_version1.0": b"p" * 32, "outer": {"inner": {"leaf": b"leaf data"}, "s": b"s" * 5000}},
    ),
    ("empty storage", {"lonely": {}}),
]


@pytest.mark.parametrize(("label", "tree"), TREES, ids=[label for label, _ in TREES])
def test_olefile_reads_back_every_stream(label: str, tree: Storage) -> None:
    data = build_compound_file(tree)
    assert len(data) % SECTOR_SIZE == 0
    assert olefile.isOleFile(data)
    ole = _open(data)
    expected = _streams(tree)
    listed = {tuple(path) for path in ole.listdir(streams=True, storages=False)}
    assert listed == set(expected)
    for path, content in expected.items():
        assert ole.openstream(list(path)).read() == content, path
        assert ole.get_size(list(path)) == len(content)


def test_small_streams_live_in_the_mini_stream_and_large_ones_do_not() -> None:
    data = build_compound_file({"small": b"s" * 100, "large": b"L" * MINI_STREAM_CUTOFF})
    ole = _open(data)
    by_name = {entry.name: entry for entry in ole.direntries if entry is not None}
    root = by_name["Root Entry"]
    assert root.size == 128  # two 64-byte mini sectors hold the 100-byte stream
    assert ole.minisectorcutoff == MINI_STREAM_CUTOFF
    # The large stream's first sector lies in the regular FAT area and holds its first bytes.
    large = by_name["large"]
    offset = SECTOR_SIZE * (1 + large.isectStart)
    assert data[offset : offset + 4] == b"LLLL"


def _check_red_black(ole: olefile.OleFileIO, sid: int) -> int:
    """Black height of the subtree at ``sid``; asserts order and colour rules on the way."""
    if sid == NOSTREAM:
        return 1
    entry = ole.direntries[sid]
    for child_sid in (entry.sid_left, entry.sid_right):
        if child_sid != NOSTREAM and entry.color == RED:
            assert ole.direntries[child_sid].color == BLACK, "red node with a red child"
    key = (len(entry.name), entry.name.upper())
    if entry.sid_left != NOSTREAM:
        left = ole.direntries[entry.sid_left]
        assert (len(left.name), left.name.upper()) < key
    if entry.sid_right != NOSTREAM:
        right = ole.direntries[entry.sid_right]
        assert (len(right.name), right.name.upper()) > key
    left_height = _check_red_black(ole, entry.sid_left)
    right_height = _check_red_black(ole, entry.sid_right)
    assert left_height == right_height, "unequal black height"
    return left_height + (1 if entry.color == BLACK else 0)


@pytest.mark.parametrize("siblings", [1, 2, 3, 4, 5, 7, 8, 12, 31, 40])
def test_sibling_trees_are_valid_red_black_trees(siblings: int) -> None:
    tree: Storage = {f"n{'x' * (i % 5)}{i}": b"v" for i in range(siblings)}
    ole = _open(build_compound_file(tree))
    root = ole.direntries[0]
    top = ole.direntries[root.sid_child]
    assert top.color == BLACK
    _check_red_black(ole, root.sid_child)


def test_output_is_reproducible_and_header_is_version_3() -> None:
    tree: Storage = {"a": b"1" * 10, "b": {"c": b"2" * 5000}}
    first, second = build_compound_file(tree), build_compound_file(tree)
    assert first == second
    minor, major, byte_order, sector_shift, mini_shift = struct.unpack_from("<HHHHH", first, 24)
    assert (major, byte_order, sector_shift, mini_shift) == (3, 0xFFFE, 9, 6)
    assert minor == 0x003E


@pytest.mark.parametrize(
    "tree",
    [
        {"": b"x"},
        {"x" * 32: b"x"},
        {"a/b": b"x"},
        {"a!": b"x"},
        {"Stream": b"x", "STREAM": b"y"},
        {"ok": {"bad:name": b"x"}},
    ],
    ids=["empty name", "name too long", "slash", "bang", "case duplicate", "bad nested name"],
)
def test_invalid_trees_are_refused(tree: Storage) -> None:
    with pytest.raises(CfbError):
        build_compound_file(tree)


def test_thirty_one_character_names_are_the_limit() -> None:
    name = "y" * 31
    ole = _open(build_compound_file({name: b"ok"}))
    assert ole.openstream(name).read() == b"ok"
