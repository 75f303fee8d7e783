"""The autosave endpoint: one round trip to PostgreSQL per save, no ORM, no middleware.

The exam player posts answers to ``POST /exam/autosave/`` with a JSON body::

    {"token": "<attempt token>", "answers": [{"position": 3, "value": …, "flagged": false,
                                              "seq": 41}, …]}

``AutosaveWSGI`` (wrapped around Django in ``config/wsgi.py``) answers that path before
Django's request handler, and ``AutosaveMiddleware`` (first in ``MIDDLEWARE``, for servers
that do not load ``config/wsgi.py``: the dev server, the test client) does the same inside
it; both call the same ``Autosave``. No other middleware runs for the path (tenant routing,
sessions, auth, messages, CSP…): that is what makes it lean enough for an exam window with
thousands of candidates (see ``bench/autosave.py``).
It weakens none of the checks the full stack would make:

* **Tenant.** The attempt token (issued by the exam page, signed with ``SECRET_KEY``) names
  the schema and the host it was issued on; the request must come to that host, and the
  tenant must still be active (checked in the statement).
* **Authentication.** The token is bound to the session that opened the page (a hash of the
  session key) and to the user's password hash; the statement checks that the session still
  exists and has not expired, that the user is active and that their password has not
  changed since: the same things Django's session authentication checks.
* **CSRF.** Django's own ``CsrfViewMiddleware`` checks the request (token and origin).
* **Deadline, status, sequence.** The statement takes a share lock on the attempt row, so a
  submit (which takes an exclusive lock) either waits for the save or makes it fail the
  ``in_progress`` test; it only writes when the attempt is open, the server's clock is before
  deadline + grace, the position exists (and, for sequential exams, is not behind the
  candidate), and the stored sequence number is lower than the incoming one.

The reply always carries the server's clock and the deadline, which the player uses to
correct its countdown; refused and stale answers are listed with the reason and, for stale
ones, the newer value the server holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import psycopg
from django.conf import settings
from django.core import signing
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

logger = logging.getLogger(__name__)

PATH = "/exam/autosave/"
TOKEN_SALT = "viva.delivery.attempt"  # noqa: S105 - a signing namespace, not a secret
MAX_BODY = 256 * 1024
MAX_ANSWERS = 200
ONLY_WHEN_ASKED = 2**31 - 1  # psycopg prepares a statement after this many uses, or when told
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def password_digest(password_hash: str) -> str:
    """What the token keeps of the user's password hash (compared in SQL with ``sha256``)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def session_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def issue_token(*, request: HttpRequest, attempt: Any) -> str:
    """The token an exam page hands its player for ``attempt`` (same user, same session)."""
    return signing.dumps(
        {
            "s": connection.schema_name,
            "h": request.get_host(),
            "a": attempt.pk,
            "u": attempt.user_id,
            "k": session_digest(request.session.session_key or ""),
            "p": password_digest(request.user.password),
        },
        salt=TOKEN_SALT,
        compress=False,
    )


# One statement: lock and check the attempt (tenant active, session alive, user unchanged,
# open, before deadline + grace), upsert the answers whose sequence is newer, and read back
# what the server holds for the others. ``{schema}`` is a validated identifier.
SAVE_SQL = """
WITH att AS (
    SELECT a.id, a.deadline, a.grace_seconds, a.item_count, a.sequential, a.current_position
    FROM "{schema}".delivery_attempt a
    JOIN "{schema}".accounts_user u ON u.id = a.user_id
    WHERE a.id = %(attempt)s AND a.user_id = %(user)s AND a.status = 'in_progress'
      AND (a.deadline IS NULL
           OR clock_timestamp() <= a.deadline + make_interval(secs => a.grace_seconds))
      AND u.is_active
      AND left(encode(sha256(convert_to(u.password, 'UTF8')), 'hex'), 32) = %(pw)s
      AND EXISTS (SELECT 1 FROM "{schema}".django_session s
                  WHERE s.session_key = %(session)s AND s.expire_date > clock_timestamp())
      AND EXISTS (SELECT 1 FROM public.tenants_tenant t
                  WHERE t.schema_name = %(schema)s AND t.status = 'active')
    FOR SHARE OF a
),
incoming AS (
    SELECT r.position, r.value, coalesce(r.flagged, false) AS flagged, r.seq
    FROM jsonb_to_recordset(%(answers)s::jsonb)
         AS r(position int, value jsonb, flagged boolean, seq bigint)
),
up AS (
    INSERT INTO "{schema}".delivery_response AS resp
        (attempt_id, position, value, flagged, seq, saved_at,
         feedback, needs_manual, rubric_scores)
    SELECT att.id, i.position, i.value, i.flagged, i.seq, clock_timestamp(),
           '[]'::jsonb, false, '{{}}'::jsonb
    FROM att JOIN incoming i
      ON i.position BETWEEN 1 AND att.item_count
     AND (NOT att.sequential OR i.position >= att.current_position)
    ON CONFLICT (attempt_id, position) DO UPDATE
        SET value = EXCLUDED.value, flagged = EXCLUDED.flagged, seq = EXCLUDED.seq,
            saved_at = EXCLUDED.saved_at
        WHERE resp.seq < EXCLUDED.seq
    RETURNING resp.position, resp.seq
),
held AS (
    SELECT r.position, r.seq, r.value, r.flagged
    FROM "{schema}".delivery_response r
    WHERE r.attempt_id = (SELECT id FROM att)
      AND r.position IN (SELECT position FROM incoming)
)
SELECT (SELECT count(*) FROM att),
       (SELECT coalesce(json_agg(json_build_array(position, seq)), '[]') FROM up),
       (SELECT coalesce(json_agg(json_build_array(position, seq, value, flagged)), '[]')
          FROM held),
       clock_timestamp(),
       (SELECT deadline FROM att),
       (SELECT grace_seconds FROM att)
"""

