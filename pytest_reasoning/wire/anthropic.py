"""Anthropic-compatible Messages endpoints (DeepSeek ``/anthropic``, MiniMax, Kimi):
a ``message`` body, and the typed events of its stream, as accumulator input.

Sources: Anthropic API reference, "Messages" (``content`` blocks ``thinking`` /
``text``, ``stop_reason``, ``usage.input_tokens`` / ``output_tokens``) and
"Streaming Messages" (``message_start``, ``content_block_start``,
``content_block_delta`` with ``thinking_delta`` / ``text_delta``,
``message_delta`` with ``stop_reason`` and the usage so far, ``message_stop``,
``ping``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accumulate import Accumulator

__all__ = ["ANTHROPIC_EVENTS", "read_message", "read_event"]

#: Event types of Anthropic-compatible Messages streams.
ANTHROPIC_EVENTS = frozenset({
    "message_start", "content_block_start", "content_block_delta", "content_block_stop",
    "message_delta", "message_stop", "ping",
})


def read_message(data: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed a whole Messages body (``type: "message"``, a ``content`` list) to
    ``acc``: its content blocks as one delta, ``stop_reason`` as the finish reason.
    ``False``, with nothing fed, for any other shape."""
    if "choices" in data or data.get("type") != "message" or not isinstance(data.get("content"), list):
        return False
    acc.envelope(data)
    acc.add({"content": data["content"]}, data.get("stop_reason"))
    return True


def read_event(chunk: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed one Messages stream event to ``acc``: thinking and text block deltas,
    ``message_delta``'s ``stop_reason``; the usage of ``message_start`` and of each
    ``message_delta`` adds up.  ``False``, with nothing fed, for other chunks."""
    kind = str(chunk.get("type") or "")
    if kind not in ANTHROPIC_EVENTS:
        return False
    acc.envelope(chunk, adds=True)
    if kind == "message_start" and isinstance(chunk.get("message"), Mapping):
        acc.envelope(chunk["message"], adds=True)  # the model, the input tokens
    elif kind in ("content_block_start", "content_block_delta"):
        block = chunk.get("content_block") or chunk.get("delta") or {}
        if isinstance(block, Mapping) and block.get("type") in ("thinking", "thinking_delta"):
            acc.add({"thinking": block.get("thinking")})
        elif isinstance(block, Mapping) and block.get("type") in ("text", "text_delta"):
            acc.add({"content": block.get("text")})
    elif kind == "message_delta":
        acc.add({}, (chunk.get("delta") or {}).get("stop_reason"))
    return True
