"""PayPal Orders v2: client, gateway, webhook view, events and reconciliation."""
