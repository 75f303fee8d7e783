"""The question bank in a tenant schema: services, versions, diffs, search, isolation."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from assessments import selectors, services
from assessments.models import Category, Question, QuestionVersion
from assessments.questions import QuestionDataError
from assessments.selectors import FieldChange

pytestmark = pytest.mark.django_db

CHOICE = {
    "options": [
        {"id": "a", "text": "Paris", "correct": True},
        {"id": "b", "text": "Lyon"},
    ]
}


def admin_of(portal):
    return get_user_model().objects.get(email=portal.admin_email)


def new_question(author, **overrides):
    values = {
        "author": author,
        "type": "single_choice",
        "title": "Capital of France",
        "stem": "<p>Which city is the capital of France?</p>",
        "data": CHOICE,
    }
    return services.create_question(**{**values, **overrides})


def counts():
    return (Question.objects.count(), QuestionVersion.objects.count(), Category.objects.count())


def test_create_validates_sanitises_and_records_version_one(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        europe = services.create_category(name="Europe")
        question = new_question(
            author,
            stem='<p onclick="steal()">Capital?<script>alert(1)</script>'
            '<img src="map.png" onerror="alert(2)"></p>',
            explanation="<b>Paris</b><script>x()</script>",
            category=europe,
            tags=["geo", " capitals ", "geo", ""],
            difficulty=2,
        )
        question.refresh_from_db()
        assert question.stem == '<p>Capital?<img src="map.png"></p>'
        assert question.explanation == "<b>Paris</b>"
        assert question.data["options"][0] == {
            "id": "a",
            "text": "Paris",
            "feedback": "",
            "correct": True,
        }
        assert sorted(question.tags.names()) == ["capitals", "geo"]
        assert (question.version, question.status, question.created_by, question.updated_by) == (
            1,
            "draft",
            author,
            author,
        )
        version = question.versions.get()
        assert (version.number, version.author) == (1, author)
        assert version.snapshot == {
            "type": "single_choice",
            "title": "Capital of France",
            "stem": '<p>Capital?<img src="map.png"></p>',
            "data": question.data,
            "explanation": "<b>Paris</b>",
            "category": europe.pk,
            "tags": ["capitals", "geo"],
            "difficulty": 2,
            "irt_a": None,
            "irt_b": None,
            "irt_c": None,
            "status": "draft",
        }


def test_refused_create_stores_nothing(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        before = counts()
        with pytest.raises(QuestionDataError) as raised:
            new_question(
                author,
                title=" ",
                data={"options": [{"text": "a"}, {"text": ""}]},
                difficulty=6,
                status="published",
                irt_c=1.5,
            )
        assert raised.value.errors == [
            "data: options[1].text is empty",
            "data: options must have exactly one correct option",
            "title is empty",
            "difficulty must be a whole number from 1 to 5",
            "status must be one of draft, active, retired",
            "irt_c must be between 0 and 1",
        ]
        with pytest.raises(QuestionDataError) as raised:
            new_question(author, type="poll")
        assert raised.value.errors == ["type 'poll' is not a question type"]
        assert counts() == before


def test_update_bumps_version_and_restore_makes_a_new_one(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        question = new_question(author, tags=["geo"])
        services.update_question(
            question=question,
            author=author,
            title="The capital of France",
            stem="<p>Which city is the capital of France?</p>\n<p>Pick one.</p>",
            tags=["geo", "easy"],
            status="active",
        )
        services.update_question(
            question=question,
            author=None,
            type="short_answer",
            data={"accepted": ["Paris"]},
        )
        question.refresh_from_db()
        assert (question.version, question.type, question.data["accepted"]) == (
            3,
            "short_answer",
            ["Paris"],
        )
        assert list(question.versions.values_list("number", flat=True)) == [1, 2, 3]

        # a refused update changes nothing
        with pytest.raises(QuestionDataError) as raised:
            services.update_question(question=question, author=author, data={"accepted": []})
        assert raised.value.errors == ["data: accepted needs at least 1 item"]
        with pytest.raises(QuestionDataError) as raised:
            services.update_question(question=question, author=author, version=9)
        assert raised.value.errors == ["version is not an editable field"]
        question.refresh_from_db()
        assert (question.version, question.versions.count()) == (3, 3)

        restored = services.restore_version(question=question, number=1, author=author)
        restored.refresh_from_db()
        assert restored.version == 4
        assert (restored.type, restored.title, restored.status) == (
            "single_choice",
            "Capital of France",
            "draft",
        )
        assert restored.data == question.versions.get(number=1).snapshot["data"]
        assert sorted(restored.tags.names()) == ["geo"]
        assert question.versions.get(number=4).snapshot == question.versions.get(number=1).snapshot
        with pytest.raises(QuestionVersion.DoesNotExist):
            services.restore_version(question=question, number=99, author=author)


def test_version_diff_is_per_field_with_line_diffs(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        science = services.create_category(name="Science")
        physics = services.create_category(name="Physics", parent=science)
        question = new_question(author, stem="<p>Line one</p>\n<p>Line two</p>")
        services.update_question(
            question=question,
            author=author,
            stem="<p>Line one</p>\n<p>Line 2</p>",
            category=physics,
            difficulty=4,
        )
        changes = selectors.version_diff(question=question, a=1, b=2)
        assert changes == [
            FieldChange(
                field="stem",
                before="<p>Line one</p>\n<p>Line two</p>",
                after="<p>Line one</p>\n<p>Line 2</p>",
                lines=[
                    "--- version 1",
                    "+++ version 2",
                    "@@ -1,2 +1,2 @@",
                    " <p>Line one</p>",
                    "-<p>Line two</p>",
                    "+<p>Line 2</p>",
                ],
            ),
            FieldChange(field="category", before=None, after="Science / Physics"),
            FieldChange(field="difficulty", before=3, after=4),
        ]
        assert selectors.version_diff(question=question, a=2, b=2) == []


def test_search_filters(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        science = services.create_category(name="Science")
        physics = services.create_category(name="Physics", parent=science)
        history = services.create_category(name="History")
        g = new_question(
            author,
            title="Gravity",
            category=physics,
            tags=["mech", "easy"],
            difficulty=2,
            status="active",
        )
        t = new_question(
            author,
            title="Thermo",
            stem="<p>Heat engines</p>",
            category=science,
            tags=["heat"],
            difficulty=4,
        )
        h = new_question(
            author,
            title="Rome",
            type="short_answer",
            data={"accepted": ["753"]},
            category=history,
            tags=["easy"],
            difficulty=2,
        )

        def titles(**filters):
            return sorted(q.title for q in selectors.search_questions(**filters))

        assert titles() == ["Gravity", "Rome", "Thermo"]
        assert titles(text="heat ENGINE") == ["Thermo"]
        assert titles(type="short_answer") == ["Rome"]
        assert titles(tags=["easy"]) == ["Gravity", "Rome"]
        assert titles(tags=["easy", "mech"]) == ["Gravity"]
        assert titles(category=science) == ["Gravity", "Thermo"]
        assert titles(category=science, include_subcategories=False) == ["Thermo"]
        assert titles(difficulty=2) == ["Gravity", "Rome"]
        assert titles(difficulty=(3, 5)) == ["Thermo"]
        assert titles(status="active") == ["Gravity"]
        assert titles(status=["draft", "retired"]) == ["Rome", "Thermo"]
        assert titles(tags=["easy"], category=history, difficulty=2) == ["Rome"]
        assert {g.pk, t.pk, h.pk} == set(Question.objects.values_list("pk", flat=True))


def test_bulk_retire_tag_and_move(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        old = services.create_category(name="Old")
        new = services.create_category(name="New")
        a = new_question(author, title="A", category=old, tags=["x"])
        b = new_question(author, title="B", category=old, tags=["x", "y"], status="retired")

        assert services.retire_questions(questions=[a, b], author=author) == 1
        assert services.bulk_tag(questions=[a, b], add=["z"], remove=["x"]) == 2
        assert services.bulk_tag(questions=[a, b], add=["z"]) == 0
        assert services.move_questions(questions=[a, b], category=new, author=author) == 2

        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.status, a.category, sorted(a.tags.names()), a.version) == (
            "retired",
            new,
            ["z"],
            4,
        )
        assert (b.status, b.category, sorted(b.tags.names()), b.version) == (
            "retired",
            new,
            ["y", "z"],
            3,
        )
        assert a.versions.get(number=3).snapshot["tags"] == ["z"]
        with pytest.raises(QuestionDataError) as raised:
            services.create_category(name="New")
        assert raised.value.errors == ["category 'New' already exists here"]


def test_tenant_b_cannot_see_or_change_tenant_a_questions(two_portals):
    a, b = two_portals
    with a.activate():
        author_a = admin_of(a)
        category_a = services.create_category(name="Secret")
        question_a = new_question(author_a, title="A only", category=category_a, tags=["a-tag"])
        services.update_question(question=question_a, author=author_a, difficulty=5)
        a_state = (counts(), list(QuestionVersion.objects.values_list("pk", "number")))

    with b.activate():
        author_b = admin_of(b)
        assert counts() == (0, 0, 0)
        assert list(selectors.search_questions(text="A only")) == []
        assert list(selectors.search_questions(tags=["a-tag"])) == []
        assert not Category.objects.filter(name="Secret").exists()
        with pytest.raises(Question.DoesNotExist):
            services.update_question(question=question_a, author=author_b, title="Hijacked")
        with pytest.raises(Question.DoesNotExist):
            services.restore_version(question=question_a, number=1, author=author_b)
        assert services.retire_questions(questions=[question_a], author=author_b) == 0
        assert services.bulk_tag(questions=[question_a], add=["b-tag"]) == 0
        assert services.move_questions(questions=[question_a], category=None) == 0
        with pytest.raises(QuestionDataError) as raised:
            new_question(author_b, category=category_a)
        assert raised.value.errors == ["category does not exist"]
        with pytest.raises(KeyError):
            selectors.version_diff(question=question_a, a=1, b=2)
        assert counts() == (0, 0, 0)

    with a.activate():
        question_a.refresh_from_db()
        assert (question_a.title, question_a.version, question_a.status) == ("A only", 2, "draft")
        assert sorted(question_a.tags.names()) == ["a-tag"]
        assert (counts(), list(QuestionVersion.objects.values_list("pk", "number"))) == a_state
