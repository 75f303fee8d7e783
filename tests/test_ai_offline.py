"""The offline provider does real work without a network: similarity on a labelled set of
answer pairs, rubric grading, question drafts that validate, interview feedback."""

from __future__ import annotations

import json
import socket
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from assessments.ai import offline
from assessments.ai.base import (
    Criterion,
    GenerationRequest,
    GradingRequest,
    InterviewAnswerRequest,
    Provider,
    ProviderError,
)
from assessments.questions import get_type

PAIRS = Path(__file__).parent / "fixtures" / "ai" / "answer_pairs.json"
POSITIVE = {"similar", "good"}

# Measured on tests/fixtures/ai/answer_pairs.json (see the test's printed figures).
MIN_RANKING_ACCURACY = 0.88
MIN_UNRELATED_ACCURACY = 0.98


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the offline provider tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def provider() -> offline.OfflineProvider:
    return offline.OfflineProvider.shared()


def test_is_a_provider_with_one_shared_model(provider):
    assert isinstance(provider, Provider)
    assert provider.name == "offline"
    assert offline.OfflineProvider.shared() is provider
    provider.embed(["warm up"])
    model = provider.model
    provider.embed(["again"])
    assert provider.model is model
    assert "torch" not in sys.modules


def test_the_model_loads_from_the_repository_without_network():
    fresh = offline.OfflineProvider()  # not the shared one: its model may be loaded already
    assert fresh.embed(["Loaded from disk."]).vectors[0]
    assert (offline.MODEL_DIR / "LICENSE").read_text().count("Apache License") >= 1
    assert "torch" not in sys.modules


def test_embeddings_are_unit_length_and_in_order(provider):
    texts = ["Plants make sugar from light.", "The war ended in 1945.", ""]
    result = provider.embed(texts)
    assert len(result.vectors) == 3
    assert all(len(v) == 256 for v in result.vectors)
    for vector in result.vectors[:2]:
        assert sum(x * x for x in vector) == pytest.approx(1.0, abs=1e-4)
    assert not any(result.vectors[2])  # an empty text has no direction
    assert result.usage.provider == "offline"
    assert result.usage.model == "minilm-l6-static"
    assert result.usage.prompt_version == "offline-embed@1"
    alone = provider.embed([texts[1]]).vectors[0]
    assert alone == pytest.approx(result.vectors[1], abs=1e-5)


def test_labelled_answer_pairs_rank_similar_above_unrelated(provider):
    pairs = json.loads(PAIRS.read_text())["pairs"]
    assert len(pairs) >= 100
    assert len({p["subject"] for p in pairs}) >= 6
    groups: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for pair in pairs:
        groups[pair["reference"]][pair["label"]].append(pair)

    comparisons = correct = unrelated_total = unrelated_correct = 0
    for reference, labels in groups.items():
        positives = [p for label in POSITIVE for p in labels.get(label, [])]
        negatives = [p for label, ps in labels.items() if label not in POSITIVE for p in ps]
        for good in positives:
            good_score = provider.similarity(reference, good["candidate"])
            for bad in negatives:
                bad_score = provider.similarity(reference, bad["candidate"])
                comparisons += 1
                correct += good_score > bad_score
                if bad["label"] == "unrelated":
                    unrelated_total += 1
                    unrelated_correct += good_score > bad_score
    accuracy = correct / comparisons
    unrelated_accuracy = unrelated_correct / unrelated_total
    print(
        f"\noffline similarity on {len(pairs)} labelled pairs: similar ranked above the "
        f"negative in {correct}/{comparisons} = {accuracy:.3f}; above unrelated answers "
        f"{unrelated_correct}/{unrelated_total} = {unrelated_accuracy:.3f}"
    )
    assert accuracy >= MIN_RANKING_ACCURACY
    assert unrelated_accuracy >= MIN_UNRELATED_ACCURACY


