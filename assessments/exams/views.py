"""Exam pages of the portal's Wagtail admin: the builder, versions, cohorts, assignments and
the grading overview.

Views parse input and call ``services`` (writes) or selectors (reads). The builder is for
authors and tenant admins (``assessments.change_exam``); anyone else is refused the way every
admin page refuses. Objects are looked up by id in the current tenant schema and, for
sections and items, within the exam in the URL, so another portal's ids find nothing (404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from assessments.models import Question
from assessments.selectors import category_path, search_questions
from billing import entitlements
from tenants.access.permissions import user_can

from . import selectors, services
from .forms import (
    AssignmentForm,
    CohortForm,
    ExamSettingsForm,
    MembersForm,
    PoolRuleForm,
    QuestionSearchForm,
    SectionForm,
)
from .models import Cohort, Exam, ExamAssignment, ExamSection, ExamVersion, SectionItem
from .services import ExamError

AUTHOR_EXAMS = "assessments.change_exam"
RESULTS_PER_PAGE = 50
ICON = "form"


# -- access -------------------------------------------------------------------------------


def _require(request: HttpRequest, perm: str = AUTHOR_EXAMS) -> None:
    """The builder is for exam authors (authors and tenant admins); ``perm`` narrows it
    further for cohort and assignment writes."""
    if not user_can(request.user, AUTHOR_EXAMS) or not user_can(request.user, perm):
        raise PermissionDenied


def _exam(exam_id: int) -> Exam:
    return get_object_or_404(Exam, pk=exam_id)


def _section(exam: Exam, section_id: int) -> ExamSection:
    return get_object_or_404(ExamSection, pk=section_id, exam_id=exam.pk)


def _render(request: HttpRequest, template: str, title: str, status: int = 200, **context):
    context.setdefault("header_icon", ICON)
    return TemplateResponse(
        request,
        f"assessments/exams/{template}",
        {"page_title": title, "header_title": title, **context},
        status=status,
    )


def _refused(request: HttpRequest, error: ExamError) -> None:
    for message in error.errors:
        messages.error(request, message)


def _pool_count(item: SectionItem | None = None, **rule: Any) -> int:
    """How many active questions match a pool rule now."""
    if item is not None:
        rule = {
            "category": item.category,
            "include_subcategories": item.include_subcategories,
            "tags": item.tags,
            "difficulty": (item.difficulty_min, item.difficulty_max),
        }
    return search_questions(status=Question.Status.ACTIVE, **rule).count()


def _rule_text(item: SectionItem) -> str:
    parts = []
    if item.category_id:
        scope = "and subcategories" if item.include_subcategories else "only"
        parts.append(f"category {category_path(category_id=item.category_id)} ({scope})")
    if item.tags:
        parts.append(f"tags {', '.join(item.tags)}")
    if (item.difficulty_min, item.difficulty_max) != (1, 5):
        parts.append(f"difficulty {item.difficulty_min}–{item.difficulty_max}")
    return "; ".join(parts) or "any active question"


# -- exams --------------------------------------------------------------------------------


def exam_index(request: HttpRequest) -> HttpResponse:
    _require(request)
    exams = Paginator(
        Exam.objects.order_by("-updated", "-id").prefetch_related("versions"), 50
    ).get_page(request.GET.get("p"))
    return _render(request, "index.html", "Exams", exams=exams)


def exam_add(request: HttpRequest) -> HttpResponse:
    """The new-exam form, with how many exams the plan leaves; when none is left, the upgrade
    message instead of a form that could only be refused (``create_exam`` refuses too)."""
    _require(request, "assessments.add_exam")
    allowance = entitlements.check(request.tenant, entitlements.EXAMS)
    if not allowance.allowed:
        return _render(request, "add.html", "New exam", allowance=allowance, form=None)
    form = ExamSettingsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exam = services.create_exam(by=request.user, **form.cleaned_data)
        except ExamError as error:
            for message in error.errors:
                form.add_error(None, message)
        else:
            messages.success(request, f"Exam “{exam.title}” created. Add its sections next.")
            return redirect("exams:edit", exam_id=exam.pk)
    status = 400 if form.errors else 200
    return _render(
        request, "add.html", "New exam", status, form=form, exam=None, allowance=allowance
    )


def exam_settings(request: HttpRequest, exam_id: int) -> HttpResponse:
    _require(request)
    exam = _exam(exam_id)
    form = ExamSettingsForm(request.POST or None, initial=ExamSettingsForm.initial_for(exam))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_exam(exam=exam, by=request.user, **form.cleaned_data)
        except ExamError as error:
            for message in error.errors:
                form.add_error(None, message)
        else:
            messages.success(request, "Settings saved.")
            return redirect("exams:edit", exam_id=exam.pk)
    status = 400 if form.errors else 200
    return _render(
        request, "settings.html", f"Settings: {exam.title}", status, form=form, exam=exam
    )


def exam_edit(request: HttpRequest, exam_id: int) -> HttpResponse:
    """The builder: sections with their items, pools with their current match counts."""
    _require(request)
    exam = _exam(exam_id)
    sections = list(
        exam.sections.order_by("position", "id").prefetch_related(
            "items__question__category", "items__category"
        )
    )
    for section in sections:
        section.item_list = sorted(section.items.all(), key=lambda i: (i.position, i.pk))
        for item in section.item_list:
            if item.is_pool:
                item.matching = _pool_count(item)
                item.rule_text = _rule_text(item)
    return _render(
        request,
        "edit.html",
        exam.title,
        exam=exam,
        sections=sections,
        versions=list(selectors.published_versions(exam=exam)),
        section_form=SectionForm(),
        question_total=sum((item.count or 1) for section in sections for item in section.item_list),
    )


@require_POST
def exam_archive(request: HttpRequest, exam_id: int) -> HttpResponse:
    _require(request)
    exam = services.archive_exam(exam=_exam(exam_id), by=request.user)
    messages.success(request, f"“{exam.title}” is archived; its versions are kept.")
    return redirect("exams:index")


# -- sections -----------------------------------------------------------------------------


@require_POST
def section_add(request: HttpRequest, exam_id: int) -> HttpResponse:
    _require(request)
    exam = _exam(exam_id)
    form = SectionForm(request.POST)
    if form.is_valid():
        try:
            services.add_section(exam=exam, **form.cleaned_data)
        except ExamError as error:
            _refused(request, error)
        else:
            messages.success(request, f"Section “{form.cleaned_data['title']}” added.")
    return redirect("exams:edit", exam_id=exam.pk)


@require_POST
def section_action(request: HttpRequest, exam_id: int, section_id: int, action: str):
    _require(request)
    exam = _exam(exam_id)
    section = _section(exam, section_id)
    try:
        if action == "rename":
            form = SectionForm(request.POST)
            form.is_valid()
            services.update_section(
                section=section,
                title=form.cleaned_data.get("title", ""),
                instructions=form.cleaned_data.get("instructions"),
            )
            messages.success(request, "Section saved.")
        elif action in ("up", "down"):
            services.move_section(
                section=section, position=section.position + (-1 if action == "up" else 1)
            )
        elif action == "remove":
            services.remove_section(section=section)
            messages.success(request, f"Section “{section.title}” removed with its items.")
        else:
            raise Http404("No such action.")
    except ExamError as error:
        _refused(request, error)
    return redirect("exams:edit", exam_id=exam.pk)


# -- items --------------------------------------------------------------------------------


def add_questions(request: HttpRequest, exam_id: int, section_id: int) -> HttpResponse:
    """Search the bank and add the ticked questions as fixed items (all or none)."""
    _require(request)
    exam = _exam(exam_id)
    section = _section(exam, section_id)
    in_exam = set(
        SectionItem.objects.filter(section__exam=exam, question__isnull=False).values_list(
            "question_id", flat=True
        )
    )
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("question") if v.isdigit()]
        chosen = list(Question.objects.filter(pk__in=ids).order_by("pk"))
        new = [q for q in chosen if q.pk not in in_exam]
        if not ids:
            messages.error(request, "Tick at least one question to add.")
        elif len(chosen) != len(set(ids)):
            raise Http404("No such question.")
        else:
            try:
                with transaction.atomic():
                    for question in new:
                        services.add_fixed_item(
                            section=section,
                            question=question,
                            points=request.POST.get("points") or None,
                        )
            except ExamError as error:
                _refused(request, error)
            else:
                skipped = len(chosen) - len(new)
                note = f"; {skipped} already in this exam" if skipped else ""
                messages.success(
                    request, f"Added {len(new)} question(s) to “{section.title}”{note}."
                )
                return redirect("exams:edit", exam_id=exam.pk)
    form = QuestionSearchForm(request.GET or {"status": Question.Status.ACTIVE})
    results = None
    if form.is_valid():
        data = form.cleaned_data
        questions = search_questions(
            text=data["text"] or None,
            type=data["type"] or None,
            category=data["category"],
            status=data["status"] or None,
        )
        results = Paginator(questions, RESULTS_PER_PAGE).get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    return _render(
        request,
        "add_questions.html",
        f"Add questions to “{section.title}”",
        exam=exam,
        section=section,
        form=form,
        results=results,
        in_exam=in_exam,
        query=query.urlencode(),
    )


def add_pool(request: HttpRequest, exam_id: int, section_id: int) -> HttpResponse:
    """A pool rule; "Check" shows how many active questions match before adding it."""
    _require(request)
    exam = _exam(exam_id)
    section = _section(exam, section_id)
    form = PoolRuleForm(request.POST or None)
    matching = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        low, high = data["difficulty_min"], data["difficulty_max"]
        if "check" in request.POST:
            if 1 <= low <= high <= 5:
                matching = _pool_count(
                    category=data["category"],
                    include_subcategories=data["include_subcategories"],
                    tags=data["tags"],
                    difficulty=(low, high),
                )
            else:
                form.add_error(None, "difficulty must be a range within 1 to 5, low first")
        else:
            try:
                services.add_pool_item(
                    section=section,
                    count=data["count"],
                    category=data["category"],
                    include_subcategories=data["include_subcategories"],
                    tags=data["tags"],
                    difficulty=(low, high),
                    points=data["points"],
                )
            except ExamError as error:
                for message in error.errors:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Pool of {data['count']} added to “{section.title}”.")
                return redirect("exams:edit", exam_id=exam.pk)
    if form.errors:
        status = 400
    return _render(
        request,
        "add_pool.html",
        f"Add a pool rule to “{section.title}”",
        status,
        exam=exam,
        section=section,
        form=form,
        matching=matching,
    )


@require_POST
def item_action(request: HttpRequest, exam_id: int, item_id: int, action: str) -> HttpResponse:
    _require(request)
    exam = _exam(exam_id)
    item = get_object_or_404(SectionItem, pk=item_id, section__exam_id=exam.pk)
    try:
        if action in ("up", "down"):
            services.move_item(item=item, position=item.position + (-1 if action == "up" else 1))
        elif action == "remove":
            services.remove_item(item=item)
            messages.success(request, "Item removed.")
        else:
            raise Http404("No such action.")
    except ExamError as error:
        _refused(request, error)
    return redirect("exams:edit", exam_id=exam.pk)


# -- publishing and versions --------------------------------------------------------------


class _DryRun(Exception):
    pass


def _publish_problems(exam: Exam, by: Any) -> list[str]:
    """What ``publish_exam`` would refuse now, found by publishing in a transaction that is
    always rolled back (so the checks are exactly the real ones)."""
    try:
        with transaction.atomic():
            services.publish_exam(exam=exam, by=by)
            raise _DryRun
    except _DryRun:
        return []
    except ExamError as error:
        return error.errors


def exam_publish(request: HttpRequest, exam_id: int) -> HttpResponse:
    """Confirm, then freeze the exam as its next version; refusals list every problem."""
    _require(request)
    exam = _exam(exam_id)
    if request.method == "POST":
        try:
            version = services.publish_exam(exam=exam, by=request.user)
        except ExamError as error:
            problems = error.errors
        else:
            messages.success(request, f"Published “{exam.title}” as version {version.number}.")
            return redirect("exams:version", exam_id=exam.pk, number=version.number)
    else:
        problems = _publish_problems(exam, request.user)
    versions = list(selectors.published_versions(exam=exam))
    return _render(
        request,
        "publish.html",
        f"Publish “{exam.title}”",
        400 if problems and request.method == "POST" else 200,
        exam=exam,
        problems=problems,
        next_number=(versions[0].number + 1) if versions else 1,
        versions=versions,
    )


def exam_versions(request: HttpRequest, exam_id: int) -> HttpResponse:
    _require(request)
    exam = _exam(exam_id)
    return _render(
        request,
        "versions.html",
        f"Versions of “{exam.title}”",
        exam=exam,
        versions=list(selectors.published_versions(exam=exam)),
    )


def exam_version(request: HttpRequest, exam_id: int, number: int) -> HttpResponse:
    """A published version, read-only, exactly as frozen."""
    _require(request)
    exam = _exam(exam_id)
    version = get_object_or_404(ExamVersion, exam_id=exam.pk, number=number)
    snapshot = version.snapshot
    settings_rows = _settings_rows(snapshot["settings"])
    sections = []
    for section in snapshot["sections"]:
        items = []
        for item in section["items"]:
            if item["kind"] == "fixed":
                items.append({"kind": "fixed", "question": item["question"]})
            else:
                rule = item["rule"]
                items.append(
                    {
                        "kind": "pool",
                        "count": item["count"],
                        "rule": rule,
                        "questions": item["questions"],
                    }
                )
        sections.append({**section, "items": items})
    return _render(
        request,
        "version.html",
        f"{exam.title} — version {version.number}",
        exam=exam,
        version=version,
        settings_rows=settings_rows,
        sections=sections,
        asked=sum(1 if i["kind"] == "fixed" else i["count"] for s in sections for i in s["items"]),
        is_latest=not exam.versions.filter(number__gt=version.number).exists(),
    )


SETTING_LABELS = {
    "opens_at": "Opens",
    "closes_at": "Closes",
    "time_limit_minutes": "Time limit (minutes)",
    "attempts_allowed": "Attempts allowed",
    "navigation": "Navigation",
    "shuffle_questions": "Shuffle questions",
    "shuffle_options": "Shuffle options",
    "pass_mark_percent": "Pass mark (%)",
    "results_release": "Results released",
    "proctoring_level": "Proctoring",
    "grace_seconds": "Grace (seconds)",
    "overdue_policy": "When time runs out",
    "webcam_proctoring": "Webcam proctoring",
    "webcam_interval_seconds": "Snapshot interval (seconds)",
}


def _settings_rows(values: dict) -> list[tuple[str, str]]:
    choices = {
        "navigation": Exam.Navigation,
        "results_release": Exam.ResultsRelease,
        "proctoring_level": Exam.ProctoringLevel,
        "overdue_policy": Exam.OverduePolicy,
    }
    rows = []
    for name, label in SETTING_LABELS.items():
        value = values.get(name)
        if name in choices and value in choices[name].values:
            text = str(choices[name](value).label)
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None:
            text = {"opens_at": "at once", "closes_at": "never"}.get(name, "none")
        else:
            text = str(value)
        rows.append((label, text))
    return rows


# -- assignments --------------------------------------------------------------------------


def exam_assignments(request: HttpRequest, exam_id: int) -> HttpResponse:
    _require(request, "assessments.view_examassignment")
    exam = _exam(exam_id)
    form = AssignmentForm(request.POST or None)
    if request.method == "POST":
        _require(request, "assessments.add_examassignment")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.assign_exam(
                    exam=exam,
                    cohort=data.get("cohort"),
                    user=data.get("user"),
                    extra_time_minutes=data["extra_time_minutes"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                )
            except ExamError as error:
                for message in error.errors:
                    form.add_error(None, message)
            else:
                who = data["cohort"].name if data.get("cohort") else data["user"].email
                messages.success(request, f"“{exam.title}” is assigned to {who}.")
                return redirect("exams:assignments", exam_id=exam.pk)
    assignments = ExamAssignment.objects.filter(exam=exam).select_related("cohort", "user")
    return _render(
        request,
        "assignments.html",
        f"Who sits “{exam.title}”",
        400 if form.errors else 200,
        exam=exam,
        form=form,
        assignments=assignments,
        can_remove=user_can(request.user, "assessments.delete_examassignment"),
    )


@require_POST
def assignment_remove(request: HttpRequest, exam_id: int, assignment_id: int) -> HttpResponse:
    _require(request, "assessments.delete_examassignment")
    exam = _exam(exam_id)
    assignment = get_object_or_404(ExamAssignment, pk=assignment_id, exam_id=exam.pk)
    services.unassign_exam(assignment=assignment)
    messages.success(request, "Assignment removed.")
    return redirect("exams:assignments", exam_id=exam.pk)


# -- cohorts ------------------------------------------------------------------------------


def cohort_index(request: HttpRequest) -> HttpResponse:
    _require(request, "assessments.view_cohort")
    form = CohortForm(request.POST or None)
    if request.method == "POST":
        _require(request, "assessments.add_cohort")
        if form.is_valid():
            try:
                cohort = services.create_cohort(**form.cleaned_data)
            except ExamError as error:
                for message in error.errors:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Cohort “{cohort.name}” created; add its members.")
                return redirect("exams:cohort", cohort_id=cohort.pk)
    cohorts = Cohort.objects.annotate(member_count=Count("members")).order_by("name")
    return _render(
        request,
        "cohorts.html",
        "Cohorts",
        400 if form.errors else 200,
        form=form,
        cohorts=cohorts,
        can_add=user_can(request.user, "assessments.add_cohort"),
    )


def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    _require(request, "assessments.view_cohort")
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    form = MembersForm(request.POST or None)
    if request.method == "POST":
        _require(request, "assessments.change_cohort")
        if form.is_valid():
            emails = form.cleaned_data["emails"]
            users = list(get_user_model().objects.filter(email__in=emails))
            found = {u.email.lower() for u in users}
            unknown = [e for e in emails if e not in found]
            if request.POST.get("action") == "remove":
                services.remove_cohort_members(cohort=cohort, users=users)
                done = f"Removed {len(users)} member(s)."
            else:
                services.add_cohort_members(cohort=cohort, users=users)
                done = f"Added {len(users)} member(s)."
            messages.success(request, done)
            if unknown:
                messages.error(
                    request, f"No person with these emails in this portal: {', '.join(unknown)}."
                )
            return redirect("exams:cohort", cohort_id=cohort.pk)
    return _render(
        request,
        "cohort.html",
        f"Cohort: {cohort.name}",
        400 if form.errors else 200,
        cohort=cohort,
        form=form,
        members=cohort.members.order_by("email"),
        can_change=user_can(request.user, "assessments.change_cohort"),
        assignments=cohort.assignments.select_related("exam"),
    )


# -- grading ------------------------------------------------------------------------------


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
