"""What the candidate partial (``assessments/candidate/question.html``) needs of one question.

The partial is shared by the bank's preview and the exam player; its context is one dict
``q`` built here from a question snapshot (the shape of
``assessments.exams.services._question_snapshot``: ``type``, ``title``, ``stem``, ``data``,
``points``). ``q["render"]`` is what the type's ``render_context`` returned, so the page never
holds any part of the answer key. Responses have the shape the type's ``grade`` accepts;
``static/assessments/js/responses.js`` collects and restores them in the browser.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.utils.safestring import mark_safe

from assessments.html import sanitise_html
from assessments.questions import get_type
from assessments.questions.base import decimal_text
from assessments.questions.types import NUMBER_AND_UNIT


def candidate_context(
    question_snapshot: dict,
    *,
    position: int,
    shuffle_seed: int | str | None = None,
    response: Any = None,
    disabled: bool = False,
) -> dict:
    """The ``q`` dict of the candidate partial for one question.

    Keys: ``position`` (1-based), ``type``, ``title``, ``stem`` (sanitised HTML, marked safe),
    ``points`` (text, two places), ``render`` (the type's ``render_context``), ``response``
    (the candidate's current response in ``grade``'s shape, or ``None``: a response of any
    other shape is dropped, see ``well_shaped``), ``response_json``
    (the same as JSON, for scripts), ``disabled``, ``answered`` and ``numeric`` (for numeric
    questions, the response split into ``number`` and ``unit``). For ordering questions with a
    response, ``render["items"]`` is in the candidate's order.
    """
    question_type = get_type(question_snapshot["type"])
    response = well_shaped(question_snapshot["type"], response)
    data = question_snapshot["data"]
    render = question_type.render_context(data, shuffle_seed=shuffle_seed)
    points = question_snapshot.get("points")
    if points is None:
        points = question_type.max_score(data)
    if render["type"] == "ordering":
        render = {**render, "items": _in_response_order(render["items"], response)}
    return {
        "position": int(position),
        "type": question_snapshot["type"],
        "title": question_snapshot.get("title", ""),
        # Stems are sanitised on save; sanitising again costs little and keeps a snapshot
        # from any other source safe.
        "stem": mark_safe(sanitise_html(question_snapshot.get("stem") or "")),  # noqa: S308
        "points": decimal_text(Decimal(str(points))),
        "render": render,
        "response": response,
        "response_json": json.dumps(response),
        "disabled": bool(disabled),
        "answered": response is not None,
        "numeric": _numeric_parts(response) if render["type"] == "numeric" else None,
    }


def _numeric_parts(response: Any) -> dict:
    """A numeric response (``"9.81 m/s2"`` or a number) split into its number and unit."""
    if isinstance(response, int | float | Decimal) and not isinstance(response, bool):
        return {"number": str(response), "unit": ""}
    if isinstance(response, str):
        found = NUMBER_AND_UNIT.match(response)
        if found:
            return {"number": found.group(1), "unit": found.group(2)}
        return {"number": response.strip(), "unit": ""}
    return {"number": "", "unit": ""}


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(map(_is_text, value))


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(_is_text(k) and _is_text(v) for k, v in value.items())


_SHAPES = {
    "single_choice": _is_text,
    "multiple_response": _text_list,
    "true_false": lambda v: isinstance(v, bool) or v in ("true", "false"),
    "short_answer": _is_text,
    "essay": _is_text,
    "numeric": lambda v: (
        _is_text(v) or (isinstance(v, int | float | Decimal) and not isinstance(v, bool))
    ),
    "matching": _text_map,
    "ordering": _text_list,
    "cloze": _text_map,
}


def well_shaped(type_key: str, response: Any) -> Any:
    """``response`` if it has the shape the type's ``grade`` takes (see ``responses.js``),
    else ``None``: a response posted by a browser is never trusted to render."""
    check = _SHAPES.get(type_key)
    return response if check is not None and check(response) else None


def _in_response_order(items: list[dict], response: Any) -> list[dict]:
    """``items`` in the order of ``response`` (a list of their keys) when it names every item
    once; otherwise unchanged."""
    if not isinstance(response, list | tuple):
        return items
    by_key = {item["key"]: item for item in items}
    if sorted(map(str, response)) != sorted(by_key):
        return items
    return [by_key[key] for key in response]
