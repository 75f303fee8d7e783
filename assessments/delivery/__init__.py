"""Exam delivery: attempts, autosaved responses, the server-side clock, integrity signals and
auto-grading. A Django app of its own (label ``delivery``) inside ``assessments``."""
