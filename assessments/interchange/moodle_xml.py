"""Moodle XML (``<quiz><question type="…">``), read and written in Moodle's own export style.

The file is parsed with defusedxml and any DTD is refused, so external entities and entity
expansion (billion laughs) never run. Moodle types map to the bank's types as listed in
``docs/question-format.md`` ("File formats: Moodle XML and GIFT"); what a type cannot keep
(per-answer feedback of typed answers, partial credit, penalties, embedded files) is listed
as a warning on the item. Unsupported Moodle types are skipped with a file-level warning.

The helpers at the bottom (category paths, HTML to text, splitting a cloze text from its
stem) are shared with the GIFT format, which is Moodle's too.
"""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from assessments.interchange.base import (
    ImportItem,
    ImportPreview,
    ImportProblem,
    InterchangeError,
)
from assessments.questions.base import decimal_text, parse_decimal
from assessments.questions.types import GAP

#: Moodle types with no counterpart in the bank; skipped with a file-level warning.
SKIPPED_TYPES = (
    "calculated",
    "calculatedmulti",
    "calculatedsimple",
    "ddimageortext",
    "ddmarker",
    "ddwtos",
    "description",
    "gapselect",
    "random",
    "randomsamatch",
)

#: Errors that reading one question may raise on hostile input; they become an item error.
ITEM_FAILURES = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RecursionError)


class MoodleXmlFormat:
    key = "moodle-xml"
    label = "Moodle XML"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        root = _parse(data)
        preview = ImportPreview(format=self.key)
        category: list[str] = []
        number = 0
        for element in root:
            if element.tag != "question":
                continue
            kind = element.get("type", "")
            if kind == "category":
                category = category_path(_text_of(element.find("category")))
                continue
            number += 1
            name = _text_of(element.find("name")).strip()
            ref = f"question {number} (name: {name})" if name else f"question {number}"
            if kind in SKIPPED_TYPES or kind not in READERS:
                preview.warnings.append(
                    ImportProblem(ref, f"type '{kind}' is not supported and was skipped")
                )
                continue
            try:
                item = _read_question(element, kind, ref, name, category)
            except SkipQuestion as skip:
                preview.warnings.append(ImportProblem(ref, str(skip)))
                continue
            except ITEM_FAILURES as exc:
                preview.errors.append(ImportProblem(ref, f"cannot be read: {exc}"))
                continue
            preview.items.append(item)
        return preview

    def write(self, questions: list[Any]) -> bytes:
        out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
        current: list[str] | None = None
        for question in questions:
            path = question_category_path(question)
            if path != current:
                out.append(_category_xml(path))
                current = path
            out.append(_question_xml(question))
        out.append("</quiz>")
        return ("\n".join(out) + "\n").encode()


FORMAT = MoodleXmlFormat()


class SkipQuestion(Exception):  # noqa: N818 - a signal, not a failure
    """A question that cannot be imported at all (the message says why); the rest goes on."""


# -- reading -------------------------------------------------------------------------------


