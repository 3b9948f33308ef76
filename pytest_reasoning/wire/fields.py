"""What every dialect's bodies and chunks say in the same words: the message fields
that carry reasoning and how their text is read, typed ``content`` parts, the choices
of the first answer, and error bodies.  The dialect readers and the accumulator both
use these; this module imports nothing of theirs.

Sources: OpenAI API reference, "Chat Completions" (``choices[]``, ``message``,
``delta``); the reasoning field of each server as in the README's reference table
(DeepSeek / DashScope / SGLang / llama.cpp ``reasoning_content``, vLLM / Ollama
``/v1`` / OpenRouter ``reasoning``); OpenRouter, "Reasoning tokens"
(``reasoning_details`` items) and "Error handling"; Mistral's Magistral docs (typed
``content`` parts whose ``thinking`` is a list of text chunks); DashScope's error
bodies ``{"code", "message"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REASONING_FIELDS", "field_text", "content_parts", "first_choices", "error_of"]

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


def error_of(data: Mapping[str, Any], *, alone: bool = True) -> str | None:
    """The message of an error body or stream line (OpenAI-style ``{"error": ...}``,
    DashScope native ``{"code": ..., "message": "..."}``), at most 300 characters;
    ``None`` for anything else.  With ``alone`` (a whole body), only a body without
    ``choices`` / ``output`` is an error; a stream chunk may carry both (OpenRouter:
    ``error`` beside a choice whose ``finish_reason`` is ``"error"``)."""
    if alone and ("choices" in data or "output" in data):
        return None
    error = data.get("error")
    if error:
        text = error.get("message") or error.get("code") or error if isinstance(error, Mapping) else error
        return str(text)[:300]
    if data.get("code") and isinstance(data.get("message"), str):
        return f"{data['code']}: {data['message']}"[:300]
    return None
