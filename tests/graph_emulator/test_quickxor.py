"""QuickXorHash against Microsoft's reference vector and rclone's published vectors (across the 160-byte fold)."""

from __future__ import annotations

import base64
import os

import pytest

from docintel.graph_emulator.quickxor import quick_xor_digest, quick_xor_hash


def reference(data: bytes) -> bytes:
    """The algorithm exactly as Microsoft's description states it, one byte at a time."""
    block = 0
    for position, value in enumerate(data):
        shifted = value << ((position * 11) % 160)
        block ^= (shifted & ((1 << 160) - 1)) | (shifted >> 160)
    digest = bytearray(block.to_bytes(20, "little"))
    for index, length_byte in enumerate(len(data).to_bytes(8, "little")):
        digest[12 + index] ^= length_byte
    return bytes(digest)


@pytest.mark.parametrize(
    ("data_b64", "expected"),
    [
        ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
        (base64.b64encode(b"hello world").decode(), "aCgDG9jwBhDc4Q1yawMZAAAAAAA="),
        ("2fuxhBJXtpWFe8dOfdGeHw==", "O9tHLAghgSvYohKFyMMxnNCHaHg="),
        ("T6LYJIfDh81JrAK309H2JMJTXis=", "zBTHrspn3mEcohlJdIUAbjGNaNg="),
        (
            "PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXv"
            "h83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/dEnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+"
            "loXEHTL0fqMeUcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3",
            "QX/YEpG0gDsmhEpCdWhsxDzsfVE=",
        ),
    ],
    ids=["empty", "1-byte", "hello-world", "16-bytes", "20-bytes", "222-bytes"],
)
def test_known_vectors(data_b64: str, expected: str) -> None:
    assert quick_xor_hash(base64.b64decode(data_b64)) == expected


@pytest.mark.parametrize("length", [1, 159, 160, 161, 319, 320, 1000, 65_536])
def test_folded_implementation_matches_the_bytewise_definition(length: int) -> None:
    data = os.urandom(length)
    assert quick_xor_digest(data) == reference(data)


@pytest.mark.parametrize(("left", "right"), [(b"a", b"b"), (b"ab", b"ba"), (b"x" * 160, b"x" * 161), (b"\x00", b"")])
def test_different_inputs_give_different_hashes(left: bytes, right: bytes) -> None:
    assert quick_xor_hash(left) != quick_xor_hash(right)
