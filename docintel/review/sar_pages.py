"""The subject access case pages of the review UI: open a case, review its documents, exempt, bundle, close.

Only the ``sar`` role and administrators reach these pages (anyone else gets a 403 page, and the refusal is not a
case event); every view and change is written to the case's audit trail. The requester's identifiers typed into
the open form go straight into keyed hashes (:mod:`docintel.sar.identifiers`): the page never shows them again, only
the initials. Passages are re-read (or taken from the kept, masked text) on request, with every finding masked,
and dropped with the response; the bundle is built in a temporary folder and sent as a download, never stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from docintel.catalogue.sar_cases import CONFIRMED, PENDING, REJECTED, SarCaseStore
from docintel.catalogue.store import CatalogueStore
from docintel.enrich.hashing import load_pii_key
from docintel.errors import DocintelError
from docintel.review.auth import Reviewer
from docintel.review.web import (
    PREFIX,
    Form,
    Reader,
    ReviewRuntime,
    Runtime,
    _base,
    _flash,
    _PageError,
    _redirect,
    _render,
    _ReviewRoute,
)
from docintel.sar.bundle import EXEMPTIONS, build_bundle
from docintel.sar.cases import extend_case, open_case, search_case, view
from docintel.sar.identifiers import ENTITY_TYPES
from docintel.subject_access import (
    SnippetUnavailable,
    catalogued_documents,
    kept_text,
    redacted_snippet,
    reread_text,
    text_findings,
)

log = logging.getLogger(__name__)

sar_router = APIRouter(prefix=PREFIX, route_class=_ReviewRoute, tags=["subject access cases"])

# Passages shown per document on its case page.
MAX_PASSAGES = 5
MAX_NOTE_CHARS = 1000
# Open-form fields (one value per line) -> identifier kind.
FORM_FIELDS = {kind: kind for kind in ENTITY_TYPES}


def require_sar(reviewer: Reader) -> Reviewer:
    """The ``sar`` role or an administrator."""
    if not reviewer.can_handle_sar:
        raise _PageError(403, "Not allowed", f"Your role ({reviewer.role.value}) cannot see subject access cases.")
    return reviewer


SarHandler = Annotated[Reviewer, Depends(require_sar)]


def _cases(runtime: ReviewRuntime) -> SarCaseStore:
    return SarCaseStore(runtime.store.catalogue)


def _catalogue(runtime: ReviewRuntime) -> CatalogueStore:
    return runtime.store.catalogue


def _key(request: Request) -> bytes:
    key = getattr(request.app.state, "pii_key", None)
    return key if isinstance(key, bytes) else load_pii_key()


def _case_url(request: Request, case_id: str) -> str:
    return f"{_base(request)}/sar/case?{urlencode({'id': case_id})}"


def _lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in str(form.get(name) or "").splitlines() if line.strip()]


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _PageError(400, "Bad date", f"{what} must be a date (YYYY-MM-DD).") from exc


@sar_router.get("/sar", response_class=HTMLResponse)
def sar_cases(request: Request, runtime: Runtime, handler: SarHandler) -> Response:
    """Every case, soonest deadline first, counting down; the form to open one."""
    rows = _cases(runtime).list_cases()
    cases = [{"row": row, "view": view(row)} for row in rows]
    context = {"cases": cases, "today": dt.datetime.now(dt.UTC).date().isoformat(), "kinds": list(FORM_FIELDS)}
    return _render(request, "sar_cases.html", context, reviewer=handler)


@sar_router.post("/sar/open")
def sar_open(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Open a case from the form (one identifier per line) and search for the requester straight away."""
    identifiers = {kind: _lines(form, field) for field, kind in FORM_FIELDS.items()}
    received = _date(str(form.get("received_on") or ""), "The date received")
    try:
        case_id = open_case(
            _catalogue(runtime),
            _key(request),
            {kind: values for kind, values in identifiers.items() if values},
            received_on=received,
            handler=str(form.get("handler") or handler.name)[:128],
            user=handler.name,
        )
    except DocintelError as exc:
        raise _PageError(400, "Case not opened", exc.message) from exc
    found = search_case(_catalogue(runtime), case_id, handler.name)
    strong = sum(1 for tie in found if tie.tie == "strong")
    _flash(request, f"{case_id} opened: {len(found)} documents found, {strong} strongly tied to the requester.")
    return _redirect(_case_url(request, case_id))


