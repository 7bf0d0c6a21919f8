"""spaCy and Presidio Analyzer, imported once per process without the deep-learning libraries they would pull in.

spaCy imports thinc, whose ``thinc.compat`` imports torch when it is installed: about 270 MB of resident memory
in every process that parses, none of it used by the en_core_web CNN pipelines docintel runs. Presidio's
analyzer package imports transformers for its optional Hugging Face back-end (about 160 MB more), which docintel
does not use either. Both guard those imports with ``try: ... except ImportError``. So while spaCy and Presidio
load for the first time, ``import torch`` and ``import transformers`` are made to fail (their ``sys.modules``
entries set to None), then put back: code that needs torch later (``classifiers/static.py`` building its table,
the transformer encoder) imports it as usual. A process that has already imported torch keeps it, and spaCy
sees it.

The cost: thinc's torch support is off in a process whose spaCy loaded this way, so spaCy transformer pipelines
(``*_trf``) cannot run in it; docintel ships and configures none. The hiding is process-wide for the second or
two the imports take: a thread importing torch in that window would get ImportError. docintel's only threads then
are tesseract runners (``docintel.extract.ocr``), which never import it, and workers load everything in ``warm()``
before they start any.
"""

from __future__ import annotations

import sys
import threading

HIDDEN = ("torch", "transformers")

STACK = ("presidio_analyzer", "spacy")

_lock = threading.Lock()


def import_nlp_stack() -> None:
    """Import spaCy and Presidio Analyzer if they are not imported yet, with torch and transformers hidden."""
    if all(name in sys.modules for name in STACK):
        return
    with _lock:
        if all(name in sys.modules for name in STACK):
            return
        hidden = [name for name in HIDDEN if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            import presidio_analyzer  # noqa: F401  (imports spaCy, thinc and Presidio's NLP engines)
            import spacy  # noqa: F401
        finally:
            for name in hidden:
                if sys.modules.get(name, "") is None:
                    del sys.modules[name]
