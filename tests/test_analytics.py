"""Item analysis: every figure against a reference computed directly with numpy from the
stored responses, on seeded attempts (fixed order, shuffled order, pools); flags; the
background refresh after submission, carrying the tenant."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from assessments import services as bank
from assessments.analytics import services, statistics
from assessments.analytics.demo import seed_attempts
from assessments.analytics.models import ItemAnalysis
from assessments.delivery.models import Attempt, Response
from assessments.exams import services as exams
from assessments.exams.models import Exam, ExamVersion
from assessments.exams.services import draw_questions
from tenants.access.permissions import assign_role

pytestmark = pytest.mark.django_db
User = get_user_model()


def choice(options: int, correct: int = 0) -> dict:
    return {
        "options": [
            {"id": chr(97 + i), "text": f"Option {i + 1}", "correct": i == correct}
            for i in range(options)
        ]
    }


QUESTION_SET = [
    ("single_choice", choice(4), ["algebra"]),
    ("single_choice", choice(4, 2), ["algebra"]),
    ("single_choice", choice(3, 1), ["geometry"]),
    ("true_false", {"answer": True}, ["logic"]),
    ("true_false", {"answer": False}, ["logic"]),
    (
        "multiple_response",
        {
            "options": [
                {"id": "a", "text": "2", "weight": "0.50"},
                {"id": "b", "text": "3", "weight": "0.50"},
                {"id": "c", "text": "4", "weight": "0"},
                {"id": "d", "text": "9", "weight": "0"},
            ]
        },
        ["algebra"],
    ),
    ("numeric", {"answer": "9.81", "tolerance": "0.01", "points": "2.00"}, ["physics"]),
    ("short_answer", {"accepted": ["Rome"]}, ["geography"]),
    ("single_choice", choice(5, 4), ["geometry"]),
    ("true_false", {"answer": True}, ["physics"]),
]


@dataclass
class Seeded:
    portal: object
    exam: Exam
    version: ExamVersion
    admin: object
    users: list
    questions: list


def build_exam(
    portal,
    *,
    candidates: int = 60,
    title: str = "Analytics test",
    shuffle: bool = False,
    pool: bool = False,
    seed: int = 11,
    **settings,
) -> Seeded:
    """A published exam of ``QUESTION_SET`` (or a pool drawing 6 of them) with ``candidates``
    seeded, submitted, graded attempts. Runs in the portal's schema; returns to public."""
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = exams.create_exam(by=admin, title=title, shuffle_questions=shuffle, **settings)
        section = exams.add_section(exam=exam, title="Part one")
        questions = []
        for number, (kind, data, tags) in enumerate(QUESTION_SET, start=1):
            question = bank.create_question(
                author=admin,
                type=kind,
                title=f"{title} Q{number}",
                stem=f"<p>Question {number}</p>",
                data=data,
                tags=[*tags, f"set-{title}"],
                status="active",
            )
            questions.append(question)
            if not pool:
                exams.add_fixed_item(section=section, question=question)
        if pool:
            exams.add_pool_item(section=section, count=6, tags=[f"set-{title}"])
        version = exams.publish_exam(exam=exam, by=admin)
        users = [
            User.objects.create_user(email=f"c{i}-{seed}@example.test") for i in range(candidates)
        ]
        seed_attempts(version=version, users=users, seed=seed)
    connection.set_schema_to_public()
    return Seeded(portal, exam, version, admin, users, questions)


def reference(version: ExamVersion) -> dict:
    """Item analysis recomputed from the ORM rows with plain numpy, independently of the
    service's SQL and statistics module."""
    questions = services.version_questions(version)
    column = {q["question_id"]: j for j, q in enumerate(questions)}
    attempts = list(
        Attempt.objects.filter(version=version, status="submitted", grading="graded").order_by("id")
    )
    x = np.full((len(attempts), len(questions)), np.nan)
    blank = np.zeros_like(x, dtype=bool)
    chosen: dict[tuple[int, int], object] = {}
    for i, attempt in enumerate(attempts):
        by_position = {item["position"]: item["question_id"] for item in attempt.items}
        for response in Response.objects.filter(attempt=attempt):
            j = column[by_position[response.position]]
            x[i, j] = float(response.score)
            blank[i, j] = response.value in (None, "", [], {})
            chosen[i, j] = response.value
    points = np.array([float(q["points"]) for q in questions])
    totals = np.nansum(x, axis=1)
    result = {"items": [], "points": points, "x": x}
    for j, question in enumerate(questions):
        rows = np.flatnonzero(~np.isnan(x[:, j]))
        item = x[rows, j]
        rest = totals[rows] - item
        order = np.argsort(totals[rows], kind="stable")
        g = max(1, math.floor(0.27 * len(rows) + 0.5))
        lower, upper = order[:g], order[-g:]
        p = item / points[j]
        entry = {
            "facility": p.mean(),
            "point_biserial": np.corrcoef(item, rest)[0, 1],
            "upper_lower": p[upper].mean() - p[lower].mean(),
            "omitted": blank[rows, j].mean(),
            "shares": {},
        }
        if question["type"] in ("single_choice", "true_false", "multiple_response"):
            for option in services.options_of(question):

                def picked(i, option=option, j=j):
                    value = chosen.get((i, j))
                    return (
                        option["id"] in value if isinstance(value, list) else value == option["id"]
                    )

                entry["shares"][str(option["id"])] = (
                    np.mean([picked(i) for i in rows]),
                    np.mean([picked(rows[i]) for i in upper]),
                    np.mean([picked(rows[i]) for i in lower]),
                )
        result["items"].append(entry)
    complete = ~np.isnan(x).any(axis=0)
    full = x[:, complete]
    k = full.shape[1]
    total = full.sum(axis=1)
    result["mean"], result["sd"] = totals.mean(), totals.std()
    if k < 2:
        result.update(alpha=None, sem=None, kr20=None)
        return result
    alpha = k / (k - 1) * (1 - full.var(axis=0).sum() / total.var())
    result["alpha"] = alpha
    result["sem"] = total.std() * math.sqrt(1 - alpha)
    binary = full / points[complete]
    if np.all((binary == 0) | (binary == 1)):
        q = binary.mean(axis=0)
        result["kr20"] = k / (k - 1) * (1 - (q * (1 - q)).sum() / binary.sum(axis=1).var())
    else:
        result["kr20"] = None
    return result


