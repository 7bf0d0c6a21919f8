"""Subject access search: every catalogued document that mentions a person's identifiers, with redacted snippets.

The catalogue holds no personal data in clear, only keyed hashes of normalised values
(:mod:`docintel.enrich.hashing`). A search hashes each identifier it is given exactly the same way and looks
the hashes up in ``pii_findings``; with several identifiers only documents mentioning all of them are returned
(``require_all=False``: any of them), ranked by how many criteria and mentions they hold.

Snippets come from the text the catalogue kept (``catalogue.keep_text``: masked, offsets unchanged) when there
is one, which serves every source; otherwise from re-reading the document: local files from their locator,
attachments and archive members by re-reading the top-level file and extracting down to the child. The text is
extracted with docintel's own extractors, so the stored offsets line up; a document whose bytes changed since it
was catalogued, or that sits in a source this module does not re-read (SharePoint, OneDrive, mail without kept
text: open ``web_url``), is returned without a snippet and with the reason. Snippets are opt-in
(``--snippets``, ``snippets=true``): every stored PII span inside one is replaced by ``[TYPE]``, and so is
every postcode-shaped token and every run of digits, because OCR'd text holds identifiers the recognisers
missed.

Every search is audited (``audit`` table, action ``subject_access``): who (API key id or ``cli``), when, the
identifier types searched and the number of documents found; never the values.

    docintel find --nhs-number "943 476 5919" --name "Olivia Smith" --json
    GET /v1/subject-access?nhs_number=9434765919&name=Olivia%20Smith      (a key with the subject-access scope)
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import click
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.enrich.hashing import bind_pii_key, load_pii_key, normalise, pii_hash
from docintel.enrich.recognizers import checksums
from docintel.errors import CatalogueError, ConfigError, DocintelError
from docintel.models import DocumentStatus, Provenance
from docintel.settings import Settings, command_settings, get_settings

logger = logging.getLogger(__name__)

# Characters of context kept on each side of a finding in a snippet (about 80 in all, plus the finding).
SNIPPET_CONTEXT_CHARS = 40
# Snippets built per matching document; the mention list itself is never cut.
MAX_SNIPPETS_PER_DOCUMENT = 3
# Sources whose locator is a path this process can open again.
REREADABLE_SOURCES = frozenset({"local"})
# How an attachment's locator joins its parent's (see docintel.pipeline._child_record).
CHILD_SEPARATOR = "!/"

# The audit action of a search; the review pages' audit list filters on it.
AUDIT_ACTION = "subject_access"
# What a snippet masks beyond the catalogued findings: UK-postcode-shaped tokens (OCR'd addresses the
# recognisers missed), then any run of digits (account, case, phone and NHS numbers in any spacing).
_POSTCODE_SHAPE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d+")

# Search criterion name -> the PII entity type its value is catalogued under.
CRITERIA: dict[str, str] = {
    "nhs_number": "UK_NHS",
    "nino": "UK_NINO",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "name": "PERSON",
    "postcode": "UK_POSTCODE",
}


class InvalidCriterion(DocintelError):
    """A search value that cannot be the identifier it claims to be (a bad NHS check digit, an empty name)."""

    exit_code = 2
    http_status = 422


@dataclass(frozen=True)
class Criterion:
    """One identifier searched for: its name, entity type and keyed hash (never the value)."""

    name: str
    entity_type: str
    value_hash: str


@dataclass
class Mention:
    """One finding of a searched identifier in a document, with a redacted snippet when one could be made."""

    criterion: str
    entity_type: str
    page: int | None
    start: int
    end: int
    snippet: str | None = None
    field: str = "text"  # where it was found: the text, or the (masked) file name, folder path or title


@dataclass
class Match:
    """A document that mentions the searched identifiers: where it is, where in it, and redacted context."""

    document_id: str
    source: str
    path: str
    name: str
    web_url: str | None
    parent_id: str | None
    criteria: list[str]
    mentions: list[Mention] = field(default_factory=list)
    snippet_unavailable: str | None = None  # why no snippet could be made, when none was

    @property
    def page(self) -> int | None:
        """The page of the first mention."""
        return self.mentions[0].page if self.mentions else None

    def as_dict(self) -> dict[str, Any]:
        """JSON form (no personal data in clear: snippets are redacted)."""
        data = asdict(self)
        data["page"] = self.page
        return data


# --- criteria ------------------------------------------------------------------------------------------------


def _validate(criterion: str, value: str) -> None:
    entity_type = CRITERIA[criterion]
    normalised = normalise(entity_type, value)
    if not normalised.strip():
        raise InvalidCriterion(f"{criterion} is empty")
    if entity_type == "UK_NHS" and not checksums.nhs_is_valid(normalised):
        raise InvalidCriterion(f"{criterion} is not a valid NHS number (ten digits with a mod-11 check digit)")
    if entity_type == "UK_NINO" and not checksums.nino_is_valid(normalised):
        raise InvalidCriterion(f"{criterion} is not a valid National Insurance number")
    if entity_type == "EMAIL_ADDRESS" and "@" not in normalised:
        raise InvalidCriterion(f"{criterion} is not an email address")


def build_criteria(values: Mapping[str, str | None], key: bytes) -> list[Criterion]:
    """The keyed hash of each given identifier, normalised as the enrich stage normalised it."""
    criteria = []
    for name, value in values.items():
        if name not in CRITERIA:
            raise InvalidCriterion(f"unknown search criterion {name!r}; known: {', '.join(CRITERIA)}")
        if value is None:
            continue
        _validate(name, value)
        entity_type = CRITERIA[name]
        criteria.append(Criterion(name, entity_type, pii_hash(entity_type, value, key)))
    if not criteria:
        raise InvalidCriterion(f"give at least one of: {', '.join(CRITERIA)}")
    return criteria


# --- catalogue queries -----------------------------------------------------------------------------------------


def _rows(store: CatalogueStore, query: Any, action: str) -> list[dict[str, Any]]:
    try:
        with store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]
    except SQLAlchemyError as exc:
        raise CatalogueError(f"cannot {action}: {type(exc).__name__}") from exc


def _mentions(store: CatalogueStore, criteria: list[Criterion]) -> dict[str, list[Mention]]:
    """Per document id, every finding whose type and hash match a criterion."""
    f = t.pii_findings
    found: dict[str, list[Mention]] = defaultdict(list)
    for criterion in criteria:
        query = (
            select(f.c.document_id, f.c.page, f.c.start, f.c.end, f.c.field)
            .where(f.c.entity_type == criterion.entity_type, f.c.value_hash == criterion.value_hash)
            .order_by(f.c.document_id, f.c.start)
        )
        for row in _rows(store, query, "search the catalogue"):
            found[row["document_id"]].append(
                Mention(
                    criterion.name, criterion.entity_type, row["page"], row["start"], row["end"],
                    field=row["field"] or "text",
                )
            )  # fmt: skip
    return found


def catalogued_documents(store: CatalogueStore, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The rows needed to re-read live documents, and their parents' (attachments are re-read through them)."""
    d = t.documents
    columns = (d.c.id, d.c.parent_id, d.c.source, d.c.locator, d.c.source_locator, d.c.name, d.c.path, d.c.title,
               d.c.web_url, d.c.sha256)  # fmt: skip
    result: dict[str, dict[str, Any]] = {}
    pending = list(dict.fromkeys(ids))
    # Ancestors too: an attachment is re-read through its parents.
    while pending:
        query = select(*columns).where(d.c.id.in_(pending[:500]), d.c.deleted.is_(False))
        pending = pending[500:]
        for row in _rows(store, query, "read documents"):
            result[row["id"]] = row
            parent = row["parent_id"]
            if parent and parent not in result and parent not in pending:
                pending.append(parent)
    return result


