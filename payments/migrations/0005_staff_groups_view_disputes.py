"""Give Finance and Support view rights on disputes."""

from django.db import migrations


def refresh_groups(apps, schema_editor):
    from gamarriando.users.groups import ensure_staff_groups

    ensure_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_disputes"),
        ("users", "0002_staff_groups"),
        ("gamarriando", "0004_run_operations_permission"),
        ("transactions", "0005_disputes"),
    ]

    operations = [migrations.RunPython(refresh_groups, migrations.RunPython.noop)]
