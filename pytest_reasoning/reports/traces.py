"""A trace as reports show it: its key facts, and its reasoning sentence by sentence
with what the assertions looked for marked in it.

Marks are found again with the matching the assertions use
(:mod:`pytest_reasoning.text.detours`):

* ``path``: each step of every path verdict (the verdict's label,
  ``"Dallas|ダラス -> Texas|テキサス -> Austin|オースティン"``, read back into steps),
  searched in order as :func:`~pytest_reasoning.assert_reasoning_path` does;
* ``detour``: the hits of each :class:`~pytest_reasoning.Detour` the test's module
  (module-level names, also inside lists, tuples and dicts) or the test's parameters
  hold, unless the trace's verdict of that name recorded another hit count; a detour
  defined elsewhere (inside the test function) shows its hit count unmarked;
* ``hesitation``: the default hesitation markers, overlapping ones merged.

All of it is JSON data, so it crosses pytest-xdist with the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["ANSWER_CHARS", "PROMPT_CHARS", "MAX_SENTENCES", "trace_facts", "known_detours", "sentence_marks"]

#: Characters of an answer a report keeps.
ANSWER_CHARS = 300
#: Characters of a prompt a report keeps.
PROMPT_CHARS = 2000
#: Sentences of one trace's reasoning a report keeps (the rest are counted).
MAX_SENTENCES = 400


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def known_detours(item: Any) -> dict[str, Any]:
    """The :class:`~pytest_reasoning.Detour` objects the test can see by name: the
    test module's module-level names (also one level inside lists, tuples and dicts)
    and the test's parameters.  ``{name: Detour}``; the first of a name wins."""
    from ..text.detours import Detour

    found: dict[str, Any] = {}

    def take(values: Iterable[Any], depth: int = 0) -> None:
        for value in values:
            if isinstance(value, Detour):
                found.setdefault(value.name, value)
            elif depth == 0 and isinstance(value, (list, tuple)):
                take(value, 1)
            elif depth == 0 and isinstance(value, dict):
                take(value.values(), 1)

    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        take(callspec.params.values())
    module = getattr(item, "module", None)
    if module is not None:
        take(list(vars(module).values()))
    return found


def _path_steps(label: str) -> list[list[str]]:
    """A path verdict's label read back into steps of alternatives."""
    return [step.split("|") for step in label.split(" -> ")]


def _path_hits(text: str, label: str) -> list[tuple[int, int, str]]:
    """``(start, end, step label)`` of each step of a path found in order, as
    :func:`~pytest_reasoning.assert_reasoning_path` searches (each step after the
    first occurrence of the one before); stops at the first missing step."""
    from ..text.detours import find_term

    position, found = 0, []
    for k, options in enumerate(_path_steps(label), 1):
        hits = [h for h in (find_term(text, o, position) for o in options) if h]
        if not hits:
            break
        hit = min(hits, key=lambda h: h.start)
        found.append((hit.start, hit.end, f"step {k}: {'|'.join(options)}"))
        position = hit.end
    return found


