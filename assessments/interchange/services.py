"""Import and export of questions: preview (stores nothing), commit (all or nothing), export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from assessments.interchange.base import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    ImportPreview,
    ImportProblem,
    InterchangeError,
)
from assessments.interchange.formats import get_format
from assessments.questions import QuestionDataError, get_type

#: ``progress(done, total)``: called as items are checked or stored (background imports).
Progress = Callable[[int, int], None]
#: How many items between two progress reports.
PROGRESS_EVERY = 50


def preview_import(
    *,
    format: str,  # noqa: A002
    data: bytes,
    filename: str = "",
    progress: Progress | None = None,
) -> ImportPreview:
    """Read and validate a whole file; store nothing. Every item's data is checked by its
    question type, so a clean preview commits without surprises. ``progress`` is told
    ``(checked, total)`` once the file is read and as the items are checked."""
    if len(data) > MAX_FILE_BYTES:
        raise InterchangeError(
            f"The file is {len(data) / 1048576:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1048576} MB."
        )
    preview = get_format(format).read(data, filename=filename)
    if len(preview.items) > MAX_ITEMS:
        raise InterchangeError(
            f"The file has {len(preview.items)} questions; the limit is {MAX_ITEMS}."
        )
    total = len(preview.items)
    for index, item in enumerate(preview.items):
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index, total)
        try:
            item.data = get_type(item.type).validate(item.data)
        except (QuestionDataError, KeyError, LookupError) as exc:
            preview.errors.append(ImportProblem(item.ref, _message(exc)))
    if progress is not None:
        progress(total, total)
    return preview


def commit_import(*, preview: ImportPreview, author: Any, progress: Progress | None = None) -> list:
    """Store every item of a clean preview, in one transaction; a preview with errors, or
    any failure while storing, stores nothing. ``progress`` hears ``(0, total)`` before the
    batch is stored and ``(total, total)`` after (one batch: no finer steps exist)."""
    from assessments.services import QuestionBatchError, create_category, create_questions

    if not preview.ok:
        raise InterchangeError(
            f"The file has {len(preview.errors)} error(s); fix them and import again."
        )
    with transaction.atomic():
        categories: dict[tuple[str, ...], Any] = {}
        questions = []
        for item in preview.items:
            category = None
            for depth in range(1, len(item.category_path) + 1):
                path = tuple(item.category_path[:depth])
                if path not in categories:
                    categories[path] = _find_or_create_category(
                        name=path[-1], parent=categories.get(path[:-1]), create=create_category
                    )
                category = categories[path]
            questions.append(
                {
                    "type": item.type,
                    "title": item.title,
                    "stem": item.stem,
                    "data": item.data,
                    "explanation": item.explanation,
                    "category": category,
                    "tags": item.tags,
                    "difficulty": item.difficulty,
                }
            )
        # One batch: a few queries for the whole file instead of several per question.
        if progress is not None:
            progress(0, len(questions))
        try:
            created = create_questions(author=author, questions=questions)
        except QuestionBatchError as exc:
            raise InterchangeError(f"{preview.items[exc.index].ref}: {_message(exc)}") from exc
    if progress is not None:
        progress(len(created), len(created))
    return created


def export_questions(*, format: str, questions: list) -> bytes:  # noqa: A002
    handler = get_format(format)
    if not handler.can_export:
        raise InterchangeError(f"Questions cannot be exported as {handler.label}.")
    return handler.write(list(questions))


def _find_or_create_category(*, name: str, parent, create):
    from assessments.models import Category

    existing = Category.objects.filter(name=name, parent=parent).first()
    return existing or create(name=name, parent=parent)


def _message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    return "; ".join(errors) if errors else str(exc)
