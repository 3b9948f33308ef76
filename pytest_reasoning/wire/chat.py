"""OpenAI Chat Completions (and every server that speaks it): a body's first choice
``message``, or a stream chunk's ``delta``, as accumulator input; and how the
message fields that carry text are read.

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

if TYPE_CHECKING:
    from .accumulate import Accumulator

__all__ = ["REASONING_FIELDS", "field_text", "content_parts", "first_choices", "read_body", "read_chunk"]

#: Message / delta fields that carry reasoning, in the order they are preferred.
REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details", "thinking")


def _details_text(details: Any) -> str:
    """Text of OpenRouter ``reasoning_details``: ``reasoning.text`` items, else their
    ``reasoning.summary`` items; ``reasoning.encrypted`` items carry no text."""
    if isinstance(details, str):
        return details
    if not isinstance(details, list):
        return ""
    texts = [d.get("text") or "" for d in details if isinstance(d, dict) and d.get("type") != "reasoning.summary"]
    if any(texts):
        return "".join(texts)
    return "".join(d.get("summary") or "" for d in details if isinstance(d, dict))


def field_text(message: Mapping[str, Any], name: str) -> str:
    """The text of field ``name`` of a message (``""`` when it has none): a string as
    is, ``{"text": ...}`` / ``{"content": ...}`` objects, lists of strings and text
    chunks (Mistral's thinking part), and ``reasoning_details`` items."""
    value = message.get(name)
    if name == "reasoning_details":
        return _details_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):  # e.g. {"text": ...} or {"content": ...}
        return str(value.get("text") or value.get("content") or "")
    if isinstance(value, list):  # e.g. Mistral's thinking part: a list of text chunks
        return "".join(v if isinstance(v, str) else field_text(v, "text") for v in value if isinstance(v, (str, Mapping)))
    return ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def content_parts(content: Any) -> tuple[str, str]:
    """``(text, thinking)`` of a ``content`` that may be a string, a bare number, or a
    list of typed parts (``text`` / ``output_text`` parts and untyped ``{"text"}``
    parts are text; ``thinking`` / ``reasoning`` / ``reasoning_text`` parts are
    thinking)."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    if _number(content):  # a bare number as the answer
        return str(content), ""
    text, thinking = [], []
    for part in content if isinstance(content, list) else [content]:
        if isinstance(part, str):
            text.append(part)
        elif _number(part):
            text.append(str(part))
        elif isinstance(part, Mapping):
            kind = str(part.get("type", "text"))
            if kind in ("thinking", "reasoning", "reasoning_text"):
                thinking.append(field_text(part, "thinking") or field_text(part, "text"))
            else:
                text.append(field_text(part, "text"))
    return "".join(text), "".join(thinking)


def first_choices(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The choices of a body or chunk that belong to the first answer (``index`` 0,
    or no ``index``); ``[]`` when there are none."""
    return [c for c in data.get("choices") or [] if isinstance(c, Mapping) and c.get("index", 0) == 0]


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
