"""Stripe in one room: gateway, webhook view, event handling, reconciliation."""
