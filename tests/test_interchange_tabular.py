"""Question import/export in the bank's own JSON, CSV and XLSX: real files of every type,
malformed files (a clear error naming the place, nothing stored), round trips, the commands
and two-tenant isolation."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from assessments import services
from assessments.interchange.base import ImportProblem, InterchangeError
from assessments.interchange.csv_format import template_csv
from assessments.interchange.services import commit_import, export_questions, preview_import
from assessments.interchange.xlsx_format import template_xlsx
from assessments.models import Category, Question, QuestionVersion

pytestmark = pytest.mark.django_db


def admin_of(portal):
    return get_user_model().objects.get(email=portal.admin_email)


def counts():
    return (Question.objects.count(), QuestionVersion.objects.count(), Category.objects.count())


def category_path(question):
    names, category = [], question.category
    while category is not None:
        names.insert(0, category.name)
        category = category.parent
    return "/".join(names)


# A CSV as a spreadsheet saves it: BOM, CRLF, quoted cells with commas and line breaks, and a
# formula-looking answer protected by a leading apostrophe.
REALISTIC_CSV = (
    "\ufefftype,title,stem,explanation,category,tags,difficulty,points,shuffle,"
    "option_1,option_2,option_3,option_4,feedback_1,feedback_2,correct,weights,"
    "negative_marking,answer,feedback_true,feedback_false,answers,case_sensitive,tolerance,"
    "tolerance_mode,units,unit_required,pairs,distractors,order,cloze_text,gaps,gap_options,"
    "rubric,min_words,max_words\r\n"
    'single_choice,Capital of France,"<p>Which city is the capital of France?</p>",'
    '<p>Since 987.</p>,Geography/Europe,"capitals, europe",1,1,true,Paris,Lyon,Marseille,'
    "Nice,Right!,,1,,,,,,,,,,,,,,,,,,,,\r\n"
    'multiple_response,Prime numbers,"<p>Which are prime?\r\nTick all.</p>",,'
    'Mathematics/Number theory,primes,3,2,false,2,9,13,21,,9 = 3 × 3,"2,3",'
    "'-0.5|0.5|0.5|-0.5,yes,,,,,,,,,,,,,,,,,\r\n"
    "true_false,Boiling point,<p>Water boils at 100 °C at sea level.</p>,,Science/Physics,,1,"
    ",,,,,,,,,,,TRUE,Yes at 1 atm.,No.,,,,,,,,,,,,,,,\r\n"
    "short_answer,Author of Hamlet,<p>Who wrote <em>Hamlet</em>?</p>,,Literature,drama,2,,,"
    ",,,,,,,,,,,,Shakespeare|William Shakespeare|W* Shakespeare,no,,,,,,,,,,,,,\r\n"
    "numeric,Gravity,<p>g in m/s²?</p>,,Science/Physics,mechanics,2,1.5,,,,,,,,,,,9.81,,,,,"
    "0.05,absolute,m/s2|m/s^2,false,,,,,,,,,\r\n"
    "essay,Causes of WWI,<p>Discuss.</p>,,History,essay,4,,,,,,,,,,,,,,,,,,,,,,,,,,,"
    '"Argument:4|Evidence:4:Sources cited|Style:2",150,600\r\n'
    "matching,Countries and capitals,<p>Match.</p>,,Geography/Europe,capitals,2,3,true,,,,,,,"
    ",,,,,,,,,,,,France=Paris|Italy=Rome|Spain=Madrid,Lisbon,,,,,,,\r\n"
    "ordering,Planets,<p>Order from the Sun.</p>,,Science/Astronomy,,2,4,,,,,,,,,,,,,,,,,,,,"
    ",,Mercury|Venus|Earth|Mars,,,,,,\r\n"
    "cloze,Capitals in a sentence,<p>Fill in.</p>,,Geography/Europe,capitals,2,2,,,,,,,,,,,,"
    ",,,,,,,,,,,The capital of France is {{1}} and of Italy {{2}}.,1=Paris|2=Rome,"
    '"2=Rome,Milan,Turin",,,\r\n'
)

EXPECTED = {
    "Capital of France": {
        "type": "single_choice",
        "stem": "<p>Which city is the capital of France?</p>",
        "explanation": "<p>Since 987.</p>",
        "category": "Geography/Europe",
        "tags": ["capitals", "europe"],
        "difficulty": 1,
        "data": {
            "points": "1.00",
            "shuffle": True,
            "options": [
                {"id": "1", "text": "Paris", "feedback": "Right!", "correct": True},
                {"id": "2", "text": "Lyon", "feedback": "", "correct": False},
                {"id": "3", "text": "Marseille", "feedback": "", "correct": False},
                {"id": "4", "text": "Nice", "feedback": "", "correct": False},
            ],
        },
    },
    "Prime numbers": {
        "type": "multiple_response",
        "stem": "<p>Which are prime?\nTick all.</p>",
        "explanation": "",
        "category": "Mathematics/Number theory",
        "tags": ["primes"],
        "difficulty": 3,
        "data": {
            "points": "2.00",
            "shuffle": False,
            "negative_marking": True,
            "options": [
                {"id": "1", "text": "2", "feedback": "", "weight": "-0.50"},
                {"id": "2", "text": "9", "feedback": "9 = 3 × 3", "weight": "0.50"},
                {"id": "3", "text": "13", "feedback": "", "weight": "0.50"},
                {"id": "4", "text": "21", "feedback": "", "weight": "-0.50"},
            ],
        },
    },
    "Boiling point": {
        "type": "true_false",
        "stem": "<p>Water boils at 100 °C at sea level.</p>",
        "explanation": "",
        "category": "Science/Physics",
        "tags": [],
        "difficulty": 1,
        "data": {
            "points": "1.00",
            "answer": True,
            "feedback_true": "Yes at 1 atm.",
            "feedback_false": "No.",
        },
    },
    "Author of Hamlet": {
        "type": "short_answer",
        "stem": "<p>Who wrote <em>Hamlet</em>?</p>",
        "explanation": "",
        "category": "Literature",
        "tags": ["drama"],
        "difficulty": 2,
        "data": {
            "points": "1.00",
            "accepted": ["Shakespeare", "William Shakespeare", "W* Shakespeare"],
            "case_sensitive": False,
        },
    },
    "Gravity": {
        "type": "numeric",
        "stem": "<p>g in m/s²?</p>",
        "explanation": "",
        "category": "Science/Physics",
        "tags": ["mechanics"],
        "difficulty": 2,
        "data": {
            "points": "1.50",
            "answer": "9.81",
            "tolerance": "0.05",
            "tolerance_mode": "absolute",
            "units": ["m/s2", "m/s^2"],
            "unit_required": False,
        },
    },
    "Causes of WWI": {
        "type": "essay",
        "stem": "<p>Discuss.</p>",
        "explanation": "",
        "category": "History",
        "tags": ["essay"],
        "difficulty": 4,
        "data": {
            "rubric": [
                {"id": "1", "criterion": "Argument", "max_points": "4.00", "description": ""},
                {
                    "id": "2",
                    "criterion": "Evidence",
                    "max_points": "4.00",
                    "description": "Sources cited",
                },
                {"id": "3", "criterion": "Style", "max_points": "2.00", "description": ""},
            ],
            "min_words": 150,
            "max_words": 600,
        },
    },
    "Countries and capitals": {
        "type": "matching",
        "stem": "<p>Match.</p>",
        "explanation": "",
        "category": "Geography/Europe",
        "tags": ["capitals"],
        "difficulty": 2,
        "data": {
            "points": "3.00",
            "shuffle": True,
            "pairs": [
                {"prompt": "France", "match": "Paris"},
                {"prompt": "Italy", "match": "Rome"},
                {"prompt": "Spain", "match": "Madrid"},
            ],
            "distractors": ["Lisbon"],
        },
    },
    "Planets": {
        "type": "ordering",
        "stem": "<p>Order from the Sun.</p>",
        "explanation": "",
        "category": "Science/Astronomy",
        "tags": [],
        "difficulty": 2,
        "data": {"points": "4.00", "items": ["Mercury", "Venus", "Earth", "Mars"]},
    },
    "Capitals in a sentence": {
        "type": "cloze",
        "stem": "<p>Fill in.</p>",
        "explanation": "",
        "category": "Geography/Europe",
        "tags": ["capitals"],
        "difficulty": 2,
        "data": {
            "points": "2.00",
            "text": "The capital of France is {{1}} and of Italy {{2}}.",
            "gaps": [
                {"id": "1", "accepted": ["Paris"], "case_sensitive": False, "options": []},
                {
                    "id": "2",
                    "accepted": ["Rome"],
                    "case_sensitive": False,
                    "options": ["Rome", "Milan", "Turin"],
                },
            ],
        },
    },
}


def stored_as_dicts():
    return {
        q.title: {
            "type": q.type,
            "stem": q.stem,
            "explanation": q.explanation,
            "category": category_path(q),
            "tags": sorted(q.tags.names()),
            "difficulty": q.difficulty,
            "data": q.data,
        }
        for q in Question.objects.all()
    }


def test_realistic_csv_of_every_type_imports_field_by_field(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="csv", data=REALISTIC_CSV.encode())
        assert preview.errors == []
        assert [(i.ref, i.type) for i in preview.items] == [
            ("line 2", "single_choice"),
            ("line 3", "multiple_response"),
            ("line 5", "true_false"),  # the stem above spans two lines
            ("line 6", "short_answer"),
            ("line 7", "numeric"),
            ("line 8", "essay"),
            ("line 9", "matching"),
            ("line 10", "ordering"),
            ("line 11", "cloze"),
        ]
        assert preview.as_dict()["by_type"] == {key: 1 for key in sorted(EXPECTED_TYPES)}
        created = commit_import(preview=preview, author=admin_of(portal))
        assert len(created) == 9
        assert stored_as_dicts() == EXPECTED
        question = Question.objects.get(title="Gravity")
        assert (question.version, question.status, question.created_by) == (
            1,
            "draft",
            admin_of(portal),
        )
        assert question.versions.get().snapshot["tags"] == ["mechanics"]
        assert Category.objects.filter(name="Europe", parent__name="Geography").count() == 1


EXPECTED_TYPES = {value["type"] for value in EXPECTED.values()}


def test_realistic_xlsx_with_native_cells_imports_field_by_field(make_portal):
    """A workbook typed by hand: capitalised headers, numbers and booleans as real cells."""
    rows = list(__import__("csv").reader(io.StringIO(REALISTIC_CSV.lstrip("\ufeff"), newline="")))
    header = [name.replace("_", " ").title() for name in rows[0]]  # "Option 1", "Type"
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows[1:]:
        cells = []
        row = row + [""] * (len(rows[0]) - len(row))
        for column, value in zip(rows[0], row, strict=True):
            if column in ("difficulty", "min_words", "max_words") and value:
                cells.append(int(value))
            elif column in ("answer", "tolerance", "points") and value[:1].isdigit():
                cells.append(float(value))
            elif value in ("TRUE", "true"):
                cells.append(True)
            else:
                cells.append(value or None)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="xlsx", data=out.getvalue())
        assert preview.errors == []
        assert [i.ref for i in preview.items][:3] == ["row 2", "row 3", "row 4"]
        commit_import(preview=preview, author=None)
        assert stored_as_dicts() == EXPECTED


def test_templates_hold_one_valid_example_per_type(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        for fmt, data in (("csv", template_csv()), ("xlsx", template_xlsx())):
            preview = preview_import(format=fmt, data=data)
            assert preview.errors == []
            assert sorted(i.type for i in preview.items) == sorted(EXPECTED_TYPES | {"true_false"})
        assert template_csv().startswith(b"\xef\xbb\xbftype,title,stem,")


# -- malformed files ------------------------------------------------------------------------

HEADER = "type,title,stem,category,option_1,option_2,option_3,option_4,correct,answer,tolerance"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _zeros_zip(megabytes: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(megabytes):
                entry.write(chunk)
    return out.getvalue()


FILE_ERRORS = [
    pytest.param(
        "csv",
        (HEADER + "\nsingle_choice,Caf\xe9,x").encode("latin-1"),
        r"not UTF-8: byte 103 \(line 2\) is 0xe9",
        id="csv-bad-utf8",
    ),
    pytest.param(
        "csv",
        b"single_choice,Capital,<p>?</p>,,Paris,Lyon,,,1,,\n",
        r"line 1: the header row is missing or has no column 'type'",
        id="csv-missing-header",
    ),
    pytest.param("csv", b"", r"The file is empty", id="csv-empty"),
    pytest.param(
        "xlsx",
        template_xlsx()[:1500],
        r"damaged or truncated",
        id="xlsx-truncated",
    ),
    pytest.param(
        "xlsx",
        REALISTIC_CSV.encode(),
        r"not an XLSX workbook \(an XLSX file is a zip archive",
        id="xlsx-not-xlsx",
    ),
    pytest.param(
        "xlsx",
        _zip({"hello.txt": b"hi"}),
        r"a zip archive but not an XLSX workbook",
        id="xlsx-plain-zip",
    ),
    pytest.param(
        "xlsx", _zeros_zip(20), r"compressed \d+ times \(limit 100\).*zip bomb", id="xlsx-zip-bomb"
    ),
    pytest.param(
        "xlsx", _zeros_zip(210), r"would unpack to 210 MB; the limit is 200 MB", id="xlsx-huge"
    ),
    pytest.param("json", b'{"format": "viva-questions",\n "version": 1,', r"line 2", id="json-bad"),
    pytest.param(
        "json", b'{"questions": []}', r'needs "format": "viva-questions"', id="json-no-marker"
    ),
]


@pytest.mark.parametrize(("fmt", "data", "message"), FILE_ERRORS)
def test_unreadable_file_is_refused_whole_and_stores_nothing(make_portal, fmt, data, message):
    portal = make_portal("alpha")
    with portal.activate():
        with pytest.raises(InterchangeError, match=message):
            preview_import(format=fmt, data=data)
        assert counts() == (0, 0, 0)


ITEM_ERRORS = [
    pytest.param(
        "csv",
        HEADER
        + "\nsingle_choice,Ok,<p>?</p>,Geo,Paris,Lyon,,,1,,\nmultiple_choice,Bad,x,,,,,,,,\n",
        "line 3",
        "column 'type': 'multiple_choice' is not a question type",
        id="csv-unknown-type",
    ),
    pytest.param(
        "csv",
        HEADER + '\nsingle_choice,Ok,"<p>two\nlines</p>",,a,b,,,1,,\n'
        "single_choice,Bad,x,,a,b,c,d,5,,\n",
        "line 4",
        "column 'correct' refers to option 5, but there are 4 options",
        id="csv-bad-option-reference",
    ),
    pytest.param(
        "csv",
        HEADER + "\nnumeric,Gravity,x,,,,,,,9.81,about 0.1\n",
        "line 2",
        "column 'tolerance' must be a number, not 'about 0.1'",
        id="csv-non-numeric-tolerance",
    ),
    pytest.param(
        "csv",
        HEADER + '\nsingle_choice,Two right,x,,a,b,,,"1,2",,\n',
        "line 2",
        "column 'correct' must name exactly one option, not 2",
        id="csv-two-correct",
    ),
    pytest.param(
        "csv",
        "type,title,pairs\nmatching,Pairs,France=Paris|Italy\n",
        "line 2",
        "column 'pairs' entry 2 ('Italy') must be 'prompt=match'",
        id="csv-bad-pair",
    ),
    pytest.param(
        "csv",
        "type,title,order\nordering,Order,A|B|A\n",
        "line 2",
        "column 'order': items[2] repeats 'A'",
        id="csv-validation-mapped-to-column",
    ),
    pytest.param(
        "json",
        json.dumps(
            {
                "format": "viva-questions",
                "version": 1,
                "questions": [
                    {"type": "true_false", "title": "Ok", "data": {"answer": True}},
                    {"type": "single_choice", "title": "Bad", "data": {"options": ["a", "b"]}},
                ],
            }
        ),
        "question 2",
        "data.options[0] must be an object",
        id="json-bad-data",
    ),
]


@pytest.mark.parametrize(("fmt", "text", "ref", "message"), ITEM_ERRORS)
def test_bad_item_is_named_and_nothing_is_stored(make_portal, fmt, text, ref, message):
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format=fmt, data=text.encode())
        assert {e.ref for e in preview.errors} == {ref}
        assert preview.errors[0].message.startswith(message), preview.errors[0].message
        with pytest.raises(InterchangeError, match=r"error\(s\); fix them"):
            commit_import(preview=preview, author=None)
        assert counts() == (0, 0, 0)


def test_xlsx_bad_row_names_the_row_and_column(make_portal):
    book = Workbook()
    book.active.append(["type", "title", "option_1", "option_2", "correct"])
    book.active.append(["single_choice", "Fine", "a", "b", 1])
    book.active.append(["single_choice", "Bad", "a", "b", 3])
    out = io.BytesIO()
    book.save(out)
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="xlsx", data=out.getvalue())
        assert preview.errors == [
            ImportProblem("row 3", "column 'correct' refers to option 3, but there are 2 options")
        ]
        assert [i.ref for i in preview.items] == ["row 2"]


def test_one_bad_row_among_good_ones_stores_nothing(make_portal):
    lines = REALISTIC_CSV.rstrip("\r\n").split("\r\n")
    bad = "numeric,Broken,x,,,,,,,,,,,,,,,,,,,,,,abc,,,,,,,,,,,"
    text = "\r\n".join([*lines[:4], bad, *lines[4:]]) + "\r\n"
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="csv", data=text.encode())
        assert len(preview.items) == 9
        assert preview.errors == [
            ImportProblem("line 5", "column 'answer' is empty: give the right number"),
            ImportProblem(
                "line 5", "column 'tolerance_mode' must be 'absolute' or 'percent', not 'abc'"
            ),
        ]
        assert preview.as_dict()["errors"][0] == {
            "ref": "line 5",
            "message": "column 'answer' is empty: give the right number",
        }
        with pytest.raises(InterchangeError):
            commit_import(preview=preview, author=None)
        assert counts() == (0, 0, 0)


def test_export_is_formula_injection_safe_and_reads_back(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        services.create_question(
            author=None,
            type="short_answer",
            title='=HYPERLINK("http://evil")',
            stem="<p>x</p>",
            data={"accepted": ["@SUM(A1)", "+1", "'-2"]},
            tags=["-tag"],
        )
        csv_bytes = export_questions(format="csv", questions=list(Question.objects.all()))
        row = csv_bytes.decode("utf-8-sig").split("\r\n")[1]
        assert row.startswith('short_answer,"\'=HYPERLINK(""http://evil"")",<p>x</p>,,,\'-tag,')
        xlsx_bytes = export_questions(format="xlsx", questions=list(Question.objects.all()))
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(xlsx_bytes)).worksheets[0]
        assert sheet["B2"].value == '\'=HYPERLINK("http://evil")'
        assert sheet["B2"].data_type == "s"
        for fmt, data in (("csv", csv_bytes), ("xlsx", xlsx_bytes)):
            item = preview_import(format=fmt, data=data).items[0]
            assert item.title == '=HYPERLINK("http://evil")'
            assert item.data["accepted"] == ["@SUM(A1)", "+1", "'-2"]
            assert item.tags == ["-tag"]


# -- round trip (hypothesis) ----------------------------------------------------------------

ALPHABET = st.characters(
    codec="utf-8",
    categories=("L", "N", "Zs", "P", "S"),
    exclude_characters="*{}\x85\xa0\u2028\u2029",
    include_characters="|=,:/\\'@+-",
)


def _tidy(text: str) -> str:
    return " ".join(text.split())


text = st.text(ALPHABET, min_size=1, max_size=20).map(_tidy).filter(bool)
maybe_text = st.one_of(st.just(""), text)
points = st.sampled_from(["1.00", "2.50", "0.25", "10.00"])
ident = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


def unique_texts(min_size, max_size):
    return st.lists(text, min_size=min_size, max_size=max_size, unique=True)


@st.composite
def option_ids(draw, count):
    if draw(st.booleans()):
        return [str(n) for n in range(1, count + 1)]
    return draw(st.lists(ident, min_size=count, max_size=count, unique=True))


@st.composite
def single_choice(draw):
    texts = draw(st.lists(text, min_size=2, max_size=5))
    ids = draw(option_ids(len(texts)))
    right = draw(st.integers(0, len(texts) - 1))
    return {
        "points": draw(points),
        "shuffle": draw(st.booleans()),
        "options": [
            {"id": i, "text": t, "correct": n == right, "feedback": draw(maybe_text)}
            for n, (i, t) in enumerate(zip(ids, texts, strict=True))
        ],
    }


@st.composite
def multiple_response(draw):
    texts = draw(st.lists(text, min_size=2, max_size=5))
    ids = draw(option_ids(len(texts)))
    right = draw(st.sets(st.integers(0, len(texts) - 1), min_size=1))
    share = (Decimal(1) / len(right)).quantize(Decimal("0.01"))
    shares = [share] * len(right)
    shares[0] += Decimal(1) - sum(shares)
    positive = dict(zip(sorted(right), shares, strict=True))
    return {
        "points": draw(points),
        "shuffle": draw(st.booleans()),
        "negative_marking": draw(st.booleans()),
        "options": [
            {
                "id": i,
                "text": t,
                "weight": str(positive[n])
                if n in positive
                else draw(st.sampled_from(["0.00", "-0.50", "-1.00", "-0.25"])),
                "feedback": draw(maybe_text),
            }
            for n, (i, t) in enumerate(zip(ids, texts, strict=True))
        ],
    }


def decimals(minimum):
    return st.decimals(minimum, 10000, places=3, allow_nan=False, allow_infinity=False).map(str)


@st.composite
def numeric(draw):
    units = draw(st.lists(text, max_size=3))
    return {
        "points": draw(points),
        "answer": draw(decimals(-10000)),
        "tolerance": draw(decimals(0)),
        "tolerance_mode": draw(st.sampled_from(["absolute", "percent"])),
        "units": units,
        "unit_required": bool(units) and draw(st.booleans()),
    }


@st.composite
def essay(draw):
    count = draw(st.integers(1, 3))
    ids = draw(option_ids(count))
    low = draw(st.one_of(st.none(), st.integers(1, 100)))
    high = draw(st.one_of(st.none(), st.integers(low or 1, 1000)))
    return {
        "rubric": [
            {
                "id": i,
                "criterion": draw(text),
                "max_points": draw(points),
                "description": draw(maybe_text),
            }
            for i in ids
        ],
        "min_words": low,
        "max_words": high,
    }


@st.composite
def matching(draw):
    prompts = draw(unique_texts(2, 4))
    matches = [draw(text) for _ in prompts]
    distractors = [d for d in draw(st.lists(text, max_size=2)) if d not in matches]
    return {
        "points": draw(points),
        "shuffle": draw(st.booleans()),
        "pairs": [{"prompt": p, "match": m} for p, m in zip(prompts, matches, strict=True)],
        "distractors": distractors,
    }


@st.composite
def cloze(draw):
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9_]{1,4}", fullmatch=True), min_size=1, max_size=3, unique=True
        )
    )
    gaps, parts = [], [draw(text)]
    for gap_id in ids:
        accepted = draw(unique_texts(1, 2))
        options = []
        if draw(st.booleans()):
            options = accepted + [t for t in draw(unique_texts(1, 2)) if t not in accepted]
        gaps.append(
            {
                "id": gap_id,
                "accepted": accepted,
                "case_sensitive": draw(st.booleans()),
                "options": options if len(options) >= 2 else [],
            }
        )
        parts += [f"{{{{{gap_id}}}}}", draw(text)]
    return {"points": draw(points), "text": " ".join(parts), "gaps": gaps}


DATA = {
    "single_choice": single_choice(),
    "multiple_response": multiple_response(),
    "true_false": st.fixed_dictionaries(
        {
            "points": points,
            "answer": st.booleans(),
            "feedback_true": maybe_text,
            "feedback_false": maybe_text,
        }
    ),
    "short_answer": st.fixed_dictionaries(
        {"points": points, "accepted": unique_texts(1, 3), "case_sensitive": st.booleans()}
    ),
    "numeric": numeric(),
    "essay": essay(),
    "matching": matching(),
    "ordering": st.fixed_dictionaries({"points": points, "items": unique_texts(2, 5)}),
    "cloze": cloze(),
}


@st.composite
def question(draw):
    type_key = draw(st.sampled_from(sorted(DATA)))
    return {
        "type": type_key,
        "title": draw(text),
        "stem": f"<p>{draw(text).replace('<', '').replace('>', '').replace('&', '')}</p>",
        "explanation": draw(st.sampled_from(["", "<p>Because.</p>"])),
        "data": draw(DATA[type_key]),
        "tags": draw(st.lists(text, max_size=3)),
        "category": draw(st.lists(text, max_size=2)),
        "difficulty": draw(st.integers(1, 5)),
    }


def fields(q):
    return (
        q.type,
        q.title,
        q.stem,
        q.explanation,
        q.data,
        sorted(q.tags.names()),
        category_path(q),
        q.difficulty,
    )


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(generated=st.lists(question(), min_size=1, max_size=4))
def test_round_trip_of_every_type_through_json_csv_and_xlsx(two_portals, generated):
    alpha, beta = two_portals
    with alpha.activate():
        originals = []
        for values in generated:
            category = None
            for name in values["category"]:
                category = Category.objects.filter(
                    name=name, parent=category
                ).first() or services.create_category(name=name, parent=category)
            originals.append(
                services.create_question(author=None, **{**values, "category": category})
            )
        expected = [fields(q) for q in originals]
        files = {
            fmt: export_questions(format=fmt, questions=originals)
            for fmt in ("json", "csv", "xlsx")
        }
    with beta.activate():
        for fmt, data in files.items():
            preview = preview_import(format=fmt, data=data)
            assert preview.errors == [], (fmt, preview.errors)
            created = commit_import(preview=preview, author=None)
            assert [fields(q) for q in created] == expected, fmt
            Question.objects.all().delete()
            Category.objects.all().delete()
    with alpha.activate():
        Question.objects.all().delete()
        Category.objects.all().delete()


# -- commands and isolation -----------------------------------------------------------------


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_import_command_dry_run_prints_preview_and_stores_nothing(make_portal, tmp_path):
    portal = make_portal("alpha")
    path = _write(tmp_path, "bank.csv", REALISTIC_CSV.encode())
    out = io.StringIO()
    call_command(
        "import_questions",
        "--schema",
        portal.schema,
        "--format",
        "csv",
        path,
        "--dry-run",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert printed["total"] == 9
    assert printed["by_type"]["cloze"] == 1
    assert printed["errors"] == []
    assert printed["items"][0] == {
        "ref": "line 2",
        "type": "single_choice",
        "title": "Capital of France",
        "category": "Geography/Europe",
        "tags": ["capitals", "europe"],
        "warnings": [],
    }
    with portal.activate():
        assert counts() == (0, 0, 0)


def test_import_command_with_errors_exits_1_and_stores_nothing(make_portal, tmp_path):
    portal = make_portal("alpha")
    text = HEADER + "\nsingle_choice,Ok,x,,a,b,,,1,,\nsingle_choice,Bad,x,,a,b,,,7,,\n"
    path = _write(tmp_path, "bad.csv", text.encode())
    for extra in (["--dry-run"], []):
        out = io.StringIO()
        with pytest.raises(
            CommandError, match=r"1 error\(s\) in bad.csv; nothing was stored"
        ) as exc:
            call_command(
                "import_questions",
                "--schema",
                portal.schema,
                "--format",
                "csv",
                path,
                *extra,
                stdout=out,
            )
        assert exc.value.returncode == 1
        assert json.loads(out.getvalue())["errors"] == [
            {
                "ref": "line 3",
                "message": "column 'correct' refers to option 7, but there are 2 options",
            }
        ]
        with portal.activate():
            assert counts() == (0, 0, 0)


def test_import_command_commits_and_export_command_writes(make_portal, tmp_path):
    portal = make_portal("alpha")
    path = _write(tmp_path, "bank.csv", REALISTIC_CSV.encode())
    out = io.StringIO()
    call_command(
        "import_questions",
        "--schema",
        portal.schema,
        "--format",
        "csv",
        path,
        "--author",
        portal.admin_email,
        stdout=out,
    )
    assert "Created 9 question(s) in 'alpha'" in out.getvalue()
    with portal.activate():
        assert counts() == (9, 9, 9)
        assert Question.objects.filter(created_by=admin_of(portal)).count() == 9
        Question.objects.filter(title="Planets").update(status="active")
    target = tmp_path / "out.json"
    call_command(
        "export_questions",
        "--schema",
        portal.schema,
        "--format",
        "json",
        "--out",
        str(target),
        "--status",
        "active",
        stdout=io.StringIO(),
    )
    document = json.loads(target.read_text())
    assert [q["title"] for q in document["questions"]] == ["Planets"]
    assert document["questions"][0]["category"] == "Science/Astronomy"
    xlsx = tmp_path / "all.xlsx"
    call_command(
        "export_questions",
        "--schema",
        portal.schema,
        "--format",
        "xlsx",
        "--out",
        str(xlsx),
        stdout=io.StringIO(),
    )
    with portal.activate():
        assert len(preview_import(format="xlsx", data=xlsx.read_bytes()).items) == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schema", "public", "--format", "csv"], "public schema holds no question bank"),
        (["--schema", "nowhere", "--format", "csv"], "no portal with schema 'nowhere'"),
        (["--schema", "alpha", "--format", "docx"], "Unknown format 'docx'"),
    ],
)
def test_commands_refuse_public_unknown_schema_and_format(make_portal, tmp_path, args, message):
    make_portal("alpha")
    path = _write(tmp_path, "bank.csv", REALISTIC_CSV.encode())
    with pytest.raises(CommandError, match=message):
        call_command("import_questions", *args, path, stdout=io.StringIO())
    with pytest.raises(CommandError, match=message):
        call_command("export_questions", *args, "--out", str(tmp_path / "x"), stdout=io.StringIO())
    assert not (tmp_path / "x").exists()


def test_import_into_one_portal_is_invisible_from_the_other(two_portals, tmp_path):
    alpha, beta = two_portals
    path = _write(tmp_path, "bank.csv", REALISTIC_CSV.encode())
    call_command(
        "import_questions",
        "--schema",
        alpha.schema,
        "--format",
        "csv",
        path,
        stdout=io.StringIO(),
    )
    with alpha.activate():
        assert counts() == (9, 9, 9)
    with beta.activate():
        assert counts() == (0, 0, 0)
        services.create_question(
            author=None,
            type="true_false",
            title="Beta's own",
            stem="",
            data={"answer": False},
        )
    for fmt in ("json", "csv", "xlsx"):
        target = tmp_path / f"beta.{fmt}"
        call_command(
            "export_questions",
            "--schema",
            beta.schema,
            "--format",
            fmt,
            "--out",
            str(target),
            stdout=io.StringIO(),
        )
        with beta.activate():
            items = preview_import(format=fmt, data=target.read_bytes()).items
        assert [i.title for i in items] == ["Beta's own"], fmt
        assert b"Capital of France" not in target.read_bytes()
    with alpha.activate():
        assert Question.objects.filter(title="Beta's own").count() == 0
