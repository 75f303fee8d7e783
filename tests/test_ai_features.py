"""AI features (issue 9): question generation reviewed by an author, rubric grading
suggestions confirmed or overridden by graders, the agreement report, plagiarism reports,
and two-tenant isolation of all of them.

A small provider (``FakeProvider``) is injected through ``settings.VIVA_AI_PROVIDER`` where a
test needs exact control over what the AI answers; plagiarism runs on the real offline
provider (its embeddings are what the thresholds were set on).
"""

from __future__ import annotations

import dataclasses
import io
import random
import re
import zipfile
import zlib
from decimal import Decimal

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from assessments import services as bank
from assessments.ai import agreement, generation, grading, plagiarism, tasks
from assessments.ai.base import (
    CriterionScore,
    DraftQuestion,
    Embeddings,
    GenerationResult,
    GradingResult,
    ProviderError,
    Usage,
)
from assessments.ai.feature_models import (
    AIGradingJob,
    AISuggestion,
    GenerationBatch,
    PlagiarismReport,
)
from assessments.ai.models import AICall
from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt, Response
from assessments.exams import services as exams
from assessments.models import Question
from bench.plagiarism_corpus import corpus, precision_recall, seed_exam, truth_pairs
from tenants.audit.models import AuditEvent

from .conftest import make_member, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
USAGE = Usage(provider="fake", model="fake-1", prompt_version="fake@1")


# -- a provider whose answers each test chooses ------------------------------------------

STATE: dict = {}


def bag_of_words(text: str, dims: int = 512) -> list[float]:
    vector = np.zeros(dims)
    for word in re.findall(r"\w+", text.lower()):
        vector[zlib.crc32(word.encode()) % dims] += 1
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).tolist()


class FakeProvider:
    name = "fake"

    def generate_questions(self, request):
        STATE.setdefault("generation_requests", []).append(request)
        if STATE.get("generation_error"):
            raise ProviderError(STATE["generation_error"])
        return GenerationResult(drafts=list(STATE.get("drafts", [])), usage=USAGE)

    def grade(self, request):
        STATE.setdefault("grading_requests", []).append(request)
        return STATE["grade"](request)

    def embed(self, texts):
        if STATE.get("embed_error"):
            raise ProviderError(STATE["embed_error"])
        return Embeddings(vectors=[bag_of_words(t) for t in texts], usage=USAGE)

    def analyse_interview_answer(self, request):  # pragma: no cover - not used here
        raise ProviderError("not in these tests")


def fake_provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def fake(settings):
    STATE.clear()
    settings.VIVA_AI_PROVIDER = "tests.test_ai_features.fake_provider"
    yield STATE
    STATE.clear()


def graded(points: dict[str, str], confidence: float, summary: str = "ok") -> GradingResult:
    return GradingResult(
        scores=tuple(CriterionScore(k, Decimal(v), f"why {k}") for k, v in points.items()),
        confidence=confidence,
        summary=summary,
        usage=USAGE,
    )


# -- exams with submitted answers ---------------------------------------------------------

ESSAY = {
    "rubric": [
        {"id": "arg", "criterion": "Argument", "max_points": "4"},
        {"id": "ev", "criterion": "Evidence", "max_points": "2"},
    ]
}


def make_exam(portal, answers: list[tuple[str, str]], *, title="AI exam"):
    """A published exam (an essay worth 6, a short answer "Rome" worth 2) and one submitted
    attempt per (essay, short answer) pair of ``answers``."""
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = exams.create_exam(by=admin, title=title)
        section = exams.add_section(exam=exam, title="One")
        for kind, data in (("essay", ESSAY), ("short_answer", {"accepted": ["Rome"]})):
            question = bank.create_question(
                author=admin,
                type=kind,
                title=f"{kind} q",
                stem=f"<p>The {kind} question</p>",
                data=data if kind == "essay" else {**data, "points": "2"},
                status="active",
            )
            exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=admin)
        exam.refresh_from_db()
    attempts = []
    for number, (essay, short) in enumerate(answers):
        slug = re.sub(r"\W", "", title.lower())
        user = make_member(portal, f"cand{number}-{slug}@x.test", role="candidate")
        with portal.activate():
            attempt = delivery.start_attempt(
                exam=exam,
                user=user,
                client=delivery.Client(session_key=f"s{number}", ip="127.0.0.1", user_agent="t"),
            )
            now = timezone.now()
            for position, value in ((1, essay), (2, short)):
                Response.objects.create(
                    attempt=attempt, position=position, value=value, seq=1, saved_at=now
                )
            attempts.append(delivery.submit_attempt(attempt=attempt))
    connection.set_schema_to_public()
    return exam, admin, attempts


def run_job(portal, exam, admin, django_capture_on_commit_callbacks) -> AIGradingJob:
    with portal.activate(), django_capture_on_commit_callbacks(execute=True):
        job = grading.start_grading_job(exam=exam, by=admin)
    with portal.activate():
        job.refresh_from_db()
    connection.set_schema_to_public()
    return job


