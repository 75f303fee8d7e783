"""Exams built from the question bank: sections, fixed items and pool rules, cohorts and
assignments, and the immutable published ``ExamVersion`` that attempts point to.

Models live in ``models.py`` (re-exported by ``assessments.models``), writes in
``services.py``, reads in ``selectors.py``.
"""
