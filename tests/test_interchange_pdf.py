"""PDF exam papers: numbered questions extracted as drafts, unreadable files refused whole."""

from __future__ import annotations

import pytest
import weasyprint
from django.contrib.auth import get_user_model

from assessments.interchange.base import InterchangeError
from assessments.interchange.pdf import AS_ESSAY, NO_ANSWER, REVIEW
from assessments.interchange.services import commit_import, preview_import
from assessments.models import Question

pytestmark = pytest.mark.django_db

PAPER = """<html><body>
<h1>Physics and Chemistry: end-of-term exam</h1>
<p>Answer every question. Time allowed: 40 minutes.</p>
<p>1. What is the SI unit of force?</p>
<p>a) Joule</p><p>b) Newton</p><p>c) Watt</p>
<p>2) Which planet is the largest in the Solar System?</p>
<p>(a) Mars</p><p>(b) Venus</p><p>(c) Jupiter</p><p>(d) Earth</p>
<p>Answer: c</p>
<p>Question 3 Explain Newton's first law &amp; give one everyday example.</p>
<div style="page-break-after: always"></div>
<p>4. Which of these is a noble gas?</p>
<p>A. Oxygen</p><p>B. Neon</p>
<p>5. Describe how a lever can multiply force. Use a diagram if it helps, and explain
the role of the fulcrum in detail, including where it should be placed.</p>
</body></html>"""


def pdf(html: str) -> bytes:
    return weasyprint.HTML(string=html).write_pdf()


def admin_of(portal):
    return get_user_model().objects.get(email=portal.admin_email)


def options(item):
    return [(o["id"], o["text"], o["correct"]) for o in item.data["options"]]


def test_exam_paper_becomes_draft_questions(make_portal):
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        preview = preview_import(format="pdf", data=pdf(PAPER), filename="exam.pdf")
        assert preview.ok, preview.errors
        assert preview.warnings == []
        items = preview.items
        assert [i.ref for i in items] == [
            "question 1 (page 1)",
            "question 2 (page 1)",
            "question 3 (page 1)",
            "question 4 (page 2)",
            "question 5 (page 2)",
        ]
        assert [i.type for i in items] == [
            "single_choice",
            "single_choice",
            "essay",
            "single_choice",
            "essay",
        ]
        one, two, three, four, five = items

        assert one.stem == "<p>What is the SI unit of force?</p>"
        assert one.title == "What is the SI unit of force?"
        assert options(one) == [("a", "Joule", True), ("b", "Newton", False), ("c", "Watt", False)]
        assert one.warnings == [REVIEW, NO_ANSWER]

        assert two.stem == "<p>Which planet is the largest in the Solar System?</p>"
        assert options(two) == [
            ("a", "Mars", False),
            ("b", "Venus", False),
            ("c", "Jupiter", True),
            ("d", "Earth", False),
        ]
        assert two.warnings == [REVIEW]
        assert two.data["points"] == "1.00"

        assert three.stem == ("<p>Explain Newton's first law &amp; give one everyday example.</p>")
        assert three.title == "Explain Newton's first law & give one everyday example."
        assert [(c["criterion"], c["max_points"]) for c in three.data["rubric"]] == [
            ("Overall", "1.00")
        ]
        assert three.warnings == [REVIEW, AS_ESSAY]

        assert four.stem == "<p>Which of these is a noble gas?</p>"
        assert options(four) == [("a", "Oxygen", True), ("b", "Neon", False)]
        assert four.warnings == [REVIEW, NO_ANSWER]

        assert five.stem.startswith("<p>Describe how a lever can multiply force.")
        assert "where it should be placed.</p>" in five.stem
        # the first 80 characters of the stem, trailing space dropped
        assert (
            five.title
            == "Describe how a lever can multiply force. Use a diagram if it helps, and explain"
        )
        assert five.type == "essay"

        assert preview.as_dict()["by_type"] == {"essay": 2, "single_choice": 3}

        created = commit_import(preview=preview, author=admin_of(portal))
        assert len(created) == 5
        stored = Question.objects.order_by("id")
        assert {q.status for q in stored} == {Question.Status.DRAFT}
        assert [q.type for q in stored] == [i.type for i in items]
        assert [o["correct"] for o in stored[1].data["options"]] == [False, False, True, False]


