"""GIFT, Moodle's plain-text question format, read and written per Moodle's GIFT spec.

Questions are separated by blank lines; ``//`` starts a comment line; ``$CATEGORY:`` sets the
category of the questions that follow; ``::title::`` names a question; ``[html]``,
``[markdown]``, ``[plain]`` or ``[moodle]`` set the text format; the answer block ``{…}``
holds the type. ``\\~ \\= \\# \\{ \\} \\:`` escape the special characters and ``\\n`` is a new
line. GIFT has no points: every question imports worth 1 point. What GIFT cannot express on
export (ordering, cloze with more than one gap) is left out with a ``//`` comment saying so.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from assessments.interchange.base import (
    ImportItem,
    ImportPreview,
    ImportProblem,
    InterchangeError,
)
from assessments.interchange.moodle_xml import (
    ITEM_FAILURES,
    category_path,
    category_text,
    html_to_text,
    question_category_path,
    split_cloze_html,
)
from assessments.questions.base import parse_decimal
from assessments.questions.types import GAP

SPECIAL = "~=#{}:"
ESCAPED = re.compile(r"\\([~=#{}:n\\])")
#: Placeholder for the answer block of a missing-word question, while the stem is split.
BLANK = "\x00BLANK\x00"
BLANK_PATTERN = re.compile(re.escape(BLANK))
WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


class GiftFormat:
    key = "gift"
    label = "GIFT"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InterchangeError(
                f"The file is not UTF-8 text (byte {exc.start + 1} cannot be decoded)."
            ) from None
        if "\x00" in text:
            raise InterchangeError("The file is not GIFT text (it holds NUL bytes).")
        preview = ImportPreview(format=self.key)
        category: list[str] = []
        number = 0
        for line, block in _blocks(text):
            if block.lstrip().startswith("$CATEGORY:"):
                category = category_path(block.strip()[len("$CATEGORY:") :].strip())
                continue
            number += 1
            ref = f"question {number} (line {line})"
            try:
                item = _read_question(block, ref, category)
            except SkipQuestion as skip:
                preview.warnings.append(ImportProblem(ref, str(skip)))
                continue
            except GiftError as exc:
                preview.errors.append(ImportProblem(ref, str(exc)))
                continue
            except ITEM_FAILURES as exc:
                preview.errors.append(ImportProblem(ref, f"cannot be read: {exc}"))
                continue
            preview.items.append(item)
        return preview

    def write(self, questions: list[Any]) -> bytes:
        out: list[str] = []
        current: list[str] | None = None
        for question in questions:
            path = question_category_path(question)
            if path != current:
                out.append(f"$CATEGORY: {category_text(path)}\n")
                current = path
            out.append(_question_gift(question))
        return "\n".join(out).encode()


FORMAT = GiftFormat()


class SkipQuestion(Exception):  # noqa: N818 - a signal, not a failure
    """A question GIFT reads but the bank cannot hold; skipped with a file-level warning."""


class GiftError(ValueError):
    """A question whose GIFT is malformed; the message names what is wrong."""


# -- reading -------------------------------------------------------------------------------


def _blocks(text: str):
    """(first line number, text) of each question or ``$CATEGORY`` line; questions are
    separated by blank lines and comment lines are dropped."""
    lines: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("//"):
            continue
        if not line.strip() or line.lstrip().startswith("$CATEGORY:"):
            if lines:
                yield start, "\n".join(lines)
                lines = []
            if line.strip():
                yield number, line
            continue
        if not lines:
            start = number
        lines.append(line)
    if lines:
        yield start, "\n".join(lines)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _find(text: str, ch: str, start: int = 0) -> int:
    for index in range(start, len(text)):
        if text[index] == ch and not _escaped(text, index):
            return index
    return -1


def unescape(text: str) -> str:
    return ESCAPED.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _read_question(block: str, ref: str, category: list[str]) -> ImportItem:
    body = block.strip()
    title = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        while end != -1 and _escaped(body, end):
            end = body.find("::", end + 1)
        if end == -1:
            raise GiftError("the title is not closed with '::'")
        title, body = unescape(body[2:end]).strip(), body[end + 2 :].lstrip()
    text_format = "moodle"
    if found := re.match(r"\[(html|moodle|plain|markdown)\]", body):
        text_format, body = found.group(1), body[found.end() :]
    opening = _find(body, "{")
    if opening == -1:
        if _find(body, "}") != -1:
            raise GiftError("'}' without an opening '{'")
        raise SkipQuestion("no answer block {…}: a description, not a question; skipped")
    closing = _find(body, "}", opening + 1)
    if closing == -1:
        line = body[:opening].count("\n")
        raise GiftError(
            f"the answer block opened on line {line + 1} of the question is not closed with '}}'"
        )
    if _find(body, "{", opening + 1) not in (-1,) and _find(body, "{", opening + 1) < closing:
        raise GiftError("'{' inside an answer block must be escaped as '\\{'")
    before, answer, after = body[:opening], body[opening + 1 : closing], body[closing + 1 :]
    if _find(after, "{") != -1:
        raise GiftError("more than one answer block: GIFT allows one per question")
    warnings: list[str] = []
    missing_word = bool(after.strip())
    stem_source = before + (BLANK + after if missing_word else "")
    stem = _stem_html(stem_source.strip(), text_format, warnings)
    item = ImportItem(
        ref=ref,
        type="",
        title=title,
        stem=stem,
        data={},
        category_path=list(category),
        warnings=warnings,
    )
    answer, explanation = _general_feedback(answer)
    if explanation:
        item.explanation = _stem_html(explanation, text_format, [])
    _read_answer(answer, item)
    if missing_word:
        _to_missing_word(item)
    if not item.title:
        item.title = html_to_text(item.stem.replace(BLANK, "_____"))[:255] or ref
    if len(item.title) > 255:
        item.title = item.title[:255]
        warnings.append("title shortened to 255 characters")
    return item


def _stem_html(text: str, text_format: str, warnings: list[str]) -> str:
    text = unescape(text)
    if text_format == "html":
        return text.strip()
    if text_format == "markdown":
        warnings.append("Markdown kept as plain text")
    escaped = html.escape(text.strip(), quote=False).replace("\n", "<br>")
    return f"<p>{escaped}</p>" if escaped else ""


def _general_feedback(answer: str) -> tuple[str, str]:
    """``####`` starts the general feedback; the last one counts, since ``{T#wrong#####…}``
    (an empty right-answer feedback) also holds four ``#`` in a row."""
    index = answer.rfind("####")
    while index != -1 and _escaped(answer, index):
        index = answer.rfind("####", 0, index)
    if index == -1:
        return answer, ""
    return answer[:index], answer[index + 4 :].strip()


