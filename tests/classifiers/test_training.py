"""The shipped training set and `docintel train`: every class covered, deterministic, corrections from review."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.embeddings import EmbeddingHead
from classifiers.rules import RetentionRulesClassifier
from classifiers.structure import without_mail_headers
from classifiers.train import correction_examples, hardened, train_command
from classifiers.training import forms, generate_examples, templated_classes, templates
from classifiers.training.generate import class_styles
from docintel.catalogue import tables
from docintel.catalogue.store import open_catalogue
from docintel.models import DocumentRecord, Provenance
from docintel.retention import UNCLASSIFIED, RetentionSchedule
from docintel.settings import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def test_every_schedule_class_has_templates(schedule: RetentionSchedule) -> None:
    assert set(templated_classes()) == set(schedule.ids) - {UNCLASSIFIED}


def test_generation_is_deterministic_and_balanced() -> None:
    first = generate_examples(per_class=3, seed=5)
    assert first == generate_examples(per_class=3, seed=5)
    assert first != generate_examples(per_class=3, seed=6)
    assert set(Counter(e.class_id for e in first).values()) == {3}
    assert all(e.text and e.name and e.file_type for e in first)
    assert not any("{" in e.text or "}" in e.text for e in first)  # every placeholder filled


def test_generated_documents_are_not_rule_keyword_copies(schedule: RetentionSchedule) -> None:
    """The model must learn the kind of document: the rules alone should miss a good share of the set."""
    rules = RetentionRulesClassifier(schedule)
    examples = generate_examples(per_class=10, seed=11)
    stripped = [hardened(e) for e in examples]
    hits = sum(rules.classify(e.as_record()).record_class == e.class_id for e in stripped)
    assert hits / len(stripped) < 0.8


@pytest.mark.parametrize("class_id", ["social_care.adult", "education.pupil_record"])
def test_generated_people_are_fictional(class_id: str) -> None:
    for example in generate_examples([class_id], per_class=5, seed=3):
        for email in re.findall(r"\S+@\S+", example.text):
            assert email.split("@")[1].startswith(("example.", "mail.example."))


def _catalogue_with_decisions(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    letter = tmp_path / "files" / "letter.txt"
    letter.parent.mkdir()
    letter.write_text("Dear resident, we will not be taking your application for the post further.", encoding="utf-8")
    with open_catalogue(url) as store:
        for doc_id, name, locator in (("doc-a", "letter.txt", str(letter)), ("doc-b", "Scan_0042.pdf", "/gone.pdf")):
            store.save(
                DocumentRecord(
                    id=doc_id,
                    provenance=Provenance(source="local", locator=locator, name=name, path="HR/Recruitment"),
                    file_type=name.rsplit(".", 1)[-1],
                )
            )
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = [
            # doc-a: changed twice; the latest approved decision is the label
            ("doc-a", "finance.invoice", True, at),
            ("doc-a", "hr.recruitment_unsuccessful", True, at + dt.timedelta(hours=1)),
            ("doc-b", "contracts.deed", True, at),
            ("doc-b", "risk.register", False, at + dt.timedelta(hours=1)),  # not approved: ignored
            ("doc-b", "no.such_class", False, at + dt.timedelta(hours=2)),
        ]
        with store.engine.begin() as connection:
            connection.execute(
                tables.review_decisions.insert(),
                [
                    {
                        "document_id": d,
                        "user_name": "rm1",
                        "at": when,
                        "action": "change",
                        "to_class": c,
                        "approved": ok,
                        "reason": "test",
                    }
                    for d, c, ok, when in rows
                ],
            )
    return url, letter


def test_corrections_come_from_latest_approved_decisions(tmp_path: Path, schedule: RetentionSchedule) -> None:
    url, _ = _catalogue_with_decisions(tmp_path)
    with open_catalogue(url) as store:
        examples, reread = correction_examples(store, schedule, load_settings(CONFIG_DIR, environ={}))
    by_name = {e.name: e for e in examples}
    assert {e.class_id for e in examples} == {"hr.recruitment_unsuccessful", "contracts.deed"}
    assert by_name["letter.txt"].class_id == "hr.recruitment_unsuccessful"
    assert "application for the post" in by_name["letter.txt"].text  # re-read from the local file
    assert by_name["Scan_0042.pdf"].text == ""  # gone: learnt from name and folder only
    assert reread == 1
    assert all(e.origin == "review" for e in examples)


@pytest.mark.slow
def test_train_command_writes_head_with_corrections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = _catalogue_with_decisions(tmp_path)
    head = tmp_path / "out" / "head.npz"
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__PER_CLASS", "2")
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__CALIBRATION_PER_CLASS", "1")
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__MAX_TOKENS", "96")
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__ENCODER", "transformer")  # the full-transformer mode stays selectable
    result = CliRunner().invoke(train_command, ["--catalogue", url, "--model", "head", "--output", str(head)])
    assert result.exit_code == 0, result.output
    assert "encoder 'transformer all-MiniLM-L6-v2 tokens=96'" in result.output
    assert "2 corrected documents (1 re-read)" in result.output
    assert "hr.recruitment_unsuccessful: 1 corrections" in result.output
    loaded = EmbeddingHead.load(head)
    assert "reviewed document letter.txt" in loaded.example_labels  # never the reviewed document's title
    assert loaded.example_classes.count("contracts.deed") == 3
    assert loaded.encoder == "transformer all-MiniLM-L6-v2 tokens=96"
    assert loaded.example_vectors.shape[1] == 384


def test_train_command_learns_reviewers_decisions_into_the_evidence_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from classifiers.evidence import SHIPPED_MODEL, load_model

    url, _ = _catalogue_with_decisions(tmp_path)
    output = tmp_path / "out" / "evidence.npz"
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(CONFIG_DIR))
    result = CliRunner().invoke(train_command, ["--catalogue", url, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "2 corrected documents (1 re-read)" in result.output
    assert "hr.recruitment_unsuccessful: 1 corrections" in result.output
    adjusted, shipped = load_model(output), load_model(SHIPPED_MODEL)
    assert adjusted.info["reviewed_documents"] == "2"
    assert adjusted.review_threshold == shipped.review_threshold
    assert len(adjusted.features) >= len(shipped.features)
    assert not (adjusted.weights[: len(shipped.features), : len(shipped.classes)] == shipped.weights).all()


def test_train_command_reports_bad_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCINTEL_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.setenv("DOCINTEL_CLASSIFIER__REVIEW_THRESHOLD", "7")
    result = CliRunner().invoke(train_command, ["--no-corrections", "--output", str(tmp_path / "h.npz")])
    assert result.exit_code == 1
    assert "ConfigError" in result.output and "review_threshold" in result.output


def test_generated_messages_look_as_docintel_reads_them() -> None:
    """Mail opens with the extractor's header block and its subject is its title."""
    messages = [e for e in generate_examples(per_class=12, seed=21) if e.file_type in ("eml", "msg")]
    assert {e.class_id for e in messages} >= {"correspondence.transitory", "foi.request", "complaints.case"}
    for example in messages:
        first = example.text.splitlines()[0]
        if example.title is not None:
            assert first == f"Subject: {example.title}"
        assert re.search(r"^From: .+$", example.text, re.MULTILINE)
        assert re.search(r"^Date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", example.text, re.MULTILINE)
    assert any(e.title and e.title.lower().startswith(("re:", "fw:", "fwd:")) for e in messages)


