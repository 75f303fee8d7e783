"""Reads of exams: versions, who is assigned, each candidate's window and time, grader access.

The rule for a candidate with several assignments (directly and through cohorts): **the most
generous value of each setting wins, each setting on its own**. The window opens at the
earliest opening and closes at the latest closing among the assignments (an assignment
without an override contributes the exam's own value; "no close" beats any date), and the
extra time is the largest. So a candidate whose cohort gets 30 minutes extra and whose own
assignment moves the close a day later gets both.

Base values come from the version the candidate sits (``version``; default: the latest
published version), so unpublished edits to the exam never move a live window; an exam not
yet published falls back to its own draft settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime

from tenants.access.permissions import require, user_can

from .models import Exam, ExamAssignment, ExamVersion

GRADE_EXAM = "assessments.grade_exam"


@dataclass(frozen=True)
class Window:
    """When a candidate may start: ``None`` at either end means unbounded."""

    opens_at: datetime | None
    closes_at: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.opens_at is None or self.opens_at <= moment) and (
            self.closes_at is None or moment < self.closes_at
        )


def get_exam(*, exam_id: int) -> Exam | None:
    return Exam.objects.filter(pk=exam_id).first()


def published_versions(*, exam: Exam) -> QuerySet[ExamVersion]:
    """The exam's versions, newest first."""
    return (
        ExamVersion.objects.filter(exam_id=exam.pk)
        .select_related("published_by")
        .order_by("-number")
    )


def latest_version(*, exam: Exam) -> ExamVersion | None:
    return published_versions(exam=exam).first()


def assignments_for(*, exam: Exam, user: Any) -> QuerySet[ExamAssignment]:
    """The assignments that let ``user`` sit ``exam``: their own and their cohorts'."""
    if user is None or not getattr(user, "pk", None):
        return ExamAssignment.objects.none()
    return ExamAssignment.objects.filter(
        Q(user_id=user.pk) | Q(cohort__members__pk=user.pk), exam_id=exam.pk
    ).distinct()


def is_assigned(*, exam: Exam, user: Any) -> bool:
    return assignments_for(exam=exam, user=user).exists()


def effective_window(*, exam: Exam, user: Any, version: ExamVersion | None = None) -> Window:
    """The window ``user`` may start ``exam`` in (see the module docstring for the rule).
    Without any assignment: the exam's own window."""
    base = _base_settings(exam, version)
    opens, closes = base["opens_at"], base["closes_at"]
    assignments = list(assignments_for(exam=exam, user=user))
    if not assignments:
        return Window(opens, closes)
    openings = [a.opens_at or opens for a in assignments]
    closings = [a.closes_at or closes for a in assignments]
    return Window(
        None if None in openings else min(openings),
        None if None in closings else max(closings),
    )


def extra_time_minutes(*, exam: Exam, user: Any) -> int:
    """The largest extra time among ``user``'s assignments (0 without any)."""
    return max((a.extra_time_minutes for a in assignments_for(exam=exam, user=user)), default=0)


def effective_time_limit(
    *, exam: Exam, user: Any, version: ExamVersion | None = None
) -> int | None:
    """Minutes ``user`` has for one attempt: the time limit plus their largest extra time;
    ``None`` when the exam has no time limit (extra time then changes nothing)."""
    limit = _base_settings(exam, version)["time_limit_minutes"]
    if limit is None:
        return None
    return limit + extra_time_minutes(exam=exam, user=user)


def _base_settings(exam: Exam, version: ExamVersion | None) -> dict:
    version = version or latest_version(exam=exam)
    if version is None:
        return {
            "opens_at": exam.opens_at,
            "closes_at": exam.closes_at,
            "time_limit_minutes": exam.time_limit_minutes,
        }
    settings = version.snapshot["settings"]
    return {
        "opens_at": parse_datetime(settings["opens_at"]) if settings["opens_at"] else None,
        "closes_at": parse_datetime(settings["closes_at"]) if settings["closes_at"] else None,
        "time_limit_minutes": settings["time_limit_minutes"],
    }


# -- grading access -----------------------------------------------------------------------


def user_can_grade_exam(*, user: Any, exam: Exam) -> bool:
    """Graders of every exam (the permission on their role) or of this one (a guardian grant
    on this exam, which lives in this tenant's schema and means nothing elsewhere)."""
    return user_can(user, GRADE_EXAM) or user_can(user, GRADE_EXAM, exam)


def gradable_exam_or_404(*, user: Any, exam_id: int) -> Exam:
    """The exam with this id if ``user`` may grade it. A missing exam and a refused one both
    answer ``Http404``, so ids reveal nothing."""
    exam = get_exam(exam_id=exam_id)
    if exam is None:
        raise Http404("Not found")
    if not user_can(user, GRADE_EXAM):  # a grader of every exam passes; others need a grant
        require(user, GRADE_EXAM, exam)
    return exam
