"""Issue #8's marketplace story in Chromium, offline: ``press`` publishes a free mock exam and a
paid interview pack through its admin screens; anyone finds both in the platform catalogue
(previews without answer keys); ``uni``'s admin installs the free one, buys the pack through
the local Stripe double's hosted Checkout and installs it; ``press`` publishes version 2 and
``uni`` reviews the diff and updates. axe and the CSP console watcher check every screen a
visitor or buyer reads, and press's sales page names no buyer."""

from __future__ import annotations

import json
import re

from django.db import connection
from playwright.sync_api import expect

from marketplace import demo
from marketplace.models import Installation, Licence, Listing, Purchase
from tests.browser.test_accessibility import settled_violations
from tests.browser.test_analytics_dashboards import _sign_in, _watch_csp
from tests.conftest import put_on_plan

MOCK_TITLE = "Intro Statistics Mock Exam"
PACK_TITLE = demo.PACK_TITLE
#: What must never reach a visitor or a non-buyer: answer keys and notes on strong answers.
ANSWER_KEY_FIELDS = ("correct", "answer", "accepted", "tolerance", "weight", "ideal_answer_notes")


def _message(page, text: str):
    expect(page.locator(".messages")).to_contain_text(text)


def _publish_the_mock_exam(page, base: str) -> None:
    """press's admin: My listings → New listing, a free exam listing of the published exam."""
    page.goto(f"{base}/cms/marketplace/mine/")
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Title").fill(MOCK_TITLE)
    page.get_by_label("Kind").select_option("exam")
    page.get_by_label("Description").fill(
        "A 30-minute mock exam on descriptive statistics: centre, spread and types of data."
    )
    page.get_by_label("Subject").fill("Statistics")
    page.get_by_label("Tags (comma-separated)").fill("statistics, mock exam, descriptive")
    page.get_by_label("Level").select_option("introductory")
    page.get_by_label("Price", exact=True).select_option("free")
    page.get_by_label("Licence terms").fill("Free to use and adapt within your institution.")
    page.get_by_label("A published exam").select_option(label=MOCK_TITLE)
    page.get_by_label("Release notes").fill("First edition.")
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/cms/marketplace/mine/$"))
    _message(page, f"Version 1 published; “{MOCK_TITLE}” is in the catalogue.")


def _open_publish_to_marketplace(page, base: str) -> None:
    """The interview templates' list → the template's "More" menu → Publish to marketplace."""
    page.goto(f"{base}/cms/interviews/templates/")
    row = page.get_by_role("row").filter(has_text=PACK_TITLE)
    row.get_by_role("button", name=re.compile("More options")).click()
    row.get_by_role("link", name="Publish to marketplace").click()
    expect(page.get_by_role("heading", name="Publish to marketplace")).to_be_visible()


def _publish_the_pack(page, base: str) -> None:
    _open_publish_to_marketplace(page, base)
    page.get_by_label("Publish as").select_option(label="A new listing")
    expect(page.get_by_label("Title")).to_have_value(PACK_TITLE)
    page.get_by_label("Subject").fill("Data science")
    page.get_by_label("Tags").fill("interview, data science, statistics")
    page.get_by_label("Level").select_option("professional")
    page.get_by_label("Price", exact=True).select_option("one_off")
    page.get_by_label("Amount").fill("49.00")
    page.get_by_label("Currency").fill("usd")
    page.get_by_label("Licence terms").fill("One portal, unlimited candidates.")
    page.get_by_label("Release notes").fill("First edition.")
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/cms/marketplace/mine/$"))
    _message(page, f"“{PACK_TITLE}” published as version 1 of “{PACK_TITLE}”.")


def _catalogue_titles(page) -> list[str]:
    return page.locator(".marketplace-listings h2 a").all_inner_texts()


def _search(page, **filters: str) -> None:
    """Fill the catalogue's filter form as a person would and submit it."""
    form = page.locator("form.marketplace-filters")
    form.get_by_label("Search").fill(filters.pop("query", ""))
    for label, value in filters.items():
        form.get_by_label(label, exact=True).select_option(value)
    with page.expect_navigation():
        form.get_by_role("button", name="Search").click()


