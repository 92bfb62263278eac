"""The runtime's figures in the Prometheus text format, read at scrape time.

Nothing is recorded twice: a collector turns the performance monitor's counters and
histograms, the pool and the providers' states into metric families when Prometheus
(or an admin) asks, so the audio path pays nothing for it. Durations are histograms in
seconds (``*_seconds_bucket``), as Prometheus's conventions ask, so they add up over
processes and any time range (``histogram_quantile``); the process's CPU seconds, memory
and file descriptors come from the library's standard process collector. One registry per
runtime (not the library's global one), so tests may run several servers in a process.
With several processes, each is scraped as its own target and Prometheus sums them
(deploy/prometheus/scrape.yml, docs/scaling.md); the admin page's cluster view asks
each process itself (monitoring/metrics/cluster_view.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from core.providers.guards.recovery import statuses
from core.runtime import VoiceRuntime
from monitoring.metrics.histograms import Histogram
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
        yield GaugeMetricFamily(f"{PREFIX}_session_limit", "Most sessions this process takes at once.",
                                value=runtime.settings.max_sessions)
        counters: dict[str, int] = snapshot["counters"]
        yield CounterMetricFamily(f"{PREFIX}_sessions_opened", "Sessions opened since start.",
                                  value=counters.get("sessions_opened", 0))
        yield CounterMetricFamily(f"{PREFIX}_turns", "Replies finished since start.",
                                  value=counters.get("turns", 0))
        errors = CounterMetricFamily(f"{PREFIX}_errors", "Error events sent, by code.", labels=["code"])
        events = CounterMetricFamily(f"{PREFIX}_events", "Other counted events, by name.", labels=["name"])
        turn_taking = CounterMetricFamily(f"{PREFIX}_turn_taking", "How the turn-taking went, by channel "
                                          "and event (core.metrics.TURN_TAKING_EVENTS).",
                                          labels=["channel", "event"])
        for name, value in sorted(counters.items()):
            if name.startswith("error:"):
                errors.add_metric([name.removeprefix("error:")], value)
            elif name.startswith("turn_taking:"):
                turn_taking.add_metric(name.split(":")[1:3], value)
            elif name not in ("sessions_opened", "turns"):
                events.add_metric([name], value)
        yield errors
        yield events
        yield turn_taking
        histograms = monitor_of(runtime).histograms()
        yield histogram(f"{PREFIX}_voice_to_voice_seconds",
                        "From the end of the person's speech (or a typed message) to the first reply "
                        "audio sent; kind: spoken, typed or scripted (a greeting, a fixed reply).",
                        ["kind", "channel"], histograms["voice_to_voice"])
        yield histogram(f"{PREFIX}_turn_stage_seconds",
                        "Each stage of a spoken turn, in seconds after the end of speech.",
                        ["stage"], histograms["turn_stage"])
        yield histogram(f"{PREFIX}_barge_in_seconds",
                        "From the start of speech over a reply to its playback being cleared.",
                        [], histograms["barge_in"])
        process = snapshot["process"]
        yield GaugeMetricFamily(f"{PREFIX}_process_threads", "Threads of the server process.",
                                value=process["threads"])
        providers = GaugeMetricFamily(f"{PREFIX}_provider_up",
                                      "1 while the provider is in use, 0 while its circuit is open.",
                                      labels=["role", "provider", "active"])
        for status in statuses(runtime.providers):
            providers.add_metric([status.role, status.primary, status.active],
                                 1 if status.circuit == "closed" else 0)
        yield providers


def histogram(name: str, documentation: str, labels: list[str], observed: Histogram) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for values, counts in observed.items():
        family.add_metric(list(values), counts.cumulative(), sum_value=counts.total_s)
    return family


def registry_for(runtime: VoiceRuntime) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