def assert_matches(analysis: ItemAnalysis, ref: dict) -> None:
    for name in ("alpha", "sem", "kr20", "mean", "sd"):
        if ref[name] is None:
            assert analysis.summary[name] is None, name
        else:
            assert analysis.summary[name] == pytest.approx(ref[name], abs=1e-9), name
    for got, want in zip(analysis.items, ref["items"], strict=True):
        for name in ("facility", "point_biserial", "upper_lower", "omitted"):
            assert got[name] == pytest.approx(want[name], abs=1e-9), (got["title"], name)
        shares = {str(d["id"]): (d["share"], d["upper"], d["lower"]) for d in got["distractors"]}
        assert shares.keys() == want["shares"].keys()
        for key, values in want["shares"].items():
            assert shares[key] == pytest.approx(values, abs=1e-9), (got["title"], key)


def test_item_analysis_matches_numpy_reference(make_portal):
    seeded = build_exam(make_portal("alpha"), candidates=80)
    with seeded.portal.activate():
        analysis = services.compute_item_analysis(version=seeded.version)
        ref = reference(seeded.version)
    assert analysis.attempt_count == 80
    assert analysis.summary["items"] == len(QUESTION_SET)
    # Two-point numeric item: not all-or-nothing on 0/1 points, but still dichotomous.
    assert analysis.summary["kr20"] is not None
    assert_matches(analysis, ref)
    # The seeded data is informative: reliability is positive and most items discriminate.
    assert 0 < analysis.summary["alpha"] < 1
    assert sum(1 for i in analysis.items if (i["point_biserial"] or 0) > 0) >= 7


def test_item_analysis_with_shuffled_order_and_pools_matches_reference(make_portal):
    portal = make_portal("alpha")
    shuffled = build_exam(portal, candidates=50, title="Shuffled", shuffle=True, seed=3)
    pooled = build_exam(portal, candidates=50, title="Pooled", pool=True, seed=5)
    with portal.activate():
        for seeded in (shuffled, pooled):
            analysis = services.compute_item_analysis(version=seeded.version)
            assert_matches(analysis, reference(seeded.version))
        pooled_analysis = ItemAnalysis.objects.get(version=pooled.version)
    # A pool of 6 from 10: every question asked to some, none to all.
    asked = [item["asked"] for item in pooled_analysis.items]
    assert sum(asked) == 50 * 6 and all(0 < n < 50 for n in asked)
    assert pooled_analysis.summary["reliability_items"] == 0
    assert pooled_analysis.summary["alpha"] is None


def test_statistics_on_a_hand_computed_matrix():
    # Four candidates, three one-point items (classic textbook example).
    x = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    figures = statistics.item_figures(x, np.ones(3))
    assert [f.facility for f in figures] == [0.75, 0.5, 0.25]
    # Groups of floor(0.27*4+0.5)=1: top (row 0) minus bottom (row 3).
    assert [f.upper_lower for f in figures] == [1.0, 1.0, 1.0]
    rel = statistics.reliability(x, np.ones(3))
    # var(total)=1.25, Σ pq = 0.1875+0.25+0.1875 = 0.625 → 1.5 × (1 − 0.5) = 0.75
    assert rel.kr20 == pytest.approx(0.75)
    assert rel.alpha == pytest.approx(0.75)
    assert rel.sem == pytest.approx(math.sqrt(1.25) * math.sqrt(0.25))
    assert statistics.percentile_rank(50, [10, 50, 50, 90]) == 50.0
    assert statistics.trend_slope([40, 50, 60]) == pytest.approx(10.0)


