"""Reads of results analytics: who may see which report, the teacher's dashboard, a
candidate's own results, percentiles, recommendations and leaderboards.

Access (isolation by construction): every object is looked up in the current schema through
an ``*_or_404`` helper that re-checks the user; "not found" and "not allowed" answer the same.
Teachers see an exam's analytics with ``analytics.view_report`` (every exam) or when they may
grade that exam (``assessments.grade_exam``, on their role or granted per exam). Candidates see
only their own attempts, and only once the exam's release policy shows them their results.

**Percentile rule.** A candidate sees their percentile for an attempt only when (1) its results
are visible to them and (2) the comparison group holds at least ``PERCENTILE_MIN_GROUP`` (5)
candidates with a graded result of the same exam version. The group is the candidates who share
a cohort with them among the cohorts the exam is assigned to; when the exam is not assigned to
any of their cohorts, everyone who sat that version. Each candidate counts once, with their best
graded attempt; the percentile is the mid-rank (share below plus half of the ties).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q
from django.http import Http404
from django.utils import timezone

from assessments.delivery.models import Attempt, IntegrityEvent, Response
from assessments.delivery.selectors import (
    attempts_left,
    available_exams,
    may_take,
    results_visible,
)
from assessments.exams.models import Cohort, Exam, ExamVersion
from assessments.exams.selectors import latest_version, user_can_grade_exam
from tenants.access.permissions import user_can

from . import charts, statistics
from .models import Certificate, ItemAnalysis, LeaderboardOptIn, LeaderboardSetting, ReportJob
from .services import version_questions

VIEW_REPORT = "analytics.view_report"
PERCENTILE_MIN_GROUP = 5
WEAK_BELOW = 60.0
STRONG_FROM = 75.0


# -- access -------------------------------------------------------------------------------


def can_view_reports(*, user: Any, exam: Exam | None = None) -> bool:
    if user_can(user, VIEW_REPORT):
        return True
    return exam is not None and user_can_grade_exam(user=user, exam=exam)


def reportable_exam_or_404(*, user: Any, exam_id: int) -> Exam:
    exam = Exam.objects.filter(pk=exam_id).first()
    if exam is None or not can_view_reports(user=user, exam=exam):
        raise Http404("Not found")
    return exam


def reportable_exams(*, user: Any) -> list[Exam]:
    exams = Exam.objects.filter(versions__isnull=False).distinct().order_by("title")
    return [e for e in exams if can_view_reports(user=user, exam=e)]


def reportable_attempt_or_404(*, user: Any, attempt_id: int) -> Attempt:
    attempt = (
        Attempt.objects.select_related("exam", "version", "user").filter(pk=attempt_id).first()
    )
    if (
        attempt is None
        or attempt.status != Attempt.Status.SUBMITTED
        or not can_view_reports(user=user, exam=attempt.exam)
    ):
        raise Http404("Not found")
    return attempt


def report_job_or_404(*, user: Any, job_id: int) -> ReportJob:
    job = ReportJob.objects.select_related("exam", "cohort").filter(pk=job_id).first()
    if job is None or not can_view_reports(user=user, exam=job.exam):
        raise Http404("Not found")
    return job


def own_attempt_or_404(*, user: Any, attempt_id: int) -> Attempt:
    """The candidate's own attempt whose results they may see; anything else is 404."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("Not found")
    attempt = (
        Attempt.objects.select_related("exam", "version", "user")
        .filter(pk=attempt_id, user=user)
        .first()
    )
    if attempt is None or not results_visible(attempt=attempt):
        raise Http404("Not found")
    return attempt


def certificate_by_code(*, code: str) -> Certificate | None:
    """A valid certificate of this portal (the current schema) with ``code``."""
    code = (code or "").strip().upper()
    if not code or len(code) > 14:
        return None
    return (
        Certificate.objects.select_related("attempt__exam").filter(code=code, revoked=False).first()
    )


# -- the teacher's dashboard --------------------------------------------------------------


