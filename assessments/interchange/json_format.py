"""The project's own JSON format: every field of a question, lossless for every type.

Shape (``docs/question-format.md``, "File formats")::

    {"format": "viva-questions", "version": 1,
     "questions": [{"type": "single_choice", "title": "...", "stem": "<p>...</p>",
                    "data": {...}, "explanation": "", "tags": ["geo"],
                    "category": "Geography/Europe", "difficulty": 2}, ...]}

Items are referred to as "question N" (1-based position in ``questions``).
"""

from __future__ import annotations

import json
from typing import Any

from assessments.interchange.base import ImportItem, ImportPreview, ImportProblem, InterchangeError
from assessments.questions import QuestionDataError, get_type

FORMAT_NAME = "viva-questions"
FORMAT_VERSION = 1
FIELDS = ("type", "title", "stem", "data", "explanation", "tags", "category", "difficulty")
MAX_TITLE = 255
MAX_TAG = 100
MAX_CATEGORY_NAME = 200


# -- shared by every format that writes the bank's own fields ----------------------------


def split_escaped(text: str, separator: str, specials: str) -> list[str]:
    """``text`` split at each ``separator`` not preceded by a backslash. A backslash before
    any character of ``specials`` escapes it; escapes are kept (``unescape`` removes them),
    so a part can be split again at a deeper level."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in specials:
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text: str, specials: str) -> str:
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in specials:
            out.append(text[index + 1])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def escape(text: str, specials: str) -> str:
    return "".join("\\" + char if char in specials else char for char in text)


CATEGORY_SPECIALS = "\\/"


def category_text(path: list[str]) -> str:
    """A category path as one string, "Maths/Algebra" (a "/" inside a name is "\\/")."""
    return "/".join(escape(name, CATEGORY_SPECIALS) for name in path)


def parse_category(text: str) -> tuple[list[str], str | None]:
    """The names of a "A/B" path and an error message, if any."""
    text = text.strip()
    if not text:
        return [], None
    names = [
        unescape(part, CATEGORY_SPECIALS).strip()
        for part in split_escaped(text, "/", CATEGORY_SPECIALS)
    ]
    if any(not name for name in names):
        return [], f"has an empty category name in {text!r}"
    if any(len(name) > MAX_CATEGORY_NAME for name in names):
        return [], f"has a category name longer than {MAX_CATEGORY_NAME} characters"
    return names, None


def category_paths() -> dict[int, list[str]]:
    """Every category of the current schema by id, as its path of names from the root."""
    from assessments.models import Category

    rows = {
        pk: (name, parent)
        for pk, name, parent in Category.objects.values_list("id", "name", "parent_id")
    }
    paths: dict[int, list[str]] = {}

    def path_of(pk: int) -> list[str]:
        if pk not in paths:
            name, parent = rows[pk]
            paths[pk] = ([*path_of(parent)] if parent else []) + [name]
        return paths[pk]

    for pk in rows:
        path_of(pk)
    return paths


def question_records(questions: list[Any]) -> list[dict[str, Any]]:
    """``Question`` objects as plain records with the fields every format writes."""
    paths = category_paths() if questions else {}
    return [
        {
            "type": question.type,
            "title": question.title,
            "stem": question.stem,
            "data": question.data,
            "explanation": question.explanation,
            "tags": sorted(tag.name for tag in question.tags.all()),
            "category": category_text(paths.get(question.category_id, [])),
            "difficulty": question.difficulty,
        }
        for question in questions
    ]


def check_common(
    *, title: Any, tags: list[str], difficulty: Any, where: str = "field"
) -> list[str]:
    """Errors for the fields the bank checks on save, found already at preview."""
    errors = []
    if not isinstance(title, str) or not title.strip():
        errors.append(f"{where} 'title' is empty")
    elif len(title.strip()) > MAX_TITLE:
        errors.append(f"{where} 'title' is longer than {MAX_TITLE} characters")
    if any(len(tag) > MAX_TAG for tag in tags):
        errors.append(f"{where} 'tags' has a tag longer than {MAX_TAG} characters")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        errors.append(
            f"{where} 'difficulty' must be a whole number from 1 to 5, not {difficulty!r}"
        )
    return errors


# -- the format --------------------------------------------------------------------------


class JsonFormat:
    key = "json"
    label = "Viva JSON"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        preview = ImportPreview(format=self.key)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InterchangeError(
                f"The file is not UTF-8: byte {exc.start} (0x{data[exc.start]:02x}) cannot be read."
            ) from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InterchangeError(
                f"The file is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            raise InterchangeError(
                f'The file is not a Viva question file: it needs "format": "{FORMAT_NAME}".'
            )
        if document.get("version") != FORMAT_VERSION:
            raise InterchangeError(
                f"Version {document.get('version')!r} of the Viva format is not supported "
                f"(this server reads version {FORMAT_VERSION})."
            )
        questions = document.get("questions")
        if not isinstance(questions, list):
            raise InterchangeError('"questions" must be a list.')
        for position, raw in enumerate(questions, start=1):
            ref = f"question {position}"
            item, errors = self._item(ref, raw)
            preview.errors.extend(ImportProblem(ref, message) for message in errors)
            if item is not None and not errors:
                preview.items.append(item)
        return preview

    def _item(self, ref: str, raw: Any) -> tuple[ImportItem | None, list[str]]:
        if not isinstance(raw, dict):
            return None, ["must be an object"]
        errors: list[str] = []
        warnings = [
            f"field '{name}' is not part of the format and is ignored"
            for name in raw
            if name not in FIELDS
        ]
        type_key = raw.get("type")
        try:
            question_type = get_type(type_key)
        except QuestionDataError:
            return None, [f"field 'type': {type_key!r} is not a question type"]
        texts = {}
        for name in ("title", "stem", "explanation"):
            value = raw.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors.append(f"field '{name}' must be text")
                value = ""
            texts[name] = value
        tags = raw.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            errors.append("field 'tags' must be a list of texts")
            tags = []
        category = raw.get("category") or ""
        path: list[str] = []
        if not isinstance(category, str):
            errors.append("field 'category' must be a path such as \"Maths/Algebra\"")
        else:
            path, problem = parse_category(category)
            if problem:
                errors.append(f"field 'category' {problem}")
        difficulty = raw.get("difficulty", 3)
        errors += check_common(title=texts["title"], tags=tags, difficulty=difficulty)
        data = raw.get("data")
        try:
            data = question_type.validate(data)
        except QuestionDataError as exc:
            errors += [
                message if message.startswith("data ") else f"data.{message}"
                for message in exc.errors
            ]
        if errors:
            return None, errors
        return (
            ImportItem(
                ref=ref,
                type=question_type.key,
                title=texts["title"].strip(),
                stem=texts["stem"],
                data=data,
                explanation=texts["explanation"],
                tags=[tag.strip() for tag in tags if tag.strip()],
                category_path=path,
                difficulty=difficulty,
                warnings=warnings,
            ),
            [],
        )

    def write(self, questions: list[Any]) -> bytes:
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "questions": question_records(questions),
        }
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


FORMAT = JsonFormat()
