"""What changed between two trace snapshots, said first in a few lines.

The summary is computed with ``deepdiff`` on the parts a reviewer cares about
(answer, detour/path/budget verdicts, finish reason, truncation, reasoning size and
hesitations); sentence counts come from ``difflib`` on the reasoning sentences.  The
line diff that follows it is syrupy's.
"""

from __future__ import annotations

import difflib
from typing import Any

__all__ = ["stable_view", "summarize", "summary_lines", "diff_traces"]


def stable_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The parts of a serialised trace snapshot that tolerate re-wording: the answer
    (only where no answer check ran), the check verdicts, finish reason and truncation."""
    checks = dict(snapshot.get("checks") or {})
    if "detours" in checks:  # a sampled model may word a detour differently: found or not
        checks["detours"] = {k: bool(v) for k, v in checks["detours"].items()}
    view = {"checks": checks, "finish_reason": snapshot.get("finish_reason"), "truncated": snapshot.get("truncated")}
    if not checks.get("answer"):
        view["answer"] = " ".join(str(snapshot.get("answer", "")).split())
    return view


def _review_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    stats = snapshot.get("stats") or {}
    return {
        "messages": snapshot.get("messages"),
        "answer": snapshot.get("answer"),
        "finish_reason": snapshot.get("finish_reason"),
        "truncated": snapshot.get("truncated"),
        "model": snapshot.get("model"),
        "checks": snapshot.get("checks") or {},
        "reasoning characters": stats.get("reasoning_chars"),
        "reasoning sentences": stats.get("reasoning_sentences"),
        "hesitations": stats.get("hesitations"),
        "reasoning tokens": (snapshot.get("usage") or {}).get("reasoning_tokens"),
    }


def _path(level: Any) -> str:
    return ".".join(str(p) for p in level.path(output_format="list")) or "(root)"


def _short(value: Any, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines describing how snapshot ``new`` differs from ``old`` (both as serialised
    by the trace snapshot extension), most important first; ``[]`` when the reviewed
    parts are equal and the reasoning sentences too."""
    from deepdiff import DeepDiff

    lines: list[str] = []
    diff = DeepDiff(_review_view(old), _review_view(new), view="tree", verbose_level=2)
    for kind in ("values_changed", "type_changes"):
        for level in diff.get(kind, []):
            name = _path(level)
            if name.startswith("messages"):
                lines.insert(0, f"prompt changed: {name}: {_short(level.t1)} -> {_short(level.t2)}")
            elif name == "answer":
                lines.insert(0, f"answer changed: {_short(level.t1)} -> {_short(level.t2)}")
            elif name.startswith("checks.detours.") and bool(level.t1) != bool(level.t2):
                detour = name.split(".", 2)[2]
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
            lines.append(f"{_path(level)} {word}: {_short(value)}")
    old_s, new_s = old.get("reasoning") or [], new.get("reasoning") or []
    if old_s != new_s:
        added = removed = 0
        for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=old_s, b=new_s, autojunk=False).get_opcodes():
            if tag in ("replace", "delete"):
                removed += a1 - a0
            if tag in ("replace", "insert"):
                added += b1 - b0
        lines.append(f"sentences changed: {added} added, {removed} removed (of {len(old_s)} -> {len(new_s)})")
    return lines


def summary_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The "What changed in the trace:" block shown first on a snapshot mismatch."""
    changes = summarize(old, new)
    if not changes:  # nothing reviewed changed: name the fields that did (usage, params, ...)
        fields = sorted(str(k) for k in {*old, *new} if old.get(k) != new.get(k))
        changes = [f"only {', '.join(fields)} changed" if fields else "(no change but the file's layout)"]
    return ["What changed in the trace:", *(f"  - {line}" for line in changes)]


def diff_traces(old: Any, new: Any) -> str:
    """What changed from trace ``old`` to trace ``new`` (two
    :class:`~pytest_reasoning.Trace` objects, e.g. a base model's and its fine-tune's):
    the summary block of a snapshot mismatch, then a unified diff of their snapshot
    texts (reasoning one sentence per line).  Checks already run on either trace
    (detours, path, budget) are part of the comparison."""
    import json

    from .snapshots import serialize_trace

    a, b = serialize_trace(old), serialize_trace(new)
    lines = summary_lines(json.loads(a), json.loads(b))
    lines += difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new", lineterm="", n=1)
    return "\n".join(lines)
