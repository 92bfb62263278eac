"""Who may open a voice session on a server reachable by others.

On localhost anyone may (the person at the machine). With ``VOICECHAT_ACCESS_PASSCODE``
or ``VOICECHAT_TICKET_SECRET`` every voice socket must first show a session ticket
(core/transport/tickets.py). The page trades the passcode for one at
``POST /api/session-ticket``; wrong passcodes slow the address that sends them down
(core/transport/backoff.py), as wrong admin tokens do.
"""

from __future__ import annotations

import hmac
import math
import secrets

from flask import Flask, Response, jsonify, request

from core.metrics import Metrics
from core.settings import Settings
from core.transport.backoff import FailureBackoff
from core.transport.client_address import client_address
from core.transport.tickets import Ticket, TicketError, TicketSigner

TICKET_PATH = "/api/session-ticket"
MAX_PASSCODE_CHARS = 200
OPEN_SCOPE = frozenset({"talk", "providers"})  # what a session may do where no ticket is asked


class AccessPolicy:
    def __init__(self, settings: Settings) -> None:
        self.required = settings.access_required
        self._passcode = settings.access_passcode
        self._ttl_s = settings.ticket_ttl_s
        self._passcode_scope = sorted({p.strip() for p in settings.passcode_scope.split(",")})
        secret = settings.ticket_secret.encode() if settings.ticket_secret else secrets.token_bytes(32)
        self.signer = TicketSigner(secret)
        self.backoff = FailureBackoff()

    def check(self, ticket: object) -> Ticket | None:
        """The grant of a connection's ticket (None where none is needed); raises ``TicketError``."""
        return self.signer.verify(ticket) if self.required else None

    def renewed(self, ticket: Ticket) -> tuple[str, Ticket]:
        """A fresh ticket of the same grant, so a page that keeps talking can reconnect later."""
        return self.signer.issue(sorted(ticket.scope), self._ttl_s, ticket.subject)

    def passcode_matches(self, given: object) -> bool:
        if not self._passcode or not isinstance(given, str) or len(given) > MAX_PASSCODE_CHARS:
            return False
        return hmac.compare_digest(given.encode(), self._passcode.encode())

    def for_passcode(self) -> tuple[str, Ticket]:
        return self.signer.issue(self._passcode_scope, self._ttl_s, "passcode")


def scope_of(ticket: Ticket | None) -> frozenset[str]:
    return OPEN_SCOPE if ticket is None else ticket.scope


def install_ticket_route(app: Flask, policy: AccessPolicy, metrics: Metrics) -> None:
    @app.post(TICKET_PATH)
    def session_ticket() -> tuple[Response, int]:
        address = client_address(request.environ)
        wait_s = policy.backoff.retry_after(address)
        if wait_s > 0:
            metrics.count("refused_passcode_locked")
            response = jsonify(error="too_many_tries",
                               message=f"Too many wrong passcodes; try again in {math.ceil(wait_s)} s.")
            response.headers["Retry-After"] = str(math.ceil(wait_s))
            return response, 429
        body = request.get_json(silent=True)
        given = body.get("passcode") if isinstance(body, dict) else None
        if not policy.passcode_matches(given):
            policy.backoff.failed(address)
            metrics.count("refused_passcode")
            return jsonify(error="wrong_passcode", message="That passcode is not right."), 401
        policy.backoff.succeeded(address)
        ticket, grant = policy.for_passcode()
        return jsonify(ticket=ticket, expires_at=grant.expires_at, scope=sorted(grant.scope)), 200


__all__ = ["AccessPolicy", "TicketError", "install_ticket_route", "scope_of"]
