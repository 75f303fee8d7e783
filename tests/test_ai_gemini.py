"""Contract tests of the Gemini adapter, offline: the real google-genai SDK sends its requests
to an httpx mock transport, which checks them and answers with canned Gemini REST replies.

google-genai 3.6 is built on httpx2 (a drop-in fork of httpx with the same API); the SDK
accepts a client of either library through ``HttpOptions(httpx_client=...)``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx2 as httpx
import pytest

from assessments.ai.base import (
    Criterion,
    GenerationRequest,
    GradingRequest,
    InterviewAnswerRequest,
    Provider,
    ProviderError,
)
from assessments.ai.gemini import GeminiProvider, Prompt, estimate_cost
from assessments.questions import get_type

CRITERIA = (
    Criterion("content", "Content", Decimal("4"), "Key facts"),
    Criterion("clarity", "Clarity", Decimal("2")),
)
REQUEST = GradingRequest(
    question_stem="Explain photosynthesis.",
    response_text="Plants turn light, water and CO2 into glucose and oxygen.",
    rubric=CRITERIA,
    model_answer="Photosynthesis makes glucose and oxygen from light, water and carbon dioxide.",
)


def gemini_reply(payload, *, prompt_tokens=120, output_tokens=45, text=None) -> dict:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": text if text is not None else json.dumps(payload)}],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": "gemini-2.5-flash",
    }


GOOD_GRADE = {
    "scores": [
        {"criterion_id": "content", "points": 3.5, "rationale": "Names glucose, oxygen, CO2."},
        {"criterion_id": "clarity", "points": 2, "rationale": "One clear sentence."},
    ],
    "confidence": 0.82,
    "summary": "Accurate and concise.",
}


class Gemini:
    """A mock Gemini endpoint: records requests, answers from a queue of (status, body)."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.replies.pop(0)
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, json=body)

    def provider(self, **kwargs) -> GeminiProvider:
        client = httpx.Client(transport=httpx.MockTransport(self.handler))
        return GeminiProvider(
            api_key="test-key",
            http_client=client,
            sleep=self.sleeps.append,
            **{"max_retries": 3, **kwargs},
        )

    def body(self, index: int = -1) -> dict:
        return json.loads(self.requests[index].content)


def test_grade_sends_model_schema_and_versioned_prompt_and_parses_the_reply():
    gemini = Gemini((200, gemini_reply(GOOD_GRADE)))
    provider = gemini.provider()
    assert isinstance(provider, Provider)

    result = provider.grade(REQUEST)

    request = gemini.requests[0]
    assert request.method == "POST"
    assert request.url.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == "test-key"
    body = gemini.body()
    prompt = body["contents"][0]["parts"][0]["text"]
    assert prompt.startswith("[prompt grade_rubric@1]\n")
    assert "content | Content | 4 | Key facts" in prompt
    assert "Plants turn light, water and CO2" in prompt
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == 0.0
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    assert set(schema["properties"]) == {"scores", "confidence", "summary"}

    assert [(s.criterion_id, s.points) for s in result.scores] == [
        ("content", Decimal("3.50")),
        ("clarity", Decimal("2.00")),
    ]
    assert result.scores[0].rationale == "Names glucose, oxygen, CO2."
    assert result.total == Decimal("5.50")
    assert result.confidence == 0.82
    usage = result.usage
    assert (usage.provider, usage.model, usage.prompt_version) == (
        "gemini",
        "gemini-2.5-flash",
        "grade_rubric@1",
    )
    assert (usage.input_tokens, usage.output_tokens, usage.units) == (120, 45, 1)
    # 120 × $0.30/M + 45 × $2.50/M
    assert usage.cost_usd == Decimal("0.000149")
    assert gemini.sleeps == []


def test_a_429_then_200_is_retried_with_backoff():
    quota = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }
    gemini = Gemini(
        (429, quota),
        (503, {"error": {"code": 503, "message": "busy"}}),
        (200, gemini_reply(GOOD_GRADE)),
    )
    result = gemini.provider().grade(REQUEST)
    assert result.total == Decimal("5.50")
    assert len(gemini.requests) == 3
    assert len(gemini.sleeps) == 2
    assert 0.5 <= gemini.sleeps[0] <= 0.625 and 1.0 <= gemini.sleeps[1] <= 1.25


def test_retries_give_up_with_a_readable_reason():
    quota = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }
    gemini = Gemini(*[(429, quota)] * 3)
    with pytest.raises(ProviderError) as caught:
        gemini.provider(max_retries=2).grade(REQUEST)
    assert caught.value.retryable
    assert "429" in caught.value.reason and "Resource exhausted" in caught.value.reason
    assert len(gemini.requests) == 3


def test_a_timeout_is_retried_and_a_400_is_not():
    gemini = Gemini((0, httpx.ReadTimeout("timed out")), (200, gemini_reply(GOOD_GRADE)))
    assert gemini.provider().grade(REQUEST).total == Decimal("5.50")
    assert len(gemini.sleeps) == 1

    bad = {"error": {"code": 400, "message": "Invalid schema", "status": "INVALID_ARGUMENT"}}
    gemini = Gemini((400, bad))
    with pytest.raises(ProviderError, match="400") as caught:
        gemini.provider().grade(REQUEST)
    assert not caught.value.retryable
    assert len(gemini.requests) == 1 and gemini.sleeps == []


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (gemini_reply(None, text="this is not JSON"), "did not match the expected format"),
        (gemini_reply({"scores": [], "confidence": 0.9}), "did not match the expected format"),
        (
            gemini_reply({**GOOD_GRADE, "scores": GOOD_GRADE["scores"][:1]}),
            "left out criteria: clarity",
        ),
        (
            gemini_reply(
                {
                    **GOOD_GRADE,
                    "scores": [
                        {"criterion_id": "content", "points": 7, "rationale": "x"},
                        GOOD_GRADE["scores"][1],
                    ],
                }
            ),
            "outside 0-4",
        ),
        ({"candidates": [], "usageMetadata": {"promptTokenCount": 3}}, "no answer"),
    ],
)
def test_malformed_output_is_a_provider_error_never_a_grade(reply, reason):
    gemini = Gemini((200, reply))
    with pytest.raises(ProviderError, match=reason):
        gemini.provider().grade(REQUEST)


