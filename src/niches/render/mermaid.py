"""Mermaid `xychart-beta` charts (GitHub renders them), with numeric axes drawn to scale.

Mermaid spreads a line's values evenly along a numeric x axis, so a frontier
is drawn by sampling its step function at evenly spaced positions: every
point then sits at its true x position (to within one sample step).
"""

from __future__ import annotations

from collections.abc import Sequence

SAMPLES = 81
"""Positions a line is sampled at (80 equal steps across the x range)."""


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def positions(low: float, high: float, samples: int = SAMPLES) -> list[float]:
    """Return `samples` evenly spaced positions from `low` to `high` inclusive."""
    if high <= low:
        return [low] * samples
    return [low + (high - low) * i / (samples - 1) for i in range(samples)]


def step_after(xs: Sequence[float], ys: Sequence[float], at: Sequence[float]) -> list[float]:
    """Return, at each position, the y of the last point whose x is at or left of it (a rising step).

    `xs` is ascending; positions left of the first point take the first y.
    """
    out = []
    for x in at:
        chosen = ys[0]
        for px, py in zip(xs, ys, strict=True):
            if px <= x + 1e-12 * max(1.0, abs(x)):
                chosen = py
        out.append(chosen)
    return out


def step_before(xs: Sequence[float], ys: Sequence[float], at: Sequence[float]) -> list[float]:
    """Return, at each position, the best y of the points whose x is at or right of it (a falling step)."""
    out = []
    for x in at:
        right = [py for px, py in zip(xs, ys, strict=True) if px >= x - 1e-12 * max(1.0, abs(x))]
        out.append(max(right) if right else ys[-1])
    return out


def step_down(xs: Sequence[float], ys: Sequence[float], at: Sequence[float]) -> list[float]:
    """Return, at each position, the y of the nearest point at or right of it (a cap that tightens).

    `xs` is ascending; a point holds from its x down to the next point's x.
    """
    out = []
    for x in at:
        right = [py for px, py in zip(xs, ys, strict=True) if px >= x - 1e-12 * max(1.0, abs(x))]
        out.append(right[0] if right else ys[-1])
    return out


def _axis_number(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


THEME = (
    '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f4e9c, #c0392b", '
    '"backgroundColor": "#ffffff"}}}}%%'
)
"""Lines in a dark blue and markers in red on white: visible on GitHub's light and dark pages."""


def line_chart(
    title: str,
    x_label: str,
    x_range: tuple[float, float],
    y_label: str,
    ys: Sequence[float],
    decimals: int = 2,
    marker: float | None = None,
) -> str:
    """Return a mermaid line chart over a numeric x axis; `ys` are evenly spaced across `x_range`.

    `marker`, an x inside the range, is drawn as a red bar up to the line there (the current budget).
    """
    low, high = min(ys), max(ys)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.05
    if low >= 0:  # no negative axis for quantities that cannot be negative
        low = max(low - pad, 0.0) + pad
    lines = [
        "```mermaid",
        THEME,
        "xychart-beta",
        f"    title {_quoted(title)}",
        f"    x-axis {_quoted(x_label)} {_axis_number(x_range[0])} --> {_axis_number(x_range[1])}",
        f"    y-axis {_quoted(y_label)} {low - pad:.{decimals}f} --> {high + pad:.{decimals}f}",
        f"    line [{', '.join(f'{y:.{decimals}f}' for y in ys)}]",
    ]
    span = x_range[1] - x_range[0]
    if marker is not None and span > 0 and x_range[0] <= marker <= x_range[1] and len(ys) > 1:
        at = round((marker - x_range[0]) / span * (len(ys) - 1))
        hidden = low - pad - (high - low)  # below the axis: drawn at the axis, mermaid left a red strip
        bars = [ys[i] if i == at else hidden for i in range(len(ys))]
        lines.append(f"    bar [{', '.join(f'{y:.{decimals}f}' for y in bars)}]")
    lines.append("```")
    return "\n".join(lines) + "\n"


def bar_chart(title: str, x_label: str, xs: Sequence[str], y_label: str, ys: Sequence[float]) -> str:
    """Return a mermaid bar chart over categories `xs` (y from 0 to 100: shares in percent)."""
    lines = [
        "```mermaid",
        THEME,
        "xychart-beta",
        f"    title {_quoted(title)}",
        f"    x-axis {_quoted(x_label)} [{', '.join(_quoted(x) for x in xs)}]",
        f"    y-axis {_quoted(y_label)} 0 --> 100",
        f"    bar [{', '.join(f'{y:.1f}' for y in ys)}]",
        "```",
    ]
    return "\n".join(lines) + "\n"
