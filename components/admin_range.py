"""The admin page's time range (id: ``admin-range``): the live hour, in 10 s steps from
this process's memory, or 6 hours, 24 hours or 7 days from the history kept in the
store (``core.store.metric_history``: every process's minutes, across restarts)."""

from __future__ import annotations

import logging
from typing import Any

import feffery_antd_components as fac
from dash import html

from core.store.backend import StoreError
from monitoring.metrics.minutes import buckets_from_minutes
from monitoring.metrics.series import BUCKET_S

log = logging.getLogger(__name__)
LIVE = "1h"
# key: (label, span in s, bucket width in s)
RANGES: dict[str, tuple[str, float, float]] = {
    LIVE: ("Last hour (live)", 3_600.0, BUCKET_S),
    "6h": ("6 hours", 6 * 3_600.0, 300.0),
    "24h": ("24 hours", 86_400.0, 900.0),
    "7d": ("7 days", 7 * 86_400.0, 3_600.0),
}
CACHE_S = 20.0  # the history changes a minute at a time; the page refreshes every 2 s
_read: dict[tuple[int, str], tuple[float, list[dict[str, Any]]]] = {}


def render(history: bool) -> html.Div:
    """``history``: the server keeps a store (the longer ranges are read from it)."""
    options = [{"label": label, "value": key, "disabled": key != LIVE and not history}
               for key, (label, _, _) in RANGES.items()]
    return html.Div(className="admin-range", children=[
        fac.AntdSegmented(id="admin-range", options=options, value=LIVE,
                          **{"aria-label": "Time range of the charts"}),
        None if history else html.Span("Longer ranges need the conversation store (VOICECHAT_DB_PATH or "
                                       "VOICECHAT_DATABASE_URL).", className="admin-muted"),
    ])


def chart_series(runtime: Any, key: str | None, live: list[dict[str, Any]],
                 now: float) -> tuple[list[dict[str, Any]], str]:
    """The charts' buckets for the range ``key`` and a note on what they are."""
    history = getattr(runtime, "history", None)
    if key not in RANGES or key == LIVE or history is None:
        return live, "charts: 10 s steps over the last hour (this process, since it started)"
    label, span, width = RANGES[key]
    cached = _read.get((id(history), key))
    if cached is None or now - cached[0] > CACHE_S or now < cached[0]:
        try:
            rows = history.minutes(now - span)
        except StoreError as exc:
            log.warning("admin page: the metrics' history could not be read: %s", exc)
            return live, "charts: the live hour (the history in the store could not be read)"
        if len(_read) > 16:
            _read.clear()
        cached = _read[(id(history), key)] = (now, buckets_from_minutes(rows, now - span, now, width))
    return cached[1], (f"charts: {width / 60:g} min steps over the last {label.lower()}, from the store "
                       "(every process, across restarts)")
