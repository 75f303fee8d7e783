"""Interview templates in the marketplace (issues 8 and 10): published from a publisher's
``InterviewTemplate`` as a self-contained document, installed as an editable template with
provenance, updated in place with a diff while past sessions keep what they asked, published
from the interview admin, and kept apart between tenants."""

from __future__ import annotations

import copy

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from assessments.interviews import services as interviews
from assessments.interviews.models import InterviewTemplate, TemplateQuestion, Turn
from marketplace import documents, selectors, services
from marketplace.models import Installation, Licence, Listing, ListingVersion
from marketplace.services import MarketplaceError

from .conftest import make_member, sign_in
from .test_marketplace import grant_selling, make_exam

pytestmark = pytest.mark.django_db
User = get_user_model()

QUESTIONS = [
    ("behavioural", "Communication", "Tell me about explaining a model to a sceptic.", "Audience"),
    ("technical", "Modelling", "How do you detect overfitting?", "Validation gap, CV"),
    ("situational", "Ownership", "Revenue dropped 30% overnight. What do you do?", "Data first"),
    ("technical", "Experimentation", "Design an A/B test for a checkout button.", "Power"),
]


def authored_template(portal, *, title="Data scientist", questions=QUESTIONS) -> InterviewTemplate:
    with portal.activate():
        template = InterviewTemplate.objects.create(
            title=title,
            industry="technology",
            role="Data scientist",
            competencies="Communication\nModelling\nOwnership\nExperimentation",
            description="For data science panels.",
        )
        for order, (kind, competency, prompt, notes) in enumerate(questions):
            TemplateQuestion.objects.create(
                template=template,
                sort_order=order,
                kind=kind,
                competency=competency,
                prompt=prompt,
                ideal_answer_notes=notes,
            )
    connection.set_schema_to_public()
    return template


def interview_listing(press, template, *, paid=False) -> Listing:
    if paid:
        grant_selling(press.tenant)
    listing = services.create_listing(
        publisher=press.tenant,
        title="Data Science Interview Pack",
        kind="interview",
        price_model="one_off" if paid else "free",
        price_amount=4900 if paid else 0,
    )
    services.publish_version(publisher=press.tenant, listing=listing, template_id=template.pk)
    return listing


@pytest.fixture
def portals(make_portal):
    press = make_portal("press", "Quill Press", "publisher")
    uni = make_portal("uni", "Northfield University")
    acme = make_portal("acme", "Acme Corp", "company")
    return press, uni, acme


# -- publishing ---------------------------------------------------------------------------


def test_an_interview_template_becomes_a_self_contained_version_with_samples(portals):
    press, _, _ = portals
    template = authored_template(press)
    listing = interview_listing(press, template)
    version = listing.versions.get()
    document = version.document
    refs = [q["ref"] for q in document["questions"]]
    assert {k: v for k, v in document.items() if k != "questions"} == {
        "format": "viva-template",
        "version": 1,
        "kind": "interview",
        "title": "Data scientist",
        "description": "For data science panels.",
        "industry": "technology",
        "role": "Data scientist",
        "competencies": ["Communication", "Modelling", "Ownership", "Experimentation"],
    }
    assert [
        (q["kind"], q["competency"], q["prompt"], q["ideal_answer_notes"])
        for q in document["questions"]
    ] == QUESTIONS
    assert len(set(refs)) == 4 and all(r.startswith("t") and len(r) == 17 for r in refs)
    with press.activate():
        ids = list(template.questions.order_by("sort_order").values_list("pk", flat=True))
    connection.set_schema_to_public()
    # Stable names, without the publisher's ids or schema in clear.
    assert refs == [documents.interview_question_ref(schema="press", question_id=i) for i in ids]
    assert "press" not in str(refs)
    assert version.checksum == documents.checksum(document)
    assert version.question_count == 4
    # The preview: three prompts, never the notes on strong answers, never the fourth.
    data = selectors.public_listing(selectors.listing_with_rating(listing.slug), detail=True)
    text = str(data)
    assert [s["title"] for s in data["samples"]] == [
        "Behavioural · Communication",
        "Technical · Modelling",
        "Situational · Ownership",
    ]
    assert "Validation gap" not in text and "Design an A/B test" not in text
    assert "document" not in data


