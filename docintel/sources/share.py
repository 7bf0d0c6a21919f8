"""Network shares (SMB/CIFS or NFS, mounted by the OS) as a crawled source: list one folder, read one file.

A ``kind: share`` entry of ``config/sources.yaml`` names one or more roots as the council knows them
(``\\\\san01\\teams``) and a path map saying where this machine mounts them (``/mnt/teams``), so workers that
mount the share at different places read the same files. Each root is crawled as one "drive" of the crawl
index (``share:<digest>``), its files and folders keyed by their file id (the inode number the server gives:
CIFS ``serverino``, NFS ``fileid``), so a file that is moved or renamed keeps its item and its catalogue record.

:func:`list_folder` is the crawler's only file-system primitive: one ``scandir`` and one ``lstat`` per entry,
reporting every problem (permission denied, a path longer than Windows allows, an undecodable name, a symbolic
link or junction, a loop, an entry vanishing mid-listing, sparse and huge files) as a :class:`ShareProblem`
instead of raising. :class:`ShareSource` reads one file's bytes for the fetch stage, with the size cap.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import mimetypes
import os
import re
import stat as stat_module
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from docintel.errors import ConfigError, SourceAuthError, SourceError, SourceNotFound, TooLarge
from docintel.models import Provenance

KIND = "share"
DRIVE_PREFIX = "share:"
# A file path Windows tools (and the SharePoint migration tool) refuse: MAX_PATH without the \\?\ prefix.
WINDOWS_MAX_PATH = 260
# Environment variable mapping roots to this machine's mounts, overriding sources.yaml:
# "\\san01\teams=/mnt/teams;\\san01\home=/mnt/home".
ENV_PATH_MAP = "DOCINTEL_SHARE_PATH_MAP"
# Files that are never documents: Office lock files, OS litter, temporary files.
DEFAULT_EXCLUDE_FILES = ["~$*", "._*", "Thumbs.db", "desktop.ini", ".DS_Store", "*.tmp"]
# An errno a read of a file some other program holds open (SMB sharing violation, busy executable).
_LOCKED_ERRNOS = {errno.EBUSY, errno.ETXTBSY, errno.EAGAIN}

ProblemKind = Literal[
    "permission_denied",  # a folder that cannot be listed, a file that cannot be read
    "path_too_long",  # longer than Windows' 260 characters (catalogued all the same)
    "undecodable_name",  # not valid UTF-8: catalogued under the name with replacement characters
    "symlink",  # a symbolic link or junction, reported and not followed
    "loop",  # a followed link leading back to one of its own ancestors: refused
    "vanished",  # gone between listing and reading
    "sparse",  # allocated space well under its size (a VM disk, a database file): read only up to the limit
    "huge",  # over limits.max_file_bytes: catalogued as TooLarge, never read
    "unreadable",  # any other OS error, with its errno name
]


class ShareSourceConfig(BaseModel):
    """One ``kind: share`` entry: roots, path map, include/exclude globs and link policy."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["share"]
    roots: list[str] = Field(min_length=1)
    # Root (or a prefix of it) as written in ``roots`` -> where this machine mounts it.
    path_map: dict[str, str] = Field(default_factory=dict)
    # Folder paths relative to the root ("Finance", "Finance/Old"); an excluded folder is not descended.
    include_folders: list[str] = Field(default_factory=lambda: ["*"])
    exclude_folders: list[str] = Field(default_factory=list)
    # File names or paths relative to the root.
    include_files: list[str] = Field(default_factory=lambda: ["*"])
    exclude_files: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE_FILES))
    # Follow symbolic links and junctions that lead outside every root of this source (a link inside the share is
    # crawled at its real place; a link back to an ancestor is a loop and always refused).
    follow_links: bool = False
    # Folders one crawl job lists before handing the rest of its subtree to other jobs (the sharding grain).
    shard_folders: int = Field(default=200, ge=1)


def _matches(value: str, patterns: Iterable[str]) -> bool:
    lowered = value.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def _normalise(root: str) -> str:
    return root.replace("\\", "/").rstrip("/")


def root_label(root: str) -> str:
    """A root as the folder-path prefix of its documents: ``\\\\san01\\teams`` -> ``san01/teams``."""
    return _normalise(root).lstrip("/") or "/"


def drive_id_for(source: str, root: str) -> str:
    """The crawl index's drive id for one root of a source."""
    return DRIVE_PREFIX + hashlib.sha256(f"{source}\x00{_normalise(root)}".encode()).hexdigest()[:24]


def parse_path_map(text: str) -> dict[str, str]:
    """``\\\\san01\\teams=/mnt/teams;...`` (from $DOCINTEL_SHARE_PATH_MAP) as a mapping."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(";"))):
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ConfigError(f"${ENV_PATH_MAP}: expected ROOT=MOUNT pairs separated by ';', got {pair!r}")
        mapping[source.strip()] = target.strip()
    return mapping


def map_root(root: str, path_map: Mapping[str, str]) -> Path:
    """Where this machine reads ``root``: the longest matching path-map prefix replaced (case-insensitive)."""
    wanted = _normalise(root)
    best: tuple[int, str] | None = None
    for prefix, target in path_map.items():
        norm = _normalise(prefix)
        under = wanted.lower() == norm.lower() or wanted.lower().startswith(norm.lower() + "/")
        if under and (best is None or len(norm) > best[0]):
            best = (len(norm), target.rstrip("/") + wanted[len(norm) :])
    return Path(best[1] if best else root)


def display_name(name: str) -> str:
    """A name as text: bytes that are not UTF-8 (``surrogateescape``) become U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


