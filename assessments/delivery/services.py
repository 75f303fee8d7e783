"""Writes of exam delivery: starting, submitting, grading and closing attempts; integrity
events; proctor actions. Answers themselves are saved by ``autosave`` (one SQL statement).

Every function re-reads what it is given in the current schema and locks the attempt row
(``select_for_update``) before changing it, so a submit, the sweeper and a proctor cannot
interleave, and an autosave in flight (which holds a share lock on the row, see ``autosave``)
either lands before the attempt closes or is refused after: never lost in between.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from assessments.exams.models import Exam, ExamVersion
from assessments.exams.selectors import effective_time_limit, effective_window
from assessments.exams.services import draw_questions
from assessments.questions import Grade, get_type
from assessments.questions.base import money
from marketplace.selectors import licence_allows_candidate
from tenants.audit.models import AuditAction
from tenants.audit.services import record_event

from . import selectors
from .models import Attempt, IntegrityEvent, Response

#: Longest a browser's reported event detail may be (characters of JSON text).
MAX_EVENT_DETAIL = 500
#: Most events one request may report.
MAX_EVENTS_PER_REQUEST = 100


class DeliveryError(Exception):
    """A refusal a candidate or proctor should read: ``message`` says what and why."""

    def __init__(self, message: str, *, code: str = "refused"):
        self.message = message
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Client:
    """Where a request came from: compared against the attempt's first client."""

    session_key: str
    ip: str | None
    user_agent: str

    @classmethod
    def of(cls, request: Any) -> Client:
        remote = (request.META.get("REMOTE_ADDR") or "").strip()
        try:
            ip = str(ipaddress.ip_address(remote))
        except ValueError:
            ip = None
        return cls(
            session_key=request.session.session_key or "",
            ip=ip,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:500],
        )


def session_hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


# -- starting -----------------------------------------------------------------------------


def start_attempt(*, exam: Exam, user: Any, client: Client, now: datetime | None = None) -> Attempt:
    """The candidate's open attempt at ``exam``, started now if there is none.

    Refuses (``DeliveryError``) when the candidate may not take the exam, it is not open for
    them, their attempts are used up, their network is not allowed or the exam came from a
    marketplace licence whose seats are all taken by other candidates. The deadline is fixed
    here: start + time limit + the candidate's extra time, but never after the window closes.
    """
    now = now or timezone.now()
    with transaction.atomic():
        exam = Exam.objects.select_for_update().get(pk=exam.pk)
        version = selectors.current_version(exam=exam)
        if version is None or not selectors.may_take(exam=exam, user=user):
            raise DeliveryError("This exam is not available to you.", code="not_found")
        open_attempt = Attempt.objects.filter(
            exam=exam, user=user, status=Attempt.Status.IN_PROGRESS
        ).first()
        if open_attempt is not None:
            return open_attempt
        check_network(version=version, ip=client.ip)
        window = effective_window(exam=exam, user=user, version=version)
        if window.opens_at and now < window.opens_at:
            raise DeliveryError(
                f"This exam opens at {timezone.localtime(window.opens_at):%Y-%m-%d %H:%M}.",
                code="not_open",
            )
        if window.closes_at and now >= window.closes_at:
            raise DeliveryError("This exam has closed.", code="closed")
        settings = version.snapshot["settings"]
        used = Attempt.objects.filter(exam=exam, user=user).count()
        if used >= settings["attempts_allowed"]:
            raise DeliveryError(
                f"You have used all {settings['attempts_allowed']} of your attempts.",
                code="no_attempts",
            )
        seats = licence_allows_candidate(exam=exam, user=user)
        if not seats.allowed:
            raise DeliveryError(seats.message, code="no_seats")
        limit = effective_time_limit(exam=exam, user=user, version=version)
        deadline = now + timedelta(minutes=limit) if limit is not None else None
        if window.closes_at and (deadline is None or window.closes_at < deadline):
            deadline = window.closes_at
        seed = secrets.token_hex(8)
        items = draw_questions(version=version, seed=seed)
        return Attempt.objects.create(
            exam=exam,
            version=version,
            user=user,
            number=used + 1,
            seed=seed,
            items=items,
            item_count=len(items),
            started_at=now,
            deadline=deadline,
            grace_seconds=settings["grace_seconds"],
            overdue_policy=settings["overdue_policy"],
            sequential=settings["navigation"] == Exam.Navigation.SEQUENTIAL,
            session_key_hash=session_hash(client.session_key),
            ip=client.ip,
            user_agent=client.user_agent,
        )


