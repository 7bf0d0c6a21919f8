"""The emulated tenant: sites, users, drives and drive items, in compact per-item arrays, and the mailboxes.

A million items must fit in a few tens of MB, so an item is an index into parallel ``array`` columns
(parent, drive, kind, versions, last change id, alive flag); everything else is derived from
(tenant seed, item index): its id, generated name, timestamps and body. Only what the control API or a
client changed is stored, in small dicts keyed by index (names, timestamps, retention labels).

Every change appends (change id, item) to its drive's journal and to the changed item's ancestors,
which is what the delta feed (:mod:`docintel.graph_emulator.delta`) replays. Mailboxes live in
:attr:`Tenant.mail` (:mod:`docintel.graph_emulator.mail`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from docintel import synthetic
from docintel.graph_emulator import content
from docintel.graph_emulator.mail import MailStore
from docintel.graph_emulator.quickxor import quick_xor_hash
from docintel.graph_emulator.responses import GraphError
from docintel.graph_emulator.spec import FileSpec, FolderSpec, LibrarySpec, TenantSpec

_M64 = (1 << 64) - 1
# Generated items were created between this instant (2018-01-01) and five years later.
_BASE_TIME = 1_514_764_800
_SPAN_SECONDS = 5 * 365 * 86_400
_FOLDER_WORDS = (
    "Finance",
    "Planning",
    "Highways",
    "Committee",
    "Case files",
    "Contracts",
    "Archive",
    "HR",
    "Projects",
    "Correspondence",
    "Reports",
    "Procurement",
    "Audit",
    "Schools",
    "Licensing",
    "Waste",
)
NO_PARENT = -1


def _mix(value: int) -> int:
    """splitmix64: a cheap, well-spread hash of an integer, for per-item derived values."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def _guid(*parts: object) -> str:
    return str(uuid.UUID(bytes=hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()))


class ItemIdCodec:
    """Turns an item index into a Graph-shaped id ("01" + 32 base32 characters) and back, with no table."""

    def __init__(self, seed: int) -> None:
        key = hashlib.blake2b(f"item-ids:{seed}".encode(), digest_size=42).digest()
        self._tag, self._mask, self._key = key[:5], int.from_bytes(key[5:10], "big"), key[10:]

    def _mac(self, index: int) -> bytes:
        # Keyed BLAKE2 is native; hmac.new(..., blake2b) would take the slow pure-Python path.
        return hashlib.blake2b(index.to_bytes(5, "big"), key=self._key, digest_size=10).digest()

    def encode(self, index: int) -> str:
        """The id of item ``index``."""
        masked = (index ^ self._mask).to_bytes(5, "big")
        return "01" + base64.b32encode(self._tag + masked + self._mac(index)).decode("ascii")

    def decode(self, item_id: str) -> int | None:
        """The index of an id this tenant issued, or None."""
        if len(item_id) != 34 or not item_id.startswith("01"):
            return None
        try:
            raw = base64.b32decode(item_id[2:])
        except (binascii.Error, ValueError):
            return None
        if raw[:5] != self._tag:
            return None
        index = int.from_bytes(raw[5:10], "big") ^ self._mask
        if index >= 1 << 40 or not hmac.compare_digest(raw[10:], self._mac(index)):
            return None
        return index


@dataclass
class Site:
    """A SharePoint site (team site or a user's personal OneDrive site)."""

    index: int
    id: str
    name: str
    display_name: str
    description: str
    web_url: str
    created: float
    personal: bool = False
    drives: list[int] = field(default_factory=list)


@dataclass
class User:
    """A directory user; ``drive`` is None when no OneDrive is provisioned."""

    index: int
    id: str
    user_principal_name: str
    display_name: str
    given_name: str
    surname: str
    job_title: str | None
    drive: int | None = None


@dataclass
class Drive:
    """A document library or OneDrive: its root item, enumeration order and change journal."""

    index: int
    id: str
    name: str
    drive_type: str
    web_url: str
    site: int
    owner_user: int | None
    root: int
    list_id: str
    created: float
    epoch: int = 0
    order: array = field(default_factory=lambda: array("i"))
    journal_seq: array = field(default_factory=lambda: array("q"))
    journal_item: array = field(default_factory=lambda: array("i"))


@dataclass(frozen=True)
class FileFacts:
    """What Graph reports about a file's bytes."""

    size: int
    hashes: dict[str, str]