def _parse(data: bytes) -> Element:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InterchangeError(
            "The file declares a DTD or entities (<!DOCTYPE …>); they are refused because "
            f"they can read server files or exhaust memory ({type(exc).__name__})."
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise InterchangeError(
            f"The file is not well-formed XML at line {line}, column {column + 1}: "
            f"{str(exc).split(':')[0]}."
        ) from None
    except (ValueError, LookupError, RecursionError) as exc:
        raise InterchangeError(f"The file cannot be read as XML: {exc}.") from None
    if root.tag != "quiz":
        raise InterchangeError(
            f"The root element is <{root.tag}>; a Moodle XML file starts with <quiz>."
        )
    return root


def _read_question(
    element: Element, kind: str, ref: str, name: str, category: list[str]
) -> ImportItem:
    warnings: list[str] = []
    stem = _html_of(element.find("questiontext"), warnings, "question text")
    if element.find("questiontext/file") is not None:
        warnings.append("embedded files dropped")
    explanation = _html_of(element.find("generalfeedback"), warnings, "general feedback")
    item = ImportItem(
        ref=ref,
        type="",
        title=name or html_to_text(stem)[:255] or ref,
        stem=stem,
        data={},
        explanation=explanation,
        tags=[t for t in (_text_of(tag).strip() for tag in element.iterfind("tags/tag")) if t],
        category_path=list(category),
        warnings=warnings,
    )
    if len(item.title) > 255:
        item.title = item.title[:255]
        warnings.append("name shortened to 255 characters")
    if _child_text(element, "hidden") == "1":
        warnings.append("hidden flag ignored")
    for combined in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        if _text_of(element.find(combined)).strip():
            warnings.append(f"{combined} dropped")
            break
    if element.find("hint") is not None:
        warnings.append("hints dropped")
    READERS[kind](element, item)
    return item


def _points(element: Element, item: ImportItem) -> str:
    raw = _child_text(element, "defaultgrade") or "1"
    number = parse_decimal(raw)
    if number is None or number <= 0:
        item.warnings.append(f"defaultgrade {raw!r} replaced by 1")
        return "1.00"
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded != number:
        item.warnings.append(f"defaultgrade {raw} rounded to {rounded}")
    return decimal_text(rounded if rounded > 0 else Decimal("0.01"))


def _answers(element: Element) -> list[tuple[Decimal, str, str, Element]]:
    """(fraction in percent, answer text as plain text, feedback as plain text, element)."""
    answers = []
    for answer in element.iterfind("answer"):
        fraction = parse_decimal(answer.get("fraction", "0"))
        if fraction is None:
            raise ValueError(f"answer fraction {answer.get('fraction')!r} is not a number")
        text = _plain(answer)
        answers.append((fraction, text, _plain(answer.find("feedback")), answer))
    return answers


def _read_multichoice(element: Element, item: ImportItem) -> None:
    answers = _answers(element)
    shuffle = _child_text(element, "shuffleanswers") not in ("0", "false")
    single = _child_text(element, "single") not in ("false", "0")
    if single:
        item.type = "single_choice"
        if any(0 < f < 100 or f < 0 for f, *_ in answers):
            item.warnings.append("answers with partial or negative credit count as wrong")
        options = [
            {"id": str(n), "text": text, "correct": fraction == 100, "feedback": feedback}
            for n, (fraction, text, feedback, _) in enumerate(answers, 1)
        ]
        item.data = {"points": _points(element, item), "shuffle": shuffle, "options": options}
        return
    item.type = "multiple_response"
    weights = [_weight(fraction) for fraction, *_ in answers]
    positive = [i for i, w in enumerate(weights) if w > 0]
    if positive and sum(weights[i] for i in positive) != 1:
        total = sum(weights[i] for i in positive)
        if abs(total - 1) <= Decimal("0.05"):  # 33.33333 × 3 and the like
            weights[positive[-1]] += 1 - total
            item.warnings.append("weights rounded to two places; the last right one adjusted")
    options = [
        {"id": str(n), "text": text, "weight": decimal_text(weight), "feedback": feedback}
        for n, ((_, text, feedback, _), weight) in enumerate(zip(answers, weights, strict=True), 1)
    ]
    item.data = {
        "points": _points(element, item),
        "shuffle": shuffle,
        "negative_marking": any(w < 0 for w in weights),
        "options": options,
    }


def _weight(fraction: Decimal) -> Decimal:
    return (fraction / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _read_truefalse(element: Element, item: ImportItem) -> None:
    item.type = "true_false"
    answer, feedback = None, {"true": "", "false": ""}
    for fraction, text, fb, _ in _answers(element):
        value = text.strip().lower()
        if value not in feedback:
            raise ValueError(f"truefalse answer {text!r} is neither true nor false")
        feedback[value] = fb
        if fraction == 100:
            answer = value == "true"
    item.data = {
        "points": _points(element, item),
        "answer": answer,
        "feedback_true": feedback["true"],
        "feedback_false": feedback["false"],
    }
    if answer is None:
        del item.data["answer"]  # validation says "answer is required"


def _read_shortanswer(element: Element, item: ImportItem) -> None:
    item.type = "short_answer"
    accepted, partial, feedback = [], False, False
    for fraction, text, fb, _ in _answers(element):
        feedback = feedback or bool(fb)
        if fraction == 100:
            if "\\*" in text:
                item.warnings.append(r"escaped \* read as a wildcard")
                text = text.replace("\\*", "*")
            accepted.append(text)
        elif fraction > 0:
            partial = True
    if partial:
        item.warnings.append("answers with partial credit dropped")
    if feedback:
        item.warnings.append("feedback per answer dropped")
    item.data = {
        "points": _points(element, item),
        "accepted": accepted,
        "case_sensitive": _child_text(element, "usecase") == "1",
    }


def _read_numerical(element: Element, item: ImportItem) -> None:
    item.type = "numeric"
    right = [a for a in _answers(element) if a[0] == 100 and a[1].strip() != "*"]
    if not right:
        raise ValueError("no answer with fraction 100")
    if len(right) > 1:
        item.warnings.append("only the first fully right answer kept")
    if any(0 < a[0] < 100 for a in _answers(element)):
        item.warnings.append("answers with partial credit dropped")
    if any(a[2] for a in _answers(element)):
        item.warnings.append("feedback per answer dropped")
    _, answer, _, answer_element = right[0]
    units = []
    for unit in element.iterfind("units/unit"):
        multiplier = parse_decimal(_child_text(unit, "multiplier") or "1")
        name = _child_text(unit, "unit_name").strip()
        if multiplier != 1:
            item.warnings.append(f"unit {name!r} with multiplier {multiplier} dropped")
        elif name:
            units.append(name)
    graded = (_child_text(element, "unitgradingtype") or "0") not in ("0", "")
    if graded and units:
        penalty = parse_decimal(_child_text(element, "unitpenalty") or "1")
        if penalty != 1:
            item.warnings.append("unit penalty approximated: a missing or wrong unit is wrong")
    item.data = {
        "points": _points(element, item),
        "answer": answer.strip(),
        "tolerance": (_child_text(answer_element, "tolerance") or "0").strip(),
        "tolerance_mode": "absolute",
        "units": units,
        "unit_required": graded and bool(units),
    }


RUBRIC_ENTRY = re.compile(
    r'<li data-criterion-id="([^"]*)" data-max-points="([^"]*)"><strong>(.*?)</strong>'
    r"(?:: (.*?))?</li>",
    re.DOTALL,
)


def _read_essay(element: Element, item: ImportItem) -> None:
    item.type = "essay"
    grader = _text_of(element.find("graderinfo"))
    rubric = [
        {
            "id": html.unescape(cid),
            "criterion": html.unescape(criterion),
            "max_points": points,
            "description": html.unescape(description or ""),
        }
        for cid, points, criterion, description in RUBRIC_ENTRY.findall(grader)
    ]
    if not rubric:
        points = _points(element, item)
        rubric = [
            {"id": "1", "criterion": "Overall", "max_points": points,
             "description": html_to_text(grader)[:2000]}
        ]  # fmt: skip
        item.warnings.append(
            "grader information approximated as a one-criterion rubric ('Overall')"
        )
    if html_to_text(_text_of(element.find("responsetemplate"))):
        item.warnings.append("response template dropped")
    if (_child_text(element, "attachments") or "0") not in ("0", ""):
        item.warnings.append("attachments dropped")
    item.data = {"rubric": rubric}
    for ours, theirs in (("min_words", "minwordlimit"), ("max_words", "maxwordlimit")):
        value = _child_text(element, theirs).strip()
        if value.isdigit() and int(value) > 0:
            item.data[ours] = int(value)


def _read_matching(element: Element, item: ImportItem) -> None:
    item.type = "matching"
    pairs, distractors = [], []
    for sub in element.iterfind("subquestion"):
        prompt = _plain(sub)
        match = _plain(sub.find("answer"), default="plain_text")
        if prompt:
            pairs.append({"prompt": prompt, "match": match})
        elif match:
            distractors.append(match)
    item.data = {
        "points": _points(element, item),
        "shuffle": _child_text(element, "shuffleanswers") not in ("0", "false"),
        "pairs": pairs,
        "distractors": distractors,
    }


def _read_ordering(element: Element, item: ImportItem) -> None:
    item.type = "ordering"
    answers = _answers(element)
    ordered = [text for _, text, _, _ in sorted(answers, key=lambda a: a[0])]
    if (_child_text(element, "gradingtype") or "ABSOLUTE_POSITION") != "ABSOLUTE_POSITION":
        item.warnings.append("grading type approximated as absolute position")
    if (_child_text(element, "selecttype") or "ALL") != "ALL":
        item.warnings.append("partial selection of items ignored: all items are used")
    item.data = {"points": _points(element, item), "items": ordered}


#: ``{1:SHORTANSWER:=Paris~%50%paris#feedback}``; the weight is optional.
MOODLE_GAP = re.compile(r"\{(\d*):([A-Z_]+):((?:\\.|[^\\}])*)\}")
SHORT_GAPS = {"SHORTANSWER": False, "SA": False, "MW": False}
SHORT_GAPS_CASE = {"SHORTANSWER_C": True, "SAC": True, "MWC": True}
CHOICE_GAPS = ("MULTICHOICE", "MC", "MCV", "MCH", "MULTICHOICE_V", "MULTICHOICE_H")
CHOICE_GAPS_SHUFFLED = ("MULTICHOICE_S", "MCS", "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS")


def read_cloze_gaps(source: str, item: ImportItem) -> tuple[str, list[dict]]:
    """``source`` with each Moodle embedded answer replaced by ``{{n}}``, and the gaps."""
    gaps: list[dict] = []
    weights: set[str] = set()
    notes: set[str] = set()

    def replace(found: re.Match) -> str:
        weight, kind, body = found.groups()
        weights.add(weight or "1")
        gap_id = str(len(gaps) + 1)
        accepted, options = [], []
        for raw in _split_unescaped(body, "~"):
            raw_text, _, feedback = _partition_unescaped(raw, "#")
            if feedback.strip():
                notes.add("feedback per answer dropped")
            text, fraction = _unescape_gap(raw_text), Decimal(0)
            if text.startswith("="):
                fraction, text = Decimal(100), text[1:]
            elif (percent := re.match(r"%(-?\d+(?:\.\d+)?)%", text)) is not None:
                fraction, text = Decimal(percent.group(1)), text[percent.end() :]
            text = " ".join(html.unescape(text).split())
            if fraction == 100:
                accepted.append(text)
            elif fraction > 0:
                notes.add("answers with partial credit dropped")
            if text:
                options.append(text)
        gap: dict[str, Any] = {"id": gap_id, "accepted": accepted, "case_sensitive": False}
        if kind in SHORT_GAPS or kind in SHORT_GAPS_CASE:
            gap["case_sensitive"] = SHORT_GAPS_CASE.get(kind, False)
        elif kind in CHOICE_GAPS or kind in CHOICE_GAPS_SHUFFLED:
            gap["options"] = options
        elif kind in ("NUMERICAL", "NM"):
            notes.add("numerical gap approximated as exact text")
            gap["accepted"] = [a.split(":")[0] for a in accepted]
        else:
            raise SkipQuestion(f"embedded answer type '{kind}' is not supported; skipped")
        gaps.append(gap)
        return "{{" + gap_id + "}}"

    text = MOODLE_GAP.sub(replace, source)
    if len(weights) > 1:
        notes.add("gap weights dropped: every gap earns an equal share")
    item.warnings.extend(sorted(notes))
    return text, gaps


def _read_cloze(element: Element, item: ImportItem) -> None:
    item.type = "cloze"
    stem, text_html = split_cloze_html(item.stem, MOODLE_GAP)
    if not MOODLE_GAP.search(text_html):
        raise ValueError("the question text has no embedded answers")
    with_gaps, gaps = read_cloze_gaps(text_html, item)
    item.stem = stem
    item.data = {
        "points": _points(element, item),
        "text": html_to_text(with_gaps),
        "gaps": gaps,
    }


READERS = {
    "multichoice": _read_multichoice,
    "truefalse": _read_truefalse,
    "shortanswer": _read_shortanswer,
    "numerical": _read_numerical,
    "essay": _read_essay,
    "matching": _read_matching,
    "ordering": _read_ordering,
    "cloze": _read_cloze,
    "multianswer": _read_cloze,
}


def _text_of(element: Element | None) -> str:
    """The ``<text>`` child of ``element`` (Moodle's idiom), or its own text."""
    if element is None:
        return ""
    child = element.find("text")
    return "".join((child if child is not None else element).itertext())


def _child_text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return "".join(child.itertext()).strip() if child is not None else ""


def _html_of(element: Element | None, warnings: list[str], what: str) -> str:
    """A Moodle text field as HTML (the bank's stem and explanation are HTML)."""
    if element is None:
        return ""
    text = _text_of(element).strip()
    kind = element.get("format", "html")
    if kind == "html" or not text:
        return text
    if kind == "markdown":
        warnings.append(f"Markdown in {what} kept as plain text")
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


def _plain(element: Element | None, *, default: str = "html") -> str:
    """A Moodle text field as plain text (the bank's option texts are plain)."""
    if element is None:
        return ""
    text = _text_of(element)
    if element.get("format", default) in ("html", "moodle_auto_format"):
        return html_to_text(text)
    return " ".join(text.split())


# -- writing -------------------------------------------------------------------------------


def _question_xml(question: Any) -> str:
    data = question.data
    writer = WRITERS[question.type]
    kind, body, extra_notes = writer(question, data)
    notes = "".join(f"\n  <!-- {_comment(n)} -->" for n in extra_notes)
    stem = question.stem
    if question.type == "cloze":
        stem = stem + "<p>" + _cloze_moodle_text(data) + "</p>"
    points = data.get("points")
    if question.type == "essay":
        points = decimal_text(sum((Decimal(c["max_points"]) for c in data["rubric"]), Decimal(0)))
    tags = "".join(
        f"\n      <tag><text>{_cdata(tag)}</text></tag>" for tag in sorted(question.tags.names())
    )
    return (
        f'  <question type="{kind}">{notes}\n'
        f"    <name>\n      <text>{_cdata(question.title)}</text>\n    </name>\n"
        f'    <questiontext format="html">\n      <text>{_cdata(stem)}</text>\n'
        "    </questiontext>\n"
        f'    <generalfeedback format="html">\n      <text>{_cdata(question.explanation)}</text>\n'
        "    </generalfeedback>\n"
        f"    <defaultgrade>{points}</defaultgrade>\n"
        "    <penalty>0.3333333</penalty>\n"
        "    <hidden>0</hidden>\n"
        "    <idnumber></idnumber>\n"
        f"{body}" + (f"    <tags>{tags}\n    </tags>\n" if tags else "") + "  </question>"
    )


def _answer_xml(fraction: str, text: str, feedback: str = "", extra: str = "") -> str:
    return (
        f'    <answer fraction="{fraction}" format="html">\n'
        f"      <text>{_cdata(html.escape(text, quote=False))}</text>\n"
        f'      <feedback format="html">\n'
        f"        <text>{_cdata(html.escape(feedback, quote=False))}</text>\n"
        f"      </feedback>\n{extra}"
        "    </answer>\n"
    )


def _fraction(weight: Decimal) -> str:
    return format((weight * 100).normalize(), "f")


def _write_choice(question: Any, data: dict) -> tuple[str, str, list[str]]:
    notes = []
    single = question.type == "single_choice"
    body = [
        f"    <single>{'true' if single else 'false'}</single>\n",
        f"    <shuffleanswers>{'true' if data['shuffle'] else 'false'}</shuffleanswers>\n",
        "    <answernumbering>abc</answernumbering>\n",
        "    <showstandardinstruction>0</showstandardinstruction>\n",
    ]
    for option in data["options"]:
        if single:
            fraction = "100" if option["correct"] else "0"
        else:
            weight = Decimal(option["weight"])
            if weight < 0 and not data["negative_marking"]:
                weight = Decimal(0)
                notes.append("negative weights written as 0: negative marking is off")
            fraction = _fraction(weight)
        body.append(_answer_xml(fraction, option["text"], option["feedback"]))
    return "multichoice", "".join(body), sorted(set(notes))


def _write_truefalse(question: Any, data: dict) -> tuple[str, str, list[str]]:
    body = _answer_xml(
        "100" if data["answer"] else "0", "true", data["feedback_true"]
    ) + _answer_xml("0" if data["answer"] else "100", "false", data["feedback_false"])
    return "truefalse", body, []


def _write_shortanswer(question: Any, data: dict) -> tuple[str, str, list[str]]:
    body = f"    <usecase>{1 if data['case_sensitive'] else 0}</usecase>\n"
    body += "".join(_answer_xml("100", text) for text in data["accepted"])
    return "shortanswer", body, []


def _write_numerical(question: Any, data: dict) -> tuple[str, str, list[str]]:
    notes = []
    tolerance = Decimal(data["tolerance"])
    if data["tolerance_mode"] == "percent":
        tolerance = abs(Decimal(data["answer"])) * tolerance / 100
        notes.append("percent tolerance written as the absolute tolerance it allows")
    body = _answer_xml(
        "100", data["answer"], extra=f"      <tolerance>{format(tolerance, 'f')}</tolerance>\n"
    )
    units = "".join(
        f"      <unit>\n        <multiplier>1</multiplier>\n"
        f"        <unit_name>{_cdata(unit)}</unit_name>\n      </unit>\n"
        for unit in data["units"]
    )
    body += (
        f"    <unitgradingtype>{1 if data['unit_required'] else 0}</unitgradingtype>\n"
        "    <unitpenalty>1.0000000</unitpenalty>\n"
        "    <showunits>0</showunits>\n"
        "    <unitsleft>0</unitsleft>\n"
    )
    if units:
        body += f"    <units>\n{units}    </units>\n"
    return "numerical", body, notes


def _write_essay(question: Any, data: dict) -> tuple[str, str, list[str]]:
    rubric = "".join(
        f'<li data-criterion-id="{html.escape(c["id"])}" data-max-points="{c["max_points"]}">'
        f"<strong>{html.escape(c['criterion'], quote=False)}</strong>"
        + (f": {html.escape(c['description'], quote=False)}" if c["description"] else "")
        + "</li>"
        for c in data["rubric"]
    )
    body = (
        "    <responseformat>editor</responseformat>\n"
        "    <responserequired>1</responserequired>\n"
        "    <responsefieldlines>15</responsefieldlines>\n"
        f"    <minwordlimit>{data.get('min_words') or ''}</minwordlimit>\n"
        f"    <maxwordlimit>{data.get('max_words') or ''}</maxwordlimit>\n"
        "    <attachments>0</attachments>\n"
        "    <attachmentsrequired>0</attachmentsrequired>\n"
        f'    <graderinfo format="html">\n      <text>{_cdata("<ul>" + rubric + "</ul>")}</text>\n'
        "    </graderinfo>\n"
        '    <responsetemplate format="html">\n      <text></text>\n    </responsetemplate>\n'
    )
    return "essay", body, []


def _write_matching(question: Any, data: dict) -> tuple[str, str, list[str]]:
    body = f"    <shuffleanswers>{'true' if data['shuffle'] else 'false'}</shuffleanswers>\n"
    entries = [(p["prompt"], p["match"]) for p in data["pairs"]]
    entries += [("", d) for d in data["distractors"]]
    for prompt, match in entries:
        body += (
            '    <subquestion format="html">\n'
            f"      <text>{_cdata(html.escape(prompt, quote=False))}</text>\n"
            f"      <answer>\n        <text>{_cdata(match)}</text>\n      </answer>\n"
            "    </subquestion>\n"
        )
    return "matching", body, []


def _write_ordering(question: Any, data: dict) -> tuple[str, str, list[str]]:
    body = (
        "    <layouttype>VERTICAL</layouttype>\n"
        "    <selecttype>ALL</selecttype>\n"
        "    <selectcount>0</selectcount>\n"
        "    <gradingtype>ABSOLUTE_POSITION</gradingtype>\n"
        "    <showgrading>SHOW</showgrading>\n"
        "    <numberingstyle>none</numberingstyle>\n"
    )
    for position, text in enumerate(data["items"], 1):
        body += (
            f'    <answer fraction="{position}.0000000" format="plain_text">\n'
            f"      <text>{_cdata(text)}</text>\n    </answer>\n"
        )
    return "ordering", body, []


def _write_cloze(question: Any, data: dict) -> tuple[str, str, list[str]]:
    return "cloze", "", []


def _cloze_moodle_text(data: dict) -> str:
    """The cloze text as HTML with Moodle embedded answers for its gaps."""
    gaps = {g["id"]: g for g in data["gaps"]}
    parts, position = [], 0
    for found in GAP.finditer(data["text"]):
        parts.append(html.escape(data["text"][position : found.start()], quote=False))
        gap = gaps[found.group(1)]
        if gap["options"]:
            answers = [
                ("=" if option in gap["accepted"] else "") + _escape_gap(option)
                for option in gap["options"]
            ]
            parts.append("{1:MULTICHOICE:" + "~".join(answers) + "}")
        else:
            kind = "SHORTANSWER_C" if gap["case_sensitive"] else "SHORTANSWER"
            answers = ["=" + _escape_gap(a) for a in gap["accepted"]]
            parts.append("{1:" + kind + ":" + "~".join(answers) + "}")
        position = found.end()
    parts.append(html.escape(data["text"][position:], quote=False))
    return "".join(parts)


def _escape_gap(text: str) -> str:
    text = html.escape(text, quote=False)
    return re.sub(r'([\\}#~/"])', r"\\\1", text)


def _unescape_gap(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


WRITERS = {
    "single_choice": _write_choice,
    "multiple_response": _write_choice,
    "true_false": _write_truefalse,
    "short_answer": _write_shortanswer,
    "numeric": _write_numerical,
    "essay": _write_essay,
    "matching": _write_matching,
    "ordering": _write_ordering,
    "cloze": _write_cloze,
}


def _category_xml(path: list[str]) -> str:
    return (
        '  <question type="category">\n'
        f"    <category>\n      <text>{_cdata(category_text(path))}</text>\n    </category>\n"
        '    <info format="html">\n      <text></text>\n    </info>\n'
        "  </question>"
    )


def _cdata(text: str) -> str:
    """Text as Moodle writes it: CDATA when it holds markup, else plain (XML-escaped)."""
    text = "".join(ch for ch in text if _xml_char(ch))
    if not re.search(r"[<>&]", text):
        return text
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return (
        code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code > 0xFFFF
    )


def _comment(text: str) -> str:
    return text.replace("--", "- -")


# -- shared with GIFT ----------------------------------------------------------------------

CATEGORY_ROOTS = ("$course$", "$system$", "$module$", "$cat1$", "$quiz$")


def category_path(text: str) -> list[str]:
    """``$course$/top/Maths/Algebra`` → ``["Maths", "Algebra"]`` (``//`` is a literal ``/``)."""
    parts = [p.replace("\x00", "/").strip() for p in text.replace("//", "\x00").split("/")]
    parts = [p for p in parts if p]
    if parts and parts[0] in CATEGORY_ROOTS:
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return [p[:200] for p in parts]


def category_text(path: list[str]) -> str:
    return "/".join(["$course$", "top", *(name.replace("/", "//") for name in path)])


def question_category_path(question: Any) -> list[str]:
    path: list[str] = []
    category = question.category
    while category is not None and len(path) < 100:
        path.insert(0, category.name)
        category = category.parent
    return path


BLOCK_TAGS = re.compile(
    r"</?(p|br|div|li|ul|ol|tr|td|th|h[1-6]|table|blockquote|pre)\b[^>]*>", re.I
)


def html_to_text(text: str) -> str:
    """HTML as one line of plain text: tags removed, entities decoded, spaces collapsed."""
    text = BLOCK_TAGS.sub(" ", text)
    text = re.sub(r"<[^>]*>", "", text)
    return " ".join(html.unescape(text).split())


TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>")
VOID_TAGS = {"br", "img", "hr", "input", "wbr", "col", "area", "source", "embed", "meta", "link"}


def split_cloze_html(source: str, gap: re.Pattern) -> tuple[str, str]:
    """Split a question's HTML into the stem (the top-level elements before the one holding
    the first gap) and the cloze text (the rest), so an exported stem comes back as the
    stem."""
    first = gap.search(source)
    if first is None:
        return "", source
    depth, boundary = 0, 0
    for tag in TAG.finditer(source[: first.start()]):
        closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if closing:
            depth = max(depth - 1, 0)
            if depth == 0:
                boundary = tag.end()
        elif name not in VOID_TAGS and not self_closing:
            if depth == 0:
                boundary = tag.start()
            depth += 1
    return source[:boundary].strip(), source[boundary:]


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, index = [], "", 0
    while index < len(text):
        ch = text[index]
        if ch == "\\" and index + 1 < len(text):
            current += text[index : index + 2]
            index += 2
            continue
        if ch == separator:
            parts.append(current)
            current = ""
        else:
            current += ch
        index += 1
    parts.append(current)
    return parts


def _partition_unescaped(text: str, separator: str) -> tuple[str, str, str]:
    parts = _split_unescaped(text, separator)
    return parts[0], separator if len(parts) > 1 else "", separator.join(parts[1:])
