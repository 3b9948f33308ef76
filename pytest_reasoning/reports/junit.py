"""Each test's key facts as ``--junitxml`` ``<property>`` entries.

pytest's junitxml writes the ``user_properties`` of a test's teardown report, which
come from ``item.user_properties``; :func:`pytest_reasoning.report.attach` adds these
there in the call phase, so they travel with the reports under pytest-xdist too.
Names start with ``reasoning.``; a test with more than one trace or sample numbers
them (``reasoning.trace2.answer``, ``reasoning.sample1.rate.detour sports``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PREFIX", "properties"]

#: The first part of every property name.
PREFIX = "reasoning"


def _trace(prefix: str, trace: dict[str, Any]) -> list[tuple[str, str]]:
    checks = trace.get("checks") or {}
    props = [(f"{prefix}.answer", str(trace.get("answer") or ""))]
    props += [(f"{prefix}.detour.{name}", str(hits)) for name, hits in (checks.get("detours") or {}).items()]
    props += [(f"{prefix}.path", f"{label}: {'pass' if ok else 'fail'}") for label, ok in (checks.get("path") or {}).items()]
    props += [(f"{prefix}.reasoning_tokens", "unknown" if trace.get("reasoning_tokens") is None else str(trace["reasoning_tokens"])),
              (f"{prefix}.reasoning_chars", str(trace.get("reasoning_chars"))),
              (f"{prefix}.hesitations", str(trace.get("hesitations")))]
    if trace.get("snapshot"):
        props.append((f"{prefix}.snapshot", str(trace["snapshot"])))
    return props


def _sample(prefix: str, sample: dict[str, Any]) -> list[tuple[str, str]]:
    from .differences import pct

    props = [(f"{prefix}.n", str(sample.get("n")))]
    for v in sample.get("verdicts") or []:
        ci = v.get("interval") or {}
        props.append((f"{prefix}.rate.{v.get('kind')} {v.get('label')}",
                      f"{pct(v.get('rate'))} [{pct(ci.get('low'))}, {pct(ci.get('high'))}] "
                      f"n={v.get('n')} {'pass' if v.get('passed') else 'fail'}"))
    props += [(f"{prefix}.comparison", str(c.get("line", "")).replace("\n", "; ")) for c in sample.get("comparisons") or []]
    return props


def properties(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(name, value), ...]`` for one test's report data: for each trace its answer,
    each detour's hit count, each path verdict, reasoning tokens (``unknown`` where
    the backend did not say), characters, hesitations and snapshot file; for each
    sample n, each rate with its interval and decision, each comparison; then the
    snapshots that changed."""
    traces, samples = data.get("traces") or [], data.get("samples") or []
    props: list[tuple[str, str]] = []
    for k, trace in enumerate(traces, 1):
        props += _trace(PREFIX if len(traces) == 1 else f"{PREFIX}.trace{k}", trace)
    for k, sample in enumerate(samples, 1):
        props += _sample(f"{PREFIX}.sample" if len(samples) == 1 else f"{PREFIX}.sample{k}", sample)
    props += [(f"{PREFIX}.snapshot_changed", f"{c['snapshot']} ({c['status']})") for c in data.get("snapshot_changes") or []]
    return props
