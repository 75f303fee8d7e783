"""Exam delivery pages: landing, start/resume, player, submit, results per release policy,
sequential navigation, the events and state endpoints, the proctor and grading screens, and
two-tenant isolation of all of them."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from assessments import services as bank
from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt, IntegrityEvent, Response
from assessments.exams import services as exams
from assessments.models import Exam
from tenants.access.permissions import assign_role, grant_object_permission
from tenants.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()

#: One question of each of several types: (type, title, stem, data, a right answer).
QUESTIONS = [
    (
        "single_choice",
        "Capital",
        "<p>Which city is the capital of France?</p>",
        {
            "options": [
                {"id": "a", "text": "Paris", "correct": True, "feedback": "Yes, Paris."},
                {"id": "b", "text": "Lyon", "correct": False},
            ]
        },
        "a",
    ),
    ("true_false", "Water", "<p>Water boils at 100 °C at sea level.</p>", {"answer": True}, True),
    (
        "short_answer",
        "Sky",
        "<p>What colour is a clear sky?</p>",
        {"accepted": ["cerulean"]},
        "cerulean",
    ),
    (
        "numeric",
        "Gravity",
        "<p>Standard gravity in m/s²?</p>",
        {"answer": "9.81", "tolerance": "0.01"},
        "9.81",
    ),
]
ESSAY = (
    "essay",
    "Argue",
    "<p>Argue for or against homework.</p>",
    {
        "rubric": [
            {"id": "argument", "criterion": "Argument", "max_points": "4"},
            {"id": "style", "criterion": "Style", "max_points": "2"},
        ]
    },
    "Homework builds habits.",
)


def make_user(portal, email: str, *, role: str | None = "candidate"):
    with portal.activate():
        user = User.objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        if role:
            assign_role(user=user, role=role)
        return user


def admin_of(portal):
    return User.objects.get(email=portal.admin_email)


def client_for(portal, user) -> Client:
    client = Client(HTTP_HOST=portal.domain)
    with portal.activate():
        client.force_login(user)
    connection.set_schema_to_public()
    return client


def build_exam(portal, *, questions=QUESTIONS, title="Mid-term", **settings) -> Exam:
    """A published exam asking ``questions`` in one section, in order."""
    with portal.activate():
        author = admin_of(portal)
        exam = exams.create_exam(by=author, title=title, description="<p>Rules</p>", **settings)
        section = exams.add_section(exam=exam, title="Part A", instructions="<p>Answer.</p>")
        for kind, q_title, stem, data, _ in questions:
            question = bank.create_question(
                author=author,
                type=kind,
                title=q_title,
                stem=stem,
                data=data,
                status="active",
                explanation=f"<p>Because of {q_title}.</p>",
            )
            exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=author)
        return exam


def open_player(client, attempt_id: int) -> dict:
    """The player page's configuration (what player.js reads)."""
    response = client.get(f"/exam/attempt/{attempt_id}/")
    assert response.status_code == 200, response.content[:500]
    connection.set_schema_to_public()
    return response.context["config"]


def autosave(client, token: str, answers: list[dict], **extra):
    response = client.post(
        "/exam/autosave/",
        data=json.dumps({"token": token, "answers": answers}),
        content_type="application/json",
        **extra,
    )
    connection.set_schema_to_public()
    return response


def start(client, exam_id: int) -> int:
    response = client.post(f"/exam/{exam_id}/start/")
    connection.set_schema_to_public()
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith("/exam/attempt/")
    return int(response["Location"].split("/")[3])


@pytest.fixture
def portal(make_portal):
    return make_portal("alpha", "Alpha University")


