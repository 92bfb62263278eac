"""What the page does when the server refuses it: a full server is waited for with a
countdown that ticks, and joined once there is room; a limit that will not lift by
itself is explained, and the page does not try again on its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import websocket

from monitoring.servers.inprocess_server import InProcessServer
from tests.browser.page import STATS, open_page, screenshots, wait_state
from tests.support.simulated_server import simulated_server
from tests.support.wait import wait_until


@contextmanager
def server_holding_one(**limits: int) -> Iterator[InProcessServer]:
    """A server (simulated models) with one conversation already open on it, from the
    same address the browser comes from; the conversation ends when the test says."""
    with simulated_server(**limits) as server:
        # (websocket-client: simple-websocket's client can lose a message that comes in the
        # same packet as the handshake's reply)
        holder = websocket.create_connection(server.ws_url, timeout=10)
        while json.loads(holder.recv())["type"] != "ready":
            pass
        server.holder = holder  # type: ignore[attr-defined]
        try:
            yield server
        finally:
            holder.close()


def let_go(server: InProcessServer) -> None:
    """The other conversation ends; its place is free once the server has released it."""
    server.holder.close()  # type: ignore[attr-defined]
    wait_until(lambda: len(server.runtime.pool) == 0, timeout=10)


def seconds_left(page) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r"in (\d+) s", page.evaluate(f"{STATS}.problem.message")).group(1))


def test_a_full_server_is_waited_for_with_a_countdown(browser_with_mic) -> None:
    with server_holding_one(max_sessions=1, max_sessions_per_address=0) as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "waiting", timeout=10_000)
        stats = page.evaluate(STATS)
        assert "service is full" in stats["problem"]["message"], stats["problem"]
        assert "connection to the server was lost" not in stats["problem"]["message"]
        assert stats["problem"]["actionLabel"] == "Try now" and stats["retrying"] == "full"
        first = seconds_left(page)
        assert 4 <= first <= 6, first  # the first wait for room: about five seconds
        page.wait_for_function(f"/in {first - 1} s/.test({STATS}.problem.message)", timeout=3_000)
        screenshots(page, "server-full")

        let_go(server)
        page.get_by_role("button", name="Try now").click()
        wait_state(page, "listening", timeout=10_000)
        page.wait_for_function(f"{STATS}.problem && {STATS}.problem.message.includes('there was room')")
        page.wait_for_function(f"{STATS}.connected && {STATS}.framesSent > 5", timeout=10_000)
        assert page.evaluate(f"{STATS}.retrying") is None
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]


def test_a_limit_per_address_is_explained_and_not_retried(browser_with_mic) -> None:
    with server_holding_one(max_sessions=5, max_sessions_per_address=1) as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "error", timeout=10_000)
        stats = page.evaluate(STATS)
        message = stats["problem"]["message"]
        assert "At most 1 conversation at once from one address" in message, message
        assert "another tab or on another device" in message
        assert stats["problem"]["actionLabel"] == "Try again"
        assert stats["retrying"] is None and not stats["running"]  # nothing tries again on its own
        assert stats["liveMicrophoneTracks"] == 0  # the microphone is let go while refused
        screenshots(page, "address-limit")

        let_go(server)
        page.get_by_role("button", name="Try again").click()
        wait_state(page, "listening", timeout=10_000)
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]


def test_a_typed_message_refused_by_a_full_server_is_kept_to_send_again(browser_with_mic) -> None:
    with server_holding_one(max_sessions=1, max_sessions_per_address=0) as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_placeholder("Type a message").fill("What is the capital of France?")
        page.keyboard.press("Enter")
        page.wait_for_function(f"{STATS}.problem && {STATS}.problem.actionLabel === 'Send again'",
                               timeout=10_000)
        message = page.evaluate(f"{STATS}.problem.message")
        assert "full right now" in message and "What is the capital of France?" in message, message

        let_go(server)
        page.get_by_role("button", name="Send again").click()
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'user' && m.text.includes('France'))",
                               timeout=10_000)
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.text)",
                               timeout=10_000)
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]
