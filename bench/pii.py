"""PII and NER accuracy and speed: docintel's analyzer side by side with vanilla Presidio on the same inputs.

Datasets (precision, recall, F1, F2 per entity type; ratios docintel / vanilla):
  uk-cases   ../shared/evaldata/presidio-uk-recognizer-cases: Presidio's own UK test strings, positives and
             must-not-match, exact spans of the case's entity type; span ends are compared with the whitespace at
             either end stripped (one upstream NINO case's expected span starts with a space), for both systems.
  research   ../shared/evaldata/presidio-research/data/synth_dataset_v2.json (1,500 US-centric template
             sentences), scored the way presidio-research's Evaluator computes its published figures
             (presidio_evaluator/evaluation/base_evaluator.py + evaluator.py, notebook 4_Evaluate_Presidio_Analyzer):
             - spaCy tokens (English tokenizer), IO tags: a token carries the type of the span it overlaps;
             - dataset types aligned with PresidioAnalyzerWrapper.presidio_entities_map (RESEARCH_MAPPING):
               STREET_ADDRESS and GPE -> LOCATION, DOMAIN_NAME -> URL, ...; a system's outputs mapped the same way
               (docintel: STREET_ADDRESS -> LOCATION, DATE_OF_BIRTH -> DATE_TIME, NER GPE/LOC -> LOCATION,
               ORG -> ORGANIZATION, DATE -> DATE_TIME);
             - entities_to_keep = the types the system can output: gold tokens of any other type become O (so a
               system is not scored on US_SSN or TITLE when it has no recognizer for them);
             - tokens that are punctuation, whitespace, stop words or skip words ("street", "apt", "suite"...)
               are not counted (skipwords.get_skip_words);
             - the headline "PII" figure is type-agnostic: a PII token predicted as any PII type is a true
               positive (Evaluator.calculate_score pii_precision / pii_recall), F-beta with beta 2;
             - vanilla Presidio at default_score_threshold 0.4, as in the notebook.
             The per-type table and a typed micro F2 (right type required) are printed alongside.
  conll      ../shared/evaldata/conll2003/eng.testb, PERSON/ORG/LOC exact-span NER F1 (docintel's entities;
             vanilla Presidio returns PERSON and LOCATION only).
  generated  bench/ukdata.py on TEST_SEED (GENERATED data, made by this project: says so in the output).
  styled     bench/ukdata.py's second corpus on the same seed (GENERATED): case notes, letters, e-mails and meeting
             notes in other writers' styles, with names of its own lists at line starts, before possessives, after
             introducing phrases, in salutations, sign-offs and Outlook headers, and drama-range UK phones
             (07700 900xxx, 01632 960xxx) in national and international format beside phone-shaped references.
Throughput: KB of text per CPU second (one process = one core) for NER + PII over the generated corpus:
  docintel = TextAnalyzer.analyze (one spaCy pass without the parser, NER entities + all recognizers);
  vanilla  = AnalyzerEngine.analyze (its own spaCy pass with every component; its NER recognizer gives the
             PERSON/LOCATION/DATE_TIME entities, so that one pass is its NER too).
  The two take turns pass by pass (--repeat passes each): medians per system, and the median (with range) of the
  per-pair CPU ratios, which is the figure held against the target.

Vanilla Presidio: AnalyzerEngine() with its default recognizers and default threshold (0; 0.4 on research), on the same
spaCy model; tldextract is switched to its bundled suffix list so the email check never goes to the network.

    .venv/bin/python -m bench.pii [--limit N] [--no-vanilla] [--json out.json] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ukdata
from bench._common import fmt, format_table, ratio, require_evaldata

# docintel NER labels -> the shared names used when scoring.
OURS_NER = {"GPE": "LOCATION", "LOC": "LOCATION", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "PERSON": "PERSON"}
# presidio-research's PresidioAnalyzerWrapper.presidio_entities_map, for the types synth_dataset_v2 holds.
RESEARCH_MAPPING = {
    "PERSON": "PERSON", "STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ORGANIZATION": "ORGANIZATION",
    "CREDIT_CARD": "CREDIT_CARD", "DATE_TIME": "DATE_TIME", "TITLE": "TITLE", "PHONE_NUMBER": "PHONE_NUMBER",
    "AGE": "AGE", "NRP": "NRP", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "ZIP_CODE": "ZIP_CODE", "DOMAIN_NAME": "URL",
    "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
}  # fmt: skip
# docintel output types -> presidio-research names (others keep their own name: UK_NHS stays UK_NHS).
OURS_TO_RESEARCH = {"STREET_ADDRESS": "LOCATION", "DATE_OF_BIRTH": "DATE_TIME"}
# The score vanilla Presidio is run at in presidio-research's notebook 4.
RESEARCH_VANILLA_THRESHOLD = 0.4
RESEARCH_BETA = 2.0
CONLL_LABELS = {"PER": "PERSON", "ORG": "ORGANIZATION", "LOC": "LOCATION"}
UK_IDENTIFIER_TYPES = (
    "UK_NHS", "UK_NINO", "UK_POSTCODE", "UK_PASSPORT", "UK_DRIVING_LICENCE", "UK_VEHICLE_REGISTRATION", "IBAN_CODE",
)  # fmt: skip
TARGET_UK_F1 = 0.95
TARGET_RESEARCH_F2 = 0.85
TARGET_SPEED_RATIO = 2.0
# Issue 20: names as reliably as numbers on case notes and letters written in other styles, without losing precision.
TARGET_STYLED_PERSON_RECALL = 0.95
TARGET_STYLED_PERSON_PRECISION = 0.95
VANILLA_PUBLISHED_F2 = 0.62

Spans = set[tuple[int, int, str]]


@dataclass
class Score:
    """True positives, false positives and false negatives of one type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: Iterable[Any], predicted: Iterable[Any]) -> None:
        """Count one example's gold and predicted items."""
        gold_set, predicted_set = set(gold), set(predicted)
        self.tp += len(gold_set & predicted_set)
        self.fp += len(predicted_set - gold_set)
        self.fn += len(gold_set - predicted_set)

    def precision(self) -> float | None:
        """tp / (tp + fp)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def recall(self) -> float | None:
        """tp / (tp + fn)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def f(self, beta: float) -> float | None:
        """F-beta; F2 weighs recall four times as much as precision."""
        if self.tp == 0:
            return 0.0 if self.fp or self.fn else None
        p, r = self.tp / (self.tp + self.fp), self.tp / (self.tp + self.fn)
        return (1 + beta**2) * p * r / (beta**2 * p + r)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision(), "recall": self.recall(),
                "f1": self.f(1), "f2": self.f(2)}  # fmt: skip


