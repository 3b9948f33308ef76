"""With ``--reasoning-explain``: a test that failed on a detour gets the detour
explained (:mod:`pytest_reasoning.explain`) through its own model, replayable like any
sample; the top spans join the failure message, the whole explanation becomes a report
section ("reasoning explanation") and report data (``explanations``).  Called by the
``pytest_runtest_call`` hook in ``plugin.py``."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["explain_failure", "TOP_SPANS"]

#: Spans a failure message lists.
TOP_SPANS = 3


def _failing(item: pytest.Item, message: str) -> list[tuple[Any, str, int | None]]:
    """``(trace or sample, detour name, n)`` of the detour verdicts that failed and that
    ``message`` names, the latest first."""
    from .fixtures import SAMPLES, TRACES

    found: list[tuple[Any, str, int | None]] = []
    for sample in reversed(item.stash.get(SAMPLES, None) or []):
        found += [(sample, v.label, sample.n) for v in sample.checks.values() if v.kind == "detour" and not v.passed]
    for trace in reversed(item.stash.get(TRACES, None) or []):
        found += [(trace, v.label, None) for v in trace.checks if v.kind == "detour" and not v.passed]
    return [f for f in found if repr(f[1]) in message]


def explain_failure(item: pytest.Item, error: AssertionError) -> None:
    """With ``--reasoning-explain``: explain the detour a failed test took (the latest
    failed detour verdict that the failure names) through the test's own model,
    replayable like any sample, then add the top spans to the failure message and the
    whole explanation as a report section ("reasoning explanation").  A detour the
    test's module does not define at module level (or as a parameter) cannot be
    found again, and an explanation that cannot run (a missing recording) leaves a note
    instead; neither changes the test's outcome."""
    from .fixtures import ReasoningModel
    from .reports.traces import known_detours
    from .settings.table import resolve

    model = getattr(item, "funcargs", {}).get("reasoning_model")
    if not resolve(item.config, "explain", item) or not isinstance(model, ReasoningModel):
        return
    failing = _failing(item, str(error))
    if not failing:
        return
    target, name, n = failing[0]
    first = (list(target) if n is not None else [target])[0]
    detour = known_detours(item).get(name)
    adapter = (first.extra.get("adapter") or {}).get("path")
    if detour is None:
        lines = full = [f"not explained: the detour {name!r} is not defined at module level or as a parameter"]
    elif adapter != model.settings.get("adapter"):
        lines = full = [f"not explained: the failing trace came from adapter {adapter!r}, not the test's model; "
                        "call reasoning_model.using(adapter=...).explain(...) in the test"]
    else:
        lines, full = _explain_quietly(item, model, first, detour, n)
    item.add_report_section("call", "reasoning explanation", "\n".join(full))
    if error.args and isinstance(error.args[0], str):
        error.args = ("\n".join([error.args[0], *(f"  {line}" for line in lines)]), *error.args[1:])


def _explain_quietly(item: pytest.Item, model: Any, trace: Any, detour: Any,
                     n: int | None) -> tuple[list[str], list[str]]:
    """``(top lines, all lines)`` of the explanation of ``trace``'s prompt; an
    explanation that cannot run gives a note instead, and is not the test's call
    problem (the test failed on its detour, not on the explanation)."""
    from .fixtures import CALL_PROBLEM

    before = item.stash.get(CALL_PROBLEM, None)
    try:
        found = model.explain(trace.messages, detour, n, **trace.params)
        return found.lines(TOP_SPANS), found.lines()
    except pytest.fail.Exception as e:
        note = [f"not explained (its samples are recorded with --reasoning-explain too): {e}"]
        return note, note
    finally:
        if before is not None:
            item.stash[CALL_PROBLEM] = before
        elif CALL_PROBLEM in item.stash:
            del item.stash[CALL_PROBLEM]
