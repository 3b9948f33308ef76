"""Native (not OpenAI-compatible) bodies and stream lines of Ollama and DashScope, and
the error bodies / error lines of every dialect.

A native body and a native stream line have the same shape (a stream line holds the
next piece of the message), so one reader serves both.

Sources: Ollama ``docs/api.md`` (``/api/chat``: ``message`` with ``content`` and
``thinking``, ``done``, ``done_reason``; ``/api/generate``: ``response``,
``thinking``; ``prompt_eval_count`` / ``eval_count``); Alibaba Cloud Model Studio,
DashScope API reference (``output.choices[].message`` with ``reasoning_content``,
``finish_reason`` the string ``"null"`` while a stream goes on,
``result_format="text"``'s ``output.text``, error bodies ``{"code", "message"}``);
OpenRouter, "Error handling" (an ``error`` object beside a choice mid-stream).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .fields import error_of

if TYPE_CHECKING:
    from .accumulate import Accumulator

__all__ = ["error_of", "read_body"]


def _message(data: Mapping[str, Any]) -> tuple[dict[str, Any], Any] | None:
    """``(message, finish_reason)`` of a native body or stream line, ``None`` for any
    other shape:

    - Ollama ``/api/chat``: ``message`` (``content``, ``thinking``), ``done``,
      ``done_reason``;
    - Ollama ``/api/generate``: ``response``, ``thinking``, ``done``;
    - DashScope: ``output.choices[0].message`` (``reasoning_content``) and its
      ``finish_reason``; or ``output.text`` (``result_format="text"``).
    """
    if "choices" in data:
        return None
    output = data.get("output")
    if isinstance(output, Mapping) and isinstance(output.get("choices"), list):
        choice = output["choices"][0] if output["choices"] and isinstance(output["choices"][0], Mapping) else {}
        return dict(choice.get("message") or {}), choice.get("finish_reason")
    if isinstance(output, Mapping) and "text" in output:  # DashScope result_format="text"
        return {"content": output.get("text")}, output.get("finish_reason")
    if isinstance(data.get("message"), Mapping):
        message = dict(data["message"])
    elif "done" in data and ("response" in data or "thinking" in data):
        message = {"content": data.get("response"), "thinking": data.get("thinking")}
    else:
        return None
    finish = data.get("done_reason") or ("stop" if data.get("done") is True else None)
    return message, finish


def read_body(data: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed a native Ollama / DashScope body or stream line to ``acc`` (its message as
    one delta); ``False``, with nothing fed, for any other shape."""
    found = _message(data)
    if found is None:
        return False
    acc.envelope(data)
    acc.add(*found)
    return True
