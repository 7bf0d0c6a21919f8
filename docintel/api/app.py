"""The FastAPI application behind ``docintel serve``: the invoice API, and the review UI when installed.

Without Redis the server processes invoices itself on a bounded pool, so one machine is a whole install;
with ``DOCINTEL_REDIS_URL`` it puts them on the rq ``invoices`` queue for ``docintel worker --queues invoices``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from docintel import __version__
from docintel.api.errors import ApiError
from docintel.api.invoices import ApiContext
from docintel.api.invoices import router as invoice_router
from docintel.api.jobs import InvoiceJobStore, LocalInvoiceQueue, RqInvoiceQueue
from docintel.api.keys import ApiKeyStore, Scope
from docintel.api.security import BodySizeLimit, MemoryRateLimiter, RateLimiter, RedisRateLimiter, retry_after_header
from docintel.api.settings import ApiSettings, load_api_settings
from docintel.api.sharepoint import SharePointReader
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.errors import DocintelError
from docintel.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# Expired results are cleared this often (and once at start-up).
PURGE_INTERVAL_SECONDS = 300
# Room in a request body for the JSON or multipart wrapping around the file: base64 grows it by a third.
_BODY_OVERHEAD_BYTES = 64 * 1024

DESCRIPTION = """Structured fields from supplier invoices (PDF, scans, photos) for RPA flows.

Fields carry Azure prebuilt-invoice names (VendorName, InvoiceId, InvoiceDate, InvoiceTotal, Items...),
each with its value, source text, page, bounding box and confidence, plus arithmetic and VAT checks.
Authenticate with the `X-API-Key` header.
"""


def _error_response(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DocintelError)
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, ApiError) and retry_after is not None:
        headers["Retry-After"] = retry_after_header(retry_after)
    if error.http_status >= 500:
        logger.warning("request failed: %s", error.kind)
    return JSONResponse({"error": error.kind, "detail": error.message}, status_code=error.http_status, headers=headers)


def create_app(
    settings: Settings | None = None,
    *,
    store: CatalogueStore | None = None,
    redis_url: str | None = None,
    api_settings: ApiSettings | None = None,
) -> FastAPI:
    """Build the app: catalogue, key store, queue (rq when a Redis URL is given, else in-process)."""
    settings = settings or get_settings()
    api = api_settings or load_api_settings()
    redis_url = redis_url or api.redis_url
    owns_store = store is None
    catalogue = store or open_catalogue(settings.catalogue.url)
    keys = ApiKeyStore(catalogue)
    jobs = InvoiceJobStore(catalogue, api.result_ttl_seconds)
    queue: LocalInvoiceQueue | RqInvoiceQueue
    limiter: RateLimiter
    if redis_url:
        from redis import Redis

        redis = Redis.from_url(redis_url)
        queue = RqInvoiceQueue(redis, api)
        limiter = RedisRateLimiter(redis)
    else:
        queue = LocalInvoiceQueue(jobs, keys, settings, api)
        limiter = MemoryRateLimiter()
    context = ApiContext(settings, api, catalogue, keys, jobs, queue, limiter, SharePointReader.from_settings(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if isinstance(queue, LocalInvoiceQueue):
            await run_in_threadpool(queue.warm)
        purger = asyncio.create_task(_purge_forever(jobs))
        logger.info("invoice API ready (%s queue)", "rq" if redis_url else f"in-process {api.pool} pool")
        try:
            yield
        finally:
            purger.cancel()
            await run_in_threadpool(queue.close)
            if owns_store:
                catalogue.close()

    app = FastAPI(title="docintel invoices", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.docintel = context
    # Shared with other routers (the review UI): the catalogue and settings this app serves.
    app.state.store = catalogue
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, max_bytes=api.max_upload_bytes * 4 // 3 + _BODY_OVERHEAD_BYTES)
    app.add_exception_handler(DocintelError, _error_response)
    app.include_router(invoice_router)

    @app.get(
        "/healthz",
        tags=["service"],
        operation_id="Health",
        include_in_schema=True,
        responses={503: {"description": "The extraction pool cannot work (its processes could not be restarted)"}},
    )
    def health(response: Response) -> dict[str, Any]:
        """Liveness and the invoice queue's state: answers without a key; 503 when no invoice can be extracted."""
        body: dict[str, Any] = {"status": "ok", "version": __version__}
        if isinstance(queue, LocalInvoiceQueue):
            body["queue"] = queue.health()
            if not queue.working:
                body["status"] = "unavailable"
                response.status_code = 503
        else:
            body["queue"] = {"kind": "rq"}
        return body

    # Subject access search reveals where a person's data is: only keys granted the subject-access scope.
    from docintel.api.invoices import require_scope
    from docintel.subject_access import router as subject_access_router

    app.include_router(subject_access_router, dependencies=[Depends(require_scope(Scope.SUBJECT_ACCESS))])
    from docintel.review.web import router as review_router

    app.include_router(review_router)
    from docintel.review.sar_pages import sar_router

    app.include_router(sar_router)
    return app


async def _purge_forever(jobs: InvoiceJobStore) -> None:
    while True:
        try:
            await run_in_threadpool(jobs.purge_expired)
        except DocintelError as error:
            logger.warning("clearing expired invoice results failed: %s", error.kind)
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
