"""Splitting reasoning from answer: one rule, "the last ``</think>`` ends the
thinking", for text (``<think>`` tags, also Magistral's ``[THINK]``) and for token ids
(the ``</think>`` id of a local model), plus gpt-oss harmony channels.

Source: the Qwen3 model cards ("Quickstart": parse at the last ``</think>``, token id
151668).  The text splitters are total: they never raise, never drop or duplicate text
other than the tags and surrounding whitespace, and are idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "split_thinking",
    "strip_tags",
    "split_harmony",
    "has_harmony_channels",
    "split_at_last",
    "split_thinking_ids",
    "THINK_OPEN",
    "THINK_CLOSE",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"



def split_at_last(seq: str | Sequence[int], close: str | int) -> tuple[Any, Any] | None:
    """The one rule both splitters share: ``(before, after)`` the **last** ``close``
    marker (a tag in text, a token id in a list of ids), or ``None`` when there is none.
    The last one, so a ``</think>`` quoted inside the reasoning does not end it."""
    if isinstance(seq, str):
        at, width = seq.rfind(str(close)), len(str(close))
    else:
        at, width = next((i for i in range(len(seq) - 1, -1, -1) if seq[i] == close), -1), 1
    return None if at < 0 else (seq[:at], seq[at + width :])


def split_thinking(
    text: str | None, open_tag: str = THINK_OPEN, close_tag: str = THINK_CLOSE
) -> tuple[str, str]:
    """Split raw model text into ``(reasoning, answer)``.

    Rules (the Qwen3 model card splits at the *last* ``</think>``; Qwen3-Thinking-2507,
    DeepSeek-R1 and Qwen3.5 templates put ``<think>`` in the prompt so the output
    holds only ``...</think>answer``):

    - with a ``</think>``: everything before the last one is reasoning, everything
      after it is the answer (:func:`split_at_last`);
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
    cut = split_at_last(text, close_tag)
    if cut is not None:
        reasoning, answer = cut
    else:
        open_at = text.find(open_tag)
        if open_at < 0:
            return "", text.strip()
        answer, reasoning = text[:open_at], text[open_at + len(open_tag) :]
    return strip_tags(reasoning, open_tag, close_tag), strip_tags(answer, open_tag, close_tag)


def split_thinking_ids(
    ids: Sequence[int],
    *,
    think_end_id: int | None,
    think_start_id: int | None = None,
    thinking: bool = True,
    truncated: bool = False,
    prompt_opens_thinking: bool = False,
) -> tuple[list[int], list[int], int]:
    """Split generated token ids (EOS already removed) into reasoning and answer at the
    **last** ``</think>`` id (:func:`split_at_last`, the rule :func:`split_thinking`
    applies to text), as the Qwen3 model card parses output: never by string search,
    so a ``</think>`` typed inside the text does not count.

    * ``</think>`` found: reasoning = the ids before it without a leading ``<think>``
      id, answer = the ids after it.  Also right when the prompt already ended in
      ``<think>`` (Qwen3-Thinking-2507 style templates): the output is then only
      ``...</think>answer``.
    * no ``</think>`` but the output is inside thinking (it starts with ``<think>``,
      ``prompt_opens_thinking``, or ``thinking`` is on and the output was
      ``truncated`` by the token limit): everything is reasoning, answer empty.
    * otherwise (thinking disabled, or the model answered without thinking):
      everything is answer.

    Returns:
        ``(reasoning_ids, answer_ids, reasoning_tokens)`` where ``reasoning_tokens``
        counts the generated tokens up to and including the last ``</think>`` (all
        of them when the whole output is reasoning, ``0`` when there is none).
    """
    ids = [int(i) for i in ids]
    starts_open = bool(ids) and think_start_id is not None and ids[0] == think_start_id
    cut = split_at_last(ids, think_end_id) if think_end_id is not None else None
    if cut is not None:
        before, after = cut
        return (before[1:] if starts_open else before), after, len(before) + 1
    if starts_open or prompt_opens_thinking or (thinking and truncated):
        return (ids[1:] if starts_open else ids), [], len(ids)
    return [], ids, 0


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
