"""Candidate pages of results analytics, mounted at ``/results/`` on every portal host.

The dashboard shows the signed-in candidate's own attempts only, and only those whose results
the exam's release policy lets them see (``selectors.visible_attempts``). Reports and
certificates are of their own attempts (``own_attempt_or_404``). The verification page is
public: it answers for a code of *this* portal's certificates and 404 for anything else.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import exports, selectors, services


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@never_cache
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assessments/analytics/overview.html",
        {"overview": selectors.candidate_overview(user=request.user)},
    )


@login_required
def attempt_report(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.own_attempt_or_404(user=request.user, attempt_id=attempt_id)
    return _pdf(exports.candidate_report_pdf(attempt), f"report-{attempt.pk}.pdf")


@login_required
def certificate(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.own_attempt_or_404(user=request.user, attempt_id=attempt_id)
    if not attempt.passed:
        raise Http404("Not found")
    issued = services.issue_certificate(attempt=attempt)
    return _pdf(exports.certificate_pdf(certificate=issued), f"certificate-{issued.code}.pdf")


@login_required
@never_cache
def leaderboard(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.leaderboard_exam_or_404(user=request.user, exam_id=exam_id)
    entries = selectors.leaderboard(exam=exam, viewer=request.user)
    opted_in = exam.leaderboard_opt_ins.filter(user=request.user).exists()
    return render(
        request,
        "assessments/analytics/leaderboard.html",
        {"exam": exam, "entries": entries, "opted_in": opted_in},
    )


@login_required
@require_POST
def leaderboard_opt_in(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.leaderboard_exam_or_404(user=request.user, exam_id=exam_id)
    joined = services.set_leaderboard_opt_in(
        exam=exam, user=request.user, opted_in=request.POST.get("opt_in") == "yes"
    )
    messages.success(
        request,
        "You are on this leaderboard." if joined else "You are no longer on this leaderboard.",
    )
    return redirect("analytics:leaderboard", exam_id=exam.pk)


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    if code:
        return redirect(reverse("analytics:verify", kwargs={"code": code.upper()[:20]}))
    return render(request, "assessments/analytics/verify.html", {"certificate": None})


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.certificate_by_code(code=code)
    if found is None:
        raise Http404("No certificate of this portal has this code.")
    response = render(request, "assessments/analytics/verify.html", {"certificate": found})
    response["Cache-Control"] = "no-store"
    return response
