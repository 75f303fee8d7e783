"""AI rubric grading: suggestions a grader confirms or overrides, never a grade on its own.

A grading job (``start_grading_job``, run by ``tasks.run_grading_job`` in the exam's schema)
asks the provider for a per-criterion grade of every submitted response that needs one:

- **essays** waiting for manual grading (``needs_manual``), against the item's frozen rubric;
- **short answers** the automatic check marked wrong and nobody has graded by hand, against
  one criterion ("Correct answer", worth the item's points) with the accepted answers as the
  model answer — the accepted-answer list misses synonyms and misspellings a person accepts.

Each gets one ``AISuggestion``: criterion scores with rationale, total, confidence, and the
provider, model and prompt version. A confidence below the portal's threshold
(``AIGradingPolicy``) marks it "needs a human"; at or above it is "ready to confirm". Either
way the response is not changed until a grader confirms (the suggestion becomes the grade
through ``delivery.services.grade_response``, audited) or overrides it (their own grade,
audited). A provider failure, a timeout or an answer that does not fit the rubric makes the
suggestion ``failed`` with the reason, and the response stays exactly as it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import strip_tags

from assessments.ai import metering
from assessments.ai.base import (
    Criterion,
    GradingRequest,
    GradingResult,
    ProviderError,
    get_provider,
)
from assessments.ai.feature_models import AIGradingJob, AIGradingPolicy, AISuggestion
from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt, Response
from assessments.exams.models import Exam
from assessments.questions.base import money
from tenants.audit.models import AuditAction
from tenants.audit.services import record_event

logger = logging.getLogger(__name__)

FEATURE = "grading"
SHORT_ANSWER_CRITERION = "correct"


class GradingError(ValueError):
    """A refused grading action, in words a grader can read."""


# -- the policy ---------------------------------------------------------------------------


def get_policy() -> AIGradingPolicy:
    """The portal's AI grading policy (created with the defaults on first use)."""
    policy = AIGradingPolicy.objects.order_by("pk").first()
    if policy is None:
        policy, _ = AIGradingPolicy.objects.get_or_create(pk=1)
    return policy


def update_policy(
    *, enabled: bool, confidence_threshold: Decimal, by: Any, request: Any = None
) -> AIGradingPolicy:
    if not Decimal(0) <= confidence_threshold <= Decimal(1):
        raise GradingError("The confidence threshold is between 0 and 1.")
    policy = get_policy()
    policy.enabled = enabled
    policy.confidence_threshold = confidence_threshold
    policy.updated_by = by
    policy.save()
    return policy


# -- which responses ----------------------------------------------------------------------


def gradable_items(attempt: Attempt) -> dict[int, dict]:
    """Positions of ``attempt`` the AI may grade: essays with a rubric, short answers."""
    return {
        item["position"]: item
        for item in attempt.items
        if (item["type"] == "essay" and item["data"].get("rubric"))
        or item["type"] == "short_answer"
    }


def needs_ai_grade(item: dict, response: Response) -> bool:
    if response.graded_by_id or response.value in (None, ""):
        return False
    if item["type"] == "essay":
        return response.needs_manual
    return item["type"] == "short_answer" and response.correct is False


def responses_to_grade(*, exam: Exam) -> list[tuple[Response, dict]]:
    """Submitted responses of ``exam`` that need a grade and have no decided suggestion."""
    found = []
    attempts = Attempt.objects.filter(exam=exam, status=Attempt.Status.SUBMITTED).only(
        "pk", "items"
    )
    decided = set(
        AISuggestion.objects.filter(exam=exam)
        .exclude(status__in=[AISuggestion.Status.SUGGESTED, AISuggestion.Status.FAILED])
        .values_list("response_id", flat=True)
    )
    items_of = {a.pk: gradable_items(a) for a in attempts}
    wanted = [(pk, pos) for pk, items in items_of.items() for pos in items]
    if not wanted:
        return []
    responses = Response.objects.filter(
        attempt_id__in=list(items_of), position__in={pos for _, pos in wanted}
    ).order_by("attempt_id", "position")
    for response in responses:
        item = items_of[response.attempt_id].get(response.position)
        if item is None or response.pk in decided:
            continue
        if needs_ai_grade(item, response):
            found.append((response, item))
    return found