def test_generate_questions_builds_drafts_that_validate_and_drops_bad_ones():
    questions = [
        {
            "type": "single_choice",
            "title": "Pigment",
            "stem": "Which pigment absorbs light in plants?",
            "options": [
                {"text": "Chlorophyll", "correct": True},
                {"text": "Haemoglobin", "correct": False},
                {"text": "Melanin", "correct": False},
            ],
            "explanation": "Chlorophyll absorbs red and blue light.",
            "difficulty": 2,
            "tags": ["Photosynthesis"],
            "rationale": "Recall of the pigment.",
        },
        {
            "type": "cloze",
            "title": "Products",
            "stem": "Fill in the gaps.",
            "cloze_text": "Photosynthesis produces {{1}} and {{2}}.",
            "gaps": [{"id": "1", "accepted": ["glucose"]}, {"id": "2", "accepted": ["oxygen"]}],
        },
        {"type": "true_false", "title": "No answer", "stem": "Plants breathe."},
        {
            "type": "single_choice",
            "title": "Two right",
            "stem": "?",
            "options": [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
        },
    ]
    gemini = Gemini(
        (200, gemini_reply({"questions": questions}, prompt_tokens=300, output_tokens=500))
    )
    result = gemini.provider().generate_questions(
        GenerationRequest(
            topic="photosynthesis",
            source_text="Chlorophyll absorbs light.",
            count=4,
            types=("single_choice", "cloze", "true_false"),
            difficulty=2,
        )
    )
    prompt = gemini.body()["contents"][0]["parts"][0]["text"]
    assert prompt.startswith("[prompt generate_questions@1]\n")
    assert "Use only these question types: single_choice, cloze, true_false." in prompt
    assert "Chlorophyll absorbs light." in prompt
    assert [d.type for d in result.drafts] == ["single_choice", "cloze"]
    for draft in result.drafts:
        assert get_type(draft.type).validate(draft.data) == draft.data
    assert result.drafts[0].stem == "<p>Which pigment absorbs light in plants?</p>"
    assert result.drafts[0].tags == ("photosynthesis",)
    assert result.usage.prompt_version == "generate_questions@1"
    assert result.usage.cost_usd == estimate_cost("gemini-2.5-flash", 300, 500)

    gemini = Gemini((200, gemini_reply({"questions": questions[2:]})))
    with pytest.raises(ProviderError, match="no usable question"):
        gemini.provider().generate_questions(
            GenerationRequest(topic="x", types=("true_false", "single_choice"))
        )


def test_interview_feedback_and_embeddings():
    feedback = {
        "star": [
            {"part": "situation", "present": True, "sentences": ["At my last job..."]},
            {"part": "action", "present": True, "sentences": ["I built a dashboard."]},
        ],
        "specificity": 0.4,
        "filler_words": [{"word": "um", "count": 2}, {"word": "like", "count": 0}],
        "suggestion": "Say what the result was.",
        "follow_up_question": "What changed afterwards?",
    }
    embeddings = {"embeddings": [{"values": [3.0, 4.0]}, {"values": [0.0, 2.0]}]}
    gemini = Gemini((200, gemini_reply(feedback)), (200, embeddings))
    provider = gemini.provider()
    result = provider.analyse_interview_answer(
        InterviewAnswerRequest("Tell me about...", "At my last job um I built a dashboard.", "", 6)
    )
    assert gemini.body(0)["contents"][0]["parts"][0]["text"].startswith(
        "[prompt interview_feedback@1]"
    )
    assert [(p.part, p.present) for p in result.star] == [
        ("situation", True),
        ("task", False),
        ("action", True),
        ("result", False),
    ]
    assert result.filler_words == {"um": 2}
    assert result.words == 9 and result.words_per_minute == 90.0
    assert result.usage.prompt_version == "interview_feedback@1"

    vectors = provider.embed(["a b", "c"])
    assert gemini.requests[1].url.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert vectors.vectors == [[0.6, 0.8], [0.0, 1.0]]
    assert vectors.usage.model == "gemini-embedding-001"


def test_from_environment_and_prompt_versions(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    monkeypatch.delenv("GEMINI_MODEL", raising=False)
    assert GeminiProvider.from_environment().model == "gemini-2.5-flash"
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-pro")
    assert GeminiProvider.from_environment().model == "gemini-2.5-pro"
    monkeypatch.setenv("GEMINI_API_KEY", "")
    with pytest.raises(ProviderError, match="GEMINI_API_KEY"):
        GeminiProvider.from_environment()
    for name in ("grade_rubric", "generate_questions", "interview_feedback"):
        assert Prompt(name).version == f"{name}@1"


def test_get_provider_picks_gemini_only_with_a_key(monkeypatch, settings):
    from assessments.ai.base import get_provider

    settings.VIVA_AI_PROVIDER = ""
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert get_provider().name == "offline"
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    assert get_provider().name == "gemini"
