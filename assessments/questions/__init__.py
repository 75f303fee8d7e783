"""Question types: validation, candidate rendering and grading, independent of the database."""

from .base import Grade, QuestionDataError, QuestionType
from .types import REGISTRY, get_type

__all__ = ["REGISTRY", "Grade", "QuestionDataError", "QuestionType", "get_type"]
