"""The staff groups of the contract and their permissions, in one place."""

from django.apps import apps as global_apps

VIEW_APPS = (
    "orders",
    "payments",
    "transactions",
    "users",
    "gamarriando",
    "notifications",
    "wallets",
)

GROUP_PERMISSIONS = {
    "Finance": [
        "payments.refund_payment",
        "payments.capture_payment",
        "transactions.add_transaction",
        "orders.change_order",
        "gamarriando.run_operations",
        "wallets.adjust_wallet",
    ],
    "Support": [],
}


def ensure_staff_groups(apps) -> None:
    """Create Finance and Support with their permissions; safe to run again."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Migration state apps have no models module; create_permissions skips those.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_perms = list(
        Permission.objects.filter(
            content_type__app_label__in=VIEW_APPS, codename__startswith="view_"
        )
    )
    for name, extra in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = list(view_perms)
        for dotted in extra:
            app_label, codename = dotted.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None and apps is global_apps:
                raise LookupError(f"Unknown permission {dotted} in GROUP_PERMISSIONS.")
            # An older migration's state may predate the permission; the migration that
            # declares it runs this function again.
            if found is not None:
                perms.append(found)
        group.permissions.set(perms)
