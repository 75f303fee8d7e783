"""Exam pages of the portal's Wagtail admin. Read-only; writes go through ``services``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import selectors


class ExamGradingOverviewView(WagtailAdminTemplateMixin, TemplateView):
    """An exam's published versions and the attempts awaiting grading (none until delivery
    exists). Only graders of this exam see it; anyone else gets "not found"."""

    template_name = "assessments/exam_grading_overview.html"
    header_icon = "tasks"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.exam = selectors.gradable_exam_or_404(user=request.user, exam_id=kwargs["exam_id"])
        return super().get(request, *args, **kwargs)

    def get_page_title(self) -> str:
        return f"Grading: {self.exam.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            exam=self.exam,
            versions=list(selectors.published_versions(exam=self.exam)),
            attempts=[],  # attempts arrive with exam delivery (issue 5)
            **kwargs,
        )


exam_grading_overview = ExamGradingOverviewView.as_view()
