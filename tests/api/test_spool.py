"""The upload spool: bytes kept durably and privately until their job finishes, and swept when left behind."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from docintel.api.jobs import InvoiceJobStore, LocalInvoiceQueue
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.settings import ApiSettings
from docintel.api.spool import UploadSpool
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings

JOB = "0123456789abcdef0123456789abcdef"


def test_kept_bytes_come_back_with_their_name_and_are_private(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path / "spool")
    spool.put(JOB, b"%PDF-1.7\n\x00\xff binary\nlines", "Rechnung März.pdf")
    assert spool.get(JOB) == (b"%PDF-1.7\n\x00\xff binary\nlines", "Rechnung März.pdf")
    assert stat.S_IMODE(os.stat(tmp_path / "spool").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "spool" / f"{JOB}.upload").st_mode) == 0o600
    assert spool.job_ids() == [JOB]
    spool.discard(JOB)
    assert spool.get(JOB) is None
    spool.discard(JOB)  # twice is fine


@pytest.mark.parametrize("job_id", ["../etc/passwd", "A" * 32, "abc"], ids=["traversal", "upper", "short"])
def test_only_job_ids_name_files(tmp_path: Path, job_id: str) -> None:
    with pytest.raises(ValueError, match="not a job id"):
        UploadSpool(tmp_path).put(job_id, b"x", "a.pdf")


def test_a_damaged_file_is_not_resumed(tmp_path: Path) -> None:
    spool = UploadSpool(tmp_path)
    (tmp_path / f"{JOB}.upload").write_bytes(b"not json\n%PDF")
    assert spool.get(JOB) is None


def test_uploads_left_by_finished_or_unknown_jobs_are_swept(
    settings: Settings, store: CatalogueStore, api_key: NewApiKey, tmp_path: Path
) -> None:
    jobs = InvoiceJobStore(store, 60)
    api = ApiSettings(pool="thread", workers=1, spool_dir=tmp_path / "spool", heartbeat_timeout_seconds=0.01)
    queue = LocalInvoiceQueue(jobs, ApiKeyStore(store), settings, api)
    spool = UploadSpool(tmp_path / "spool")
    rows = {"api_key_id": api_key.client.key_id, "backend": queue.backend, "file_type": "pdf",
            "mime_type": "application/pdf", "size": 1, "sha256": "0" * 64, "callback_url": None}  # fmt: skip
    finished = jobs.create(**rows).id
    jobs.fail(finished, "CorruptDocument", "bad bytes")
    queued = jobs.create(**rows).id
    for job_id in (finished, queued, JOB):  # JOB has no row at all
        spool.put(job_id, b"%PDF", "a.pdf")
    time.sleep(0.05)  # older than the (test's) heartbeat timeout
    assert queue.sweep_spool() == 2
    assert spool.job_ids() == [queued]  # its job may still run: kept


def test_a_job_resumed_once_already_is_failed_not_resumed_again(
    settings: Settings, store: CatalogueStore, api_key: NewApiKey, tmp_path: Path
) -> None:
    jobs = InvoiceJobStore(store, 60)
    rows = {"api_key_id": api_key.client.key_id, "backend": "local:stoppedtwice", "file_type": "pdf",
            "mime_type": "application/pdf", "size": 4, "sha256": "0" * 64, "callback_url": None}  # fmt: skip
    job_id = jobs.create(**rows).id
    with store.engine.begin() as connection:
        connection.execute(
            t.invoice_jobs.update().where(t.invoice_jobs.c.id == job_id).values(status="running", resumes=1)
        )
    UploadSpool(tmp_path / "spool").put(job_id, b"%PDF", "a.pdf")
    api = ApiSettings(pool="thread", workers=1, spool_dir=tmp_path / "spool")
    queue = LocalInvoiceQueue(jobs, ApiKeyStore(store), settings, api)
    try:
        assert queue.take_over_stopped_servers() == (0, 1)
    finally:
        queue.close()
    job = jobs.get(job_id)
    assert job is not None and (job.status.value, job.error_type) == ("failed", "JobAbandoned")
    assert "stopped twice" in (job.error_message or "")
    assert UploadSpool(tmp_path / "spool").get(job_id) is None