def test_a_malformed_interview_document_is_refused_whole_with_every_place(portals, settings):
    press, _, _ = portals
    listing = services.create_listing(publisher=press.tenant, title="Broken", kind="interview")
    template = authored_template(press)
    with press.activate():
        good = documents.build_from_interview_template(
            template_id=template.pk, schema="press"
        ).document
    connection.set_schema_to_public()
    bad = copy.deepcopy(good)
    bad["industry"] = "space"
    bad["competencies"] = []
    bad["questions"][0]["kind"] = "trick"
    bad["questions"][1]["prompt"] = "  "
    bad["questions"][2]["ref"] = bad["questions"][3]["ref"]
    bad["questions"][3]["secret"] = 1
    with pytest.raises(MarketplaceError) as refused:
        services.publish_document(publisher=press.tenant, listing=listing, document=bad)
    assert refused.value.code == "invalid_document"
    assert refused.value.errors == [
        "template: industry must be one of technology, finance, healthcare, consulting, "
        "education, other",
        "template: competencies must be a list of at least one name",
        "question 1 (“Tell me about explaining a model to a sceptic.”): kind must be one of "
        "behavioural, technical, situational",
        "question 2: prompt is empty",
        "question 4 (“Design an A/B test for a checkout button.”): secret not known",
        "question 4 (“Design an A/B test for a checkout button.”): ref is missing, longer "
        "than 40 characters or repeated",
    ]
    settings.MARKETPLACE_MAX_VERSION_BYTES = 200
    with pytest.raises(MarketplaceError, match="the limit is 0.0 MB"):
        services.publish_document(publisher=press.tenant, listing=listing, document=good)
    assert not ListingVersion.objects.filter(listing=listing).exists()
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT


def test_interview_listings_take_templates_and_exam_listings_take_exams(portals):
    press, uni, _ = portals
    template = authored_template(press)
    exam = make_exam(press)
    interview = services.create_listing(publisher=press.tenant, title="I", kind="interview")
    exam_listing = services.create_listing(publisher=press.tenant, title="E", kind="exam")
    with pytest.raises(MarketplaceError, match="built from an interview template"):
        services.publish_version(publisher=press.tenant, listing=interview, exam_id=exam.pk)
    with pytest.raises(MarketplaceError, match="only be published in an interview listing"):
        services.publish_version(
            publisher=press.tenant, listing=exam_listing, template_id=template.pk
        )
    # Another portal's template id is not the publisher's: the build finds nothing.
    other = authored_template(uni, title="Uni only")
    with press.activate():
        assert not InterviewTemplate.objects.filter(pk=other.pk, title="Uni only").exists()
    connection.set_schema_to_public()
    with pytest.raises(MarketplaceError):
        services.publish_version(publisher=press.tenant, listing=interview, template_id=999999)
    assert not ListingVersion.objects.filter(listing__in=[interview, exam_listing]).exists()


# -- installing and updating ----------------------------------------------------------------


