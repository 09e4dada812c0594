"""Tiny inline-SVG charts for self-contained HTML reports (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
WIDTH, HEIGHT = 420, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 44


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi == lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) * (out_hi - out_lo) / (hi - lo)


def line_chart(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] | None = None,
    diagonal: bool = False,
) -> str:
    """Lines (label, xs, ys) on shared axes; `diagonal` draws the y = x reference."""
    ys_all = [y for _, _, ys in series for y in ys if y is not None]
    y_lo, y_hi = y_range or (min(ys_all + [0.0]), max(ys_all + [1e-9]))
    x_lo, x_hi = x_range
    px = lambda x: _scale(x, x_lo, x_hi, LEFT, WIDTH - RIGHT)  # noqa: E731
    py = lambda y: _scale(y, y_lo, y_hi, HEIGHT - BOTTOM, TOP)  # noqa: E731
    parts = [_frame(title, x_label, y_label)]
    parts += _ticks(x_lo, x_hi, y_lo, y_hi, px, py)
    if diagonal:
        lo, hi = max(x_lo, y_lo), min(x_hi, y_hi)
        parts.append(
            f'<line x1="{px(lo):.1f}" y1="{py(lo):.1f}" x2="{px(hi):.1f}" y2="{py(hi):.1f}" '
            'stroke="#999" stroke-dasharray="4 3"/>'
        )
    for i, (label, xs, ys) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(
            f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=False) if y is not None
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        ly = TOP + 14 + 14 * i
        parts.append(
            f'<rect x="{LEFT + 8}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{LEFT + 22}" y="{ly}" font-size="11">{escape(label)}</text>'
        )
    return _svg(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, x_label: str) -> str:
    """Horizontal bars, largest first as given."""
    height = TOP + BOTTOM + 18 * max(len(labels), 1)
    left = 190
    hi = max(list(values) + [1e-12])
    parts = [
        f'<text x="{WIDTH / 2:.0f}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<text x="{(left + WIDTH) / 2:.0f}" y="{height - 8}" text-anchor="middle" '
        f'font-size="11">{escape(x_label)}</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + 18 * i
        w = _scale(value, 0, hi, 0, WIDTH - RIGHT - left)
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" font-size="11">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y + 2}" width="{max(w, 0.5):.1f}" height="13" '
            f'fill="{PALETTE[0]}"/>'
        )
    return _svg(parts, height=height)


def _frame(title: str, x_label: str, y_label: str) -> str:
    return (
        f'<text x="{WIDTH / 2:.0f}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>'
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333"/>'
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'font-size="11">{escape(x_label)}</text>'
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2:.0f})">{escape(y_label)}</text>'
    )


def _ticks(x_lo, x_hi, y_lo, y_hi, px, py) -> list[str]:
    parts = []
    for i in range(5):
        x = x_lo + (x_hi - x_lo) * i / 4
        y = y_lo + (y_hi - y_lo) * i / 4
        parts.append(
            f'<text x="{px(x):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'font-size="10">{x:.2g}</text>'
            f'<text x="{LEFT - 4}" y="{py(y) + 3:.1f}" text-anchor="end" font-size="10">'
            f"{y:.2g}</text>"
        )
    return parts


def _svg(parts: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">' + "".join(parts) + "</svg>"
    )
