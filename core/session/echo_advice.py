"""Advice to use headphones, once, when a session's microphone hears the reply.

The echo gate keeps the reply's own voice from interrupting it, but a person talking
over a loud echo must be louder than it to be heard. So when the gate has found the
echo's delay (the reply comes back, aligned, in two estimates running) at a level no
more than ``ADVISE_LEVEL`` under the reply as sent, the person is told once that
headphones would help. A browser whose echo cancellation works leaves far less than
that (or nothing the gate can align), and no advice is given.
"""

from __future__ import annotations

from core.audio.echo_gate import EchoGate
from core.session.events import Advice

ADVISE_LEVEL = -2.5  # log10 of echo energy per unit of reply energy: 25 dB under the reply
HEADPHONES = ("Your speakers' sound reaches the microphone: with headphones you can talk over the "
              "answers more easily.")


class EchoAdvice:
    def __init__(self, gate: EchoGate | None) -> None:
        self._gate = gate
        self.given = False

    def due(self) -> tuple[Advice, ...]:
        """The advice, the first time the echo is found loud enough; nothing otherwise."""
        gate = self._gate
        if self.given or gate is None:
            return ()
        path = gate.path
        if path.lag is None or path.level < ADVISE_LEVEL:
            return ()
        self.given = True
        return (Advice("headphones", HEADPHONES),)
