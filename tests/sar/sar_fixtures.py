"""A generated council share with a planted requester, a look-alike (same name, another date of birth) and third
parties; every identifier is made up and passes its checksum. Shared by the case and bundle tests."""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

KEY = b"sar-case-test-key-0123456789abcdef"
KEY_HEX = KEY.hex()

# The requester.
NAME = "Olivia Smith"
DOB = "1984-03-03"
NHS = "943 476 5919"
EMAIL = "olivia.smith@example.org"
POSTCODE = "LS6 2AB"
# Someone else with the same name.
LOOKALIKE_NHS = "401 023 2137"
# Third parties.
THIRD_NAME = "Samuel Jones"
THIRD_EMAIL = "samuel.jones@example.net"
THIRD_NHS = "450 557 7104"

LETTER = f"""Northshire County Council
Housing Services

Dear Ms {NAME},

Thank you for your call. We hold your date of birth as 03/03/1984 and your address postcode as {POSTCODE}.
Your neighbour {THIRD_NAME} reported the repair; you can reach him at {THIRD_EMAIL}.

Yours sincerely,
Housing Officer
"""
LOOKALIKE = f"""Adult Social Care referral

Client: {NAME}
Date of birth: 14/07/1991
NHS number: {LOOKALIKE_NHS}
"""
NAME_ONLY = f"""Tenants meeting notes

Present: {NAME} and four other residents. The lift repair was discussed.
"""
UNRELATED = f"""Parking permit

Applicant: {THIRD_NAME}, NHS number {THIRD_NHS}, e-mail {THIRD_EMAIL}.
"""
VISIT_PAGE = f"""Visit record
Client: {NAME}
DOB: 3 March 1984
NHS No: {NHS.replace(" ", "")}
Seen at home with {THIRD_NAME}.
Contact: {THIRD_EMAIL}
"""
ADVICE_PAGE = """Legal advice to the council
Counsel's advice on the possession claim.
The council should not proceed before the review.
"""


def pdf(*pages: str) -> bytes:
    """A born-digital PDF with one page per text, lines at 14 points so OCR reads them back."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    for text in pages:
        page.setFont("Helvetica", 14)
        y = 780
        for line in text.splitlines():
            page.drawString(72, y, line)
            y -= 24
        page.showPage()
    page.save()
    return buffer.getvalue()


def write_share(folder: Path) -> Path:
    """The share: Housing/letter.txt, Care/visit.pdf (2 pages), Care/lookalike.txt, notes.txt, Parking/permit.txt."""
    for sub in ("Housing", "Care", "Parking"):
        (folder / sub).mkdir(parents=True)
    (folder / "Housing" / "letter.txt").write_text(LETTER, encoding="utf-8")
    (folder / "Housing" / "notes.txt").write_text(NAME_ONLY, encoding="utf-8")
    (folder / "Care" / "visit.pdf").write_bytes(pdf(VISIT_PAGE, ADVICE_PAGE))
    (folder / "Care" / "lookalike.txt").write_text(LOOKALIKE, encoding="utf-8")
    (folder / "Parking" / "permit.txt").write_text(UNRELATED, encoding="utf-8")
    return folder
