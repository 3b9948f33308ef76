"""Reading reasoning traces out of OpenAI-compatible responses, from any backend.

Handles every shape in the reference table (DeepSeek, DashScope, vLLM, SGLang,
llama.cpp, Ollama ``/v1``, OpenRouter, OpenAI Chat Completions and Responses) and its
pitfalls: the reasoning field's name varies, reasoning left inline in ``content``
between ``<think>`` tags (with or without the opening tag; also Magistral's
``[THINK]`` tags and gpt-oss harmony channels), stray tags, truncation
inside the thinking, thinking disabled, interleaved stream deltas, ``None`` deltas,
a usage-only final chunk with empty ``choices`` and unknown finish reasons.  Also
read: the native bodies and streams of Ollama and DashScope, Anthropic-compatible
Messages bodies and events, Responses API stream events, and streams given as text.
Sources of the shapes: ``tests/test_real_world_shapes.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .text.thinking import has_harmony_channels, has_think_tags, split_harmony, split_thinking, strip_tags
from .trace import BackendInfo, Trace, Usage

__all__ = ["trace_from_openai", "trace_from_openai_stream", "as_dict", "REASONING_FIELDS"]

#: Message / delta fields that carry reasoning, in the order they are preferred.
REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details", "thinking")

#: ``finish_reason`` values (compared case-insensitively) that mean the output was
#: cut by a token limit: OpenAI/vLLM/llama.cpp/Ollama ``length``, Anthropic-style
#: ``max_tokens``, Responses ``max_output_tokens``, Mistral ``model_length`` (the
#: context window ran out).
TRUNCATING_FINISH_REASONS = {"length", "max_tokens", "max_output_tokens", "model_length"}


#: ``finish_reason`` values that mean "not finished yet": ``null``, DashScope native's
#: string ``"null"``, and the ``""`` of Ollama ``/v1`` and others while a stream goes on.
NOT_FINISHED = (None, "null", "")

#: Magistral's thinking tokens, left in ``content`` by servers without its parser
#: (Mistral's Magistral model cards: reasoning between ``[THINK]`` and ``[/THINK]``).
MISTRAL_THINK_TAGS = ("[THINK]", "[/THINK]")
#: How gpt-oss output in the harmony format starts when a server left it unparsed
#: (with its special tokens, or with them dropped by the detokenizer).
HARMONY_STARTS = ("<|channel|>", "<|start|>", "assistant<|channel|>", "analysis", "assistantfinal")


def as_dict(obj: Any) -> Any:
    """Turn an ``openai`` response object (pydantic, extras kept) into plain JSON data;
    dicts, lists and scalars pass through (recursively for containers)."""
    if hasattr(obj, "to_dict"):
        try:
            # warnings=False: a provider's typed ``content`` list is not the SDK's ``str``.
            return obj.to_dict(mode="json", exclude_unset=True, warnings=False)
        except TypeError:
            return obj.to_dict()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_unset=True)
    if isinstance(obj, Mapping):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    return obj


def _loads(text: str | bytes, what: str) -> Any:
    """JSON of a body or stream line given as text; ``ValueError`` naming ``what``."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} is not JSON ({exc}): {str(text)[:80]!r}") from None


def _stream_items(chunks: Iterable[Any] | str | bytes) -> Iterator[Any]:
    """Chunks as objects/dicts; text (a whole SSE or NDJSON transcript, its lines or
    its events) is read line by line: ``data:`` prefixes dropped, ``event:`` / ``id:``
    / ``retry:`` fields, ``:`` comments, blank lines and ``[DONE]`` skipped.

    Raises:
        ValueError: a line that is not JSON, or text that holds no chunk at all.
    """
    if isinstance(chunks, (str, bytes)):
        chunks = [chunks]
    texts = found = 0
    for raw in chunks:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if not isinstance(raw, str):
            found += 1
            yield raw
            continue
        texts += 1
        for line in raw.splitlines():
            line = line.strip()
            if line.startswith("data:"):
                line = line[len("data:") :].strip()
            elif not line or line.startswith((":", "event:", "id:", "retry:")):
                continue
            if line == "[DONE]":
                found += 1
            elif line:
                found += 1
                yield _loads(line, "stream line")
    if texts and not found:
        raise ValueError("the stream text holds no chunk (no data: line and no JSON line)")


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


