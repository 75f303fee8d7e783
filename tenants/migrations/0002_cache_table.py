from django.db import migrations

# The embedded default cache (DatabaseCache), shared by every process. It lives in the public
# schema only; keys are prefixed with the tenant's schema by django_tenants.cache.make_key.
CREATE = """
CREATE TABLE IF NOT EXISTS viva_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS viva_cache_expires ON viva_cache (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, "DROP TABLE IF EXISTS viva_cache;")]
