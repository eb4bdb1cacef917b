"""/health tells operators when production runs the simulated gateway (issue 18, item 3)."""

import pytest

pytestmark = pytest.mark.django_db


def test_health_warns_when_the_simulated_gateway_runs_in_production(client, settings):
    assert "warnings" not in client.get("/health").json()
    settings.SIMULATED_GATEWAY_IN_PRODUCTION = True
    body = client.get("/health").json()
    assert body["warnings"] == ["simulated_gateway_enabled"]
    assert body["status"] == "ok"
