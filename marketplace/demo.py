"""Demo marketplace: ``press`` publishes a paid "Data Science Interview Pack" (an interview
template listing, built from a press ``InterviewTemplate``) and a free "Intro Statistics Mock
Exam"; ``uni`` installs the free one.

Call ``seed_marketplace()`` at the end of the demo seed (after ``tenants.demo`` and
``billing.demo``). Idempotent: listings that exist are left alone, an installation is never
made twice. ``play_marketplace_story()`` goes on with the rest of the issue's story offline
(``uni`` buys the pack and can practise it at ``/interview/``; ``press`` publishes version 2
of the mock exam and of the pack; ``uni`` updates both).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from marketplace import payments, services
from marketplace.models import Listing
from marketplace.services import MarketplaceError
from tenants.models import Tenant

logger = logging.getLogger(__name__)

PACK = "data-science-interview-pack"
MOCK = "intro-statistics-mock-exam"

MOCK_QUESTIONS = [
    (
        "single_choice",
        "Measure of centre",
        "<p>Which measure of centre is least affected by outliers?</p>",
        {
            "options": [
                {"id": "a", "text": "Median", "correct": True},
                {"id": "b", "text": "Mean"},
                {"id": "c", "text": "Range"},
            ]
        },
    ),
    (
        "true_false",
        "Standard deviation",
        "<p>A standard deviation can be negative.</p>",
        {"answer": False},
    ),
    (
        "numeric",
        "Mean of a sample",
        "<p>What is the mean of 2, 4, 6 and 8?</p>",
        {"answer": "5", "tolerance": "0"},
    ),
    (
        "short_answer",
        "Spread",
        "<p>Name the square of the standard deviation.</p>",
        {"accepted": ["variance"]},
    ),
    (
        "multiple_response",
        "Categorical data",
        "<p>Which of these are categorical variables?</p>",
        {
            "options": [
                {"id": "a", "text": "Eye colour", "weight": "0.5"},
                {"id": "b", "text": "Blood type", "weight": "0.5"},
                {"id": "c", "text": "Height", "weight": "0"},
            ]
        },
    ),
]
PACK_TITLE = "Data Science Interview Pack"
PACK_TEMPLATE = {
    "title": PACK_TITLE,
    "industry": "technology",
    "role": "Data scientist",
    "competencies": ["Communication", "Experimentation", "Modelling", "Ownership"],
    "description": "Behavioural, technical and situational questions for data scientist "
    "interviews, with notes on what a strong answer covers.",
    "questions": [
        (
            "technical",
            "Modelling",
            "Explain overfitting to a product manager, and how you would detect it.",
            "A plain-language definition, train/validation gap, cross-validation, learning "
            "curves; what they would do about it (regularisation, more data, simpler model).",
        ),
        (
            "technical",
            "Experimentation",
            "How would you design an A/B test for a new checkout button?",
            "One primary metric and guardrails, randomisation unit, sample size and power "
            "before starting, running time, what would make them stop early.",
        ),
        (
            "behavioural",
            "Communication",
            "Tell me about a time your analysis changed a decision someone had already made.",
            "The decision and what was at stake, how they checked their analysis, how they "
            "presented it to the people involved, what changed and what they learned.",
        ),
        (
            "situational",
            "Ownership",
            "A dashboard you built shows revenue dropped 30% overnight. What do you do?",
            "Check the data before the business: pipeline, definitions, late data; tell "
            "people early with what is known; find the cause; prevent a repeat.",
        ),
    ],
}
#: Version 2 of the pack: a sharper first question and a new one on data quality.
PACK_V2_FIRST_PROMPT = (
    "Explain overfitting to a product manager, how you would detect it and what you would "
    "do about it."
)
PACK_V2_NEW_QUESTION = (
    "behavioural",
    "Ownership",
    "Tell me about a time you found a serious problem in data you were given.",
    "How they noticed, how they sized the impact, who they told and when, the fix and the "
    "check they added so it would be caught next time.",
)


def _interview_template(schema: str) -> int:
    """Press's own (not installed) "Data Science Interview Pack" template, made once."""
    from assessments.interviews.models import InterviewTemplate, TemplateQuestion

    with schema_context(schema):
        existing = InterviewTemplate.objects.filter(
            title=PACK_TITLE, source_listing_id__isnull=True
        ).first()
        if existing is not None:
            return existing.pk
        spec = {**PACK_TEMPLATE, "competencies": "\n".join(PACK_TEMPLATE["competencies"])}
        questions = spec.pop("questions")
        template = InterviewTemplate.objects.create(**spec)
        for order, (kind, competency, prompt, notes) in enumerate(questions):
            TemplateQuestion.objects.create(
                template=template,
                sort_order=order,
                kind=kind,
                competency=competency,
                prompt=prompt,
                ideal_answer_notes=notes,
            )
        return template.pk


