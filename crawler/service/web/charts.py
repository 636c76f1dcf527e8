"""Charts drawn on the server as inline SVG: no scripts, no external files, no chart library.

Each function returns one ``<svg role="img">`` element (as :class:`markupsafe.Markup`) with a
``<title>`` naming what it shows, for screen readers, and a ``<title>`` on every bar and point,
which a browser shows on hover. Every text that comes from the store is escaped here.

* :func:`score_lines`: scores across scans, one line per series (得分趋势);
* :func:`sparkline`: a small line of one site's scores in a table row;
* :func:`uptime_bars`: one bar per day, coloured by the share of samples that loaded, as status
  pages show availability (可用性);
* :func:`response_line`: the average response time per day (响应时间);
* :func:`unit_bars`: problems per unit (单位), one bar per quarter (各单位问题数).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["response_line", "score_lines", "sparkline", "unit_bars", "uptime_bars"]

_COLOURS = ("#0b57d0", "#b3261e", "#1e6b30", "#8a5a00", "#6a1b9a", "#00796b", "#5f6368")
_FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"'
_ids = itertools.count(1)


def _open(width: int, height: int, title: str, css: str) -> tuple[str, str]:
    ident = f"chart-{next(_ids)}"
    head = (
        f'<svg class="chart {css}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{ident}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {_FONT} font-size="12"><title id="{ident}">{escape(title)}</title>'
    )
    return head, "</svg>"


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def score_lines(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str
) -> Markup:
    """Scores (0–100) across ``labels`` (the scans, oldest first), one line per series."""
    width, height, left, right, top, bottom = 640, 240, 40, 150, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    head, tail = _open(width, height, title, "score-chart")
    parts = [head]
    for mark in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - mark / 100)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#dde1e5"/><text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="#5f6368">{mark}</text>'
        )
    step = plot_w / max(1, len(labels) - 1)

    def x_of(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{_num(x_of(i))}" y="{height - bottom + 18}" text-anchor="middle" '
            f'fill="#5f6368">{escape(label)}</text>'
        )
    for n, (name, values) in enumerate(series):
        colour = _COLOURS[n % len(_COLOURS)]
        points = [(x_of(i), top + plot_h * (1 - v / 100), v)
                  for i, v in enumerate(values) if v is not None]  # fmt: skip
        if len(points) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for (x, y, v), i in zip(points, (i for i, v in enumerate(values) if v is not None),
                                strict=True):  # fmt: skip
            parts.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{colour}"><title>'
                f"{escape(name)} · {escape(labels[i])}：{_num(v)} 分</title></circle>"
            )
        ly = top + 14 + 18 * n
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{ly - 9}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + plot_w + 26}" y="{ly}">{escape(name[:10])}</text>'
        )
    if not any(v is not None for _, values in series for v in values):
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'fill="#5f6368">没有得分记录</text>'
        )
    parts.append(tail)
    return Markup("".join(parts))


def sparkline(values: Sequence[float | None], title: str) -> Markup:
    """A 90×22 line of scores (0–100), oldest first; the last point is drawn as a dot."""
    width, height = 90, 22
    head, tail = _open(width, height, title, "spark")
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Markup(head + tail)
    step = (width - 6) / max(1, len(values) - 1)
    pts = [(3 + i * step, 3 + (height - 6) * (1 - v / 100)) for i, v in known]
    path = " ".join(f"{_num(x)},{_num(y)}" for x, y in pts)
    x, y = pts[-1]
    return Markup(
        f'{head}<polyline points="{path}" fill="none" stroke="#0b57d0" stroke-width="1.5"/>'
        f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="#0b57d0"/>{tail}'
    )


def _uptime_colour(day: Mapping[str, Any]) -> str:
    if not day["samples"]:
        return "#c8ccd0"
    share = day["ok"] / day["samples"]
    if share >= 0.999:
        return "#2e8540"
    return "#e0a800" if share >= 0.95 else "#b3261e"


def uptime_bars(days: Sequence[Mapping[str, Any]], title: str) -> Markup:
    """One bar per day of ``days`` (``day``, ``label``, ``samples``, ``ok``, ``avg_ms``):
    green when every sample loaded, amber from 95 %, red below, grey without samples."""
    bar, gap, height = 9, 3, 46
    width = max(120, len(days) * (bar + gap) + 8)
    head, tail = _open(width, height, title, "uptime")
    parts = [head]
    for i, d in enumerate(days):
        if d["samples"]:
            share = 100 * d["ok"] / d["samples"]
            tip = f"{d['label']}：可用率 {_num(share)}%（{d['ok']}/{d['samples']} 次成功）"
            if d.get("avg_ms") is not None:
                tip += f"，平均响应 {d['avg_ms']} 毫秒"
        else:
            tip = f"{d['label']}：没有监测样本"
        parts.append(
            f'<rect x="{4 + i * (bar + gap)}" y="4" width="{bar}" height="28" rx="2" '
            f'fill="{_uptime_colour(d)}"><title>{escape(tip)}</title></rect>'
        )
    if days:
        parts.append(
            f'<text x="4" y="{height - 2}" fill="#5f6368">{escape(days[0]["label"])}</text>'
            f'<text x="{width - 4}" y="{height - 2}" text-anchor="end" fill="#5f6368">'
            f"{escape(days[-1]['label'])}</text>"
        )
    parts.append(tail)
    return Markup("".join(parts))


def response_line(days: Sequence[Mapping[str, Any]], title: str) -> Markup:
    """The average response time (毫秒) of each day's samples that loaded."""
    width, height, left, top, bottom = 640, 150, 56, 10, 24
    plot_w, plot_h = width - left - 10, height - top - bottom
    head, tail = _open(width, height, title, "response")
    values = [d.get("avg_ms") for d in days]
    peak = max([v for v in values if v is not None] or [0])
    scale = max(100, -(-peak // 100) * 100)
    parts = [head]
    for mark in (0, scale / 2, scale):
        y = top + plot_h * (1 - mark / scale)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#dde1e5"/><text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="#5f6368">{_num(mark)} 毫秒</text>'
        )
    step = plot_w / max(1, len(days) - 1)
    pts = [(left + i * step, top + plot_h * (1 - v / scale), d)
           for i, (v, d) in enumerate(zip(values, days, strict=True)) if v is not None]  # fmt: skip
    if len(pts) > 1:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#0b57d0" stroke-width="2"/>')
    for x, y, d in pts:
        parts.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="#0b57d0"><title>'
            f"{escape(d['label'])}：平均响应 {d['avg_ms']} 毫秒，最长 {d.get('max_ms')} 毫秒"
            "</title></circle>"
        )
    if not pts:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'fill="#5f6368">没有响应时间记录</text>'
        )
    parts.append(tail)
    return Markup("".join(parts))