def text_findings(store: CatalogueStore, doc_id: str) -> list[tuple[int, int, str]]:
    """(start, end, type) of every finding in a document's text, in order: what a snippet masks."""
    f = t.pii_findings
    query = (
        select(f.c.start, f.c.end, f.c.entity_type)
        .where(f.c.document_id == doc_id, f.c.field.is_(None))  # the text's findings, not the name's
        .order_by(f.c.start)
    )
    return [(row["start"], row["end"], row["entity_type"]) for row in _rows(store, query, "read findings")]


# --- re-reading and snippets -------------------------------------------------------------------------------


class SnippetUnavailable(Exception):
    """Why a document's text cannot be shown (a reason safe for output: no content, no path)."""


def _extract(content: bytes, row: Mapping[str, Any], settings: Settings) -> tuple[str, dict[str, bytes]]:
    """The document text as the pipeline joined it, and its attachments' bytes by name."""
    from docintel.pipeline import Engines, extract_stage, new_record, sniff_stage

    provenance = Provenance(source=row["source"], locator=row["locator"], name=row["name"], path=row["path"] or "")
    record = sniff_stage(new_record(provenance), content)
    if record.status is DocumentStatus.FAILED:
        raise SnippetUnavailable("the file type could not be read again")
    record, attachments = extract_stage(record, content, Engines(settings=settings))
    if record.status is DocumentStatus.FAILED:
        raise SnippetUnavailable(f"the text could not be extracted again ({record.error.type if record.error else ''})")
    return record.text, {attachment.name: attachment.content for attachment in attachments}


