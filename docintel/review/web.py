"""The review pages served by ``docintel serve``: dashboard, queue, document, holds, audit trail, sign-in.

``router`` is a FastAPI :class:`APIRouter` with its own ``/review`` prefix; the app factory includes it as
it is. It finds its catalogue and settings on the app: :func:`configure_review` sets them explicitly (tests,
the app factory); otherwise the first request uses ``app.state.store`` / ``app.state.settings`` when the
factory set them, else opens the catalogue named by :func:`docintel.settings.get_settings`.

Pages are rendered on the server (Jinja2, autoescaped: names and paths are hostile input) and load nothing
from elsewhere; a Content-Security-Policy forbids scripts. POST forms carry a per-session CSRF token.
Anyone signed in may look; reviewers and administrators decide; only administrators release holds.
Governance signals (duplicates, near-duplicates, wrong place, stale) come from the ``document_signals``
table, which :class:`~docintel.governance.SignalCache` rebuilds when the catalogue has changed.
An unauthenticated request gets the sign-in page with status 401, a forbidden one an explanation with 403.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import FormData

from classifiers.config import SignalSettings, load_classifier_config
from docintel import __version__
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.catalogue.triage import set_override
from docintel.errors import ConfigError, DocintelError
from docintel.governance import SignalCache
from docintel.retention import RetentionSchedule, schedule_from_settings
from docintel.review.auth import (
    FailedSignIns,
    Reviewer,
    ReviewSettings,
    SessionCodec,
    load_review_settings,
    load_session_secret,
    new_csrf_token,
    tokens_match,
)
from docintel.review.preview import ConnectorFor, DocumentReader, explanation_for_reviewers
from docintel.review.store import (
    AUDIT_ACTIONS,
    CONFIDENCE_BUCKETS,
    UNCLASSIFIED_FILTER,
    Action,
    AuditFilter,
    DisposalWindow,
    FlagFilter,
    HoldFilter,
    HoldScope,
    QueueFilter,
    ReviewState,
    ReviewStore,
    SignalFilter,
)
from docintel.settings import Settings, get_settings
from docintel.triage import (
    LEAVE_BEHIND,
    MIGRATION_MAP_FILE,
    MigrationMap,
    Recommendation,
    TriageResult,
    human_size,
    load_migration_map,
    triage_catalogue,
)

log = logging.getLogger(__name__)

PREFIX = "/review"
# No scripts at all; inline styles only (chart bar widths); forms may post only back here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
AUDIT_PAGE_SIZE = 100
# Beyond any real catalogue's pages (a billion documents at 10 a page), and far inside a 64-bit OFFSET.
MAX_PAGE_NUMBER = 100_000_000
MAX_REASON_CHARS = 1000
_STATE_KEY = "docintel_review"
_SETUP_LOCK = threading.Lock()


@dataclass
class ReviewRuntime:
    """What the review pages need: the review store, the schedule, settings and the session codec."""

    store: ReviewStore
    schedule: RetentionSchedule
    settings: ReviewSettings
    codec: SessionCodec
    signals: SignalCache
    failed_sign_ins: FailedSignIns
    reader: DocumentReader
    # config/migration_map.yaml: the migration triage page and the dashboard's triage chart need it.
    migration_map_path: Path | None = None

    def fresh_signals(self) -> None:
        """Rebuild the governance signals table if the catalogue changed since it was built."""
        self.signals.ensure_fresh(self.store.catalogue)

    @property
    def class_titles(self) -> dict[str, str]:
        """Class id -> title, in schedule order."""
        return {cls.id: cls.title for cls in self.schedule.classes}


def configure_review(
    app: FastAPI,
    *,
    store: CatalogueStore,
    settings: Settings | None = None,
    review_settings: ReviewSettings | None = None,
    secret: str | None = None,
    schedule: RetentionSchedule | None = None,
    signal_settings: SignalSettings | None = None,
    connector_for: ConnectorFor | None = None,
) -> ReviewRuntime:
    """Give the review pages of ``app`` their catalogue, schedule and settings (else found on first request).

    ``connector_for`` fetches a document again for its page (default: the local file system, or the Graph
    source of that name in sources.yaml).
    """
    settings = settings or get_settings()
    schedule = schedule or schedule_from_settings(settings)
    review_settings = review_settings or load_review_settings(settings.config_dir)
    runtime = ReviewRuntime(
        store=ReviewStore(store),
        schedule=schedule,
        settings=review_settings,
        codec=SessionCodec(secret or load_session_secret(), 0),
        signals=SignalCache(signal_settings or load_classifier_config(settings.config_dir).signals),
        failed_sign_ins=FailedSignIns(
            review_settings.max_failed_sign_ins, review_settings.failed_sign_in_window_seconds
        ),
        reader=DocumentReader(
            settings,
            schedule,
            pages=review_settings.preview_pages,
            max_pixels=review_settings.preview_max_pixels,
            connector_for=connector_for,
        ),
    )
    runtime.codec.max_age_seconds = runtime.settings.session_max_age_seconds
    runtime.migration_map_path = settings.config_path(MIGRATION_MAP_FILE)
    setattr(app.state, _STATE_KEY, runtime)
    return runtime


def _runtime(request: Request) -> ReviewRuntime:
    app = request.app
    runtime: ReviewRuntime | None = getattr(app.state, _STATE_KEY, None)
    if runtime is None:
        with _SETUP_LOCK:
            runtime = getattr(app.state, _STATE_KEY, None)
            if runtime is None:
                settings = getattr(app.state, "settings", None) or get_settings()
                store = getattr(app.state, "store", None) or open_catalogue(settings.catalogue.url)
                runtime = configure_review(app, store=store, settings=settings)
    return runtime


Runtime = Annotated[ReviewRuntime, Depends(_runtime)]


# -- errors turned into pages -----------------------------------------------------------------------


class _PageError(Exception):
    """A request that ends in an explanatory page with this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class _SignInRequired(_PageError):
    def __init__(self) -> None:
        super().__init__(401, "Sign in", "Sign in to use the review pages.")


