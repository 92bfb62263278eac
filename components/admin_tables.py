"""The admin page's tables: recent turns, providers, stored conversations and the
cluster's processes (ids: ``admin-turns``, ``admin-providers``, ``admin-conversations``,
``admin-processes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import feffery_antd_components as fac
from dash import html

from monitoring.metrics.monitor import SESSION_ID_CHARS

# (data key, column title); timings are ms after the end of the person's speech.
TURN_COLUMNS = [
    ("time", "Time"),
    ("session", "Session"),
    ("channel", "Channel"),
    ("endpoint_ms", "End of turn"),
    ("transcript_ms", "Recognized"),
    ("llm_first_token_ms", "LLM 1st token"),
    ("llm_first_sentence_ms", "LLM 1st sentence"),
    ("tts_first_audio_ms", "Voice-to-voice"),
    ("total_ms", "All audio"),
]
NO_TURNS_TEXT = "No turns yet"
CHANNEL_LABELS = {"browser": "browser", "phone": "phone call"}
NO_CONVERSATIONS_TEXT = "No stored conversations yet"
CIRCUIT = {"closed": ("in use", "green"), "open": ("not answering", "red")}


def _ms(value: Any) -> int | str:
    return "—" if value is None else round(float(value))


def turn_rows(recent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows, newest first, as the monitor gives them."""
    rows = []
    for i, turn in enumerate(recent):
        timings = turn["timings"]
        row: dict[str, Any] = {
            "key": f"{turn['t']}-{i}",
            "time": datetime.fromtimestamp(turn["t"]).strftime("%H:%M:%S"),
            "session": turn["session"] or "—",
            "channel": CHANNEL_LABELS.get(turn.get("channel", "browser"), turn.get("channel")),
        }
        row.update({key: _ms(timings.get(key)) for key, _ in TURN_COLUMNS[3:]})
        if timings.get("speculative"):
            row["endpoint_ms"] = f"{row['endpoint_ms']} (early reply)"
        rows.append(row)
    return rows


SPEECH_FIGURES = (("answered", "answered"), ("fallbacks", "by the chained providers"),
                  ("reconnects", "reconnects"), ("stalls", "stalled answers"), ("errors", "API errors"),
                  ("malformed", "unreadable messages skipped"), ("late_deltas", "late audio dropped"))


def speech_item(speech: dict[str, int]) -> html.Div:
    """What the speech-to-speech APIs did since the server started (sessions' counts)."""
    figures = " · ".join(f"{speech.get(key, 0)} {label}" for key, label in SPEECH_FIGURES)
    return html.Div(className="admin-provider", children=[
        html.Span("SPEECH", className="admin-provider-role"),
        html.Span("speech-to-speech", className="admin-provider-name"),
        html.Span(figures, className="admin-muted admin-speech"),
    ])


def provider_items(providers: list[dict[str, Any]], speech: dict[str, int] | None = None) -> list[html.Div]:
    """The guarded providers, and the speech-to-speech APIs' figures once any session used one."""
    items = []
    for p in providers:
        label, color = CIRCUIT.get(p["circuit"], (p["circuit"], "default"))
        if p["using_fallback"]:
            label, color = f"{p['active']} answers meanwhile", "orange"
        items.append(html.Div(className="admin-provider", children=[
            html.Span(p["role"].upper(), className="admin-provider-role"),
            html.Span(p["primary"], className="admin-provider-name"),
            fac.AntdTag(content=label, color=color),
        ]))
    items = items or [html.Div("No guarded providers.", className="admin-muted")]
    return items + ([speech_item(speech)] if speech else [])


CONVERSATION_COLUMNS = [
    ("last", "Last turn"),
    ("session", "Session"),
    ("channel", "Channel"),
    ("turns", "Turns stored"),
    ("last_text", "Last words"),
]
LAST_WORDS_CHARS = 80
NUMBER_COLUMNS = ("turns", "active_sessions", "cpu", "rss_mb")


def conversation_rows(conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored conversations, newest first; phone calls marked as such."""
    rows = []
    for c in conversations:
        text = c["last_text"]
        rows.append({
            "key": c["session_id"],
            "last": datetime.fromtimestamp(c["last_at"]).strftime("%H:%M:%S"),
            "session": c["session_id"][:SESSION_ID_CHARS],  # as the recent turns show it
            "channel": CHANNEL_LABELS.get(c["channel"], c["channel"]),
            "turns": c["turns"],
            "last_text": text if len(text) <= LAST_WORDS_CHARS else text[: LAST_WORDS_CHARS - 1] + "…",
        })
    return rows


PROCESS_COLUMNS = [
    ("process", "Process"),
    ("active_sessions", "Sessions"),
    ("turns", "Turns"),
    ("v2v_p95_ms", "Voice-to-voice p95 ms"),
    ("cpu", "CPU %"),
    ("rss_mb", "Memory MB"),
]


def process_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process of the cluster (this one alone without Redis), then the totals."""
    rows = []
    for p in view["processes"]:
        name = f"{p['url'] or 'this server'}{' (this one)' if p['this_process'] and p['url'] else ''}"
        if not p["reachable"]:
            rows.append({"key": p["id"], "process": f"{name}: not answering"})
            continue
        rows.append({"key": p["id"], "process": name, "active_sessions": p["active_sessions"],
                     "turns": p["turns"], "v2v_p95_ms": _ms(p["voice_to_voice_p95_ms"]),
                     "cpu": round(p["cpu_percent"]), "rss_mb": round(p["rss_mb"])})
    totals = view["totals"]
    if totals["processes"] > 1:
        rows.append({"key": "total", "process": f"all {totals['answering']} answering",
                     "active_sessions": totals["active_sessions"], "turns": totals["turns"],
                     "rss_mb": round(totals["rss_mb"])})
    return rows


def _table(table_id: str, columns: list[tuple[str, str]], empty: str, **more: Any) -> fac.AntdTable:
    return fac.AntdTable(
        id=table_id, data=[], size="small", bordered=False, locale="en-us", **more,
        columns=[{"dataIndex": key, "title": title,
                  "align": "right" if key.endswith("_ms") or key in NUMBER_COLUMNS else "left"}
                 for key, title in columns],
        pagination={"pageSize": 10, "hideOnSinglePage": True, "showSizeChanger": False},
        emptyContent=empty)


def scrolling(label: str, table: fac.AntdTable) -> html.Div:
    """A wide table scrolls sideways in its own region, which the keyboard can reach."""
    return html.Div(table, className="admin-scroll", tabIndex="0", role="region", **{"aria-label": label})


def render() -> html.Div:
    return html.Div(className="admin-tables", children=[
        fac.AntdCard(title="Recent turns (ms after the end of speech)", size="small",
                     className="admin-turns-card",
                     children=scrolling("Recent turns", _table("admin-turns", TURN_COLUMNS, NO_TURNS_TEXT))),
        fac.AntdCard(title="Providers", size="small", className="admin-providers-card",
                     children=html.Div(id="admin-providers", className="admin-providers")),
        fac.AntdCard(title="Stored conversations", size="small", className="admin-conversations-card",
                     children=scrolling("Stored conversations", _table(
                         "admin-conversations", CONVERSATION_COLUMNS, NO_CONVERSATIONS_TEXT,
                         rowSelectionType="radio", selectedRowKeys=[]))),
        fac.AntdCard(title="Processes (with VOICECHAT_REDIS_URL: the whole cluster)", size="small",
                     className="admin-processes-card",
                     children=scrolling("Processes", _table(
                         "admin-processes", PROCESS_COLUMNS, "No process answered"))),
    ])

