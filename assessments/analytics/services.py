"""Writes of results analytics: item analysis, certificates, bulk report jobs, leaderboards.

Item analysis reads the graded, submitted attempts of one exam version straight from the
database (two SQL statements, no model instances: 10,000 attempts × 100 items load in about a
second) into a score matrix and hands it to ``statistics``. Only attempts whose grading is
complete count, so an essay waiting for a grader never enters the figures as a zero.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from assessments.delivery.models import Attempt, Response
from assessments.exams.models import Cohort, Exam, ExamVersion

from . import statistics
from .models import (
    Certificate,
    ItemAnalysis,
    LeaderboardOptIn,
    LeaderboardSetting,
    ReportJob,
)

logger = logging.getLogger(__name__)

CHOICE_TYPES = ("single_choice", "multiple_response", "true_false")
#: Thresholds of the flags (facility above/below, discrimination below).
TOO_EASY = 0.9
TOO_HARD = 0.2
LOW_DISCRIMINATION = 0.2

SUGGESTIONS = {
    "negative_discrimination": (
        "Stronger candidates score lower on this item than weaker ones. Check the answer key "
        "first, then look for wording that misleads candidates who know the topic."
    ),
    "low_discrimination": (
        "This item barely separates stronger from weaker candidates. Review whether it tests "
        "the intended skill and whether a distractor is arguably correct."
    ),
    "too_easy": (
        "More than 90% answer correctly, so it tells candidates apart very little. Make the "
        "distractors more plausible, or keep it on purpose as a confidence builder."
    ),
    "too_hard": (
        "Fewer than 20% answer correctly. Check the key and whether the topic was taught; "
        "consider rewording, splitting or retiring the item."
    ),
    "unused_distractor": (
        "Nobody chose option(s) {options}. Replace them with wrong answers that reflect "
        "common misconceptions, so every option does some work."
    ),
}


# -- item analysis ------------------------------------------------------------------------


@dataclass
class Dataset:
    """What the statistics need of one version: the matrix and each item's description."""

    questions: list[dict]  # one per column: the question snapshot (+ section title)
    attempt_ids: list[int]
    scores: np.ndarray  # attempts × items, NaN when not asked
    omitted: np.ndarray  # attempts × items, True when asked and left unanswered
    choices: dict[int, np.ndarray] = field(default_factory=dict)  # column → attempts × options


def version_questions(version: ExamVersion) -> list[dict]:
    """Every question a version may ask, in authored order (fixed items and pool members)."""
    found: dict[int, dict] = {}
    for section in version.snapshot["sections"]:
        for item in section["items"]:
            members = [item["question"]] if item["kind"] == "fixed" else item["questions"]
            for question in members:
                found.setdefault(question["question_id"], {**question, "section": section["title"]})
    return list(found.values())


def _fixed_order(version: ExamVersion) -> bool:
    """True when every attempt asks the same questions in the same order (position = column)."""
    snapshot = version.snapshot
    return not snapshot["settings"]["shuffle_questions"] and all(
        item["kind"] == "fixed" for section in snapshot["sections"] for item in section["items"]
    )


def options_of(question: dict) -> list[dict]:
    """The options a distractor analysis counts: id, text and whether it is a right answer."""
    data = question["data"]
    if question["type"] == "true_false":
        return [
            {"id": True, "text": "True", "correct": data["answer"] is True},
            {"id": False, "text": "False", "correct": data["answer"] is False},
        ]
    if question["type"] == "multiple_response":
        return [
            {"id": o["id"], "text": o["text"], "correct": Decimal(o["weight"]) > 0}
            for o in data["options"]
        ]
    return [
        {"id": o["id"], "text": o["text"], "correct": bool(o.get("correct"))}
        for o in data["options"]
    ]


def _chosen_ids(kind: str, value: Any) -> list:
    if kind == "multiple_response":
        return list(value) if isinstance(value, list) else []
    if kind == "true_false" and isinstance(value, str) and value.lower() in ("true", "false"):
        return [value.lower() == "true"]
    return [value] if value is not None else []