def test_installing_makes_an_editable_template_with_provenance_once(portals):
    press, uni, _ = portals
    listing = interview_listing(press, authored_template(press))
    result = services.install_listing(buyer=uni.tenant, listing=listing)
    assert result.created
    installation = result.installation
    assert (installation.exam_id, installation.category_id) == (None, None)
    with uni.activate():
        template = InterviewTemplate.objects.get()
        assert (template.source_listing_id, template.source_version) == (listing.pk, 1)
        assert template.published and template.competency_list == [
            "Communication",
            "Modelling",
            "Ownership",
            "Experimentation",
        ]
        questions = list(template.questions.order_by("sort_order"))
        assert [(q.kind, q.competency, q.prompt, q.ideal_answer_notes) for q in questions] == (
            QUESTIONS
        )
        assert installation.question_map == {q.source_ref: q.pk for q in questions}
    connection.set_schema_to_public()
    again = services.install_listing(buyer=uni.tenant, listing=listing)
    assert not again.created and again.installation.pk == installation.pk
    with uni.activate():
        assert InterviewTemplate.objects.count() == 1 and TemplateQuestion.objects.count() == 4
        # Installed templates cannot be sold on.
        with pytest.raises(documents.DocumentError, match="installed from the marketplace"):
            documents.build_from_interview_template(template_id=template.pk, schema="uni")
    connection.set_schema_to_public()


def test_installing_an_interview_template_is_all_or_nothing(portals, monkeypatch):
    press, uni, _ = portals
    listing = interview_listing(press, authored_template(press))

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(interviews, "_land_questions", broken)
    with pytest.raises(RuntimeError):
        services.install_listing(buyer=uni.tenant, listing=listing)
    assert not Installation.objects.exists() and not Licence.objects.exists()
    with uni.activate():
        assert not InterviewTemplate.objects.exists()
    connection.set_schema_to_public()


def test_an_update_shows_its_diff_and_lands_in_place_keeping_past_sessions(portals, settings):
    settings.VIVA_AI_PROVIDER = "tests.test_interviews.rules_provider"
    press, uni, _ = portals
    template = authored_template(press)
    listing = interview_listing(press, template)
    services.install_listing(buyer=uni.tenant, listing=listing)
    student = make_member(uni, "student@uni.test", role="candidate")
    with uni.activate():
        installed = InterviewTemplate.objects.get()
        first, second, third, fourth = installed.questions.order_by("sort_order")
        # uni practises version 1, edits an untouched question and adds one of its own.
        session = interviews.start_session(user=student, template=installed)
        interviews.submit_answer(turn=session.turns.get(), transcript="I built it.")
        fourth.prompt = "Design an A/B test for our enrolment page."
        fourth.save()
        own = TemplateQuestion.objects.create(
            template=installed,
            sort_order=9,
            kind="behavioural",
            competency="Ownership",
            prompt="Uni's own question.",
        )
    connection.set_schema_to_public()

    # press: a sharper first question, the second removed, a new one, a new role.
    with press.activate():
        publisher_questions = list(template.questions.order_by("sort_order"))
        publisher_questions[0].prompt = "Explain a model to a sceptical manager, step by step."
        publisher_questions[0].save()
        publisher_questions[1].delete()
        TemplateQuestion.objects.create(
            template=template,
            sort_order=5,
            kind="behavioural",
            competency="Ownership",
            prompt="Tell me about bad data you found.",
        )
        InterviewTemplate.objects.filter(pk=template.pk).update(role="Senior data scientist")
    connection.set_schema_to_public()
    services.publish_version(publisher=press.tenant, listing=listing, template_id=template.pk)

    _, latest, diff = services.update_preview(buyer=uni.tenant, listing=listing)
    assert latest.number == 2
    assert diff.as_dict() == {
        "added": ["Tell me about bad data you found."],
        "removed": ["How do you detect overfitting?"],
        "changed": {"Explain a model to a sceptical manager, step by step.": ["prompt"]},
        "settings": {"role": ["Data scientist", "Senior data scientist"]},
        "sections_changed": False,
        "title_changed": False,
    }
    updated = services.update_installation(buyer=uni.tenant, listing=listing)
    assert updated.changed and updated.installation.version.number == 2
    with uni.activate():
        template_after = InterviewTemplate.objects.get()
        assert template_after.pk == installed.pk  # in place: positions keep pointing at it
        assert (template_after.role, template_after.source_version) == (
            "Senior data scientist",
            2,
        )
        assert list(
            template_after.questions.order_by("sort_order").values_list("prompt", flat=True)
        ) == [
            "Explain a model to a sceptical manager, step by step.",
            "Revenue dropped 30% overnight. What do you do?",
            "Design an A/B test for our enrolment page.",  # uni's edit kept
            "Tell me about bad data you found.",
            "Uni's own question.",  # uni's own question kept, after the publisher's
        ]
        assert not TemplateQuestion.objects.filter(pk=second.pk).exists()
        assert TemplateQuestion.objects.get(pk=first.pk).prompt.startswith("Explain a model")
        assert TemplateQuestion.objects.filter(pk=own.pk).exists()
        # The session run on version 1 still reads what it asked.
        turn = Turn.objects.get(session=session)
        assert turn.prompt == "Tell me about explaining a model to a sceptic."
        assert turn.transcript == "I built it."
    connection.set_schema_to_public()
    again = services.update_installation(buyer=uni.tenant, listing=listing)
    assert not again.changed


