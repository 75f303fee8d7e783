"""Marketplace over HTTP: the platform catalogue and its JSON, buying through the local Stripe
double's Checkout, the portal admin under /cms/marketplace/ (hooks of a shared app on tenant
hosts), platform moderation in Django's admin, and the access rules with publisher, buyer and
non-buyer."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from assessments.exams.models import Exam
from marketplace import services
from marketplace.models import Installation, Licence, Listing, Purchase, Review

from .conftest import make_member, sign_in
from .test_marketplace import make_exam, make_three, publish

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def three(make_portal):
    return make_three(make_portal)


def platform() -> Client:
    return Client(HTTP_HOST="localhost")


def test_platform_catalogue_page_and_json(three, django_assert_max_num_queries):
    press, _, _ = three
    free = publish(press)
    paid = publish(
        press, title="Data Science Interview Pack", price_model="one_off", price_amount=4900
    )
    services.create_listing(publisher=press.tenant, title="Unpublished draft")
    page = platform().get("/marketplace/?query=interview")
    assert page.status_code == 200
    assert b"Data Science Interview Pack" in page.content
    assert b"Intro Statistics Mock Exam" not in page.content
    with django_assert_max_num_queries(8):
        data = platform().get("/marketplace/api/listings/?price=free").json()
    assert data["count"] == 1 and data["results"][0]["slug"] == free.slug
    assert "Unpublished draft" not in platform().get("/marketplace/api/listings/").content.decode()
    detail = platform().get(f"/marketplace/api/listings/{paid.slug}/").json()
    assert detail["price"] == "49.00 USD"
    assert "document" not in detail and len(detail["samples"]) == 3
    body = platform().get(f"/marketplace/{paid.slug}/").content.decode()
    assert "Q1 single_choice" in body and "Q5 essay" not in body and "variance" not in body


def test_unpublished_listings_are_not_found_anywhere_public(three):
    press, uni, _ = three
    draft = services.create_listing(publisher=press.tenant, title="Secret draft")
    for url in (f"/marketplace/{draft.slug}/", f"/marketplace/api/listings/{draft.slug}/"):
        assert platform().get(url).status_code == 404
    uni.login_admin()
    assert uni.client.get(f"/cms/marketplace/listing/{draft.pk}/").status_code == 404
    press.login_admin()
    assert press.client.get(f"/cms/marketplace/listing/{draft.pk}/").status_code == 200


def test_portal_admin_browses_and_installs_a_free_listing(three):
    press, uni, _ = three
    listing = publish(press)
    uni.login_admin()
    catalogue = uni.client.get("/cms/marketplace/")
    assert catalogue.status_code == 200 and b"Intro Statistics Mock Exam" in catalogue.content
    assert uni.client.get(f"/cms/marketplace/listing/{listing.pk}/").status_code == 200
    response = uni.client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert response.status_code == 302
    assert uni.client.post(f"/cms/marketplace/listing/{listing.pk}/install/").status_code == 302
    assert Installation.objects.filter(buyer=uni.tenant).count() == 1
    with uni.activate():
        assert Exam.objects.count() == 1
    connection.set_schema_to_public()
    assert uni.client.get("/cms/marketplace/installed/").status_code == 200


def test_only_portal_admins_install(three):
    press, uni, _ = three
    listing = publish(press)
    make_member(uni, "author@uni.test", role="author")
    client = sign_in(Client(HTTP_HOST=uni.domain), "author@uni.test")
    assert client.get("/cms/marketplace/").status_code == 200  # staff browse
    refused = client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert (refused.status_code, refused["Location"]) == (302, "/cms/")  # Wagtail's "denied"
    assert not Installation.objects.exists()
    student = make_member(uni, "student@uni.test", role="candidate")
    assert student
    client = sign_in(Client(HTTP_HOST=uni.domain), "student@uni.test")
    assert client.get("/cms/marketplace/").status_code in (302, 403)


def test_buying_offline_through_checkout_then_installing(three, django_capture_on_commit_callbacks):
    press, uni, acme = three
    listing = publish(press, price_model="one_off", price_amount=4900)
    uni.login_admin()
    # not bought: the install endpoint refuses and nothing lands
    uni.client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert not Installation.objects.exists() and not Licence.objects.exists()
    response = uni.client.post(f"/cms/marketplace/listing/{listing.pk}/buy/")
    assert response.status_code == 302
    purchase = Purchase.objects.get()
    checkout = f"/_stripe/checkout/{purchase.checkout_session_id}/"
    assert response["Location"] == f"http://localhost:8000{checkout}"
    page = platform().get(checkout)
    assert page.status_code == 200 and b"<td data-total>49.00 USD</td>" in page.content
    with django_capture_on_commit_callbacks(execute=True):  # the webhook, after commit
        paid = platform().post(checkout)
    assert paid.status_code == 302
    assert paid["Location"] == (
        f"http://{uni.domain}/cms/marketplace/purchases/return/"
        f"?session_id={purchase.checkout_session_id}"
    )
    assert Licence.objects.get(buyer=uni.tenant).source == "purchase"  # the webhook's work
    back = uni.client.get(
        f"/cms/marketplace/purchases/return/?session_id={purchase.checkout_session_id}"
    )
    assert back.status_code == 302
    assert Licence.objects.filter(buyer=uni.tenant).count() == 1
    uni.client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert Installation.objects.filter(buyer=uni.tenant).exists()
    # the non-buyer: its admin's install and update requests change nothing
    acme.login_admin()
    acme.client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert acme.client.get(f"/cms/marketplace/listing/{listing.pk}/update/").status_code == 404
    # nor can it complete uni's checkout from its own host
    other = acme.client.get(
        f"/cms/marketplace/purchases/return/?session_id={purchase.checkout_session_id}"
    )
    assert other.status_code == 404
    assert not Installation.objects.filter(buyer=acme.tenant).exists()
    with acme.activate():
        assert Exam.objects.count() == 0
    connection.set_schema_to_public()
    assert platform().get("/_stripe/checkout/cs_test_unknown/").status_code == 404
    assert (
        platform().get(f"/marketplace/checkout/{purchase.checkout_session_id}/").status_code == 404
    )


def test_update_page_shows_the_diff_and_applies_it(three):
    press, uni, _ = three
    listing = publish(press)
    services.install_listing(buyer=uni.tenant, listing=listing)
    services.publish_version(
        publisher=press.tenant,
        listing=listing,
        exam_id=listing.source_exam.pk,
        release_notes="Same content",
    )
    uni.login_admin()
    page = uni.client.get(f"/cms/marketplace/listing/{listing.pk}/update/")
    assert page.status_code == 200 and b"Update to version 2" in page.content
    assert uni.client.post(f"/cms/marketplace/listing/{listing.pk}/update/").status_code == 302
    installation = Installation.objects.get()
    assert (installation.version.number, installation.exam_version_number) == (2, 2)


def test_publisher_screens_and_cross_tenant_ids(three):
    press, uni, acme = three
    listing = publish(press)
    services.install_listing(buyer=uni.tenant, listing=listing)
    review = services.submit_review(buyer=uni.tenant, listing=listing, rating=5, text="Fine")
    press.login_admin()
    mine = press.client.get("/cms/marketplace/mine/")
    assert mine.status_code == 200 and b"Sales and payouts" in mine.content
    assert b"Northfield" not in mine.content  # counts only: no buyer is named
    assert press.client.get(f"/cms/marketplace/mine/{listing.pk}/version/").status_code == 200
    press.client.post(f"/cms/marketplace/reviews/{review.pk}/reply/", {"text": "Thanks"})
    assert Review.objects.get().publisher_reply == "Thanks"
    # another portal's admin cannot reach press's listing or its reviews by id
    acme.login_admin()
    assert acme.client.get(f"/cms/marketplace/mine/{listing.pk}/version/").status_code == 404
    assert (
        acme.client.post(
            f"/cms/marketplace/reviews/{review.pk}/reply/", {"text": "Hijack"}
        ).status_code
        == 404
    )
    assert Review.objects.get().publisher_reply == "Thanks"
    # a publisher's session means nothing on a buyer's host
    assert press.client.get("/cms/marketplace/", HTTP_HOST=uni.domain).status_code == 302


def test_publishing_from_the_admin_form(three):
    press, _, _ = three
    exam = make_exam(press, title="Form exam")
    press.login_admin()
    response = press.client.post(
        "/cms/marketplace/mine/new/",
        {
            "title": "Form listing",
            "kind": "exam",
            "level": "advanced",
            "language": "en",
            "price_model": "free",
            "price": "0",
            "currency": "usd",
            "exam": str(exam.pk),
            "release_notes": "v1",
            "tags": "a, b",
        },
    )
    assert response.status_code == 302
    listing = Listing.objects.get(title="Form listing")
    assert (listing.status, listing.tags, listing.versions.count()) == ("published", ["a", "b"], 1)


def test_platform_staff_moderate_in_django_admin(three):
    press, uni, _ = three
    with uni.activate():
        from assessments import services as bank

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
    listing = services.create_listing(
        publisher=uni.tenant, title="Community bank", kind="question_bank", community=True
    )
    services.publish_version(publisher=uni.tenant, listing=listing, category_id=category.pk)
    staff = User.objects.create_superuser(email="staff@viva.test", password="x-long-password-1")
    client = platform()
    client.force_login(staff)
    changelist = "/admin/marketplace/listing/"
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "approve", "_selected_action": [listing.pk]})
    listing.refresh_from_db()
    assert listing.status == Listing.Status.PUBLISHED
    services.install_listing(buyer=press.tenant, listing=listing)
    review = services.submit_review(buyer=press.tenant, listing=listing, rating=1, text="Rude")
    client.post("/admin/marketplace/review/", {"action": "hide", "_selected_action": [review.pk]})
    assert Review.objects.get().status == Review.Status.HIDDEN
    assert b"Rude" not in platform().get(f"/marketplace/{listing.slug}/").content
    client.post(changelist, {"action": "suspend", "_selected_action": [listing.pk]})
    assert platform().get(f"/marketplace/{listing.slug}/").status_code == 404