def _split_answers(answer: str) -> list[tuple[str, str]]:
    """(marker ``=`` or ``~``, raw text with its feedback) for each answer."""
    parts: list[tuple[str, str]] = []
    marker, current = "", ""
    for index, ch in enumerate(answer):
        if ch in "=~" and not _escaped(answer, index):
            # "->" never starts an answer, and "=" inside a weight cannot occur
            if marker or current.strip():
                parts.append((marker, current))
            marker, current = ch, ""
        else:
            current += ch
    if marker or current.strip():
        parts.append((marker, current))
    return parts


def _feedback(raw: str) -> tuple[str, str]:
    index = _find(raw, "#")
    if index == -1:
        return raw, ""
    return raw[:index], raw[index + 1 :]


def _clean(raw: str) -> str:
    return " ".join(unescape(raw).split())


def _read_answer(answer: str, item: ImportItem) -> None:
    stripped = answer.strip()
    if not stripped:
        item.type = "essay"
        item.data = {
            "rubric": [{"id": "1", "criterion": "Overall", "max_points": "1.00"}],
        }
        item.warnings.append("GIFT essays carry no rubric: one criterion 'Overall' of 1 point")
        return
    truth, truth_feedback = _feedback(stripped)
    if truth.strip().upper() in ("T", "TRUE", "F", "FALSE"):
        _read_true_false(truth.strip().upper().startswith("T"), truth_feedback, item)
        return
    if stripped.startswith("#"):
        _read_numeric(stripped[1:], item)
        return
    parts = _split_answers(stripped)
    if any(marker == "" for marker, _ in parts):
        raise GiftError(f"answer {_clean(parts[0][1])!r} does not start with '=' or '~'")
    if all(marker == "=" for marker, _ in parts) and all("->" in raw for _, raw in parts):
        _read_matching(parts, item)
        return
    if all(marker == "=" for marker, _ in parts):
        _read_short_answer(parts, item)
        return
    _read_choice(parts, item)


