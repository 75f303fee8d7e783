"""Question interchange: reading and writing question files in each supported format.

Every format is a module with a ``FORMAT`` object (see ``base.QuestionFormat``) registered in
``formats.FORMATS``. Import is two steps: ``preview_import`` parses and validates everything
and stores nothing; ``commit_import`` stores every item of a clean preview in one transaction,
or nothing.
"""
