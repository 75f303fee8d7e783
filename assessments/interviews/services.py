"""Writes of the interviews app: practice sessions and hiring (positions, invitations, panels,
reviews, written feedback). Views only parse input and call these.

AI feedback goes through ``assessments.ai.base.get_provider()`` and is metered with
``assessments.ai.metering.call`` (recorded in the tenant's schema, counted against its AI
credits). A ``ProviderError`` leaves the answer unsubmitted with the reason to show.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from assessments.ai import metering
from assessments.ai.base import InterviewAnswerRequest, InterviewFeedback, get_provider

from . import ics
from .models import (
    InterviewSession,
    InterviewTemplate,
    PanelInterview,
    PanelReview,
    Position,
    PositionCandidate,
    Turn,
)

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_CHARS = 10_000
FEATURE = "interview_feedback"


def _after_commit(fn) -> None:
    """Run ``fn`` after commit in this tenant's schema, whatever schema is current then."""
    from django.db import connection
    from django_tenants.utils import schema_context

    schema = connection.schema_name

    def run() -> None:
        with schema_context(schema):
            fn()

    transaction.on_commit(run)


class InterviewError(ValueError):
    """An interview action was refused; the message says why. Nothing changed."""


# -- practice sessions --------------------------------------------------------------------


def start_session(*, user: Any, template: InterviewTemplate) -> InterviewSession:
    """Start practising ``template``: the session and its first question."""
    if not template.published:
        raise InterviewError("This interview is not open for practice.")
    questions = list(template.questions.all())
    if not questions:
        raise InterviewError("This interview has no questions yet.")
    now = timezone.now()
    with transaction.atomic():
        session = InterviewSession.objects.create(user=user, template=template, started_at=now)
        _ask(session=session, position=1, question=questions[0], now=now)
    return session


def _ask(*, session: InterviewSession, position: int, question, now: datetime) -> Turn:
    return Turn.objects.create(
        session=session,
        position=position,
        question=question,
        prompt=question.prompt,
        competency=question.competency,
        kind=question.kind,
        asked_at=now,
    )


def feedback_as_json(feedback: InterviewFeedback) -> dict:
    """The provider's feedback as stored on a turn (usage kept apart, in ``ai_usage``)."""
    return {
        "star": [
            {"part": p.part, "present": p.present, "sentences": list(p.sentences)}
            for p in feedback.star
        ],
        "specificity": round(float(feedback.specificity), 2),
        "filler_words": dict(feedback.filler_words),
        "words": feedback.words,
        "words_per_minute": feedback.words_per_minute,
        "suggestion": feedback.suggestion,
        "follow_up_question": feedback.follow_up_question,
    }


def usage_as_json(feedback: InterviewFeedback) -> dict:
    if feedback.usage is None:
        return {}
    usage = dataclasses.asdict(feedback.usage)
    usage["cost_usd"] = str(usage["cost_usd"])
    return usage


def score_feedback(feedback: dict) -> Decimal:
    """0..100 for one answer: STAR coverage (60), specificity (25), delivery (15: enough
    words, not rambling, few filler words)."""
    star = feedback.get("star") or []
    present = sum(1 for p in star if p.get("present"))
    words = int(feedback.get("words") or 0)
    fillers = sum(int(n) for n in (feedback.get("filler_words") or {}).values())
    delivery = 15.0
    if words < 40:
        delivery -= 7.5
    if words > 400:
        delivery -= 5
    if words:
        delivery -= min(5.0, fillers * 100 / words)
    total = 60 * present / 4 + 25 * float(feedback.get("specificity") or 0) + max(delivery, 0)
    return Decimal(str(round(min(max(total, 0.0), 100.0), 1)))


def combined_feedback(feedbacks: Sequence[dict]) -> dict:
    """One answer's feedback with its follow-up's folded in: a part shown in either counts,
    words and filler words add up, specificity is the better of the two."""
    feedbacks = [f for f in feedbacks if f]
    if len(feedbacks) == 1:
        return feedbacks[0]
    star = []
    for part in ("situation", "task", "action", "result"):
        entries = [p for f in feedbacks for p in f.get("star", []) if p.get("part") == part]
        star.append(
            {
                "part": part,
                "present": any(p.get("present") for p in entries),
                "sentences": [s for p in entries for s in p.get("sentences", [])],
            }
        )
    fillers: dict[str, int] = {}
    for f in feedbacks:
        for word, n in (f.get("filler_words") or {}).items():
            fillers[word] = fillers.get(word, 0) + int(n)
    return {
        "star": star,
        "specificity": max(float(f.get("specificity") or 0) for f in feedbacks),
        "filler_words": fillers,
        "words": sum(int(f.get("words") or 0) for f in feedbacks),
    }


