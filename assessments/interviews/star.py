"""A deterministic, rule-based STAR detector for interview answers.

An answer is split into sentences; a sentence shows a STAR part when it holds one of the
part's markers:

- **situation**: context and time ("when I was", "at my previous job", "last year", "our team
  was", "there was", "back in 2021");
- **task**: what was asked or needed ("I was responsible", "my goal was", "needed to",
  "I was asked to", "the challenge was");
- **action**: the speaker doing something, a first-person past-tense action verb ("I
  organised", "I built", "I led", "so I", "then I");
- **result**: what came of it ("as a result", "which led to", "in the end", a percentage or
  an amount, "increased/reduced/saved/cut …", "on time", "I learned").

A sentence may show several parts ("As a result I cut the backlog by 40%" is a result; its
action verb counts too). The rules are transparent on purpose: the feedback quotes the
sentences that showed each part, so a candidate can see why a part was found or missed.
Measured on ``tests/fixtures/interviews/star_answers.json`` by ``tests/test_interviews.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTS = ("situation", "task", "action", "result")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")

ACTION_VERBS = (
    "analy[sz]ed|arranged|asked|automated|booked|broke|built|called|changed|coached|"
    "collected|compared|contacted|coordinated|created|decided|delegated|designed|developed|"
    "documented|drafted|drew up|escalated|explained|fixed|focused|followed up|gathered|"
    "held|hired|implemented|interviewed|introduced|investigated|launched|led|listened|"
    "mapped|met|mentored|migrated|moved|negotiated|offered|organi[sz]ed|paired|persuaded|"
    "piloted|planned|prepared|presented|prioriti[sz]ed|proposed|prototyped|ran|reached out|"
    "rebuilt|recommended|redesigned|refactored|replaced|reorgani[sz]ed|researched|rewrote|"
    "reviewed|rolled out|scheduled|set up|showed|simplified|sketched|sat down|spoke|"
    "split|started|streamlined|suggested|surveyed|talked|taught|tested|took|trained|"
    "tracked|volunteered|walked|worked with|wrote"
)

MARKERS: dict[str, tuple[re.Pattern[str], ...]] = {
    "situation": (
        re.compile(
            r"\b(when i was|while i was|at my (previous|last|current|old|first|former) "
            r"(job|company|employer|role|position|workplace|school|internship|placement)|"
            r"in my (previous|last|current|old|first|former|final|second|third) "
            r"(job|role|position|team|year|internship|placement|company)|"
            r"last (year|summer|semester|term|month|spring|autumn|winter|quarter)|"
            r"(a few|two|three|several) (years|months|weeks) ago|back in|during my|"
            r"i (was working|worked) (at|as|for|in|on)|i was (a|an) [a-z]+ (at|in|on)|"
            r"our (team|company|department|school|clinic|ward|project|client) "
            r"(was|were|had)|the (company|team|project|hospital|school|ward|client|firm) "
            r"(was|were|had)|there (was|were) (a|an|two|three|several|many)|"
            r"we were (facing|behind|struggling|losing|running|short)|previously|"
            r"in (19|20)\d\d\b|at the time)"
        ),
    ),
    "task": (
        re.compile(
            r"\b(i was (responsible|accountable|in charge|asked|tasked|expected|assigned|"
            r"chosen|given the job)|responsible for|my (goal|task|job|role|responsibility|"
            r"objective|aim|mission|brief|assignment) was|"
            r"(i|we) (needed|had|wanted) to|needed to|had to (find|make|get|deliver|"
            r"reduce|fix|decide|convince|improve|finish|prepare|cut|keep|hit)|"
            r"the (goal|challenge|problem|objective|task|aim|target|brief) was|"
            r"it was (my job|up to me|my responsibility)|my manager asked me|"
            r"i had been asked)"
        ),
    ),
    "action": (
        re.compile(
            r"\b(i|i then|i first|i also|i personally|i quickly|i immediately|i eventually|"
            r"so i|then i|first,? i|next,? i|after that,? i|finally,? i) "
            rf"({ACTION_VERBS})\b"
        ),
        re.compile(r"\bmy (first|next) step was\b"),
    ),
    "result": (
        re.compile(
            r"\b(as a result|which (led|resulted|meant)|this (led|resulted|meant)|"
            r"resulted in|led to|in the end|eventually|by the end|the (result|outcome) was|"
            r"(increased|reduced|saved|cut|improved|grew|dropped|fell|rose|doubled|halved|"
            r"decreased|shortened|raised|boosted|lowered) (\w+ ){0,4}(by|from|to)|"
            r"(went|came) (down|up) (from|to|by)|"
            r"on time|ahead of (schedule|time)|under budget|"
            r"(i|we) (learned|won|delivered|launched|shipped|finished|met the|hit the|"
            r"passed|secured|kept the)|the (client|customer|patient|school|board|manager) "
            r"(renewed|thanked|praised|agreed|signed|approved|was (happy|pleased|satisfied))|"
            r"(got|received) (positive feedback|an award|a promotion|praise)|"
            r"was promoted|since then|instead of|(thanked|praised) (me|us|the)|"
            r"(all|everyone|every [a-z]+) passed|(we|they|i) (hired|raised|signed up|kept|"
            r"got the|were able to))\b"
        ),
        re.compile(r"\d+(\.\d+)? ?(%|percent|per cent)|[$£€]\s?\d"),
    ),
}


@dataclass(frozen=True)
class StarAnalysis:
    sentences: tuple[str, ...]
    parts: dict[str, tuple[str, ...]]  # part -> the sentences that show it

    def present(self, part: str) -> bool:
        return bool(self.parts[part])

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(part for part in PARTS if not self.parts[part])


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after . ! ? and at line breaks; whitespace tidied."""
    out = []
    for piece in _SENTENCE_END.split((text or "").strip()):
        piece = re.sub(r"\s+", " ", piece).strip(" -*•\t")
        if piece:
            out.append(piece)
    return out


def parts_of_sentence(sentence: str) -> set[str]:
    """The STAR parts one sentence shows."""
    lowered = sentence.lower().replace("’", "'")
    return {part for part in PARTS if any(p.search(lowered) for p in MARKERS[part])}


def detect_star(text: str) -> StarAnalysis:
    """Which STAR parts ``text`` shows, with the sentences that show each."""
    sentences = split_sentences(text)
    found: dict[str, list[str]] = {part: [] for part in PARTS}
    for sentence in sentences:
        for part in parts_of_sentence(sentence):
            found[part].append(sentence)
    return StarAnalysis(
        sentences=tuple(sentences), parts={part: tuple(found[part]) for part in PARTS}
    )