class Tenant:
    """All state of one emulated tenant, built deterministically from a :class:`TenantSpec`."""

    def __init__(self, spec: TenantSpec) -> None:
        info = spec.tenant
        self.spec = spec
        self.seed = info.seed
        self.name = info.name
        self.hostname = f"{info.domain}.sharepoint.com"
        self.my_hostname = f"{info.domain}-my.sharepoint.com"
        self.mail_domain = info.mail_domain
        self.tenant_id = _guid("tenant", self.seed)
        self.ids = ItemIdCodec(self.seed)
        self.created_at = time.time()
        self.labels_published = {label.name: label.behavior_during_retention_period for label in spec.retention_labels}

        self.parent = array("i")
        self.drive_of = array("i")
        self.kind = array("B")
        self.version = array("I")
        self.content_version = array("I")
        self.last_change = array("q")
        self.alive = array("B")
        self.children: dict[int, array] = {}
        self.names: dict[int, str] = {}
        self.created_override: dict[int, float] = {}
        self.modified_override: dict[int, float] = {}
        self.retention_labels: dict[int, dict[str, Any]] = {}

        self.change_seq = 0
        self.change_times = array("d")
        self.sites: list[Site] = []
        self.users: list[User] = []
        self.drives: list[Drive] = []
        self.site_by_id: dict[str, Site] = {}
        self.user_by_key: dict[str, User] = {}
        self.drive_by_id: dict[str, Drive] = {}
        self.mail = MailStore(self.seed)
        self._facts_cache: OrderedDict[tuple[int, int], FileFacts] = OrderedDict()
        self.facts_cache_size = 4096
        self.hash_names = tuple(spec.emulator.hashes)
        self._build(spec)

    # ---- construction -------------------------------------------------------------------------------

    def _build(self, spec: TenantSpec) -> None:
        for site_spec in spec.sites:
            site = self._add_site(site_spec.name, site_spec.display_name or site_spec.name, site_spec.description)
            for library in site_spec.libraries:
                drive = self._add_drive(site, library.name, "documentLibrary", None)
                self._populate(drive, library)
        for user_spec in spec.users:
            user = self._add_user(user_spec.user_principal_name, user_spec.display_name, user_spec.job_title)
            if user_spec.onedrive:
                self._provision_onedrive(user, user_spec.drive)
            if user_spec.mailbox:
                self.mail.provision(user.index, user.user_principal_name, user.display_name, user_spec.mail_messages)
        generated = spec.generate_users
        rng = content.body_rng(self.seed, -1, 0)
        # Mailboxes draw from their own stream, so adding them leaves the generated users and drives unchanged.
        mailbox_rng = content.body_rng(self.seed, -2, 0)
        for number in range(generated.count):
            display = synthetic.person_name(rng)
            upn = f"{display.lower().replace(' ', '.').replace(chr(39), '')}.{number}@{self.mail_domain}"
            user = self._add_user(upn, display, rng.choice(("Officer", "Manager", "Assistant", "Analyst")))
            if rng.random() < generated.onedrive_ratio:
                self._provision_onedrive(user, LibrarySpec())
            if mailbox_rng.random() < generated.mailbox_ratio:
                self.mail.provision(user.index, upn, display, generated.mail_messages)

    def _add_site(self, name: str, display_name: str, description: str, *, personal: bool = False) -> Site:
        index = len(self.sites)
        host = self.my_hostname if personal else self.hostname
        site_id = f"{host},{_guid('site', self.seed, index)},{_guid('web', self.seed, index)}"
        path = f"personal/{name}" if personal else f"sites/{name}"
        site = Site(
            index, site_id, name, display_name, description, f"https://{host}/{path}", self._created(-index - 2)
        )
        site.personal = personal
        self.sites.append(site)
        self.site_by_id[site_id] = site
        return site

    def _add_user(self, upn: str, display_name: str, job_title: str | None) -> User:
        given, _, surname = display_name.partition(" ")
        user = User(
            len(self.users), _guid("user", self.seed, upn.lower()), upn, display_name, given, surname, job_title
        )
        self.users.append(user)
        self.user_by_key[user.id] = user
        self.user_by_key[upn.lower()] = user
        return user

    def _provision_onedrive(self, user: User, library: LibrarySpec) -> None:
        mangled = user.user_principal_name.replace("@", "_").replace(".", "_")
        site = self._add_site(mangled, user.display_name, "", personal=True)
        drive = self._add_drive(site, "OneDrive", "business", user.index)
        user.drive = drive.index
        self._populate(drive, library)

    def _add_drive(self, site: Site, name: str, drive_type: str, owner_user: int | None) -> Drive:
        index = len(self.drives)
        raw = hashlib.blake2b(f"drive:{self.seed}:{index}".encode(), digest_size=48).digest()
        drive_id = "b!" + base64.urlsafe_b64encode(raw).decode("ascii")
        library_path = "Documents" if drive_type == "business" else name.replace(" ", "%20")
        drive = Drive(
            index,
            drive_id,
            name,
            drive_type,
            f"{site.web_url}/{library_path}",
            site.index,
            owner_user,
            root=-1,
            list_id=_guid("list", self.seed, index),
            created=site.created,
        )
        self.drives.append(drive)
        self.drive_by_id[drive_id] = drive
        site.drives.append(index)
        drive.root = self._new_item(drive, NO_PARENT, content.FOLDER_KIND, "root")
        return drive

    def _new_item(self, drive: Drive, parent: int, kind: int, name: str | None) -> int:
        index = len(self.parent)
        self.parent.append(parent)
        self.drive_of.append(drive.index)
        self.kind.append(kind)
        self.version.append(1)
        self.content_version.append(1)
        self.last_change.append(0)
        self.alive.append(1)
        if name is not None:
            self.names[index] = name
        if kind == content.FOLDER_KIND:
            self.children[index] = array("i")
        if parent != NO_PARENT:
            self.children[parent].append(index)
        drive.order.append(index)
        return index

    def _kinds_for(self, templates: list[str]) -> list[int]:
        names = templates or list(content.TEMPLATES)
        return [code for code, (template, _) in enumerate(content.KINDS) if code and template in names]

    def _add_files(self, drive: Drive, parent: int, files: int | list[FileSpec], templates: list[str]) -> None:
        if isinstance(files, int):
            kinds = self._kinds_for(templates)
            for _ in range(files):
                self._new_item(drive, parent, kinds[_mix(self.seed ^ len(self.parent)) % len(kinds)], None)
            return
        for file_spec in files:
            kind = content.kind_code(file_spec.template, file_spec.format)
            name = file_spec.name
            if name is not None and "." not in name:
                name = f"{name}.{content.KINDS[kind][1]}"
            self._new_item(drive, parent, kind, name)

    def _add_folder(self, drive: Drive, parent: int, folder: FolderSpec) -> None:
        index = self._new_item(drive, parent, content.FOLDER_KIND, folder.name)
        self._add_files(drive, index, folder.files, folder.templates)
        for child in folder.folders:
            self._add_folder(drive, index, child)

    def _populate(self, drive: Drive, library: LibrarySpec) -> None:
        self._add_files(drive, drive.root, library.files, library.templates)
        for folder in library.folders:
            self._add_folder(drive, drive.root, folder)
        if library.generate is not None and library.generate.files:
            self._generate_tree(
                drive,
                library.generate.files,
                library.generate.files_per_folder,
                library.generate.folders_per_folder,
                library.generate.templates,
            )

    def _generate_tree(self, drive: Drive, files: int, per_folder: int, fanout: int, templates: list[str]) -> None:
        """A balanced tree, folders breadth-first (parents always enumerate before children), then files."""
        folders_needed = -(-files // per_folder)
        folders: list[int] = []
        frontier = [drive.root]
        while len(folders) < folders_needed:
            next_frontier = []
            for parent in frontier:
                for _ in range(fanout):
                    if len(folders) >= folders_needed:
                        break
                    folder = self._new_item(drive, parent, content.FOLDER_KIND, None)
                    folders.append(folder)
                    next_frontier.append(folder)
            frontier = next_frontier
        kinds = self._kinds_for(templates)
        for number in range(files):
            self._new_item(
                drive, folders[number // per_folder], kinds[_mix(self.seed ^ len(self.parent)) % len(kinds)], None
            )

    # ---- derived facts --------------------------------------------------------------------------------

    def _created(self, index: int) -> float:
        return float(_BASE_TIME + _mix(self.seed * 1_000_003 + index) % _SPAN_SECONDS)

    def created(self, index: int) -> float:
        """When an item was created."""
        return self.created_override.get(index) or self._created(index)

    def modified(self, index: int) -> float:
        """When an item was last modified."""
        override = self.modified_override.get(index)
        if override is not None:
            return override
        return self.created(index) + _mix(self.seed * 7_919 + index) % (400 * 86_400)

    def is_folder(self, index: int) -> bool:
        """Whether an item is a folder (the root included)."""
        return self.kind[index] == content.FOLDER_KIND

    def name_of(self, index: int) -> str:
        """An item's name: set explicitly, or derived from its template and index."""
        name = self.names.get(index)
        if name is not None:
            return name
        kind = self.kind[index]
        if kind == content.FOLDER_KIND:
            return f"{_FOLDER_WORDS[_mix(self.seed + index) % len(_FOLDER_WORDS)]} {index}"
        template, fmt = content.KINDS[kind]
        return f"{content.TEMPLATES[template].stem} {index:07d}.{fmt}"

    def mime_type(self, index: int) -> str:
        """A file's MIME type."""
        return content.MIME_TYPES[content.KINDS[self.kind[index]][1]]

    def body(self, index: int, version: int | None = None) -> bytes:
        """The bytes of a file at a content version (default the current one)."""
        return content.render(self.kind[index], self.seed, index, version or self.content_version[index])

    def facts(self, index: int, version: int | None = None) -> FileFacts:
        """Size and hashes of a file version (bounded LRU cache: bodies are regenerated, never kept)."""
        key = (index, version or self.content_version[index])
        cached = self._facts_cache.get(key)
        if cached is not None:
            self._facts_cache.move_to_end(key)
            return cached
        data = self.body(index, key[1])
        hashes: dict[str, str] = {}
        for name in self.hash_names:
            if name == "quickXorHash":
                hashes[name] = quick_xor_hash(data)
            elif name == "sha1Hash":
                hashes[name] = hashlib.sha1(data, usedforsecurity=False).hexdigest().upper()
            elif name == "sha256Hash":
                hashes[name] = hashlib.sha256(data).hexdigest().upper()
        facts = FileFacts(len(data), hashes)
        self._facts_cache[key] = facts
        if len(self._facts_cache) > self.facts_cache_size:
            self._facts_cache.popitem(last=False)
        return facts

    def item_guid(self, index: int) -> str:
        """The GUID inside an item's eTag/cTag and its listItemUniqueId."""
        return _guid("item", self.seed, index).upper()

    def path_names(self, index: int) -> list[str]:
        """Names from the drive root down to the item (the root itself excluded)."""
        names: list[str] = []
        while self.parent[index] != NO_PARENT:
            names.append(self.name_of(index))
            index = self.parent[index]
        return names[::-1]

    def ancestors(self, index: int) -> Iterator[int]:
        """The item's parent, grandparent... up to the root."""
        index = self.parent[index]
        while index != NO_PARENT:
            yield index
            index = self.parent[index]

    def descendants(self, index: int) -> Iterator[int]:
        """Every live item below a folder, parents before children."""
        stack = list(reversed(self.children.get(index, ())))
        while stack:
            child = stack.pop()
            yield child
            stack.extend(reversed(self.children.get(child, ())))

    def item_count(self) -> int:
        """Number of live items, roots included."""
        return sum(self.alive)

    # ---- lookups --------------------------------------------------------------------------------------

    def drive(self, drive_id: str) -> Drive:
        """A drive by id, or 404 itemNotFound."""
        drive = self.drive_by_id.get(drive_id)
        if drive is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return drive

    def site(self, site_id: str) -> Site:
        """A site by id ("host,guid,guid", or the bare site GUID), or 404."""
        site = self.site_by_id.get(site_id)
        if site is None:
            site = next((s for s in self.sites if site_id.lower() in s.id.lower().split(",")[1:2]), None)
        if site is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        return site

    def user(self, key: str) -> User:
        """A user by id or user principal name, or 404."""
        user = self.user_by_key.get(key) or self.user_by_key.get(key.lower())
        if user is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
            )
        return user

    def item(self, drive: Drive, item_id: str) -> int:
        """A live item of ``drive`` by id (or "root"), or 404 itemNotFound."""
        if item_id.lower() == "root":
            return drive.root
        index = self.ids.decode(item_id)
        if index is None or index >= len(self.parent) or not self.alive[index] or self.drive_of[index] != drive.index:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return index

    def item_by_id(self, item_id: str) -> int:
        """A live item anywhere in the tenant by id, or 404."""
        index = self.ids.decode(item_id)
        if index is None or index >= len(self.parent) or not self.alive[index]:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return index

    def item_by_path(self, drive: Drive, path: str) -> int:
        """A live item by its path below the drive root ("Finance/Invoices/x.pdf"), or 404."""
        index = drive.root
        for part in (p for p in path.strip("/").split("/") if p):
            match = next((c for c in self.children.get(index, ()) if self.name_of(c).lower() == part.lower()), None)
            if match is None:
                raise GraphError(404, "itemNotFound", "The resource could not be found.")
            index = match
        return index

    # ---- changes ----------------------------------------------------------------------------------------

    def _record(self, index: int) -> None:
        self.change_seq += 1
        self.change_times.append(time.time())
        self.last_change[index] = self.change_seq
        drive = self.drives[self.drive_of[index]]
        drive.journal_seq.append(self.change_seq)
        drive.journal_item.append(index)

    def _touch(self, index: int, *, content_changed: bool = False, with_ancestors: bool = True) -> None:
        now = time.time()
        self.version[index] += 1
        if content_changed:
            self.content_version[index] += 1
        self.modified_override[index] = now
        self._record(index)
        if with_ancestors:
            for ancestor in self.ancestors(index):
                self.version[ancestor] += 1
                self.modified_override[ancestor] = now
                self._record(ancestor)

    def _check_name_free(self, parent: int, name: str, ignore: int | None = None) -> None:
        if not name or any(c in name for c in '"*:<>?/\\|'):
            raise GraphError(400, "invalidRequest", "The provided name contains invalid characters.")
        lowered = name.lower()
        for child in self.children.get(parent, ()):
            if child != ignore and self.name_of(child).lower() == lowered:
                raise GraphError(409, "nameAlreadyExists", "The specified item name already exists.")

    def _folder(self, index: int) -> int:
        if not self.is_folder(index):
            raise GraphError(400, "invalidRequest", "The parent item is not a folder.")
        return index

    def add_item(self, drive: Drive, parent: int, name: str | None, template: str | None, fmt: str | None) -> int:
        """Create a file from a template (or a folder when ``template`` is None) under ``parent``."""
        self._folder(parent)
        if template is None:
            kind = content.FOLDER_KIND
            if name is None:
                raise GraphError(400, "invalidRequest", "A folder needs a name.")
        else:
            try:
                kind = content.kind_code(template, fmt)
            except ValueError as exc:
                raise GraphError(400, "invalidRequest", str(exc)) from exc
        index = self._new_item(drive, parent, kind, None)
        final_name = name or self.name_of(index)
        if name is not None and kind != content.FOLDER_KIND and "." not in name:
            final_name = f"{name}.{content.KINDS[kind][1]}"
        try:
            self._check_name_free(parent, final_name, ignore=index)
        except GraphError:
            self.children[parent].remove(index)
            drive.order.pop()
            self.alive[index] = 0
            raise
        self.names[index] = final_name
        self.created_override[index] = time.time()
        self.version[index] = 0
        self._touch(index)
        return index

    def edit_item(self, index: int) -> None:
        """Change a file's content (a new content version: new size, hashes, cTag and eTag)."""
        if self.is_folder(index):
            raise GraphError(400, "invalidRequest", "Only files have content.")
        self._touch(index, content_changed=True)

    def rename_item(self, index: int, name: str) -> None:
        """Rename an item in place (eTag changes, cTag does not)."""
        if self.parent[index] == NO_PARENT:
            raise GraphError(400, "invalidRequest", "The root cannot be renamed.")
        self._check_name_free(self.parent[index], name, ignore=index)
        self.names[index] = name
        self._touch(index)

    def move_item(self, index: int, new_parent: int, name: str | None = None) -> None:
        """Move an item to another folder of the same drive (optionally renaming it)."""
        self._folder(new_parent)
        if self.drive_of[new_parent] != self.drive_of[index]:
            raise GraphError(400, "invalidRequest", "Moving items between drives is not supported.")
        if new_parent == index or index in self.ancestors(new_parent):
            raise GraphError(400, "invalidRequest", "An item cannot be moved into itself.")
        if self.parent[index] == NO_PARENT:
            raise GraphError(400, "invalidRequest", "The root cannot be moved.")
        final_name = name or self.name_of(index)
        self._check_name_free(new_parent, final_name, ignore=index)
        old_parent = self.parent[index]
        self._touch(old_parent)
        self.children[old_parent].remove(index)
        self.children[new_parent].append(index)
        self.parent[index] = new_parent
        self.names[index] = final_name
        self._touch(index)

    def delete_item(self, index: int) -> int:
        """Delete an item and, for a folder, everything below it; returns how many items were removed."""
        if self.parent[index] == NO_PARENT:
            raise GraphError(403, "accessDenied", "The root of a drive cannot be deleted.")
        label = self.retention_labels.get(index)
        if label is not None and not label["retentionSettings"]["isDeleteAllowed"]:
            raise GraphError(403, "accessDenied", "The item is retained by a retention label and cannot be deleted.")
        doomed = [index, *self.descendants(index)]
        self.children[self.parent[index]].remove(index)
        self._touch(self.parent[index])
        for item in doomed:
            self.alive[item] = 0
            self.children.pop(item, None)
            self.retention_labels.pop(item, None)
            self._record(item)
        return len(doomed)

    def invalidate_tokens(self, drive: Drive | None = None) -> None:
        """Make every delta token of one drive (or all drives) answer 410 resyncRequired."""
        for target in [drive] if drive else self.drives:
            target.epoch += 1

    # ---- retention labels -------------------------------------------------------------------------------

    def set_retention_label(self, index: int, body: dict[str, Any], applied_by: str = "docintel") -> tuple[int, dict]:
        """PATCH .../retentionLabel: apply a label by name (201 first time, 200 after) or lock/unlock a record."""
        current = self.retention_labels.get(index)
        name = body.get("name")
        settings = body.get("retentionSettings") or {}
        if name is None and "isRecordLocked" not in settings:
            raise GraphError(400, "invalidRequest", "Either name or retentionSettings.isRecordLocked is required.")
        if name is not None:
            if self.labels_published and name not in self.labels_published:
                raise GraphError(400, "invalidRequest", f"The retention label '{name}' was not found.")
            if current is not None and name != current["name"]:
                self._check_label_changeable(current)
            behaviour = self.labels_published.get(name, "retain")
            record = behaviour in ("retainAsRecord", "retainAsRegulatoryRecord")
            label = {
                "name": name,
                "retentionSettings": {
                    "behaviorDuringRetentionPeriod": behaviour,
                    "isDeleteAllowed": behaviour == "doNotRetain",
                    "isRecordLocked": record,
                    "isMetadataUpdateAllowed": not record,
                    "isContentUpdateAllowed": not record,
                    "isLabelUpdateAllowed": behaviour != "retainAsRegulatoryRecord",
                },
                "isLabelAppliedExplicitly": True,
                "labelAppliedDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "labelAppliedBy": {"user": {"id": _guid("app", applied_by), "displayName": applied_by}},
            }
        else:
            if current is None:
                raise GraphError(404, "itemNotFound", "The item has no retention label.")
            label = current
        if "isRecordLocked" in settings:
            if label["retentionSettings"]["behaviorDuringRetentionPeriod"] == "retainAsRegulatoryRecord":
                raise GraphError(403, "accessDenied", "A regulatory record cannot be unlocked.")
            label["retentionSettings"]["isRecordLocked"] = bool(settings["isRecordLocked"])
        self.retention_labels[index] = label
        self._touch(index, with_ancestors=False)
        return (201 if current is None else 200), label

    def _check_label_changeable(self, current: dict[str, Any]) -> None:
        settings = current["retentionSettings"]
        if not settings["isLabelUpdateAllowed"] or settings["isRecordLocked"]:
            raise GraphError(403, "accessDenied", "The retention label on this item cannot be changed or removed.")

    def remove_retention_label(self, index: int) -> None:
        """DELETE .../retentionLabel (refused for locked and regulatory records)."""
        current = self.retention_labels.get(index)
        if current is None:
            raise GraphError(404, "itemNotFound", "The item has no retention label.")
        self._check_label_changeable(current)
        del self.retention_labels[index]
        self._touch(index, with_ancestors=False)
