"""The load test as a picture: voice-to-voice of every turn over the run with the
sessions open, and the server's CPU and memory beneath (when they were collected)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from monitoring.loadtest.report import Report

OK_COLOR, FAILED_COLOR, SESSIONS_COLOR = "#1f77b4", "#d62728", "#7f7f7f"
CPU_COLOR, RSS_COLOR = "#ff7f0e", "#2ca02c"


def _latency_panel(ax: Axes, report: Report) -> None:
    ok = [(t.speech_end_s or t.start_s or 0.0, t.v2v_ms) for t in report.per_turn
          if t.ok and t.v2v_ms is not None]
    failed = [t.speech_end_s or t.start_s or 0.0 for t in report.per_turn if not t.ok]
    if ok:
        ax.scatter([x for x, _ in ok], [y for _, y in ok], s=14, color=OK_COLOR, alpha=0.7,
                   label=f"turn ok ({len(ok)})", zorder=3)
    v = report.v2v_ms
    for value, name, style in ((v.p50, "p50", "--"), (v.p95, "p95", ":")):
        if value is not None:
            ax.axhline(value, color=OK_COLOR, linestyle=style, linewidth=1,
                       label=f"{name} {value:.0f} ms")
    if failed:
        floor = 0.0
        ax.scatter(failed, [floor] * len(failed), marker="x", s=30, color=FAILED_COLOR,
                   label=f"turn failed ({len(failed)})", zorder=4)
    ax.set_ylabel("voice-to-voice (ms)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    sessions = ax.twinx()
    if report.active_sessions:
        xs, ys = zip(*report.active_sessions, strict=True)
        sessions.step(xs, ys, where="post", color=SESSIONS_COLOR, linewidth=1.2, label="sessions open")
    sessions.set_ylabel("sessions open", color=SESSIONS_COLOR)
    sessions.set_ylim(0, max(report.parameters["sessions"], 1) * 1.1)
    sessions.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend_above(ax, sessions)


def _legend_above(ax: Axes, other: Axes) -> None:
    """One legend for both y axes, in a row above the panel, clear of the points."""
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = other.get_legend_handles_labels()
    ax.legend(handles + more_handles, labels + more_labels, loc="lower left", bbox_to_anchor=(0, 1.0),
              ncol=len(labels + more_labels), fontsize=8, frameon=False, borderaxespad=0.2)


def _server_panel(ax: Axes, report: Report) -> None:
    samples = report.server.get("samples") or []
    ax.set_xlabel("seconds since the start")
    if not samples:
        ax.text(0.5, 0.5, f"server figures {report.server.get('note') or 'not collected'}",
                ha="center", va="center", transform=ax.transAxes, fontsize=9)
        ax.set_yticks([])
        return
    xs = [s["t_s"] for s in samples]
    ax.plot(xs, [s["cpu_percent"] for s in samples], color=CPU_COLOR, marker=".", label="CPU %")
    ax.set_ylabel("server CPU % (100 = one core)", color=CPU_COLOR)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    memory = ax.twinx()
    memory.plot(xs, [s["rss_bytes"] / 2**20 for s in samples], color=RSS_COLOR, marker=".", label="RSS")
    memory.set_ylabel("server RSS (MB)", color=RSS_COLOR)
    _legend_above(ax, memory)


def write_plot(report: Report, path: Path) -> None:
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 2]})
    try:
        _latency_panel(top, report)
        _server_panel(bottom, report)
        bottom.set_xlim(left=0, right=max(report.duration_s, 1.0))
        p, t = report.parameters, report.turns
        figure.suptitle(f"Load test of {p['url']} at {report.started_at}\n{p['sessions']} sessions x "
                        f"{p['turns']} turns: {t.ok} ok, {t.failed} failed", fontsize=10)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