@dataclass
class Result:
    """Per-type scores of one system on one dataset."""

    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))

    def micro(self, types: Iterable[str]) -> Score:
        """Summed counts over some types."""
        total = Score()
        for name in types:
            score = self.scores.get(name, Score())
            total.tp, total.fp, total.fn = total.tp + score.tp, total.fp + score.fp, total.fn + score.fn
        return total


Predictor = Callable[[str], Spans]


# --- the two systems -------------------------------------------------------------------------------------


@dataclass
class ResearchSystem:
    """A system as presidio-research sees it: typed spans in its names, and the types it can output."""

    predict: Predictor
    supported: frozenset[str]


def docintel_predictor() -> tuple[Predictor, Callable[[str], object], ResearchSystem]:
    """docintel's analyzer as the pipeline builds it from config/: spans of findings and (mapped) NER entities."""
    from docintel.enrich.analyzer import TextAnalyzer
    from docintel.settings import load_settings

    analyzer = TextAnalyzer(load_settings(Path(__file__).resolve().parent.parent / "config", environ={}))
    analyzer.warm()

    def predict(text: str) -> Spans:
        entities, findings = analyzer.analyze(text)
        spans = {(f.start, f.end, f.entity_type) for f in findings}
        spans |= {(e.start, e.end, OURS_NER[e.label]) for e in entities if e.label in OURS_NER and e.label != "PERSON"}
        return spans

    def research_predict(text: str) -> Spans:
        return {(start, end, OURS_TO_RESEARCH.get(kind, kind)) for start, end, kind in predict(text)}

    ner_types = {OURS_NER[label] for label in analyzer.entity_labels if label in OURS_NER}
    supported = frozenset({OURS_TO_RESEARCH.get(kind, kind) for kind in analyzer.pii_entities} | ner_types)
    return predict, analyzer.analyze, ResearchSystem(research_predict, supported)


