"""What changed between two trace snapshots, said first in a few lines.

The summary is computed with ``deepdiff`` on the parts a reviewer cares about
(answer, detour/path/budget verdicts, finish reason, truncation, reasoning size and
hesitations); sentence counts come from ``difflib`` on the reasoning sentences.  The
line diff that follows it is syrupy's.

Two samples (:func:`diff_samples`) are compared statistically instead, as a sample
snapshot is (:mod:`pytest_reasoning.snapshots.sample_compare`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .snapshots.schema import TraceSnapshot, serialize_trace

__all__ = ["stable_view", "summarize", "summary_lines", "diff_traces", "diff_samples"]

#: A snapshot as :class:`~pytest_reasoning.snapshots.schema.TraceSnapshot` or as its
#: parsed JSON object.
Snapshot = TraceSnapshot | Mapping[str, Any]


def _typed(snapshot: Snapshot) -> TraceSnapshot:
    return snapshot if isinstance(snapshot, TraceSnapshot) else TraceSnapshot.from_dict(snapshot)


def stable_view(snapshot: Snapshot) -> dict[str, Any]:
    """The parts of a trace snapshot that tolerate re-wording
    (:meth:`TraceSnapshot.stable_view <pytest_reasoning.snapshots.schema.TraceSnapshot.stable_view>`):
    the answer (only where no answer check ran), the verdicts, finish reason and
    truncation.  Raises ``ValueError`` when ``snapshot`` is not shaped like one."""
    return _typed(snapshot).stable_view()


def _path(level: Any) -> str:
    return ".".join(str(p) for p in level.path(output_format="list")) or "(root)"


def _detour_name(level: Any) -> str | None:
    """The detour whose hit count ``level`` (a deepdiff tree level) compares, if any."""
    parts = level.path(output_format="list")
    return str(parts[2]) if len(parts) == 3 and parts[:2] == ["checks", "detours"] else None


def _short(value: Any, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


#: Characters of shared text kept on each side of where two texts differ.
CONTEXT_CHARS = 20
#: Changed sentences the summary shows (each way) before the line diff.
SHOWN_SENTENCES = 3


def _pair(old: Any, new: Any, width: int = 70) -> str:
    """``old -> new``; two texts are cut to where they differ (the shared beginning and
    end elided to :data:`CONTEXT_CHARS` of context), so a one-clause prompt edit shows
    the clause, not the shared start of both prompts."""
    if not (isinstance(old, str) and isinstance(new, str)):
        return f"{_short(old, width)} -> {_short(new, width)}"
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    a, b = max(0, start - CONTEXT_CHARS), end - min(end, CONTEXT_CHARS)

    def cut(text: str) -> str:
        piece = text[a : len(text) - b]
        return ("…" if a else "") + (piece if len(piece) <= width else piece[: width - 1] + "…") + ("…" if b else "")

    return f"{cut(old)!r} -> {cut(new)!r}"


def _cut(text: str, width: int = 100) -> str:
    """One line of at most ``width`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _changed_sentences(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """The sentences ``new`` adds and those it removes, in order (difflib)."""
    added, removed = [], []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += old[a0:a1]
        if tag in ("replace", "insert"):
            added += new[b0:b1]
    return added, removed


def summarize(old: Snapshot, new: Snapshot) -> list[str]:
    """Lines describing how snapshot ``new`` differs from ``old`` (typed, or parsed
    from the snapshot files), most important first; ``[]`` when the reviewed parts are
    equal and the reasoning sentences too.  Raises ``ValueError`` when either is not
    shaped like a trace snapshot."""
    from deepdiff import DeepDiff

    old, new = _typed(old), _typed(new)
    lines: list[str] = []
    diff = DeepDiff(old.review_view(), new.review_view(), view="tree", verbose_level=2)
    for kind in ("values_changed", "type_changes"):
        for level in diff.get(kind, []):
            name = _path(level)
            if name.startswith("messages"):
                lines.insert(0, f"prompt changed: {name}: {_pair(level.t1, level.t2)}")
            elif name == "answer":
                lines.insert(0, f"answer changed: {_pair(level.t1, level.t2)}")
            elif _detour_name(level) is not None and bool(level.t1) != bool(level.t2):
                detour = _detour_name(level)
                lines.insert(0, f"detour {detour!r} " + (
                    f"added ({level.t2} hits)" if level.t2 else f"removed (had {level.t1} hits)"))
            elif isinstance(level.t1, (int, float)) and isinstance(level.t2, (int, float)) and not isinstance(
                level.t1, bool
            ):
                lines.append(f"{name}: {level.t1} -> {level.t2} ({level.t2 - level.t1:+g})")
            else:
                lines.append(f"{name}: {_short(level.t1)} -> {_short(level.t2)}")
    for kind, word in (("dictionary_item_added", "added"), ("dictionary_item_removed", "removed"),
                       ("iterable_item_added", "added"), ("iterable_item_removed", "removed")):
        for level in diff.get(kind, []):
            value = level.t2 if word == "added" else level.t1
            if _path(level) == "checks.detours" and isinstance(value, Mapping):  # detours first checked or dropped
                at = sum(1 for line in lines if line.startswith(("prompt changed", "answer changed")))
                lines[at:at] = [f"detour {name!r} " + (f"{word} ({hits} hits)" if hits else f"check {word} (not taken)")
                                for name, hits in value.items()]
            else:
                lines.append(f"{_path(level)} {word}: {_short(value)}")
    old_s, new_s = old.reasoning, new.reasoning
    if old_s != new_s:  # right after the prompt, answer and detour lines: what a reviewer reads first
        added, removed = _changed_sentences(old_s, new_s)
        first = sum(1 for line in lines if line.startswith(("prompt changed", "answer changed", "detour ")))
        shown = [f"sentences changed: {len(added)} added, {len(removed)} removed (of {len(old_s)} -> {len(new_s)})"]
        shown += [f"  + {_cut(t)}" for t in added[:SHOWN_SENTENCES]]
        shown += [f"  - {_cut(t)}" for t in removed[:SHOWN_SENTENCES]]
        lines[first:first] = shown
    return lines


def summary_lines(old: Snapshot, new: Snapshot) -> list[str]:
    """The "What changed in the trace:" block shown first on a snapshot mismatch.
    Raises ``ValueError`` when either is not shaped like a trace snapshot."""
    old, new = _typed(old), _typed(new)
    changes = summarize(old, new)
    if not changes:  # nothing reviewed changed: name the fields that did (usage, params, ...)
        a, b = old.to_dict(), new.to_dict()
        fields = sorted(str(k) for k in {*a, *b} if a.get(k) != b.get(k))
        changes = [f"nothing a reviewer reads changed; these fields did: {', '.join(fields)}" if fields
                   else "(no change but the file's layout)"]
    return ["What changed in the trace:", *(f"  {line}" if line.startswith("  ") else f"  - {line}" for line in changes)]


def diff_traces(old: Any, new: Any) -> str:
    """What changed from trace ``old`` to trace ``new`` (two
    :class:`~pytest_reasoning.Trace` objects, e.g. a base model's and its fine-tune's):
    the summary block of a snapshot mismatch, then a unified diff of their snapshot
    texts (reasoning one sentence per line).  Verdicts already recorded on either
    trace (answer, detours, path, budget) are part of the comparison.

    Raises:
        TypeError: either is not a Trace.
    """
    __tracebackhide__ = True
    from .trace import Trace

    if not (isinstance(old, Trace) and isinstance(new, Trace)):
        raise TypeError("diff_traces(old, new) compares two Traces; for two TraceSamples use diff_samples, "
                        "or compare_samples for their rates")
    a, b = serialize_trace(old), serialize_trace(new)
    lines = summary_lines(TraceSnapshot.from_json(a), TraceSnapshot.from_json(b))
    lines += difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new", lineterm="", n=1)
    return "\n".join(lines)


def diff_samples(old: Any, new: Any) -> str:
    """What changed from sample ``old`` to sample ``new`` (two
    :class:`~pytest_reasoning.TraceSample` objects, with the verdicts their
    assertions recorded): the block a sample snapshot mismatch starts with (each
    rate by two-sided Fisher's exact test, each measure by two-sided Mann-Whitney U,
    Holm's correction across all of them at alpha 0.05; effect sizes with 95%
    intervals), then a unified diff of their sample snapshot texts.

    Raises:
        TypeError: either is not a TraceSample.
    """
    from .sample import TraceSample
    from .snapshots.sample_compare import sample_summary_lines
    from .snapshots.sample_schema import serialize_sample

    if not (isinstance(old, TraceSample) and isinstance(new, TraceSample)):
        raise TypeError("diff_samples(old, new) compares two TraceSamples; for two traces use diff_traces")
    a, b = serialize_sample(old), serialize_sample(new)
    lines = sample_summary_lines(a, b)
    lines += difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new", lineterm="", n=1)
    return "\n".join(lines)
