"""The admin page's history in the store, on SQLite and on a real PostgreSQL server: each
process's minutes written, a minute written again replaced, the old ones pruned, and all
of it read by another process (a restart, or another machine of a cluster)."""

from __future__ import annotations

from core.store.backend import MinuteRow
from core.store.metric_history import MetricHistory
from tests.integration.test_store_backends import Open, open_store, postgres  # noqa: F401 (fixtures)

T0 = 1_700_000_040.0


def minute(at: float, turns: int, v2v: list[float]) -> MinuteRow:
    return MinuteRow(at, "", turns, 1, 2, 12.5, 3 * 2**20, {"tts_first_audio_ms": v2v})


def test_minutes_are_kept_replaced_pruned_and_read_by_another_process(open_store: Open) -> None:  # noqa: F811
    store = open_store()
    now = T0 + 3_600.0
    one = MetricHistory(store.backend, process="machine-a:1", keep_s=1_800.0, clock=lambda: now)
    one.record([minute(T0, 5, [600.0])])  # older than kept: pruned by the next write
    one.record([minute(now - 120, 3, [500.0, 700.0]), minute(now - 60, 1, [650.0])])
    one.record([minute(now - 60, 2, [640.0, 660.0])])  # the same minute again: replaced
    assert one.flush()
    other = MetricHistory(open_store().backend, process="machine-b:7", clock=lambda: now)
    other.record([minute(now - 60, 4, [])])
    assert other.flush()
    rows = MetricHistory(open_store().backend, process="reader").minutes(now - 7_200)
    assert [(r.minute - now, r.process, r.turns) for r in rows] == [
        (-120, "machine-a:1", 3), (-60, "machine-a:1", 2), (-60, "machine-b:7", 4)]
    assert rows[0].stage_values == {"tts_first_audio_ms": [500.0, 700.0]} and rows[0].cpu_percent == 12.5
    assert rows[0].sessions == 2 and rows[0].rss_bytes == 3 * 2**20 and rows[0].errors == 1
    assert one.write_errors == 0 and one.dropped == 0
    for history in (one, other):
        history.close()
