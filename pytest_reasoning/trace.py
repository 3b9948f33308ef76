"""The trace: what went into a reasoning model and what came out.

A :class:`Trace` is the one object every backend returns, every assertion reads,
every snapshot stores and every cassette replays.  It round-trips losslessly
through JSON (:meth:`Trace.to_dict` / :meth:`Trace.from_dict`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from .verdicts import Checks

__all__ = ["Trace", "Usage", "BackendInfo"]


@dataclass
class Usage:
    """Token counts as the backend reported them.

    Every field is an ``int`` number of tokens, or ``None`` where the backend did not
    say: nothing is ever estimated or invented.  ``reasoning_tokens`` is counted
    *inside* ``completion_tokens`` (OpenAI ``completion_tokens_details.reasoning_tokens``
    semantics), as every backend in the reference table does.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """Return the four counts as a plain dict (``None`` kept)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage:
        """Build from :meth:`to_dict` output; ``None`` gives an all-``None`` usage."""
        data = data or {}
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


@dataclass
class BackendInfo:
    """Which backend produced a trace: ``name`` (e.g. ``"deepseek"``, ``"transformers"``)
    and ``version`` (of the client library or engine, ``None`` when unknown)."""

    name: str = "unknown"
    version: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Return ``{"name": ..., "version": ...}``."""
        return {"name": self.name, "version": self.version}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | str | None) -> BackendInfo:
        """Build from :meth:`to_dict` output or a bare name."""
        if isinstance(data, str):
            return cls(name=data)
        data = data or {}
        return cls(name=data.get("name", "unknown"), version=data.get("version"))


@dataclass
class Trace:
    """One model call: the messages sent and the reasoning and answer that came back.

    Attributes:
        messages: the chat messages sent, ``[{"role": ..., "content": ...}, ...]``.
        reasoning: the reasoning (thinking) text, ``""`` when there is none.
        answer: the final answer text (``""`` when the model never got there).
        model: the model name as the backend reported it (the response's own
            ``model`` field for APIs; the path or hub id for local models).
        backend: :class:`BackendInfo` (name and version).
        params: the requested sampling and thinking settings (``temperature``,
            ``top_p``, ``top_k``, ``max_tokens``, ``seed``, ``thinking``, ...).
        usage: :class:`Usage`, token counts or ``None`` where unknown.
        finish_reason: any string the backend gave (``"stop"``, ``"length"``,
            ``"abort"``, ...), or ``None``.
        truncated: ``True`` when generation stopped on a token limit
            (``finish_reason == "length"``), also when that was inside the thinking.
        latency_s: wall-clock seconds of the call, ``None`` when unknown.
        reasoning_source: where the reasoning was found: a response field name
            (``"reasoning_content"``, ``"reasoning"``, ``"reasoning_details"``,
            ``"thinking"``), ``"<think> tags"`` for tags inline in the content
            (``"[THINK] tags"``, ``"<reasoning> tags"``, ... for other markup),
            ``"think token ids"`` for local models split on the ``</think>`` id, or
            ``None`` when there was no reasoning.
        extra: backend-specific facts worth keeping (llama.cpp ``timings``,
            LoRA adapter identity, effective parameters, ...), JSON-serialisable.
    """

    messages: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str = ""
    answer: str = ""
    model: str | None = None
    backend: BackendInfo = field(default_factory=BackendInfo)
    params: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    truncated: bool = False
    latency_s: float | None = None
    reasoning_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The verdicts the assertions recorded on this trace (answer, detours, path,
    #: budget: :class:`~pytest_reasoning.verdicts.Checks`); stored in snapshots,
    #: compared in the "stable" snapshot mode.
    checks: Checks = field(default_factory=Checks, compare=False, repr=False)
    #: Where this trace's snapshot lives (set by the fixture; named in failures).
    snapshot_path: str | None = field(default=None, compare=False, repr=False)

    # -- JSON ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict holding every field but ``checks`` and
        ``snapshot_path`` (which describe a test run, not the model call)."""
        return {
            "messages": self.messages,
            "reasoning": self.reasoning,
            "answer": self.answer,
            "model": self.model,
            "backend": self.backend.to_dict(),
            "params": self.params,
            "usage": self.usage.to_dict(),
            "finish_reason": self.finish_reason,
            "truncated": self.truncated,
            "latency_s": self.latency_s,
            "reasoning_source": self.reasoning_source,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: ``data`` is not a dict or has keys a trace does not have.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a trace must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"checks", "snapshot_path"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown trace field(s) {sorted(unknown)}; known: {sorted(known)}")
        kwargs = dict(data)
        kwargs["backend"] = BackendInfo.from_dict(data.get("backend"))
        kwargs["usage"] = Usage.from_dict(data.get("usage"))
        return cls(**kwargs)

    def to_json(self, **kwargs: Any) -> str:
        """Serialise to a UTF-8 JSON string (non-ASCII kept unescaped)."""
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str | bytes) -> Trace:
        """Inverse of :meth:`to_json`.  Raises ``ValueError`` on bad JSON or fields."""
        return cls.from_dict(json.loads(text))

    # -- reading without failing (text analysis lives in pytest_reasoning.text) --
    def detours(self, *detours: Any) -> dict[str, list[Any]]:
        """Return ``{detour name: [DetourHit, ...]}`` for each given
        :class:`~pytest_reasoning.Detour` found in the reasoning (empty lists kept).

        Reads only: never fails and records nothing (to keep the detour verdict in
        the snapshot, use :func:`~pytest_reasoning.check_detours`).
        """
        from .text.detours import find_detours

        return {d.name: find_detours(self.reasoning, d) for d in detours}

    def hesitations(self, markers: Any = None) -> int:
        """Count hesitation markers ("wait", "let me double-check", ちょっと待って,
        確認させて, ...) in the reasoning; ``markers`` replaces the default list."""
        from .text.detours import count_hesitations

        return count_hesitations(self.reasoning, markers)

    def sentences(self) -> list[str]:
        """The reasoning split into sentences (English and Japanese/Chinese
        terminators), as the snapshot shows them one per line."""
        from .text.sentences import split_sentences

        return split_sentences(self.reasoning)

    def off_path(self, path: Any = (), **options: Any) -> Any:
        """The reasoning's sentences that leave the question's path, and their share
        of the reasoning by characters (an
        :class:`~pytest_reasoning.text.offpath.OffPath`).  Anchored on the user
        messages, ``path``'s concepts (steps as for ``assert_reasoning_path``) and the
        answer; ``options``: ``answer=`` (texts or terms replacing the trace's answer),
        ``anchors=``, ``threshold=`` of :func:`~pytest_reasoning.text.offpath.off_path`.
        Reads only."""
        from .text.offpath import off_path

        answer = options.pop("answer", None)
        prompt = [str(m.get("content") or "") for m in self.messages if m.get("role") == "user"]
        answer = [self.answer] if answer is None else [answer] if isinstance(answer, str) else list(answer)
        return off_path(self.reasoning, prompt=prompt, path=path, answer=answer, **options)

    def answer_reached_at(self, terms: Any, count_tokens: Any = None) -> Any:
        """Where the final answer (``terms``: it, or a list of alternatives) first
        appears in the reasoning: an
        :class:`~pytest_reasoning.text.offpath.AnswerPosition` (sentence index,
        fraction of the characters and, with ``count_tokens``, of the tokens; its
        ``after`` is the share spent after it), or ``None`` when the reasoning never
        names it.  Reads only."""
        from .text.offpath import answer_reached_at

        return answer_reached_at(self.reasoning, terms, count_tokens=count_tokens)
