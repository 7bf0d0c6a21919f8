"""Optional supplier profiles (``config/suppliers/*.yaml``): layout hints that improve a known supplier's invoices.

A profile matches an invoice when one of its keywords appears in the text. It may fix the vendor's name,
add label synonyms per field, say how the supplier writes dates and which currency it bills in. No
profile is ever required. :func:`apply_correction` turns a reviewer's correction into profile hints.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docintel.errors import ConfigError
from docintel.invoices import parse
from docintel.invoices.fields import LABELS
from docintel.invoices.models import FIELD_NAMES, InvoiceResult, LayoutLine
from docintel.settings import load_yaml_file

logger = logging.getLogger(__name__)

PROFILE_SUFFIXES = (".yaml", ".yml")
# Fields whose labels a profile may extend (the header fields plus the bank details' parts).
LABELLED_FIELDS = frozenset(LABELS)


class CorrectionRecord(BaseModel):
    """One correction as stored in a profile: which field, when, and whether the value had been found at all."""

    model_config = ConfigDict(extra="forbid")

    field: str
    at: dt.datetime
    was_found: bool


class SupplierProfile(BaseModel):
    """Hints for one supplier's invoices."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    match: list[str] = Field(min_length=1)  # any of these (case-insensitive) in the text selects the profile
    vendor_name: str | None = None
    vendor_tax_id: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    date_order: Literal["day_first", "month_first"] | None = None
    labels: dict[str, list[str]] = Field(default_factory=dict)  # field name -> extra label synonyms
    corrections: list[CorrectionRecord] = Field(default_factory=list)

    def matches(self, text: str) -> bool:
        """Whether any keyword occurs in the text."""
        lowered = text.lower()
        return any(keyword.lower() in lowered for keyword in self.match)


def load_profiles(profile_dir: Path | str) -> list[SupplierProfile]:
    """Every profile in a folder (none when it does not exist); a bad file fails naming the file and key."""
    folder = Path(profile_dir)
    if not folder.is_dir():
        return []
    profiles: list[SupplierProfile] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in PROFILE_SUFFIXES:
            continue
        data = load_yaml_file(path)
        try:
            profile = SupplierProfile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise ConfigError(f"{path}: {key}: {first['msg']}") from exc
        unknown = set(profile.labels) - LABELLED_FIELDS
        if unknown:
            raise ConfigError(f"{path}: labels: unknown field(s) {sorted(unknown)}; known: {sorted(LABELLED_FIELDS)}")
        profiles.append(profile)
    return profiles


def select_profile(profiles: list[SupplierProfile], text: str) -> SupplierProfile | None:
    """The first profile whose keywords occur in the text, else None."""
    return next((profile for profile in profiles if profile.matches(text)), None)


def slug(text: str) -> str:
    """A profile name from a vendor name ("Acme Supplies Ltd" -> "acme-supplies-ltd")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "supplier"


def save_profile(profile_dir: Path | str, profile: SupplierProfile) -> Path:
    """Write a profile as ``<name>.yaml`` in the folder and return the path."""
    folder = Path(profile_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{profile.name}.yaml"
    data = profile.model_dump(mode="json", exclude_none=True)
    temporary = path.with_suffix(".yaml.tmp")
    temporary.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    temporary.replace(path)  # atomic: a reader never sees half a profile
    return path


def _label_before(layout: list[LayoutLine], value: str) -> str | None:
    """The words before a value on the line that holds it (or the line above), as a label to learn."""
    wanted = " ".join(value.split()).lower()
    if not wanted:
        return None
    for position, line in enumerate(layout):
        text = " ".join(line.text.split())
        at = text.lower().find(wanted)
        if at < 0:
            continue
        before = text[:at].strip(" :#-")
        if before and any(char.isalpha() for char in before):
            return before.split("  ")[-1][-40:].strip(" :#-")
        if position > 0 and layout[position - 1].page == line.page:
            above = layout[position - 1].text.strip(" :#-")
            if above and len(above) <= 40 and any(char.isalpha() for char in above):
                return above
    return None


def apply_correction(
    profile_dir: Path | str,
    invoice_result: InvoiceResult,
    corrections: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
) -> SupplierProfile:
    """Store a reviewer's corrections (field name -> right value) as hints in the supplier's profile.

    The profile is the one the extraction used, else the one named after the (corrected) vendor, created
    when needed. A corrected vendor name or VAT number becomes a fixed value and a match keyword; a
    corrected date that swaps day and month sets the supplier's date order; for other fields the text
    before the right value in the document becomes a label synonym (when the result still carries its
    layout, i.e. in the process that extracted it).
    """
    unknown = set(corrections) - set(FIELD_NAMES)
    if unknown:
        raise ConfigError(f"unknown invoice field(s) {sorted(unknown)}; known: {list(FIELD_NAMES)}")
    now = now or dt.datetime.now(dt.UTC)
    profiles = {profile.name: profile for profile in load_profiles(profile_dir)}
    vendor = corrections.get("VendorName") or invoice_result.value("VendorName")
    profile = profiles.get(invoice_result.profile or "")
    if profile is None:
        if not isinstance(vendor, str) or not vendor.strip():
            raise ConfigError("a correction needs a vendor name (found or corrected) to file it under a profile")
        name = slug(vendor)
        profile = profiles.get(name) or SupplierProfile(name=name, match=[vendor.strip()])
    for field_name, value in corrections.items():
        before = invoice_result.fields.get(field_name)
        was_found = before is not None and before.value is not None
        if field_name == "VendorName":
            profile.vendor_name = value
            if value not in profile.match:
                profile.match.append(value)
        elif field_name == "VendorTaxId":
            found = parse.find_vat_number(value)
            profile.vendor_tax_id = found[0] if found else value
            if profile.vendor_tax_id not in profile.match:
                profile.match.append(profile.vendor_tax_id)
        elif field_name == "Currency":
            profile.currency = value.upper()
        elif field_name in {"InvoiceDate", "DueDate"} and before is not None and isinstance(before.value, str):
            order = _date_order(before.value, value, invoice_result.day_first)
            profile.date_order = order or profile.date_order
        if field_name in LABELLED_FIELDS and field_name not in {"VendorName"}:
            label = _label_before(invoice_result.layout, before.content) if was_found and before else None
            if label is None:
                label = _label_before(invoice_result.layout, value)
            if label and label not in profile.labels.get(field_name, []):
                profile.labels.setdefault(field_name, []).append(label)
        profile.corrections.append(CorrectionRecord(field=field_name, at=now, was_found=was_found))
    path = save_profile(profile_dir, profile)
    logger.info("supplier profile %s updated with %d correction(s)", path.name, len(corrections))
    return profile


def _date_order(extracted: str, corrected: str, day_first: bool) -> Literal["day_first", "month_first"] | None:
    """The date order a correction reveals: the right date is the extracted one with day and month swapped."""
    try:
        was = dt.date.fromisoformat(extracted)
        right = dt.date.fromisoformat(corrected)
    except ValueError:
        return None
    if was != right and was.year == right.year and was.day == right.month and was.month == right.day:
        return "month_first" if day_first else "day_first"
    return None


def profile_json_schema() -> dict[str, object]:
    """The JSON schema of a supplier profile file (written to config/suppliers/schema.json)."""
    return SupplierProfile.model_json_schema()
