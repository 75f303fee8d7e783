"""People who were candidates before seats were counted get their seat.

Runs in every tenant schema. A portal's active candidates each get a seat (source "role"),
even beyond the plan's limit: they keep what they had, and new candidates are refused until
seats are free. The template and spare schemas belong to no portal: nothing to do there.
"""

from django.conf import settings
from django.db import migrations


def give_existing_candidates_a_seat(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    tenant = Tenant.objects.filter(schema_name=schema_editor.connection.schema_name).first()
    candidates = apps.get_model("auth", "Group").objects.filter(name="Candidates").first()
    if tenant is None or candidates is None:
        return
    SeatAssignment = apps.get_model("billing", "SeatAssignment")
    seated = SeatAssignment.objects.filter(
        tenant_id=tenant.pk, released_at__isnull=True, user_id__isnull=False
    ).values_list("user_id", flat=True)
    User = apps.get_model("accounts", "User")
    SeatAssignment.objects.bulk_create(
        SeatAssignment(tenant_id=tenant.pk, user_id=user.pk, email=user.email, source="role")
        for user in User.objects.filter(groups=candidates, is_active=True).exclude(
            pk__in=list(seated)
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_api_keys"),
        ("billing", "0003_seat_holds_for_invitations"),
        ("tenants", "0002_cache_table"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(give_existing_candidates_a_seat, migrations.RunPython.noop),
    ]
