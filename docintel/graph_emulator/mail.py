"""Exchange mailboxes: the well-known folders and their messages, generated from the tenant seed, with a journal.

A message's envelope (folder, people, subject, dates, attachment format) is drawn once from (seed, message
number); its text and attachment are regenerated on demand from (seed, number, version) by
:mod:`docintel.graph_emulator.content`, so an update gives a new body the way an edited file gets new
bytes. Every change appends (change id, message number) to its folder's journal, which the mail delta
feed (:class:`docintel.graph_emulator.delta.MailDeltaFeed`) replays. Exchange keeps its own sync state,
so mail has its own change counter, apart from the drives'.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import random
import time
from dataclasses import dataclass, field

from docintel import synthetic
from docintel.graph_emulator import content
from docintel.graph_emulator.responses import GraphError

# (display name, well-known name, share of generated messages); every mailbox has these top-level folders.
WELL_KNOWN_FOLDERS = (("Inbox", "inbox", 0.5), ("Sent Items", "sentitems", 0.25), ("Archive", "archive", 0.25))
SENT_ITEMS = 1
# Generated message n carries an attachment when (n + seed) % ATTACHMENT_EVERY == 0: one in four.
ATTACHMENT_EVERY = 4
ATTACHMENT_FORMATS = ("pdf", "docx")
# Generated messages were sent between 2018-01-01 and five years later.
_BASE_TIME = 1_514_764_800
_SPAN_SECONDS = 5 * 365 * 86_400
_NOT_FOUND = "The specified object was not found in the store."


def _opaque_id(*parts: object) -> str:
    """An Exchange-looking id: url-safe base64 of a hash, 30 bytes so there is no padding (and never a "/")."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=30).digest()
    return "AAMkAG" + base64.urlsafe_b64encode(digest).decode("ascii")


@dataclass
class Message:
    """One message; ``number`` is tenant-wide and seeds its id and generated text."""

    number: int
    id: str
    user: int
    folder: int
    template: str
    attachment_format: str | None
    subject: str
    sender: tuple[str, str]  # (display name, address)
    to: tuple[str, str]
    sent: float
    received: float
    modified: float
    is_read: bool
    internet_message_id: str
    conversation_id: str
    version: int = 1
    added: int = 0  # the change id that created it (0: generated with the tenant)
    last_change: int = 0
    alive: bool = True


@dataclass
class MailFolder:
    """A mail folder: its messages in creation order and its change journal; ``parent`` None at the top level."""

    index: int
    id: str
    display_name: str
    well_known_name: str
    messages: list[int] = field(default_factory=list)
    journal: list[tuple[int, int]] = field(default_factory=list)  # (change id, message number)
    parent: int | None = None  # index of the parent folder in the mailbox's folders


@dataclass
class Mailbox:
    """A user's mailbox; ``epoch`` grows when its delta tokens are invalidated."""

    user: int
    address: str
    display_name: str
    root_folder_id: str
    folders: list[MailFolder]
    epoch: int = 0


