"""Writes to the question bank. Every save of a question records a ``QuestionVersion``.

Objects passed in are looked up again by id in the current schema, so a service called in
tenant B with tenant A's objects finds nothing (``Question.DoesNotExist``) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .html import sanitise_html
from .models import Category, Question, QuestionVersion
from .questions import QuestionDataError, get_type

#: Fields an author edits; a version snapshot holds exactly these.
EDITABLE_FIELDS = (
    "type",
    "title",
    "stem",
    "data",
    "explanation",
    "category",
    "tags",
    "difficulty",
    "irt_a",
    "irt_b",
    "irt_c",
    "status",
)


def create_question(
    *,
    author: Any,
    type: str,  # noqa: A002 - the field is called type
    title: str,
    stem: str,
    data: dict,
    category: Category | None = None,
    tags: Iterable[str] = (),
    difficulty: int = 3,
    explanation: str = "",
    status: str = Question.Status.DRAFT,
    irt_a: float | None = None,
    irt_b: float | None = None,
    irt_c: float | None = None,
) -> Question:
    """A new question (version 1). Raises ``QuestionDataError`` and stores nothing when any
    field is refused."""
    values = _clean(
        {
            "type": type,
            "title": title,
            "stem": stem,
            "data": data,
            "explanation": explanation,
            "category": category,
            "tags": tags,
            "difficulty": difficulty,
            "irt_a": irt_a,
            "irt_b": irt_b,
            "irt_c": irt_c,
            "status": status,
        }
    )
    tag_names = values.pop("tags")
    with transaction.atomic():
        question = Question.objects.create(
            **values, version=1, created_by=author, updated_by=author
        )
        question.tags.set(tag_names)
        _record_version(question, author)
    return question


class QuestionBatchError(QuestionDataError):
    """A question of a batch was refused; ``index`` is its position (0-based)."""

    def __init__(self, index: int, errors: list[str]):
        self.index = index
        super().__init__(errors)


def create_questions(*, author: Any, questions: Sequence[dict]) -> list[Question]:
    """Many new questions (version 1 each) with the checks of ``create_question``, stored in
    one transaction with a handful of queries whatever their number. ``questions`` holds
    ``create_question``'s keyword arguments (without ``author``). Raises
    ``QuestionBatchError`` naming the first refused question and stores nothing."""
    from taggit.models import Tag, TaggedItem

    defaults = {
        "category": None,
        "tags": (),
        "difficulty": 3,
        "explanation": "",
        "status": Question.Status.DRAFT,
        "irt_a": None,
        "irt_b": None,
        "irt_c": None,
    }
    cleaned = []
    known_categories: dict[int, Category | None] = {}
    for index, values in enumerate(questions):
        values = {**defaults, **values}
        category = values["category"]
        if category is not None and category.pk in known_categories:
            # The same category for many questions: look it up (and re-check it) once.
            values["category"] = None
        try:
            clean = _clean(values)
        except QuestionDataError as error:
            raise QuestionBatchError(index, error.errors) from None
        if category is not None:
            if category.pk not in known_categories:
                known_categories[category.pk] = clean["category"]
            clean["category"] = known_categories[category.pk]
        cleaned.append(clean)
    with transaction.atomic():
        created = Question.objects.bulk_create(
            [
                Question(
                    **{k: v for k, v in values.items() if k != "tags"},
                    version=1,
                    created_by=author,
                    updated_by=author,
                )
                for values in cleaned
            ],
            batch_size=1000,
        )
        names = sorted({name for values in cleaned for name in values["tags"]})
        tags = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        for name in names:
            if name not in tags:
                tags[name] = Tag.objects.create(name=name)
        # Looked up in this schema, not through ContentType's process-wide cache.
        content_type = ContentType.objects.get(
            app_label=Question._meta.app_label, model=Question._meta.model_name
        )
        TaggedItem.objects.bulk_create(
            [
                TaggedItem(content_type=content_type, object_id=question.pk, tag=tags[name])
                for question, values in zip(created, cleaned, strict=True)
                for name in values["tags"]
            ],
            batch_size=2000,
        )
        QuestionVersion.objects.bulk_create(
            [
                QuestionVersion(
                    question=question,
                    number=1,
                    snapshot=snapshot_of(question, tags=values["tags"]),
                    author=author,
                )
                for question, values in zip(created, cleaned, strict=True)
            ],
            batch_size=1000,
        )
    return created


def update_question(*, question: Question, author: Any, **changes: Any) -> Question:
    """Apply ``changes`` (any of ``EDITABLE_FIELDS``), bump the version and snapshot it.

    Data is validated against the resulting type. Refused changes raise
    ``QuestionDataError`` and change nothing.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise QuestionDataError([f"{name} is not an editable field" for name in unknown])
    with transaction.atomic():
        current = _locked(question)
        return _save(current, author, changes)


def restore_version(*, question: Question, number: int, author: Any) -> Question:
    """Make version ``number``'s content current again, as a new version."""
    with transaction.atomic():
        current = _locked(question)
        version = QuestionVersion.objects.get(question=current, number=number)
        snapshot = dict(version.snapshot)
        category_id = snapshot.pop("category")
        snapshot["category"] = (
            Category.objects.filter(pk=category_id).first() if category_id else None
        )
        return _save(current, author, snapshot)


