"""Candidate pages of exam delivery, mounted at ``/exam/`` on every portal host.

Every view takes the signed-in candidate's own exam or attempt through the selectors'
``*_or_404`` helpers (another person's attempt, or another portal's id, is "not found"), reads
through ``selectors`` and writes through ``services``. Answers are not saved here: the player
posts them to ``/exam/autosave/`` (``autosave.AutosaveMiddleware``) with the token this
module issues; the page never holds an answer key until results are visible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assessments.bank.rendering import candidate_context
from assessments.exams.models import Exam
from assessments.exams.selectors import effective_time_limit as time_limit_for
from assessments.exams.selectors import effective_window, extra_time_minutes
from assessments.html import sanitise_html

from . import proctoring, selectors, services
from .autosave import PATH as AUTOSAVE_PATH
from .autosave import issue_token
from .models import Attempt, Response

# -- the catalogue and the landing page ---------------------------------------------------


@dataclass(frozen=True)
class ExamState:
    """One exam as a candidate sees it in the catalogue and on its landing page."""

    exam: Exam
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit: int | None  # minutes, the candidate's extra time included
    extra_time: int
    attempts_allowed: int
    attempts_left: int
    open_attempt: Attempt | None
    is_open_now: bool
    not_yet_open: bool
    has_closed: bool

    @property
    def can_start(self) -> bool:
        return self.open_attempt is not None or (self.is_open_now and self.attempts_left > 0)


def exam_state(*, exam: Exam, user: Any, now: datetime | None = None) -> ExamState:
    now = now or timezone.now()
    version = selectors.current_version(exam=exam)
    window = effective_window(exam=exam, user=user, version=version)
    settings = version.snapshot["settings"] if version else {"attempts_allowed": 0}
    return ExamState(
        exam=exam,
        opens_at=window.opens_at,
        closes_at=window.closes_at,
        time_limit=time_limit_for(exam=exam, user=user, version=version) if version else None,
        extra_time=extra_time_minutes(exam=exam, user=user),
        attempts_allowed=settings["attempts_allowed"],
        attempts_left=selectors.attempts_left(exam=exam, user=user),
        open_attempt=selectors.open_attempt(exam=exam, user=user),
        is_open_now=window.contains(now),
        not_yet_open=window.opens_at is not None and now < window.opens_at,
        has_closed=window.closes_at is not None and now >= window.closes_at,
    )


def catalogue_entries(*, user: Any) -> list[ExamState]:
    """The exams ``user`` may take with their state, for the exam catalogue page."""
    return [exam_state(exam=exam, user=user) for exam in selectors.available_exams(user=user)]


@login_required
@never_cache
@require_GET
def exam_landing(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.exam_for_candidate_or_404(user=request.user, exam_id=exam_id)
    version = selectors.current_version(exam=exam)
    settings = version.snapshot["settings"]
    webcam_interval = proctoring.capture_interval(version)
    response = render(
        request,
        "assessments/delivery/landing.html",
        {
            "exam": exam,
            "description": mark_safe(sanitise_html(version.snapshot["exam"]["description"])),  # noqa: S308
            "state": exam_state(exam=exam, user=request.user),
            "settings": settings,
            "navigation": Exam.Navigation(settings["navigation"]).label,
            "release": Exam.ResultsRelease(settings["results_release"]).label,
            "overdue": Exam.OverduePolicy(settings["overdue_policy"]).label,
            "question_count": sum(
                1 if item["kind"] == "fixed" else item["count"]
                for section in version.snapshot["sections"]
                for item in section["items"]
            ),
            "past_attempts": [
                a for a in selectors.attempts_of(exam=exam, user=request.user) if not a.is_open
            ],
            "webcam_interval": webcam_interval,
            "retention_days": django_settings.VIVA_PROCTORING_RETENTION_DAYS,
        },
    )
    return _camera_policy(response, allowed=webcam_interval is not None)


def _camera_policy(response: HttpResponse, *, allowed: bool) -> HttpResponse:
    """The camera is allowed (this origin only) on the landing, player and summary pages of
    an exam that captures it, and denied on those of every other exam."""
    response["Permissions-Policy"] = "camera=(self)" if allowed else "camera=()"
    return response


@login_required
@require_POST
def start(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = selectors.exam_for_candidate_or_404(user=request.user, exam_id=exam_id)
    if not request.session.session_key:
        request.session.save()
    try:
        attempt = proctoring.start_attempt(
            exam=exam,
            user=request.user,
            client=services.Client.of(request),
            consent=request.POST.get("webcam_consent") == "yes",
        )
    except services.DeliveryError as error:
        messages.error(request, error.message)
        return redirect("delivery:landing", exam_id=exam.pk)
    return redirect("delivery:player", attempt_id=attempt.pk)


# -- the player ---------------------------------------------------------------------------


def _responses(attempt: Attempt) -> dict[int, Response]:
    return {r.position: r for r in attempt.responses.all()}


def _section_instructions(attempt: Attempt) -> dict[int, str]:
    sections = attempt.version.snapshot.get("sections", [])
    return {n: s.get("instructions") or "" for n, s in enumerate(sections, start=1)}


def _player_config(request: HttpRequest, attempt: Attempt, mode: str) -> dict[str, Any]:
    responses = attempt.responses.values("position", "seq", "flagged", "value")
    max_seq = attempt.responses.aggregate(m=Max("seq"))["m"] or 0
    return {
        "mode": mode,
        "attempt": attempt.pk,
        "token": issue_token(request=request, attempt=attempt),
        "now": timezone.now().isoformat(),
        "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        "grace_seconds": attempt.grace_seconds,
        "overdue_policy": attempt.overdue_policy,
        "sequential": attempt.sequential,
        "current_position": attempt.current_position,
        "item_count": attempt.item_count,
        "max_seq": max_seq,
        "responses": {
            str(r["position"]): {
                "seq": r["seq"],
                "flagged": r["flagged"],
                "answered": r["value"] is not None,
            }
            for r in responses
        },
        "urls": {
            "autosave": AUTOSAVE_PATH,
            "events": reverse("delivery:events", args=[attempt.pk]),
            "state": reverse("delivery:state", args=[attempt.pk]),
            "summary": reverse("delivery:summary", args=[attempt.pk]),
            "results": reverse("delivery:results", args=[attempt.pk]),
            "player": reverse("delivery:player", args=[attempt.pk]),
            "snapshot": reverse("delivery:snapshot", args=[attempt.pk]),
        },
        "webcam_interval": attempt.webcam_interval_seconds,
    }


def _resume_or_error(request: HttpRequest, attempt: Attempt) -> HttpResponse | None:
    """Record where the attempt is taken from; a refusal becomes a page saying why."""
    if not request.session.session_key:
        request.session.save()
    try:
        services.resume_attempt(attempt=attempt, client=services.Client.of(request))
    except services.DeliveryError as error:
        return render(
            request,
            "assessments/delivery/refused.html",
            {"attempt": attempt, "exam": attempt.exam, "message": error.message},
            status=403,
        )
    return None


@login_required
@never_cache
@require_GET
def player(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    if not attempt.is_open:
        return redirect("delivery:results", attempt_id=attempt.pk)
    refused = _resume_or_error(request, attempt)
    if refused is not None:
        return refused
    attempt.refresh_from_db()
    if not attempt.is_open:
        return redirect("delivery:results", attempt_id=attempt.pk)
    responses = _responses(attempt)
    instructions = _section_instructions(attempt)
    items = attempt.items
    if attempt.sequential:
        items = [i for i in items if i["position"] == attempt.current_position]
    questions = []
    for item in items:
        response = responses.get(item["position"])
        questions.append(
            {
                "position": item["position"],
                "section": item["section"],
                "section_title": item["section_title"],
                "instructions": instructions.get(item["section"], ""),
                "first_of_section": item["position"] == 1
                or attempt.items[item["position"] - 2]["section"] != item["section"],
                "flagged": bool(response and response.flagged),
                "q": candidate_context(
                    item,
                    position=item["position"],
                    shuffle_seed=item.get("option_seed"),
                    response=response.value if response else None,
                ),
            }
        )
    palette = [
        {
            "position": item["position"],
            "answered": item["position"] in responses
            and responses[item["position"]].value is not None,
            "flagged": item["position"] in responses and responses[item["position"]].flagged,
        }
        for item in attempt.items
    ]
    response = render(
        request,
        "assessments/delivery/player.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "questions": questions,
            "palette": palette,
            "is_last": attempt.current_position >= attempt.item_count,
            "next_position": attempt.current_position + 1,
            "config": _player_config(request, attempt, "player"),
        },
    )
    return _camera_policy(response, allowed=attempt.captures_webcam)


@login_required
@require_POST
def advance(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Sequential navigation: move on to the next question (never back)."""
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    try:
        to_position = int(request.POST.get("position", ""))
    except ValueError:
        to_position = 0
    try:
        services.advance(attempt=attempt, to_position=to_position)
    except services.DeliveryError as error:
        if error.code == "closed":
            return redirect("delivery:results", attempt_id=attempt.pk)
        messages.error(request, error.message)
        return redirect("delivery:player", attempt_id=attempt.pk)
    return redirect("delivery:player", attempt_id=attempt.pk)


