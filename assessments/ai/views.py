"""The AI features in the portal's Wagtail admin, under ``/cms/ai/``.

- ``generate/`` (authors and admins): drafts from a topic, a syllabus or a document, then a
  review page where the author picks which drafts become draft questions.
- ``grading/<exam>/``, ``suggestion/<id>/``, ``agreement/<exam>/``, ``plagiarism/<exam>/``
  (graders of that exam and admins): AI grading jobs and suggestions to confirm or
  override, the agreement report, plagiarism reports.
- ``policy/`` (admins): the portal's AI grading policy.

Views only parse input and call ``generation``, ``grading``, ``agreement`` and
``plagiarism``. Anything looked up by id that the user may not see answers 404, exactly like
an id that does not exist (another portal's ids find nothing in this schema).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from assessments.bank.access import can_author_questions
from assessments.delivery.forms import GradeForm
from assessments.exams.models import Exam
from assessments.exams.selectors import gradable_exam_or_404, user_can_grade_exam
from tenants.access.permissions import has_role, user_can

from . import agreement as agreement_service
from . import generation, grading, plagiarism
from .feature_models import AISuggestion, PlagiarismPair
from .forms import ConfirmForm, GenerateForm, PolicyForm

PAGE_LIMIT = 500
PAIRS_SHOWN = 200


def _require_author(request: HttpRequest) -> None:
    if not can_author_questions(request.user):
        raise Http404("Not found")


def _require_admin(request: HttpRequest) -> None:
    if not has_role(request.user, "admin"):
        raise Http404("Not found")


def gradable_exams(user: Any) -> list[Exam]:
    """Exams ``user`` may grade (every exam for a grader of all, else their grants)."""
    exams = Exam.objects.exclude(status=Exam.Status.DRAFT).order_by("title")[:PAGE_LIMIT]
    if user_can(user, "assessments.grade_exam"):
        return list(exams)
    return [exam for exam in exams if user_can_grade_exam(user=user, exam=exam)]


def may_use_ai_pages(user: Any) -> bool:
    """Whether the AI menu item is shown: authors, admins and anyone who grades an exam."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        can_author_questions(user)
        or user_can(user, "assessments.grade_exam")
        or has_role(user, "grader")
    )


def index(request: HttpRequest) -> HttpResponse:
    can_author = can_author_questions(request.user)
    exams = gradable_exams(request.user)
    if not can_author and not exams:
        raise Http404("Not found")
    return TemplateResponse(
        request,
        "assessments/ai/index.html",
        {
            "can_author": can_author,
            "exams": exams,
            "is_admin": has_role(request.user, "admin"),
        },
    )


# -- generation ---------------------------------------------------------------------------