def answer_units(turns: Sequence[Turn]) -> list[tuple[Turn, dict, Decimal]]:
    """Each answered main question with its follow-up folded in, and the combined score: a
    follow-up that supplies a missing part raises the answer's score, never lowers it."""
    follow_ups: dict[int, list[Turn]] = {}
    for turn in turns:
        if turn.follow_up_of_id and turn.answered:
            follow_ups.setdefault(turn.follow_up_of_id, []).append(turn)
    units = []
    for turn in turns:
        if turn.follow_up_of_id or not turn.answered:
            continue
        extra = follow_ups.get(turn.pk, [])
        combined = combined_feedback([turn.feedback, *(t.feedback for t in extra)])
        score = max([turn.score or Decimal(0), score_feedback(combined)]) if extra else turn.score
        units.append((turn, combined, score if score is not None else Decimal(0)))
    return units


def submit_answer(
    *,
    turn: Turn,
    transcript: str,
    input_mode: str = Turn.InputMode.TYPED,
    speaking_seconds: float | None = None,
    user: Any = None,
) -> Turn:
    """Record the answer to ``turn`` and the provider's feedback on it.

    Timings are the server's: asked when the question was shown, submitted now. The pace is
    computed over the time spent speaking when the browser transcribed speech (it reports
    it), otherwise it is left out: typing speed is not speaking pace."""
    transcript = (transcript or "").strip()
    if not transcript:
        raise InterviewError("Type or speak an answer first.")
    if len(transcript) > MAX_TRANSCRIPT_CHARS:
        raise InterviewError(f"Keep the answer under {MAX_TRANSCRIPT_CHARS:,} characters.")
    if input_mode not in Turn.InputMode.values:
        input_mode = Turn.InputMode.TYPED
    if turn.answered:
        raise InterviewError("This question has already been answered.")
    if turn.session.status != InterviewSession.Status.IN_PROGRESS:
        raise InterviewError("This practice session has ended.")
    if speaking_seconds is not None and not (0 < speaking_seconds < 3600):
        speaking_seconds = None
    pace_seconds = speaking_seconds if input_mode == Turn.InputMode.SPOKEN else None
    provider = get_provider()
    request = InterviewAnswerRequest(
        question=turn.prompt,
        answer=transcript,
        competency=turn.competency,
        duration_seconds=pace_seconds,
    )
    # The provider runs outside the row lock (a remote model may take seconds); the lock
    # below makes a second submit of the same turn a refusal, not a second record.
    feedback = metering.call(FEATURE, provider.analyse_interview_answer, request, user=user)
    now = timezone.now()
    with transaction.atomic():
        locked = Turn.objects.select_for_update().get(pk=turn.pk)
        if locked.answered:
            raise InterviewError("This question has already been answered.")
        stored = feedback_as_json(feedback)
        locked.transcript = transcript
        locked.input_mode = input_mode
        locked.submitted_at = now
        locked.duration_seconds = round((now - locked.asked_at).total_seconds(), 1)
        locked.speaking_seconds = speaking_seconds
        locked.feedback = stored
        locked.ai_usage = usage_as_json(feedback)
        locked.score = score_feedback(stored)
        locked.save()
    return locked


