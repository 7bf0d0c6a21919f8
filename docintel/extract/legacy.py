"""Legacy Office formats (DOC, XLS, PPT) and RTF, read by converting them with LibreOffice headless.

LibreOffice turns each file into its OOXML counterpart (RTF becomes DOCX) and the OOXML extractors in
:mod:`docintel.extract.office` read the result, so every Word-like format yields the same text shape.
Each conversion runs in a private temporary folder with its own LibreOffice profile, so parallel
worker processes never share (and lock) a profile, and within its time budget: an overrun kills the
whole LibreOffice process group and raises :class:`ExtractionTimeout`.

The bytes are checked before LibreOffice sees them: LibreOffice imports anything it cannot recognise
as plain text, so garbage named ``.doc`` would otherwise "succeed".
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import olefile

from docintel.errors import ConfigError, CorruptDocument, EncryptedDocument, ExtractionTimeout, UnsupportedType
from docintel.extract.base import ExtractContext, Extractor, FileType
from docintel.extract.office import OLE_MAGIC, DocxExtractor, PptxExtractor, XlsxExtractor, is_encrypted_office
from docintel.models import Extraction

logger = logging.getLogger(__name__)

SOFFICE_NAMES = ("soffice", "libreoffice")
SOFFICE_INSTALL_HINT = (
    "LibreOffice is needed to read DOC, XLS, PPT and RTF files but 'soffice' was not found on PATH: "
    "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui"
)
# Flags for an unattended conversion: no UI, no first-start wizard, no crash-recovery prompt, no lock checks.
SOFFICE_FLAGS = ("--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck")
RTF_MAGIC = b"{\\rtf"


@dataclass(frozen=True)
class LegacyFormat:
    """A legacy format: how to recognise its bytes and what LibreOffice converts it to."""

    file_type: FileType
    suffix: str  # input file suffix: LibreOffice picks its import filter from it
    target: str  # --convert-to argument, also the output suffix
    ole_streams: tuple[str, ...]  # one of these streams must exist in the OLE container; empty for RTF


DOC = LegacyFormat(FileType.DOC, "doc", "docx", ("WordDocument",))
XLS = LegacyFormat(FileType.XLS, "xls", "xlsx", ("Workbook", "Book"))
PPT = LegacyFormat(FileType.PPT, "ppt", "pptx", ("PowerPoint Document",))
RTF = LegacyFormat(FileType.RTF, "rtf", "docx", ())
LEGACY_FORMATS = {fmt.file_type: fmt for fmt in (DOC, XLS, PPT, RTF)}


def find_soffice() -> str | None:
    """Path of the LibreOffice binary, or None when it is not installed."""
    for name in SOFFICE_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def check_legacy_bytes(content: bytes, fmt: LegacyFormat) -> None:
    """Raise EncryptedDocument or CorruptDocument unless the bytes look like a readable file of this format."""
    kind = fmt.suffix.upper()
    if fmt is RTF:
        if not content.lstrip(b"\r\n\t \xef\xbb\xbf")[:5] == RTF_MAGIC:
            raise CorruptDocument("RTF: does not start with '{\\rtf'")
        return
    if not content.startswith(OLE_MAGIC):
        raise CorruptDocument(f"{kind}: not an OLE (Office 97-2003) container")
    if is_encrypted_office(content):
        raise EncryptedDocument(f"{kind}: password-protected Office file")
    try:
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            found = any(ole.exists(stream) for stream in fmt.ole_streams)
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"{kind}: unreadable OLE container ({type(exc).__name__}: {exc})") from exc
    if not found:
        raise CorruptDocument(f"{kind}: OLE container without a {' or '.join(fmt.ole_streams)} stream")


def _remove_profile(folder: Path, owner_pid: int) -> None:
    # A forked child inherits this finaliser; only the process that made the profile may delete it.
    if os.getpid() == owner_pid:
        shutil.rmtree(folder, ignore_errors=True)


class LibreOfficeConverter:
    """Converts files with LibreOffice headless, one at a time per process, each within a time budget."""

    def __init__(self, soffice: str | None = None) -> None:
        self._soffice = soffice
        self._lock = threading.Lock()
        # One profile per process, created on first use and reused: a fresh profile costs ~0.5 s per file.
        self._profile: Path | None = None
        self._profile_pid: int | None = None

    def _binary(self) -> str:
        soffice = self._soffice or find_soffice()
        if not soffice:
            raise UnsupportedType(SOFFICE_INSTALL_HINT)
        return soffice

    def _profile_dir(self) -> Path:
        # A forked worker must not share its parent's profile: key it by process id.
        if self._profile is None or self._profile_pid != os.getpid() or not self._profile.parent.is_dir():
            self._profile = Path(tempfile.mkdtemp(prefix="docintel-lo-profile-")) / "profile"
            self._profile_pid = os.getpid()
            weakref.finalize(self, _remove_profile, self._profile.parent, os.getpid())
        return self._profile

    def _discard_profile(self) -> None:
        # After a kill the profile may be half-written or locked; the next conversion starts a new one.
        if self._profile is not None and self._profile_pid == os.getpid():
            shutil.rmtree(self._profile.parent, ignore_errors=True)
        self._profile = None

    def convert(self, content: bytes, suffix: str, target: str, timeout: float) -> bytes:
        """Convert bytes (a file with this suffix) to the target format; return the converted bytes."""
        soffice = self._binary()
        with self._lock, tempfile.TemporaryDirectory(prefix="docintel-lo-") as work:
            source = Path(work) / f"input.{suffix}"
            source.write_bytes(content)
            outdir = Path(work) / "out"
            profile = self._profile_dir()
            command = [
                soffice,
                *SOFFICE_FLAGS,
                f"-env:UserInstallation={profile.as_uri()}",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                str(source),
            ]
            started = time.monotonic()
            # Own session, so a timeout can kill soffice.bin and anything it spawned, not just the wrapper.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env={**os.environ, "HOME": work},
            )
            try:
                _, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):  # the group may already be gone
                    os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                self._discard_profile()
                raise ExtractionTimeout(f"LibreOffice conversion to {target} overran {timeout:g} s") from None
            seconds = time.monotonic() - started
            output = outdir / f"input.{target}"
            logger.debug("LibreOffice %s -> %s took %.2f s, exit %s", suffix, target, seconds, process.returncode)
            if not output.is_file() or output.stat().st_size == 0:
                if process.returncode != 0:
                    self._discard_profile()
                reason = stderr.decode("utf-8", "replace").strip().splitlines()
                detail = reason[-1] if reason else f"exit code {process.returncode}"
                raise CorruptDocument(f"{suffix.upper()}: LibreOffice produced no {target} output ({detail})")
            return output.read_bytes()


_converter = LibreOfficeConverter()


class LegacyOfficeExtractor:
    """Reads a legacy format by converting it with LibreOffice and reading the OOXML result."""

    version = "1.0"

    def __init__(self, file_type: FileType, converter: LibreOfficeConverter | None = None) -> None:
        if file_type not in LEGACY_FORMATS:
            known = ", ".join(sorted(t.value for t in LEGACY_FORMATS))
            raise ConfigError(f"no legacy conversion for file type '{file_type.value}' (known: {known})")
        self.format = LEGACY_FORMATS[file_type]
        self.name = file_type.value
        self._converter = converter or _converter
        readers: dict[str, Extractor] = {"docx": DocxExtractor(), "xlsx": XlsxExtractor(), "pptx": PptxExtractor()}
        self._reader = readers[self.format.target]

    def extract(self, content: bytes, context: ExtractContext) -> Extraction:
        """Check the bytes, convert them with LibreOffice, and extract the converted document."""
        check_legacy_bytes(content, self.format)
        converted = self._converter.convert(
            content, self.format.suffix, self.format.target, context.limits.convert_timeout_seconds
        )
        extraction = self._reader.extract(converted, context)
        return extraction.model_copy(update={"component": self.name})
