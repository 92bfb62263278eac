"""Capacity figures for docs/performance.md, from the load tester: ``make capacity``.

1. Simulated providers (the server's own capacity): a fresh server per step, N sessions
   talking at once; the floor is the one-session run; a step holds when no turn failed
   and p95 voice-to-voice is within ``--margin-ms`` of the floor's p95.
2. Embedded models: how many people talking at once keep p95 voice-to-voice under 2 s.
3. Memory: the server's RSS per idle session (listening, room noise) and per talking one.

Servers run on 127.0.0.1 (free ports) and are stopped by their PID. Prints one table per
part and writes everything as JSON (``--out``), with a plot per simulated step.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitoring.loadtest.capacity_idle import hold_idle_sessions
from monitoring.loadtest.capacity_targets import Setup, started
from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.report import Report
from monitoring.loadtest.run import run_load
from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import simulated_env

EMBEDDED_TARGET_MS = 2000.0


def _server(env: dict[str, str], token: str, logs: Path, name: str) -> ServerProcess:
    env = {**env, "VOICECHAT_ADMIN_TOKEN": token, "VOICECHAT_LOG_LEVEL": "WARNING",
           "VOICECHAT_DB_PATH": str(logs / f"{name}.db")}
    return ServerProcess(env=env, log_path=logs / f"{name}.log")


def _figures(report: Report) -> dict[str, Any]:
    server = report.server or {}
    rss = (server.get("rss_bytes") or {}) if server.get("collected") else {}
    cpu = (server.get("cpu_percent") or {}) if server.get("collected") else {}
    return {
        "sessions": report.parameters["sessions"],
        "sessions_ok": report.sessions.ok, "sessions_failed": report.sessions.failed,
        "refused": report.sessions.refused,
        "turns_ok": report.turns.ok, "turns_failed": report.turns.failed + report.turns.not_run,
        "v2v_p50_ms": report.v2v_ms.p50, "v2v_p95_ms": report.v2v_ms.p95, "v2v_max_ms": report.v2v_ms.max,
        "server_v2v_p95_ms": report.server_v2v_ms.p95,
        "barge_in_p95_ms": report.barge_in_ms.p95,
        "tester_lag_p95_ms": report.pacing_lag_ms.p95,
        "server_cpu_mean": cpu.get("mean"), "server_cpu_max": cpu.get("max"),
        "server_rss_before": rss.get("before"), "server_rss_max": rss.get("max"),
    }


def holds(row: dict[str, Any], p95_limit_ms: float | None) -> bool:
    """Every session and turn worked, and p95 voice-to-voice stayed within the limit."""
    p95 = row["v2v_p95_ms"]
    return bool(row["turns_failed"] == 0 and row["sessions_failed"] == 0 and row["refused"] == 0
                and p95_limit_ms is not None and p95 is not None and p95 <= p95_limit_ms)


def simulated_sweep(setup: Setup, steps: list[int], turns: int, margin_ms: float, results: Path,
                    logs: Path) -> dict[str, Any]:
    """``setup`` started fresh for each step; the first step is its floor."""
    token = secrets.token_hex(8)
    rows: list[dict[str, Any]] = []
    floor_p95: float | None = None
    misses = 0
    env = {"VOICECHAT_ADMIN_TOKEN": token, "VOICECHAT_LOG_LEVEL": "WARNING"}
    for n in steps:
        with started(setup, env, logs, f"{setup.name}-{n}") as target:
            config = LoadConfig(url=target.ws_url, sessions=n, turns=turns, ramp_up_s=max(2.0, n / 10),
                                admin_token=token, barge_in_every=3 if turns > 3 else 0,
                                plot=results / f"capacity-{setup.name}-{n}.png")
            target.start_metering()
            report = run_load(config)
            cpu = target.cpu_percent()
        row = {**_figures(report), "cpu": cpu}
        if floor_p95 is None:
            floor_p95 = row["v2v_p95_ms"]
        row["holds"] = holds(row, floor_p95 + margin_ms if floor_p95 is not None else None)
        rows.append(row)
        print(_row_line(row), flush=True)
        misses = 0 if row["holds"] else misses + 1
        if misses >= 2:  # two steps in a row past the limit: the next ones only take longer
            break
    held = [r["sessions"] for r in rows if r["holds"]]
    return {"setup": setup.label, "floor_p95_ms": floor_p95, "margin_ms": margin_ms,
            "capacity": max(held, default=0), "steps": rows}


def embedded_sweep(workers: int, steps: list[int], turns: int, logs: Path) -> dict[str, Any]:
    token = secrets.token_hex(8)
    rows: list[dict[str, Any]] = []
    env = {"VOICECHAT_ADMIN_TOKEN": token, "VOICECHAT_LOG_LEVEL": "WARNING",
           "VOICECHAT_GREETING_AFTER_MS": "0", "VOICECHAT_MAX_SESSIONS_PER_ADDRESS": "0",
           "VOICECHAT_ADDRESS_REPLY_TOKENS_PER_MINUTE": "0"}  # (the load tester is one address)
    with started(Setup(workers), env, logs, f"embedded-{workers}w", simulated=False) as target:
        for n in steps:
            config = LoadConfig(url=target.ws_url, sessions=n, turns=turns, ramp_up_s=1.0, admin_token=token)
            target.start_metering()
            row = {**_figures(run_load(config)), "cpu": target.cpu_percent()}
            row["holds"] = holds(row, EMBEDDED_TARGET_MS)
            rows.append(row)
            print(_row_line(row), flush=True)
            if not row["holds"]:
                break
    held = [r["sessions"] for r in rows if r["holds"]]
    return {"workers": workers, "target_p95_ms": EMBEDDED_TARGET_MS, "talkers": max(held, default=0),
            "steps": rows}


def memory(idle: int, active: dict[str, Any], logs: Path) -> dict[str, Any]:
    """RSS per idle session (listening to room noise: the readings with a few open and with
    ``idle`` open, on one fresh server) and per talking session (the largest simulated step
    that held against the one-session step: both include the same one-off costs)."""
    token = secrets.token_hex(8)
    warm = max(1, idle // 10)
    env = {**simulated_env({}), "VOICECHAT_MAX_SESSIONS": str(idle + 100),
           "VOICECHAT_THREADS": str(idle + 200)}
    with _server(env, token, logs, "idle") as server:
        few, many = hold_idle_sessions(server.ws_url, warm, idle, hold_s=8.0,
                                       measure=server.worker_rss_bytes)
    steps = active["steps"]
    held = [s for s in steps if s["holds"] and s["sessions"] > 1 and s["server_rss_max"]]
    best = max(held, key=lambda s: s["sessions"], default=None)
    one = steps[0] if steps and steps[0]["sessions"] == 1 else None
    per_active = None
    if best is not None and one is not None and one["server_rss_max"]:
        per_active = (best["server_rss_max"] - one["server_rss_max"]) / (best["sessions"] - 1)
    return {"idle_sessions": idle, "rss_with_few": few, "rss_with_all": many, "few": warm,
            "per_idle_session_bytes": (many - few) / (idle - warm),
            "active_sessions": best["sessions"] if best else None, "per_active_session_bytes": per_active}


def _row_line(row: dict[str, Any]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:,.0f}"

    workers = (row.get("cpu") or {}).get("workers") or []
    cpu = " + ".join(f"{c:.0f}" for c in workers) or "-"
    return (f"{row['sessions']:>5} sessions | turns {row['turns_ok']:>4} ok {row['turns_failed']:>3} failed"
            f" | v2v p50 {ms(row['v2v_p50_ms']):>6} p95 {ms(row['v2v_p95_ms']):>6}"
            f" max {ms(row['v2v_max_ms']):>6} | tester lag p95 {ms(row['tester_lag_p95_ms'])}"
            f" | worker CPU {cpu} % | {'holds' if row['holds'] else 'past'}")


def _setups(text: str) -> list[Setup]:
    setups = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        workers, _, model = part.partition("w-")
        if not workers.isdigit() or int(workers) < 1 or model not in ("batched", "per-chunk"):
            raise argparse.ArgumentTypeError(f"not a setup (like 2w-batched): {part!r}")
        setups.append(Setup(int(workers), model == "batched"))
    return setups


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if any(n < 0 for n in steps):
        raise argparse.ArgumentTypeError("session counts must be >= 0")
    return [n for n in steps if n > 0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.loadtest.capacity",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--simulated", type=_steps, default=_steps("1,100,150,200,250"),
                        help="session counts with simulated providers, the first is the floor")
    parser.add_argument("--setups", type=_setups,
                        default=_setups("1w-batched,1w-per-chunk,2w-batched,2w-per-chunk"),
                        help="what to sweep: N worker processes (2+: behind HAProxy, with Redis and "
                             "PostgreSQL), Silero batched or one call per chunk")
    parser.add_argument("--turns", type=int, default=4, help="questions per simulated session")
    parser.add_argument("--margin-ms", type=float, default=100.0, help="p95 allowed above the floor's")
    parser.add_argument("--embedded", type=_steps, default=_steps("1,2,3,4,5"),
                        help="talkers at once with the embedded models (empty: skip)")
    parser.add_argument("--embedded-turns", type=int, default=4)
    parser.add_argument("--embedded-workers", type=_steps, default=_steps("1,2"),
                        help="worker processes for the embedded sweeps (2+: behind HAProxy)")
    parser.add_argument("--idle", type=int, default=1000,
                        help="idle sessions for the memory figure (0: skip; else at least 2)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/capacity.json"))
    args = parser.parse_args(argv)
    if args.turns < 1 or args.embedded_turns < 1:
        parser.error("--turns and --embedded-turns must be at least 1")
    if args.idle == 1 or args.idle < 0:
        parser.error("--idle must be 0 (skip) or at least 2")
    results = args.out.parent
    results.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="voicechat-capacity-"))
    figures: dict[str, Any] = {"logs": str(logs)}
    if args.simulated:
        figures["simulated"] = {}
        for setup in args.setups:
            print(f"== simulated providers: {setup.label}", flush=True)
            figures["simulated"][setup.name] = simulated_sweep(setup, args.simulated, args.turns,
                                                               args.margin_ms, results, logs)
    if args.embedded:
        figures["embedded"] = {}
        for workers in args.embedded_workers:
            print(f"== embedded models, {workers} worker process(es)", flush=True)
            figures["embedded"][f"{workers}w"] = embedded_sweep(workers, args.embedded,
                                                                 args.embedded_turns, logs)
    if args.idle and figures.get("simulated"):
        print("== memory", flush=True)
        figures["memory"] = memory(args.idle, next(iter(figures["simulated"].values())), logs)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps({k: v for k, v in _summary(figures).items() if v is not None}))
    return 0


def _summary(figures: dict[str, Any]) -> dict[str, Any]:
    sim, emb, mem = figures.get("simulated", {}), figures.get("embedded", {}), figures.get("memory", {})
    mb = 1024 * 1024

    def per(value: float | None) -> float | None:
        return None if value is None else round(value / mb, 2)

    return {"simulated_capacity": {name: sweep.get("capacity") for name, sweep in sim.items()},
            "embedded_talkers_p95_under_2s": {name: sweep.get("talkers") for name, sweep in emb.items()},
            "mb_per_idle_session": per(mem.get("per_idle_session_bytes")),
            "mb_per_active_session": per(mem.get("per_active_session_bytes"))}


if __name__ == "__main__":
    sys.exit(main())