def ask_follow_up(*, turn: Turn) -> Turn:
    """Ask the provider's follow-up question to ``turn`` as the next turn (once per main
    question; a follow-up has no follow-up of its own)."""
    question = (turn.feedback or {}).get("follow_up_question", "").strip()
    if not turn.answered or not question:
        raise InterviewError("There is no follow-up question to answer.")
    if turn.follow_up_of_id is not None or turn.follow_ups.exists():
        raise InterviewError("This question has had its follow-up already.")
    with transaction.atomic():
        session = InterviewSession.objects.select_for_update().get(pk=turn.session_id)
        if session.status != InterviewSession.Status.IN_PROGRESS:
            raise InterviewError("This practice session has ended.")
        last = session.turns.order_by("-position").first()
        if last is None or last.pk != turn.pk:
            raise InterviewError("Answer the current question first.")
        return Turn.objects.create(
            session=session,
            position=turn.position + 1,
            question=turn.question,
            follow_up_of=turn,
            prompt=question,
            competency=turn.competency,
            kind=turn.kind,
            asked_at=timezone.now(),
        )


def next_question(*, session: InterviewSession) -> Turn | None:
    """Ask the template's next question; None (and the session completed) when none is left."""
    with transaction.atomic():
        session = InterviewSession.objects.select_for_update().get(pk=session.pk)
        if session.status != InterviewSession.Status.IN_PROGRESS:
            raise InterviewError("This practice session has ended.")
        turns = list(session.turns.all())
        if turns and not turns[-1].answered:
            raise InterviewError("Answer the current question first.")
        asked = {t.question_id for t in turns}
        remaining = [q for q in session.template.questions.all() if q.pk not in asked]
        if not remaining:
            _complete(session)
            return None
        return _ask(
            session=session,
            position=(turns[-1].position + 1) if turns else 1,
            question=remaining[0],
            now=timezone.now(),
        )


def finish_session(*, session: InterviewSession) -> InterviewSession:
    """End the session now (unanswered questions are left out of the scorecard)."""
    with transaction.atomic():
        session = InterviewSession.objects.select_for_update().get(pk=session.pk)
        if session.status == InterviewSession.Status.IN_PROGRESS:
            _complete(session)
    return session


