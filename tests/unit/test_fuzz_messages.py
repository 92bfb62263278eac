"""Fuzzing the session's message handling (hypothesis): whatever a client sends, the
session raises nothing, answers every bad message with an error event that names the
problem, and still answers the next proper question."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.transport.wire import CLIENT_TYPES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children,
                                                                      max_size=4),
    max_leaves=12,
)
messages = st.dictionaries(
    st.sampled_from(["type", "text", "turn", "sample_rate", "protocol", "session_id", "token",
                     "llm_provider", "voice", "vad_aggressiveness", "max_sentences", "t"]),
    json_values, max_size=5,
) | st.fixed_dictionaries(
    {"type": st.sampled_from([*sorted(CLIENT_TYPES - {"start", "stop", "text"}), "nonsense", ""])},
    optional={"turn": json_values, "text": json_values, "sample_rate": json_values,
              "protocol": json_values, "session_id": json_values, "token": json_values,
              "voice": json_values, "max_sentences": json_values},
)
texts = st.one_of(
    messages.map(lambda m: json.dumps(m)),
    st.text(max_size=200),  # not JSON at all, or JSON that is not an object
    st.sampled_from(["[]", "null", "3", '"start"', "{", '{"type": 5}', "[" * 5000]),
)
frames = st.one_of(st.binary(max_size=64), st.binary(min_size=65530, max_size=65540),
                   st.integers(0, 5000).map(lambda n: b"\x01" * n))


def errors(harness: Any) -> list[dict[str, Any]]:
    return harness.sent.events("error")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.one_of(texts, frames), min_size=1, max_size=8))
def test_no_message_breaks_the_session(make_harness, batch: list[str | bytes]) -> None:
    h = make_harness(provider_attempt_timeout_s=30)
    for message in batch:
        before = len(errors(h))
        if isinstance(message, bytes):
            h.session.audio(message)
        else:
            h.handle_text(message)
        for error in errors(h)[before:]:  # a problem is always named and explained
            assert error["code"] and error["message"], error
    h.handle_text(json.dumps({"type": "start"}))
    h.handle_text(json.dumps({"type": "text", "text": "are you still there"}))
    assert h.sent.wait_event("reply_done")["text"]
    h.close()
