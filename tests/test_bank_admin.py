"""The question bank in the portal's Wagtail admin (``/cms/questions/``): list, filters, bulk
actions, the editor, versions, the candidate preview, permissions and two-tenant isolation."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from PIL import Image as PILImage
from wagtail.images import get_image_model

from assessments import services
from assessments.bank.forms import EXAMPLES
from assessments.bank.rendering import candidate_context
from assessments.models import Category, Question, QuestionVersion
from assessments.questions import REGISTRY, get_type
from assessments.questions.base import item_key
from tenants.access.permissions import assign_role

pytestmark = pytest.mark.django_db
User = get_user_model()

CHOICE = {
    "shuffle": False,
    "options": [
        {"id": "a", "text": "Paris", "correct": True, "feedback": "Yes, Paris."},
        {"id": "b", "text": "Lyon", "feedback": "Lyon is not the capital."},
    ],
}


# -- helpers ----------------------------------------------------------------------------------


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
    connection.set_schema_to_public()
    return client


def author_client(portal, email: str | None = None) -> tuple[Client, object]:
    user = make_user(portal, email or f"author@{portal.schema}.test", "author")
    return client_as(portal, user), user


def new_question(author, **overrides) -> Question:
    values = {
        "author": author,
        "type": "single_choice",
        "title": "Capital of France",
        "stem": "<p>Which city is the capital of France?</p>",
        "data": CHOICE,
    }
    return services.create_question(**{**values, **overrides})


def listed_ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(pk) for pk in re.findall(r'data-question-id="(\d+)"', response.content.decode())]


def bank_state(portal) -> dict:
    """Everything the bank stores, to show that a refused request changed nothing."""
    with portal.activate():
        return {
            "questions": list(Question.objects.order_by("pk").values()),
            "versions": list(QuestionVersion.objects.order_by("pk").values_list("pk", "number")),
            "categories": list(Category.objects.order_by("pk").values_list("pk", "name")),
            "tags": sorted(
                (q.pk, sorted(q.tags.names())) for q in Question.objects.prefetch_related("tags")
            ),
        }


def form_values(**overrides) -> dict:
    values = {
        "type": "single_choice",
        "title": "Capital of Italy",
        "stem": "<p>Which city is the capital of Italy?</p>",
        "data": json.dumps(
            {
                "shuffle": False,
                "options": [
                    {"id": "a", "text": "Rome", "correct": True},
                    {"id": "b", "text": "Milan"},
                ],
            }
        ),
        "explanation": "<p>Rome has been the capital since 1871.</p>",
        "category": "",
        "tags": "geo, capitals",
        "difficulty": "2",
        "irt_a": "",
        "irt_b": "",
        "irt_c": "",
        "status": "active",
    }
    return {**values, **overrides}


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 3), (30, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


# -- the list -------------------------------------------------------------------------------


def test_the_list_searches_filters_and_shows_every_column(
    make_portal, django_assert_max_num_queries
):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        science = services.create_category(name="Science")
        physics = services.create_category(name="Physics", parent=science)
        history = services.create_category(name="History")
        falling = new_question(
            author,
            title="Falling apple",
            stem="<p>Newton and gravity</p>",
            category=physics,
            tags=["mechanics"],
            difficulty=2,
            status="active",
        )
        water = new_question(
            author,
            type="true_false",
            title="Water boils at 100 °C",
            data={"answer": True},
            category=science,
            difficulty=4,
        )
        battle = new_question(
            author,
            type="short_answer",
            title="Year of Hastings",
            data={"accepted": ["1066"]},
            category=history,
            status="retired",
        )
        for n in range(30):
            new_question(author, title=f"Filler {n}", tags=["filler"])

    # Constant in the number of rows (measured 31-32 with 1 and 21 rows; the admin menu asks
    # each item's role check separately).
    with django_assert_max_num_queries(40):
        page = client.get("/cms/questions/")
    text = page.content.decode()
    assert listed_ids(page)[:3] == sorted(listed_ids(page), reverse=True)[:3]  # newest first
    assert "33 questions." in text
    assert len(listed_ids(page)) == 33
    row = re.search(rf'<tr data-question-id="{falling.pk}">(.*?)</tr>', text, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert cells[1:8] == [
        "Falling apple",
        "Single choice",
        "Science / Physics",
        "mechanics",
        "2",
        "Active",
        "1",
    ]

    def ids(query: str) -> set[int]:
        return set(listed_ids(client.get(f"/cms/questions/?{query}")))

    assert ids(f"category={science.pk}") == {falling.pk, water.pk}  # with subcategories
    assert ids(f"category={physics.pk}") == {falling.pk}
    assert ids("type=true_false") == {water.pk}
    assert ids("tag=mechanics") == {falling.pk}
    assert ids("difficulty=4") == {water.pk}
    assert ids("status=retired") == {battle.pk}
    assert ids("q=newton") == {falling.pk}  # the stem is searched, case-insensitively
    assert ids("q=hastings&status=retired") == {battle.pk}
    assert ids("q=hastings&status=draft") == set()
    assert ids("type=not-a-type") == ids("")  # an invalid filter is ignored, not an error


def test_the_list_pages_by_fifty(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        services.create_questions(
            author=author,
            questions=[
                {"type": "true_false", "title": f"Q{n}", "stem": "", "data": {"answer": True}}
                for n in range(55)
            ],
        )
    first, second = client.get("/cms/questions/"), client.get("/cms/questions/?p=2")
    assert len(listed_ids(first)) == 50 and len(listed_ids(second)) == 5
    assert "Page 2 of 2" in second.content.decode()
    assert not set(listed_ids(first)) & set(listed_ids(second))


def test_bulk_tag_move_and_retire_through_the_services(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        target = services.create_category(name="Geography")
        one = new_question(author, title="One", tags=["old"])
        two = new_question(author, title="Two", tags=["old"])
        three = new_question(author, title="Three")

    def bulk(**values):
        response = client.post(
            "/cms/questions/bulk/", {"next": "/cms/questions/?status=draft", **values}
        )
        assert response.status_code == 302
        assert response["Location"] == "/cms/questions/?status=draft"
        page = client.get(response["Location"])
        return [str(m) for m in page.context["messages"]]

    assert bulk(action="add_tag", ids=[one.pk, two.pk], tag="europe") == [
        "Tag “europe” added to 2 questions."
    ]
    assert bulk(action="remove_tag", ids=[one.pk, two.pk, three.pk], tag="old") == [
        "Tag “old” removed from 2 questions."
    ]
    assert bulk(action="move", ids=[one.pk, three.pk], category=str(target.pk)) == [
        "2 questions moved to Geography."
    ]
    assert bulk(action="retire", ids=[two.pk, three.pk]) == ["2 questions retired."]
    assert bulk(action="retire", ids=[two.pk]) == ["0 questions retired."]
    with portal.activate():
        rows = {q.title: q for q in Question.objects.prefetch_related("tags")}
        assert {t: sorted(q.tags.names()) for t, q in rows.items()} == {
            "One": ["europe"],
            "Two": ["europe"],
            "Three": [],
        }
        assert {t: q.category_id for t, q in rows.items()} == {
            "One": target.pk,
            "Two": None,
            "Three": target.pk,
        }
        assert {t: q.status for t, q in rows.items()} == {
            "One": "draft",
            "Two": "retired",
            "Three": "retired",
        }
        # A version per change: One tag/untag/move, Two tag/untag/retire, Three move/retire.
        assert {t: q.version for t, q in rows.items()} == {"One": 4, "Two": 4, "Three": 3}

    before = bank_state(portal)
    assert bulk(action="add_tag", ids=[one.pk], tag="  ") == ["Give the tag to add or remove."]
    assert bulk(action="retire") == ["Select at least one question."]
    assert bank_state(portal) == before


# -- the editor -----------------------------------------------------------------------------


def test_every_example_of_the_editor_validates():
    assert set(EXAMPLES) == set(REGISTRY)
    for key, data in EXAMPLES.items():
        get_type(key).validate(data)


def test_an_invalid_question_shows_every_error_by_its_field_and_saves_nothing(make_portal):
    portal = make_portal("alpha")
    client, _ = author_client(portal)
    before = bank_state(portal)
    data = {
        "options": [
            {"id": "a", "text": "Rome", "correct": True},
            {"id": "b", "text": "Milan", "correct": True},
            {"id": "c", "text": "  "},
        ]
    }
    response = client.post(
        "/cms/questions/new/",
        form_values(title="  ", data=json.dumps(data), irt_c="1.5", difficulty="9"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["data"] == [
        "options[2].text is empty",
        "options must have exactly one correct option",
    ]
    assert "title" in form.errors and "difficulty" in form.errors
    page = response.content.decode()
    assert "options[2].text is empty" in page
    assert re.search(r'data-field="data">.*?options\[2\]\.text is empty.*?</div>', page, re.S)

    not_json = client.post("/cms/questions/new/", form_values(data='{"options": [1,}'))
    assert not_json.context["form"].errors["data"] == [
        "This is not valid JSON: line 1, column 16: Expecting value."
    ]
    # A refusal of the service itself (irt_c out of range) is shown by its field too.
    refused = client.post("/cms/questions/new/", form_values(irt_c="1.5"))
    assert refused.context["form"].errors["irt_c"] == ["irt_c must be between 0 and 1"]
    assert bank_state(portal) == before


def test_the_editor_starts_from_the_types_example_and_documents_it(make_portal):
    portal = make_portal("alpha")
    client, _ = author_client(portal)
    chooser = client.get("/cms/questions/new/")
    assert chooser.status_code == 200
    for key in REGISTRY:
        assert f"?type={key}" in chooser.content.decode()
    page = client.get("/cms/questions/new/?type=cloze")
    assert page.status_code == 200
    assert json.loads(page.context["form"].initial["data"]) == EXAMPLES["cloze"]
    assert "Every ``{{id}}`` in ``text`` has exactly one gap" in page.content.decode()


def test_creating_and_editing_make_versions_with_sanitised_html(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        europe = services.create_category(name="Europe")
    response = client.post(
        "/cms/questions/new/",
        form_values(
            stem='<p onclick="x()">Capital \\(x^2\\)?<script>alert(1)</script></p>',
            category=str(europe.pk),
        ),
    )
    assert response.status_code == 302
    with portal.activate():
        question = Question.objects.get()
        assert response["Location"] == f"/cms/questions/{question.pk}/"
        assert question.stem == "<p>Capital \\(x^2\\)?</p>"
        assert (question.version, question.category_id, question.created_by_id) == (
            1,
            europe.pk,
            author.pk,
        )
        assert sorted(question.tags.names()) == ["capitals", "geo"]
        assert question.data["options"][0] == {
            "id": "a",
            "text": "Rome",
            "correct": True,
            "feedback": "",
        }

    edit = client.get(f"/cms/questions/{question.pk}/")
    assert edit.status_code == 200
    assert edit.context["form"].initial["title"] == "Capital of Italy"
    values = {**edit.context["form"].initial}
    values.update(
        category=str(europe.pk),
        tags="geo, capitals",
        data=values["data"],
        irt_a="",
        irt_b="",
        irt_c="",
        stem=question.stem,
    )
    # Saving unchanged makes no version.
    unchanged = client.post(f"/cms/questions/{question.pk}/", values)
    assert unchanged.status_code == 302
    with portal.activate():
        assert Question.objects.get().version == 1
    changed = client.post(
        f"/cms/questions/{question.pk}/", {**values, "title": "Capital of Italy?", "irt_a": "1.2"}
    )
    assert changed.status_code == 302
    with portal.activate():
        question = Question.objects.get()
        assert (question.version, question.title, question.irt_a) == (2, "Capital of Italy?", 1.2)
        assert list(question.versions.values_list("number", "author_id")) == [
            (1, author.pk),
            (2, author.pk),
        ]


# -- versions -------------------------------------------------------------------------------


def test_history_diff_and_restore(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        question = new_question(author)
        services.update_question(
            question=question, author=author, title="Capital city of France", tags=["geo"]
        )
        data = {**CHOICE, "options": [CHOICE["options"][0], {"id": "b", "text": "Marseille"}]}
        services.update_question(question=question, author=author, data=data)

    history = client.get(f"/cms/questions/{question.pk}/history/")
    assert history.status_code == 200
    assert [v.number for v in history.context["versions"]] == [3, 2, 1]
    assert f"author@{portal.schema}.test" in history.content.decode()

    diff = client.get(f"/cms/questions/{question.pk}/history/compare/?a=1&b=3")
    assert diff.status_code == 200
    fields = [change.field for change in diff.context["changes"]]
    assert fields == ["title", "data", "tags"]  # in the editor's order
    page = diff.content.decode()
    assert "Capital of France" in page and "Capital city of France" in page
    assert "-      &quot;text&quot;: &quot;Lyon&quot;" in page
    assert "+      &quot;text&quot;: &quot;Marseille&quot;" in page
    assert client.get(f"/cms/questions/{question.pk}/history/compare/?a=1&b=9").status_code == 404
    assert client.get(f"/cms/questions/{question.pk}/history/compare/?a=x&b=1").status_code == 404

    before = bank_state(portal)
    confirm = client.get(f"/cms/questions/{question.pk}/history/1/restore/")
    assert confirm.status_code == 200
    assert "Yes, restore version 1" in confirm.content.decode()
    assert bank_state(portal) == before  # asking is not restoring

    restored = client.post(f"/cms/questions/{question.pk}/history/1/restore/")
    assert restored.status_code == 302
    with portal.activate():
        question.refresh_from_db()
        assert (question.version, question.title) == (4, "Capital of France")
        assert question.data["options"][1]["text"] == "Lyon"
        assert list(question.tags.names()) == []
        assert QuestionVersion.objects.get(question=question, number=4).author_id == author.pk
    assert client.post(f"/cms/questions/{question.pk}/history/99/restore/").status_code == 404


# -- preview --------------------------------------------------------------------------------


def test_the_preview_shows_no_key_until_checked_and_grades_the_response(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        question = new_question(
            author,
            type="short_answer",
            title="Capital",
            stem="<p>Name the capital of France: \\(x\\)</p>",
            data={"accepted": ["Lutetia*"], "points": "2"},
            explanation="<p>Lutetia was its Roman name.</p>",
        )
    url = f"/cms/questions/{question.pk}/preview/"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-question-type="short_answer"' in text and 'data-position="1"' in text
    assert "Lutetia" not in text  # neither the key nor the explanation
    assert "katex.min.js" in text and "responses.js" in text
    assert "cdn" not in text.lower()

    right = client.post(url, {"response": json.dumps("lutetia parisiorum")})
    assert right.status_code == 200
    assert (right.context["grade"].score, right.context["grade"].correct) == (
        Decimal("2.00"),
        True,
    )
    result = right.content.decode()
    assert "Score: <strong>2.00</strong> of 2.00" in result and "correct." in result
    assert "Lutetia was its Roman name." in result
    assert 'value="lutetia parisiorum"' in result  # the response stays in the input

    wrong = client.post(url, {"response": json.dumps("Paris")})
    assert wrong.context["grade"].correct is False
    assert "not correct" in wrong.content.decode()
    garbled = client.post(url, {"response": "{not json"})
    assert garbled.context["grade"].feedback == ["No answer given."]


def test_the_preview_of_an_earlier_version(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        question = new_question(author, title="First title")
        services.update_question(question=question, author=author, title="Second title")
    old = client.get(f"/cms/questions/{question.pk}/preview/?version=1")
    assert (
        "First title" in old.content.decode() and "the current version is 2" in old.content.decode()
    )
    assert client.get(f"/cms/questions/{question.pk}/preview/?version=7").status_code == 404


def test_the_candidate_partial_renders_every_type_without_its_key_and_prefills_responses(
    make_portal,
):
    """The contract with the exam player: ``candidate_context`` from a snapshot, the partial
    pre-filled from a response in ``grade``'s shape."""
    from django.template.loader import render_to_string

    responses = {
        "single_choice": "a",
        "multiple_response": ["a", "b"],
        "true_false": True,
        "short_answer": "Paris",
        "numeric": "9.8 m/s2",
        "essay": "Words words",
        "matching": {item_key("France"): item_key("Paris"), item_key("Italy"): item_key("Rome")},
        "ordering": [item_key(t) for t in EXAMPLES["ordering"]["items"]],
        "cloze": {"1": "Paris", "2": "Rome"},
    }
    for key, data in EXAMPLES.items():
        data = get_type(key).validate(data)
        snapshot = {
            "type": key,
            "title": f"A {key}",
            "stem": "<p>Stem<script>x</script></p>",
            "data": data,
            "points": "2.00",
        }
        empty = render_to_string(
            "assessments/candidate/question.html", {"q": candidate_context(snapshot, position=3)}
        )
        assert f'data-question-type="{key}" data-position="3"' in empty
        assert "<script>" not in empty and "<p>Stem</p>" in empty
        assert '"correct"' not in empty and "weight" not in empty and "accepted" not in empty
        q = candidate_context(snapshot, position=3, response=responses[key], disabled=True)
        assert get_type(key).grade(data, responses[key]).correct in (True, None)
        filled = render_to_string("assessments/candidate/question.html", {"q": q})
        assert " disabled" in filled.split(">")[0]
        if key in ("single_choice", "multiple_response", "true_false"):
            assert "checked" in filled and "checked" not in empty
        elif key in ("matching",):
            assert filled.count(" selected") == 2
        elif key == "cloze":
            assert 'value="Paris"' in filled and filled.count(" selected") == 1
        elif key == "numeric":
            assert 'value="9.8"' in filled and '<option value="m/s2" selected>' in filled
        elif key == "ordering":
            order = re.findall(r'data-key="(k[0-9a-f]+)"', filled)
            assert order == responses["ordering"] and 'data-touched="true"' in filled
            assert re.findall(r'data-key="(k[0-9a-f]+)"', empty) != responses["ordering"]
        else:
            assert responses[key] in filled


