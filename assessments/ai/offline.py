"""The offline provider: a static embedding model plus transparent rules. No network, no torch.

The model (``embedding_model/minilm-l6-static``, distilled by
``scripts/distill_embeddings.py``) is a model2vec table of token vectors: a text's embedding
is the mean of its tokens' vectors, so loading takes about a second and embedding 1,000
answers a tenth of one. Everything else is rules a person can check, and each result says
which evidence it used:

- ``grade``: per criterion, semantic similarity to the model answer (or to the criterion and
  question when there is none), coverage of the model answer's key terms, and length against
  the expected length; confidence is low when the evidence is weak, disagrees or is missing.
- ``generate_questions``: key sentences of the source text by TF-IDF (definitions and
  numbers preferred), turned into cloze, true/false, short-answer, single-choice and numeric
  drafts whose keys and explanations are the source's own words; distractors are other key
  terms of the same text. Without a source text, essay prompts with a generic rubric.
- ``analyse_interview_answer``: STAR parts by ``assessments.interviews.star`` (the one
  detector, measured on a labelled set), specificity (numbers, concrete action verbs, named
  tools), filler words, pace.
"""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from . import text as tx
from .base import (
    Criterion,
    CriterionScore,
    Embeddings,
    GenerationRequest,
    GenerationResult,
    GradingRequest,
    GradingResult,
    InterviewAnswerRequest,
    InterviewFeedback,
    ProviderError,
    Usage,
)

MODEL_DIR = Path(__file__).resolve().parent / "embedding_model" / "minilm-l6-static"
MODEL_NAME = "minilm-l6-static"

PROMPT_VERSIONS = {
    "embed": "offline-embed@1",
    "grade": "offline-grade-rules@1",
    "generate": "offline-generate-rules@1",
    "interview": "offline-interview-rules@2",
}

# Cosine similarities of this model: paraphrases ~0.6-0.9, same topic ~0.3-0.5, unrelated <0.2.
SIM_FLOOR, SIM_CEILING = 0.20, 0.80


def _scaled(similarity: float) -> float:
    return float(min(max((similarity - SIM_FLOOR) / (SIM_CEILING - SIM_FLOOR), 0.0), 1.0))


