"""docs/reliability.md's figures, written from the soak's JSON (``make soak`` does it),
so the document and docs/results/soak.json cannot disagree; a unit test holds them to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitoring.soak.targets import RECOVERY_P95_TARGET_S, RSS_GROWTH_TARGET_MB

BEGIN = "<!-- figures: written by make soak from docs/results/soak.json; do not edit by hand -->"
END = "<!-- figures: end -->"
ROLES = {"stt": "speech recognition", "llm": "replies", "tts": "voice"}
MODES = {"raise": "raises (retryable)", "hang": "hangs past its deadline", "garbage": "returns garbage"}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render(f: dict[str, Any]) -> str:
    faults, leak, bad, kill, machine = f["faults"], f["leaks"], f["malformed"], f["sigkill"], f["machine"]
    half = leak["second_half"]
    rows = [
        ("provider faults injected / fired / recovered",
         f"**{faults['injected']} / {faults['fired']} / {faults['recovered']}** (each provider × raise, "
         "hang, garbage)", "all fired, all recovered"),
        ("recovery time, p50 / p95 / max",
         f"**{_seconds(faults['recovery_p50_s'])} / {_seconds(faults['recovery_p95_s'])} / "
         f"{_seconds(faults['recovery_max_s'])}**", f"p95 < {RECOVERY_P95_TARGET_S:g} s"),
        (f"leak check: {leak['cycles']:,} spoken connect / speak / disconnect cycles, "
         f"{leak['cut_mid_reply']} cut mid-reply",
         f"threads **{leak['threads_delta']:+d}**, open files **{leak['open_files_delta']:+d}**, RSS "
         f"**{leak['rss_delta_mb']:+.1f} MB**; second half alone {half['threads_delta']:+d} / "
         f"{half['open_files_delta']:+d} / {half['rss_delta_mb']:+.1f} MB; {leak['failed']} failed; "
         f"{leak['speculative_replies']} replies prepared speculatively; every session released: "
         f"**{'yes' if leak['sessions_released'] else 'no'}**",
         f"threads and files back to baseline, RSS < {RSS_GROWTH_TARGET_MB:g} MB, all released"),
        ("malformed messages beside spoken conversations",
         f"**{bad['malformed_sent']:,}** sent in {bad['attack_seconds']} s; healthy sessions harmed "
         f"**{bad['sessions_harmed']} of {bad['healthy_sessions']}** ({bad['healthy_answered']} of "
         f"{bad['healthy_turns']} spoken turns answered, slowest {bad['healthy_v2v_max_ms']:.0f} ms against "
         f"{bad['slow_threshold_ms']:.0f} ms = 2 × the normal p95; they talked through "
         f"{bad['attack_overlap']:.0%} of the attack); internal errors {bad['internal_errors']}",
         "none harmed, the whole attack overlapped, no internal error"),
        ("finalized turns lost after SIGKILL mid-reply",
         f"**{kill['lost']} of {kill['finalized_turns']}** ({kill['rounds']} rounds)", "0"),
    ]
    lines = [BEGIN, "",
             f"Measured on {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}; "
             f"the whole soak took {f['seconds']} s.", "",
             "| what | figure | target |", "|---|---|---|",
             *(f"| {what} | {figure} | {target} |" for what, figure, target in rows), "",
             "By fault (recovery p95; turns that failed, and whether the person was told):", "",
             "| provider | " + " | ".join(MODES.values()) + " |", "|---|---|---|---|"]
    for role, name in ROLES.items():
        cells = []
        for mode in MODES:
            kind = faults["by_kind"][f"{role}/{mode}"]
            failed = kind["turns_failed"]
            told = ", told" if failed and kind["told_when_failed"] else (", NOT told" if failed else "")
            cells.append(f"{_seconds(kind['recovery_p95_s'])}, {failed} turn(s) failed{told}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", END])


ATTACKS_BEGIN = "<!-- attacks: written by make attack from docs/results/attack.json; do not edit by hand -->"
ATTACKS_END = "<!-- attacks: end -->"


def render_attacks(results: list[dict[str, Any]]) -> str:
    held = sum(r["held"] for r in results)
    lines = [ATTACKS_BEGIN, "", f"**{held} of {len(results)} attacks held.**", "",
             "| attack | defence expected | what happened | |", "|---|---|---|---|"]
    lines += [f"| {r['attack']} | {r['defence']} | {r['detail']} | {'held' if r['held'] else '**BROKEN**'} |"
              for r in results]
    return "\n".join([*lines, "", ATTACKS_END])


def _replace_block(doc: Path, begin: str, end: str, block: str) -> None:
    text = doc.read_text()
    if begin not in text or end not in text:
        raise ValueError(f"{doc} has no block {begin} ... {end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(head + block + tail)


def write_figures(doc: Path, figures: dict[str, Any]) -> None:
    _replace_block(doc, BEGIN, END, render(figures))


def write_attacks(doc: Path, results: list[dict[str, Any]]) -> None:
    _replace_block(doc, ATTACKS_BEGIN, ATTACKS_END, render_attacks(results))
