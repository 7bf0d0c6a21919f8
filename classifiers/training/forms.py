"""How a generated document looks once docintel has read its file: the form, not the words.

The classifiers never see a file, only what the extractors make of it, so the training documents are laid out
the same way:

- a mail message (eml, msg) opens with the header block docintel's mail extractor writes (Subject, From, To,
  Cc, Date in ISO form) and its subject is its title; replies and forwards carry a "Re:"/"FW:" subject and the
  quoted earlier message, and many end with a signature and a disclaimer;
- a scanned page or photograph (png, jpg) has no title, a camera's or scanner's file name, and the character
  errors OCR makes (0 for O, 1 for l, rn for m, lost or doubled spaces).

Everything is drawn from the ``rng`` handed in, so a seed gives the same documents every time.
"""

from __future__ import annotations

import datetime as dt
import random

from docintel import synthetic

MAIL_TYPES = frozenset({"eml", "msg"})
SCAN_TYPES = frozenset({"png", "jpg", "jpeg", "tif", "tiff", "image"})

# Subject prefixes of replies and forwards, as different mail clients write them.
_REPLY_PREFIXES = ("Re: ", "RE: ", "Re: ", "Fwd: ", "FW: ", "Fw: ", "RE: RE: ")
# Share of messages that are a reply or forward (and then quote an earlier message), sign off, carry a
# disclaimer, copy someone in, or arrive without any recipient header (drafts, exports, notes).
REPLY_SHARE = 0.4
SIGNATURE_SHARE = 0.5
DISCLAIMER_SHARE = 0.25
CC_SHARE = 0.15
NO_RECIPIENT_SHARE = 0.1
# Share of messages whose file is named after the subject (an Outlook "save as"); the rest get a store's name.
SUBJECT_NAME_SHARE = 0.5

_DISCLAIMERS = (
    "This email and any files transmitted with it are confidential and intended solely for the addressee. "
    "If you have received it in error please tell the sender and delete it.",
    "The views expressed in this message are those of the sender and not necessarily of the organisation.",
    "**********************************************************************\n"
    "This message has been checked for viruses before sending.\n"
    "**********************************************************************",
    "Please consider the environment before printing this email.",
    "This e-mail may be monitored and recorded for lawful business purposes.",
)
_SIGN_OFFS = ("Kind regards", "Regards", "Best wishes", "Many thanks", "Thanks", "Yours sincerely", "Cheers", "Best")
_JOB_TITLES = ("Business Support Officer", "Team Manager", "Senior Officer", "Project Officer", "Administrator",
               "Customer Services Adviser", "Information Officer", "Operations Manager")  # fmt: skip
_QUOTE_STYLES = ("gmail", "outlook", "lotus")

# OCR confusions, each a (seen, read as) pair: round letters for digits and back, thin strokes merged or split.
_OCR_CONFUSIONS = (
    ("O", "0"), ("0", "O"), ("o", "0"), ("l", "1"), ("1", "l"), ("I", "1"), ("i", "l"), ("S", "5"), ("5", "S"),
    ("B", "8"), ("8", "B"), ("m", "rn"), ("rn", "m"), ("e", "c"), ("a", "o"), ("c", "e"), ("h", "b"), ("u", "v"),
    ("g", "q"), ("Z", "2"), (",", "."), (".", ","), (":", ";"), ("£", "E"), ("-", "~"),
)  # fmt: skip


def iso_datetime(rng: random.Random, first_year: int = 2008, last_year: int = 2025) -> str:
    """A timestamp as docintel's mail extractor writes the Date header (ISO 8601 with an offset)."""
    start = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC).timestamp()
    end = dt.datetime(last_year, 12, 31, tzinfo=dt.UTC).timestamp()
    moment = dt.datetime.fromtimestamp(rng.uniform(start, end), tz=dt.UTC).replace(microsecond=0)
    offset = dt.timezone(dt.timedelta(hours=rng.choice((0, 0, 0, 1, 1, -5, 2, 8))))
    return moment.astimezone(offset).isoformat()


def _address(rng: random.Random) -> str:
    """A sender or recipient as a header shows one: "Name <address>", "Surname, First", or a bare address."""
    name = synthetic.person_name(rng)
    style = rng.random()
    if style < 0.55:
        return f"{name} <{synthetic.email_for(name, rng)}>"
    if style < 0.75:
        first, last = name.split(" ", 1)
        return f"{last}, {first}"
    return synthetic.email_for(name, rng)


