"""The admin site: money staff need a verified second factor for every admin page."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from gamarriando.staff_auth import views
from gamarriando.staff_auth.forms import StaffLoginForm
from gamarriando.staff_auth.rules import enrollment_due, second_factor_satisfied


class StaffAdminSite(admin.AdminSite):
    """``admin.site``: the password, then a TOTP code for those who need one.

    Every admin page and the back office's screens (``admin_view``) ask ``has_permission``,
    so an unverified Finance session sees none of them.
    """

    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request):
        return super().has_permission(request) and second_factor_satisfied(request.user)

    def login(self, request, extra_context=None):
        if request.method == "GET" and enrollment_due(request.user):
            return redirect("admin:two_factor_setup")
        response = super().login(request, extra_context)
        # Signed in by password but required to enroll: straight to the setup page.
        if (
            request.method == "POST"
            and response.status_code == 302
            and enrollment_due(request.user)
        ):
            return redirect("admin:two_factor_setup")
        return response

    def two_factor_setup(self, request):
        return views.two_factor_setup(request, site=self)

    def get_urls(self):
        setup = path("two-factor/setup/", self.two_factor_setup, name="two_factor_setup")
        return [setup, *super().get_urls()]
