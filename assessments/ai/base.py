"""The AI provider interface: small, typed, with dataclasses crossing it.

Everything in Viva that uses AI calls ``get_provider()`` and one of the four methods below;
nothing else imports a vendor SDK. Two implementations: ``offline.OfflineProvider`` (the
default: a static embedding model plus transparent rules, no network) and
``gemini.GeminiProvider`` (``google-genai``, used when ``GEMINI_API_KEY`` is set).

Every call returns its result together with a ``Usage`` (model, tokens or units, latency,
prompt version) so that ``metering.record`` can store it for the current tenant and count it
against the plan's AI credits. A provider failure raises ``ProviderError`` with a reason a
person can read; callers leave the work undone (e.g. a response ungraded) and show the reason,
never a made-up result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable


class ProviderError(Exception):
    """The provider could not do the work (timeout, refused, malformed output)."""

    def __init__(self, reason: str, *, retryable: bool = False):
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)


@dataclass(frozen=True)
class Usage:
    provider: str  # "offline" | "gemini"
    model: str
    prompt_version: str  # e.g. "grade_rubric@3"
    input_tokens: int = 0
    output_tokens: int = 0
    units: int = 1  # credits this call costs (1 per call unless a provider says otherwise)
    latency_ms: int = 0
    cost_usd: Decimal = Decimal(0)  # estimated from the model's price table (0 offline)


# -- question generation ------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationRequest:
    """Draft questions about ``topic`` or from ``source_text`` (a syllabus, a document)."""

    topic: str = ""
    source_text: str = ""
    count: int = 5
    types: tuple[str, ...] = ("single_choice", "true_false", "short_answer")
    difficulty: int | None = None  # 1..5
    language: str = "en"


@dataclass(frozen=True)
class DraftQuestion:
    """A draft in Viva's own question JSON shape (``docs/question-format.md``): ``type``,
    ``title``, ``stem`` (HTML), ``data`` (validated by the type), plus ``explanation``,
    ``difficulty``, ``tags`` and ``rationale`` (why the provider proposes it, for the author)."""

    type: str
    title: str
    stem: str
    data: dict
    explanation: str = ""
    difficulty: int = 3
    tags: tuple[str, ...] = ()
    rationale: str = ""


@dataclass(frozen=True)
class GenerationResult:
    drafts: list[DraftQuestion]
    usage: Usage


# -- rubric grading -----------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    id: str
    criterion: str
    max_points: Decimal
    description: str = ""


@dataclass(frozen=True)
class GradingRequest:
    question_stem: str  # plain text
    response_text: str
    rubric: tuple[Criterion, ...]
    model_answer: str = ""  # accepted answers / exemplar, when there is one
    language: str = "en"


@dataclass(frozen=True)
class CriterionScore:
    criterion_id: str
    points: Decimal
    rationale: str


@dataclass(frozen=True)
class GradingResult:
    scores: tuple[CriterionScore, ...]
    confidence: float  # 0..1: below the tenant's threshold a person grades it
    summary: str
    usage: Usage

    @property
    def total(self) -> Decimal:
        return sum((s.points for s in self.scores), Decimal(0))


# -- interview answers --------------------------------------------------------------------


@dataclass(frozen=True)
class InterviewAnswerRequest:
    question: str
    answer: str  # transcript
    competency: str = ""
    duration_seconds: float | None = None


@dataclass(frozen=True)
class StarPart:
    part: str  # "situation" | "task" | "action" | "result"
    present: bool
    sentences: tuple[str, ...] = ()


@dataclass(frozen=True)
class InterviewFeedback:
    star: tuple[StarPart, ...]
    specificity: float  # 0..1
    filler_words: dict[str, int] = field(default_factory=dict)
    words: int = 0
    words_per_minute: float | None = None
    suggestion: str = ""
    follow_up_question: str = ""
    usage: Usage | None = None


# -- embeddings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]  # one unit-length vector per text, same order
    usage: Usage


@runtime_checkable
class Provider(Protocol):
    name: str

    def generate_questions(self, request: GenerationRequest) -> GenerationResult: ...

    def grade(self, request: GradingRequest) -> GradingResult: ...

    def analyse_interview_answer(self, request: InterviewAnswerRequest) -> InterviewFeedback: ...

    def embed(self, texts: list[str]) -> Embeddings: ...


def get_provider() -> Provider:
    """Gemini when ``GEMINI_API_KEY`` is set, else the offline provider. Tests may set
    ``settings.VIVA_AI_PROVIDER`` to a dotted path of a provider factory to inject one."""
    import os

    from django.conf import settings
    from django.utils.module_loading import import_string

    factory = getattr(settings, "VIVA_AI_PROVIDER", "")
    if factory:
        return import_string(factory)()
    if os.environ.get("GEMINI_API_KEY"):
        from .gemini import GeminiProvider

        return GeminiProvider.from_environment()
    from .offline import OfflineProvider

    return OfflineProvider.shared()
