"""Optional supplier profiles (``config/suppliers/*.yaml``): layout hints that improve a known supplier's invoices.

A profile matches an invoice when one of its keywords appears in the text (generic words such as
"Invoice" or "Ltd", and keywords under four letters or digits, never match). It may fix the vendor's name, add label
synonyms per field, say how the supplier writes dates and which currency it bills in. No profile is ever
required. :func:`apply_correction` turns a client's correction into profile hints.

Profiles are scoped to the API key whose corrections made them: the shared set is ``config/suppliers/*.yaml``
(written by the council, or approved by an administrator with ``docintel profiles approve``), and a key's own
profiles live in ``config/suppliers/keys/<key id>/``. An invoice of key K is read with K's profiles and the
shared ones (K's copy wins over a shared profile of the same name), never with another key's. A profile file
that does not load is skipped and reported (logged, and listed by ``docintel profiles list``); it never stops
extraction.
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
from docintel.invoices.corrections import InvalidCorrection, check_corrections, keyword_is_generic
from docintel.invoices.fields import LABELS
from docintel.invoices.models import FIELD_NAMES, InvoiceResult, LayoutLine
from docintel.settings import load_yaml_file

logger = logging.getLogger(__name__)

PROFILE_SUFFIXES = (".yaml", ".yml")
# Sub-folder of the profile folder holding each API key's own profiles, one folder per key id.
KEY_PROFILES_FOLDER = "keys"
_KEY_ID = re.compile(r"^[0-9a-f]{1,32}$")
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
        """Whether any specific keyword occurs in the text (generic ones never select a profile)."""
        lowered = text.lower()
        return any(keyword.lower() in lowered for keyword in self.match if not keyword_is_generic(keyword))


def _read_profile(path: Path) -> SupplierProfile:
    """One profile file; ConfigError naming the file and the key when it does not load."""
    data = load_yaml_file(path)
    try:
        profile = SupplierProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path.name}: {key}: {first['msg']}") from exc
    unknown = set(profile.labels) - LABELLED_FIELDS
    if unknown:
        raise ConfigError(f"{path.name}: labels: unknown field(s) {sorted(unknown)}; known: {sorted(LABELLED_FIELDS)}")
    return profile


def read_profiles(profile_dir: Path | str) -> tuple[list[SupplierProfile], list[str]]:
    """Every profile that loads in a folder, and a message naming each file that does not."""
    folder = Path(profile_dir)
    if not folder.is_dir():
        return [], []
    profiles: list[SupplierProfile] = []
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in PROFILE_SUFFIXES or not path.is_file():
            continue
        try:
            profiles.append(_read_profile(path))
        except ConfigError as error:
            problems.append(error.message)
    return profiles, problems


def load_profiles(profile_dir: Path | str) -> list[SupplierProfile]:
    """Every profile in a folder that loads (none when it does not exist); broken files are logged and skipped."""
    profiles, problems = read_profiles(profile_dir)
    for problem in problems:
        # One broken file must not stop every invoice: skip it, say which and why (no invoice content here).
        logger.warning("supplier profile skipped: %s", problem)
    return profiles


def key_profile_dir(profile_dir: Path | str, key_id: str) -> Path:
    """The folder of one API key's own profiles."""
    if not _KEY_ID.fullmatch(key_id):
        raise ConfigError(f"{key_id!r} is not an API key id")
    return Path(profile_dir) / KEY_PROFILES_FOLDER / key_id


def profiles_for_key(profile_dir: Path | str, key_id: str | None) -> list[SupplierProfile]:
    """The profiles an invoice of this key is read with: the key's own first, then the shared ones it did not copy."""
    shared = load_profiles(profile_dir)
    if key_id is None:
        return shared
    own = load_profiles(key_profile_dir(profile_dir, key_id))
    named = {profile.name for profile in own}
    return own + [profile for profile in shared if profile.name not in named]


def approve_profile(profile_dir: Path | str, key_id: str, name: str) -> Path:
    """Move a key's profile into the shared set (every key's invoices); refused when a keyword is generic."""
    source = key_profile_dir(profile_dir, key_id) / f"{name}.yaml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name) or not source.is_file():
        raise ConfigError(f"key {key_id} has no supplier profile {name!r}")
    profile = _read_profile(source)
    generic = [keyword for keyword in profile.match if keyword_is_generic(keyword)]
    if generic:
        raise ConfigError(f"profile {name!r} has generic keyword(s) {generic}; edit them out before approving")
    target = save_profile(profile_dir, profile)
    source.unlink()
    logger.info("supplier profile %s of API key %s approved into the shared set", name, key_id)
    return target


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
    shared_dir: Path | str | None = None,
    now: dt.datetime | None = None,
) -> SupplierProfile:
    """Store a client's corrections (field name -> right value) as hints in the supplier's profile.

    Every value is checked first (InvalidCorrection, nothing stored, for a bad one). The profile is written
    to ``profile_dir`` (the correcting key's own folder); it starts from the profile the extraction used,
    else the one named after the (corrected) vendor, looked up there and then in ``shared_dir`` (a shared
    profile is copied, never changed), created when needed. A corrected vendor name or VAT number becomes
    a fixed value and a match keyword; a corrected date that swaps day and month sets the supplier's date
    order; for other fields the text before the right value in the document becomes a label synonym (when
    the result still carries its layout, i.e. in the process that extracted it).
    """
    unknown = set(corrections) - set(FIELD_NAMES)
    if unknown:
        raise ConfigError(f"unknown invoice field(s) {sorted(unknown)}; known: {list(FIELD_NAMES)}")
    corrections = check_corrections(corrections)
    now = now or dt.datetime.now(dt.UTC)
    shared = load_profiles(shared_dir) if shared_dir is not None else []
    profiles = {profile.name: profile for profile in [*shared, *load_profiles(profile_dir)]}
    vendor = corrections.get("VendorName") or invoice_result.value("VendorName")
    profile = profiles.get(invoice_result.profile or "")
    if profile is None:
        if not isinstance(vendor, str) or not vendor.strip():
            raise ConfigError("a correction needs a vendor name (found or corrected) to file it under a profile")
        if keyword_is_generic(vendor):
            raise InvalidCorrection(
                f"the vendor name read from this invoice ({vendor!r}) is a generic word; correct VendorName too"
            )
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
