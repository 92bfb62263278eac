"""Session tickets: signed, scoped, short-lived; anything else opens nothing."""

from __future__ import annotations

import base64
import json

import pytest

from core.transport.tickets import TicketError, TicketSigner, main
from tests.support.clock import ManualClock

SECRET = b"s" * 32


def code_of(signer: TicketSigner, ticket: object) -> str:
    with pytest.raises(TicketError) as refused:
        signer.verify(ticket)
    return refused.value.code


def test_a_ticket_carries_its_grant_until_it_expires() -> None:
    clock = ManualClock(now=1_800_000_000.0)
    signer = TicketSigner(SECRET, clock=clock)
    ticket, grant = signer.issue(["talk", "providers"], 600, "alice")
    assert signer.verify(ticket) == grant and grant.scope == {"talk", "providers"}
    clock.advance(601)
    assert code_of(signer, ticket) == "ticket_expired"


def test_forged_altered_or_odd_tickets_are_refused() -> None:
    signer = TicketSigner(SECRET)
    ticket, _ = signer.issue(["talk"], 600)
    version, payload, signature = ticket.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["scope"] = ["talk", "providers"]
    widened = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    assert code_of(signer, f"{version}.{widened}.{signature}") == "ticket_invalid"
    assert code_of(TicketSigner(b"t" * 32), ticket) == "ticket_invalid"  # another server's secret
    for odd in ("v2." + ticket[3:], "x", "a.b.c", ticket + "." + signature, "v1." + "a" * 2000):
        assert code_of(signer, odd) == "ticket_invalid", odd
    for missing in (None, "", 42, ["v1"]):
        assert code_of(signer, missing) == "ticket_required"


def test_only_known_scopes_with_talk_and_a_long_secret() -> None:
    signer = TicketSigner(SECRET)
    for scope in (["providers"], ["talk", "admin"]):
        with pytest.raises(ValueError, match="scope"):
            signer.issue(scope, 60)
    with pytest.raises(ValueError, match="32"):
        TicketSigner(b"short")


def test_the_command_mints_what_the_server_accepts(monkeypatch, capsys) -> None:
    monkeypatch.setenv("VOICECHAT_TICKET_SECRET", SECRET.decode())
    assert main(["--scope", "talk", "--ttl", "60", "--subject", "kiosk-3"]) == 0
    grant = TicketSigner(SECRET).verify(capsys.readouterr().out.strip())
    assert grant.subject == "kiosk-3" and grant.scope == {"talk"}
    monkeypatch.setenv("VOICECHAT_TICKET_SECRET", "")
    assert main([]) == 2 and "VOICECHAT_TICKET_SECRET" in capsys.readouterr().err