def load_dataset(version: ExamVersion) -> Dataset:
    """The score matrix of ``version``'s submitted, fully graded attempts (by attempt id).

    Scores come as packed binary columns read straight into numpy (no Python object per
    response); choices are read grouped by (position, answer), one row per distinct answer.
    """
    questions = version_questions(version)
    column = {q["question_id"]: j for j, q in enumerate(questions)}
    attempt_table, response_table = Attempt._meta.db_table, Response._meta.db_table
    fixed = _fixed_order(version)
    graded = (version.pk, Attempt.Status.SUBMITTED, Attempt.Grading.GRADED)
    where = (
        f"JOIN {attempt_table} a ON a.id = r.attempt_id "
        f"WHERE a.version_id = {int(graded[0])} AND a.status = '{graded[1]}' "
        f"AND a.grading = '{graded[2]}'"
    )
    choice_columns = [j for j, q in enumerate(questions) if q["type"] in CHOICE_TYPES]
    with connection.cursor() as cursor:
        order = "NULL" if fixed else "jsonb_path_query_array(items, '$[*].question_id')::text"
        cursor.execute(
            f"SELECT id, {order} FROM {attempt_table} "  # noqa: S608 - names from the models
            "WHERE version_id = %s AND status = %s AND grading = %s ORDER BY id",
            list(graded),
        )
        attempts = cursor.fetchall()
        ids = np.array([a for a, _ in attempts], dtype=np.int64)
        n, k = len(attempts), len(questions)
        # layout[i, position - 1] = column of the question asked there (-1: none).
        if fixed:
            layout = np.broadcast_to(np.arange(k, dtype=np.int64), (n, k))
        else:
            width = max([k, 1])
            layout = np.full((n, width), -1, dtype=np.int64)
            for i, (_, asked) in enumerate(attempts):
                cols = [column[q] for q in json.loads(asked)]
                layout[i, : len(cols)] = cols
        # Three arrays in one row, in the same (scan) order, transferred in PostgreSQL's binary
        # format: no Python object per response row.
        binary = psycopg.Cursor(cursor.cursor.connection)
        binary.execute(
            "SELECT array_agg(r.attempt_id), array_agg(r.position::int4), "  # noqa: S608
            f"array_agg(COALESCE(r.score, 0)::float8) FROM {response_table} r {where}",
            binary=True,
        )
        packed = binary.fetchone()
        binary.close()
        # Blank answers (about 3 %), as (attempt, position) pairs.
        binary = psycopg.Cursor(cursor.cursor.connection)
        binary.execute(
            f"SELECT r.attempt_id, r.position FROM {response_table} r {where} "  # noqa: S608
            "AND (r.value IS NULL OR r.value IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, "
            "'{}'::jsonb))",
            binary=True,
        )
        blanks = binary.fetchall()
        binary.close()
        # The answers to choice items grouped by (position, answer): one row per distinct
        # answer, with the attempts that gave it.
        groups: list[tuple[int, str, list[int]]] = []
        if choice_columns:
            only = ""
            if fixed:
                positions = ",".join(str(j + 1) for j in choice_columns)
                only = f" AND r.position IN ({positions})"
            cursor.execute(
                f"SELECT r.position, r.value::text, array_agg(r.attempt_id) "  # noqa: S608
                f"FROM {response_table} r {where} "
                f"AND jsonb_typeof(r.value) IN ('string', 'array', 'boolean'){only} "
                "GROUP BY 1, 2"
            )
            groups = cursor.fetchall()
    scores = np.full((n, k), np.nan)
    omitted = np.zeros((n, k), dtype=bool)
    if packed and packed[0]:
        attempt_of = np.array(packed[0], dtype=np.int64)
        row_index = np.searchsorted(ids, attempt_of)
        columns = layout[row_index, np.array(packed[1], dtype=np.int64) - 1]
        keep = columns >= 0
        scores[row_index[keep], columns[keep]] = np.array(packed[2], dtype=np.float64)[keep]
    if blanks:
        pairs = np.array(blanks, dtype=np.int64)
        blank_rows = np.searchsorted(ids, pairs[:, 0])
        blank_columns = layout[blank_rows, pairs[:, 1] - 1]
        keep = blank_columns >= 0
        omitted[blank_rows[keep], blank_columns[keep]] = True
    # An asked item without a response row (not possible after grading, but cheap to make
    # sure): it was asked, unanswered, worth 0.
    if fixed:
        asked = np.ones((n, k), dtype=bool)
    else:
        asked = np.zeros((n, k), dtype=bool)
        at_row, at_position = np.nonzero(layout >= 0)
        asked[at_row, layout[at_row, at_position]] = True
    missing = asked & np.isnan(scores)
    scores[missing] = 0
    omitted[missing] = True
    choices = _choice_matrix(questions, choice_columns, groups, ids, layout)
    return Dataset(
        questions=questions,
        attempt_ids=ids.tolist(),
        scores=scores,
        omitted=omitted,
        choices=choices,
    )