RUBRICS = [
    (
        "Explain photosynthesis.",
        "Photosynthesis is the process by which green plants use light energy absorbed by "
        "chlorophyll to turn carbon dioxide and water into glucose, releasing oxygen.",
        "Plants absorb light with chlorophyll and use that energy to convert water and carbon "
        "dioxide into glucose; oxygen is released as a by-product.",
        "Plants grow in soil and need to be watered every day.",
    ),
    (
        "What caused the French Revolution?",
        "The French Revolution of 1789 was caused by a financial crisis, unfair taxation of the "
        "Third Estate, Enlightenment ideas and anger at the absolute power of the king.",
        "France was bankrupt and the Third Estate paid unfair taxes while nobles paid little; "
        "Enlightenment ideas made people question the king's absolute power, leading to 1789.",
        "The revolution happened because people liked new ideas about art and music.",
    ),
    (
        "What does a compiler do?",
        "A compiler translates source code written in a high-level language into machine code "
        "that the processor can execute.",
        "It converts the program's high-level source code into machine code instructions the "
        "processor runs.",
        "A compiler is the window where you type code and see its colours.",
    ),
]
CRITERIA = (
    Criterion("content", "Content", Decimal("4"), "Accurate key facts and terms"),
    Criterion("clarity", "Clarity", Decimal("2"), ""),
)


@pytest.mark.parametrize(("stem", "model_answer", "good", "poor"), RUBRICS)
def test_grading_scores_a_good_answer_above_a_poor_one(provider, stem, model_answer, good, poor):
    good_result = provider.grade(GradingRequest(stem, good, CRITERIA, model_answer))
    poor_result = provider.grade(GradingRequest(stem, poor, CRITERIA, model_answer))
    assert good_result.total > poor_result.total
    assert good_result.total >= Decimal("4.5")
    assert poor_result.total <= Decimal("3")
    for result in (good_result, poor_result):
        assert [s.criterion_id for s in result.scores] == ["content", "clarity"]
        for score, criterion in zip(result.scores, CRITERIA, strict=True):
            assert Decimal(0) <= score.points <= criterion.max_points
            assert score.points == score.points.quantize(Decimal("0.01"))
            assert "similarity to the model answer" in score.rationale
            assert "key terms" in score.rationale
        assert result.usage.prompt_version == "offline-grade-rules@1"
        assert result.usage.model == "minilm-l6-static"
    assert good_result.confidence >= 0.5
    assert "missing" in poor_result.scores[0].rationale


def test_grading_without_a_model_answer_has_low_confidence(provider):
    stem, _, good, _ = RUBRICS[0]
    result = provider.grade(GradingRequest(stem, good, CRITERIA))
    assert result.confidence <= 0.35
    assert "no model answer" in result.scores[0].rationale
    assert "person should check" in result.summary


def test_grading_an_empty_answer_gives_zero_and_no_rubric_is_refused(provider):
    result = provider.grade(GradingRequest("Explain osmosis.", "   ", CRITERIA, "Water moves."))
    assert result.total == Decimal("0.00")
    assert all(s.rationale == "No answer was given." for s in result.scores)
    with pytest.raises(ProviderError, match="no rubric"):
        provider.grade(GradingRequest("Explain osmosis.", "Water moves.", ()))


SOURCE = """Photosynthesis is the process by which green plants convert light energy into
chemical energy. It takes place in the chloroplasts, which contain the green pigment
chlorophyll. During photosynthesis, carbon dioxide and water are converted into glucose and
oxygen. The light-dependent reactions happen in the thylakoid membranes. The Calvin cycle
takes place in the stroma and fixes carbon dioxide. Stomata are small pores on the underside
of leaves that let carbon dioxide in. About 90 percent of the oxygen in the atmosphere comes
from photosynthesis by plants and algae. Respiration is the reverse process, releasing energy
from glucose. Mitochondria are the organelles where cellular respiration happens. The rate of
photosynthesis depends on light intensity, temperature and carbon dioxide concentration."""

HISTORY = """The Industrial Revolution began in Britain around 1760. The steam engine,
improved by James Watt in 1776, powered the new factories. Textile production was the first
industry to be mechanised, with inventions such as the spinning jenny and the power loom.
Coal was the main source of energy, and canals and later railways carried it to the cities.
The Stockton and Darlington Railway opened in 1825. Urbanisation is the growth of towns as
people move from the countryside, and it brought overcrowding and poor sanitation. Child
labour was common in factories until the Factory Acts limited working hours."""


