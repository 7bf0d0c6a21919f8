"""The invoice endpoints RPA flows call: submit an invoice, poll its job, send corrections.

    POST /v1/invoices                      multipart ``file`` or JSON ``content`` (base64); ``?wait=N``
    GET  /v1/jobs/{job_id}                 200 when finished, 202 (with Location) while queued or running
    POST /v1/invoices/{job_id}/corrections corrected field values, stored and fed to the supplier profiles

A 202 answer with a Location header is Power Automate's asynchronous pattern: the flow polls the
Location until it gets something other than 202, so a flow needs no loop of its own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from docintel.api.callbacks import check_callback_url
from docintel.api.errors import ApiError, BadRequest, Forbidden, JobConflict, JobNotFound, RateLimited, Unauthorized
from docintel.api.errors import UnsupportedMediaType as UnsupportedMediaTypeError
from docintel.api.jobs import InvoiceJob, InvoiceJobStore, LocalInvoiceQueue, RqInvoiceQueue
from docintel.api.keys import ApiClient, ApiKeyStore, Scope, key_prefix
from docintel.api.schemas import CorrectionReceipt, CorrectionRequest, ErrorBody, InvoiceSubmission, JobStatus, JobView
from docintel.api.security import RateLimiter
from docintel.api.settings import ApiSettings
from docintel.api.sharepoint import ITEM_NOT_FOUND_MESSAGE, ItemNotFound, SharePointReader
from docintel.catalogue.store import CatalogueStore
from docintel.errors import ConfigError, EmptyDocument, TooLarge, UnsupportedType
from docintel.extract.base import FileType
from docintel.extract.sniff import sniff
from docintel.invoices.extract import PROFILE_FOLDER
from docintel.invoices.models import FIELD_NAMES, InvoiceResult
from docintel.settings import Settings

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
# How often a request waiting on an rq job looks at the catalogue: quick at first, then easing off.
_POLL_FIRST_SECONDS = 0.02
_POLL_MAX_SECONDS = 0.25
# Retry-After sent with 202: a one-page invoice takes about a second.
_POLL_HINT_SECONDS = "1"
_ACCEPTED_TYPES = frozenset({FileType.PDF, FileType.IMAGE})
_JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
# Rate-limiter buckets of failed key checks, apart from the keys' own request budgets.
_FAILED_KEY_BUCKET = "failed-key:"

api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="The key issued by `docintel api-key create NAME`.",
)


@dataclass
class ApiContext:
    """Everything the endpoints use, built once by ``create_app``."""

    settings: Settings
    api: ApiSettings
    store: CatalogueStore
    keys: ApiKeyStore
    jobs: InvoiceJobStore
    queue: LocalInvoiceQueue | RqInvoiceQueue
    limiter: RateLimiter
    sharepoint: SharePointReader


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.docintel
    return context


def _refuse_key(context: ApiContext, presented: str | None, address: str) -> ApiError:
    """Log a failed key check (key id only) and count it against the address and the key id it named."""
    if not presented:
        return Unauthorized(f"send a valid API key in the {API_KEY_HEADER} header")
    prefix = key_prefix(presented)
    logger.warning("API key check failed for key id %s from %s", prefix, address)
    per_minute = context.api.failed_key_checks_per_minute
    waits = [
        context.limiter.hit(f"{_FAILED_KEY_BUCKET}ip:{address}", per_minute),
        context.limiter.hit(f"{_FAILED_KEY_BUCKET}key:{prefix}", per_minute),
    ]
    slowest = max((wait for wait in waits if wait is not None), default=None)
    if slowest is not None:
        return RateLimited("too many wrong API keys; wait before trying again", retry_after=slowest)
    return Unauthorized(f"send a valid API key in the {API_KEY_HEADER} header")


def _check_key(context: ApiContext, presented: str | None, address: str = "unknown") -> ApiClient:
    client = context.keys.authenticate(presented)
    if client is None:
        raise _refuse_key(context, presented, address)
    per_minute = client.rate_limit_per_minute or context.api.rate_limit_per_minute
    wait = context.limiter.hit(client.key_id, per_minute)
    if wait is not None:
        logger.info("API key %s over its rate limit of %d/min", client.key_id, per_minute)
        raise RateLimited(f"rate limit of {per_minute} requests per minute reached", retry_after=wait)
    return client


async def authenticated_client(
    request: Request, presented: Annotated[str | None, Security(api_key_scheme)]
) -> ApiClient:
    """The calling client, after its key was checked and the request counted against its rate limit."""
    address = request.client.host if request.client else "unknown"
    return await run_in_threadpool(_check_key, _context(request), presented, address)


def require_scope(scope: Scope) -> Callable[..., Awaitable[ApiClient]]:
    """A dependency: the authenticated client, or 403 when its key was not granted ``scope``."""

    async def scoped_client(request: Request, client: Annotated[ApiClient, Depends(authenticated_client)]) -> ApiClient:
        if not client.may(scope):
            logger.warning("API key %s refused: no %s scope", client.key_id, scope.value)
            raise Forbidden(f"this API key may not call this endpoint: it needs the '{scope.value}' scope")
        request.state.api_key_id = client.key_id  # for audit trails further down (subject access)
        return client

    return scoped_client


invoice_client = require_scope(Scope.INVOICES)


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Malformed request"),
        (401, "Missing, unknown or revoked API key"),
        (403, "The API key was not granted the scope this endpoint needs"),
        (413, "The file is over the size limit"),
        (415, "The file is not a PDF or an image, or the body is neither multipart nor JSON"),
        (422, "The file is empty, unreadable or the request fields are invalid"),
        (429, "Rate limit reached; see Retry-After"),
        (404, "No such job for this API key"),
        (501, "SharePoint references need Graph credentials this server does not have"),
        (502, "Microsoft Graph would not give the referenced SharePoint file"),
        (503, "The queue is full; see Retry-After"),
    )
}


def _inline_schema(model: type[InvoiceSubmission]) -> dict[str, Any]:
    """A model's JSON schema with its $defs resolved in place (the request body is described inline)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The invoice (PDF or image)"},
                        "callback_url": {"type": "string", "description": "HTTPS URL that receives the signed result"},
                    },
                }
            },
            "application/json": {"schema": _inline_schema(InvoiceSubmission)},
        },
    }
}

