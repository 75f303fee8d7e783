"""Exam delivery core: starting, the lean autosave path, sequence numbers, the server clock,
submitting and grading, the sweeper, proctor actions, and two-tenant isolation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import Http404
from django.test import Client
from django.utils import timezone

from assessments import services as bank
from assessments.delivery import autosave, selectors, services, tasks
from assessments.delivery.models import Attempt, IntegrityEvent, Response
from assessments.delivery.services import DeliveryError
from assessments.exams import services as exams
from assessments.exams.models import Exam
from tenants.access.permissions import assign_role
from tenants.audit.models import AuditEvent

from .conftest import PASSWORD, make_member, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


QUESTIONS = [
    (
        "single_choice",
        {
            "options": [
                {"id": "a", "text": "Paris", "correct": True},
                {"id": "b", "text": "Lyon"},
            ]
        },
        "a",
    ),
    ("true_false", {"answer": True}, True),
    ("numeric", {"answer": "9.81", "tolerance": "0.01"}, "9.81"),
    ("short_answer", {"accepted": ["Rome"]}, "rome"),
    (
        "essay",
        {"rubric": [{"id": "arg", "criterion": "Argument", "max_points": "4"}]},
        "An essay.",
    ),
]


@dataclass
class Sitting:
    """A published exam in one portal, a candidate signed in on the portal's client."""

    portal: object
    client: Client
    exam: Exam
    candidate: object
    admin: object

    def start(self, **kwargs) -> Attempt:
        with self.portal.activate():
            attempt = services.start_attempt(
                exam=self.exam, user=self.candidate, client=self.client_info(), **kwargs
            )
        connection.set_schema_to_public()
        return attempt

    def client_info(self) -> services.Client:
        return services.Client(
            session_key=self.client.session.session_key, ip="127.0.0.1", user_agent="Browser A"
        )

    def token(self, attempt: Attempt, *, host: str | None = None) -> str:
        with self.portal.activate():
            request = SimpleNamespace(
                get_host=lambda: host or self.portal.domain,
                session=SimpleNamespace(session_key=self.client.session.session_key),
                user=User.objects.get(pk=attempt.user_id),
            )
            return autosave.issue_token(request=request, attempt=attempt)

    def save(self, attempt, answers, *, client=None, token=None, **extra):
        response = (client or self.client).post(
            autosave.PATH,
            json.dumps({"token": token or self.token(attempt), "answers": answers}),
            content_type="application/json",
            **extra,
        )
        connection.set_schema_to_public()
        return response

    def responses(self, attempt) -> dict[int, Response]:
        with self.portal.activate():
            return {r.position: r for r in Response.objects.filter(attempt_id=attempt.pk)}

    def reload(self, attempt) -> Attempt:
        with self.portal.activate():
            return Attempt.objects.get(pk=attempt.pk)


def make_sitting(portal, *, email="candidate@example.test", **settings) -> Sitting:
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        candidate = make_member(portal, email, role="candidate")
        exam = exams.create_exam(by=admin, title="Delivery test", **settings)
        section = exams.add_section(exam=exam, title="Part one")
        for number, (kind, data, _) in enumerate(QUESTIONS, start=1):
            question = bank.create_question(
                author=admin,
                type=kind,
                title=f"Q{number} {kind}",
                stem=f"<p>Question {number}</p>",
                data=data,
                status="active",
            )
            exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=admin)
        exam.refresh_from_db()
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=portal.domain)
    sign_in(client, email)
    return Sitting(portal=portal, client=client, exam=exam, candidate=candidate, admin=admin)


def answer(position: int, value, seq: int, flagged: bool = False) -> dict:
    return {"position": position, "value": value, "seq": seq, "flagged": flagged}


@pytest.fixture
def sitting(make_portal) -> Sitting:
    return make_sitting(make_portal("alpha"), time_limit_minutes=30)


# -- starting -----------------------------------------------------------------------------