def vanilla_predictor(model: str) -> tuple[Predictor, Callable[[str], object], ResearchSystem]:
    """Presidio's AnalyzerEngine with its default recognizers, on the same spaCy model, offline."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from docintel.enrich.recognizers.generic import offline_domain_extractor

    # Presidio's EmailRecognizer calls tldextract.extract(), which downloads the suffix list on first use.
    tldextract.extract = offline_domain_extractor()  # type: ignore[assignment]
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine())

    def analyze(text: str) -> object:
        return engine.analyze(text=text, language="en")

    def predict(text: str) -> Spans:
        return {(r.start, r.end, r.entity_type) for r in engine.analyze(text=text, language="en")}

    def research_predict(text: str) -> Spans:
        results = engine.analyze(text=text, language="en", score_threshold=RESEARCH_VANILLA_THRESHOLD)
        return {(r.start, r.end, r.entity_type) for r in results}

    analyze("warm up 0113 496 0000 person@example.org")
    return predict, analyze, ResearchSystem(research_predict, frozenset(engine.get_supported_entities("en")))


# --- datasets --------------------------------------------------------------------------------------------


def eval_uk_cases(root: Path, predict: Predictor, limit: int | None) -> Result:
    """Exact spans of each case's entity type; must-not-match cases count only false positives."""
    result = Result()
    folder = root / "presidio-uk-recognizer-cases"
    rows = [json.loads(line) for name in ("uk_cases.jsonl", "gb_iban_cases.jsonl")
            for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    for row in rows[:limit]:
        (entity,) = row["entities"]
        text = row["text"]
        gold = {_strip_span(text, start, end) for start, end in row.get("expected_positions") or []}
        predicted = {_strip_span(text, start, end) for start, end, kind in predict(text) if kind == entity}
        result.scores[entity].add(gold, predicted)
    return result


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace at either end: one upstream case's expected span starts with a space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class TokenResult:
    """presidio-research's token confusion counts: (gold type, predicted type) -> tokens, "O" for none."""

    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)

    def typed(self, kind: str) -> Score:
        """One type's token counts (right type required), as Evaluator.calculate_score's per-entity figures."""
        tp = self.pairs[(kind, kind)]
        annotated = sum(n for (gold, _), n in self.pairs.items() if gold == kind)
        predicted = sum(n for (_, pred), n in self.pairs.items() if pred == kind)
        return Score(tp=tp, fp=predicted - tp, fn=annotated - tp)

    def pii(self) -> Score:
        """The type-agnostic "PII" figure presidio-research publishes: any PII type on a PII token counts."""
        hit = sum(n for (gold, pred), n in self.pairs.items() if gold != "O" and pred != "O")
        annotated = sum(n for (gold, _), n in self.pairs.items() if gold != "O")
        predicted = sum(n for (_, pred), n in self.pairs.items() if pred != "O")
        return Score(tp=hit, fp=predicted - hit, fn=annotated - hit)

    def typed_micro(self) -> Score:
        """Summed over types with the right type required (stricter than the published figure)."""
        tp = sum(n for (gold, pred), n in self.pairs.items() if gold != "O" and gold == pred)
        annotated = sum(n for (gold, _), n in self.pairs.items() if gold != "O")
        predicted = sum(n for (_, pred), n in self.pairs.items() if pred != "O")
        return Score(tp=tp, fp=predicted - tp, fn=annotated - tp)


