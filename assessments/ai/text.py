"""Small, dependency-free text helpers shared by the offline provider's rules."""

from __future__ import annotations

import math
import re
from collections import Counter

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*%?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}|\n(?=\s*[-*•]\s)")
NUMBER = re.compile(r"^\d+(?:[.,]\d+)*%?$")

_STOPWORDS_WORDS = """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can could did do does doing don't down
    during each either else etc even ever every few for from further get gets got had
    has have having he her here hers herself him himself his how however i if in into is
    isn't it it's its itself just least less let like made make makes many may me might
    more most much must my myself neither no nor not now of off often on once one only
    onto or other others ought our ours ourselves out over own per quite rather really
    same several shall she should since so some such than that that's the their theirs
    them themselves then there therefore these they this those though through thus to
    too under until up upon us use used uses using very via was wasn't we well were what
    when where whether which while who whom whose why will with within without would yet
    you your yours yourself yourselves two three four five first second another way ways
    thing things something kind lot lots
"""
STOPWORDS = frozenset(_STOPWORDS_WORDS.split())


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` (line breaks between list items also end one)."""
    parts = SENTENCE_END.split((text or "").strip())
    out = []
    for part in parts:
        part = re.sub(r"\s+", " ", part).strip(" -*•\t")
        if part:
            out.append(part)
    return out


def stem(word: str) -> str:
    """A crude English stem, enough to match "cells"/"cell" and "reduced"/"reduce"."""
    w = word.lower()
    if NUMBER.match(w):
        return w
    for suffix, repl in (
        ("ational", "ate"),
        ("ization", "ize"),
        ("isation", "ise"),
        ("iveness", "ive"),
        ("fulness", "ful"),
        ("ousness", "ous"),
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ied", "y"),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("ly", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            break
    # "reduce"/"reduced" → "reduc"
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


def content_terms(text: str) -> list[str]:
    """Stems of the content words of ``text``, in order (stopwords and 1-letter words out)."""
    return [
        stem(w) for w in words(text) if w.lower() not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def key_terms(text: str, *, limit: int = 12) -> list[str]:
    """The content stems of ``text`` that carry its meaning: frequent and long words first."""
    counts = Counter(content_terms(text))
    ranked = sorted(counts, key=lambda t: (-(counts[t] * (1 + min(len(t), 10) / 10)), t))
    return ranked[:limit]


def surface_forms(text: str) -> dict[str, str]:
    """stem → the first way the text wrote it (to name terms in rationales)."""
    forms: dict[str, str] = {}
    for w in words(text):
        forms.setdefault(stem(w), w)
    return forms


def tf_idf(docs: list[list[str]]) -> list[dict[str, float]]:
    """TF-IDF weights per document (documents are lists of terms)."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    n = len(docs)
    out = []
    for doc in docs:
        tf = Counter(doc)
        length = max(len(doc), 1)
        out.append({t: (c / length) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in tf.items()})
    return out