def _choice_matrix(
    questions: list[dict],
    choice_columns: list[int],
    groups: list[tuple[int, str, list[int]]],
    ids: np.ndarray,
    layout: np.ndarray,
) -> dict[int, np.ndarray]:
    """Per choice column: attempts × options, True where the attempt chose the option."""
    n = len(ids)
    option_index = {
        j: {_key(o["id"]): i for i, o in enumerate(options_of(questions[j]))}
        for j in choice_columns
    }
    choices = {j: np.zeros((n, len(option_index[j])), dtype=bool) for j in choice_columns}
    for position, text, attempt_ids in groups:
        value = json.loads(text)
        rows = np.searchsorted(ids, np.asarray(attempt_ids, dtype=np.int64))
        columns = layout[rows, position - 1]
        for j in np.unique(columns).tolist():
            if j not in choices:
                continue
            picked = rows[columns == j]
            for chosen in _chosen_ids(questions[j]["type"], value):
                index = option_index[j].get(_key(chosen))
                if index is not None:
                    choices[j][picked, index] = True
    return choices


def _key(option_id: Any) -> str:
    return json.dumps(option_id)


def analyse(dataset: Dataset) -> tuple[dict, list[dict]]:
    """The exam summary and the per-item figures (with flags) of ``dataset``."""
    questions = dataset.questions
    max_points = np.array([float(q["points"]) for q in questions]) if questions else np.zeros(0)
    figures = statistics.item_figures(dataset.scores, max_points)
    rel = statistics.reliability(dataset.scores, max_points)
    totals = np.nansum(dataset.scores, axis=1)
    items = []
    for j, (question, fig) in enumerate(zip(questions, figures, strict=True)):
        omitted = float(dataset.omitted[fig.rows, j].mean()) if fig.asked else None
        entry: dict[str, Any] = {
            "column": j,
            "question_id": question["question_id"],
            "question_version_id": question["question_version_id"],
            "title": question["title"],
            "type": question["type"],
            "section": question["section"],
            "points": float(max_points[j]),
            "asked": fig.asked,
            "facility": fig.facility,
            "point_biserial": fig.point_biserial,
            "upper_lower": fig.upper_lower,
            "omitted": omitted,
            "distractors": [],
        }
        if j in dataset.choices and fig.asked:
            chosen = dataset.choices[j]
            for index, option in enumerate(options_of(question)):
                entry["distractors"].append(
                    {
                        "id": option["id"],
                        "text": option["text"],
                        "correct": option["correct"],
                        "share": float(chosen[fig.rows, index].mean()),
                        "upper": float(chosen[fig.upper_rows, index].mean()),
                        "lower": float(chosen[fig.lower_rows, index].mean()),
                        "count": int(chosen[fig.rows, index].sum()),
                    }
                )
        entry["flags"] = item_flags(entry)
        items.append(entry)
    summary = {
        "attempts": len(dataset.attempt_ids),
        "items": len(questions),
        "reliability_items": rel.items,
        # Of the whole score (every asked item); reliability uses the common items only.
        "mean": float(totals.mean()) if len(totals) else None,
        "sd": float(totals.std()) if len(totals) else None,
        "alpha": rel.alpha,
        "kr20": rel.kr20,
        "sem": rel.sem,
        "max_score": float(max_points[np.isfinite(dataset.scores).all(axis=0)].sum())
        if len(dataset.attempt_ids)
        else float(max_points.sum()),
        "flagged_items": sum(1 for item in items if item["flags"]),
    }
    return summary, items


