"""A scripted Twilio for the tests and the phone benchmark: it places a call through the
app's webhook and then plays Twilio's part of the media stream, message for message.

``incoming_call`` posts the webhook's form fields (signed like Twilio when given the
auth token) and reads the TwiML for the stream URL and its parameters. ``TwilioCall``
opens that stream and sends ``connected``, ``start`` (streamSid, callSid, the custom
parameters, the media format), then 20 ms ``media`` frames of 8 kHz µ-law at real-time
pace, ``dtmf`` and ``stop``, with Twilio's field names and string-typed numbers. Like
Twilio it plays the app's ``media`` in order at real-time speed, echoes each ``mark``
once the audio before it has played, and on ``clear`` drops what it buffered and echoes
the pending marks at once. It records what arrived when, for the assertions and the
voice-to-voice figure.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import json
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import requests
import websocket
from twilio.request_validator import RequestValidator

from core.audio import mulaw
from core.audio.pcm import INPUT_SAMPLE_RATE
from core.audio.resample import StreamResampler
from core.phone.audio import PHONE_FRAME_BYTES, PHONE_FRAME_MS, PHONE_SAMPLE_RATE
from core.phone.routes import SIGNATURE_HEADER, WEBHOOK_PATH
from monitoring.clients.voice_client import FRAME_MS, paced

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
assert PHONE_FRAME_MS == FRAME_MS  # one pace for both clients
VOICED_RMS = 300.0  # PCM16 RMS of a frame that carries voice (as the browser client counts it)


@dataclass(frozen=True)
class StreamInstructions:
    """What the TwiML told Twilio to do."""

    url: str
    parameters: dict[str, str]
    say_after: str  # the words after <Connect>, said if the app ends the stream


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def incoming_call(http_url: str, call_sid: str, auth_token: str = "", signed_url: str | None = None,
                  timeout_s: float = 10.0, caller: str = "+14155550100") -> requests.Response:
    """Post the incoming-call webhook as Twilio does (form fields; signed if a token is given)."""
    url = http_url.rstrip("/") + WEBHOOK_PATH
    form = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid,
            "CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": "+14155550199"}
    headers = {}
    if auth_token:
        headers[SIGNATURE_HEADER] = RequestValidator(auth_token).compute_signature(signed_url or url, form)
    return requests.post(url, data=form, headers=headers, timeout=timeout_s)


def stream_instructions(twiml: str) -> StreamInstructions:
    root = ElementTree.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        raise ValueError("no <Connect><Stream> in the TwiML")
    parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    say = root.find("./Say")
    return StreamInstructions(stream.get("url", ""), parameters, say.text or "" if say is not None else "")


def phone_frames(pcm16k: bytes) -> list[bytes]:
    """16 kHz PCM16 speech as a phone line carries it: 8 kHz µ-law, 20 ms frames."""
    resampler = StreamResampler(INPUT_SAMPLE_RATE, PHONE_SAMPLE_RATE)
    samples = resampler.process(np.frombuffer(pcm16k, dtype="<i2"), last=True)
    codes = mulaw.encode(samples)
    codes += bytes([mulaw.SILENCE]) * (-len(codes) % PHONE_FRAME_BYTES)
    return [codes[i : i + PHONE_FRAME_BYTES] for i in range(0, len(codes), PHONE_FRAME_BYTES)]


def line_noise(rng: np.random.Generator) -> bytes:
    """A quiet open line (about -60 dBFS)."""
    return mulaw.encode(rng.normal(0, 30, PHONE_FRAME_BYTES).astype("<i2"))


def voiced(codes: bytes) -> bool:
    samples = mulaw.decode(codes).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) >= VOICED_RMS


@dataclass
class Received:
    at: float
    event: str
    codes: bytes = b""  # media
    name: str = ""  # mark


@dataclass
class CallLog:
    received: list[Received] = field(default_factory=list)
    marks_echoed: list[str] = field(default_factory=list)
    last_voiced_sent_at: float | None = None
    close_code: int | None = None
    read_error: str | None = None


class TwilioCall:
    def __init__(self, instructions: StreamInstructions, call_sid: str, url: str | None = None,
                 headers: list[str] | None = None, timeout_s: float = 30.0) -> None:
        self.call_sid = call_sid
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self._parameters = instructions.parameters
        self._ws = websocket.create_connection(url or instructions.url, timeout=timeout_s,
                                               header=headers or [],
                                               suppress_origin=True, enable_multithread=True)
        self._ws.settimeout(None)
        self._sequence = 0
        self._chunk = 0
        self._started_at = time.monotonic()
        self.log = CallLog()
        self._lock = threading.Condition()
        self._buffer_end = 0.0  # when the audio received so far will have played
        self._echoes: list[tuple[float, int, str]] = []  # (due, order, name): marks to echo
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="twilio-reader", daemon=True)
        self._echoer = threading.Thread(target=self._echo, name="twilio-marks", daemon=True)
        self._reader.start()
        self._echoer.start()

    # ----- what Twilio sends ---------------------------------------------------------------
    def _send(self, message: dict[str, object]) -> None:
        self._ws.send(json.dumps(message))

    def send_raw(self, text: str) -> None:
        """Any text frame, well-formed or not (for tests of what the server puts up with)."""
        self._ws.send(text)

    def _next_sequence(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    def begin(self) -> None:
        """``connected``, then ``start``, as a call's stream opens."""
        self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self._send({"event": "start", "sequenceNumber": self._next_sequence(), "streamSid": self.stream_sid,
                    "start": {"accountSid": ACCOUNT_SID, "streamSid": self.stream_sid,
                              "callSid": self.call_sid, "tracks": ["inbound"],
                              "customParameters": self._parameters,
                              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                              "channels": 1}}})

    def send_media(self, codes: bytes) -> None:
        self._chunk += 1
        timestamp = round((time.monotonic() - self._started_at) * 1000)
        self._send({"event": "media", "sequenceNumber": self._next_sequence(), "streamSid": self.stream_sid,
                    "media": {"track": "inbound", "chunk": str(self._chunk), "timestamp": str(timestamp),
                              "payload": base64.b64encode(codes).decode("ascii")}})

    def dtmf(self, digit: str) -> None:
        self._send({"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": self._next_sequence(),
                    "dtmf": {"track": "inbound_track", "digit": digit}})

    def stop(self) -> None:
        self._send({"event": "stop", "sequenceNumber": self._next_sequence(), "streamSid": self.stream_sid,
                    "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}})

    def stream(self, frames: list[bytes], until: Callable[[], bool] | None = None, max_s: float = 30.0,
               rng: np.random.Generator | None = None) -> None:
        """Frames at real-time pace, then a quiet line until ``until()`` or ``max_s``."""
        rng = rng or np.random.default_rng(0)
        for codes, spoken in paced(frames, lambda: line_noise(rng), until, max_s):
            self.send_media(codes)
            if spoken and voiced(codes):
                with self._lock:
                    self.log.last_voiced_sent_at = time.monotonic()

    # ----- what Twilio does with the app's messages -----------------------------------------
    def _read(self) -> None:
        try:
            while True:
                opcode, data = self._ws.recv_data()
                now = time.monotonic()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.log.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                    break
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue
                self._on_message(json.loads(data), now)
        except (websocket.WebSocketException, OSError) as exc:
            self.log.read_error = type(exc).__name__  # the socket is gone: the call is over
        finally:
            with self._lock:
                self._closed = True
                self._lock.notify_all()

    def _on_message(self, message: dict[str, object], now: float) -> None:
        kind = str(message.get("event"))
        with self._lock:
            if kind == "media":
                payload = message["media"]["payload"]  # type: ignore[index]
                codes = base64.b64decode(payload)
                self._buffer_end = max(self._buffer_end, now) + len(codes) / PHONE_SAMPLE_RATE
                self.log.received.append(Received(now, kind, codes=codes))
            elif kind == "mark":
                name = str(message["mark"]["name"])  # type: ignore[index]
                heapq.heappush(self._echoes, (max(self._buffer_end, now), len(self.log.received), name))
                self.log.received.append(Received(now, kind, name=name))
            elif kind == "clear":
                self._buffer_end = now
                self._echoes = [(now, order, name) for _, order, name in self._echoes]
                heapq.heapify(self._echoes)
                self.log.received.append(Received(now, kind))
            self._lock.notify_all()

    def _echo(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (not self._echoes or self._echoes[0][0] > time.monotonic()):
                    wait = self._echoes[0][0] - time.monotonic() if self._echoes else None
                    self._lock.wait(wait)
                if self._closed:
                    return
                _, _, name = heapq.heappop(self._echoes)
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self._send({"event": "mark", "sequenceNumber": self._next_sequence(),
                            "streamSid": self.stream_sid, "mark": {"name": name}})
            with self._lock:
                self.log.marks_echoed.append(name)
                self._lock.notify_all()

    # ----- looking at the call ------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: predicate() or self._closed, timeout) and predicate()

    def received(self, event: str, since: float = 0.0) -> list[Received]:
        with self._lock:
            return [r for r in self.log.received if r.event == event and r.at > since]

    def first_voiced_media_since(self, since: float) -> float | None:
        with self._lock:
            return next((r.at for r in self.log.received
                         if r.event == "media" and r.at > since and voiced(r.codes)), None)

    def last_played_turn(self) -> int:
        """The latest turn whose reply has played to its end (its end mark echoed)."""
        with self._lock:
            ends = [int(n.split(":", 1)[0]) for n in self.log.marks_echoed if n.endswith(":end")]
        return max(ends, default=0)

    def reply_played(self, after_turn: int) -> Callable[[], bool]:
        """A condition: a reply of a turn after ``after_turn`` has played to its end."""
        return lambda: self.last_played_turn() > after_turn

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def close(self) -> None:
        with contextlib.suppress(websocket.WebSocketException, OSError):
            self._ws.send_close()
        self._reader.join(timeout=5)
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._echoer.join(timeout=5)
        self._ws.shutdown()
