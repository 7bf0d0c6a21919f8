"""Contract rows: what the catalogue keeps of a document's contract terms (no clause text, no people's names)."""

from __future__ import annotations

from typing import Any

from docintel.contracts.models import ContractField, ContractParty, ContractResult
from docintel.models import DocumentRecord


def _where(found: ContractField) -> dict[str, Any]:
    # Position and provenance only: the clause text may hold personal data, so it stays out of the catalogue.
    return {
        "page": found.page,
        "start": found.start,
        "end": found.end,
        "confidence": found.confidence,
        "how": found.how,
    }


def _flag(result: ContractResult, name: str) -> bool | None:
    value = result.value(name)
    return None if value is None else value == "true"


def _party(party: ContractParty) -> dict[str, Any]:
    return {
        "role": party.role.value,
        "role_label": party.role_label,
        "organisation": party.organisation,
        "name": party.name.value if party.organisation else None,
        "name_hash": party.name_hash,
        "company_number": party.company_number.value if party.company_number else None,
        "vat_number": party.vat_number.value if party.vat_number else None,
        **_where(party.name),
    }


def contract_row(record: DocumentRecord) -> dict[str, Any] | None:
    """The contracts-table row of a record read as a contract, else None."""
    result = record.contract
    if result is None:
        return None
    supplier = result.supplier
    council = next((p for p in result.parties if p.role.value == "council"), None)
    return {
        "document_id": record.id,
        "kind": result.kind.value,
        "kind_confidence": result.kind_confidence,
        "title": result.value("title"),
        "reference": result.value("reference"),
        "framework_reference": result.value("framework_reference"),
        "council_name": council.name.value if council else None,
        "supplier_name": supplier.name.value if supplier and supplier.organisation else None,
        "supplier_name_hash": supplier.name_hash if supplier and not supplier.organisation else None,
        "supplier_company_number": supplier.company_number.value if supplier and supplier.company_number else None,
        "supplier_vat_number": supplier.vat_number.value if supplier and supplier.vat_number else None,
        "effective_date": result.date("effective_date"),
        "start_date": result.date("start_date"),
        "end_date": result.date("end_date"),
        "notice_date": result.notice_date(),
        "term": result.value("term"),
        "renewal": result.value("renewal"),
        "notice_period": result.value("notice_period"),
        "governing_law": result.value("governing_law"),
        "jurisdiction": result.value("jurisdiction"),
        "total_value": result.value("total_value"),
        "annual_value": result.value("annual_value"),
        "currency": result.currency,
        "vat_treatment": result.value("vat_treatment"),
        "payment_terms": result.value("payment_terms"),
        "data_processing": _flag(result, "data_processing"),
        "executed_as_deed": _flag(result, "executed_as_deed"),
        "fields": {name: _where(found) for name, found in result.fields.items() if found.value is not None},
        "parties": [_party(party) for party in result.parties],
        "signatories": [
            {
                "name_hash": signatory.name_hash,
                "for_party": signatory.for_party,
                "date": signatory.date.value if signatory.date else None,
                **_where(signatory.name),
            }
            for signatory in result.signatories
        ],
    }
