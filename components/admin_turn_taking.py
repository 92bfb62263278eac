"""How the turn-taking goes, live (ids: ``admin-turn-taking``, ``admin-hold``): replies
talked over (and how soon), noises that stopped a reply, "mhm"s that did not, short
answers heard, by channel, in the last hour and since the server started; and how long
the end of a spoken turn is waited for before the reply."""

from __future__ import annotations

from typing import Any

import feffery_antd_components as fac
from dash import html

from components.admin_tables import scrolling
from core.metrics import TURN_TAKING_EVENTS

LABELS = {
    "barge_in": "Talked over a reply (it stopped)",
    "talked_over_early": "… within a second of its first sound (taken too early?)",
    "false_interruption": "A noise stopped a reply (it went on)",
    "backchannel_kept": "“Mhm” or “yeah” over a reply (it went on)",
    "short_answer": "One- or two-word answers heard",
}
COLUMNS = [("what", "Event"), ("channel", "Channel"), ("hour", "Last hour"), ("total", "Since start")]
NUMBERS = ("hour", "total")


def rows(view: dict[str, dict[str, dict[str, int]]]) -> list[dict[str, Any]]:
    return [{"key": f"{channel}-{event}", "what": LABELS[event], "channel": channel,
             "hour": counts[event]["hour"], "total": counts[event]["total"]}
            for channel, counts in view.items() for event in TURN_TAKING_EVENTS]


def hold(stages: dict[str, dict[str, float | None]]) -> str:
    """The wait before a reply: the end of a spoken turn judged, after the last word."""
    endpoint = stages.get("endpoint_ms", {})
    if not endpoint.get("n"):
        return "Hold before replies: no spoken turns yet."
    return (f"Hold before replies (the end of a spoken turn judged, after the last word): "
            f"p50 {endpoint['p50']:.0f} ms, p95 {endpoint['p95']:.0f} ms, "
            f"over the last {endpoint['n']} turns.")


def render() -> fac.AntdCard:
    return fac.AntdCard(
        title="Turn-taking", size="small", className="admin-turn-taking-card",
        children=[
            html.Div(id="admin-hold", className="admin-muted admin-hold"),
            scrolling("Turn-taking", fac.AntdTable(
                id="admin-turn-taking", data=[], size="small", bordered=False, locale="en-us",
                columns=[{"dataIndex": key, "title": title, "align": "right" if key in NUMBERS else "left"}
                         for key, title in COLUMNS],
                pagination=False)),
        ])
