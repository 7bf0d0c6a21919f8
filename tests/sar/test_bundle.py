"""The disclosure bundle, re-read as a requester would: text layer (pypdfium2) and the page images (tesseract).

No third party's identifier may survive in either; every one of the requester's must; the exempt page is gone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from docintel.catalogue.sar_cases import SarCaseStore
from docintel.catalogue.store import open_catalogue
from docintel.enrich.analyzer import get_analyzer
from docintel.extract.ocr import TesseractOcr
from docintel.pipeline import Engines, scan_source
from docintel.sar.bundle import NothingToBundle, build_bundle
from docintel.sar.cases import open_case, search_case
from docintel.settings import Settings, load_settings
from docintel.sources.local import LocalFolderSource
from tests.sar.sar_fixtures import (
    DOB,
    KEY,
    NAME,
    NHS,
    POSTCODE,
    THIRD_EMAIL,
    THIRD_NAME,
    write_share,
)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
OCR_DPI = 200


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _bundle_text(pdf_path: Path, settings: Settings) -> tuple[str, str]:
    """The bundle's text layer, and what tesseract reads off its rendered pages."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf_path))
    text_layer, ocr_text = [], []
    ocr = TesseractOcr(settings.ocr)
    try:
        for index in range(len(document)):
            page = document[index]
            text_layer.append(page.get_textpage().get_text_range())
            image = page.render(scale=OCR_DPI / 72).to_pil()
            image.info["dpi"] = (OCR_DPI, OCR_DPI)
            ocr_text.append(" ".join(word.text for word in ocr.ocr(image).words))
            page.close()
    finally:
        document.close()
    return "\n".join(text_layer), "\n".join(ocr_text)


@pytest.mark.needs_tesseract
@pytest.mark.slow
def test_bundle_keeps_the_requester_and_removes_everyone_else(tmp_path: Path) -> None:
    settings = load_settings(CONFIG_DIR, environ={})
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    try:
        scan_source(
            LocalFolderSource([write_share(tmp_path / "share")]), store, Engines(settings=settings, pii_key=KEY)
        )
        ids = {row["name"]: row["id"] for row in store.iter_documents()}
        case_id = open_case(
            store,
            KEY,
            {"name": [NAME], "date_of_birth": [DOB], "postcode": [POSTCODE], "nhs_number": [NHS]},
            received_on=dt.date(2026, 1, 3),
            handler="IG Officer",
            user="test",
        )
        search_case(store, case_id, "test")
        analyzer = get_analyzer(settings)
        with pytest.raises(NothingToBundle):
            build_bundle(store, case_id, tmp_path / "out", analyzer=analyzer, settings=settings, key=KEY, user="test")
        cases = SarCaseStore(store)
        for name in ("letter.txt", "visit.pdf"):
            cases.decide(case_id, ids[name], "confirmed", "test")
        cases.add_exemption(case_id, ids["visit.pdf"], 2, "legal_privilege", note="counsel", user="test")
        result = build_bundle(
            store,
            case_id,
            tmp_path / "out",
            analyzer=analyzer,
            settings=settings,
            key=KEY,
            user="test",
            addressee="Ms O Smith",
        )
        trail = [row["action"] for row in cases.audit_trail(case_id)]
    finally:
        store.close()

    assert [doc.not_included for doc in result.documents] == [None, None]
    visit = next(doc for doc in result.documents if doc.document_id == ids["visit.pdf"])
    assert visit.withheld_pages == {2: "Legal professional privilege (DPA 2018 Sch. 2 para. 19)"}
    assert visit.redacted["PERSON"] >= 1 and visit.kept["UK_NHS"] == 1
    assert trail[-1] == "sar_bundle"

    text_layer, ocr_text = _bundle_text(result.pdf_path, settings)
    for read in (_squash(text_layer), _squash(ocr_text)):
        for third_party in (THIRD_NAME, THIRD_EMAIL, "Counsel's advice", "possession claim"):
            assert _squash(third_party) not in read, third_party
    # The requester's own identifiers survive: in the letter's text, and on the visit record's re-rendered image.
    assert _squash(NAME) in _squash(text_layer) and "03/03/1984" in text_layer and POSTCODE in text_layer
    assert "9434765919" in _squash(ocr_text) and "3march1984" in _squash(ocr_text)
    assert "pagewithheld" in _squash(ocr_text)
    assert "scheduleofredactions" in _squash(text_layer) and "legalprofessionalprivilege" in _squash(text_layer)

    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
        schedule = archive.read("schedule.csv").decode()
        copies = {name: archive.read(name) for name in names if name.startswith("documents/")}
    assert {"cover-letter.txt", "index.csv", "schedule.csv"} <= set(names) and len(copies) == 2
    assert [row["status"] for row in index] == ["included", "included"]
    assert "Personal data of other people removed" in schedule and "page 2" in schedule
    letter_copy = next(content.decode() for name, content in copies.items() if name.endswith(".txt"))
    assert THIRD_NAME not in letter_copy and THIRD_EMAIL not in letter_copy and NAME in letter_copy