@pytest.mark.parametrize("source", [SOURCE, HISTORY])
def test_generated_drafts_all_validate_with_keys_from_the_source(provider, source):
    types = ("cloze", "true_false", "short_answer", "single_choice", "numeric")
    result = provider.generate_questions(
        GenerationRequest(topic="", source_text=source, count=8, types=types)
    )
    assert 5 <= len(result.drafts) <= 8
    assert {d.type for d in result.drafts} >= {"cloze", "true_false", "short_answer"}
    flat_source = " ".join(source.split())
    for draft in result.drafts:
        assert get_type(draft.type).validate(draft.data) == draft.data
        assert draft.stem.startswith("<p>")
        assert draft.explanation.startswith("<p>From the source:")
        assert draft.rationale
        assert 1 <= draft.difficulty <= 5
        if draft.type == "short_answer":
            assert all(answer in flat_source for answer in draft.data["accepted"])
        if draft.type == "single_choice":
            right = [o["text"] for o in draft.data["options"] if o["correct"]]
            assert len(right) == 1 and right[0] in flat_source
            assert len(draft.data["options"]) >= 3
        if draft.type == "cloze":
            assert "{{1}}" in draft.data["text"]
    assert result.usage.prompt_version == "offline-generate-rules@1"


def test_generation_from_a_topic_only_drafts_essay_prompts(provider):
    result = provider.generate_questions(
        GenerationRequest(topic="the Cold War", count=3, types=("essay",))
    )
    assert [d.type for d in result.drafts] == ["essay"] * 3
    for draft in result.drafts:
        get_type("essay").validate(draft.data)
        assert "the Cold War" in draft.stem
    with pytest.raises(ProviderError):
        provider.generate_questions(GenerationRequest(topic="", source_text="Too short."))


STAR_ANSWER = (
    "When I was working at a small logistics company last year, our delivery times were "
    "slipping and customers complained. My task was to find out why and fix it within a "
    "month. Um, so I analysed three months of delivery data in Excel and, like, I found that "
    "most delays came from one warehouse. I set up a new scheduling process with the "
    "warehouse manager and trained the team on it. As a result, late deliveries dropped by "
    "40 percent and complaints fell by half."
)
NO_RESULT_ANSWER = (
    "Basically at my previous job the team was, you know, always behind on the monthly "
    "report. I was responsible for the numbers. I talked to the analysts and I wrote a "
    "checklist, and we sort of used it for a while."
)


def test_interview_analysis_finds_star_parts(provider):
    feedback = provider.analyse_interview_answer(
        InterviewAnswerRequest("Tell me about a problem you solved.", STAR_ANSWER, "", 45)
    )
    parts = {p.part: p for p in feedback.star}
    assert [p.part for p in feedback.star] == ["situation", "task", "action", "result"]
    assert all(p.present for p in feedback.star)
    assert parts["situation"].sentences[0].startswith("When I was working")
    assert parts["task"].sentences == ("My task was to find out why and fix it within a month.",)
    assert any("analysed" in s for s in parts["action"].sentences)
    assert parts["result"].sentences[0].startswith("As a result")
    assert feedback.filler_words == {"um": 1, "like": 1}
    assert feedback.words == 85
    assert feedback.words_per_minute == pytest.approx(113.3)
    assert feedback.specificity >= 0.6
    assert feedback.suggestion and feedback.follow_up_question.endswith("?")
    assert feedback.usage.prompt_version == "offline-interview-rules@2"


def test_interview_analysis_names_the_missing_result(provider):
    feedback = provider.analyse_interview_answer(
        InterviewAnswerRequest("Tell me about improving a process.", NO_RESULT_ANSWER)
    )
    parts = {p.part: p for p in feedback.star}
    assert parts["situation"].present and parts["task"].present and parts["action"].present
    assert not parts["result"].present
    assert feedback.filler_words == {"basically": 1, "you know": 1, "sort of": 1}
    assert feedback.words_per_minute is None
    assert "result" in feedback.suggestion.lower()
    assert feedback.follow_up_question == (
        "What was the outcome, and how did you measure whether it worked?"
    )
    assert feedback.specificity < 0.6
