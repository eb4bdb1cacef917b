"""The back office's screens, mounted in front of the admin at the addresses clerks know.

They sit beside the admin pages of the models they act on (``/admin/payments/payment/7/refund/``)
but belong to the back office, which the apps' admins reach only by URL name.
"""

from django.contrib import admin
from django.urls import path

from backoffice import (
    dashboard_views,
    exports,
    finance_views,
    order_views,
    views,
    wallet_views,
)

app_name = "backoffice"


def _screen(view):
    # The admin's own guard: staff only (others go to the login page), CSRF, no caching.
    return admin.site.admin_view(view)


urlpatterns = [
    path(
        "payments/payment/<int:payment_id>/refund/",
        _screen(views.payment_operation_view),
        {"operation_name": "refund"},
        name="payment_refund",
    ),
    path(
        "payments/payment/<int:payment_id>/capture/",
        _screen(views.payment_operation_view),
        {"operation_name": "capture"},
        name="payment_capture",
    ),
    path(
        "payments/payment/<int:payment_id>/void/",
        _screen(views.payment_operation_view),
        {"operation_name": "void"},
        name="payment_void",
    ),
    path(
        "payments/payment/<int:payment_id>/reconcile/",
        _screen(views.reconcile_view),
        name="payment_reconcile",
    ),
    path("payments/payment/dashboard/", _screen(dashboard_views.dashboard_view), name="dashboard"),
    path(
        "payments/payment/settlement/",
        _screen(finance_views.settlement_view),
        name="settlement",
    ),
    path(
        "payments/payment/export.csv",
        _screen(exports.export_view),
        {"name": "payments"},
        name="payments_export",
    ),
    path(
        "transactions/transaction/export.csv",
        _screen(exports.export_view),
        {"name": "ledger"},
        name="ledger_export",
    ),
    path(
        "payments/dispute/open/",
        _screen(finance_views.open_disputes_view),
        name="open_disputes",
    ),
    path(
        "orders/order/<int:order_id>/cancel/",
        _screen(order_views.order_cancel_view),
        name="order_cancel",
    ),
    path(
        "wallets/wallet/grant/",
        _screen(wallet_views.wallet_grant_view),
        name="wallet_grant",
    ),
    path(
        "wallets/wallet/<int:wallet_id>/adjust/",
        _screen(wallet_views.wallet_adjust_view),
        name="wallet_adjust",
    ),
]
