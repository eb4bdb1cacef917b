"""Give Finance and Support view rights on the notifications models too."""

from django.db import migrations


def refresh_groups(apps, schema_editor):
    from gamarriando.users.groups import ensure_staff_groups

    ensure_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("users", "0002_staff_groups"),
        ("gamarriando", "0003_deadletter"),
    ]

    operations = [migrations.RunPython(refresh_groups, migrations.RunPython.noop)]
