"""Marketplace services: publishing (valid, malformed, oversized), the catalogue, installing
(idempotent, all-or-nothing), buying offline, updating into a new exam version with attempts
untouched, reviews, moderation and community banks, with publisher, buyer and non-buyer."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from assessments import services as bank
from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt
from assessments.exams import services as exams
from assessments.exams.models import Exam, ExamVersion
from assessments.models import Category, Question
from marketplace import documents, payments, selectors, services
from marketplace.models import Installation, Licence, Listing, ListingVersion, Purchase, Review
from marketplace.services import MarketplaceError
from tenants.models import Tenant

from .conftest import make_member

pytestmark = pytest.mark.django_db
User = get_user_model()

QUESTIONS = [
    (
        "single_choice",
        {
            "options": [
                {"id": "a", "text": "Mean", "correct": True},
                {"id": "b", "text": "Mode"},
            ]
        },
    ),
    ("true_false", {"answer": True}),
    ("numeric", {"answer": "0.5", "tolerance": "0.01"}),
    ("short_answer", {"accepted": ["variance"]}),
    ("essay", {"rubric": [{"id": "arg", "criterion": "Argument", "max_points": "4"}]}),
]


def grant_selling(tenant: Tenant) -> None:
    """Put ``tenant`` on the plan that includes selling in the marketplace (billing's rows)."""
    from billing.models import Plan, Subscription

    Subscription.objects.update_or_create(
        tenant=tenant, defaults={"plan": Plan.objects.get(code="enterprise"), "status": "active"}
    )


def make_exam(portal, *, title="Statistics mock", pool: bool = False) -> Exam:
    """A published exam of ``portal``: one section of fixed questions (and a pool)."""
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = exams.create_exam(by=admin, title=title, time_limit_minutes=45)
        section = exams.add_section(exam=exam, title="Part one", instructions="<p>Go.</p>")
        for number, (kind, data) in enumerate(QUESTIONS, start=1):
            question = bank.create_question(
                author=admin,
                type=kind,
                title=f"Q{number} {kind}",
                stem=f'<p>Question {number}<img src="/media/images/secret.png"></p>',
                data=data,
                tags=["stats"],
                status="active",
            )
            exams.add_fixed_item(section=section, question=question)
        if pool:
            category = bank.create_category(name="Pool source")
            for number in range(3):
                bank.create_question(
                    author=admin,
                    type="true_false",
                    title=f"Pool {number}",
                    stem="<p>?</p>",
                    data={"answer": bool(number % 2)},
                    category=category,
                    status="active",
                )
            second = exams.add_section(exam=exam, title="Part two")
            exams.add_pool_item(section=second, count=2, category=category)
        exams.publish_exam(exam=exam, by=admin)
    connection.set_schema_to_public()
    return exam


def make_interview_template(portal, *, title="Data scientist interview"):
    """An interview template authored in ``portal`` (two questions)."""
    from assessments.interviews.models import InterviewTemplate, TemplateQuestion

    with portal.activate():
        template = InterviewTemplate.objects.create(
            title=title,
            industry="technology",
            role="Data scientist",
            competencies="Communication\nModelling",
        )
        TemplateQuestion.objects.create(
            template=template,
            sort_order=0,
            kind="behavioural",
            competency="Communication",
            prompt="Tell me about a time you explained a model to a sceptical manager.",
        )
        TemplateQuestion.objects.create(
            template=template,
            sort_order=1,
            kind="technical",
            competency="Modelling",
            prompt="How do you detect overfitting?",
            ideal_answer_notes="Validation gap, cross-validation, learning curves.",
        )
    connection.set_schema_to_public()
    return template


def make_three(make_portal):
    """A publisher (press), a buyer (uni) and a non-buyer (acme)."""
    press = make_portal("press", "Quill Press", "publisher")
    uni = make_portal("uni", "Northfield University")
    acme = make_portal("acme", "Acme Corp", "company")
    return press, uni, acme


@pytest.fixture
def three(make_portal):
    return make_three(make_portal)


def publish(press, *, price_model="free", price_amount=0, pool=False, **kwargs) -> Listing:
    exam = make_exam(press, pool=pool)
    if price_model != "free":
        grant_selling(press.tenant)
    listing = services.create_listing(
        publisher=press.tenant,
        title=kwargs.pop("title", "Intro Statistics Mock Exam"),
        subject="Statistics",
        tags=["statistics", "mock"],
        description="A full mock exam on descriptive statistics.",
        price_model=price_model,
        price_amount=price_amount,
        **kwargs,
    )
    services.publish_version(
        publisher=press.tenant, listing=listing, exam_id=exam.pk, release_notes="First"
    )
    listing.refresh_from_db()
    listing.source_exam = exam  # for tests that publish again
    return listing


def bank_counts(portal) -> tuple[int, int, int, int]:
    with portal.activate():
        counts = (
            Question.objects.count(),
            Category.objects.count(),
            Exam.objects.count(),
            ExamVersion.objects.count(),
        )
    connection.set_schema_to_public()
    return counts


# -- publishing ---------------------------------------------------------------------------


def test_publishing_builds_a_self_contained_document_with_samples(three):
    press, _, _ = three
    listing = publish(press)
    assert listing.status == Listing.Status.PUBLISHED
    version = listing.versions.get()
    doc = version.document
    assert doc["format"] == "viva-template" and doc["kind"] == "exam"
    assert [q["title"] for q in doc["questions"]] == [
        f"Q{n} {k}" for n, (k, _) in enumerate(QUESTIONS, 1)
    ]
    assert doc["settings"]["time_limit_minutes"] == 45
    assert "opens_at" not in doc["settings"] and "ip_allowlist" not in doc["settings"]
    essay = next(q for q in doc["questions"] if q["type"] == "essay")
    assert essay["data"]["rubric"][0]["criterion"] == "Argument"
    # media is dropped: the publisher's files are never referenced
    assert all("<img" not in q["stem"] for q in doc["questions"])
    assert version.checksum == documents.checksum(doc)
    assert version.size_bytes == len(documents.canonical_bytes(doc))
    samples = list(version.samples.all())
    assert [s.position for s in samples] == [1, 2, 3]
    first = samples[0].candidate_view
    assert "correct" not in str(first)  # candidate view only: no answer key


def test_publishing_reports_dropped_media(three):
    press, _, _ = three
    exam = make_exam(press)
    listing = services.create_listing(publisher=press.tenant, title="With images")
    result = services.publish_version(publisher=press.tenant, listing=listing, exam_id=exam.pk)
    assert len(result.warnings) == len(QUESTIONS)
    assert "image(s) dropped" in result.warnings[0]


def test_a_malformed_version_is_refused_whole(three):
    press, _, _ = three
    listing = services.create_listing(publisher=press.tenant, title="Broken")
    document = {
        "format": "viva-template",
        "version": 1,
        "kind": "exam",
        "title": "Broken",
        "description": "",
        "settings": {},
        "sections": [
            {"title": "S", "instructions": "", "items": [{"kind": "fixed", "question": "nope"}]}
        ],
        "questions": [
            {"ref": "q1", "type": "single_choice", "title": "Bad", "data": {"options": []}},
            {"ref": "q2", "type": "hologram", "title": "Odd", "data": {}},
        ],
    }
    with pytest.raises(MarketplaceError) as refused:
        services.publish_document(publisher=press.tenant, listing=listing, document=document)
    assert refused.value.code == "invalid_document"
    text = str(refused.value)
    assert "question 1 (“Bad”): data:" in text
    assert "question 2 (“Odd”): type 'hologram' is not a question type" in text
    assert "section 1, item 1: question 'nope' is not in the template" in text
    assert not ListingVersion.objects.filter(listing=listing).exists()
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT


def test_an_oversized_version_is_refused_with_its_size(three, settings):
    press, _, _ = three
    settings.MARKETPLACE_MAX_VERSION_BYTES = 2000
    exam = make_exam(press)
    listing = services.create_listing(publisher=press.tenant, title="Too big")
    with pytest.raises(MarketplaceError) as refused:
        services.publish_version(publisher=press.tenant, listing=listing, exam_id=exam.pk)
    assert "the limit is 0.0 MB (MARKETPLACE_MAX_VERSION_BYTES)" in str(refused.value)
    assert not ListingVersion.objects.exists()


def test_an_unpublished_exam_cannot_be_listed(three):
    press, _, _ = three
    with press.activate():
        admin = User.objects.get(email=press.admin_email)
        draft = exams.create_exam(by=admin, title="Draft only")
    connection.set_schema_to_public()
    listing = services.create_listing(publisher=press.tenant, title="Draft")
    with pytest.raises(MarketplaceError, match="publish the exam first"):
        services.publish_version(publisher=press.tenant, listing=listing, exam_id=draft.pk)


def test_paid_listings_need_the_selling_entitlement(three):
    press, uni, _ = three
    with pytest.raises(MarketplaceError, match="Selling in the marketplace is not included"):
        services.create_listing(
            publisher=press.tenant, title="Paid", price_model="one_off", price_amount=4900
        )
    # a university is not a publisher: it may only share a free community bank
    with pytest.raises(MarketplaceError, match="only publishers list templates"):
        services.create_listing(publisher=uni.tenant, title="Ours")
    assert not Listing.objects.exists()


def test_a_publisher_cannot_publish_into_another_publishers_listing(three, make_portal):
    press, uni, _ = three
    listing = publish(press)
    exam = make_exam(uni, title="Uni exam")
    with pytest.raises(MarketplaceError) as refused:
        services.publish_version(publisher=uni.tenant, listing=listing, exam_id=exam.pk)
    assert refused.value.code == "not_found"
    assert listing.versions.count() == 1


# -- catalogue ----------------------------------------------------------------------------


def test_catalogue_search_filters_and_sorting(three):
    press, uni, acme = three
    grant_selling(press.tenant)
    free = publish(press)
    paid = services.create_listing(
        publisher=press.tenant,
        title="Data Science Interview Pack",
        kind="interview",
        price_model="one_off",
        price_amount=4900,
        level="professional",
    )
    services.publish_version(
        publisher=press.tenant, listing=paid, template_id=make_interview_template(press).pk
    )
    Listing.objects.filter(pk=paid.pk).update(
        subject="Data science",
        tags=["interview", "python"],
        description="Questions asked in data science interviews.",
    )
    draft = services.create_listing(publisher=press.tenant, title="Statistics draft")
    assert draft.status == Listing.Status.DRAFT

    def slugs(**filters):
        return [listing.slug for listing in selectors.catalogue(**filters)]

    assert slugs() == [paid.slug, free.slug]  # by title; the draft is not in the catalogue
    assert slugs(query="statistics") == [free.slug]
    assert slugs(query="interviews") == [paid.slug]  # stemmed
    assert slugs(tag="python") == [paid.slug]
    assert slugs(subject="statistics") == [free.slug]
    assert slugs(level="professional") == [paid.slug]
    assert slugs(price="free") == [free.slug]
    assert slugs(price="paid") == [paid.slug]
    assert slugs(kind="interview") == [paid.slug]
    assert slugs(language="fr") == []
    assert slugs(sort="price_high") == [paid.slug, free.slug]
    services.install_listing(buyer=uni.tenant, listing=free)
    services.submit_review(buyer=uni.tenant, listing=free, rating=4, text="Good")
    assert slugs(min_rating=4) == [free.slug]
    assert slugs(sort="rating") == [free.slug, paid.slug]
    row = selectors.catalogue().get(slug=free.slug)
    assert (row.rating_avg, row.rating_count, row.latest_version) == (4.0, 1, 1)


# -- installing ---------------------------------------------------------------------------


def test_installing_a_free_listing_copies_questions_and_an_exam(three):
    press, uni, _ = three
    listing = publish(press, pool=True)
    result = services.install_listing(buyer=uni.tenant, listing=listing)
    installation = result.installation
    assert result.created
    assert Licence.objects.get(buyer=uni.tenant, listing=listing).source == Licence.Source.FREE
    with uni.activate():
        exam = Exam.objects.get(pk=installation.exam_id)
        assert exam.title == "Statistics mock"
        assert exam.time_limit_minutes == 45
        version = exam.versions.get()
        assert installation.exam_version_number == version.number == 1
        fixed = version.snapshot["sections"][0]["items"]
        assert [i["question"]["title"] for i in fixed] == [
            f"Q{n} {k}" for n, (k, _) in enumerate(QUESTIONS, 1)
        ]
        pool = version.snapshot["sections"][1]["items"][0]
        assert pool["count"] == 2 and len(pool["questions"]) == 3
        assert Question.objects.filter(status="active").count() == 8
        home = Category.objects.get(pk=installation.category_id)
        assert (home.name, home.parent.name) == ("Intro Statistics Mock Exam", "Marketplace")
        # editable bank content: an ordinary question the buyer can change
        question = Question.objects.get(pk=fixed[0]["question"]["question_id"])
        assert question.pk in installation.question_map.values()
        bank.update_question(question=question, author=None, title="Edited by uni")
    connection.set_schema_to_public()


def test_installing_twice_changes_nothing(three):
    press, uni, _ = three
    listing = publish(press)
    first = services.install_listing(buyer=uni.tenant, listing=listing)
    before = bank_counts(uni)
    again = services.install_listing(buyer=uni.tenant, listing=listing)
    assert not again.created
    assert again.installation.pk == first.installation.pk
    assert bank_counts(uni) == before
    assert Installation.objects.count() == 1 and Licence.objects.count() == 1


def test_installing_is_all_or_nothing(three, monkeypatch):
    press, uni, _ = three
    listing = publish(press)
    before = bank_counts(uni)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exams, "publish_exam", broken)
    with pytest.raises(RuntimeError):
        services.install_listing(buyer=uni.tenant, listing=listing)
    connection.set_schema_to_public()
    assert bank_counts(uni) == before
    assert not Installation.objects.exists()
    assert not Licence.objects.exists()


