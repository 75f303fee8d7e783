"""The demo question bank of the `uni` portal: real, valid, gradable and idempotent."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from assessments.demo_bank import EXAM_TITLE, seed_question_bank
from assessments.exams.models import Exam
from assessments.exams.selectors import latest_version
from assessments.exams.services import draw_questions
from assessments.models import Question
from assessments.questions import get_type
from assessments.questions.base import item_key

pytestmark = pytest.mark.django_db

ALL_TYPES = {
    "single_choice",
    "multiple_response",
    "true_false",
    "short_answer",
    "numeric",
    "essay",
    "matching",
    "ordering",
    "cloze",
}


def right_response(type_key: str, data: dict):
    match type_key:
        case "single_choice":
            return next(o["id"] for o in data["options"] if o["correct"])
        case "multiple_response":
            return [o["id"] for o in data["options"] if Decimal(o["weight"]) > 0]
        case "true_false":
            return data["answer"]
        case "short_answer":
            return data["accepted"][0]
        case "numeric":
            return data["answer"]
        case "matching":
            return {item_key(p["prompt"]): item_key(p["match"]) for p in data["pairs"]}
        case "ordering":
            return [item_key(text) for text in data["items"]]
        case "cloze":
            return {gap["id"]: gap["accepted"][0] for gap in data["gaps"]}
    raise AssertionError(type_key)


def test_demo_bank_seeds_questions_and_exam(make_portal):
    portal = make_portal("demobank", "Northfield University")
    with portal.activate():
        author = get_user_model().objects.get(email=portal.admin_email)
        created = seed_question_bank(author=author)
        assert created

        questions = list(Question.objects.select_related("category"))
        assert len(questions) >= 200
        types = Counter(q.type for q in questions)
        assert set(types) == ALL_TYPES
        statuses = Counter(q.status for q in questions)
        assert statuses[Question.Status.ACTIVE] > 0.9 * len(questions)
        tops = set()
        for question in questions:
            category = question.category
            assert category is not None
            while category.parent_id is not None:
                category = category.parent
            tops.add(category.name)
        assert len(tops) >= 5
        assert all(q.tags.exists() for q in questions[:20])

        for question in questions:
            kind = get_type(question.type)
            if question.type == "essay":
                scores = {c["id"]: c["max_points"] for c in question.data["rubric"]}
                grade = kind.grade_with_rubric(question.data, scores)
            else:
                grade = kind.grade(question.data, right_response(question.type, question.data))
                assert grade.correct is True, question.title
            assert grade.score == grade.max_score > 0, question.title

        exam = Exam.objects.get(title=EXAM_TITLE)
        assert exam.status == Exam.Status.PUBLISHED
        assert exam.time_limit_minutes == 60
        assert exam.navigation == Exam.Navigation.FREE
        assert exam.shuffle_questions and exam.shuffle_options
        assert exam.pass_mark_percent == 50
        version = latest_version(exam=exam)
        kinds = {
            item["kind"] for section in version.snapshot["sections"] for item in section["items"]
        }
        assert kinds == {"fixed", "pool"}
        for seed in (1, 2, "abc"):
            drawn = draw_questions(version=version, seed=seed)
            assert len(drawn) == 40
            assert len({q["question_id"] for q in drawn}) == 40

        assert seed_question_bank(author=author) == []
        assert Question.objects.count() == len(questions)
        assert Exam.objects.filter(title=EXAM_TITLE).count() == 1