def _skip_words() -> frozenset[str]:
    """presidio-research's skipwords.get_skip_words(): punctuation, whitespace, spaCy stop words, address words."""
    import string

    from spacy.lang.en.stop_words import STOP_WORDS

    extra = {"", "'s", "street", "st.", "st", "de", "rue", "via", "and", "a", "the", "or", "do", "as", "of", "day",
             "address", "country", "state", "city", "zip", "po", "apt", "unit", "corner", "p.o.", "box", "suite",
             "mr.", "mrs.", "miss", "year", "years", "y/o", "month", "months", "old", "morning", "noon", "afternoon",
             "night", "evening", "this", "first", "last", "week", "weeks", "weekend", "days", "age", "ago", "inc",
             "inc.", "ltd", ">>", ">>>", ">>>>"}  # fmt: skip
    return frozenset(set(string.punctuation) | extra | set(STOP_WORDS))


def _io_tags(tokens: list[tuple[int, int]], spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """One tag per token: the type of the (longest) span it overlaps, else "O"."""
    tags = ["O"] * len(tokens)
    for start, end, kind in sorted(spans, key=lambda s: s[1] - s[0]):  # longest last, so it wins
        for index, (token_start, token_end) in enumerate(tokens):
            if token_start < end and start < token_end:
                tags[index] = kind
    return tags


def eval_research(root: Path, system: ResearchSystem, limit: int | None) -> TokenResult:
    """synth_dataset_v2 scored as presidio-research's Evaluator does (see the module docstring)."""
    import spacy

    path = root / "presidio-research" / "data" / "synth_dataset_v2.json"
    if not path.is_file():
        path = root / "presidio-research" / "tests" / "data" / "generated_small.json"
    rows = json.loads(path.read_text(encoding="utf-8"))[:limit]
    tokenizer = spacy.blank("en").tokenizer
    skip = _skip_words()
    result = TokenResult()
    for row in rows:
        text = row["full_text"]
        doc = tokenizer(text)
        tokens = [(token.idx, token.idx + len(token)) for token in doc]
        gold_spans = [(s["start_position"], s["end_position"], RESEARCH_MAPPING[s["entity_type"]])
                      for s in row["spans"] if s["entity_type"] in RESEARCH_MAPPING]  # fmt: skip
        gold = [tag if tag in system.supported else "O" for tag in _io_tags(tokens, gold_spans)]
        predicted = [tag if tag in system.supported else "O" for tag in _io_tags(tokens, system.predict(text))]
        for token, gold_tag, predicted_tag in zip(doc, gold, predicted, strict=True):
            if token.text.lower().strip() in skip:
                continue
            result.pairs[(gold_tag, predicted_tag)] += 1
    return result


def read_conll(path: Path) -> list[tuple[str, Spans]]:
    """CoNLL-2003 documents as (text, gold spans): tokens joined by spaces, sentences by newlines."""
    documents: list[tuple[str, Spans]] = []
    text, spans = "", set()
    open_span: tuple[int, str] | None = None
    last_end = 0

    def close() -> None:
        nonlocal open_span
        if open_span is not None:
            spans.add((open_span[0], last_end, open_span[1]))
            open_span = None

    for line in [*path.read_text(encoding="utf-8").splitlines(), "-DOCSTART- -X- O O"]:
        parts = line.split()
        if not parts:
            close()
            if text and not text.endswith("\n"):
                text += "\n"
            continue
        if parts[0] == "-DOCSTART-":
            close()
            if text.strip():
                documents.append((text, spans))
            text, spans = "", set()
            continue
        token, tag = parts[0], parts[-1]
        if text and not text.endswith("\n"):
            text += " "
        start = len(text)
        text += token
        kind = CONLL_LABELS.get(tag[2:]) if tag != "O" else None
        if kind is None or tag.startswith("B-") or open_span is None or open_span[1] != kind:
            close()
            if kind is not None:
                open_span = (start, kind)
        last_end = start + len(token)
    return documents


def eval_conll(root: Path, predict: Predictor, limit: int | None) -> Result:
    """Exact-span NER scores for PERSON, ORGANIZATION and LOCATION."""
    result = Result()
    for text, gold in read_conll(root / "conll2003" / "eng.testb")[:limit]:
        predicted = predict(text)
        for kind in CONLL_LABELS.values():
            result.scores[kind].add({g for g in gold if g[2] == kind}, {p for p in predicted if p[2] == kind})
    return result


def eval_generated(corpus: list[ukdata.LabelledDoc], predict: Predictor) -> Result:
    """Exact spans per type on the generated UK corpus."""
    result = Result()
    for doc in corpus:
        gold = {(s.start, s.end, s.label) for s in doc.spans}
        predicted = predict(doc.text)
        for kind in ukdata.LABELS:
            result.scores[kind].add({g for g in gold if g[2] == kind}, {p for p in predicted if p[2] == kind})
    return result


def throughput(systems: dict[str, Callable[[str], object]], texts: list[str], repeat: int) -> dict[str, Any]:
    """KB of text per CPU and per wall second of each system (medians of ``repeat`` passes), and their CPU ratio.

    The systems take turns pass by pass (a, b, a, b, ...), so a change in the machine's load hits both alike; each
    pair of passes gives one ratio of the first system's speed to each other's, and the median of those is reported
    with its range.
    """
    kilobytes = sum(len(text.encode()) for text in texts) / 1000
    cpu: dict[str, list[float]] = {name: [] for name in systems}
    wall: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(repeat):
        for name, analyze in systems.items():
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            for text in texts:
                analyze(text)
            cpu[name].append(time.process_time() - cpu_start)
            wall[name].append(time.perf_counter() - wall_start)
    speed: dict[str, Any] = {
        name: {"kb": kilobytes, "kb_per_cpu_s": kilobytes / statistics.median(cpu[name]),
               "kb_per_wall_s": kilobytes / statistics.median(wall[name]), "cpu_s": cpu[name]}
        for name in systems
    }  # fmt: skip
    first, *others = systems
    for other in others:
        pairs = [theirs / ours for ours, theirs in zip(cpu[first], cpu[other], strict=True)]
        speed[first][f"cpu_ratio_vs_{other}"] = {
            "median": statistics.median(pairs), "min": min(pairs), "max": max(pairs), "pairs": pairs,
        }  # fmt: skip
    return speed


# --- output ----------------------------------------------------------------------------------------------


def score_table(title: str, ours: Result, theirs: Result | None, types: Iterable[str]) -> str:
    """One row per type: P, R, F1, F2 for docintel, vanilla and the F1/F2 ratios."""
    headers = ["type", "n", "P di", "R di", "F1 di", "F2 di", "P va", "R va", "F1 va", "F2 va", "F1 x", "F2 x"]
    rows = []
    for kind in types:
        a = ours.scores.get(kind, Score())
        b = theirs.scores.get(kind, Score()) if theirs else None
        rows.append([kind, str(a.tp + a.fn), fmt(a.precision()), fmt(a.recall()), fmt(a.f(1)), fmt(a.f(2)),
                     fmt(b.precision() if b else None), fmt(b.recall() if b else None), fmt(b.f(1) if b else None),
                     fmt(b.f(2) if b else None), fmt(ratio(a.f(1), b.f(1) if b else None), 2),
                     fmt(ratio(a.f(2), b.f(2) if b else None), 2)])  # fmt: skip
    return format_table(headers, rows, title)


def research_table(results: dict[str, TokenResult]) -> str:
    """Per-type token figures and the PII (type-agnostic) and typed micro rows, docintel and vanilla side by side."""
    ours, theirs = results["docintel"], results.get("vanilla")
    kinds = sorted({g for g, _ in ours.pairs} | ({g for g, _ in theirs.pairs} if theirs else set()))
    rows_scores = [(kind, ours.typed(kind), theirs.typed(kind) if theirs else None) for kind in kinds if kind != "O"]
    rows_scores += [("PII (any type)", ours.pii(), theirs.pii() if theirs else None),
                    ("micro (typed)", ours.typed_micro(), theirs.typed_micro() if theirs else None)]  # fmt: skip
    headers = ["type", "n di", "P di", "R di", "F2 di", "n va", "P va", "R va", "F2 va"]
    rows = []
    for kind, a, b in rows_scores:
        rows.append([kind, str(a.tp + a.fn), fmt(a.precision()), fmt(a.recall()), fmt(a.f(RESEARCH_BETA)),
                     str(b.tp + b.fn) if b else "-", fmt(b.precision() if b else None),
                     fmt(b.recall() if b else None), fmt(b.f(RESEARCH_BETA) if b else None)])  # fmt: skip
    title = (
        "(b) presidio-research synth_dataset_v2, scored as presidio-research's Evaluator: spaCy tokens, IO tags, "
        "types aligned by presidio_entities_map,\n    gold types a system cannot output ignored (n differs per "
        "system), skip words not counted; PII row = type-agnostic (the published figure); vanilla at score 0.4"
    )
    note = f"\n    vanilla Presidio's published PII F2 on this set (en_core_web_lg): {VANILLA_PUBLISHED_F2}"
    return format_table(headers, rows, title) + note


def main(argv: list[str] | None = None) -> int:
    """Run every dataset for both systems and print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="examples per dataset (default: all)")
    parser.add_argument("--no-vanilla", action="store_true", help="docintel only")
    parser.add_argument("--json", help="write all figures to this file")
    parser.add_argument("--repeat", type=int, default=3, help="throughput passes (median)")
    parser.add_argument("--seed", type=int, default=ukdata.TEST_SEED, help="generated corpus seed (dev: 1)")
    parser.add_argument("--generated-docs", type=int, default=200)
    args = parser.parse_args(argv)
    root = require_evaldata("presidio-uk-recognizer-cases", "presidio-research", "conll2003")

    from docintel.settings import NlpSettings

    # The same model for both: the first configured name that is installed (the official one, else the mirror).
    model = next(name for name in NlpSettings().models if _importable(name))
    built = {"docintel": docintel_predictor()}
    if not args.no_vanilla:
        built["vanilla"] = vanilla_predictor(model)
    systems = {name: (predict, analyze) for name, (predict, analyze, _) in built.items()}
    research = {name: eval_research(root, system, args.limit) for name, (_, _, system) in built.items()}
    corpus = ukdata.generate_corpus(args.seed, args.generated_docs if args.limit is None else min(args.limit, 200))
    styled = ukdata.generate_styled_corpus(
        args.seed, args.generated_docs if args.limit is None else min(args.limit, 200)
    )
    report: dict[str, Any] = {"spacy_model": model, "generated_seed": args.seed, "datasets": {}}
    results: dict[str, dict[str, Result]] = {}
    for dataset, runner in (
        ("uk-cases", lambda p: eval_uk_cases(root, p, args.limit)),
        ("conll", lambda p: eval_conll(root, p, args.limit)),
        ("generated", lambda p: eval_generated(corpus, p)),
        ("styled", lambda p: eval_generated(styled, p)),
    ):
        results[dataset] = {name: runner(predict) for name, (predict, _) in systems.items()}
        report["datasets"][dataset] = {
            name: {kind: score.as_dict() for kind, score in result.scores.items()}
            for name, result in results[dataset].items()
        }
    speed = throughput({name: analyze for name, (_, analyze) in systems.items()}, [doc.text for doc in corpus],
                       args.repeat)  # fmt: skip
    report["throughput"] = speed
    report["datasets"]["research"] = {
        name: {"pii": result.pii().as_dict(), "typed_micro": result.typed_micro().as_dict(),
               "supported": sorted(built[name][2].supported),
               "types": {kind: result.typed(kind).as_dict() for kind in sorted({g for g, _ in result.pairs} - {"O"})}}
        for name, result in research.items()
    }  # fmt: skip

    def pair(dataset: str) -> tuple[Result, Result | None]:
        return results[dataset]["docintel"], results[dataset].get("vanilla")

    uk_types = [t for t in UK_IDENTIFIER_TYPES if t in results["uk-cases"]["docintel"].scores]
    title = "(a) presidio-uk-recognizer-cases: exact spans, whitespace at span ends stripped (real test strings)"
    print(score_table(title, *pair("uk-cases"), uk_types))
    print()
    print(research_table(research))
    ours_pii = research["docintel"].pii()
    print()
    print(score_table("(c) CoNLL-2003 eng.testb: exact-span NER", *pair("conll"), list(CONLL_LABELS.values())))
    print()
    print(score_table(f"(d) GENERATED UK corpus (bench/ukdata.py, seed {args.seed}, {len(corpus)} docs): exact spans",
                      *pair("generated"), ukdata.LABELS))  # fmt: skip
    print()
    styled_types = [kind for kind in ukdata.LABELS if any(s.label == kind for doc in styled for s in doc.spans)]
    print(score_table(f"(e) GENERATED UK corpus in other writers' styles (bench/ukdata.py --styled, seed {args.seed}, "
                      f"{len(styled)} docs): exact spans", *pair("styled"), styled_types))  # fmt: skip
    print()
    rows = [[name, fmt(s["kb"], 1), fmt(s["kb_per_cpu_s"], 1), fmt(s["kb_per_wall_s"], 1)] for name, s in speed.items()]
    title = f"Throughput, NER + PII, median of {args.repeat} passes each (the systems take turns, pass by pass)"
    print(format_table(["system", "KB", "KB/CPU-s", "KB/wall-s"], rows, title))
    paired = speed["docintel"].get("cpu_ratio_vs_vanilla")
    if paired:
        print(f"    docintel / vanilla CPU speed, pass by pass: median {paired['median']:.2f}x "
              f"(range {paired['min']:.2f}-{paired['max']:.2f}x over {len(paired['pairs'])} pairs)")  # fmt: skip

    print("\nTargets")
    uk = results["uk-cases"]["docintel"]
    for kind in uk_types:
        f1 = uk.scores[kind].f(1) or 0.0
        print(f"  {'PASS' if f1 >= TARGET_UK_F1 else 'FAIL'}  UK cases F1 {kind} {f1:.3f} >= {TARGET_UK_F1}")
    f2 = ours_pii.f(RESEARCH_BETA) or 0.0
    print(
        f"  {'PASS' if f2 >= TARGET_RESEARCH_F2 else 'FAIL'}  presidio-research PII F2 {f2:.3f} >= {TARGET_RESEARCH_F2}"
    )
    person = results["styled"]["docintel"].scores["PERSON"]
    for label, measured, target in (("recall", person.recall(), TARGET_STYLED_PERSON_RECALL),
                                    ("precision", person.precision(), TARGET_STYLED_PERSON_PRECISION)):  # fmt: skip
        figure = measured or 0.0
        print(f"  {'PASS' if figure >= target else 'FAIL'}  styled corpus PERSON {label} {figure:.3f} >= {target}")
    if paired:
        speed_ratio = paired["median"]
        print(f"  {'PASS' if speed_ratio >= TARGET_SPEED_RATIO else 'FAIL'}  throughput {speed_ratio:.2f}x vanilla >= "
              f"{TARGET_SPEED_RATIO}x (median of the pass-by-pass ratios)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    raise SystemExit(main())
