"""OpenAI Chat Completions (and every server that speaks it): a body's first choice
``message``, or a stream chunk's ``delta``, as accumulator input; and how the
message fields that carry text are read (:mod:`.fields`, re-exported here).

Sources: OpenAI API reference, "Chat Completions" (``choices[].message``,
``choices[].delta``, ``finish_reason``); the reasoning field of each server as in
the README's reference table (DeepSeek / DashScope / SGLang / llama.cpp
``reasoning_content``, vLLM / Ollama ``/v1`` / OpenRouter ``reasoning``);
OpenRouter, "Reasoning tokens" (``reasoning_details`` items ``reasoning.text``,
``reasoning.summary``, ``reasoning.encrypted``); Mistral's Magistral docs (typed
``content`` parts whose ``thinking`` is a list of text chunks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .fields import REASONING_FIELDS, content_parts, field_text, first_choices

if TYPE_CHECKING:
    from .accumulate import Accumulator

__all__ = ["REASONING_FIELDS", "field_text", "content_parts", "first_choices", "read_body", "read_chunk"]


def read_body(data: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed a chat completion body to ``acc``: its first choice's ``message`` as one
    delta holding the whole message.  Returns ``True``.

    Raises:
        ValueError: the body has no ``choices``.
    """
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("not a chat completion: it has no 'choices' (is this an error body?)")
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    acc.envelope(data)
    acc.add(choice.get("message") or {}, choice.get("finish_reason"))
    return True


def read_chunk(chunk: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed one ``chat.completion.chunk`` to ``acc``: the ``delta`` and
    ``finish_reason`` of its first-answer choices (none in a usage-only chunk); a
    choice with a ``message`` and no ``delta`` (a whole body among the chunks) gives
    its message.  Returns ``True``: any chunk no other dialect claims is read as this
    one."""
    acc.envelope(chunk)
    for choice in first_choices(chunk):
        part = choice["delta"] if "delta" in choice else choice.get("message")
        acc.add(part if isinstance(part, Mapping) else {}, choice.get("finish_reason"))
    return True
