"""The admin page's charts (ids: ``admin-chart-*``), built from the ``series`` of
``/metrics.json`` (10 s buckets over the last hour) or of the history in the store
(coarser buckets over hours or days), oldest first.

Figures are plain Plotly dicts, a few hundred points each; a bucket with no turns is a gap in
the latency lines, and a chart with nothing to show says so instead of being blank.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import feffery_antd_components as fac
from dash import dcc, html

from monitoring.metrics.series import BUCKET_S, TURN_STAGES

Series = list[dict[str, Any]]
Figure = dict[str, Any]  # plain dicts: go.Figure validates every property (~250 ms against ~3 ms)

STAGE_LABELS = {
    "endpoint_ms": "End of turn",
    "transcript_ms": "Speech recognized",
    "llm_first_token_ms": "LLM first token",
    "llm_first_sentence_ms": "LLM first sentence",
    "tts_first_audio_ms": "TTS first audio",
}
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#1677ff", "#fa8c16", "#52c41a", "#ff4d4f", "#722ed1", "#8c8c8c"
STAGE_COLORS = dict(zip(TURN_STAGES, (GREY, PURPLE, ORANGE, GREEN, BLUE), strict=True))
NO_TURNS = "No turns yet"
GRID = "#f0f0f0"
HEIGHT_PX = 250
MIN_SPAN_MS = 10 * 60 * 1000
# No height or width: the graph fills its box (dcc.Graph responsive), which CSS sizes.
PLAIN = {"autosize": True, "paper_bgcolor": "#fff", "plot_bgcolor": "#fff"}


def _x(series: Series) -> dict[str, Any]:
    """The traces' x: the buckets are contiguous, so a start and a step (``x0``/``dx``)
    instead of one date per point, which was most of the bytes sent every refresh.
    Plotly shows epoch milliseconds as UTC, so they are moved by the server's UTC offset
    (the table shows the server's clock too)."""
    starts = _starts(series)
    step = starts[1] - starts[0] if len(starts) > 1 else 0
    if step > 0 and all(b - a == step for a, b in itertools.pairwise(starts)):
        return {"x0": starts[0], "dx": step}
    return {"x": starts}


def _starts(series: Series) -> list[int]:
    if not series:
        return []
    offset = time.localtime(series[-1]["t"]).tm_gmtoff
    return [int((b["t"] + offset) * 1000) for b in series]


def _x_range(series: Series) -> list[int] | None:
    """The whole series, and at least the last ten minutes (a new server has one bucket)."""
    starts = _starts(series)
    if not starts:
        return None
    end = starts[-1] + int(width_s(series) * 1000)
    return [min(starts[0], end - MIN_SPAN_MS), end]


def _layout(series: Series, y_title: str, right_axis: str | None = None, **extra: Any) -> dict[str, Any]:
    """``right_axis``: the title of a second y axis on the right (``yaxis="y2"`` traces)."""
    axes: dict[str, Any] = {}
    if right_axis is not None:
        axes["yaxis2"] = {"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                          "title": {"text": right_axis}}
    return {
        **PLAIN, "margin": {"l": 50, "r": 50 if right_axis else 16, "t": 8, "b": 32}, **axes,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "hovermode": "x unified", "font": {"size": 11}, "uirevision": "keep",  # zoom survives a refresh
        "xaxis": {"type": "date", "gridcolor": GRID, "range": _x_range(series)},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": GRID, "zeroline": False},
        **extra,
    }


def empty_figure(message: str) -> Figure:
    return {"data": [], "layout": {
        **PLAIN, "margin": {"l": 16, "r": 16, "t": 8, "b": 16},
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": message, "showarrow": False, "font": {"size": 15, "color": GREY},
                         "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}] if message else [],
    }}


def _ms(values: list[float | None]) -> list[int | None]:
    """Whole milliseconds: enough for a chart, and fewer bytes every refresh."""
    return [None if v is None else round(v) for v in values]


def _has_turns(series: Series) -> bool:
    return any(b["turns"] for b in series)


def _line(x: dict[str, Any], y: list[Any], name: str, color: str, **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", **x, "y": y, "name": name, "mode": "lines+markers",
            "line": {"color": color, "width": 2}, "marker": {"size": 4}, "connectgaps": False, **extra}


def _bars(x: dict[str, Any], y: list[Any], name: str, color: str, **extra: Any) -> dict[str, Any]:
    return {"type": "bar", **x, "y": y, "name": name, "marker": {"color": color}, **extra}


def voice_to_voice_figure(series: Series) -> Figure:
    if not _has_turns(series):
        return empty_figure(NO_TURNS)
    x = _x(series)
    return {"data": [_line(x, _ms([b["v2v_p50"] for b in series]), "p50", BLUE),
                     _line(x, _ms([b["v2v_p95"] for b in series]), "p95", ORANGE)],
            "layout": _layout(series, "ms after the end of speech")}


def stages_figure(series: Series) -> Figure:
    if not _has_turns(series):
        return empty_figure(NO_TURNS)
    x = _x(series)
    return {"data": [_line(x, _ms([b["stage_p50"].get(stage) for b in series]), STAGE_LABELS[stage],
                           STAGE_COLORS[stage]) for stage in TURN_STAGES],
            "layout": _layout(series, "p50, ms after the end of speech")}


def width_s(series: Series) -> float:
    """The series' bucket width (the live hour's 10 s, or the history's minutes)."""
    return float(series[1]["t"] - series[0]["t"]) if len(series) > 1 else BUCKET_S


def step_words(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:g} min"


def turns_per_minute(series: Series) -> list[float]:
    """Turns in the minute up to each bucket's end: what the card above says, and steadier
    than a 10 s bucket times six; over a longer bucket, its mean per minute."""
    width = width_s(series)
    if width >= 60.0:
        return [b["turns_per_min"] for b in series]
    per_bucket = [b["turns"] for b in series]
    k = max(1, round(60.0 / width))
    return [sum(per_bucket[max(0, i - k + 1): i + 1]) for i in range(len(per_bucket))]


def load_figure(series: Series) -> Figure:
    if not series:
        return empty_figure("No data yet")
    x = _x(series)
    return {"data": [_bars(x, turns_per_minute(series), "Turns per minute", "#91caff", yaxis="y2"),
                     _line(x, [b["sessions"] for b in series], "Active sessions", GREEN,
                           line={"color": GREEN, "width": 2, "shape": "hv"})],
            "layout": _layout(series, "sessions", right_axis="turns/min", bargap=0.1)}


def errors_figure(series: Series) -> Figure:
    if not any(b["errors"] for b in series):
        return empty_figure("No errors in this time" if series else "No data yet")
    return {"data": [_bars(_x(series), [b["errors"] for b in series], "Errors", RED)],
            "layout": _layout(series, f"errors per {step_words(width_s(series))}", showlegend=False,
                              bargap=0.1)}


def process_figure(series: Series) -> Figure:
    if not any(b["cpu_percent"] is not None for b in series):
        return empty_figure("No readings yet")
    x = _x(series)
    memory = [None if b["rss_bytes"] is None else round(b["rss_bytes"] / 2**20, 1) for b in series]
    return {"data": [_line(x, [b["cpu_percent"] for b in series], "CPU %", PURPLE),
                     _line(x, memory, "Memory (MB)", GREY, yaxis="y2")],
            "layout": _layout(series, "CPU % (100 = one core)", right_axis="MB")}


# (id, title, builder): the order of the refresh callback's figure outputs.
CHARTS: list[tuple[str, str, Callable[[Series], Figure]]] = [
    ("admin-chart-v2v", "Voice-to-voice", voice_to_voice_figure),
    ("admin-chart-stages", "Where the time goes", stages_figure),
    ("admin-chart-load", "Sessions and turns", load_figure),
    ("admin-chart-errors", "Errors", errors_figure),
    ("admin-chart-process", "CPU and memory", process_figure),
]


DARK = {"paper": "#1f1f1f", "text": "#d9d9d9", "grid": "#303030"}  # the dark page's panel colours


def in_scheme(figure: Figure, dark: bool) -> Figure:
    """The figure in the page's light or dark colours (the page follows the system)."""
    if not dark:
        return figure
    layout = figure["layout"]
    layout.update(paper_bgcolor=DARK["paper"], plot_bgcolor=DARK["paper"],
                  font={**layout.get("font", {}), "color": DARK["text"]})
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis["gridcolor"] = DARK["grid"]
    return figure


def figures(series: Series, dark: bool = False) -> list[Figure]:
    return [in_scheme(build(series), dark) for _, _, build in CHARTS]


def render() -> html.Div:
    return html.Div(className="admin-charts", children=[
        fac.AntdCard(title=title, size="small", className="admin-chart-card", children=dcc.Graph(
            id=chart_id, figure=empty_figure(""), responsive=True, config={"displayModeBar": False},
            style={"height": f"{HEIGHT_PX}px", "width": "100%"}))
        for chart_id, title, _ in CHARTS
    ])
