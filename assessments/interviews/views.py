"""Candidate pages of interview practice, mounted at ``/interview/`` on every portal host.

Any signed-in person of the portal may practise; a session and its turns are reached only
through the selectors' ``own_*_or_404`` helpers, so another person's session — or another
portal's id — is "not found". Writes go through ``services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from assessments.ai.base import ProviderError

from . import selectors, services
from .models import InterviewSession, Turn
from .star import PARTS

SPOKEN_WPM = 140  # an easy speaking pace, to estimate how long a typed answer takes to say


@login_required
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    sessions = (
        InterviewSession.objects.filter(user=request.user)
        .select_related("template")
        .order_by("-started_at")[:20]
    )
    return render(
        request,
        "assessments/interviews/index.html",
        {
            "templates": selectors.practice_templates(),
            "sessions": sessions,
            "progress": selectors.progress(user=request.user),
        },
    )


@login_required
@require_POST
def start(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(selectors.practice_templates(), pk=template_id)
    try:
        session = services.start_session(user=request.user, template=template)
    except services.InterviewError as exc:
        messages.error(request, str(exc))
        return redirect("interviews:index")
    return redirect("interviews:session", session.pk)


def _feedback_context(turn: Turn) -> dict:
    feedback = turn.feedback or {}
    star = {p["part"]: p for p in feedback.get("star", [])}
    words = int(feedback.get("words") or 0)
    specificity = float(feedback.get("specificity") or 0)
    return {
        "star": [
            {
                "part": part,
                "present": bool(star.get(part, {}).get("present")),
                "sentences": star.get(part, {}).get("sentences", []),
            }
            for part in PARTS
        ],
        "specificity_percent": round(specificity * 100),
        "specificity_label": "high"
        if specificity >= 0.6
        else "medium"
        if specificity >= 0.3
        else "low",
        "fillers": sorted((feedback.get("filler_words") or {}).items(), key=lambda kv: -kv[1]),
        "filler_total": sum((feedback.get("filler_words") or {}).values()),
        "words": words,
        "wpm": feedback.get("words_per_minute"),
        "spoken_estimate": round(words / SPOKEN_WPM * 60) if words else 0,
        "suggestion": feedback.get("suggestion", ""),
        "follow_up_question": feedback.get("follow_up_question", ""),
    }


@login_required
@never_cache
def session_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.own_session_or_404(user=request.user, session_id=session_id)
    if session.status == InterviewSession.Status.COMPLETED:
        return redirect("interviews:scorecard", session.pk)
    turn = selectors.current_turn(session=session)
    asked, total = selectors.question_progress(session=session)
    context = {
        "session": session,
        "turn": turn,
        "asked": asked,
        "total": total,
        "has_more": asked < total,
        "can_follow_up": bool(
            turn
            and turn.answered
            and turn.follow_up_of_id is None
            and (turn.feedback or {}).get("follow_up_question")
        ),
        "ideal": turn.question.ideal_answer_notes if turn and turn.question_id else "",
    }
    if turn is not None and turn.answered:
        context["fb"] = _feedback_context(turn)
    return render(request, "assessments/interviews/session.html", context)


@login_required
@require_POST
def answer(request: HttpRequest, session_id: int, turn_id: int) -> HttpResponse:
    turn = selectors.own_turn_or_404(user=request.user, turn_id=turn_id)
    if turn.session_id != session_id:
        return redirect("interviews:session", turn.session_id)
    try:
        speaking = float(request.POST.get("speaking_seconds") or 0) or None
    except ValueError:
        speaking = None
    try:
        services.submit_answer(
            turn=turn,
            transcript=request.POST.get("transcript", ""),
            input_mode=request.POST.get("input_mode", Turn.InputMode.TYPED),
            speaking_seconds=speaking,
            user=request.user,
        )
    except (services.InterviewError, ProviderError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return render(
            request,
            "assessments/interviews/session.html",
            {
                "session": turn.session,
                "turn": turn,
                "asked": selectors.question_progress(session=turn.session)[0],
                "total": selectors.question_progress(session=turn.session)[1],
                "error": reason,
                "draft": request.POST.get("transcript", ""),
            },
            status=400,
        )
    return redirect("interviews:session", session_id)


@login_required
@require_POST
def follow_up(request: HttpRequest, session_id: int, turn_id: int) -> HttpResponse:
    turn = selectors.own_turn_or_404(user=request.user, turn_id=turn_id)
    try:
        services.ask_follow_up(turn=turn)
    except services.InterviewError as exc:
        messages.error(request, str(exc))
    return redirect("interviews:session", turn.session_id)


@login_required
@require_POST
def next_question(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.own_session_or_404(user=request.user, session_id=session_id)
    try:
        turn = services.next_question(session=session)
    except services.InterviewError as exc:
        messages.error(request, str(exc))
        return redirect("interviews:session", session.pk)
    if turn is None:
        return redirect("interviews:scorecard", session.pk)
    return redirect("interviews:session", session.pk)


@login_required
@require_POST
def finish(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.own_session_or_404(user=request.user, session_id=session_id)
    services.finish_session(session=session)
    return redirect("interviews:scorecard", session.pk)


@login_required
@never_cache
def scorecard(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.own_session_or_404(user=request.user, session_id=session_id)
    card = selectors.scorecard(session=session)
    return render(
        request,
        "assessments/interviews/scorecard.html",
        {
            "session": session,
            "card": card,
            "rows": [(turn, _feedback_context(turn)) for turn in card.turns],
            "parts": PARTS,
        },
    )
