"""The same conversation store on SQLite and on a real PostgreSQL server (Debian's,
started by the test on 127.0.0.1): what is stored, replaced, deleted and pruned, the
schema's versions, and a database that goes away and comes back."""

from __future__ import annotations

import random
import sqlite3
import string
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from core.store.conversations import ConversationStore, StoreFull, Written
from core.store.retention import Retention
from monitoring.servers.postgres import PostgresServer

Open = Callable[..., ConversationStore]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Open]:
    """Opens stores on one database (each call a new store, as a new process would)."""
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        location: str | Path = server.url
        import psycopg

        with psycopg.connect(server.url, autocommit=True) as connection:
            # a fresh database per test
            connection.execute("DROP TABLE IF EXISTS turns, metric_minutes, schema_version")
    else:
        location = tmp_path / "turns.db"
    opened: list[ConversationStore] = []

    def open_(**options: object) -> ConversationStore:
        opened.append(ConversationStore(location, **options))  # type: ignore[arg-type]
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


def test_turns_are_stored_in_order_replaced_and_read_by_another_store(open_store: Open) -> None:
    store = open_store()
    store.record("s1", 1, "user", "What is the capital of France?")
    store.record("s1", 1, "assistant", "Paris is the capital. It is lovely.")
    store.record("s1", 1, "assistant", "Paris is the capital …", cut=True)  # cut after it was reported
    store.record("s2", 1, "user", "Someone else", channel="phone")
    assert store.flush()
    other = open_store()
    assert [(t.role, t.text, t.cut) for t in other.turns("s1")] == [
        ("user", "What is the capital of France?", False), ("assistant", "Paris is the capital …", True)]
    recent = other.recent_conversations()
    assert [(c.session_id, c.channel, c.turns) for c in recent] == [("s2", "phone", 1), ("s1", "browser", 2)]


def test_a_deletion_takes_what_was_queued_before_it_only(open_store: Open) -> None:
    store = open_store()
    store.record("mine", 1, "user", "something personal")
    store.record("theirs", 1, "user", "their words")
    ticket = store.delete_conversation("mine")
    store.record("mine", 2, "user", "said after the deletion")
    assert store.outcome(ticket, 5) is Written.COMMITTED and store.flush()
    assert [t.text for t in store.turns("mine")] == ["said after the deletion"]
    assert [t.text for t in store.turns("theirs")] == ["their words"]
    assert store.deleted == 1


def test_the_retention_deletes_old_turns_then_the_oldest_conversations(open_store: Open) -> None:
    store = open_store()
    now = time.time()
    store.record("old", 1, "user", "long ago")
    words = random.Random(5)  # text that does not compress (PostgreSQL compresses long values)
    for n in range(200):
        store.record(f"s{n:03}", 1, "user", "".join(words.choice(string.ascii_letters) for _ in range(2000)))
    assert store.flush()
    store.close()
    pruning = open_store(retention=Retention(max_age_s=30 * 86_400, max_bytes=200_000))
    # "old" is made 40 days old the way the database itself would have it: by its time.
    connection = pruning._backend.connect()
    try:
        marker = "?" if isinstance(connection, sqlite3.Connection) else "%s"
        aged = f"UPDATE turns SET at = {marker} WHERE session_id = 'old'"
        connection.execute(aged, (now - 40 * 86_400,))
        if isinstance(connection, sqlite3.Connection):
            connection.commit()
    finally:
        connection.close()
    assert pruning.prune_now() > 1
    assert pruning.turns("old") == []
    assert pruning.turns("s199") and not pruning.turns("s000")  # the newest stay


def test_the_schema_is_versioned_and_applied_once(open_store: Open) -> None:
    first = open_store()
    second = open_store()  # opening again applies nothing twice
    connection = second._backend.connect()
    try:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_version").fetchall()]
    finally:
        connection.close()
    assert versions == [1, 2]
    first.record("s", 1, "user", "still works")
    assert first.flush()


def test_a_sqlite_file_from_before_versions_keeps_its_turns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as old, old:
        old.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, "
                    "turn INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, "
                    "cut INTEGER NOT NULL DEFAULT 0, channel TEXT NOT NULL DEFAULT 'browser', "
                    "at REAL NOT NULL, UNIQUE (session_id, turn, role) ON CONFLICT REPLACE)")
        old.execute("INSERT INTO turns (session_id, turn, role, text, at) "
                    "VALUES ('s', 1, 'user', 'kept', 1.0)")
    store = ConversationStore(path)
    try:
        assert [t.text for t in store.turns("s")] == ["kept"]
    finally:
        store.close()


def test_writes_wait_while_postgres_is_away_and_land_when_it_is_back() -> None:
    with PostgresServer() as server:
        store = ConversationStore(server.url, queue_items=3)
        try:
            assert store.outcome(store.record("s", 1, "user", "before"), 10) is Written.COMMITTED
            server.kill()
            waiting = store.record("s", 2, "user", "while it is down")
            assert store.outcome(waiting, 3) is Written.PENDING  # (the client is told store_slow)
            assert not store.healthy(since=0.0)  # /readyz says so
            for n in range(3, 20):  # the queue is bounded: past it, records are refused
                try:
                    store.record("s", n, "user", "more")
                except StoreFull:
                    break
            else:
                raise AssertionError("the queue took everything")
            server.start()
            assert store.outcome(waiting, 30) is Written.COMMITTED  # a new connection, no restart
            assert store.flush(30) and store.write_errors == 0
            assert [t.text for t in store.turns("s")][:2] == ["before", "while it is down"]
        finally:
            store.close()


def test_a_server_with_a_database_url_stores_its_conversations_there() -> None:
    import json

    import websocket

    from core.providers.base import Providers
    from core.settings import Settings
    from monitoring.servers.inprocess_server import InProcessServer
    from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

    with PostgresServer() as server:
        settings = Settings().replace(greeting_after_ms=0, database_url=server.url)
        assert server.url.split("@")[0] not in repr(settings)  # (a URL may hold a password)
        with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as app:
            ws = websocket.create_connection(app.ws_url, timeout=10)
            session_id = json.loads(ws.recv())["session_id"]
            ws.send(json.dumps({"type": "text", "text": "What is the capital of France?"}))
            while not (isinstance(m := ws.recv(), str) and json.loads(m)["type"] == "reply_done"):
                continue
            ws.close()
        stored = ConversationStore(server.url)  # another process's view of the same database
        try:
            assert [t.role for t in stored.turns(session_id)] == ["user", "assistant"]
        finally:
            stored.close()