def generate(request: HttpRequest) -> HttpResponse:
    _require_author(request)
    form = GenerateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source_text, filename = data["source_text"], ""
        try:
            if data["document"]:
                filename = data["document"].name or "document"
                source_text = generation.extract_text(
                    filename=filename, data=data["document"].read()
                )
            batch = generation.generate_batch(
                author=request.user,
                topic=data["topic"],
                source_text=source_text,
                filename=filename,
                count=data["count"],
                types=data["types"],
                difficulty=data["difficulty"],
            )
        except generation.GenerationError as error:
            form.add_error(None, str(error))
        else:
            return redirect("ai:batch", batch_id=batch.pk)
    return TemplateResponse(
        request,
        "assessments/ai/generate.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def review_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    _require_author(request)
    batch = generation.batch_of(user=request.user, batch_id=batch_id)
    if batch is None:
        raise Http404("Not found")
    status = 200
    if request.method == "POST":
        chosen = []
        for value in request.POST.getlist("draft"):
            if value.isdigit():
                chosen.append(int(value))
        try:
            created = generation.save_drafts(batch=batch, indexes=chosen, author=request.user)
        except generation.GenerationError as error:
            messages.error(request, str(error))
            status = 400
            batch.refresh_from_db()
        else:
            messages.success(
                request,
                f"Saved {len(created)} draft question{'s' if len(created) != 1 else ''}. "
                "Review them in the question bank before making them active.",
            )
            return redirect("ai:batch", batch_id=batch.pk)
    drafts, note = generation.batch_drafts(batch)
    return TemplateResponse(
        request,
        "assessments/ai/batch.html",
        {"batch": batch, "drafts": list(enumerate(drafts)), "note": note},
        status=status,
    )


# -- grading ------------------------------------------------------------------------------


def policy(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    current = grading.get_policy()
    form = PolicyForm(
        request.POST or None,
        initial={"enabled": current.enabled, "confidence_threshold": current.confidence_threshold},
    )
    if request.method == "POST" and form.is_valid():
        grading.update_policy(
            enabled=form.cleaned_data["enabled"],
            confidence_threshold=form.cleaned_data["confidence_threshold"],
            by=request.user,
            request=request,
        )
        messages.success(request, "AI grading policy saved.")
        return redirect("ai:policy")
    return TemplateResponse(request, "assessments/ai/policy.html", {"form": form})


def grading_exam(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    suggestions = list(grading.suggestions_of(exam=exam)[:PAGE_LIMIT])
    groups = {
        "ready": [
            s
            for s in suggestions
            if s.status == AISuggestion.Status.SUGGESTED and not s.needs_human
        ],
        "human": [
            s for s in suggestions if s.status == AISuggestion.Status.SUGGESTED and s.needs_human
        ],
        "failed": [s for s in suggestions if s.status == AISuggestion.Status.FAILED],
        "decided": [
            s
            for s in suggestions
            if s.status in (AISuggestion.Status.CONFIRMED, AISuggestion.Status.OVERRIDDEN)
        ],
    }
    job = grading.latest_job(exam=exam)
    return TemplateResponse(
        request,
        "assessments/ai/grading_exam.html",
        {
            "exam": exam,
            "job": job,
            "policy": grading.get_policy(),
            "groups": groups,
            "refresh": job is not None and job.is_running,
        },
    )


@require_POST
def start_grading(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    try:
        grading.start_grading_job(exam=exam, by=request.user)
    except grading.GradingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "AI grading started. This page shows its progress.")
    return redirect("ai:grading", exam_id=exam.pk)


def suggestion(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    found = grading.suggestion_or_none(suggestion_id=suggestion_id)
    if found is None or not user_can_grade_exam(user=request.user, exam=found.exam):
        raise Http404("Not found")
    item = grading.item_of(found)
    confirm_form = ConfirmForm(prefix="c")
    override_form = GradeForm(item=item, prefix="o")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "confirm":
                confirm_form = ConfirmForm(request.POST, prefix="c")
                if confirm_form.is_valid():
                    grading.confirm_suggestion(
                        suggestion=found,
                        by=request.user,
                        comment=confirm_form.cleaned_data["comment"],
                        request=request,
                    )
                    messages.success(request, "The AI's grade is confirmed.")
                    return redirect("ai:grading", exam_id=found.exam_id)
            elif action == "override":
                override_form = GradeForm(request.POST, item=item, prefix="o")
                if override_form.is_valid():
                    grading.override_suggestion(
                        suggestion=found,
                        by=request.user,
                        request=request,
                        **override_form.grade(),
                    )
                    messages.success(request, "Your grade replaces the AI's suggestion.")
                    return redirect("ai:grading", exam_id=found.exam_id)
            else:
                raise Http404("Not found")
        except grading.GradingError as error:
            messages.error(request, str(error))
        status = 400
    return TemplateResponse(
        request,
        "assessments/ai/suggestion.html",
        {
            "suggestion": found,
            "item": item,
            "response": found.response,
            "confirm_form": confirm_form,
            "override_form": override_form,
            "policy": grading.get_policy(),
            "open": found.status in (AISuggestion.Status.SUGGESTED, AISuggestion.Status.FAILED),
        },
        status=status,
    )


def agreement(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    return TemplateResponse(
        request,
        "assessments/ai/agreement.html",
        {"exam": exam, "report": agreement_service.exam_agreement(exam=exam)},
    )


# -- plagiarism ---------------------------------------------------------------------------


def plagiarism_exam(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    report = plagiarism.latest_report(exam=exam)
    pairs: list[PlagiarismPair] = []
    if report is not None and report.status == report.Status.DONE:
        pairs = list(
            report.pairs.select_related(
                "response_a__attempt__user", "response_b__attempt__user"
            ).order_by("cluster", "-jaccard", "-cosine", "id")[:PAIRS_SHOWN]
        )
    return TemplateResponse(
        request,
        "assessments/ai/plagiarism.html",
        {
            "exam": exam,
            "report": report,
            "pairs": pairs,
            "refresh": report is not None and report.is_running,
        },
    )


@require_POST
def start_plagiarism(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    plagiarism.start_report(exam=exam, by=request.user)
    messages.success(request, "The plagiarism check started. This page shows its progress.")
    return redirect("ai:plagiarism", exam_id=exam.pk)