def test_a_stored_document_is_checked_again_before_install(three):
    press, uni, _ = three
    listing = publish(press)
    version = listing.versions.get()
    broken = dict(
        version.document, questions=[{"ref": "x", "type": "essay", "title": "x", "data": {}}]
    )
    # versions are immutable through the ORM: tamper with the row directly
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marketplace_listingversion SET document = %s WHERE id = %s",
            [json.dumps(broken), version.pk],
        )
    before = bank_counts(uni)
    with pytest.raises(MarketplaceError) as refused:
        services.install_listing(buyer=uni.tenant, listing=listing)
    assert refused.value.code == "invalid_document"
    assert bank_counts(uni) == before


def test_listing_versions_are_immutable(three):
    from marketplace.models import ImmutableVersionError

    press, _, _ = three
    version = publish(press).versions.get()
    with pytest.raises(ImmutableVersionError):
        version.save()
    with pytest.raises(ImmutableVersionError):
        ListingVersion.objects.filter(pk=version.pk).update(release_notes="x")


# -- buying (offline, through Checkout on the local Stripe double) --------------------------


def pay_on_the_double(session_id: str) -> None:
    """What the buyer's "Pay" on the double's hosted Checkout page does."""
    from billing.stripe_double import store

    store.complete_checkout_session(session_id)


