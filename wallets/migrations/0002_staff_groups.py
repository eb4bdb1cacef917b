"""Finance may adjust store credit; Finance and Support see wallets (existing databases too)."""

from django.db import migrations


def refresh_groups(apps, schema_editor):
    from gamarriando.users.groups import ensure_staff_groups

    ensure_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0001_initial"),
        ("gamarriando", "0004_run_operations_permission"),
    ]

    operations = [migrations.RunPython(refresh_groups, migrations.RunPython.noop)]