def _read_true_false(answer: bool, feedback: str, item: ImportItem) -> None:
    wrong, right = _feedback(feedback)
    wrong, right = _clean(wrong), _clean(right)
    item.type = "true_false"
    item.data = {
        "points": "1.00",
        "answer": answer,
        "feedback_true": right if answer else wrong,
        "feedback_false": wrong if answer else right,
    }


def _read_numeric(spec: str, item: ImportItem) -> None:
    item.type = "numeric"
    parts = _split_answers(spec)
    if not parts:
        raise GiftError("the numeric answer is empty")
    if any(marker == "" for marker, _ in parts) and len(parts) > 1:
        raise GiftError("numeric answers after the first must start with '='")
    chosen, partial, feedback = None, False, False
    for _, raw in parts:
        text, fb = _feedback(raw)
        feedback = feedback or bool(fb.strip())
        weight = Decimal(100)
        if found := WEIGHT.match(text.strip()):
            weight, text = Decimal(found.group(1)), text.strip()[found.end() :]
        if weight == 100 and chosen is None:
            chosen = text.strip()
        elif 0 < weight < 100:
            partial = True
    if chosen is None:
        raise GiftError("no fully right numeric answer")
    if partial:
        item.warnings.append("answers with partial credit dropped")
    if feedback:
        item.warnings.append("feedback per answer dropped")
    answer, tolerance = _numeric_range(chosen)
    item.data = {
        "points": "1.00",
        "answer": answer,
        "tolerance": tolerance,
        "tolerance_mode": "absolute",
        "units": [],
        "unit_required": False,
    }


def _numeric_range(text: str) -> tuple[str, str]:
    text = unescape(text).strip()
    if ".." in text:
        low_text, _, high_text = text.partition("..")
        low, high = parse_decimal(low_text), parse_decimal(high_text)
        if low is None or high is None or low > high:
            raise GiftError(f"bad numeric range {text!r}: expected {{#min..max}} with min ≤ max")
        return format((low + high) / 2, "f"), format((high - low) / 2, "f")
    value_text, _, tolerance_text = text.partition(":")
    value = parse_decimal(value_text)
    tolerance = parse_decimal(tolerance_text) if tolerance_text.strip() else Decimal(0)
    if value is None or tolerance is None or tolerance < 0:
        raise GiftError(f"bad numeric answer {text!r}: expected {{#value:tolerance}}")
    return format(value, "f"), format(tolerance, "f")


def _read_matching(parts: list[tuple[str, str]], item: ImportItem) -> None:
    item.type = "matching"
    pairs, distractors, feedback = [], [], False
    for _, raw in parts:
        text, fb = _feedback(raw)
        feedback = feedback or bool(fb.strip())
        prompt, _, match = text.partition("->")
        if _clean(prompt):
            pairs.append({"prompt": _clean(prompt), "match": _clean(match)})
        else:
            distractors.append(_clean(match))
    if feedback:
        item.warnings.append("feedback per answer dropped")
    item.data = {"points": "1.00", "shuffle": True, "pairs": pairs, "distractors": distractors}


