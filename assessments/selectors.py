"""Reads of the question bank: search with filters, category trees, version diffs."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from .models import Category, Question, QuestionVersion

#: Fields diffed line by line (HTML); ``data`` is diffed as indented JSON.
_TEXT_FIELDS = ("stem", "explanation")


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions.

    ``before``/``after`` are readable values (a category as its path, tags as a list);
    ``lines`` is a unified diff for long text and for ``data``, empty otherwise.
    """

    field: str
    before: Any
    after: Any
    lines: list[str] = field(default_factory=list)


def category_with_descendants(*, category: Category) -> list[int]:
    """The ids of ``category`` and every category below it (one query)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, frontier = [], [category.pk]
    while frontier:
        pk = frontier.pop()
        found.append(pk)
        frontier.extend(children.get(pk, []))
    return sorted(found)


def category_path(*, category_id: int | None) -> str | None:
    """``"Science / Physics"`` for a category id; ``None`` without one, ``"(deleted)"`` if gone."""
    if category_id is None:
        return None
    names: list[str] = []
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    labels = dict(Category.objects.values_list("pk", "name"))
    current: int | None = category_id
    if current not in labels:
        return "(deleted)"
    while current is not None and current in labels and len(names) <= len(labels):
        names.append(labels[current])
        current = parents[current]
    return " / ".join(reversed(names))


def search_questions(
    *,
    text: str | None = None,
    type: str | None = None,  # noqa: A002 - the field is called type
    tags: Iterable[str] = (),
    category: Category | None = None,
    include_subcategories: bool = True,
    difficulty: int | tuple[int, int] | None = None,
    status: str | Iterable[str] | None = None,
) -> QuerySet[Question]:
    """Questions of the current schema matching every filter given.

    ``text`` looks in title, stem and explanation (case-insensitive); ``tags`` keeps
    questions carrying every tag; ``difficulty`` is one level or an inclusive ``(low, high)``;
    ``status`` one status or several. Newest change first.
    """
    questions = Question.objects.select_related("category").prefetch_related("tags")
    if text:
        questions = questions.filter(
            Q(title__icontains=text) | Q(stem__icontains=text) | Q(explanation__icontains=text)
        )
    if type:
        questions = questions.filter(type=type)
    for tag in tags:
        questions = questions.filter(tags__name=tag)
    if category is not None:
        if include_subcategories:
            questions = questions.filter(
                category_id__in=category_with_descendants(category=category)
            )
        else:
            questions = questions.filter(category_id=category.pk)
    if isinstance(difficulty, int):
        questions = questions.filter(difficulty=difficulty)
    elif difficulty is not None:
        low, high = difficulty
        questions = questions.filter(difficulty__gte=low, difficulty__lte=high)
    if isinstance(status, str):
        questions = questions.filter(status=status)
    elif status is not None:
        questions = questions.filter(status__in=list(status))
    return questions.distinct().order_by("-updated", "-id")


def version_diff(*, question: Question, a: int, b: int) -> list[FieldChange]:
    """What changed from version ``a`` to version ``b`` of ``question``, field by field."""
    versions = {
        v.number: v.snapshot
        for v in QuestionVersion.objects.filter(question_id=question.pk, number__in=(a, b))
    }
    before, after = versions[a], versions[b]
    changes = []
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        lines: list[str] = []
        if name in _TEXT_FIELDS:
            lines = _lines(old or "", new or "", a, b)
        elif name == "data":
            lines = _lines(_json(old), _json(new), a, b)
        elif name == "category":
            old, new = category_path(category_id=old), category_path(category_id=new)
        changes.append(FieldChange(field=name, before=old, after=new, lines=lines))
    order = list(before)
    return sorted(changes, key=lambda change: order.index(change.field))


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _lines(old: str, new: str, a: int, b: int) -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"version {a}", f"version {b}", lineterm=""
        )
    )
