"""``export_questions``: write a portal's questions to a file in one of the formats."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from assessments.interchange.base import InterchangeError
from assessments.interchange.formats import FORMAT_MODULES
from assessments.interchange.services import export_questions
from assessments.management.portal import portal_schema


class Command(BaseCommand):
    help = "Export a portal's questions (optionally only one status) to a file."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="The portal's schema, e.g. alpha.")
        parser.add_argument(
            "--format", required=True, help=f"One of: {', '.join(sorted(FORMAT_MODULES))}."
        )
        parser.add_argument("--out", required=True, help="The file to write.")
        parser.add_argument(
            "--status", choices=["draft", "active", "retired"], help="Only questions with it."
        )

    def handle(self, *args, **options):
        from assessments.models import Question

        schema = portal_schema(options["schema"])
        if options["format"] not in FORMAT_MODULES:
            raise CommandError(
                f"Unknown format {options['format']!r}. Known formats: "
                f"{', '.join(sorted(FORMAT_MODULES))}."
            )
        with schema_context(schema):
            questions = Question.objects.select_related("category").prefetch_related("tags")
            if options["status"]:
                questions = questions.filter(status=options["status"])
            questions = list(questions.order_by("pk"))
            try:
                content = export_questions(format=options["format"], questions=questions)
            except (InterchangeError, ImportError) as exc:
                raise CommandError(str(exc)) from None
        out = Path(options["out"])
        try:
            out.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Exported {len(questions)} question(s) from {schema!r} to {out}.")
        )
