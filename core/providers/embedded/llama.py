"""Embedded reply generator: Gemma 3 270M (base model) on llama.cpp, few-shot prompt."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from core.providers.base import LLMProvider, Message, ProviderError
from core.providers.embedded.cpu_share import runnable_in_other_processes, threads_for_now
from core.providers.embedded.line_end import ending_probability, ending_tokens, unfinished_words
from core.providers.embedded.model_files import gemma_gguf
from core.providers.lead_in import lead_in
from core.providers.prompt import SPEAKER, STOP, build_prompt, prompt_prefix

THREADS_CHECK_TOKENS = 8  # how often the thread count is fitted again during a reply
LINE_END_WAIT_S = 0.1  # the longest wait for the model to weigh a pause's words


class LlamaLLM(LLMProvider):
    name = "gemma3-270m"

    def __init__(self, model_dir: str, n_ctx: int = 2048, n_threads: int = 2,
                 max_tokens: int = 60) -> None:
        from llama_cpp import Llama

        self._llm = Llama(
            model_path=str(gemma_gguf(model_dir)),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )
        self._max_tokens = max_tokens
        self._wanted_threads = n_threads
        self._threads = n_threads
        # llama.cpp contexts are not thread-safe; one generation at a time.
        self._lock = threading.Lock()
        self._ending = ending_tokens(self._llm)
        self._newlines = [int(t) for t in self._ending if self._llm.detokenize([int(t)]).startswith(b"\n")]

    def _fit_threads(self) -> None:
        """Use only the cores other processes leave free (``cpu_share``); under the lock."""
        threads = threads_for_now(self._wanted_threads, runnable_in_other_processes())
        if threads == self._threads:
            return
        from llama_cpp import llama_set_n_threads

        context = getattr(getattr(self._llm, "_ctx", None), "ctx", None)  # (no public handle)
        if context is not None:
            llama_set_n_threads(context, threads, threads)
            self._threads = threads

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        start = lead_in(history, user_text)  # the person took up Sam's offer: deliver it
        prompt = build_prompt(history, user_text) + (f" {start}" if start else "")
        # Greedy decoding repeats itself readily ("I tried." to every line); barring the
        # first token of the previous reply makes a word-for-word repeat impossible.
        bias = {self._first_token(avoid): -100.0} if avoid else None
        with self._lock:
            self._fit_threads()
            try:
                if start:
                    yield start
                    # The model goes on after a lead-in on the same line, not after a line
                    # break (which ends Sam's line: the colon invites one).
                    first = self._llm.create_completion(prompt, max_tokens=1, temperature=0.0,
                                                        logit_bias={t: -100.0 for t in self._newlines})
                    piece = first["choices"][0]["text"]  # type: ignore[index]
                    prompt += piece
                    if piece:
                        yield piece
                stream = self._llm.create_completion(
                    prompt,
                    max_tokens=self._max_tokens,
                    temperature=0.0,
                    repeat_penalty=1.1,
                    stop=STOP,
                    stream=True,
                    logit_bias=bias,
                )
                for number, part in enumerate(stream, start=1):
                    if number % THREADS_CHECK_TOKENS == 0:
                        self._fit_threads()
                    text = part["choices"][0]["text"]
                    if text:
                        yield text
            except (RuntimeError, ValueError) as exc:
                raise ProviderError(self.name, f"generation failed: {exc}", retryable=False) from exc

    def line_ends_here(self, history: Sequence[Message], words: str) -> float | None:
        prompt = f"{prompt_prefix(history)}{SPEAKER['user']}: {unfinished_words(words)}"
        # Wanted within tens of ms: behind another session's reply, no view rather than late.
        if not self._lock.acquire(timeout=LINE_END_WAIT_S):
            return None
        try:
            self._fit_threads()
            return ending_probability(self._llm, prompt, self._ending)
        except (RuntimeError, ValueError) as exc:
            raise ProviderError(self.name, f"prompt evaluation failed: {exc}", retryable=False) from exc
        finally:
            self._lock.release()

    def prepare(self, history: Sequence[Message]) -> None:
        # llama.cpp keeps the evaluated tokens of the last prompt and reuses the longest
        # common prefix. After the history is trimmed that prefix is short, and the next
        # reply would pay for evaluating the whole history; doing it now hides the cost.
        with self._lock:
            self._fit_threads()
            try:
                for _ in self._llm.create_completion(prompt_prefix(history), max_tokens=1,
                                                     temperature=0.0, stream=True):
                    pass
            except (RuntimeError, ValueError) as exc:
                raise ProviderError(self.name, f"prompt evaluation failed: {exc}",
                                    retryable=False) from exc

    def _first_token(self, text: str) -> int:
        return self._llm.tokenize((" " + text.strip()).encode(), add_bos=False)[0]

    def warm_up(self) -> None:
        # Evaluates the fixed preamble, which then stays cached for every turn.
        for _ in self.stream_reply([], "Hello."):
            pass
