"""Marks and addresses the outgoing-webhook tests share."""

import pytest

db_with_commits = pytest.mark.django_db(transaction=True)  # deliveries run on commit
SUBSCRIPTIONS = "/admin/notifications/webhooksubscription/"