def _raw_locator(row: Mapping[str, Any]) -> str:
    """The locator to re-read by: the unmasked one where masking personal data changed the catalogued one."""
    return str(row["source_locator"] or row["locator"])


def reread_content(doc_id: str, documents: Mapping[str, Mapping[str, Any]], settings: Settings) -> bytes:
    """The bytes of a catalogued document, re-read from its source; SnippetUnavailable says why they cannot be.

    An attachment or archive member is re-read through its parents (the top-level file is read, then extracted
    down to the child); every level must still have the SHA-256 the catalogue recorded.
    """
    chain = [documents[doc_id]]
    while chain[-1]["parent_id"]:
        parent = documents.get(chain[-1]["parent_id"])
        if parent is None:
            raise SnippetUnavailable("its parent document is no longer in the catalogue")
        chain.append(parent)
    root = chain[-1]
    if root["source"] not in REREADABLE_SOURCES:
        raise SnippetUnavailable(f"documents from source {root['source']!r} are not re-read here; open web_url")
    try:
        content = Path(_raw_locator(root)).read_bytes()
    except OSError as exc:
        raise SnippetUnavailable(f"the file cannot be read ({type(exc).__name__})") from exc
    for index, row in enumerate(reversed(chain)):
        if row["sha256"] and hashlib.sha256(content).hexdigest() != row["sha256"]:
            raise SnippetUnavailable("the document changed since it was catalogued")
        if index == len(chain) - 1:
            return content
        _, attachments = _extract(content, row, settings)
        child = chain[len(chain) - 2 - index]
        member = _raw_locator(child).removeprefix(_raw_locator(row) + CHILD_SEPARATOR)
        if member not in attachments:
            raise SnippetUnavailable("the attachment is no longer in its parent document")
        content = attachments[member]
    raise AssertionError("unreachable: the chain always ends at the document itself")


def reread_text(doc_id: str, documents: Mapping[str, Mapping[str, Any]], settings: Settings) -> str:
    """The text of a catalogued document, re-read from its source; SnippetUnavailable says why it cannot be."""
    return _extract(reread_content(doc_id, documents, settings), documents[doc_id], settings)[0]