# -- one suggestion -----------------------------------------------------------------------


def rubric_of(item: dict) -> tuple[Criterion, ...]:
    if item["type"] == "essay":
        return tuple(
            Criterion(
                id=c["id"],
                criterion=c["criterion"],
                max_points=Decimal(c["max_points"]),
                description=c.get("description", ""),
            )
            for c in item["data"]["rubric"]
        )
    return (
        Criterion(
            id=SHORT_ANSWER_CRITERION,
            criterion="Correct answer",
            max_points=Decimal(item["points"]),
            description="Full points when the answer means the same as an accepted answer.",
        ),
    )


def grading_request(item: dict, response: Response) -> GradingRequest:
    model_answer = ""
    if item["type"] == "short_answer":
        model_answer = " | ".join(item["data"].get("accepted", []))
    return GradingRequest(
        question_stem=strip_tags(item.get("stem", "")).strip() or item.get("title", ""),
        response_text=str(response.value),
        rubric=rubric_of(item),
        model_answer=model_answer,
    )


def check_result(result: Any, rubric: tuple[Criterion, ...]) -> list[dict]:
    """The result's criterion scores as stored, or ``ProviderError`` when the output does
    not fit the rubric (a missing, unknown or repeated criterion, points out of range, a
    confidence that is not a number from 0 to 1)."""
    if not isinstance(result, GradingResult):
        raise ProviderError("malformed output: not a grading result")
    confidence = result.confidence
    if (
        not isinstance(confidence, int | float)
        or isinstance(confidence, bool)
        or not math.isfinite(confidence)
        or not 0 <= confidence <= 1
    ):
        raise ProviderError(f"malformed output: confidence {confidence!r} is not between 0 and 1")
    by_id = {c.id: c for c in rubric}
    seen: dict[str, dict] = {}
    for score in result.scores:
        criterion = by_id.get(score.criterion_id)
        if criterion is None:
            raise ProviderError(f"malformed output: unknown criterion {score.criterion_id!r}")
        if score.criterion_id in seen:
            raise ProviderError(f"malformed output: criterion {score.criterion_id!r} twice")
        try:
            points = money(Decimal(str(score.points)))
        except (InvalidOperation, ValueError, TypeError):
            raise ProviderError(
                f"malformed output: points {score.points!r} for {score.criterion_id!r}"
            ) from None
        if not points.is_finite() or not Decimal(0) <= points <= criterion.max_points:
            raise ProviderError(
                f"malformed output: {points} points for {criterion.criterion!r} "
                f"(0 to {criterion.max_points})"
            )
        seen[score.criterion_id] = {
            "criterion_id": criterion.id,
            "criterion": criterion.criterion,
            "points": str(points),
            "max_points": str(money(criterion.max_points)),
            "rationale": str(score.rationale or ""),
        }
    missing = [c.criterion for c in rubric if c.id not in seen]
    if missing:
        raise ProviderError(f"malformed output: no score for {', '.join(missing)}")
    return [seen[c.id] for c in rubric]


