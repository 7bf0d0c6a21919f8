"""PII and NER accuracy and speed: docintel's analyzer side by side with vanilla Presidio on the same inputs.

Datasets (precision, recall, F1, F2 per entity type; ratios docintel / vanilla):
  uk-cases   ../shared/evaldata/presidio-uk-recognizer-cases: Presidio's own UK test strings, positives and
             must-not-match, exact spans of the case's entity type.
  research   ../shared/evaldata/presidio-research/data/synth_dataset_v2.json (1,500 US-centric template
             sentences), token-level as presidio-research evaluates, its types mapped to ours (MAPPING below).
  conll      ../shared/evaldata/conll2003/eng.testb, PERSON/ORG/LOC exact-span NER F1 (docintel's entities;
             vanilla Presidio returns PERSON and LOCATION only).
  generated  bench/ukdata.py on TEST_SEED (GENERATED data, made by this project: says so in the output).
Throughput: KB of text per CPU second (one process = one core) for NER + PII over the generated corpus:
  docintel = TextAnalyzer.analyze (one spaCy pass without the parser, NER entities + all recognizers);
  vanilla  = AnalyzerEngine.analyze (its own spaCy pass with every component; its NER recognizer gives the
             PERSON/LOCATION/DATE_TIME entities, so that one pass is its NER too). Medians over --repeat runs.

Vanilla Presidio: AnalyzerEngine() with its default recognizers and default threshold (0), pointed at the same
spaCy model; tldextract is switched to its bundled suffix list so the email check never goes to the network.

    .venv/bin/python -m bench.pii [--limit N] [--no-vanilla] [--json out.json] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ukdata
from bench._common import fmt, format_table, ratio, require_evaldata

# presidio-research types -> the type both tools are scored on (None: not scored).
MAPPING = {
    "PERSON": "PERSON",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "GPE": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "DATE_TIME": "DATE_TIME",
    "ORGANIZATION": "ORGANIZATION",
}
# The personal-data types whose micro-averaged F2 is compared with vanilla's published 0.62.
RESEARCH_PII_TYPES = ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "LOCATION")
# docintel NER labels -> the shared names used when scoring.
OURS_NER = {"GPE": "LOCATION", "LOC": "LOCATION", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "PERSON": "PERSON"}
CONLL_LABELS = {"PER": "PERSON", "ORG": "ORGANIZATION", "LOC": "LOCATION"}
UK_IDENTIFIER_TYPES = (
    "UK_NHS", "UK_NINO", "UK_POSTCODE", "UK_PASSPORT", "UK_DRIVING_LICENCE", "UK_VEHICLE_REGISTRATION", "IBAN_CODE",
)  # fmt: skip
TARGET_UK_F1 = 0.95
TARGET_RESEARCH_F2 = 0.85
TARGET_SPEED_RATIO = 2.0
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


def docintel_predictor() -> tuple[Predictor, Callable[[str], object]]:
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

    return predict, analyzer.analyze


def vanilla_predictor(model: str) -> tuple[Predictor, Callable[[str], object]]:
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

    analyze("warm up 0113 496 0000 person@example.org")
    return predict, analyze


# --- datasets --------------------------------------------------------------------------------------------


def eval_uk_cases(root: Path, predict: Predictor, limit: int | None) -> Result:
    """Exact spans of each case's entity type; must-not-match cases count only false positives."""
    result = Result()
    folder = root / "presidio-uk-recognizer-cases"
    rows = [json.loads(line) for name in ("uk_cases.jsonl", "gb_iban_cases.jsonl")
            for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    for row in rows[:limit]:
        (entity,) = row["entities"]
        gold = {(start, end) for start, end in row.get("expected_positions") or []}
        predicted = {(start, end) for start, end, kind in predict(row["text"]) if kind == entity}
        result.scores[entity].add(gold, predicted)
    return result


_TOKEN = re.compile(r"\S+")


def _token_labels(text: str, spans: Iterable[tuple[int, int, str]]) -> set[tuple[int, str]]:
    """(token index, type) for every whitespace token that overlaps a span."""
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    labels = set()
    for start, end, kind in spans:
        for index, (token_start, token_end) in enumerate(tokens):
            if token_start < end and start < token_end:
                labels.add((index, kind))
    return labels


def eval_research(root: Path, predict: Predictor, limit: int | None) -> Result:
    """Token-level scores on synth_dataset_v2 with the types mapped to ours."""
    path = root / "presidio-research" / "data" / "synth_dataset_v2.json"
    if not path.is_file():
        path = root / "presidio-research" / "tests" / "data" / "generated_small.json"
    rows = json.loads(path.read_text(encoding="utf-8"))[:limit]
    result = Result()
    for row in rows:
        text = row["full_text"]
        gold_spans = [(s["start_position"], s["end_position"], MAPPING[s["entity_type"]])
                      for s in row["spans"] if s["entity_type"] in MAPPING]  # fmt: skip
        scored = set(MAPPING.values())
        predicted_spans = [span for span in predict(text) if span[2] in scored]
        gold, predicted = _token_labels(text, gold_spans), _token_labels(text, predicted_spans)
        for kind in scored:
            result.scores[kind].add({g for g in gold if g[1] == kind}, {p for p in predicted if p[1] == kind})
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


def throughput(analyze: Callable[[str], object], texts: list[str], repeat: int) -> dict[str, float]:
    """Median KB of text per CPU second and per wall second over ``repeat`` passes."""
    kilobytes = sum(len(text.encode()) for text in texts) / 1000
    cpu, wall = [], []
    for _ in range(repeat):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for text in texts:
            analyze(text)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    return {"kb": kilobytes, "kb_per_cpu_s": kilobytes / statistics.median(cpu),
            "kb_per_wall_s": kilobytes / statistics.median(wall)}  # fmt: skip


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
    systems: dict[str, tuple[Predictor, Callable[[str], object]]] = {"docintel": docintel_predictor()}
    if not args.no_vanilla:
        systems["vanilla"] = vanilla_predictor(model)
    corpus = ukdata.generate_corpus(args.seed, args.generated_docs if args.limit is None else min(args.limit, 200))
    report: dict[str, Any] = {"spacy_model": model, "generated_seed": args.seed, "datasets": {}}
    results: dict[str, dict[str, Result]] = {}
    for dataset, runner in (
        ("uk-cases", lambda p: eval_uk_cases(root, p, args.limit)),
        ("research", lambda p: eval_research(root, p, args.limit)),
        ("conll", lambda p: eval_conll(root, p, args.limit)),
        ("generated", lambda p: eval_generated(corpus, p)),
    ):
        results[dataset] = {name: runner(predict) for name, (predict, _) in systems.items()}
        report["datasets"][dataset] = {
            name: {kind: score.as_dict() for kind, score in result.scores.items()}
            for name, result in results[dataset].items()
        }
    speed = {
        name: throughput(analyze, [doc.text for doc in corpus], args.repeat) for name, (_, analyze) in systems.items()
    }
    report["throughput"] = speed

    def pair(dataset: str) -> tuple[Result, Result | None]:
        return results[dataset]["docintel"], results[dataset].get("vanilla")

    uk_types = [t for t in UK_IDENTIFIER_TYPES if t in results["uk-cases"]["docintel"].scores]
    print(score_table("(a) presidio-uk-recognizer-cases: exact spans (real test strings)", *pair("uk-cases"), uk_types))
    research_types = list(dict.fromkeys(MAPPING.values()))
    print()
    print(score_table("(b) presidio-research synth_dataset_v2: token level", *pair("research"), research_types))
    ours_micro = results["research"]["docintel"].micro(RESEARCH_PII_TYPES)
    theirs_research = results["research"].get("vanilla")
    theirs_micro = theirs_research.micro(RESEARCH_PII_TYPES) if theirs_research else None
    theirs_f2 = fmt(theirs_micro.f(2) if theirs_micro else None)
    print(f"    micro over {','.join(RESEARCH_PII_TYPES)}: F2 docintel {fmt(ours_micro.f(2))}, vanilla {theirs_f2}")
    print(f"    (vanilla Presidio's published F2 on this set: {VANILLA_PUBLISHED_F2})")
    print()
    print(score_table("(c) CoNLL-2003 eng.testb: exact-span NER", *pair("conll"), list(CONLL_LABELS.values())))
    print()
    print(score_table(f"(d) GENERATED UK corpus (bench/ukdata.py, seed {args.seed}, {len(corpus)} docs): exact spans",
                      *pair("generated"), ukdata.LABELS))  # fmt: skip
    print()
    rows = [[name, fmt(s["kb"], 1), fmt(s["kb_per_cpu_s"], 1), fmt(s["kb_per_wall_s"], 1)] for name, s in speed.items()]
    print(
        format_table(["system", "KB", "KB/CPU-s", "KB/wall-s"], rows, f"Throughput, NER + PII, median of {args.repeat}")
    )

    print("\nTargets")
    uk = results["uk-cases"]["docintel"]
    for kind in uk_types:
        f1 = uk.scores[kind].f(1) or 0.0
        print(f"  {'PASS' if f1 >= TARGET_UK_F1 else 'FAIL'}  UK cases F1 {kind} {f1:.3f} >= {TARGET_UK_F1}")
    f2 = ours_micro.f(2) or 0.0
    print(
        f"  {'PASS' if f2 >= TARGET_RESEARCH_F2 else 'FAIL'}  presidio-research micro F2 {f2:.3f} "
        f">= {TARGET_RESEARCH_F2}"
    )
    if "vanilla" in speed:
        speed_ratio = ratio(speed["docintel"]["kb_per_cpu_s"], speed["vanilla"]["kb_per_cpu_s"]) or 0.0
        print(f"  {'PASS' if speed_ratio >= TARGET_SPEED_RATIO else 'FAIL'}  throughput {speed_ratio:.2f}x vanilla >= "
              f"{TARGET_SPEED_RATIO}x")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    raise SystemExit(main())
