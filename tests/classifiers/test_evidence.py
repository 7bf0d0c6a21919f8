"""The evidence classifier: document kinds and titles decide, weak keywords do not, evidence points at passages.

Everything here runs on the model shipped in the package (no evaluation data, no download) or on small
models trained from generated documents in the test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from classifiers import get_classifier
from classifiers.config import ClassifierConfig, EvidenceSettings
from classifiers.cues import document_features
from classifiers.evidence import (
    GENERATED_GROUP,
    SHIPPED_MODEL,
    EvidenceRetentionClassifier,
    LabelledDocument,
    fit_model,
    learn_from_reviews,
    load_model,
    train_model,
)
from classifiers.linear import EvidenceModel, fit_temperature, review_threshold, softmax
from classifiers.training import generate_examples
from docintel.errors import ClassificationError
from docintel.models import DocumentRecord, Page, PageMethod, Provenance, join_pages
from docintel.retention import RetentionSchedule


def record(
    title: str | None, text: str, *, name: str = "document.pdf", path: str = "", pages: list[str] | None = None
) -> DocumentRecord:
    """A record as the pipeline hands it to the classifier."""
    placed: list[Page] = []
    if pages is not None:
        placed, text = join_pages([Page(number=i + 1, text=page) for i, page in enumerate(pages)])
    return DocumentRecord(
        id=name,
        provenance=Provenance(source="local", locator=name, name=name, path=path),
        title=title,
        text=text,
        file_type=name.rsplit(".", 1)[-1],
        pages=placed,
    )


MINUTES_CLASSES = ("governance.committee", "governance.management_minutes", "meetings.team_notes")
PARISH_MINUTES = (
    "MINUTES OF THE MEETING OF THE PARISH COUNCIL HELD IN THE VILLAGE HALL ON 12th May 2022 at 7.30pm. "
    "Present: Cllr A (Chairman), Cllr B, Cllr C. In attendance: the Clerk and two members of the public. "
    "1. Apologies for absence were received and accepted. 2. Declarations of interest: none. "
    "3. The minutes of the meeting held on 14th April 2022 were approved and signed by the Chairman. "
    "4. Planning applications: the council raised no objection. 5. Finance: payments were approved. "
    "6. Date of next meeting: 9th June 2022."
)


@pytest.fixture(scope="module")
def classifier(schedule: RetentionSchedule) -> EvidenceRetentionClassifier:
    # A model path that does not exist: the shipped model is used, as on a fresh install.
    config = ClassifierConfig(evidence=EvidenceSettings(model_path=Path("/nonexistent/evidence-model.npz")))
    return EvidenceRetentionClassifier(schedule, config)


@pytest.mark.parametrize(
    ("title", "text", "name", "expected"),
    [
        ("Minutes of the Parish Council meeting held on 12th May 2022", PARISH_MINUTES, "minutes.pdf",
         "governance.committee"),
        (None, "SUMMONS TO ATTEND. Agenda. Parish Council meeting on Thursday 7th March 2024 at 7.30pm",
         "2024-03-07_Agenda.pdf", "governance.committee"),
        ("Statement of Accounts for the year ended 31 March 2017", "Income and expenditure. Balance sheet.",
         "accounts.pdf", "finance.budget"),
        ("Annual Governance and Accountability Return 2024/25", "Section 1 annual governance statement",
         "AGAR.pdf", "finance.budget"),
        ("Bank reconciliation 2017-18", "Balance per bank statement. Unpresented cheques.", "bank-rec.pdf",
         "finance.budget"),
        ("Financial Regulations", "These financial regulations govern the conduct of financial management.",
         "Financial_Regulations.pdf", "policy.corporate"),
        ("Privacy Policy", "This privacy notice explains how the council uses personal data.", "privacy.pdf",
         "policy.corporate"),
        ("Freedom of Information request: response", "Dear requester, thank you for your request for "
         "information under the Freedom of Information Act 2000.", "FOI-response.pdf", "foi.request"),
        ("Newsletter December 2017", "Dates for your diaries. News from around the village.", "NEWSLETTER.pdf",
         "correspondence.transitory"),
        (None, "Notice of Planning Decision. Town and Country Planning Act 1990. The council hereby grants planning "
         "permission for the development described above, subject to conditions.", "planning-decision-scan.pdf",
         "planning.decision"),
        ("Risk assessment 2023", "Risk, likelihood, impact and control measures for each council activity.",
         "risk-assessment.pdf", "risk.register"),
    ],
)  # fmt: skip
def test_titles_and_kinds_decide(
    classifier: EvidenceRetentionClassifier, title: str | None, text: str, name: str, expected: str
) -> None:
    found = classifier.classify(record(title, text, name=name))
    assert found.record_class == expected, found.explanation


@pytest.mark.parametrize(
    ("title", "name", "body_words", "expected"),
    [
        # A clear title beats a body that repeats another class's keyword many times.
        ("Minutes of the meeting of the Parish Council held on 3rd May 2023", "minutes.pdf",
         "invoice invoice amount due VAT number", MINUTES_CLASSES),
        ("Standing Orders", "Standing_Orders.pdf", "minutes agenda meeting", ("policy.corporate",)),
        ("Statement of Accounts 2016-17", "Statement-of-Accounts.pdf", "policy policies", ("finance.budget",)),
    ],
)  # fmt: skip
def test_keyword_counts_alone_do_not_beat_a_clear_title(
    classifier: EvidenceRetentionClassifier, title: str, name: str, body_words: str, expected: tuple[str, ...]
) -> None:
    body = " ".join([body_words] * 40)
    found = classifier.classify(record(title, body, name=name))
    assert found.record_class in expected, found.explanation
    strongest = found.evidence[0]
    assert strongest.where in ("title", "name")  # the title decided, not the repeated words


def test_repeated_keyword_counts_once() -> None:
    once = document_features(record(None, "invoice and other words here"))
    many = document_features(record(None, "invoice " * 50 + "and other words here"))
    assert many.values["word:invoice@page"] == pytest.approx(once.values["word:invoice@page"])
    assert many.values["kind:invoice@page"] == once.values["kind:invoice@page"] == 1.0


def test_evidence_offsets_point_at_the_passages(classifier: EvidenceRetentionClassifier) -> None:
    doc = record(
        "Minutes of the Parish Council",
        "",
        name="2016-05-19_SPC_minutes.pdf",
        path="parish-council/spc-minutes",
        pages=["MINUTES OF THE PARISH COUNCIL MEETING HELD ON 19th MAY 2016. Present: Cllr A.", "Item 2. Planning."],
    )
    found = classifier.classify(doc)
    assert found.record_class == "governance.committee"
    assert found.evidence, found.explanation
    weights = [item.weight for item in found.evidence]
    assert weights == sorted(weights, reverse=True)  # strongest first
    strings = {"title": doc.title or "", "text": doc.text, "path": doc.provenance.path, "name": doc.provenance.name}
    for item in found.evidence:
        assert item.record_class == found.record_class
        assert 0 <= item.start < item.end <= len(strings[item.where])
        if item.where == "text":
            assert item.page == doc.page_at(item.start) == 1
        else:
            assert item.page == 0
    kinds = [item for item in found.evidence if "document kind 'minutes'" in item.feature]
    assert kinds
    span = kinds[0]
    assert strings[span.where][span.start : span.end].lower() == "minutes"


def test_explanations_never_quote_the_document(classifier: EvidenceRetentionClassifier) -> None:
    found = classifier.classify(
        record("Minutes of the Zanzibarville Parish Council", "Present: Cllr Quixotica Pemberton. Apologies.")
    )
    lowered = found.explanation.lower()
    assert "zanzibarville" not in lowered and "quixotica" not in lowered and "pemberton" not in lowered
    assert "generated" not in lowered and "nearest" not in lowered
    assert "document kind 'minutes'" in found.explanation


def test_welsh_and_bilingual_documents_are_recognised() -> None:
    welsh = (
        "Cofnodion cyfarfod Cyngor Cymuned a gynhaliwyd yn y neuadd. Mae hefyd croeso gyda diolch i bawb sydd wedi bod."
    )
    features = document_features(record(None, welsh))
    assert "language:welsh" in features.values
    assert "kind:minutes@heading" in features.values  # "Cofnodion" is minutes
    bilingual = welsh + " " + " ".join(["The council met in the village hall and agreed the budget."] * 4)
    assert "language:bilingual" in document_features(record(None, bilingual)).values


def test_folder_and_file_type_are_features() -> None:
    features = document_features(record(None, "text", name="Book1.xlsx", path="Finance/Budgets"))
    assert features.values["file type:xlsx"] == 1.0
    assert "kind:budget@path" in features.values
    span = features.spans["kind:budget@path"]
    assert span.where == "path" and "Finance/Budgets"[span.start : span.end] == "Budgets"


def test_low_confidence_is_flagged_with_the_reason(classifier: EvidenceRetentionClassifier) -> None:
    found = classifier.classify(record(None, "", name="scan0001.pdf"))
    assert found.needs_review
    assert found.explanation.startswith("evidence: needs review")


def test_default_classifier_is_the_evidence_classifier(schedule: RetentionSchedule) -> None:
    from docintel.settings import load_settings

    settings = load_settings(Path(__file__).resolve().parents[2] / "config", environ={})
    assert settings.retention.classifier == "evidence"
    assert isinstance(get_classifier("evidence", schedule), EvidenceRetentionClassifier)


def test_shipped_model_is_calibrated_and_holds_no_text() -> None:
    model = load_model(SHIPPED_MODEL)
    assert 0.5 <= model.review_threshold <= 1.0
    assert model.temperature > 0
    assert int(model.info["real_documents"]) > 200
    # Only features: kinds and dates (the product's names), single words, file types, language, length, scan.
    prefixes = ("kind:", "date:", "word:", "file type:", "language:", "length:", "scan:")
    assert all(name.startswith(prefixes) for name in model.features)
    words = [name.split(":", 1)[1].split("@")[0] for name in model.features if name.startswith("word:")]
    assert words and all(word.isalpha() for word in words)  # single words, never phrases or passages


def test_model_round_trips_and_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    model = EvidenceModel(
        features=["kind:minutes@title", "word:budget@page"], classes=["a", "b"],
        weights=np.array([[1.0, -1.0], [0.5, 0.25]]), bias=np.array([0.0, 0.1]), temperature=1.5,
        review_threshold=0.8, info={"trained_on": "test"},
    )  # fmt: skip
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = EvidenceModel.load(path)
    assert loaded.features == model.features and loaded.classes == model.classes
    assert np.allclose(loaded.weights, model.weights) and loaded.info == {"trained_on": "test"}
    assert (loaded.temperature, loaded.review_threshold) == (1.5, 0.8)
    path.write_bytes(b"not a model")
    with pytest.raises(ClassificationError, match="not a readable evidence model"):
        EvidenceModel.load(path)


# --- calibration ---


def test_review_threshold_keeps_accepted_precision_at_target() -> None:
    rng = np.random.default_rng(3)
    confidences = rng.uniform(0.3, 1.0, 400)
    correct = rng.uniform(0, 1, 400) < confidences  # right as often as it says
    for target in (0.9, 0.95, 0.98):
        threshold = review_threshold(confidences, correct, target_precision=target, floor=0.5)
        accepted = confidences >= threshold
        assert accepted.any()
        assert correct[accepted].mean() >= target
    thresholds = [review_threshold(confidences, correct, target_precision=t, floor=0.0) for t in (0.8, 0.9, 0.97)]
    assert thresholds == sorted(thresholds)  # a stricter target never accepts more


def test_review_threshold_floor_and_nothing_qualifying() -> None:
    assert review_threshold([0.2, 0.3], [True, True], target_precision=0.98, floor=0.5) == 0.5
    assert review_threshold([0.9, 0.8], [False, False], target_precision=0.98, floor=0.5) > 1.0


def test_temperature_softens_overconfident_scores() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1, (300, 3)) * 8  # very sure...
    right = [[int(rng.integers(0, 3))] for _ in range(300)]  # ...and right only by chance
    temperature = fit_temperature(logits, right)
    assert temperature > 2
    assert softmax(logits / temperature).max(axis=1).mean() < softmax(logits).max(axis=1).mean()


def _generated(schedule: RetentionSchedule, per_class: int, seed: int) -> list[LabelledDocument]:
    classes = ["governance.committee", "finance.invoice", "foi.request", "policy.corporate"]
    examples = generate_examples(classes, per_class=per_class, seed=seed)
    groups = [f"{GENERATED_GROUP}-{i % 3}" if seed == 1 else f"org{i % 4}" for i in range(len(examples))]
    return [
        LabelledDocument(e.as_record(f"g{i}"), (e.class_id,), group)
        for i, (e, group) in enumerate(zip(examples, groups, strict=True))
    ]


def test_calibration_uses_grouped_folds_of_real_documents(schedule: RetentionSchedule) -> None:
    documents = _generated(schedule, 6, seed=1) + _generated(schedule, 6, seed=2)
    model = train_model(documents, EvidenceSettings(min_review_threshold=0.3))
    assert math.isfinite(model.temperature) and model.temperature > 0
    assert 0.3 <= model.review_threshold <= 1.01
    assert model.info["real_organisations"] == "4"
    assert float(model.info["held_out_documents"]) == 24  # every real document scored once, held out


def test_learning_from_reviews_moves_the_model_towards_a_councils_own_folders(schedule: RetentionSchedule) -> None:
    settings = EvidenceSettings()
    base = fit_model(_generated(schedule, 5, seed=1), settings)
    # A council files its FOI answers in a folder called "Ceisiadau" with bare reference-number names.
    text = "Our reference 2024/118. Please find attached."
    reviewed = [
        LabelledDocument(record(None, text, name=f"{n}.pdf", path="Ceisiadau"), ("foi.request",), "review")
        for n in range(8)
    ]
    probe = record(None, "Our reference 2024/301. Please find attached.", name="301.pdf", path="Ceisiadau")
    before = EvidenceRetentionClassifier(schedule, ClassifierConfig(), base).classify(probe)
    adjusted = learn_from_reviews(base, reviewed, settings)
    after = EvidenceRetentionClassifier(schedule, ClassifierConfig(), adjusted).classify(probe)
    assert "word:ceisiadau@path" in adjusted.index
    assert after.record_class == "foi.request"
    assert before.record_class != "foi.request" or before.confidence < after.confidence
    assert adjusted.review_threshold == base.review_threshold  # calibration kept


def test_page_of_ocr_is_a_feature() -> None:
    doc = record(None, "", pages=["scanned words"])
    doc = doc.model_copy(update={"pages": [doc.pages[0].model_copy(update={"method": PageMethod.OCR})]})
    assert "scan:ocr" in document_features(doc).values
