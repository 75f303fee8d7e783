"""Never lost: an autosave in flight when the attempt is submitted is waited for and graded.

Needs real commits (a second database connection must see the attempt), so it runs on the
``committed_db`` fixture rather than inside a test transaction.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import psycopg
from django.core import signing
from django.db import connection
from django_tenants.utils import schema_context

from assessments.delivery import autosave, services

from .test_delivery import answer, make_sitting


def test_an_acknowledged_answer_in_flight_during_submit_is_graded(make_committed_portal):
    sitting = make_sitting(make_committed_portal("omega"))
    attempt = sitting.start()
    settings = connection.settings_dict
    dsn = psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    claims_token = sitting.token(attempt)
    claims = signing.loads(claims_token, salt=autosave.TOKEN_SALT)
    with psycopg.connect(dsn) as other:
        # A save that has run its statement but not committed yet holds the share lock …
        with other.cursor() as cursor:
            cursor.execute(
                autosave.SAVE_SQL.format(schema=claims["s"]),
                {
                    "schema": claims["s"],
                    "attempt": claims["a"],
                    "user": claims["u"],
                    "pw": claims["p"],
                    "session": sitting.client.session.session_key,
                    "answers": json.dumps([answer(1, "a", 1)]),
                },
            )
            assert cursor.fetchone()[0] == 1
        # … so the submit waits for it, then grades the saved answer.
        done = threading.Event()

        def submit():
            with schema_context(sitting.portal.schema):
                services.submit_attempt(attempt=attempt)
            connection.close()
            done.set()

        worker = threading.Thread(target=submit)
        worker.start()
        assert not done.wait(0.5), "submit did not wait for the save in flight"
        other.commit()
        worker.join(10)
    assert done.is_set()
    closed = sitting.reload(attempt)
    assert closed.status == "submitted"
    assert sitting.responses(attempt)[1].score == Decimal("1.00")
