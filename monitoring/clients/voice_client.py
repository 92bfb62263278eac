"""A protocol-1 client for ``/ws/voice`` that streams audio at real-time pace.

Used by the benchmark and the tests. It records when each voiced frame was sent and
when each turn's first reply audio arrived, which is what voice-to-voice latency is.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websocket

from core.audio.pcm import INPUT_SAMPLE_RATE, ms_to_bytes
from core.transport.wire import AUDIO_KIND_CUE, PROTOCOL_VERSION, decode_reply_audio

FRAME_MS = 20
FRAME_BYTES = ms_to_bytes(FRAME_MS)
VOICED_RMS = 300.0  # PCM16 RMS above which the client counts a frame as voiced (~-40 dBFS)


def read_wav_16k_mono(path: str | Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        if wav.getframerate() != INPUT_SAMPLE_RATE or wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{path}: need 16 kHz mono PCM16")
        return wav.readframes(wav.getnframes())


def frames_of(pcm: bytes) -> list[bytes]:
    pcm = pcm + b"\x00" * (-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def is_voiced(frame: bytes) -> bool:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) >= VOICED_RMS


def opening_messages() -> tuple[str, str]:
    """What a client sends first: ``hello`` (protocol, mic rate), then ``start``."""
    return (json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION, "sample_rate": INPUT_SAMPLE_RATE}),
            json.dumps({"type": "start"}))


def paced(frames: list[bytes], filler: Callable[[], bytes], until: Callable[[], bool] | None,
          max_s: float) -> Iterator[tuple[bytes, bool]]:
    """``frames`` one every FRAME_MS, as a microphone or a phone line delivers them, then
    ``filler()`` frames until ``until()`` holds or ``max_s`` have passed (at once without
    ``until``). Yields each frame when it is due, and whether it came from ``frames``."""
    for frame, spoken, _ in paced_at(frames, filler, until, max_s):
        yield frame, spoken


def paced_at(frames: list[bytes], filler: Callable[[], bytes], until: Callable[[], bool] | None,
             max_s: float) -> Iterator[tuple[bytes, bool, float]]:
    """``paced``, with the time (monotonic) each frame's 20 ms began: what a sound card
    would have recorded in it, however late this process gets to send it."""
    started = time.monotonic()
    index = 0
    while True:
        due = started + index * FRAME_MS / 1000.0
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing like a live source, not synchronization
        if index < len(frames):
            yield frames[index], True, due - FRAME_MS / 1000.0
        elif until is None or until() or time.monotonic() - started > max_s:
            return
        else:
            yield filler(), False, due - FRAME_MS / 1000.0
        index += 1


def quiet_frame(rng: np.random.Generator) -> bytes:
    """Room noise at about -60 dBFS: what an open microphone sends between words."""
    return rng.normal(0, 30, FRAME_BYTES // 2).astype("<i2").tobytes()


@dataclass
class TurnRecord:
    turn: int
    speech_stopped_at: float | None = None
    last_voiced_sent_at: float | None = None
    first_audio_at: float | None = None
    audio_bytes: int = 0
    cue_bytes: int = 0
    sample_rate: int = 0
    transcript: str | None = None
    reply_text: str = ""
    done_at: float | None = None
    cleared_at: float | None = None
    resumes: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def v2v_ms(self) -> float | None:
        if self.first_audio_at is None or self.last_voiced_sent_at is None:
            return None
        return (self.first_audio_at - self.last_voiced_sent_at) * 1000.0


class VoiceClient:
    """Uses websocket-client: simple-websocket's client drops messages that arrive in
    the same packet as the handshake reply (seen: 4 refusals in 30 lost their reason)."""

    def __init__(self, url: str, origin: str | None = None, timeout_s: float = 30.0) -> None:
        self._ws = websocket.create_connection(url, origin=origin, timeout=timeout_s)
        self._lock = threading.Condition()
        self.events: list[dict[str, Any]] = []
        self.turns: dict[int, TurnRecord] = {}
        self.audio_after_clear = 0  # reply audio of a turn that arrived after its clear
        self._pending_stop_at: float | None = None
        self._last_voiced_sent_at: float | None = None
        self.stream_first_voiced_at: float | None = None  # of the latest stream() call
        self.stream_last_voiced_at: float | None = None
        self._closed = False
        self.close_code: int | None = None
        self.read_error: str | None = None
        self._ws.settimeout(None)  # the reader waits as long as the conversation lasts
        self._reader = threading.Thread(target=self._read, name="voice-client-reader", daemon=True)
        self._reader.start()

    # ----- receiving ---------------------------------------------------------------
    def _read(self) -> None:
        try:
            while True:
                opcode, data = self._ws.recv_data()
                now = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                    break
                with self._lock:
                    if opcode == websocket.ABNF.OPCODE_BINARY:
                        self._on_audio(data, now)
                    elif opcode == websocket.ABNF.OPCODE_TEXT:
                        self._on_event(json.loads(data), now)
                    self._lock.notify_all()
        except (websocket.WebSocketException, OSError) as exc:
            self.read_error = type(exc).__name__  # the socket is gone
        finally:
            with self._lock:
                self._closed = True
                self._lock.notify_all()

    def _turn(self, turn: int) -> TurnRecord:
        return self.turns.setdefault(turn, TurnRecord(turn))

    def _on_event(self, event: dict[str, Any], now: float) -> None:
        event["_t"] = now
        self.events.append(event)
        kind = event["type"]
        if kind == "speech_stopped":
            self._pending_stop_at = now
        elif kind == "state" and event["state"] == "thinking" and event.get("turn"):
            record = self._turn(event["turn"])
            record.speech_stopped_at = self._pending_stop_at
            record.last_voiced_sent_at = self._last_voiced_sent_at
        elif kind == "transcript":
            self._turn(event["turn"]).transcript = event["text"]
        elif kind == "reply_text":
            record = self._turn(event["turn"])
            record.reply_text = (record.reply_text + " " + event["text"]).strip()
        elif kind == "reply_done":
            record = self._turn(event["turn"])
            record.done_at = now
            record.timings = event.get("timings", {})
        elif kind == "clear":
            self._turn(event["turn"]).cleared_at = now
        elif kind == "resume":
            record = self._turn(event["turn"])
            record.cleared_at = None
            record.resumes += 1

    def _on_audio(self, message: bytes, now: float) -> None:
        audio = decode_reply_audio(message)
        record = self._turn(audio.turn)
        if record.cleared_at is not None:
            self.audio_after_clear += 1  # a cleared (and not resumed) turn kept talking
        if audio.kind == AUDIO_KIND_CUE:
            record.cue_bytes += len(audio.pcm16)
            return
        if record.first_audio_at is None:
            record.first_audio_at = now
        record.audio_bytes += len(audio.pcm16)
        record.sample_rate = audio.sample_rate

    # ----- sending -----------------------------------------------------------------
    def send_json(self, message: dict[str, Any]) -> None:
        self._ws.send(json.dumps(message))

    def send_raw(self, message: str | bytes) -> None:
        """Anything at all, as a text or binary message (bad input, for the soak)."""
        if isinstance(message, bytes):
            self._ws.send_binary(message)
        else:
            self._ws.send(message)

    def __enter__(self) -> VoiceClient:
        """Started (``start``), and closed at the end of the block."""
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        for message in opening_messages():
            self._ws.send(message)
        self.wait_for(lambda: any(e["type"] == "state" and e["state"] == "listening" for e in self.events))

    def stream(self, frames: list[bytes], until: Callable[[], bool] | None = None,
               max_s: float = 30.0, rng: np.random.Generator | None = None) -> None:
        """Send frames at real-time pace; then quiet frames until ``until()`` or ``max_s``."""
        rng = rng or np.random.default_rng(0)
        self.stream_first_voiced_at = self.stream_last_voiced_at = None
        for frame, spoken, began in paced_at(frames, lambda: quiet_frame(rng), until, max_s):
            self._ws.send_binary(self.microphone(frame, began))
            if spoken and is_voiced(frame):
                sent_at = time.monotonic()
                with self._lock:
                    self._last_voiced_sent_at = sent_at
                    self.stream_last_voiced_at = sent_at
                    if self.stream_first_voiced_at is None:
                        self.stream_first_voiced_at = sent_at

    def microphone(self, frame: bytes, began: float) -> bytes:
        """What the microphone picks up besides the person over the 20 ms from ``began``
        (here nothing; a client on speakers adds the reply's echo)."""
        return frame

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: predicate() or self._closed, timeout) and predicate()

    def event_seen(self, kind: str, **fields: Any) -> bool:
        with self._lock:
            return any(e["type"] == kind and all(e.get(k) == v for k, v in fields.items())
                       for e in self.events)

    def last_state(self) -> str | None:
        with self._lock:
            states = [e["state"] for e in self.events if e["type"] == "state"]
            return states[-1] if states else None

    def first_audio_since(self, since: float) -> float | None:
        """When the first reply audio (of any turn) arrived after ``since``."""
        with self._lock:
            times = [t.first_audio_at for t in self.turns.values()
                     if t.first_audio_at is not None and t.first_audio_at > since]
            return min(times, default=None)

    def event_time(self, kind: str, **fields: Any) -> float | None:
        with self._lock:
            for e in self.events:
                if e["type"] == kind and all(e.get(k) == v for k, v in fields.items()):
                    return e["_t"]
            return None

    def latest_turn(self) -> int:
        with self._lock:
            return max(self.turns, default=0)

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def close(self) -> None:
        """Send a close frame, let the reader take the server's reply, then drop the socket."""
        with contextlib.suppress(websocket.WebSocketException, OSError):  # already closed
            self._ws.send_close()
        self._reader.join(timeout=5)
        self._ws.shutdown()
