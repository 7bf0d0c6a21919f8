"""The catalogue schema: runs, documents and what the pipeline found in them, as SQLAlchemy Core tables.

The same tables serve SQLite and PostgreSQL. Personal data is never stored in clear: entity and PII rows
hold the type, position, score and a keyed hash of the value, never the text. The Alembic revisions in
``migrations/versions`` create these tables; change both together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

# Explicit constraint names so Alembic can find and alter them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Document ids are connector-made (drive id + item id, or a path hash, plus member suffixes for children).
ID_LENGTH = 255


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite drops the offset of an aware datetime and PostgreSQL returns it in the session's zone;
    normalising to UTC on the way in and out makes both backends round-trip the same value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC; a naive datetime is taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        utc = value.astimezone(dt.UTC)
        # SQLite stores the wall-clock text only; hand it a naive UTC value so nothing is lost.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(255), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(32), nullable=False),
    Column("counts", JSON, nullable=False, default=dict),  # {"ok": n, "failed": n, "skipped": n}
    Column("version", String(32), nullable=False),
    # Where the run's process runs (revision 0009_masked_names): a run left running by a process that is
    # gone from this host is marked interrupted at the next start.
    Column("host", String(255)),
    Column("pid", Integer),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # Not a foreign key: a worker may store an attachment before (or without) its container.
    Column("parent_id", String(ID_LENGTH)),
    Column("source", String(64), nullable=False),
    Column("locator", Text, nullable=False),  # masked like the name and path (revision 0009_masked_names)
    # The unmasked locator, only where masking changed it and only for re-reading the file (local paths,
    # archive members); never exported, shown or logged.
    Column("source_locator", Text),
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False, default=""),
    Column("drive_id", String(255)),
    Column("item_id", String(255)),
    Column("etag", String(255)),
    Column("ctag", String(255)),
    Column("web_url", Text),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("mime_type", String(255)),
    Column("file_type", String(32)),
    Column("status", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("error_message", Text),
    Column("title", Text),
    Column("created_at", UtcDateTime()),
    Column("modified_at", UtcDateTime()),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=False),
    Column("run_id", String(64)),
    Column("page_count", Integer, nullable=False, default=0),
    Column("text_chars", BigInteger, nullable=False, default=0),
    Column("record_class", String(128)),
    Column("class_confidence", Float),
    Column("class_explanation", Text),
    Column("classifier", String(64)),
    Column("retention_period", String(128)),
    Column("retention_trigger", String(64)),
    Column("retention_action", String(64)),
    Column("retention_authority", Text),
    Column("disposal_date", Date),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("depth", Integer, nullable=False, default=0),
    # MinHash of the text's word shingles (64 little-endian uint32, revision 0005_signals): near-duplicates
    # are found from it without keeping any text. NULL when the document had no words.
    Column("minhash", LargeBinary),
    # Revision 0011_review_queue. The classifier's own verdict: True flagged for review, False accepted, NULL not
    # classified. A reviewer's decision leaves it as the classifier set it, so accepted precision can be measured.
    Column("needs_review", Boolean),
    # The year of the latest date of birth in the text, never the date (docintel.retention explains why).
    Column("birth_year", Integer),
    Index("ix_documents_sha256", "sha256"),
    Index("ix_documents_record_class", "record_class"),
    Index("ix_documents_status", "status"),
    # A plain b-tree on text: folder paths stay far below PostgreSQL's ~2.7 kB index-entry limit.
    Index("ix_documents_path", "path"),
    Index("ix_documents_parent_id", "parent_id"),
    Index("ix_documents_run_id", "run_id"),
)


def _document_fk() -> ForeignKey:
    # Child rows go with their document.
    return ForeignKey("documents.id", ondelete="CASCADE")


pages = Table(
    "pages",
    metadata,
    Column("document_id", String(ID_LENGTH), _document_fk(), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("method", String(16), nullable=False),
    Column("ocr_confidence", Float),
    Column("chars", Integer, nullable=False),
)

entities = Table(
    "entities",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("label", String(64), nullable=False),
    Column("page", Integer),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("value_hash", String(128)),
    Index("ix_entities_document_id", "document_id"),
)

pii_findings = Table(
    "pii_findings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("page", Integer),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("recognizer", String(128)),
    Column("value_hash", String(128)),
    # Which string the offsets index: NULL for the text, else "name", "path", "title" or "locator"
    # (revision 0009_masked_names); those strings are catalogued masked.
    Column("field", String(16)),
    Index("ix_pii_findings_document_id", "document_id"),
    # Subject access requests: every document holding a given NHS number, email, name...
    Index("ix_pii_findings_entity_type_value_hash", "entity_type", "value_hash"),
)

stage_runs = Table(
    "stage_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), _document_fk(), nullable=False),
    Column("run_id", String(64)),
    Column("stage", String(64), nullable=False),
    Column("component", String(128), nullable=False),
    Column("version", String(64), nullable=False, default=""),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("error_message", Text),
    Index("ix_stage_runs_document_id", "document_id"),
)

# -- kept text (catalogue.keep_text): revision 0006_document_texts -----------------------------------------
# The extracted text with every personal-data finding and name masked (same length, so the findings'
# offsets index into it). Written only when catalogue.keep_text is on; subject-access snippets use it for
# documents that cannot be re-read locally (SharePoint, OneDrive, mail).
document_texts = Table(
    "document_texts",
    metadata,
    Column("document_id", String(ID_LENGTH), _document_fk(), primary_key=True),
    Column("text", Text, nullable=False),
)

# The passages that decided a document's class (revision 0011_review_queue): where they are, never their words;
# the review page re-reads the words from the source when a reviewer opens the document.
class_evidence = Table(
    "class_evidence",
    metadata,
    Column("document_id", String(ID_LENGTH), _document_fk(), primary_key=True),
    Column("rank", Integer, primary_key=True),  # 0 for the strongest
    Column("location", String(8), nullable=False),  # title, text, path or name (ClassEvidence.where)
    Column("page", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("record_class", String(128), nullable=False),
    Column("feature", String(128), nullable=False),
    Column("weight", Float, nullable=False),
)

# -- contract terms (issue 19): revision 0013_contracts --------------------------------------------------
# One row per document read as a contract. Organisations' names are kept (a register publishes them); a
# person's name (an individual party, a signatory) only as its keyed hash. No clause text is stored: the
# ``fields`` JSON holds each value's page, offsets, confidence and how it was derived.
contracts = Table(
    "contracts",
    metadata,
    Column("document_id", String(ID_LENGTH), _document_fk(), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("kind_confidence", Float, nullable=False),
    Column("title", Text),
    Column("reference", String(128)),
    Column("framework_reference", String(64)),
    Column("council_name", String(255)),
    Column("supplier_name", String(255)),  # None when the supplier is a person: see supplier_name_hash
    Column("supplier_name_hash", String(128)),
    Column("supplier_company_number", String(16)),
    Column("supplier_vat_number", String(16)),
    Column("effective_date", Date),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("notice_date", Date),  # the last day notice can be given before the end date
    Column("term", String(64)),
    Column("renewal", String(64)),
    Column("notice_period", String(64)),
    Column("governing_law", String(64)),
    Column("jurisdiction", String(64)),
    Column("total_value", String(32)),  # Decimal strings: money is never a float
    Column("annual_value", String(32)),
    Column("currency", String(3)),
    Column("vat_treatment", String(16)),
    Column("payment_terms", String(64)),
    Column("data_processing", Boolean),
    Column("executed_as_deed", Boolean),
    Column("fields", JSON, nullable=False),
    Column("parties", JSON, nullable=False),
    Column("signatories", JSON, nullable=False),
    Index("ix_contracts_end_date", "end_date"),
)

# Tables holding rows that belong to one document, replaced as a whole on every save.
DOCUMENT_CHILD_TABLES = (pages, entities, pii_findings, stage_runs, document_texts, class_evidence, contracts)

# -- invoice API (issue 6): revision 0003_invoices ----------------------------------------------------

# API clients. The key itself is never stored: only its SHA-256 (keys are 256-bit random, so a plain hash
# cannot be brute-forced and needs no slow KDF). The signing secret signs result callbacks; it grants no
# access to the API and must be kept to sign, so it is stored as issued.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("signing_secret", String(128), nullable=False),
    Column("rate_limit_per_minute", Integer),  # None: the service default
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    # What the key may call, space-separated (docintel.api.keys.Scope); revision 0008_key_scopes.
    Column("scopes", String(255), nullable=False, server_default="invoices"),
    # SharePoint drive ids the key may name in an invoice reference; None or empty: none.
    Column("drives", JSON),
    Index("ix_api_keys_name", "name"),
)

# One row per submitted invoice. The document bytes never land here; the result (which carries supplier
# bank details) and the callback URL are cleared once ``expires_at`` passes.
invoice_jobs = Table(
    "invoice_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("api_key_id", String(32), ForeignKey("api_keys.id"), nullable=False),
    Column("status", String(16), nullable=False),  # queued, running, succeeded, failed, expired
    Column("backend", String(64), nullable=False),  # "rq", or "local:<server instance>" for the in-process pool
    Column("file_type", String(32)),
    Column("mime_type", String(255)),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("callback_url", Text),
    Column("callback_status", String(16)),  # pending, delivered, failed
    Column("callback_attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
    Column("seconds", Float),
    Column("result", JSON),
    Column("error_type", String(64)),
    Column("error_message", Text),
    Column("corrections", JSON),
    Column("corrected_at", UtcDateTime()),
    Column("expires_at", UtcDateTime()),
    # How many times a server took this job over after the server running it stopped (revision 0007): a job
    # that keeps killing its server is failed instead of resumed for ever.
    Column("resumes", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_invoice_jobs_api_key_id", "api_key_id"),
    Index("ix_invoice_jobs_status", "status"),
    Index("ix_invoice_jobs_expires_at", "expires_at"),
)

# -- invoice servers (issue 13): revision 0007_server_heartbeat ------------------------------------------
# One row per running ``docintel serve`` with an in-process queue; ``id`` is the ``backend`` its jobs carry.
# A server beats every few seconds; jobs of a server whose beat stopped are resumed or failed by another,
# never those of a server still beating (a second server on the same catalogue leaves the first one's alone).
api_servers = Table(
    "api_servers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("last_beat_at", UtcDateTime(), nullable=False),
)

# -- review workflow (issue 5): revision 0002_review ---------------------------------------------------
# Decisions and audit rows keep the document id without a foreign key: the audit trail must outlive the
# document row (a rescan that drops a child, or a disposal, deletes it).

# One row per decision on one document; a bulk action writes one row per document with a shared batch_id.
# ``approved`` is True when the decision confirms ``to_class`` as the document's right class (accept,
# change, approve_disposal): those rows are the reviewers' labels that training reads.
review_decisions = Table(
    "review_decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("document_id", String(ID_LENGTH), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("action", String(32), nullable=False),  # accept, change, approve_disposal, hold, release_hold
    Column("from_class", String(128)),
    Column("to_class", String(128)),
    Column("from_confidence", Float),  # the classifier's confidence before the decision, for calibration
    Column("reason", Text, nullable=False, default=""),
    Column("approved", Boolean, nullable=False, default=False),
    Column("batch_id", String(32)),
    Index("ix_review_decisions_document_id", "document_id"),
    Index("ix_review_decisions_at", "at"),
)

# The current review state of a document, one row each, so queue filters need one join rather than a
# search through its decision history. A class change clears an earlier disposal approval.
review_state = Table(
    "review_state",
    metadata,
    Column("document_id", String(ID_LENGTH), primary_key=True),
    Column("reviewed_class", String(128)),
    Column("reviewed_by", String(128)),
    Column("reviewed_at", UtcDateTime()),
    Column("disposal_approved_by", String(128)),
    Column("disposal_approved_at", UtcDateTime()),
)

# Legal holds. ``target`` is a document id (scope document), a folder path (folder: the folder and all below),
# a case reference (case: documents whose path or name carries it) or a search term (search: name, title, path).
holds = Table(
    "holds",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("scope", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(128), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False),
    Column("released_at", UtcDateTime()),
    Column("released_by", String(128)),
    Column("release_reason", Text),
    Index("ix_holds_released_at", "released_at"),
)

# Local review accounts; password_hash is scrypt (see docintel.review.auth), None for proxy-only accounts.
users = Table(
    "users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("password_hash", String(255)),
    Column("role", String(16), nullable=False),  # readonly, reviewer, admin
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # Bumped by sign-out and password changes: a session cookie carrying an older version is refused.
    Column("session_version", Integer, nullable=False, server_default="0"),
)

# Every review action and account change: who, when, what, from -> to, why, and whether it was refused.
audit = Table(
    "audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("document_id", String(ID_LENGTH)),
    Column("target", Text),
    Column("from_value", Text),
    Column("to_value", Text),
    Column("reason", Text, nullable=False, default=""),
    Column("outcome", String(16), nullable=False),  # done, refused
    Column("batch_id", String(32)),
    Index("ix_audit_at", "at"),
    Index("ix_audit_document_id", "document_id"),
)

# -- Graph crawl (issue 3): revision 0004_crawl --------------------------------------------------------

# One row per crawled drive: its deltaLink (stored only once every item of the round is recorded or
# enqueued), the round counter used by mark-and-sweep resyncs, and what the last round did.
drive_checkpoints = Table(
    "drive_checkpoints",
    metadata,
    Column("drive_id", String(255), primary_key=True),
    Column("source", String(64), nullable=False),  # the sources.yaml entry that found the drive
    Column("kind", String(32), nullable=False),  # sharepoint, onedrive
    Column("label", Text, nullable=False),  # site/library or onedrive/<user id>: the folder path prefix
    # Whose OneDrive or mailbox ("display name <UPN>"), or which site (its display name), for operators'
    # eyes in `docintel status` only: never in folder paths, exports or logs (revision 0009_masked_names).
    Column("owner", Text),
    Column("delta_link", Text),
    Column("round", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # running, idle, failed
    Column("round_started_at", UtcDateTime()),
    Column("last_sync_at", UtcDateTime()),  # end of the last completed round
    Column("counts", JSON, nullable=False, default=dict),  # last round: seen, files, changed, deleted, resync
    Column("error_type", String(64)),
    Column("error_message", Text),
)

# The crawler's view of every item of every drive (folders too: delta has no paths, so folder names and
# parents rebuild them). ``processed_*`` is the content version the pipeline last catalogued: an item whose
# cTag or quickXorHash still matches is not read again.
drive_items = Table(
    "drive_items",
    metadata,
    Column("drive_id", String(255), primary_key=True),
    Column("item_id", String(255), primary_key=True),
    Column("document_id", String(ID_LENGTH)),  # files only
    Column("name", Text),
    Column("parent_id", String(255)),
    Column("is_folder", Boolean, nullable=False, default=False),
    Column("etag", String(255)),
    Column("ctag", String(255)),
    Column("quick_xor_hash", String(64)),
    Column("size", BigInteger),
    Column("mime_type", String(255)),
    Column("web_url", Text),
    Column("created_at", UtcDateTime()),
    Column("modified_at", UtcDateTime()),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("seen_round", Integer, nullable=False, default=0),
    Column("processed_ctag", String(255)),
    Column("processed_hash", String(64)),
    Column("processed_at", UtcDateTime()),
    Index("ix_drive_items_drive_id_seen_round", "drive_id", "seen_round"),
    Index("ix_drive_items_document_id", "document_id"),
    # A share crawl compares each folder's listing with its children here (revision 0014_shares).
    Index("ix_drive_items_drive_id_parent_id", "drive_id", "parent_id"),
)

# -- governance signals (issue 5): revision 0005_signals ---------------------------------------------

# The latest computed governance signals, one row per live document that has at least one, so the review
# queue can filter and count them in SQL. Rebuilt as a whole by docintel.governance.refresh_signals; no
# foreign key, as the table is a derived cache replaced in one transaction.
document_signals = Table(
    "document_signals",
    metadata,
    Column("document_id", String(ID_LENGTH), primary_key=True),
    Column("duplicate_group", String(64)),  # the sha256 shared with other documents
    Column("duplicates", Integer),  # documents in that group, this one included
    Column("near_group", String(ID_LENGTH)),  # the first document id of its near-duplicate group
    Column("near_duplicates", Integer),
    Column("wrong_place", Text),  # name of the wrong-place rule it breaks
    Column("stale_years", Float),  # years since last modified, when over the stale threshold
    Index("ix_document_signals_duplicate_group", "duplicate_group"),
    Index("ix_document_signals_near_group", "near_group"),
)

# -- who may call what (issue 13): revision 0008_key_scopes -------------------------------------------

# Settings a catalogue carries about itself, by name: the PII key's fingerprint (docintel.enrich.hashing),
# so a scan or search with another key is refused instead of silently finding nothing.
catalogue_settings = Table(
    "catalogue_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

# -- migration triage (issue 16): revision 0015_triage ----------------------------------------------------
# A records manager's override of a document's migration recommendation, one row per document (the latest
# wins); every change is also an ``audit`` row (action ``triage_override``). No foreign key, like the review
# tables: the decision outlives a rescan that replaces the document row.
triage_overrides = Table(
    "triage_overrides",
    metadata,
    Column("document_id", String(ID_LENGTH), primary_key=True),
    Column("recommendation", String(16), nullable=False),  # migrate, dispose, duplicate, trivial, review
    Column("reason", Text, nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

# -- subject access request cases (issue 20): revision 0016_sar_cases ---------------------------------

# One row per request. The requester is never stored in clear: ``label`` is the masked form the handler sees
# (initials, "O. S."), their identifiers are keyed hashes in ``sar_identifiers``. Dates are calendar dates:
# the statutory clock counts days, not hours (docintel.sar.deadlines).
sar_cases = Table(
    "sar_cases",
    metadata,
    Column("id", String(32), primary_key=True),  # SAR-2026-0001
    Column("label", String(64), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),  # one calendar month after receipt
    Column("extended_to", Date),  # three calendar months after receipt, once extended
    Column("extension_reason", Text),
    Column("handler", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # open, closed
    Column("opened_by", String(128), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("searched_at", UtcDateTime()),
    Column("closed_by", String(128)),
    Column("closed_at", UtcDateTime()),
    Column("sent_on", Date),
    Column("sent", JSON),  # what was sent: bundle SHA-256, documents, pages, how
    Index("ix_sar_cases_status", "status"),
)

# The requester's identifiers as keyed hashes (docintel.enrich.hashing), one row per searched form: every written
# form of the date of birth, every variant of each name, with how strongly that form alone ties a document.
sar_identifiers = Table(
    "sar_identifiers",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("sar_cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),  # name, date_of_birth, address, postcode, nhs_number, ...
    Column("form", String(32), nullable=False),  # which form of it: a name variant's kind, "value" otherwise
    Column("entity_type", String(64), nullable=False),
    Column("value_hash", String(128), nullable=False),
    Column("strength", Float, nullable=False),
    Index("ix_sar_identifiers_case_id", "case_id"),
)

# Every document the search found for a case, why, and the handler's decision on it.
sar_documents = Table(
    "sar_documents",
    metadata,
    Column("case_id", String(32), ForeignKey("sar_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("document_id", String(ID_LENGTH), primary_key=True),  # not a foreign key: the case outlives a rescan
    Column("score", Float, nullable=False),
    Column("tie", String(16), nullable=False),  # strong, weak, conflict (docintel.sar.search)
    Column("reasons", JSON, nullable=False),
    Column("decision", String(16), nullable=False),  # pending, confirmed, rejected
    Column("decided_by", String(128)),
    Column("decided_at", UtcDateTime()),
    Column("decision_reason", Text),
    Index("ix_sar_documents_case_id_decision", "case_id", "decision"),
)

# Exemptions the handler marked: a whole document or one page withheld, with the exemption and a note.
sar_exemptions = Table(
    "sar_exemptions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("sar_cases.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", String(ID_LENGTH), nullable=False),
    Column("page", Integer),  # 1-based; NULL: the whole document
    Column("exemption", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_sar_exemptions_case_id", "case_id"),
)

# -- network shares (issue 16): revision 0014_shares --------------------------------------------------

# What a share threw at the crawler, per folder (``name`` empty: the folder itself) or per entry of it: permission
# denied, a path longer than Windows allows, an undecodable name, a link or junction, a loop, a vanished entry,
# a sparse or huge file (docintel.sources.share.ProblemKind). The crawler's own state, like drive_items: names
# are kept as the share spells them (for the operator fixing the share), never exported or reported. A folder's
# rows are replaced each time it is listed.
share_problems = Table(
    "share_problems",
    metadata,
    Column("drive_id", String(255), primary_key=True),
    Column("folder_id", String(255), primary_key=True),  # drive_items.item_id of the folder listed
    Column("name", String(1024), primary_key=True),
    Column("problem", String(32), primary_key=True),
    Column("detail", Text),
    Column("round", Integer, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_share_problems_drive_id_problem", "drive_id", "problem"),
)