def _quoted(rng: random.Random, subject: str, earlier: list[str]) -> str:
    """An earlier message quoted under a reply, in one of the common client styles."""
    when = iso_datetime(rng)
    sender = synthetic.person_name(rng)
    style = rng.choice(_QUOTE_STYLES)
    if style == "gmail":
        lines = [f"On {when}, {sender} <{synthetic.email_for(sender, rng)}> wrote:"]
        lines += [f"> {line}" for text in earlier for line in text.splitlines()]
    elif style == "outlook":
        lines = ["-----Original Message-----", f"From: {sender}", f"Sent: {when}", f"To: {_address(rng)}",
                 f"Subject: {subject}", "", *earlier]  # fmt: skip
    else:
        lines = [f"{sender}", f"{when}", "To", _address(rng), "Subject", subject, "", *earlier]
    return "\n".join(lines)


def signature(rng: random.Random, council: str) -> str:
    """A sign-off and signature block."""
    name = synthetic.person_name(rng)
    parts = [f"{rng.choice(_SIGN_OFFS)},", "", name if rng.random() < 0.7 else name.split()[0]]
    if rng.random() < 0.6:
        parts.append(rng.choice(_JOB_TITLES))
        parts.append(council)
    if rng.random() < 0.4:
        parts.append(f"Tel: {synthetic.uk_landline(rng)}")
    return "\n".join(parts)


def as_message(rng: random.Random, subject: str | None, body: list[str], council: str) -> tuple[str | None, str]:
    """The title and text of a mail message with ``subject`` and ``body`` lines, as docintel reads it."""
    if subject and rng.random() < REPLY_SHARE:
        earlier = body[len(body) // 2 :] or body
        body = [*body[: max(1, len(body) // 2)], "", _quoted(rng, subject, earlier)]
        subject = rng.choice(_REPLY_PREFIXES) + subject
    if rng.random() < SIGNATURE_SHARE:
        body = [*body, "", signature(rng, council)]
    if rng.random() < DISCLAIMER_SHARE:
        body = [*body, "", rng.choice(_DISCLAIMERS)]
    headers = []
    if subject:
        headers.append(f"Subject: {subject}")
    headers.append(f"From: {_address(rng)}")
    if rng.random() >= NO_RECIPIENT_SHARE:
        headers.append("To: " + ", ".join(_address(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))))
        if rng.random() < CC_SHARE:
            headers.append(f"Cc: {_address(rng)}")
    headers.append(f"Date: {iso_datetime(rng)}")
    text = "\n".join(headers)
    content = "\n".join(body).strip()
    return subject, f"{text}\n\n{content}" if content else text


def message_name(rng: random.Random, subject: str | None, file_type: str, from_title: str) -> str:
    """A message's file name: after its subject (an Outlook save) or a mail store's own name."""
    if subject and rng.random() < SUBJECT_NAME_SHARE:
        return from_title
    style = rng.random()
    if style < 0.4:
        return f"message-{rng.randint(1, 99999)}.{file_type}"
    if style < 0.7:
        return f"{rng.getrandbits(48):012x}.{file_type}"
    day = f"{rng.randint(2008, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"mail_{day}_{rng.randint(1, 999)}.{file_type}"


def scan_name(rng: random.Random, file_type: str) -> str:
    """A file name a phone camera or an office scanner gives a page."""
    day = f"{rng.randint(2012, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    styles = (
        f"IMG_{day}_{rng.randint(0, 235959):06d}",
        f"scan{rng.randint(1, 9999):04d}",
        f"Scan_{day}",
        f"DOC{rng.randint(10000, 999999)}",
        f"X{rng.randint(10**10, 10**11 - 1)}",
        f"{rng.randint(10**7, 10**9)}",
        f"photo_{rng.randint(1, 999)}",
    )
    return f"{rng.choice(styles)}.{file_type}"


def ocr_noise(text: str, rng: random.Random, rate: float) -> str:
    """``text`` with OCR's typical errors at about ``rate`` per character: confusions, lost and doubled spaces."""
    if rate <= 0:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if rng.random() < rate:
            roll = rng.random()
            if char == " " and roll < 0.5:
                index += 1  # a lost space glues two words
                continue
            if char == " ":
                out.append("  ")
                index += 1
                continue
            for seen, read in _OCR_CONFUSIONS:
                if text.startswith(seen, index) and rng.random() < 0.5:
                    out.append(read)
                    index += len(seen)
                    break
            else:
                out.append(char if roll < 0.8 else rng.choice(".,'`:;|"))
                index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)
