"""The sample snapshot format (``assert sample == trace_snapshot``), written and read in
one place.

A sample snapshot is one UTF-8 JSON object, 2-space indent, non-ASCII unescaped, with
these keys in this order::

    n            the number of traces in the sample
    checks       the sample's verdicts, grouped like a trace's checks:
                 {"answer": {label: verdict}, "detours": {name: verdict}, "path": {...},
                  "budget": {...}}, each verdict SampleVerdict.to_json(): count, n,
                 rate, interval {low, high, confidence, method}, passed, conclusive,
                 min_rate, max_rate, samples_needed, reason
    measures     {name: {n, mean, median, p90 (each {value, interval}), note}} for each
                 measure known in some trace (TraceSample.measures(): bootstrap
                 intervals, 9999 resamples, seed 0)
    structure    {"valid", "empty reasoning", "missing answer", "truncated": count}
    traces       [each trace in the trace snapshot form of
                 pytest_reasoning.snapshots.schema, reasoning one sentence per line,
                 with the verdicts the assertions recorded on that trace]

The same sample always gives the same bytes (fixed key order, fixed bootstrap seed,
numbers to 6 significant digits).  Secret-shaped strings are redacted on writing.
:func:`serialize_sample` writes it; :class:`SampleSnapshot` is the typed reader that
the statistical comparison (:mod:`pytest_reasoning.snapshots.sample_compare`) uses.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..redaction import redact
from ..verdicts import GROUPS, Checks
from .schema import TraceSnapshot

__all__ = ["SAMPLE_KEYS", "StoredSampleVerdict", "SampleSnapshot", "serialize_sample", "read_sample_snapshot",
           "is_sample_data"]

#: The sample snapshot's keys, in the order they are written.
SAMPLE_KEYS = ("n", "checks", "measures", "structure", "traces")
_KIND_OF_GROUP = {group: kind for kind, group in GROUPS.items()}


def is_sample_data(data: Any) -> bool:
    """True for parsed JSON shaped like a sample snapshot: an object with ``n`` and
    ``traces`` (a trace snapshot has neither)."""
    return isinstance(data, Mapping) and "traces" in data and "n" in data


def _whole(where: str, value: Any, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"sample snapshot {where} must be a whole number >= {least}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class StoredSampleVerdict:
    """One sample verdict as a sample snapshot stores it.

    Attributes:
        kind: ``"answer"``, ``"detour"``, ``"path"`` or ``"budget"``.
        label: what was checked (a detour's name, ``"contains 'Austin'"``, ...).
        count: the samples that passed (for a detour: that took it), ``0 <= count <= n``.
        n: the samples judged (>= 1).
        passed: the decision against the assertion's threshold.
        data: the stored JSON object as written (kept whole for writing back).
    """

    kind: str
    label: str
    count: int
    n: int
    passed: bool
    data: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, group: str, label: str, data: Any) -> StoredSampleVerdict:
        """Read ``checks[group][label]``.

        Raises:
            ValueError: unknown group, not an object, or a count/n that is not a whole
                number with ``0 <= count <= n`` and ``n >= 1``.
        """
        kind = _KIND_OF_GROUP.get(group)
        if kind is None:
            raise ValueError(f"unknown checks group {group!r} in a sample snapshot; known: {', '.join(GROUPS.values())}")
        where = f"checks.{group}.{label}"
        if not isinstance(data, Mapping):
            raise ValueError(f"sample snapshot {where} must be an object with count and n, got {data!r}")
        count, n = _whole(f"{where}.count", data.get("count")), _whole(f"{where}.n", data.get("n"), 1)
        if count > n:
            raise ValueError(f"sample snapshot {where} has count {count} > n {n}")
        return cls(kind, str(label), count, n, bool(data.get("passed")), dict(data))


@dataclass(frozen=True)
class SampleSnapshot:
    """One sample snapshot, typed.

    Attributes:
        n: the number of traces (equals ``len(traces)``).
        checks: the sample verdicts in stored order (:class:`StoredSampleVerdict`).
        measures: ``{measure name: its stored summary}`` (mean, median, p90 with
            bootstrap intervals; for reading, the comparison recomputes from ``traces``).
        structure: ``{structure: count}`` (:meth:`TraceSample.structure
            <pytest_reasoning.TraceSample.structure>`).
        traces: each trace's :class:`~pytest_reasoning.snapshots.schema.TraceSnapshot`.
    """

    n: int
    checks: tuple[StoredSampleVerdict, ...] = ()
    measures: dict[str, Any] = field(default_factory=dict)
    structure: dict[str, int] = field(default_factory=dict)
    traces: tuple[TraceSnapshot, ...] = ()

    @classmethod
    def from_sample(cls, sample: Any) -> SampleSnapshot:
        """What :func:`serialize_sample` stores for ``sample`` (a
        :class:`~pytest_reasoning.TraceSample`), before redaction.  Computes the
        measures' bootstrap intervals (scipy)."""
        grouped = Checks(sample.checks.values()).to_dict()
        checks = tuple(StoredSampleVerdict.from_json(group, label, value)
                       for group, entries in grouped.items() for label, value in entries.items())
        return cls(
            n=sample.n, checks=checks,
            measures={name: m.to_dict() for name, m in sample.measures().items()},
            structure=dict(sample.structure()),
            traces=tuple(TraceSnapshot.from_trace(t) for t in sample),
        )

    def checks_dict(self) -> dict[str, dict[str, Any]]:
        """The stored ``checks`` object: ``{group: {label: verdict JSON}}``."""
        out: dict[str, dict[str, Any]] = {}
        for verdict in self.checks:
            out.setdefault(GROUPS[verdict.kind], {})[verdict.label] = dict(verdict.data)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in :data:`SAMPLE_KEYS` order."""
        return {"n": self.n, "checks": self.checks_dict(), "measures": self.measures,
                "structure": self.structure, "traces": [t.to_dict() for t in self.traces]}

    def to_json(self) -> str:
        """The snapshot file's text: redacted JSON, 2-space indent, non-ASCII kept,
        ending in a newline."""
        return json.dumps(redact(self.to_dict()), ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SampleSnapshot:
        """Read a stored sample snapshot's JSON object.

        Raises:
            ValueError: not shaped like a sample snapshot (:func:`is_sample_data`), an
                ``n`` that is not the number of traces, a malformed verdict, or a trace
                that is not a trace snapshot object.
        """
        if not is_sample_data(data):
            raise ValueError("a sample snapshot is a JSON object with 'n' and 'traces'")
        traces, checks = data["traces"], data.get("checks") or {}
        measures, structure = data.get("measures") or {}, data.get("structure") or {}
        if not isinstance(traces, list) or not all(isinstance(t, Mapping) for t in traces):
            raise ValueError("sample snapshot 'traces' must be a list of trace snapshot objects")
        n = _whole("n", data["n"], 1)
        if n != len(traces):
            raise ValueError(f"sample snapshot 'n' is {n} but it holds {len(traces)} traces")
        if not all(isinstance(x, Mapping) for x in (checks, measures, structure)):
            raise ValueError("sample snapshot 'checks', 'measures' and 'structure' must be objects")
        unknown = [group for group in checks if group not in _KIND_OF_GROUP]
        if unknown:
            raise ValueError(f"unknown checks group {unknown[0]!r} in a sample snapshot; "
                             f"known: {', '.join(GROUPS.values())}")
        if not all(isinstance(entries, Mapping) for entries in checks.values()):
            raise ValueError("each group of a sample snapshot's 'checks' must be an object of verdicts")
        return cls(
            n=n,
            checks=tuple(StoredSampleVerdict.from_json(group, label, value)
                         for group, entries in checks.items() for label, value in entries.items()),
            measures=dict(measures), structure=dict(structure),
            traces=tuple(TraceSnapshot.from_dict(t) for t in traces),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> SampleSnapshot:
        """Read a sample snapshot file's text.  Raises ``ValueError`` on bad JSON or shape."""
        return cls.from_dict(json.loads(text))

    def verdict_keys(self) -> list[tuple[str, str]]:
        """Every ``(kind, label)`` recorded, on the sample or on any of its traces, in
        first-seen order (sample verdicts first)."""
        keys = {(v.kind, v.label): None for v in self.checks}
        for trace in self.traces:
            keys.update({(v.kind, v.label): None for v in trace.checks})
        return list(keys)

    def trace_verdicts(self) -> dict[tuple[str, str], list[bool]]:
        """Each per-trace verdict's outcome on every trace that recorded it, in trace
        order: ``True`` when it passed, or for a detour when it was *taken* (hits > 0),
        so a rate of them is the detour rate."""
        out: dict[tuple[str, str], list[bool]] = {}
        for trace in self.traces:
            for verdict in trace.checks:
                out.setdefault((verdict.kind, verdict.label), []).append(bool(verdict.stable_value()))
        return out

    def values(self, measure: str) -> list[float]:
        """The known values of one measure over the stored traces: ``"reasoning
        characters"``, ``"hesitations"``, ``"reasoning sentences"`` (from each trace's
        ``stats``) or ``"reasoning tokens"`` (``usage.reasoning_tokens``; unknown ones
        left out).

        Raises:
            KeyError: another measure name.
        """
        read = {
            "reasoning tokens": lambda t: t.usage.get("reasoning_tokens") if isinstance(t.usage, Mapping) else None,
            "reasoning characters": lambda t: t.stats.reasoning_chars,
            "hesitations": lambda t: t.stats.hesitations,
            "reasoning sentences": lambda t: t.stats.reasoning_sentences,
        }
        if measure not in read:
            raise KeyError(f"unknown measure {measure!r}; known: {', '.join(read)}")
        found = (read[measure](t) for t in self.traces)
        return [float(v) for v in found if isinstance(v, numbers.Real) and not isinstance(v, bool)]


def serialize_sample(sample: Any) -> str:
    """The snapshot text of ``sample`` (a :class:`~pytest_reasoning.TraceSample`;
    format in the module docstring)."""
    return SampleSnapshot.from_sample(sample).to_json()


def read_sample_snapshot(serialized: Any) -> SampleSnapshot | None:
    """The :class:`SampleSnapshot` in ``serialized`` (a snapshot file's text), or
    ``None`` when it is not one (not JSON, or without ``n`` and ``traces``).

    Raises:
        ValueError: it has ``n`` and ``traces`` but is malformed (the message says where).
    """
    if not isinstance(serialized, (str, bytes)):
        return None
    try:
        data = json.loads(serialized)
    except ValueError:
        return None
    return SampleSnapshot.from_dict(data) if is_sample_data(data) else None
