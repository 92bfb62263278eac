"""Record what a server's echo gates see, and replay it offline to trace a miss.

    python -m monitoring.bench.gate_recording serve /tmp/gates   # the app, recording
    python -m monitoring.bench --parts echo --url ws://127.0.0.1:8050/ws/voice
    python -m monitoring.bench.gate_recording replay /tmp/gates  # where speech started
    python -m monitoring.bench.gate_recording keep /tmp/gates FILE/N out.npz  # a test fixture

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

import numpy as np

from core.audio.echo_gate import EchoGate
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted

MAX_CALLS = 2_000_000  # per gate: about 15 hours of frames; the oldest go first
DUMP_EVERY_S = 2.0

# ("f", frame, now_ms, passed or None) | ("s", pcm, rate, now_ms) | ("c", now_ms) | ("p", now_ms) | ("r",)
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


# A gate's calls kept as a test fixture (.npz): each call's kind as a code, the frames'
# and the sends' samples end to end with their times (relative to the first frame), and
# the times of the clears and ``playback_done`` reports in one list.
NPZ_KINDS = "fscrp"  # code -> kind: frame, send, clear, reset, played
FRAME_SAMPLES = 480  # the segmenter's 30 ms, as the server passes frames to the gate


def save_npz(calls: list[Call], path: Path, until_ms: int | None = None) -> None:
    """Keep ``calls`` (one gate's) as a fixture, up to ``until_ms`` of microphone audio."""
    kinds, frames, frame_times, sends, send_rates, send_times, stop_times = [], [], [], [], [], [], []
    heard_ms = 0
    for call in calls:
        if call[0] == "f":
            if until_ms is not None and heard_ms >= until_ms:
                break
            frames.append(np.frombuffer(call[1], "<i2"))
            frame_times.append(call[2])
            heard_ms += len(call[1]) // 32
        elif call[0] == "s":
            sends.append(np.frombuffer(call[1], "<i2"))
            send_rates.append(call[2])
            send_times.append(call[3])
        elif call[0] in "cp":
            stop_times.append(call[1])
        kinds.append(NPZ_KINDS.index(call[0]))
    if len(set(send_rates)) > 1:
        raise ValueError("the sends are at more than one sample rate")
    start = frame_times[0]
    np.savez_compressed(path, order=np.array(kinds, np.int8), frames=np.concatenate(frames),
                        frame_times=np.array(frame_times) - start, sends=np.concatenate(sends),
                        send_lengths=np.array([len(s) for s in sends]), send_rate=np.array(send_rates[0]),
                        send_times=np.array(send_times) - start, clear_times=np.array(stop_times) - start)


def load_npz(path: Path) -> list[Call]:
    """The calls a fixture keeps (whether each frame passed is not kept: None)."""
    kept = np.load(path)
    frames, frame_times = iter(range(0, kept["frames"].size, FRAME_SAMPLES)), iter(kept["frame_times"])
    send_at = np.concatenate([[0], np.cumsum(kept["send_lengths"])])
    sends, stops = iter(range(kept["send_lengths"].size)), iter(kept["clear_times"])
    calls: list[Call] = []
    for code in kept["order"]:
        kind = NPZ_KINDS[code]
        if kind == "f":
            at = next(frames)
            calls.append(("f", kept["frames"][at: at + FRAME_SAMPLES].astype("<i2").tobytes(),
                          float(next(frame_times)), None))
        elif kind == "s":
            n = next(sends)
            pcm = kept["sends"][send_at[n]: send_at[n + 1]].astype("<i2").tobytes()
            calls.append(("s", pcm, int(kept["send_rate"]), float(kept["send_times"][n])))
        elif kind in "cp":
            calls.append((kind, float(next(stops))))
        else:
            calls.append(("r",))
    return calls


Starts = list[tuple[float, int | None]]  # where speech started (stream ms), the path's delay then


def replay(calls: list[Call], gate: EchoGate | None = None) -> tuple[EchoGate, Starts, int]:
    """The calls through a gate (a fresh one unless given) and a fresh segmenter: the
    gate, where speech started (the segmenter's stream time, and the path's delay then),
    and how many frames it passed differently from the recorded one (0 when the replay
    is faithful)."""
    gate, segmenter = gate if gate is not None else EchoGate(), Segmenter(SegmenterConfig(neural=False))
    starts: Starts = []
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
            differ += call[3] is not None and (out == call[1]) != call[3]
            starts += [(event.start_ms, gate.path.lag) for event in segmenter.process(out)
                       if isinstance(event, SpeechStarted)]
    return gate, starts, differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("action", choices=("serve", "replay", "keep"))
    parser.add_argument("prefix", help="recordings are written to PREFIX<pid> (replay: or a kept .npz)")
    parser.add_argument("gate", nargs="?", help="keep: the gate, as replay names it (file/number)")
    parser.add_argument("out", nargs="?", type=Path, help="keep: the .npz to write")
    parser.add_argument("--until-ms", type=int, help="keep: microphone audio kept")
    args = parser.parse_args(argv)
    if args.action == "serve":
        GateRecorder(args.prefix).install()
        sys.argv = ["app.py"]
        runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"), run_name="__main__")
        return 0
    if args.action == "keep":
        if args.gate is None or args.out is None:
            parser.error("keep needs the gate and the .npz to write")
        save_npz(load(args.prefix)[args.gate], args.out, args.until_ms)
        return 0
    recorded = ({args.prefix: load_npz(Path(args.prefix))} if args.prefix.endswith(".npz")
                else load(args.prefix))
    for name, calls in recorded.items():
        _, starts, differ = replay(calls)
        sends = sum(call[0] == "s" for call in calls)
        kept = any(call[0] == "f" and call[3] is not None for call in calls)
        differs = f", replay differs on {differ} frames" if kept else ""
        print(f"gate {name}: {len(calls)} calls, {sends} reply sends{differs}")
        for start_ms, lag in starts:
            print(f"  speech started at {start_ms:.0f} ms (path delay {lag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
