"""The admin app, with the staff sign-in site as its ``admin.site``."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose default site asks money staff for a second factor."""

    default_site = "gamarriando.staff_auth.sites.StaffAdminSite"