class _ReviewRoute(APIRoute):
    """Runs a review endpoint, turning page errors into pages and saving a changed session cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint wrapped with error pages, the session cookie and security headers."""
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except _SignInRequired as exc:
                response = _sign_in_page(request, status=exc.status)
            except _PageError as exc:
                response = _error_page(request, exc)
            except DocintelError as exc:
                response = _error_page(request, _PageError(exc.http_status, "Something went wrong", exc.message))
            _store_session(request, response)
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["Cache-Control"] = "no-store"
            return response

        return wrapped


router = APIRouter(prefix=PREFIX, route_class=_ReviewRoute, tags=["review"])


# -- sessions and sign-in ---------------------------------------------------------------------------


def _session(request: Request) -> dict[str, Any]:
    """The request's session (a dict), loaded once from the signed cookie."""
    if not hasattr(request.state, "review_session"):
        runtime = _runtime(request)
        loaded = runtime.codec.loads(request.cookies.get(runtime.settings.session_cookie))
        request.state.review_session = loaded
        request.state.review_session_loaded = dict(loaded)
    session: dict[str, Any] = request.state.review_session
    return session


def _csrf_token(request: Request) -> str:
    session = _session(request)
    if not session.get("csrf"):
        session["csrf"] = new_csrf_token()
    return str(session["csrf"])


def _store_session(request: Request, response: Response) -> None:
    if not hasattr(request.state, "review_session"):
        return
    session: dict[str, Any] = request.state.review_session
    if session == request.state.review_session_loaded:
        return
    runtime = _runtime(request)
    response.set_cookie(
        runtime.settings.session_cookie,
        runtime.codec.dumps(session),
        max_age=runtime.settings.session_max_age_seconds,
        path=PREFIX,
        httponly=True,
        secure=runtime.settings.secure_cookies,
        samesite="lax",
    )


def _flash(request: Request, message: str, kind: str = "ok") -> None:
    session = _session(request)
    session["flash"] = [*session.get("flash", []), [kind, message]][-5:]


def _proxy_reviewer(request: Request, runtime: ReviewRuntime) -> Reviewer | None:
    settings = runtime.settings
    if not settings.trusted_header_enabled:
        return None
    client = request.client.host if request.client else ""
    if not settings.is_trusted_proxy(client):
        return None
    name = (request.headers.get(settings.trusted_header_name) or "").strip()
    if not name:
        return None
    account = runtime.store.account(name)
    if account is None:
        # Names are not case-sensitive: "Alice" and "alice" from the proxy are one person in the audit trail.
        return Reviewer(name.lower(), settings.trusted_header_default_role, "proxy")
    return None if account.disabled else Reviewer(account.name, account.role, "proxy")


def current_reviewer(request: Request, runtime: Runtime) -> Reviewer | None:
    """Who is signed in: the proxy's header when trusted, else the session's account (role read afresh)."""
    proxied = _proxy_reviewer(request, runtime)
    if proxied is not None:
        return proxied
    session = _session(request)
    name = session.get("user")
    if not name:
        return None
    account = runtime.store.account(str(name))
    if account is None or account.disabled:
        return None  # deleted or disabled since signing in
    if session.get("sv") != account.session_version:
        return None  # signed out, or the password changed, since this cookie was issued
    return Reviewer(account.name, account.role, "password")