def redacted_snippet(
    text: str, start: int, end: int, findings: Iterable[tuple[int, int, str]], context: int = SNIPPET_CONTEXT_CHARS
) -> str:
    """About ``context`` characters either side of [start, end), cut at spaces, every PII span as [TYPE]."""
    window_start, window_end = max(0, start - context), min(len(text), end + context)
    # Widen to whole words so a cut never leaves half a name or number in clear.
    while window_start > 0 and not text[window_start - 1].isspace():
        window_start -= 1
    while window_end < len(text) and not text[window_end].isspace():
        window_end += 1
    spans = sorted(
        (max(s, window_start), min(e, window_end), kind)
        for s, e, kind in findings
        if s < window_end and e > window_start
    )
    pieces, cursor = [], window_start
    for span_start, span_end, kind in spans:
        if span_end <= cursor:
            continue
        pieces.append(_mask_shapes(text[cursor : max(cursor, span_start)]))
        pieces.append(f"[{kind}]")
        cursor = span_end
    pieces.append(_mask_shapes(text[cursor:window_end]))
    snippet = " ".join("".join(pieces).split())
    prefix = "…" if window_start > 0 else ""
    suffix = "…" if window_end < len(text) else ""
    return f"{prefix}{snippet}{suffix}"


def _mask_shapes(text: str) -> str:
    """Postcode-shaped tokens and digit runs masked: what a recogniser missed must not show in clear."""
    return _DIGIT_RUN.sub("[NUMBER]", _POSTCODE_SHAPE.sub("[POSTCODE]", text))


def kept_text(store: CatalogueStore, doc_id: str) -> str | None:
    """The masked text the catalogue kept for a document (catalogue.keep_text), or None."""
    query = select(t.document_texts.c.text).where(t.document_texts.c.document_id == doc_id)
    rows = _rows(store, query, "read kept text")
    return str(rows[0]["text"]) if rows else None


def _add_snippets(store: CatalogueStore, match: Match, documents: Mapping[str, Any], settings: Settings) -> None:
    row = documents[match.document_id]
    for mention in match.mentions:
        if mention.field in ("name", "path", "title"):
            mention.snippet = str(row[mention.field] or "")  # catalogued with every finding masked
    in_text = [mention for mention in match.mentions if mention.field == "text"][:MAX_SNIPPETS_PER_DOCUMENT]
    if not in_text:
        return
    try:
        text = kept_text(store, match.document_id) or reread_text(match.document_id, documents, settings)
    except SnippetUnavailable as reason:
        match.snippet_unavailable = str(reason)
        return
    except DocintelError as error:
        match.snippet_unavailable = f"the document could not be read again ({error.kind})"
        return
    findings = text_findings(store, match.document_id)
    for mention in in_text:
        if mention.end > len(text):
            match.snippet_unavailable = "the text read or kept does not reach the catalogued offsets"
            return
        mention.snippet = redacted_snippet(text, mention.start, mention.end, findings)


# --- the search ----------------------------------------------------------------------------------------------