def buy(buyer, listing, seats=1):
    started = payments.start_purchase(
        buyer=buyer.tenant,
        listing=listing,
        seats=seats,
        success_url="http://uni.localhost/cms/marketplace/",
        cancel_url="http://uni.localhost/cms/marketplace/",
    )
    pay_on_the_double(started.purchase.checkout_session_id)
    payments.complete_purchase(session_id=started.purchase.checkout_session_id)
    return Purchase.objects.get(pk=started.purchase.pk)


def test_a_paid_listing_needs_a_purchase_before_install(three):
    press, uni, acme = three
    listing = publish(press, price_model="one_off", price_amount=4900)
    before = bank_counts(uni)
    with pytest.raises(MarketplaceError) as refused:
        services.install_listing(buyer=uni.tenant, listing=listing)
    assert refused.value.code == "licence_required"
    assert bank_counts(uni) == before and not Licence.objects.exists()

    started = payments.start_purchase(
        buyer=uni.tenant, listing=listing, success_url="http://x/", cancel_url="http://x/"
    )
    assert started.checkout_url == (
        f"http://localhost:8000/_stripe/checkout/{started.purchase.checkout_session_id}/"
    )
    # pending: still no licence, and completing without payment does nothing
    assert (
        payments.complete_purchase(session_id=started.purchase.checkout_session_id).status
        == "pending"
    )
    assert not Licence.objects.exists()
    pay_on_the_double(started.purchase.checkout_session_id)
    payments.complete_purchase(session_id=started.purchase.checkout_session_id)
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount, purchase.platform_fee) == ("paid", 4900, 735)
    assert purchase.publisher_share == 4165
    assert purchase.payment_intent_id.startswith("pi_")
    # a second completion (a retried webhook) changes nothing
    payments.complete_purchase(session_id=purchase.checkout_session_id)
    assert Licence.objects.get().source == Licence.Source.PURCHASE
    assert services.install_listing(buyer=uni.tenant, listing=listing).created
    # the non-buyer still cannot install
    with pytest.raises(MarketplaceError) as refused:
        services.install_listing(buyer=acme.tenant, listing=listing)
    assert refused.value.code == "licence_required"
    with pytest.raises(MarketplaceError, match="already holds a licence"):
        payments.start_purchase(
            buyer=uni.tenant, listing=listing, success_url="http://x/", cancel_url="http://x/"
        )