# --- landing, start, resume --------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(portal):
    exam = build_exam(portal)
    response = portal.client.get(f"/exam/{exam.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/exam/{exam.pk}/"


def test_landing_states_rules_with_the_candidates_extra_time(portal):
    exam = build_exam(
        portal,
        time_limit_minutes=60,
        attempts_allowed=2,
        navigation="sequential",
        results_release="manual",
    )
    candidate = make_user(portal, "cand@alpha.test")
    with portal.activate():
        exams.assign_exam(exam=exam, user=candidate, extra_time_minutes=15)
    client = client_for(portal, candidate)

    page = client.get(f"/exam/{exam.pk}/").content.decode()
    assert "75 minutes (including your 15 minutes of extra time)" in page
    assert "2 of 2 left" in page
    assert "once you move on you cannot go back" in page
    assert "When released by hand" in page
    assert "Start the exam" in page
    assert f'action="/exam/{exam.pk}/start/"' in page

    other = make_user(portal, "other@alpha.test")  # not assigned: the exam is not theirs
    assert client_for(portal, other).get(f"/exam/{exam.pk}/").status_code == 404


def test_start_opens_the_player_resume_returns_the_same_attempt_and_get_is_refused(portal):
    exam = build_exam(portal, time_limit_minutes=30)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)

    assert client.get(f"/exam/{exam.pk}/start/").status_code == 405
    attempt_id = start(client, exam.pk)
    assert start(client, exam.pk) == attempt_id  # resume, not a second attempt
    with portal.activate():
        attempt = Attempt.objects.get()
        assert (attempt.pk, attempt.user, attempt.number) == (attempt_id, candidate, 1)
        assert attempt.deadline == attempt.started_at + timedelta(minutes=30)

    response = client.get(f"/exam/attempt/{attempt_id}/")
    page = response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    assert page.count('class="viva-question"') == 4
    assert "Resume attempt 1" in client.get(f"/exam/{exam.pk}/").content.decode()
    # No answer key reaches the browser: not the accepted text, not the option flags.
    assert "cerulean" not in page
    assert '"correct"' not in page
    config = response.context["config"]
    assert (config["attempt"], config["max_seq"], config["sequential"]) == (attempt_id, 0, False)
    assert config["urls"]["autosave"] == "/exam/autosave/"


def test_a_refused_start_says_why_on_the_landing_page(portal):
    exam = build_exam(portal, attempts_allowed=1)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})

    response = client.post(f"/exam/{exam.pk}/start/", follow=True)
    page = response.content.decode()
    assert "You have used all 1 of your attempts." in page
    assert "You have used all your attempts at this exam." in page
    with portal.activate():
        assert Attempt.objects.count() == 1


def test_a_strict_exam_open_in_another_session_shows_a_clear_page(portal):
    exam = build_exam(portal, proctoring_level="strict")
    candidate = make_user(portal, "cand@alpha.test")
    attempt_id = start(client_for(portal, candidate), exam.pk)

    response = client_for(portal, candidate).get(f"/exam/attempt/{attempt_id}/")
    assert response.status_code == 403
    assert "This attempt is open in another browser session" in response.content.decode()
    with portal.activate():
        assert list(IntegrityEvent.objects.values_list("kind", flat=True)) == ["session_refused"]


# --- taking the exam: save, summary, submit, results ---------------------------------------


def test_answers_saved_then_summary_submit_and_immediate_results(portal):
    exam = build_exam(portal, pass_mark_percent=50)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    config = open_player(client, attempt_id)

    saved = autosave(
        client,
        config["token"],
        [
            {"position": 1, "value": "a", "flagged": False, "seq": 1},
            {"position": 3, "value": "grey", "flagged": True, "seq": 2},
        ],
    )
    assert saved.status_code == 200
    assert saved.json()["saved"] == [{"position": 1, "seq": 1}, {"position": 3, "seq": 2}]
    assert open_player(client, attempt_id)["max_seq"] == 2

    summary = client.get(f"/exam/attempt/{attempt_id}/summary/").content.decode()
    assert "Not answered (2)" in summary
    assert "Flagged for review (1)" in summary

    refused = client.post(f"/exam/attempt/{attempt_id}/submit/")  # no confirmation
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.content.decode()
    with portal.activate():
        assert Attempt.objects.get().status == "in_progress"

    response = client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})
    assert response["Location"] == f"/exam/attempt/{attempt_id}/results/"
    with portal.activate():
        attempt = Attempt.objects.get()
        assert (attempt.status, attempt.score, attempt.max_score) == (
            "submitted",
            Decimal("1.00"),
            Decimal("4.00"),
        )
        assert attempt.passed is False
    results = client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "Score: <strong>1.00 of 4.00</strong> (25.00%)" in results
    assert "Not passed" in results
    assert "cerulean" in results  # the right answer, now that results are visible
    assert "Because of Sky." in results
    assert "Yes, Paris." in results  # the chosen option's feedback
    # The player of a closed attempt leads to the results; saving is refused.
    assert client.get(f"/exam/attempt/{attempt_id}/")["Location"].endswith("/results/")
    late = autosave(client, config["token"], [{"position": 2, "value": True, "seq": 9}])
    assert (late.status_code, late.json()["error"]) == (409, "closed")


