"""Local folders and files: the legacy network shares, mounted, before they move to SharePoint.

Only regular files are read. Every other entry met on the way is passed over and said (``skipped``), never
dropped silently: symbolic links (to files or folders, dangling, or looping back), special files (fifos,
sockets, devices) and files or folders this process may not read. Links are not followed: a link on a share
can lead outside it, or to a file catalogued already under its own path, or round in a loop; whoever wants
the target read scans the target itself.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import logging
import os
import stat as stat_mode
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from docintel.errors import (
    PassedOver,
    PermissionDenied,
    SourceAuthError,
    SourceNotFound,
    SpecialFile,
    SymbolicLink,
    TooLarge,
)
from docintel.models import Provenance

logger = logging.getLogger(__name__)

# Files that are never documents: OS litter and Office lock files ("~$report.docx").
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_IGNORED_PREFIXES = ("~$", "._")


def _is_ignored(name: str) -> bool:
    return name in _IGNORED_NAMES or name.startswith(_IGNORED_PREFIXES)


def _timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@dataclass(frozen=True)
class PassedOverEntry:
    """An entry discovery met and did not yield (a link, a fifo, an unreadable file or folder), and why."""

    provenance: Provenance
    error: PassedOver


def _link_error(link: Path) -> SymbolicLink:
    """Why this symbolic link is passed over: its target's kind, never its target's path (names hold people)."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # Python 3.11 raises this for a loop of links
        return SymbolicLink("symbolic link loop: the link leads back to itself; not followed")
    except FileNotFoundError:
        return SymbolicLink("dangling symbolic link: its target does not exist; not followed")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return SymbolicLink("symbolic link loop: the link leads back to itself; not followed")
        return SymbolicLink(f"symbolic link whose target cannot be reached ({type(exc).__name__}); not followed")
    if target.is_dir():
        folder = link.parent.resolve()
        if folder == target or target in folder.parents:
            return SymbolicLink("symbolic link loop: it points at a folder above itself; not followed")
        return SymbolicLink("symbolic link to a folder; not followed (scan the folder itself to read it)")
    if not target.is_file():
        return SymbolicLink("symbolic link to a special file; not followed")
    return SymbolicLink("symbolic link to a file; not followed (scan the file itself to read it)")


def _special_kind(mode: int) -> str:
    if stat_mode.S_ISFIFO(mode):
        return "a fifo (named pipe)"
    if stat_mode.S_ISSOCK(mode):
        return "a socket"
    if stat_mode.S_ISCHR(mode) or stat_mode.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


class LocalFolderSource:
    """Walks files and folders on a local or mounted file system."""

    name = "local"

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [Path(root) for root in roots]
        for root in self.roots:
            if not root.exists():
                raise SourceNotFound(f"no such file or folder: {root}")
        #: entries the last discover() passed over, in the order met (filled as discovery runs)
        self.skipped: list[PassedOverEntry] = []

    def _provenance(self, path: Path, root: Path) -> Provenance:
        stat = path.stat()
        base = root if root.is_dir() else root.parent
        folder = path.parent.relative_to(base).as_posix() if path.parent != base else ""
        prefix = base.name if base.name else base.as_posix()
        return Provenance(
            source=self.name,
            locator=str(path.resolve()),
            name=path.name,
            path=f"{prefix}/{folder}".rstrip("/"),
            size=stat.st_size,
            created_at=_timestamp(getattr(stat, "st_birthtime", stat.st_ctime)),
            modified_at=_timestamp(stat.st_mtime),
        )

    def _entry_provenance(self, path: Path, root: Path) -> Provenance:
        """Provenance of the entry itself (the link, not its target): nothing is followed, nothing is read."""
        base = root if root.is_dir() else root.parent
        if path == base:  # the root folder itself could not be listed
            base = base.parent
        folder = path.parent.relative_to(base).as_posix() if path.parent != base else ""
        prefix = base.name if base.name else base.as_posix()
        try:
            modified: dt.datetime | None = _timestamp(path.lstat().st_mtime)
        except OSError:
            modified = None
        return Provenance(
            source=self.name,
            locator=os.path.abspath(path),  # the link's own path: resolving it would follow it
            name=path.name,
            path=f"{prefix}/{folder}".rstrip("/"),
            modified_at=modified,
        )

    def _pass_over(self, path: Path, root: Path, error: PassedOver) -> None:
        self.skipped.append(PassedOverEntry(self._entry_provenance(path, root), error))
        logger.info("passed over a folder entry: %s", error.kind)

    def discover(self) -> Iterator[Provenance]:
        """Yield every regular file under the roots, in a stable (sorted) order; say what else was met in ``skipped``.

        A root named on the command line is taken as given, link or not: only links met inside are passed over.
        """
        self.skipped = []
        for root in self.roots:
            if root.is_file():
                yield self._provenance(root, root)
                continue
            for folder, dirnames, filenames in os.walk(root, onerror=functools.partial(self._walk_error, root=root)):
                for dirname in sorted(dirnames):
                    if not dirname.startswith(".") and (Path(folder) / dirname).is_symlink():
                        self._pass_over(Path(folder) / dirname, root, _link_error(Path(folder) / dirname))
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and not (Path(folder) / d).is_symlink()
                )
                for filename in sorted(filenames):
                    path = Path(folder) / filename
                    if _is_ignored(filename):
                        continue
                    error = self._unreadable(path)
                    if error is not None:
                        self._pass_over(path, root, error)
                        continue
                    yield self._provenance(path, root)

    @staticmethod
    def _unreadable(path: Path) -> PassedOver | None:
        """Why a folder entry cannot be read as a document, or None when it is a readable regular file."""
        if path.is_symlink():
            return _link_error(path)
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return None  # gone since the folder was listed: fetch records it as vanished
        except OSError as exc:
            return PermissionDenied(f"the file cannot be examined ({type(exc).__name__})")
        if not stat_mode.S_ISREG(mode):
            return SpecialFile(f"special file: {_special_kind(mode)}, not a document; not read")
        if not os.access(path, os.R_OK):
            return PermissionDenied("permission denied: this account may not read the file")
        return None

    def _walk_error(self, error: OSError, root: Path) -> None:
        """A folder os.walk could not list: passed over and said, with the reason (permission denied most often)."""
        logger.warning("cannot list folder: %s", error.__class__.__name__)
        if error.filename is None:
            return
        folder = Path(os.fsdecode(error.filename))
        if isinstance(error, FileNotFoundError):
            return  # removed while the walk ran: nothing left to say
        if isinstance(error, PermissionError):
            reason: PassedOver = PermissionDenied("permission denied: this account may not list the folder")
        else:
            reason = PassedOver(f"the folder cannot be listed ({type(error).__name__})")
        self._pass_over(folder, root, reason)

    def fetch(self, provenance: Provenance, max_bytes: int) -> bytes:
        """Read the file, refusing files over ``max_bytes`` before reading them."""
        path = Path(provenance.locator)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise TooLarge(f"file is {size:,} bytes; the limit is {max_bytes:,} (limits.max_file_bytes)")
            with path.open("rb") as handle:
                return handle.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise SourceNotFound(f"file vanished before it was read: {provenance.name}") from exc
        except PermissionError as exc:
            raise SourceAuthError(f"permission denied reading {provenance.name}") from exc
