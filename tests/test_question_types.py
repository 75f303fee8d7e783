"""Question types without a database: validation messages, grading rules, candidate views."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.questions import REGISTRY, Grade, QuestionDataError, get_type
from assessments.questions.base import item_key

D = Decimal


def errors_of(key: str, data) -> list[str]:
    with pytest.raises(QuestionDataError) as raised:
        get_type(key).validate(data)
    return raised.value.errors


def grade(key: str, data: dict, response) -> Grade:
    question_type = get_type(key)
    return question_type.grade(question_type.validate(data), response)


# -- valid examples of every type (also used by the no-leak tests) ------------------------

GOOD = {
    "single_choice": {
        "options": [
            {"id": "a", "text": "Paris", "correct": True, "feedback": "Yes"},
            {"id": "b", "text": "Lyon", "feedback": "No, that is Lyon"},
            {"id": "c", "text": "Nice"},
        ]
    },
    "multiple_response": {
        "points": "2",
        "options": [
            {"id": "a", "text": "2", "weight": "0.5"},
            {"id": "b", "text": "3", "weight": "0.5"},
            {"id": "c", "text": "4", "weight": "-0.5"},
            {"id": "d", "text": "9", "weight": "-1"},
        ],
    },
    "true_false": {"answer": True, "feedback_false": "It is true."},
    "short_answer": {"accepted": ["Lutetia", "Paris*"], "case_sensitive": False},
    "numeric": {"answer": "9.81", "tolerance": "0.05", "units": ["m/s2"]},
    "essay": {
        "rubric": [
            {"id": "arg", "criterion": "Argument", "max_points": "4"},
            {"id": "style", "criterion": "Style", "max_points": "1.5"},
        ],
        "min_words": 100,
        "max_words": 500,
    },
    "matching": {
        "points": "3",
        "pairs": [
            {"prompt": "France", "match": "Paris"},
            {"prompt": "Italy", "match": "Rome"},
            {"prompt": "Vatican", "match": "Rome"},
        ],
        "distractors": ["Lyon"],
    },
    "ordering": {"points": "4", "items": ["Mercury", "Venus", "Earth", "Mars"]},
    "cloze": {
        "points": "2",
        "text": "The capital of France is {{1}} and of Italy {{2}}.",
        "gaps": [
            {"id": "1", "accepted": ["Paris"]},
            {"id": 2, "accepted": ["Rome"], "options": ["Milan", "Rome"], "case_sensitive": True},
        ],
    },
}


def test_the_registry_holds_every_type_once():
    assert sorted(REGISTRY) == sorted(GOOD)
    assert all(REGISTRY[key].key == key and REGISTRY[key].label for key in REGISTRY)
    with pytest.raises(QuestionDataError) as raised:
        get_type("poll")
    assert raised.value.errors == ["type 'poll' is not a question type"]


@pytest.mark.parametrize("key", sorted(GOOD))
def test_good_data_is_accepted_and_normalisation_is_stable(key):
    question_type = get_type(key)
    normalised = question_type.validate(GOOD[key])
    assert question_type.validate(normalised) == normalised
    assert json.loads(json.dumps(normalised)) == normalised


def test_normalised_shapes():
    assert get_type("single_choice").validate(GOOD["single_choice"]) == {
        "points": "1.00",
        "shuffle": True,
        "options": [
            {"id": "a", "text": "Paris", "feedback": "Yes", "correct": True},
            {"id": "b", "text": "Lyon", "feedback": "No, that is Lyon", "correct": False},
            {"id": "c", "text": "Nice", "feedback": "", "correct": False},
        ],
    }
    assert get_type("numeric").validate({"answer": 12, "tolerance": 0.5}) == {
        "points": "1.00",
        "answer": "12",
        "tolerance": "0.5",
        "tolerance_mode": "absolute",
        "units": [],
        "unit_required": False,
    }
    assert get_type("cloze").validate(GOOD["cloze"])["gaps"][1] == {
        "id": "2",
        "accepted": ["Rome"],
        "case_sensitive": True,
        "options": ["Milan", "Rome"],
    }


# -- refusals, with their exact messages --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "data", "expected"),
    [
        ("single_choice", [], ["data must be an object"]),
        ("single_choice", {}, ["options is required"]),
        (
            "single_choice",
            {"options": [{"text": "x", "correct": True}]},
            ["options needs at least 2 items"],
        ),
        (
            "single_choice",
            {"options": [{"text": "a", "correct": True}, {"text": "b"}, {"text": " "}]},
            ["options[2].text is empty"],
        ),
        (
            "single_choice",
            {"options": [{"text": "a"}, {"text": "b"}]},
            ["options must have exactly one correct option"],
        ),
        (
            "single_choice",
            {"options": [{"text": "a", "correct": True}, {"text": "b", "correct": True}]},
            ["options must have exactly one correct option"],
        ),
        (
            "single_choice",
            {
                "options": [
                    {"id": "a", "text": "a", "correct": "yes"},
                    {"id": "a", "text": "b", "correct": True},
                ]
            },
            ["options[0].correct must be true or false", "options[1].id repeats 'a'"],
        ),
        (
            "single_choice",
            {"options": [{"text": "a", "correct": True}, "b"], "points": 0, "colour": "red"},
            [
                "colour is not a known field",
                "options[1] must be an object",
                "points must be greater than 0",
            ],
        ),
        (
            "single_choice",
            {"options": [{"text": "a", "correct": True}, {"text": "b"}], "points": "1.005"},
            ["points has more than 2 decimal places"],
        ),
        (
            "multiple_response",
            {"options": [{"text": "a", "weight": "0.5"}, {"text": "b", "weight": "0.4"}]},
            ["options: positive weights add up to 0.90, not 1.00"],
        ),
        (
            "multiple_response",
            {"options": [{"text": "a", "weight": "-0.5"}, {"text": "b"}]},
            ["options must have at least one option with a positive weight"],
        ),
        (
            "multiple_response",
            {"options": [{"text": "a", "weight": "1.5"}, {"text": "b", "weight": "x"}]},
            [
                "options[0].weight must be at most 1",
                "options[1].weight must be a number",
                "options must have at least one option with a positive weight",
            ],
        ),
        ("true_false", {}, ["answer is required"]),
        ("true_false", {"answer": "true"}, ["answer must be true or false"]),
        ("short_answer", {"accepted": []}, ["accepted needs at least 1 item"]),
        (
            "short_answer",
            {"accepted": ["Paris", "", "**"]},
            ["accepted[1] is empty", "accepted[2] matches every answer"],
        ),
        ("numeric", {"answer": "abc"}, ["answer must be a number"]),
        ("numeric", {"answer": "NaN"}, ["answer must be a number"]),
        (
            "numeric",
            {"answer": 1, "tolerance": -1, "tolerance_mode": "relative", "unit_required": True},
            [
                "tolerance must be at least 0",
                "tolerance_mode must be 'absolute' or 'percent'",
                "unit_required needs at least one entry in units",
            ],
        ),
        ("essay", {"rubric": []}, ["rubric needs at least 1 item"]),
        (
            "essay",
            {
                "rubric": [{"criterion": "A", "max_points": 0}, {"id": "x", "criterion": ""}],
                "min_words": 50,
                "max_words": 10,
            },
            [
                "rubric[0].max_points must be greater than 0",
                "rubric[1].max_points is required",
                "rubric[1].criterion is empty",
                "min_words is greater than max_words",
            ],
        ),
        (
            "essay",
            {"rubric": [{"criterion": "A", "max_points": 1}], "min_words": 0},
            ["min_words must be a whole number of at least 1"],
        ),
        (
            "matching",
            {"pairs": [{"prompt": "A", "match": "1"}, {"prompt": "A", "match": ""}]},
            ["pairs[1].match is empty", "pairs[1].prompt repeats 'A'"],
        ),
        (
            "matching",
            {
                "pairs": [{"prompt": "A", "match": "1"}, {"prompt": "B", "match": "2"}],
                "distractors": ["2"],
            },
            ["distractors[0] is also a match"],
        ),
        ("ordering", {"items": ["only"]}, ["items needs at least 2 items"]),
        ("ordering", {"items": ["a", "b", "a", ""]}, ["items[3] is empty", "items[2] repeats 'a'"]),
        (
            "cloze",
            {
                "text": "A {{1}} and {{1}} and {{3}}",
                "gaps": [
                    {"id": "1", "accepted": ["x"]},
                    {"id": "2", "accepted": ["y"]},
                ],
            },
            [
                "gaps[1].id '2' does not appear in text",
                "text uses gap {{1}} more than once",
                "text has gap {{3}} with no entry in gaps",
            ],
        ),
        (
            "cloze",
            {"text": "A {{1}}", "gaps": [{"id": "1", "accepted": ["z"], "options": ["x", "y"]}]},
            ["gaps[0].accepted[0] is not one of the options"],
        ),
    ],
)
def test_bad_data_is_refused_with_messages_naming_the_field(key, data, expected):
    assert errors_of(key, data) == expected


# -- grading ------------------------------------------------------------------------------


def test_single_choice_grading():
    assert grade("single_choice", GOOD["single_choice"], "a") == Grade(
        D("1.00"), D("1.00"), True, ["Yes"]
    )
    assert grade("single_choice", GOOD["single_choice"], "b") == Grade(
        D("0.00"), D("1.00"), False, ["No, that is Lyon"]
    )
    assert grade("single_choice", GOOD["single_choice"], "zzz") == Grade(
        D("0.00"), D("1.00"), False, ["No answer given."]
    )


@pytest.mark.parametrize(
    ("negative", "response", "score", "correct"),
    [
        (False, ["a", "b"], "2.00", True),
        (False, ["a"], "1.00", False),
        (False, ["a", "c"], "1.00", False),  # wrong picks cost nothing without negative marking
        (False, ["a", "b", "c", "d"], "2.00", False),
        (True, ["a", "b"], "2.00", True),
        (True, ["a", "c"], "0.00", False),  # 0.5 - 0.5
        (True, ["a", "b", "c"], "1.00", False),  # 1 - 0.5
        (True, ["a", "d"], "0.00", False),  # 0.5 - 1 floored at 0
        (True, ["c", "d"], "0.00", False),
        (True, [], "0.00", False),
        (True, "a", "0.00", False),
    ],
)
def test_multiple_response_partial_credit_and_negative_marking(negative, response, score, correct):
    data = {**GOOD["multiple_response"], "negative_marking": negative}
    result = grade("multiple_response", data, response)
    assert (result.score, result.max_score, result.correct) == (D(score), D("2.00"), correct)


def test_multiple_response_rounds_thirds_to_two_places():
    data = {
        "options": [
            {"text": "a", "weight": "0.33"},
            {"text": "b", "weight": "0.33"},
            {"text": "c", "weight": "0.34"},
        ]
    }
    assert grade("multiple_response", data, ["1"]).score == D("0.33")
    assert grade("multiple_response", {**data, "points": "3"}, ["1"]).score == D("0.99")


@pytest.mark.parametrize(
    ("response", "score", "feedback"),
    [
        (True, "1.00", []),
        ("TRUE", "1.00", []),
        (False, "0.00", ["It is true."]),
        (None, "0.00", ["No answer given."]),
    ],
)
def test_true_false_grading(response, score, feedback):
    result = grade("true_false", GOOD["true_false"], response)
    assert (result.score, result.feedback) == (D(score), feedback)


@pytest.mark.parametrize(
    ("accepted", "case_sensitive", "response", "right"),
    [
        (["Paris"], False, "paris", True),
        (["Paris"], False, "  PARIS  ", True),
        (["Paris"], True, "paris", False),
        (["Paris"], True, "Paris", True),
        (["Paris"], False, "Parisian", False),
        (["Paris*"], False, "Paris, France", True),
        (["Paris*"], False, "The Paris", False),
        (["*colour*"], False, "the COLOUR red", True),
        (["c*t"], False, "ct", True),
        (["c*t"], False, "cart", True),
        (["c*t"], False, "cats", False),
        (["a.b"], False, "axb", False),  # regex characters are literal
        (["New  York"], False, "new york", True),  # whitespace collapsed
        (["x", "y"], False, "y", True),
        (["x"], False, "", False),
    ],
)
def test_short_answer_case_and_wildcards(accepted, case_sensitive, response, right):
    data = {"accepted": accepted, "case_sensitive": case_sensitive}
    result = grade("short_answer", data, response)
    assert (result.score, result.correct) == (D("1.00") if right else D("0.00"), right)


@pytest.mark.parametrize(
    ("data", "response", "right"),
    [
        ({"answer": "10", "tolerance": "0.5"}, "10.5", True),  # edge included
        ({"answer": "10", "tolerance": "0.5"}, "9.5", True),
        ({"answer": "10", "tolerance": "0.5"}, "10.51", False),
        ({"answer": "10", "tolerance": "0.5"}, 9.49, False),
        ({"answer": "0.3"}, 0.3, True),  # no float error: 0.1 + 0.2 style
        ({"answer": "0.3"}, "0.30", True),
        ({"answer": "200", "tolerance": "5", "tolerance_mode": "percent"}, "210", True),
        ({"answer": "200", "tolerance": "5", "tolerance_mode": "percent"}, "190", True),
        ({"answer": "200", "tolerance": "5", "tolerance_mode": "percent"}, "210.01", False),
        ({"answer": "-200", "tolerance": "5", "tolerance_mode": "percent"}, "-190", True),
        ({"answer": "1e3"}, "1000", True),
        ({"answer": "9.81", "units": ["m/s2"]}, "9.81 m/s2", True),
        ({"answer": "9.81", "units": ["m/s2"]}, "9.81m/s2", True),
        ({"answer": "9.81", "units": ["m/s2"]}, "9.81", True),
        ({"answer": "9.81", "units": ["m/s2"], "unit_required": True}, "9.81", False),
        ({"answer": "9.81", "units": ["m/s2"]}, "9.81 km", False),
        ({"answer": "9.81"}, "9.81 m", False),
        ({"answer": "5"}, "five", False),
        ({"answer": "5"}, True, False),
    ],
)
def test_numeric_tolerance_edges_and_units(data, response, right):
    assert grade("numeric", data, response).correct is right


def test_numeric_unit_feedback():
    data = {"answer": "9.81", "units": ["m/s2"], "unit_required": True}
    assert grade("numeric", data, "9.81 km").feedback == ["Unit 'km' is not accepted."]
    assert grade("numeric", data, "9.81").feedback == ["A unit is required."]


def test_essay_waits_for_a_grader_and_grades_by_rubric():
    essay = get_type("essay")
    data = essay.validate(GOOD["essay"])
    assert essay.grade(data, "My essay") == Grade(
        D("0.00"), D("5.50"), None, ["Waiting for manual grading."]
    )
    assert essay.grade_with_rubric(data, {"arg": 3, "style": "1.5"}) == Grade(
        D("4.50"), D("5.50"), False, []
    )
    assert essay.grade_with_rubric(data, {"arg": "4", "style": "1.50"}).correct is True
    with pytest.raises(QuestionDataError) as raised:
        essay.grade_with_rubric(data, {"arg": 5, "tone": 1})
    assert raised.value.errors == [
        "scores.tone is not a rubric criterion",
        "scores.arg must be at most 4.00",
        "scores.style is required",
    ]
    with pytest.raises(QuestionDataError) as raised:
        essay.grade_with_rubric(data, {"arg": -1, "style": "0.125"})
    assert raised.value.errors == [
        "scores.arg must be at least 0",
        "scores.style has more than 2 decimal places",
    ]


def test_matching_partial_credit_per_pair():
    k = item_key
    right = {k("France"): k("Paris"), k("Italy"): k("Rome"), k("Vatican"): k("Rome")}
    assert grade("matching", GOOD["matching"], right) == Grade(
        D("3.00"), D("3.00"), True, ["3 of 3 pairs right."]
    )
    two = {**right, k("Vatican"): k("Lyon")}
    assert grade("matching", GOOD["matching"], two) == Grade(
        D("2.00"), D("3.00"), False, ["2 of 3 pairs right."]
    )
    one = {k("France"): k("Paris")}
    assert grade("matching", GOOD["matching"], one).score == D("1.00")
    assert grade("matching", GOOD["matching"], ["nope"]).score == D("0.00")


@pytest.mark.parametrize(
    ("order", "score"),
    [
        (["Mercury", "Venus", "Earth", "Mars"], "4.00"),
        (["Venus", "Mercury", "Earth", "Mars"], "2.00"),  # two swapped: 2 of 4 in place
        (["Mars", "Mercury", "Venus", "Earth"], "0.00"),  # all shifted by one: none in place
        (["Mercury", "Mercury", "Mercury", "Mercury"], "1.00"),  # repeating an item gains nothing
        (["Mercury", "Venus"], "2.00"),  # a short answer scores the positions given
    ],
)
def test_ordering_credit_is_the_fraction_in_place(order, score):
    result = grade("ordering", GOOD["ordering"], [item_key(text) for text in order])
    assert (result.score, result.correct) == (D(score), score == "4.00")


def test_cloze_partial_credit_per_gap():
    data = GOOD["cloze"]
    assert grade("cloze", data, {"1": "paris", "2": "Rome"}) == Grade(
        D("2.00"), D("2.00"), True, ["2 of 2 gaps right."]
    )
    assert grade("cloze", data, {"1": "paris", "2": "rome"}).score == D(
        "1.00"
    )  # case-sensitive gap
    assert grade("cloze", data, {"2": "Rome"}).score == D("1.00")
    assert grade("cloze", data, "Paris").score == D("0.00")


# -- what a candidate sees ----------------------------------------------------------------

SECRET_KEYS = {"correct", "accepted", "answer", "answers", "weight", "match", "feedback"}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("key", sorted(GOOD))
@pytest.mark.parametrize("seed", [None, 1, "attempt-42"])
def test_render_context_has_no_answer_key(key, seed):
    question_type = get_type(key)
    data = question_type.validate(GOOD[key])
    context = question_type.render_context(data, shuffle_seed=seed)
    serialised = json.dumps(context)
    assert context["type"] == key
    assert not _keys(context) & SECRET_KEYS
    for secret in ("Lutetia", "9.81", "Yes", "It is true.", '"weight"', "0.5"):
        assert secret not in serialised


def test_render_context_details():
    single = get_type("single_choice")
    data = single.validate(GOOD["single_choice"])
    assert single.render_context(data) == {
        "type": "single_choice",
        "max_score": "1.00",
        "options": [
            {"id": "a", "text": "Paris"},
            {"id": "b", "text": "Lyon"},
            {"id": "c", "text": "Nice"},
        ],
    }
    shuffled = [o["id"] for o in single.render_context(data, shuffle_seed=7)["options"]]
    assert sorted(shuffled) == ["a", "b", "c"]
    assert shuffled == [o["id"] for o in single.render_context(data, shuffle_seed=7)["options"]]

    cloze = get_type("cloze")
    assert cloze.render_context(cloze.validate(GOOD["cloze"])) == {
        "type": "cloze",
        "max_score": "2.00",
        "parts": [
            {"kind": "text", "text": "The capital of France is "},
            {"kind": "gap", "id": "1"},
            {"kind": "text", "text": " and of Italy "},
            {"kind": "gap", "id": "2", "options": ["Milan", "Rome"]},
            {"kind": "text", "text": "."},
        ],
    }

    matching = get_type("matching")
    context = matching.render_context(matching.validate(GOOD["matching"]))
    assert [c["text"] for c in context["choices"]] == ["Lyon", "Paris", "Rome"]
    assert [p["text"] for p in context["prompts"]] == ["France", "Italy", "Vatican"]

    essay = get_type("essay")
    assert essay.render_context(essay.validate(GOOD["essay"]))["rubric"] == [
        {"criterion": "Argument", "max_points": "4.00", "description": ""},
        {"criterion": "Style", "max_points": "1.50", "description": ""},
    ]


@given(
    items=st.lists(
        st.text(alphabet="abcdefgh", min_size=1, max_size=5), min_size=2, max_size=8, unique=True
    ),
    seed=st.one_of(st.none(), st.integers()),
)
def test_ordering_never_shows_the_right_order(items, seed):
    ordering = get_type("ordering")
    data = ordering.validate({"items": items})
    shown = [entry["text"] for entry in ordering.render_context(data, shuffle_seed=seed)["items"]]
    assert sorted(shown) == sorted(items)
    assert shown != items


@given(
    weights=st.lists(st.integers(min_value=-100, max_value=100), min_size=2, max_size=6),
    picks=st.lists(st.booleans(), min_size=6, max_size=6),
    negative=st.booleans(),
)
def test_multiple_response_score_stays_between_zero_and_points(weights, picks, negative):
    positive = [w for w in weights if w > 0]
    if not positive:
        return
    # scale positive weights so they add up to exactly 1.00 (remainder on the first one)
    total = sum(positive)
    scaled = [D(w * 100 // total) / 100 if w > 0 else D(w) / 100 for w in weights]
    first = next(i for i, w in enumerate(weights) if w > 0)
    scaled[first] += D(1) - sum(s for s in scaled if s > 0)
    if scaled[first] > 1 or scaled[first] <= 0:
        return
    data = {
        "points": "2",
        "negative_marking": negative,
        "options": [{"id": str(i), "text": str(i), "weight": str(w)} for i, w in enumerate(scaled)],
    }
    response = [str(i) for i in range(len(scaled)) if picks[i]]
    result = grade("multiple_response", data, response)
    assert D("0.00") <= result.score <= D("2.00")
    assert result.score == result.score.quantize(D("0.01"))
