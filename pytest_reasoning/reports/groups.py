"""Side-by-side comparisons: what the reports put next to each other, and what differs.

Two kinds of comparison:

* a test parametrized over prompt variants, models or adapters: the tests of one
  function that differ in exactly one parameter (the *axis*) and agree on the others,
  side by side (the seed's ``plain`` vs ``precise`` prompt for each model, and each
  model for each prompt);
* a test that ran several traces or drew several samples that differ in prompt,
  model, backend or adapter (base vs fine-tune), side by side within that test.

Each comparison lists what differs first (outcome, answer, verdicts, prompt, model,
sizes), then what is the same.  Comparisons whose verdicts differ come first.
Parameter labels are the test ids of each parameter (``deepseek``, ``plain``),
computed where the test runs (:func:`param_labels`); the rest works on the JSON data
the reports carry.
"""

from __future__ import annotations

import itertools
from typing import Any

from .differences import differences, prompt_diff

__all__ = ["param_labels", "comparisons", "prompt_diff", "Column"]

#: One column of a comparison: ``{"label": str, "entry": entry, "trace": facts | None, "sample": facts | None}``.
Column = dict[str, Any]


def _splits(test_id: str, k: int) -> list[tuple[str, ...]]:
    """Every way to read ``test_id`` (parameter ids joined by ``-``) as ``k`` ids."""
    parts = test_id.split("-")
    if k <= 0 or len(parts) < k:
        return []
    out = []
    for cuts in itertools.combinations(range(1, len(parts)), k - 1):
        bounds = (0, *cuts, len(parts))
        out.append(tuple("-".join(parts[a:b]) for a, b in zip(bounds, bounds[1:])))
    return out


def _value_key(value: Any) -> str:
    return repr(value)[:500]


def param_labels(item: Any) -> dict[str, str]:
    """``{parameter name: its id in the test id}`` for a parametrized test (``{}``
    otherwise).  An id holding ``-`` is read consistently across the function's other
    tests (the same value of a parameter has the same id everywhere)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or not callspec.params:
        return {}
    names = list(callspec.params)
    candidates = _splits(callspec.id, len(names))
    if not candidates:
        return {name: _value_key(callspec.params[name])[:40] for name in names}
    if len(candidates) == 1:
        return dict(zip(names, candidates[0]))
    known: dict[tuple[str, str], str] = {}
    for other in getattr(item.session, "items", ()):
        spec = getattr(other, "callspec", None)
        if spec is None or getattr(other, "originalname", None) != item.originalname or list(spec.params) != names:
            continue
        unique = _splits(spec.id, len(names))
        if len(unique) == 1:
            known.update({(n, _value_key(spec.params[n])): i for n, i in zip(names, unique[0])})

    def agreement(split: tuple[str, ...]) -> int:
        return sum(known.get((n, _value_key(callspec.params[n]))) == i for n, i in zip(names, split))

    return dict(zip(names, max(candidates, key=agreement)))


def _who(facts: dict[str, Any]) -> tuple[Any, ...]:
    return facts.get("prompt"), facts.get("model"), facts.get("backend"), facts.get("adapter")


def _label_of(facts: dict[str, Any], others: list[dict[str, Any]], k: int) -> str:
    """A column label for trace or sample ``k`` of one test: what sets it apart."""
    if len({f.get("adapter") for f in others}) > 1:
        return f"+ {facts['adapter']}" if facts.get("adapter") else "base"
    if len({f.get("model") for f in others}) > 1:
        return str(facts.get("model"))
    return f"prompt {k + 1}"


def _within(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Comparisons inside one test: its traces, or its samples, that differ in
    prompt, model, backend or adapter."""
    data, found = entry["data"], []
    for key in ("traces", "samples"):
        items = data.get(key) or []
        if len(items) >= 2 and len({_who(f) for f in items}) > 1:
            columns = [{"label": _label_of(f, items, k), "entry": entry, key[:-1]: f} for k, f in enumerate(items)]
            found.append({"title": entry["nodeid"], "axis": "within the test", "fixed": {}, "columns": columns})
    return found


def _across(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Comparisons across the parametrized tests of one function."""
    found = []
    params = [e["data"].get("params") or {} for e in entries]
    names = list(params[0])
    for axis in names:
        if len({p.get(axis) for p in params}) < 2:
            continue
        rows: dict[tuple[Any, ...], list[int]] = {}
        for i, p in enumerate(params):
            rows.setdefault(tuple((n, p.get(n)) for n in names if n != axis), []).append(i)
        for fixed, members in rows.items():
            if len(members) < 2:
                continue
            columns = []
            for i in members:
                data = entries[i]["data"]
                columns.append({"label": params[i][axis], "entry": entries[i],
                                "trace": (data.get("traces") or [None])[0], "sample": (data.get("samples") or [None])[0]})
            data = entries[members[0]]["data"]
            title = f"{data.get('file')}::{data.get('function')}"
            found.append({"title": title, "axis": axis, "fixed": dict(fixed), "columns": columns})
    return found


def comparisons(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every comparison among ``entries`` (``{"nodeid", "outcome", "data", ...}``):
    ``{"title", "axis", "fixed": {param: id}, "columns": [Column, ...], "differs":
    [row, ...], "same": [row, ...]}`` with rows from
    :func:`~.differences.differences`; those whose verdicts differ first, each kind in
    the order the tests ran.  A comparison in which nothing differs is left out."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    found = []
    for entry in entries:
        data = entry.get("data") or {}
        if data.get("params"):
            groups.setdefault((data.get("file", ""), data.get("function", "")), []).append(entry)
        found += _within(entry)
    for members in groups.values():
        if len(members) >= 2:
            found += _across(members)
    for comparison in found:
        comparison["differs"], comparison["same"] = differences(comparison["columns"])
    found = [c for c in found if c["differs"]]  # nothing side by side differs: nothing to show
    order = {e["nodeid"]: k for k, e in enumerate(entries)}
    found.sort(key=lambda c: (not any(r["verdict"] for r in c["differs"]), order[c["columns"][0]["entry"]["nodeid"]]))
    return found
