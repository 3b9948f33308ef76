"""Reading reasoning traces out of OpenAI-compatible responses, from any backend.

Handles every shape in the reference table (DeepSeek, DashScope, vLLM, SGLang,
llama.cpp, Ollama ``/v1``, OpenRouter, OpenAI Chat Completions and Responses) and its
pitfalls: the reasoning field's name varies, reasoning left inline in ``content``
between ``<think>`` tags (with or without the opening tag; also Magistral's
``[THINK]``, ``<reasoning>``, ``<thought>`` and ``<thinking>`` tags, and gpt-oss
harmony channels), stray tags, truncation inside the thinking, thinking disabled,
interleaved stream deltas, ``None`` deltas, a usage-only final chunk with empty
``choices`` and unknown finish reasons.  Also read: the native bodies and streams of
Ollama, DashScope and LM Studio, Anthropic-compatible Messages bodies and events,
Responses API stream events, and streams given as text.
Sources of the shapes: ``tests/test_real_world_shapes.py``.

Modules: :mod:`.framing` (text and objects to dicts), one module per dialect
(:mod:`.chat`, :mod:`.responses`, :mod:`.anthropic`, :mod:`.native`) that turns a
body or a stream event into message parts, and :mod:`.accumulate`, which builds the
trace from them.  A body is read as one delta holding the whole message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..trace import BackendInfo, Trace
from . import anthropic, chat, native, responses
from .accumulate import (
    HARMONY_STARTS, MISTRAL_THINK_TAGS, NOT_FINISHED, OTHER_THINK_TAGS,
    TRUNCATING_FINISH_REASONS, Accumulator,
)
from .anthropic import ANTHROPIC_EVENTS
from .fields import REASONING_FIELDS
from .framing import as_dict, body_dict, chunk_dicts

__all__ = [
    "trace_from_openai", "trace_from_openai_stream", "stream_ended", "as_dict", "REASONING_FIELDS",
    "TRUNCATING_FINISH_REASONS", "NOT_FINISHED", "MISTRAL_THINK_TAGS", "OTHER_THINK_TAGS",
    "HARMONY_STARTS", "ANTHROPIC_EVENTS",
]

#: Who reads a whole body, tried in this order; the chat reader takes the rest
#: (and raises where there is no ``choices``).
BODY_READERS = (anthropic.read_message, native.read_body, responses.read_body, chat.read_body)
#: Who reads a stream chunk, tried in this order; the chat reader takes the rest.
CHUNK_READERS = (responses.read_event, responses.read_lmstudio_event, anthropic.read_event, anthropic.read_message,
                 native.read_body, chat.read_chunk)


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
    ``<think>`` tags (or, where they start the content, the :data:`OTHER_THINK_TAGS`)
    or gpt-oss harmony channels in ``content``; ``reasoning_source`` says which.  The
    first choice is used.  Native bodies of Ollama (``/api/chat``, ``/api/generate``),
    DashScope and LM Studio (``/api/v1/chat``) are read too.

    Raises:
        ValueError: ``response`` is not a chat completion (no ``choices``, no
            Responses API ``output``, no native message), is an error body (the
            message says its error), or is text that is not JSON.
    """
    data = body_dict(response)
    error = native.error_of(data)
    if error:
        raise ValueError(f"the response is an error, not a chat completion: {error}")
    acc = Accumulator(stream=False)
    any(read(data, acc) for read in BODY_READERS)
    return acc.trace(messages=messages, params=params, backend=backend, latency_s=latency_s)


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
    cut off), unless its last chunk reported usage and no text (it ended: see
    :func:`stream_ended`); one whose reasoning never closed (no answer) and that
    sent no finish reason is ``truncated`` too.  Native stream lines of
    Ollama (``message`` / ``response`` deltas, ``done``) and DashScope
    (``output.choices[].message`` with incremental output) are read as deltas, as are
    typed events of the OpenAI Responses API (a final ``response.completed`` object
    wins), of LM Studio's native stream (a final ``chat.end`` wins) and of
    Anthropic-compatible Messages endpoints; Groq's ``x_groq.usage`` counts when no
    ``usage`` is sent.  An ``error`` object sent mid-stream is kept in
    ``trace.extra["error"]`` (the trace is then truncated unless a finish reason
    came).  Chunks pasted as one JSON array of text are read as its items.

    Raises:
        ValueError: ``chunks`` holds something that is not a chunk, or a text line
            that is not JSON.
    """
    acc = Accumulator(stream=True)
    for chunk in chunk_dicts(chunks):
        any(read(chunk, acc) for read in CHUNK_READERS)
        if acc.closed:
            break
    return acc.trace(messages=messages, params=params, backend=backend, latency_s=latency_s)


def stream_ended(chunks: Iterable[Any] | str | bytes) -> bool:
    """Whether a stream's chunks end as a whole stream does: some chunk sent a finish
    reason, or the last chunk reported usage without adding text (Snowflake Cortex
    sends a usage chunk and ``[DONE]`` but never a finish reason).  ``False`` for a
    stream cut before its end.  ``chunks`` as in :func:`trace_from_openai_stream`.

    Raises:
        ValueError: as :func:`trace_from_openai_stream`.
    """
    acc = Accumulator(stream=True)
    for chunk in chunk_dicts(chunks):
        any(read(chunk, acc) for read in CHUNK_READERS)
        if acc.closed:
            break
    return acc.ended
