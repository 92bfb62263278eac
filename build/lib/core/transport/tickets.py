"""Session tickets: short-lived, signed permissions to open a voice session.

A server reachable by others may ask every voice socket for a ticket (its first
message, ``{"type": "auth", "ticket": ...}``). The page gets one by sending the
passcode to ``POST /api/session-ticket``; an operator's own backend may mint them with
the shared secret instead (``python -m core.transport.tickets``), as LiveKit's access
tokens are minted by the app's backend.

A ticket is ``v1.<payload>.<signature>``: the payload is base64url JSON
``{"sub": who, "scope": [...], "exp": unix seconds}``, the signature base64url
HMAC-SHA256 of the payload's text with the secret. Scopes: ``talk`` (open a session)
and ``providers`` (also change the session's providers, and so spend what they cost).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SCOPES = ("talk", "providers")
VERSION = "v1"
MAX_TICKET_CHARS = 1024
MIN_SECRET_CHARS = 32
_SUBJECT = re.compile(r"^[\w.@:+-]{0,64}$")


class TicketError(Exception):
    """Why a ticket opens nothing; ``code`` is the error sent to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Ticket:
    subject: str
    scope: frozenset[str]
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TicketSigner:
    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"a ticket secret needs at least {MIN_SECRET_CHARS} bytes")
        self._secret = secret
        self._clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, scope: Sequence[str], ttl_s: float, subject: str = "") -> tuple[str, Ticket]:
        unknown = set(scope) - set(SCOPES)
        if unknown or "talk" not in scope:
            raise ValueError(f"scope must include talk and only {', '.join(SCOPES)}")
        if not _SUBJECT.match(subject):
            raise ValueError("subject: up to 64 letters, digits and . @ : + - _")
        expires = int(self._clock() + ttl_s)
        body = json.dumps({"sub": subject, "scope": sorted(set(scope)), "exp": expires},
                          separators=(",", ":"))
        payload = _b64(body.encode())
        return f"{VERSION}.{payload}.{self._sign(payload)}", Ticket(subject, frozenset(scope), expires)

    def verify(self, ticket: object) -> Ticket:
        """The ticket's grant; raises ``TicketError`` for a missing, forged or old one."""
        if not isinstance(ticket, str) or not ticket:
            raise TicketError("ticket_required", "This server needs a session ticket; enter the passcode.")
        parts = ticket.split(".")
        if len(ticket) > MAX_TICKET_CHARS or len(parts) != 3 or parts[0] != VERSION:
            raise TicketError("ticket_invalid", "That session ticket is not valid.")
        _, payload, signature = parts
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise TicketError("ticket_invalid", "That session ticket is not valid.")
        try:
            body = json.loads(_unb64(payload))
            subject, scope, expires = str(body["sub"]), frozenset(body["scope"]), float(body["exp"])
        except (ValueError, KeyError, TypeError) as exc:  # signed but not ours: a wrong format
            raise TicketError("ticket_invalid", "That session ticket is not valid.") from exc
        if expires <= self._clock():
            raise TicketError("ticket_expired", "The session ticket has expired; enter the passcode again.")
        if "talk" not in scope:
            raise TicketError("ticket_invalid", "That session ticket does not allow talking.")
        return Ticket(subject, scope, expires)


def main(argv: Sequence[str] | None = None) -> int:
    """Mint a ticket with ``VOICECHAT_TICKET_SECRET`` (for an operator's backend or a test)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scope", default="talk", help="comma-separated: talk, providers")
    parser.add_argument("--ttl", type=float, default=600.0, help="seconds the ticket is good for")
    parser.add_argument("--subject", default="", help="who it is for (shown in logs as given)")
    args = parser.parse_args(argv)
    secret = os.environ.get("VOICECHAT_TICKET_SECRET", "")
    try:
        ticket, _ = TicketSigner(secret.encode()).issue(args.scope.split(","), args.ttl, args.subject)
    except ValueError as exc:
        print(f"cannot mint a ticket: {exc} (VOICECHAT_TICKET_SECRET set?)", file=sys.stderr)
        return 2
    print(ticket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