def test_press_publishes_uni_installs_buys_and_updates_through_the_screens(
    page, browser, live_port, make_committed_portal, settings, screenshot
):
    settings.VIVA_STRIPE_DOUBLE_URL = f"http://localhost:{live_port}/_stripe"
    press = make_committed_portal("press", "Quill Press", "publisher")
    uni = make_committed_portal("uni", "Northfield University")
    put_on_plan(press, "enterprise", seats=5)  # selling in the marketplace is Enterprise's
    demo._exam(press.schema, MOCK_TITLE, demo.MOCK_QUESTIONS, time_limit_minutes=30)
    template_id = demo._interview_template(press.schema)
    connection.set_schema_to_public()
    platform = f"http://localhost:{live_port}"
    press_base = f"http://press.localhost:{live_port}"
    uni_base = f"http://uni.localhost:{live_port}"

    # 1. press publishes both listings by clicking through its admin.
    press_csp = _watch_csp(page)
    _sign_in(page, press_base, press.admin_email, "/cms/marketplace/mine/")
    expect(page.get_by_text("No listings yet.")).to_be_visible()
    _publish_the_mock_exam(page, press_base)
    _publish_the_pack(page, press_base)
    assert settled_violations(page) == [], "press: my listings"

    # 2. Anyone, on the platform site: search and filters find both; previews carry no keys.
    visitor = browser.new_context().new_page()
    visitor_csp = _watch_csp(visitor)
    visitor.goto(f"{platform}/marketplace/")
    assert sorted(_catalogue_titles(visitor)) == [PACK_TITLE, MOCK_TITLE]
    _search(visitor, query="statistics")
    assert sorted(_catalogue_titles(visitor)) == [PACK_TITLE, MOCK_TITLE]
    _search(visitor, query="statistics", Price="free")
    assert _catalogue_titles(visitor) == [MOCK_TITLE]
    _search(visitor, query="", Price="", Kind="interview")
    assert _catalogue_titles(visitor) == [PACK_TITLE]
    _search(visitor, query="data science", Kind="")
    assert _catalogue_titles(visitor) == [PACK_TITLE]
    expect(visitor.get_by_text("49.00 USD")).to_be_visible()
    assert settled_violations(visitor) == [], "platform catalogue"

    visitor.get_by_role("link", name=PACK_TITLE).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(PACK_TITLE)
    samples = visitor.locator(".marketplace-samples > li")
    expect(samples).to_have_count(3)
    first_prompt = demo.PACK_TEMPLATE["questions"][0][2]
    expect(samples.first).to_contain_text(first_prompt)
    body = visitor.locator("body").inner_text()
    for _, _, _, notes in demo.PACK_TEMPLATE["questions"]:
        assert notes not in body  # notes on strong answers are the buyer's, not a visitor's
    assert settled_violations(visitor) == [], "platform listing (interview pack)"

    visitor.get_by_role("link", name="Marketplace").click()
    visitor.get_by_role("link", name=MOCK_TITLE).click()
    samples = visitor.locator(".marketplace-samples > li")
    expect(samples).to_have_count(3)
    expect(samples.first).to_contain_text("least affected by outliers")
    expect(samples.first.locator("li")).to_have_text(["Median", "Mean", "Range"])
    assert settled_violations(visitor) == [], "platform listing (mock exam)"
    for slug in (demo.MOCK, demo.PACK):
        preview = visitor.request.get(f"{platform}/marketplace/api/listings/{slug}/")
        assert preview.ok
        samples_json = json.dumps(preview.json()["samples"])
        leaked = [key for key in ANSWER_KEY_FIELDS if f'"{key}"' in samples_json]
        assert leaked == [], (slug, leaked)
    screenshot(visitor, "platform-listing")
    visitor.context.close()

    # 3. uni's admin finds both in its admin catalogue and installs the free mock exam.
    buyer = browser.new_context().new_page()
    buyer_csp = _watch_csp(buyer)
    _sign_in(buyer, uni_base, uni.admin_email, "/cms/marketplace/")
    _search(buyer, query="statistics")
    rows = buyer.locator("table.listing tbody tr")
    expect(rows).to_have_count(2)
    assert settled_violations(buyer) == [], "uni: admin catalogue"
    buyer.get_by_role("link", name=MOCK_TITLE).click()
    expect(buyer.locator(".marketplace-samples > li")).to_have_count(3)
    buyer.get_by_role("button", name="Install").click()
    _message(buyer, f"“{MOCK_TITLE}” is installed in your question bank.")
    expect(buyer.get_by_text("Installed: version 1")).to_be_visible()
    buyer.goto(f"{uni_base}/cms/exams/")
    expect(buyer.get_by_role("link", name=MOCK_TITLE).first).to_be_visible()

    # ... then buys the pack on the double's hosted Checkout and installs it.
    buyer.goto(f"{uni_base}/cms/marketplace/")
    buyer.get_by_role("link", name=PACK_TITLE).click()
    expect(buyer.get_by_role("button", name="Install")).to_have_count(0)  # no licence yet
    assert settled_violations(buyer) == [], "uni: listing before buying"
    buyer.get_by_role("button", name="Buy (49.00 USD)").click()
    expect(buyer).to_have_url(re.compile(rf"^http://localhost:{live_port}/_stripe/checkout/"))
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Pay 49.00 USD")
    screenshot(buyer, "checkout")
    buyer.get_by_role("button", name="Pay").click()
    expect(buyer).to_have_url(re.compile(rf"^{uni_base}/cms/marketplace/listing/\d+/$"))
    _message(buyer, "Payment received: your portal holds a licence.")
    expect(buyer.get_by_role("button", name=re.compile(r"^Buy"))).to_have_count(0)
    buyer.get_by_role("button", name="Install").click()
    _message(buyer, f"“{PACK_TITLE}” is installed in your interview templates.")
    buyer.goto(f"{uni_base}/cms/interviews/templates/")
    expect(buyer.get_by_role("row").filter(has_text=PACK_TITLE)).to_have_count(1)
    buyer.goto(f"{uni_base}/interview/")
    expect(buyer.get_by_text(PACK_TITLE).first).to_be_visible()
    assert settled_violations(buyer) == [], "uni: interview practice with the pack"

    # 4. press edits its template and publishes it as version 2 of the pack, by clicking.
    demo._pack_version_two(press.schema)
    connection.set_schema_to_public()
    _open_publish_to_marketplace(page, press_base)
    page.get_by_label("Publish as").select_option(label=f"New version of “{PACK_TITLE}”")
    page.get_by_label("Release notes").fill("A sharper question on overfitting; data quality.")
    page.get_by_role("button", name="Publish").click()
    _message(page, f"“{PACK_TITLE}” published as version 2 of “{PACK_TITLE}”.")

    # uni sees the update, reads what changes and applies it.
    buyer.goto(f"{uni_base}/cms/marketplace/installed/")
    pack_row = buyer.get_by_role("row").filter(has_text=PACK_TITLE)
    expect(pack_row).to_contain_text("update available")
    expect(buyer.get_by_role("row").filter(has_text=MOCK_TITLE)).not_to_contain_text("update")
    pack_row.get_by_role("link", name="update available").click()
    expect(buyer.get_by_role("heading", name="What changes")).to_be_visible()
    changes = buyer.locator("h2:text('What changes') + ul > li")
    expect(changes.filter(has_text="Added:")).to_have_count(1)
    expect(changes.filter(has_text="Changed:")).to_have_count(1)
    expect(buyer.get_by_text("changes your interview template in place")).to_be_visible()
    assert settled_violations(buyer) == [], "uni: update diff"
    screenshot(buyer, "update-diff")
    buyer.get_by_role("button", name="Update to version 2").click()
    _message(buyer, "Updated to version 2: your interview template, in place.")
    expect(buyer.get_by_text("Installed: version 2")).to_be_visible()

    # 5. press's sales page counts the sale and names no buyer.
    page.goto(f"{press_base}/cms/marketplace/mine/")
    sale = page.get_by_role("row").filter(has_text=PACK_TITLE).last
    expect(sale.locator("td").nth(1)).to_have_text("1")  # sales
    expect(sale.locator("td").nth(3)).to_have_text("4900")  # gross, minor units
    sales_page = page.content()
    for buyer_data in ("Northfield", uni.admin_email, "uni.localhost"):
        assert buyer_data not in sales_page, buyer_data
    assert not re.search(rf"\b{uni.schema}\b", sales_page)  # nor the buyer's schema or slug
    assert settled_violations(page) == [], "press: sales"

    pack = Listing.objects.get(slug=demo.PACK)
    mock = Listing.objects.get(slug=demo.MOCK)
    purchase = Purchase.objects.get(listing=pack)
    assert (purchase.buyer_id, purchase.status, purchase.amount, purchase.platform_fee) == (
        uni.tenant.pk,
        "paid",
        4900,
        735,
    )
    licence = Licence.objects.get(listing=pack)
    assert (licence.buyer_id, licence.source) == (uni.tenant.pk, "purchase")
    installed = {
        i.listing_id: i.version.number for i in Installation.objects.filter(buyer=uni.tenant)
    }
    assert installed == {mock.pk: 1, pack.pk: 2}
    with uni.activate():
        from assessments.interviews.models import InterviewTemplate

        copy = InterviewTemplate.objects.get(source_listing_id=pack.pk)
        prompts = list(copy.questions.order_by("sort_order").values_list("prompt", flat=True))
    assert prompts[0] == demo.PACK_V2_FIRST_PROMPT and prompts[-1] == demo.PACK_V2_NEW_QUESTION[2]
    assert len(prompts) == 5
    with press.activate():
        from assessments.interviews.models import InterviewTemplate

        assert not InterviewTemplate.objects.filter(source_listing_id__isnull=False).exists()
        assert InterviewTemplate.objects.filter(pk=template_id).exists()
    assert press_csp == [] and visitor_csp == [] and buyer_csp == []
