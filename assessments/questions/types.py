"""The question types, one class each, and the registry that names them.

Every class docstring gives the JSON shape of its ``data`` and its grading rule;
``docs/question-format.md`` collects them. Texts inside ``data`` are plain text (rendered
escaped); only a question's ``stem`` and ``explanation`` are HTML.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .base import (
    ZERO,
    Checker,
    Grade,
    QuestionDataError,
    QuestionType,
    decimal_text,
    item_key,
    money,
    normalise_spaces,
    parse_decimal,
    shuffled,
    wildcard_match,
)

NO_ANSWER = "No answer given."


def _option_list(data: dict, check: Checker, *, with_weight: bool) -> list[dict]:
    options = []
    raw = check.items("options", data.get("options"), minimum=2)
    allowed = ("id", "text", "feedback", "weight" if with_weight else "correct")
    for index, option in enumerate(raw):
        path = f"options[{index}]"
        if check.mapping(path, option) is None:
            continue
        check.only_fields(path, option, allowed)
        normalised = {
            "id": check.text(f"{path}.id", option.get("id", str(index + 1))),
            "text": check.text(f"{path}.text", option.get("text")),
            "feedback": check.text(f"{path}.feedback", option.get("feedback"), required=False),
        }
        if with_weight:
            weight = check.decimal(
                f"{path}.weight",
                option.get("weight"),
                default=Decimal("0"),
                minimum=Decimal("-1"),
                maximum=Decimal("1"),
            )
            normalised["weight"] = decimal_text(weight or ZERO)
        else:
            normalised["correct"] = check.boolean(
                f"{path}.correct", option.get("correct"), default=False
            )
        options.append(normalised)
    check.unique("options", [o["id"] for o in options], "id")
    return options


def _public_options(data: dict, seed: int | str | None) -> list[dict]:
    options = [{"id": o["id"], "text": o["text"]} for o in data["options"]]
    if data["shuffle"] and seed is not None:
        options = shuffled(options, seed)
    return options


def _accepted_answers(path: str, raw: Any, check: Checker) -> list[str]:
    answers = []
    for index, answer in enumerate(check.items(path, raw, minimum=1)):
        text = check.text(f"{path}[{index}]", answer)
        if text and not text.replace("*", "").strip():
            check.error(f"{path}[{index}] matches every answer")
        answers.append(normalise_spaces(text))
    return answers


class SingleChoice(QuestionType):
    """One correct option among several.

    ``data``::

        {"points": "1.00", "shuffle": true,
         "options": [{"id": "a", "text": "Paris", "correct": true, "feedback": ""}, ...]}

    At least two options, unique ids (default: the 1-based position), exactly one
    ``correct``. Response: the chosen option id. Full points for the correct option, else 0;
    the chosen option's feedback is returned.
    """

    key = "single_choice"
    label = "Single choice"
    fields = ("points", "shuffle", "options")

    def _validate(self, data: dict, check: Checker) -> dict:
        options = _option_list(data, check, with_weight=False)
        if len(options) >= 2 and sum(o["correct"] for o in options) != 1:
            check.error("options must have exactly one correct option")
        return {
            "points": self._points(data, check),
            "shuffle": check.boolean("shuffle", data.get("shuffle"), default=True),
            "options": options,
        }

    def grade(self, data: dict, response: Any) -> Grade:
        chosen = next((o for o in data["options"] if o["id"] == response), None)
        if chosen is None:
            return self._scaled(data, ZERO, [NO_ANSWER])
        feedback = [chosen["feedback"]] if chosen["feedback"] else []
        return self._scaled(data, Decimal(1 if chosen["correct"] else 0), feedback)

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "options": _public_options(data, shuffle_seed),
        }


class MultipleResponse(QuestionType):
    """Several options may be right; each option carries a weight.

    ``data``::

        {"points": "2.00", "shuffle": true, "negative_marking": false,
         "options": [{"id": "a", "text": "2", "weight": "0.50", "feedback": ""},
                     {"id": "b", "text": "9", "weight": "-0.50"}, ...]}

    ``weight`` is a fraction of the points between -1 and 1 (two places). The positive
    weights are the right options and must add up to exactly 1. Response: a list of option
    ids. Rule: the fraction earned is the sum of the weights of the selected right options;
    with ``negative_marking`` the (negative) weights of selected wrong options are added too,
    and the question never scores below 0. Without it, wrong selections cost nothing.
    ``correct`` is true when exactly the right options are selected.
    """

    key = "multiple_response"
    label = "Multiple response"
    fields = ("points", "shuffle", "negative_marking", "options")

    def _validate(self, data: dict, check: Checker) -> dict:
        options = _option_list(data, check, with_weight=True)
        positive = [Decimal(o["weight"]) for o in options if Decimal(o["weight"]) > 0]
        if len(options) >= 2 and not positive:
            check.error("options must have at least one option with a positive weight")
        elif positive and sum(positive) != 1:
            check.error(f"options: positive weights add up to {sum(positive)}, not 1.00")
        return {
            "points": self._points(data, check),
            "shuffle": check.boolean("shuffle", data.get("shuffle"), default=True),
            "negative_marking": check.boolean(
                "negative_marking", data.get("negative_marking"), default=False
            ),
            "options": options,
        }

    def grade(self, data: dict, response: Any) -> Grade:
        if not isinstance(response, list | tuple | set):
            return self._scaled(data, ZERO, [NO_ANSWER])
        selected = set(response)
        fraction = Decimal(0)
        feedback = []
        for option in data["options"]:
            if option["id"] not in selected:
                continue
            weight = Decimal(option["weight"])
            if weight > 0 or data["negative_marking"]:
                fraction += weight
            if option["feedback"]:
                feedback.append(option["feedback"])
        right = {o["id"] for o in data["options"] if Decimal(o["weight"]) > 0}
        grade = self._scaled(data, fraction, feedback)
        return Grade(grade.score, grade.max_score, selected == right, feedback)

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "negative_marking": data["negative_marking"],
            "options": _public_options(data, shuffle_seed),
        }


class TrueFalse(QuestionType):
    """A statement that is true or false.

    ``data``::

        {"points": "1.00", "answer": true, "feedback_true": "", "feedback_false": ""}

    Response: ``true``/``false`` (or the strings ``"true"``/``"false"``). All or nothing; the
    feedback for the chosen value is returned.
    """

    key = "true_false"
    label = "True / false"
    fields = ("points", "answer", "feedback_true", "feedback_false")

    def _validate(self, data: dict, check: Checker) -> dict:
        if "answer" not in data:
            check.error("answer is required")
        return {
            "points": self._points(data, check),
            "answer": check.boolean("answer", data.get("answer"), default=False),
            "feedback_true": check.text("feedback_true", data.get("feedback_true"), required=False),
            "feedback_false": check.text(
                "feedback_false", data.get("feedback_false"), required=False
            ),
        }

    def grade(self, data: dict, response: Any) -> Grade:
        if isinstance(response, str) and response.lower() in ("true", "false"):
            response = response.lower() == "true"
        if not isinstance(response, bool):
            return self._scaled(data, ZERO, [NO_ANSWER])
        text = data["feedback_true"] if response else data["feedback_false"]
        return self._scaled(data, Decimal(response == data["answer"]), [text] if text else [])

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "choices": [{"value": True, "label": "True"}, {"value": False, "label": "False"}],
        }


class ShortAnswer(QuestionType):
    """A typed answer compared with a list of accepted answers.

    ``data``::

        {"points": "1.00", "accepted": ["Paris", "Paris, France", "Lut*tia"],
         "case_sensitive": false}

    ``*`` in an accepted answer stands for any run of characters (there is no escape for a
    literal ``*``); an answer made only of ``*`` is refused because it accepts everything.
    Before comparing, both sides are trimmed and inner whitespace collapsed. Response: text.
    All or nothing.
    """

    key = "short_answer"
    label = "Short answer"
    fields = ("points", "accepted", "case_sensitive")

    def _validate(self, data: dict, check: Checker) -> dict:
        return {
            "points": self._points(data, check),
            "accepted": _accepted_answers("accepted", data.get("accepted"), check),
            "case_sensitive": check.boolean(
                "case_sensitive", data.get("case_sensitive"), default=False
            ),
        }

    def grade(self, data: dict, response: Any) -> Grade:
        if not isinstance(response, str) or not response.strip():
            return self._scaled(data, ZERO, [NO_ANSWER])
        hit = any(
            wildcard_match(pattern, response, case_sensitive=data["case_sensitive"])
            for pattern in data["accepted"]
        )
        return self._scaled(data, Decimal(hit), [])

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {"type": self.key, "max_score": str(self.max_score(data))}


NUMBER_AND_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


class Numeric(QuestionType):
    """A number, right within a tolerance, optionally followed by a unit.

    ``data``::

        {"points": "1.00", "answer": "9.81", "tolerance": "0.05",
         "tolerance_mode": "absolute", "units": ["m/s2", "m/s^2"], "unit_required": false}

    ``tolerance_mode`` is ``"absolute"`` (|response − answer| ≤ tolerance) or ``"percent"``
    (|response − answer| ≤ |answer| × tolerance / 100); the edge counts as right. Decimals are
    compared exactly (no floats). With ``units``, a unit after the number must be one of them
    (case-sensitive: ``mm`` is not ``Mm``); ``unit_required`` makes a bare number wrong.
    Without ``units`` any text after the number is wrong. Response: a number or text such
    as ``"9.8 m/s2"``. All or nothing.
    """

    key = "numeric"
    label = "Numeric"
    fields = ("points", "answer", "tolerance", "tolerance_mode", "units", "unit_required")

    def _validate(self, data: dict, check: Checker) -> dict:
        answer = check.decimal("answer", data.get("answer"), places=None)
        tolerance = check.decimal(
            "tolerance", data.get("tolerance"), default=Decimal(0), minimum=Decimal(0), places=None
        )
        mode = data.get("tolerance_mode", "absolute")
        if mode not in ("absolute", "percent"):
            check.error("tolerance_mode must be 'absolute' or 'percent'")
        units = []
        raw_units = data.get("units")
        for index, unit in enumerate(check.items("units", raw_units) if raw_units else []):
            units.append(check.text(f"units[{index}]", unit))
        unit_required = check.boolean("unit_required", data.get("unit_required"), default=False)
        if unit_required and not units:
            check.error("unit_required needs at least one entry in units")
        return {
            "points": self._points(data, check),
            "answer": decimal_text(answer, None) if answer is not None else "",
            "tolerance": decimal_text(tolerance or Decimal(0), None),
            "tolerance_mode": mode,
            "units": units,
            "unit_required": unit_required,
        }

    def grade(self, data: dict, response: Any) -> Grade:
        number, unit = None, ""
        if isinstance(response, int | float | Decimal) and not isinstance(response, bool):
            number = parse_decimal(response)
        elif isinstance(response, str) and (found := NUMBER_AND_UNIT.match(response)):
            number, unit = parse_decimal(found.group(1)), found.group(2)
        if number is None:
            return self._scaled(data, ZERO, [NO_ANSWER])
        if unit and unit not in data["units"]:
            return self._scaled(data, ZERO, [f"Unit {unit!r} is not accepted."])
        if not unit and data["unit_required"]:
            return self._scaled(data, ZERO, ["A unit is required."])
        answer, tolerance = Decimal(data["answer"]), Decimal(data["tolerance"])
        if data["tolerance_mode"] == "percent":
            tolerance = abs(answer) * tolerance / 100
        return self._scaled(data, Decimal(abs(number - answer) <= tolerance), [])

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "units": list(data["units"]),
            "unit_required": data["unit_required"],
        }


class Essay(QuestionType):
    """A written answer graded by a person against a rubric.

    ``data``::

        {"rubric": [{"id": "argument", "criterion": "Argument", "max_points": "4.00",
                     "description": "Claims are supported"}, ...],
         "min_words": 150, "max_words": 600}

    The question is worth the sum of the criteria's ``max_points``. ``grade`` returns 0 of
    that with ``correct`` None (waiting for a grader); ``grade_with_rubric(data, scores)``
    takes ``{criterion id: points}`` for every criterion, each between 0 and its maximum.
    The rubric is shown to the candidate (it holds no answer key).
    """

    key = "essay"
    label = "Essay"
    fields = ("rubric", "min_words", "max_words")

    def _validate(self, data: dict, check: Checker) -> dict:
        rubric = []
        for index, raw in enumerate(check.items("rubric", data.get("rubric"), minimum=1)):
            path = f"rubric[{index}]"
            if check.mapping(path, raw) is None:
                continue
            check.only_fields(path, raw, ("id", "criterion", "max_points", "description"))
            maximum = check.decimal(
                f"{path}.max_points",
                raw.get("max_points"),
                minimum=Decimal(0),
                exclusive_minimum=True,
            )
            rubric.append(
                {
                    "id": check.text(f"{path}.id", raw.get("id", str(index + 1))),
                    "criterion": check.text(f"{path}.criterion", raw.get("criterion")),
                    "max_points": decimal_text(maximum or Decimal(0)),
                    "description": check.text(
                        f"{path}.description", raw.get("description"), required=False
                    ),
                }
            )
        check.unique("rubric", [c["id"] for c in rubric], "id")
        limits = {}
        for name in ("min_words", "max_words"):
            value = data.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                check.error(f"{name} must be a whole number of at least 1")
                value = None
            limits[name] = value
        if (
            limits["min_words"]
            and limits["max_words"]
            and limits["min_words"] > limits["max_words"]
        ):
            check.error("min_words is greater than max_words")
        return {"rubric": rubric, **limits}

    def max_score(self, data: dict) -> Decimal:
        return money(sum((Decimal(c["max_points"]) for c in data["rubric"]), Decimal(0)))

    def grade(self, data: dict, response: Any) -> Grade:
        return Grade(ZERO, self.max_score(data), None, ["Waiting for manual grading."])

    def grade_with_rubric(self, data: dict, scores: dict) -> Grade:
        """The grade from a grader's points per criterion; refuses missing, unknown or
        out-of-range scores with :class:`QuestionDataError`."""
        check = Checker()
        if not isinstance(scores, dict):
            raise QuestionDataError("scores must be an object")
        known = {c["id"] for c in data["rubric"]}
        for key in scores:
            if key not in known:
                check.error(f"scores.{key} is not a rubric criterion")
        total = Decimal(0)
        for criterion in data["rubric"]:
            path = f"scores.{criterion['id']}"
            points = check.decimal(
                path,
                scores.get(criterion["id"]),
                minimum=Decimal(0),
                maximum=Decimal(criterion["max_points"]),
            )
            total += points or 0
        check.raise_if_any()
        maximum = self.max_score(data)
        return Grade(money(total), maximum, total == maximum, [])

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "rubric": [
                {k: c[k] for k in ("criterion", "max_points", "description")}
                for c in data["rubric"]
            ],
            "min_words": data["min_words"],
            "max_words": data["max_words"],
        }


class Matching(QuestionType):
    """Match each prompt with its partner.

    ``data``::

        {"points": "3.00", "shuffle": true,
         "pairs": [{"prompt": "France", "match": "Paris"}, ...],
         "distractors": ["Lyon"]}

    At least two pairs; prompts unique; several prompts may share a match; a distractor may
    not equal a match. The candidate sees the prompts and the distinct matches plus
    distractors, each with an opaque key (``item_key``) so the keys say nothing about the
    pairing. Response: ``{prompt key: match key}``. Rule: each right pair earns an equal
    share of the points; ``correct`` when all are right.
    """

    key = "matching"
    label = "Matching"
    fields = ("points", "shuffle", "pairs", "distractors")

    def _validate(self, data: dict, check: Checker) -> dict:
        pairs = []
        for index, raw in enumerate(check.items("pairs", data.get("pairs"), minimum=2)):
            path = f"pairs[{index}]"
            if check.mapping(path, raw) is None:
                continue
            check.only_fields(path, raw, ("prompt", "match"))
            pairs.append(
                {
                    "prompt": normalise_spaces(check.text(f"{path}.prompt", raw.get("prompt"))),
                    "match": normalise_spaces(check.text(f"{path}.match", raw.get("match"))),
                }
            )
        check.unique("pairs", [p["prompt"] for p in pairs], "prompt")
        matches = {p["match"] for p in pairs}
        distractors = []
        raw_distractors = data.get("distractors")
        for index, raw in enumerate(
            check.items("distractors", raw_distractors) if raw_distractors else []
        ):
            text = normalise_spaces(check.text(f"distractors[{index}]", raw))
            if text in matches:
                check.error(f"distractors[{index}] is also a match")
            distractors.append(text)
        return {
            "points": self._points(data, check),
            "shuffle": check.boolean("shuffle", data.get("shuffle"), default=True),
            "pairs": pairs,
            "distractors": distractors,
        }

    def grade(self, data: dict, response: Any) -> Grade:
        if not isinstance(response, dict):
            return self._scaled(data, ZERO, [NO_ANSWER])
        right = sum(
            response.get(item_key(p["prompt"])) == item_key(p["match"]) for p in data["pairs"]
        )
        total = len(data["pairs"])
        grade = self._scaled(data, Decimal(right) / total, [f"{right} of {total} pairs right."])
        return grade

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        texts = sorted({p["match"] for p in data["pairs"]} | set(data["distractors"]))
        if data["shuffle"] and shuffle_seed is not None:
            texts = shuffled(texts, shuffle_seed)
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "prompts": [{"key": item_key(p["prompt"]), "text": p["prompt"]} for p in data["pairs"]],
            "choices": [{"key": item_key(text), "text": text} for text in texts],
        }


class Ordering(QuestionType):
    """Put items in the right order.

    ``data``::

        {"points": "4.00", "items": ["Mercury", "Venus", "Earth", "Mars"]}

    ``items`` is the right order (at least two, unique). The candidate always sees them
    shuffled (by the seed, or by a seed derived from the items), never in the right order,
    each with an opaque key. Response: the list of keys in the candidate's order.
    Rule: an item earns credit when it sits at the same position as in the key;
    score = points × (items in place / items). ``correct`` when all are in place.
    """

    key = "ordering"
    label = "Ordering"
    fields = ("points", "items")

    def _validate(self, data: dict, check: Checker) -> dict:
        items = [
            normalise_spaces(check.text(f"items[{index}]", raw))
            for index, raw in enumerate(check.items("items", data.get("items"), minimum=2))
        ]
        seen: set[str] = set()
        for index, text in enumerate(items):
            if text and text in seen:
                check.error(f"items[{index}] repeats {text!r}")
            seen.add(text)
        return {"points": self._points(data, check), "items": items}

    def grade(self, data: dict, response: Any) -> Grade:
        if not isinstance(response, list | tuple):
            return self._scaled(data, ZERO, [NO_ANSWER])
        keys = [item_key(text) for text in data["items"]]
        in_place = sum(given == key for given, key in zip(response, keys, strict=False))
        total = len(keys)
        return self._scaled(
            data, Decimal(in_place) / total, [f"{in_place} of {total} items in place."]
        )

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        items = data["items"]
        seed = shuffle_seed if shuffle_seed is not None else item_key("|".join(items))
        order = shuffled(items, seed)
        if order == items:  # a shuffle that changed nothing would show the key
            order = order[1:] + order[:1]
        return {
            "type": self.key,
            "max_score": str(self.max_score(data)),
            "items": [{"key": item_key(text), "text": text} for text in order],
        }


GAP = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


class Cloze(QuestionType):
    """Text with gaps to fill in.

    ``data``::

        {"points": "2.00",
         "text": "The capital of France is {{1}} and of Italy {{2}}.",
         "gaps": [{"id": "1", "accepted": ["Paris"], "case_sensitive": false},
                  {"id": "2", "accepted": ["Rome", "Roma"], "options": ["Rome", "Milan"]}]}

    Every ``{{id}}`` in ``text`` has exactly one gap and every gap appears exactly once.
    Accepted answers follow the short-answer rules (``*`` wildcards, case flag). A gap with
    ``options`` is shown as a drop-down; its accepted answers must be among the options.
    Response: ``{gap id: text}``. Rule: each right gap earns an equal share of the points.
    """

    key = "cloze"
    label = "Cloze (fill in the blanks)"
    fields = ("points", "text", "gaps")

    def _validate(self, data: dict, check: Checker) -> dict:
        text = check.text("text", data.get("text"))
        in_text = GAP.findall(text)
        gaps = []
        for index, raw in enumerate(check.items("gaps", data.get("gaps"), minimum=1)):
            path = f"gaps[{index}]"
            if check.mapping(path, raw) is None:
                continue
            check.only_fields(path, raw, ("id", "accepted", "case_sensitive", "options"))
            gap_id = check.text(f"{path}.id", None if raw.get("id") is None else str(raw["id"]))
            accepted = _accepted_answers(f"{path}.accepted", raw.get("accepted"), check)
            options = []
            if raw.get("options"):
                options = [
                    normalise_spaces(check.text(f"{path}.options[{i}]", option))
                    for i, option in enumerate(
                        check.items(f"{path}.options", raw["options"], minimum=2)
                    )
                ]
                for i, answer in enumerate(accepted):
                    if answer and answer not in options:
                        check.error(f"{path}.accepted[{i}] is not one of the options")
            if gap_id and gap_id not in in_text:
                check.error(f"{path}.id {gap_id!r} does not appear in text")
            gaps.append(
                {
                    "id": gap_id,
                    "accepted": accepted,
                    "case_sensitive": check.boolean(
                        f"{path}.case_sensitive", raw.get("case_sensitive"), default=False
                    ),
                    "options": options,
                }
            )
        check.unique("gaps", [g["id"] for g in gaps], "id")
        declared = {g["id"] for g in gaps}
        for gap_id in dict.fromkeys(in_text):
            if in_text.count(gap_id) > 1:
                check.error(f"text uses gap {{{{{gap_id}}}}} more than once")
            if gap_id not in declared:
                check.error(f"text has gap {{{{{gap_id}}}}} with no entry in gaps")
        return {"points": self._points(data, check), "text": text, "gaps": gaps}

    def grade(self, data: dict, response: Any) -> Grade:
        if not isinstance(response, dict):
            return self._scaled(data, ZERO, [NO_ANSWER])
        right = 0
        for gap in data["gaps"]:
            given = response.get(gap["id"])
            if isinstance(given, str) and any(
                wildcard_match(pattern, given, case_sensitive=gap["case_sensitive"])
                for pattern in gap["accepted"]
            ):
                right += 1
        total = len(data["gaps"])
        return self._scaled(data, Decimal(right) / total, [f"{right} of {total} gaps right."])

    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        gaps = {g["id"]: g for g in data["gaps"]}
        parts: list[dict] = []
        position = 0
        for found in GAP.finditer(data["text"]):
            if found.start() > position:
                parts.append({"kind": "text", "text": data["text"][position : found.start()]})
            gap = gaps[found.group(1)]
            part: dict = {"kind": "gap", "id": gap["id"]}
            if gap["options"]:
                options = gap["options"]
                part["options"] = (
                    shuffled(options, f"{shuffle_seed}:{gap['id']}")
                    if shuffle_seed is not None
                    else list(options)
                )
            parts.append(part)
            position = found.end()
        if position < len(data["text"]):
            parts.append({"kind": "text", "text": data["text"][position:]})
        return {"type": self.key, "max_score": str(self.max_score(data)), "parts": parts}


REGISTRY: dict[str, QuestionType] = {
    question_type.key: question_type
    for question_type in (
        SingleChoice(),
        MultipleResponse(),
        TrueFalse(),
        ShortAnswer(),
        Numeric(),
        Essay(),
        Matching(),
        Ordering(),
        Cloze(),
    )
}


def get_type(key: str) -> QuestionType:
    """The registered type called ``key``; :class:`QuestionDataError` if there is none."""
    try:
        return REGISTRY[key]
    except (KeyError, TypeError):
        raise QuestionDataError(f"type {key!r} is not a question type") from None