def suggest(
    *,
    response: Response,
    item: dict,
    policy: AIGradingPolicy,
    job: AIGradingJob | None = None,
    provider: Any = None,
    user: Any = None,
) -> AISuggestion:
    """Ask the provider for a grade of ``response`` and store it as its suggestion
    (replacing an undecided one). Never changes the response; failures are stored."""
    provider = provider or get_provider()
    rubric = rubric_of(item)
    values: dict[str, Any] = {"job": job, "exam_id": job.exam_id if job else None}
    try:
        result = metering.call(FEATURE, provider.grade, grading_request(item, response), user=user)
        scores = check_result(result, rubric)
    except ProviderError as error:
        values.update(status=AISuggestion.Status.FAILED, reason=error.reason[:2000])
    except TimeoutError:
        values.update(status=AISuggestion.Status.FAILED, reason="The provider timed out.")
    except Exception as error:  # a bug in a provider must not stop the job or grade anything
        logger.exception("AI grading failed for response %s", response.pk)
        values.update(
            status=AISuggestion.Status.FAILED,
            reason=f"Unexpected error in the AI provider ({type(error).__name__}).",
        )
    else:
        raw_total = sum((Decimal(s["points"]) for s in scores), Decimal(0))
        rubric_max = sum((c.max_points for c in rubric), Decimal(0))
        maximum = money(Decimal(item["points"]))
        total = money(raw_total * maximum / rubric_max) if rubric_max != maximum else raw_total
        values.update(
            status=AISuggestion.Status.SUGGESTED,
            reason="",
            criterion_scores=scores,
            summary=result.summary or "",
            total=money(total),
            max_score=maximum,
            confidence=float(result.confidence),
            needs_human=Decimal(str(result.confidence)) < policy.confidence_threshold,
            provider=result.usage.provider,
            model=result.usage.model,
            prompt_version=result.usage.prompt_version,
        )
    if values["exam_id"] is None:
        values["exam_id"] = Attempt.objects.values_list("exam_id", flat=True).get(
            pk=response.attempt_id
        )
    if values["status"] == AISuggestion.Status.FAILED:
        values.update(
            criterion_scores=[], summary="", total=None, confidence=None, needs_human=True
        )
    suggestion, _ = AISuggestion.objects.update_or_create(response=response, defaults=values)
    return suggestion


# -- the job ------------------------------------------------------------------------------


def start_grading_job(*, exam: Exam, by: Any) -> AIGradingJob:
    """Queue AI grading of ``exam``; the task is sent after commit, from this schema."""
    if not get_policy().enabled:
        raise GradingError("AI grading is turned off for this portal.")
    with transaction.atomic():
        Exam.objects.select_for_update().get(pk=exam.pk)
        running = AIGradingJob.objects.filter(
            exam=exam, status__in=AIGradingJob.RUNNING_STATES
        ).first()
        if running is not None:
            return running
        job = AIGradingJob.objects.create(exam=exam, requested_by=by)
        schema = connection.schema_name
        transaction.on_commit(lambda: _send(job.pk, schema))
    return job


def _send(job_id: int, schema: str) -> None:
    from assessments.ai import tasks

    tasks.run_grading_job.delay(job_id, schema)


def run_grading_job(*, job_id: int, provider: Any = None) -> AIGradingJob | None:
    """Grade every response of the job's exam that needs it, recording progress.

    A finished job is left alone. A job found ``running`` is one whose worker died (the
    task is delivered again, ``acks_late``): it resumes, skipping the responses it already
    suggested a grade for, so every response costs one AI call and the job finishes once."""
    with transaction.atomic():
        job = (
            AIGradingJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status__in=AIGradingJob.RUNNING_STATES)
            .first()
        )
        if job is None:
            return AIGradingJob.objects.filter(pk=job_id).first()
        job.status = AIGradingJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        policy = get_policy()
        already = set(AISuggestion.objects.filter(job=job).values_list("response_id", flat=True))
        todo = [(r, i) for r, i in responses_to_grade(exam=job.exam) if r.pk not in already]
        start = len(already)
        AIGradingJob.objects.filter(pk=job.pk).update(
            progress_total=start + len(todo), progress_done=start
        )
        provider = provider or get_provider()
        suggested = AISuggestion.objects.filter(job=job).exclude(status="failed").count()
        failed = start - suggested
        for done, (response, item) in enumerate(todo, start=start + 1):
            suggestion = suggest(
                response=response,
                item=item,
                policy=policy,
                job=job,
                provider=provider,
                user=job.requested_by,
            )
            if suggestion.status == AISuggestion.Status.FAILED:
                failed += 1
            else:
                suggested += 1
            AIGradingJob.objects.filter(pk=job.pk).update(
                progress_done=done, suggested=suggested, failed=failed
            )
    except Exception as error:
        logger.exception("AI grading job %s failed", job.pk)
        AIGradingJob.objects.filter(pk=job.pk).update(
            status=AIGradingJob.Status.FAILED,
            message=f"The job stopped: {type(error).__name__}.",
            finished_at=timezone.now(),
        )
    else:
        AIGradingJob.objects.filter(pk=job.pk).update(
            status=AIGradingJob.Status.DONE, finished_at=timezone.now()
        )
    return AIGradingJob.objects.get(pk=job.pk)


