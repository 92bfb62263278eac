"""Is the person's line over? The base model's own chance of ending it here.

The prompt is the reply prompt up to the person's words, with their last full stop
taken off (the recognizer ends nearly every fragment with one): the model's next token
is then either the rest of the line ("My sister, who lives in Chicago" → ", is") or
its end (". ", "?", a new line). The summed probability of the ending tokens is the
answer. The evaluated tokens are the reply prompt's own, so the reply that follows
reuses them (llama.cpp keeps the longest common prefix).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from llama_cpp import Llama

_ENDING_CHARS = frozenset(".?!\n\"'”’)…")


def ending_tokens(llm: Llama) -> np.ndarray:
    """Ids of the tokens that end a line: sentence-final marks and new lines (~450 of
    Gemma's 262k; a one-off scan of ~0.7 s, done when the model loads)."""
    ids = []
    for token in range(llm.n_vocab()):
        text = llm.detokenize([token]).decode("utf-8", "ignore").lstrip(" ")
        if text and text[0] in ".?!\n" and set(text) <= _ENDING_CHARS:
            ids.append(token)
    return np.array(ids, dtype=np.int64)


def unfinished_words(words: str) -> str:
    """The words as the model should see them: one line, no closing mark."""
    return " ".join(words.split()).rstrip(".!?,;: ")


def ending_probability(llm: Llama, prompt: str, ending: np.ndarray) -> float:
    """P(the next token ends the line | ``prompt``). Caller holds the model's lock."""
    tokens = llm.tokenize(prompt.encode(), add_bos=True)
    common = llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
    common = min(common, len(tokens) - 1)  # at least one token evaluated, for its logits
    llm.n_tokens = common
    llm.eval(tokens[common:])
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))  # (no public read)
    shifted = np.exp(logits - logits.max())
    return float(shifted[ending].sum() / shifted.sum())