def _pack_version_two(schema: str) -> int:
    """Press edits its template for version 2 (as an author would in the admin)."""
    from assessments.interviews.models import InterviewTemplate, TemplateQuestion

    template_id = _interview_template(schema)
    with schema_context(schema):
        template = InterviewTemplate.objects.get(pk=template_id)
        questions = list(template.questions.order_by("sort_order", "pk"))
        if questions[0].prompt != PACK_V2_FIRST_PROMPT:
            questions[0].prompt = PACK_V2_FIRST_PROMPT
            questions[0].save(update_fields=["prompt"])
            kind, competency, prompt, notes = PACK_V2_NEW_QUESTION
            TemplateQuestion.objects.create(
                template=template,
                sort_order=len(questions),
                kind=kind,
                competency=competency,
                prompt=prompt,
                ideal_answer_notes=notes,
            )
    return template_id


def _exam(schema: str, title: str, questions, **settings) -> int:
    """A published exam of ``schema`` with ``questions`` in one section (found by title)."""
    from assessments import services as bank
    from assessments.exams import services as exams
    from assessments.exams.models import Exam

    with schema_context(schema):
        existing = Exam.objects.filter(title=title, versions__isnull=False).first()
        if existing is not None:
            return existing.pk
        author = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        category = bank.create_category(name=f"{title} (marketplace)")
        exam = exams.create_exam(by=author, title=title, **settings)
        section = exams.add_section(exam=exam, title="Questions")
        for kind, name, stem, data in questions:
            question = bank.create_question(
                author=author,
                type=kind,
                title=name,
                stem=stem,
                data=data,
                category=category,
                tags=["marketplace"],
                status="active",
            )
            exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=author)
        return exam.pk


def _grant_selling(press: Tenant) -> bool:
    """Selling needs the Enterprise plan: put ``press`` on it through billing's own checkout
    (offline, with the local Stripe double) as billing's demo does for other portals."""
    if services.may_sell(press):
        return True
    from billing import gateway
    from billing import services as billing
    from billing.models import Plan
    from billing.stripe_double import store

    if not gateway.uses_local_double():
        return False
    change = billing.choose_plan(
        tenant=press,
        plan=Plan.objects.get(code="enterprise"),
        seats=5,
        email="admin@press.test",
        success_url="http://localhost:8000/",
        cancel_url="http://localhost:8000/",
    )
    session = store.complete_checkout_session(change.checkout_url.rstrip("/").rsplit("/")[-1])
    store.set_subscription_status(session["subscription"], "active")
    billing.sync_subscription(stripe_subscription_id=session["subscription"])
    return services.may_sell(press)