def _read_short_answer(parts: list[tuple[str, str]], item: ImportItem) -> None:
    item.type = "short_answer"
    accepted, partial, feedback = [], False, False
    for _, raw in parts:
        text, fb = _feedback(raw)
        feedback = feedback or bool(fb.strip())
        weight = Decimal(100)
        if found := WEIGHT.match(text.strip()):
            weight, text = Decimal(found.group(1)), text.strip()[found.end() :]
        if weight == 100:
            accepted.append(_clean(text))
        elif weight > 0:
            partial = True
    if partial:
        item.warnings.append("answers with partial credit dropped")
    if feedback:
        item.warnings.append("feedback per answer dropped")
    item.data = {"points": "1.00", "accepted": accepted, "case_sensitive": False}


def _read_choice(parts: list[tuple[str, str]], item: ImportItem) -> None:
    options, weighted = [], False
    for number, (marker, raw) in enumerate(parts, 1):
        text, fb = _feedback(raw)
        text = text.strip()
        weight = Decimal(100 if marker == "=" else 0)
        if found := WEIGHT.match(text):
            weight, text, weighted = Decimal(found.group(1)), text[found.end() :], True
        options.append(
            {"id": str(number), "text": _clean(text), "weight": weight, "feedback": _clean(fb)}
        )
    if weighted:
        item.type = "multiple_response"
        weights = [(o["weight"] / 100).quantize(Decimal("0.01")) for o in options]
        positive = [i for i, w in enumerate(weights) if w > 0]
        total = sum(weights[i] for i in positive)
        if positive and total != 1 and abs(total - 1) <= Decimal("0.05"):
            weights[positive[-1]] += 1 - total
            item.warnings.append("weights rounded to two places; the last right one adjusted")
        for option, weight in zip(options, weights, strict=True):
            option["weight"] = format(weight, "f")
        item.data = {
            "points": "1.00",
            "shuffle": True,
            "negative_marking": any(Decimal(o["weight"]) < 0 for o in options),
            "options": options,
        }
        return
    item.type = "single_choice"
    for option in options:
        option["correct"] = option.pop("weight") == 100
    item.data = {"points": "1.00", "shuffle": True, "options": options}


def _to_missing_word(item: ImportItem) -> None:
    """Text after the answer block: a missing-word question, held as a cloze with one gap."""
    gap: dict[str, Any]
    if item.type == "short_answer":
        gap = {"id": "1", "accepted": item.data["accepted"], "case_sensitive": False}
    elif item.type == "single_choice":
        options = item.data["options"]
        gap = {
            "id": "1",
            "accepted": [o["text"] for o in options if o["correct"]],
            "case_sensitive": False,
            "options": [o["text"] for o in options],
        }
        if any(o["feedback"] for o in options):
            item.warnings.append("feedback per answer dropped")
    else:
        item.stem = item.stem.replace(BLANK, "_____")
        item.warnings.append(f"text after the answer block kept with a blank; {item.type} kept")
        return
    stem, text = split_cloze_html(item.stem, BLANK_PATTERN)
    item.type = "cloze"
    item.stem = stem
    item.data = {
        "points": "1.00",
        "text": html_to_text(text.replace(BLANK, "{{1}}")),
        "gaps": [gap],
    }