@dataclass(frozen=True)
class ShareProblem:
    """Something the share threw at one entry (or at the folder itself when ``name`` is empty)."""

    name: str
    problem: ProblemKind
    detail: str = ""


@dataclass(frozen=True)
class ShareEntry:
    """One entry of a folder listing: a file or a sub-folder, with what says whether it changed."""

    name: str  # as the OS gives it (may hold surrogate escapes)
    item_id: str
    is_folder: bool
    size: int | None = None
    mtime_ns: int | None = None
    # A real path to list instead of root/folders/name: the target of a followed link.
    target: str | None = None

    @property
    def version(self) -> str | None:
        """The content version compared with what the catalogue processed: size and mtime."""
        return None if self.is_folder else f"{self.size}:{self.mtime_ns}"


@dataclass
class FolderListing:
    """What one folder holds, what went wrong, and the file-system calls it took."""

    entries: list[ShareEntry] = field(default_factory=list)
    problems: list[ShareProblem] = field(default_factory=list)
    listed: bool = True  # False: the folder itself could not be listed (its old children must not be deleted)
    calls: int = 0


@dataclass(frozen=True)
class FolderFilter:
    """The include/exclude rules and limits that decide what a listing keeps."""

    include_folders: Sequence[str] = ("*",)
    exclude_folders: Sequence[str] = ()
    include_files: Sequence[str] = ("*",)
    exclude_files: Sequence[str] = tuple(DEFAULT_EXCLUDE_FILES)
    follow_links: bool = False
    max_file_bytes: int | None = None
    # Resolved real paths of every root of the source: links into them are not followed.
    roots: tuple[str, ...] = ()

    def wants_folder(self, relative: str) -> bool:
        """Whether to descend into a folder (path relative to the root)."""
        return _matches(relative, self.include_folders) and not _matches(relative, self.exclude_folders)

    def wants_file(self, name: str, relative: str) -> bool:
        """Whether a file is catalogued (its name and its path relative to the root)."""
        if not (_matches(relative, self.include_files) or _matches(name, self.include_files)):
            return False
        return not (_matches(relative, self.exclude_files) or _matches(name, self.exclude_files))


def _error_problem(name: str, error: OSError) -> ShareProblem:
    if isinstance(error, PermissionError):
        return ShareProblem(name, "permission_denied")
    if isinstance(error, FileNotFoundError):
        return ShareProblem(name, "vanished")
    if error.errno == errno.ELOOP:
        return ShareProblem(name, "loop")
    return ShareProblem(name, "unreadable", errno.errorcode.get(error.errno or 0, type(error).__name__))


def list_folder(
    path: Path,
    relative: str,
    windows_path_chars: int,
    rules: FolderFilter,
    *,
    ancestors: frozenset[tuple[int, int]] = frozenset(),
    id_prefix: str = "",
) -> FolderListing:
    """List ``path`` (``relative`` to its root) once; every problem is reported, none raised.

    ``windows_path_chars`` is the length of the folder's path as Windows spells it (root included), for the
    260-character check; ``ancestors`` the (device, inode) of every real folder above, for loop detection.
    """
    listing = FolderListing()
    listing.calls += 1
    try:
        with os.scandir(path) as scan:
            raw = list(scan)
    except OSError as error:
        listing.listed = False
        listing.problems.append(_error_problem("", error))
        return listing
    for entry in raw:
        name = entry.name
        shown = display_name(name)
        child = f"{relative}/{shown}" if relative else shown
        if shown != name:
            listing.problems.append(ShareProblem(name, "undecodable_name"))
        try:
            is_link = entry.is_symlink()
            info = entry.stat(follow_symlinks=False)
            listing.calls += 1
        except OSError as error:
            listing.problems.append(_error_problem(name, error))
            continue
        target: str | None = None
        if is_link:
            followed = _follow(path / name, rules, ancestors, listing, name)
            if followed is None:
                continue
            target, info = followed
        item_id = f"{id_prefix}{info.st_ino}"
        if target is not None:
            # A followed link's tree is reached through the link: its ids are scoped by it so that they never
            # collide with inodes of the share itself.
            item_id = f"{id_prefix}{entry.inode()}>{info.st_ino}"
        if stat_module.S_ISDIR(info.st_mode):
            if rules.wants_folder(child):
                listing.entries.append(ShareEntry(name, item_id, True, target=target))
            continue
        if not stat_module.S_ISREG(info.st_mode) or not rules.wants_file(shown, child):
            continue  # devices, sockets, FIFOs are never documents
        if windows_path_chars + 1 + len(shown) > WINDOWS_MAX_PATH:
            listing.problems.append(ShareProblem(name, "path_too_long", str(windows_path_chars + 1 + len(shown))))
        if rules.max_file_bytes is not None and info.st_size > rules.max_file_bytes:
            listing.problems.append(ShareProblem(name, "huge", str(info.st_size)))
        elif info.st_size > 0 and info.st_blocks * 512 < info.st_size // 2:
            listing.problems.append(ShareProblem(name, "sparse", str(info.st_size)))
        listing.entries.append(ShareEntry(name, item_id, False, info.st_size, info.st_mtime_ns, target))
    return listing