def unit_bars(
    units: Sequence[str], quarters: Sequence[str], counts: Mapping[str, Sequence[int]], title: str
) -> Markup:
    """Horizontal bars: for each unit, one bar per quarter (oldest first) of its problems."""
    row_h, bar_h, left, right = 8 + 12 * max(1, len(quarters)), 11, 190, 60
    width = 640
    height = 30 + row_h * max(1, len(units))
    plot_w = width - left - right
    peak = max([n for u in units for n in counts.get(u, ())] or [1]) or 1
    head, tail = _open(width, height, title, "units-chart")
    parts = [head]
    for q, name in enumerate(quarters):
        colour = _COLOURS[q % len(_COLOURS)]
        parts.append(
            f'<rect x="{left + 110 * q}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + 14 + 110 * q}" y="13">{escape(name)}</text>'
        )
    for r, unit in enumerate(units):
        y0 = 24 + r * row_h
        shown = unit if len(unit) <= 14 else unit[:13] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y0 + row_h / 2 + 2}" text-anchor="end">'
            f"<title>{escape(unit)}</title>{escape(shown)}</text>"
        )
        for q, n in enumerate(counts.get(unit, ())):
            w = plot_w * n / peak
            y = y0 + 4 + q * 12
            parts.append(
                f'<rect x="{left}" y="{y}" width="{_num(max(w, 1 if n else 0))}" '
                f'height="{bar_h}" fill="{_COLOURS[q % len(_COLOURS)]}"><title>'
                f"{escape(unit)} · {escape(quarters[q])}：{n} 个问题</title></rect>"
                f'<text x="{_num(left + w + 4)}" y="{y + 9}" font-size="10" fill="#5f6368">{n}'
                "</text>"
            )
    if not units:
        parts.append(f'<text x="{left}" y="40" fill="#5f6368">各季度都没有问题</text>')
    parts.append(tail)
    return Markup("".join(parts))