def test_flags_and_suggestions():
    def entry(**values):
        base = {"asked": 30, "point_biserial": 0.4, "facility": 0.6, "distractors": []}
        return services.item_flags({**base, **values})

    assert entry() == []
    assert [f["code"] for f in entry(point_biserial=-0.2)] == ["negative_discrimination"]
    assert [f["code"] for f in entry(point_biserial=0.1)] == ["low_discrimination"]
    assert [f["code"] for f in entry(facility=0.95)] == ["too_easy"]
    assert [f["code"] for f in entry(facility=0.1)] == ["too_hard"]
    flags = entry(
        distractors=[
            {"id": "a", "correct": True, "count": 20},
            {"id": "b", "correct": False, "count": 10},
            {"id": "c", "correct": False, "count": 0},
        ]
    )
    assert [f["code"] for f in flags] == ["unused_distractor"]
    assert "option(s) c" in flags[0]["suggestion"]
    assert all(f["suggestion"] for f in entry(point_biserial=-0.3, facility=0.05))


def test_seeded_exam_flags_the_distractor_nobody_picks(make_portal):
    seeded = build_exam(make_portal("alpha"), candidates=60)
    with seeded.portal.activate():
        analysis = services.compute_item_analysis(version=seeded.version)
    # The seeding never picks the last distractor of an item with 3+ wrong options.
    five_options = next(i for i in analysis.items if i["title"].endswith("Q9"))
    unused = [d for d in five_options["distractors"] if d["count"] == 0]
    assert [d["id"] for d in unused] == ["d"]
    assert "unused_distractor" in [f["code"] for f in five_options["flags"]]


def test_submission_refreshes_the_analysis_in_the_background_for_its_tenant(
    two_portals, django_capture_on_commit_callbacks
):
    from assessments.delivery import services as delivery

    alpha, beta = two_portals
    seeded = build_exam(alpha, candidates=20)
    other = build_exam(beta, candidates=5, title="Beta exam")
    with alpha.activate():
        candidate = User.objects.create_user(email="late@example.test")
        # An open attempt as ``start_attempt`` makes it (the seeded candidate has no role).
        attempt = Attempt.objects.create(
            exam=seeded.exam,
            version=seeded.version,
            user=candidate,
            number=1,
            seed="late",
            items=draw_questions(version=seeded.version, seed="late"),
            item_count=len(QUESTION_SET),
            started_at=seeded.version.published_at,
            overdue_policy="auto_submit",
        )
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            delivery.submit_attempt(attempt=attempt)
        assert callbacks, "the refresh is queued after commit"
        analysis = ItemAnalysis.objects.get(version=seeded.version)
        assert analysis.attempt_count == 21
    with beta.activate():
        # The task ran in alpha's schema only: beta has no analysis of its own exam yet.
        assert not ItemAnalysis.objects.exists()
        assert ExamVersion.objects.filter(pk=other.version.pk).exists()


def test_demo_results_give_every_dashboard_data(make_portal):
    from wagtail.models import Page

    from assessments.analytics import selectors
    from assessments.analytics.demo import PRACTICE_TITLE, seed_demo_results
    from assessments.demo_bank import EXAM_TITLE, seed_question_bank
    from cms.models import StudyGuidePage

    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        seed_question_bank(author=admin)
        student = User.objects.create_user(email="student@uni.test")
        assign_role(user=student, role="candidate")
        Page.objects.get(depth=2).add_child(
            instance=StudyGuidePage(title="Maths revision", slug="maths", subject="Mathematics")
        )
        created = seed_demo_results(author=admin, candidates=30)
        assert created[0] == f"30 demo attempts at {EXAM_TITLE}"
        assert seed_demo_results(author=admin, candidates=30) == []  # idempotent
        midterm = Exam.objects.get(title=EXAM_TITLE)
        board = selectors.exam_dashboard(exam=midterm, version=midterm.versions.get())
        assert board.graded + (board.submitted - board.graded) == 30
        assert board.analysis is not None and board.analysis.attempt_count == board.graded
        assert len(board.cohorts) == 2 and board.flags and board.topics
        overview = selectors.candidate_overview(user=student)
        assert [a["attempt"].exam.title for a in overview.attempts] == [PRACTICE_TITLE] * 3
        assert overview.series and overview.series[0]["slope"] is not None
        assert overview.progress is not None and overview.topics
        # A weak tag whose questions are filed under Mathematics leads to the maths guide.
        from assessments.models import Question

        maths = {
            r["tag"]
            for r in overview.recommendations
            if Question.objects.filter(
                tags__name=r["tag"], category__parent__name="Mathematics"
            ).exists()
        }
        assert maths, "the seeded student is weak in some mathematics topic"
        for rec in overview.recommendations:
            titles = [g.title for g in rec["guides"]]
            assert titles == (["Maths revision"] if rec["tag"] in maths else []), rec["tag"]
            # Both exams still open to the student ask questions of every weak tag.
            practice = {p["exam"].title for p in rec["practice"]}
            assert practice == {PRACTICE_TITLE, EXAM_TITLE}, rec["tag"]
