"""How far AI suggestions agree with human grades on one exam: should the portal trust them?

Pairs: every response with a successful AI suggestion (``AISuggestion.total``) and a grade
given by a person (``Response.graded_by`` set — by hand, by overriding the suggestion, or
by confirming it, which a grader does only when they agree). Scores are compared as whole
points (rounded half-up), the scale essay rubrics are marked on:

- **exact agreement**: the share of pairs with the same whole-point score;
- **adjacent agreement**: the share within one point of each other (the convention of
  automated essay scoring studies, which mark on small integer scales);
- **quadratic weighted kappa** (Cohen's κ with weights ``(i − j)² / (k − 1)²``): agreement
  beyond chance, where a disagreement of two points costs four times one of one point.
  1 is perfect, 0 is chance.

The verdict follows the usual reading of κ for grading (≥ 0.8 strong, ≥ 0.6 moderate,
≥ 0.4 weak) and asks for at least 30 pairs before judging at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from assessments.ai.feature_models import AISuggestion
from assessments.exams.models import Exam

MIN_PAIRS = 30


def whole_points(value: Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quadratic_weighted_kappa(
    a: Sequence[int],
    b: Sequence[int],
    *,
    min_rating: int | None = None,
    max_rating: int | None = None,
) -> float | None:
    """Cohen's kappa with quadratic weights between two raters' integer ratings.

    ``1 − Σ w·O / Σ w·E`` where ``O`` is the observed confusion matrix, ``E`` the outer
    product of both raters' histograms scaled to the same total, and
    ``w[i, j] = (i − j)² / (k − 1)²``. ``None`` with no ratings; 1.0 when both raters give
    one and the same rating to everything (no disagreement is possible)."""
    x = np.asarray(a, dtype=np.int64)
    y = np.asarray(b, dtype=np.int64)
    if x.shape != y.shape:
        raise ValueError("both raters must rate the same items")
    if x.size == 0:
        return None
    low = int(min(x.min(), y.min())) if min_rating is None else min_rating
    high = int(max(x.max(), y.max())) if max_rating is None else max_rating
    k = high - low + 1
    if k == 1:
        return 1.0
    observed = np.zeros((k, k), dtype=np.float64)
    np.add.at(observed, (x - low, y - low), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / x.size
    i, j = np.indices((k, k))
    weights = (i - j) ** 2 / (k - 1) ** 2
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return 1.0
    return float(1 - (weights * observed).sum() / denominator)


@dataclass(frozen=True)
class Agreement:
    n: int
    confirmed: int  # pairs where the human grade is a confirmation of the suggestion
    exact: float | None
    adjacent: float | None
    kappa: float | None
    mean_difference: float | None  # AI minus human, in points
    verdict: str


def compare(ai: Sequence[Decimal], human: Sequence[Decimal], *, confirmed: int = 0) -> Agreement:
    """Agreement figures for paired scores (same order)."""
    n = len(ai)
    if n == 0:
        return Agreement(
            0, 0, None, None, None, None, "No response has both an AI and a human grade yet."
        )
    x = [whole_points(v) for v in ai]
    y = [whole_points(v) for v in human]
    diff = np.abs(np.array(x) - np.array(y))
    exact = float((diff == 0).mean())
    adjacent = float((diff <= 1).mean())
    kappa = quadratic_weighted_kappa(x, y)
    mean_difference = float(np.mean([float(a) - float(h) for a, h in zip(ai, human, strict=True)]))
    return Agreement(n, confirmed, exact, adjacent, kappa, mean_difference, verdict(n, kappa))


def verdict(n: int, kappa: float | None) -> str:
    if kappa is None or n < MIN_PAIRS:
        return (
            f"Too few graded pairs to judge ({n}; at least {MIN_PAIRS} are needed). "
            "Keep grading by hand and look again."
        )
    if kappa >= 0.8:
        return (
            "Strong agreement: the AI grades about as consistently as a second trained grader. "
            "Spot-check its suggestions and confirm them."
        )
    if kappa >= 0.6:
        return (
            "Moderate agreement: the AI is a useful first reader, but check each suggestion "
            "before confirming it."
        )
    if kappa >= 0.4:
        return (
            "Weak agreement: use the AI's rationale as a hint only and grade every response "
            "yourself."
        )
    return "Poor agreement: do not rely on the AI's grades for this exam."


def exam_agreement(*, exam: Exam) -> Agreement:
    rows = list(
        AISuggestion.objects.filter(
            exam=exam,
            total__isnull=False,
            response__graded_by__isnull=False,
            response__score__isnull=False,
        )
        .exclude(status=AISuggestion.Status.FAILED)
        .values_list("total", "response__score", "status")
    )
    return compare(
        [r[0] for r in rows],
        [r[1] for r in rows],
        confirmed=sum(1 for r in rows if r[2] == AISuggestion.Status.CONFIRMED),
    )
