"""Local folders and files: the legacy network shares, mounted, before they move to SharePoint."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from docintel.errors import SourceAuthError, SourceNotFound, TooLarge
from docintel.models import Provenance

logger = logging.getLogger(__name__)

# Files that are never documents: OS litter and Office lock files ("~$report.docx").
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_IGNORED_PREFIXES = ("~$", "._")


def _is_ignored(name: str) -> bool:
    return name in _IGNORED_NAMES or name.startswith(_IGNORED_PREFIXES)


def _timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


class LocalFolderSource:
    """Walks files and folders on a local or mounted file system."""

    name = "local"

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [Path(root) for root in roots]
        for root in self.roots:
            if not root.exists():
                raise SourceNotFound(f"no such file or folder: {root}")

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

    def discover(self) -> Iterator[Provenance]:
        """Yield every regular file under the roots, in a stable (sorted) order."""
        for root in self.roots:
            if root.is_file():
                yield self._provenance(root, root)
                continue
            for folder, dirnames, filenames in os.walk(root, onerror=self._walk_error):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for filename in sorted(filenames):
                    path = Path(folder) / filename
                    if _is_ignored(filename) or not path.is_file() or path.is_symlink():
                        continue
                    yield self._provenance(path, root)

    @staticmethod
    def _walk_error(error: OSError) -> None:
        logger.warning("cannot list folder: %s", error.__class__.__name__)

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
