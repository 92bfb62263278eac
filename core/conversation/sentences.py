"""Cut a stream of LLM text pieces into speakable sentences as soon as each is whole."""

from __future__ import annotations

import re

# A sentence ends at . ! or ? followed by white space; abbreviations are rare in
# short spoken replies, and a few common ones are kept from ending a sentence.
_END = re.compile(r"[.!?]+[\"')\]]*\s+")
# Punctuation closing the buffer after a lower-case word: almost surely a sentence end,
# and waiting for the next token would cost a whole token of latency.
_END_AT_TAIL = re.compile(r"[a-z][.!?]+[\"')\]]*$")
_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e.", "etc.")
_MARKUP = re.compile(r"[*_#`~>|\[\]{}<>]+")
_NON_SPEECH = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\ufe0f]+"
)
_LIST_MARK = re.compile(r"(^|\s)(?:[-•]|\d+[.)])\s+")
# A clause ends at , ; or : followed by white space ("10:30" and "3,000" do not).
_CLAUSE_END = re.compile(r"[,;:](?=\s)")
# A reply's opening word that people say as a piece of its own ("No, it's not possible."):
# spoken at once, however few the words.
_INTERJECTIONS = frozenset((
    "yes", "yeah", "yep", "no", "nope", "sure", "okay", "ok", "well", "oh", "ah", "hmm",
    "right", "alright", "hi", "hello", "hey", "sorry", "thanks", "absolutely", "definitely",
    "certainly", "actually", "honestly", "great", "wow", "indeed", "of course",
))


def speakable(text: str) -> str:
    """Text with markdown, list markers and emoji removed, white space folded."""
    text = _NON_SPEECH.sub("", text)
    text = _MARKUP.sub("", text)
    text = _LIST_MARK.sub(" ", text)
    return " ".join(text.split())


class SentenceSplitter:
    """Cuts streamed text into sentences. With ``first_clause_words`` set, the first
    piece may end at a clause break (comma, semicolon, colon) once it has that many
    words, or is an interjection ("No,"): "I'm sorry, I can't cook." is spoken as "I'm
    sorry," then "I can't cook.".
    The synthesizer gets a short first piece sooner, so the answer is heard earlier;
    the rest goes on sentence by sentence."""

    def __init__(self, min_chars: int = 2, first_clause_words: int = 0) -> None:
        self._buffer = ""
        self._min_chars = min_chars
        self._first_clause_words = first_clause_words
        self._emitted = False
        self.clauses = 0  # pieces given out that were a clause, not a whole sentence

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        sentences = []
        search_from = 0
        while True:
            match = _END.search(self._buffer, search_from)
            if match is None:
                break
            candidate = self._buffer[: match.end()]
            last_word = candidate.split()[-1].lower() if candidate.split() else ""
            if last_word in _ABBREVIATIONS or len(candidate.strip()) < self._min_chars:
                search_from = match.end()
                continue
            sentence = speakable(candidate)
            if sentence:
                sentences.append(sentence)
            self._buffer = self._buffer[match.end():]
            search_from = 0
        tail = self._buffer.rstrip()
        if _END_AT_TAIL.search(tail) and tail.split()[-1].lower() not in _ABBREVIATIONS:
            sentence = speakable(tail)
            if len(sentence) >= self._min_chars:
                sentences.append(sentence)
                self._buffer = ""
        if not sentences and not self._emitted and self._first_clause_words:
            sentences += self._first_clause()
        self._emitted = self._emitted or bool(sentences)
        return sentences

    def _first_clause(self) -> list[str]:
        for match in _CLAUSE_END.finditer(self._buffer):
            clause = speakable(self._buffer[: match.end()])
            said = clause[:-1].strip().lower()
            if len(clause.split()) >= self._first_clause_words or said in _INTERJECTIONS:
                self._buffer = self._buffer[match.end():]
                self.clauses += 1
                return [clause]
        return []

    def flush(self) -> list[str]:
        rest = speakable(self._buffer)
        self._buffer = ""
        return [rest] if rest else []

