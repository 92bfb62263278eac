"""The admin page's cards when the cluster has several processes: the whole cluster's
figures, built from each process's /metrics.json as ``/api/cluster`` gathers them."""

from __future__ import annotations

from components import admin_cards
from monitoring.metrics.admin_api import metrics
from monitoring.metrics.cluster_view import SLOWEST, SUMMED, summary
from tests.unit.test_admin_page import busy_runtime, runtime


def test_with_several_processes_the_cards_are_the_whole_cluster() -> None:
    """Two processes' /metrics.json (one busier): the cards add sessions, turns, errors,
    CPU and memory, and show the slowest process's percentiles."""
    busy, clock = busy_runtime()
    quiet, _ = runtime()
    figures = [summary(metrics(busy), clock.now), summary(metrics(quiet), clock.now)]
    totals = {"processes": 2, "answering": 2, **{f: sum(p[f] for p in figures) for f in SUMMED},
              "cpu_percent": sum(p["cpu_percent"] for p in figures),
              "rss_mb": sum(p["rss_mb"] for p in figures),
              **{f: max((p[f] for p in figures if p[f] is not None), default=None) for f in SLOWEST}}
    stats = {s.key: s for s in admin_cards.stats(metrics(quiet), clock.now, totals)}
    assert stats["turns"].value == 4 and stats["errors"].value == 1 and stats["errors"].warn
    assert stats["cpu"].value == 84.0 and stats["memory"].value == 1024
    assert stats["v2v-p95"].value == 900.0 and "slowest" in stats["v2v-p95"].note
    assert "all 2 of 2 processes" in stats["sessions"].note
    alone = {s.key: s for s in admin_cards.stats(metrics(quiet), clock.now, {**totals, "processes": 1})}
    assert alone["turns"].value == 0  # one process: its own figures, as before