def _complete(session: InterviewSession) -> None:
    scores = [score for _, _, score in answer_units(list(session.turns.all()))]
    session.status = InterviewSession.Status.COMPLETED
    session.completed_at = timezone.now()
    session.score = (
        (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1")) if scores else None
    )
    session.save(update_fields=["status", "completed_at", "score"])


# -- hiring: positions --------------------------------------------------------------------


def clean_rubric(rows: Sequence[dict]) -> list[dict]:
    """Validate rubric rows (criterion, competency, max_points) and give each an id."""
    out: list[dict] = []
    errors: list[str] = []
    for index, row in enumerate(rows, start=1):
        criterion = str(row.get("criterion", "")).strip()
        competency = str(row.get("competency", "")).strip()
        try:
            max_points = Decimal(str(row.get("max_points", "")).strip())
        except InvalidOperation:
            max_points = Decimal(-1)
        if not criterion:
            errors.append(f"row {index}: name the criterion")
        if not (Decimal(1) <= max_points <= Decimal(100)) or max_points != max_points.to_integral():
            errors.append(f"row {index}: maximum points must be a whole number from 1 to 100")
        out.append(
            {
                "id": str(row.get("id") or f"c{index}"),
                "criterion": criterion[:200],
                "competency": competency[:80],
                "max_points": int(max_points) if max_points > 0 else 0,
            }
        )
    if not out:
        errors.append("the rubric needs at least one criterion")
    if len({r["id"] for r in out}) != len(out):
        errors.append("criterion ids must be unique")
    if errors:
        raise InterviewError("; ".join(errors))
    return out


def create_position(
    *,
    by: Any,
    title: str,
    rubric: Sequence[dict],
    description: str = "",
    template: InterviewTemplate | None = None,
    exam: Any = None,
) -> Position:
    title = (title or "").strip()
    if not title:
        raise InterviewError("Give the position a title.")
    if template is None and exam is None:
        raise InterviewError("Choose an interview template, an exam, or both.")
    return Position.objects.create(
        title=title[:200],
        description=description,
        template=template,
        exam=exam,
        rubric=clean_rubric(rubric),
        created_by=by if getattr(by, "pk", None) else None,
    )


# -- hiring: invitations (seats) ----------------------------------------------------------


def _take_seat(user: Any) -> None:
    """Consume a billing seat for ``user``; refuse over the plan's limit."""
    from billing import services as billing
    from tenants.selectors import current_tenant

    try:
        billing.assign_seat(tenant=current_tenant(), user_id=user.pk, email=user.email)
    except billing.BillingError as exc:
        raise InterviewError(str(exc) or "No seat is left on this plan.") from exc


def invite_candidate(
    *, position: Position, email: str, by: Any, portal_url: str
) -> PositionCandidate:
    """Invite ``email`` to ``position``: their candidate account (created when new, with a
    one-time link to choose a password), a seat, the position's exam assigned, an email.

    All or nothing: over the seat limit, nothing is created and the message says why.
    """
    from allauth.account.models import EmailAddress
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from tenants.access.permissions import assign_role

    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InterviewError(f"'{email}' is not a valid email address.") from exc
    if position.status != Position.Status.OPEN:
        raise InterviewError("This position is closed.")
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User.objects.create_user(email=email, password=None)
            # The hiring manager vouches for the address; the set-password link goes to it.
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            assign_role(user=user, role="candidate")
        elif not user.is_active:
            raise InterviewError(f"{email}'s account is disabled.")
        if PositionCandidate.objects.filter(position=position, user=user).exists():
            raise InterviewError(f"{email} is already a candidate for this position.")
        _take_seat(user)
        if position.exam_id:
            from assessments.exams.services import assign_exam

            assign_exam(exam=position.exam, user=user)
        candidate = PositionCandidate.objects.create(
            position=position,
            user=user,
            invited_by=by if getattr(by, "pk", None) else None,
            invited_at=timezone.now(),
        )
        link = _candidate_link(user=user, created=created, portal_url=portal_url)
        _after_commit(lambda: _send_invitation(candidate=candidate, link=link, new_account=created))
    return candidate


def release_candidate(*, candidate: PositionCandidate) -> None:
    """Withdraw a candidacy; with no other candidacy, a person whom hiring made a candidate
    loses the candidate role and frees the seat. Panels still to come are cancelled first, so
    every attendee's calendar drops them."""
    user = candidate.user
    with transaction.atomic():
        upcoming = candidate.panels.filter(cancelled_at__isnull=True, starts_at__gt=timezone.now())
        for panel in upcoming:
            cancel_panel(panel=panel)
        candidate.delete()
        if PositionCandidate.objects.filter(user=user).exists():
            return
        from billing.models import SeatAssignment
        from tenants.access.services import revoke_role
        from tenants.selectors import current_tenant

        seats = SeatAssignment.objects.counted(current_tenant().pk).filter(user_id=user.pk)
        if seats.filter(source=SeatAssignment.Source.HIRING).exists():
            # Hiring made them a candidate; without a candidacy they are one no more (their
            # account and results stay). A seat taken otherwise (an invitation) is kept.
            revoke_role(user=user, role="candidate")


def _candidate_link(*, user: Any, created: bool, portal_url: str) -> str:
    base = portal_url.rstrip("/")
    if not created:
        return f"{base}/interview/"
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "wagtailadmin_password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base + path


def _portal_name() -> str:
    from tenants.selectors import current_tenant

    return current_tenant().name


def send_mail(
    *,
    subject: str,
    paragraphs: list[str],
    to: list[str],
    action_url: str | None = None,
    action_label: str | None = None,
    attachments: Iterable[tuple[str, str, str]] = (),
) -> None:
    """A branded email from this portal (``themes.email.send_branded_mail``)."""
    from themes.email import send_branded_mail

    send_branded_mail(
        subject=subject,
        portal_name=_portal_name(),
        paragraphs=paragraphs,
        action_url=action_url,
        action_label=action_label,
        to=to,
        attachments=attachments,
    )


def _send_invitation(*, candidate: PositionCandidate, link: str, new_account: bool) -> None:
    position = candidate.position
    parts = [f"You are invited to apply for {position.title} at {_portal_name()}."]
    if position.exam_id:
        parts.append(f"Your assessment includes the exam “{position.exam.title}”.")
    if position.template_id:
        parts.append(
            f"You can practise the “{position.template.title}” interview at any time "
            "and get feedback on every answer."
        )
    if new_account:
        parts.append("Choose your password with the link below to open your account.")
    send_mail(
        subject=f"Your application for {position.title}",
        paragraphs=parts,
        to=[candidate.user.email],
        action_url=link,
        action_label="Choose your password" if new_account else "Open the portal",
    )


# -- hiring: panels and calendar invites --------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InterviewError(
            f"'{name}' is not a time zone (use a name like Europe/Paris)."
        ) from exc