def test_answer_key_section_sets_the_correct_options(make_portal):
    html = """<p>1. Two plus two?</p><p>a) 3</p><p>b) 4</p>
    <p>2. Capital of Italy?</p><p>a) Rome</p><p>b) Milan</p><p>Answer: a</p>
    <p>Answer key</p><p>1. b</p><p>2. b</p>"""
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        preview = preview_import(format="pdf", data=pdf(html))
    assert preview.ok
    first, second = preview.items
    assert options(first) == [("a", "3", False), ("b", "4", True)]
    assert first.warnings == [REVIEW]
    # the answer line in the question wins over the key
    assert options(second) == [("a", "Rome", True), ("b", "Milan", False)]
    assert len(preview.items) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1. What is 2 + 2?\na) 3\nb) 4\n", "not a PDF"),
        (b"", "not a PDF"),
    ],
)
def test_not_a_pdf_is_refused(make_portal, data, message):
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        with pytest.raises(InterchangeError, match=message):
            preview_import(format="pdf", data=data)
        assert Question.objects.count() == 0


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_pdf_is_refused(make_portal, keep):
    data = pdf(PAPER)
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        with pytest.raises(InterchangeError, match="could not read the PDF"):
            preview_import(format="pdf", data=data[: int(len(data) * keep)])
        assert Question.objects.count() == 0


def test_damaged_pdf_body_is_refused(make_portal):
    data = pdf(PAPER)
    damaged = data[:9] + b"\x00" * (len(data) - 1024 - 9) + data[-1024:]
    portal = make_portal("alpha", "Alpha University")
    with portal.activate(), pytest.raises(InterchangeError, match="could not read the PDF"):
        preview_import(format="pdf", data=damaged)


def test_encrypted_pdf_is_refused(make_portal):
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf(PAPER))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    portal = make_portal("alpha", "Alpha University")
    with portal.activate(), pytest.raises(InterchangeError, match="encrypted"):
        preview_import(format="pdf", data=out.getvalue())


def test_too_many_pages_is_refused(make_portal, monkeypatch):
    from assessments.interchange import pdf as pdf_format

    monkeypatch.setattr(pdf_format, "MAX_PAGES", 1)
    portal = make_portal("alpha", "Alpha University")
    with portal.activate(), pytest.raises(InterchangeError, match="2 pages; the limit is 1"):
        preview_import(format="pdf", data=pdf(PAPER))


def test_pdf_without_numbered_questions_stores_nothing(make_portal):
    html = "<h1>Reading list</h1><p>Chapter one of the textbook.</p><p>Notes on levers.</p>"
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        preview = preview_import(format="pdf", data=pdf(html))
        assert preview.items == []
        assert not preview.ok
        assert [(e.ref, e.message) for e in preview.errors] == [
            (
                "file",
                "no numbered questions found: expected lines starting '1.', '1)' or 'Question 1'",
            )
        ]
        with pytest.raises(InterchangeError, match="1 error"):
            commit_import(preview=preview, author=admin_of(portal))
        assert Question.objects.count() == 0


def test_decreasing_numbers_and_page_numbers_stay_in_the_question(make_portal):
    html = """<p>1. List the steps:</p><p>1. heat the water</p><p>2) Name a metal.</p>
    <p>Page 1 of 1</p>"""
    portal = make_portal("alpha", "Alpha University")
    with portal.activate():
        preview = preview_import(format="pdf", data=pdf(html))
    assert [i.stem for i in preview.items] == [
        "<p>List the steps: 1. heat the water</p>",
        "<p>Name a metal.</p>",
    ]


def test_pdf_cannot_be_exported():
    from assessments.interchange.formats import get_format

    assert get_format("pdf").can_export is False