def test_per_seat_licences_count_seats_and_the_fee_is_configurable(three, settings):
    settings.MARKETPLACE_PLATFORM_FEE_PERCENT = 10
    press, uni, _ = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    buy(uni, listing, seats=20)
    assert Licence.objects.get().seats == 20
    second = buy(uni, listing, seats=5)
    assert (second.amount, second.platform_fee) == (1500, 150)
    assert Licence.objects.get().seats == 25
    report = selectors.sales_report(publisher=press.tenant)
    row = report.rows[0]
    assert (row.sales, row.seats, row.gross, row.platform_fees, row.net, row.owed) == (
        2,
        25,
        7500,
        750,
        6750,
        6750,
    )
    assert report.fee_percent == "10"
    with pytest.raises(MarketplaceError) as refused:
        payments.pay_out(publisher=press.tenant)
    assert (refused.value.code, str(refused.value)) == (
        "payouts_unavailable",
        "Set up payouts first.",
    )


def test_the_platform_fee_defaults_to_fifteen_percent_rounded():
    assert payments.platform_fee(4900) == 735
    assert payments.platform_fee(333) == 50  # 49.95 → 50


# -- updating -----------------------------------------------------------------------------


def test_update_shows_a_diff_and_lands_as_a_new_exam_version(three):
    press, uni, _ = three
    listing = publish(press)
    installed = services.install_listing(buyer=uni.tenant, listing=listing).installation
    # a candidate sits version 1 at uni
    with uni.activate():
        exam = Exam.objects.get(pk=installed.exam_id)
    candidate = make_member(uni, "student@uni.test", role="candidate")
    with uni.activate():
        attempt = delivery.start_attempt(
            exam=exam,
            user=candidate,
            client=delivery.Client(session_key="s", ip="127.0.0.1", user_agent="Browser"),
        )
        v1 = attempt.version_id
        v1_snapshot = ExamVersion.objects.get(pk=v1).snapshot
    connection.set_schema_to_public()

    # press edits its exam: one question changed, one added, one removed, a setting changed
    source = listing.source_exam
    with press.activate():
        admin = User.objects.get(email=press.admin_email)
        section = source.sections.get()
        items = list(section.items.order_by("position"))
        bank.update_question(question=items[0].question, author=admin, title="Q1 reworded")
        exams.remove_item(item=items[1])
        added = bank.create_question(
            author=admin,
            type="true_false",
            title="Q6 new",
            stem="<p>New</p>",
            data={"answer": False},
            status="active",
        )
        exams.add_fixed_item(section=section, question=added)
        exams.update_exam(exam=source, by=admin, time_limit_minutes=60)
        exams.publish_exam(exam=source, by=admin)
    connection.set_schema_to_public()
    services.publish_version(
        publisher=press.tenant, listing=listing, exam_id=source.pk, release_notes="Second"
    )

    installation, latest, diff = services.update_preview(buyer=uni.tenant, listing=listing)
    assert latest.number == 2
    assert [c.title for c in diff.added] == ["Q6 new"]
    assert [c.title for c in diff.removed] == ["Q2 true_false"]
    assert [(c.title, c.fields) for c in diff.changed] == [("Q1 reworded", ["title"])]
    assert diff.settings == {"time_limit_minutes": (45, 60)}
    assert selectors.installations_of(uni.tenant)[0].update_available

    updated = services.update_installation(buyer=uni.tenant, listing=listing)
    assert updated.changed
    assert updated.installation.version.number == 2
    assert updated.installation.exam_version_number == 2
    with uni.activate():
        exam.refresh_from_db()
        assert exam.versions.count() == 2 and exam.time_limit_minutes == 60
        new = exam.versions.get(number=2).snapshot
        assert [i["question"]["title"] for i in new["sections"][0]["items"]] == [
            "Q1 reworded",
            "Q3 numeric",
            "Q4 short_answer",
            "Q5 essay",
            "Q6 new",
        ]
        # the attempt still points at version 1, whose snapshot did not change
        attempt.refresh_from_db()
        assert attempt.version_id == v1
        assert ExamVersion.objects.get(pk=v1).snapshot == v1_snapshot
        removed = Question.objects.get(pk=installation.question_map[diff.removed[0].ref])
        assert removed.status == "retired"
        assert Attempt.objects.count() == 1
    connection.set_schema_to_public()
    # updating again changes nothing
    before = bank_counts(uni)
    again = services.update_installation(buyer=uni.tenant, listing=listing)
    assert not again.changed and bank_counts(uni) == before
    assert [h["version"] for h in Installation.objects.get().history] == [1, 2]


