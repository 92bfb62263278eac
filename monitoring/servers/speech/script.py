"""One connection's side of a stand-in API (``Script``; a subclass speaks each API), the
answer it is streaming, and what clients did (``Record``)."""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from websockets.sync.server import ServerConnection

from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.voice import CHUNK_MS, answer_audio, answer_text, chunks


@dataclass
class Streaming:
    """One answer on its way."""

    number: int
    response_id: str
    item_id: str
    pieces: list[bytes] = field(repr=False)
    words: list[str]
    fault: Fault | None
    started: float
    sent: int = 0
    words_sent: int = 0
    cancelled: bool = False
    late_left: int = 0  # pieces still to send after a cancel (``LATE_DELTAS``)


@dataclass
class Record:
    """What clients did, for tests to assert on."""

    connections: int = 0
    received: Counter[str] = field(default_factory=Counter)
    cancels: list[str] = field(default_factory=list)
    truncations: list[tuple[str, int]] = field(default_factory=list)
    first_audio_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer's first audio
    late_sent: int = 0  # audio pieces sent after a cancel (the client must drop them)
    heard_bytes: list[int] = field(default_factory=list)  # the audio of each turn, as received
    resumed_with: list[str | None] = field(default_factory=list)  # each Gemini setup's resumption handle


class Host(Protocol):
    """The stand-in a script serves for (``SpeechStandIn``)."""

    pace: float
    reply_s: float
    record: Record
    go_away: bool  # (Gemini) say goAway after the next answer, as the Live API does before it closes

    def take_fault(self) -> Fault | None: ...

    def next_number(self) -> int: ...


class Script:
    """One connection's side of the API; ``take`` reads a client message, ``step``
    sends what is due. Subclasses speak one API."""

    def __init__(self, stand_in: Host, ws: ServerConnection) -> None:
        self.stand_in = stand_in
        self.ws = ws
        self.answer: Streaming | None = None
        self.dropped = False

    def opened(self) -> None: ...

    def take(self, message: str | bytes) -> None:
        raise NotImplementedError

    def send_piece(self, answer: Streaming, pcm: bytes, words: str) -> None:
        raise NotImplementedError

    def finish(self, answer: Streaming, status: str) -> None:
        raise NotImplementedError

    def misbehave(self, answer: Streaming) -> None:
        """The fault's own messages, sent before the second piece."""

    def start_answer(self, response_id: str, item_id: str, heard: str) -> Streaming:
        stand_in = self.stand_in
        number = stand_in.next_number()
        text = answer_text(number, heard)
        pieces = chunks(answer_audio(stand_in.reply_s))
        self.answer = Streaming(number, response_id, item_id, pieces, text.split(), stand_in.take_fault(),
                                time.monotonic())
        return self.answer

    def step(self) -> None:
        answer = self.answer
        if answer is None:
            return
        if answer.cancelled and answer.late_left <= 0:
            self.finish(answer, "cancelled")
            self.answer = None
            return
        due = (time.monotonic() - answer.started) * 1000 * self.stand_in.pace / CHUNK_MS
        while answer.sent < len(answer.pieces) and answer.sent <= due:
            if answer.fault is Fault.STALL and answer.sent >= 2 and not answer.cancelled:
                return  # silent from here on, the socket open
            if answer.fault is Fault.DROP and answer.sent >= 3:
                self.dropped = True
                self.ws.socket.shutdown(socket.SHUT_RDWR)
                return
            if answer.sent == 1:
                self.misbehave(answer)
            self._piece(answer)
            if answer.cancelled:
                answer.late_left -= 1
                self.stand_in.record.late_sent += 1
                if answer.late_left <= 0:
                    break
        if answer.sent >= len(answer.pieces) or (answer.cancelled and answer.late_left <= 0):
            self.finish(answer, "cancelled" if answer.cancelled else "completed")
            self.answer = None

    def _piece(self, answer: Streaming) -> None:
        if answer.sent == 0:
            self.stand_in.record.first_audio_at.append(time.monotonic())
        words_due = round(len(answer.words) * (answer.sent + 1) / len(answer.pieces))
        words = " ".join(answer.words[answer.words_sent:words_due])
        answer.words_sent = max(answer.words_sent, words_due)
        self.send_piece(answer, answer.pieces[answer.sent], words + " " if words else "")
        answer.sent += 1

    def flush_late(self, answer: Streaming) -> None:
        """The pieces a cancelled answer still had to send late, sent now (a new answer is
        starting), then its end."""
        while answer.cancelled and answer.late_left > 0 and answer.sent < len(answer.pieces):
            self._piece(answer)
            answer.late_left -= 1
            self.stand_in.record.late_sent += 1
        self.finish(answer, "cancelled")

    def cancel(self) -> None:
        answer = self.answer
        if answer is None or answer.cancelled:
            return
        answer.cancelled = True
        self.stand_in.record.cancels.append(answer.response_id)
        answer.late_left = 5 if answer.fault is Fault.LATE_DELTAS else 0
