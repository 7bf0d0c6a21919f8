"""Search the catalogue for a case's requester and rank each document by how strongly it ties to them, and why.

Every source already catalogued is searched at once (shares, SharePoint, OneDrive, mailboxes and their
attachments): the case's identifier hashes are looked up in ``pii_findings``. A document's tie:

- **strong**: an identifier unique to one person (NHS or National Insurance number, e-mail, phone, account
  number), or a name form at least as specific as initials and surname together with the date of birth, the
  address or the postcode, or two of those three (with or without the name);
- **conflict**: the name matches, nothing else does, and the document holds another date of birth, NHS or National
  Insurance number: most likely someone else with the same name (look-alikes are disambiguated here);
- **weak**: the name alone, or one corroborating identifier alone: the handler decides.

A surname or a first name alone never brings a document in by itself (every "Smith" in the council would); it adds
to a document that something else brought in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from docintel.catalogue.sar_cases import SarCaseStore
from docintel.enrich.name_variants import INITIALS_STRENGTH
from docintel.sar.identifiers import CONFLICTING_KINDS, CORROBORATING_KINDS, ENTITY_TYPES, KIND_WEIGHTS, UNIQUE_KINDS

# Ties, strongest first.
STRONG, WEAK, CONFLICT = "strong", "weak", "conflict"
TIES = (STRONG, WEAK, CONFLICT)
# What a conflicting identifier takes off a document's score: below every weak document with the same name.
CONFLICT_PENALTY = 0.5
# How an identifier kind reads in a reason.
KIND_LABELS: dict[str, str] = {
    "name": "name",
    "date_of_birth": "date of birth",
    "address": "address",
    "postcode": "postcode",
    "nhs_number": "NHS number",
    "nino": "National Insurance number",
    "email": "e-mail",
    "phone": "phone",
    "account_number": "account number",
}


@dataclass
class DocumentTie:
    """How one document ties to the requester: the strongest name form, other identifiers, conflicts."""

    document_id: str
    name_strength: float = 0.0
    name_form: str | None = None
    kinds: set[str] = field(default_factory=set)
    conflicts: set[str] = field(default_factory=set)

    @property
    def tie(self) -> str:
        """strong, weak or conflict (module docstring)."""
        corroborating = self.kinds & CORROBORATING_KINDS
        if self.kinds & UNIQUE_KINDS:
            return STRONG
        # Date of birth with postcode or address singles out one person in the UK, named or not ("Tenant: O. Smith"
        # that the recognisers did not read as a name).
        if len(corroborating) >= 2 or (corroborating and self.name_strength >= INITIALS_STRENGTH):
            return STRONG
        if self.conflicts and not corroborating:
            return CONFLICT
        return WEAK

    @property
    def score(self) -> float:
        """The name form's strength plus each other identifier's weight, less the conflict penalty."""
        score = self.name_strength + sum(KIND_WEIGHTS[kind] for kind in self.kinds)
        return round(score - (CONFLICT_PENALTY if self.tie == CONFLICT else 0.0), 3)

    @property
    def brought_in(self) -> bool:
        """Whether the document is listed at all: a weak name form alone does not bring one in."""
        corroborating = self.kinds & CORROBORATING_KINDS
        return bool(
            self.kinds & UNIQUE_KINDS
            or self.name_strength >= INITIALS_STRENGTH
            or (corroborating and self.name_form)
            or len(corroborating) >= 2
        )

    def reasons(self) -> list[str]:
        """Why, in words: "name (full)", "date of birth", "another NHS number next to the name"."""
        reasons = [f"name ({self.name_form.replace('_', ' ')})"] if self.name_form else []
        reasons += [KIND_LABELS[kind] for kind in sorted(self.kinds, key=list(KIND_LABELS).index)]
        if self.tie == CONFLICT:
            reasons += [f"another {KIND_LABELS[kind]} next to the name" for kind in sorted(self.conflicts)]
        return reasons

    def as_row(self) -> dict[str, Any]:
        """The sar_documents values of this document."""
        return {"document_id": self.document_id, "score": self.score, "tie": self.tie, "reasons": self.reasons()}


def rank_documents(cases: SarCaseStore, identifiers: list[dict[str, Any]]) -> list[DocumentTie]:
    """Every catalogued document the identifiers bring in, best first (module docstring)."""
    by_hash = {(row["entity_type"], row["value_hash"]): row for row in identifiers}
    ties: dict[str, DocumentTie] = {}
    for document_id, entity_type, value_hash in cases.findings_with_hashes(list(by_hash)):
        identifier = by_hash[(entity_type, value_hash)]
        tie = ties.setdefault(document_id, DocumentTie(document_id))
        if identifier["kind"] == "name":
            if identifier["strength"] > tie.name_strength:
                tie.name_strength, tie.name_form = identifier["strength"], identifier["form"]
        else:
            tie.kinds.add(identifier["kind"])
    found = [tie for tie in ties.values() if tie.brought_in]
    _find_conflicts(cases, found, by_hash, {row["kind"] for row in identifiers})
    found.sort(key=lambda tie: (TIES.index(tie.tie), -tie.score, tie.document_id))
    return found


def _find_conflicts(
    cases: SarCaseStore, found: list[DocumentTie], by_hash: dict[tuple[str, str], Any], given_kinds: set[str]
) -> None:
    """Mark documents that hold another value of a kind the requester gave (date of birth, NHS, NINO)."""
    kinds = CONFLICTING_KINDS & given_kinds
    undecided = {tie.document_id: tie for tie in found if not tie.kinds & UNIQUE_KINDS}
    if not kinds or not undecided:
        return
    type_kind = {ENTITY_TYPES[kind]: kind for kind in kinds}
    others: dict[str, set[str]] = defaultdict(set)
    for document_id, entity_type, value_hash in cases.findings_of_types(list(undecided), list(type_kind)):
        if (entity_type, value_hash) not in by_hash:
            others[document_id].add(type_kind[entity_type])
    for document_id, conflict_kinds in others.items():
        tie = undecided[document_id]
        tie.conflicts = conflict_kinds - tie.kinds
