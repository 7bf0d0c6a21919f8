"""A minimal writer for Microsoft Compound File Binary (CFB, "OLE2") containers, version 3.

Outlook MSG files are CFB containers, and no library we may use writes one from scratch (``cfbwrite`` is
AGPL and rebuilds existing files; ``cfb`` only reads). This writes what [MS-CFB] requires and nothing more:
512-byte sectors, one FAT addressed from the header's DIFAT array, a directory whose sibling lists are
balanced red-black trees, and a mini stream with its mini FAT holding every stream under 4,096 bytes.
Timestamps and CLSIDs are zero, so the same tree always gives the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

# A storage maps child names to stream bytes or to nested storages.
Storage: TypeAlias = Mapping[str, "bytes | Storage"]

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096  # streams below this size MUST live in the mini stream
DIR_ENTRY_SIZE = 128
FAT_ENTRIES_PER_SECTOR = SECTOR_SIZE // 4
HEADER_DIFAT_ENTRIES = 109  # FAT sector numbers the header can hold; enough for ~7 MB of file
MAX_NAME_CHARS = 31  # 32 UTF-16 code units including the terminator

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_TYPE_STORAGE = 1
_TYPE_STREAM = 2
_TYPE_ROOT = 5
_RED = 0
_BLACK = 1
_FORBIDDEN_NAME_CHARS = set("/\\:!")


class CfbError(ValueError):
    """The tree cannot be written as a compound file (bad name, too large)."""


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[_Entry] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str) -> tuple[int, str]:
    # [MS-CFB] 2.6.4: shorter names sort first, then a case-insensitive comparison.
    return (len(name.encode("utf-16-le")), name.upper())


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_CHARS or _FORBIDDEN_NAME_CHARS & set(name):
        raise CfbError(f"invalid compound file entry name {name!r}")


def _to_entries(storage: Storage) -> list[_Entry]:
    entries: list[_Entry] = []
    for name, value in storage.items():
        _check_name(name)
        if isinstance(value, bytes):
            entries.append(_Entry(name=name, kind=_TYPE_STREAM, data=value, size=len(value)))
        else:
            entries.append(_Entry(name=name, kind=_TYPE_STORAGE, children=_to_entries(value), start=0))
    names = [_sort_key(e.name) for e in entries]
    if len(set(names)) != len(names):
        raise CfbError("two entries in one storage differ only in case")
    return sorted(entries, key=lambda e: _sort_key(e.name))


def _number(entries: list[_Entry], flat: list[_Entry]) -> None:
    for entry in entries:
        entry.sid = len(flat)
        flat.append(entry)
        _number(entry.children, flat)


def _link_siblings(parent: _Entry) -> None:
    """Hang the parent's children in a balanced red-black tree and recurse into storages."""
    depths: dict[int, int] = {}

    def build(lo: int, hi: int, depth: int) -> int:
        if lo > hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = parent.children[mid]
        depths[mid] = depth
        node.left = build(lo, mid - 1, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        node.color = _BLACK
        return node.sid

    parent.child = build(0, len(parent.children) - 1, 0)
    # Midpoint splitting leaves every leaf at depth h or h-1: painting the deepest level red keeps the
    # black height equal on every path, which an all-black tree of uneven depth would not.
    deepest = max(depths.values(), default=0)
    if deepest:
        for index, depth in depths.items():
            if depth == deepest:
                parent.children[index].color = _RED
    for child in parent.children:
        if child.kind == _TYPE_STORAGE:
            _link_siblings(child)


def _sectors(size: int, unit: int) -> int:
    return -(-size // unit)


def _chain(table: list[int], first: int, count: int) -> None:
    for offset in range(count):
        table[first + offset] = first + offset + 1 if offset < count - 1 else ENDOFCHAIN


def _directory_entry(entry: _Entry) -> bytes:
    encoded = entry.name.encode("utf-16-le") + b"\x00\x00"
    return b"".join(
        (
            encoded.ljust(64, b"\x00"),
            struct.pack("<HBB", len(encoded), entry.kind, entry.color),
            struct.pack("<III", entry.left, entry.right, entry.child),
            bytes(16),  # CLSID
            struct.pack("<I", 0),  # state bits
            bytes(16),  # creation and modification FILETIMEs: zero keeps output reproducible
            struct.pack("<IQ", entry.start, entry.size),
        )
    )


_UNUSED_ENTRY = bytes(64) + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + bytes(48)


def _pad(data: bytes, unit: int) -> bytes:
    return data + bytes(-len(data) % unit)


def build_compound_file(tree: Storage) -> bytes:
    """Serialise a tree of storages and streams into a version 3 compound file."""
    root = _Entry(name="Root Entry", kind=_TYPE_ROOT, children=_to_entries(tree))
    flat: list[_Entry] = []
    _number([root], flat)
    _link_siblings(root)
    streams = [e for e in flat if e.kind == _TYPE_STREAM and e.size > 0]
    small = [e for e in streams if e.size < MINI_STREAM_CUTOFF]
    large = [e for e in streams if e.size >= MINI_STREAM_CUTOFF]

    # Mini stream: small streams packed in 64-byte mini sectors, chained in the mini FAT.
    mini_fat: list[int] = []
    mini_parts: list[bytes] = []
    for entry in small:
        count = _sectors(entry.size, MINI_SECTOR_SIZE)
        entry.start = len(mini_fat)
        mini_fat.extend([FREESECT] * count)
        _chain(mini_fat, entry.start, count)
        mini_parts.append(_pad(entry.data, MINI_SECTOR_SIZE))
    mini_stream = b"".join(mini_parts)
    root.size = len(mini_stream)

    dir_sectors = _sectors(len(flat) * DIR_ENTRY_SIZE, SECTOR_SIZE)
    mini_fat_sectors = _sectors(len(mini_fat) * 4, SECTOR_SIZE)
    mini_stream_sectors = _sectors(len(mini_stream), SECTOR_SIZE)
    large_sectors = [_sectors(e.size, SECTOR_SIZE) for e in large]
    payload_sectors = dir_sectors + mini_fat_sectors + mini_stream_sectors + sum(large_sectors)
    # The FAT describes every sector, its own included: grow it until it covers itself.
    fat_sectors = 1
    while fat_sectors * FAT_ENTRIES_PER_SECTOR < fat_sectors + payload_sectors:
        fat_sectors += 1
    if fat_sectors > HEADER_DIFAT_ENTRIES:
        raise CfbError("compound file too large for a header-only DIFAT")

    total = fat_sectors + payload_sectors
    fat = [FREESECT] * (fat_sectors * FAT_ENTRIES_PER_SECTOR)
    for sector in range(fat_sectors):
        fat[sector] = FATSECT
    next_sector = fat_sectors
    dir_start = next_sector
    _chain(fat, dir_start, dir_sectors)
    next_sector += dir_sectors
    mini_fat_start = next_sector if mini_fat_sectors else ENDOFCHAIN
    _chain(fat, next_sector, mini_fat_sectors)
    next_sector += mini_fat_sectors
    root.start = next_sector if mini_stream_sectors else ENDOFCHAIN
    _chain(fat, next_sector, mini_stream_sectors)
    next_sector += mini_stream_sectors
    for entry, count in zip(large, large_sectors, strict=True):
        entry.start = next_sector
        _chain(fat, next_sector, count)
        next_sector += count
    assert next_sector == total

    header = b"".join(
        (
            _SIGNATURE,
            bytes(16),  # header CLSID
            struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6),  # minor, major v3, byte order, sector shifts
            bytes(6),
            struct.pack("<III", 0, fat_sectors, dir_start),  # directory sector count is 0 in version 3
            struct.pack("<III", 0, MINI_STREAM_CUTOFF, mini_fat_start),
            struct.pack("<III", mini_fat_sectors, ENDOFCHAIN, 0),  # no DIFAT sectors
            struct.pack(
                f"<{HEADER_DIFAT_ENTRIES}I",
                *(list(range(fat_sectors)) + [FREESECT] * (HEADER_DIFAT_ENTRIES - fat_sectors)),
            ),
        )
    )
    mini_fat_table = mini_fat + [FREESECT] * (mini_fat_sectors * FAT_ENTRIES_PER_SECTOR - len(mini_fat))
    directory = b"".join(_directory_entry(e) for e in flat)
    directory += _UNUSED_ENTRY * (dir_sectors * SECTOR_SIZE // DIR_ENTRY_SIZE - len(flat))
    body = [
        struct.pack(f"<{len(fat)}I", *fat),
        directory,
        struct.pack(f"<{len(mini_fat_table)}I", *mini_fat_table),
        _pad(mini_stream, SECTOR_SIZE),
        *(_pad(e.data, SECTOR_SIZE) for e in large),
    ]
    result = header + b"".join(body)
    assert len(result) == SECTOR_SIZE * (1 + total)
    return result