def test_start_fixes_the_deadline_and_draws_the_questions_once(sitting):
    before = timezone.now()
    attempt = sitting.start()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    assert attempt.item_count == len(QUESTIONS)
    assert [item["position"] for item in attempt.items] == [1, 2, 3, 4, 5]
    assert before + timedelta(minutes=30) <= attempt.deadline
    assert attempt.deadline <= timezone.now() + timedelta(minutes=30)
    # Starting again resumes the same attempt rather than drawing a new one.
    assert sitting.start().pk == attempt.pk


def test_deadline_never_passes_the_window_close_and_extra_time_counts(make_portal):
    portal = make_portal("alpha")
    closes = timezone.now() + timedelta(minutes=10)
    capped = make_sitting(portal, time_limit_minutes=60, closes_at=closes)
    assert capped.start().deadline == closes

    other = make_portal("gamma")
    sitting = make_sitting(other, time_limit_minutes=20)
    with other.activate():
        exams.assign_exam(exam=sitting.exam, user=sitting.candidate, extra_time_minutes=10)
    connection.set_schema_to_public()
    attempt = sitting.start()
    assert (attempt.deadline - attempt.started_at) == timedelta(minutes=30)


def test_start_refuses_outside_the_window_and_when_attempts_are_used(make_portal):
    portal = make_portal("alpha")
    later = make_sitting(portal, opens_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(DeliveryError, match="opens at"):
        later.start()
    connection.set_schema_to_public()

    once = make_sitting(make_portal("gamma"), email="once@example.test")
    attempt = once.start()
    with once.portal.activate():
        services.submit_attempt(attempt=attempt)
    connection.set_schema_to_public()
    with pytest.raises(DeliveryError, match="used all 1"):
        once.start()


def test_assigned_exams_are_only_for_their_candidates(make_portal):
    portal = make_portal("alpha")
    sitting = make_sitting(portal)
    with portal.activate():
        someone = User.objects.create_user(email="someone@example.test", password=PASSWORD)
        assign_role(user=someone, role="candidate")
        # Open to every candidate while unassigned …
        assert selectors.may_take(exam=sitting.exam, user=someone)
        exams.assign_exam(exam=sitting.exam, user=sitting.candidate)
        # … and only to the assigned ones afterwards.
        assert not selectors.may_take(exam=sitting.exam, user=someone)
        assert selectors.may_take(exam=sitting.exam, user=sitting.candidate)
        assert [e.pk for e in selectors.available_exams(user=sitting.candidate)] == [
            sitting.exam.pk
        ]
        assert selectors.available_exams(user=someone) == []


# -- autosave -----------------------------------------------------------------------------


def test_autosave_upserts_one_row_and_acknowledges_with_the_server_clock(sitting):
    attempt = sitting.start()
    response = sitting.save(attempt, [answer(1, "a", 1)])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["saved"] == [{"position": 1, "seq": 1}]
    assert body["stale"] == [] and body["refused"] == []
    assert body["deadline"] == attempt.deadline.isoformat()
    assert abs(timezone.now() - timezone.datetime.fromisoformat(body["now"])) < timedelta(seconds=5)
    assert response["Cache-Control"] == "no-store"

    assert sitting.save(attempt, [answer(1, "b", 2, flagged=True)]).json()["saved"]
    rows = sitting.responses(attempt)
    assert list(rows) == [1]
    assert (rows[1].value, rows[1].seq, rows[1].flagged) == ("b", 2, True)


def test_a_stale_write_never_overwrites_a_newer_answer(sitting):
    attempt = sitting.start()
    sitting.save(attempt, [answer(1, "b", 7)])
    for seq in (6, 7):  # lower, and equal
        body = sitting.save(attempt, [answer(1, "a", seq)]).json()
        assert body["saved"] == []
        assert body["stale"] == [{"position": 1, "seq": 7, "value": "b", "flagged": False}]
    assert sitting.responses(attempt)[1].value == "b"
    # The same save again (a retry after a lost reply) is acknowledged, not called stale.
    assert sitting.save(attempt, [answer(1, "b", 7)]).json()["saved"] == [{"position": 1, "seq": 7}]


def test_a_batch_saves_what_it_can_and_says_why_not_the_rest(sitting):
    attempt = sitting.start()
    sitting.save(attempt, [answer(2, True, 10)])
    body = sitting.save(
        attempt, [answer(1, "a", 11), answer(2, False, 3), answer(99, "x", 12)]
    ).json()
    assert body["saved"] == [{"position": 1, "seq": 11}]
    assert [s["position"] for s in body["stale"]] == [2]
    assert body["refused"] == [{"position": 99, "reason": "position"}]
    assert sorted(sitting.responses(attempt)) == [1, 2]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"answers": [answer(1, "a", 1)]}),
        json.dumps({"token": "forged", "answers": [answer(1, "a", 1)]}),
    ],
)
def test_malformed_saves_are_refused_clearly_and_change_nothing(sitting, body):
    attempt = sitting.start()
    response = sitting.client.post(autosave.PATH, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"] == "The save could not be read."
    assert sitting.responses(attempt) == {}


@pytest.mark.parametrize(
    "answers",
    [
        [],
        [answer(1, "a", 0)],
        [answer(1, "a", 1), answer(1, "b", 2)],
        [{"position": "1", "value": "a", "seq": 1}],
        [{"position": 1, "value": "a", "seq": True}],
    ],
)
def test_bad_answer_lists_are_refused(sitting, answers):
    attempt = sitting.start()
    assert sitting.save(attempt, answers).status_code == 400
    assert sitting.responses(attempt) == {}


def test_answers_after_deadline_and_grace_are_refused_and_change_nothing(sitting):
    attempt = sitting.start()
    sitting.save(attempt, [answer(1, "a", 1)])
    with sitting.portal.activate():
        Attempt.objects.filter(pk=attempt.pk).update(
            deadline=timezone.now() - timedelta(seconds=10), grace_seconds=30
        )
    # Within the grace period: still taken (network slack).
    assert sitting.save(attempt, [answer(2, True, 2)]).json()["saved"]
    with sitting.portal.activate():
        Attempt.objects.filter(pk=attempt.pk).update(
            deadline=timezone.now() - timedelta(seconds=31)
        )
    response = sitting.save(attempt, [answer(1, "b", 3)])
    assert response.status_code == 409
    assert response.json()["error"] == "late"
    assert "Time is up" in response.json()["message"]
    rows = sitting.responses(attempt)
    assert (rows[1].value, rows[1].seq) == ("a", 1)


def test_answers_after_submit_are_refused(sitting):
    attempt = sitting.start()
    with sitting.portal.activate():
        services.submit_attempt(attempt=attempt)
    response = sitting.save(attempt, [answer(1, "a", 1)])
    assert response.status_code == 409
    assert response.json()["error"] == "closed"
    assert sitting.responses(attempt)[1].value is None  # graded as unanswered, not changed


def test_sign_out_password_change_and_disabling_stop_saves(sitting):
    attempt = sitting.start()
    token = sitting.token(attempt)
    assert sitting.save(attempt, [answer(1, "a", 1)], token=token).status_code == 200

    with sitting.portal.activate():
        user = User.objects.get(pk=sitting.candidate.pk)
        user.set_password("a whole new password 42")
        user.save()
    assert sitting.save(attempt, [answer(1, "b", 2)], token=token).status_code == 403

    with sitting.portal.activate():
        User.objects.filter(pk=sitting.candidate.pk).update(password=user.password)
        user.refresh_from_db()
        # A fresh token for the new password works …
    fresh = sitting.token(attempt)
    assert sitting.save(attempt, [answer(1, "b", 2)], token=fresh).status_code == 200
    # … until the session ends.
    with sitting.portal.activate():
        Session.objects.all().delete()
    response = sitting.save(attempt, [answer(1, "c", 3)], token=fresh)
    assert response.status_code == 403
    assert response.json()["error"] == "signed_out"
    assert sitting.responses(attempt)[1].value == "b"


def test_a_disabled_user_cannot_save(sitting):
    attempt = sitting.start()
    token = sitting.token(attempt)
    with sitting.portal.activate():
        User.objects.filter(pk=sitting.candidate.pk).update(is_active=False)
    assert sitting.save(attempt, [answer(1, "a", 1)], token=token).status_code == 403


def test_csrf_is_checked_on_the_lean_path(sitting):
    attempt = sitting.start()
    strict = Client(HTTP_HOST=sitting.portal.domain, enforce_csrf_checks=True)
    strict.cookies = sitting.client.cookies
    body = json.dumps({"token": sitting.token(attempt), "answers": [answer(1, "a", 1)]})
    refused = strict.post(autosave.PATH, body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf"

    page = strict.get("/accounts/login/")  # any page sets the CSRF cookie
    connection.set_schema_to_public()
    csrf = page.cookies.get("csrftoken") or strict.cookies["csrftoken"]
    accepted = strict.post(
        autosave.PATH, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf.value
    )
    connection.set_schema_to_public()
    assert accepted.status_code == 200, accepted.content
    assert sitting.responses(attempt)[1].value == "a"


def test_sequential_exams_refuse_answers_behind_the_candidate(make_portal):
    sitting = make_sitting(make_portal("alpha"), navigation="sequential")
    attempt = sitting.start()
    assert sitting.save(attempt, [answer(1, "a", 1)]).json()["saved"]
    with sitting.portal.activate():
        services.advance(attempt=attempt, to_position=3)
        with pytest.raises(DeliveryError, match="going back"):
            services.advance(attempt=attempt, to_position=2)
    body = sitting.save(attempt, [answer(1, "b", 2), answer(3, "9.81", 3)]).json()
    assert body["saved"] == [{"position": 3, "seq": 3}]
    assert body["refused"] == [{"position": 1, "reason": "position"}]


# -- submitting and grading ---------------------------------------------------------------


def test_submit_grades_objective_items_and_queues_the_essay(sitting):
    attempt = sitting.start()
    sitting.save(
        attempt,
        [answer(n, value, n) for n, (_, _, value) in enumerate(QUESTIONS, start=1)],
    )
    with sitting.portal.activate():
        attempt = services.submit_attempt(attempt=attempt)
        assert attempt.status == Attempt.Status.SUBMITTED
        assert attempt.closed_by == Attempt.ClosedBy.CANDIDATE
        assert attempt.grading == Attempt.Grading.NEEDS_MANUAL
        assert attempt.score == Decimal("4.00")
        assert attempt.max_score == Decimal("8.00")  # 4 × 1 point + the essay's rubric (4)
        assert attempt.passed is None  # not decided until the essay is graded
        essay = Response.objects.get(attempt=attempt, position=5)
        assert essay.needs_manual

        services.grade_response(response=essay, by=sitting.admin, rubric_scores={"arg": "3"})
        attempt.refresh_from_db()
        assert attempt.grading == Attempt.Grading.GRADED
        assert (attempt.score, attempt.percent, attempt.passed) == (
            Decimal("7.00"),
            Decimal("87.50"),
            True,
        )
        event = AuditEvent.objects.filter(action="response.graded").get()
        assert event.detail == {"position": 5, "from": "0.00", "to": "3.00"}

        with pytest.raises(DeliveryError, match="between 0 and 1"):
            services.grade_response(
                response=Response.objects.get(attempt=attempt, position=1),
                by=sitting.admin,
                score="2",
            )


def test_unanswered_items_grade_as_zero_and_submitting_twice_changes_nothing(sitting):
    attempt = sitting.start()
    with sitting.portal.activate():
        first = services.submit_attempt(attempt=attempt)
        again = services.submit_attempt(attempt=attempt)
        assert (first.score, again.submitted_at) == (Decimal("0.00"), first.submitted_at)
        assert first.grading == Attempt.Grading.GRADED and first.passed is False
        assert Response.objects.filter(attempt=attempt).count() == len(QUESTIONS)


def test_a_candidate_cannot_submit_after_grace(sitting):
    attempt = sitting.start()
    with sitting.portal.activate():
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=5))
        with pytest.raises(DeliveryError, match="Time is up"):
            services.submit_attempt(attempt=attempt)