# Only when a save is refused: why (closed, late, signed out), for a clear message.
WHY_SQL = """
SELECT a.status, a.deadline, a.grace_seconds, clock_timestamp(),
       EXISTS (SELECT 1 FROM "{schema}".django_session s
               WHERE s.session_key = %(session)s AND s.expire_date > clock_timestamp())
FROM "{schema}".delivery_attempt a WHERE a.id = %(attempt)s AND a.user_id = %(user)s
"""


class Autosave:
    """The save itself: ``answer(request)`` returns the HTTP status and the JSON body."""

    def __init__(self) -> None:
        self.csrf = CsrfViewMiddleware(lambda request: None)

    def answer(self, request: HttpRequest) -> tuple[int, dict]:
        if request.method != "POST":
            return _error(405, "method", "Use POST.")
        # Django's own CSRF check: the token in X-CSRFToken against the cookie, and Origin.
        self.csrf.process_request(request)
        refused = self.csrf.process_view(request, _autosave_view, (), {})
        if refused is not None:
            return _error(403, "csrf", "This page is out of date: reload it to go on saving.")
        try:
            if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
                return _error(413, "too_large", "Too much at once: save fewer answers.")
            body = json.loads(request.body)
            claims = signing.loads(body["token"], salt=TOKEN_SALT)
            answers = _answers(body["answers"])
        except (ValueError, KeyError, TypeError, signing.BadSignature):
            return _error(400, "bad_request", "The save could not be read.")
        schema = claims.get("s", "")
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        try:
            host = request.get_host()
        except DisallowedHost:
            return _error(400, "bad_request", "The save could not be read.")
        if (
            not SCHEMA_NAME.match(schema)
            or claims.get("h") != host
            or not session_key
            or session_digest(session_key) != claims.get("k")
        ):
            return _error(403, "signed_out", SIGNED_OUT)
        params = {
            "schema": schema,
            "attempt": claims["a"],
            "user": claims["u"],
            "pw": claims["p"],
            "session": session_key,
            "answers": json.dumps(answers),
        }
        row = _execute(SAVE_SQL.format(schema=schema), params)
        opened, saved, held, now, deadline, grace = row
        if not opened:
            return _refusal(_execute(WHY_SQL.format(schema=schema), params))
        return 200, _result(answers, _json(saved), _json(held), now, deadline, grace)


HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]


