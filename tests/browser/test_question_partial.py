"""The candidate question partial in Chromium, through the bank's preview: for every question
type an answer is given with the keyboard or the mouse, ``VivaResponses.collect`` returns
exactly what the type's ``grade`` accepts, "Check answer" grades it right, the response comes
back into the inputs, math is typeset by the vendored KaTeX, and axe finds nothing serious."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from assessments import services
from assessments.bank.forms import EXAMPLES
from assessments.questions.base import item_key
from tests.browser.test_accessibility import serious_violations
from tests.conftest import PASSWORD

COLLECT = "() => VivaResponses.collect(document.querySelector('fieldset.viva-question'))"
RESTORE = "(v) => VivaResponses.restore(document.querySelector('fieldset.viva-question'), v)"


def answer_single_choice(page):
    page.get_by_label("Paris").check()


def answer_multiple_response(page):
    page.get_by_label("2", exact=True).check()
    page.get_by_label("3", exact=True).focus()
    page.keyboard.press("Space")


def answer_true_false(page):
    page.get_by_label("True").check()


def answer_short_answer(page):
    page.get_by_label("Your answer").focus()
    page.keyboard.type("Paris")


def answer_numeric(page):
    page.get_by_label("Your answer (a number)").fill("9.8")
    page.get_by_label("Unit (optional)").select_option("m/s2")


def answer_essay(page):
    page.get_by_label("Your answer").fill("Free trade lowers prices for everyone.")
    expect(page.locator("[data-viva-word-count]")).to_have_text("6 words")


def answer_matching(page):
    page.get_by_label("France").select_option(label="Paris")
    page.get_by_label("Italy").select_option(label="Rome")


def answer_ordering(page):
    target = EXAMPLES["ordering"]["items"]
    for index, text in enumerate(target):
        shown = page.locator("[data-viva-ordering] .viva-ordering__text").all_inner_texts()
        for _ in range(shown.index(text) - index):
            page.get_by_role("button", name=f"Move {text} up").focus()
            page.keyboard.press("Enter")
    expect(page.locator("[data-viva-announce]")).not_to_be_empty()


def answer_cloze(page):
    page.get_by_label("Blank 1").fill("Paris")
    page.get_by_label("Blank 2").select_option("Rome")


CASES = {
    "single_choice": (answer_single_choice, "a", "correct."),
    "multiple_response": (answer_multiple_response, ["a", "b"], "correct."),
    "true_false": (answer_true_false, True, "correct."),
    "short_answer": (answer_short_answer, "Paris", "correct."),
    "numeric": (answer_numeric, "9.8 m/s2", "correct."),
    "essay": (
        answer_essay,
        "Free trade lowers prices for everyone.",
        "waiting for manual grading.",
    ),
    "matching": (
        answer_matching,
        {item_key("France"): item_key("Paris"), item_key("Italy"): item_key("Rome")},
        "correct.",
    ),
    "ordering": (answer_ordering, [item_key(t) for t in EXAMPLES["ordering"]["items"]], "correct."),
    "cloze": (answer_cloze, {"1": "Paris", "2": "Rome"}, "correct."),
}


def test_every_question_type_is_answered_collected_and_graded_in_chromium(
    page, live_port, make_committed_portal, screenshot
):
    portal = make_committed_portal("bqpartial", "Partial University")
    with portal.activate():
        author = get_user_model().objects.get(email=portal.admin_email)
        ids = {
            key: services.create_question(
                author=author,
                type=key,
                title=f"A {key.replace('_', ' ')} question",
                stem=f"<p>Answer this {key} question. Energy: \\(E = mc^2\\)</p>",
                data=data,
                explanation="<p>Because \\[a^2 + b^2 = c^2\\]</p>",
            ).pk
            for key, data in EXAMPLES.items()
        }
    connection.set_schema_to_public()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    base = f"http://bqpartial.localhost:{live_port}"
    page.goto(f"{base}/cms/")
    page.get_by_label("Email").fill(portal.admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", name="Site summary")).to_be_visible()

    for key, (answer, expected, verdict) in CASES.items():
        page.goto(f"{base}/cms/questions/{ids[key]}/preview/")
        fieldset = page.locator(f'fieldset.viva-question[data-question-type="{key}"]')
        expect(fieldset).to_be_visible()
        expect(fieldset.locator(".viva-question__stem .katex")).to_have_count(1)
        assert page.evaluate(COLLECT) is None, key  # nothing answered yet
        assert page.locator(".viva-preview-result").count() == 0
        answer(page)
        assert page.evaluate(COLLECT) == expected, key

        page.get_by_role("button", name="Check answer").click()
        result = page.locator(".viva-preview-result__score")
        expect(result).to_contain_text(verdict)
        if verdict == "correct.":
            expect(result).not_to_contain_text("not correct")
        expect(page.locator(".viva-preview-result .katex-display")).to_have_count(1)
        # The page came back pre-filled by the server with what was sent.
        assert page.evaluate(COLLECT) == expected, key
        screenshot(page, key)
        assert serious_violations(page) == [], key

        page.evaluate(RESTORE, None)
        assert page.evaluate(COLLECT) is None, key
        page.evaluate(RESTORE, expected)
        assert page.evaluate(COLLECT) == expected, key

    assert problems == []


def test_an_author_writes_a_question_in_the_admin_and_previews_it(
    page, live_port, make_committed_portal, screenshot
):
    portal = make_committed_portal("bqeditor", "Editor University")
    with portal.activate():
        author = get_user_model().objects.get(email=portal.admin_email)
        services.create_category(name="Geography")
        services.create_question(
            author=author, type="true_false", title="Existing one", stem="", data={"answer": True}
        )
    connection.set_schema_to_public()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = f"http://bqeditor.localhost:{live_port}"
    page.goto(f"{base}/cms/questions/")
    page.get_by_label("Email").fill(portal.admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("link", name="Existing one")).to_be_visible()
    screenshot(page, "list")

    page.get_by_role("link", name="New question").click()
    page.get_by_role("link", name="Single choice").click()
    page.get_by_label("Title").fill("Capital of France")
    page.get_by_label("Stem").fill("<p>Which city? \\(x\\)</p>")
    page.get_by_label("Category").select_option(label="Geography")
    data = page.get_by_label("Question data (JSON)")
    data.fill(data.input_value().replace('"text": "Lyon"', '"text": ""'))
    page.get_by_role("button", name="Create question").click()
    expect(page.locator('[data-field="data"] .bank-errors')).to_contain_text(
        "options[1].text is empty"
    )
    screenshot(page, "errors")
    data = page.get_by_label("Question data (JSON)")
    data.fill(data.input_value().replace('"text": ""', '"text": "Lyon"'))
    page.get_by_role("button", name="Create question").click()
    expect(page.get_by_text("created (version 1)")).to_be_visible()
    page.get_by_role("link", name="Preview").first.click()
    expect(page.locator(".viva-question__stem .katex")).to_have_count(1)
    page.get_by_label("Paris").check()
    page.get_by_role("button", name="Check answer").click()
    expect(page.locator(".viva-preview-result__score")).to_contain_text("1.00 of 1.00 — correct.")
    assert errors == []
