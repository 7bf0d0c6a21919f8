"""Contracts and agreements: key terms (parties, dates, term, value, law) read from the text, and the register."""

from docintel.contracts.models import (
    FIELD_NAMES,
    ContractField,
    ContractKind,
    ContractParty,
    ContractResult,
    PartyRole,
    Signatory,
)

__all__ = [
    "FIELD_NAMES",
    "ContractField",
    "ContractKind",
    "ContractParty",
    "ContractResult",
    "PartyRole",
    "Signatory",
]