# -- reads --------------------------------------------------------------------------------


def latest_job(*, exam: Exam) -> AIGradingJob | None:
    return AIGradingJob.objects.filter(exam=exam).order_by("-created", "-id").first()


def suggestions_of(*, exam: Exam) -> QuerySet[AISuggestion]:
    return (
        AISuggestion.objects.filter(exam=exam)
        .select_related("response__attempt__user", "decided_by")
        .order_by("status", "-needs_human", "response__attempt_id", "response__position")
    )


def suggestion_or_none(*, suggestion_id: int) -> AISuggestion | None:
    return (
        AISuggestion.objects.select_related("exam", "response__attempt__user")
        .filter(pk=suggestion_id)
        .first()
    )


def item_of(suggestion: AISuggestion) -> dict:
    attempt = suggestion.response.attempt
    return attempt.items[suggestion.response.position - 1]


# -- a grader's decision ------------------------------------------------------------------


def confirm_suggestion(
    *, suggestion: AISuggestion, by: Any, comment: str = "", request: Any = None
) -> AISuggestion:
    """The grader accepts the AI's grade: it becomes the response's grade (through
    ``grade_response``, audited) and the suggestion is ``confirmed``."""
    if suggestion.status != AISuggestion.Status.SUGGESTED:
        raise GradingError("Only a suggested grade can be confirmed.")
    item = item_of(suggestion)
    scores = {s["criterion_id"]: s["points"] for s in suggestion.criterion_scores}
    essay = item["type"] == "essay"
    grade = {"rubric_scores": scores} if essay else {"score": suggestion.total}
    return _decide(suggestion, AISuggestion.Status.CONFIRMED, by, grade, comment, request)


def override_suggestion(
    *,
    suggestion: AISuggestion,
    by: Any,
    score: Decimal | str | None = None,
    rubric_scores: Mapping[str, Any] | None = None,
    comment: str = "",
    request: Any = None,
) -> AISuggestion:
    """The grader gives their own grade instead (also after a failed suggestion)."""
    if suggestion.status not in (AISuggestion.Status.SUGGESTED, AISuggestion.Status.FAILED):
        raise GradingError("This suggestion was already decided.")
    grade = {"rubric_scores": rubric_scores} if rubric_scores is not None else {"score": score}
    return _decide(suggestion, AISuggestion.Status.OVERRIDDEN, by, grade, comment, request)


def _decide(
    suggestion: AISuggestion, status: str, by: Any, grade: dict, comment: str, request: Any
) -> AISuggestion:
    with transaction.atomic():
        suggestion = AISuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status not in (AISuggestion.Status.SUGGESTED, AISuggestion.Status.FAILED):
            raise GradingError("This suggestion was already decided.")
        response = Response.objects.select_related("graded_by").get(pk=suggestion.response_id)
        if status == AISuggestion.Status.CONFIRMED and response.graded_by_id is not None:
            # Someone graded it by hand since: confirming would silently replace their grade.
            raise GradingError(
                f"{response.graded_by.email if response.graded_by else 'A grader'} graded this "
                "response in the meantime; override it with your grade if it should change."
            )
        try:
            graded = delivery.grade_response(
                response=response, by=by, comment=comment, request=request, **grade
            )
        except delivery.DeliveryError as error:
            raise GradingError(error.message) from error
        suggestion.status = status
        suggestion.decided_by = by
        suggestion.decided_at = timezone.now()
        suggestion.save(update_fields=["status", "decided_by", "decided_at", "updated"])
        record_event(
            action=AuditAction.RESPONSE_GRADED,
            actor=by,
            request=request,
            obj=graded.attempt,
            detail={
                "position": graded.position,
                "ai_suggestion": suggestion.pk,
                "decision": status,
                "ai_total": None if suggestion.total is None else str(suggestion.total),
                "ai_confidence": suggestion.confidence,
                "to": str(graded.score),
            },
        )
    return suggestion