def _follow(
    link: Path, rules: FolderFilter, ancestors: frozenset[tuple[int, int]], listing: FolderListing, name: str
) -> tuple[str, os.stat_result] | None:
    """The target of a link worth following, or None (and the problem recorded)."""
    if not rules.follow_links:
        listing.problems.append(ShareProblem(name, "symlink"))
        return None
    try:
        real = os.path.realpath(link, strict=True)
        info = os.stat(real)
        listing.calls += 2
    except OSError as error:
        listing.problems.append(_error_problem(name, error))
        return None
    if (info.st_dev, info.st_ino) in ancestors:
        listing.problems.append(ShareProblem(name, "loop"))
        return None
    if any(real == root or real.startswith(root.rstrip("/") + "/") for root in rules.roots):
        listing.problems.append(ShareProblem(name, "symlink", "into the share: crawled at its real place"))
        return None
    return real, info


def mime_type_for(name: str) -> str | None:
    """The MIME type a file's extension suggests (images go straight to the OCR queue)."""
    return mimetypes.guess_type(display_name(name))[0]


class ShareSource:
    """Reads the files of one ``kind: share`` source on this machine, through its path map."""

    def __init__(self, config: ShareSourceConfig, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.name = config.name
        env = os.environ if environ is None else environ
        self.path_map = {**config.path_map, **parse_path_map(env.get(ENV_PATH_MAP, ""))}
        self.roots = {root_label(root): root for root in config.roots}

    def local_root(self, root: str) -> Path:
        """Where this machine reads a configured root."""
        return map_root(root, self.path_map)

    def rules(self, max_file_bytes: int | None = None) -> FolderFilter:
        """The listing rules of this source."""
        real_roots = tuple(os.path.realpath(self.local_root(root)) for root in self.config.roots)
        c = self.config
        return FolderFilter(
            tuple(c.include_folders),
            tuple(c.exclude_folders),
            tuple(c.include_files),
            tuple(c.exclude_files),
            c.follow_links,
            max_file_bytes,
            real_roots,
        )

    def discover(self) -> Iterator[Provenance]:
        """Not used: shares are enumerated by the crawler (``docintel crawl``)."""
        return iter(())

    def local_path(self, provenance: Provenance) -> Path:
        """The file behind a crawled document: its root's mount, its folders, its name."""
        label = next(
            (lbl for lbl in sorted(self.roots, key=len, reverse=True) if provenance.path.startswith(lbl)), None
        )
        if label is None:
            raise SourceNotFound(f"document {provenance.item_id} is not under a root of source {self.name!r}")
        folders = [part for part in provenance.path[len(label) :].split("/") if part]
        return _resolve(self.local_root(self.roots[label]), [*folders, provenance.name])

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """The file's bytes, refusing files over ``max_bytes`` before reading; the same file (id) or none."""
        path = self.local_path(provenance)
        try:
            with path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                # The file id is the last part of the item id (links scope ids as "<link>><id>/<id>...").
                wanted = re.split("[>/]", provenance.item_id or "")[-1]
                if wanted and str(info.st_ino) != wanted:
                    raise SourceNotFound(f"document {provenance.item_id}: another file took its place")
                if info.st_size > max_bytes:
                    raise TooLarge(
                        f"file is {info.st_size:,} bytes; the limit is {max_bytes:,} (limits.max_file_bytes)"
                    )
                content = handle.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise SourceNotFound(f"document {provenance.item_id}: vanished before it was read") from exc
        except PermissionError as exc:
            raise SourceAuthError(f"document {provenance.item_id}: permission denied or locked") from exc
        except OSError as exc:
            if exc.errno in _LOCKED_ERRNOS:
                raise SourceAuthError(f"document {provenance.item_id}: locked by another program") from exc
            raise SourceError(
                f"document {provenance.item_id}: read failed ({errno.errorcode.get(exc.errno or 0, '?')})"
            ) from exc
        if len(content) > max_bytes:  # grew while being read
            raise TooLarge(f"file grew past the limit of {max_bytes:,} bytes while being read")
        return content


def _resolve(base: Path, parts: Sequence[str]) -> Path:
    """``base/parts...``, finding components stored with replacement characters (undecodable names) by listing."""
    path = base
    for part in parts:
        candidate = path / part
        if "\ufffd" in part and not os.path.lexists(candidate):
            try:
                with os.scandir(path) as scan:
                    candidate = next((Path(e.path) for e in scan if display_name(e.name) == part), candidate)
            except OSError:
                pass
        path = candidate
    return path
