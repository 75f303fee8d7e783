"""Seeded, realistic attempts for demos, tests and the benchmark.

Candidates answer as a simple item-response model says: each has an ability, each question a
difficulty (from its 1–5 difficulty when known), and a candidate answers right with the
logistic probability of ability minus difficulty; wrong answers prefer the first distractors
(so the last distractor of a long option list is sometimes never chosen, as in real exams),
and a few answers are left blank. Every response is graded with delivery's own
``grade_item``, so scores are exactly what a real submission would store. Rows are written
with PostgreSQL ``COPY``: 1,000,000 responses take seconds, not minutes.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from assessments.delivery.models import Attempt, Response
from assessments.delivery.services import grade_item
from assessments.exams.models import ExamVersion
from assessments.exams.services import draw_questions

from .services import options_of

#: Share of answers left blank.
OMIT_RATE = 0.03


def _wrong_value(question: dict, rng: random.Random) -> Any:
    kind, data = question["type"], question["data"]
    if kind in ("single_choice", "multiple_response"):
        wrong = [o["id"] for o in options_of(question) if not o["correct"]]
        # The first distractors attract most wrong answers; the last one rarely.
        weights = [0.6**i for i in range(len(wrong))]
        if len(wrong) >= 3:
            weights[-1] = 0  # a distractor nobody picks, as item analysis should notice
        choice = rng.choices(wrong, weights=weights)[0] if wrong else None
        return [choice] if kind == "multiple_response" else choice
    if kind == "true_false":
        return not data["answer"]
    if kind == "numeric":
        return str(Decimal(str(data["answer"])) + 7)
    if kind == "short_answer":
        return "not this"
    return None


def _right_value(question: dict) -> Any:
    kind, data = question["type"], question["data"]
    if kind == "single_choice":
        return next(o["id"] for o in data["options"] if o.get("correct"))
    if kind == "multiple_response":
        return [o["id"] for o in data["options"] if Decimal(o["weight"]) > 0]
    if kind == "true_false":
        return data["answer"]
    if kind == "numeric":
        return str(data["answer"])
    if kind == "short_answer":
        return data["accepted"][0]
    return None


def seed_attempts(
    *,
    version: ExamVersion,
    users: list[Any],
    seed: int = 7,
    difficulty: dict[int, float] | None = None,
    started: datetime | None = None,
    abilities: list[float] | None = None,
    number: int = 1,
) -> list[int]:
    """One submitted, graded attempt per user at ``version``; returns the attempt ids.

    ``difficulty`` maps question id → difficulty on the ability scale (default: spread
    from −1.5 to 1.5 over the questions).
    """
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    started = started or timezone.now() - timedelta(days=1)
    settings = version.snapshot["settings"]
    pass_mark = Decimal(settings["pass_mark_percent"])
    grades: dict[tuple[int, str], Any] = {}
    attempt_rows, response_rows = [], []
    time_limit = settings.get("time_limit_minutes") or 60
    for index, user in enumerate(users):
        items = draw_questions(version=version, seed=f"{seed}-{index}")
        if difficulty is None:
            count = len(items)
            difficulty = {
                q["question_id"]: -1.5 + 3 * i / max(1, count - 1) for i, q in enumerate(items)
            }
        theta = abilities[index] if abilities else rng.gauss(0, 1)
        total = maximum = Decimal(0)
        responses = []
        for item in items:
            b = difficulty.get(item["question_id"], 0.0)
            roll = rng.random()
            if roll < OMIT_RATE:
                value = None
            elif rng.random() < 1 / (1 + math.exp(-(theta - b) * 1.7)):
                value = _right_value(item)
            else:
                value = _wrong_value(item, rng)
            key = (item["question_version_id"], json.dumps(value))
            grade = grades.get(key)
            if grade is None:
                grade = grades[key] = grade_item(item, value)
            needs_manual = grade.correct is None and value not in (None, "")
            total += grade.score
            maximum += grade.max_score
            responses.append((item["position"], value, grade, needs_manual))
        percent = (total * 100 / maximum).quantize(Decimal("0.01")) if maximum else Decimal(0)
        began = started + timedelta(minutes=index % 600, seconds=rng.randint(0, 59))
        spent = timedelta(minutes=max(3.0, rng.gauss(time_limit * 0.7, time_limit * 0.15)))
        manual = any(r[3] for r in responses)
        attempt_rows.append(
            Attempt(
                exam_id=version.exam_id,
                version=version,
                user=user,
                number=number,
                status=Attempt.Status.SUBMITTED,
                seed=f"{seed}-{index}",
                items=items,
                item_count=len(items),
                started_at=began,
                submitted_at=began + spent,
                closed_by=Attempt.ClosedBy.CANDIDATE,
                overdue_policy=settings["overdue_policy"],
                grading=Attempt.Grading.NEEDS_MANUAL if manual else Attempt.Grading.GRADED,
                score=total,
                max_score=maximum,
                percent=percent,
                passed=None if manual else percent >= pass_mark,
                results_released=True,
            )
        )
        response_rows.append(responses)
    created = Attempt.objects.bulk_create(attempt_rows, batch_size=500)
    _copy_responses(created, response_rows)
    return [a.pk for a in created]


def _copy_responses(attempts: list[Attempt], responses: list[list[tuple]]) -> None:
    columns = (
        "attempt_id, position, value, flagged, seq, saved_at, score, max_score, correct, "
        "feedback, needs_manual, rubric_scores"
    )
    table = Response._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY is not part of the DB-API
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for attempt, rows in zip(attempts, responses, strict=True):
                for position, value, grade, needs_manual in rows:
                    copy.write_row(
                        (
                            attempt.pk,
                            position,
                            None if value is None else json.dumps(value, cls=DjangoJSONEncoder),
                            False,
                            position,
                            attempt.submitted_at,
                            None if needs_manual else grade.score,
                            grade.max_score,
                            grade.correct if grade.correct is not None or needs_manual else False,
                            json.dumps(list(grade.feedback)),
                            needs_manual,
                            "{}",
                        )
                    )


# -- the demo portal ----------------------------------------------------------------------

DEMO_COHORTS = ("First years A", "First years B")
PRACTICE_TITLE = "Foundations practice quiz"
FIRST_NAMES = ("Amira", "Ben", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas")
LAST_NAMES = ("Okafor", "Novak", "Silva", "Dubois", "Kim", "Larsen", "Moreau", "Patel")


def seed_demo_results(*, author: Any, candidates: int = 120) -> list[str]:
    """Results for the ``uni`` demo (idempotent: nothing when the demo cohorts exist).

    ``candidates`` demo candidates in two cohorts sit the "Foundations mid-term" (cohort B a
    little stronger), a few with integrity flags; the mid-term gets its item analysis and a
    leaderboard with some candidates opted in. ``student@uni.test`` sits a 12-question
    practice quiz three times, improving each time: a mock series with a trend, weak topics and
    study recommendations. The mid-term itself stays untaken by the student.
    """
    from django.contrib.auth import get_user_model

    from assessments.delivery.models import IntegrityEvent
    from assessments.demo_bank import EXAM_TITLE
    from assessments.exams import services as exams
    from assessments.exams.models import Cohort, Exam
    from assessments.exams.selectors import latest_version
    from assessments.models import Question

    from . import services
    from .models import LeaderboardOptIn

    if Cohort.objects.filter(name=DEMO_COHORTS[0]).exists():
        return []
    exam = Exam.objects.filter(title=EXAM_TITLE).first()
    version = latest_version(exam=exam) if exam else None
    if version is None:
        return []
    User = get_user_model()
    rng = random.Random(2026)  # noqa: S311 - demo data
    users = User.objects.bulk_create(
        [
            User(
                email=f"demo-candidate{i}@uni.test",
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=LAST_NAMES[(i * 7) % len(LAST_NAMES)],
            )
            for i in range(candidates)
        ]
    )
    half = len(users) // 2
    exams.create_cohort(name=DEMO_COHORTS[0], members=users[:half])
    exams.create_cohort(name=DEMO_COHORTS[1], members=users[half:])
    abilities = [rng.gauss(0, 1) + (0.4 if i >= half else 0) for i in range(len(users))]
    ids = seed_attempts(version=version, users=users, seed=2026, abilities=abilities)
    for attempt_id in ids[::9]:
        attempt = Attempt.objects.get(pk=attempt_id)
        for kind in rng.sample(["tab_hidden", "paste", "fullscreen_exit", "ip_change"], 2):
            IntegrityEvent.objects.create(attempt=attempt, kind=kind, at=attempt.started_at)
    services.compute_item_analysis(version=version)
    services.set_leaderboard(exam=exam, enabled=True)
    LeaderboardOptIn.objects.bulk_create(LeaderboardOptIn(exam=exam, user=u) for u in users[::4])
    created = [f"{len(ids)} demo attempts at {EXAM_TITLE}"]

    student = User.objects.filter(email="student@uni.test").first()
    questions = list(
        Question.objects.filter(status="active", tags__name="foundations")
        .exclude(type="essay")
        .order_by("pk")[:12]
    )
    if student is not None and questions:
        practice = exams.create_exam(
            by=author,
            title=PRACTICE_TITLE,
            description="<p>Twelve questions to practise for the mid-term; up to five tries.</p>",
            attempts_allowed=5,
        )
        section = exams.add_section(exam=practice, title="Practice")
        for question in questions:
            exams.add_fixed_item(section=section, question=question)
        practice_version = exams.publish_exam(exam=practice, by=author)
        now = timezone.now()
        for number, ability in enumerate((-1.2, -0.4, 0.5), start=1):
            seed_attempts(
                version=practice_version,
                users=[student],
                seed=300 + number,
                abilities=[ability],
                number=number,
                started=now - timedelta(days=3 * (4 - number)),
            )
        services.compute_item_analysis(version=practice_version)
        created.append(f"3 practice attempts of {student.email}")
    return created
