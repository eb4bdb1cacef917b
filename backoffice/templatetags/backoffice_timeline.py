"""Template tags the admin pages use to show back-office views of a model."""

from django import template

from backoffice.timeline import order_timeline as timeline_entries

register = template.Library()


@register.inclusion_tag("admin/backoffice/timeline.html")
def order_timeline(order):
    """Render an order's history, oldest first."""
    return {"entries": timeline_entries(order)}