def local_to_utc(*, local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in ``tz_name`` as an aware UTC datetime (refuses times that do not
    exist in that zone, e.g. in the hour skipped when clocks go forward)."""
    zone = _zone(tz_name)
    if timezone.is_aware(local):
        return local.astimezone(ZoneInfo("UTC"))
    aware = local.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:
        raise InterviewError(f"{local:%Y-%m-%d %H:%M} does not exist in {tz_name}.")
    return aware.astimezone(ZoneInfo("UTC"))


def _reviewers_ok(reviewers: Sequence[Any]) -> None:
    from tenants.access.permissions import user_can

    if not reviewers:
        raise InterviewError("Choose at least one panel reviewer.")
    for reviewer in reviewers:
        if not user_can(reviewer, "interviews.review_panel"):
            raise InterviewError(f"{reviewer.email} is not a panel reviewer here.")


def schedule_panel(
    *,
    candidate: PositionCandidate,
    starts_at: datetime,
    duration_minutes: int,
    tz_name: str,
    reviewers: Sequence[Any],
    location: str = "",
    by: Any = None,
) -> PanelInterview:
    """Schedule a live panel interview and email a calendar invite (ICS) to the candidate
    and every reviewer after commit."""
    _zone(tz_name)
    if timezone.is_naive(starts_at):
        raise InterviewError("The start time needs a time zone.")
    if not (10 <= int(duration_minutes) <= 480):
        raise InterviewError("A panel lasts from 10 minutes to 8 hours.")
    if starts_at <= timezone.now():
        raise InterviewError("Schedule the panel in the future.")
    _reviewers_ok(reviewers)
    with transaction.atomic():
        panel = PanelInterview.objects.create(
            candidate=candidate,
            starts_at=starts_at,
            duration_minutes=int(duration_minutes),
            timezone=tz_name,
            location=location[:300],
            created_by=by if getattr(by, "pk", None) else None,
        )
        panel.reviewers.set(reviewers)
        _after_commit(lambda: send_panel_invites(panel=panel))
    return panel


def _locked_open_panel(panel: PanelInterview) -> PanelInterview:
    """``panel`` locked, or a refusal when it was cancelled or has already started."""
    panel = PanelInterview.objects.select_for_update().get(pk=panel.pk)
    if panel.cancelled_at is not None:
        raise InterviewError("This panel was cancelled.")
    if panel.starts_at <= timezone.now():
        raise InterviewError("This panel has already started; it can no longer be changed.")
    return panel


def reschedule_panel(
    *,
    panel: PanelInterview,
    starts_at: datetime,
    duration_minutes: int | None = None,
    tz_name: str | None = None,
) -> PanelInterview:
    """Move a panel (and optionally change its length or zone); the invites go out again
    with the same UID and a higher SEQUENCE, so calendars move the event."""
    if tz_name is not None:
        _zone(tz_name)
    if timezone.is_naive(starts_at) or starts_at <= timezone.now():
        raise InterviewError("Schedule the panel in the future.")
    if duration_minutes is not None and not (10 <= int(duration_minutes) <= 480):
        raise InterviewError("A panel lasts from 10 minutes to 8 hours.")
    with transaction.atomic():
        panel = _locked_open_panel(panel)
        panel.starts_at = starts_at
        if duration_minutes:
            panel.duration_minutes = int(duration_minutes)
        if tz_name:
            panel.timezone = tz_name
        panel.sequence += 1
        panel.save(update_fields=["starts_at", "duration_minutes", "timezone", "sequence"])
        _after_commit(lambda: send_panel_invites(panel=panel))
    return panel


def cancel_panel(*, panel: PanelInterview) -> PanelInterview:
    """Call a panel off: kept for the record, closed to reviews, and a METHOD:CANCEL with
    the same UID and a higher SEQUENCE goes to everyone invited. The notice is built now, so
    it still goes out when the candidacy is deleted in the same transaction."""
    with transaction.atomic():
        panel = _locked_open_panel(panel)
        panel.cancelled_at = timezone.now()
        panel.sequence += 1
        panel.save(update_fields=["cancelled_at", "sequence"])
        notices = _panel_notices(panel)
        _after_commit(lambda: _send_notices(notices))
    return panel


def panel_calendar(*, panel: PanelInterview, organizer_email: str | None = None) -> str:
    """The ICS document for ``panel``."""
    from email.utils import parseaddr

    from django.conf import settings

    candidate = panel.candidate
    position = candidate.position
    reviewers = list(panel.reviewers.order_by("email"))
    organizer = organizer_email or (
        panel.created_by.email if panel.created_by_id else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    )
    event = ics.CalendarEvent(
        uid=f"{panel.uid}@viva",
        start=panel.starts_at,
        end=panel.starts_at + timedelta(minutes=panel.duration_minutes),
        tzid=panel.timezone,
        summary=f"Panel interview: {position.title} — {_display(candidate.user)}",
        description=(
            f"Live panel interview for {position.title} at {_portal_name()}.\n"
            f"Panel: {', '.join(_display(r) for r in reviewers)}."
        ),
        location=panel.location,
        organizer=ics.Attendee(email=organizer),
        attendees=(
            ics.Attendee(email=candidate.user.email, name=_display(candidate.user)),
            *(ics.Attendee(email=r.email, name=_display(r)) for r in reviewers),
        ),
        sequence=panel.sequence,
        cancelled=panel.cancelled_at is not None,
    )
    return ics.build_calendar(event)


def _display(user: Any) -> str:
    name = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return name or user.email


def send_panel_invites(*, panel: PanelInterview) -> None:
    """Email the panel's calendar invite (or cancellation) to the candidate and reviewers."""
    _send_notices(_panel_notices(panel))


def _panel_notices(panel: PanelInterview) -> list[dict]:
    """One email per attendee (keyword arguments of ``send_mail``) with the ICS attached."""
    calendar = panel_calendar(panel=panel)
    zone = ZoneInfo(panel.timezone)
    local = panel.starts_at.astimezone(zone)
    when = f"{local:%A %d %B %Y, %H:%M} ({panel.timezone}; {panel.starts_at:%H:%M} UTC)"
    position = panel.candidate.position
    recipients = [panel.candidate.user.email, *panel.reviewers.values_list("email", flat=True)]
    if panel.cancelled_at is not None:
        subject = f"Panel interview cancelled: {position.title}"
        paragraphs = [
            f"The live panel interview for {position.title} on {when} is cancelled.",
            "The attached notice removes it from your calendar.",
        ]
        method = "CANCEL"
    else:
        verb = "rescheduled" if panel.sequence else "scheduled"
        subject = f"Panel interview {verb}: {position.title}"
        paragraphs = [
            f"A live panel interview for {position.title} is {verb} for {when}, "
            f"lasting {panel.duration_minutes} minutes.",
            *([f"Where: {panel.location}"] if panel.location else []),
            "The attached invitation adds it to your calendar.",
        ]
        method = "REQUEST"
    attachment = ("invite.ics", calendar, f"text/calendar; method={method}")
    return [
        {"subject": subject, "paragraphs": paragraphs, "to": [r], "attachments": [attachment]}
        for r in recipients
    ]


def _send_notices(notices: list[dict]) -> None:
    for notice in notices:
        send_mail(**notice)


# -- hiring: reviews and feedback ---------------------------------------------------------


def submit_review(
    *, panel: PanelInterview, reviewer: Any, scores: dict[str, Any], comments: str = ""
) -> PanelReview:
    """Record one reviewer's rubric scores for ``panel``. Every criterion must be scored
    within its range; a review is submitted once and not changed afterwards."""
    if not panel.reviewers.filter(pk=reviewer.pk).exists():
        raise InterviewError("You are not on this panel.")
    if panel.cancelled_at is not None:
        raise InterviewError("This panel was cancelled; there is nothing to score.")
    rubric = panel.candidate.position.rubric
    clean: dict[str, str] = {}
    errors = []
    for criterion in rubric:
        raw = scores.get(criterion["id"])
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, TypeError):
            errors.append(f"score “{criterion['criterion']}”")
            continue
        if not (Decimal(0) <= value <= Decimal(criterion["max_points"])):
            errors.append(f"“{criterion['criterion']}” takes 0 to {criterion['max_points']} points")
            continue
        clean[criterion["id"]] = str(value.quantize(Decimal("0.01")))
    if errors:
        raise InterviewError("; ".join(errors))
    with transaction.atomic():
        PanelInterview.objects.select_for_update().get(pk=panel.pk)
        if PanelReview.objects.filter(panel=panel, reviewer=reviewer).exists():
            raise InterviewError("You have already submitted your scores for this panel.")
        return PanelReview.objects.create(
            panel=panel,
            reviewer=reviewer,
            scores=clean,
            total=sum((Decimal(v) for v in clean.values()), Decimal(0)),
            comments=comments.strip()[:5000],
            submitted_at=timezone.now(),
        )


