"""The contract every question type follows, and the helpers they share.

A question type is a class, not a model: it turns an author's JSON into normalised ``data``
(``validate``), shows a candidate what they may see (``render_context``, never the key) and
scores a response (``grade``). Scores are ``Decimal`` with two places; decimal quantities in
``data`` are stored as strings (``"1.50"``) so that JSON never turns them into floats.
"""

from __future__ import annotations

import hashlib
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

TWO_PLACES = Decimal("0.01")
ZERO = Decimal("0.00")


class QuestionDataError(ValueError):
    """Raised when question data (or a question field) is refused.

    ``errors`` lists every problem found, each naming the field, e.g.
    ``"options[2].text is empty"``.
    """

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class Grade:
    """The result of grading one response.

    ``correct`` is ``None`` when a person still has to grade the response (essays).
    """

    score: Decimal
    max_score: Decimal
    correct: bool | None
    feedback: list[str] = field(default_factory=list)


def money(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to two places (scores, points, weights)."""
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def item_key(text: str) -> str:
    """An opaque, stable id for a piece of candidate-visible text.

    Matching choices and ordering items are addressed by this key, so the ids a candidate
    sees say nothing about the pairing or the order of the answer key.
    """
    return "k" + hashlib.sha256(text.encode()).hexdigest()[:12]


def shuffled(items: list[Any], seed: int | str | None) -> list[Any]:
    """A copy of ``items`` shuffled deterministically by ``seed`` (same seed, same order)."""
    copy = list(items)
    random.Random(str(seed)).shuffle(copy)  # noqa: S311 - presentation order, not security
    return copy


def wildcard_match(pattern: str, text: str, *, case_sensitive: bool) -> bool:
    """Whether ``text`` matches ``pattern``, where ``*`` stands for any run of characters.

    Both sides are trimmed and inner whitespace is collapsed to one space before comparing.
    """
    pattern, text = normalise_spaces(pattern), normalise_spaces(text)
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.fullmatch(regex, text, flags) is not None


def normalise_spaces(text: str) -> str:
    return " ".join(text.split())


class Checker:
    """Collects validation errors with their field paths while normalising values."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise QuestionDataError(self.errors)

    def only_fields(self, path: str, value: dict, allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.error(f"{where} is not a known field")

    def mapping(self, path: str, value: Any) -> dict | None:
        if not isinstance(value, dict):
            self.error(f"{path} must be an object")
            return None
        return value

    def items(self, path: str, value: Any, *, minimum: int = 0) -> list:
        if value is None:
            self.error(f"{path} is required")
            return []
        if not isinstance(value, list):
            self.error(f"{path} must be a list")
            return []
        if len(value) < minimum:
            self.error(f"{path} needs at least {minimum} item{'s' if minimum != 1 else ''}")
        return value

    def text(self, path: str, value: Any, *, required: bool = True) -> str:
        if value is None:
            if required:
                self.error(f"{path} is required")
            return ""
        if not isinstance(value, str):
            self.error(f"{path} must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.error(f"{path} is empty")
        return value

    def boolean(self, path: str, value: Any, *, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(f"{path} must be true or false")
            return default
        return value

    def decimal(
        self,
        path: str,
        value: Any,
        *,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        exclusive_minimum: bool = False,
        places: int | None = 2,
    ) -> Decimal | None:
        if value is None:
            if default is None:
                self.error(f"{path} is required")
            return default
        number = parse_decimal(value)
        if number is None:
            self.error(f"{path} must be a number")
            return default
        if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
            self.error(f"{path} has more than {places} decimal places")
            return default
        if minimum is not None:
            if exclusive_minimum and number <= minimum:
                self.error(f"{path} must be greater than {minimum}")
                return default
            if not exclusive_minimum and number < minimum:
                self.error(f"{path} must be at least {minimum}")
                return default
        if maximum is not None and number > maximum:
            self.error(f"{path} must be at most {maximum}")
            return default
        return number

    def unique(self, path: str, values: list[str], what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value and value in seen:
                self.error(f"{path}[{index}].{what} repeats {value!r}")
            seen.add(value)


def parse_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from an int, float or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int | str | Decimal):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def decimal_text(value: Decimal, places: int | None = 2) -> str:
    """How decimals are stored in ``data``: a string, two places unless told otherwise."""
    if places is None:
        return format(value, "f")
    return str(value.quantize(Decimal(1).scaleb(-places)))


class QuestionType(ABC):
    """Base class of every question type. Subclasses set ``key``, ``label`` and ``fields``.

    ``validate`` returns the normalised data (defaults filled in, text trimmed, decimals as
    strings) or raises :class:`QuestionDataError` listing every problem. ``grade`` and
    ``render_context`` take data that ``validate`` returned.
    """

    key: ClassVar[str]
    label: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]

    def validate(self, data: dict) -> dict:
        check = Checker()
        if not isinstance(data, dict):
            raise QuestionDataError("data must be an object")
        check.only_fields("", data, self.fields)
        normalised = self._validate(data, check)
        check.raise_if_any()
        return normalised

    @abstractmethod
    def _validate(self, data: dict, check: Checker) -> dict:
        """Check ``data`` field by field into ``check``; return the normalised data."""

    def max_score(self, data: dict) -> Decimal:
        return money(data["points"])

    @abstractmethod
    def grade(self, data: dict, response: Any) -> Grade:
        """Score ``response`` against validated ``data``."""

    @abstractmethod
    def render_context(self, data: dict, *, shuffle_seed: int | str | None = None) -> dict:
        """What a candidate sees: never any part of the answer key."""

    def _points(self, data: dict, check: Checker) -> str:
        points = check.decimal(
            "points",
            data.get("points"),
            default=Decimal("1"),
            minimum=Decimal("0"),
            exclusive_minimum=True,
        )
        return decimal_text(points or Decimal("1"))

    def _scaled(self, data: dict, fraction: Decimal, feedback: list[str]) -> Grade:
        """A grade worth ``fraction`` (0..1) of the question's points."""
        fraction = min(max(fraction, Decimal(0)), Decimal(1))
        maximum = self.max_score(data)
        return Grade(
            score=money(maximum * fraction),
            max_score=maximum,
            correct=fraction == 1,
            feedback=feedback,
        )
