"""Record what a server's echo gates see, and replay it offline to trace a miss.

    python -m monitoring.bench.gate_recording serve /tmp/gates   # the app, recording
    python -m monitoring.bench --parts echo --url ws://127.0.0.1:8050/ws/voice
    python -m monitoring.bench.gate_recording replay /tmp/gates  # where speech started

The echo bench's misses happen in a server under load, one run in a few: timing that
an offline harness does not reproduce. Recording every gate's microphone frames, reply
sends, clears and resets (with the times the server gave them) makes a miss repeatable:
a fresh ``EchoGate`` fed the same calls passes the same frames, and can then be looked
at frame by frame. A debugging tool: it patches ``EchoGate`` in its own process only.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import runpy
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any

from core.audio.echo_gate import EchoGate
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted

MAX_CALLS = 2_000_000  # per gate: about 15 hours of frames; the oldest go first
DUMP_EVERY_S = 2.0

# ("f", frame, now_ms, passed) | ("s", pcm, rate, now_ms) | ("c", now_ms) | ("p", now_ms) | ("r",)
Call = tuple[Any, ...]


class GateRecorder:
    """Patches ``EchoGate`` so each gate's calls are kept, and writes them to
    ``{prefix}{pid}`` every few seconds (from each process that uses a gate: the app's
    worker is forked after the patch)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.calls: dict[int, deque[Call]] = {}  # by gate, numbered as first seen
        self._numbers = itertools.count(1)
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def install(self) -> None:
        recorder = self
        filter_, sent, stopped, reset = EchoGate.filter, EchoGate.sent, EchoGate.stopped, EchoGate.reset
        played = EchoGate.played

        def recorded_filter(gate: EchoGate, frame: bytes, now_ms: float) -> bytes:
            out = filter_(gate, frame, now_ms)
            recorder.keep(gate, ("f", bytes(frame), now_ms, out == frame))
            return out

        def recorded_sent(gate: EchoGate, pcm: bytes, sample_rate: int, now_ms: float) -> None:
            recorder.keep(gate, ("s", bytes(pcm), sample_rate, now_ms))
            sent(gate, pcm, sample_rate, now_ms)

        def recorded_stopped(gate: EchoGate, now_ms: float) -> None:
            recorder.keep(gate, ("c", now_ms))
            stopped(gate, now_ms)

        def recorded_played(gate: EchoGate, now_ms: float) -> None:
            recorder.keep(gate, ("p", now_ms))
            played(gate, now_ms)

        def recorded_reset(gate: EchoGate) -> None:
            recorder.keep(gate, ("r",))
            reset(gate)

        EchoGate.filter, EchoGate.sent = recorded_filter, recorded_sent  # type: ignore[method-assign]
        EchoGate.stopped, EchoGate.reset = recorded_stopped, recorded_reset  # type: ignore[method-assign]
        EchoGate.played = recorded_played  # type: ignore[method-assign]

    def keep(self, gate: EchoGate, call: Call) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first call in this process: its own file and writer
                self._pid = os.getpid()
                self.calls.clear()
                threading.Thread(target=self._write_often, name="gate-recorder", daemon=True).start()
            number = gate.__dict__.setdefault("recorded_as", next(self._numbers))
            self.calls.setdefault(number, deque(maxlen=MAX_CALLS)).append(call)

    def dump(self) -> Path:
        with self._lock:
            snapshot = {gate: list(calls) for gate, calls in self.calls.items()}
        path = Path(f"{self.prefix}{os.getpid()}")
        path.write_bytes(pickle.dumps(snapshot))
        return path

    def close(self) -> None:
        """Stop writing (the last calls are in the file only after a ``dump``)."""
        self._closed.set()

    def _write_often(self) -> None:
        while not self._closed.wait(DUMP_EVERY_S):
            try:
                self.dump()
            except OSError as exc:
                print(f"gate recording not written: {exc}", file=sys.stderr)


def load(prefix: str) -> dict[str, list[Call]]:
    """Every gate recorded under ``prefix``, by file (process) and number. (Unpickled:
    read only files this tool wrote.)"""
    gates: dict[str, list[Call]] = {}
    folder, stem = Path(prefix).parent, Path(prefix).name
    for path in sorted(folder.glob(f"{stem}*")):
        for number, calls in pickle.loads(path.read_bytes()).items():
            gates[f"{path.name}/{number}"] = calls
    return gates


def replay(calls: list[Call]) -> tuple[EchoGate, list[tuple[float, int | None]], int]:
    """The calls through a fresh gate and segmenter: the gate, where speech started (the
    segmenter's stream time, and the path's delay then), and how many frames the fresh
    gate passed differently from the recorded one (0 when the replay is faithful)."""
    gate, segmenter = EchoGate(), Segmenter(SegmenterConfig(neural=False))
    starts: list[tuple[float, int | None]] = []
    differ = 0
    for call in calls:
        if call[0] == "s":
            gate.sent(call[1], call[2], call[3])
        elif call[0] == "c":
            gate.stopped(call[1])
        elif call[0] == "p":
            gate.played(call[1])
        elif call[0] == "r":
            gate.reset()
        else:
            out = gate.filter(call[1], call[2])
            differ += (out == call[1]) != call[3]
            starts += [(event.start_ms, gate.path.lag) for event in segmenter.process(out)
                       if isinstance(event, SpeechStarted)]
    return gate, starts, differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("action", choices=("serve", "replay"))
    parser.add_argument("prefix", help="recordings are written to PREFIX<pid>")
    args = parser.parse_args(argv)
    if args.action == "serve":
        GateRecorder(args.prefix).install()
        sys.argv = ["app.py"]
        runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"), run_name="__main__")
        return 0
    for name, calls in load(args.prefix).items():
        _, starts, differ = replay(calls)
        sends = sum(call[0] == "s" for call in calls)
        print(f"gate {name}: {len(calls)} calls, {sends} reply sends, replay differs on {differ} frames")
        for start_ms, lag in starts:
            print(f"  speech started at {start_ms:.0f} ms (path delay {lag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
