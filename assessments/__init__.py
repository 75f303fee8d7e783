"""Assessments: question banks, exams, delivery and grading (tenant schema)."""