# -- publishing from the interview admin -----------------------------------------------------


def test_publishing_from_the_interview_templates_admin(portals):
    press, _, _ = portals
    template = authored_template(press)
    author = make_member(press, "author@press.test", role="author")
    admin = press.login_admin()
    listing_page = admin.get("/cms/interviews/templates/")
    connection.set_schema_to_public()
    publish_url = f"/cms/interviews/templates/{template.pk}/publish/"
    assert listing_page.status_code == 200 and publish_url in listing_page.content.decode()
    page = admin.get(publish_url)
    connection.set_schema_to_public()
    assert page.status_code == 200 and b"Publish to marketplace" in page.content
    # Bad input: a paid listing without the selling entitlement; nothing is created.
    refused = admin.post(
        f"/cms/interviews/templates/{template.pk}/publish/",
        {
            "title": "Pack",
            "level": "professional",
            "price_model": "one_off",
            "price": "49",
            "currency": "usd",
        },
    )
    connection.set_schema_to_public()
    assert refused.status_code == 200 and b"not included in your plan" in refused.content
    assert not Listing.objects.exists()
    response = admin.post(
        f"/cms/interviews/templates/{template.pk}/publish/",
        {
            "title": "Pack",
            "level": "professional",
            "price_model": "free",
            "currency": "usd",
            "release_notes": "First",
        },
    )
    connection.set_schema_to_public()
    assert response.status_code == 302
    listing = Listing.objects.get()
    assert (listing.kind, listing.status, listing.versions.get().release_notes) == (
        "interview",
        "published",
        "First",
    )
    # A second publish of the edited template is version 2 of the same listing.
    with press.activate():
        TemplateQuestion.objects.filter(template=template).update(ideal_answer_notes="More")
    connection.set_schema_to_public()
    admin.post(
        f"/cms/interviews/templates/{template.pk}/publish/",
        {
            "listing": str(listing.pk),
            "level": "professional",
            "price_model": "free",
            "currency": "usd",
        },
    )
    connection.set_schema_to_public()
    assert list(listing.versions.values_list("number", flat=True)) == [1, 2]
    # Only the portal's admins publish.
    client = sign_in(Client(HTTP_HOST=press.domain), author.email)
    assert client.get(f"/cms/interviews/templates/{template.pk}/publish/").status_code == 404
    connection.set_schema_to_public()


def test_the_marketplace_admin_publishes_an_interview_listing_from_a_template(portals):
    press, _, _ = portals
    template = authored_template(press)
    admin = press.login_admin()
    form = admin.get("/cms/marketplace/mine/new/").content.decode()
    connection.set_schema_to_public()
    assert f'<option value="{template.pk}">{template.title}</option>' in form
    values = {"title": "Pack", "kind": "interview", "price_model": "free", "currency": "usd"}
    # Without a template the version is refused, saying where interview content comes from.
    refused = admin.post("/cms/marketplace/mine/new/", values, follow=True)
    connection.set_schema_to_public()
    assert "built from an interview template" in refused.content.decode()
    assert not ListingVersion.objects.exists()
    admin.post("/cms/marketplace/mine/new/", {**values, "template": str(template.pk)})
    connection.set_schema_to_public()
    version = ListingVersion.objects.get(listing__title="Pack")
    assert version.document["kind"] == "interview"
    assert version.document["title"] == template.title