# -- generation ---------------------------------------------------------------------------


def drafts_for_review() -> list[DraftQuestion]:
    choice = {
        "options": [
            {"id": "a", "text": "Paris", "correct": True},
            {"id": "b", "text": "Lyon"},
        ]
    }
    return [
        DraftQuestion(  # the same text as a bank question
            type="single_choice",
            title="Capital of France",
            stem="<p>What is the capital of France?</p>",
            data=choice,
            explanation="Paris has been the capital since 987.",
            difficulty=1,
            tags=("geography",),
            rationale="Checks a basic fact from the syllabus.",
        ),
        DraftQuestion(  # a rewording of it
            type="single_choice",
            title="France's capital city",
            stem="<p>Which city is the capital of France today?</p>",
            data=choice,
            difficulty=2,
        ),
        DraftQuestion(  # new, valid
            type="true_false",
            title="Photosynthesis makes oxygen",
            stem="<p>Photosynthesis releases oxygen.</p>",
            data={"answer": True},
            explanation="Oxygen is a by-product of splitting water.",
            difficulty=2,
            tags=("biology", "plants"),
            rationale="Tests the products of photosynthesis.",
        ),
        DraftQuestion(  # invalid: no right option
            type="single_choice",
            title="Broken",
            stem="<p>Which planet is largest?</p>",
            data={"options": [{"id": "a", "text": "Mars"}, {"id": "b", "text": "Venus"}]},
        ),
    ]


def test_generation_review_saves_only_the_chosen_valid_drafts_as_drafts(
    make_portal, fake, settings
):
    settings.VIVA_AI_DUPLICATE_COSINE = 0.6
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        existing = bank.create_question(
            author=admin,
            type="true_false",
            title="France",
            stem="<p>What is the <b>capital</b> of France?</p>",
            data={"answer": True},
            status="active",
        )
        before = Question.objects.count()
    connection.set_schema_to_public()
    fake["drafts"] = drafts_for_review()
    client = portal.login_admin()

    page = client.post(
        "/cms/ai/generate/",
        {"topic": "European capitals", "count": "4", "types": ["single_choice", "true_false"]},
    )
    assert page.status_code == 302, page.content[:500]
    batch_url = page["Location"]
    assert fake["generation_requests"][0].topic == "European capitals"
    with portal.activate():
        assert Question.objects.count() == before  # nothing saved by generating
        batch = GenerationBatch.objects.get()
        drafts = batch.drafts["items"]
    connection.set_schema_to_public()
    assert drafts[0]["duplicates"] == [
        {"question_id": existing.pk, "title": "France", "reason": "same text", "cosine": 1.0}
    ]
    assert [d["question_id"] for d in drafts[1]["duplicates"]] == [existing.pk]
    assert drafts[1]["duplicates"][0]["reason"] == "very similar"
    assert drafts[2]["duplicates"] == [] and drafts[2]["errors"] == []
    assert drafts[3]["errors"] == ["data: options must have exactly one correct option"]
    assert drafts[2]["answer_key"] == ["True"]

    review = client.get(batch_url)
    html = review.content.decode()
    assert review.status_code == 200
    for text in (
        "Possible duplicate of",
        f"/cms/questions/{existing.pk}/",
        "Paris has been the capital since 987.",
        "Tests the products of photosynthesis.",
        "biology, plants",
        "cannot be saved",
    ):
        assert text in html
    assert 'name="draft" value="3"' not in html  # an invalid draft has no checkbox

    refused = client.post(batch_url, {"draft": ["2", "3"]})
    assert refused.status_code == 400
    with portal.activate():
        assert Question.objects.count() == before

    saved = client.post(batch_url, {"draft": ["2"]})
    assert saved.status_code == 302
    with portal.activate():
        assert Question.objects.count() == before + 1
        question = Question.objects.get(title="Photosynthesis makes oxygen")
        assert question.status == Question.Status.DRAFT
        assert sorted(question.tags.names()) == ["biology", "plants"]
        assert question.data == {
            "points": "1.00",
            "answer": True,
            "feedback_true": "",
            "feedback_false": "",
        }
        assert GenerationBatch.objects.get().drafts["items"][2]["saved_question_id"] == question.pk
        assert AICall.objects.filter(feature="question_generation").count() == 2  # draft + embed
    again = client.post(batch_url, {"draft": ["2"]})
    assert again.status_code == 400
    with portal.activate():
        assert Question.objects.count() == before + 1