def _hesitation_hits(text: str) -> list[tuple[int, int, str]]:
    """Where the default hesitation markers stand, longest first where two overlap."""
    from ..text.detours import DEFAULT_HESITATION_MARKERS, Detour, find_detours

    hits = sorted(find_detours(text, Detour("hesitation", terms=DEFAULT_HESITATION_MARKERS)),
                  key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[tuple[int, int, str]] = []
    for h in hits:
        if not kept or h.start >= kept[-1][1]:
            kept.append((h.start, h.end, h.text))
    return kept


def _detour_hits(trace: Any, detours: dict[str, Any], cut: bool = False) -> list[tuple[int, int, str]]:
    """Where each known detour stands in the reasoning; one whose verdict on
    ``trace`` recorded another hit count (a Detour of the same name but other terms)
    is left unmarked, unless the reasoning was ``cut`` (then the counts cannot agree)."""
    from ..text.detours import find_detours

    found = []
    for name, detour in detours.items():
        verdict = trace.checks.get("detour", name)
        hits = find_detours(trace.reasoning or "", detour)
        if verdict is None or cut or verdict.hits == len(hits):
            found += [(h.start, h.end, name) for h in hits]
    return found


def sentence_marks(trace: Any, detours: dict[str, Any]) -> list[dict[str, Any]]:
    """The reasoning's sentences, each ``{"text": str, "marks": [[start, end, kind,
    label], ...]}`` with offsets in characters of the sentence, marks in text order;
    ``kind`` is ``"detour"``, ``"path"`` or ``"hesitation"``.  At most
    :data:`MAX_SENTENCES` sentences: only the text they cover is searched, so a
    megabyte of reasoning costs what its first sentences cost."""
    import bisect

    from ..text.sentences import sentence_spans

    full = trace.reasoning or ""
    spans = sentence_spans(full)[:MAX_SENTENCES]
    text = full[: spans[-1][1]] if spans else ""
    shown = _Shown(text, trace.checks)
    marks = [(a, b, "detour", name) for a, b, name in _detour_hits(shown, detours, cut=len(text) < len(full.rstrip()))]
    for verdict in trace.checks.of_kind("path"):
        marks += [(a, b, "path", label) for a, b, label in _path_hits(text, verdict.label)]
    marks += [(a, b, "hesitation", label) for a, b, label in _hesitation_hits(text)]
    out: list[dict[str, Any]] = [{"text": text[a:b], "marks": []} for a, b in spans]
    starts = [a for a, _ in spans]
    for start, end, kind, label in sorted(marks):
        k = bisect.bisect_right(starts, start) - 1
        if k >= 0 and end <= spans[k][1]:
            out[k]["marks"].append([start - spans[k][0], end - spans[k][0], kind, label])
    return out


class _Shown:
    """The part of a trace a report shows: its reasoning cut to the shown sentences,
    and its verdicts."""

    def __init__(self, reasoning: str, checks: Any) -> None:
        self.reasoning, self.checks = reasoning, checks


def _prompt(trace: Any) -> str:
    last = trace.messages[-1].get("content") if trace.messages else ""
    return _cut(str(last if isinstance(last, str) else last or ""), PROMPT_CHARS)


def trace_facts(trace: Any, detours: dict[str, Any] | None = None, *, sentences: bool = True) -> dict[str, Any]:
    """A trace's key facts for reports: model, backend, adapter, prompt (the last
    message, cut to :data:`PROMPT_CHARS`), answer (cut to :data:`ANSWER_CHARS`),
    verdicts (``checks``), reasoning size (characters, sentences, tokens or ``None``),
    hesitations, finish reason, truncation, latency in seconds, tokens in all, the
    snapshot file, and with ``sentences`` the marked sentences (:func:`sentence_marks`)."""
    checks = trace.checks.to_dict() if hasattr(trace.checks, "to_dict") else dict(trace.checks)
    all_sentences = trace.sentences()
    facts = {
        "model": trace.model,
        "backend": trace.backend.name,
        "adapter": (trace.extra.get("adapter") or {}).get("path") if isinstance(trace.extra.get("adapter"), dict) else None,
        "prompt": _prompt(trace),
        "params": trace.params,
        "answer": _cut(trace.answer or "", ANSWER_CHARS),
        "checks": checks,
        "reasoning_chars": len(trace.reasoning or ""),
        "reasoning_sentences": len(all_sentences),
        "reasoning_tokens": trace.usage.reasoning_tokens,
        "total_tokens": trace.usage.total_tokens,
        "hesitations": trace.hesitations(),
        "finish_reason": trace.finish_reason,
        "truncated": trace.truncated,
        "latency_s": trace.latency_s,
        "snapshot": trace.snapshot_path,
    }
    if sentences:
        facts["sentences"] = sentence_marks(trace, detours or {})
    return facts