def retire_questions(*, questions: Iterable[Question], author: Any) -> int:
    """Retire the questions not yet retired (one new version each); returns how many."""
    count = 0
    with transaction.atomic():
        for question in _locked_many(questions):
            if question.status != Question.Status.RETIRED:
                _save(question, author, {"status": Question.Status.RETIRED})
                count += 1
    return count


def bulk_tag(
    *,
    questions: Iterable[Question],
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    author: Any = None,
) -> int:
    """Add and remove tags on many questions; each question whose tags change gets a new
    version. Returns how many changed."""
    add_names, remove_names = _tag_names(add), set(_tag_names(remove))
    count = 0
    with transaction.atomic():
        for question in _locked_many(questions):
            before = set(question.tags.names())
            after = (before | set(add_names)) - remove_names
            if after != before:
                _save(question, author, {"tags": sorted(after)})
                count += 1
    return count


def move_questions(
    *, questions: Iterable[Question], category: Category | None, author: Any = None
) -> int:
    """Put the questions in ``category`` (``None``: no category); returns how many moved."""
    count = 0
    with transaction.atomic():
        target = _category(category)
        for question in _locked_many(questions):
            if question.category_id != (target.pk if target else None):
                _save(question, author, {"category": target})
                count += 1
    return count


def create_category(*, name: str, parent: Category | None = None) -> Category:
    """A new category under ``parent``; refuses an empty name or a sibling of the same name."""
    name = (name or "").strip()
    if not name:
        raise QuestionDataError("name is empty")
    parent = _category(parent)
    if Category.objects.filter(parent=parent, name=name).exists():
        raise QuestionDataError(f"category {name!r} already exists here")
    return Category.objects.create(name=name, parent=parent)


# -- internals ---------------------------------------------------------------------------


def _locked(question: Question) -> Question:
    return Question.objects.select_for_update().get(pk=question.pk)


def _locked_many(questions: Iterable[Question]) -> list[Question]:
    ids = [q.pk if isinstance(q, Question) else q for q in questions]
    return list(Question.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def _save(question: Question, author: Any, changes: dict) -> Question:
    state = snapshot_of(question)
    state["category"] = question.category
    state.update(changes)
    values = _clean(state)
    tag_names = values.pop("tags")
    for name, value in values.items():
        setattr(question, name, value)
    question.version += 1
    question.updated_by = author
    question.save()
    question.tags.set(tag_names)
    _record_version(question, author)
    return question


def _clean(values: dict) -> dict:
    """Validated, normalised field values; raises ``QuestionDataError`` with every problem."""
    errors: list[str] = []
    cleaned = dict(values)
    try:
        question_type = get_type(values["type"])
    except QuestionDataError as error:
        errors += error.errors
    else:
        try:
            cleaned["data"] = question_type.validate(values["data"])
        except QuestionDataError as error:
            errors += [f"data: {message}" for message in error.errors]
    title = values["title"].strip() if isinstance(values["title"], str) else ""
    if not title:
        errors.append("title is empty")
    elif len(title) > 255:
        errors.append("title is longer than 255 characters")
    cleaned["title"] = title
    cleaned["stem"] = sanitise_html(values["stem"] or "")
    cleaned["explanation"] = sanitise_html(values["explanation"] or "")
    difficulty = values["difficulty"]
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        errors.append("difficulty must be a whole number from 1 to 5")
    if values["status"] not in Question.Status.values:
        errors.append(f"status must be one of {', '.join(Question.Status.values)}")
    for name in ("irt_a", "irt_b", "irt_c"):
        value = values[name]
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            errors.append(f"{name} must be a number")
    irt_c = values["irt_c"]
    if isinstance(irt_c, int | float) and not isinstance(irt_c, bool) and not 0 <= irt_c <= 1:
        errors.append("irt_c must be between 0 and 1")
    try:
        cleaned["category"] = _category(values["category"])
    except QuestionDataError as error:
        errors += error.errors
    cleaned["tags"] = _tag_names(values["tags"])
    if any(len(name) > 100 for name in cleaned["tags"]):
        errors.append("tags: a tag is longer than 100 characters")
    if errors:
        raise QuestionDataError(errors)
    return cleaned


def _category(category: Category | None) -> Category | None:
    """The category with this id in the current schema; refuses one that is not here."""
    if category is None:
        return None
    found = Category.objects.filter(pk=category.pk).first()
    if found is None:
        raise QuestionDataError("category does not exist")
    return found


def _tag_names(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        tags = [tags]
    return sorted({name.strip() for name in tags if isinstance(name, str) and name.strip()})


def snapshot_of(question: Question, *, tags: Iterable[str] | None = None) -> dict:
    """Every editable field of ``question`` as JSON-ready values (category by id).
    ``tags``, when given, are its tag names (saves a query for a question just made)."""
    return {
        "type": question.type,
        "title": question.title,
        "stem": question.stem,
        "data": question.data,
        "explanation": question.explanation,
        "category": question.category_id,
        "tags": sorted(question.tags.names() if tags is None else tags),
        "difficulty": question.difficulty,
        "irt_a": question.irt_a,
        "irt_b": question.irt_b,
        "irt_c": question.irt_c,
        "status": question.status,
    }


def _record_version(question: Question, author: Any) -> QuestionVersion:
    return QuestionVersion.objects.create(
        question=question, number=question.version, snapshot=snapshot_of(question), author=author
    )
