"""What the invoice API accepts and answers, as pydantic models (they also make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from docintel.invoices.models import InvoiceResult


class JobStatus(StrEnum):
    """Where an invoice job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"  # finished, and its result was cleared after the retention period

    @property
    def finished(self) -> bool:
        """True once the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.EXPIRED)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SharePointReference(_Model):
    """A file in SharePoint or OneDrive, as Power Automate's SharePoint connector names it."""

    drive_id: str = Field(description="Graph drive id of the document library or OneDrive")
    item_id: str = Field(description="Graph item id of the file")


class InvoiceSubmission(_Model):
    """A JSON submission: the file as base64 (Power Automate's file content), or a SharePoint reference."""

    content: str | None = Field(default=None, description="The file's bytes, base64-encoded (PDF or image)")
    name: str = Field(default="", max_length=255, description="File name, used only to break type ties")
    callback_url: str | None = Field(default=None, description="HTTPS URL that receives the signed result")
    sharepoint: SharePointReference | None = Field(default=None, description="Read the file from SharePoint")


class ErrorInfo(_Model):
    """Why a job failed: the error class and a safe message."""

    type: str
    message: str


class CallbackInfo(_Model):
    """Delivery state of the job's callback."""

    status: str = Field(description="pending, delivered, failed, or refused (an address callbacks may not reach)")
    attempts: int = 0
    detail: str | None = Field(default=None, description="Why a refused callback was not attempted")


class JobView(_Model):
    """An invoice job: its status and, once it succeeded, the extracted invoice."""

    id: str
    status: JobStatus
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    seconds: float | None = Field(default=None, description="Processing time, queueing excluded")
    file_type: str | None = None
    size: int | None = None
    result: InvoiceResult | None = None
    error: ErrorInfo | None = None
    callback: CallbackInfo | None = None
    corrected: bool = False
    expires_at: dt.datetime | None = Field(default=None, description="When the result will be cleared")


class CorrectionRequest(_Model):
    """Corrected field values for a finished job, keyed by field name (InvoiceId, InvoiceDate, VendorName...)."""

    fields: dict[str, str] = Field(
        min_length=1, description="Field name to its right value (dates ISO 8601, amounts as decimals)"
    )


class CorrectionReceipt(_Model):
    """What happened to submitted corrections."""

    job_id: str
    stored: bool
    profile: str | None = Field(default=None, description="Supplier profile the corrections refined, if any")


class ErrorBody(_Model):
    """The body of every error response."""

    error: str = Field(description="Error class, e.g. UnsupportedType, RateLimited")
    detail: str