# -- two tenants ----------------------------------------------------------------------------


def test_installed_templates_and_paid_packs_stay_with_their_buyer(portals):
    press, uni, acme = portals
    listing = interview_listing(press, authored_template(press), paid=True)
    Licence.objects.create(buyer=uni.tenant, listing=listing, source=Licence.Source.PURCHASE)
    services.install_listing(buyer=uni.tenant, listing=listing)
    with uni.activate():
        installed = InterviewTemplate.objects.get()
    connection.set_schema_to_public()

    # acme has not bought the pack: no install, no update, nothing in its schema.
    for action in (services.install_listing, services.update_installation):
        with pytest.raises(MarketplaceError) as refused:
            action(buyer=acme.tenant, listing=listing)
        assert refused.value.code in ("licence_required", "not_installed")
    assert not Installation.objects.filter(buyer=acme.tenant).exists()
    assert not Licence.objects.filter(buyer=acme.tenant).exists()
    with acme.activate():
        assert not InterviewTemplate.objects.exists()
    connection.set_schema_to_public()

    # acme's admin, on acme's host, with uni's template id: not found, no byte of it.
    acme_admin = acme.login_admin()
    for url in (
        f"/cms/interviews/templates/edit/{installed.pk}/",
        f"/cms/interviews/templates/{installed.pk}/publish/",
        f"/interview/start/{installed.pk}/",
    ):
        response = acme_admin.get(url)
        connection.set_schema_to_public()
        assert response.status_code in (302, 404, 405), (url, response.status_code)
        assert b"sceptic" not in response.content
    # acme may not update uni's installation either, by listing id.
    with pytest.raises(MarketplaceError):
        services.update_installation(buyer=acme.tenant, listing=listing)
    with uni.activate():
        assert InterviewTemplate.objects.get().source_version == 1
    connection.set_schema_to_public()


def test_an_exam_shaped_interview_version_is_never_replaced_by_a_template(portals):
    """Interview listings of the first releases carried an exam; updating such an install to
    a template version would orphan the exam, so it is refused and nothing changes."""
    import hashlib
    import json

    from django_tenants.utils import schema_context

    press, uni, _ = portals
    exam = make_exam(press)
    listing = services.create_listing(publisher=press.tenant, title="Legacy pack", kind="interview")
    with schema_context(press.tenant.schema_name):
        legacy = documents.build_from_exam(
            exam_id=exam.pk, schema=press.tenant.schema_name, kind="interview"
        ).document
    body = json.dumps(legacy, sort_keys=True).encode()
    first = ListingVersion.objects.create(
        listing=listing,
        number=1,
        document=legacy,
        size_bytes=len(body),
        checksum=hashlib.sha256(body).hexdigest(),
    )
    Licence.objects.create(buyer=uni.tenant, listing=listing, source=Licence.Source.FREE)
    installed = Installation.objects.create(
        buyer=uni.tenant, listing=listing, version=first, exam_id=4242
    )
    services.publish_version(
        publisher=press.tenant, listing=listing, template_id=authored_template(press).pk
    )
    with pytest.raises(MarketplaceError) as refused:
        services.update_installation(buyer=uni.tenant, listing=listing)
    assert refused.value.code == "kind_changed"
    assert "is an interview template, but the installed version is an exam" in str(refused.value)
    installed.refresh_from_db()
    assert (installed.version_id, installed.exam_id) == (first.pk, 4242)
    with uni.activate():
        assert not InterviewTemplate.objects.exists()
