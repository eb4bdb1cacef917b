"""Every write to payments and the ledger, one module per flow (see the README's map).

ledger_core      lock, open an operation, recompute a payment and its order from the ledger
amounts          does an amount fit the currency's decimals and what the order leaves uncovered
lifecycle        create, change, cancel a payment
charge           process (open an attempt) and the worker's gateway call
gateway_results  settle a gateway's answer
capture_void     capture an authorization, void it
refund           reserve a refund and hand it to a worker
refund_failure   a refund the gateway failed after it had succeeded: reverse it, tell Finance
offline          money moved outside our gateways, under the same rules
reconcile        ask the gateway what became of a pending row; the report and ledger append both gateways share
settlement       give back what a cancelled order holds; call off an attempt waiting for its buyer
saved_methods    a customer's saved Stripe methods: save, make default, remove, pick for a payment
wallet_settlement  deduct or release a store-credit hold with its ledger row
wallet_expiry    fail the attempts whose store-credit holds ran out of time
"""

from payments.services.capture_void import payment_capture
from payments.services.charge import (
    payment_execute_transaction,
    payment_gateway_gave_up,
    payment_process,
)
from payments.services.gateway_results import payment_apply_gateway_result
from payments.services.lifecycle import payment_cancel, payment_create, payment_update
from payments.services.offline import ledger_record_settled_row, transaction_record_offline
from payments.services.reconcile import (
    ReconcileReport,
    ledger_record_what_the_gateway_did,
    payment_reconcile_request,
    payment_reconcile_transaction,
)
from payments.services.refund import payment_refund
from payments.services.saved_methods import (
    saved_method_make_default,
    saved_method_remove,
    saved_method_setup_intent,
)
from payments.services.settlement import payment_abandon_attempt, payments_settle_cancelled_order
from payments.services.wallet_expiry import wallet_expire_holds

__all__ = [
    "ledger_record_settled_row",
    "payment_abandon_attempt",
    "payment_apply_gateway_result",
    "payment_cancel",
    "payment_capture",
    "payment_create",
    "payment_execute_transaction",
    "payment_gateway_gave_up",
    "payment_process",
    "ReconcileReport",
    "ledger_record_what_the_gateway_did",
    "payment_reconcile_request",
    "payment_reconcile_transaction",
    "payment_refund",
    "payment_update",
    "payments_settle_cancelled_order",
    "saved_method_make_default",
    "saved_method_remove",
    "saved_method_setup_intent",
    "transaction_record_offline",
    "wallet_expire_holds",
]
