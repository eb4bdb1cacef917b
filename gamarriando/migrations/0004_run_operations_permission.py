"""Operations work gets its own permission, held by Finance (existing databases included)."""

from django.db import migrations


def refresh_groups(apps, schema_editor):
    from gamarriando.users.groups import ensure_staff_groups

    ensure_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("gamarriando", "0003_deadletter"),
        ("users", "0002_staff_groups"),
        ("notifications", "0002_staff_groups_view_notifications"),
        # Last, so that on a fresh database the groups also see every model made before.
        ("orders", "0003_status_history_shared_base"),
        ("payments", "0003_stripe"),
        ("transactions", "0004_stripe"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="deadletter",
            options={
                "permissions": [
                    (
                        "run_operations",
                        "Can reprocess events, retry dead letters and redeliver webhooks",
                    )
                ]
            },
        ),
        migrations.RunPython(refresh_groups, migrations.RunPython.noop),
    ]
