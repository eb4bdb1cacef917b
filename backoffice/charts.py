"""Server-rendered SVG charts for the admin dashboard: no JavaScript, no CDN."""

from collections.abc import Callable
from decimal import Decimal

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 640, 180, 28
Value = int | float | Decimal


def _plain(value: Value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(
    points: list[tuple[str, Value]],
    *,
    title: str,
    unit: str = "",
    shown: Callable[[Value], str] = _plain,
) -> str:
    """Render labelled bars as an accessible SVG string; shown() writes a value as read.

    Money comes as Decimal with a shown() that keeps its currency's decimals: only the bars'
    heights are computed in floating point, never a figure a reader sees.
    """
    top = max((value for _, value in points), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = (HEIGHT - 2 * PAD) * float(value / top)
        x = PAD + index * slot
        y = HEIGHT - PAD - height
        bars.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{height:.1f}" '
            f'fill="#417690"><title>{escape(label)}: {escape(shown(value))}{escape(unit)}</title></rect>'
        )
        if len(points) <= 12 or index % max(len(points) // 10, 1) == 0:
            bars.append(
                f'<text fill="currentColor" x="{x + slot / 2:.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">{escape(label)}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">'
        f'<text fill="currentColor" x="{PAD}" y="16" font-size="12" font-weight="bold">{escape(title)}</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text fill="currentColor" x="{WIDTH - PAD}" y="16" font-size="10" text-anchor="end">max {escape(shown(top))}{escape(unit)}</text>'
        + "".join(bars)
        + "</svg>"
    )
