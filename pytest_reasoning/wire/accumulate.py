"""The one accumulator: message parts in (a whole body's message at once, or stream
deltas one by one), one :class:`~pytest_reasoning.Trace` out.

Every dialect module feeds an :class:`Accumulator` the same two things: the
envelope of each body or chunk (model, usage, timings, fingerprint, error) and the
message fields it carries.  Here, and only here, are the usage spellings read and
merged, the deltas joined, and reasoning, answer, ``reasoning_source``, finish
reason, truncation and ``extra`` decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..text.thinking import (
    THINK_CLOSE, THINK_OPEN, has_harmony_channels, has_think_tags, split_at_last, split_harmony, split_thinking,
    strip_tags,
)
from ..trace import BackendInfo, Trace, Usage
from .fields import REASONING_FIELDS, content_parts, error_of, field_text, first_choices

__all__ = [
    "Accumulator", "usage_from", "TRUNCATING_FINISH_REASONS", "NOT_FINISHED", "MISTRAL_THINK_TAGS", "OTHER_THINK_TAGS",
    "HARMONY_STARTS",
]

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
#: Thinking markup other than ``<think>`` that servers leave in ``content``, as
#: ``(open, close)``: Magistral's :data:`MISTRAL_THINK_TAGS`; ``<reasoning>`` (gpt-oss
#: on Amazon Bedrock's OpenAI-compatible endpoint, one block per streamed chunk);
#: ``<thought>`` (Gemini's OpenAI-compatible endpoint with ``include_thoughts``);
#: ``<thinking>`` (Claude-style and MiniMax output).  Read only where it starts the
#: content and no field gave the reasoning; a tag other than ``[THINK]`` also needs its
#: closing tag, unless the reply was cut (else it is a reply about the tag).
OTHER_THINK_TAGS = (MISTRAL_THINK_TAGS, ("<reasoning>", "</reasoning>"), ("<thought>", "</thought>"),
                    ("<thinking>", "</thinking>"))
#: How gpt-oss output in the harmony format starts when a server left it unparsed
#: (with its special tokens, or with them dropped by the detokenizer).
HARMONY_STARTS = ("<|channel|>", "<|start|>", "assistant<|channel|>", "analysis", "assistantfinal")

#: The message fields that are accumulated: the reasoning fields, then ``content``.
MESSAGE_FIELDS = (*REASONING_FIELDS, "content")
#: Envelope values kept in ``trace.extra``, in this order.
EXTRA_KEYS = ("timings", "system_fingerprint", "error")


def usage_from(raw: Any) -> Usage:
    """:class:`Usage` from a usage object in any spelling: Chat Completions
    (``prompt_tokens``, ``completion_tokens``,
    ``completion_tokens_details.reasoning_tokens``), Responses / DashScope /
    Anthropic (``input_tokens``, ``output_tokens``, ``output_tokens_details``),
    Ollama (``prompt_eval_count``, ``eval_count``), SGLang's top-level
    ``reasoning_tokens``, LM Studio's native ``stats`` (``total_output_tokens``,
    ``reasoning_output_tokens``); ``None`` wherever nothing is said (never estimated).
    Reasoning tokens are counted inside ``completion_tokens``: where a server counts
    them beside it (a total that adds all three, as Grok on Vertex AI reports; without a
    total, more reasoning than completion tokens), they are added to it."""
    if not isinstance(raw, Mapping):
        return Usage()

    def num(value: Any) -> int | None:
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    details = raw.get("completion_tokens_details") or raw.get("output_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    if reasoning is None:
        reasoning = raw.get("reasoning_tokens")
    if reasoning is None:
        reasoning = raw.get("reasoning_output_tokens")
    prompt = raw.get("prompt_tokens", raw.get("input_tokens", raw.get("prompt_eval_count")))
    completion = raw.get("completion_tokens",
                         raw.get("output_tokens", raw.get("eval_count", raw.get("total_output_tokens"))))
    usage = Usage(num(prompt), num(completion), num(reasoning), num(raw.get("total_tokens")))
    p, c, r, t = usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens
    if c is not None and r and (t == (p or 0) + c + r if t is not None else r > c):  # a total that says so wins
        usage.completion_tokens = c + r  # counted beside the completion (Grok on Vertex AI): put inside it
    return usage


def _usage_in(obj: Mapping[str, Any]) -> Any:
    """The usage object of a body, chunk or message, wherever its dialect puts it:
    Moonshot / Kimi's ``usage`` inside the first choice, else Groq's
    ``x_groq.usage`` where no ``usage`` is sent (older Groq streams), else
    ``usage``, else LM Studio's native ``stats``, else Ollama's top-level
    ``prompt_eval_count`` / ``eval_count``.
    ``None`` when there is none."""
    in_choice = next((c["usage"] for c in first_choices(obj) if isinstance(c.get("usage"), Mapping) and c["usage"]), None)
    if in_choice:
        return in_choice
    groq = obj.get("x_groq")
    groq_usage = groq.get("usage") if isinstance(groq, Mapping) else None
    if not obj.get("usage") and isinstance(groq_usage, Mapping):
        return groq_usage
    stats = obj.get("stats")  # LM Studio's native API
    if not obj.get("usage") and isinstance(stats, Mapping) and "input_tokens" in stats:
        return stats
    return obj.get("usage") or {k: obj[k] for k in ("prompt_eval_count", "eval_count") if k in obj} or None


def _joined(name: str, values: list[Any]) -> Any:
    """One message field from the values its deltas sent, in order: a value sent once
    is kept as sent (so a body's message comes through unchanged); several texts
    are joined; otherwise the values are listed, lists spliced in (typed content
    parts, ``reasoning_details`` items)."""
    if len(values) == 1:
        return values[0]
    if name != "reasoning_details" and all(isinstance(v, str) for v in values):
        return "".join(values)
    return [item for v in values for item in (v if isinstance(v, list) else [v])]


def _bare(text: str) -> str:
    """``text`` without think tags and whitespace: what it says."""
    return "".join(strip_tags(text).split())


def _says(text: str) -> bool:
    """Whether ``text`` holds anything but think tags and whitespace."""
    return bool(text.strip()) and (not has_think_tags(text) or bool(_bare(text)))


def _repeats(text: str, known: str) -> bool:
    """True when ``text`` says nothing ``known`` does not already say: equal once
    whitespace and think tags are set aside (a server that sends the reasoning both in
    its field and between tags in the content, as llama.cpp's ``deepseek-legacy``
    format does)."""
    return _bare(text) == _bare(known)


def _tagged_content(reasoning: str, content: str) -> tuple[str, str]:
    """``(reasoning, answer)`` of a ``content`` holding think tags, after a reasoning
    field gave ``reasoning`` (maybe ``""``).  No text is lost: the content's text
    before its last ``</think>`` (or, without one, from its first ``<think>`` on)
    continues the field's text, unless it only repeats it; the rest is the answer.
    Text continued without an opening tag joins the field's as sent (llama.cpp with
    ``--reasoning-budget`` ends the field mid-sentence and goes on in the content);
    a block with its own ``<think>`` becomes a paragraph of its own."""
    cut = split_at_last(content, THINK_CLOSE)
    if cut is not None:
        before, answer = cut
    else:
        open_at = content.find(THINK_OPEN)
        before, answer = content[open_at:], content[:open_at]
    if _says(reasoning) and _repeats(before, reasoning):
        before = ""
    return strip_tags(reasoning + before), strip_tags(answer)


def _reasoning_and_answer(message: Mapping[str, Any], cut: bool = False) -> tuple[str, str, str | None]:
    """``(reasoning, answer, source)`` of a whole message: the first reasoning field
    with text (the fields are one text in several spellings), thinking ``content``
    parts, and ``<think>`` tags in the content; else (where the content starts with
    it) Magistral's ``[THINK]`` markup, the other :data:`OTHER_THINK_TAGS` where
    closed (or where the reply was ``cut``: no finish reason, or a token limit), or
    gpt-oss harmony channels.  No text is lost:
    thinking parts and tagged text that do not repeat the field's text continue it
    (see :func:`_tagged_content`); tags left in the answer or in a field are dropped.
    The texts are not yet stripped; ``source`` is the first place that gave
    reasoning, ``None`` without reasoning."""
    reasoning, source = "", None
    for name in REASONING_FIELDS:
        text = field_text(message, name)
        if _says(text):
            reasoning, source = text, name
            break
    content, part_thinking = content_parts(message.get("content"))
    if _says(part_thinking) and not _repeats(part_thinking, reasoning):
        reasoning = f"{reasoning}\n\n{part_thinking}" if _says(reasoning) else part_thinking
        source = source or "content thinking parts"
    if has_think_tags(content):
        had = _says(reasoning)
        reasoning, content = _tagged_content(reasoning, content)
        if reasoning and not had:
            source = "<think> tags"
    # Markup a server left unparsed, read only where no field gave the reasoning and the
    # content starts with it (elsewhere it is prose about the markup):
    head = content.lstrip()
    tags = next((t for t in OTHER_THINK_TAGS if head.startswith(t[0])), None)
    # [THINK] is a special token; a tag in words is markup only where it is closed, or
    # where the reply was cut before it could be
    if not reasoning.strip() and tags and (tags == MISTRAL_THINK_TAGS or tags[1] in content or cut):
        end = content.rfind(tags[1])
        if end > 0:  # a block closed and reopened at once was cut by the stream, not by the model
            content = content[:end].replace(tags[1] + tags[0], "") + content[end:]
        reasoning, content = split_thinking(content, *tags)
        source = f"{tags[0]} tags"
    elif not reasoning.strip() and head.startswith(HARMONY_STARTS) and has_harmony_channels(content):  # gpt-oss
        reasoning, content = split_harmony(content)
        source = "harmony channels"
    if has_think_tags(reasoning):  # a field that kept its tags (also when content had some)
        reasoning = strip_tags(reasoning)
    return reasoning, content or "", source if reasoning.strip() else None


class Accumulator:
    """Builds one trace from a whole body or from a stream, piece by piece.

    Feed it, for each body or chunk, :meth:`envelope` and then :meth:`add` for each
    message part; :meth:`trace` builds the result.  A body is one envelope and one
    :meth:`add` holding the whole message, so bodies and streams share every rule.

    Attributes:
        stream: ``True`` while reading a stream: a stream that was cut (see
            :attr:`ended`) is ``truncated``; empty envelope values say nothing; an
            error is kept as its message (a body keeps its ``error`` as sent).
        closed: set by a reader that has seen the last chunk worth reading (the
            final object of a Responses stream); the caller stops there.
        source_names: ``reasoning_source`` renamed, ``{field: name}`` (Responses
            reasoning items arrive as the ``reasoning`` field).
    """

    def __init__(self, *, stream: bool) -> None:
        self.restart(stream=stream)

    def restart(self, *, stream: bool) -> None:
        """Forget everything read so far (a final object that holds the whole reply
        replaces the deltas before it)."""
        self.stream = stream
        self.closed = False
        self.source_names: dict[str, str] = {}
        self._chunks = 0
        self._values: dict[str, list[Any]] = {name: [] for name in MESSAGE_FIELDS}
        self._finish: Any = None
        self._envelope: dict[str, Any] = {}
        self._usage: Any = None
        self._usage_last = False  # the last chunk reported usage and no text

    @property
    def ended(self) -> bool:
        """Whether what was read ends as a whole response does: a finish reason came,
        or the last chunk reported usage without adding text (Snowflake Cortex streams
        a usage chunk and ``[DONE]`` but never a finish reason).  A stream that did
        not end was cut."""
        return self._finish is not None or self._usage_last

    def envelope(self, obj: Mapping[str, Any], *, adds: bool = False) -> None:
        """Read what a body, chunk or message object says around the message: its
        ``model`` (the first one named wins), ``timings`` and ``system_fingerprint``
        (the last wins), its error, and its usage (see :func:`_usage_in`), which
        replaces the usage so far or, with ``adds`` (Anthropic events), is merged
        into it key by key."""
        self._chunks += 1
        error = error_of(obj, alone=False) if self.stream else obj.get("error")
        for key, value in (("model", obj.get("model")), ("timings", obj.get("timings")),
                           ("system_fingerprint", obj.get("system_fingerprint")), ("error", error)):
            if value is None or (self.stream and not value) or (key == "model" and key in self._envelope):
                continue
            self._envelope[key] = value
        raw = _usage_in(obj)
        if raw and adds and isinstance(raw, Mapping):
            self._usage = {**(self._usage if isinstance(self._usage, Mapping) else {}), **raw}
        elif raw:
            self._usage = raw
        self._usage_last = bool(raw)

    def add(self, message: Mapping[str, Any], finish_reason: Any = None) -> None:
        """Add one message part: the :data:`MESSAGE_FIELDS` it sets (``None`` values are
        skipped) and its finish reason (the last one that is not
        :data:`NOT_FINISHED` wins)."""
        for name, values in self._values.items():
            value = message.get(name)
            if value is not None:
                values.append(value)
                self._usage_last = self._usage_last and value in ("", [])
        if finish_reason not in NOT_FINISHED:
            self._finish = finish_reason

    def message(self) -> dict[str, Any]:
        """The message accumulated so far, field by field (see :func:`_joined`)."""
        return {name: _joined(name, values) for name, values in self._values.items() if values}

    def trace(
        self,
        *,
        messages: list[dict[str, Any]] | None,
        params: dict[str, Any] | None,
        backend: BackendInfo | str | None,
        latency_s: float | None,
    ) -> Trace:
        """The :class:`Trace` of all that was read; ``messages``, ``params``,
        ``backend`` (default ``"openai-compatible"``) and ``latency_s`` are kept
        as given.

        ``truncated`` when the finish reason is one of
        :data:`TRUNCATING_FINISH_REASONS`, when a stream was cut (it did not
        :attr:`end <ended>`), and when no finish reason came and the reasoning never
        closed: reasoning but an empty or ``null`` content (an incomplete reply)."""
        message = self.message()
        finish = None if self._finish is None else str(self._finish)
        reasoning, answer, source = _reasoning_and_answer(
            message, cut=finish is None or finish.lower() in TRUNCATING_FINISH_REASONS)
        extra = {key: self._envelope[key] for key in EXTRA_KEYS if key in self._envelope}
        details = message.get("reasoning_details")
        if isinstance(details, list):
            encrypted = sum(1 for d in details if isinstance(d, Mapping) and d.get("type") == "reasoning.encrypted")
            if encrypted:
                extra["encrypted_reasoning_items"] = encrypted
        if not isinstance(backend, BackendInfo):
            backend = BackendInfo(backend or "openai-compatible")
        return Trace(
            messages=list(messages or []),
            reasoning=reasoning.strip(),
            answer=answer.strip(),
            model=self._envelope.get("model"),
            backend=backend,
            params=dict(params or {}),
            usage=usage_from(self._usage),
            finish_reason=finish,
            truncated=(finish is not None and finish.lower() in TRUNCATING_FINISH_REASONS)
            or (self._chunks > 0 and finish is None and (
                (self.stream and not self.ended) or bool(reasoning.strip() and not answer.strip()))),
            latency_s=latency_s,
            reasoning_source=self.source_names.get(source, source) if source else None,
            extra=extra,
        )
