"""The reliability (calibration) plot as a self-contained SVG: mean predicted risk against the
observed churn rate per decile, with the diagonal of perfect calibration."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from tiyan.predict.evaluation import CalibrationBin

SIZE = 360
MARGIN = 50
PLOT = SIZE - 2 * MARGIN


def reliability_svg(calibration: Sequence[CalibrationBin], *, title: str) -> str:
    """An SVG document; point areas grow with the number of customers in the decile."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" font-family="sans-serif" font-size="11">',
        f'<rect width="{SIZE}" height="{SIZE}" fill="white"/>',
        f'<text x="{SIZE / 2}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>',
        *_axes(),
        _line((0.0, 0.0), (1.0, 1.0), 'stroke="#999" stroke-dasharray="4 3"'),
        _curve(calibration),
        *_points(calibration),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _x(value: float) -> float:
    return round(MARGIN + value * PLOT, 1)


def _y(value: float) -> float:
    return round(SIZE - MARGIN - value * PLOT, 1)


def _line(start: tuple[float, float], end: tuple[float, float], style: str) -> str:
    return (
        f'<line x1="{_x(start[0])}" y1="{_y(start[1])}" x2="{_x(end[0])}" '
        f'y2="{_y(end[1])}" {style}/>'
    )


def _axes() -> list[str]:
    parts = [
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{PLOT}" height="{PLOT}" fill="none" '
        'stroke="#333"/>',
        f'<text x="{SIZE / 2}" y="{SIZE - 12}" text-anchor="middle">mean predicted '
        "probability of churn</text>",
        f'<text x="14" y="{SIZE / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {SIZE / 2})">observed churn rate</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{_x(tick)}" y="{SIZE - MARGIN + 15}" text-anchor="middle">{tick:g}</text>'
        )
        parts.append(f'<text x="{MARGIN - 6}" y="{_y(tick) + 4}" text-anchor="end">{tick:g}</text>')
    return parts


def _curve(calibration: Sequence[CalibrationBin]) -> str:
    points = " ".join(f"{_x(b.mean_predicted)},{_y(b.observed_rate)}" for b in calibration)
    return f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>'


def _points(calibration: Sequence[CalibrationBin]) -> list[str]:
    largest = max((b.n for b in calibration), default=1)
    return [
        f'<circle cx="{_x(b.mean_predicted)}" cy="{_y(b.observed_rate)}" '
        f'r="{round(2 + 4 * (b.n / largest) ** 0.5, 1)}" fill="#1f77b4">'
        f"<title>predicted {b.mean_predicted:.3f}, observed {b.observed_rate:.3f}, "
        f"n={b.n}</title></circle>"
        for b in calibration
    ]