def test_results_follow_the_release_policy(make_portal):
    manual = make_sitting(make_portal("alpha"), results_release="manual")
    attempt = manual.start()
    with manual.portal.activate():
        attempt = services.submit_attempt(attempt=attempt)
        assert not selectors.results_visible(attempt=attempt)
        assert services.release_results(exam=manual.exam, by=manual.admin) == 1
        attempt.refresh_from_db()
        assert selectors.results_visible(attempt=attempt)

    closes = timezone.now() + timedelta(hours=1)
    after = make_sitting(make_portal("gamma"), results_release="after_close", closes_at=closes)
    attempt = after.start()
    with after.portal.activate():
        attempt = services.submit_attempt(attempt=attempt)
        assert not selectors.results_visible(attempt=attempt)
        assert selectors.results_visible(attempt=attempt, now=closes + timedelta(seconds=1))


# -- the sweeper --------------------------------------------------------------------------


def test_the_sweeper_closes_overdue_attempts_per_policy(make_portal):
    submit = make_sitting(make_portal("alpha"), time_limit_minutes=5)
    abandon = make_sitting(make_portal("gamma"), time_limit_minutes=5, overdue_policy="abandon")
    for sitting in (submit, abandon):
        attempt = sitting.start()
        sitting.save(attempt, [answer(1, "a", 1)])
        with sitting.portal.activate():
            Attempt.objects.filter(pk=attempt.pk).update(
                deadline=timezone.now() - timedelta(minutes=2)
            )
    # The periodic task fans out one sweep per portal, each in its own schema.
    assert tasks.close_overdue_attempts_for_all_tenants.delay().get() >= 2
    connection.set_schema_to_public()
    with submit.portal.activate():
        closed = Attempt.objects.get()
        assert (closed.status, closed.closed_by, closed.score) == (
            "submitted",
            "deadline",
            Decimal("1.00"),
        )
    with abandon.portal.activate():
        closed = Attempt.objects.get()
        assert (closed.status, closed.score) == ("abandoned", None)
        assert Response.objects.get(attempt=closed).value == "a"  # kept for review