def test_a_portal_turning_read_only_mid_exam_lets_the_attempt_finish_but_starts_none(portal):
    from billing.models import Plan, Subscription

    exam = build_exam(portal)
    client = client_for(portal, make_user(portal, "cand@alpha.test"))
    attempt_id = start(client, exam.pk)
    late = client_for(portal, make_user(portal, "late@alpha.test"))
    Subscription.objects.create(
        tenant=portal.tenant, plan=Plan.objects.get(code="starter"), status="canceled", seats=5
    )
    refused = late.post(f"/exam/{exam.pk}/start/")
    connection.set_schema_to_public()
    assert refused.status_code == 403 and b"data-read-only" in refused.content
    submitted = client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})
    connection.set_schema_to_public()
    assert submitted.status_code == 302
    with portal.activate():
        assert list(Attempt.objects.values_list("status", flat=True)) == ["submitted"]


def test_results_follow_the_release_policy_manual(portal):
    exam = build_exam(portal, results_release="manual")
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})

    hidden = client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "when your exam office releases them" in hidden
    assert "Score:" not in hidden and "cerulean" not in hidden

    with portal.activate():
        delivery.release_results(exam=exam, by=admin_of(portal))
    shown = client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "Score: <strong>0.00 of 4.00</strong>" in shown
    assert "cerulean" in shown


def test_results_follow_the_release_policy_after_close(portal):
    exam = build_exam(portal, results_release="after_close")
    candidate = make_user(portal, "cand@alpha.test")
    with portal.activate():
        assignment = exams.assign_exam(
            exam=exam, user=candidate, closes_at=timezone.now() + timedelta(hours=2)
        )
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})

    hidden = client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "after the exam closes" in hidden and "Score:" not in hidden
    with portal.activate():
        type(assignment).objects.filter(pk=assignment.pk).update(
            closes_at=timezone.now() - timedelta(minutes=1)
        )
    assert "Score:" in client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()


def test_a_late_submit_is_refused_with_a_clear_message(portal):
    exam = build_exam(portal, time_limit_minutes=10, grace_seconds=0)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    with portal.activate():
        Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() - timedelta(seconds=5))

    response = client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"}, follow=True)
    page = response.content.decode()
    assert "Time is up: the attempt is closed by the server at the deadline." in page
    assert "The server is closing this attempt" in page
    with portal.activate():
        assert Attempt.objects.get().status == "in_progress"
        delivery.close_overdue_attempts()
        assert Attempt.objects.get().closed_by == "deadline"
    closed = client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "Time ran out: the server closed and submitted this attempt" in closed


def test_sequential_navigation_moves_forward_only(portal):
    exam = build_exam(portal, navigation="sequential")
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    page = client.get(f"/exam/attempt/{attempt_id}/").content.decode()
    assert page.count('class="viva-question"') == 1 and 'data-position="1"' in page
    assert "Next question" in page

    assert client.post(f"/exam/attempt/{attempt_id}/advance/", {"position": 2}).status_code == 302
    page = client.get(f"/exam/attempt/{attempt_id}/").content.decode()
    assert page.count('class="viva-question"') == 1 and 'data-position="2"' in page

    back = client.post(f"/exam/attempt/{attempt_id}/advance/", {"position": 1}, follow=True)
    assert "This exam does not allow going back." in back.content.decode()
    with portal.activate():
        assert Attempt.objects.get().current_position == 2
    config = open_player(client, attempt_id)
    reply = autosave(client, config["token"], [{"position": 1, "value": "a", "seq": 5}])
    assert reply.json()["refused"] == [{"position": 1, "reason": "position"}]
    with portal.activate():
        assert not Response.objects.exists()


# --- the JSON endpoints ---------------------------------------------------------------------