def _field_text(message: Mapping[str, Any], name: str) -> str:
    value = message.get(name)
    if name == "reasoning_details":
        return _details_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):  # e.g. {"text": ...} or {"content": ...}
        return str(value.get("text") or value.get("content") or "")
    if isinstance(value, list):  # e.g. Mistral's thinking part: a list of text chunks
        return "".join(v if isinstance(v, str) else _field_text(v, "text") for v in value if isinstance(v, (str, Mapping)))
    return ""


def _content_parts(content: Any) -> tuple[str, str]:
    """``(text, thinking)`` of a ``content`` that may be a string or a list of typed
    parts (``text`` / ``output_text`` parts, ``thinking`` / ``reasoning`` parts)."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    if isinstance(content, (int, float)) and not isinstance(content, bool):  # a bare number as the answer
        return str(content), ""
    text, thinking = [], []
    for part in content if isinstance(content, list) else [content]:
        if isinstance(part, str):
            text.append(part)
        elif isinstance(part, (int, float)) and not isinstance(part, bool):
            text.append(str(part))
        elif isinstance(part, Mapping):
            kind = str(part.get("type", "text"))
            if kind in ("thinking", "reasoning", "reasoning_text"):
                thinking.append(_field_text(part, "thinking") or _field_text(part, "text"))
            else:
                text.append(_field_text(part, "text"))
    return "".join(text), "".join(thinking)


def _usage(raw: Any) -> Usage:
    """Usage from Chat Completions (``prompt_tokens``...), Responses and DashScope's
    native API (``input_tokens``...), Ollama's native API (``prompt_eval_count``,
    ``eval_count``) or SGLang's top-level ``reasoning_tokens``; ``None`` wherever
    nothing is said."""
    if not isinstance(raw, Mapping):
        return Usage()

    def num(value: Any) -> int | None:
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    details = raw.get("completion_tokens_details") or raw.get("output_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    if reasoning is None:
        reasoning = raw.get("reasoning_tokens")
    prompt = raw.get("prompt_tokens", raw.get("input_tokens", raw.get("prompt_eval_count")))
    completion = raw.get("completion_tokens", raw.get("output_tokens", raw.get("eval_count")))
    return Usage(num(prompt), num(completion), num(reasoning), num(raw.get("total_tokens")))


def _counts(response: Mapping[str, Any]) -> dict[str, Any]:
    """Ollama's native token counts, which sit at the top level of the body."""
    return {k: response[k] for k in ("prompt_eval_count", "eval_count") if k in response}


def _build(
    message: Mapping[str, Any],
    finish_reason: Any,
    response: Mapping[str, Any],
    *,
    messages: list[dict[str, Any]] | None,
    params: dict[str, Any] | None,
    backend: BackendInfo | str | None,
    latency_s: float | None,
) -> Trace:
    """The one place that decides reasoning, answer, source and truncation."""
    reasoning, source = "", None
    for name in REASONING_FIELDS:
        text = _field_text(message, name)
        if text.strip():
            reasoning, source = text, name
            break
    content, part_thinking = _content_parts(message.get("content"))
    if part_thinking.strip() and not reasoning.strip():
        reasoning, source = part_thinking, "content thinking parts"
    if has_think_tags(content):
        tag_reasoning, content = split_thinking(content)
        if tag_reasoning and not reasoning.strip():
            reasoning, source = tag_reasoning, "<think> tags"
    # Markup a server left unparsed, read only where no field gave the reasoning and the
    # content starts with it (elsewhere it is prose about the markup):
    head = content.lstrip()
    if not reasoning.strip() and head.startswith(MISTRAL_THINK_TAGS[0]):  # Magistral's raw [THINK]…[/THINK]
        reasoning, content = split_thinking(content, *MISTRAL_THINK_TAGS)
        source = "[THINK] tags"
    elif not reasoning.strip() and head.startswith(HARMONY_STARTS) and has_harmony_channels(content):  # gpt-oss
        reasoning, content = split_harmony(content)
        source = "harmony channels"
    if has_think_tags(reasoning):  # a field that kept its tags (also when content had some)
        reasoning = strip_tags(reasoning)

    finish = None if finish_reason in NOT_FINISHED else str(finish_reason)
    extra: dict[str, Any] = {}
    for key in ("timings", "system_fingerprint", "error"):
        if response.get(key) is not None:
            extra[key] = response[key]
    if isinstance(message.get("reasoning_details"), list):
        encrypted = sum(
            1 for d in message["reasoning_details"] if isinstance(d, Mapping) and d.get("type") == "reasoning.encrypted"
        )
        if encrypted:
            extra["encrypted_reasoning_items"] = encrypted
    if not isinstance(backend, BackendInfo):
        backend = BackendInfo(backend or "openai-compatible")
    return Trace(
        messages=list(messages or []),
        reasoning=reasoning.strip(),
        answer=(content or "").strip(),
        model=response.get("model"),
        backend=backend,
        params=dict(params or {}),
        usage=_usage(response.get("usage") or _counts(response)),
        finish_reason=finish,
        truncated=finish is not None and finish.lower() in TRUNCATING_FINISH_REASONS,
        latency_s=latency_s,
        reasoning_source=source if reasoning.strip() else None,
        extra=extra,
    )