def check_network(*, version: ExamVersion, ip: str | None) -> None:
    """Refuse when the version has a network allowlist and ``ip`` is not in it."""
    allowlist = version.snapshot["settings"].get("ip_allowlist") or ""
    networks = [ipaddress.ip_network(n, strict=False) for n in allowlist.split()]
    if not networks:
        return
    address = ipaddress.ip_address(ip) if ip else None
    if address is None or not any(address in network for network in networks):
        raise DeliveryError(
            "This exam can only be taken from the exam room's network. Ask your proctor.",
            code="network",
        )


def resume_attempt(*, attempt: Attempt, client: Client, now: datetime | None = None) -> Attempt:
    """Record where the attempt is resumed from; refuse a second session when the exam is
    strict about sessions (the proctor can release it with ``release_session``).

    Changes of session, network address or browser become integrity events; they inform a
    reviewer and never fail the candidate.
    """
    now = now or timezone.now()
    refusal: tuple[str, DeliveryError] | None = None
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_open:
            return attempt
        strict = attempt.version.snapshot["settings"]["proctoring_level"] == "strict"
        key_hash = session_hash(client.session_key)
        try:
            check_network(version=attempt.version, ip=client.ip)
        except DeliveryError as error:
            refusal = (IntegrityEvent.Kind.NETWORK_REFUSED, error)
        else:
            if strict and attempt.session_key_hash and key_hash != attempt.session_key_hash:
                refusal = (
                    IntegrityEvent.Kind.SESSION_REFUSED,
                    DeliveryError(
                        "This attempt is open in another browser session. Only one session "
                        "may take this exam; ask your proctor to release it.",
                        code="session",
                    ),
                )
        if refusal is not None:
            # Kept although the request is refused: the proctor sees the refusal.
            _event(attempt, refusal[0], now, {"ip": client.ip})
        else:
            changes: dict[str, Any] = {}
            if key_hash != attempt.session_key_hash:
                if attempt.session_key_hash:
                    _event(attempt, IntegrityEvent.Kind.SECOND_SESSION, now, {"ip": client.ip})
                changes["session_key_hash"] = key_hash
            _note_client_changes(attempt, client, now, changes)
            if changes:
                for name, value in changes.items():
                    setattr(attempt, name, value)
                attempt.save(update_fields=list(changes))
    if refusal is not None:
        raise refusal[1]
    return attempt


def _note_client_changes(attempt: Attempt, client: Client, now: datetime, changes: dict) -> None:
    if client.ip and attempt.ip and client.ip != attempt.ip:
        _event(attempt, IntegrityEvent.Kind.IP_CHANGE, now, {"from": attempt.ip, "to": client.ip})
        changes["ip"] = client.ip
    if client.user_agent and attempt.user_agent and client.user_agent != attempt.user_agent:
        _event(
            attempt,
            IntegrityEvent.Kind.DEVICE_CHANGE,
            now,
            {"from": attempt.user_agent, "to": client.user_agent},
        )
        changes["user_agent"] = client.user_agent