def test_the_sweeper_leaves_attempts_within_grace_and_without_deadline(make_portal):
    sitting = make_sitting(make_portal("alpha"), time_limit_minutes=5)
    attempt = sitting.start()
    with sitting.portal.activate():
        Attempt.objects.filter(pk=attempt.pk).update(
            deadline=timezone.now() - timedelta(seconds=5), grace_seconds=60
        )
        assert services.close_overdue_attempts() == {"submitted": 0, "abandoned": 0}
        untimed = make_sitting(
            sitting.portal, email="untimed@example.test", time_limit_minutes=None
        )
    open_ended = untimed.start()
    assert open_ended.deadline is None
    with sitting.portal.activate():
        assert services.close_overdue_attempts(now=timezone.now() + timedelta(days=400)) == {
            "submitted": 1,
            "abandoned": 0,
        }
        assert Attempt.objects.get(pk=open_ended.pk).is_open


# -- proctoring and integrity -------------------------------------------------------------


def test_proctor_adds_time_and_closes_attempts_audited(sitting):
    attempt = sitting.start()
    with sitting.portal.activate():
        before = attempt.deadline
        attempt = services.add_time(attempt=attempt, minutes=15, by=sitting.admin)
        assert attempt.deadline == before + timedelta(minutes=15)
        with pytest.raises(DeliveryError):
            services.add_time(attempt=attempt, minutes=0, by=sitting.admin)
        closed = services.close_attempt(attempt=attempt, by=sitting.admin)
        assert (closed.status, closed.closed_by) == ("submitted", "proctor")
        assert list(
            AuditEvent.objects.filter(action__startswith="attempt.")
            .order_by("id")
            .values_list("action", flat=True)
        ) == ["attempt.time_added", "attempt.closed"]
        kinds = list(selectors.timeline(attempt=closed).values_list("kind", flat=True))
        assert kinds == ["time_added", "closed_by_proctor"]