def post_events(client, attempt_id, body, *, raw=False):
    response = client.post(
        f"/exam/attempt/{attempt_id}/events/",
        data=body if raw else json.dumps(body),
        content_type="application/json",
    )
    connection.set_schema_to_public()
    return response


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"events": []},
        [{"kind": "time_added"}],
        [{"kind": "paste", "detail": "x" * 10}],
        [{"kind": "paste", "detail": {"text": "x" * 600}}],
        [{"kind": "tab_hidden"}] * 101,
        [{"kind": "tab_hidden"}, "paste"],
    ],
)
def test_events_endpoint_refuses_bad_input_and_stores_nothing(portal, body):
    exam = build_exam(portal)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    response = post_events(client, attempt_id, body, raw=isinstance(body, str))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    with portal.activate():
        assert not IntegrityEvent.objects.exists()


def test_events_endpoint_stores_known_kinds_with_server_time(portal):
    exam = build_exam(portal)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    assert client.get(f"/exam/attempt/{attempt_id}/events/").status_code == 405
    before = timezone.now()
    response = post_events(
        client,
        attempt_id,
        [
            {"kind": "tab_hidden", "at": "2000-01-01T00:00:00Z"},
            {"kind": "paste", "detail": {"position": 3, "length": 12}},
        ],
    )
    assert (response.status_code, response.json()) == (200, {"stored": 2})
    with portal.activate():
        events = list(IntegrityEvent.objects.order_by("pk"))
        assert [e.kind for e in events] == ["tab_hidden", "paste"]
        assert events[0].at >= before and events[0].client_at.year == 2000
        assert events[1].detail == {"position": 3, "length": 12}


def test_events_need_the_csrf_token(portal):
    exam = build_exam(portal)
    candidate = make_user(portal, "cand@alpha.test")
    attempt_id = start(client_for(portal, candidate), exam.pk)
    strict = Client(HTTP_HOST=portal.domain, enforce_csrf_checks=True)
    with portal.activate():
        strict.force_login(candidate)
    response = post_events(strict, attempt_id, [{"kind": "tab_hidden"}])
    assert response.status_code == 403
    with portal.activate():
        assert not IntegrityEvent.objects.exists()


def test_state_endpoint_gives_clock_status_and_acknowledged_answers(portal):
    exam = build_exam(portal, time_limit_minutes=20)
    candidate = make_user(portal, "cand@alpha.test")
    client = client_for(portal, candidate)
    attempt_id = start(client, exam.pk)
    config = open_player(client, attempt_id)
    autosave(client, config["token"], [{"position": 2, "value": False, "flagged": True, "seq": 7}])

    body = client.get(f"/exam/attempt/{attempt_id}/state/").json()
    with portal.activate():
        attempt = Attempt.objects.get()
    assert body["status"] == "in_progress"
    assert body["deadline"] == attempt.deadline.isoformat()
    assert body["answers"] == [{"position": 2, "seq": 7, "flagged": True}]
    assert body["max_seq"] == 7
    assert abs((timezone.datetime.fromisoformat(body["now"]) - timezone.now()).total_seconds()) < 5


# --- proctoring ---------------------------------------------------------------------------


