"""Reads of the interviews app: a candidate's own sessions, scorecards and progress; panel
reviews as a given person may see them; the candidate ranking of a position.

Objects are reached through ``*_or_404`` helpers that take the user and re-check access, so
another person's session or another portal's id answers "not found".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from tenants.access.permissions import user_can

from .models import (
    InterviewSession,
    InterviewTemplate,
    PanelInterview,
    PanelReview,
    Position,
    PositionCandidate,
    Turn,
)
from .star import PARTS

MANAGE = "interviews.manage_hiring"
REVIEW = "interviews.review_panel"


def can_manage_hiring(user: Any) -> bool:
    return user_can(user, MANAGE)


def can_review(user: Any) -> bool:
    return user_can(user, REVIEW)


def can_use_hiring(user: Any) -> bool:
    return can_manage_hiring(user) or can_review(user)


# -- practice -----------------------------------------------------------------------------


def practice_templates():
    return (
        InterviewTemplate.objects.filter(published=True)
        .annotate(question_count=Count("questions"))
        .filter(question_count__gt=0)
        .order_by("industry", "title")
    )


def own_session_or_404(*, user: Any, session_id: int) -> InterviewSession:
    session = (
        InterviewSession.objects.select_related("template")
        .filter(pk=session_id, user_id=getattr(user, "pk", None))
        .first()
    )
    if session is None:
        raise Http404("Not found")
    return session


def own_turn_or_404(*, user: Any, turn_id: int) -> Turn:
    turn = (
        Turn.objects.select_related("session", "session__template")
        .filter(pk=turn_id, session__user_id=getattr(user, "pk", None))
        .first()
    )
    if turn is None:
        raise Http404("Not found")
    return turn


def current_turn(*, session: InterviewSession) -> Turn | None:
    """The last turn asked (answered or not)."""
    return session.turns.order_by("-position").first()


def question_progress(*, session: InterviewSession) -> tuple[int, int]:
    """(main questions asked so far, main questions in the template)."""
    asked = session.turns.filter(follow_up_of__isnull=True).count()
    return asked, session.template.questions.count()


@dataclass
class CompetencyScore:
    competency: str
    answers: int
    score: Decimal
    star_coverage: dict[str, int]  # part -> answers showing it


@dataclass
class Scorecard:
    session: InterviewSession
    turns: list[Turn]
    competencies: list[CompetencyScore]
    score: Decimal | None
    missing_most: str | None  # the STAR part missing most often


def scorecard(*, session: InterviewSession) -> Scorecard:
    """Scores by competency: each main answer with its follow-up folded in."""
    from .services import answer_units

    turns = [t for t in session.turns.all() if t.answered]
    units = answer_units(turns)
    grouped: dict[str, list[tuple[dict, Decimal]]] = defaultdict(list)
    for turn, combined, score in units:
        grouped[turn.competency or "General"].append((combined, score))
    rows = []
    misses: dict[str, int] = dict.fromkeys(PARTS, 0)
    for competency, group in grouped.items():
        coverage = dict.fromkeys(PARTS, 0)
        for combined, _ in group:
            for part in combined.get("star", []):
                if part.get("present"):
                    coverage[part["part"]] = coverage.get(part["part"], 0) + 1
                else:
                    misses[part["part"]] = misses.get(part["part"], 0) + 1
        mean = sum((score for _, score in group), Decimal(0)) / len(group)
        rows.append(
            CompetencyScore(competency, len(group), mean.quantize(Decimal("0.1")), coverage)
        )
    rows.sort(key=lambda r: r.competency)
    scores = [score for _, _, score in units]
    overall = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1")) if scores else None
    worst = max(misses, key=lambda p: misses[p]) if any(misses.values()) else None
    return Scorecard(session, turns, rows, overall, worst)


@dataclass
class Progress:
    sessions: list[InterviewSession]  # completed, oldest first
    first: Decimal | None
    latest: Decimal | None
    best: Decimal | None
    by_competency: dict[str, list[Decimal]] = field(default_factory=dict)

    @property
    def change(self) -> Decimal | None:
        if self.first is None or self.latest is None or len(self.sessions) < 2:
            return None
        return self.latest - self.first


def progress(*, user: Any) -> Progress:
    """The candidate's completed sessions and how their scores moved."""
    sessions = list(
        InterviewSession.objects.filter(
            user_id=user.pk, status=InterviewSession.Status.COMPLETED, score__isnull=False
        )
        .select_related("template")
        .prefetch_related(Prefetch("turns", queryset=Turn.objects.order_by("position")))
        .order_by("completed_at", "id")
    )
    from .services import answer_units

    by_competency: dict[str, list[Decimal]] = defaultdict(list)
    for session in sessions:
        per: dict[str, list[Decimal]] = defaultdict(list)
        for turn, _, score in answer_units(list(session.turns.all())):
            per[turn.competency or "General"].append(score)
        for competency, scores in per.items():
            by_competency[competency].append(
                (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1"))
            )
    scores = [s.score for s in sessions]
    return Progress(
        sessions=sessions,
        first=scores[0] if scores else None,
        latest=scores[-1] if scores else None,
        best=max(scores) if scores else None,
        by_competency=dict(sorted(by_competency.items())),
    )


# -- hiring -------------------------------------------------------------------------------


def position_or_404(*, user: Any, position_id: int) -> Position:
    """Managers see every position; reviewers those where they sit on a panel."""
    qs = Position.objects.filter(pk=position_id)
    if not can_manage_hiring(user):
        if not can_review(user):
            raise Http404("Not found")
        qs = qs.filter(candidates__panels__reviewers=user).distinct()
    position = qs.first()
    if position is None:
        raise Http404("Not found")
    return position


def positions_for(*, user: Any):
    qs = Position.objects.select_related("template", "exam").annotate(
        candidate_count=Count("candidates", distinct=True)
    )
    if can_manage_hiring(user):
        return qs
    if can_review(user):
        return qs.filter(candidates__panels__reviewers=user).distinct()
    return qs.none()


def candidate_or_404(*, user: Any, candidate_id: int) -> PositionCandidate:
    candidate = (
        PositionCandidate.objects.select_related("position", "user").filter(pk=candidate_id).first()
    )
    if candidate is None:
        raise Http404("Not found")
    position_or_404(user=user, position_id=candidate.position_id)
    if not can_manage_hiring(user) and not candidate.panels.filter(reviewers=user).exists():
        raise Http404("Not found")
    return candidate


def panel_or_404(*, user: Any, panel_id: int) -> PanelInterview:
    panel = (
        PanelInterview.objects.select_related("candidate__position", "candidate__user")
        .filter(pk=panel_id)
        .first()
    )
    if panel is None:
        raise Http404("Not found")
    if can_manage_hiring(user):
        return panel
    if can_review(user) and panel.reviewers.filter(pk=user.pk).exists():
        return panel
    raise Http404("Not found")


def is_open(*, panel: PanelInterview) -> bool:
    """A panel that can still be moved or cancelled: not cancelled and not yet started."""
    return panel.cancelled_at is None and panel.starts_at > timezone.now()


def visible_reviews(*, panel: PanelInterview, user: Any) -> list[PanelReview]:
    """The reviews of ``panel`` that ``user`` may read.

    A reviewer on the panel sees their own review, and everybody else's only once they have
    submitted their own (so nobody anchors on another's scores). A hiring manager who is not
    on the panel sees all of them; anyone else none.
    """
    reviews = list(panel.reviews.select_related("reviewer"))
    if panel.reviewers.filter(pk=user.pk).exists():
        if any(r.reviewer_id == user.pk for r in reviews):
            return reviews
        return []
    if can_manage_hiring(user):
        return reviews
    return []


@dataclass
class RankedCandidate:
    candidate: PositionCandidate
    panel_percent: Decimal | None  # mean of reviewers' totals, % of the rubric maximum
    reviews: int
    competencies: dict[str, Decimal]  # competency -> % of its rubric points
    exam_percent: Decimal | None
    integrity_flags: int
    overall: Decimal | None  # panel and exam averaged when both exist
    scores_hidden: bool = False  # the viewer sits on a panel and has not scored it yet

    @property
    def flagged(self) -> bool:
        return self.integrity_flags > 0


def ranking(*, position: Position, **filters: Any) -> list[RankedCandidate]:
    """Candidates of ``position`` best first, with panel, competency and exam scores and the
    exam's integrity flags; filtered as asked (see ``_filtered``)."""
    return _filtered(_ranked_rows(position), **filters)


def _ranked_rows(position: Position) -> list[RankedCandidate]:
    candidates = list(
        position.candidates.select_related("user").prefetch_related(
            Prefetch("panels__reviews", queryset=PanelReview.objects.all())
        )
    )
    criterion_competency = {c["id"]: c.get("competency") or "General" for c in position.rubric}
    competency_max: dict[str, Decimal] = defaultdict(Decimal)
    for c in position.rubric:
        competency_max[c.get("competency") or "General"] += Decimal(str(c["max_points"]))
    rubric_max = position.rubric_max
    exam_scores, exam_flags = _exam_evidence(position, [c.user_id for c in candidates])
    rows = []
    for candidate in candidates:
        reviews = [r for panel in candidate.panels.all() for r in panel.reviews.all()]
        panel_percent = None
        comp: dict[str, Decimal] = {}
        if reviews and rubric_max:
            mean_total = sum((r.total for r in reviews), Decimal(0)) / len(reviews)
            panel_percent = (mean_total * 100 / rubric_max).quantize(Decimal("0.1"))
            sums: dict[str, Decimal] = defaultdict(Decimal)
            for review in reviews:
                for cid, points in review.scores.items():
                    sums[criterion_competency.get(cid, "General")] += Decimal(points)
            for name, total in sums.items():
                if competency_max[name]:
                    comp[name] = (total / len(reviews) * 100 / competency_max[name]).quantize(
                        Decimal("0.1")
                    )
        exam_percent = exam_scores.get(candidate.user_id)
        parts = [p for p in (panel_percent, exam_percent) if p is not None]
        overall = (sum(parts, Decimal(0)) / len(parts)).quantize(Decimal("0.1")) if parts else None
        rows.append(
            RankedCandidate(
                candidate=candidate,
                panel_percent=panel_percent,
                reviews=len(reviews),
                competencies=comp,
                exam_percent=exam_percent,
                integrity_flags=exam_flags.get(candidate.user_id, 0),
                overall=overall,
            )
        )
    return rows


def _filtered(
    rows: list[RankedCandidate],
    *,
    min_score: Decimal | None = None,
    competency: str = "",
    min_competency: Decimal | None = None,
    flags: str = "",  # "" | "flagged" | "clean"
) -> list[RankedCandidate]:
    if min_score is not None:
        rows = [r for r in rows if r.overall is not None and r.overall >= min_score]
    if competency:
        floor = min_competency if min_competency is not None else Decimal(0)
        rows = [
            r for r in rows if competency in r.competencies and r.competencies[competency] >= floor
        ]
    if flags == "flagged":
        rows = [r for r in rows if r.flagged]
    elif flags == "clean":
        rows = [r for r in rows if not r.flagged]
    rows.sort(key=lambda r: (r.overall is None, -(r.overall or 0), r.candidate.user.email))
    return rows


def ranking_for(*, user: Any, position: Position, **filters: Any) -> list[RankedCandidate]:
    """``ranking`` as ``user`` may see it: reviewers (who are not managers) only the
    candidates whose panels they sit on; and anyone sitting on a candidate's panel without
    having submitted their scores sees no panel scores for that candidate yet (masked before
    sorting and filtering, so neither the order nor a filter gives them away)."""
    rows = _ranked_rows(position)
    panels = PanelInterview.objects.filter(candidate__position=position, reviewers=user)
    sits = set(panels.values_list("candidate_id", flat=True))
    pending = set(panels.exclude(reviews__reviewer=user).values_list("candidate_id", flat=True))
    if not can_manage_hiring(user):
        rows = [r for r in rows if r.candidate.pk in sits]
    for row in rows:
        if row.candidate.pk in pending:
            row.scores_hidden = True
            row.panel_percent = None
            row.competencies = {}
            row.overall = row.exam_percent
    return _filtered(rows, **filters)


def _exam_evidence(position: Position, user_ids: list[int]) -> tuple[dict, dict]:
    """Best submitted exam percent and integrity flags per candidate, when the position
    includes an exam."""
    if not position.exam_id or not user_ids:
        return {}, {}
    from assessments.delivery.models import Attempt, IntegrityEvent

    scores: dict[int, Decimal] = {}
    for user_id, percent in Attempt.objects.filter(
        exam_id=position.exam_id, user_id__in=user_ids, percent__isnull=False
    ).values_list("user_id", "percent"):
        scores[user_id] = max(scores.get(user_id, Decimal(0)), percent)
    flags = dict(
        IntegrityEvent.objects.filter(
            attempt__exam_id=position.exam_id,
            attempt__user_id__in=user_ids,
            kind__in=IntegrityEvent.FLAG_KINDS,
        )
        .values("attempt__user_id")
        .annotate(n=Count("id"))
        .values_list("attempt__user_id", "n")
    )
    return scores, flags


def competencies_of(*, position: Position) -> list[str]:
    return sorted({c.get("competency") or "General" for c in position.rubric})


def reviewer_choices():
    """Users who may sit on a panel (hold ``interviews.review_panel`` through a role)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    perm = Permission.objects.filter(
        content_type__app_label="interviews", codename="review_panel"
    ).first()
    users = get_user_model().objects.filter(is_active=True)
    if perm is None:
        return users.none()
    return (
        users.filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True))
        .distinct()
        .order_by("email")
    )