def test_generated_scans_have_no_title_and_carry_ocr_errors() -> None:
    scans = [e for e in generate_examples(["finance.invoice"], per_class=40, seed=4) if e.file_type in ("png", "jpg")]
    assert scans and all(e.title is None for e in scans)
    camera = re.compile(r"^(IMG_\d|scan\d|Scan_\d|DOC\d|X\d|\d|photo_\d)")
    assert any(camera.match(e.name) for e in scans)  # named by a camera or a scanner
    assert any(not camera.match(e.name) for e in scans)  # or after what they are


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.2])
def test_ocr_noise_is_deterministic_and_scales_with_rate(rate: float) -> None:
    text = "TOTAL AMOUNT DUE £120.00 including VAT at 20% - Invoice 10 of 11 - thank you for your custom " * 4
    first = forms.ocr_noise(text, random.Random(1), rate)
    assert first == forms.ocr_noise(text, random.Random(1), rate)
    changed = sum(a != b for a, b in zip(first, text, strict=False)) + abs(len(first) - len(text))
    if rate == 0:
        assert first == text
    else:
        assert changed > 0
        assert len(first) > len(text) * 0.8  # errors, not erasure


def test_hardened_message_keeps_its_headers_but_not_its_subject() -> None:
    message = next(e for e in generate_examples(["foi.request"], per_class=30, seed=8) if e.file_type == "eml")
    stripped = hardened(message)
    assert stripped.title is None
    assert "Subject:" not in stripped.text
    assert stripped.text.startswith("From: ")
    assert len([line for line in without_mail_headers(stripped.text).splitlines() if line.strip()]) <= 3


@pytest.mark.parametrize("class_id", ["correspondence.transitory", "foi.request", "governance.committee",
                                      "hr.recruitment_unsuccessful", "finance.invoice"])  # fmt: skip
def test_classes_offer_several_styles(class_id: str) -> None:
    """The classes real mailboxes and file shares hold most have many layouts, not one template."""
    assert len(templates.VARIANTS[class_id]) >= 2
    names = {e.name.rsplit(".", 1)[-1] for e in generate_examples([class_id], per_class=40, seed=2)}
    assert len(names) >= 2  # more than one file type


def test_held_out_styles_split_each_class() -> None:
    """The bench's style hold-out: training without each class's last style, testing on that style alone."""
    for class_id in templated_classes():
        every = class_styles(class_id)
        kept, held = class_styles(class_id, held_out_style=False), class_styles(class_id, held_out_style=True)
        if len(every) == 1:
            assert kept == every and held == ()
        else:
            assert kept + held == every and len(held) == 1
    assert class_styles("no.such_class") == ()
    assert generate_examples(per_class=4, seed=1, held_out_style=None) == generate_examples(per_class=4, seed=1)
    held_examples = generate_examples(["foi.request", "finance.budget"], per_class=4, seed=1, held_out_style=True)
    assert {e.class_id for e in held_examples} == {"foi.request"}  # finance.budget has one style