def test_old_versions_stay_installable(three):
    press, uni, acme = three
    listing = publish(press)
    services.publish_version(
        publisher=press.tenant, listing=listing, exam_id=listing.source_exam.pk
    )
    installed = services.install_listing(buyer=acme.tenant, listing=listing, version_number=1)
    assert installed.installation.version.number == 1
    assert (
        services.install_listing(buyer=uni.tenant, listing=listing).installation.version.number == 2
    )


# -- reviews and moderation ---------------------------------------------------------------


def test_only_licensed_buyers_review_and_publishers_reply(three):
    press, uni, acme = three
    listing = publish(press)
    with pytest.raises(MarketplaceError) as refused:
        services.submit_review(buyer=acme.tenant, listing=listing, rating=1, text="Spam")
    assert refused.value.code == "licence_required"
    with pytest.raises(MarketplaceError):
        services.submit_review(buyer=press.tenant, listing=listing, rating=5)
    assert not Review.objects.exists()
    services.install_listing(buyer=uni.tenant, listing=listing)
    with pytest.raises(MarketplaceError, match="rating must be 1 to 5"):
        services.submit_review(buyer=uni.tenant, listing=listing, rating=6)
    review = services.submit_review(buyer=uni.tenant, listing=listing, rating=5, text="Great")
    services.submit_review(buyer=uni.tenant, listing=listing, rating=4, text="Good")
    assert Review.objects.get().rating == 4
    # only the listing's publisher replies
    with pytest.raises(MarketplaceError):
        services.reply_to_review(publisher=acme.tenant, review_id=review.pk, text="Hi")
    services.reply_to_review(publisher=press.tenant, review_id=review.pk, text="Thanks!")
    assert Review.objects.get().publisher_reply == "Thanks!"
    # moderation hides it from the catalogue, and editing does not bring it back
    services.moderate_review(review=review, status=Review.Status.HIDDEN)
    services.submit_review(buyer=uni.tenant, listing=listing, rating=5, text="Edited")
    assert Review.objects.get().status == Review.Status.HIDDEN
    assert list(selectors.published_reviews(listing)) == []


