"""Make the audit table append-only in the database: UPDATE, DELETE and TRUNCATE raise.

Nothing here names a schema. Migrations run with ``search_path = "<tenant>", public``, so the
unqualified CREATE FUNCTION lands in the tenant schema being migrated, and CREATE TRIGGER
binds each trigger to that function by OID. The bindings therefore survive
``ALTER SCHEMA ... RENAME`` (a spare becoming a tenant) unchanged, and django-tenants'
``clone_schema`` recreates the function and the triggers in the new schema (it copies a
schema's functions and re-points triggers whose function lives in the source schema). The
function body refers to no table or schema, so it means the same wherever it lives.

What the function lets through (everything else raises SQLSTATE P0001 "raise_exception"):

* UPDATE that only sets ``actor_id`` to NULL: Django's ``on_delete=SET_NULL`` when an actor
  is deleted. The entry keeps ``actor_label``, so it still says who acted.
* UPDATE while the transaction-local setting ``viva.audit_redaction`` is ``on`` and only
  ``actor_label``, ``ip``, ``detail`` or ``object_label`` change: privacy erasure, done only
  by ``tenants.audit.services.redact_actor`` (``SET LOCAL``, so it ends with the transaction).

DELETE and TRUNCATE are refused always, the redaction setting notwithstanding.
"""

from django.db import migrations

FUNCTION = r"""
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
           AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
        IF coalesce(current_setting('viva.audit_redaction', true), '') = 'on'
           AND (to_jsonb(NEW) - 'actor_label' - 'ip' - 'detail' - 'object_label')
             = (to_jsonb(OLD) - 'actor_label' - 'ip' - 'detail' - 'object_label') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'Personal data is redacted with tenants.audit.services.redact_actor.';
END;
$body$
"""

# One statement per item, so nothing depends on splitting SQL around the dollar-quoted body.
FORWARD = [
    FUNCTION,
    "CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
]
REVERSE = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_event")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=REVERSE)]
