"""ZIP archives: members become child documents, after checks that stop zip bombs before they expand.

Limits come from :class:`~docintel.settings.LimitSettings`: nesting depth, member count, total
expanded size and the compression ratio of any one member. The declared sizes in the central
directory are checked first, then enforced again while reading, because a crafted archive can
declare a small size and inflate to gigabytes. Messages name members by their position, never by
name: member names can be personal data.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import logging
import platform
import zipfile
import zlib
from pathlib import PurePosixPath

from docintel.errors import ArchiveBomb, CorruptDocument, EmptyDocument, EncryptedDocument
from docintel.extract.base import ExtractContext
from docintel.models import Attachment, Extraction, Page

logger = logging.getLogger(__name__)

# Members are read in chunks of this size so a lying member is stopped within one chunk of its limit.
READ_CHUNK_BYTES = 1024 * 1024

# The ratio check only applies to members that expand past this size: small files of repeated bytes
# (a blank form, a padded text file) compress beyond any sane ratio yet cannot harm anyone.
RATIO_CHECK_MIN_BYTES = 1024 * 1024

ENCRYPTED_FLAG = 0x1  # general purpose bit 0: the member is encrypted (ZipCrypto or AES)

# Operating-system litter that is never a document.
_SKIPPED_PREFIXES = ("__MACOSX/",)
_SKIPPED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def _is_litter(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    return name.startswith(_SKIPPED_PREFIXES) or PurePosixPath(name).name in _SKIPPED_NAMES


def _modified(info: zipfile.ZipInfo) -> dt.datetime | None:
    try:
        return dt.datetime(*info.date_time)
    except (TypeError, ValueError):
        return None  # DOS dates of zero (month 0) appear in archives written by odd tools


class ZipExtractor:
    """Reads ZIP archives into a listing page and one attachment per member, within the archive limits."""

    name = "zip"
    version = platform.python_version()

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Check the archive against the limits, then read each member into an attachment."""
        if not content:
            raise EmptyDocument("file is empty (0 bytes)")
        limits = context.limits
        if context.depth >= limits.max_archive_depth:
            raise ArchiveBomb(
                f"archive nested too deep: at depth {context.depth}, limit {limits.max_archive_depth} levels"
            )
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise CorruptDocument(f"not a readable ZIP archive ({type(exc).__name__})") from exc
        with archive:
            return self._read(archive, context)

    def _read(self, archive: zipfile.ZipFile, context: ExtractContext) -> Extraction:
        limits = context.limits
        entries = archive.infolist()
        if len(entries) > limits.max_archive_members:
            raise ArchiveBomb(f"archive has {len(entries)} entries, limit {limits.max_archive_members}")
        members = [(index, info) for index, info in enumerate(entries, 1) if not info.is_dir() and not _is_litter(info)]
        declared_total = sum(info.file_size for _, info in members)
        if declared_total > limits.max_archive_expanded_bytes:
            raise ArchiveBomb(
                f"archive declares {declared_total} bytes expanded, limit {limits.max_archive_expanded_bytes}"
            )
        for index, info in members:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_CHECK_MIN_BYTES and ratio > limits.max_compression_ratio:
                raise ArchiveBomb(
                    f"member {index} compresses {ratio:.0f}:1 ({info.file_size} bytes from {info.compress_size}), "
                    f"limit {limits.max_compression_ratio:.0f}:1"
                )
        encrypted = [index for index, info in members if info.flag_bits & ENCRYPTED_FLAG]
        if members and len(encrypted) == len(members):
            raise EncryptedDocument(f"password-protected ZIP archive: all {len(members)} members are encrypted")
        notes: list[str] = []
        if encrypted:
            notes.append(f"{len(encrypted)} encrypted members skipped")
        attachments: list[Attachment] = []
        budget = limits.max_archive_expanded_bytes
        failed = 0
        for index, info in members:
            if info.flag_bits & ENCRYPTED_FLAG:
                continue
            try:
                data = _read_member(archive, info, index, budget, limits.max_archive_expanded_bytes)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
                # One damaged member (bad CRC, an unsupported method such as Deflate64) must not lose the others.
                logger.info("zip member %d unreadable: %s", index, type(exc).__name__)
                failed += 1
                continue
            budget -= len(data)
            attachments.append(Attachment(name=info.filename, content=data, modified_at=_modified(info)))
        if failed:
            if not attachments and failed == len(members) - len(encrypted):
                raise CorruptDocument(f"none of the {failed} ZIP members could be read")
            notes.append(f"{failed} unreadable members skipped")
        listing = "\n".join(info.filename for _, info in members)
        return Extraction(
            pages=[Page(number=1, text=listing)],
            attachments=attachments,
            metadata={"members": str(len(members)), "expanded_bytes": str(declared_total)},
            component=self.name,
            notes=notes,
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, index: int, budget: int, limit: int) -> bytes:
    """Read one member in chunks, stopping as soon as it passes its declared size or the remaining budget."""
    # zipfile trusts the declared size and silently stops there (then fails the CRC check); declaring one
    # byte more lets us see whether the data really goes on past what the header claims. zipfile would
    # check the CRC at that false end, so we switch its check off and do it ourselves below.
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    probe.CRC = None  # type: ignore[assignment]
    chunks: list[bytes] = []
    size = 0
    crc = 0
    with archive.open(probe) as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            size += len(chunk)
            crc = zlib.crc32(chunk, crc)
            if size > info.file_size:
                raise ArchiveBomb(
                    f"member {index} expands past the {info.file_size} bytes its header declares: sizes are forged"
                )
            if size > budget:
                raise ArchiveBomb(f"archive expands past its limit of {limit} bytes while reading member {index}")
            chunks.append(chunk)
    if crc != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC-32 for member {index}")
    return b"".join(chunks)
