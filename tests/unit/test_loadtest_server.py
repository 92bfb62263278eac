"""The server's side of a load test: where its metrics are, and what the polls add up to."""

from __future__ import annotations

from monitoring.loadtest.server import ServerSample, ServerWatch, host_port, http_base


def test_the_http_address_follows_the_websocket_one() -> None:
    assert http_base("ws://127.0.0.1:8050/ws/voice") == "http://127.0.0.1:8050"
    assert http_base("wss://voice.example:8443/ws/voice") == "https://voice.example:8443"
    assert host_port("ws://10.0.0.2/ws/voice") == ("10.0.0.2", 80)
    assert host_port("wss://voice.example/ws/voice") == ("voice.example", 443)


def test_without_a_token_nothing_is_polled_and_the_report_says_why() -> None:
    watch = ServerWatch("ws://127.0.0.1:8050/ws/voice", "", log=None)
    assert not watch.enabled
    figures = watch.figures()
    assert not figures["collected"] and figures["note"] == "not collected (no --admin-token)"
    assert figures["cpu_percent"] == {"mean": None, "max": None}


def test_figures_are_the_mean_and_max_of_the_polls_with_memory_before_and_after() -> None:
    watch = ServerWatch("ws://127.0.0.1:8050/ws/voice", "token", log=None)
    watch.before = ServerSample(0.0, 99.0, 100)  # its CPU covers an unknown stretch: not counted
    watch.samples.extend([ServerSample(2.0, 40.0, 150), ServerSample(4.0, 80.0, 180)])
    watch.after = ServerSample(6.0, 5.0, 170)
    figures = watch.figures()
    assert figures["collected"] and figures["note"] is None
    assert figures["cpu_percent"] == {"mean": 60.0, "max": 80.0}
    assert figures["rss_bytes"] == {"before": 100, "after": 170, "max": 180}
    assert [s["t_s"] for s in figures["samples"]] == [2.0, 4.0]


def test_a_server_that_never_answered_is_named() -> None:
    watch = ServerWatch("ws://127.0.0.1:8050/ws/voice", "token", log=None)
    watch.failures = 3
    figures = watch.figures()
    assert not figures["collected"] and "/metrics.json did not answer" in figures["note"]
