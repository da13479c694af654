"""Server-rendered charts as inline SVG (no JavaScript, no external library); every label is escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#1f4e8c"
POSITIVE = "#b3001b"
INK = "#1d2433"
GRID = "#d5dae3"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def horizontal_bars(title: str, pairs: list[tuple[str, int]], *, color: str = BAR, empty: str = "—",
                    limit: int = 12) -> Markup:
    """One bar per (label, value), largest first as given; the value printed after the bar."""
    shown = pairs[:limit]
    if not shown:
        return _svg(480, 40, title, [f'<text x="8" y="26" fill="{INK}" font-size="14">{escape(empty)}</text>'])
    row, label_w, width = 30, 190, 480
    top = max(v for _, v in shown) or 1
    body = []
    for i, (label, value) in enumerate(shown):
        y = i * row + 4
        bar = round((width - label_w - 50) * value / top)
        text = escape(label if len(label) <= 11 else label[:10] + "…")
        body.append(
            f'<g><title>{escape(label)}: {value}</title>'
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" fill="{INK}" font-size="15">{text}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(bar, 1)}" height="{row - 8}" fill="{color}"/>'
            f'<text x="{label_w + bar + 5}" y="{y + 16}" fill="{INK}" font-size="15">{value}</text></g>'
        )
    return _svg(width, len(shown) * row + 8, title, body)


def columns(title: str, pairs: list[tuple[str, int]], *, color: str = POSITIVE) -> Markup:
    """One column per (label, value) in the given order (days), with a baseline and the values on top."""
    width, height, base, left = 480, 210, 180, 6
    step = (width - 2 * left) / max(len(pairs), 1)
    top = max((v for _, v in pairs), default=0) or 1
    body = [f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{GRID}"/>']
    for i, (label, value) in enumerate(pairs):
        x = left + i * step
        h = round(130 * value / top)
        body.append(
            f'<g><title>{escape(label)}: {value}</title>'
            f'<rect x="{x + step * 0.15:.1f}" y="{base - h}" width="{step * 0.7:.1f}" height="{h}" fill="{color}"/>'
            f'<text x="{x + step / 2:.1f}" y="{base - h - 4}" text-anchor="middle" fill="{INK}" font-size="14">'
            f'{value}</text>'
            f'<text x="{x + step / 2:.1f}" y="{base + 16}" text-anchor="middle" fill="{INK}" font-size="11">'
            f'{escape(label)}</text></g>'
        )
    return _svg(width, height, title, body)
