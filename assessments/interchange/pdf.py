"""PDF exam papers: numbered questions extracted as drafts for review (import only).

The text of each page is extracted with pypdf and split into questions at lines starting
``1.``, ``1)`` or ``Question 1`` (numbers must increase; a smaller or equal number is text of
the current question). Lines ``a)``, ``A.`` or ``(a)`` (letters in order from a) are options: a
question with two or more options becomes a ``single_choice`` whose correct option comes from
an ``Answer: b`` line in the question or an ``Answer key`` section (``1. b  2. c …``) at the end;
without one the first option is marked correct (the bank needs exactly one), with a warning.
A question without options becomes an ``essay`` with one rubric criterion "Overall" of 1
point. Every item carries the warning "extracted from PDF: review before use"; the commit
stores questions as drafts.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

from assessments.interchange.base import (
    ImportItem,
    ImportPreview,
    ImportProblem,
    InterchangeError,
)

MAX_PAGES = 500
TITLE_LENGTH = 80

REVIEW = "extracted from PDF: review before use"
NO_ANSWER = "no answer found: the first option is marked correct; review before use"
AS_ESSAY = "imported as an essay: review the type"

QUESTION = re.compile(
    r"^\s*(?:question\s+(?P<word>\d+)\b\s*[.:)\-–]?|(?P<number>\d+)[.)](?!\d))\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
OPTION = re.compile(r"^\s*(?:\((?P<paren>[a-z])\)|(?P<letter>[a-z])[.)])\s+(?P<text>\S.*)$", re.I)
ANSWER = re.compile(
    r"^\s*(?:correct\s+answer|answer)\s*[:\-–]\s*(?P<value>.+?)\s*$",
    re.IGNORECASE,
)
ANSWER_LETTER = re.compile(r"^\(?(?P<letter>[a-z])\)?[.)]?$", re.IGNORECASE)
ANSWER_KEY = re.compile(r"^\s*answer\s+key\s*:?\s*$", re.IGNORECASE)
KEY_ENTRY = re.compile(r"(\d+)\s*[.):\-–]?\s*\(?([a-z])\)?(?![a-z])", re.IGNORECASE)
PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+\d+(?:\s+of\s+\d+)?|\d+\s*/\s*\d+|[-–]\s*\d+\s*[-–])\s*$", re.IGNORECASE
)


class PdfFormat:
    key = "pdf"
    label = "PDF (questions extracted for review)"
    can_export = False

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        pages = _page_lines(data)
        preview = ImportPreview(format=self.key)
        if not any(lines for _, lines in pages):
            preview.errors.append(
                ImportProblem(
                    "file",
                    "the PDF holds no text that can be extracted (a scanned paper? "
                    "run it through OCR first)",
                )
            )
            return preview
        lines, key = _split_answer_key(pages)
        questions = _questions(lines, preview)
        if not questions:
            preview.errors.append(
                ImportProblem(
                    "file",
                    "no numbered questions found: expected lines starting '1.', '1)' or "
                    "'Question 1'",
                )
            )
            return preview
        for number, page, body in questions:
            ref = f"question {number} (page {page})"
            try:
                preview.items.append(_item(ref, body, key.get(number)))
            except PdfItemError as exc:
                preview.errors.append(ImportProblem(ref, str(exc)))
        return preview

    def write(self, questions: list[Any]) -> bytes:
        raise InterchangeError("Questions cannot be exported as PDF.")


FORMAT = PdfFormat()


class PdfItemError(ValueError):
    """One extracted question that cannot become a bank item; the message says why."""


def _page_lines(data: bytes) -> list[tuple[int, list[str]]]:
    """(page number, non-empty text lines) of every page; refuses unreadable files whole."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if b"%PDF-" not in data[:1024]:
        raise InterchangeError("The file is not a PDF (it does not start with '%PDF-').")
    if b"%%EOF" not in data[-1024:]:
        raise InterchangeError(
            "could not read the PDF: it is truncated (no '%%EOF' marker at the end)."
        )
    failures = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InterchangeError(
                "The PDF is encrypted (password-protected); save an unprotected copy and "
                "import that."
            )
        count = len(reader.pages)
    except InterchangeError:
        raise
    except (*failures, RecursionError) as exc:
        raise InterchangeError(f"could not read the PDF: {exc}") from None
    if count > MAX_PAGES:
        raise InterchangeError(f"The PDF has {count} pages; the limit is {MAX_PAGES}.")
    pages = []
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except (*failures, RecursionError) as exc:
            raise InterchangeError(f"could not read the PDF: page {number}: {exc}") from None
        lines = [
            " ".join(line.split())
            for line in text.splitlines()
            if line.strip() and not PAGE_NUMBER.match(line)
        ]
        pages.append((number, lines))
    return pages


