"""Offline feedback on a spoken interview answer (a transcript), by rules a candidate can
read: STAR parts, specificity, filler words, pace, one suggestion and a follow-up question.

The STAR parts come from ``assessments.interviews.star``, Viva's one STAR detector (measured
on ``tests/fixtures/interviews/star_answers.json``): an earlier cue-plus-embedding detector
here scored lower on that set (recall 0.57-0.92 against 0.95-1.00) and adding the
embedding prototypes to the rules found nothing the rules missed, so only the rules remain.
"""

from __future__ import annotations

import re
from collections import Counter

from assessments.interviews.star import PARTS, detect_star

from . import text as tx
from .base import InterviewAnswerRequest, InterviewFeedback, StarPart, Usage

_ACTION_VERBS_WORDS = """
    analysed analyzed automated built coordinated created cut decided delegated
    delivered designed developed drafted fixed implemented improved increased
    interviewed introduced launched led mapped measured mentored migrated negotiated
    organised organized planned presented prioritised prioritized proposed rebuilt
    reduced refactored resolved rewrote saved scheduled shipped simplified solved
    streamlined tested trained wrote
"""
ACTION_VERBS = frozenset(_ACTION_VERBS_WORDS.split())
_TOOLS_WORDS = """
    excel python sql jira slack salesforce tableau figma git github gitlab aws azure gcp
    docker kubernetes trello asana notion confluence sap powerpoint word java javascript
    react django linux hubspot zendesk spss matlab r
"""
TOOLS = frozenset(_TOOLS_WORDS.split())
FILLERS = {
    "um": r"\bu+m+\b",
    "uh": r"\bu+h+\b",
    "er": r"\b(er|erm)\b",
    "like": r"(?:(?<=, )|(?<=\. )|^)like\b|\blike,",
    "you know": r"\byou know\b(?! (how|what|that|why|when|where))",
    "basically": r"\bbasically\b",
    "actually": r"\bactually\b",
    "sort of": r"\bsort of\b",
    "kind of": r"\bkind of\b",
    "i mean": r"\bi mean\b",
    "literally": r"\bliterally\b",
    "so yeah": r"\bso yeah\b",
}


def analyse(request: InterviewAnswerRequest, *, usage: Usage) -> InterviewFeedback:
    answer = (request.answer or "").strip()
    sentences = tx.sentences(answer)
    word_list = tx.words(answer)
    words = len(word_list)
    star = _star(answer)
    specificity = _specificity(answer, sentences)
    fillers = _fillers(answer)
    wpm = None
    if request.duration_seconds and request.duration_seconds > 0 and words:
        wpm = round(words / (request.duration_seconds / 60), 1)
    return InterviewFeedback(
        star=star,
        specificity=specificity,
        filler_words=fillers,
        words=words,
        words_per_minute=wpm,
        suggestion=_suggestion(star, specificity, fillers, words, wpm),
        follow_up_question=_follow_up(star, sentences, request),
        usage=usage,
    )


def _star(answer: str) -> tuple[StarPart, ...]:
    found = detect_star(answer)
    return tuple(StarPart(part, found.present(part), found.parts[part]) for part in PARTS)


def _specificity(answer: str, sentences: list[str]) -> float:
    """0..1: numbers, concrete action verbs and named tools per sentence."""
    if not sentences:
        return 0.0
    tokens = tx.words(answer)
    lowered = [t.lower() for t in tokens]
    numbers = sum(1 for t in tokens if tx.NUMBER.match(t))
    numbers += len(re.findall(r"\b(percent|per cent|half|twice|double|triple)\b", answer.lower()))
    verbs = sum(1 for t in lowered if t in ACTION_VERBS)
    tools = sum(1 for t in lowered if t in TOOLS)
    # Names: capitalised words that do not start a sentence (teams, products, clients).
    starts = {s.split()[0] for s in sentences if s.split()}
    names = sum(1 for t in tokens if t[:1].isupper() and t not in starts and t.lower() not in {"i"})
    evidence = 2.0 * numbers + 1.0 * verbs + 1.5 * tools + 0.5 * names
    return round(min(evidence / (2.5 * len(sentences)), 1.0), 2)


def _fillers(answer: str) -> dict[str, int]:
    lowered = answer.lower()
    counts: Counter[str] = Counter()
    for name, pattern in FILLERS.items():
        found = len(re.findall(pattern, lowered, flags=re.MULTILINE))
        if found:
            counts[name] = found
    return dict(counts)


def _suggestion(star, specificity, fillers, words, wpm) -> str:
    missing = [p.part for p in star if not p.present]
    if words < 40:
        return (
            "Say more: a strong answer takes about a minute (120-200 words) and walks through "
            "the situation, your task, what you did and what came of it."
        )
    if "result" in missing:
        return (
            "End with the result: say what changed because of what you did, with a number if "
            "you can (time saved, sales, grades, complaints), and what you learned."
        )
    if "action" in missing:
        return (
            "Describe your own actions in the first person ('I analysed…', 'I set up…'): "
            "the interviewer wants to know what you did, not only what the team did."
        )
    if "situation" in missing or "task" in missing:
        part = "situation" if "situation" in missing else "task"
        return (
            f"Open with the {part}: one or two sentences of context (where, when, what was at "
            "stake, what you were responsible for) before what you did."
        )
    filler_total = sum(fillers.values())
    if filler_total >= max(3, words // 40):
        worst = max(fillers, key=fillers.get)
        return (
            f"Cut the filler words ({filler_total} in all, mostly “{worst}”): pause briefly "
            "instead, it sounds more confident."
        )
    if specificity < 0.4:
        return (
            "Be more specific: name the tools, people and numbers involved (how many, how "
            "long, by how much) so the interviewer can picture it."
        )
    if wpm is not None and wpm > 170:
        return (
            f"Slow down a little: {wpm:.0f} words a minute is fast; about 130-160 is easy "
            "to follow."
        )
    if wpm is not None and wpm < 100:
        return (
            f"Keep the pace up: {wpm:.0f} words a minute; rehearse so the story flows at 120-150."
        )
    return (
        "A complete STAR answer: to stand out, add what you would do differently next time "
        "and how you applied the lesson since."
    )


def _follow_up(star, sentences: list[str], request: InterviewAnswerRequest) -> str:
    present = {p.part: p for p in star}
    if not present["result"].present:
        return "What was the outcome, and how did you measure whether it worked?"
    if not present["action"].present:
        return "What exactly did you do yourself, step by step?"
    if not present["situation"].present:
        return "Can you set the scene: where was this, and what was at stake?"
    actions = present["action"].sentences
    key = tx.key_terms(" ".join(actions), limit=1)
    forms = tx.surface_forms(" ".join(actions))
    if key:
        return (
            f"You mentioned {forms.get(key[0], key[0])}: what alternatives did you consider, "
            "and why did you choose this one?"
        )
    competency = request.competency or "this"
    return f"What would you do differently next time in a situation that tests {competency}?"