@login_required
@never_cache
@require_GET
def summary(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Before submitting: which questions are unanswered or flagged."""
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    if not attempt.is_open:
        return redirect("delivery:results", attempt_id=attempt.pk)
    return _summary_page(request, attempt)


def _summary_page(request: HttpRequest, attempt: Attempt, *, error: str = "") -> HttpResponse:
    responses = _responses(attempt)
    rows = []
    for item in attempt.items:
        response = responses.get(item["position"])
        rows.append(
            {
                "position": item["position"],
                "title": item["title"],
                "section_title": item["section_title"],
                "answered": bool(response and response.value is not None),
                "flagged": bool(response and response.flagged),
                "reachable": not attempt.sequential or item["position"] >= attempt.current_position,
            }
        )
    response = render(
        request,
        "assessments/delivery/summary.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "rows": rows,
            "unanswered": [r for r in rows if not r["answered"]],
            "flagged": [r for r in rows if r["flagged"]],
            "error": error,
            "config": _player_config(request, attempt, "summary"),
        },
        status=400 if error else 200,
    )
    return _camera_policy(response, allowed=attempt.captures_webcam)


@login_required
@require_POST
def submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    if not attempt.is_open:
        return redirect("delivery:results", attempt_id=attempt.pk)
    if not (request.POST.get("confirm") or request.POST.get("auto")):
        return _summary_page(
            request, attempt, error="Tick the box to confirm that you want to submit."
        )
    try:
        services.submit_attempt(attempt=attempt)
    except services.DeliveryError as error:
        messages.error(request, error.message)
    return redirect("delivery:results", attempt_id=attempt.pk)


# -- results ------------------------------------------------------------------------------


def answer_key_text(item: dict) -> str:
    """The right answer of a drawn item in words (shown only once results are visible)."""
    data, kind = item["data"], item["type"]
    if kind == "single_choice":
        return "; ".join(o["text"] for o in data["options"] if o.get("correct"))
    if kind == "multiple_response":
        return "; ".join(o["text"] for o in data["options"] if float(o.get("weight", 0)) > 0)
    if kind == "true_false":
        return "True" if data["answer"] else "False"
    if kind == "short_answer":
        return " or ".join(data["accepted"])
    if kind == "numeric":
        text = str(data["answer"])
        if data.get("tolerance") not in (None, "", "0", "0.00"):
            suffix = " %" if data.get("tolerance_mode") == "percent" else ""
            text += f" ± {data['tolerance']}{suffix}"
        if data.get("units"):
            text += f" ({' or '.join(data['units'])})"
        return text
    if kind == "matching":
        return "; ".join(f"{p['prompt']} → {p['match']}" for p in data["pairs"])
    if kind == "ordering":
        return " → ".join(data["items"])
    if kind == "cloze":
        return "; ".join(
            f"blank {g['id']}: {' or '.join(g['accepted'])}" for g in data.get("gaps", [])
        )
    return ""


def _review(attempt: Attempt) -> list[dict]:
    responses = _responses(attempt)
    rows = []
    for item in attempt.items:
        response = responses.get(item["position"])
        rows.append(
            {
                "q": candidate_context(
                    item,
                    position=item["position"],
                    shuffle_seed=item.get("option_seed"),
                    response=response.value if response else None,
                    disabled=True,
                ),
                "response": response,
                "answer": answer_key_text(item),
                "explanation": item.get("explanation") or "",
            }
        )
    return rows


@login_required
@never_cache
@require_GET
def results(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    if attempt.is_open and not selectors.is_past_grace(attempt):
        return redirect("delivery:player", attempt_id=attempt.pk)
    visible = selectors.results_visible(attempt=attempt)
    review = _review(attempt) if visible else []
    for row in review:
        row["explanation"] = mark_safe(sanitise_html(row["explanation"]))  # noqa: S308
    return render(
        request,
        "assessments/delivery/results.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "visible": visible,
            "review": review,
            "release": attempt.version.snapshot["settings"]["results_release"],
            "closing": attempt.is_open,
        },
    )


# -- JSON endpoints of the player ---------------------------------------------------------


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


@login_required
@require_POST
def events(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The browser's integrity signals: a JSON list of ``{"kind", "at", "detail"}``."""
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    if len(request.body) > 64 * 1024:
        return _json_error(413, "too_large", "Too many events at once.")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return _json_error(400, "bad_request", "The events could not be read.")
    if not isinstance(payload, list):
        return _json_error(400, "bad_request", "Send a list of events.")
    try:
        stored = services.record_client_events(
            attempt=attempt, events=payload, client=services.Client.of(request)
        )
    except services.DeliveryError as error:
        return _json_error(400, "bad_request", error.message)
    return JsonResponse({"stored": stored})


@login_required
@require_POST
def snapshot(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """One webcam snapshot of the candidate's own open attempt: the body is the JPEG itself
    (``Content-Type: image/jpeg``). Refusals are JSON with a 4xx status and store nothing."""
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > proctoring.MAX_SNAPSHOT_BYTES:
        limit = proctoring.MAX_SNAPSHOT_BYTES // 1024
        return _json_error(413, "too_large", f"The snapshot is larger than {limit} KB.")
    if int(declared) == 0:
        return _json_error(400, "empty", "The snapshot is empty.")
    if request.content_type != "image/jpeg":
        return _json_error(415, "not_jpeg", "The snapshot must be sent as image/jpeg.")
    try:
        stored = proctoring.store_snapshot(attempt=attempt, data=request.body)
    except proctoring.SnapshotError as error:
        response = _json_error(error.status, error.code, error.message)
        if error.retry_after:
            response["Retry-After"] = str(error.retry_after)
        return response
    return JsonResponse(
        {"stored": stored.pk, "next_in": attempt.webcam_interval_seconds}, status=201
    )


@login_required
@never_cache
@require_GET
def state(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The server's clock and what it holds of the attempt, for resuming and clock sync."""
    attempt = selectors.attempt_for_candidate_or_404(user=request.user, attempt_id=attempt_id)
    answers = [
        {"position": r["position"], "seq": r["seq"], "flagged": r["flagged"]}
        for r in attempt.responses.order_by("position").values("position", "seq", "flagged")
    ]
    return JsonResponse(
        {
            "status": attempt.status,
            "now": timezone.now().isoformat(),
            "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
            "grace_seconds": attempt.grace_seconds,
            "current_position": attempt.current_position,
            "max_seq": max((a["seq"] for a in answers), default=0),
            "answers": answers,
            "results_url": reverse("delivery:results", args=[attempt.pk]),
        }
    )