def item_flags(entry: dict) -> list[dict]:
    """The problems an item shows, each with a suggestion (empty until someone was asked)."""
    flags: list[dict] = []
    if not entry["asked"]:
        return flags
    r = entry["point_biserial"]
    if r is not None and r < 0:
        flags.append({"code": "negative_discrimination", "label": "Negative discrimination"})
    elif r is not None and r < LOW_DISCRIMINATION:
        flags.append({"code": "low_discrimination", "label": "Weak discrimination"})
    facility = entry["facility"]
    if facility is not None and facility > TOO_EASY:
        flags.append({"code": "too_easy", "label": "Too easy"})
    elif facility is not None and facility < TOO_HARD:
        flags.append({"code": "too_hard", "label": "Too hard"})
    unused = [str(d["id"]) for d in entry["distractors"] if not d["correct"] and d["count"] == 0]
    if unused:
        flags.append({"code": "unused_distractor", "label": "Distractor nobody picks"})
    for flag in flags:
        flag["suggestion"] = SUGGESTIONS[flag["code"]].format(options=", ".join(unused))
    return flags


def compute_item_analysis(*, version: ExamVersion) -> ItemAnalysis:
    """Recompute and store the item analysis of ``version`` (in the current schema)."""
    started = time.perf_counter()
    summary, items = analyse(load_dataset(version))
    elapsed = int((time.perf_counter() - started) * 1000)
    analysis, _ = ItemAnalysis.objects.update_or_create(
        version=version,
        defaults={
            "exam_id": version.exam_id,
            "attempt_count": summary["attempts"],
            "summary": summary,
            "items": items,
            "computed_at": timezone.now(),
            "duration_ms": elapsed,
        },
    )
    return analysis


#: Attempts submitted within this many seconds share one recomputation.
DEBOUNCE_SECONDS = 20


def pending_key(version_id: int) -> str:
    """Cache key (tenant-prefixed by the cache's key function) of a queued recomputation."""
    return f"analytics:item-analysis-pending:{version_id}"


def request_item_analysis(*, version_id: int) -> None:
    """After the current transaction commits, recompute ``version_id``'s analysis in the
    background for the current schema (the task carries it). A burst of submissions queues
    one run, ``DEBOUNCE_SECONDS`` later, which sees all of them."""
    from . import tasks

    schema_name = connection.schema_name

    def enqueue() -> None:
        try:
            if cache.add(pending_key(version_id), 1, timeout=DEBOUNCE_SECONDS * 3):
                tasks.refresh_item_analysis.apply_async(
                    (version_id, schema_name), countdown=DEBOUNCE_SECONDS
                )
        except Exception:  # analytics must never make a submission fail
            logger.exception("item analysis of version %s could not be queued", version_id)

    transaction.on_commit(enqueue)


# -- certificates -------------------------------------------------------------------------


class AnalyticsError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def display_name(user: Any) -> str:
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or user.email


def issue_certificate(*, attempt: Attempt) -> Certificate:
    """The certificate of a passed, graded attempt (the same one when asked again)."""
    existing = Certificate.objects.filter(attempt=attempt).first()
    if existing is not None:
        return existing
    if attempt.status != Attempt.Status.SUBMITTED or not attempt.passed:
        raise AnalyticsError("Only a passed attempt earns a certificate.")
    certificate, _ = Certificate.objects.get_or_create(
        attempt=attempt,
        defaults={
            "candidate_name": display_name(attempt.user),
            "exam_title": attempt.exam.title,
            "percent": attempt.percent or Decimal(0),
            "passed_on": timezone.localdate(attempt.submitted_at or timezone.now()),
        },
    )
    return certificate


# -- bulk generation ----------------------------------------------------------------------


def start_report_job(*, exam: Exam, cohort: Cohort | None, kind: str, by: Any) -> ReportJob:
    """Queue a bulk job; the task starts after commit and carries this schema."""
    if kind not in ReportJob.Kind.values:
        raise AnalyticsError("Choose certificates or candidate reports.")
    from . import tasks

    job = ReportJob.objects.create(exam=exam, cohort=cohort, kind=kind, requested_by=by)
    schema_name = connection.schema_name
    transaction.on_commit(lambda: tasks.build_report_job.delay(job.pk, schema_name))
    return job


