"""The admin page's figures at a glance (ids: ``admin-card-*``), from ``/metrics.json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import feffery_antd_components as fac
from dash import html

from monitoring.metrics.alerts import THRESHOLDS

LAST_MINUTE_S = 60.0
ERROR_WINDOW_S = 300.0


@dataclass(frozen=True)
class Stat:
    key: str  # the card's id is admin-card-<key>
    title: str
    value: float | int | None
    suffix: str
    note: str
    warn: bool = False


def _recent(series: list[dict[str, Any]], now: float, seconds: float, field: str) -> int:
    """Sum of ``field`` over the buckets that started in the last ``seconds``."""
    return sum(b[field] for b in series if b["t"] > now - seconds)


def _window(n: int, noun: str) -> str:
    return f"no {noun}s yet" if n == 0 else f"last {noun}" if n == 1 else f"last {n} {noun}s"


def stats(data: dict[str, Any], now: float, cluster: dict[str, Any] | None = None) -> list[Stat]:
    """``cluster``: the cluster view's totals; with more than one process the cards are
    the whole cluster's (sums, and the slowest process's percentiles)."""
    if cluster is not None and cluster["processes"] > 1:
        return cluster_stats(cluster)
    series = data.get("series", [])
    v2v, barge_in = data["voice_to_voice"], data["barge_in"]
    process = data["process"]
    errors = _recent(series, now, ERROR_WINDOW_S, "errors")
    turns = _recent(series, now, ERROR_WINDOW_S, "turns")
    memory = process.get("rss_bytes")
    typed = data.get("voice_to_voice_by_kind", {}).get("typed", {"n": 0})
    v2v_note = _window(v2v["n"], "spoken turn")
    if typed["n"]:
        v2v_note += f"; typed {round(typed['p50'])} ms"
    return [
        Stat("sessions", "Active sessions", data["pool"]["active"], "",
             f"{data['pool']['parked']} waiting for a resume"),
        Stat("turns", "Turns per minute", _recent(series, now, LAST_MINUTE_S, "turns"), "",
             "in the last minute"),
        Stat("v2v-p50", "Voice-to-voice p50", v2v["p50"], "ms", v2v_note),
        Stat("v2v-p95", "Voice-to-voice p95", v2v["p95"], "ms",
             f"{_window(v2v['n'], 'spoken turn')}; alert over {THRESHOLDS.voice_to_voice_p95_ms:g}",
             warn=_over(v2v["p95"], THRESHOLDS.voice_to_voice_p95_ms)),
        error_rate(errors, turns),
        Stat("cpu", "CPU", process.get("cpu_percent"), "%",
             f"100% = one core; alert over {THRESHOLDS.cpu_percent:g}",
             warn=_over(process.get("cpu_percent"), THRESHOLDS.cpu_percent)),
        Stat("memory", "Memory", None if memory is None else round(memory / 2**20), "MB", "resident"),
        Stat("barge-in", "Barge-in p95", barge_in["p95"], "ms",
             f"{_window(barge_in['n'], 'interruption')}; alert over {THRESHOLDS.barge_in_p95_ms:g}",
             warn=_over(barge_in["p95"], THRESHOLDS.barge_in_p95_ms)),
    ]


def _over(value: float | None, threshold: float) -> bool:
    return value is not None and value > threshold


def error_rate(errors: int, turns: int) -> Stat:
    """Errors for every hundred turns of the last five minutes: a count alone says little
    without the traffic it came from."""
    rate = round(100 * errors / turns, 1) if turns else (0 if not errors else None)
    return Stat("errors", "Error rate", rate, "%",
                f"{errors} error{'s' if errors != 1 else ''} in {turns} turn{'s' if turns != 1 else ''}, "
                f"last 5 min; alert over {THRESHOLDS.error_rate_percent:g}",
                warn=rate is None or rate > THRESHOLDS.error_rate_percent)


def cluster_stats(totals: dict[str, Any]) -> list[Stat]:
    every = f"all {totals['answering']} of {totals['processes']} processes"
    errors = totals["errors_last_5_min"]
    return [
        Stat("sessions", "Active sessions", totals["active_sessions"], "",
             f"{every}; {totals['parked_sessions']} waiting for a resume"),
        Stat("turns", "Turns per minute", totals["turns_last_minute"], "", f"in the last minute, {every}"),
        Stat("v2v-p50", "Voice-to-voice p50", totals["voice_to_voice_p50_ms"], "ms", "the slowest process's"),
        Stat("v2v-p95", "Voice-to-voice p95", totals["voice_to_voice_p95_ms"], "ms", "the slowest process's"),
        Stat("errors", "Errors", errors, "", f"in the last 5 minutes, {every}", warn=errors > 0),
        Stat("cpu", "CPU", totals["cpu_percent"], "%", f"{every}; 100% = one core"),
        Stat("memory", "Memory", round(totals["rss_mb"]), "MB", f"resident, {every}"),
        Stat("barge-in", "Barge-in p95", totals["barge_in_p95_ms"], "ms", "the slowest process's"),
    ]


def _card(stat: Stat) -> html.Div:
    shown = "—" if stat.value is None else round(stat.value) if isinstance(stat.value, float) else stat.value
    return html.Div(
        id=f"admin-card-{stat.key}",
        className="admin-stat admin-stat-warn" if stat.warn else "admin-stat",
        children=[
            fac.AntdStatistic(title=stat.title, value=shown,
                              suffix=stat.suffix if stat.value is not None else "",
                              valueStyle={"color": "#cf1322"} if stat.warn else {}),
            html.Div(stat.note, className="admin-stat-note"),
        ],
    )


def cards(data: dict[str, Any], now: float, cluster: dict[str, Any] | None = None) -> list[html.Div]:
    return [_card(stat) for stat in stats(data, now, cluster)]


def render() -> html.Div:
    return html.Div(id="admin-cards", className="admin-cards", role="status", **{"aria-live": "off"})