def release_session(*, attempt: Attempt, by: Any, request: Any = None) -> Attempt:
    """Proctor: let the next session that opens the attempt take it over (audited)."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        attempt.session_key_hash = ""
        attempt.save(update_fields=["session_key_hash"])
        record_event(
            action=AuditAction.ATTEMPT_SESSION_RELEASED,
            actor=by,
            request=request,
            obj=attempt,
        )
    return attempt


# -- navigation ---------------------------------------------------------------------------


def advance(*, attempt: Attempt, to_position: int) -> Attempt:
    """Sequential navigation: move on to ``to_position`` (never back)."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_open:
            raise DeliveryError("This attempt is closed.", code="closed")
        if not 1 <= to_position <= attempt.item_count:
            raise DeliveryError("There is no such question.", code="bad_position")
        if attempt.sequential and to_position < attempt.current_position:
            raise DeliveryError("This exam does not allow going back.", code="sequential")
        if to_position > attempt.current_position:
            attempt.current_position = to_position
            attempt.save(update_fields=["current_position"])
    return attempt


# -- integrity ----------------------------------------------------------------------------


def record_client_events(
    *, attempt: Attempt, events: Iterable[Mapping[str, Any]], client: Client
) -> int:
    """Store what the candidate's browser reported (known kinds only) plus any change of
    network address or browser seen on this request. Returns how many events were stored.

    The browser's own timestamp is kept as ``client_at`` for context; ``at`` is server time.
    Raises ``DeliveryError`` for malformed input and stores nothing then.
    """
    now = timezone.now()
    events = list(events)
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise DeliveryError(f"At most {MAX_EVENTS_PER_REQUEST} events per request.", code="bad")
    rows = []
    for index, raw in enumerate(events):
        if not isinstance(raw, Mapping):
            raise DeliveryError(f"events[{index}] must be an object.", code="bad")
        kind = raw.get("kind")
        if kind not in IntegrityEvent.CLIENT_KINDS:
            raise DeliveryError(f"events[{index}].kind {kind!r} is not known.", code="bad")
        client_at = parse_datetime(raw["at"]) if isinstance(raw.get("at"), str) else None
        detail = raw.get("detail") or {}
        if not isinstance(detail, Mapping) or len(repr(detail)) > MAX_EVENT_DETAIL:
            raise DeliveryError(f"events[{index}].detail is not a small object.", code="bad")
        rows.append((kind, client_at, dict(detail)))
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        IntegrityEvent.objects.bulk_create(
            IntegrityEvent(attempt=attempt, kind=kind, at=now, client_at=client_at, detail=detail)
            for kind, client_at, detail in rows
        )
        changes: dict[str, Any] = {}
        if attempt.is_open:
            _note_client_changes(attempt, client, now, changes)
            if changes:
                for name, value in changes.items():
                    setattr(attempt, name, value)
                attempt.save(update_fields=list(changes))
    return len(rows) + len(changes)


def _event(attempt: Attempt, kind: str, at: datetime, detail: dict) -> IntegrityEvent:
    return IntegrityEvent.objects.create(attempt=attempt, kind=kind, at=at, detail=detail)


# -- submitting and grading ---------------------------------------------------------------