def test_integrity_signals_are_recorded_and_never_fail_the_candidate(sitting):
    attempt = sitting.start()
    with sitting.portal.activate():
        moved = services.Client(
            session_key=sitting.client.session.session_key, ip="10.0.0.9", user_agent="Other"
        )
        stored = services.record_client_events(
            attempt=attempt,
            events=[
                {"kind": "tab_hidden", "at": "2030-01-01T00:00:00Z"},
                {"kind": "paste", "detail": {"chars": 120}},
            ],
            client=moved,
        )
        assert stored == 4  # two reported + a new IP + a new browser
        kinds = set(IntegrityEvent.objects.values_list("kind", flat=True))
        assert kinds == {"tab_hidden", "paste", "ip_change", "device_change"}
        with pytest.raises(DeliveryError, match="not known"):
            services.record_client_events(
                attempt=attempt, events=[{"kind": "time_added"}], client=moved
            )
        assert IntegrityEvent.objects.count() == 4
        assert Attempt.objects.get(pk=attempt.pk).is_open
        assert selectors.live_attempts().get().flags == 4


def test_strict_exams_refuse_a_second_session_until_released(make_portal):
    sitting = make_sitting(make_portal("alpha"), proctoring_level="strict")
    attempt = sitting.start()
    with sitting.portal.activate():
        other = services.Client(session_key="another-session", ip="127.0.0.1", user_agent="")
        with pytest.raises(DeliveryError, match="another browser session"):
            services.resume_attempt(attempt=attempt, client=other)
        services.release_session(attempt=attempt, by=sitting.admin)
        resumed = services.resume_attempt(attempt=attempt, client=other)
        assert resumed.session_key_hash == services.session_hash("another-session")
        assert list(IntegrityEvent.objects.values_list("kind", flat=True)) == ["session_refused"]


