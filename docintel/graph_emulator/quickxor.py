"""Microsoft's QuickXorHash, the content hash OneDrive for Business and SharePoint report as ``quickXorHash``.

Each input byte is XORed into a 160-bit block at bit offset ``(i * 11) mod 160`` (rotating, so a byte
near the top wraps round to bit 0); the 64-bit little-endian length is then XORed into the last eight
bytes and the 20 bytes are base64-encoded. Because 11 and 160 are coprime, bytes 160 apart land on the
same offset, so the input is first folded into 160 bytes with big-integer XORs (C speed), leaving only
160 placements in Python whatever the input size.
"""

from __future__ import annotations

import base64

_WIDTH_BITS = 160
_WIDTH_BYTES = _WIDTH_BITS // 8
_SHIFT = 11
_MASK = (1 << _WIDTH_BITS) - 1
# Bit offset of each of the 160 folded byte positions.
_OFFSETS = tuple((position * _SHIFT) % _WIDTH_BITS for position in range(_WIDTH_BITS))


def quick_xor_digest(data: bytes) -> bytes:
    """The 20-byte QuickXorHash of ``data``."""
    folded = 0
    for start in range(0, len(data), _WIDTH_BITS):
        folded ^= int.from_bytes(data[start : start + _WIDTH_BITS], "little")
    folded_bytes = folded.to_bytes(_WIDTH_BITS, "little")
    block = 0
    for position, value in enumerate(folded_bytes[: min(len(data), _WIDTH_BITS)]):
        if value:
            shifted = value << _OFFSETS[position]
            block ^= (shifted & _MASK) | (shifted >> _WIDTH_BITS)
    digest = bytearray(block.to_bytes(_WIDTH_BYTES, "little"))
    for index, length_byte in enumerate(len(data).to_bytes(8, "little")):
        digest[_WIDTH_BYTES - 8 + index] ^= length_byte
    return bytes(digest)


def quick_xor_hash(data: bytes) -> str:
    """The QuickXorHash of ``data`` as Graph reports it: base64 of the 20-byte digest."""
    return base64.b64encode(quick_xor_digest(data)).decode("ascii")
