"""Splitting text: reasoning from answer (``<think>`` tags), and reasoning into sentences.

Both splitters are total: they never raise, never drop or duplicate text other than
the tags and surrounding whitespace, and are idempotent.
"""

from __future__ import annotations

import re

__all__ = [
    "split_thinking",
    "strip_tags",
    "split_harmony",
    "has_harmony_channels",
    "split_sentences",
    "sentence_spans",
    "THINK_OPEN",
    "THINK_CLOSE",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"

# Sentence ends: CJK terminators (。！？ and the half-width ｡) need no following space;
# ASCII . ! ? end a sentence only before whitespace or the end of the text.  Closing
# quotes and brackets stay with the sentence they close.  Blank lines end one too.
_CLOSERS = r"[」』）)\]\"'”’》〉]*"
_SENTENCE_END = re.compile(rf"[。｡！？]+{_CLOSERS}|[.!?]+{_CLOSERS}(?=\s|$)|\n\s*\n")


def split_thinking(
    text: str | None, open_tag: str = THINK_OPEN, close_tag: str = THINK_CLOSE
) -> tuple[str, str]:
    """Split raw model text into ``(reasoning, answer)``.

    Rules (the Qwen3 model card splits at the *last* ``</think>``; Qwen3-Thinking-2507,
    DeepSeek-R1 and Qwen3.5 templates put ``<think>`` in the prompt so the output
    holds only ``...</think>answer``):

    - with a ``</think>``: everything before the last one is reasoning, everything
      after it is the answer;
    - with a ``<think>`` but no ``</think>`` (cut off inside the thinking): everything
      after the first ``<think>`` is reasoning, the text before it is the answer;
    - with no tags: ``("", text)``.

    Stray tags left in either part are removed (one inside a part becomes a blank
    line, so several thinking blocks stay separate paragraphs); both parts are
    stripped of surrounding whitespace.  An empty ``<think>\\n\\n</think>`` (thinking disabled)
    gives ``reasoning == ""``.  ``None`` is treated as ``""``.  Never raises.

    Returns:
        ``(reasoning, answer)``, two ``str``.
    """
    if not text:
        return "", ""
    close_at = text.rfind(close_tag)
    if close_at >= 0:
        reasoning, answer = text[:close_at], text[close_at + len(close_tag) :]
    else:
        open_at = text.find(open_tag)
        if open_at < 0:
            return "", text.strip()
        answer, reasoning = text[:open_at], text[open_at + len(open_tag) :]
    return strip_tags(reasoning, open_tag, close_tag), strip_tags(answer, open_tag, close_tag)


def strip_tags(text: str, open_tag: str = THINK_OPEN, close_tag: str = THINK_CLOSE) -> str:
    """``text`` without think tags: each run of tags (and the whitespace around it)
    inside the text becomes one blank line, at either end nothing; stripped."""
    # A stray tag inside a part (several thinking blocks, "<think>a</think>b<think>c")
    # becomes a paragraph break, so the blocks' sentences stay apart.  One pass: the
    # text around a removed tag is never re-read as a new tag.
    tag = f"{re.escape(close_tag)}|{re.escape(open_tag)}"
    return re.sub(rf"\s*(?:(?:{tag})\s*)+", "\n\n", text).strip()


def has_think_tags(text: str | None, open_tag: str = THINK_OPEN, close_tag: str = THINK_CLOSE) -> bool:
    """True when ``text`` holds an opening or closing think tag."""
    return bool(text) and (open_tag in text or close_tag in text)


# OpenAI harmony format (gpt-oss): ``<|start|>assistant<|channel|>analysis<|message|>
# ...<|end|><|start|>assistant<|channel|>final<|message|>...<|return|>``; a channel
# header may carry `` to=functions.f <|constrain|>json`` before ``<|message|>``.
# Source: https://cookbook.openai.com/articles/openai-harmony
_HARMONY_MESSAGE = re.compile(
    r"<\|channel\|>\s*([A-Za-z_]+)[^<]*(?:<\|constrain\|>[^<]*)?<\|message\|>"
    r"(.*?)(?=<\|(?:end|start|return|call|channel)\|>|\Z)",
    re.DOTALL,
)
# The same with the special tokens dropped by the detokenizer
# (``skip_special_tokens``): "analysisWe need ...assistantfinal2 + 3 = 5.", where
# "assistant<channel>" starts each further message.
_HARMONY_BARE = re.compile(r"\A\s*(?:analysis(?=.*?assistantfinal)|(?=assistantfinal))", re.DOTALL)
_HARMONY_BARE_HEADER = re.compile(r"assistant(analysis|commentary|final)")


def has_harmony_channels(text: str | None) -> bool:
    """True when ``text`` holds gpt-oss harmony channel markup: ``<|channel|>`` and
    ``<|message|>`` tokens, or their detokenized leftovers (``analysis…assistantfinal…``
    or ``assistantfinal…`` at the start of the text)."""
    if not text:
        return False
    return ("<|channel|>" in text and "<|message|>" in text) or bool(_HARMONY_BARE.match(text))


def split_harmony(text: str | None) -> tuple[str, str]:
    """Split raw gpt-oss output in the harmony format into ``(reasoning, answer)``.

    The ``analysis`` channel's messages are the reasoning; the ``final`` (and
    ``commentary``) channels' messages are the answer; messages are joined with a
    blank line and stripped.  A message cut off before its ``<|end|>`` runs to the
    end of the text.  Without channel tokens, the detokenized leftover form
    (``analysis<reasoning>assistantfinal<answer>``, further messages starting with
    ``assistant<channel>``) is read the same way.  Text with neither form gives
    ``("", text.strip())``.  Never raises.

    Source: the harmony response format, https://cookbook.openai.com/articles/openai-harmony

    Returns:
        ``(reasoning, answer)``, two ``str``.
    """
    if not text:
        return "", ""
    messages = _HARMONY_MESSAGE.findall(text)
    bare = _HARMONY_BARE.match(text)
    if not messages and bare:
        pieces = _HARMONY_BARE_HEADER.split(text[bare.end() :])
        messages = [("analysis" if bare.group(0).strip() else "final", pieces[0])]
        messages += list(zip(pieces[1::2], pieces[2::2]))
    if not messages:
        return "", text.strip()
    reasoning, answer = [], []
    for channel, body in messages:
        if body.strip():
            (reasoning if channel.lower() == "analysis" else answer).append(body.strip())
    return "\n\n".join(reasoning), "\n\n".join(answer)


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