def find_documents(
    store: CatalogueStore,
    *,
    nhs_number: str | None = None,
    nino: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    postcode: str | None = None,
    key: bytes,
    require_all: bool = True,
    snippets: bool = False,
    settings: Settings | None = None,
    searched_by: str = "cli",
) -> list[Match]:
    """Catalogued documents mentioning the given identifiers (all of them by default), best first."""
    # Another key's hashes match nothing: refuse rather than answer "no document" to a legal request.
    bind_pii_key(store, key)
    criteria = build_criteria(
        {"nhs_number": nhs_number, "nino": nino, "email": email, "phone": phone, "name": name, "postcode": postcode},
        key,
    )
    mentions = _mentions(store, criteria)
    wanted = {criterion.name for criterion in criteria}
    hits = {
        doc_id: found
        for doc_id, found in mentions.items()
        if not require_all or {mention.criterion for mention in found} == wanted
    }
    documents = catalogued_documents(store, hits)
    matches = []
    for doc_id, found in hits.items():
        row = documents.get(doc_id)
        if row is None:  # deleted at its source since
            continue
        found.sort(key=lambda m: (m.page or 0, m.start))
        matches.append(
            Match(
                document_id=doc_id,
                source=row["source"],
                path=row["path"] or "",
                name=row["name"],
                web_url=row["web_url"],
                parent_id=row["parent_id"],
                criteria=sorted({mention.criterion for mention in found}, key=list(CRITERIA).index),
                mentions=found,
            )
        )
    matches.sort(key=lambda m: (-len(m.criteria), -len(m.mentions), m.path, m.name, m.document_id))
    if snippets:
        settings = settings or get_settings()
        for match in matches:
            _add_snippets(store, match, documents, settings)
    record_search(store, searched_by, criteria, require_all=require_all, snippets=snippets, found=len(matches))
    logger.info("subject access search by %s on %d criteria: %d documents", searched_by, len(criteria), len(matches))
    return matches


def record_search(
    store: CatalogueStore, searched_by: str, criteria: list[Criterion], *, require_all: bool, snippets: bool, found: int
) -> None:
    """Audit a search: who, when, which identifier types and how many documents; never the values or hashes."""
    try:
        store.record_audit(
            searched_by,
            AUDIT_ACTION,
            target=",".join(criterion.name for criterion in criteria),
            to_value=str(found),
            reason=("all" if require_all else "any") + (", snippets" if snippets else ""),
        )
    except CatalogueError:
        # An unaudited search must not be answered: the caller gets the error, not the results.
        logger.error("subject access search by %s could not be audited; not answered", searched_by)
        raise