def test_proctor_adds_time_closes_and_releases_audited(portal):
    exam = build_exam(portal, time_limit_minutes=30)
    candidate = make_user(portal, "cand@alpha.test")
    cand_client = client_for(portal, candidate)
    attempt_id = start(cand_client, exam.pk)
    post_events(cand_client, attempt_id, [{"kind": "tab_hidden"}, {"kind": "tab_visible"}])
    proctor = make_user(portal, "proctor@alpha.test", role="proctor")
    client = client_for(portal, proctor)
    with portal.activate():
        deadline = Attempt.objects.get().deadline

    listing = client.get("/cms/proctor/").content.decode()
    assert "cand@alpha.test" in listing and "0 of 4" in listing
    assert client.get(f"/cms/proctor/?exam={exam.pk}").status_code == 200
    detail = client.get(f"/cms/proctor/attempt/{attempt_id}/").content.decode()
    assert "Tab hidden" in detail and "Tab visible again" in detail

    # The first POST asks for confirmation and changes nothing.
    ask = client.post(f"/cms/proctor/attempt/{attempt_id}/add-time/", {"minutes": 10})
    assert "Add 10 minutes to cand@alpha.test" in ask.content.decode()
    with portal.activate():
        assert Attempt.objects.get().deadline == deadline
    client.post(f"/cms/proctor/attempt/{attempt_id}/add-time/", {"minutes": 10, "confirmed": "yes"})
    with portal.activate():
        assert Attempt.objects.get().deadline == deadline + timedelta(minutes=10)
    client.post(f"/cms/proctor/attempt/{attempt_id}/release/", {"confirmed": "yes"})
    client.post(f"/cms/proctor/attempt/{attempt_id}/close/", {"confirmed": "yes"})
    with portal.activate():
        attempt = Attempt.objects.get()
        assert (attempt.status, attempt.closed_by, attempt.session_key_hash) == (
            "submitted",
            "proctor",
            "",
        )
        assert list(
            AuditEvent.objects.filter(object_id=str(attempt_id))
            .order_by("pk")
            .values_list("action", "actor__email")
        ) == [
            ("attempt.time_added", "proctor@alpha.test"),
            ("attempt.session_released", "proctor@alpha.test"),
            ("attempt.closed", "proctor@alpha.test"),
        ]
        assert list(IntegrityEvent.objects.order_by("pk").values_list("kind", flat=True)) == [
            "tab_hidden",
            "tab_visible",
            "time_added",
            "closed_by_proctor",
        ]
    assert "cand@alpha.test" not in client.get("/cms/proctor/").content.decode()


def test_non_proctors_get_404_and_change_nothing(portal):
    exam = build_exam(portal, time_limit_minutes=30)
    candidate = make_user(portal, "cand@alpha.test")
    attempt_id = start(client_for(portal, candidate), exam.pk)
    author = make_user(portal, "author@alpha.test", role="author")
    client = client_for(portal, author)
    with portal.activate():
        deadline = Attempt.objects.get().deadline
    assert client.get("/cms/proctor/").status_code == 404
    assert client.get(f"/cms/proctor/attempt/{attempt_id}/").status_code == 404
    for action in ("add-time", "close", "release"):
        response = client.post(
            f"/cms/proctor/attempt/{attempt_id}/{action}/", {"minutes": 5, "confirmed": "yes"}
        )
        assert response.status_code == 404
    with portal.activate():
        attempt = Attempt.objects.get()
        assert (attempt.status, attempt.deadline) == ("in_progress", deadline)
        assert not AuditEvent.objects.filter(action__startswith="attempt.").exists()


# --- grading ----------------------------------------------------------------------------


