"""The exam builder in the portal's Wagtail admin (/cms/exams/): building a 40-question exam
by hand and by pool rules, publishing and the frozen version, refusals, cohorts and
assignments, permissions, and two-tenant isolation — all through the admin views."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from assessments import services as bank
from assessments.exams import services
from assessments.models import (
    Category,
    Cohort,
    Exam,
    ExamAssignment,
    ExamSection,
    ExamVersion,
    Question,
    SectionItem,
)
from tenants.access.permissions import assign_role
from tests.conftest import put_on_plan

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(portal, email: str, role: str | None = None):
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


def question(author, title: str, *, category=None, tags=(), difficulty=3, status="active"):
    return bank.create_question(
        author=author,
        type="single_choice",
        title=title,
        stem=f"<p>{title}?</p>",
        data={"options": [{"id": "a", "text": "Yes", "correct": True}, {"id": "b", "text": "No"}]},
        category=category,
        tags=tags,
        difficulty=difficulty,
        status=status,
    )


def make_bank(author) -> dict:
    """General: 20 questions; Maths > Algebra: 12 (difficulty 2) + Linear: 4 (difficulty 4);
    Geometry: 10 (difficulty 1-5) and 1 draft."""
    maths = bank.create_category(name="Maths")
    algebra = bank.create_category(name="Algebra", parent=maths)
    linear = bank.create_category(name="Linear", parent=algebra)
    geometry = bank.create_category(name="Geometry", parent=maths)
    general = bank.create_category(name="General")
    return {
        "algebra": algebra,
        "geometry": geometry,
        "general": [question(author, f"General {i:02}", category=general) for i in range(20)],
        "algebra_qs": [
            question(author, f"Algebra {i}", category=algebra, tags=["core"], difficulty=2)
            for i in range(12)
        ]
        + [
            question(author, f"Linear {i}", category=linear, tags=["core"], difficulty=4)
            for i in range(4)
        ],
        "geometry_qs": [
            question(author, f"Geometry {i}", category=geometry, difficulty=i % 5 + 1)
            for i in range(10)
        ],
        "draft": question(author, "Geometry draft", category=geometry, status="draft"),
    }


SETTINGS = {
    "title": "Maths final",
    "description": "<p>Good luck</p>",
    "opens_at": "2030-06-01T09:00",
    "closes_at": "2030-06-01T11:00",
    "time_limit_minutes": "60",
    "attempts_allowed": "2",
    "navigation": "sequential",
    "shuffle_questions": "on",
    "pass_mark_percent": "55",
    "results_release": "after_close",
    "proctoring_level": "record",
    "grace_seconds": "45",
    "overdue_policy": "grace",
}


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_an_author_builds_a_forty_question_exam_by_hand_and_by_pools_and_publishes_it(
    make_portal, django_assert_max_num_queries
):
    portal = make_portal("alpha")
    author = person(portal, "author@alpha.test", "author")
    with portal.activate():
        qs = make_bank(author)
    client = client_as(portal, author)

    assert client.get("/cms/exams/").status_code == 200
    created = client.post("/cms/exams/add/", SETTINGS)
    assert created.status_code == 302, page_text(created)[-3000:]
    with portal.activate():
        exam = Exam.objects.get()
        assert created["Location"] == f"/cms/exams/{exam.pk}/"
        assert (
            exam.title,
            exam.time_limit_minutes,
            exam.attempts_allowed,
            exam.navigation,
            exam.shuffle_questions,
            exam.shuffle_options,
            exam.pass_mark_percent,
            exam.results_release,
            exam.proctoring_level,
            exam.grace_seconds,
            exam.overdue_policy,
            exam.created_by,
        ) == (
            "Maths final",
            60,
            2,
            "sequential",
            True,
            False,
            Decimal("55.00"),
            "after_close",
            "record",
            45,
            "grace",
            author,
        )
        assert exam.opens_at.isoformat() == "2030-06-01T09:00:00+00:00"
    base = f"/cms/exams/{exam.pk}"

    for title in ("Core", "Pools", "Spare"):
        assert client.post(f"{base}/sections/add/", {"title": title}).status_code == 302
    with portal.activate():
        core, pools, spare = exam.sections.order_by("position")
    # Sections are renamed, moved and removed.
    client.post(f"{base}/sections/{spare.pk}/rename/", {"title": "Extra", "instructions": "x"})
    client.post(f"{base}/sections/{spare.pk}/up/")
    with portal.activate():
        assert list(exam.sections.values_list("title", "position")) == [
            ("Core", 1),
            ("Extra", 2),
            ("Pools", 3),
        ]
    client.post(f"{base}/sections/{spare.pk}/remove/")
    with portal.activate():
        assert list(exam.sections.values_list("title", "position")) == [("Core", 1), ("Pools", 2)]

    # Fixed questions: search the bank, then add the ticked ones in one go.
    search = client.get(f"{base}/sections/{core.pk}/questions/", {"text": "General", "status": ""})
    assert search.status_code == 200
    assert "20 questions found" in page_text(search)
    ids = [str(q.pk) for q in qs["general"][:19]]
    added = client.post(f"{base}/sections/{core.pk}/questions/", {"question": ids})
    assert added.status_code == 302
    # ... and one more with its own "Add" button, worth 2 points.
    client.post(
        f"{base}/sections/{core.pk}/questions/",
        {"question": str(qs["general"][19].pk), "points": "2"},
    )
    again = client.get(f"{base}/sections/{core.pk}/questions/", {"text": "General 00"})
    assert "In this exam" in page_text(again)

    # Pool rules: check how many match, then add.
    rule = {
        "category": str(qs["algebra"].pk),
        "include_subcategories": "on",
        "tags": "core",
        "difficulty_min": "1",
        "difficulty_max": "5",
        "count": "12",
    }
    checked = client.post(f"{base}/sections/{pools.pk}/pool/", {**rule, "check": "1"})
    assert "<strong>16</strong> active questions match this rule now" in page_text(checked)
    narrower = client.post(
        f"{base}/sections/{pools.pk}/pool/", {**rule, "include_subcategories": "", "check": "1"}
    )
    assert "<strong>12</strong> active questions match" in page_text(narrower)
    assert client.post(f"{base}/sections/{pools.pk}/pool/", rule).status_code == 302
    geometry_rule = {
        "category": str(qs["geometry"].pk),
        "include_subcategories": "on",
        "difficulty_min": "1",
        "difficulty_max": "5",
        "count": "8",
        "points": "1.5",
    }
    assert client.post(f"{base}/sections/{pools.pk}/pool/", geometry_rule).status_code == 302

    with portal.activate():
        items = list(SectionItem.objects.filter(section=core).order_by("position"))
        assert [i.question_id for i in items] == [q.pk for q in qs["general"]]
        assert items[-1].points == Decimal("2.00")
        algebra_pool, geometry_pool = SectionItem.objects.filter(section=pools).order_by("position")
        assert (algebra_pool.count, algebra_pool.tags, algebra_pool.category_id) == (
            12,
            ["core"],
            qs["algebra"].pk,
        )
        assert (geometry_pool.count, geometry_pool.points) == (8, Decimal("1.50"))

    # Items are reordered and removed.
    client.post(f"{base}/items/{geometry_pool.pk}/up/")
    with portal.activate():
        assert list(pools.items.order_by("position").values_list("pk", flat=True)) == [
            geometry_pool.pk,
            algebra_pool.pk,
        ]
    client.post(f"{base}/items/{items[0].pk}/remove/")
    with portal.activate():
        assert list(core.items.order_by("position", "id").values_list("pk", flat=True)) == [
            i.pk for i in items[1:]
        ]
    client.post(f"{base}/sections/{core.pk}/questions/", {"question": str(qs["general"][0].pk)})

    builder = page_text(client.get(f"{base}/"))
    assert "2 sections, 40 questions per attempt" in builder
    assert "draw 12 from category Maths / Algebra (and subcategories); tags core" in builder
    assert "16 active questions match now" in builder and "10 active questions match now" in builder
    assert "Nothing is published yet" in builder

    confirm = client.get(f"{base}/publish/")
    assert "Publish version 1" in page_text(confirm)
    with portal.activate():
        assert ExamVersion.objects.count() == 0  # the check before confirming stores nothing
    published = client.post(f"{base}/publish/")
    assert published.status_code == 302
    assert published["Location"] == f"{base}/versions/1/"
    with portal.activate():
        version = ExamVersion.objects.get()
        exam.refresh_from_db()
        assert (exam.status, version.number, version.published_by) == ("published", 1, author)
        drawn = services.draw_questions(version=version, seed="x")
        assert len(drawn) == 40

    frozen = page_text(client.get(f"{base}/versions/1/"))
    assert "read-only" in frozen and "2 sections, 40 questions per attempt" in frozen
    assert "Pool:</strong> draws 12 of these 16 frozen questions" in frozen
    assert "Pool:</strong> draws 8 of these 10 frozen questions" in frozen
    assert "Geometry draft" not in frozen  # only active questions are frozen into pools
    assert "Linear 3" in frozen and "General 19" in frozen
    assert '<th scope="row">Navigation</th><td>Sequential (no going back)</td>' in frozen
    assert '<th scope="row">Pass mark (%)</th><td>55.00</td>' in frozen

    # Editing after publishing changes the draft only; the builder says so.
    client.post(f"{base}/sections/{core.pk}/rename/", {"title": "Core (revised)"})
    builder = page_text(client.get(f"{base}/"))
    assert "Version 1 is published" in builder and "publishing again creates version 2" in builder
    with portal.activate():
        assert ExamVersion.objects.get().snapshot["sections"][0]["title"] == "Core"
    client.post(f"{base}/publish/")
    with portal.activate():
        assert list(ExamVersion.objects.values_list("number", flat=True)) == [1, 2]
        assert (
            ExamVersion.objects.get(number=2).snapshot["sections"][0]["title"] == "Core (revised)"
        )
    versions = page_text(client.get(f"{base}/versions/"))
    assert "Version 1" in versions and "Version 2" in versions

    put_on_plan(portal, "pro")  # eleven exams: beyond the Free plan's 3
    with portal.activate():
        for n in range(10):  # the list's query count does not grow with the exams
            services.create_exam(by=author, title=f"Other exam {n}")
    with django_assert_max_num_queries(30):
        listing = client.get("/cms/exams/")
    assert "Maths final" in page_text(listing) and f'href="/cms/exams/{exam.pk}/versions/">2<' in (
        page_text(listing)
    )


def test_removing_an_item_in_the_builder_closes_up_the_positions(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = services.create_exam(by=admin, title="Close up")
        section = services.add_section(exam=exam, title="Only")
        first, *rest = (
            services.add_fixed_item(section=section, question=question(admin, f"Q{i}"))
            for i in range(3)
        )
    client = portal.login_admin()
    assert client.post(f"/cms/exams/{exam.pk}/items/{first.pk}/remove/").status_code == 302
    with portal.activate():
        assert list(section.items.values_list("pk", "position")) == [
            (rest[0].pk, 1),
            (rest[1].pk, 2),
        ]


def test_publish_problems_are_listed_before_and_after_confirming_and_nothing_is_stored(
    make_portal,
):
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        qs = make_bank(admin)
        exam = services.create_exam(by=admin, title="Shaky")
        fixed = services.add_section(exam=exam, title="Fixed")
        services.add_fixed_item(section=fixed, question=qs["draft"])
        pools = services.add_section(exam=exam, title="Pools")
        services.add_pool_item(section=pools, count=30, category=qs["geometry"])
        services.add_section(exam=exam, title="Empty")
    client = portal.login_admin()
    expected = [
        "Section 1, item 1: question “Geometry draft” is draft; only active questions can be "
        "published",
        "Section 2, pool 1 asks for 30 questions but only 10 active questions match "
        "(category Geometry)",
        "Section 3 (Empty) has no questions",
    ]

    confirm = client.get(f"/cms/exams/{exam.pk}/publish/")
    assert confirm.status_code == 200
    text = page_text(confirm)
    assert "This exam cannot be published yet." in text and "Publish version" not in text
    assert [m for m in expected if m not in text] == []

    refused = client.post(f"/cms/exams/{exam.pk}/publish/")
    assert refused.status_code == 400
    problems = page_text(refused).split('class="viva-publish-problems">')[1].split("</ul>")[0]
    assert re.findall(r"<li>(.*?)</li>", problems) == expected
    with portal.activate():
        exam.refresh_from_db()
        assert (exam.status, ExamVersion.objects.count()) == ("draft", 0)


def test_settings_refused_by_the_service_are_shown_on_the_form_and_change_nothing(make_portal):
    portal = make_portal("alpha")
    client = portal.login_admin()
    bad = {
        **SETTINGS,
        "closes_at": "2030-06-01T08:00",
        "pass_mark_percent": "120",
        "attempts_allowed": "0",
    }
    response = client.post("/cms/exams/add/", bad)
    assert response.status_code == 400
    text = page_text(response)
    for message in (
        "the exam must close after it opens",
        "attempts allowed must be a whole number of at least 1",
        "the pass mark must be a percentage from 0 to 100",
    ):
        assert message in text
    with portal.activate():
        assert Exam.objects.count() == 0
        admin = User.objects.get(email=portal.admin_email)
        exam = services.create_exam(by=admin, title="Fine", time_limit_minutes=30)
    edited = client.post(f"/cms/exams/{exam.pk}/settings/", {**SETTINGS, "title": " "})
    assert edited.status_code == 400
    with portal.activate():
        exam.refresh_from_db()
        assert (exam.title, exam.time_limit_minutes) == ("Fine", 30)
    saved = client.post(f"/cms/exams/{exam.pk}/settings/", {**SETTINGS, "title": "Renamed"})
    assert saved.status_code == 302
    with portal.activate():
        exam.refresh_from_db()
        assert (exam.title, exam.time_limit_minutes, exam.grace_seconds) == ("Renamed", 60, 45)


def test_cohorts_and_assignments_through_the_admin(make_portal):
    portal = make_portal("alpha")
    ann = person(portal, "ann@alpha.test", "candidate")
    bob = person(portal, "bob@alpha.test", "candidate")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = services.create_exam(by=admin, title="Assigned")
    client = portal.login_admin()

    created = client.post("/cms/exams/cohorts/", {"name": "Year 1"})
    assert created.status_code == 302
    with portal.activate():
        cohort = Cohort.objects.get()
    duplicate = client.post("/cms/exams/cohorts/", {"name": "Year 1"})
    assert duplicate.status_code == 400 and "cohort &#x27;Year 1&#x27; already exists" in (
        page_text(duplicate)
    )

    added = client.post(
        f"/cms/exams/cohorts/{cohort.pk}/",
        {"emails": "ANN@alpha.test, bob@alpha.test\nnobody@alpha.test", "action": "add"},
        follow=True,
    )
    text = page_text(added)
    assert "Added 2 member(s)." in text
    assert "No person with these emails in this portal: nobody@alpha.test." in text
    client.post(
        f"/cms/exams/cohorts/{cohort.pk}/", {"emails": "bob@alpha.test", "action": "remove"}
    )
    with portal.activate():
        assert list(cohort.members.all()) == [ann]

    url = f"/cms/exams/{exam.pk}/assignments/"
    assert (
        client.post(
            url,
            {
                "cohort": str(cohort.pk),
                "extra_time_minutes": "15",
                "opens_at": "2030-06-01T08:00",
                "closes_at": "2030-06-02T08:00",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(url, {"email": "bob@alpha.test", "extra_time_minutes": "30"}).status_code == 302
    )
    both = client.post(url, {"cohort": str(cohort.pk), "email": "bob@alpha.test"})
    assert both.status_code == 400 and "Choose one cohort or give one person" in page_text(both)
    unknown = client.post(url, {"email": "ghost@alpha.test", "extra_time_minutes": "0"})
    assert "No person with this email in this portal." in page_text(unknown)
    backwards = client.post(
        url,
        {
            "email": "ann@alpha.test",
            "extra_time_minutes": "0",
            "opens_at": "2030-06-02T08:00",
            "closes_at": "2030-06-01T08:00",
        },
    )
    assert "the assignment must close after it opens" in page_text(backwards)
    with portal.activate():
        rows = {
            (a.cohort_id, a.user_id, a.extra_time_minutes)
            for a in ExamAssignment.objects.filter(exam=exam)
        }
        assert rows == {(cohort.pk, None, 15), (None, bob.pk, 30)}
        bobs = ExamAssignment.objects.get(user=bob)
    listing = page_text(client.get(url))
    assert "Cohort <a" in listing and "bob@alpha.test" in listing and "15 min" in listing
    assert client.post(f"{url}{bobs.pk}/remove/").status_code == 302
    with portal.activate():
        assert ExamAssignment.objects.filter(exam=exam).count() == 1


def snapshot_of_everything(portal) -> tuple:
    with portal.activate():
        return (
            list(Exam.objects.values_list("pk", "title", "status", "time_limit_minutes")),
            list(ExamSection.objects.values_list("pk", "title", "position")),
            list(SectionItem.objects.values_list("pk", "position", "question_id", "count")),
            ExamVersion.objects.count(),
            list(Cohort.objects.values_list("pk", "name")),
            ExamAssignment.objects.count(),
        )


@pytest.mark.parametrize("role", ["candidate", "grader", "proctor", None])
def test_only_authors_and_tenant_admins_may_build_exams(make_portal, role):
    portal = make_portal("alpha")
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        qs = make_bank(admin)
        exam = services.create_exam(by=admin, title="Guarded")
        section = services.add_section(exam=exam, title="Only")
        item = services.add_fixed_item(section=section, question=qs["general"][0])
        cohort = services.create_cohort(name="Year 1")
    outsider = person(portal, f"{role}@alpha.test", role)
    client = client_as(portal, outsider)
    before = snapshot_of_everything(portal)
    base = f"/cms/exams/{exam.pk}"

    for url in (
        "/cms/exams/",
        "/cms/exams/add/",
        f"{base}/",
        f"{base}/settings/",
        f"{base}/publish/",
        f"{base}/versions/",
        f"{base}/assignments/",
        f"{base}/sections/{section.pk}/questions/",
        "/cms/exams/cohorts/",
        f"/cms/exams/cohorts/{cohort.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "Guarded" not in response.content.decode()
    for url, data in (
        ("/cms/exams/add/", SETTINGS),
        (f"{base}/settings/", {**SETTINGS, "title": "Taken"}),
        (f"{base}/sections/add/", {"title": "Sneaky"}),
        (f"{base}/sections/{section.pk}/remove/", {}),
        (f"{base}/items/{item.pk}/remove/", {}),
        (f"{base}/publish/", {}),
        (f"{base}/assignments/", {"cohort": str(cohort.pk), "extra_time_minutes": "0"}),
        ("/cms/exams/cohorts/", {"name": "Sneaky"}),
    ):
        assert client.post(url, data).status_code == 302, url
    assert snapshot_of_everything(portal) == before


def test_an_author_builds_but_cohorts_are_the_tenant_admins(make_portal):
    portal = make_portal("alpha")
    author = person(portal, "author@alpha.test", "author")
    with portal.activate():
        cohort = services.create_cohort(name="Year 1")
    client = client_as(portal, author)
    assert client.get("/cms/exams/").status_code == 200
    assert client.get("/cms/exams/cohorts/").status_code == 200  # authors may see cohorts
    assert "New cohort" not in page_text(client.get("/cms/exams/cohorts/"))
    assert client.post("/cms/exams/cohorts/", {"name": "Mine"}).status_code == 302
    refused = client.post(
        f"/cms/exams/cohorts/{cohort.pk}/", {"emails": "author@alpha.test", "action": "add"}
    )
    assert refused.status_code == 302
    with portal.activate():
        assert list(Cohort.objects.values_list("name", flat=True)) == ["Year 1"]
        assert cohort.members.count() == 0


def test_another_portals_author_can_neither_see_nor_change_nor_publish_an_exam_by_id(
    two_portals,
):
    a, b = two_portals
    with a.activate():
        admin_a = User.objects.get(email=a.admin_email)
        qs = make_bank(admin_a)
        exam = services.create_exam(by=admin_a, title="Alpha secret exam")
        section = services.add_section(exam=exam, title="Alpha section")
        item = services.add_fixed_item(section=section, question=qs["general"][0])
        services.publish_exam(exam=exam, by=admin_a)
        cohort = services.create_cohort(name="Alpha cohort")
        services.assign_exam(exam=exam, cohort=cohort)
        assignment = ExamAssignment.objects.get()
    author_b = person(b, "author@beta.test", "author")
    client = client_as(b, author_b)
    before = snapshot_of_everything(a)
    base = f"/cms/exams/{exam.pk}"

    for url in (
        f"{base}/",
        f"{base}/settings/",
        f"{base}/publish/",
        f"{base}/versions/",
        f"{base}/versions/1/",
        f"{base}/assignments/",
        f"{base}/sections/{section.pk}/questions/",
        f"{base}/sections/{section.pk}/pool/",
        f"/cms/exams/cohorts/{cohort.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Alpha" not in response.content.decode()
    for url, data in (
        (f"{base}/settings/", {**SETTINGS, "title": "Hijacked"}),
        (f"{base}/sections/add/", {"title": "Injected"}),
        (f"{base}/sections/{section.pk}/rename/", {"title": "Hijacked"}),
        (f"{base}/sections/{section.pk}/remove/", {}),
        (f"{base}/items/{item.pk}/remove/", {}),
        (f"{base}/publish/", {}),
        (f"{base}/archive/", {}),
    ):
        assert client.post(url, data).status_code == 404, url
    # Removing assignments is a tenant admin's right: B's own admin gets "not found" too.
    admin_b = b.login_admin()
    assert admin_b.post(f"{base}/assignments/{assignment.pk}/remove/").status_code == 404
    assert admin_b.get(f"{base}/versions/1/").status_code == 404
    listing = client.get("/cms/exams/")
    assert listing.status_code == 200 and "Alpha secret exam" not in page_text(listing)
    assert snapshot_of_everything(a) == before
    with b.activate():
        assert (Exam.objects.count(), ExamVersion.objects.count(), Question.objects.count()) == (
            0,
            0,
            0,
        )
        assert Category.objects.count() == 0

    # A's admin session presented on B's host is anonymous there.
    a_client = a.login_admin()
    a_client.defaults["HTTP_HOST"] = b.domain
    assert a_client.get(f"{base}/versions/1/").status_code == 302