def chosen_version(*, exam: Exam, number: Any = None) -> ExamVersion | None:
    if isinstance(number, str) and number.isdigit():
        found = ExamVersion.objects.filter(exam=exam, number=int(number)).first()
        if found is not None:
            return found
    return latest_version(exam=exam)


def item_analysis(*, version: ExamVersion) -> ItemAnalysis | None:
    return ItemAnalysis.objects.filter(version=version).first()


def analysis_is_stale(*, version: ExamVersion) -> bool:
    """True when graded attempts exist that the stored analysis does not cover."""
    graded = graded_attempts(version=version).count()
    stored = (
        ItemAnalysis.objects.filter(version=version).values_list("attempt_count", flat=True).first()
    )
    return bool(graded) and graded != stored


def graded_attempts(*, version: ExamVersion):
    return Attempt.objects.filter(
        version=version, status=Attempt.Status.SUBMITTED, grading=Attempt.Grading.GRADED
    )


def question_tags(question_ids: set[int]) -> dict[int, list[str]]:
    from assessments.models import Question

    tags: dict[int, list[str]] = defaultdict(list)
    rows = Question.objects.filter(pk__in=question_ids, tags__isnull=False).values_list(
        "pk", "tags__name"
    )
    for pk, name in rows.order_by("pk", "tags__name"):
        tags[pk].append(name)
    return tags


def minutes_spent(attempt: Attempt) -> float | None:
    if attempt.submitted_at is None:
        return None
    return max(0.0, (attempt.submitted_at - attempt.started_at).total_seconds() / 60)


@dataclass
class Dashboard:
    exam: Exam
    version: ExamVersion | None
    analysis: ItemAnalysis | None
    submitted: int = 0
    graded: int = 0
    passed: int = 0
    mean_percent: float | None = None
    median_minutes: float | None = None
    mean_minutes: float | None = None
    pass_mark: float = 50.0
    stale: bool = False
    charts: dict[str, charts.Chart] = field(default_factory=dict)
    topics: list[dict] = field(default_factory=list)
    cohorts: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        return 100 * self.passed / self.graded if self.graded else None


