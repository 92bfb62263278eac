"""What operators get under deploy/: the Prometheus alert rules and the Grafana dashboard
name only metrics the app exposes, and alert where the admin page warns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.alerts import THRESHOLDS
from monitoring.metrics.monitor import PerformanceMonitor
from monitoring.metrics.prometheus import exposition, registry_for
from tests.conftest import ROOT
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "voicechat-dashboard.json"
NAME = re.compile(r"\b((?:voicechat|process)_[a-z_]+|up)\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


@pytest.fixture(scope="module")
def exposed() -> Iterator[set[str]]:
    """The names /metrics gives, with samples in every family (a turn, a barge-in, an error)."""
    monitor = PerformanceMonitor()
    runtime = VoiceRuntime(Settings().replace(db_path="", greeting_after_ms=0),
                           providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()), metrics=monitor)
    monitor.record_turn({"endpoint_ms": 200.0, "llm_first_token_ms": 300.0, "tts_first_audio_ms": 500.0})
    monitor.record_barge_in(90.0)
    monitor.count("error:provider_failed")
    monitor.count("barge_ins")
    monitor.turn_taking("barge_in", "browser")
    try:
        text = exposition(registry_for(runtime)).decode()
    finally:
        runtime.close()
    families = text_string_to_metric_families(text)
    yield {sample.name for family in families for sample in family.samples} | {"up"}


def metric_names(expr: str) -> set[str]:
    return set(NAME.findall(expr))


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_every_alert_rule_is_complete_and_names_exposed_metrics(exposed) -> None:
    found = rules()
    assert len(found) >= 6
    for rule in found:
        assert {"alert", "expr", "for", "labels", "annotations"} <= rule.keys(), rule
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        unknown = metric_names(rule["expr"]) - exposed
        assert not unknown, f"{rule['alert']}: {unknown} are not exposed"


def test_the_alerts_fire_where_the_admin_page_warns() -> None:
    expr = {rule["alert"]: " ".join(rule["expr"].split()) for rule in rules()}
    assert expr["VoiceChatSlowAnswers"].endswith(f"> {THRESHOLDS.voice_to_voice_p95_ms / 1000:g}")
    assert expr["VoiceChatSlowBargeIn"].endswith(f"> {THRESHOLDS.barge_in_p95_ms / 1000:g}")
    assert expr["VoiceChatErrorRate"].endswith(f"> {THRESHOLDS.error_rate_percent:g}")
    assert expr["VoiceChatBusyCpu"].endswith(f"> {THRESHOLDS.cpu_percent:g}")


def test_the_dashboard_draws_only_exposed_metrics(exposed) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels) >= 8
    for panel in panels:
        assert panel["title"] and panel["targets"], panel
        for target in panel["targets"]:
            unknown = metric_names(target["expr"]) - exposed
            assert not unknown, f"{panel['title']}: {unknown} are not exposed"


def test_durations_are_seconds_histograms_and_counters_end_in_total(exposed) -> None:
    assert not [name for name in exposed if "millisecond" in name or name.endswith("_percent")]
    for histogram in ("voicechat_voice_to_voice_seconds", "voicechat_turn_stage_seconds",
                      "voicechat_barge_in_seconds"):
        assert {f"{histogram}{suffix}" for suffix in ("_bucket", "_count", "_sum")} <= exposed
    assert {"voicechat_turns_total", "voicechat_errors_total", "process_cpu_seconds_total"} <= exposed