def cli_searcher() -> str:
    """How a search from the command line is named in the audit: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


# --- command line --------------------------------------------------------------------------------------------


def _print_matches(matches: list[Match]) -> None:
    if not matches:
        click.echo("No catalogued document mentions these identifiers.")
        return
    click.echo(f"{len(matches)} document(s):")
    for number, match in enumerate(matches, start=1):
        location = f"{match.path}/{match.name}" if match.path else match.name
        click.echo(f"\n{number}. {location}  [{match.source}, id {match.document_id}]")
        if match.web_url:
            click.echo(f"   {match.web_url}")
        click.echo(f"   matches {', '.join(match.criteria)}; {len(match.mentions)} mention(s)")
        for mention in match.mentions:
            page = f"page {mention.page}, " if mention.page is not None else ""
            where = "" if mention.field == "text" else f"in its {mention.field}, "  # file name, folder path, title
            line = f"   - {mention.criterion}: {where}{page}chars {mention.start}-{mention.end}"
            click.echo(line + (f": {mention.snippet}" if mention.snippet else ""))
        if match.snippet_unavailable:
            click.echo(f"   (no snippet: {match.snippet_unavailable})")


@click.command("find")
@click.option("--nhs-number", help="NHS number, any spacing.")
@click.option("--nino", help="National Insurance number, any spacing or case.")
@click.option("--email", help="Email address, any case.")
@click.option("--phone", help="Phone number, any format (UK numbers without +44 are read as UK).")
@click.option("--name", help='Full name as written, e.g. "Olivia Smith" (case and spacing ignored).')
@click.option("--postcode", help="UK postcode, any spacing.")
@click.option("--catalogue", "catalogue_url", metavar="URL", help="Catalogue database URL (default: from settings).")
@click.option("--any", "match_any", is_flag=True, help="Documents mentioning any of the identifiers, not all.")
@click.option(
    "--snippets/--no-snippets",
    default=False,
    show_default=True,
    help="Re-read documents for snippets (masked: findings, postcodes and every digit run).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of matches.")
@click.pass_context
def find_command(
    ctx: click.Context,
    *,
    nhs_number: str | None,
    nino: str | None,
    email: str | None,
    phone: str | None,
    name: str | None,
    postcode: str | None,
    catalogue_url: str | None,
    match_any: bool,
    snippets: bool,
    as_json: bool,
) -> None:
    """List catalogued documents that mention a person (subject access request); each search is audited.

    \b
    Examples:
      docintel find --nhs-number "943 476 5919"
      docintel find --name "Olivia Smith" --email olivia.smith@example.org --json --snippets
    """
    try:
        settings = command_settings(ctx.obj)
        key = load_pii_key()
        store = open_catalogue(catalogue_url or settings.catalogue.url)
        try:
            matches = find_documents(
                store,
                nhs_number=nhs_number,
                nino=nino,
                email=email,
                phone=phone,
                name=name,
                postcode=postcode,
                key=key,
                require_all=not match_any,
                snippets=snippets,
                settings=settings,
                searched_by=cli_searcher(),
            )
        finally:
            store.close()
    except DocintelError as error:
        click.secho(f"error: {error.message}", fg="red", err=True)
        sys.exit(2 if isinstance(error, ConfigError | InvalidCriterion) else 1)
    if as_json:
        click.echo(json.dumps([match.as_dict() for match in matches], indent=1))
    else:
        _print_matches(matches)


# --- HTTP ----------------------------------------------------------------------------------------------------

router = APIRouter(tags=["subject access"])


def _app_settings(request: Request) -> Settings:
    context = getattr(request.app.state, "docintel", None)
    settings = getattr(context, "settings", None) or getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _app_store(request: Request) -> CatalogueStore:
    context = getattr(request.app.state, "docintel", None)
    store = getattr(context, "store", None) or getattr(request.app.state, "store", None)
    if isinstance(store, CatalogueStore):
        return store
    # An app built without a store: open one for it once and keep it.
    store = open_catalogue(_app_settings(request).catalogue.url)
    request.app.state.store = store
    return store


def _app_key(request: Request) -> bytes:
    key = getattr(request.app.state, "pii_key", None)
    return key if isinstance(key, bytes) else load_pii_key()


def _searcher(request: Request) -> str:
    """The audit name of the caller: the API key id the scope check left on the request."""
    key_id = getattr(request.state, "api_key_id", None)
    return f"api-key:{key_id}" if key_id else "api"


@router.get("/v1/subject-access", operation_id="SubjectAccessSearch")
def subject_access_search(
    *,
    searched_by: Annotated[str, Depends(_searcher)],
    store: Annotated[CatalogueStore, Depends(_app_store)],
    settings: Annotated[Settings, Depends(_app_settings)],
    key: Annotated[bytes, Depends(_app_key)],
    nhs_number: Annotated[str | None, Query(description="NHS number, any spacing")] = None,
    nino: Annotated[str | None, Query(description="National Insurance number")] = None,
    email: Annotated[str | None, Query(description="Email address")] = None,
    phone: Annotated[str | None, Query(description="Phone number")] = None,
    name: Annotated[str | None, Query(description="Full name")] = None,
    postcode: Annotated[str | None, Query(description="UK postcode")] = None,
    match_any: Annotated[bool, Query(alias="any", description="any identifier instead of all")] = False,
    snippets: Annotated[
        bool, Query(description="re-read documents for masked snippets (findings, postcodes and digits masked)")
    ] = False,
) -> dict[str, Any]:
    """Documents mentioning the identifiers (all of them unless any=true), ranked; every search is audited."""
    try:
        matches = find_documents(
            store,
            nhs_number=nhs_number,
            nino=nino,
            email=email,
            phone=phone,
            name=name,
            postcode=postcode,
            key=key,
            require_all=not match_any,
            snippets=snippets,
            settings=settings,
            searched_by=searched_by,
        )
    except InvalidCriterion as error:
        raise HTTPException(status_code=error.http_status, detail=error.message) from error
    return {"count": len(matches), "matches": [match.as_dict() for match in matches]}
