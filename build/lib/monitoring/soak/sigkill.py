"""Finalized turns lost when the server is killed (SIGKILL) in the middle of a reply.

Each round starts the real server (embedded models) on its own database, holds a few
exchanges, kills the server while an answer is being spoken, and compares what the
client was shown as final with what the store holds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from core.store.conversations import ConversationStore
from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.server_process import ServerProcess

QUESTIONS = ["What is the capital of France?", "Name a colour.", "What is two plus two?"]


def finalized(client: VoiceClient) -> list[tuple[int, str, str]]:
    """(turn, role, text) of every utterance and reply the client was shown as final."""
    rows = []
    for e in client.events:
        if e["type"] == "transcript" and e.get("final") and e["text"]:
            rows.append((e["turn"], "user", e["text"]))
        elif e["type"] == "reply_done" and e["text"]:
            rows.append((e["turn"], "assistant", e["text"]))
    return rows


def converse_then_kill(server: ServerProcess) -> tuple[str, list[tuple[int, str, str]]]:
    """A few exchanges, then SIGKILL mid-reply; the session id and what was final."""
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        session_id = next(e for e in client.events if e["type"] == "ready")["session_id"]
        for number, question in enumerate(QUESTIONS, start=1):
            client.send_json({"type": "text", "text": question})
            if not client.wait_for(lambda n=number: client.event_seen("reply_done", turn=n)):
                raise RuntimeError(f"no answer to question {number}")
            # Heard to the end, as a player reports it (a question typed over a reply that is
            # still playing would cut it, and the store would keep only what was heard).
            client.send_json({"type": "playback_done", "turn": number})
            client.wait_for(lambda: client.last_state() == "listening")
        client.send_json({"type": "text", "text": "Tell me a long story about a dragon."})
        client.wait_for(lambda: client.event_seen("reply_started", turn=len(QUESTIONS) + 1))
        server.kill()
        client.wait_for(lambda: client.closed, 10)
        return session_id, finalized(client)
    finally:
        client.close()


def lost_after_kill(db: Path, session_id: str, seen: list[tuple[int, str, str]]) -> int:
    store = ConversationStore(db)
    try:
        stored = {(t.turn, t.role, t.text) for t in store.turns(session_id)}
    finally:
        store.close()
    return sum(1 for row in seen if row not in stored)


def run_sigkill(rounds: int = 3) -> dict[str, Any]:
    finalized_total = lost = 0
    for _ in range(rounds):
        folder = Path(tempfile.mkdtemp(prefix="voicechat-kill-"))
        db = folder / "turns.db"
        server = ServerProcess(env={"VOICECHAT_DB_PATH": str(db), "VOICECHAT_GREETING_AFTER_MS": "0"},
                               log_path=folder / "server.log").start()
        try:
            session_id, seen = converse_then_kill(server)
        finally:
            server.stop()
        finalized_total += len(seen)
        lost += lost_after_kill(db, session_id, seen)
    return {"rounds": rounds, "finalized_turns": finalized_total, "lost": lost}