def exam_dashboard(*, exam: Exam, version: ExamVersion | None) -> Dashboard:
    """Everything the exam's dashboard (and the exam report PDF) shows, for one version."""
    board = Dashboard(exam=exam, version=version, analysis=None)
    if version is None:
        return board
    board.pass_mark = float(version.snapshot["settings"]["pass_mark_percent"])
    board.analysis = item_analysis(version=version)
    attempts = list(
        Attempt.objects.filter(version=version, status=Attempt.Status.SUBMITTED)
        .select_related("user")
        .annotate(flags=Count("events", filter=Q(events__kind__in=IntegrityEvent.FLAG_KINDS)))
        .order_by("-percent", "id")
    )
    graded = [a for a in attempts if a.grading == Attempt.Grading.GRADED]
    board.submitted, board.graded = len(attempts), len(graded)
    board.passed = sum(1 for a in graded if a.passed)
    board.stale = board.analysis is None or board.analysis.attempt_count != len(graded)
    percents = [float(a.percent) for a in graded]
    if percents:
        board.mean_percent = sum(percents) / len(percents)
    counts, edges = statistics.histogram(percents)
    board.charts["scores"] = charts.histogram_chart(
        title="Score distribution",
        description=(
            f"Number of graded attempts in each 10-point score band, {len(percents)} attempts; "
            f"the dashed line is the pass mark of {board.pass_mark:g}%."
        ),
        counts=counts,
        edges=edges,
        marker=board.pass_mark,
    )
    minutes = sorted(m for m in (minutes_spent(a) for a in attempts) if m is not None)
    if minutes:
        board.median_minutes = minutes[len(minutes) // 2]
        board.mean_minutes = sum(minutes) / len(minutes)
        top = max(10.0, minutes[-1])
        time_counts, time_edges = statistics.histogram(minutes, bins=8, low=0, high=top)
        board.charts["time"] = charts.bar_chart(
            title="Time spent",
            description=f"Number of attempts by minutes spent, {len(minutes)} attempts.",
            labels=[
                f"{time_edges[i]:.0f}–{time_edges[i + 1]:.0f} min" for i in range(len(time_counts))
            ],
            values=[float(c) for c in time_counts],
            headers=("Minutes", "Attempts"),
        )
    board.topics = topic_performance(analysis=board.analysis)
    if board.topics:
        board.charts["topics"] = charts.bar_chart(
            title="Performance by topic",
            description="Average share of points earned on the questions of each tag.",
            labels=[t["tag"] for t in board.topics],
            values=[round(t["percent"], 1) for t in board.topics],
            maximum=100,
            unit="%",
            headers=("Topic", "Average"),
        )
    board.cohorts = cohort_comparison(version=version)
    if board.cohorts:
        board.charts["cohorts"] = charts.bar_chart(
            title="Cohort comparison",
            description="Average score of each cohort's graded attempts.",
            labels=[c["name"] for c in board.cohorts],
            values=[round(c["mean"] or 0, 1) for c in board.cohorts],
            maximum=100,
            unit="%",
            headers=("Cohort", "Average"),
            marker=board.pass_mark,
        )
    board.flags = integrity_summary(version=version)
    board.candidates = [
        {
            "attempt": a,
            "minutes": minutes_spent(a),
            "flags": a.flags,
        }
        for a in attempts[:500]
    ]
    return board


def topic_performance(*, analysis: ItemAnalysis | None) -> list[dict]:
    """Per tag: the share of points earned on its questions, over every time one was asked."""
    if analysis is None or not analysis.items:
        return []
    tags = question_tags({item["question_id"] for item in analysis.items})
    earned: dict[str, float] = defaultdict(float)
    asked: dict[str, int] = defaultdict(int)
    questions: dict[str, int] = defaultdict(int)
    for item in analysis.items:
        if not item["asked"] or item["facility"] is None:
            continue
        for tag in tags.get(item["question_id"], []):
            earned[tag] += item["facility"] * item["asked"]
            asked[tag] += item["asked"]
            questions[tag] += 1
    return sorted(
        (
            {"tag": tag, "percent": 100 * earned[tag] / asked[tag], "questions": questions[tag]}
            for tag in asked
        ),
        key=lambda t: t["percent"],
    )


def cohort_comparison(*, version: ExamVersion) -> list[dict]:
    rows = (
        graded_attempts(version=version)
        .filter(user__exam_cohorts__isnull=False)
        .values("user__exam_cohorts__id", "user__exam_cohorts__name")
        .annotate(n=Count("id"), mean=Avg("percent"), passed=Count("id", filter=Q(passed=True)))
        .order_by("user__exam_cohorts__name")
    )
    return [
        {
            "id": row["user__exam_cohorts__id"],
            "name": row["user__exam_cohorts__name"],
            "attempts": row["n"],
            "mean": float(row["mean"]) if row["mean"] is not None else None,
            "pass_rate": 100 * row["passed"] / row["n"] if row["n"] else None,
        }
        for row in rows
    ]


def integrity_summary(*, version: ExamVersion) -> list[dict]:
    labels = dict(IntegrityEvent.Kind.choices)
    rows = (
        IntegrityEvent.objects.filter(attempt__version=version, kind__in=IntegrityEvent.FLAG_KINDS)
        .values("kind")
        .annotate(events=Count("id"), attempts=Count("attempt", distinct=True))
        .order_by("-events", "kind")
    )
    return [
        {
            "kind": row["kind"],
            "label": labels.get(row["kind"], row["kind"]),
            "events": row["events"],
            "attempts": row["attempts"],
        }
        for row in rows
    ]


def item_detail(*, analysis: ItemAnalysis | None, question_id: int) -> dict | None:
    if analysis is None:
        return None
    return next((i for i in analysis.items if i["question_id"] == question_id), None)


def distractor_chart(item: dict) -> charts.Chart | None:
    if not item.get("distractors"):
        return None
    return charts.bar_chart(
        title=f"Options chosen: {item['title']}",
        description=(
            "Share of candidates choosing each option; the correct option is marked with a check."
        ),
        labels=[f"{'✓ ' if d['correct'] else ''}{d['id']}" for d in item["distractors"]],
        values=[round(100 * d["share"], 1) for d in item["distractors"]],
        maximum=100,
        unit="%",
        headers=("Option", "Chosen by"),
    )


# -- one attempt, item by item ------------------------------------------------------------


def attempt_breakdown(attempt: Attempt) -> dict:
    """Per item (score, max, correct) and per tag (percent) of one attempt."""
    responses = {r.position: r for r in Response.objects.filter(attempt=attempt)}
    tags = question_tags({item["question_id"] for item in attempt.items})
    rows = []
    per_tag: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for item in attempt.items:
        response = responses.get(item["position"])
        score = response.score if response and response.score is not None else Decimal(0)
        maximum = Decimal(item["points"])
        rows.append(
            {
                "position": item["position"],
                "title": item["title"],
                "section": item.get("section_title", ""),
                "score": score,
                "max_score": maximum,
                "correct": response.correct if response else False,
                "answered": bool(response and response.value not in (None, "", [], {})),
                "tags": tags.get(item["question_id"], []),
            }
        )
        for tag in tags.get(item["question_id"], []):
            per_tag[tag][0] += score
            per_tag[tag][1] += maximum
    topics = sorted(
        (
            {"tag": tag, "percent": float(100 * got / top) if top else 0.0}
            for tag, (got, top) in per_tag.items()
        ),
        key=lambda t: t["percent"],
    )
    return {"items": rows, "topics": topics}


# -- the candidate's own results ----------------------------------------------------------


def visible_attempts(*, user: Any) -> list[Attempt]:
    attempts = (
        Attempt.objects.filter(user=user, status=Attempt.Status.SUBMITTED)
        .select_related("exam", "version", "user")
        .order_by("submitted_at", "id")
    )
    return [a for a in attempts if results_visible(attempt=a)]


def comparison_group(*, attempt: Attempt) -> list[float]:
    """Best graded percent per candidate of the attempt's comparison group (module doc)."""
    cohorts = Cohort.objects.filter(members=attempt.user_id, assignments__exam=attempt.exam_id)
    attempts = graded_attempts(version=attempt.version)
    if cohorts.exists():
        attempts = attempts.filter(user__exam_cohorts__in=cohorts)
    best: dict[int, float] = {}
    for user_id, percent in attempts.values_list("user_id", "percent"):
        best[user_id] = max(best.get(user_id, 0.0), float(percent))
    return list(best.values())


def percentile_for(*, attempt: Attempt) -> float | None:
    if attempt.grading != Attempt.Grading.GRADED or not results_visible(attempt=attempt):
        return None
    group = comparison_group(attempt=attempt)
    if len(group) < PERCENTILE_MIN_GROUP:
        return None
    return statistics.percentile_rank(float(attempt.percent), group)


@dataclass
class CandidateOverview:
    attempts: list[dict]
    progress: charts.Chart | None
    topics: list[dict]
    strengths: list[dict]
    weaknesses: list[dict]
    topics_chart: charts.Chart | None
    series: list[dict]
    recommendations: list[dict]
    leaderboards: list[dict]


def candidate_overview(*, user: Any) -> CandidateOverview:
    """The candidate's own dashboard: only their attempts whose results they may see."""
    attempts = visible_attempts(user=user)
    graded = [a for a in attempts if a.grading == Attempt.Grading.GRADED]
    rows = [
        {"attempt": a, "percentile": percentile_for(attempt=a), "minutes": minutes_spent(a)}
        for a in attempts
    ]
    progress = None
    if graded:
        progress = charts.line_chart(
            title="Your progress",
            description=f"Your score in each of your {len(graded)} graded attempts, oldest first.",
            labels=[f"{a.submitted_at:%d %b} {a.exam.title}" for a in graded],
            values=[float(a.percent) for a in graded],
            headers=("Attempt", "Score"),
        )
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for attempt in graded:
        for topic_row in _attempt_tag_points(attempt):
            totals[topic_row[0]][0] += topic_row[1]
            totals[topic_row[0]][1] += topic_row[2]
    topics = sorted(
        (
            {"tag": tag, "percent": float(100 * got / top)}
            for tag, (got, top) in totals.items()
            if top
        ),
        key=lambda t: (t["percent"], t["tag"]),
    )
    topics_chart = None
    if topics:
        topics_chart = charts.bar_chart(
            title="Your results by topic",
            description="Share of points you earned on the questions of each topic.",
            labels=[t["tag"] for t in topics],
            values=[round(t["percent"], 1) for t in topics],
            maximum=100,
            unit="%",
            headers=("Topic", "Your score"),
        )
    weaknesses = [t for t in topics if t["percent"] < WEAK_BELOW]
    strengths = [t for t in reversed(topics) if t["percent"] >= STRONG_FROM]
    return CandidateOverview(
        attempts=rows,
        progress=progress,
        topics=topics,
        strengths=strengths,
        weaknesses=weaknesses,
        topics_chart=topics_chart,
        series=mock_series(graded),
        recommendations=recommendations(user=user, weak_tags=[t["tag"] for t in weaknesses]),
        leaderboards=leaderboards_for(user=user, attempts=attempts),
    )


def _attempt_tag_points(attempt: Attempt) -> list[tuple[str, Decimal, Decimal]]:
    breakdown = attempt_breakdown(attempt)
    out = []
    for item in breakdown["items"]:
        for tag in item["tags"]:
            out.append((tag, Decimal(item["score"]), Decimal(item["max_score"])))
    return out


def mock_series(graded: list[Attempt]) -> list[dict]:
    """An exam the candidate sat at least twice (a mock or practice test): its scores in
    order, a chart and the trend (least-squares points per attempt)."""
    by_exam: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in graded:
        by_exam[attempt.exam_id].append(attempt)
    series = []
    for attempts in by_exam.values():
        if len(attempts) < 2:
            continue
        values = [float(a.percent) for a in attempts]
        slope = statistics.trend_slope(values)
        title = attempts[0].exam.title
        series.append(
            {
                "exam": attempts[0].exam,
                "values": values,
                "slope": slope,
                "chart": charts.line_chart(
                    title=f"{title}: your attempts",
                    description=(
                        f"Your score in each attempt at {title}; trend "
                        f"{slope:+.1f} points per attempt."
                    ),
                    labels=[f"Attempt {a.number}" for a in attempts],
                    values=values,
                    headers=("Attempt", "Score"),
                ),
            }
        )
    return series


def recommendations(*, user: Any, weak_tags: list[str]) -> list[dict]:
    """For each weak topic (tag): live study guide pages whose subject is the tag, or the name
    of a category (or parent category) of a question with that tag — case-insensitive, so
    "derivatives" questions filed under Mathematics/Calculus lead to the "Mathematics" guide —
    and practice exams the candidate may still take that ask questions with that tag."""
    if not weak_tags:
        return []
    from assessments.models import Category, Question
    from cms.models import StudyGuidePage

    guides = list(StudyGuidePage.objects.live().public().order_by("title"))
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    names = dict(Category.objects.values_list("pk", "name"))
    tagged: dict[str, set[int]] = defaultdict(set)
    subjects: dict[str, set[str]] = defaultdict(set)
    rows = Question.objects.filter(tags__name__in=weak_tags).values_list(
        "pk", "tags__name", "category_id"
    )
    for pk, name, category_id in rows:
        tagged[name].add(pk)
        subjects[name].add(name.casefold())
        seen: set[int] = set()
        while category_id is not None and category_id not in seen:
            seen.add(category_id)
            subjects[name].add(names[category_id].casefold())
            category_id = parents.get(category_id)
    practice: list[tuple[Exam, set[int]]] = []
    for exam in available_exams(user=user):
        version = latest_version(exam=exam)
        if version is not None and attempts_left(exam=exam, user=user) > 0:
            practice.append((exam, {q["question_id"] for q in version_questions(version)}))
    out = []
    for tag in weak_tags:
        wanted = subjects[tag] or {tag.casefold()}
        out.append(
            {
                "tag": tag,
                "guides": [g for g in guides if g.subject.strip().casefold() in wanted],
                "practice": [
                    {"exam": exam, "questions": len(ids & tagged[tag])}
                    for exam, ids in practice
                    if ids & tagged[tag]
                ],
            }
        )
    return out


# -- leaderboards -------------------------------------------------------------------------


def leaderboard_enabled(*, exam: Exam) -> bool:
    return LeaderboardSetting.objects.filter(exam=exam, enabled=True).exists()


def leaderboards_for(*, user: Any, attempts: list[Attempt]) -> list[dict]:
    exam_ids = {a.exam_id for a in attempts}
    enabled = set(
        LeaderboardSetting.objects.filter(exam_id__in=exam_ids, enabled=True).values_list(
            "exam_id", flat=True
        )
    )
    opted = set(
        LeaderboardOptIn.objects.filter(user=user, exam_id__in=enabled).values_list(
            "exam_id", flat=True
        )
    )
    seen: dict[int, Exam] = {}
    for attempt in attempts:
        if attempt.exam_id in enabled:
            seen.setdefault(attempt.exam_id, attempt.exam)
    return [{"exam": exam, "opted_in": exam.pk in opted} for exam in seen.values()]


def leaderboard_exam_or_404(*, user: Any, exam_id: int) -> Exam:
    """An exam with its leaderboard on that the candidate sat or may take."""
    exam = Exam.objects.filter(pk=exam_id).first()
    if (
        exam is None
        or not getattr(user, "is_authenticated", False)
        or not leaderboard_enabled(exam=exam)
        or not (
            Attempt.objects.filter(exam=exam, user=user).exists() or may_take(exam=exam, user=user)
        )
    ):
        raise Http404("Not found")
    return exam


def public_name(user: Any) -> str:
    """What a leaderboard shows of a person: first name and last initial, never the email."""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first:
        return f"{first} {last[:1]}." if last else first
    return f"Candidate {user.pk}"


def leaderboard(*, exam: Exam, viewer: Any, limit: int = 50) -> list[dict]:
    """Opted-in candidates' best visible graded percent at ``exam``, best first; restricted to
    the viewer's cohorts when the exam is assigned to any of them (a cohort leaderboard)."""
    opted = LeaderboardOptIn.objects.filter(exam=exam).values_list("user_id", flat=True)
    attempts = Attempt.objects.filter(
        exam=exam,
        status=Attempt.Status.SUBMITTED,
        grading=Attempt.Grading.GRADED,
        user_id__in=opted,
    ).select_related("user", "version", "exam")
    cohorts = Cohort.objects.filter(members=viewer.pk, assignments__exam=exam)
    if cohorts.exists():
        attempts = attempts.filter(user__exam_cohorts__in=cohorts).distinct()
    best: dict[int, Attempt] = {}
    for attempt in attempts:
        if not results_visible(attempt=attempt):
            continue
        current = best.get(attempt.user_id)
        if current is None or attempt.percent > current.percent:
            best[attempt.user_id] = attempt
    ranked = sorted(best.values(), key=lambda a: (-a.percent, a.submitted_at or timezone.now()))
    return [
        {
            "rank": rank,
            "name": public_name(a.user),
            "percent": a.percent,
            "is_viewer": a.user_id == viewer.pk,
        }
        for rank, a in enumerate(ranked[:limit], start=1)
    ]


def recent_jobs(*, exam: Exam) -> list[ReportJob]:
    since = timezone.now() - timedelta(days=30)
    return list(
        ReportJob.objects.filter(exam=exam, created__gte=since).select_related("cohort")[:20]
    )