def test_a_grader_scores_an_essay_by_rubric_and_the_candidate_sees_the_result(portal):
    exam = build_exam(portal, questions=[QUESTIONS[0], ESSAY], pass_mark_percent=50)
    candidate = make_user(portal, "cand@alpha.test")
    cand_client = client_for(portal, candidate)
    attempt_id = start(cand_client, exam.pk)
    config = open_player(cand_client, attempt_id)
    autosave(
        cand_client,
        config["token"],
        [{"position": 1, "value": "b", "seq": 1}, {"position": 2, "value": ESSAY[4], "seq": 2}],
    )
    cand_client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": "1"})
    pending = cand_client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "Some answers are still being marked by a grader." in pending

    grader = make_user(portal, "grader@alpha.test", role="grader")
    outsider = make_user(portal, "grader2@alpha.test", role="grader")
    with portal.activate():
        grant_object_permission(
            user=grader, perm="assessments.grade_exam", obj=exam, by=admin_of(portal)
        )
    client = client_for(portal, grader)
    listing = client.get(f"/cms/grading/exam/{exam.pk}/").content.decode()
    assert "Waiting for manual grading (1)" in listing and "cand@alpha.test" in listing
    page = client.get(f"/cms/grading/attempt/{attempt_id}/").content.decode()
    assert "Homework builds habits." in page and "needs grading" in page

    outsider_client = client_for(portal, outsider)
    assert outsider_client.get(f"/cms/grading/exam/{exam.pk}/").status_code == 404
    assert outsider_client.get(f"/cms/grading/attempt/{attempt_id}/").status_code == 404
    assert (
        outsider_client.post(
            f"/cms/grading/attempt/{attempt_id}/response/2/",
            {"r2-rubric_argument": "4", "r2-rubric_style": "2"},
        ).status_code
        == 404
    )

    too_much = client.post(
        f"/cms/grading/attempt/{attempt_id}/response/2/",
        {"r2-rubric_argument": "5", "r2-rubric_style": "1"},
    )
    assert too_much.status_code == 400
    with portal.activate():
        assert Response.objects.get(position=2).needs_manual is True

    done = client.post(
        f"/cms/grading/attempt/{attempt_id}/response/2/",
        {"r2-rubric_argument": "3", "r2-rubric_style": "1.5", "r2-comment": "Well argued."},
    )
    assert done.status_code == 302
    with portal.activate():
        response = Response.objects.get(position=2)
        attempt = Attempt.objects.get()
        assert (response.score, response.graded_by, response.needs_manual) == (
            Decimal("4.50"),
            grader,
            False,
        )
        assert (attempt.grading, attempt.score, attempt.max_score, attempt.passed) == (
            "graded",
            Decimal("4.50"),
            Decimal("7.00"),
            True,
        )
        assert AuditEvent.objects.filter(action="response.graded", actor=grader).count() == 1
    results = cand_client.get(f"/exam/attempt/{attempt_id}/results/").content.decode()
    assert "Score: <strong>4.50 of 7.00</strong>" in results
    assert "Passed" in results and "Well argued." in results

    # An override of an automatic grade.
    client.post(f"/cms/grading/attempt/{attempt_id}/response/1/", {"r1-score": "1"})
    with portal.activate():
        assert Attempt.objects.get().score == Decimal("5.50")


# --- two tenants --------------------------------------------------------------------------


def test_another_portal_cannot_reach_an_attempt_by_id_host_or_token(two_portals):
    a, b = two_portals
    exam = build_exam(a)
    candidate = make_user(a, "cand@alpha.test")
    a_client = client_for(a, candidate)
    attempt_id = start(a_client, exam.pk)
    config = open_player(a_client, attempt_id)
    autosave(a_client, config["token"], [{"position": 1, "value": "a", "seq": 1}])
    post_events(a_client, attempt_id, [{"kind": "paste"}])

    # B's own candidate and B's admin (a proctor there), on B's host, with A's ids.
    b_candidate = client_for(b, make_user(b, "cand@beta.test"))
    with b.activate():
        b_admin = client_for(b, admin_of(b))
    for client in (b_candidate, b_admin):
        for path in ("", "summary/", "results/", "state/"):
            assert client.get(f"/exam/attempt/{attempt_id}/{path}").status_code == 404, path
        assert post_events(client, attempt_id, [{"kind": "paste"}]).status_code == 404
        assert client.post(f"/exam/attempt/{attempt_id}/submit/", {"confirm": 1}).status_code == 404
        assert client.get(f"/exam/{exam.pk}/").status_code == 404
    assert b_admin.get(f"/cms/proctor/attempt/{attempt_id}/").status_code == 404
    assert b_admin.get(f"/cms/grading/attempt/{attempt_id}/").status_code == 404
    assert b_admin.get(f"/cms/grading/exam/{exam.pk}/").status_code == 404
    assert "cand@alpha.test" not in b_admin.get("/cms/proctor/").content.decode()

    # A's session cookie on B's host is anonymous: sign in first.
    cross = Client(HTTP_HOST=b.domain)
    cross.cookies = a_client.cookies
    assert cross.get(f"/exam/attempt/{attempt_id}/")["Location"].startswith("/accounts/login/")

    # A token issued on A's host, posted to B's host (with B's session), is refused.
    reply = autosave(b_candidate, config["token"], [{"position": 1, "value": "b", "seq": 99}])
    assert (reply.status_code, reply.json()["error"]) == (403, "signed_out")
    with a.activate():
        assert list(Response.objects.values_list("value", "seq")) == [("a", 1)]
        assert IntegrityEvent.objects.count() == 1
        assert Attempt.objects.get().status == "in_progress"
    with b.activate():
        assert not Response.objects.exists() and not IntegrityEvent.objects.exists()
