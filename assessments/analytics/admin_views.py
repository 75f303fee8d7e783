"""Results analytics in the portal's Wagtail admin (``/cms/analytics/``, namespace
``analytics_admin``): the exam dashboard with drill-down to an item and a candidate, the
exports, bulk certificate/report jobs and the leaderboard switch.

Every view takes its exam, attempt or job through a ``selectors.*_or_404`` helper that checks
``analytics.view_report`` (or grading rights on that exam) in the current schema; anything
else — another portal's id included — is 404. Writes go through ``services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from assessments.delivery.models import IntegrityEvent
from assessments.exams.models import Cohort

from . import exports, selectors, services
from .models import ReportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def index(request: HttpRequest) -> HttpResponse:
    exams = selectors.reportable_exams(user=request.user)
    if not exams and not selectors.can_view_reports(user=request.user):
        raise Http404("Not found")
    return TemplateResponse(request, "assessments/analytics/admin/index.html", {"exams": exams})


def _exam_and_version(request: HttpRequest, exam_id: int):
    exam = selectors.reportable_exam_or_404(user=request.user, exam_id=exam_id)
    version = selectors.chosen_version(exam=exam, number=request.GET.get("version"))
    if version is None:
        raise Http404("Not found")
    return exam, version


def exam_dashboard(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam, version = _exam_and_version(request, exam_id)
    if selectors.analysis_is_stale(version=version):
        # Queued in the background (at once when tasks run in-process, as in development).
        services.request_item_analysis(version_id=version.pk)
    board = selectors.exam_dashboard(exam=exam, version=version)
    return TemplateResponse(
        request,
        "assessments/analytics/admin/exam.html",
        {
            "board": board,
            "exam": exam,
            "version": version,
            "versions": list(exam.versions.order_by("-number")),
            "cohorts": Cohort.objects.order_by("name"),
            "jobs": selectors.recent_jobs(exam=exam),
            "leaderboard_on": selectors.leaderboard_enabled(exam=exam),
        },
    )


def item_detail(request: HttpRequest, exam_id: int, question_id: int) -> HttpResponse:
    exam, version = _exam_and_version(request, exam_id)
    analysis = selectors.item_analysis(version=version)
    item = selectors.item_detail(analysis=analysis, question_id=question_id)
    if item is None:
        raise Http404("Not found")
    stem = next(
        (q["stem"] for q in services.version_questions(version) if q["question_id"] == question_id),
        "",
    )
    return TemplateResponse(
        request,
        "assessments/analytics/admin/item.html",
        {
            "exam": exam,
            "version": version,
            "item": item,
            "stem": stem,
            "chart": selectors.distractor_chart(item),
            "tags": selectors.question_tags({question_id}).get(question_id, []),
        },
    )


def candidate_detail(request: HttpRequest, exam_id: int, user_id: int) -> HttpResponse:
    exam = selectors.reportable_exam_or_404(user=request.user, exam_id=exam_id)
    attempts = list(
        exam.attempts.filter(user_id=user_id, status="submitted")
        .select_related("user", "version")
        .order_by("number")
    )
    if not attempts:
        raise Http404("Not found")
    rows = [
        {
            "attempt": a,
            "breakdown": selectors.attempt_breakdown(a),
            "minutes": selectors.minutes_spent(a),
            "flags": list(a.events.filter(kind__in=IntegrityEvent.FLAG_KINDS)),
        }
        for a in attempts
    ]
    return TemplateResponse(
        request,
        "assessments/analytics/admin/candidate.html",
        {"exam": exam, "candidate": attempts[0].user, "rows": rows},
    )


# -- exports ------------------------------------------------------------------------------


def export_results(request: HttpRequest, exam_id: int, fmt: str) -> HttpResponse:
    exam, version = _exam_and_version(request, exam_id)
    stem = f"{slugify(exam.title) or 'exam'}-v{version.number}"
    if fmt == "xlsx":
        return _download(exports.exam_workbook(version=version), f"{stem}.xlsx", XLSX)
    if fmt == "csv":
        data = exports.to_csv(exports.RESULT_HEADERS, exports.result_rows(version=version))
        return _download(data, f"{stem}-results.csv", "text/csv; charset=utf-8")
    raise Http404("Not found")


def export_items(request: HttpRequest, exam_id: int, fmt: str) -> HttpResponse:
    exam, version = _exam_and_version(request, exam_id)
    analysis = selectors.item_analysis(version=version)
    stem = f"{slugify(exam.title) or 'exam'}-v{version.number}-items"
    rows = exports.item_rows(analysis=analysis)
    if fmt == "csv":
        return _download(exports.to_csv(exports.ITEM_HEADERS, rows), f"{stem}.csv", "text/csv")
    if fmt == "xlsx":
        data = exports.to_xlsx([("Item statistics", exports.ITEM_HEADERS, rows)])
        return _download(data, f"{stem}.xlsx", XLSX)
    raise Http404("Not found")


def exam_report(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam, version = _exam_and_version(request, exam_id)
    pdf = exports.exam_report_pdf(exam=exam, version=version)
    name = f"{slugify(exam.title) or 'exam'}-v{version.number}-report.pdf"
    return _download(pdf, name, "application/pdf")


def attempt_report(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.reportable_attempt_or_404(user=request.user, attempt_id=attempt_id)
    pdf = exports.candidate_report_pdf(attempt)
    return _download(pdf, f"report-{attempt.pk}.pdf", "application/pdf")


def attempt_certificate(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.reportable_attempt_or_404(user=request.user, attempt_id=attempt_id)
    try:
        certificate = services.issue_certificate(attempt=attempt)
    except services.AnalyticsError as error:
        messages.error(request, error.message)
        return redirect("analytics_admin:exam", exam_id=attempt.exam_id)
    pdf = exports.certificate_pdf(certificate=certificate)
    return _download(pdf, f"certificate-{certificate.code}.pdf", "application/pdf")


# -- bulk jobs and the leaderboard switch -------------------------------------------------


@require_POST
def start_job(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.reportable_exam_or_404(user=request.user, exam_id=exam_id)
    cohort = None
    if request.POST.get("cohort", "").isdigit():
        cohort = Cohort.objects.filter(pk=int(request.POST["cohort"])).first()
        if cohort is None:
            raise Http404("Not found")
    try:
        job = services.start_report_job(
            exam=exam, cohort=cohort, kind=request.POST.get("kind", ""), by=request.user
        )
    except services.AnalyticsError as error:
        messages.error(request, error.message)
        return redirect("analytics_admin:exam", exam_id=exam.pk)
    return redirect("analytics_admin:job", job_id=job.pk)


def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.report_job_or_404(user=request.user, job_id=job_id)
    return TemplateResponse(
        request,
        "assessments/analytics/admin/job.html",
        {"job": job, "running": job.status in ReportJob.RUNNING},
    )


def job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = selectors.report_job_or_404(user=request.user, job_id=job_id)
    if job.status != ReportJob.Status.DONE or not job.file:
        raise Http404("Not found")
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def toggle_leaderboard(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.reportable_exam_or_404(user=request.user, exam_id=exam_id)
    enabled = request.POST.get("enabled") == "yes"
    services.set_leaderboard(exam=exam, enabled=enabled)
    messages.success(request, "Leaderboard turned on." if enabled else "Leaderboard turned off.")
    return redirect("analytics_admin:exam", exam_id=exam.pk)