def send_feedback(*, candidate: PositionCandidate, text: str, by: Any = None) -> PositionCandidate:
    """Send written feedback to the candidate by email and keep it on the candidacy."""
    text = (text or "").strip()
    if not text:
        raise InterviewError("Write the feedback first.")
    with transaction.atomic():
        candidate.feedback = text[:10_000]
        candidate.feedback_sent_at = timezone.now()
        candidate.save(update_fields=["feedback", "feedback_sent_at"])
        position = candidate.position
        email = candidate.user.email
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        _after_commit(
            lambda: send_mail(
                subject=f"Feedback on your application for {position.title}",
                paragraphs=[f"Feedback on your application for {position.title}:", *paragraphs],
                to=[email],
            )
        )
    return candidate


# -- templates installed from the marketplace ---------------------------------------------


def land_template_document(
    *, document: dict, listing_id: int, version: int, old_document: dict | None = None
) -> InterviewTemplate:
    """Write a checked marketplace interview document (``marketplace.documents``) into the
    current (buyer's) schema as an editable, published template that records where it came
    from; return it. Called by ``marketplace.services`` inside its transaction.

    An update (``old_document`` is the installed version) changes the installed template in
    place: only what the publisher changed between the two versions is written, so the
    buyer's own edits to untouched fields and questions, the questions they added, their
    positions and the "Published" choice all stay. Removed questions are deleted: a turn
    keeps its own copy of what was asked (``Turn.prompt``), so past sessions read as they
    were run."""
    template = (
        InterviewTemplate.objects.select_for_update().filter(source_listing_id=listing_id).first()
    )
    if template is None:
        template, old_document = InterviewTemplate(source_listing_id=listing_id), None
    header = {
        "title": document["title"],
        "description": document["description"],
        "industry": document["industry"],
        "role": document["role"],
        "competencies": "\n".join(document["competencies"]),
    }
    for name, value in header.items():
        before = (old_document or {}).get(name)
        if name == "competencies" and before is not None:
            before = "\n".join(before)
        if old_document is None or before != value:
            setattr(template, name, value)
    template.source_version = version
    template.save()
    _land_questions(template=template, document=document, old_document=old_document)
    return template


def _land_questions(
    *, template: InterviewTemplate, document: dict, old_document: dict | None
) -> None:
    from .models import TemplateQuestion

    fields = ("kind", "competency", "prompt", "ideal_answer_notes")
    installed = {q.source_ref: q for q in template.questions.exclude(source_ref="")}
    before = {q["ref"]: q for q in (old_document or {}).get("questions", [])}
    refs = [q["ref"] for q in document["questions"]]
    stale = [q.pk for ref, q in installed.items() if ref not in refs]
    TemplateQuestion.objects.filter(pk__in=stale).delete()
    for order, q in enumerate(document["questions"]):
        current = installed.get(q["ref"])
        if current is None:
            current = TemplateQuestion(template=template, source_ref=q["ref"])
        publisher_changed = any(before.get(q["ref"], {}).get(f) != q[f] for f in fields)
        if current.pk is None or publisher_changed:
            for name in fields:
                setattr(current, name, q[name])
        current.sort_order = order
        current.save()
    # The buyer's own questions follow the publisher's, in the order they had.
    own = template.questions.filter(source_ref="").order_by("sort_order", "pk")
    for order, question in enumerate(own, start=len(refs)):
        TemplateQuestion.objects.filter(pk=question.pk).update(sort_order=order)