class OfflineProvider:
    """Real work without a network: see the module docstring for what each method does."""

    name = "offline"
    _shared: OfflineProvider | None = None
    _lock = threading.Lock()

    def __init__(self, model_dir: Path | str = MODEL_DIR):
        self.model_dir = Path(model_dir)
        self._model = None

    @classmethod
    def shared(cls) -> OfflineProvider:
        """One instance per process: the model is a read-only table, not tenant state."""
        if cls._shared is None:
            with cls._lock:
                if cls._shared is None:
                    cls._shared = cls()
        return cls._shared

    # -- embeddings ------------------------------------------------------------------------

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from model2vec import StaticModel

                    if not (self.model_dir / "model.safetensors").is_file():
                        raise ProviderError(f"The offline model is missing at {self.model_dir}.")
                    self._model = StaticModel.from_pretrained(
                        str(self.model_dir), force_download=False
                    )
        return self._model

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text (an empty text gives a zero row)."""
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        matrix = np.asarray(
            self.model.encode(list(texts), use_multiprocessing=False), dtype=np.float32
        )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)

    def embed(self, texts: list[str]) -> Embeddings:
        matrix = self.vectors(texts)
        return Embeddings(vectors=matrix.tolist(), usage=self._usage("embed"))

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts' embeddings (-1..1; 0 when either is empty)."""
        va, vb = self.vectors([a, b])
        return float(va @ vb)

    def answer_similarity(self, reference: str, candidate: str) -> float:
        """How well ``candidate`` matches ``reference`` (0..1): embedding similarity, scaled,
        blended with the share of the reference's key terms the candidate uses."""
        if not candidate.strip() or not reference.strip():
            return 0.0
        semantic = _scaled(self.similarity(reference, candidate))
        coverage, _, _ = _coverage(reference, candidate)
        return round(0.7 * semantic + 0.3 * coverage, 4)

    # -- grading ---------------------------------------------------------------------------

    def grade(self, request: GradingRequest) -> GradingResult:
        if not request.rubric:
            raise ProviderError("The question has no rubric to grade against.")
        response = (request.response_text or "").strip()
        response_words = len(tx.words(response))
        if not response_words:
            scores = tuple(
                CriterionScore(c.id, Decimal("0.00"), "No answer was given.")
                for c in request.rubric
            )
            return GradingResult(scores, 0.95, "No answer was given.", self._usage("grade"))

        model_answer = (request.model_answer or "").strip()
        texts = [response, model_answer, request.question_stem]
        texts += [f"{c.criterion}. {c.description}".strip() for c in request.rubric]
        matrix = self.vectors(texts)
        to_model = float(matrix[0] @ matrix[1]) if model_answer else 0.0
        to_question = float(matrix[0] @ matrix[2]) if request.question_stem.strip() else 0.0
        expected_words = len(tx.words(model_answer)) if model_answer else 0
        length = _length_factor(response_words, expected_words)

        scores, confidences = [], []
        for index, criterion in enumerate(request.rubric):
            to_criterion = float(matrix[0] @ matrix[3 + index])
            fraction, confidence, rationale = self._criterion(
                criterion,
                response,
                model_answer,
                to_model=to_model,
                to_question=to_question,
                to_criterion=to_criterion,
                length=length,
                response_words=response_words,
                expected_words=expected_words,
            )
            scores.append(
                CriterionScore(criterion.id, _points(fraction, criterion.max_points), rationale)
            )
            confidences.append(confidence)
        confidence = round(min(confidences), 2)
        total = sum((s.points for s in scores), Decimal(0))
        maximum = sum((c.max_points for c in request.rubric), Decimal(0))
        basis = "the model answer" if model_answer else "the question and rubric only"
        summary = (
            f"{total} of {maximum} points by transparent rules against {basis} "
            f"(confidence {confidence:.2f})."
        )
        if not model_answer:
            summary += " No model answer was given, so a person should check this grade."
        return GradingResult(tuple(scores), confidence, summary, self._usage("grade"))

    def _criterion(
        self,
        criterion: Criterion,
        response: str,
        model_answer: str,
        *,
        to_model: float,
        to_question: float,
        to_criterion: float,
        length: float,
        response_words: int,
        expected_words: int,
    ) -> tuple[float, float, str]:
        notes = []
        if model_answer:
            semantic = _scaled(to_model)
            coverage, found, missing = _coverage(model_answer, response)
            # The criterion's own evidence: its description's key terms, or how close the
            # response is to the criterion's wording (criterion texts are short: +0.15).
            relevance = _scaled(to_criterion + 0.15)
            if criterion.description.strip():
                described_coverage, d_found, d_missing = _coverage(criterion.description, response)
                relevance = max(relevance, described_coverage)
            fraction = 0.45 * semantic + 0.25 * coverage + 0.15 * relevance + 0.15 * length
            notes.append(f"similarity to the model answer {to_model:.2f} ({_strength(semantic)})")
            notes.append(_coverage_note(found, missing))
            if criterion.description.strip() and (d_found or d_missing):
                notes.append(_coverage_note(d_found, d_missing, of="the criterion's description"))
            # Evidence agrees → confident; a middling score or signals that disagree → not.
            disagreement = abs(semantic - coverage)
            middling = 1 - abs(fraction - 0.5) * 2
            confidence = 0.9 - 0.35 * disagreement - 0.25 * middling
            if response_words < 5:
                confidence -= 0.2
        else:
            semantic = _scaled(max(to_question, to_criterion))
            if criterion.description.strip():
                coverage, found, missing = _coverage(criterion.description, response)
                notes.append(_coverage_note(found, missing, of="the criterion's description"))
            else:
                coverage = semantic
            fraction = 0.55 * semantic + 0.2 * coverage + 0.25 * length
            notes.append(
                f"similarity to the question/criterion {max(to_question, to_criterion):.2f} "
                f"({_strength(semantic)}); no model answer, so only topicality is judged"
            )
            confidence = min(0.35, 0.15 + 0.2 * semantic)
        if expected_words:
            notes.append(f"{response_words} words against about {expected_words} expected")
        else:
            notes.append(f"{response_words} words")
        rationale = f"{criterion.criterion}: " + "; ".join(notes) + "."
        fraction = min(max(fraction, 0.0), 1.0)
        return fraction, float(min(max(confidence, 0.05), 0.95)), rationale

    # -- question generation ---------------------------------------------------------------

    def generate_questions(self, request: GenerationRequest) -> GenerationResult:
        from .offline_generation import draft_questions

        if request.count < 1:
            raise ProviderError("Ask for at least one question.")
        drafts = draft_questions(request, self)
        if not drafts:
            raise ProviderError(
                "The text holds no sentence a question can be built from: give a longer "
                "source text with definitions or facts."
            )
        return GenerationResult(drafts=drafts, usage=self._usage("generate"))

    # -- interview answers -----------------------------------------------------------------

    def analyse_interview_answer(self, request: InterviewAnswerRequest) -> InterviewFeedback:
        from .offline_interview import analyse

        return analyse(request, usage=self._usage("interview"))

    def _usage(self, task: str) -> Usage:
        return Usage(provider=self.name, model=MODEL_NAME, prompt_version=PROMPT_VERSIONS[task])


# Words of rubric descriptions that say how to judge, not what to find.
_RUBRIC_WORDS = """
    explain explains describe describes discuss discusses mention mentions names
    identify identifies clear clearly well organised organized structure structured
    correct correctly accurate accurately relevant good answer response candidate
    student shows
"""
RUBRIC_WORDS = frozenset(tx.stem(w) for w in _RUBRIC_WORDS.split())


def _coverage(reference: str, candidate: str) -> tuple[float, list[str], list[str]]:
    """Share of ``reference``'s key terms that ``candidate`` uses, with the terms named."""
    terms = [t for t in tx.key_terms(reference, limit=12) if t not in RUBRIC_WORDS][:10]
    if not terms:
        return 0.0, [], []
    have = set(tx.content_terms(candidate))
    forms = tx.surface_forms(reference)
    found = [forms.get(t, t) for t in terms if t in have]
    missing = [forms.get(t, t) for t in terms if t not in have]
    return len(found) / len(terms), found, missing


def _coverage_note(found: list[str], missing: list[str], of: str = "the model answer") -> str:
    total = len(found) + len(missing)
    note = f"uses {len(found)} of {total} key terms of {of}"
    if found:
        note += f" ({', '.join(found[:5])})"
    if missing:
        note += f"; missing {', '.join(missing[:5])}"
    return note


def _length_factor(words: int, expected: int) -> float:
    """1 at or above 60 % of the expected length (or 40 words when none), less below."""
    target = max(int(expected * 0.6), 8) if expected else 40
    return min(words / target, 1.0)


def _strength(scaled: float) -> str:
    return "strong" if scaled >= 0.66 else "partial" if scaled >= 0.33 else "weak"


def _points(fraction: float, max_points: Decimal) -> Decimal:
    """Points to the nearest half point (or quarter for criteria worth under 2)."""
    step = Decimal("0.25") if max_points < 2 else Decimal("0.5")
    raw = Decimal(str(fraction)) * max_points
    points = (raw / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return min(max(points, Decimal(0)), max_points).quantize(Decimal("0.01"))
