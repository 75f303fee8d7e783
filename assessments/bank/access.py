"""Who may use the question bank screens, and looking questions up for them.

Authors and tenant admins (or anyone granted ``assessments.change_question``) may; anyone else
gets Wagtail's "permission denied". Questions are looked up by id in the current schema only,
so another portal's id answers "not found".
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from assessments.models import Question, QuestionVersion
from tenants.access.permissions import has_role, user_can

CHANGE_QUESTION = "assessments.change_question"


def can_author_questions(user: Any) -> bool:
    return has_role(user, "author") or has_role(user, "admin") or user_can(user, CHANGE_QUESTION)


def require_author(user: Any) -> None:
    if not can_author_questions(user):
        raise PermissionDenied


def question_or_404(question_id: int) -> Question:
    question = Question.objects.select_related("category").filter(pk=question_id).first()
    if question is None:
        raise Http404("Not found")
    return question


def version_or_404(question: Question, number: Any) -> QuestionVersion:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404("Not found") from None
    version = (
        QuestionVersion.objects.select_related("author")
        .filter(question_id=question.pk, number=number)
        .first()
    )
    if version is None:
        raise Http404("Not found")
    return version
