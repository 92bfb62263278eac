"""The admin page's builders: figures, cards and table from /metrics.json, and the token
check that decides whether any of it is sent."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from plotly.io.json import to_json_plotly

from components import admin_cards, admin_charts, admin_page, admin_tables
from core.providers.base import Providers
from core.session.pool import ConnectionPool
from core.settings import Settings
from core.store.conversations import ConversationStore
from monitoring.metrics.admin_api import AdminGate, metrics
from monitoring.metrics.monitor import PerformanceMonitor, ProcessReading
from monitoring.metrics.series import BUCKET_S
from tests.support.app_routes import routed
from tests.support.clock import ManualClock
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.unit.test_page import walk

TOKEN = "admin-page-token"
T0 = 1_700_000_000.0  # a bucket boundary
ADDRESS = "192.0.2.1"


def gate_of(fake: SimpleNamespace) -> AdminGate:
    return AdminGate(fake.settings.admin_token, fake.monitor)


class Probe:
    def read(self) -> ProcessReading:
        return ProcessReading(42.0, 512 * 2**20, 9)


def timings(v2v: float, **extra: float) -> dict[str, float]:
    return {"endpoint_ms": 210.0, "transcript_ms": 180.0, "llm_first_token_ms": 320.0,
            "llm_first_sentence_ms": 450.0, "tts_first_audio_ms": v2v, "total_ms": v2v + 800, **extra}


def runtime(admin_token: str = TOKEN) -> tuple[SimpleNamespace, ManualClock]:
    clock = ManualClock(T0)
    monitor = PerformanceMonitor(clock=clock, probe=Probe())
    fake = SimpleNamespace(metrics=monitor, monitor=monitor, pool=ConnectionPool(5), store=None,
                           providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()), registry=None,
                           settings=Settings().replace(admin_token=admin_token))
    return fake, clock


def busy_runtime() -> tuple[SimpleNamespace, ManualClock]:
    """Two buckets of turns, an error in the second, a barge-in, a process reading."""
    fake, clock = runtime()
    for v2v in (600.0, 700.0, 800.0):
        fake.monitor.record_turn(timings(v2v), "abcdef0123456789")
    fake.monitor.sample()
    clock.now += BUCKET_S
    fake.monitor.record_turn(timings(900.0, speculative=1), "fedcba9876543210")
    fake.monitor.count("error:busy")
    fake.monitor.record_barge_in(80.0)
    clock.now += 1.0
    return fake, clock


def annotation(figure: dict[str, Any]) -> str | None:
    notes = figure["layout"].get("annotations", [])
    return notes[0]["text"] if notes else None


def test_every_chart_says_why_it_is_empty() -> None:
    assert [annotation(f) for f in admin_charts.figures([])] == [
        "No turns yet", "No turns yet", "No data yet", "No data yet", "No readings yet"]
    fake, clock = runtime()
    fake.monitor.sample()  # a server with readings but no turns
    clock.now += 1.0
    v2v, stages, load, errors, process = admin_charts.figures(fake.monitor.series())
    assert annotation(v2v) == annotation(stages) == "No turns yet"
    assert annotation(errors) == "No errors in this time"
    assert load["data"] and process["data"] and annotation(process) is None


def test_latency_charts_have_a_point_per_bucket_on_a_time_axis() -> None:
    fake, _ = busy_runtime()
    series = fake.monitor.series()
    v2v, stages, load, errors, process = admin_charts.figures(series)
    p50, p95 = v2v["data"]
    assert (p50["name"], p50["y"], p95["y"]) == ("p50", [700, 900], [800, 900])
    assert p50["dx"] == BUCKET_S * 1000 and "x" not in p50  # a start and a step, not one date per point
    assert [t["name"] for t in stages["data"]] == list(admin_charts.STAGE_LABELS.values())
    assert stages["data"][2]["y"] == [320, 320]
    turns, sessions = load["data"]
    assert turns["y"] == [3, 4] and turns["yaxis"] == "y2" and sessions["y"] == [0, None]
    assert [b["turns_per_min"] for b in series] == [18.0, 6.0]  # (the JSON's own rate: a bucket x 6)
    assert errors["data"][0]["y"] == [0, 1]
    cpu, memory = process["data"]
    assert cpu["y"][0] == 42.0 and memory["y"][0] == 512.0
    start, end = v2v["layout"]["xaxis"]["range"]
    assert end - start >= 10 * 60 * 1000  # a new server's one bucket is not stretched over the chart
    json.loads(to_json_plotly(admin_charts.figures(series)))


def test_turns_per_minute_count_the_last_six_buckets() -> None:
    series = [{"t": i * BUCKET_S, "turns": n} for i, n in enumerate((1, 0, 2, 0, 0, 0, 3, 0))]
    assert admin_charts.turns_per_minute(series) == [1, 1, 3, 3, 3, 3, 5, 5]
    hours = [{"t": i * 300.0, "turns": n, "turns_per_min": n / 5} for i, n in enumerate((10, 0, 5))]
    assert admin_charts.turns_per_minute(hours) == [2.0, 0.0, 1.0]  # (the history's 5 min buckets)


def test_a_series_with_a_hole_gets_explicit_times() -> None:
    fake, _ = busy_runtime()
    first, second = fake.monitor.series()
    series = [first, second, {**second, "t": second["t"] + 3 * BUCKET_S}]
    p50 = admin_charts.voice_to_voice_figure(series)["data"][0]
    assert "dx" not in p50 and [x - p50["x"][0] for x in p50["x"]] == [0, 10_000, 40_000]


def test_cards_sum_the_recent_buckets_and_say_when_there_is_nothing() -> None:
    fake, clock = busy_runtime()
    stats = {s.key: s for s in admin_cards.stats(metrics(fake), clock.now)}
    assert stats["turns"].value == 4 and stats["errors"].value == 25.0 and stats["errors"].warn
    assert stats["errors"].note == "1 error in 4 turns, last 5 min; alert over 5"  # a rate, of what
    assert (stats["v2v-p50"].value, stats["v2v-p95"].value) == (700.0, 900.0)
    assert stats["barge-in"].value == 80.0 and stats["memory"].value == 512 and stats["cpu"].value == 42.0
    later = {s.key: s for s in admin_cards.stats(metrics(fake), clock.now + 3600)}
    assert later["turns"].value == 0 and later["errors"].value == 0 and not later["errors"].warn
    empty, _ = runtime()
    cards = admin_cards.cards(metrics(empty), T0)
    assert [c.id for c in cards][:3] == ["admin-card-sessions", "admin-card-turns", "admin-card-v2v-p50"]
    assert cards[2].children[0].value == "—"


def test_the_table_lists_turns_newest_first_in_whole_ms() -> None:
    fake, _ = busy_runtime()
    rows = admin_tables.turn_rows(fake.monitor.recent_turns(10))
    assert [r["session"] for r in rows] == ["fedcba98", "abcdef01", "abcdef01", "abcdef01"]
    assert rows[0]["tts_first_audio_ms"] == 900 and rows[0]["total_ms"] == 1700
    assert rows[0]["endpoint_ms"] == "210 (early reply)"
    assert len({r["key"] for r in rows}) == 4
    typed = admin_tables.turn_rows([{"t": T0, "session": None, "timings": {"tts_first_audio_ms": 5.4}}])
    assert (typed[0]["session"], typed[0]["transcript_ms"], typed[0]["tts_first_audio_ms"]) == ("—", "—", 5)


def test_the_recent_turns_say_which_came_from_a_phone_call() -> None:
    fake, _ = runtime()
    fake.monitor.record_turn(timings(650.0), "ca11ca11ca11", "phone")
    fake.monitor.record_turn(timings(600.0), "b0b0b0b0b0b0")
    rows = admin_tables.turn_rows(fake.monitor.recent_turns(10))
    assert [(r["session"], r["channel"]) for r in rows] == [
        ("b0b0b0b0", "browser"), ("ca11ca11", "phone call")]


def test_stored_conversations_are_listed_newest_first_with_phone_calls_marked(tmp_path) -> None:
    store = ConversationStore(tmp_path / "conversations.db")
    try:
        store.record("browser-session-1", 1, "user", "What is the capital of France?")
        store.record("browser-session-1", 1, "assistant", "Paris.")
        store.record("phone-call-session", 1, "user", "Hello, who is this? " * 10, channel="phone")
        assert store.flush()
        fake, _ = runtime()
        fake.store = store
        rows = admin_tables.conversation_rows(metrics(fake)["conversations"])
    finally:
        store.close()
    assert [(r["session"], r["channel"], r["turns"]) for r in rows] == [
        ("phone-ca", "phone call", 1), ("browser-", "browser", 2)]
    assert rows[0]["last_text"].endswith("…") and len(rows[0]["last_text"]) == admin_tables.LAST_WORDS_CHARS
    assert rows[1]["last_text"] == "Paris."


def test_providers_show_their_circuit_and_what_stands_in() -> None:
    items = admin_tables.provider_items([
        {"role": "stt", "primary": "local-whisper", "active": "local-whisper", "circuit": "closed",
         "version": 0, "using_fallback": False},
        {"role": "llm", "primary": "openai", "active": "local-gemma", "circuit": "open",
         "version": 2, "using_fallback": True},
    ])
    tags = [c for item in items for c in walk(item) if type(c).__name__ == "AntdTag"]
    assert [t.content for t in tags] == ["in use", "local-gemma answers meanwhile"]
    assert [t.color for t in tags] == ["green", "orange"]


def test_the_speech_to_speech_apis_figures_show_once_a_session_used_one() -> None:
    assert not [i for i in admin_tables.provider_items([], None) if "admin-speech" in str(i)]
    items = admin_tables.provider_items([], {"answered": 12, "fallbacks": 2, "reconnects": 1,
                                             "malformed": 3, "late_deltas": 40})
    (text,) = [c.children for item in items for c in walk(item) if getattr(c, "className", "") ==
               "admin-muted admin-speech"]
    assert text == ("12 answered · 2 by the chained providers · 1 reconnects · 0 stalled answers · "
                    "0 API errors · 3 unreadable messages skipped · 40 late audio dropped")


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x"])
def test_without_the_right_token_nothing_is_sent(token: str | None) -> None:
    fake, _ = busy_runtime()
    outputs = admin_page.view(fake, gate_of(fake), token, ADDRESS)
    message, dashboard, login, _forget, interval_off, updated, cards, *rest = outputs
    *figures, table, providers, conversations, processes, turn_taking, hold = rest
    assert "A valid admin token is needed" in message.message
    assert dashboard == {"display": "none"} and login == {} and interval_off
    assert not updated and not cards and not table and not providers and not conversations
    assert not processes and not turn_taking and not hold
    assert all(not f["data"] for f in figures)
    refused = fake.monitor.snapshot()["counters"].get("refused_admin", 0)
    assert refused == (1 if token else 0)  # an empty prompt is not a refusal


def test_the_right_token_gets_the_figures() -> None:
    fake, clock = busy_runtime()
    outputs = admin_page.view(fake, gate_of(fake), TOKEN, ADDRESS, now=clock.now)
    message, dashboard, login, forget, interval_off, updated, cards, *rest = outputs
    assert message is None and dashboard == forget == {} and login == {"display": "none"}
    assert not interval_off and updated.startswith("Updated")
    *figures, table, providers, conversations, processes, turn_taking, hold = rest
    assert len(cards) == 8 and len(figures) == len(admin_charts.CHARTS)
    assert len(table) == 4 and providers and conversations == []  # (no store: no conversations)
    (this_server,) = processes  # (no Redis: the cluster is this process alone, no totals row)
    assert [row["channel"] for row in turn_taking] == ["browser"] * 5 and "Hold before replies" in hold
    assert this_server["process"] == "this server" and this_server["active_sessions"] == 0
    json.loads(to_json_plotly(outputs))


def test_a_server_without_a_token_refuses_even_an_empty_one() -> None:
    fake, _ = busy_runtime()
    fake.settings = Settings().replace(admin_token="")
    assert admin_page.view(fake, gate_of(fake), "", ADDRESS)[1] == {"display": "none"}


def test_wrong_tokens_from_one_address_make_it_wait_and_the_right_one_then_too() -> None:
    fake, _ = busy_runtime()
    gate = gate_of(fake)
    for _ in range(5):  # a few typing mistakes cost nothing
        assert "A valid admin token" in admin_page.view(fake, gate, "wrong", ADDRESS)[0].message
    assert "A valid admin token" in admin_page.view(fake, gate, "wrong", ADDRESS)[0].message
    locked = admin_page.view(fake, gate, TOKEN, ADDRESS)  # even the right one must wait now
    assert locked[0].message == "Too many wrong tokens." and locked[1] == {"display": "none"}
    assert admin_page.view(fake, gate, TOKEN, "10.9.8.7")[0] is None  # others are not locked out


def test_the_shell_holds_no_data_and_says_how_to_open_a_closed_page() -> None:
    shell = walk(admin_page.render(True))
    ids = [c.id for c in shell if getattr(c, "id", None)]
    assert ids and all(i.startswith("admin-") for i in ids) and len(ids) == len(set(ids))
    assert {"admin-token", "admin-token-input", "admin-refresh", "admin-turns"} <= set(ids)
    assert all(c.figure["data"] == [] for c in shell if type(c).__name__ == "Graph")
    assert next(c for c in shell if getattr(c, "id", None) == "admin-turns").data == []
    closed = walk(admin_page.render(False))
    closed_ids = {c.id for c in closed if getattr(c, "id", None)}
    assert "admin-closed" in closed_ids and "admin-token-input" not in closed_ids
    result = next(c for c in closed if getattr(c, "id", None) == "admin-closed")
    assert "VOICECHAT_ADMIN_TOKEN" in result.subTitle


def test_admin_is_routed_to_its_own_page_and_everything_else_to_the_voice_page(app_with_token) -> None:
    app = app_with_token(TOKEN)
    for path in ("/", "/anything", None):
        rendered = routed(app, path)
        assert "controls-start" in rendered and "admin-" not in rendered
    for path in ("/admin", "/admin/"):
        rendered = routed(app, path)
        assert "admin-token-input" in rendered and "controls-start" not in rendered
        assert TOKEN not in rendered
    closed = routed(app_with_token(""), "/admin")
    assert "The admin page is closed" in closed and "admin-token-input" not in closed
    assert app.server.test_client().get("/admin").status_code == 200  # Dash's page, routed in the browser


def test_card_notes_count_in_words() -> None:
    fake, clock = runtime()
    notes = {s.key: s.note for s in admin_cards.stats(metrics(fake), clock.now)}
    assert notes["v2v-p50"] == "no spoken turns yet"
    assert notes["barge-in"] == "no interruptions yet; alert over 300"
    fake.monitor.record_turn(timings(500.0))
    fake.monitor.record_turn({"llm_first_token_ms": 90.0, "tts_first_audio_ms": 180.0})  # typed
    notes = {s.key: s.note for s in admin_cards.stats(metrics(fake), clock.now)}
    assert notes["v2v-p95"] == "last spoken turn; alert over 1000"
    assert notes["v2v-p50"] == "last spoken turn; typed 180 ms"

