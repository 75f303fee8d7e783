"""Reads of exam delivery: who may take what, the clock, results visibility, proctor lists.

Who may take an exam: a published exam with assignments is open to the candidates assigned
to it (directly or through a cohort); a published exam without any assignment is open to
every member of the portal with the candidate role (practice tests, mock exams).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from assessments.exams.models import Exam, ExamAssignment, ExamVersion
from assessments.exams.selectors import effective_window, is_assigned, latest_version
from tenants.access.permissions import has_role, user_can

from .models import Attempt, IntegrityEvent


def current_version(*, exam: Exam) -> ExamVersion | None:
    """The version new attempts are started on: the latest, while the exam is published."""
    if exam.status != Exam.Status.PUBLISHED:
        return None
    return latest_version(exam=exam)


def may_take(*, exam: Exam, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if exam.status != Exam.Status.PUBLISHED:
        return False
    if ExamAssignment.objects.filter(exam=exam).exists():
        return is_assigned(exam=exam, user=user)
    return has_role(user, "candidate")


def available_exams(*, user: Any) -> list[Exam]:
    """Published exams ``user`` may take, soonest closing first."""
    if not getattr(user, "is_authenticated", False):
        return []
    assigned = Q(assignments__user_id=user.pk) | Q(assignments__cohort__members__pk=user.pk)
    published = Exam.objects.filter(status=Exam.Status.PUBLISHED)
    ids = set(published.filter(assigned).values_list("pk", flat=True))
    if has_role(user, "candidate"):
        ids |= set(published.filter(assignments__isnull=True).values_list("pk", flat=True))
    chosen = Exam.objects.filter(pk__in=ids)
    return sorted(
        chosen,
        key=lambda e: (e.closes_at is None, e.closes_at or timezone.now(), e.title),
    )


def exam_for_candidate_or_404(*, user: Any, exam_id: int) -> Exam:
    exam = Exam.objects.filter(pk=exam_id).first()
    if exam is None or not may_take(exam=exam, user=user):
        raise Http404("Not found")
    return exam


def attempt_for_candidate_or_404(*, user: Any, attempt_id: int) -> Attempt:
    """The candidate's own attempt; anyone else's (or another portal's id) is "not found"."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("Not found")
    attempt = (
        Attempt.objects.select_related("exam", "version").filter(pk=attempt_id, user=user).first()
    )
    if attempt is None:
        raise Http404("Not found")
    return attempt


def attempts_of(*, exam: Exam, user: Any) -> QuerySet[Attempt]:
    return Attempt.objects.filter(exam=exam, user=user).order_by("number")


def open_attempt(*, exam: Exam, user: Any) -> Attempt | None:
    return Attempt.objects.filter(exam=exam, user=user, status=Attempt.Status.IN_PROGRESS).first()


def attempts_left(*, exam: Exam, user: Any) -> int:
    version = current_version(exam=exam)
    if version is None:
        return 0
    allowed = version.snapshot["settings"]["attempts_allowed"]
    return max(0, allowed - Attempt.objects.filter(exam=exam, user=user).count())


# -- the clock ----------------------------------------------------------------------------


def grace_ends(attempt: Attempt) -> datetime | None:
    if attempt.deadline is None:
        return None
    return attempt.deadline + timedelta(seconds=attempt.grace_seconds)


def is_past_grace(attempt: Attempt, now: datetime | None = None) -> bool:
    ends = grace_ends(attempt)
    return ends is not None and (now or timezone.now()) > ends


def overdue_attempts(*, now: datetime) -> list[Attempt]:
    """Open attempts whose deadline plus grace has passed (uses the partial index)."""
    candidates = Attempt.objects.filter(
        status=Attempt.Status.IN_PROGRESS, deadline__lt=now
    ).order_by("deadline", "pk")
    return [a for a in candidates if is_past_grace(a, now)]


# -- results ------------------------------------------------------------------------------


def results_visible(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """Whether the candidate may see scores now, per the version's release policy."""
    if attempt.status != Attempt.Status.SUBMITTED:
        return False
    policy = attempt.version.snapshot["settings"]["results_release"]
    if policy == Exam.ResultsRelease.IMMEDIATELY:
        return True
    if policy == Exam.ResultsRelease.MANUAL:
        return attempt.results_released
    window = effective_window(exam=attempt.exam, user=attempt.user, version=attempt.version)
    closes = window.closes_at
    if closes is None:
        settings = attempt.version.snapshot["settings"]
        closes = parse_datetime(settings["closes_at"]) if settings["closes_at"] else None
    return attempt.results_released or (closes is not None and (now or timezone.now()) >= closes)


# -- proctoring ---------------------------------------------------------------------------


def can_proctor(*, user: Any) -> bool:
    return user_can(user, "delivery.proctor_attempt")


def proctored_attempt_or_404(*, user: Any, attempt_id: int) -> Attempt:
    if not can_proctor(user=user):
        raise Http404("Not found")
    attempt = Attempt.objects.select_related("exam", "user").filter(pk=attempt_id).first()
    if attempt is None:
        raise Http404("Not found")
    return attempt


def live_attempts(*, exam: Exam | None = None) -> QuerySet[Attempt]:
    """Open attempts with their number of integrity flags, most flagged first."""
    attempts = Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS)
    if exam is not None:
        attempts = attempts.filter(exam=exam)
    return (
        attempts.select_related("exam", "user")
        .annotate(flags=Count("events", filter=Q(events__kind__in=IntegrityEvent.FLAG_KINDS)))
        .order_by("-flags", "deadline", "pk")
    )


def timeline(*, attempt: Attempt) -> QuerySet[IntegrityEvent]:
    return attempt.events.order_by("at", "pk")
