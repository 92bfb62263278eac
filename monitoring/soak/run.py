"""``make soak``: the reliability figures of docs/reliability.md, printed and saved.

    python -m monitoring.soak [--cycles 1000] [--fault-repeats 3] [--kill-rounds 3]
        [--malformed 1500] [--out docs/results/soak.json]

Four parts: provider faults with the real models, a leak check over many
connect / stream / disconnect cycles, malformed messages beside healthy sessions, and
SIGKILL mid-reply against the real server.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from monitoring.soak.faults import run_faults
from monitoring.soak.leaks import run_leak_check
from monitoring.soak.malformed import run_malformed
from monitoring.soak.markdown import write_figures
from monitoring.soak.sigkill import run_sigkill
from monitoring.soak.targets import RECOVERY_P95_TARGET_S, RSS_GROWTH_TARGET_MB


def cpu_name() -> str:
    try:
        described = Path("/proc/cpuinfo").read_text()
    except OSError:
        described = ""  # not Linux: the architecture below says less, but something
    for line in described.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {"cpu": cpu_name(), "cores": psutil.cpu_count(), "python": platform.python_version()}


def report(figures: dict[str, Any]) -> str:
    f, leak, bad, kill = figures["faults"], figures["leaks"], figures["malformed"], figures["sigkill"]
    lines = [
        "Reliability soak",
        f"  faults injected / fired / recovered  {f['injected']} / {f['fired']} / {f['recovered']}"
        f"   (recovery p50 {f['recovery_p50_s']} s, p95 {f['recovery_p95_s']} s,"
        f" max {f['recovery_max_s']} s)",
    ]
    for kind, k in f["by_kind"].items():
        lines.append(f"    {kind:<12} {k['recovered']}/{k['injected']} recovered, "
                     f"{k['turns_failed']} turns failed (told: {k['told_when_failed']}), "
                     f"p95 {k['recovery_p95_s']} s")
    lines += [
        f"  leak check: {leak['cycles']} spoken cycles ({leak['cut_mid_reply']} cut mid-reply, "
        f"{leak['speculative_replies']} speculative replies, {leak['failed']} failed) in {leak['seconds']} s;"
        f" sessions released: {leak['sessions_released']}",
        f"    threads {leak['before']['threads']} -> {leak['after']['threads']} "
        f"({leak['threads_delta']:+d}), open files {leak['before']['open_files']} -> "
        f"{leak['after']['open_files']} ({leak['open_files_delta']:+d}), RSS "
        f"{leak['before']['rss_mb']:.1f} -> {leak['after']['rss_mb']:.1f} MB ({leak['rss_delta_mb']:+.1f})",
        f"    second half alone: threads {leak['second_half']['threads_delta']:+d}, open files "
        f"{leak['second_half']['open_files_delta']:+d}, RSS {leak['second_half']['rss_delta_mb']:+.1f} MB; "
        f"threads added: {leak['thread_kinds_delta'] or 'none'}",
        f"  malformed messages sent {bad['malformed_sent']} in {bad['attack_seconds']} s (errors returned "
        f"{bad['errors_returned']}); healthy spoken sessions harmed {bad['sessions_harmed']}/"
        f"{bad['healthy_sessions']} ({bad['healthy_answered']}/{bad['healthy_turns']} turns answered, "
        f"slowest {bad['healthy_v2v_max_ms']} ms against {bad['slow_threshold_ms']} ms = 2 x normal p95; "
        f"overlap {bad['attack_overlap']:.0%}; internal errors {bad['internal_errors']})",
        f"  SIGKILL mid-reply: {kill['rounds']} rounds, finalized turns {kill['finalized_turns']}, "
        f"lost {kill['lost']}",
    ]
    return "\n".join(lines)




def missed_targets(figures: dict[str, Any]) -> list[str]:
    """The targets of docs/reliability.md that these figures miss (none: all met)."""
    faults, leak = figures["faults"], figures["leaks"]
    bad, kill = figures["malformed"], figures["sigkill"]
    p95 = faults["recovery_p95_s"]
    checks = {
        "every fault fired": faults["fired"] == faults["injected"],
        "every fault recovered": faults["recovered"] == faults["injected"],
        f"recovery p95 under {RECOVERY_P95_TARGET_S:g} s": p95 is not None and p95 < RECOVERY_P95_TARGET_S,
        "no connect cycle failed": leak["failed"] == 0,
        "the leak check spoke (speculative replies ran)": leak["speculative_replies"] > 0,
        "every session released": leak["sessions_released"],
        "threads and open files back to baseline (second half)": (
            leak["second_half"]["threads_delta"] <= 0 and leak["second_half"]["open_files_delta"] <= 0),
        f"RSS growth under {RSS_GROWTH_TARGET_MB:g} MB": leak["rss_delta_mb"] < RSS_GROWTH_TARGET_MB,
        "no healthy session harmed by malformed input": bad["sessions_harmed"] == 0,
        "healthy sessions talked through the whole attack": bad["attack_overlap"] >= 0.999,
        "no internal error from malformed input": bad["internal_errors"] == 0,
        "no finalized turn lost to SIGKILL": kill["lost"] == 0,
    }
    return [name for name, met in checks.items() if not met]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=600)
    parser.add_argument("--fault-repeats", type=int, default=3)
    parser.add_argument("--kill-rounds", type=int, default=3)
    parser.add_argument("--malformed", type=int, default=1500, help="messages per misbehaving client")
    parser.add_argument("--out", default="docs/results/soak.json")
    parser.add_argument("--doc", default="docs/reliability.md",
                        help="the document whose figures table is rewritten from these figures ('' : none)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    figures: dict[str, Any] = {"machine": machine()}
    figures["faults"] = run_faults(args.fault_repeats)
    figures["leaks"] = run_leak_check(args.cycles)
    figures["malformed"] = run_malformed(args.malformed)
    figures["sigkill"] = run_sigkill(args.kill_rounds)
    figures["seconds"] = round(time.monotonic() - started)
    print(report(figures))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved to {out}")
    if args.doc:
        write_figures(Path(args.doc), figures)
        print(f"figures written into {args.doc}")
    missed = missed_targets(figures)
    if missed:
        print("targets missed: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
