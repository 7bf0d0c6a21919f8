"""Uploaded invoice bytes kept on disk until their job finishes, so a server restarted after a crash resumes the job.

Without Redis the bytes of a queued job lived only in the server's memory, so a ``kill -9`` lost every
acknowledged job. The in-process queue writes each upload here (fsync'd) before the client is answered, and
deletes it once the job's outcome is stored. The files hold supplier bank details: the folder is 0700, the files
0600, and nothing stays longer than its job. Point every server that shares a catalogue at the same folder
(a shared volume) if one server is to resume another's jobs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_SUFFIX = ".upload"
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadSpool:
    """One file per queued job, named by job id: a JSON header line (the file name), then the bytes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)

    def _path(self, job_id: str) -> Path:
        if not _JOB_ID.match(job_id):
            raise ValueError("not a job id")
        return self.folder / f"{job_id}{_SUFFIX}"

    def put(self, job_id: str, content: bytes, name: str) -> None:
        """Keep a job's bytes durably: written to a temporary file, flushed to disk, then renamed into place."""
        path = self._path(job_id)
        temporary = path.with_suffix(".partial")
        header = json.dumps({"name": name}).encode("utf-8") + b"\n"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(header)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a power cut
        finally:
            os.close(folder)

    def get(self, job_id: str) -> tuple[bytes, str] | None:
        """A kept job's bytes and file name, or None when they are not here."""
        try:
            data = self._path(job_id).read_bytes()
        except FileNotFoundError:
            return None
        header, _, content = data.partition(b"\n")
        try:
            name = str(json.loads(header)["name"])
        except (ValueError, KeyError, TypeError):
            logger.warning("spooled upload of job %s is damaged; it cannot be resumed", job_id)
            return None
        return content, name

    def discard(self, job_id: str) -> None:
        """Delete a job's bytes (its outcome is stored, or it cannot be resumed)."""
        self._path(job_id).unlink(missing_ok=True)

    def job_ids(self, older_than_seconds: float = 0.0) -> list[str]:
        """Ids of the jobs with bytes here, optionally only those written more than ``older_than_seconds`` ago."""
        cutoff = time.time() - older_than_seconds
        ids = []
        for path in self.folder.glob(f"*{_SUFFIX}"):
            try:
                if path.stat().st_mtime <= cutoff and _JOB_ID.match(path.stem):
                    ids.append(path.stem)
            except FileNotFoundError:
                continue  # finished and discarded meanwhile
        return sorted(ids)