# -- permissions ----------------------------------------------------------------------------


def bank_urls(question_id: int) -> list[str]:
    return [
        "/cms/questions/",
        "/cms/questions/categories/",
        "/cms/questions/new/?type=essay",
        f"/cms/questions/{question_id}/",
        f"/cms/questions/{question_id}/history/",
        f"/cms/questions/{question_id}/history/compare/?a=1&b=1",
        f"/cms/questions/{question_id}/history/1/restore/",
        f"/cms/questions/{question_id}/preview/",
    ]


def test_only_authors_and_tenant_admins_may_use_the_bank(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        question = new_question(User.objects.get(email=portal.admin_email), title="Secret title")
    urls = bank_urls(question.pk)
    refused = {
        role: client_as(portal, make_user(portal, f"{role}@alpha.test", role))
        for role in ("candidate", "grader", "proctor")
    }
    before = bank_state(portal)
    for role, client in refused.items():
        for url in urls:
            response = client.get(url)
            assert response.status_code in (302, 403), (role, url)
            assert b"Secret title" not in response.content
        for url, values in (
            ("/cms/questions/new/", form_values()),
            ("/cms/questions/bulk/", {"action": "retire", "ids": [question.pk]}),
            (f"/cms/questions/{question.pk}/", form_values()),
            (f"/cms/questions/{question.pk}/history/1/restore/", {}),
            ("/cms/questions/categories/", {"name": "Sneaky"}),
        ):
            assert client.post(url, values).status_code in (302, 403), (role, url)
        assert b"/cms/questions/" not in client.get("/cms/").content
    assert bank_state(portal) == before

    for client in (author_client(portal)[0], portal.login_admin()):
        for url in urls:
            assert client.get(url).status_code == 200, url
        assert b'"url": "/cms/questions/"' in client.get("/cms/").content


def test_categories_are_created_in_a_tree(make_portal):
    portal = make_portal("alpha")
    client, _ = author_client(portal)
    assert (
        client.post("/cms/questions/categories/", {"name": "Science", "parent": ""}).status_code
        == 302
    )
    with portal.activate():
        science = Category.objects.get()
    assert (
        client.post(
            "/cms/questions/categories/", {"name": "Physics", "parent": science.pk}
        ).status_code
        == 302
    )
    duplicate = client.post("/cms/questions/categories/", {"name": "Physics", "parent": science.pk})
    assert duplicate.context["form"].errors["name"] == ["category 'Physics' already exists here"]
    page = client.get("/cms/questions/categories/").content.decode()
    assert re.search(r"--depth: 0.*Science.*--depth: 1.*Physics", page, re.S)
    with portal.activate():
        assert list(Category.objects.values_list("name", "parent__name").order_by("pk")) == [
            ("Science", None),
            ("Physics", "Science"),
        ]


# -- two tenants ----------------------------------------------------------------------------


def test_portal_b_cannot_see_edit_preview_or_restore_portal_as_questions(two_portals):
    a, b = two_portals
    a_client, a_author = author_client(a)
    b_client, b_author = author_client(b)
    with a.activate():
        image = get_image_model().objects.create(
            title="Map of France", file=ContentFile(png_bytes(), name="map.png")
        )
        image_id = image.pk
        category = services.create_category(name="Alpha only")
    created = a_client.post(
        "/cms/questions/new/",
        form_values(
            title="Alpha secret", image=str(image_id), image_alt="A map", category=str(category.pk)
        ),
    )
    assert created.status_code == 302, created.context["form"].errors if created.context else ""
    with a.activate():
        question = Question.objects.get()
        services.update_question(question=question, author=a_author, title="Alpha secret v2")
        media_url = re.search(r'<img src="([^"]+)" alt="A map"', question.stem).group(1)
    assert media_url.startswith("/media/images/")
    assert a_client.get(f"/cms/questions/{question.pk}/preview/").status_code == 200
    a_preview = a_client.get(f"/cms/questions/{question.pk}/preview/").content.decode()
    assert media_url in a_preview
    assert a.client.get(media_url).status_code == 200

    before_a, before_b = bank_state(a), bank_state(b)
    # By id on B's host with B's author: nothing of A's exists there.
    for url in bank_urls(question.pk)[3:]:
        response = b_client.get(url)
        assert response.status_code == 404, url
        assert b"Alpha secret" not in response.content
    assert b_client.post(f"/cms/questions/{question.pk}/history/1/restore/").status_code == 404
    assert b_client.post(f"/cms/questions/{question.pk}/", form_values()).status_code == 404
    assert (
        b_client.post(f"/cms/questions/{question.pk}/preview/", {"response": '"a"'}).status_code
        == 404
    )
    b_client.post("/cms/questions/bulk/", {"action": "retire", "ids": [question.pk]})
    b_client.post("/cms/questions/bulk/", {"action": "add_tag", "ids": [question.pk], "tag": "x"})
    b_client.post(
        "/cms/questions/bulk/",
        {"action": "move", "ids": [question.pk], "category": str(category.pk)},
    )
    assert b"Alpha secret" not in b_client.get("/cms/questions/").content
    assert b"Alpha only" not in b_client.get("/cms/questions/categories/").content
    assert listed_ids(b_client.get(f"/cms/questions/?category={category.pk}")) == []
    # A's files and pages on B's host: not there, and A's session means nothing on B.
    assert b.client.get(media_url).status_code == 404
    a_cookie_on_b = Client(HTTP_HOST=b.domain)
    a_cookie_on_b.cookies = a_client.cookies
    assert a_cookie_on_b.get(f"/cms/questions/{question.pk}/preview/").status_code == 302
    assert bank_state(a) == before_a and bank_state(b) == before_b

    # The same id in B is B's own question, never A's.
    with b.activate():
        while True:
            own = new_question(b_author, title="Beta own")
            if own.pk >= question.pk:
                break
    if own.pk == question.pk:
        page = b_client.get(f"/cms/questions/{question.pk}/preview/").content.decode()
        assert "Beta own" in page and "Alpha secret" not in page and media_url not in page


def test_a_response_of_the_wrong_shape_is_dropped_not_rendered_or_graded(make_portal):
    portal = make_portal("alpha")
    client, author = author_client(portal)
    with portal.activate():
        question = new_question(
            author,
            type="multiple_response",
            data={"options": [{"text": "2", "weight": "1"}, {"text": "9", "weight": "0"}]},
        )
    for posted in ([[1]], 7, {"a": 1}, "1", [None]):
        response = client.post(
            f"/cms/questions/{question.pk}/preview/", {"response": json.dumps(posted)}
        )
        assert response.status_code == 200, posted
        assert response.context["grade"].feedback == ["No answer given."], posted
        assert "checked" not in response.content.decode()
    for key, bad in (("single_choice", ["a"]), ("matching", {"k": 1}), ("ordering", "abc")):
        snapshot = {
            "type": key,
            "title": "t",
            "stem": "",
            "data": get_type(key).validate(EXAMPLES[key]),
        }
        assert candidate_context(snapshot, position=1, response=bad)["response"] is None
