"""Server-rendered SVG charts for the admin dashboard: no JavaScript, no CDN."""

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 640, 180, 28


def bar_chart(points: list[tuple[str, float]], *, title: str, unit: str = "") -> str:
    """Render labelled bars as an accessible SVG string."""
    top = max((value for _, value in points), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = (HEIGHT - 2 * PAD) * (value / top)
        x = PAD + index * slot
        y = HEIGHT - PAD - height
        bars.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{height:.1f}" '
            f'fill="#417690"><title>{escape(label)}: {value:g}{escape(unit)}</title></rect>'
        )
        if len(points) <= 12 or index % max(len(points) // 10, 1) == 0:
            bars.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">{escape(label)}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">'
        f'<text x="{PAD}" y="16" font-size="12" font-weight="bold">{escape(title)}</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="{WIDTH - PAD}" y="16" font-size="10" text-anchor="end">max {top:g}{escape(unit)}</text>'
        + "".join(bars)
        + "</svg>"
    )
