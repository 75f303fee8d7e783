"""Offline question drafting from a source text, by rules an author can follow.

1. Split the text into sentences; weigh each sentence's terms by TF-IDF across sentences.
2. Score sentences: TF-IDF mass of their terms, plus a bonus for definitions ("X is Y",
   "X refers to Y") and numbers; very short or very long sentences are passed over.
3. For each chosen sentence, its answer is the defined term, a number, or its best key term.
4. Build a draft of the next requested type: cloze (the answer becomes a gap), true/false
   (the sentence, or the sentence with the answer swapped for another key term), short
   answer, single choice (distractors: other key terms of the same kind) or numeric.

Each draft's key and explanation are the source's own words; every draft is validated by its
question type before it is returned, and none is ever published without an author's review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assessments.questions import QuestionDataError, get_type

from . import text as tx
from .base import DraftQuestion, GenerationRequest

SUPPORTED = ("cloze", "true_false", "short_answer", "single_choice", "numeric", "essay")

DEFINITION = re.compile(
    r"^(?:An?\s+|The\s+)?(?P<term>[A-Za-z][\w\- ]{1,60}?)\s+"
    r"(?:is|are|was|were|refers to|means|is called|is known as|describes?)\s+"
    r"(?P<rest>.{10,})$"
)
YEAR_OR_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w.]*\d)")
SAFE_ANSWER = re.compile(r"^[\w][\w '\-.]*$")
# Words that make poor answers: verbs and vague words TF-IDF would otherwise pick.
_NOT_ANSWERS_WORDS = """
    happen happens happened take takes took place places depend depends contain contains
    convert converts converted let lets come comes came make makes become becomes
    include includes including called known small large many important different main
    common during process result results example part parts level levels number type
    types form forms change changes show shows find found give gives given need needs
    help helps