def require_reader(reviewer: Annotated[Reviewer | None, Depends(current_reviewer)]) -> Reviewer:
    """Anyone signed in."""
    if reviewer is None:
        raise _SignInRequired()
    return reviewer


def require_decider(reviewer: Annotated[Reviewer, Depends(require_reader)]) -> Reviewer:
    """A reviewer or administrator."""
    if not reviewer.can_decide:
        raise _PageError(
            403, "Not allowed", f"Your role ({reviewer.role.value}) can view but not make review decisions."
        )
    return reviewer


async def checked_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    if not tokens_match(str(form.get("csrf_token") or ""), _session(request).get("csrf")):
        raise _PageError(
            403,
            "Form expired",
            "This form has expired or did not come from these pages. Go back, reload and try again.",
        )
    return form


Reader = Annotated[Reviewer, Depends(require_reader)]
Decider = Annotated[Reviewer, Depends(require_decider)]
Form = Annotated[FormData, Depends(checked_form)]


# -- rendering --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("docintel.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pct"] = lambda value: "—" if value is None else f"{100 * value:.0f}%"
    return environment


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")) + PREFIX


def _render(
    request: Request, template: str, context: dict[str, Any], *, reviewer: Reviewer | None, status: int = 200
) -> HTMLResponse:
    session = _session(request)
    flashes = session.pop("flash", [])
    page = {
        "base": _base(request),
        "reviewer": reviewer,
        "csrf_token": _csrf_token(request),
        "flashes": flashes,
        "version": __version__,
        "unclassified": UNCLASSIFIED_FILTER,
        **context,
    }
    return HTMLResponse(_environment().get_template(template).render(page), status_code=status)


