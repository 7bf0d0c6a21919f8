"""The tenant description: a YAML file parsed into pydantic models (a bad key fails naming file and key).

Example (see ``config/demo-tenant.yaml``)::

    tenant: {name: Wessex County Council, domain: wessex, seed: 20250401}
    sites:
      - name: finance
        display_name: Finance
        libraries:
          - name: Documents
            folders:
              - name: Invoices
                files: 6                      # generated from the folder's templates
                templates: [invoice]
              - name: Contracts
                files: [{template: contract, format: pdf, name: Cleaning contract.pdf}]
            generate: {files: 100000, files_per_folder: 50, folders_per_folder: 10}   # bulk
    users:
      - {user_principal_name: alex.morgan@wessex.example.gov.uk, display_name: Alex Morgan, onedrive: true,
         mailbox: true, mail_messages: 40}     # Inbox, Sent Items and Archive, 40 generated messages
      - {user_principal_name: sam.okafor@wessex.example.gov.uk, display_name: Sam Okafor}   # no mailbox
    generate_users: {count: 250, onedrive_ratio: 0.8, mailbox_ratio: 0.9, mail_messages: 20}
    emulator: {page_size: 200}

``mailbox: false`` (the default) means no Exchange mailbox: the mail endpoints answer 404
``MailboxNotEnabledForRESTAPI``. ``mail_messages`` counts the generated messages of a mailbox (0 = an empty
mailbox that still has its folders); they are spread over the folders and one in four carries a PDF or DOCX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docintel.errors import ConfigError
from docintel.graph_emulator.content import TEMPLATES


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_templates(names: list[str]) -> list[str]:
    for name in names:
        if name not in TEMPLATES:
            raise ValueError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    return names


class FileSpec(_Spec):
    """One explicit file: its template, optional format (extension) and optional name."""

    template: str
    format: str | None = None
    name: str | None = None

    @field_validator("template")
    @classmethod
    def _template_known(cls, value: str) -> str:
        return _known_templates([value])[0]


class FolderSpec(_Spec):
    """A folder with explicit or generated files and sub-folders."""

    name: str
    files: int | list[FileSpec] = 0
    templates: list[str] = Field(default_factory=list)
    folders: list[FolderSpec] = Field(default_factory=list)

    @field_validator("templates")
    @classmethod
    def _templates_known(cls, value: list[str]) -> list[str]:
        return _known_templates(value)


class GenerateSpec(_Spec):
    """A bulk synthetic tree: ``files`` files spread over a balanced tree of folders."""

    files: int = Field(ge=0)
    files_per_folder: int = Field(default=50, ge=1)
    folders_per_folder: int = Field(default=10, ge=1)
    templates: list[str] = Field(default_factory=list)

    @field_validator("templates")
    @classmethod
    def _templates_known(cls, value: list[str]) -> list[str]:
        return _known_templates(value)


class LibrarySpec(_Spec):
    """A document library (a drive): its root files, folders and optional bulk tree."""

    name: str = "Documents"
    files: int | list[FileSpec] = 0
    templates: list[str] = Field(default_factory=list)
    folders: list[FolderSpec] = Field(default_factory=list)
    generate: GenerateSpec | None = None


class SiteSpec(_Spec):
    """A SharePoint site with its document libraries."""

    name: str
    display_name: str | None = None
    description: str = ""
    libraries: list[LibrarySpec] = Field(default_factory=lambda: [LibrarySpec()])


class UserSpec(_Spec):
    """A user; ``onedrive: false`` means no OneDrive (``/users/{id}/drive`` gives 404), ``mailbox`` an Exchange one."""

    user_principal_name: str
    display_name: str
    job_title: str | None = None
    onedrive: bool = True
    drive: LibrarySpec = Field(default_factory=LibrarySpec)
    mailbox: bool = False
    mail_messages: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _messages_need_mailbox(self) -> UserSpec:
        if self.mail_messages and not self.mailbox:
            raise ValueError("mail_messages needs mailbox: true")
        return self


class GenerateUsersSpec(_Spec):
    """Bulk synthetic users (for paging), each with an empty OneDrive or none, and a share of them with mailboxes."""

    count: int = Field(default=0, ge=0)
    onedrive_ratio: float = Field(default=0.8, ge=0, le=1)
    mailbox_ratio: float = Field(default=0.0, ge=0, le=1)
    mail_messages: int = Field(default=0, ge=0)  # generated messages in each generated mailbox


class RetentionLabelSpec(_Spec):
    """A retention label the tenant's file plan publishes."""

    name: str
    behavior_during_retention_period: str = "retain"

    @field_validator("behavior_during_retention_period")
    @classmethod
    def _behaviour_known(cls, value: str) -> str:
        known = ("doNotRetain", "retain", "retainAsRecord", "retainAsRegulatoryRecord")
        if value not in known:
            raise ValueError(f"unknown behaviour {value!r}; known: {', '.join(known)}")
        return value


class EmulatorSpec(_Spec):
    """Behaviour knobs; all can be changed at run time through the control API."""

    page_size: int = Field(default=200, ge=1)
    users_page_size: int = Field(default=100, ge=1, le=999)
    download_url_ttl_seconds: float = Field(default=3600, gt=0)
    delta_token_ttl_seconds: float | None = None
    empty_page_rate: float = Field(default=0.0, ge=0, le=1)
    repeat_rate: float = Field(default=0.0, ge=0, le=1)
    ru_per_minute: int | None = None
    ru_per_day: int | None = None
    require_token: str | None = None
    hashes: list[str] = Field(default_factory=lambda: ["quickXorHash", "sha1Hash", "sha256Hash"])


class TenantInfo(_Spec):
    """Tenant identity: the display name, the SharePoint host prefix and the seed of everything generated."""

    name: str = "Wessex County Council"
    domain: str = "wessex"
    mail_domain: str = "wessex.example.gov.uk"
    seed: int = 20250401


class TenantSpec(_Spec):
    """A whole tenant description."""

    tenant: TenantInfo = Field(default_factory=TenantInfo)
    sites: list[SiteSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    generate_users: GenerateUsersSpec = Field(default_factory=GenerateUsersSpec)
    retention_labels: list[RetentionLabelSpec] = Field(default_factory=list)
    emulator: EmulatorSpec = Field(default_factory=EmulatorSpec)


def parse_tenant_spec(data: Any, source: str = "<tenant>") -> TenantSpec:
    """Validate a tenant description; ConfigError names the source and the offending key."""
    try:
        return TenantSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{source}: {key}: {first['msg']}") from exc


def load_tenant_spec(path: Path) -> TenantSpec:
    """Read and validate a tenant YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read tenant file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with tenant, sites and users")
    return parse_tenant_spec(data, str(path))
