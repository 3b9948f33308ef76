"""OpenAI Responses API (also served by vLLM and Ollama): a response body's ``output``
items, and the typed events of its stream, as accumulator input.

Sources: OpenAI API reference, "Responses" (``output`` items of type ``reasoning``
with ``summary[].text``, or ``content[].text`` (``reasoning_text``) from
open-weight servers, and ``message`` with ``output_text`` parts; ``status``,
``incomplete_details.reason``) and "Streaming API responses"
(``response.created``, ``response.reasoning_text.delta``,
``response.reasoning_summary_text.delta``, ``response.output_text.delta``, and a
final ``response.completed`` / ``response.incomplete`` / ``response.failed``
holding the whole response).

LM Studio's native REST API (``/api/v1/chat``, LM Studio 0.4 and later; lmstudio.ai
docs, "Chat" and "Streaming events") answers with the same ``output`` items, their
``content`` plain text, beside ``model_instance_id`` and ``stats``
(``input_tokens``, ``total_output_tokens``, ``reasoning_output_tokens``); its stream
sends ``chat.start``, ``reasoning.delta``, ``message.delta`` ... and a final
``chat.end`` whose ``result`` is that body.  Both are read here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .fields import content_parts

if TYPE_CHECKING:
    from .accumulate import Accumulator

__all__ = ["read_body", "read_event", "read_lmstudio_event"]

#: Events whose ``response`` is the whole, final response object.
FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
#: Events whose ``delta`` is reasoning text, and the one whose ``delta`` is answer text.
REASONING_DELTAS = ("response.reasoning_text.delta", "response.reasoning_summary_text.delta")
TEXT_DELTA = "response.output_text.delta"
#: What ``reasoning_source`` says when the reasoning came from ``reasoning`` items.
SOURCE = "responses reasoning items"


def read_body(data: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed a Responses API body (``output``, no ``choices``) to ``acc``: reasoning
    items (joined by blank lines) and message text as one delta, the
    ``incomplete_details.reason`` or else the ``status`` as the finish reason.
    ``False``, with nothing fed, for any other shape."""
    if "output" not in data or "choices" in data:
        return False
    _read_response(data, acc)
    return True


def _read_response(data: Mapping[str, Any], acc: Accumulator) -> None:
    reasoning, answer = [], []
    for item in data.get("output") or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "reasoning":
            parts = item.get("content") or item.get("summary") or []
            if isinstance(parts, str):  # LM Studio: the text itself
                parts = [{"text": parts}]
            reasoning.extend(p.get("text", "") for p in parts if isinstance(p, Mapping))
        elif item.get("type") == "message":
            answer.append(content_parts(item.get("content"))[0])
    acc.envelope({**data, "model": data.get("model") or data.get("model_instance_id")})  # LM Studio's name
    finish = (data.get("incomplete_details") or {}).get("reason") or data.get("status")
    acc.add({"reasoning": "\n\n".join(reasoning), "content": "".join(answer)}, finish)
    acc.source_names["reasoning"] = SOURCE


def read_event(chunk: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed one Responses stream event (``type`` ``response.*``) to ``acc``: text
    deltas as they come; a final event's whole response replaces all that came
    before and closes ``acc`` (nothing after it is read).  ``False``, with nothing
    fed, for other chunks."""
    kind = str(chunk.get("type") or "")
    if not kind.startswith("response."):
        return False
    response = chunk.get("response")
    if kind in FINAL_EVENTS and isinstance(response, Mapping):
        acc.restart(stream=False)  # the final object is the whole body
        _read_response(response, acc)
        acc.closed = True
        return True
    acc.envelope(chunk)
    if isinstance(response, Mapping):  # response.created / in_progress: the model so far
        acc.envelope(response)
    if kind in REASONING_DELTAS:
        acc.add({"reasoning": chunk.get("delta")})
    elif kind == TEXT_DELTA:
        acc.add({"content": chunk.get("delta")})
    return True


#: LM Studio's native stream events that carry text, by ``type``: the field it goes to.
LMSTUDIO_DELTAS = {"reasoning.delta": "reasoning", "message.delta": "content"}
#: The prefixes of LM Studio's native stream event types.
LMSTUDIO_EVENTS = ("chat.", "reasoning.", "message.", "tool_call.", "prompt_processing.", "model_load.")


def read_lmstudio_event(chunk: Mapping[str, Any], acc: Accumulator) -> bool:
    """Feed one event of LM Studio's native stream to ``acc``: text deltas as they
    come (``content`` of ``reasoning.delta`` / ``message.delta``), the model from
    ``chat.start``; ``chat.end``'s ``result`` replaces all that came before and
    closes ``acc``.  ``False``, with nothing fed, for other chunks."""
    kind = str(chunk.get("type") or "")
    if not kind.startswith(LMSTUDIO_EVENTS) or "choices" in chunk:
        return False
    result = chunk.get("result")
    if kind == "chat.end" and isinstance(result, Mapping):
        acc.restart(stream=False)  # the result is the whole body
        _read_response(result, acc)
        acc.closed = True
        return True
    acc.envelope({"model": chunk.get("model_instance_id")})
    if kind in LMSTUDIO_DELTAS:
        acc.add({LMSTUDIO_DELTAS[kind]: chunk.get("content")})
    return True