class AutosaveMiddleware:
    """Answers ``POST /exam/autosave/`` before any other middleware runs (every server)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.autosave = Autosave()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH:
            return self.get_response(request)
        status, body = self.autosave.answer(request)
        content = json.dumps(body).encode()
        response = HttpResponse(content, status=status)
        for name, value in HEADERS:
            response[name] = value
        response["Content-Length"] = str(len(content))
        return response


class AutosaveWSGI:
    """The production entry (``config/wsgi.py``): the same ``Autosave`` answered straight
    from WSGI, without Django's request handler around it (its signals, middleware chain and
    URL resolving cost more than the save itself); every other path goes to Django."""

    def __init__(self, application: Callable) -> None:
        self.application = application
        self.autosave = Autosave()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if environ.get("PATH_INFO") != PATH:
            return self.application(environ, start_response)
        try:
            status, body = self.autosave.answer(WSGIRequest(environ))
        except Exception:
            logger.exception("autosave failed")
            status, body = _error(500, "server", "Not saved: the server failed. Retrying.")
        finally:
            close_old_connections()  # what Django's request_finished would do
        content = json.dumps(body).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [*HEADERS, ("Content-Length", str(len(content)))],
        )
        return [content]


def _execute(sql: str, params: dict) -> tuple | None:
    """Run one statement and return its first row.

    The statement goes through a plain psycopg cursor on Django's connection, bound on the
    server and prepared (Django turns psycopg's automatic preparing off), so PostgreSQL plans
    it once per connection and schema instead of on every save. Behind PgBouncer this needs
    its protocol-level prepared statement support (``max_prepared_statements``, 1.21+).

    Django's per-request connection health check (``CONN_HEALTH_CHECKS``) would cost a
    ``SELECT 1`` round trip before every save; instead the statement is retried once on a
    fresh connection when the kept one turns out to be dead (a retry is harmless: the
    sequence check turns a repeated write into a no-op, reported as saved).
    """
    for retry in (False, True):
        connection.health_check_done = True
        try:
            connection.ensure_connection()
            raw = connection.connection
            if raw.prepare_threshold is None:
                # Django disables preparing; its own (client-side binding) cursors never
                # prepare anyway, so this only lets the explicit ``prepare=True`` below work.
                raw.prepare_threshold = ONLY_WHEN_ASKED
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(sql, params, prepare=True)
                return cursor.fetchone()
        except psycopg.OperationalError:
            if retry or connection.in_atomic_block:
                raise
            connection.close()
    return None


def _autosave_view(request: HttpRequest) -> None:  # what the CSRF check is told it protects
    return None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _answers(raw: Any) -> list[dict]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ANSWERS:
        raise ValueError("answers must be a non-empty list")
    answers = []
    positions = set()
    for item in raw:
        position, seq = item["position"], item["seq"]
        flagged = item.get("flagged", False)
        if (
            not isinstance(position, int)
            or not isinstance(seq, int)
            or isinstance(position, bool)
            or isinstance(seq, bool)
            or not isinstance(flagged, bool)
            or not 0 < position < 100_000
            or not 0 < seq < 2**62
            or position in positions
        ):
            raise ValueError("bad answer")
        positions.add(position)
        answers.append(
            {"position": position, "value": item.get("value"), "flagged": flagged, "seq": seq}
        )
    return answers


def _result(answers, saved, held, now, deadline, grace) -> dict:
    saved_seq = {position: seq for position, seq in saved}
    held_by_position = {h[0]: h for h in held}
    accepted, stale, refused = [], [], []
    for answer in answers:
        position = answer["position"]
        if position in saved_seq:
            accepted.append({"position": position, "seq": saved_seq[position]})
        elif position in held_by_position and held_by_position[position][1] >= answer["seq"]:
            _, seq, value, flagged = held_by_position[position]
            if (seq, value, flagged) == (answer["seq"], answer["value"], answer["flagged"]):
                accepted.append({"position": position, "seq": seq})  # a repeated save
                continue
            stale.append({"position": position, "seq": seq, "value": value, "flagged": flagged})
        else:
            refused.append({"position": position, "reason": "position"})
    return {
        "saved": accepted,
        "stale": stale,
        "refused": refused,
        "now": now.isoformat(),
        "deadline": deadline.isoformat() if deadline else None,
        "grace_seconds": grace,
    }


SIGNED_OUT = (
    "You are signed out. Sign in again to go on: your unsaved answers are kept in this browser."
)


def _refusal(row: tuple | None) -> tuple[int, dict]:
    if row is None:
        return _error(404, "not_found", "This attempt does not exist.")
    status, deadline, grace, now, session_alive = row
    if status != "in_progress":
        return _error(409, "closed", "This attempt has been submitted; answers are not saved.")
    if deadline is not None and (now - deadline).total_seconds() > grace:
        return _error(
            409, "late", "Time is up: answers after the deadline are not accepted.", now=now
        )
    return _error(403, "signed_out", SIGNED_OUT)


def _error(status: int, code: str, message: str, *, now: Any = None) -> tuple[int, dict]:
    body = {"error": code, "message": message}
    if now is not None:
        body["now"] = now.isoformat()
    return status, body
