"""``make attack``: the server as an attacker finds it when it is exposed, attack by
attack, against a real in-process server set up as docs/deploy.md says (passcode and
tickets, a public name, a trusted proxy, an admin token, phone calls with Twilio's
token, the server's own OpenAI key). Each attack states the defence it expects; the
command prints held / BROKEN for each, saves docs/results/attack.json and exits
non-zero if any broke.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websocket

from core.providers.simulated import SimulatedTimings, simulated_providers
from core.settings import Settings
from core.transport.tickets import TicketSigner
from monitoring.clients.raw_socket import events_until, until_closed
from monitoring.servers.inprocess_server import InProcessServer
from monitoring.soak.markdown import write_attacks

PASSCODE = "a passcode for the attack run"
SECRET = "attack-run-ticket-secret-0123456789"
ADMIN = "attack-run-admin-token"
PUBLIC = "voice.example"
Attack = Callable[[InProcessServer], tuple[bool, str]]


def attack_settings() -> Settings:
    return Settings().replace(
        greeting_after_ms=0, db_path="", access_passcode=PASSCODE, ticket_secret=SECRET,
        passcode_scope="talk,providers", allowed_hosts=PUBLIC, trusted_proxies="10.9.9.9",
        admin_token=ADMIN, max_sessions_per_address=4, openai_api_key="sk-server-own",
        client_base_urls="https://llm.example.org/v1", phone_enabled=True,
        twilio_auth_token="twilio-token-for-the-attack-run")


# ----- small clients ----------------------------------------------------------------------
def http(server: InProcessServer, path: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(server.http_url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def ticket(scope: tuple[str, ...] = ("talk", "providers"), ttl_s: float = 600.0,
           clock: Callable[[], float] = time.time) -> str:
    return TicketSigner(SECRET.encode(), clock=clock).issue(list(scope), ttl_s, "attacker")[0]


def socket(server: InProcessServer, auth: str | None = None, **options: Any) -> websocket.WebSocket:
    ws = websocket.create_connection(server.ws_url, timeout=10, **options)
    if auth is not None:
        ws.send(json.dumps({"type": "auth", "ticket": auth}))
    return ws


def opened(server: InProcessServer) -> websocket.WebSocket:
    ws = socket(server, ticket())
    events_until(ws, lambda e: e["type"] == "ready")
    return ws


# ----- the attacks ------------------------------------------------------------------------
def rebinding(server: InProcessServer) -> tuple[bool, str]:
    page = http(server, "/", headers={"Host": f"rebind.example:{server.port}"})
    try:
        socket(server, origin=f"http://rebind.example:{server.port}", host=f"rebind.example:{server.port}")
        refused = False
    except websocket.WebSocketBadStatusException as exc:
        refused = exc.status_code == 421
    return page == 421 and refused, f"page {page}, socket refused: {refused}"


def cross_site_socket(server: InProcessServer) -> tuple[bool, str]:
    events, code, _ = until_closed(socket(server, ticket(), origin="https://evil.example"))
    return code == 1008, f"close {code}, {[e.get('code') for e in events]}"


def no_or_bad_ticket(server: InProcessServer) -> tuple[bool, str]:
    results = {}
    for name, auth in (("none", None), ("forged", ticket()[:-4] + "AAAA"),
                       ("expired", ticket(clock=lambda: time.time() - 7200, ttl_s=600))):
        ws = socket(server, auth)
        if auth is None:
            ws.send(json.dumps({"type": "hello", "protocol": 1, "sample_rate": 16000}))
        events, code, _ = until_closed(ws)
        results[name] = (code, events[0].get("code") if events else None)
    held = all(code == 1008 for code, _ in results.values())
    return held, ", ".join(f"{k}: {v[1]} ({v[0]})" for k, v in results.items())


def passcode_guessing(server: InProcessServer) -> tuple[bool, str]:
    def guess(word: str) -> int:
        return http(server, "/api/session-ticket", "POST", json.dumps({"passcode": word}).encode(),
                    {"Content-Type": "application/json"})

    codes = [guess(f"guess {n}") for n in range(20)]
    right_while_locked = guess(PASSCODE)
    return (codes[:5] == [401] * 5 and codes[-1] == 429 and right_while_locked == 429,
            f"first 5: {codes[:5]}, last: {codes[-1]}, the right one while locked: {right_while_locked}")


def spend_the_servers_key(server: InProcessServer) -> tuple[bool, str]:
    ws = opened(server)
    ws.send(json.dumps({"type": "settings", "llm_provider": "openai", "openai_base_url": "server",
                        "openai_llm_model": "o1-pro"}))
    seen = events_until(ws, lambda e: e["type"] in ("error", "settings_applied"))
    ws.close()
    last = seen[-1]
    return last["type"] == "error", f"{last['type']} {last.get('code', '')}"


def evict_others_providers(server: InProcessServer) -> tuple[bool, str]:
    victim, attacker = opened(server), opened(server)
    victim.send(json.dumps({"type": "settings", "llm_provider": "openai",
                            "openai_base_url": "https://llm.example.org/v1", "openai_api_key": "sk-victim",
                            "openai_llm_model": "small"}))
    events_until(victim, lambda e: e["type"] == "settings_applied")
    refused = 0
    for n in range(33):
        attacker.send(json.dumps({"type": "settings", "llm_provider": "openai", "openai_api_key": f"sk-{n}",
                                  "openai_base_url": "https://llm.example.org/v1",
                                  "openai_llm_model": "small"}))
        answer = events_until(attacker, lambda e: e["type"] in ("error", "settings_applied"))[-1]
        refused += answer["type"] == "error"
    in_use = server.runtime.catalog.remote_in_use()
    victim.close()
    attacker.close()
    return refused >= 27 and in_use == 2, f"{refused} of 33 switches refused; clients in use: {in_use}"


def typed_flood(server: InProcessServer) -> tuple[bool, str]:
    flooder, person = opened(server), opened(server)
    before = server.monitor.snapshot()["counters"].get("error:rate_limited", 0)
    for n in range(40):
        flooder.send(json.dumps({"type": "text", "text": f"tell me about topic {chr(65 + n % 26)}{n // 26}"}))
    person.send(json.dumps({"type": "text", "text": "What is the capital of France?"}))
    seen = events_until(person, lambda e: e["type"] in ("reply_done", "error"))
    deadline = time.monotonic() + 10  # the flooder's refusals are counted as they are handled
    while (limited := server.monitor.snapshot()["counters"].get("error:rate_limited", 0) - before) < 35 \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a counter that reports nothing by itself
    flooder.close()
    person.close()
    return seen[-1]["type"] == "reply_done" and limited >= 30, (
        f"the other person: {seen[-1]['type']}; flood messages refused: {limited}")


def huge_number(server: InProcessServer) -> tuple[bool, str]:
    ws = opened(server)
    ws.send('{"type": "playback_done", "turn": ' + "9" * 5000 + "}")
    error = events_until(ws, lambda e: e["type"] == "error")[-1]
    ws.send(json.dumps({"type": "ping", "t": 1}))
    pong = events_until(ws, lambda e: e["type"] == "pong")[-1]
    ws.close()
    internal = server.monitor.snapshot()["counters"].get("error:internal", 0)
    return error["code"] == "invalid_json" and pong["type"] == "pong" and internal == 0, (
        f"{error['code']}, session goes on: {pong['type'] == 'pong'}, internal errors {internal}")


def oversized(server: InProcessServer) -> tuple[bool, str]:
    ws = opened(server)
    ws.send_binary(b"\0" * 70_000)
    _, code, _ = until_closed(ws)
    body = http(server, "/_dash-update-component", "POST", b"x" * (1024 * 1024 + 1),
                {"Content-Type": "application/json"})
    return code == 1009 and body == 413, f"socket close {code}, HTTP body {body}"


def spoofed_forwarding(server: InProcessServer) -> tuple[bool, str]:
    sockets, codes = [], []
    for n in range(6):  # limit 4 per address; the header comes from no trusted proxy
        ws = socket(server, ticket(), header=[f"X-Forwarded-For: 203.0.113.{n}"])
        sockets.append(ws)
        codes.append(events_until(ws, lambda e: e["type"] in ("ready", "error"))[-1].get("code", "ready"))
    for ws in sockets:
        ws.close()
    return codes.count("address_limit") == 2, f"{codes}"


def phone_without_twilio(server: InProcessServer) -> tuple[bool, str]:
    body = b"CallSid=CA" + b"0" * 32 + b"&From=%2B15550001111"
    code = http(server, "/twilio/voice", "POST", body, {"Content-Type": "application/x-www-form-urlencoded"})
    return code == 403, f"webhook without Twilio's signature: {code}"


def admin_guessing(server: InProcessServer) -> tuple[bool, str]:
    codes = [http(server, "/metrics", headers={"Authorization": f"Bearer wrong-{n}"}) for n in range(8)]
    right = http(server, "/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
    return codes[:5] == [401] * 5 and codes[-1] == 429 and right == 429, f"{codes}, the right one: {right}"


ATTACKS: dict[str, tuple[str, Attack]] = {
    "DNS rebinding (Host and Origin both the attacker's name)": ("421 to page and socket", rebinding),
    "another site's page opens the voice socket": ("1008 origin_not_allowed", cross_site_socket),
    "a socket with no, a forged or an expired ticket": ("1008 ticket_*", no_or_bad_ticket),
    "guessing the passcode (20 tries)": ("401, then 429 even for the right one", passcode_guessing),
    "switching to the server's own key with an expensive model": ("refused", spend_the_servers_key),
    "33 provider switches to evict another session's client": ("rate_limited; victim's client kept",
                                                                evict_others_providers),
    "40 typed messages at once while another person asks": ("rate_limited; the other answered",
                                                             typed_flood),
    "a JSON number of 5,000 digits": ("invalid_json, no traceback, session goes on", huge_number),
    "a 70 kB socket message; a 1 MiB request body": ("1009; 413", oversized),
    "X-Forwarded-For from a client that is no proxy": ("ignored: per-address limit holds",
                                                        spoofed_forwarding),
    "a phone call webhook without Twilio's signature": ("403", phone_without_twilio),
    "guessing the admin token (8 tries)": ("401, then 429 even for the right one", admin_guessing),
}


def run_attacks() -> list[dict[str, Any]]:
    results = []
    timings = SimulatedTimings(stt_ms=100.0, llm_first_token_ms=300.0, tts_first_audio_ms=50.0, jitter=0.0)
    with InProcessServer(attack_settings(), simulated_providers(timings)) as server:
        server.runtime.warm_up()
        for name, (defence, attack) in ATTACKS.items():
            try:
                held, detail = attack(server)
            except Exception as exc:  # noqa: BLE001 - an attack that crashes the harness is reported as broken
                held, detail = False, f"the attack run failed: {type(exc).__name__}: {exc}"
            results.append({"attack": name, "defence": defence, "held": held, "detail": detail})
    return results


def main() -> int:
    results = run_attacks()
    width = max(len(r["attack"]) for r in results)
    for r in results:
        print(f"{'held  ' if r['held'] else 'BROKEN'}  {r['attack']:<{width}}  {r['detail']}")
    out = Path("docs/results/attack.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    write_attacks(Path("docs/reliability.md"), results)
    broken = [r["attack"] for r in results if not r["held"]]
    print(f"{len(results) - len(broken)} of {len(results)} attacks held; saved to {out}, "
          "table in docs/reliability.md")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