def submit_attempt(
    *,
    attempt: Attempt,
    closed_by: str = Attempt.ClosedBy.CANDIDATE,
    now: datetime | None = None,
) -> Attempt:
    """Close the attempt and grade every objective response.

    A candidate may submit until the deadline plus grace; afterwards only the sweeper or a
    proctor closes it. Submitting twice returns the submitted attempt unchanged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.status != Attempt.Status.IN_PROGRESS:
            if closed_by == Attempt.ClosedBy.CANDIDATE and attempt.status == "abandoned":
                raise DeliveryError("This attempt was closed without grading.", code="closed")
            return attempt
        if closed_by == Attempt.ClosedBy.CANDIDATE and selectors.is_past_grace(attempt, now):
            raise DeliveryError(
                "Time is up: the attempt is closed by the server at the deadline.", code="late"
            )
        attempt.status = Attempt.Status.SUBMITTED
        attempt.submitted_at = now
        attempt.closed_by = closed_by
        _grade(attempt)
        attempt.save()
    return attempt


def abandon_attempt(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Close an overdue attempt without grading (the exam's overdue policy "abandon")."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.is_open:
            attempt.status = Attempt.Status.ABANDONED
            attempt.submitted_at = now or timezone.now()
            attempt.closed_by = Attempt.ClosedBy.DEADLINE
            attempt.save(update_fields=["status", "submitted_at", "closed_by"])
    return attempt


def _grade(attempt: Attempt) -> None:
    """Grade every asked item (a missing response grades as unanswered) and total them.

    Called with the attempt row locked. Responses graded by hand keep their grade.
    """
    existing = {r.position: r for r in attempt.responses.all()}
    now = timezone.now()
    to_create, to_update = [], []
    for item in attempt.items:
        position = item["position"]
        response = existing.get(position)
        if response is None:
            response = Response(attempt=attempt, position=position, value=None, saved_at=now)
            to_create.append(response)
        else:
            to_update.append(response)
        if response.graded_by_id:
            continue
        grade = grade_item(item, response.value)
        response.score = grade.score
        response.max_score = grade.max_score
        response.correct = grade.correct
        response.feedback = list(grade.feedback)
        response.needs_manual = grade.correct is None and response.value not in (None, "")
        if grade.correct is None and not response.needs_manual:
            response.correct = False  # an unanswered essay: nothing to grade
        response.graded_at = now
    Response.objects.bulk_create(to_create)
    Response.objects.bulk_update(
        to_update,
        ["score", "max_score", "correct", "feedback", "needs_manual", "graded_at"],
    )
    _total(attempt, [*to_create, *to_update])


def grade_item(item: Mapping[str, Any], value: Any) -> Grade:
    """Grade ``value`` for one drawn item, scaled to the points the exam gives the item."""
    grade = get_type(item["type"]).grade(item["data"], value)
    return _scaled(grade, Decimal(item["points"]))


def _scaled(grade: Grade, points: Decimal) -> Grade:
    if not grade.max_score or grade.max_score == points:
        return Grade(grade.score, points, grade.correct, grade.feedback)
    return Grade(
        money(grade.score * points / grade.max_score), points, grade.correct, grade.feedback
    )


def _total(attempt: Attempt, responses: list[Response]) -> None:
    attempt.score = money(sum((r.score or Decimal(0)) for r in responses))
    attempt.max_score = money(sum((r.max_score or Decimal(0)) for r in responses))
    pending = any(r.needs_manual for r in responses)
    attempt.grading = Attempt.Grading.NEEDS_MANUAL if pending else Attempt.Grading.GRADED
    if attempt.max_score:
        attempt.percent = money(attempt.score * 100 / attempt.max_score)
    else:
        attempt.percent = Decimal("0.00")
    pass_mark = Decimal(attempt.version.snapshot["settings"]["pass_mark_percent"])
    attempt.passed = None if pending else attempt.percent >= pass_mark


def grade_response(
    *,
    response: Response,
    by: Any,
    score: Decimal | str | None = None,
    rubric_scores: Mapping[str, Any] | None = None,
    comment: str = "",
    request: Any = None,
) -> Response:
    """A grader's score for one response (an essay, or overriding an automatic grade).

    Either ``score`` (0..max) or ``rubric_scores`` (criterion → points, for essays with a
    rubric) is given. The attempt's total, grading state and pass are recomputed. Audited.
    """
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=response.attempt_id)
        if attempt.status != Attempt.Status.SUBMITTED:
            raise DeliveryError("Only submitted attempts are graded.", code="not_submitted")
        response = Response.objects.select_for_update().get(pk=response.pk)
        item = attempt.items[response.position - 1]
        question_type = get_type(item["type"])
        maximum = Decimal(item["points"])
        before = str(response.score) if response.score is not None else None
        if rubric_scores is not None:
            if not hasattr(question_type, "grade_with_rubric"):
                raise DeliveryError("This question has no rubric.", code="bad")
            try:
                grade = question_type.grade_with_rubric(item["data"], dict(rubric_scores))
            except ValueError as error:
                raise DeliveryError(str(error), code="bad") from error
            value = _scaled(grade, maximum).score
            response.rubric_scores = dict(rubric_scores)
        else:
            try:
                value = money(Decimal(str(score)))
            except Exception as error:
                raise DeliveryError("The score must be a number.", code="bad") from error
            if not Decimal(0) <= value <= maximum:
                raise DeliveryError(f"The score must be between 0 and {maximum}.", code="bad")
        response.score = value
        response.max_score = maximum
        response.correct = value == maximum
        response.needs_manual = False
        response.graded_by = by
        response.graded_at = timezone.now()
        # The grader's word replaces automatic feedback ("Waiting for manual grading." …).
        response.feedback = [comment] if comment else []
        response.save()
        _total(attempt, list(attempt.responses.all()))
        attempt.save(update_fields=["score", "max_score", "percent", "grading", "passed"])
        record_event(
            action=AuditAction.RESPONSE_GRADED,
            actor=by,
            request=request,
            obj=attempt,
            detail={"position": response.position, "from": before, "to": str(value)},
        )
    return response


def release_results(*, exam: Exam, by: Any, request: Any = None) -> int:
    """Manual release: candidates of ``exam`` see their results from now on."""
    count = Attempt.objects.filter(exam=exam, status=Attempt.Status.SUBMITTED).update(
        results_released=True
    )
    record_event(
        action=AuditAction.RESULTS_RELEASED,
        actor=by,
        request=request,
        obj=exam,
        detail={"attempts": count},
    )
    return count


# -- proctoring ---------------------------------------------------------------------------


def add_time(*, attempt: Attempt, minutes: int, by: Any, request: Any = None) -> Attempt:
    """Proctor: move the deadline of an open attempt by ``minutes`` (audited)."""
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise DeliveryError("Add between 1 and 1440 minutes.", code="bad")
    now = timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_open:
            raise DeliveryError("This attempt is already closed.", code="closed")
        if attempt.deadline is None:
            raise DeliveryError("This attempt has no deadline to extend.", code="bad")
        before = attempt.deadline
        attempt.deadline = max(attempt.deadline, now) + timedelta(minutes=minutes)
        attempt.save(update_fields=["deadline"])
        _event(
            attempt,
            IntegrityEvent.Kind.TIME_ADDED,
            now,
            {"minutes": minutes, "by": getattr(by, "email", "")},
        )
        record_event(
            action=AuditAction.ATTEMPT_TIME_ADDED,
            actor=by,
            request=request,
            obj=attempt,
            detail={
                "minutes": minutes,
                "from": before.isoformat(),
                "to": attempt.deadline.isoformat(),
            },
        )
    return attempt


def close_attempt(*, attempt: Attempt, by: Any, request: Any = None) -> Attempt:
    """Proctor: submit an open attempt now, graded like any other (audited)."""
    now = timezone.now()
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not locked.is_open:
            raise DeliveryError("This attempt is already closed.", code="closed")
        _event(locked, IntegrityEvent.Kind.CLOSED_BY_PROCTOR, now, {"by": getattr(by, "email", "")})
        record_event(action=AuditAction.ATTEMPT_CLOSED, actor=by, request=request, obj=locked)
        return submit_attempt(attempt=locked, closed_by=Attempt.ClosedBy.PROCTOR, now=now)


# -- the sweeper --------------------------------------------------------------------------


def close_overdue_attempts(*, now: datetime | None = None) -> dict[str, int]:
    """Close every open attempt whose deadline plus grace has passed, per its policy:
    abandoned under "abandon", otherwise submitted and graded. Safe to run concurrently
    (each attempt is re-checked under its row lock)."""
    now = now or timezone.now()
    counts = {"submitted": 0, "abandoned": 0}
    for attempt in selectors.overdue_attempts(now=now):
        if attempt.overdue_policy == Exam.OverduePolicy.ABANDON:
            if abandon_attempt(attempt=attempt, now=now).status == Attempt.Status.ABANDONED:
                counts["abandoned"] += 1
        else:
            closed = submit_attempt(attempt=attempt, closed_by=Attempt.ClosedBy.DEADLINE, now=now)
            if closed.closed_by == Attempt.ClosedBy.DEADLINE:
                counts["submitted"] += 1
    return counts
