"""The whole cluster's figures for admins (``GET /api/cluster``): every process in the
registry (core/store/process_registry.py) asked for its ``/metrics.json`` with the same
admin token (a process that does not answer within 2 s is listed as unreachable), and
totals. Prometheus scrapes each process as its own target instead (docs/scaling.md)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from core.runtime import VoiceRuntime

ASK_TIMEOUT_S = 2.0
SUMMED = ("active_sessions", "parked_sessions", "turns", "turns_last_minute", "errors_last_5_min")
SLOWEST = ("voice_to_voice_p50_ms", "voice_to_voice_p95_ms", "barge_in_p95_ms")


def _recent(series: list[dict[str, Any]], now: float, seconds: float, field: str) -> int:
    return sum(int(b.get(field, 0)) for b in series if b["t"] > now - seconds)


def summary(figures: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    v2v, process, pool = figures["voice_to_voice"], figures["process"], figures.get("pool") or {}
    now = time.time() if now is None else now
    series = figures.get("series") or []
    return {"active_sessions": figures["active_sessions"], "parked_sessions": pool.get("parked", 0),
            "turns": figures["counters"].get("turns", 0),
            "turns_last_minute": _recent(series, now, 60.0, "turns"),
            "errors_last_5_min": _recent(series, now, 300.0, "errors"),
            "voice_to_voice_p50_ms": v2v["p50"], "voice_to_voice_p95_ms": v2v["p95"],
            "barge_in_p95_ms": (figures.get("barge_in") or {}).get("p95"),
            "cpu_percent": process["cpu_percent"],
            "rss_mb": round(process["rss_bytes"] / 2**20, 1), "uptime_s": figures["uptime_s"]}


def _slowest(processes: list[dict[str, Any]], field: str) -> float | None:
    values = [p[field] for p in processes if p.get(field) is not None]
    return max(values) if values else None


def admin_metrics(url: str, token: str, timeout_s: float = ASK_TIMEOUT_S) -> dict[str, Any] | None:
    """A process's ``/metrics.json`` (admin token); None when it does not answer."""
    request = urllib.request.Request(url.rstrip("/") + "/metrics.json",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return dict(json.load(answer))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def cluster(runtime: VoiceRuntime, own: dict[str, Any]) -> dict[str, Any]:
    """``own``: this process's ``/metrics.json`` (it is not asked over HTTP)."""
    registry = runtime.registry
    members = registry.members() if registry is not None else []
    processes = []
    for member in members or [{"id": "this", "url": "", "pid": None}]:
        mine = registry is None or member["id"] == registry.own_id
        figures = own if mine else admin_metrics(member["url"], runtime.settings.admin_token)
        entry = {"id": member["id"], "url": member["url"], "pid": member["pid"], "this_process": mine,
                 "reachable": figures is not None}
        if figures is not None:
            entry.update(summary(figures))
        processes.append(entry)
    answering = [p for p in processes if p["reachable"]]
    totals = {"processes": len(processes), "answering": len(answering),
              **{field: sum(p[field] for p in answering) for field in SUMMED},
              "cpu_percent": round(sum(p["cpu_percent"] or 0.0 for p in answering), 1),
              "rss_mb": round(sum(p["rss_mb"] for p in answering), 1),
              # Percentiles do not add up: the slowest process's, which bounds the cluster's.
              **{field: _slowest(answering, field) for field in SLOWEST}}
    return {"totals": totals, "processes": processes}
