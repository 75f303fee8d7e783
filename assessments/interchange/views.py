"""Question import and export in the portal's Wagtail admin (``/cms/questions/import/``).

Only authors and tenant admins (``jobs.user_can_import_questions``) reach these views; the
others get Wagtail's refusal like every admin page. Jobs are looked up among the signed-in
user's own jobs in the current tenant schema, so another person's or another portal's job id
answers "not found". Writes go through ``jobs`` and ``services``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from assessments.bank.access import can_author_questions
from assessments.interchange import jobs
from assessments.interchange.base import InterchangeError
from assessments.interchange.csv_format import template_csv
from assessments.interchange.forms import ExportForm, ImportUploadForm
from assessments.interchange.models import ImportJob
from assessments.interchange.services import export_questions
from assessments.interchange.xlsx_format import template_xlsx
from assessments.models import Question
from assessments.selectors import search_questions

ITEMS_PER_PAGE = 200

#: Export format -> (file extension, content type).
DOWNLOADS = {
    "json": ("json", "application/json"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "moodle-xml": ("xml", "application/xml"),
    "gift": ("gift.txt", "text/plain; charset=utf-8"),
    "qti": ("qti.zip", "application/zip"),
}


def user_can_import_questions(*, user: Any) -> bool:
    """Whoever may author questions in the bank (authors and tenant admins) imports and
    exports them: the bank's own check, so the two screens never disagree."""
    return can_author_questions(user)


class QuestionFilesPermissionMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_can_import_questions(user=request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class JobMixin(QuestionFilesPermissionMixin):
    def get_job(self) -> ImportJob:
        job = jobs.job_of(user=self.request.user, job_id=self.kwargs["job_id"])  # type: ignore[attr-defined]
        if job is None:
            raise Http404("No such import.")
        return job


class ImportIndexView(QuestionFilesPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """Upload a file (previewed at once when small, in the background when large) and the
    list of the user's imports."""

    template_name = "assessments/imports/index.html"
    page_title = "Import questions"
    header_icon = "upload"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = jobs.start_import(
                    upload=form.cleaned_data["file"],
                    author=request.user,
                    format=form.cleaned_data["format"] or None,
                )
            except InterchangeError as exc:
                form.add_error(
                    "file", f"{form.cleaned_data['file'].name}: {exc} Nothing was stored."
                )
            else:
                return redirect("bank_import:job", job_id=job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", ImportUploadForm())
        return super().get_context_data(
            jobs=list(jobs.jobs_of(user=self.request.user).select_related("author")[:50]),
            inline_max_kb=jobs.inline_max_bytes() // 1024,
            **kwargs,
        )


class ImportJobView(JobMixin, WagtailAdminTemplateMixin, TemplateView):
    """One import: progress while it runs, then every item with its type and warnings and
    every error, and the button that imports it."""

    template_name = "assessments/imports/job.html"
    header_icon = "upload"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.job = self.get_job()
        return super().get(request, *args, **kwargs)

    def get_page_title(self) -> str:
        return f"Import: {self.job.filename}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("bank_import:index"), "label": "Import questions"},
            {"url": "", "label": self.job.filename},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        preview = self.job.preview or {}
        items = Paginator(preview.get("items", []), ITEMS_PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        return super().get_context_data(
            job=self.job,
            preview=preview,
            items=items,
            file_warnings=[w for w in preview.get("warnings", []) if _file_level(w, preview)],
            status_url=reverse("bank_import:status", args=[self.job.pk]),
            **kwargs,
        )


def _file_level(warning: dict, preview: dict) -> bool:
    """Warnings not already shown on an item's row (the header, skipped questions)."""
    return not any(
        warning["ref"] == item["ref"] and warning["message"] in item["warnings"]
        for item in preview.get("items", [])
    )


class ImportJobStatusView(JobMixin, View):
    """The job's status and progress as JSON, polled by the job page."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = self.get_job()
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "label": job.get_status_display(),
                "running": job.is_running,
                "done": job.progress_done,
                "total": job.progress_total,
                "message": job.message,
                "created": job.created_count,
            },
            headers={"Cache-Control": "no-store"},
        )


class ImportJobCommitView(JobMixin, View):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = self.get_job()
        try:
            job = jobs.commit_job(job=job, by=request.user)
        except jobs.ImportJobError as exc:
            messages.error(request, str(exc))
        else:
            if job.status == ImportJob.Status.DONE:
                messages.success(request, f"Imported {job.created_count} question(s) as drafts.")
            elif job.status == ImportJob.Status.FAILED:
                messages.error(request, job.message)
        return redirect("bank_import:job", job_id=job.pk)


class ImportJobDiscardView(JobMixin, View):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = self.get_job()
        try:
            jobs.discard_job(job=job)
        except jobs.ImportJobError as exc:
            messages.error(request, str(exc))
            return redirect("bank_import:job", job_id=job.pk)
        messages.success(request, f"Import of {job.filename} discarded.")
        return redirect("bank_import:index")


class ImportTemplateView(QuestionFilesPermissionMixin, View):
    """The CSV or XLSX template: every column, one example question per type."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if kwargs["kind"] == "csv":
            body, content_type = template_csv(), DOWNLOADS["csv"][1]
        elif kwargs["kind"] == "xlsx":
            body, content_type = template_xlsx(), DOWNLOADS["xlsx"][1]
        else:
            raise Http404("No such template.")
        return _attachment(body, content_type, f"question-template.{kwargs['kind']}")


class ExportView(QuestionFilesPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """Download questions of the bank (a category, a status, or the selected ids) in a
    chosen format. GET shows the form; submitting it (GET or POST) downloads the file."""

    template_name = "assessments/imports/export.html"
    page_title = "Export questions"
    header_icon = "download"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "format" in request.GET:
            return self.export(ExportForm(request.GET))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.export(ExportForm(request.POST))

    def export(self, form: ExportForm) -> HttpResponse:
        if form.is_valid():
            data = form.cleaned_data
            questions = search_questions(
                category=data["category"],
                include_subcategories=data["include_subcategories"],
                status=data["status"] or None,
            )
            if data["ids"]:
                questions = questions.filter(pk__in=data["ids"])
            chosen = list(questions.order_by("pk"))
            if not chosen:
                form.add_error(None, "No question matches; nothing to export.")
            else:
                try:
                    body = export_questions(format=data["format"], questions=chosen)
                except InterchangeError as exc:
                    form.add_error("format", str(exc))
                else:
                    extension, content_type = DOWNLOADS[data["format"]]
                    return _attachment(
                        body, content_type, f"questions-{date.today():%Y-%m-%d}.{extension}"
                    )
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        if "form" not in kwargs:
            initial = {"ids": self.request.GET.get("ids", "")}
            kwargs["form"] = ExportForm(initial=initial)
        return super().get_context_data(question_count=Question.objects.count(), **kwargs)


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