class MailStore:
    """Every mailbox of a tenant and the messages in them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.messages: list[Message] = []
        self.by_id: dict[str, Message] = {}
        self.mailboxes: dict[int, Mailbox] = {}
        self.change_seq = 0

    # ---- construction -------------------------------------------------------------------------------

    def provision(self, user: int, address: str, display_name: str, count: int) -> Mailbox:
        """Give a user a mailbox with ``count`` generated messages spread over the well-known folders."""
        folders = [
            MailFolder(index, _opaque_id("folder", self.seed, address.lower(), well_known), name, well_known)
            for index, (name, well_known, _) in enumerate(WELL_KNOWN_FOLDERS)
        ]
        mailbox = Mailbox(user, address, display_name, _opaque_id("root", self.seed, address.lower()), folders)
        self.mailboxes[user] = mailbox
        weights = [share for _, _, share in WELL_KNOWN_FOLDERS]
        for _ in range(count):
            rng = content.message_rng(self.seed, len(self.messages), 0)
            folder = rng.choices(range(len(folders)), weights)[0]
            with_attachment = (len(self.messages) + self.seed) % ATTACHMENT_EVERY == 0
            self._new_message(mailbox, folder, rng, with_attachment)
        return mailbox

    def _new_message(
        self,
        mailbox: Mailbox,
        folder: int,
        rng: random.Random,
        with_attachment: bool,
        *,
        template: str | None = None,
        attachment_format: str | None = None,
    ) -> Message:
        number = len(self.messages)
        if template is None:
            names = [t.name for t in content.TEMPLATES.values() if set(t.formats) & set(ATTACHMENT_FORMATS)]
            template = rng.choice(names if with_attachment else list(content.TEMPLATES))
        if with_attachment and attachment_format is None:
            formats = [f for f in content.TEMPLATES[template].formats if f in ATTACHMENT_FORMATS]
            attachment_format = rng.choice(formats or list(ATTACHMENT_FORMATS))
        external_name = synthetic.person_name(rng)
        external = (external_name, synthetic.email_for(external_name, rng))
        owner = (mailbox.display_name, mailbox.address)
        sender, to = (owner, external) if folder == SENT_ITEMS else (external, owner)
        sent = float(_BASE_TIME + rng.randrange(_SPAN_SECONDS))
        received = sent + rng.randint(1, 90)
        token = hashlib.blake2b(f"imid:{self.seed}:{number}".encode(), digest_size=12).hexdigest()
        message = Message(
            number=number,
            id=_opaque_id("message", self.seed, number),
            user=mailbox.user,
            folder=folder,
            template=template,
            attachment_format=attachment_format if with_attachment else None,
            subject=content.message_document(template, self.seed, number, 1).title,
            sender=sender,
            to=to,
            sent=sent,
            received=received,
            modified=received,
            is_read=folder != 0 or rng.random() < 0.7,
            internet_message_id=f"<{token.upper()}@{sender[1].rpartition('@')[2]}>",
            conversation_id=_opaque_id("conversation", self.seed, number),
        )
        self.messages.append(message)
        self.by_id[message.id] = message
        mailbox.folders[folder].messages.append(number)
        return message

    def add_folder(self, mailbox: Mailbox, parent: MailFolder | None, name: str) -> MailFolder:
        """A new (empty) folder under ``parent``, or at the top level when None; 409 when the name is taken there."""
        parent_index = None if parent is None else parent.index
        if any(f.parent == parent_index and f.display_name.lower() == name.lower() for f in mailbox.folders):
            raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
        index = len(mailbox.folders)
        folder = MailFolder(index, _opaque_id("folder", self.seed, mailbox.address.lower(), index, name), name, "")
        folder.parent = parent_index
        mailbox.folders.append(folder)
        return folder

    @staticmethod
    def children(mailbox: Mailbox, parent: MailFolder | None) -> list[MailFolder]:
        """The folders directly under ``parent`` (the top level when None)."""
        parent_index = None if parent is None else parent.index
        return [f for f in mailbox.folders if f.parent == parent_index]

    @staticmethod
    def folder_path(mailbox: Mailbox, folder: MailFolder) -> str:
        """The folder's display names from the top level down: "Inbox/Projects"."""
        names = [folder.display_name]
        while folder.parent is not None:
            folder = mailbox.folders[folder.parent]
            names.append(folder.display_name)
        return "/".join(reversed(names))

    # ---- lookups ------------------------------------------------------------------------------------

    def mailbox(self, user: int) -> Mailbox:
        """A user's mailbox, or 404 MailboxNotEnabledForRESTAPI."""
        mailbox = self.mailboxes.get(user)
        if mailbox is None:
            raise GraphError(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        return mailbox

    @staticmethod
    def folder(mailbox: Mailbox, key: str) -> MailFolder:
        """A folder by id, well-known name ("inbox") or top-level display name, or 404 ErrorItemNotFound."""
        lowered = key.lower()
        for folder in mailbox.folders:
            if key == folder.id or lowered == folder.well_known_name:
                return folder
        for folder in mailbox.folders:
            if folder.parent is None and lowered == folder.display_name.lower():
                return folder
        raise GraphError(404, "ErrorItemNotFound", _NOT_FOUND)

    def message(self, message_id: str, mailbox: Mailbox | None = None) -> Message:
        """A live message by id (of ``mailbox`` when given), or 404 ErrorItemNotFound."""
        message = self.by_id.get(message_id)
        if message is None or not message.alive or (mailbox is not None and message.user != mailbox.user):
            raise GraphError(404, "ErrorItemNotFound", _NOT_FOUND)
        return message

    def live(self, folder: MailFolder) -> list[Message]:
        """A folder's live messages in creation order."""
        return [m for m in (self.messages[n] for n in folder.messages) if m.alive]

    # ---- derived content ---------------------------------------------------------------------------

    def document(self, message: Message) -> content.Body:
        """The document at the message's current version."""
        return content.message_document(message.template, self.seed, message.number, message.version)

    def attachment_name(self, message: Message) -> str | None:
        """The attachment's file name, or None."""
        if message.attachment_format is None:
            return None
        return f"{content.TEMPLATES[message.template].stem} {message.number:05d}.{message.attachment_format}"

    def text(self, message: Message) -> str:
        """The plain-text body."""
        return content.message_text(
            self.document(message), message.to[0], message.sender[0], self.attachment_name(message)
        )

    def attachment(self, message: Message) -> content.Attachment | None:
        """The attachment rendered at the message's current version, or None."""
        name = self.attachment_name(message)
        if name is None or message.attachment_format is None:
            return None
        data = content.attachment_bytes(self.document(message), message.attachment_format)
        return content.Attachment(name, content.MIME_TYPES[message.attachment_format], data)

    def mime(self, message: Message) -> bytes:
        """The message as RFC 822 bytes (what ``/$value`` serves)."""
        return content.mime_message(
            sender=message.sender,
            to=message.to,
            subject=message.subject,
            sent=message.sent,
            message_id=message.internet_message_id,
            text=self.text(message),
            attachment=self.attachment(message),
        )

    def change_key(self, message: Message) -> str:
        """The message's changeKey (also its ETag), new with every version."""
        digest = hashlib.blake2b(f"ck:{self.seed}:{message.number}:{message.version}".encode(), digest_size=12)
        return "CQAAABYAAA" + base64.b64encode(digest.digest()).decode("ascii")

    # ---- changes ----------------------------------------------------------------------------------------

    def _record(self, message: Message) -> None:
        self.change_seq += 1
        message.last_change = self.change_seq
        self.mailboxes[message.user].folders[message.folder].journal.append((self.change_seq, message.number))

    def add_message(
        self,
        mailbox: Mailbox,
        folder: MailFolder,
        template: str | None = None,
        attachment_format: str | None = None,
        subject: str | None = None,
    ) -> Message:
        """Deliver a new message (received now) to ``folder``."""
        if template is not None and template not in content.TEMPLATES:
            raise GraphError(
                400, "invalidRequest", f"unknown template {template!r}; known: {', '.join(content.TEMPLATES)}"
            )
        if attachment_format is not None and attachment_format not in ATTACHMENT_FORMATS:
            raise GraphError(400, "invalidRequest", f"attachments are {' or '.join(ATTACHMENT_FORMATS)}")
        rng = content.message_rng(self.seed, len(self.messages), 0)
        with_attachment = attachment_format is not None
        message = self._new_message(
            mailbox, folder.index, rng, with_attachment, template=template, attachment_format=attachment_format
        )
        now = time.time()
        message.sent, message.received, message.modified = now - 1, now, now
        message.is_read = False
        if subject is not None:
            message.subject = subject
        self._record(message)
        message.added = message.last_change
        return message

    def update_message(self, message: Message, subject: str | None = None, is_read: bool | None = None) -> None:
        """Edit a message: a new version (changeKey, ETag, lastModifiedDateTime, text and attachment)."""
        if subject is not None:
            message.subject = subject
        if is_read is not None:
            message.is_read = is_read
        message.version += 1
        message.modified = max(time.time(), message.modified + 1)
        self._record(message)

    def delete_message(self, message: Message) -> None:
        """Delete a message (delta reports it as ``@removed``)."""
        message.alive = False
        self._record(message)

    def invalidate(self, mailbox: Mailbox | None = None) -> None:
        """Make the delta tokens of one mailbox (or all) answer 410 SyncStateNotFound."""
        for target in [mailbox] if mailbox else self.mailboxes.values():
            target.epoch += 1

    @staticmethod
    def journal_position(folder: MailFolder, since: int) -> int:
        """Where the changes after change id ``since`` start in a folder's journal."""
        return bisect.bisect_right(folder.journal, since, key=lambda entry: entry[0])