def test_community_banks_wait_for_moderation(three):
    press, uni, acme = three
    with uni.activate():
        admin = User.objects.get(email=uni.admin_email)
        category = bank.create_category(name="Shared")
        bank.create_question(
            author=admin,
            type="true_false",
            title="Community Q",
            stem="<p>?</p>",
            data={"answer": True},
            category=category,
            status="active",
        )
    connection.set_schema_to_public()
    with pytest.raises(MarketplaceError, match="community listings are free"):
        services.create_listing(
            publisher=uni.tenant, title="x", community=True, price_model="one_off", price_amount=5
        )
    listing = services.create_listing(
        publisher=uni.tenant, title="Uni shared bank", kind="question_bank", community=True
    )
    services.publish_version(publisher=uni.tenant, listing=listing, category_id=category.pk)
    listing.refresh_from_db()
    assert listing.status == Listing.Status.PENDING_MODERATION
    assert not selectors.catalogue().filter(pk=listing.pk).exists()
    with pytest.raises(MarketplaceError) as refused:
        services.install_listing(buyer=acme.tenant, listing=listing)
    assert refused.value.code == "not_found"
    services.approve_listing(listing=listing)
    assert selectors.catalogue().filter(pk=listing.pk).exists()
    installed = services.install_listing(buyer=acme.tenant, listing=listing).installation
    assert installed.exam_id is None
    with acme.activate():
        assert Question.objects.get().title == "Community Q"
    connection.set_schema_to_public()
    services.suspend_listing(listing=listing, note="copyright")
    assert not selectors.catalogue().filter(pk=listing.pk).exists()
    with pytest.raises(MarketplaceError):
        services.install_listing(buyer=press.tenant, listing=listing)