# -- isolation ----------------------------------------------------------------------------


def test_tenant_b_cannot_read_or_change_tenant_a_attempts(two_portals):
    alpha, beta = two_portals
    a = make_sitting(alpha, email="same@example.test")
    b = make_sitting(beta, email="same@example.test")
    attempt = a.start()
    a.save(attempt, [answer(1, "a", 1)])

    # A's token on B's host: refused before any SQL (the token names A's host).
    assert a.save(attempt, [answer(1, "b", 2)], client=b.client).status_code == 403
    # A token claiming B's host but signed for A's attempt with B's session: the schema it
    # names is A's, where B's session does not exist.
    forged = a.token(attempt, host=beta.domain)
    assert a.save(attempt, [answer(1, "b", 2)], client=b.client, token=forged).status_code == 403
    assert a.responses(attempt)[1].value == "a"

    with beta.activate():
        # A's attempt id means nothing in B's schema; B's sweeper and selectors see only B.
        assert not Attempt.objects.filter(pk=attempt.pk).exists()
        with pytest.raises(Http404):
            selectors.attempt_for_candidate_or_404(user=b.candidate, attempt_id=attempt.pk)
        assert Response.objects.filter(value="a").count() == 0
        assert IntegrityEvent.objects.count() == 0
        assert services.close_overdue_attempts(now=timezone.now() + timedelta(days=1)) == {
            "submitted": 0,
            "abandoned": 0,
        }
    with alpha.activate():
        assert Attempt.objects.get(pk=attempt.pk).is_open


