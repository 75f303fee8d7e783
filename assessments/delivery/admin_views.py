"""Exam delivery in the portal's Wagtail admin: the proctor's live view and manual grading.

``/cms/proctor/`` — live attempts, one attempt's integrity timeline (with its webcam snapshots
and the gaps between them), and the proctor's actions (add time, close, release the session),
each confirmed on a second page and audited by the service. Snapshot images are served only
here (``proctor_snapshot``), never by the public media view. Only users with
``delivery.proctor_attempt`` see any of it; anyone else gets 404.

``/cms/grading/exam/<id>/`` and ``/cms/grading/attempt/<id>/`` — submitted attempts and their
responses for graders of that exam (``user_can_grade_exam``); others get 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, JSONNull, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from assessments.bank.rendering import candidate_context
from assessments.exams.models import Exam
from assessments.exams.selectors import gradable_exam_or_404, user_can_grade_exam

from . import proctoring, selectors, services
from .forms import AddTimeForm, GradeForm
from .models import Attempt, Response


def _require_proctor(request: HttpRequest) -> None:
    if not selectors.can_proctor(user=request.user):
        raise Http404("Not found")


def _time_left(attempt: Attempt, now) -> str:
    if attempt.deadline is None:
        return "No limit"
    seconds = int((attempt.deadline - now).total_seconds())
    if seconds <= 0:
        return "Time is up"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _answered_counts(attempt_ids: list[int]) -> dict[int, int]:
    rows = (
        Response.objects.filter(attempt_id__in=attempt_ids, value__isnull=False)
        .exclude(value=JSONNull())
        .values("attempt_id")
        .annotate(n=Count("id"))
    )
    return {row["attempt_id"]: row["n"] for row in rows}


# -- proctoring ---------------------------------------------------------------------------


def proctor_list(request: HttpRequest) -> HttpResponse:
    _require_proctor(request)
    exams = Exam.objects.filter(attempts__status=Attempt.Status.IN_PROGRESS).distinct()
    exam = None
    if request.GET.get("exam", "").isdigit():
        exam = Exam.objects.filter(pk=int(request.GET["exam"])).first()
    attempts = list(selectors.live_attempts(exam=exam)[:500])
    answered = _answered_counts([a.pk for a in attempts])
    now = timezone.now()
    rows = [
        {
            "attempt": a,
            "time_left": _time_left(a, now),
            "answered": answered.get(a.pk, 0),
        }
        for a in attempts
    ]
    return TemplateResponse(
        request,
        "assessments/delivery/admin/proctor_list.html",
        {"rows": rows, "exams": exams.order_by("title"), "exam": exam, "now": now},
    )


def proctor_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.proctored_attempt_or_404(user=request.user, attempt_id=attempt_id)
    now = timezone.now()
    return TemplateResponse(
        request,
        "assessments/delivery/admin/proctor_detail.html",
        {
            "attempt": attempt,
            "events": list(selectors.timeline(attempt=attempt)),
            "answered": _answered_counts([attempt.pk]).get(attempt.pk, 0),
            "time_left": _time_left(attempt, now),
            "grace_ends": selectors.grace_ends(attempt),
            "add_time_form": AddTimeForm(),
            "webcam": proctoring.webcam_timeline(attempt=attempt, now=now),
            "webcam_not_in_plan": not attempt.captures_webcam
            and proctoring.asks_for_webcam(attempt.version),
        },
    )


def proctor_snapshot(request: HttpRequest, snapshot_id: int) -> FileResponse:
    """One webcam image, for proctors of this portal only; never cached, never sniffed."""
    snapshot = proctoring.snapshot_for_proctor_or_404(user=request.user, snapshot_id=snapshot_id)
    try:
        handle = snapshot.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Not found") from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


ACTIONS = {
    "add-time": "Add time",
    "close": "Close the attempt",
    "release": "Release the session",
}


@require_POST
def proctor_action(request: HttpRequest, attempt_id: int, action: str) -> HttpResponse:
    """Add time, close or release an attempt: the first POST asks for confirmation, the
    second (with ``confirmed``) acts through the service, which writes the audit entry."""
    attempt = selectors.proctored_attempt_or_404(user=request.user, attempt_id=attempt_id)
    if action not in ACTIONS:
        raise Http404("Not found")
    form = AddTimeForm(request.POST) if action == "add-time" else None
    if form is not None and not form.is_valid():
        messages.error(request, "Add between 1 and 1440 minutes.")
        return redirect("delivery_proctor:detail", attempt_id=attempt.pk)
    if request.POST.get("confirmed") != "yes":
        return TemplateResponse(
            request,
            "assessments/delivery/admin/proctor_confirm.html",
            {
                "attempt": attempt,
                "action": action,
                "action_label": ACTIONS[action],
                "minutes": form.cleaned_data["minutes"] if form else None,
            },
        )
    try:
        if action == "add-time":
            minutes = form.cleaned_data["minutes"]
            services.add_time(attempt=attempt, minutes=minutes, by=request.user, request=request)
            messages.success(request, f"Added {minutes} minutes.")
        elif action == "close":
            services.close_attempt(attempt=attempt, by=request.user, request=request)
            messages.success(request, "The attempt is closed and graded.")
        else:
            services.release_session(attempt=attempt, by=request.user, request=request)
            messages.success(request, "The next browser session to open the attempt may take it.")
    except services.DeliveryError as error:
        messages.error(request, error.message)
    return redirect("delivery_proctor:detail", attempt_id=attempt.pk)


# -- grading ------------------------------------------------------------------------------


def grading_exam(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    attempts = list(
        Attempt.objects.filter(exam=exam, status=Attempt.Status.SUBMITTED)
        .select_related("user")
        .annotate(
            manual=Count("responses", filter=Q(responses__needs_manual=True)),
        )
        .order_by("-manual", "-submitted_at")[:500]
    )
    return TemplateResponse(
        request,
        "assessments/delivery/admin/grading_exam.html",
        {
            "exam": exam,
            "attempts": attempts,
            "needing": [a for a in attempts if a.grading == Attempt.Grading.NEEDS_MANUAL],
            "manual_release": exam.results_release == Exam.ResultsRelease.MANUAL,
        },
    )


@require_POST
def release_results(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = gradable_exam_or_404(user=request.user, exam_id=exam_id)
    if request.POST.get("confirmed") != "yes":
        messages.error(request, "Tick the box to confirm the release.")
    else:
        count = services.release_results(exam=exam, by=request.user, request=request)
        messages.success(request, f"Results released for {count} attempts.")
    return redirect("delivery_grading:exam", exam_id=exam.pk)


def _gradable_attempt_or_404(request: HttpRequest, attempt_id: int) -> Attempt:
    attempt = (
        Attempt.objects.select_related("exam", "user", "version").filter(pk=attempt_id).first()
    )
    if (
        attempt is None
        or attempt.status != Attempt.Status.SUBMITTED
        or not user_can_grade_exam(user=request.user, exam=attempt.exam)
    ):
        raise Http404("Not found")
    return attempt


def grading_attempt(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _gradable_attempt_or_404(request, attempt_id)
    return _grading_page(request, attempt)


def _grading_page(
    request: HttpRequest, attempt: Attempt, bound: dict[int, GradeForm] | None = None
) -> HttpResponse:
    responses = {r.position: r for r in attempt.responses.all()}
    rows: list[dict[str, Any]] = []
    for item in attempt.items:
        response = responses.get(item["position"])
        form = (bound or {}).get(item["position"]) or GradeForm(
            item=item, prefix=f"r{item['position']}"
        )
        rows.append(
            {
                "item": item,
                "response": response,
                "form": form,
                "q": candidate_context(
                    item,
                    position=item["position"],
                    shuffle_seed=item.get("option_seed"),
                    response=response.value if response else None,
                    disabled=True,
                ),
            }
        )
    rows.sort(key=lambda r: (not (r["response"] and r["response"].needs_manual),))
    return TemplateResponse(
        request,
        "assessments/delivery/admin/grading_attempt.html",
        {"attempt": attempt, "rows": rows},
        status=400 if bound else 200,
    )


@require_POST
def grade(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = _gradable_attempt_or_404(request, attempt_id)
    if not 1 <= position <= attempt.item_count:
        raise Http404("Not found")
    item = attempt.items[position - 1]
    response = Response.objects.filter(attempt=attempt, position=position).first()
    if response is None:
        raise Http404("Not found")
    form = GradeForm(request.POST, item=item, prefix=f"r{position}")
    if not form.is_valid():
        return _grading_page(request, attempt, {position: form})
    try:
        services.grade_response(response=response, by=request.user, request=request, **form.grade())
    except services.DeliveryError as error:
        form.add_error(None, error.message)
        return _grading_page(request, attempt, {position: form})
    messages.success(request, f"Question {position} graded.")
    return redirect("delivery_grading:attempt", attempt_id=attempt.pk)
