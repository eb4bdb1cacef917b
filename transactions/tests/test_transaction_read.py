"""GET /transactions and /transactions/{id}: visibility and filters."""

import pytest

from tests.helpers import make_paid
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_read_visibility_and_filters(api, customer, other_customer, support, product):
    _, mine = make_paid(customer, product)
    _, theirs = make_paid(other_customer, product)
    client = api(customer)
    rows = client.get("/api/v1/transactions").json()["results"]
    assert [r["payment_id"] for r in rows] == [mine.pk]
    assert rows[0]["amount"] == "50.00" and rows[0]["currency"] == "PEN"
    theirs_row = Transaction.objects.get(payment=theirs)
    assert client.get(f"/api/v1/transactions/{theirs_row.pk}").status_code == 404
    assert client.get(f"/api/v1/transactions/{rows[0]['id']}").status_code == 200
    staff = api(support)
    assert len(staff.get("/api/v1/transactions").json()["results"]) == 2
    assert len(staff.get(f"/api/v1/transactions?order_id={theirs.order_id}").json()["results"]) == 1
    assert len(staff.get("/api/v1/transactions?transaction_type=refund").json()["results"]) == 0
    assert (
        len(
            staff.get("/api/v1/transactions?status=succeeded&payment_id=" + str(mine.pk)).json()[
                "results"
            ]
        )
        == 1
    )


def test_filters_apply_beside_paging_parameters_and_refuse_bad_values(api, support, product):
    """The filter form is skipped only when no parameter names a filter (FiltersOnListMixin)."""
    _, first = make_paid(support, product)
    make_paid(support, product)
    staff = api(support)
    unfiltered = staff.get("/api/v1/transactions?page_size=5&unknown=1")
    assert len(unfiltered.json()["results"]) == 2
    filtered = staff.get(f"/api/v1/transactions?page_size=5&payment_id={first.pk}")
    assert [row["payment_id"] for row in filtered.json()["results"]] == [first.pk]
    bad = staff.get("/api/v1/transactions?created_after=yesterday")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