def _split_answer_key(
    pages: list[tuple[int, list[str]]],
) -> tuple[list[tuple[int, str]], dict[int, str]]:
    """(page, line) of the paper before an ``Answer key`` heading, and the key after it
    (question number → option letter)."""
    lines: list[tuple[int, str]] = []
    key: dict[int, str] = {}
    in_key = False
    for page, page_lines in pages:
        for line in page_lines:
            if not in_key and ANSWER_KEY.match(line):
                in_key = True
                continue
            if in_key:
                for number, letter in KEY_ENTRY.findall(line):
                    key.setdefault(int(number), letter.lower())
            else:
                lines.append((page, line))
    return lines, key


def _questions(
    lines: list[tuple[int, str]], preview: ImportPreview
) -> list[tuple[int, int, list[str]]]:
    """(number, first page, lines) of each numbered question; the first line holds the text
    after the number. Text before question 1 (title, instructions) is left out."""
    questions: list[tuple[int, int, list[str]]] = []
    last = 0
    for page, line in lines:
        found = QUESTION.match(line)
        if found:
            number = int(found.group("word") or found.group("number"))
            if number > last:
                if questions and number != last + 1:
                    preview.warnings.append(
                        ImportProblem(
                            f"question {number} (page {page})",
                            f"numbering jumps from {last} to {number}: check nothing is missing",
                        )
                    )
                questions.append((number, page, [found.group("rest").strip()]))
                last = number
                continue
        if questions:
            questions[-1][2].append(line)
    return questions


def _item(ref: str, body: list[str], key_letter: str | None) -> ImportItem:
    stem_lines: list[str] = []
    options: list[dict[str, Any]] = []
    answers: list[str] = []
    for line in body:
        if found := ANSWER.match(line):
            answers.append(found.group("value"))
            continue
        option = OPTION.match(line)
        letter = option and (option.group("paren") or option.group("letter")).lower()
        if option and letter == chr(ord("a") + len(options)):
            options.append({"id": letter, "text": option.group("text").strip()})
        elif options:
            options[-1]["text"] += " " + line
        else:
            stem_lines.append(line)
    warnings = [REVIEW]
    if len(options) < 2:
        # One lone "a)" line is text, not a choice.
        stem_lines += [f"{o['id']}) {o['text']}" for o in options]
        options = []
    stem_text = " ".join(line for line in stem_lines if line).strip()
    if not stem_text:
        raise PdfItemError("the question has no text after its number")
    item = ImportItem(
        ref=ref,
        type="",
        title=stem_text[:TITLE_LENGTH].rstrip(),
        stem=f"<p>{html.escape(stem_text, quote=False)}</p>",
        data={},
        warnings=warnings,
    )
    if options:
        _choice(item, options, answers, key_letter)
    else:
        item.type = "essay"
        item.data = {
            "rubric": [{"id": "1", "criterion": "Overall", "max_points": "1.00", "description": ""}]
        }
        warnings.append(AS_ESSAY)
        if answers:
            item.explanation = "".join(
                f"<p>Answer: {html.escape(a, quote=False)}</p>" for a in answers
            )
            warnings.append("the answer line was moved to the explanation")
    return item


def _choice(
    item: ImportItem, options: list[dict[str, Any]], answers: list[str], key_letter: str | None
) -> None:
    letters = [o["id"] for o in options]
    correct = None
    for value in answers:
        found = ANSWER_LETTER.match(value)
        if found and found.group("letter").lower() in letters:
            correct = found.group("letter").lower()
            break
        item.warnings.append(f"answer {value!r} matches no option; ignored")
    if correct is None and key_letter is not None:
        if key_letter in letters:
            correct = key_letter
        else:
            item.warnings.append(f"answer key {key_letter!r} matches no option; ignored")
    if correct is None:
        correct = letters[0]
        item.warnings.append(NO_ANSWER)
    item.type = "single_choice"
    item.data = {
        "points": "1.00",
        "shuffle": False,
        "options": [
            {"id": o["id"], "text": o["text"], "correct": o["id"] == correct, "feedback": ""}
            for o in options
        ],
    }