def test_the_network_allowlist_refuses_other_networks(make_portal):
    sitting = make_sitting(make_portal("alpha"), ip_allowlist="10.1.0.0/16 192.168.5.7")
    with pytest.raises(DeliveryError, match="exam room's network"):
        sitting.start()  # from 127.0.0.1
    connection.set_schema_to_public()
    with sitting.portal.activate():
        inside = services.Client(
            session_key=sitting.client.session.session_key, ip="10.1.4.2", user_agent="A"
        )
        attempt = services.start_attempt(exam=sitting.exam, user=sitting.candidate, client=inside)
        outside = services.Client(session_key=inside.session_key, ip="8.8.8.8", user_agent="A")
        with pytest.raises(DeliveryError):
            services.resume_attempt(attempt=attempt, client=outside)
        assert list(IntegrityEvent.objects.values_list("kind", flat=True)) == ["network_refused"]
        with pytest.raises(exams.ExamError, match="not an IP address"):
            exams.update_exam(exam=sitting.exam, by=sitting.admin, ip_allowlist="10.0.0.0/8 nope")


def test_the_production_wsgi_entry_answers_autosave_the_same_way(sitting, monkeypatch):
    """``config/wsgi.py`` wraps Django in ``AutosaveWSGI``: same checks, same answers."""
    import io

    from django.core.handlers.wsgi import WSGIHandler

    # As Django's test client does: keep the test's connection (and its transaction) open.
    monkeypatch.setattr(autosave, "close_old_connections", lambda: None)

    attempt = sitting.start()
    application = autosave.AutosaveWSGI(WSGIHandler())
    session_key = sitting.client.session.session_key

    def post(token: str, answers: list, *, csrf: str = "c" * 32, host=sitting.portal.domain):
        body = json.dumps({"token": token, "answers": answers}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": autosave.PATH,
            "SERVER_NAME": host,
            "SERVER_PORT": "80",
            "HTTP_HOST": host,
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            "HTTP_COOKIE": f"viva_session={session_key}; csrftoken={'c' * 32}",
            "HTTP_X_CSRFTOKEN": csrf,
            "HTTP_ORIGIN": f"http://{host}",
        }
        replies = []
        content = b"".join(application(environ, lambda status, headers: replies.append(status)))
        connection.set_schema_to_public()
        return int(replies[0].split()[0]), json.loads(content)

    token = sitting.token(attempt)
    status, body = post(token, [answer(1, "a", 1)])
    assert (status, body["saved"]) == (200, [{"position": 1, "seq": 1}])
    assert post(token, [answer(1, "b", 2)], csrf="d" * 32)[0] == 403  # CSRF mismatch
    assert post("forged", [answer(1, "b", 2)])[0] == 400
    assert post(token, [answer(1, "b", 2)], host="beta.localhost")[0] == 403
    assert post(token, [answer(1, "a", 1)])[1]["saved"] == [{"position": 1, "seq": 1}]
    assert sitting.responses(attempt)[1].value == "a"


def test_a_candidate_exports_their_attempts_and_erasure_forgets_where_they_sat(sitting):
    import io
    import zipfile

    from tenants.privacy import services as privacy

    attempt = sitting.start()
    sitting.save(attempt, [answer(1, "a", 1)])
    with sitting.portal.activate():
        services.record_client_events(
            attempt=attempt, events=[{"kind": "paste"}], client=sitting.client_info()
        )
        archive = zipfile.ZipFile(io.BytesIO(privacy.export_user_data(user=sitting.candidate)))
        (exported,) = json.loads(archive.read("exam_attempts.json"))
        assert (exported["exam"], exported["ip"]) == ("Delivery test", "127.0.0.1")
        assert exported["responses"][0]["value"] == "a"
        assert [e["kind"] for e in exported["integrity_events"]] == ["paste"]

        privacy.erase_user(user=sitting.candidate, by=sitting.admin)
        erased = Attempt.objects.get(pk=attempt.pk)
        assert (erased.ip, erased.user_agent, erased.session_key_hash) == (None, "", "")
        assert Response.objects.get(attempt=erased, position=1).value == "a"  # statistics stay
