"""Classical test theory on a score matrix (numpy only, no database).

Conventions, the same in every function and in the tests' reference computation:

- ``scores`` is an ``N × K`` float matrix (attempts × items) of points earned; ``NaN`` marks an
  item the attempt was not asked (pool draws). ``max_points`` holds each item's points.
- An attempt's **total** is the sum of its item scores (``nansum``).
- **Facility** (p-value): mean of score / points over the attempts asked the item.
- **Point-biserial (corrected)**: Pearson correlation of the item score with the *rest* score
  (total minus the item), over the attempts asked the item; ``None`` when either side is
  constant.
- **Upper–lower index** D: facility in the top 27 % minus facility in the bottom 27 % of the
  attempts asked the item, ranked by total (ties keep the order of the rows, i.e. attempt id);
  each group has ``floor(0.27 n + 0.5)`` attempts, at least 1.
- **Reliability** uses the items asked in *every* attempt, population variances (``ddof=0``):
  Cronbach's alpha ``k/(k-1) · (1 − Σ var(item) / var(total))``; KR-20 the same on 0/1 scores
  (only when every such item is all-or-nothing); SEM ``sd(total) · √(1 − alpha)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GROUP_SHARE = 0.27


def group_size(n: int) -> int:
    return max(1, math.floor(GROUP_SHARE * n + 0.5)) if n else 0


def upper_lower_rows(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ``totals``) of the bottom and top groups, ranking stably by total."""
    order = np.argsort(totals, kind="stable")
    size = group_size(len(totals))
    return order[:size], order[len(order) - size :]


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator == 0:
        return None
    return float(dx @ dy) / denominator


@dataclass
class ItemFigures:
    asked: int
    facility: float | None
    point_biserial: float | None
    upper_lower: float | None
    upper_rows: np.ndarray
    lower_rows: np.ndarray
    rows: np.ndarray  # the attempts asked the item (indices into the matrix)


def item_figures(scores: np.ndarray, max_points: np.ndarray) -> list[ItemFigures]:
    """Facility, corrected point-biserial and upper–lower index of every item."""
    totals = np.nansum(scores, axis=1)
    figures = []
    for j in range(scores.shape[1]):
        column = scores[:, j]
        rows = np.flatnonzero(~np.isnan(column))
        if len(rows) == 0 or not max_points[j]:
            empty = np.array([], dtype=int)
            figures.append(ItemFigures(len(rows), None, None, None, empty, empty, rows))
            continue
        x = column[rows]
        relative = x / max_points[j]
        rest = totals[rows] - x
        lower, upper = upper_lower_rows(totals[rows])
        figures.append(
            ItemFigures(
                asked=len(rows),
                facility=float(relative.mean()),
                point_biserial=_corr(x, rest),
                upper_lower=float(relative[upper].mean() - relative[lower].mean()),
                upper_rows=rows[upper],
                lower_rows=rows[lower],
                rows=rows,
            )
        )
    return figures


@dataclass
class Reliability:
    items: int  # items asked in every attempt (the ones reliability is computed on)
    attempts: int
    mean: float | None
    sd: float | None
    alpha: float | None
    kr20: float | None
    sem: float | None


def reliability(scores: np.ndarray, max_points: np.ndarray) -> Reliability:
    """Cronbach's alpha, KR-20 and SEM over the items every attempt was asked."""
    n = scores.shape[0]
    complete = ~np.isnan(scores).any(axis=0) & (max_points > 0)
    x = scores[:, complete]
    k = x.shape[1]
    if n == 0:
        return Reliability(k, 0, None, None, None, None, None)
    total = x.sum(axis=1)
    mean, variance = float(total.mean()), float(total.var())
    sd = math.sqrt(variance)
    if k < 2 or n < 2 or variance == 0:
        return Reliability(k, n, mean, sd, None, None, None)
    alpha = k / (k - 1) * (1 - float(x.var(axis=0).sum()) / variance)
    points = max_points[complete]
    kr20 = None
    if np.all((x == 0) | (x == points)):
        binary = x / points
        p = binary.mean(axis=0)
        binary_variance = float(binary.sum(axis=1).var())
        if binary_variance:
            kr20 = k / (k - 1) * (1 - float((p * (1 - p)).sum()) / binary_variance)
    sem = sd * math.sqrt(max(0.0, 1 - alpha))
    return Reliability(k, n, mean, sd, alpha, kr20, sem)


def histogram(values: list[float], *, bins: int = 10, low: float = 0, high: float = 100):
    """Counts of ``values`` in ``bins`` equal bins over [low, high] (the last bin closed)."""
    counts = [0] * bins
    width = (high - low) / bins
    for value in values:
        index = min(bins - 1, max(0, int((value - low) // width)))
        counts[index] += 1
    edges = [low + width * i for i in range(bins + 1)]
    return counts, edges


def percentile_rank(score: float, scores: list[float]) -> float:
    """Mid-rank percentile: share of scores below, plus half of those equal, in percent."""
    if not scores:
        return 0.0
    below = sum(1 for s in scores if s < score)
    equal = sum(1 for s in scores if s == score)
    return 100.0 * (below + 0.5 * equal) / len(scores)


def trend_slope(values: list[float]) -> float | None:
    """Least-squares slope of ``values`` against 1, 2, 3… (points per attempt)."""
    if len(values) < 2:
        return None
    xs = np.arange(1, len(values) + 1, dtype=float)
    ys = np.asarray(values, dtype=float)
    dx = xs - xs.mean()
    return float((dx @ (ys - ys.mean())) / (dx @ dx))
