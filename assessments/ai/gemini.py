"""Gemini through ``google-genai``: structured output, timeouts, retries, tokens and cost.

Every call sends a versioned prompt template (``prompts/<name>.txt``, first line
``# <name>@<n>``) and a pydantic response schema; ``response.parsed`` is checked again here
(criterion ids, point ranges, question data through the type registry), so malformed output
raises ``ProviderError`` and never becomes a grade or a draft. Retryable failures (429, 5xx,
timeouts, dropped connections) are retried with exponential backoff and jitter.

Configuration (environment): ``GEMINI_API_KEY`` (required), ``GEMINI_MODEL`` (default
``gemini-2.5-flash``), ``GEMINI_EMBEDDING_MODEL`` (``gemini-embedding-001``),
``GEMINI_TIMEOUT_SECONDS`` (30), ``GEMINI_MAX_RETRIES`` (3 retries after the first attempt).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from string import Template
from typing import Any, Literal

from pydantic import BaseModel, Field

from .base import (
    CriterionScore,
    DraftQuestion,
    Embeddings,
    GenerationRequest,
    GenerationResult,
    GradingRequest,
    GradingResult,
    InterviewAnswerRequest,
    InterviewFeedback,
    ProviderError,
    StarPart,
    Usage,
)

logger = logging.getLogger(__name__)

PROMPTS = Path(__file__).resolve().parent / "prompts"
DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

# USD per million tokens (input, output), from Google's price list; unknown models cost 0.
PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    "gemini-2.5-pro": (Decimal("1.25"), Decimal("10.00")),
    "gemini-2.5-flash": (Decimal("0.30"), Decimal("2.50")),
    "gemini-2.5-flash-lite": (Decimal("0.10"), Decimal("0.40")),
    "gemini-2.0-flash": (Decimal("0.10"), Decimal("0.40")),
    "gemini-embedding-001": (Decimal("0.15"), Decimal("0")),
}


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> Decimal:
    price_in, price_out = PRICES_PER_MILLION.get(model, (Decimal(0), Decimal(0)))
    cost = (price_in * input_tokens + price_out * output_tokens) / Decimal(1_000_000)
    return cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


# -- prompts ----------------------------------------------------------------------------------


class Prompt:
    """A versioned template: ``version`` ("grade_rubric@1") is recorded with every call."""

    def __init__(self, name: str):
        raw = (PROMPTS / f"{name}.txt").read_text()
        header, _, body = raw.partition("\n")
        if not header.startswith("# ") or "@" not in header:
            raise ValueError(f"prompt {name} has no '# name@version' first line")
        self.name = name
        self.version = header[2:].strip()
        self.template = Template(body)

    def render(self, **values: Any) -> str:
        return f"[prompt {self.version}]\n" + self.template.substitute(
            {k: str(v) for k, v in values.items()}
        )


# -- response schemas -------------------------------------------------------------------------


class CriterionGrade(BaseModel):
    criterion_id: str
    points: float
    rationale: str


class GradeOutput(BaseModel):
    scores: list[CriterionGrade]
    confidence: float = Field(ge=0, le=1)
    summary: str


class OptionOut(BaseModel):
    text: str
    correct: bool


class GapOut(BaseModel):
    id: str
    accepted: list[str]


class RubricOut(BaseModel):
    id: str
    criterion: str
    max_points: float
    description: str = ""


class QuestionOut(BaseModel):
    type: Literal["single_choice", "true_false", "short_answer", "cloze", "numeric", "essay"]
    title: str
    stem: str
    options: list[OptionOut] = []
    answer: bool | None = None
    accepted: list[str] = []
    cloze_text: str = ""
    gaps: list[GapOut] = []
    numeric_answer: str = ""
    tolerance: str = ""
    rubric: list[RubricOut] = []
    explanation: str = ""
    difficulty: int = 3
    tags: list[str] = []
    rationale: str = ""


class GenerateOutput(BaseModel):
    questions: list[QuestionOut]


class StarOut(BaseModel):
    part: Literal["situation", "task", "action", "result"]
    present: bool
    sentences: list[str] = []


class FillerOut(BaseModel):
    word: str
    count: int


class InterviewOutput(BaseModel):
    star: list[StarOut]
    specificity: float = Field(ge=0, le=1)
    filler_words: list[FillerOut] = []
    suggestion: str
    follow_up_question: str


# -- the provider -----------------------------------------------------------------------------


class GeminiProvider:
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
        timeout_seconds: float = 30.0,
        max_retries: int = 3,
        http_client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        from google import genai
        from google.genai import types

        if not api_key:
            raise ProviderError("GEMINI_API_KEY is not set.")
        options = types.HttpOptions(timeout=int(timeout_seconds * 1000))
        if http_client is not None:
            options = types.HttpOptions(
                timeout=int(timeout_seconds * 1000), httpx_client=http_client
            )
        self.client = genai.Client(api_key=api_key, http_options=options)
        self.model = model
        self.embedding_model = embedding_model
        self.max_retries = max(int(max_retries), 0)
        self._sleep = sleep

    @classmethod
    def from_environment(cls, **overrides: Any) -> GeminiProvider:
        env = os.environ
        settings = {
            "api_key": env.get("GEMINI_API_KEY", ""),
            "model": env.get("GEMINI_MODEL") or DEFAULT_MODEL,
            "embedding_model": env.get("GEMINI_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
            "timeout_seconds": float(env.get("GEMINI_TIMEOUT_SECONDS") or 30),
            "max_retries": int(env.get("GEMINI_MAX_RETRIES") or 3),
        }
        settings.update(overrides)
        return cls(**settings)

    # -- the four methods ------------------------------------------------------------------

    def grade(self, request: GradingRequest) -> GradingResult:
        if not request.rubric:
            raise ProviderError("The question has no rubric to grade against.")
        prompt = Prompt("grade_rubric")
        rubric = "\n".join(
            f"{c.id} | {c.criterion} | {c.max_points} | {c.description}" for c in request.rubric
        )
        text = prompt.render(
            question=request.question_stem,
            rubric=rubric,
            model_answer=request.model_answer or "(none)",
            response=request.response_text or "(empty)",
        )
        output, usage = self._generate(text, GradeOutput, prompt, temperature=0.0)
        by_id = {s.criterion_id: s for s in output.scores}
        missing = [c.id for c in request.rubric if c.id not in by_id]
        if missing:
            raise ProviderError(f"Gemini's grade left out criteria: {', '.join(missing)}.")
        scores = []
        for criterion in request.rubric:
            given = by_id[criterion.id]
            try:
                points = Decimal(str(given.points)).quantize(Decimal("0.01"))
            except InvalidOperation as exc:
                raise ProviderError("Gemini gave points that are not a number.") from exc
            if not Decimal(0) <= points <= criterion.max_points:
                raise ProviderError(
                    f"Gemini gave {points} points for “{criterion.criterion}”, "
                    f"outside 0-{criterion.max_points}."
                )
            scores.append(CriterionScore(criterion.id, points, given.rationale.strip()))
        return GradingResult(tuple(scores), float(output.confidence), output.summary, usage)

    def generate_questions(self, request: GenerationRequest) -> GenerationResult:
        prompt = Prompt("generate_questions")
        text = prompt.render(
            count=request.count,
            language=request.language,
            difficulty=request.difficulty or 3,
            types=", ".join(request.types),
            topic=request.topic or "(none)",
            source_text=request.source_text or "(none)",
        )
        output, usage = self._generate(text, GenerateOutput, prompt, temperature=0.7)
        drafts, problems = [], []
        for index, question in enumerate(output.questions):
            if question.type not in request.types:
                problems.append(f"question {index + 1}: type {question.type} was not asked for")
                continue
            try:
                drafts.append(_draft(question))
            except ValueError as exc:
                problems.append(f"question {index + 1}: {exc}")
        if problems:
            logger.info("Gemini drafts dropped: %s", "; ".join(problems))
        if not drafts:
            raise ProviderError(
                "Gemini returned no usable question" + (f" ({problems[0]})." if problems else ".")
            )
        return GenerationResult(drafts=drafts[: request.count], usage=usage)

    def analyse_interview_answer(self, request: InterviewAnswerRequest) -> InterviewFeedback:
        prompt = Prompt("interview_feedback")
        text = prompt.render(
            competency=request.competency or "(none)",
            question=request.question,
            answer=request.answer or "(empty)",
        )
        output, usage = self._generate(text, InterviewOutput, prompt, temperature=0.2)
        parts = {s.part: s for s in output.star}
        star = tuple(
            StarPart(p, bool(parts[p].present), tuple(parts[p].sentences))
            if p in parts
            else StarPart(p, False)
            for p in ("situation", "task", "action", "result")
        )
        words = len((request.answer or "").split())
        wpm = None
        if request.duration_seconds and request.duration_seconds > 0 and words:
            wpm = round(words / (request.duration_seconds / 60), 1)
        return InterviewFeedback(
            star=star,
            specificity=float(output.specificity),
            filler_words={f.word: f.count for f in output.filler_words if f.count > 0},
            words=words,
            words_per_minute=wpm,
            suggestion=output.suggestion,
            follow_up_question=output.follow_up_question,
            usage=usage,
        )

    def embed(self, texts: list[str]) -> Embeddings:
        if not texts:
            return Embeddings([], self._usage("embed@1", 0, 0, 0, self.embedding_model))
        started = time.perf_counter()
        response = self._with_retries(
            lambda: self.client.models.embed_content(model=self.embedding_model, contents=texts)
        )
        vectors = []
        for item in response.embeddings or []:
            values = list(item.values or [])
            norm = math.sqrt(sum(v * v for v in values)) or 1.0
            vectors.append([v / norm for v in values])
        if len(vectors) != len(texts):
            raise ProviderError(
                f"Gemini returned {len(vectors)} embeddings for {len(texts)} texts."
            )
        tokens = sum(len(t.split()) for t in texts)  # the embedding API reports no usage
        latency = int((time.perf_counter() - started) * 1000)
        return Embeddings(vectors, self._usage("embed@1", tokens, 0, latency, self.embedding_model))

    # -- plumbing --------------------------------------------------------------------------

    def _generate(self, text: str, schema: type[BaseModel], prompt: Prompt, *, temperature: float):
        from google.genai import types

        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=schema,
            temperature=temperature,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        started = time.perf_counter()
        response = self._with_retries(
            lambda: self.client.models.generate_content(
                model=self.model, contents=text, config=config
            )
        )
        latency = int((time.perf_counter() - started) * 1000)
        meta = getattr(response, "usage_metadata", None)
        input_tokens = int(getattr(meta, "prompt_token_count", 0) or 0)
        output_tokens = int(getattr(meta, "candidates_token_count", 0) or 0)
        output_tokens += int(getattr(meta, "thoughts_token_count", 0) or 0)
        usage = self._usage(prompt.version, input_tokens, output_tokens, latency, self.model)
        parsed = getattr(response, "parsed", None)
        if not isinstance(parsed, schema):
            parsed = _parse(response, schema)
        return parsed, usage

    def _with_retries(self, fn: Callable[[], Any]) -> Any:
        from google.genai import errors

        attempt = 0
        while True:
            try:
                return fn()
            except errors.APIError as exc:
                retryable = exc.code in RETRYABLE_STATUS
                reason = f"Gemini refused the request ({exc.code} {exc.status or ''}".strip()
                reason += f": {exc.message})" if exc.message else ")"
                error = ProviderError(reason, retryable=retryable)
            except Exception as exc:
                if not _is_transient(exc):
                    raise
                error = ProviderError(f"Gemini did not answer in time ({exc}).", retryable=True)
            if not error.retryable or attempt >= self.max_retries:
                raise error
            delay = min(0.5 * 2**attempt, 8.0) * (1 + random.random() / 4)  # noqa: S311
            logger.info("Gemini: %s; retry %d in %.1f s", error.reason, attempt + 1, delay)
            self._sleep(delay)
            attempt += 1

    def _usage(self, version, input_tokens, output_tokens, latency, model) -> Usage:
        return Usage(
            provider=self.name,
            model=model,
            prompt_version=version,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            units=1,
            latency_ms=latency,
            cost_usd=estimate_cost(model, input_tokens, output_tokens),
        )


def _parse(response: Any, schema: type[BaseModel]) -> BaseModel:
    """The SDK leaves ``parsed`` empty when the JSON does not fit the schema: say why."""
    text = ""
    try:
        text = response.text or ""
    except Exception:  # noqa: BLE001 - the SDK raises on blocked or empty candidates
        text = ""
    if not text:
        raise ProviderError("Gemini returned no answer (empty or blocked).")
    try:
        return schema.model_validate(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ProviderError(f"Gemini's answer did not match the expected format: {exc}") from exc


def _is_transient(exc: Exception) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    module = type(exc).__module__.split(".")[0]
    return (
        module in {"httpx", "httpx2", "httpcore", "httpcore2"}
        and bool(
            names & {"TimeoutException", "ConnectError", "RemoteProtocolError", "NetworkError"}
        )
        or isinstance(exc, TimeoutError)
    )


def _draft(question: QuestionOut) -> DraftQuestion:
    """A ``DraftQuestion`` whose data passed the type's own validation."""
    from assessments.questions import QuestionDataError, get_type

    if question.type == "single_choice":
        data = {
            "points": "1.00",
            "shuffle": True,
            "options": [
                {"id": str(i + 1), "text": o.text, "correct": o.correct, "feedback": ""}
                for i, o in enumerate(question.options)
            ],
        }
    elif question.type == "true_false":
        if question.answer is None:
            raise ValueError("a true/false question without its answer")
        data = {"points": "1.00", "answer": question.answer}
    elif question.type == "short_answer":
        data = {"points": "1.00", "accepted": question.accepted, "case_sensitive": False}
    elif question.type == "cloze":
        data = {
            "points": "1.00",
            "text": question.cloze_text,
            "gaps": [{"id": g.id, "accepted": g.accepted} for g in question.gaps],
        }
    elif question.type == "numeric":
        data = {
            "points": "1.00",
            "answer": question.numeric_answer,
            "tolerance": question.tolerance or "0",
        }
    else:
        data = {
            "rubric": [
                {
                    "id": r.id,
                    "criterion": r.criterion,
                    "max_points": str(r.max_points),
                    "description": r.description,
                }
                for r in question.rubric
            ]
        }
    try:
        normalised = get_type(question.type).validate(data)
    except QuestionDataError as exc:
        raise ValueError("; ".join(exc.errors)) from exc
    import html

    stem = (
        question.stem
        if question.stem.lstrip().startswith("<")
        else f"<p>{html.escape(question.stem)}</p>"
    )
    return DraftQuestion(
        type=question.type,
        title=(question.title or question.stem)[:255],
        stem=stem,
        data=normalised,
        explanation=question.explanation,
        difficulty=min(max(int(question.difficulty or 3), 1), 5),
        tags=tuple(t.strip().lower() for t in question.tags if t.strip())[:8],
        rationale=question.rationale,
    )
