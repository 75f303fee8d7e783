"""Exams: authoring, publishing an immutable version, draws, windows, grading access, isolation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from guardian.models import UserObjectPermission

from assessments import services as bank
from assessments.exams import selectors, services
from assessments.exams.services import ExamError
from assessments.models import (
    Cohort,
    Exam,
    ExamAssignment,
    ExamSection,
    ExamVersion,
    ImmutableVersionError,
    Question,
    SectionItem,
)
from tenants.access.permissions import assign_role, grant_object_permission
from tests.conftest import put_on_plan

pytestmark = pytest.mark.django_db
User = get_user_model()

NINE = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
EIGHT = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
TEN = datetime(2030, 6, 1, 10, 0, tzinfo=UTC)
ELEVEN = datetime(2030, 6, 1, 11, 0, tzinfo=UTC)
NOON = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def admin_of(portal):
    return User.objects.get(email=portal.admin_email)


def choice(n: int) -> dict:
    return {
        "options": [{"id": "a", "text": f"Yes {n}", "correct": True}, {"id": "b", "text": "No"}]
    }


def make_question(author, title, *, status="active", **extra) -> Question:
    return bank.create_question(
        author=author,
        type="single_choice",
        title=title,
        stem=f"<p>{title}?</p>",
        data=choice(len(title)),
        status=status,
        **extra,
    )


def make_bank(author) -> dict:
    """General: 20 fixed-use questions; Maths > Algebra (7 easy, 5 hard) > Linear (4 easy);
    Geometry: 15 active and 1 draft. 51 active questions in all."""
    maths = bank.create_category(name="Maths")
    algebra = bank.create_category(name="Algebra", parent=maths)
    linear = bank.create_category(name="Linear", parent=algebra)
    geometry = bank.create_category(name="Geometry", parent=maths)
    general = bank.create_category(name="General")
    return {
        "maths": maths,
        "algebra": algebra,
        "linear": linear,
        "geometry_category": geometry,
        "general": [make_question(author, f"General {i}", category=general) for i in range(20)],
        "algebra_easy": [
            make_question(author, f"Algebra easy {i}", category=algebra, tags=["easy"])
            for i in range(7)
        ],
        "algebra_hard": [
            make_question(author, f"Algebra hard {i}", category=algebra, tags=["hard"])
            for i in range(5)
        ],
        "linear_easy": [
            make_question(author, f"Linear {i}", category=linear, tags=["easy"]) for i in range(4)
        ],
        "geometry": [
            make_question(author, f"Geometry {i}", category=geometry, difficulty=i % 5 + 1)
            for i in range(15)
        ],
        "geometry_draft": make_question(
            author, "Geometry draft", category=geometry, status="draft"
        ),
    }


def frozen(question: Question, points: str | None = None) -> dict:
    """What the snapshot must hold for ``question`` at its current version."""
    version = question.versions.get(number=question.version)
    return {
        "question_id": question.pk,
        "question_version_id": version.pk,
        "version": question.version,
        "type": "single_choice",
        "title": question.title,
        "stem": question.stem,
        "data": question.data,
        "explanation": "",
        "points": points or "1.00",
    }


def build_forty(author, qs) -> tuple[Exam, list[SectionItem]]:
    """20 fixed questions by hand, 20 drawn by two pool rules."""
    exam = services.create_exam(
        by=author,
        title="Maths final",
        description="<p>Good luck<script>x()</script></p>",
        opens_at=NINE,
        closes_at=ELEVEN,
        time_limit_minutes=60,
        pass_mark_percent=55,
    )
    core = services.add_section(exam=exam, title="Core", instructions="<p>Answer all.</p>")
    maths = services.add_section(exam=exam, title="Maths")
    for index, question in enumerate(qs["general"]):
        services.add_fixed_item(section=core, question=question, points=2 if index == 0 else None)
    algebra_pool = services.add_pool_item(
        section=maths, count=10, category=qs["algebra"], tags=["easy"]
    )
    geometry_pool = services.add_pool_item(
        section=maths, count=10, category=qs["geometry_category"]
    )
    return exam, [algebra_pool, geometry_pool]


# --- authoring and publishing ----------------------------------------------------------------


def test_a_forty_question_exam_is_published_as_a_frozen_version(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        qs = make_bank(author)
        exam, (algebra_pool, geometry_pool) = build_forty(author, qs)
        version = services.publish_exam(exam=exam, by=author)

        exam.refresh_from_db()
        assert (exam.status, exam.description) == ("published", "<p>Good luck</p>")
        assert (version.number, version.published_by, version.exam_id) == (1, author, exam.pk)
        core, maths = exam.sections.order_by("position")
        fixed_items = list(core.items.order_by("position"))
        by_pk = lambda questions: sorted(questions, key=lambda q: q.pk)  # noqa: E731
        assert version.snapshot == {
            "schema": 1,
            "exam": {"id": exam.pk, "title": "Maths final", "description": "<p>Good luck</p>"},
            "settings": {
                "opens_at": "2030-06-01T09:00:00+00:00",
                "closes_at": "2030-06-01T11:00:00+00:00",
                "time_limit_minutes": 60,
                "attempts_allowed": 1,
                "navigation": "free",
                "shuffle_questions": False,
                "shuffle_options": False,
                "pass_mark_percent": "55.00",
                "results_release": "immediately",
                "proctoring_level": "none",
                "grace_seconds": 30,
                "overdue_policy": "auto_submit",
                "ip_allowlist": "",
                "webcam_proctoring": False,
                "webcam_interval_seconds": 60,
            },
            "sections": [
                {
                    "section_id": core.pk,
                    "title": "Core",
                    "instructions": "<p>Answer all.</p>",
                    "items": [
                        {
                            "kind": "fixed",
                            "item_id": item.pk,
                            "question": frozen(question, "2.00" if index == 0 else None),
                        }
                        for index, (item, question) in enumerate(
                            zip(fixed_items, qs["general"], strict=True)
                        )
                    ],
                },
                {
                    "section_id": maths.pk,
                    "title": "Maths",
                    "instructions": "",
                    "items": [
                        {
                            "kind": "pool",
                            "item_id": algebra_pool.pk,
                            "count": 10,
                            "rule": {
                                "category_id": qs["algebra"].pk,
                                "category": "Maths / Algebra",
                                "include_subcategories": True,
                                "tags": ["easy"],
                                "difficulty": [1, 5],
                            },
                            # 7 easy in Algebra + 4 in its subcategory Linear; not the hard ones
                            "questions": [
                                frozen(q) for q in by_pk(qs["algebra_easy"] + qs["linear_easy"])
                            ],
                        },
                        {
                            "kind": "pool",
                            "item_id": geometry_pool.pk,
                            "count": 10,
                            "rule": {
                                "category_id": qs["geometry_category"].pk,
                                "category": "Maths / Geometry",
                                "include_subcategories": True,
                                "tags": [],
                                "difficulty": [1, 5],
                            },
                            "questions": [frozen(q) for q in by_pk(qs["geometry"])],  # no draft
                        },
                    ],
                },
            ],
        }
        assert len(services.draw_questions(version=version, seed=1)) == 40


def test_editing_after_publishing_never_changes_the_version_and_republishing_makes_the_next(
    make_portal,
):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        qs = make_bank(author)
        exam, (algebra_pool, _) = build_forty(author, qs)
        v1 = services.publish_exam(exam=exam, by=author)
        row_before = list(ExamVersion.objects.filter(pk=v1.pk).values())
        snapshot_before = copy.deepcopy(v1.snapshot)
        first = qs["general"][0]

        # Every kind of edit through the services: question, exam settings, sections, items.
        bank.update_question(question=first, author=author, stem="<p>Reworded?</p>")
        bank.update_question(question=qs["algebra_easy"][0], author=author, status="retired")
        services.update_exam(
            exam=exam, by=author, title="Maths final (resit)", time_limit_minutes=45
        )
        extra = services.add_section(exam=exam, title="Extra")
        services.add_fixed_item(section=extra, question=qs["algebra_hard"][0])
        services.move_section(section=extra, position=1)
        services.remove_item(item=algebra_pool)

        v1_now = ExamVersion.objects.get(pk=v1.pk)
        assert list(ExamVersion.objects.filter(pk=v1.pk).values()) == row_before
        assert v1_now.snapshot == snapshot_before
        assert v1_now.snapshot["sections"][0]["items"][0]["question"]["stem"] == "<p>General 0?</p>"

        v2 = services.publish_exam(exam=exam, by=author)
        assert (v2.number, ExamVersion.objects.filter(exam=exam).count()) == (2, 2)
        assert v2.snapshot["exam"]["title"] == "Maths final (resit)"
        assert v2.snapshot["settings"]["time_limit_minutes"] == 45
        assert [s["title"] for s in v2.snapshot["sections"]] == ["Extra", "Core", "Maths"]
        pinned = v2.snapshot["sections"][1]["items"][0]["question"]
        assert (pinned["version"], pinned["stem"]) == (2, "<p>Reworded?</p>")
        assert pinned["question_version_id"] == first.versions.get(number=2).pk
        assert ExamVersion.objects.get(pk=v1.pk).snapshot == snapshot_before


def test_a_published_version_refuses_to_be_saved_updated_or_deleted(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        exam = services.create_exam(by=author, title="Quiz")
        section = services.add_section(exam=exam, title="Only")
        services.add_fixed_item(section=section, question=make_question(author, "Q"))
        version = services.publish_exam(exam=exam, by=author)
        before = copy.deepcopy(version.snapshot)

        version.snapshot["exam"]["title"] = "Tampered"
        with pytest.raises(ImmutableVersionError):
            version.save()
        with pytest.raises(ImmutableVersionError):
            version.delete()
        with pytest.raises(ImmutableVersionError):
            ExamVersion.objects.filter(pk=version.pk).update(number=7)
        with pytest.raises(ImmutableVersionError):
            ExamVersion.objects.filter(pk=version.pk).delete()
        assert ExamVersion.objects.get(pk=version.pk).snapshot == before


def test_a_pool_shortage_is_refused_with_a_message_naming_it_and_nothing_is_stored(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        qs = make_bank(author)
        bank.retire_questions(questions=qs["linear_easy"], author=author)
        exam = services.create_exam(by=author, title="Algebra test")
        services.add_section(exam=exam, title="Warm-up")
        services.add_fixed_item(
            section=exam.sections.get(), question=make_question(author, "Draft one", status="draft")
        )
        section = services.add_section(exam=exam, title="Algebra")
        services.add_pool_item(section=section, count=10, category=qs["algebra"], tags=["easy"])
        services.add_fixed_item(section=section, question=qs["algebra_easy"][0])
        services.add_pool_item(section=section, count=7, category=qs["algebra"], tags=["easy"])

        with pytest.raises(ExamError) as raised:
            services.publish_exam(exam=exam, by=author)
        assert raised.value.errors == [
            "Section 1, item 1: question “Draft one” is draft; only active questions can be "
            "published",
            "Section 2, pool 1 asks for 10 questions but only 6 active questions match "
            "(category Algebra, tags: easy); 1 more is already used by a fixed item or an "
            "earlier pool",
            "Section 2, pool 2 asks for 7 questions but only 6 active questions match "
            "(category Algebra, tags: easy); 1 more is already used by a fixed item or an "
            "earlier pool",
        ]
        exam.refresh_from_db()
        assert (exam.status, ExamVersion.objects.count()) == ("draft", 0)

        # The brief's own example: retired questions do not count.
        other = services.create_exam(by=author, title="Algebra only")
        services.add_section(exam=other, title="One")
        two = services.add_section(exam=other, title="Two")
        services.add_pool_item(section=two, count=10, category=qs["algebra"], tags=["easy"])
        with pytest.raises(ExamError) as raised:
            services.publish_exam(exam=other, by=author)
        assert raised.value.errors == [
            "Section 1 (One) has no questions",
            "Section 2, pool 1 asks for 10 questions but only 7 active questions match "
            "(category Algebra, tags: easy)",
        ]
        assert ExamVersion.objects.count() == 0


@pytest.mark.parametrize(
    "settings, errors",
    [
        ({"opens_at": ELEVEN, "closes_at": NINE}, ["the exam must close after it opens"]),
        (
            {"time_limit_minutes": 0},
            ["the time limit must be a whole number of minutes above 0 (or empty)"],
        ),
        ({"pass_mark_percent": 101}, ["the pass mark must be a percentage from 0 to 100"]),
        ({"pass_mark_percent": -1}, ["the pass mark must be a percentage from 0 to 100"]),
        (
            {"navigation": "random", "attempts_allowed": 0},
            [
                "attempts allowed must be a whole number of at least 1",
                "navigation must be one of free, sequential",
            ],
        ),
        ({"colour": "red"}, ["colour is not an exam setting"]),
    ],
)
def test_refused_settings_say_why_and_change_nothing(make_portal, settings, errors):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        with pytest.raises(ExamError) as raised:
            services.create_exam(by=author, title="Bad", **settings)
        assert raised.value.errors == errors
        assert Exam.objects.count() == 0
        exam = services.create_exam(by=author, title="Good", opens_at=NINE, closes_at=ELEVEN)
        with pytest.raises(ExamError) as raised:
            services.update_exam(exam=exam, by=author, **settings)
        assert raised.value.errors == errors
        exam.refresh_from_db()
        assert (exam.title, exam.opens_at, exam.closes_at, exam.time_limit_minutes) == (
            "Good",
            NINE,
            ELEVEN,
            None,
        )


def test_sections_and_items_move_and_close_up(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        exam = services.create_exam(by=author, title="Order")
        a, b, c = (services.add_section(exam=exam, title=t) for t in "ABC")
        services.move_section(section=c, position=1)
        assert list(exam.sections.values_list("title", "position")) == [
            ("C", 1),
            ("A", 2),
            ("B", 3),
        ]
        services.remove_section(section=a)
        assert list(exam.sections.values_list("title", "position")) == [("C", 1), ("B", 2)]
        q1, q2, q3 = (make_question(author, f"Q{i}") for i in range(3))
        i1 = services.add_fixed_item(section=b, question=q1)
        i2 = services.add_fixed_item(section=b, question=q2)
        i3 = services.add_fixed_item(section=b, question=q3, position=1)
        assert list(b.items.values_list("pk", flat=True)) == [i3.pk, i1.pk, i2.pk]
        services.move_item(item=i2, section=c, position=1)
        assert list(b.items.values_list("pk", "position")) == [(i3.pk, 1), (i1.pk, 2)]
        assert list(c.items.values_list("pk", "position")) == [(i2.pk, 1)]
        with pytest.raises(ExamError) as raised:
            services.add_pool_item(section=b, count=0, difficulty=(4, 2))
        assert raised.value.errors == [
            "a pool must draw at least 1 question",
            "difficulty must be a range within 1 to 5, low first",
        ]
        assert SectionItem.objects.count() == 3


# --- draws -----------------------------------------------------------------------------------


def test_draws_are_deterministic_per_seed_and_respect_shuffling(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        qs = make_bank(author)
        exam, _ = build_forty(author, qs)
        v1 = services.publish_exam(exam=exam, by=author)

        first = services.draw_questions(version=v1, seed=1)
        assert first == services.draw_questions(version=v1, seed=1)
        other = services.draw_questions(version=v1, seed=2)
        assert [q["question_id"] for q in first] != [q["question_id"] for q in other]
        for draw in (first, other):
            ids = [q["question_id"] for q in draw]
            assert len(ids) == len(set(ids)) == 40
            assert [q["position"] for q in draw] == list(range(1, 41))
            # No shuffling of questions: the fixed section in authored order, pools in turn.
            assert ids[:20] == [q.pk for q in qs["general"]]
            algebra = {q.pk for q in qs["algebra_easy"] + qs["linear_easy"]}
            assert set(ids[20:30]) <= algebra
            assert set(ids[30:]) <= {q.pk for q in qs["geometry"]}
            assert {q["option_seed"] for q in draw} == {None}
            assert [q["section_title"] for q in draw] == ["Core"] * 20 + ["Maths"] * 20

        # A caller changing a drawn question does not reach the version.
        first[0]["data"]["options"] = []
        assert services.draw_questions(version=v1, seed=1)[0]["data"] == qs["general"][0].data

        services.update_exam(exam=exam, by=author, shuffle_questions=True, shuffle_options=True)
        v2 = services.publish_exam(exam=exam, by=author)
        a, b = (services.draw_questions(version=v2, seed=s) for s in ("x", "y"))
        assert a == services.draw_questions(version=v2, seed="x")
        assert [q["question_id"] for q in a[:20]] != [q.pk for q in qs["general"]]
        assert {q["question_id"] for q in a[:20]} == {q.pk for q in qs["general"]}
        assert [q["question_id"] for q in a] != [q["question_id"] for q in b]
        assert a[0]["option_seed"] == f"x:{a[0]['question_version_id']}"
        # v1 still draws as before.
        assert services.draw_questions(version=v1, seed=2) == other


# --- assignments, windows and time -------------------------------------------------------------


def test_effective_window_and_time_take_the_most_generous_override(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        both, cohort_only, direct_only, nobody = (
            User.objects.create_user(email=f"{n}@alpha.test") for n in ("both", "co", "di", "no")
        )
        exam = services.create_exam(
            by=author, title="Timed", opens_at=NINE, closes_at=ELEVEN, time_limit_minutes=60
        )
        section = services.add_section(exam=exam, title="Only")
        services.add_fixed_item(section=section, question=make_question(author, "Q"))
        services.publish_exam(exam=exam, by=author)
        year = services.create_cohort(name="Year 1", members=[both, cohort_only])
        services.assign_exam(exam=exam, cohort=year, extra_time_minutes=15, closes_at=NOON)
        services.assign_exam(exam=exam, user=both, extra_time_minutes=30, opens_at=EIGHT)
        services.assign_exam(exam=exam, user=direct_only, extra_time_minutes=10)

        def effective(user):
            window = selectors.effective_window(exam=exam, user=user)
            limit = selectors.effective_time_limit(exam=exam, user=user)
            return window.opens_at, window.closes_at, limit

        assert effective(both) == (EIGHT, NOON, 90)
        assert effective(cohort_only) == (NINE, NOON, 75)
        assert effective(direct_only) == (NINE, ELEVEN, 70)
        assert effective(nobody) == (NINE, ELEVEN, 60)
        assert (
            selectors.is_assigned(exam=exam, user=both),
            selectors.is_assigned(exam=exam, user=nobody),
        ) == (True, False)

        # Unpublished edits do not move a live window; the next version does.
        services.update_exam(exam=exam, by=author, closes_at=TEN, time_limit_minutes=None)
        assert effective(direct_only) == (NINE, ELEVEN, 70)
        services.publish_exam(exam=exam, by=author)
        assert effective(direct_only) == (NINE, TEN, None)
        assert effective(both) == (EIGHT, NOON, None)

        # Assigning again updates; a refused assignment changes nothing.
        services.assign_exam(exam=exam, user=direct_only, extra_time_minutes=5)
        assert ExamAssignment.objects.get(user=direct_only).extra_time_minutes == 5
        with pytest.raises(ExamError) as raised:
            services.assign_exam(
                exam=exam,
                cohort=year,
                user=both,
                extra_time_minutes=-1,
                opens_at=NOON,
                closes_at=NINE,
            )
        assert raised.value.errors == [
            "assign the exam to one cohort or one user",
            "extra time must be a whole number of minutes, 0 or more",
            "the assignment must close after it opens",
        ]
        assert ExamAssignment.objects.count() == 3


# --- grading access ----------------------------------------------------------------------------


def make_user(portal, email: str, role: str | None = None):
    with portal.activate():
        user = User.objects.create_user(email=email)
        if role:
            assign_role(user=user, role=role)
        return user


def client_as(portal, user) -> Client:
    client = Client(HTTP_HOST=portal.domain)
    with portal.activate():
        client.force_login(user)
    return client


def published_exam(author, title: str) -> Exam:
    exam = services.create_exam(by=author, title=title)
    section = services.add_section(exam=exam, title="Only")
    services.add_fixed_item(section=section, question=make_question(author, f"{title} Q"))
    services.publish_exam(exam=exam, by=author)
    return exam


def grading_url(exam_id: int) -> str:
    return f"/cms/exams/{exam_id}/grading/"


def test_a_grant_on_one_exam_lets_a_grader_see_that_exam_only(two_portals):
    a, b = two_portals
    with a.activate():
        author = admin_of(a)
        x, y = published_exam(author, "Exam X"), published_exam(author, "Exam Y")
    grader = make_user(a, "grader@alpha.test", "grader")
    other = make_user(a, "other@alpha.test", "grader")
    with a.activate():
        grant_object_permission(user=grader, perm="assessments.grade_exam", obj=x, by=author)
        before = (
            Exam.objects.count(),
            ExamVersion.objects.count(),
            UserObjectPermission.objects.count(),
        )

    response = client_as(a, grader).get(grading_url(x.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Grading: Exam X" in page and "Version 1" in page and "No attempts yet." in page
    assert client_as(a, grader).get(grading_url(y.pk)).status_code == 404
    assert client_as(a, grader).get(grading_url(999_999)).status_code == 404
    assert client_as(a, other).get(grading_url(x.pk)).status_code == 404
    assert client_as(a, admin_of_in(a)).get(grading_url(y.pk)).status_code == 200
    with a.activate():
        after = (
            Exam.objects.count(),
            ExamVersion.objects.count(),
            UserObjectPermission.objects.count(),
        )
    assert after == before


def same_id_exams(a, b) -> tuple[Exam, Exam]:
    """A published exam in each portal with the same id (sequences differ between schemas).

    Fillers are made until the ids meet, more than the Free plan's 3 exams: both are on Pro.
    """
    for portal in (a, b):
        put_on_plan(portal, "pro")
    exams = {}
    for portal in (a, b):
        with portal.activate():
            exams[portal.schema] = services.create_exam(by=admin_of(portal), title="Filler")
    while exams[a.schema].pk != exams[b.schema].pk:
        behind = a if exams[a.schema].pk < exams[b.schema].pk else b
        with behind.activate():
            exams[behind.schema] = services.create_exam(by=admin_of(behind), title="Filler")
    for portal, title in ((a, "Alpha exam"), (b, "Beta exam")):
        with portal.activate():
            exam = services.update_exam(exam=exams[portal.schema], by=None, title=title)
            section = services.add_section(exam=exam, title="Only")
            question = make_question(admin_of(portal), f"{title} Q")
            services.add_fixed_item(section=section, question=question)
            services.publish_exam(exam=exam, by=admin_of(portal))
            exams[portal.schema] = exam
    return exams[a.schema], exams[b.schema]


def admin_of_in(portal):
    with portal.activate():
        return admin_of(portal)


def test_a_grant_in_one_portal_means_nothing_for_the_same_exam_id_in_another(two_portals):
    a, b = two_portals
    exam_a, exam_b = same_id_exams(a, b)
    grader_a = make_user(a, "grader@shared.test", "grader")
    grader_b = make_user(b, "grader@shared.test", "grader")
    with a.activate():
        grant_object_permission(user=grader_a, perm="assessments.grade_exam", obj=exam_a)

    assert client_as(a, grader_a).get(grading_url(exam_a.pk)).status_code == 200
    assert client_as(b, grader_b).get(grading_url(exam_b.pk)).status_code == 404
    # A's session means nothing on B's host: B's admin sends the visitor to sign in.
    a_session = client_as(a, grader_a)
    a_session.defaults["HTTP_HOST"] = b.domain
    response = a_session.get(grading_url(exam_b.pk))
    assert response.status_code == 302 and "Beta exam" not in response.content.decode()
    with b.activate():
        assert UserObjectPermission.objects.count() == 0


# --- isolation ---------------------------------------------------------------------------------


def test_exams_versions_and_cohorts_of_one_portal_are_invisible_to_another(two_portals):
    a, b = two_portals
    with a.activate():
        author = admin_of(a)
        exam = published_exam(author, "Alpha only")
        version = exam.versions.get()
        cohort = services.create_cohort(name="Year 1", members=[author])
        services.assign_exam(exam=exam, cohort=cohort)
    with b.activate():
        assert (
            Exam.objects.count(),
            ExamSection.objects.count(),
            ExamVersion.objects.count(),
            Cohort.objects.count(),
            ExamAssignment.objects.count(),
        ) == (0, 0, 0, 0, 0)
        assert selectors.get_exam(exam_id=exam.pk) is None
        with pytest.raises(Exam.DoesNotExist):
            services.publish_exam(exam=exam, by=admin_of(b))
        with pytest.raises(Exam.DoesNotExist):
            services.update_exam(exam=exam, by=admin_of(b), title="Hijacked")
        with pytest.raises(Cohort.DoesNotExist):
            services.add_cohort_members(cohort=cohort, users=[admin_of(b)])
        assert services.create_cohort(name="Year 1").name == "Year 1"  # names are per portal
        assert ExamVersion.objects.filter(pk=version.pk).exists() is False
    with a.activate():
        exam.refresh_from_db()
        assert (exam.title, exam.versions.count()) == ("Alpha only", 1)
        assert list(Cohort.objects.get().members.all()) == [admin_of(a)]
