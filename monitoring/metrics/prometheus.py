"""The runtime's figures in the Prometheus text format, read at scrape time.

Nothing is recorded twice: a collector turns the performance monitor's counters and
bounded windows, the pool and the providers' states into metric families when
Prometheus (or an admin) asks, so the audio path pays nothing for it. One registry per
runtime (not the library's global one), so tests may run several servers in a process.
With several processes, each is scraped as its own target and Prometheus sums them
(deploy/prometheus/scrape.yml, docs/scaling.md); the admin page's cluster view asks
each process itself (monitoring/metrics/cluster_view.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.providers.guards.recovery import statuses
from core.runtime import VoiceRuntime
from monitoring.metrics.monitor import monitor_of

PREFIX = "voicechat"


class RuntimeCollector(Collector):
    def __init__(self, runtime: VoiceRuntime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime
        snapshot: dict[str, Any] = monitor_of(runtime).snapshot()
        pool = runtime.pool.stats()
        sessions = GaugeMetricFamily(f"{PREFIX}_sessions", "Sessions by state.", labels=["state"])
        sessions.add_metric(["active"], pool.active)
        sessions.add_metric(["parked"], pool.parked)
        yield sessions
        yield GaugeMetricFamily(f"{PREFIX}_client_addresses", "Client addresses with a session.",
                                value=pool.addresses)
        counters: dict[str, int] = snapshot["counters"]
        yield CounterMetricFamily(f"{PREFIX}_sessions_opened", "Sessions opened since start.",
                                  value=counters.get("sessions_opened", 0))
        yield CounterMetricFamily(f"{PREFIX}_turns", "Replies finished since start.",
                                  value=counters.get("turns", 0))
        errors = CounterMetricFamily(f"{PREFIX}_errors", "Error events sent, by code.", labels=["code"])
        events = CounterMetricFamily(f"{PREFIX}_events", "Other counted events, by name.", labels=["name"])
        for name, value in sorted(counters.items()):
            if name.startswith("error:"):
                errors.add_metric([name.removeprefix("error:")], value)
            elif name not in ("sessions_opened", "turns"):
                events.add_metric([name], value)
        yield errors
        yield events
        stages = GaugeMetricFamily(
            f"{PREFIX}_turn_stage_milliseconds",
            "Per-turn stage timings over the recent window (ms after the end of speech).",
            labels=["stage", "quantile"])
        turns = GaugeMetricFamily(f"{PREFIX}_turn_stage_samples", "Turns in the window, by stage.",
                                  labels=["stage"])
        for stage, figures in snapshot["stages"].items():
            turns.add_metric([stage], figures["n"])
            for quantile in ("p50", "p95"):
                if figures[quantile] is not None:
                    stages.add_metric([stage, f"0.{quantile[1:]}"], figures[quantile])
        yield stages
        yield turns
        yield from quantiles(f"{PREFIX}_voice_to_voice",
                             "From the end of the person's speech to the first reply audio sent, "
                             "over the recent window.", snapshot["voice_to_voice"])
        yield from quantiles(f"{PREFIX}_barge_in",
                             "From the start of speech over a reply to its playback being cleared, "
                             "over the recent window.", snapshot["barge_in"])
        process = snapshot["process"]
        yield GaugeMetricFamily(f"{PREFIX}_process_resident_memory_bytes", "RSS of the server process.",
                                value=process["rss_bytes"])
        yield GaugeMetricFamily(f"{PREFIX}_process_cpu_percent",
                                "CPU use between the monitor's last two readings (%, 100 = one core).",
                                value=process["cpu_percent"])
        yield GaugeMetricFamily(f"{PREFIX}_process_threads", "Threads of the server process.",
                                value=process["threads"])
        providers = GaugeMetricFamily(f"{PREFIX}_provider_up",
                                      "1 while the provider is in use, 0 while its circuit is open.",
                                      labels=["role", "provider", "active"])
        for status in statuses(runtime.providers):
            providers.add_metric([status.role, status.primary, status.active],
                                 1 if status.circuit == "closed" else 0)
        yield providers


def quantiles(name: str, documentation: str, figures: dict[str, Any]) -> Iterator[Metric]:
    """``<name>_milliseconds`` with p50 and p95 as ``quantile`` labels (none while the
    window is empty), and ``<name>_samples``: how many values the window holds."""
    family = GaugeMetricFamily(f"{name}_milliseconds", documentation, labels=["quantile"])
    for quantile in ("p50", "p95"):
        if figures[quantile] is not None:
            family.add_metric([f"0.{quantile[1:]}"], figures[quantile])
    yield family
    yield GaugeMetricFamily(f"{name}_samples", "Values in the window.", value=figures["n"])


def registry_for(runtime: VoiceRuntime) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
