"""Splitting reasoning into sentences, for English, Japanese and Chinese."""

from __future__ import annotations

import re

__all__ = ["split_sentences", "sentence_spans"]

# Sentence ends: CJK terminators (。！？ and the half-width ｡) need no following space;
# ASCII . ! ? end a sentence only before whitespace or the end of the text.  Closing
# quotes and brackets stay with the sentence they close.  Blank lines end one too.
_CLOSERS = r"[」』）)\]\"'”’》〉]*"
_SENTENCE_END = re.compile(rf"[。｡！？]+{_CLOSERS}|[.!?]+{_CLOSERS}(?=\s|$)|\n\s*\n")


def split_sentences(text: str | None) -> list[str]:
    """Split ``text`` into sentences, for English, Japanese and Chinese.

    A sentence ends after ``。！？｡`` (no space needed), after ``. ! ?`` followed by
    whitespace or the end, or at a blank line; closing quotes and brackets
    (``」』）"”``) stay with their sentence.  Single newlines inside a sentence are
    kept.  Each sentence is stripped; empty ones are dropped.

    Returns:
        list of ``str``; ``[]`` for empty or whitespace-only input.  Joining the
        result and removing whitespace gives the input with whitespace removed.
    """
    return [text[a:b] for a, b in sentence_spans(text)]  # type: ignore[index]


def sentence_spans(text: str | None) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each sentence of :func:`split_sentences`
    in ``text`` (whitespace around a sentence excluded)."""
    if not text:
        return []
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))
    return spans