def seed_marketplace() -> list[str]:
    """The demo listings and uni's installation of the free one; returns what it did."""
    press = Tenant.objects.filter(slug="press").first()
    uni = Tenant.objects.filter(slug="uni").first()
    if press is None or uni is None:
        return []
    done: list[str] = []
    with transaction.atomic():
        mock = Listing.objects.filter(slug=MOCK).first()
        if mock is None:
            exam_id = _exam(
                press.schema_name,
                "Intro Statistics Mock Exam",
                MOCK_QUESTIONS,
                time_limit_minutes=30,
            )
            mock = services.create_listing(
                publisher=press,
                title="Intro Statistics Mock Exam",
                kind="exam",
                subject="Statistics",
                tags=["statistics", "mock exam", "descriptive"],
                level="introductory",
                language="en",
                description="A 30-minute mock exam on descriptive statistics: centre, spread "
                "and types of data.",
                licence_terms="Free to use and adapt within your institution.",
            )
            services.publish_version(
                publisher=press, listing=mock, exam_id=exam_id, release_notes="First edition."
            )
            done.append("press: published the free Intro Statistics Mock Exam")
        if not Listing.objects.filter(slug=PACK).exists():
            if _grant_selling(press):
                template_id = _interview_template(press.schema_name)
                pack = services.create_listing(
                    publisher=press,
                    title="Data Science Interview Pack",
                    kind="interview",
                    subject="Data science",
                    tags=["interview", "data science", "statistics"],
                    level="professional",
                    language="en",
                    price_model="one_off",
                    price_amount=4900,
                    currency="usd",
                    description="An interview template for data scientists: behavioural, "
                    "technical and situational questions with notes on strong answers.",
                    licence_terms="One portal, unlimited candidates.",
                )
                services.publish_version(
                    publisher=press,
                    listing=pack,
                    template_id=template_id,
                    release_notes="First edition.",
                )
                done.append("press: published the paid Data Science Interview Pack")
            else:
                logger.warning("press may not sell (no marketplace_selling): pack skipped")
        if services.install_listing(buyer=uni, listing=mock).created:
            done.append("uni: installed the Intro Statistics Mock Exam")
    return done


def play_marketplace_story() -> list[str]:
    """The rest of the issue's story, offline: uni buys and installs the pack (an interview
    template in its schema), press publishes version 2 of the mock exam and of the pack, uni
    updates both (a new exam version; the template in place). Idempotent."""
    from assessments import services as bank
    from assessments.exams import services as exams
    from assessments.exams.models import Exam

    press = Tenant.objects.get(slug="press")
    uni = Tenant.objects.get(slug="uni")
    done: list[str] = []
    pack = Listing.objects.filter(slug=PACK).first()
    if pack is not None and not pack.licences.filter(buyer=uni).exists():
        started = payments.start_purchase(
            buyer=uni,
            listing=pack,
            success_url="http://uni.localhost:8000/cms/marketplace/",
            cancel_url="http://uni.localhost:8000/cms/marketplace/",
        )
        # "Pay" on the local Stripe double's Checkout page, then what the success page does
        # (the webhook, sent after commit, converges on the same paid purchase).
        from billing.stripe_double import store

        store.complete_checkout_session(started.purchase.checkout_session_id)
        payments.complete_purchase(session_id=started.purchase.checkout_session_id)
        services.install_listing(buyer=uni, listing=pack)
        done.append("uni: bought and installed the Data Science Interview Pack")
    mock = Listing.objects.get(slug=MOCK)
    if mock.versions.count() == 1:
        with schema_context(press.schema_name):
            exam = Exam.objects.get(title="Intro Statistics Mock Exam")
            author = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
            question = bank.create_question(
                author=author,
                type="true_false",
                title="Correlation and causation",
                stem="<p>A strong correlation proves causation.</p>",
                data={"answer": False},
                status="active",
            )
            exams.add_fixed_item(section=exam.sections.first(), question=question)
            exams.update_exam(exam=exam, by=author, time_limit_minutes=35)
            exams.publish_exam(exam=exam, by=author)
            exam_id = exam.pk
        services.publish_version(
            publisher=press,
            listing=mock,
            exam_id=exam_id,
            release_notes="Adds a question on correlation; 35 minutes.",
        )
        done.append("press: published version 2 of the mock exam")
    try:
        if services.update_installation(buyer=uni, listing=mock).changed:
            done.append("uni: updated the mock exam to version 2 (a new exam version)")
    except MarketplaceError as error:
        logger.warning("update skipped: %s", error)
    if pack is not None and pack.versions.count() == 1:
        services.publish_version(
            publisher=press,
            listing=pack,
            template_id=_pack_version_two(press.schema_name),
            release_notes="A sharper question on overfitting; a new one on data quality.",
        )
        done.append("press: published version 2 of the Data Science Interview Pack")
    try:
        if pack is not None and services.update_installation(buyer=uni, listing=pack).changed:
            done.append("uni: updated the Data Science Interview Pack to version 2")
    except MarketplaceError as error:
        logger.warning("update skipped: %s", error)
    return done