# -- writing -------------------------------------------------------------------------------


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _question_gift(question: Any) -> str:
    data, kind = question.data, question.type
    title = f"::{escape(question.title)}::"
    stem = f"[html]{escape(question.stem)}" if question.stem else "[html]"
    notes: list[str] = []
    if kind == "ordering":
        name = _one_line(question.title)
        return f"// {name}: ordering questions cannot be written in GIFT; skipped\n"
    if "points" in data and data["points"] != "1.00":
        notes.append(f"worth {data['points']} points; GIFT has no points (imports as 1)")
    if kind == "single_choice":
        answer = "\n".join(
            f"\t{'=' if o['correct'] else '~'}{escape(o['text'])}{_fb(o['feedback'])}"
            for o in data["options"]
        )
        answer = "\n" + answer + "\n"
    elif kind == "multiple_response":
        lines = []
        for o in data["options"]:
            weight = Decimal(o["weight"])
            if weight < 0 and not data["negative_marking"]:
                weight = Decimal(0)
                notes.append("negative weights written as 0: negative marking is off")
            lines.append(f"\t~%{format((weight * 100).normalize(), 'f')}%{escape(o['text'])}")
            lines[-1] += _fb(o["feedback"])
        answer = "\n" + "\n".join(lines) + "\n"
    elif kind == "true_false":
        right, wrong = (
            (data["feedback_true"], data["feedback_false"])
            if data["answer"]
            else (data["feedback_false"], data["feedback_true"])
        )
        answer = "TRUE" if data["answer"] else "FALSE"
        if right or wrong:
            answer += f"#{escape(wrong)}#{escape(right)}"
    elif kind == "short_answer":
        if data["case_sensitive"]:
            notes.append("case-sensitive matching cannot be written in GIFT (imports as not)")
        answer = " ".join(f"={escape(a)}" for a in data["accepted"])
    elif kind == "numeric":
        tolerance = Decimal(data["tolerance"])
        if data["tolerance_mode"] == "percent":
            tolerance = abs(Decimal(data["answer"])) * tolerance / 100
            notes.append("percent tolerance written as the absolute tolerance it allows")
        if data["units"]:
            notes.append("units cannot be written in GIFT; dropped")
        answer = f"#{data['answer']}:{format(tolerance, 'f')}"
    elif kind == "essay":
        notes.append("rubric and word limits cannot be written in GIFT; dropped")
        answer = ""
    elif kind == "matching":
        entries = [f"\t={escape(p['prompt'])} -> {escape(p['match'])}" for p in data["pairs"]]
        entries += [f"\t= -> {escape(d)}" for d in data["distractors"]]
        answer = "\n" + "\n".join(entries) + "\n"
    elif kind == "cloze":
        if len(data["gaps"]) != 1:
            return (
                f"// {_one_line(question.title)}: cloze with {len(data['gaps'])} gaps cannot be "
                "written in GIFT (one gap only); skipped\n"
            )
        return _missing_word(question, title, notes)
    else:
        return f"// {_one_line(question.title)}: type {kind} cannot be written in GIFT\n"
    general = f"####{escape(question.explanation)}" if question.explanation else ""
    comments = "".join(f"// {_one_line(n)}\n" for n in dict.fromkeys(notes))
    return f"{comments}{title} {stem}{{{answer}{general}}}\n"


def _missing_word(question: Any, title: str, notes: list[str]) -> str:
    data = question.data
    gap = data["gaps"][0]
    if gap["case_sensitive"]:
        notes.append("case-sensitive matching cannot be written in GIFT (imports as not)")
    if gap["options"]:
        answer = " ".join(
            ("=" if o in gap["accepted"] else "~") + escape(o) for o in gap["options"]
        )
    else:
        answer = " ".join(f"={escape(a)}" for a in gap["accepted"])
    before, _, after = data["text"].partition(GAP.search(data["text"]).group(0))
    general = f"####{escape(question.explanation)}" if question.explanation else ""
    comments = "".join(f"// {_one_line(n)}\n" for n in dict.fromkeys(notes))
    text_before = escape(question.stem + "<p>" + html.escape(before, quote=False))
    text_after = escape(html.escape(after, quote=False) + "</p>")
    return f"{comments}{title} [html]{text_before}{{{answer}{general}}}{text_after}\n"


def _fb(feedback: str) -> str:
    return f"#{escape(feedback)}" if feedback else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())
