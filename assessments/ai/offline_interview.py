"""Offline feedback on a spoken interview answer (a transcript), by rules a candidate can
read: STAR parts, specificity, filler words, pace, one suggestion and a follow-up question.

A sentence belongs to a STAR part when it holds one of the part's cue phrases, or when its
embedding is close to the part's prototype sentences (so "Our biggest client was about to
leave" counts as a situation without any cue). Each sentence goes to its best part.
"""

from __future__ import annotations

import re
from collections import Counter

from . import text as tx
from .base import InterviewAnswerRequest, InterviewFeedback, StarPart, Usage

PARTS = ("situation", "task", "action", "result")

CUES = {
    "situation": (
        r"\b(when i was|at my (previous|last|current|old)|in my (previous|last|current) "
        r"(job|role|position|team)|i was working|i worked (at|as|on)|we had|there was|"
        r"there were|our team|the team was|last (year|summer|semester)|a few (years|months) "
        r"ago|back in|during my|while i was|the situation|the context|the company was)\b"
    ),
    "task": (
        r"\b(my (task|job|role|goal|responsibility|objective) was|i was (responsible|asked|"
        r"tasked|expected)|i (needed|had) to|we (needed|had) to|the (goal|challenge|problem|"
        r"objective|task) was|i was in charge|it was up to me|my aim was)\b"
    ),
    "action": (
        r"\b(i (decided|started|built|created|designed|organi[sz]ed|led|set up|wrote|"
        r"implemented|talked|spoke|met|analy[sz]ed|proposed|introduced|automated|reached out|"
        r"scheduled|trained|negotiated|prioriti[sz]ed|rewrote|tested|called|asked|used|"
        r"developed|coordinated|mapped|split|delegated|investigated|focused)|so i|then i|"
        r"first,? i|next,? i|after that,? i)\b"
    ),
    "result": (
        r"\b(as a result|in the end|eventually|the result|the outcome|which (led|resulted)|"
        r"resulted in|this (led|meant)|we (achieved|reduced|increased|saved|delivered|won|"
        r"cut|improved|shipped|launched|finished)|(increased|reduced|improved|saved|cut) "
        r"\w+|on time|ahead of schedule|i learned|we learned|the client (was|renewed)|"
        r"\d+ ?(%|percent))"
    ),
}

PROTOTYPES = {
    "situation": [
        "At my previous job our team was facing a difficult deadline.",
        "Last year I worked at a small company where customers kept complaining.",
        "The project was behind schedule and the client was unhappy.",
    ],
    "task": [
        "My responsibility was to fix the problem before the release.",
        "I was asked to lead the team and deliver the report on time.",
        "The goal was to reduce the number of complaints.",
    ],
    "action": [
        "I organised a meeting, analysed the data and built a new process.",
        "I talked to each person, set priorities and automated the tests.",
        "First I investigated the cause, then I wrote a plan and trained the team.",
    ],
    "result": [
        "As a result, we delivered on time and sales increased by twenty percent.",
        "In the end the client renewed the contract and complaints dropped.",
        "The outcome was a faster process and I learned to communicate earlier.",
    ],
}
PROTOTYPE_THRESHOLD = 0.55

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


def analyse(request: InterviewAnswerRequest, provider, *, usage: Usage) -> InterviewFeedback:
    answer = (request.answer or "").strip()
    sentences = tx.sentences(answer)
    word_list = tx.words(answer)
    words = len(word_list)
    star = _star(sentences, provider)
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


def _star(sentences: list[str], provider) -> tuple[StarPart, ...]:
    if not sentences:
        return tuple(StarPart(part, False) for part in PARTS)
    prototypes = [(part, text) for part in PARTS for text in PROTOTYPES[part]]
    matrix = provider.vectors(sentences + [text for _, text in prototypes])
    sentence_vectors, prototype_vectors = matrix[: len(sentences)], matrix[len(sentences) :]
    similarities = sentence_vectors @ prototype_vectors.T
    assigned: dict[str, list[str]] = {part: [] for part in PARTS}
    for index, sentence in enumerate(sentences):
        lowered = sentence.lower()
        scores = {}
        for part in PARTS:
            columns = [i for i, (p, _) in enumerate(prototypes) if p == part]
            semantic = float(max(similarities[index, columns]))
            cue = 1.0 if re.search(CUES[part], lowered) else 0.0
            scores[part] = cue + semantic
        best = max(PARTS, key=lambda p: (scores[p], -PARTS.index(p)))
        has_cue = scores[best] >= 1.0
        if has_cue or scores[best] >= PROTOTYPE_THRESHOLD:
            assigned[best].append(sentence)
    return tuple(StarPart(part, bool(assigned[part]), tuple(assigned[part])) for part in PARTS)


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