router = APIRouter(tags=["invoices"], responses={401: _ERRORS[401], 403: _ERRORS[403], 429: _ERRORS[429]})


async def _read_submission(request: Request, context: ApiContext, client: ApiClient) -> tuple[bytes, str, str | None]:
    """The file's bytes, its name and the callback URL, from a multipart or JSON body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("multipart body needs a 'file' part holding the invoice")
        content = await upload.read()
        callback = form.get("callback_url")
        return content, upload.filename or "", callback if isinstance(callback, str) and callback else None
    if media_type in ("application/json", ""):
        try:
            submission = InvoiceSubmission.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise BadRequest(f"JSON body: {where}: {first['msg']}") from None
        if submission.sharepoint is not None:
            if submission.content:
                raise BadRequest("send 'content' or 'sharepoint', not both")
            reference = submission.sharepoint
            context.sharepoint.check_available()
            if reference.drive_id not in client.drives:
                # Before any Graph call, and the very answer an absent item gets: a key learns nothing about
                # drives it was not given, not even whether an item exists there or what type it is.
                logger.info("API key %s named a SharePoint drive it is not allowed", client.key_id)
                raise ItemNotFound(ITEM_NOT_FOUND_MESSAGE)
            limit = context.api.max_upload_bytes
            content = await context.sharepoint.read(reference.drive_id, reference.item_id, limit)
            return content, submission.name, submission.callback_url
        if not submission.content:
            raise BadRequest("JSON body needs 'content' (the file, base64-encoded) or 'sharepoint'")
        if len(submission.content) > context.api.max_upload_bytes * 4 // 3 + 4:
            raise TooLarge(f"file is over the limit of {context.api.max_upload_bytes} bytes")
        try:
            content = base64.b64decode(submission.content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("'content' is not valid base64") from None
        return content, submission.name, submission.callback_url
    raise UnsupportedMediaTypeError(f"send multipart/form-data or application/json, not {media_type}")


def _check_file(content: bytes, name: str, limit: int) -> tuple[FileType, str]:
    if len(content) > limit:
        raise TooLarge(f"file is over the limit of {limit} bytes")
    if not content:
        raise EmptyDocument("the file is empty (0 bytes)")
    file_type, mime = sniff(content, name)
    if file_type not in _ACCEPTED_TYPES:
        raise UnsupportedType(f"an invoice must be a PDF or an image; this file is {mime}")
    return file_type, mime


async def _wait(context: ApiContext, job_id: str, future: Future[JobStatus] | None, seconds: float) -> None:
    if seconds <= 0:
        return
    if future is not None:
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout=seconds)
        except TimeoutError:
            pass
        except Exception:  # noqa: S110  # the runner logged it and recorded the job as failed
            pass
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    pause = _POLL_FIRST_SECONDS
    while loop.time() < deadline:
        job = await run_in_threadpool(context.jobs.get, job_id)
        if job is None or job.status.finished:
            return
        await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
        pause = min(pause * 2, _POLL_MAX_SECONDS)


def _answer(job: InvoiceJob, response: Response, request: Request) -> JobView:
    if not job.status.finished:
        response.status_code = 202
        response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
        response.headers["Retry-After"] = _POLL_HINT_SECONDS
    return job.view()


@router.post(
    "/v1/invoices",
    operation_id="SubmitInvoice",
    summary="Extract the fields of an invoice",
    description=(
        "Send the invoice as multipart `file`, as JSON with `content` (base64), or as JSON with a `sharepoint` "
        "reference (drive and item id, read by the server through Microsoft Graph). With `wait`, the "
        "result comes back inline when ready within that many seconds (200); otherwise the answer is "
        "202 with the job id and a Location to poll. A `callback_url` receives the result, signed."
    ),
    response_model=JobView,
    responses={
        202: {"model": JobView, "description": "Accepted; poll the Location header"},
        **_ERRORS,
        404: {"model": ErrorBody, "description": "No such SharePoint file (a 'sharepoint' reference)"},
    },
    openapi_extra=_SUBMIT_BODY,
)
async def submit_invoice(
    request: Request,
    response: Response,
    client: Annotated[ApiClient, Depends(invoice_client)],
    wait: Annotated[
        float, Query(ge=0, description="Seconds to wait for the result before answering 202 (capped by the server)")
    ] = 0,
) -> JobView:
    """Queue an invoice for extraction and answer with its job, finished if it was quick enough."""
    context = _context(request)
    content, name, callback_url = await _read_submission(request, context, client)
    if callback_url:
        callback_url = check_callback_url(callback_url, context.api)
    file_type, mime = await run_in_threadpool(_check_file, content, name, context.api.max_upload_bytes)
    job = await run_in_threadpool(
        lambda: context.jobs.create(
            api_key_id=client.key_id,
            backend=context.queue.backend,
            file_type=file_type.value,
            mime_type=mime,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            callback_url=callback_url,
        )
    )
    logger.info("invoice job %s queued for key %s (%s, %d bytes)", job.id, client.key_id, file_type.value, len(content))
    future: Future[JobStatus] | None = None
    try:
        if isinstance(context.queue, LocalInvoiceQueue):
            future = context.queue.submit(job.id, content, name)
        else:
            await run_in_threadpool(context.queue.submit, job.id, content, name)
    except Exception as error:
        await run_in_threadpool(context.jobs.fail, job.id, type(error).__name__, "the job could not be queued")
        raise
    await _wait(context, job.id, future, min(wait, context.api.max_wait_seconds))
    current = await run_in_threadpool(context.jobs.get, job.id)
    return _answer(current or job, response, request)


async def _own_job(context: ApiContext, job_id: str, client: ApiClient) -> InvoiceJob:
    """The job with this id submitted with the client's key; 404 for any other (it may be another client's)."""
    job = await run_in_threadpool(context.jobs.get, job_id, client.key_id)
    if job is None:
        raise JobNotFound(f"no invoice job {job_id} for this API key")
    return job


@router.get(
    "/v1/jobs/{job_id}",
    operation_id="GetInvoiceJob",
    summary="Status and result of an invoice job",
    description="200 once the job has finished (succeeded, failed or expired); 202 with Location while it runs.",
    response_model=JobView,
    responses={202: {"model": JobView, "description": "Still queued or running"}, 404: _ERRORS[404]},
)
async def get_job(
    request: Request,
    response: Response,
    job_id: Annotated[str, Path(pattern=_JOB_ID_PATTERN, description="The id returned by SubmitInvoice")],
    client: Annotated[ApiClient, Depends(invoice_client)],
) -> JobView:
    """A job submitted with the same API key."""
    context = _context(request)
    job = await _own_job(context, job_id, client)
    return _answer(job, response, request)


# apply_correction reads, changes and rewrites a profile file: one at a time, or two corrections race.
_profile_lock = threading.Lock()


def _apply_correction(context: ApiContext, job: InvoiceJob, corrections: dict[str, str]) -> str:
    """Feed corrections to the key's own supplier profiles; the name of the profile they refined.

    InvalidCorrection (422) for a value that is not valid for its field; nothing is stored then.
    """
    from docintel.invoices import apply_correction
    from docintel.invoices.profiles import key_profile_dir

    result = InvoiceResult.model_validate(job.result)
    shared = context.settings.config_path(PROFILE_FOLDER)
    try:
        with _profile_lock:
            profile = apply_correction(key_profile_dir(shared, job.api_key_id), result, corrections, shared_dir=shared)
    except ConfigError as error:
        raise BadRequest(error.message) from None
    return profile.name


@router.post(
    "/v1/invoices/{job_id}/corrections",
    operation_id="CorrectInvoice",
    summary="Send corrected field values for an invoice",
    description=(
        "Checks every value (Currency an ISO 4217 code, VendorTaxId a VAT number with valid check digits, dates "
        "YYYY-MM-DD, amounts as decimals, VendorName not a generic word), stores the corrections beside the job "
        "and refines this API key's own profile of the supplier; other keys' invoices are not affected."
    ),
    response_model=CorrectionReceipt,
    responses={
        404: _ERRORS[404],
        409: {"model": ErrorBody, "description": "The job has no result to correct"},
        422: {"model": ErrorBody, "description": "A corrected value is not valid for its field (named in detail)"},
    },
)
async def submit_corrections(
    request: Request,
    corrections: CorrectionRequest,
    job_id: Annotated[str, Path(pattern=_JOB_ID_PATTERN, description="The id returned by SubmitInvoice")],
    client: Annotated[ApiClient, Depends(invoice_client)],
) -> CorrectionReceipt:
    """Store corrections for a succeeded job and refine the supplier profile with them."""
    context = _context(request)
    job = await _own_job(context, job_id, client)
    if job.status != JobStatus.SUCCEEDED or job.result is None:
        raise JobConflict(f"job {job_id} is {job.status.value}; only a succeeded job's result can be corrected")
    unknown = sorted(set(corrections.fields) - set(FIELD_NAMES))
    if unknown:
        raise BadRequest(f"unknown invoice field(s) {unknown}; known: {', '.join(FIELD_NAMES)}")
    profile = await run_in_threadpool(_apply_correction, context, job, corrections.fields)
    # Stored only once every value passed its checks (a refused correction leaves no trace to learn from).
    await run_in_threadpool(context.jobs.save_corrections, job_id, corrections.model_dump())
    logger.info("corrections stored for invoice job %s (%d fields)", job_id, len(corrections.fields))
    return CorrectionReceipt(job_id=job_id, stored=True, profile=profile)
