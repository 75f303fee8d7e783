"""The registry of question formats. A format module adds itself here by key."""

from __future__ import annotations

from importlib import import_module

from assessments.interchange.base import InterchangeError, QuestionFormat

#: key -> module path holding ``FORMAT``; modules are imported on first use.
FORMAT_MODULES = {
    "json": "assessments.interchange.json_format",
    "csv": "assessments.interchange.csv_format",
    "xlsx": "assessments.interchange.xlsx_format",
    "moodle-xml": "assessments.interchange.moodle_xml",
    "gift": "assessments.interchange.gift",
    "qti": "assessments.interchange.qti",
    "pdf": "assessments.interchange.pdf",
}


def get_format(key: str) -> QuestionFormat:
    if key not in FORMAT_MODULES:
        raise InterchangeError(
            f"Unknown format '{key}'. Known formats: {', '.join(sorted(FORMAT_MODULES))}."
        )
    return import_module(FORMAT_MODULES[key]).FORMAT