"""
NOT_ANSWERS = frozenset(_NOT_ANSWERS_WORDS.split())


def _answerable(word: str) -> bool:
    lowered = word.lower()
    return (
        len(lowered) > 3
        and lowered not in NOT_ANSWERS
        and not lowered.endswith(("ed", "ing", "ly"))
        and not tx.NUMBER.match(lowered)
        and bool(SAFE_ANSWER.match(word))
    )


@dataclass
class Fact:
    sentence: str
    answer: str
    kind: str  # "term" | "number" | "definition"
    score: float
    definition_rest: str = ""


def draft_questions(request: GenerationRequest, provider) -> list[DraftQuestion]:
    source = (request.source_text or "").strip()
    topic = (request.topic or "").strip()
    types = [t for t in request.types if t in SUPPORTED] or ["short_answer"]
    if not source:
        return _essay_prompts(topic, request) if topic else []
    facts, terms = _facts(source)
    if topic:
        facts = _by_topic(facts, topic, provider)
    drafts: list[DraftQuestion] = []
    used: set[str] = set()
    type_index = 0
    for fact in facts:
        if len(drafts) >= request.count:
            break
        if fact.sentence in used:
            continue
        for attempt in range(len(types)):
            kind = types[(type_index + attempt) % len(types)]
            draft = _build(kind, fact, terms, request, topic)
            if draft is not None:
                drafts.append(draft)
                used.add(fact.sentence)
                type_index = (type_index + attempt + 1) % len(types)
                break
    return drafts


# -- finding facts --------------------------------------------------------------------------


def _facts(source: str) -> tuple[list[Fact], list[tuple[str, float]]]:
    sentences = [s for s in tx.sentences(source) if 6 <= len(tx.words(s)) <= 45]
    if not sentences:
        return [], []
    docs = [tx.content_terms(s) for s in sentences]
    weights = tx.tf_idf(docs)
    # A term's importance in the whole text: how often it recurs, times its rarity.
    importance: dict[str, float] = {}
    for doc_weights in weights:
        for term, weight in doc_weights.items():
            importance[term] = importance.get(term, 0.0) + weight
    forms = tx.surface_forms(source)
    phrases = _phrases(source)
    terms = sorted(
        (
            (phrases.get(t, forms.get(t, t)), w)
            for t, w in importance.items()
            if _answerable(forms.get(t, t))
        ),
        key=lambda item: (-item[1], item[0]),
    )
    facts = []
    for sentence, doc_weights in zip(sentences, weights, strict=True):
        base = sum(doc_weights.values()) + 0.3 * sum(importance[t] for t in doc_weights) / max(
            len(doc_weights), 1
        )
        fact = _definition(sentence, base)
        if fact is None:
            fact = _number_fact(sentence, base)
        if fact is None:
            fact = _term_fact(sentence, doc_weights, importance, phrases, base)
        if fact is not None:
            facts.append(fact)
    facts.sort(key=lambda f: -f.score)
    return facts, terms


def _definition(sentence: str, base: float) -> Fact | None:
    match = DEFINITION.match(sentence.rstrip("."))
    if not match:
        return None
    term = match.group("term").strip()
    if len(term.split()) > 5 or term.lower() in tx.STOPWORDS or term.lower() in {"it", "this"}:
        return None
    if not SAFE_ANSWER.match(term):
        return None
    return Fact(sentence, term, "definition", base + 1.0, match.group("rest").strip().rstrip("."))


def _number_fact(sentence: str, base: float) -> Fact | None:
    match = YEAR_OR_NUMBER.search(sentence)
    if not match:
        return None
    return Fact(sentence, match.group(1), "number", base + 0.5)


def _term_fact(sentence, doc_weights, importance, phrases, base) -> Fact | None:
    candidates = [t for t in doc_weights if _answerable(_word_in(sentence, t) or t)]
    if not candidates:
        return None
    best = max(candidates, key=lambda t: (importance[t], t))
    word = _word_in(sentence, best) or best
    phrase = phrases.get(best)
    if phrase and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", sentence):
        word = phrase  # "carbon dioxide", not "dioxide"
    return Fact(sentence, word, "term", base)


def _phrases(source: str) -> dict[str, str]:
    """stem → a two-word phrase it recurs in ("dioxide" → "carbon dioxide")."""
    tokens = tx.words(source)
    counts: dict[tuple[str, str], int] = {}
    for a, b in zip(tokens, tokens[1:], strict=False):
        if a.lower() in tx.STOPWORDS or b.lower() in tx.STOPWORDS or not (a + b).isalpha():
            continue
        counts[(a.lower(), b.lower())] = counts.get((a.lower(), b.lower()), 0) + 1
    out: dict[str, str] = {}
    for (a, b), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n < 2:
            break
        out.setdefault(tx.stem(a), f"{a} {b}")
        out.setdefault(tx.stem(b), f"{a} {b}")
    return out


def _word_in(sentence: str, stem: str) -> str | None:
    for word in tx.words(sentence):
        if tx.stem(word) == stem:
            return word
    return None


def _by_topic(facts: list[Fact], topic: str, provider) -> list[Fact]:
    """Prefer sentences about ``topic`` (embedding similarity), keeping every fact."""
    if not facts:
        return facts
    matrix = provider.vectors([topic] + [f.sentence for f in facts])
    for fact, row in zip(facts, matrix[1:], strict=True):
        fact.score += 2.0 * float(row @ matrix[0])
    return sorted(facts, key=lambda f: -f.score)


# -- building drafts ------------------------------------------------------------------------


def _build(kind: str, fact: Fact, terms, request: GenerationRequest, topic: str):
    blanked = _blank(fact.sentence, fact.answer)
    if blanked is None:
        return None
    tags = tuple(dict.fromkeys(t for t in ([topic] if topic else []) + [fact.answer.lower()]))[:4]
    difficulty = request.difficulty or {"definition": 2, "number": 3, "term": 3}[fact.kind]
    explanation = f"<p>From the source: “{_html(fact.sentence)}”</p>"
    common = {
        "explanation": explanation,
        "difficulty": difficulty,
        "tags": tags,
    }
    if kind == "cloze":
        data = {
            "points": "1.00",
            "text": blanked.replace("_____", "{{1}}"),
            "gaps": [{"id": "1", "accepted": [fact.answer], "case_sensitive": False}],
        }
        return _draft(
            "cloze",
            f"Fill in: {fact.answer[:0]}{_short(fact.sentence)}",
            "<p>Fill in the missing word.</p>",
            data,
            rationale=f"A key {fact.kind} of the source, blanked out of its sentence.",
            **common,
        )
    if kind == "short_answer":
        if fact.kind == "definition":
            stem = f"<p>What term is defined as follows: {_html(fact.definition_rest)}?</p>"
        else:
            stem = f"<p>Complete the statement: {_html(blanked)}</p>"
        data = {"points": "1.00", "accepted": [fact.answer], "case_sensitive": False}
        return _draft(
            "short_answer",
            _short(fact.sentence),
            stem,
            data,
            rationale=f"Asks for the {fact.kind} “{fact.answer}” stated in the source.",
            **common,
        )
    if kind == "numeric":
        if fact.kind != "number":
            return None
        value = fact.answer.replace(",", "")
        data = {"points": "1.00", "answer": value, "tolerance": "0"}
        stem = f"<p>Give the number missing from: {_html(blanked)}</p>"
        return _draft(
            "numeric",
            _short(fact.sentence),
            stem,
            data,
            rationale="A number the source states.",
            **common,
        )
    distractors = _distractors(fact, terms, blanked)
    if kind == "true_false":
        false_version = bool(distractors) and (len(fact.sentence) % 2 == 0)
        statement = blanked.replace("_____", distractors[0]) if false_version else fact.sentence
        data = {
            "points": "1.00",
            "answer": not false_version,
            "feedback_true": "" if not false_version else f"The source says “{fact.answer}”.",
            "feedback_false": f"The source says: {fact.sentence}" if not false_version else "",
        }
        return _draft(
            "true_false",
            _short(fact.sentence),
            f"<p>True or false: {_html(statement)}</p>",
            data,
            rationale=(
                f"The source sentence with “{fact.answer}” replaced by “{distractors[0]}”."
                if false_version
                else "A statement taken as it is from the source."
            ),
            **common,
        )
    if kind == "single_choice":
        if len(distractors) < 2:
            return None
        options = [fact.answer, *distractors[:3]]
        # Deterministic but not always first: rotate by the sentence's length.
        shift = len(fact.sentence) % len(options)
        options = options[shift:] + options[:shift]
        data = {
            "points": "1.00",
            "shuffle": True,
            "options": [
                {"id": str(i + 1), "text": o, "correct": o == fact.answer, "feedback": ""}
                for i, o in enumerate(options)
            ],
        }
        return _draft(
            "single_choice",
            _short(fact.sentence),
            f"<p>Which completes the statement? {_html(blanked)}</p>",
            data,
            rationale=(
                f"Answer “{fact.answer}” from the source; distractors are other key terms of "
                f"the same text ({', '.join(distractors[:3])})."
            ),
            **common,
        )
    return None


def _draft(type_key, title, stem, data, **fields) -> DraftQuestion | None:
    try:
        normalised = get_type(type_key).validate(data)
    except QuestionDataError:
        return None
    return DraftQuestion(type=type_key, title=title[:255], stem=stem, data=normalised, **fields)


def _blank(sentence: str, answer: str) -> str | None:
    pattern = re.compile(rf"(?<![\w]){re.escape(answer)}(?![\w])")
    if not pattern.search(sentence):
        return None
    return pattern.sub("_____", sentence, count=1)


def _distractors(fact: Fact, terms, blanked: str) -> list[str]:
    """Other key terms of the text like the answer: numbers for a number, capitalised names
    for a name, words otherwise; never a word of the sentence itself."""
    answer = fact.answer
    in_sentence = {w.lower() for w in tx.words(blanked)}
    if fact.kind == "number":
        try:
            value = float(answer.replace(",", ""))
        except ValueError:
            return []
        is_int = "." not in answer
        variants = []
        for factor in (0.5, 2, 1.5, 10) if not (is_int and 1000 <= value <= 2100) else ():
            variants.append(value * factor)
        if is_int and 1000 <= value <= 2100:  # a year
            variants = [value - 10, value + 10, value - 50]
        out = []
        for v in variants:
            text = str(int(round(v))) if is_int else f"{v:g}"
            if text != answer and text not in out:
                out.append(text)
        return out
    capitalised = answer[:1].isupper()
    out = []
    for term, _ in terms:
        if term.lower() == answer.lower() or term.lower() in in_sentence:
            continue
        if tx.stem(term) == tx.stem(answer) or not SAFE_ANSWER.match(term):
            continue
        if capitalised != term[:1].isupper():
            continue
        out.append(term)
        if len(out) == 3:
            break
    return out


def _essay_prompts(topic: str, request: GenerationRequest) -> list[DraftQuestion]:
    """Without a source text the offline provider states no facts: it drafts essay prompts
    about the topic with a generic rubric for the author to adapt."""
    if "essay" not in request.types and not request.types:
        return []
    stems = [
        f"Explain the main ideas of {topic} to someone new to the subject.",
        f"Discuss one important debate or open question in {topic}.",
        f"Describe a real-world example that illustrates {topic}, and explain why it does.",
        f"Compare two approaches or viewpoints within {topic}.",
        f"What are the most common misconceptions about {topic}, and how would you correct them?",
    ]
    rubric = [
        {"id": "content", "criterion": "Content", "max_points": "4", "description": ""},
        {"id": "reasoning", "criterion": "Reasoning", "max_points": "4", "description": ""},
        {"id": "clarity", "criterion": "Clarity", "max_points": "2", "description": ""},
    ]
    drafts = []
    for stem in stems[: request.count]:
        draft = _draft(
            "essay",
            stem[:80],
            f"<p>{_html(stem)}</p>",
            {"rubric": rubric, "min_words": 150, "max_words": 600},
            explanation="",
            difficulty=request.difficulty or 3,
            tags=(topic.lower(),),
            rationale=(
                "No source text was given: the offline provider drafts open prompts and a "
                "generic rubric, never facts it cannot source."
            ),
        )
        if draft:
            drafts.append(draft)
    return drafts


def _short(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def _html(text: str) -> str:
    import html

    return html.escape(text, quote=False)