def _from_responses_api(data: Mapping[str, Any], **meta: Any) -> Trace:
    """OpenAI Responses API: ``output`` items of type ``reasoning`` (``summary[].text``,
    or ``content[].text`` from open-weight servers) and ``message``."""
    reasoning, answer = [], []
    for item in data.get("output") or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "reasoning":
            parts = item.get("content") or item.get("summary") or []
            reasoning.extend(p.get("text", "") for p in parts if isinstance(p, Mapping))
        elif item.get("type") == "message":
            answer.append(_content_parts(item.get("content"))[0])
    finish = (data.get("incomplete_details") or {}).get("reason") or data.get("status")
    message = {"reasoning": "\n\n".join(reasoning), "content": "".join(answer)}
    trace = _build(message, finish, data, **meta)
    if trace.reasoning_source == "reasoning":
        trace.reasoning_source = "responses reasoning items"
    return trace


def _error_of(data: Mapping[str, Any], *, alone: bool = True) -> str | None:
    """The message of an error body or stream line (OpenAI-style ``{"error": ...}``,
    DashScope native ``{"code": ..., "message": "..."}``), ``None`` for anything else.
    With ``alone`` (a whole body), only a body without ``choices`` / ``output`` is an
    error; a stream chunk may carry both (OpenRouter: ``error`` beside a choice whose
    ``finish_reason`` is ``"error"``)."""
    if alone and ("choices" in data or "output" in data):
        return None
    error = data.get("error")
    if error:
        text = error.get("message") or error.get("code") or error if isinstance(error, Mapping) else error
        return str(text)[:300]
    if data.get("code") and isinstance(data.get("message"), str):
        return f"{data['code']}: {data['message']}"[:300]
    return None


def _native_message(data: Mapping[str, Any]) -> tuple[dict[str, Any], Any] | None:
    """``(message, finish_reason)`` of a body in a provider's native (not
    OpenAI-compatible) shape, with ``usage`` moved into ``data`` where it is
    spelled differently; ``None`` for any other body.

    - Ollama ``/api/chat``: ``message`` (``content``, ``thinking``), ``done``,
      ``done_reason``, ``prompt_eval_count`` / ``eval_count``;
    - Ollama ``/api/generate``: ``response``, ``thinking``, the same counts;
    - Anthropic-compatible ``/v1/messages`` (DeepSeek, MiniMax, Kimi): ``content``
      parts ``thinking`` / ``text``, ``stop_reason``, ``usage.input_tokens``;
    - DashScope native: ``output.choices[0].message`` (``reasoning_content``),
      ``usage.input_tokens`` / ``output_tokens``, ``finish_reason`` ``"null"``
      while a stream goes on; or ``output.text`` (``result_format="text"``).
    """
    if "choices" in data:
        return None
    if data.get("type") == "message" and isinstance(data.get("content"), list):  # Anthropic Messages
        return {"content": data["content"]}, data.get("stop_reason")
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