# -- isolation ----------------------------------------------------------------------------


def test_publishing_and_installing_touch_no_other_schema(three):
    """The publisher's bank is unchanged by installs; the non-buyer gets nothing; installing
    reads only the stored document, never the publisher's schema."""
    press, uni, acme = three
    listing = publish(press)
    press_before, acme_before = bank_counts(press), bank_counts(acme)
    # even with the publisher's exam gone, the install works from the document alone
    with press.activate():
        Exam.objects.filter(pk=listing.source_exam.pk).update(title="renamed")
    connection.set_schema_to_public()
    services.install_listing(buyer=uni.tenant, listing=listing)
    assert bank_counts(press) == press_before
    assert bank_counts(acme) == acme_before
    with uni.activate():
        assert Exam.objects.get().title == "Statistics mock"
    connection.set_schema_to_public()


def test_the_public_view_never_carries_the_document(three):
    press, _, _ = three
    listing = publish(press, price_model="one_off", price_amount=4900)
    data = selectors.public_listing(selectors.listing_with_rating(listing.slug), detail=True)
    text = str(data)
    assert "document" not in data
    assert "Q5 essay" not in text  # beyond the three samples
    assert "variance" not in text and "'correct': True" not in text
    assert [s["title"] for s in data["samples"]] == [
        "Q1 single_choice",
        "Q2 true_false",
        "Q3 numeric",
    ]


def test_per_seat_usage_counts_candidates_of_the_installed_exam(three):
    press, uni, _ = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    buy(uni, listing, seats=2)
    installation = services.install_listing(buyer=uni.tenant, listing=listing).installation
    assert selectors.seats_in_use(installation) == 0
    candidate = make_member(uni, "seat@uni.test", role="candidate")
    with uni.activate():
        exam = Exam.objects.get(pk=installation.exam_id)
        delivery.start_attempt(
            exam=exam,
            user=candidate,
            client=delivery.Client(session_key="s", ip="127.0.0.1", user_agent="Browser"),
        )
    connection.set_schema_to_public()
    assert selectors.seats_in_use(installation) == 1
    assert Licence.objects.get(buyer=uni.tenant).seats == 2