def job_attempts(job: ReportJob) -> list[Attempt]:
    """Each candidate's best submitted attempt at the job's exam (cohort members only when
    the job names a cohort); for certificates only passed attempts count."""
    attempts = Attempt.objects.filter(
        exam_id=job.exam_id, status=Attempt.Status.SUBMITTED
    ).select_related("user", "exam", "version")
    if job.cohort_id:
        attempts = attempts.filter(user__exam_cohorts=job.cohort_id)
    if job.kind == ReportJob.Kind.CERTIFICATES:
        attempts = attempts.filter(passed=True)
    best: dict[int, Attempt] = {}
    for attempt in attempts.order_by("user_id", "-percent", "-submitted_at", "-id"):
        best.setdefault(attempt.user_id, attempt)
    return sorted(best.values(), key=lambda a: (a.user.email, a.pk))


def run_report_job(*, job_id: int) -> ReportJob | None:
    """Build the job's zip, counting progress as each PDF is added; exactly once.

    A session advisory lock (keyed by schema and job) is held while the job runs: a second
    delivery of the task while it runs finds the lock taken and leaves the job alone; if the
    worker dies, PostgreSQL releases the lock with its connection, and the redelivered task
    (acks late) takes the job over from the start. A finished job is never redone.
    """
    schema = connection.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s), %s)", [f"{schema}:report-job", job_id]
        )
        if not cursor.fetchone()[0]:
            return ReportJob.objects.filter(pk=job_id).first()
    try:
        return _run_report_job(job_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(hashtext(%s), %s)", [f"{schema}:report-job", job_id]
            )


def _run_report_job(job_id: int) -> ReportJob | None:
    from . import exports

    job = ReportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in ReportJob.RUNNING:
        return job
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING, progress_done=0)
    try:
        attempts = job_attempts(job)
        ReportJob.objects.filter(pk=job.pk).update(progress_total=len(attempts))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, attempt in enumerate(attempts, start=1):
                stem = f"{slugify(attempt.user.email.replace('@', '-at-'))}-{attempt.pk}"
                if job.kind == ReportJob.Kind.CERTIFICATES:
                    pdf = exports.certificate_pdf(certificate=issue_certificate(attempt=attempt))
                    archive.writestr(f"certificate-{stem}.pdf", pdf)
                else:
                    archive.writestr(f"report-{stem}.pdf", exports.candidate_report_pdf(attempt))
                ReportJob.objects.filter(pk=job.pk).update(progress_done=done)
        job.refresh_from_db()
        name = f"{slugify(job.exam.title) or 'exam'}-{job.kind}.zip"
        job.file.save(name, ContentFile(buffer.getvalue()), save=False)
        job.status = ReportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "status", "finished_at"])
    except Exception as error:
        logger.exception("report job %s failed", job_id)
        ReportJob.objects.filter(pk=job_id).update(
            status=ReportJob.Status.FAILED, message=str(error)[:500], finished_at=timezone.now()
        )
    return ReportJob.objects.get(pk=job_id)


# -- leaderboards -------------------------------------------------------------------------


def set_leaderboard(*, exam: Exam, enabled: bool) -> LeaderboardSetting:
    setting, _ = LeaderboardSetting.objects.update_or_create(
        exam=exam, defaults={"enabled": enabled}
    )
    return setting


def set_leaderboard_opt_in(*, exam: Exam, user: Any, opted_in: bool) -> bool:
    """The candidate's consent for ``exam``'s leaderboard; returns the new state."""
    if opted_in:
        LeaderboardOptIn.objects.get_or_create(exam=exam, user=user)
    else:
        LeaderboardOptIn.objects.filter(exam=exam, user=user).delete()
    return opted_in


def versions_of(exams: Iterable[Exam]) -> list[ExamVersion]:
    return list(ExamVersion.objects.filter(exam__in=list(exams)).order_by("exam_id", "number"))
