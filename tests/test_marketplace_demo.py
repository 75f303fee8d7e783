"""The demo story of issue 8, offline: press publishes the paid pack and the free mock exam,
uni installs the free one; then buys the pack, press publishes version 2, uni updates."""

from __future__ import annotations

import pytest
from django.db import connection

from assessments.exams.models import Exam
from assessments.interviews.models import InterviewTemplate
from assessments.interviews.selectors import practice_templates
from marketplace.demo import play_marketplace_story, seed_marketplace
from marketplace.models import Installation, Licence, Listing, Purchase

pytestmark = pytest.mark.django_db


def test_demo_seed_and_story_are_idempotent(make_portal):
    make_portal("press", "Quill Press", "publisher")
    uni = make_portal("uni", "Northfield University")
    done = seed_marketplace()
    assert done == [
        "press: published the free Intro Statistics Mock Exam",
        "press: published the paid Data Science Interview Pack",
        "uni: installed the Intro Statistics Mock Exam",
    ]
    pack = Listing.objects.get(slug="data-science-interview-pack")
    assert (pack.status, pack.price_model, pack.price_amount, pack.kind) == (
        "published",
        "one_off",
        4900,
        "interview",
    )
    assert seed_marketplace() == []
    story = play_marketplace_story()
    assert story == [
        "uni: bought and installed the Data Science Interview Pack",
        "press: published version 2 of the mock exam",
        "uni: updated the mock exam to version 2 (a new exam version)",
        "press: published version 2 of the Data Science Interview Pack",
        "uni: updated the Data Science Interview Pack to version 2",
    ]
    assert play_marketplace_story() == []
    assert Purchase.objects.get().status == "paid"
    assert Licence.objects.filter(buyer=uni.tenant).count() == 2
    mock = Installation.objects.get(listing__slug="intro-statistics-mock-exam")
    assert (mock.version.number, mock.exam_version_number) == (2, 2)
    with uni.activate():
        exam = Exam.objects.get(pk=mock.exam_id)
        assert exam.time_limit_minutes == 35 and exam.versions.count() == 2
    connection.set_schema_to_public()
    # The pack is an interview template in uni's schema, at version 2, open for practice.
    installed = Installation.objects.get(listing=pack)
    assert (installed.version.number, installed.exam_id) == (2, None)
    with uni.activate():
        template = InterviewTemplate.objects.get(source_listing_id=pack.pk)
        assert (template.title, template.role, template.source_version) == (
            "Data Science Interview Pack",
            "Data scientist",
            2,
        )
        prompts = list(template.questions.values_list("prompt", flat=True))
        assert len(prompts) == 5 and prompts[0].endswith("what you would do about it.")
        assert template in practice_templates()
    connection.set_schema_to_public()