def _sign_in_page(request: Request, *, status: int = 200, error: str = "", next_url: str = "") -> HTMLResponse:
    target = next_url or (request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.method != "GET" or not _safe_return(target):
        target = _base(request) + "/"
    runtime = _runtime(request)
    context = {"next_url": target, "error": error, "proxy": runtime.settings.trusted_header_enabled}
    return _render(request, "sign_in.html", context, reviewer=None, status=status)


def _error_page(request: Request, error: _PageError) -> HTMLResponse:
    reviewer = None
    try:
        reviewer = current_reviewer(request, _runtime(request))
    except DocintelError:
        log.warning("could not read the signed-in reviewer while rendering an error page")
    context = {"title": error.title, "message": error.message, "status": error.status}
    return _render(request, "error.html", context, reviewer=reviewer, status=error.status)


def _safe_return(url: str) -> bool:
    """Only paths inside the review pages: never another site (open redirect)."""
    return url.startswith(PREFIX) and not url.startswith("//") and "\\" not in url and "\n" not in url


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- query parsing ----------------------------------------------------------------------------------


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _enum_or(enum_type: Any, value: str | None, default: Any) -> Any:
    try:
        return enum_type(value) if value is not None else default
    except ValueError:
        return default


def _page_number(value: str | None) -> int:
    """A page number from the query string; 400 for one past any page a catalogue could have."""
    number = _int_or(value, 1)
    if number > MAX_PAGE_NUMBER:
        raise _PageError(400, "No such page", f"Page numbers go up to {MAX_PAGE_NUMBER:,}.")
    return max(1, number)


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def queue_filter_from(params: Any, prefix: str = "") -> QueueFilter:
    """A queue filter from query parameters (or form fields named with ``prefix``); bad values are ignored."""
    return QueueFilter(
        prefix=str(params.get(f"{prefix}prefix") or ""),
        folder=str(params.get(f"{prefix}folder") or ""),
        record_class=str(params.get(f"{prefix}class") or ""),
        min_confidence=_float_or_none(params.get(f"{prefix}min")),
        max_confidence=_float_or_none(params.get(f"{prefix}max")),
        disposal=_enum_or(DisposalWindow, params.get(f"{prefix}disposal"), DisposalWindow.ANY),
        state=_enum_or(ReviewState, params.get(f"{prefix}state"), ReviewState.TODO),
        hold=_enum_or(HoldFilter, params.get(f"{prefix}hold"), HoldFilter.ANY),
        signal=_enum_or(SignalFilter, params.get(f"{prefix}signal"), SignalFilter.ANY),
        flag=_enum_or(FlagFilter, params.get(f"{prefix}flag"), FlagFilter.ANY),
    )


def queue_query(queue_filter: QueueFilter, **extra: Any) -> dict[str, str]:
    """Query parameters that reproduce a queue filter."""
    values = {
        "prefix": queue_filter.prefix,
        "folder": queue_filter.folder,
        "class": queue_filter.record_class,
        "min": "" if queue_filter.min_confidence is None else f"{queue_filter.min_confidence:g}",
        "max": "" if queue_filter.max_confidence is None else f"{queue_filter.max_confidence:g}",
        "disposal": queue_filter.disposal.value,
        "state": queue_filter.state.value,
        "hold": queue_filter.hold.value,
        "signal": queue_filter.signal.value,
        "flag": queue_filter.flag.value,
        **{key: str(value) for key, value in extra.items()},
    }
    return {key: value for key, value in values.items() if value}


# -- sign-in ----------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def sign_in_form(request: Request, runtime: Runtime) -> Response:
    """The sign-in page."""
    next_url = request.query_params.get("next", "")
    return _sign_in_page(request, next_url=next_url if _safe_return(next_url) else "")


@router.post("/login")
def sign_in(request: Request, runtime: Runtime, form: Form) -> Response:
    """Check a name and password; on success start a fresh session and go where the user was heading."""
    name = str(form.get("name") or "")
    password = str(form.get("password") or "")
    next_url = str(form.get("next") or "")
    address = request.client.host if request.client else "unknown"
    throttle_keys = (f"ip:{address}", f"user:{name.strip().lower()}")
    # Checked before the password: past the limit a guess is not even tried, so right and wrong look alike.
    wait = runtime.failed_sign_ins.wait(*throttle_keys)
    if wait is not None:
        log.warning("review sign-in throttled for %s", address)
        response = _sign_in_page(
            request, status=429, error="Too many failed sign-ins. Wait a few minutes.", next_url=next_url
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    reviewer = runtime.store.authenticate(name, password) if name and password else None
    account = runtime.store.account(reviewer.name) if reviewer is not None else None
    if reviewer is None or account is None:
        runtime.failed_sign_ins.record(*throttle_keys)
        log.info("review sign-in refused from %s", address)
        return _sign_in_page(request, status=401, error="Wrong name or password.", next_url=next_url)
    session = _session(request)
    session.clear()
    # A new CSRF token on sign-in: a token planted before sign-in (session fixation) is worthless after.
    session.update(user=account.name, sv=account.session_version, csrf=new_csrf_token())
    log.info("review sign-in as role %s", reviewer.role.value)
    return _redirect(next_url if _safe_return(next_url) else _base(request) + "/")


@router.post("/logout")
def sign_out(request: Request, runtime: Runtime, form: Form) -> Response:
    """End the session, and every other session of the account (a copied cookie stops working too)."""
    session = _session(request)
    if session.get("user") and current_reviewer(request, runtime) is not None:
        runtime.store.end_sessions(str(session["user"]))
    session.clear()
    session["csrf"] = new_csrf_token()
    _flash(request, "Signed out.")
    return _redirect(_base(request) + "/login")


# -- dashboard --------------------------------------------------------------------------------------


def _bars(items: list[tuple[Any, int]]) -> list[dict[str, Any]]:
    largest = max((count for _, count in items), default=0)
    return [
        {"key": key, "count": count, "percent": round(100.0 * count / largest, 1) if largest else 0.0}
        for key, count in items
    ]


def _columns(values: list[tuple[str, int]], height: int = 120) -> list[dict[str, Any]]:
    """SVG column geometry for a small bar chart."""
    largest = max((count for _, count in values), default=0)
    return [
        {"label": label, "count": count, "height": round(height * count / largest, 1) if largest else 0.0}
        for label, count in values
    ]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """Charts: documents per class and site, disposal due, confidence, PII hotspots, failures, governance signals."""
    runtime.fresh_signals()
    board = runtime.store.dashboard()
    catalogue = runtime.store.catalogue
    pii_folders, _ = catalogue.pii_hotspots(10)
    buckets = [(f"{bucket / CONFIDENCE_BUCKETS:.1f}", count) for bucket, count in enumerate(board.confidence)]
    context = {
        "board": board,
        "titles": runtime.class_titles,
        "class_bars": _bars(board.classes),
        "site_bars": _bars(board.sites),
        "folders": _bars([(folder.path, folder.documents) for folder in catalogue.folder_counts(10)]),
        "months": _columns(
            [
                (dt.date.fromisoformat(f"{month}-01").strftime("%b %y"), count)
                for month, count in board.disposal_by_month
            ]
        ),
        "confidence": _columns(buckets),
        "pii_folders": pii_folders,
        "pii_bars": {bar["key"]: bar for bar in _bars([(h.path, h.findings) for h in pii_folders])},
        "failures": catalogue.failures(5),
        "signal_counts": runtime.store.signal_counts(),
        "signals_at": runtime.signals.computed_at,
        "signals_updating": runtime.signals.updating,
        "signal_labels": _SIGNAL_LABELS,
        "triage": _dashboard_triage(runtime),
    }
    return _render(request, "dashboard.html", context, reviewer=reviewer)


# -- queue and decisions ----------------------------------------------------------------------------


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """The review queue in teaching order (see ReviewStore.queue), with filters, pagination and bulk decisions."""
    params = request.query_params
    queue_filter = queue_filter_from(params)
    runtime.fresh_signals()
    page_size = runtime.settings.page_size
    page = runtime.store.queue(queue_filter, _page_number(params.get("page")), page_size)
    query = queue_query(queue_filter)
    here = f"{_base(request)}/queue" + (f"?{urlencode(queue_query(queue_filter, page=page.page))}")
    context = {
        "filter": queue_filter,
        "query": query,
        "page": page,
        "here": here,
        "prev_url": f"{_base(request)}/queue?{urlencode({**query, 'page': page.page - 1})}" if page.page > 1 else "",
        "next_url": f"{_base(request)}/queue?{urlencode({**query, 'page': page.page + 1})}"
        if page.page < page.pages
        else "",
        "titles": runtime.class_titles,
        "folders": runtime.store.folders(),
        "windows": [(w.value, label) for w, label in _WINDOW_LABELS.items()],
        "states": [(s.value, label) for s, label in _STATE_LABELS.items()],
        "hold_filters": [(h.value, label) for h, label in _HOLD_LABELS.items()],
        "signal_filters": [(SignalFilter.ANY.value, "any"), *_SIGNAL_LABELS.items()],
        "flag_filters": [(f.value, label) for f, label in _FLAG_LABELS.items()],
        "max_bulk": runtime.settings.max_bulk_documents,
    }
    return _render(request, "queue.html", context, reviewer=reviewer)


_WINDOW_LABELS = {
    DisposalWindow.ANY: "any",
    DisposalWindow.OVERDUE: "overdue",
    DisposalWindow.DAYS_90: "due in 90 days",
    DisposalWindow.DAYS_365: "due within a year",
    DisposalWindow.NONE: "no disposal date",
}
_STATE_LABELS = {ReviewState.TODO: "to review", ReviewState.REVIEWED: "reviewed", ReviewState.ALL: "all"}
_FLAG_LABELS = {FlagFilter.ANY: "any", FlagFilter.FLAGGED: "flagged for review", FlagFilter.ACCEPTED: "accepted"}
_HOLD_LABELS = {HoldFilter.ANY: "any", HoldFilter.HELD: "on hold", HoldFilter.FREE: "not on hold"}
_SIGNAL_LABELS = {
    SignalFilter.DUPLICATE.value: "duplicate",
    SignalFilter.NEAR_DUPLICATE.value: "near-duplicate",
    SignalFilter.WRONG_PLACE.value: "wrong place",
    SignalFilter.STALE.value: "stale",
}


def _decision_ids(runtime: ReviewRuntime, form: FormData) -> list[str]:
    """The documents a decision form targets: chosen rows, the page, a folder, or everything the filter matches."""
    scope = str(form.get("scope") or "selected")
    limit = runtime.settings.max_bulk_documents
    if scope == "selected":
        ids = [str(value) for value in form.getlist("doc_id")]
        if not ids:
            raise _PageError(400, "Nothing selected", "Tick the documents to decide on, or choose another scope.")
    elif scope == "page":
        ids = [str(value) for value in form.getlist("page_id")]
    elif scope == "folder":
        folder = str(form.get("bulk_folder") or "")
        if not folder.strip():
            raise _PageError(400, "No folder", "Choose the folder to decide on.")
        ids = runtime.store.folder_ids(folder, limit)
    elif scope == "filter":
        ids = runtime.store.matching_ids(queue_filter_from(form, prefix="f_"), limit)
    else:
        raise _PageError(400, "Unknown scope", "Choose selected rows, this page, a folder or the whole filter.")
    if len(ids) > limit:
        raise _PageError(
            400, "Too many documents", f"That would change more than {limit} documents at once: narrow the filter."
        )
    return ids


def _outcome_message(action: Action, done: int, refused: dict[str, int]) -> tuple[str, str]:
    verb = {
        Action.ACCEPT: "accepted",
        Action.CHANGE: "changed",
        Action.APPROVE_DISPOSAL: "approved for disposal",
    }.get(action, action.value)
    message = f"{done} document{'s' if done != 1 else ''} {verb}."
    if refused:
        reasons = "; ".join(f"{count} {why}" for why, count in sorted(refused.items()))
        message += f" Refused: {reasons}."
    return ("warn" if refused else "ok"), message


@router.post("/decide")
def decide(request: Request, runtime: Runtime, reviewer: Decider, form: Form) -> Response:
    """Accept, change or approve disposal for one document or many, then go back where the form came from."""
    action = _enum_or(Action, str(form.get("action") or ""), None)
    if action not in (Action.ACCEPT, Action.CHANGE, Action.APPROVE_DISPOSAL):
        raise _PageError(400, "Unknown decision", "Choose accept, change class or approve disposal.")
    to_class = str(form.get("to_class") or "") or None
    reason = str(form.get("reason") or "")[:MAX_REASON_CHARS]
    if action is Action.CHANGE:
        if to_class is None:
            raise _PageError(400, "No class chosen", "Choose the class to change to.")
        if to_class not in runtime.class_titles:
            raise _PageError(400, "Unknown class", f"'{to_class}' is not a class of the retention schedule.")
    ids = _decision_ids(runtime, form)
    outcome = runtime.store.decide(
        ids, action, by=reviewer, schedule=runtime.schedule, to_class=to_class, reason=reason
    )
    runtime.signals.invalidate()  # a changed class can put a document in (or out of) the wrong place
    kind, message = _outcome_message(action, outcome.done, dict(outcome.refused))
    _flash(request, message, kind)
    return_to = str(form.get("return_to") or "")
    return _redirect(return_to if _safe_return(return_to) else f"{_base(request)}/queue")


# -- one document -----------------------------------------------------------------------------------


@router.get("/document", response_class=HTMLResponse)
def document(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """One document: the document itself (first pages and deciding passages, for roles allowed to see contents),
    provenance, class and why, retention, PII counts by type (never values), holds, history, governance signals,
    duplicates, and the council's own reviewed documents of the same class as examples."""
    doc_id = request.query_params.get("id", "")
    row = runtime.store.catalogue.get(doc_id) if doc_id else None
    if row is None:
        raise _PageError(404, "Not found", "No document with that id in the catalogue.")
    runtime.fresh_signals()
    signals, duplicates, near_duplicates = runtime.store.document_signals(doc_id)
    may_see = reviewer.role in runtime.settings.preview_roles
    evidence = runtime.store.class_evidence(doc_id)
    # Read from the source on each request and dropped with the response: no picture or text is kept.
    view = runtime.reader.view(row, evidence) if may_see else None
    record_class = row.get("record_class")
    context = {
        "may_see": may_see,
        "view": view,
        "has_evidence": bool(evidence),
        "explanation": explanation_for_reviewers(row.get("class_explanation") or ""),
        "examples": runtime.store.reviewed_examples(record_class, exclude=doc_id) if record_class else [],
        "signals": signals,
        "duplicates": duplicates,
        "near_duplicates": near_duplicates,
        "doc": row,
        "titles": runtime.class_titles,
        "state": runtime.store.review_state(doc_id),
        "holds": runtime.store.holds_covering(doc_id),
        "decisions": runtime.store.decisions_for(doc_id),
        "here": f"{_base(request)}/document?{urlencode({'id': doc_id})}",
    }
    return _render(request, "document.html", context, reviewer=reviewer)


# -- holds ------------------------------------------------------------------------------------------


@router.get("/holds", response_class=HTMLResponse)
def holds(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """Active and released legal holds, with how many documents each covers."""
    all_holds = runtime.store.holds()
    context = {
        "holds": all_holds,
        "coverage": runtime.store.hold_coverage([hold for hold in all_holds if hold.active]),
        "scopes": [scope.value for scope in HoldScope],
    }
    return _render(request, "holds.html", context, reviewer=reviewer)


@router.post("/holds")
def place_hold(request: Request, runtime: Runtime, reviewer: Decider, form: Form) -> Response:
    """Place a legal hold on a document, folder, case or search."""
    scope = _enum_or(HoldScope, str(form.get("scope") or ""), None)
    if scope is None:
        raise _PageError(400, "Unknown scope", "A hold covers a document, a folder, a case or a search.")
    try:
        hold = runtime.store.place_hold(
            scope, str(form.get("target") or ""), str(form.get("reason") or "")[:MAX_REASON_CHARS], by=reviewer
        )
    except ConfigError as exc:
        raise _PageError(400, "Hold not placed", exc.message) from exc
    _flash(request, f"Hold {hold.id} placed on {hold.scope.value} {hold.target}.")
    return_to = str(form.get("return_to") or "")
    return _redirect(return_to if _safe_return(return_to) else f"{_base(request)}/holds")


@router.post("/holds/{hold_id}/release")
def release_hold(request: Request, runtime: Runtime, reviewer: Decider, form: Form, hold_id: int) -> Response:
    """Release a legal hold (administrators only)."""
    if not reviewer.can_release_holds:
        raise _PageError(403, "Not allowed", "Only an administrator can release a legal hold.")
    try:
        runtime.store.release_hold(hold_id, str(form.get("reason") or "")[:MAX_REASON_CHARS], by=reviewer)
    except ConfigError as exc:
        raise _PageError(400, "Hold not released", exc.message) from exc
    _flash(request, f"Hold {hold_id} released.")
    return _redirect(f"{_base(request)}/holds")


# -- migration triage ------------------------------------------------------------------------------

# Files listed per page of the triage page.
TRIAGE_PAGE_SIZE = 100


def _triage(runtime: ReviewRuntime) -> tuple[MigrationMap, TriageResult] | None:
    """The catalogue triaged with config/migration_map.yaml, or None when the council has no migration map."""
    path = runtime.migration_map_path
    if path is None or not path.is_file():
        return None
    migration_map = load_migration_map(path)
    return migration_map, triage_catalogue(runtime.store.catalogue, migration_map)


def _triage_summary(runtime: ReviewRuntime) -> dict[str, Any] | None:
    """Totals per recommendation for a chart, and how much of the share need not move."""
    triaged = _triage(runtime)
    if triaged is None:
        return None
    result = triaged[1]
    totals = result.totals()
    all_bytes = sum(size for _, size in totals.values())
    all_files = sum(files for files, _ in totals.values())
    stay_files, stay_bytes = result.need_not_move()
    return {
        "bars": [
            {
                "key": recommendation.value,
                "files": files,
                "bytes": size,
                "size": human_size(size),
                "percent": round(100.0 * size / all_bytes, 1) if all_bytes else 0.0,
                "leave": recommendation in LEAVE_BEHIND,
            }
            for recommendation, (files, size) in totals.items()
        ],
        "files": all_files,
        "stay_files": stay_files,
        "stay_size": human_size(stay_bytes),
        "stay_percent": round(100.0 * stay_bytes / all_bytes, 1) if all_bytes else 0.0,
        "result": result,
    }


def _dashboard_triage(runtime: ReviewRuntime) -> dict[str, Any] | None:
    """The dashboard's triage chart; a broken migration map leaves it out (the triage page names the error)."""
    try:
        return _triage_summary(runtime)
    except ConfigError as error:
        log.warning("migration triage left off the dashboard: %s", error.message)
        return None


@router.get("/triage", response_class=HTMLResponse)
def triage_page(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """Migration triage: totals per recommendation and top folder, and each file with its reason and override."""
    summary = _triage_summary(runtime)
    chosen = _enum_or(Recommendation, request.query_params.get("recommendation"), None)
    page = _page_number(request.query_params.get("page"))
    files: list[Any] = []
    folders: list[dict[str, Any]] = []
    total = 0
    if summary is not None:
        result: TriageResult = summary["result"]
        listed = [item for item in result.files if chosen is None or item.recommendation is chosen]
        total = len(listed)
        files = listed[(page - 1) * TRIAGE_PAGE_SIZE : page * TRIAGE_PAGE_SIZE]
        folders = [
            {
                "folder": folder,
                "counts": {r.value: counts[r] for r in counts},
                "size": human_size(sum(b for _, b in counts.values())),
            }
            for folder, counts in list(result.by_top_folder().items())[:50]
        ]
    context = {
        "summary": summary,
        "files": files,
        "folders": folders,
        "recommendations": [r.value for r in Recommendation],
        "chosen": chosen.value if chosen else "",
        "page": page,
        "pages": max(1, -(-total // TRIAGE_PAGE_SIZE)),
        "total": total,
    }
    return _render(request, "triage.html", context, reviewer=reviewer)


@router.post("/triage/override")
def triage_override(request: Request, runtime: Runtime, reviewer: Decider, form: Form) -> Response:
    """Override one file's recommendation (or clear the override), audited; a hold refuses leaving a file behind."""
    doc_id = str(form.get("id") or "")
    value = str(form.get("recommendation") or "")
    recommendation = _enum_or(Recommendation, value, None) if value else None
    if value and recommendation is None:
        raise _PageError(400, "Unknown recommendation", "Choose migrate, dispose, duplicate, trivial or review.")
    reason = str(form.get("reason") or "").strip()[:MAX_REASON_CHARS]
    if not reason:
        raise _PageError(400, "No reason given", "Say why the recommendation is overridden: the audit trail keeps it.")
    triaged = _triage(runtime)
    if triaged is None:
        raise _PageError(404, "No migration map", "config/migration_map.yaml is missing: triage is not set up.")
    item = next((f for f in triaged[1].files if f.document_id == doc_id), None)
    if item is None:
        raise _PageError(404, "Not found", "No file with that id in the triage.")
    held = item.on_hold and recommendation in LEAVE_BEHIND
    set_override(
        runtime.store.catalogue,
        doc_id,
        recommendation.value if recommendation else None,
        user_name=reviewer.name,
        reason=reason,
        computed=item.computed.value,
        outcome="refused" if held else "done",
    )
    if held:
        _flash(request, "Refused: the file is on legal hold, so it cannot be left behind.", "warn")
    else:
        _flash(request, f"Recommendation {'set to ' + recommendation.value if recommendation else 'override cleared'}.")
    return_to = str(form.get("return_to") or "")
    return _redirect(return_to if _safe_return(return_to) else f"{_base(request)}/triage")


# -- audit trail ------------------------------------------------------------------------------------


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_filter_from(params: Any) -> AuditFilter:
    """An audit filter from query parameters; bad dates are ignored."""
    return AuditFilter(
        user_name=str(params.get("user") or ""),
        action=str(params.get("action") or ""),
        document_id=str(params.get("document") or ""),
        since=_date_or_none(params.get("since")),
        until=_date_or_none(params.get("until")),
    )


def _audit_query(audit_filter: AuditFilter) -> dict[str, str]:
    values = {
        "user": audit_filter.user_name,
        "action": audit_filter.action,
        "document": audit_filter.document_id,
        "since": audit_filter.since.isoformat() if audit_filter.since else "",
        "until": audit_filter.until.isoformat() if audit_filter.until else "",
    }
    return {key: value for key, value in values.items() if value}


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """The audit trail: every decision, hold and account change, newest first."""
    audit_filter = audit_filter_from(request.query_params)
    page = _page_number(request.query_params.get("page"))
    entries, total = runtime.store.audit_page(audit_filter, page, AUDIT_PAGE_SIZE)
    query = _audit_query(audit_filter)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    context = {
        "entries": entries,
        "total": total,
        "filter": audit_filter,
        "actions": AUDIT_ACTIONS,
        "csv_url": f"{_base(request)}/audit.csv" + (f"?{urlencode(query)}" if query else ""),
        "page": page,
        "pages": pages,
        "prev_url": f"{_base(request)}/audit?{urlencode({**query, 'page': page - 1})}" if page > 1 else "",
        "next_url": f"{_base(request)}/audit?{urlencode({**query, 'page': page + 1})}" if page < pages else "",
    }
    return _render(request, "audit.html", context, reviewer=reviewer)


AUDIT_CSV_COLUMNS = ("id", "at", "user", "action", "document_id", "target", "from", "to", "reason", "outcome", "batch")


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (names and reasons are user input)."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def audit_csv_lines(store: ReviewStore, audit_filter: AuditFilter) -> Iterator[str]:
    """The audit trail as CSV text, header first, oldest row first, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(AUDIT_CSV_COLUMNS)
    yield flush()
    for entry in store.iter_audit(audit_filter):
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    entry.id,
                    entry.at,
                    entry.user_name,
                    entry.action,
                    entry.document_id,
                    entry.target,
                    entry.from_value,
                    entry.to_value,
                    entry.reason,
                    entry.outcome,
                    entry.batch_id,
                )
            ]
        )
        yield flush()


@router.get("/audit.csv")
def audit_csv(request: Request, runtime: Runtime, reviewer: Reader) -> Response:
    """The audit trail (with the page's filters) as a CSV download."""
    audit_filter = audit_filter_from(request.query_params)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    log.info("audit trail exported as CSV by role %s", reviewer.role.value)
    return StreamingResponse(
        audit_csv_lines(runtime.store, audit_filter),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="docintel-audit-{stamp}.csv"'},
    )


__all__ = [
    "PREFIX",
    "ReviewRuntime",
    "audit_csv_lines",
    "configure_review",
    "current_reviewer",
    "queue_filter_from",
    "router",
]
