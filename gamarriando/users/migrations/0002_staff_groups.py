"""Create the Finance and Support groups with the contract's permissions."""

from django.db import migrations


def create_groups(apps, schema_editor):
    from gamarriando.users.groups import ensure_staff_groups

    ensure_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("orders", "0002_initial"),
        ("payments", "0002_initial"),
        ("transactions", "0002_initial"),
        ("gamarriando", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