def docx_bytes(paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def test_generation_from_an_uploaded_document_and_refusals(make_portal, fake):
    from django.core.files.uploadedfile import SimpleUploadedFile

    portal = make_portal("alpha")
    fake["drafts"] = drafts_for_review()[2:3]
    client = portal.login_admin()
    upload = SimpleUploadedFile(
        "syllabus.docx",
        docx_bytes(["Unit 1: photosynthesis.", "Light reactions and the Calvin cycle."]),
    )
    page = client.post(
        "/cms/ai/generate/", {"document": upload, "count": "1", "types": ["true_false"]}
    )
    assert page.status_code == 302
    assert fake["generation_requests"][0].source_text == (
        "Unit 1: photosynthesis.\nLight reactions and the Calvin cycle."
    )
    bad = client.post(
        "/cms/ai/generate/",
        {
            "document": SimpleUploadedFile("x.exe", b"MZ"),
            "count": "1",
            "types": ["true_false"],
        },
    )
    assert bad.status_code == 400 and "Upload a .txt, .pdf or .docx file." in bad.content.decode()
    nothing = client.post("/cms/ai/generate/", {"count": "1", "types": ["true_false"]})
    assert nothing.status_code == 400
    with portal.activate():
        assert GenerationBatch.objects.count() == 1


def test_generation_provider_failure_stores_nothing_and_says_why(make_portal, fake):
    portal = make_portal("alpha")
    fake["generation_error"] = "The model timed out after 30 s."
    page = portal.login_admin().post(
        "/cms/ai/generate/", {"topic": "x", "count": "2", "types": ["true_false"]}
    )
    assert page.status_code == 400
    assert "The model timed out after 30 s." in page.content.decode()
    with portal.activate():
        assert GenerationBatch.objects.count() == 0
        call = AICall.objects.get()
        assert (call.ok, call.error) == (False, "The model timed out after 30 s.")


def test_only_authors_and_admins_generate(make_portal, fake):
    portal = make_portal("alpha")
    make_member(portal, "grader@alpha.test", role="grader")
    make_member(portal, "author@alpha.test", role="author")
    from django.test import Client

    grader = sign_in(Client(HTTP_HOST=portal.domain), "grader@alpha.test")
    assert grader.get("/cms/ai/generate/").status_code == 404
    author = sign_in(Client(HTTP_HOST=portal.domain), "author@alpha.test")
    assert author.get("/cms/ai/generate/").status_code == 200


# -- grading ------------------------------------------------------------------------------


ANSWERS = [
    ("A confident, well argued essay with evidence.", "Roma"),
    ("An unsure essay.", "Rome"),  # the short answer is right: nothing to grade there
    ("Another confident essay.", "rome city"),
]


def confident_or_not(request):
    if request.rubric[0].id == "correct":
        return graded({"correct": "2"}, 0.8)
    if "confident" in request.response_text:
        return graded({"arg": "3", "ev": "2"}, 0.9, "Clear argument.")
    return graded({"arg": "1", "ev": "0.5"}, 0.4, "Hard to follow.")


def test_grading_job_records_progress_and_routes_by_confidence(
    make_portal, fake, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(portal, ANSWERS)
    fake["grade"] = confident_or_not
    client = portal.login_admin()
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/cms/ai/grading/{exam.pk}/start/")
    assert started.status_code == 302
    with portal.activate():
        job = AIGradingJob.objects.get()
        assert (job.status, job.progress_done, job.progress_total) == ("done", 5, 5)
        assert (job.suggested, job.failed) == (5, 0)
        suggestions = {
            (s.response.attempt_id, s.response.position): s
            for s in AISuggestion.objects.select_related("response")
        }
        first = suggestions[(attempts[0].pk, 1)]
        assert first.status == AISuggestion.Status.SUGGESTED
        assert first.total == Decimal("5.00") and first.max_score == Decimal("6.00")
        assert first.confidence == 0.9 and first.needs_human is False
        assert first.criterion_scores[0] == {
            "criterion_id": "arg",
            "criterion": "Argument",
            "points": "3.00",
            "max_points": "4.00",
            "rationale": "why arg",
        }
        assert (first.provider, first.model, first.prompt_version) == ("fake", "fake-1", "fake@1")
        unsure = suggestions[(attempts[1].pk, 1)]
        assert unsure.needs_human is True and unsure.total == Decimal("1.50")
        assert (attempts[1].pk, 2) not in suggestions  # a right short answer is left alone
        assert suggestions[(attempts[0].pk, 2)].total == Decimal("2.00")
        # Nothing is graded until a person decides.
        for response in Response.objects.filter(attempt__exam=exam, position=1):
            assert (response.graded_by_id, response.score, response.needs_manual) == (
                None,
                Decimal("0.00"),
                True,
            )
        assert AICall.objects.filter(feature="grading").count() == 5
    page = client.get(f"/cms/ai/grading/{exam.pk}/").content.decode()
    assert "5 of 5 (5 suggested, 0 failed)" in page
    assert "Ready to confirm (4)" in page and "Needs a human: low confidence (1)" in page

    # The threshold is the tenant's: raised above 0.9, everything goes to a person.
    with portal.activate():
        grading.update_policy(enabled=True, confidence_threshold=Decimal("0.95"), by=admin)
        AISuggestion.objects.all().delete()
    job = run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    with portal.activate():
        assert AISuggestion.objects.filter(needs_human=False).count() == 0


def test_a_running_job_shows_progress_and_a_second_start_reuses_it(
    make_portal, fake, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    exam, admin, _ = make_exam(portal, ANSWERS[:1])
    with portal.activate():
        sent: list = []
        original = grading._send
        grading._send = lambda job_id, schema: sent.append((job_id, schema))
        try:
            with django_capture_on_commit_callbacks(execute=True):
                job = grading.start_grading_job(exam=exam, by=admin)
                again = grading.start_grading_job(exam=exam, by=admin)
        finally:
            grading._send = original
        assert again.pk == job.pk and sent == [(job.pk, portal.schema)]
        AIGradingJob.objects.filter(pk=job.pk).update(
            status="running", progress_done=1, progress_total=2
        )
    page = portal.login_admin().get(f"/cms/ai/grading/{exam.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page and "1 of 2" in page


def test_confirm_and_override_grade_through_delivery_and_are_audited(
    make_portal, fake, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(portal, ANSWERS)
    fake["grade"] = confident_or_not
    run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    with portal.activate():
        confident = AISuggestion.objects.get(response__attempt=attempts[0], response__position=1)
        unsure = AISuggestion.objects.get(response__attempt=attempts[1], response__position=1)
        baseline = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client = portal.login_admin()

    page = client.get(f"/cms/ai/suggestion/{confident.pk}/").content.decode()
    assert "why arg" in page and "ready to confirm" in page
    confirmed = client.post(
        f"/cms/ai/suggestion/{confident.pk}/", {"action": "confirm", "c-comment": "Good."}
    )
    assert confirmed.status_code == 302
    overridden = client.post(
        f"/cms/ai/suggestion/{unsure.pk}/",
        {"action": "override", "o-rubric_arg": "2", "o-rubric_ev": "1", "o-comment": ""},
    )
    assert overridden.status_code == 302
    with portal.activate():
        response = Response.objects.get(attempt=attempts[0], position=1)
        assert response.score == Decimal("5.00") and response.graded_by.email == admin.email
        assert response.rubric_scores == {"arg": "3.00", "ev": "2.00"}
        assert response.feedback == ["Good."] and response.needs_manual is False
        other = Response.objects.get(attempt=attempts[1], position=1)
        assert other.score == Decimal("3.00")
        confident.refresh_from_db()
        unsure.refresh_from_db()
        assert confident.status == "confirmed" and confident.decided_by_id == admin.pk
        assert unsure.status == "overridden"
        events = list(
            AuditEvent.objects.filter(id__gt=baseline, action="response.graded").order_by("id")
        )
        assert len(events) == 4  # grade_response's own entry, then the AI decision, twice
        assert events[0].detail == {"position": 1, "from": "0.00", "to": "5.00"}
        assert events[1].detail["decision"] == "confirmed"
        assert events[1].detail["ai_suggestion"] == confident.pk
        assert events[3].detail["decision"] == "overridden"
        assert events[3].detail["ai_total"] == "1.50" and events[3].detail["to"] == "3.00"
        count = AuditEvent.objects.filter(action="response.graded").count()
    # A decided suggestion cannot be decided again; nothing changes.
    again = client.post(f"/cms/ai/suggestion/{confident.pk}/", {"action": "confirm"})
    assert again.status_code == 400
    with portal.activate():
        assert AuditEvent.objects.filter(action="response.graded").count() == count
        assert Response.objects.get(attempt=attempts[0], position=1).score == Decimal("5.00")


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("timeout", "The provider timed out after 30 s."),
        ("python_timeout", "The provider timed out."),
        ("unknown", "malformed output: unknown criterion 'style'"),
        ("too_many", "malformed output: 9.00 points for 'Argument' (0 to 4.00)"),
        ("missing", "malformed output: no score for Evidence"),
        ("confidence", "malformed output: confidence 1.7 is not between 0 and 1"),
        ("crash", "Unexpected error in the AI provider (KeyError)."),
    ],
)
def test_provider_failures_leave_the_response_ungraded_with_a_visible_reason(
    make_portal, fake, django_capture_on_commit_callbacks, behaviour, reason
):
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(portal, ANSWERS[1:2])

    def answer(request):
        if behaviour == "timeout":
            raise ProviderError("The provider timed out after 30 s.", retryable=True)
        if behaviour == "python_timeout":
            raise TimeoutError
        if behaviour == "unknown":
            return graded({"arg": "1", "ev": "1", "style": "1"}, 0.9)
        if behaviour == "too_many":
            return graded({"arg": "9", "ev": "1"}, 0.9)
        if behaviour == "missing":
            return graded({"arg": "1"}, 0.9)
        if behaviour == "confidence":
            return graded({"arg": "1", "ev": "1"}, 1.7)
        raise KeyError("boom")

    fake["grade"] = answer
    job = run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    assert (job.status, job.failed, job.suggested) == ("done", 1, 0)
    with portal.activate():
        suggestion = AISuggestion.objects.get()
        assert (suggestion.status, suggestion.reason) == ("failed", reason)
        assert suggestion.total is None and suggestion.criterion_scores == []
        response = Response.objects.get(attempt=attempts[0], position=1)
        assert (response.score, response.graded_by_id, response.needs_manual) == (
            Decimal("0.00"),
            None,
            True,
        )
        assert Attempt.objects.get(pk=attempts[0].pk).grading == "needs_manual"
    page = portal.login_admin().get(f"/cms/ai/grading/{exam.pk}/").content.decode()
    assert "AI could not grade (1)" in page
    from django.utils.html import escape

    assert escape(reason) in page


# -- agreement ----------------------------------------------------------------------------


def reference_qwk(a: list[int], b: list[int]) -> float:
    """Quadratic weighted kappa written out the long way (as in scikit-learn's
    ``cohen_kappa_score(weights="quadratic")``, with labels from min to max)."""
    low, high = min(a + b), max(a + b)
    k = high - low + 1
    n = len(a)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[x - low][y - low] += 1
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            num += weight * observed[i][j]
            den += weight * rows[i] * cols[j] / n
    return 1 - num / den


def test_quadratic_weighted_kappa_matches_the_reference_and_a_hand_computed_value():
    # By hand: ratings 0..2; O = [[1,0,0],[0,1,1],[0,0,1]], rows (1,2,1), cols (1,1,2),
    # w = [[0,.25,1],[.25,0,.25],[1,.25,0]]: Σw·O = .25; Σw·E = (1·1·.25 + 1·2·1 + 2·1·.25
    # + 2·2·.25 + 1·1·1 + 1·1·.25)/4 = 5/4 → κ = 1 − .25/1.25 = 0.8.
    assert agreement.quadratic_weighted_kappa([0, 1, 1, 2], [0, 1, 2, 2]) == pytest.approx(0.8)
    rng = random.Random(9)  # noqa: S311 - test data
    for _ in range(50):
        n = rng.randint(5, 60)
        human = [rng.randint(0, 6) for _ in range(n)]
        ai = [min(6, max(0, h + rng.choice([-2, -1, 0, 0, 0, 1]))) for h in human]
        if len(set(human + ai)) == 1:
            continue
        assert agreement.quadratic_weighted_kappa(ai, human) == pytest.approx(
            reference_qwk(ai, human)
        )
    assert agreement.quadratic_weighted_kappa([2, 2], [2, 2]) == 1.0
    assert agreement.quadratic_weighted_kappa([], []) is None


def test_agreement_report_on_seeded_grades(make_portal, fake, django_capture_on_commit_callbacks):
    """40 essays with known human grades; the AI is right on 28, one point off on 8 and
    three points off on 4. The report's figures equal the reference computation."""
    rng = random.Random(3)  # noqa: S311 - test data
    human = [rng.randint(0, 6) for _ in range(40)]
    offsets = [0] * 28 + [1] * 4 + [-1] * 4 + [3] * 2 + [-3] * 2
    rng.shuffle(offsets)
    ai = [min(6, max(0, h + o)) for h, o in zip(human, offsets, strict=True)]
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(
        portal, [(f"essay number {i}", "Rome") for i in range(40)], title="Agreement"
    )
    by_text = {f"essay number {i}": i for i in range(40)}

    def answer(request):
        points = ai[by_text[request.response_text]]
        return graded({"arg": str(min(points, 4)), "ev": str(max(points - 4, 0))}, 0.9)

    fake["grade"] = answer
    run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    with portal.activate():
        for attempt in attempts:
            response = Response.objects.get(attempt=attempt, position=1)
            points = human[by_text[response.value]]
            delivery.grade_response(
                response=response,
                by=admin,
                rubric_scores={"arg": str(min(points, 4)), "ev": str(max(points - 4, 0))},
            )
        report = agreement.exam_agreement(exam=exam)
    expected_exact = sum(a == h for a, h in zip(ai, human, strict=True)) / 40
    expected_adjacent = sum(abs(a - h) <= 1 for a, h in zip(ai, human, strict=True)) / 40
    assert report.n == 40 and report.confirmed == 0
    assert report.exact == pytest.approx(expected_exact)
    assert report.adjacent == pytest.approx(expected_adjacent)
    assert report.kappa == pytest.approx(reference_qwk(ai, human))
    assert report.verdict.startswith(
        "Strong" if report.kappa >= 0.8 else "Moderate" if report.kappa >= 0.6 else "Weak"
    )
    print(
        f"\nagreement: n={report.n} exact={report.exact:.3f} adjacent={report.adjacent:.3f} "
        f"qwk={report.kappa:.3f} verdict={report.verdict.split(':')[0]}"
    )
    page = portal.login_admin().get(f"/cms/ai/agreement/{exam.pk}/").content.decode()
    assert f"{report.kappa:.3f}" in page and report.verdict.split(":")[0] in page


# -- plagiarism ---------------------------------------------------------------------------


def test_minhash_estimates_jaccard_and_lsh_finds_the_pair():
    rng = random.Random(1)  # noqa: S311 - test data
    vocabulary = [f"w{i}" for i in range(2000)]
    base = [rng.choice(vocabulary) for _ in range(300)]
    near = base[:240] + [rng.choice(vocabulary) for _ in range(60)]
    other = [rng.choice(vocabulary) for _ in range(300)]
    sets = [plagiarism.shingle_hashes(words, 3) for words in (base, near, other)]
    exact = len(set(sets[0].tolist()) & set(sets[1].tolist())) / len(
        set(sets[0].tolist()) | set(sets[1].tolist())
    )
    signatures = plagiarism.MinHasher(256, seed=5).signatures(sets)
    estimate = float((signatures[0] == signatures[1]).mean())
    assert abs(estimate - exact) < 0.08
    assert float((signatures[0] == signatures[2]).mean()) < 0.05
    assert (0, 1) in plagiarism.lsh_candidates(signatures[:, :128], bands=64)


def test_union_find_clusters_and_passages_survive_reordering():
    assert plagiarism.union_find_clusters([(1, 2), (3, 4), (2, 5), (9, 8)]) == [
        [1, 2, 5],
        [3, 4],
        [8, 9],
    ]
    a = "The cat sat on the mat. Dogs bark at night in the town."
    b = "Dogs bark at night in the town! Also, the cat sat on the mat."
    passages = plagiarism.matching_passages(a, b)
    marked_b = "".join(text for text, matched in passages["b"] if matched)
    assert "Dogs bark at night in the town" in marked_b and "the cat sat on the mat" in marked_b
    assert "".join(text for text, _ in passages["a"]) == a  # segments rebuild the text
    assert passages["matched_words"] == 13


def test_plagiarism_report_finds_planted_copies_with_precision_and_recall(
    make_portal, django_capture_on_commit_callbacks, settings
):
    """600 essays on the real offline provider, with planted edited, reordered,
    paraphrased and partial copies and rings."""
    settings.VIVA_AI_PROVIDER = ""
    essays = corpus(
        600,
        seed=11,
        pairs={"edited": 15, "reordered": 15, "paraphrased": 15, "partial": 8},
        rings=4,
    )
    # One more copy, of an honest essay, carrying markup that must be shown as text.
    source = next(i for i, e in enumerate(essays) if e.family is None)
    essays[source] = dataclasses.replace(essays[source], family=9999, kind="source")
    essays.append(
        dataclasses.replace(
            essays[source], text="<script>alert(1)</script> " + essays[source].text, kind="edited"
        )
    )
    truth = truth_pairs(essays)
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam, ids = seed_exam(admin=admin, essays=essays)
        with django_capture_on_commit_callbacks(execute=True):
            report = plagiarism.start_report(exam=exam, by=admin)
        report.refresh_from_db()
        assert report.status == "done", report.message
        assert report.progress_done == report.progress_total == len(essays)
        index = {pk: i for i, pk in enumerate(ids)}
        found = {
            tuple(sorted((index[a], index[b])))
            for a, b in report.pairs.values_list("response_a_id", "response_b_id")
        }
        assert AICall.objects.filter(feature="plagiarism", ok=True).count() == 5
    figures = precision_recall(found, truth)
    print(f"\nplagiarism (600 essays, offline provider): {figures}")
    assert figures["precision"] >= 0.9 and figures["recall"] >= 0.85
    kinds = {essays[i].kind for pair in found & truth for i in pair}
    assert {"edited", "reordered", "paraphrased", "partial"} <= kinds

    page = portal.login_admin().get(f"/cms/ai/plagiarism/{exam.pk}/").content.decode()
    assert "<mark>" in page and "Cluster 1" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_plagiarism_without_embeddings_still_finds_copies(
    make_portal, fake, django_capture_on_commit_callbacks
):
    fake["embed_error"] = "The embedding model is unavailable."
    essays = corpus(120, seed=4, pairs={"edited": 5, "reordered": 5}, rings=0)
    truth = truth_pairs(essays)
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam, ids = seed_exam(admin=admin, essays=essays)
        with django_capture_on_commit_callbacks(execute=True):
            report = plagiarism.start_report(exam=exam, by=admin)
        report.refresh_from_db()
        index = {pk: i for i, pk in enumerate(ids)}
        found = {
            tuple(sorted((index[a], index[b])))
            for a, b in report.pairs.values_list("response_a_id", "response_b_id")
        }
        assert report.settings["embedding"] == "unavailable: The embedding model is unavailable."
    assert found == truth
    page = portal.login_admin().get(f"/cms/ai/plagiarism/{exam.pk}/").content.decode()
    assert "Paraphrase check unavailable" in page


# -- isolation ----------------------------------------------------------------------------


def test_tenant_b_cannot_reach_a_s_suggestions_reports_jobs_or_batches(
    two_portals, fake, django_capture_on_commit_callbacks
):
    a, b = two_portals
    exam, admin, attempts = make_exam(a, ANSWERS[:1])
    fake["grade"] = confident_or_not
    fake["drafts"] = drafts_for_review()[2:3]
    run_job(a, exam, admin, django_capture_on_commit_callbacks)
    with a.activate():
        suggestion = AISuggestion.objects.first()
        with django_capture_on_commit_callbacks(execute=True):
            report = plagiarism.start_report(exam=exam, by=admin)
    a_client = a.login_admin()
    assert (
        a_client.post(
            "/cms/ai/generate/", {"topic": "t", "count": "1", "types": ["true_false"]}
        ).status_code
        == 302
    )
    with a.activate():
        batch = GenerationBatch.objects.get()
    b_client = b.login_admin()
    urls = [
        f"/cms/ai/suggestion/{suggestion.pk}/",
        f"/cms/ai/grading/{exam.pk}/",
        f"/cms/ai/agreement/{exam.pk}/",
        f"/cms/ai/plagiarism/{exam.pk}/",
        f"/cms/ai/generate/{batch.pk}/",
    ]
    for url in urls:
        assert a_client.get(url).status_code == 200, url
        assert b_client.get(url).status_code == 404, url
    # B's own exam (whatever its id) shows none of A's rows.
    b_exam, _, _ = make_exam(b, [("b essay", "Rome")], title="Beta exam")
    page = b_client.get(f"/cms/ai/grading/{b_exam.pk}/").content.decode()
    assert "cand0-aiexam" not in page and "Ready to confirm (0)" in page
    # Posting A's suggestion id on B's host changes nothing anywhere.
    suggestion_url = urls[0]
    assert b_client.post(suggestion_url, {"action": "confirm"}).status_code == 404
    with a.activate():
        assert AISuggestion.objects.get(pk=suggestion.pk).status == "suggested"
    # A's session on B's host is anonymous.
    a_client.defaults["HTTP_HOST"] = b.domain
    assert a_client.get(suggestion_url).status_code in (302, 404)
    # A task carries its tenant: A's job id run in B's schema finds nothing and does nothing.
    with a.activate():
        job_id = AIGradingJob.objects.get().pk
    with b.activate():
        before = (AICall.objects.count(), AISuggestion.objects.count())
    assert tasks.run_grading_job(job_id, b.schema) is None or not _same_job(a, b, job_id)
    assert tasks.run_plagiarism_report(report.pk, b.schema) is None or not _same_report(
        a, b, report.pk
    )
    with b.activate():
        assert (AICall.objects.count(), AISuggestion.objects.count()) == before
    with a.activate():
        assert AICall.objects.filter(feature="grading").count() == 2


def _same_job(a, b, job_id: int) -> bool:
    """Whether B happens to hold a job with A's id for A's exam (ids are per schema)."""
    with a.activate():
        exam_id = AIGradingJob.objects.get(pk=job_id).exam_id
    with b.activate():
        return AIGradingJob.objects.filter(pk=job_id, exam_id=exam_id).exists()


def _same_report(a, b, report_id: int) -> bool:
    with a.activate():
        exam_id = PlagiarismReport.objects.get(pk=report_id).exam_id
    with b.activate():
        return PlagiarismReport.objects.filter(pk=report_id, exam_id=exam_id).exists()


def test_tasks_are_sent_after_commit_with_the_schema_they_belong_to(
    two_portals, fake, django_capture_on_commit_callbacks
):
    a, b = two_portals
    exam, admin, _ = make_exam(a, ANSWERS[:1])
    sent: list = []
    originals = (tasks.run_grading_job.delay, tasks.run_plagiarism_report.delay)
    tasks.run_grading_job.delay = lambda *args: sent.append(("grade", *args))
    tasks.run_plagiarism_report.delay = lambda *args: sent.append(("plagiarism", *args))
    try:
        with a.activate(), django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = grading.start_grading_job(exam=exam, by=admin)
            report = plagiarism.start_report(exam=exam, by=admin)
        assert sent == []  # nothing before commit
        for callback in callbacks:
            callback()
    finally:
        tasks.run_grading_job.delay, tasks.run_plagiarism_report.delay = originals
    assert sent == [("grade", job.pk, a.schema), ("plagiarism", report.pk, a.schema)]
    # Run in the right schema, the job does its work there and only there.
    fake["grade"] = confident_or_not
    assert tasks.run_grading_job(job.pk, a.schema) == "done"
    with a.activate():
        assert AISuggestion.objects.count() == 2
    with b.activate():
        assert AISuggestion.objects.count() == 0 and AICall.objects.count() == 0
    # Run twice, it runs once.
    assert tasks.run_grading_job(job.pk, a.schema) == "done"
    with a.activate():
        assert AICall.objects.filter(feature="grading").count() == 2


def test_ai_calls_refuse_to_run_outside_a_tenant_schema(fake):
    from assessments.ai import metering

    connection.set_schema_to_public()
    with pytest.raises(metering.OutsideTenantError):
        metering.call("grading", FakeProvider().embed, ["x"])


def test_a_job_whose_worker_died_resumes_and_finishes_once(
    make_portal, fake, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(portal, ANSWERS)
    fake["grade"] = confident_or_not
    with portal.activate():
        job = AIGradingJob.objects.create(exam=exam, requested_by=admin)
        todo = grading.responses_to_grade(exam=exam)
        # The first worker suggested two grades, then died with the job "running".
        for response, item in todo[:2]:
            grading.suggest(response=response, item=item, policy=grading.get_policy(), job=job)
        AIGradingJob.objects.filter(pk=job.pk).update(status="running", progress_done=2)
        calls = len(fake["grading_requests"])
        assert tasks.run_grading_job(job.pk, portal.schema) == "done"
        job.refresh_from_db()
        assert (job.progress_done, job.progress_total, job.suggested) == (5, 5, 5)
        assert len(fake["grading_requests"]) - calls == 3  # only the ones left
        assert tasks.run_grading_job(job.pk, portal.schema) == "done"
        assert len(fake["grading_requests"]) - calls == 3
        assert AISuggestion.objects.filter(job=job).count() == 5


def test_the_offline_provider_drafts_and_grades_end_to_end(
    make_portal, django_capture_on_commit_callbacks, settings
):
    """No fake: the default offline provider drafts from a syllabus and suggests grades."""
    settings.VIVA_AI_PROVIDER = ""
    portal = make_portal("alpha")
    exam, admin, _ = make_exam(
        portal,
        [
            ("Photosynthesis turns light energy into chemical energy stored in glucose.", "Rome"),
            ("I do not know.", "Paris"),
        ],
    )
    syllabus = (
        "Photosynthesis is the process by which green plants convert light energy into "
        "chemical energy. It takes place in the chloroplasts. The light reactions split water "
        "and release oxygen. The Calvin cycle fixes carbon dioxide into glucose. The rate of "
        "photosynthesis is limited by light intensity, carbon dioxide and temperature."
    )
    with portal.activate():
        batch = generation.generate_batch(author=admin, source_text=syllabus, count=4)
        drafts, _ = generation.batch_drafts(batch)
        assert drafts and batch.provider == "offline"
        valid = [i for i, d in enumerate(drafts) if not d["errors"]]
        assert valid, [d["errors"] for d in drafts]
        created = generation.save_drafts(batch=batch, indexes=valid, author=admin)
        assert {q.status for q in created} == {"draft"}
    job = run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    with portal.activate():
        assert job.status == "done" and job.failed == 0 and job.suggested == 3
        assert all(s.provider == "offline" for s in AISuggestion.objects.all())
    print(f"\noffline drafts: {len(drafts)} ({len(valid)} valid)")


def test_list_pages_take_the_same_queries_whatever_the_number_of_rows(
    make_portal, fake, django_capture_on_commit_callbacks
):
    from django.test.utils import CaptureQueriesContext

    fake["grade"] = confident_or_not
    portal = make_portal("alpha")
    small, admin, _ = make_exam(portal, ANSWERS[:1], title="Small")
    large, _, _ = make_exam(portal, ANSWERS * 3, title="Large")
    essays = corpus(60, seed=2, pairs={"edited": 3}, rings=0)
    with portal.activate():
        for exam in (small, large):
            with django_capture_on_commit_callbacks(execute=True):
                grading.start_grading_job(exam=exam, by=admin)
        copied, _ = seed_exam(admin=admin, essays=essays, title="Copied")
        with django_capture_on_commit_callbacks(execute=True):
            plagiarism.start_report(exam=copied, by=admin)
        assert copied.pk and PlagiarismReport.objects.get(exam=copied).pairs_count == 3
    client = portal.login_admin()
    client.get("/cms/ai/")  # the first admin page of a session does some one-off work
    counts = {}
    for name, url in (
        ("small", f"/cms/ai/grading/{small.pk}/"),
        ("large", f"/cms/ai/grading/{large.pk}/"),
        ("plagiarism", f"/cms/ai/plagiarism/{copied.pk}/"),
        ("index", "/cms/ai/"),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[name] = len(queries)
    assert counts["small"] == counts["large"]
    assert counts["plagiarism"] <= counts["small"] + 5
    assert "/cms/ai/" in client.get("/cms/").content.decode()  # the menu item


def test_confirming_never_replaces_a_grade_given_by_hand_in_the_meantime(
    make_portal, fake, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    exam, admin, attempts = make_exam(portal, ANSWERS[:1])
    fake["grade"] = confident_or_not
    run_job(portal, exam, admin, django_capture_on_commit_callbacks)
    with portal.activate():
        suggestion = AISuggestion.objects.get(response__position=1)
        response = Response.objects.get(attempt=attempts[0], position=1)
        delivery.grade_response(response=response, by=admin, rubric_scores={"arg": 1, "ev": 1})
        with pytest.raises(grading.GradingError, match="graded this response in the meantime"):
            grading.confirm_suggestion(suggestion=suggestion, by=admin)
        assert Response.objects.get(pk=response.pk).score == Decimal("2.00")
        assert AISuggestion.objects.get(pk=suggestion.pk).status == "suggested"
