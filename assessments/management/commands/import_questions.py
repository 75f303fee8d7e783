"""``import_questions``: preview (``--dry-run``) or import a question file into one portal."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from assessments.interchange.base import InterchangeError
from assessments.interchange.formats import FORMAT_MODULES
from assessments.interchange.services import commit_import, preview_import
from assessments.management.portal import portal_schema


class Command(BaseCommand):
    help = (
        "Import questions from a file into a portal's bank, all or nothing. With --dry-run, "
        "print the preview as JSON and store nothing. Exit status 1 when the file has errors."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import.")
        parser.add_argument("--schema", required=True, help="The portal's schema, e.g. alpha.")
        parser.add_argument(
            "--format", required=True, help=f"One of: {', '.join(sorted(FORMAT_MODULES))}."
        )
        parser.add_argument("--dry-run", action="store_true", help="Preview only; store nothing.")
        parser.add_argument("--author", help="E-mail of the user recorded as author (optional).")

    def handle(self, *args, **options):
        schema = portal_schema(options["schema"])
        if options["format"] not in FORMAT_MODULES:
            raise CommandError(
                f"Unknown format {options['format']!r}. Known formats: "
                f"{', '.join(sorted(FORMAT_MODULES))}."
            )
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        with schema_context(schema):
            author = None
            if options["author"]:
                author = get_user_model().objects.filter(email__iexact=options["author"]).first()
                if author is None:
                    raise CommandError(f"No user {options['author']!r} in portal {schema!r}.")
            try:
                preview = preview_import(format=options["format"], data=data, filename=path.name)
            except InterchangeError as exc:
                raise CommandError(f"{path.name}: {exc}") from None
            if options["dry_run"] or not preview.ok:
                self.stdout.write(json.dumps(preview.as_dict(), indent=2, ensure_ascii=False))
            if not preview.ok:
                raise CommandError(
                    f"{len(preview.errors)} error(s) in {path.name}; nothing was stored."
                )
            if options["dry_run"]:
                return
            try:
                created = commit_import(preview=preview, author=author)
            except InterchangeError as exc:
                raise CommandError(f"{exc} Nothing was stored.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {len(created)} question(s) in {schema!r} from {path.name}."
            )
        )