def trace_from_openai(
    response: Any,
    *,
    messages: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    backend: BackendInfo | str | None = None,
    latency_s: float | None = None,
) -> Trace:
    """Build a :class:`~pytest_reasoning.Trace` from a non-streamed chat completion.

    Args:
        response: an ``openai`` ``ChatCompletion`` (or Responses API ``Response``)
            object, or the same as a plain dict, or the JSON body as ``str``/``bytes``.
        messages: the messages that were sent (kept in the trace).
        params: the requested sampling/thinking settings (kept in the trace).
        backend: backend name or :class:`BackendInfo`; default ``"openai-compatible"``.
        latency_s: seconds the call took, if known.

    The reasoning is read from ``reasoning_content``, then ``reasoning``, then
    ``reasoning_details``, then ``thinking``, then typed ``content`` parts, then
    ``<think>`` / ``[THINK]`` tags or gpt-oss harmony channels in ``content``;
    ``reasoning_source`` says which.  The first choice is used.  Native bodies of
    Ollama (``/api/chat``, ``/api/generate``) and DashScope are read too.

    Raises:
        ValueError: ``response`` is not a chat completion (no ``choices``, no
            Responses API ``output``, no native message), is an error body (the
            message says its error), or is text that is not JSON.
    """
    data = as_dict(_loads(response, "response") if isinstance(response, (str, bytes)) else response)
    meta = dict(messages=messages, params=params, backend=backend, latency_s=latency_s)
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a chat completion object or dict, got {type(response).__name__}")
    error = _error_of(data)
    if error:
        raise ValueError(f"the response is an error, not a chat completion: {error}")
    native = _native_message(data)
    if native is not None:
        return _build(native[0], native[1], data, **meta)
    if "output" in data and "choices" not in data:
        return _from_responses_api(data, **meta)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("not a chat completion: it has no 'choices' (is this an error body?)")
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    message = choice.get("message") or {}
    return _build(message, choice.get("finish_reason"), data, **meta)


def trace_from_openai_stream(
    chunks: Iterable[Any] | str | bytes,
    *,
    messages: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    backend: BackendInfo | str | None = None,
    latency_s: float | None = None,
) -> Trace:
    """Build a :class:`~pytest_reasoning.Trace` from streamed chat-completion chunks.

    Args:
        chunks: ``ChatCompletionChunk`` objects or dicts (the JSON of each SSE
            ``data:`` line; a literal ``"[DONE]"`` is skipped), in arrival order;
            or text: the lines of an SSE or NDJSON transcript, or the whole
            transcript as one ``str``/``bytes`` (``data:`` prefixes, ``event:`` /
            ``id:`` fields, comments and blank lines are handled).
        messages, params, backend, latency_s: as in :func:`trace_from_openai`.

    Reasoning deltas (any field of :data:`REASONING_FIELDS`) and content deltas are
    accumulated separately however they interleave; ``None`` deltas are skipped;
    ``usage`` is taken from the last chunk that carries it (often a last chunk with
    empty ``choices``; Moonshot puts it in the choice); ``model`` from the first
    chunk that names one; ``finish_reason`` from the last chunk that sets one.  A
    stream that ended without any ``finish_reason`` is marked ``truncated`` (it was
    cut off).  Native stream lines of Ollama (``message`` / ``response`` deltas,
    ``done``) and DashScope (``output.choices[].message`` with incremental output)
    are read as deltas, as are typed events of the OpenAI Responses API (a final
    ``response.completed`` object wins) and of Anthropic-compatible Messages
    endpoints; Groq's ``x_groq.usage`` counts when no ``usage`` is sent.  An ``error`` object sent mid-stream is kept in
    ``trace.extra["error"]`` (the trace is then truncated unless a finish reason
    came).

    Raises:
        ValueError: ``chunks`` holds something that is not a chunk, or a text line
            that is not JSON.
    """
    parts: dict[str, list[Any]] = {name: [] for name in (*REASONING_FIELDS, "content")}
    summary: dict[str, Any] = {}
    finish_reason = None
    saw_chunk = False
    meta = dict(messages=messages, params=params, backend=backend, latency_s=latency_s)
    for raw in _stream_items(chunks):
        chunk = as_dict(raw)
        if not isinstance(chunk, Mapping):
            raise ValueError(f"expected stream chunks (objects or dicts), got {type(raw).__name__}")
        saw_chunk = True
        if chunk.get("type") in ("response.completed", "response.incomplete", "response.failed") and isinstance(
            chunk.get("response"), Mapping
        ):  # the whole Responses object: read it as a body
            return _from_responses_api(chunk["response"], **meta)
        for choice in _choices(chunk, summary):
            delta = choice.get("delta") or {}
            for name in parts:
                value = delta.get(name)
                if value is None:
                    continue
                if name == "reasoning_details" and isinstance(value, list):
                    parts[name].extend(value)
                else:
                    parts[name].append(value)
            if choice.get("finish_reason") not in NOT_FINISHED:
                finish_reason = choice["finish_reason"]
    trace = _build(_joined(parts), finish_reason, summary, **meta)
    if saw_chunk and finish_reason is None:
        trace.truncated = True
    return trace


