"""CSV: one question per row, with documented columns (``docs/question-format.md``).

The table logic here (columns, reading a row into an ``ImportItem``, writing a question as a
row) is shared with the XLSX format, which differs only in how cells reach it. Rows are
referred to as "line N", the physical line in the file where the row starts.

Lists inside one cell are separated by ``|`` (tags and option numbers by ``,``); a backslash
escapes a separator that is part of a text (``a\\|b``). On export, a cell starting with
``= + - @``, a tab or a carriage return gets a leading ``'`` so that a spreadsheet does not
run it as a formula; on import that one ``'`` is removed again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

from assessments.interchange.base import ImportItem, ImportPreview, ImportProblem, InterchangeError
from assessments.interchange.json_format import (
    category_text,
    check_common,
    escape,
    parse_category,
    question_records,
    split_escaped,
    unescape,
)
from assessments.questions import REGISTRY, QuestionDataError, get_type
from assessments.questions.base import parse_decimal

LEADING_COLUMNS = (
    "type",
    "title",
    "stem",
    "explanation",
    "category",
    "tags",
    "difficulty",
    "points",
    "shuffle",
)
TRAILING_COLUMNS = (
    "option_ids",
    "correct",
    "weights",
    "negative_marking",
    "answer",
    "feedback_true",
    "feedback_false",
    "answers",
    "case_sensitive",
    "tolerance",
    "tolerance_mode",
    "units",
    "unit_required",
    "pairs",
    "distractors",
    "order",
    "cloze_text",
    "gaps",
    "gap_options",
    "case_sensitive_gaps",
    "rubric",
    "rubric_ids",
    "min_words",
    "max_words",
)
KNOWN_COLUMNS = frozenset(LEADING_COLUMNS + TRAILING_COLUMNS)
NUMBERED = re.compile(r"(option|feedback)_([1-9][0-9]*)")
COMMON = frozenset(("type", "title", "stem", "explanation", "category", "tags", "difficulty"))
CHOICE = frozenset(("points", "shuffle", "option_ids", "correct", "option_*", "feedback_*"))
#: The columns each type reads; a filled cell in another column is ignored with a warning.
USED_COLUMNS: dict[str, frozenset[str]] = {
    "single_choice": CHOICE,
    "multiple_response": CHOICE | {"weights", "negative_marking"},
    "true_false": frozenset(("points", "answer", "feedback_true", "feedback_false")),
    "short_answer": frozenset(("points", "answers", "case_sensitive")),
    "numeric": frozenset(
        ("points", "answer", "tolerance", "tolerance_mode", "units", "unit_required")
    ),
    "essay": frozenset(("rubric", "rubric_ids", "min_words", "max_words")),
    "matching": frozenset(("points", "shuffle", "pairs", "distractors")),
    "ordering": frozenset(("points", "order")),
    "cloze": frozenset(
        ("points", "cloze_text", "gaps", "gap_options", "case_sensitive", "case_sensitive_gaps")
    ),
}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = {"true", "yes", "y", "1", "x"}
FALSE_WORDS = {"false", "no", "n", "0"}
PIPE = "\\|"  # escapable characters of a "|" list
PAIRS = "\\|="  # of "left=right|left=right"
RUBRIC = "\\|:"  # of "criterion:points:description|…"
GAPS = "\\|=,"  # of "id=answer,answer|id=…"
TAGS = "\\,"


# -- cells --------------------------------------------------------------------------------


def safe_cell(value: str) -> str:
    """``value`` made harmless for a spreadsheet: a leading ``'`` when it would start a
    formula (also when it already starts with ``'`` before such a character, so that import
    gives back exactly ``value``)."""
    if value.lstrip("'").startswith(DANGEROUS_START):
        return "'" + value
    return value


def unsafe_cell(value: str) -> str:
    """The inverse of ``safe_cell``, then trimmed."""
    if value.startswith("'") and value.lstrip("'").startswith(DANGEROUS_START):
        value = value[1:]
    return value.strip()


# -- reading ------------------------------------------------------------------------------


class Row:
    """The cells of one row by column name, collecting errors that name the column."""

    def __init__(self, cells: dict[str, str]):
        self.cells = cells
        self.errors: list[str] = []

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def error(self, column: str, message: str) -> None:
        self.errors.append(f"column '{column}' {message}")

    def boolean(self, column: str) -> bool | None:
        value = self.get(column).lower()
        if not value:
            return None
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        self.error(column, f"must be true or false, not {self.get(column)!r}")
        return None

    def number(self, column: str, text: str | None = None, what: str = "") -> str | None:
        value = self.get(column) if text is None else text
        if not value:
            return None
        if parse_decimal(value) is None:
            self.error(column, f"{what}must be a number, not {value!r}")
            return None
        return value

    def whole(self, column: str) -> int | None:
        value = self.get(column)
        if not value:
            return None
        try:
            return int(Decimal(value)) if Decimal(value) == int(Decimal(value)) else int("x")
        except (ArithmeticError, ValueError):
            self.error(column, f"must be a whole number, not {value!r}")
            return None

    def listed(self, column: str, specials: str = PIPE, separator: str = "|") -> list[str]:
        value = self.get(column)
        if not value:
            return []
        return [
            unescape(part, specials).strip() for part in split_escaped(value, separator, specials)
        ]


def _put(data: dict, key: str, value: Any) -> None:
    if value is not None:
        data[key] = value


def _options(row: Row) -> list[dict]:
    numbers = {
        int(found.group(2))
        for column in row.cells
        if (found := NUMBERED.fullmatch(column)) and found.group(1) == "option"
    }
    filled = [n for n in numbers if row.get(f"option_{n}")]
    count = max(filled, default=0)
    for n in range(1, count + 1):
        if not row.get(f"option_{n}"):
            row.error(f"option_{n}", f"is empty, but option_{count} is filled")
    for column in row.cells:
        found = NUMBERED.fullmatch(column)
        if (
            found
            and found.group(1) == "feedback"
            and row.get(column)
            and int(found.group(2)) > count
        ):
            row.error(
                column,
                f"has feedback for option {found.group(2)}, but there are {count} options",
            )
    ids = row.listed("option_ids") or [str(n) for n in range(1, count + 1)]
    if len(ids) != count:
        row.error("option_ids", f"lists {len(ids)} ids, but there are {count} options")
        ids = [str(n) for n in range(1, count + 1)]
    return [
        {"id": ids[n - 1], "text": row.get(f"option_{n}"), "feedback": row.get(f"feedback_{n}")}
        for n in range(1, count + 1)
    ]


def _option_numbers(row: Row, count: int) -> list[int] | None:
    value = row.get("correct")
    if not value:
        return None
    numbers = []
    for part in re.split(r"[,|;\s]+", value.strip(",|; ")):
        if not part.isdigit():
            row.error("correct", f"must list option numbers such as '1,3', not {value!r}")
            return None
        number = int(part)
        if not 1 <= number <= count:
            row.error("correct", f"refers to option {number}, but there are {count} options")
            return None
        numbers.append(number)
    if len(set(numbers)) != len(numbers):
        row.error("correct", f"names an option twice in {value!r}")
        return None
    return numbers


def _single_choice(row: Row) -> dict:
    options = _options(row)
    correct = _option_numbers(row, len(options))
    if correct is None and not row.get("correct"):
        row.error("correct", "is empty: give the number of the right option")
    elif correct is not None and len(correct) != 1:
        row.error("correct", f"must name exactly one option, not {len(correct)}")
    for position, option in enumerate(options, start=1):
        option["correct"] = bool(correct) and position in correct
    data: dict = {"options": options}
    _put(data, "points", row.number("points"))
    _put(data, "shuffle", row.boolean("shuffle"))
    return data


def _even_weights(count: int) -> list[Decimal]:
    share = (Decimal(1) / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    weights = [share] * count
    for index in range(int((Decimal(1) - share * count) / Decimal("0.01"))):
        weights[index] += Decimal("0.01")
    return weights


def _multiple_response(row: Row) -> dict:
    options = _options(row)
    correct = _option_numbers(row, len(options))
    raw_weights = (
        row.listed("weights") if "|" in row.get("weights") else row.listed("weights", "\\,", ",")
    )
    if raw_weights:
        if len(raw_weights) != len(options):
            row.error(
                "weights", f"lists {len(raw_weights)} weights, but there are {len(options)} options"
            )
        else:
            for position, (option, weight) in enumerate(
                zip(options, raw_weights, strict=True), start=1
            ):
                option["weight"] = row.number("weights", weight, f"entry {position} ") or "0"
            positive = [
                n for n, w in enumerate(raw_weights, start=1) if (parse_decimal(w) or 0) > 0
            ]
            if correct is not None and sorted(correct) != positive:
                row.error(
                    "correct",
                    f"names options {','.join(map(str, sorted(correct)))}, but column 'weights' "
                    f"gives positive weights to options {','.join(map(str, positive)) or 'none'}",
                )
    elif correct:
        for number, weight in zip(sorted(correct), _even_weights(len(correct)), strict=True):
            options[number - 1]["weight"] = str(weight)
    elif not row.get("correct"):
        row.error("correct", "is empty: give the numbers of the right options (or 'weights')")
    data: dict = {"options": options}
    _put(data, "points", row.number("points"))
    _put(data, "shuffle", row.boolean("shuffle"))
    _put(data, "negative_marking", row.boolean("negative_marking"))
    return data


def _true_false(row: Row) -> dict:
    data: dict = {
        "feedback_true": row.get("feedback_true"),
        "feedback_false": row.get("feedback_false"),
    }
    answer = row.boolean("answer")
    if answer is None and not row.get("answer"):
        row.error("answer", "is empty: give true or false")
    _put(data, "answer", answer)
    _put(data, "points", row.number("points"))
    return data


def _short_answer(row: Row) -> dict:
    answers = row.listed("answers")
    if not answers:
        row.error("answers", "is empty: give the accepted answers, separated by '|'")
    data: dict = {"accepted": answers}
    _put(data, "points", row.number("points"))
    _put(data, "case_sensitive", row.boolean("case_sensitive"))
    return data


def _numeric(row: Row) -> dict:
    data: dict = {}
    if not row.get("answer"):
        row.error("answer", "is empty: give the right number")
    _put(data, "answer", row.number("answer"))
    _put(data, "tolerance", row.number("tolerance"))
    mode = row.get("tolerance_mode").lower()
    if mode and mode not in ("absolute", "percent"):
        row.error("tolerance_mode", f"must be 'absolute' or 'percent', not {mode!r}")
    elif mode:
        data["tolerance_mode"] = mode
    data["units"] = row.listed("units")
    _put(data, "unit_required", row.boolean("unit_required"))
    _put(data, "points", row.number("points"))
    return data


def _essay(row: Row) -> dict:
    rubric = []
    raw_entries = split_escaped(row.get("rubric"), "|", RUBRIC) if row.get("rubric") else []
    if not raw_entries:
        row.error("rubric", "is empty: give criteria as 'criterion:points|criterion:points'")
    ids = row.listed("rubric_ids") or [str(n) for n in range(1, len(raw_entries) + 1)]
    if raw_entries and len(ids) != len(raw_entries):
        row.error("rubric_ids", f"lists {len(ids)} ids, but there are {len(raw_entries)} criteria")
        ids = [str(n) for n in range(1, len(raw_entries) + 1)]
    for position, entry in enumerate(raw_entries, start=1):
        parts = [unescape(part, RUBRIC).strip() for part in split_escaped(entry, ":", RUBRIC)]
        if len(parts) < 2:
            row.error("rubric", f"entry {position} ({entry!r}) must be 'criterion:points'")
            continue
        description = ":".join(parts[2:])
        points = row.number("rubric", parts[1], f"entry {position} ({entry!r}): the points ")
        rubric.append(
            {
                "id": ids[position - 1],
                "criterion": parts[0],
                "max_points": points or "0",
                "description": description,
            }
        )
    data: dict = {"rubric": rubric}
    _put(data, "min_words", row.whole("min_words"))
    _put(data, "max_words", row.whole("max_words"))
    return data


def _matching(row: Row) -> dict:
    pairs = []
    for position, entry in enumerate(split_escaped(row.get("pairs"), "|", PAIRS), start=1):
        if not entry.strip():
            continue
        parts = split_escaped(entry, "=", PAIRS)
        if len(parts) != 2:
            row.error("pairs", f"entry {position} ({entry.strip()!r}) must be 'prompt=match'")
            continue
        prompt, match = (unescape(part, PAIRS).strip() for part in parts)
        pairs.append({"prompt": prompt, "match": match})
    if not row.get("pairs"):
        row.error("pairs", "is empty: give pairs as 'prompt=match|prompt=match'")
    data: dict = {"pairs": pairs, "distractors": row.listed("distractors")}
    _put(data, "points", row.number("points"))
    _put(data, "shuffle", row.boolean("shuffle"))
    return data


def _ordering(row: Row) -> dict:
    items = row.listed("order")
    if not items:
        row.error("order", "is empty: give the items in the right order, separated by '|'")
    data: dict = {"items": items}
    _put(data, "points", row.number("points"))
    return data


def _gap_lists(row: Row, column: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    value = row.get(column)
    if not value:
        return found
    for position, entry in enumerate(split_escaped(value, "|", GAPS), start=1):
        parts = split_escaped(entry, "=", GAPS)
        if len(parts) != 2 or not parts[0].strip():
            row.error(column, f"entry {position} ({entry.strip()!r}) must be 'gap id=text,text'")
            continue
        gap_id = unescape(parts[0], GAPS).strip()
        if gap_id in found:
            row.error(column, f"names gap {gap_id!r} twice")
        found[gap_id] = [unescape(p, GAPS).strip() for p in split_escaped(parts[1], ",", GAPS)]
    return found


def _cloze(row: Row) -> dict:
    if not row.get("cloze_text"):
        row.error("cloze_text", "is empty: give the text with gaps such as {{1}}")
    answers = _gap_lists(row, "gaps")
    if not answers and not row.get("gaps"):
        row.error("gaps", "is empty: give the answers as 'gap id=answer,answer|…'")
    options = _gap_lists(row, "gap_options")
    for gap_id in options:
        if gap_id not in answers:
            row.error("gap_options", f"has options for gap {gap_id!r}, which is not in 'gaps'")
    everywhere = row.boolean("case_sensitive")
    sensitive = set(row.listed("case_sensitive_gaps", TAGS, ","))
    for gap_id in sensitive - set(answers):
        row.error("case_sensitive_gaps", f"names gap {gap_id!r}, which is not in 'gaps'")
    gaps = [
        {
            "id": gap_id,
            "accepted": accepted,
            "case_sensitive": bool(everywhere) or gap_id in sensitive,
            "options": options.get(gap_id, []),
        }
        for gap_id, accepted in answers.items()
    ]
    data: dict = {"text": row.get("cloze_text"), "gaps": gaps}
    _put(data, "points", row.number("points"))
    return data


BUILDERS = {
    "single_choice": _single_choice,
    "multiple_response": _multiple_response,
    "true_false": _true_false,
    "short_answer": _short_answer,
    "numeric": _numeric,
    "essay": _essay,
    "matching": _matching,
    "ordering": _ordering,
    "cloze": _cloze,
}
#: Where a validation message about a field of ``data`` points to in the table.
DATA_COLUMNS = {
    "accepted": "answers",
    "items": "order",
    "text": "cloze_text",
}
DATA_PATH = re.compile(r"([a-z_]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?")


def _column_of(type_key: str, message: str) -> str:
    found = DATA_PATH.match(message)
    head = found.group(1) if found else ""
    if head == "options":
        index, sub = found.group(2), found.group(3)
        if index is not None and sub in ("text", "feedback"):
            return f"{'option' if sub == 'text' else 'feedback'}_{int(index) + 1}"
        if sub == "id":
            return "option_ids"
        return "correct" if type_key == "single_choice" else "weights"
    if head == "rubric" and found.group(3) == "id":
        return "rubric_ids"
    if head == "gaps":
        return "case_sensitive_gaps" if found.group(3) == "case_sensitive" else "gaps"
    return DATA_COLUMNS.get(head, head)


def parse_row(cells: dict[str, str]) -> tuple[ImportItem | None, list[str], list[str]]:
    """One row as an item, or the errors (each naming its column), and warnings."""
    row = Row(cells)
    type_key = row.get("type").lower()
    if not type_key:
        return None, ["column 'type' is empty"], []
    if type_key not in REGISTRY:
        known = ", ".join(REGISTRY)
        return None, [f"column 'type': {row.get('type')!r} is not a question type ({known})"], []
    data = BUILDERS[type_key](row)
    path, problem = parse_category(row.get("category"))
    if problem:
        row.error("category", problem)
    tags = [tag for tag in row.listed("tags", TAGS, ",") if tag]
    difficulty: Any = 3
    if row.get("difficulty"):
        difficulty = row.whole("difficulty")
        if difficulty is None:
            row.errors.pop()
            difficulty = row.get("difficulty")
    row.errors += check_common(
        title=row.get("title"), tags=tags, difficulty=difficulty, where="column"
    )
    if not row.errors:
        try:
            data = get_type(type_key).validate(data)
        except QuestionDataError as exc:
            row.errors += [
                f"column '{_column_of(type_key, message)}': {message}" for message in exc.errors
            ]
    if row.errors:
        return None, row.errors, []
    used = COMMON | USED_COLUMNS[type_key]
    warnings = [
        f"column '{column}' is not used by {type_key} questions and is ignored"
        for column, value in cells.items()
        if value
        and column not in used
        and (column in KNOWN_COLUMNS or NUMBERED.fullmatch(column))
        and not (NUMBERED.fullmatch(column) and {"option_*"} <= used)
    ]
    return (
        ImportItem(
            ref="",
            type=type_key,
            title=row.get("title"),
            stem=row.get("stem"),
            data=data,
            explanation=row.get("explanation"),
            tags=tags,
            category_path=path,
            difficulty=difficulty,
            warnings=warnings,
        ),
        [],
        warnings,
    )


def parse_table(rows: Iterator[tuple[str, list[str]]], preview: ImportPreview) -> ImportPreview:
    """Read a header row and the rows after it, given as (ref, cells)."""
    try:
        header_ref, header = next(rows)
    except StopIteration:
        raise InterchangeError(
            "The file is empty: it needs a header row (download the template)."
        ) from None
    columns = [unsafe_cell(cell).lower().replace(" ", "_") for cell in header]
    if "type" not in columns:
        raise InterchangeError(
            f"{header_ref}: the header row is missing or has no column 'type'; the first row "
            f"must name the columns (type, title, stem, …; download the template)."
        )
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise InterchangeError(f"{header_ref}: column '{column}' appears twice in the header")
        seen.add(column)
        if column and column not in KNOWN_COLUMNS and not NUMBERED.fullmatch(column):
            preview.warnings.append(
                ImportProblem(header_ref, f"column '{column}' is not a known column; ignored")
            )
    for ref, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        extra = [cell for cell in cells[len(columns) :] if cell.strip()]
        if extra:
            preview.errors.append(
                ImportProblem(
                    ref, f"has {len(cells)} cells but the header names {len(columns)} columns"
                )
            )
            continue
        values = {
            column: unsafe_cell(cells[index]) if index < len(cells) else ""
            for index, column in enumerate(columns)
            if column
        }
        item, errors, _ = parse_row(values)
        if item is None:
            preview.errors.extend(ImportProblem(ref, message) for message in errors)
        else:
            item.ref = ref
            preview.items.append(item)
    return preview


# -- writing ------------------------------------------------------------------------------


def _flag(value: bool) -> str:
    return "true" if value else "false"


def record_row(record: dict[str, Any]) -> dict[str, str]:
    """A question record (see ``json_format.question_records``) as table cells."""
    data, type_key = record["data"], record["type"]
    row = {
        "type": type_key,
        "title": record["title"],
        "stem": record["stem"],
        "explanation": record["explanation"],
        "category": record["category"],
        "tags": ",".join(escape(tag, TAGS) for tag in record["tags"]),
        "difficulty": str(record["difficulty"]),
    }
    if "points" in data:
        row["points"] = data["points"]
    if "shuffle" in data:
        row["shuffle"] = _flag(data["shuffle"])
    if type_key in ("single_choice", "multiple_response"):
        options = data["options"]
        for position, option in enumerate(options, start=1):
            row[f"option_{position}"] = option["text"]
            if option.get("feedback"):
                row[f"feedback_{position}"] = option["feedback"]
        ids = [option["id"] for option in options]
        if ids != [str(n) for n in range(1, len(options) + 1)]:
            row["option_ids"] = "|".join(escape(i, PIPE) for i in ids)
        if type_key == "single_choice":
            row["correct"] = ",".join(
                str(n) for n, option in enumerate(options, start=1) if option["correct"]
            )
        else:
            row["correct"] = ",".join(
                str(n) for n, option in enumerate(options, start=1) if Decimal(option["weight"]) > 0
            )
            row["weights"] = "|".join(option["weight"] for option in options)
            row["negative_marking"] = _flag(data["negative_marking"])
    elif type_key == "true_false":
        row["answer"] = _flag(data["answer"])
        row["feedback_true"] = data["feedback_true"]
        row["feedback_false"] = data["feedback_false"]
    elif type_key == "short_answer":
        row["answers"] = "|".join(escape(answer, PIPE) for answer in data["accepted"])
        row["case_sensitive"] = _flag(data["case_sensitive"])
    elif type_key == "numeric":
        row["answer"] = data["answer"]
        row["tolerance"] = data["tolerance"]
        row["tolerance_mode"] = data["tolerance_mode"]
        row["units"] = "|".join(escape(unit, PIPE) for unit in data["units"])
        row["unit_required"] = _flag(data["unit_required"])
    elif type_key == "essay":
        row["rubric"] = "|".join(
            f"{escape(c['criterion'], RUBRIC)}:{c['max_points']}"
            + (f":{escape(c['description'], RUBRIC)}" if c["description"] else "")
            for c in data["rubric"]
        )
        ids = [c["id"] for c in data["rubric"]]
        if ids != [str(n) for n in range(1, len(ids) + 1)]:
            row["rubric_ids"] = "|".join(escape(i, PIPE) for i in ids)
        for name in ("min_words", "max_words"):
            if data.get(name) is not None:
                row[name] = str(data[name])
    elif type_key == "matching":
        row["pairs"] = "|".join(
            f"{escape(p['prompt'], PAIRS)}={escape(p['match'], PAIRS)}" for p in data["pairs"]
        )
        row["distractors"] = "|".join(escape(d, PIPE) for d in data["distractors"])
    elif type_key == "ordering":
        row["order"] = "|".join(escape(item, PIPE) for item in data["items"])
    elif type_key == "cloze":
        gaps = data["gaps"]
        row["cloze_text"] = data["text"]
        row["gaps"] = "|".join(
            f"{escape(g['id'], GAPS)}=" + ",".join(escape(a, GAPS) for a in g["accepted"])
            for g in gaps
        )
        row["gap_options"] = "|".join(
            f"{escape(g['id'], GAPS)}=" + ",".join(escape(o, GAPS) for o in g["options"])
            for g in gaps
            if g["options"]
        )
        sensitive = [g["id"] for g in gaps if g["case_sensitive"]]
        if sensitive and len(sensitive) == len(gaps):
            row["case_sensitive"] = "true"
        elif sensitive:
            row["case_sensitive_gaps"] = ",".join(escape(i, TAGS) for i in sensitive)
    return row


def header_for(records: Iterable[dict[str, Any]]) -> list[str]:
    count = max(
        (len(r["data"].get("options", ())) for r in records if "options" in r["data"]),
        default=0,
    )
    count = max(count, 4)
    return [
        *LEADING_COLUMNS,
        *(f"option_{n}" for n in range(1, count + 1)),
        *(f"feedback_{n}" for n in range(1, count + 1)),
        *TRAILING_COLUMNS,
    ]


def table(records: list[dict[str, Any]]) -> list[list[str]]:
    """The header and one row per record, every cell formula-safe."""
    header = header_for(records)
    rows = [header]
    for record in records:
        cells = record_row(record)
        rows.append([safe_cell(cells.get(column, "")) for column in header])
    return rows


#: One example per type: the downloadable template's rows.
EXAMPLES: list[dict[str, Any]] = [
    {
        "type": "single_choice",
        "title": "Capital of France",
        "stem": "<p>Which city is the capital of France?</p>",
        "explanation": "<p>Paris has been the capital since 987.</p>",
        "category": "Geography/Europe",
        "tags": ["capitals", "europe"],
        "difficulty": 1,
        "data": {
            "points": "1.00",
            "shuffle": True,
            "options": [
                {"id": "1", "text": "Paris", "correct": True, "feedback": "Right."},
                {"id": "2", "text": "Lyon", "correct": False, "feedback": ""},
                {"id": "3", "text": "Marseille", "correct": False, "feedback": ""},
                {"id": "4", "text": "Nice", "correct": False, "feedback": ""},
            ],
        },
    },
    {
        "type": "multiple_response",
        "title": "Prime numbers",
        "stem": "<p>Which of these numbers are prime?</p>",
        "explanation": "",
        "category": "Mathematics/Number theory",
        "tags": ["primes"],
        "difficulty": 2,
        "data": {
            "points": "2.00",
            "shuffle": True,
            "negative_marking": True,
            "options": [
                {"id": "1", "text": "2", "weight": "0.50", "feedback": ""},
                {"id": "2", "text": "9", "weight": "-0.50", "feedback": "9 = 3 × 3"},
                {"id": "3", "text": "13", "weight": "0.50", "feedback": ""},
                {"id": "4", "text": "21", "weight": "-0.50", "feedback": ""},
            ],
        },
    },
    {
        "type": "true_false",
        "title": "Water boils at 100 °C",
        "stem": "<p>At sea level, pure water boils at 100 °C.</p>",
        "explanation": "",
        "category": "Science/Physics",
        "tags": [],
        "difficulty": 1,
        "data": {
            "points": "1.00",
            "answer": True,
            "feedback_true": "Yes, at 1 atm.",
            "feedback_false": "",
        },
    },
    {
        "type": "short_answer",
        "title": "Author of Hamlet",
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
    {
        "type": "numeric",
        "title": "Acceleration of gravity",
        "stem": "<p>What is g near the Earth's surface, in m/s²?</p>",
        "explanation": "",
        "category": "Science/Physics",
        "tags": ["mechanics"],
        "difficulty": 2,
        "data": {
            "points": "1.00",
            "answer": "9.81",
            "tolerance": "0.05",
            "tolerance_mode": "absolute",
            "units": ["m/s2", "m/s^2"],
            "unit_required": False,
        },
    },
    {
        "type": "essay",
        "title": "Causes of the First World War",
        "stem": "<p>Discuss the main causes of the First World War.</p>",
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
    {
        "type": "matching",
        "title": "Countries and capitals",
        "stem": "<p>Match each country with its capital.</p>",
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
    {
        "type": "ordering",
        "title": "Planets from the Sun",
        "stem": "<p>Order these planets by distance from the Sun.</p>",
        "explanation": "",
        "category": "Science/Astronomy",
        "tags": [],
        "difficulty": 2,
        "data": {"points": "4.00", "items": ["Mercury", "Venus", "Earth", "Mars"]},
    },
    {
        "type": "cloze",
        "title": "Capitals in a sentence",
        "stem": "<p>Fill in the blanks.</p>",
        "explanation": "",
        "category": "Geography/Europe",
        "tags": ["capitals"],
        "difficulty": 2,
        "data": {
            "points": "2.00",
            "text": "The capital of France is {{1}} and the capital of Italy is {{2}}.",
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
]


def template_csv() -> bytes:
    """The downloadable CSV template: the header and one example row per question type."""
    return _csv_bytes(table(EXAMPLES))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    # With a BOM, Excel opens the file as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


class CsvFormat:
    key = "csv"
    label = "CSV"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InterchangeError(
                f"The file is not UTF-8: byte {exc.start} (line {line}) is "
                f"0x{data[exc.start]:02x}. Save it as 'CSV UTF-8' and import it again."
            ) from None
        if "\x00" in text:
            raise InterchangeError(
                f"The file is not a CSV text file: it has a NUL byte at character "
                f"{text.index(chr(0))}."
            )
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))

        def rows() -> Iterator[tuple[str, list[str]]]:
            previous = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise InterchangeError(
                        f"line {previous + 1}: the CSV cannot be read: {exc}."
                    ) from None
                yield f"line {previous + 1}", cells
                previous = reader.line_num

        return parse_table(rows(), ImportPreview(format=self.key))

    def write(self, questions: list[Any]) -> bytes:
        return _csv_bytes(table(question_records(questions)))


FORMAT = CsvFormat()
__all__ = ["FORMAT", "category_text", "parse_table", "record_row", "table", "template_csv"]
