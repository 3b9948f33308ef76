"""The trace snapshot format, written and read in one place.

A snapshot is one UTF-8 JSON object, 2-space indent, non-ASCII unescaped, with these
keys in this order::

    model, backend {name}, params, messages, reasoning [sentence, ...], answer,
    finish_reason, truncated, usage, reasoning_source,
    stats {reasoning_chars, reasoning_sentences, hesitations}, checks, extra

``checks`` is the JSON form of :class:`~pytest_reasoning.verdicts.Checks`.  Left out:
``latency_s``, per-call ``extra`` values (:data:`VOLATILE_EXTRA`) and the backend's
version (it follows the installed packages, not the prompt or the model; the trace
itself keeps it).  Secret-shaped strings are redacted on writing.

:func:`serialize_trace` writes it; :class:`TraceSnapshot` is the typed reader that the
mismatch summary (:mod:`pytest_reasoning.diff`) and the "stable" comparison use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..redaction import redact
from ..trace import Trace
from ..verdicts import Checks

__all__ = ["SNAPSHOT_KEYS", "VOLATILE_EXTRA", "SnapshotStats", "TraceSnapshot", "serialize_trace", "read_snapshot"]

#: The snapshot's keys, in the order they are written.
SNAPSHOT_KEYS = ("model", "backend", "params", "messages", "reasoning", "answer", "finish_reason", "truncated",
                 "usage", "reasoning_source", "stats", "checks", "extra")
#: ``trace.extra`` keys that change on every call, or with the machine rather than the
#: prompt or the model (the local decode path: compiled on a GPU, plain on the CPU), and so
#: stay out of snapshots.
VOLATILE_EXTRA = ("timings", "system_fingerprint", "decode_path")


@dataclass(frozen=True)
class SnapshotStats:
    """Size figures of the reasoning: characters, sentences and hesitation markers
    (counts; ``None`` where a stored snapshot lacks them)."""

    reasoning_chars: int | None = None
    reasoning_sentences: int | None = None
    hesitations: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """``{"reasoning_chars": ..., "reasoning_sentences": ..., "hesitations": ...}``."""
        return {"reasoning_chars": self.reasoning_chars, "reasoning_sentences": self.reasoning_sentences,
                "hesitations": self.hesitations}


@dataclass(frozen=True)
class TraceSnapshot:
    """One trace snapshot, typed.

    Attributes:
        model, params, messages, answer, finish_reason, truncated, usage,
        reasoning_source, extra: as in :class:`~pytest_reasoning.Trace` (``usage`` as
            its dict form; ``extra`` without :data:`VOLATILE_EXTRA`).
        backend: the backend's name (stored as ``{"name": ...}``).
        reasoning: the reasoning split into sentences.
        stats: :class:`SnapshotStats`.
        checks: the assertions' verdicts, :class:`~pytest_reasoning.verdicts.Checks`.
        other: keys of a stored snapshot that this format does not know (kept, so a
            comparison still sees them).
        missing: keys of :data:`SNAPSHOT_KEYS` a stored snapshot did not have (left
            out again by :meth:`to_dict`).
    """

    model: str | None = None
    backend: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[Any] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    answer: str | None = None
    finish_reason: str | None = None
    truncated: bool | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    reasoning_source: str | None = None
    stats: SnapshotStats = field(default_factory=SnapshotStats)
    checks: Checks = field(default_factory=Checks)
    extra: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    @classmethod
    def from_trace(cls, trace: Trace) -> TraceSnapshot:
        """What :func:`serialize_trace` stores for ``trace`` (before redaction)."""
        sentences = trace.sentences()
        return cls(
            model=trace.model, backend=trace.backend.name, params=trace.params, messages=trace.messages,
            reasoning=sentences, answer=trace.answer, finish_reason=trace.finish_reason, truncated=trace.truncated,
            usage=trace.usage.to_dict(), reasoning_source=trace.reasoning_source,
            stats=SnapshotStats(len(trace.reasoning), len(sentences), trace.hesitations()),
            checks=trace.checks, extra={k: v for k, v in trace.extra.items() if k not in VOLATILE_EXTRA},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in :data:`SNAPSHOT_KEYS` order (then :attr:`other`)."""
        values = {
            "model": self.model, "backend": {"name": self.backend}, "params": self.params,
            "messages": self.messages, "reasoning": self.reasoning, "answer": self.answer,
            "finish_reason": self.finish_reason, "truncated": self.truncated, "usage": self.usage,
            "reasoning_source": self.reasoning_source, "stats": self.stats.to_dict(),
            "checks": self.checks.to_dict(), "extra": self.extra,
        }
        return {**{k: values[k] for k in SNAPSHOT_KEYS if k not in self.missing}, **self.other}

    def to_json(self) -> str:
        """The snapshot file's text: redacted JSON, 2-space indent, non-ASCII kept,
        ending in a newline."""
        return json.dumps(redact(self.to_dict()), ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceSnapshot:
        """Read a stored snapshot's JSON object; absent keys take their defaults.

        Raises:
            ValueError: ``data`` is not an object, or its ``backend``, ``reasoning``,
                ``stats`` or ``checks`` has the wrong shape.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a trace snapshot is a JSON object, got {type(data).__name__}")
        backend, stats, reasoning = data.get("backend"), data.get("stats") or {}, data.get("reasoning") or []
        if backend is not None and not isinstance(backend, (Mapping, str)):
            raise ValueError(f"snapshot 'backend' must be {{\"name\": ...}}, got {backend!r}")
        if not isinstance(stats, Mapping) or not isinstance(reasoning, list):
            raise ValueError("snapshot 'stats' must be an object and 'reasoning' a list of sentences")
        return cls(
            model=data.get("model"),
            backend=backend.get("name") if isinstance(backend, Mapping) else backend,
            params=data.get("params") or {}, messages=data.get("messages") or [], reasoning=reasoning,
            answer=data.get("answer"), finish_reason=data.get("finish_reason"), truncated=data.get("truncated"),
            usage=data.get("usage") or {}, reasoning_source=data.get("reasoning_source"),
            stats=SnapshotStats(*(stats.get(k) for k in ("reasoning_chars", "reasoning_sentences", "hesitations"))),
            checks=Checks.from_dict(data.get("checks")), extra=data.get("extra") or {},
            other={k: v for k, v in data.items() if k not in SNAPSHOT_KEYS},
            missing=frozenset(k for k in SNAPSHOT_KEYS if k not in data),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> TraceSnapshot:
        """Read a snapshot file's text.  Raises ``ValueError`` on bad JSON or shape."""
        return cls.from_dict(json.loads(text))

    def stable_view(self) -> dict[str, Any]:
        """The parts that tolerate re-wording (the "stable" snapshot mode compares
        these): the verdicts (a detour as taken or not), finish reason, truncation,
        and the answer (whitespace-normalised) only where no answer check ran."""
        view: dict[str, Any] = {"checks": self.checks.stable_view(), "finish_reason": self.finish_reason,
                                "truncated": self.truncated}
        if not self.checks.of_kind("answer"):
            view["answer"] = " ".join(str(self.answer or "").split())
        return view

    def review_view(self) -> dict[str, Any]:
        """The parts a reviewer reads first, by the names the mismatch summary uses."""
        return {
            "messages": self.messages,
            "answer": self.answer,
            "finish_reason": self.finish_reason,
            "truncated": self.truncated,
            "model": self.model,
            "checks": self.checks.to_dict(),
            "reasoning characters": self.stats.reasoning_chars,
            "reasoning sentences": self.stats.reasoning_sentences,
            "hesitations": self.stats.hesitations,
            "reasoning tokens": self.usage.get("reasoning_tokens") if isinstance(self.usage, Mapping) else None,
        }


def serialize_trace(trace: Trace) -> str:
    """The snapshot text of ``trace`` (format in the module docstring)."""
    return TraceSnapshot.from_trace(trace).to_json()


def read_snapshot(serialized: Any) -> TraceSnapshot | None:
    """The :class:`TraceSnapshot` in ``serialized`` (a snapshot file's text), or
    ``None`` when it is not one (not JSON, or not shaped like a trace snapshot)."""
    try:
        return TraceSnapshot.from_json(str(serialized))
    except (TypeError, ValueError):
        return None