def _choices(chunk: Mapping[str, Any], summary: dict[str, Any]) -> list[Mapping[str, Any]]:
    """The first choice of one stream chunk as ``[{"delta": ..., "finish_reason": ...}]``
    (``[]`` when it has none), whatever the chunk's shape; its model, usage, timings,
    fingerprint and error go into ``summary``."""
    error = _error_of(chunk, alone=False)
    if error:  # an error sent mid-stream
        summary["error"] = error
    if chunk.get("model") and "model" not in summary:
        summary["model"] = chunk["model"]
    event = str(chunk.get("type") or "")
    typed = event.startswith("response.") or event in ANTHROPIC_EVENTS
    for key in ("usage", "timings", "system_fingerprint"):
        if chunk.get(key) and not (key == "usage" and typed):  # typed events add theirs up
            summary[key] = chunk[key]
    if _counts(chunk):
        summary["usage"] = _counts(chunk)
    groq = chunk.get("x_groq")
    if isinstance(groq, Mapping) and isinstance(groq.get("usage"), Mapping) and not chunk.get("usage"):
        summary["usage"] = groq["usage"]  # older Groq streams report usage only there
    native = _event_delta(chunk, summary) if typed else _native_message(chunk)
    if native:
        return [{"delta": native[0], "finish_reason": native[1]}]
    first = [c for c in chunk.get("choices") or [] if isinstance(c, Mapping) and c.get("index", 0) == 0]
    for choice in first:
        if isinstance(choice.get("usage"), Mapping) and choice["usage"]:  # Moonshot / Kimi
            summary["usage"] = choice["usage"]
    return first


def _joined(parts: dict[str, list[Any]]) -> dict[str, Any]:
    """A message from accumulated deltas: text joined, typed content parts and
    ``reasoning_details`` items listed in order."""
    message: dict[str, Any] = {}
    for name, values in parts.items():
        if not values:
            continue
        if name == "reasoning_details":
            message[name] = [{**v, "text": v.get("text")} if isinstance(v, Mapping) else v for v in values]
        elif all(isinstance(v, str) for v in values):
            message[name] = "".join(values)
        else:  # typed content parts arriving as lists
            flat: list[Any] = []
            for v in values:
                flat.extend(v if isinstance(v, list) else [v])
            message[name] = flat
    return message


#: Event types of Anthropic-compatible Messages streams.
ANTHROPIC_EVENTS = frozenset({
    "message_start", "content_block_start", "content_block_delta", "content_block_stop",
    "message_delta", "message_stop", "ping",
})


def _event_delta(chunk: Mapping[str, Any], summary: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``(delta, finish_reason)`` of a typed stream event, OpenAI Responses
    (``response.reasoning_text.delta``, ``response.output_text.delta``, ...) or
    Anthropic Messages (``content_block_start``, ``content_block_delta`` with
    ``thinking_delta`` / ``text_delta``, ``message_delta`` with ``stop_reason``);
    ``model`` and ``usage`` go into ``summary``.  Called for those two kinds only."""
    kind = chunk["type"]
    if kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
        return {"reasoning": chunk.get("delta")}, None
    if kind == "response.output_text.delta":
        return {"content": chunk.get("delta")}, None
    if kind == "response.created" and isinstance(chunk.get("response"), Mapping):
        summary.setdefault("model", chunk["response"].get("model"))
        return {}, None
    if kind == "message_start" and isinstance(chunk.get("message"), Mapping):
        summary.setdefault("model", chunk["message"].get("model"))
        summary["usage"] = {**(summary.get("usage") or {}), **(chunk["message"].get("usage") or {})}
        return {}, None
    if kind in ("content_block_start", "content_block_delta"):
        block = chunk.get("content_block") or chunk.get("delta") or {}
        if isinstance(block, Mapping) and block.get("type") in ("thinking", "thinking_delta"):
            return {"thinking": block.get("thinking")}, None
        if isinstance(block, Mapping) and block.get("type") in ("text", "text_delta"):
            return {"content": block.get("text")}, None
        return {}, None
    if kind == "message_delta":
        summary["usage"] = {**(summary.get("usage") or {}), **(chunk.get("usage") or {})}
        return {}, (chunk.get("delta") or {}).get("stop_reason")
    return {}, None  # other events of the two kinds carry no text