@sar_router.get("/sar/case", response_class=HTMLResponse)
def sar_case(request: Request, runtime: Runtime, handler: SarHandler) -> Response:
    """One case: deadline, documents with why, decisions, exemptions, audit trail, and the actions."""
    cases = _cases(runtime)
    case_id = request.query_params.get("id", "")
    row = cases.get(case_id)
    cases.audit(case_id, handler.name, "sar_view")
    exemptions: dict[str, list[dict[str, Any]]] = {}
    for exemption in cases.exemptions(case_id):
        exemptions.setdefault(exemption["document_id"], []).append(exemption)
    context = {
        "case": row,
        "view": view(row),
        "kinds": sorted({identifier["kind"] for identifier in cases.identifiers(case_id)}),
        "documents": cases.documents(case_id),
        "exemptions": exemptions,
        "exemption_labels": EXEMPTIONS,
        "trail": cases.audit_trail(case_id),
        "here": _case_url(request, case_id),
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
    }
    return _render(request, "sar_case.html", context, reviewer=handler)


def _passages(runtime: ReviewRuntime, case_id: str, document_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """Masked passages around the requester's mentions in a document, or why there are none."""
    store = _catalogue(runtime)
    mentions = [m for m in _cases(runtime).mentions(case_id, document_id) if (m["field"] or "text") == "text"]
    if not mentions:
        return [], "the requester is named only in the file name, folder or title"
    try:
        text = kept_text(store, document_id) or reread_text(
            document_id, catalogued_documents(store, [document_id]), runtime.reader.settings
        )
    except SnippetUnavailable as reason:
        return [], str(reason)
    except DocintelError as error:
        return [], f"the document could not be read again ({error.kind})"
    findings = text_findings(store, document_id)
    passages = [
        {"kind": m["kind"], "page": m["page"], "text": redacted_snippet(text, m["start"], m["end"], findings)}
        for m in mentions[:MAX_PASSAGES]
        if m["end"] <= len(text)
    ]
    return passages, None


@sar_router.get("/sar/document", response_class=HTMLResponse)
def sar_document(request: Request, runtime: Runtime, handler: SarHandler) -> Response:
    """A found document for a case: why it was found, the passages (masked), decide and exempt."""
    cases = _cases(runtime)
    case_id, document_id = request.query_params.get("case", ""), request.query_params.get("id", "")
    row = cases.get(case_id)
    found = next((doc for doc in cases.documents(case_id) if doc["document_id"] == document_id), None)
    if found is None:
        raise _PageError(404, "Not found", "That document was not found for this case.")
    cases.audit(case_id, handler.name, "sar_view", document_id=document_id)
    passages, unavailable = _passages(runtime, case_id, document_id)
    context = {
        "case": row,
        "doc": found,
        "passages": passages,
        "unavailable": unavailable,
        "exemptions": [e for e in cases.exemptions(case_id) if e["document_id"] == document_id],
        "exemption_labels": EXEMPTIONS,
        "case_url": _case_url(request, case_id),
    }
    return _render(request, "sar_document.html", context, reviewer=handler)


@sar_router.post("/sar/decide")
def sar_decide(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Confirm, reject or reopen a document for a case."""
    case_id, document_id = str(form.get("case") or ""), str(form.get("document_id") or "")
    decision = str(form.get("decision") or "")
    if decision not in (CONFIRMED, REJECTED, PENDING):
        raise _PageError(400, "Unknown decision", "Confirm or reject the document.")
    reason = str(form.get("reason") or "")[:MAX_NOTE_CHARS]
    _cases(runtime).decide(case_id, document_id, decision, handler.name, reason)
    _flash(request, f"Document {decision}.")
    return _redirect(_case_url(request, case_id))


@sar_router.post("/sar/exempt")
def sar_exempt(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Withhold a page (or the whole document) of a found document under an exemption."""
    case_id, document_id = str(form.get("case") or ""), str(form.get("document_id") or "")
    exemption = str(form.get("exemption") or "")
    if exemption not in EXEMPTIONS:
        raise _PageError(400, "Unknown exemption", f"Choose one of: {', '.join(EXEMPTIONS)}.")
    page_text = str(form.get("page") or "").strip()
    if page_text and (not page_text.isdigit() or int(page_text) < 1):
        raise _PageError(400, "Bad page", "The page is a number from 1, or empty for the whole document.")
    note = str(form.get("note") or "")[:MAX_NOTE_CHARS]
    page = int(page_text) if page_text else None
    _cases(runtime).add_exemption(case_id, document_id, page, exemption, note=note, user=handler.name)
    _flash(request, f"{'Whole document' if page is None else f'Page {page}'} withheld: {EXEMPTIONS[exemption]}.")
    return _redirect(_case_url(request, case_id))


@sar_router.post("/sar/search")
def sar_search(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Search again (after new crawls); decisions made are kept."""
    case_id = str(form.get("case") or "")
    found = search_case(_catalogue(runtime), case_id, handler.name)
    _flash(request, f"{len(found)} documents found.")
    return _redirect(_case_url(request, case_id))


@sar_router.post("/sar/extend")
def sar_extend(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Extend the deadline by two further months, with the reason."""
    case_id = str(form.get("case") or "")
    reason = str(form.get("reason") or "").strip()[:MAX_NOTE_CHARS]
    if not reason:
        raise _PageError(400, "No reason", "Say why the request is complex or numerous.")
    extended = extend_case(_catalogue(runtime), case_id, reason, handler.name)
    _flash(request, f"Deadline extended to {extended.isoformat()}.")
    return _redirect(_case_url(request, case_id))


@sar_router.post("/sar/bundle")
def sar_bundle(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Build the disclosure bundle and send it as a download (the PDF, or the ZIP of redacted copies)."""
    from docintel.enrich.analyzer import get_analyzer

    case_id = str(form.get("case") or "")
    as_zip = str(form.get("format") or "pdf") == "zip"
    settings = runtime.reader.settings
    with tempfile.TemporaryDirectory(prefix="docintel-sar-web-") as work:
        try:
            result = build_bundle(
                _catalogue(runtime),
                case_id,
                Path(work),
                analyzer=get_analyzer(settings),
                settings=settings,
                key=_key(request),
                user=handler.name,
                addressee=str(form.get("addressee") or "") or None,
            )
        except DocintelError as exc:
            raise _PageError(exc.http_status, "Bundle not built", exc.message) from exc
        path = result.zip_path if as_zip else result.pdf_path
        content = path.read_bytes()
    return Response(
        content,
        media_type="application/zip" if as_zip else "application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )


@sar_router.post("/sar/close")
def sar_close(request: Request, runtime: Runtime, handler: SarHandler, form: Form) -> Response:
    """Close the case with what was sent, how and when."""
    case_id = str(form.get("case") or "")
    how = str(form.get("how") or "").strip()[:MAX_NOTE_CHARS]
    if not how:
        raise _PageError(400, "How was it sent?", "Say how the response was sent.")
    sent_on = _date(str(form.get("sent_on") or ""), "The date sent")
    cases = _cases(runtime)
    confirmed = [doc["document_id"] for doc in cases.documents(case_id, CONFIRMED)]
    cases.close(case_id, sent_on, {"how": how, "documents": confirmed}, handler.name)
    _flash(request, f"{case_id} closed: sent {sent_on.isoformat()} by {how}.")
    return _redirect(_case_url(request, case_id))
