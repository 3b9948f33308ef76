"""The one home for what a test's results become: the data each test report carries,
and the consumers that read it (the terminal here; Markdown, HTML and JUnit in
:mod:`pytest_reasoning.reports`, reading the same data).

One producer, many consumers (as Hypothesis does with its statistics): in
``pytest_runtest_makereport`` the plugin attaches :func:`test_data` to the report
(``report.__dict__["reasoning"]``, plain JSON data), so it crosses pytest-xdist to the
controller with the report, where every consumer reads it.  No consumer reads state of
its own.  The same hook keeps keys out of reports and keeps a failed model call from
passing as an expected failure.
"""

from __future__ import annotations

from typing import Any

import pytest

from .redaction import redact, redact_text
from .reports.entries import REPORT_KEY, reasoning_data

__all__ = [
    "REPORT_KEY", "test_data", "attach", "escape_xfail", "redact_report", "reasoning_data", "terminal_lines",
    "summary_line",
]

#: How many traces of each sample a report shows in full (the first, and the first
#: whose verdicts differ from it).
SAMPLE_EXAMPLES = 2


def _examples(sample: Any, detours: dict[str, Any]) -> list[dict[str, Any]]:
    """The traces of ``sample`` a report shows: the first, and the first whose
    verdicts differ from the first's (a detour taken where the first took none)."""
    from .reports.traces import trace_facts

    first = sample[0].checks.to_dict()
    other = next((t for t in sample if t.checks.to_dict() != first), None)
    return [trace_facts(t, detours) for t in [sample[0], other][:SAMPLE_EXAMPLES] if t is not None]


def _sample_data(sample: Any, detours: dict[str, Any]) -> dict[str, Any]:
    """A sample's report data (:meth:`~pytest_reasoning.TraceSample.to_report`), the
    rate of each detour the test knows (``detour_rates``: count, n, rate, Wilson
    interval) and the example traces."""
    rates = {name: sample.rate(detour).to_dict() for name, detour in detours.items()}
    return {**sample.to_report(), "detour_rates": rates, "examples": _examples(sample, detours)}


def _calls(item: pytest.Item, traces: int) -> dict[str, Any]:
    """The test's model calls: live, replayed (traces no live call made) and recorded,
    tokens in all (of the traces that report them; ``None`` if none does), seconds
    in live calls."""
    from .session import STATE

    state = item.config.stash.get(STATE, None)
    counts = dict((state.calls.get(item.nodeid) if state is not None else None) or {})
    live = int(counts.get("live", 0))
    return {"live": live, "replayed": max(0, traces - live), "recorded": int(counts.get("recorded", 0)),
            "seconds": round(float(counts.get("seconds", 0.0)), 3)}


def test_data(item: pytest.Item) -> dict[str, Any] | None:
    """What a report carries for ``item`` (``None`` for a test that neither uses
    ``reasoning_model`` nor made a trace), all JSON data:

    * ``traces``: each single trace's facts and marked sentences
      (:func:`~pytest_reasoning.reports.traces.trace_facts`; changed sentences marked);
    * ``samples``: each sample's rates, intervals, comparisons
      (:meth:`~pytest_reasoning.TraceSample.to_report`) and ``examples`` (traces);
    * ``explanations``: each ``reasoning_model.explain`` result
      (:meth:`~pytest_reasoning.explain.Explanation.to_report`: spans, their effects,
      the prompt cut into shaded ``segments``); its traces are not listed as traces;
    * ``snapshot_changes``: each snapshot that changed
      (:func:`~pytest_reasoning.reports.changes.snapshot_changes`);
    * ``file``, ``function``, ``params`` (``{name: test id}``): for grouping;
    * ``calls``: live, replayed, recorded, ``tokens``, ``seconds``.
    """
    from .explain import EXPLANATIONS
    from .fixtures import SAMPLES, TRACES
    from .reports.changes import mark_changed_sentences, snapshot_changes
    from .reports.groups import param_labels
    from .reports.traces import known_detours, trace_facts

    traces, samples = item.stash.get(TRACES, None) or [], item.stash.get(SAMPLES, None) or []
    if not traces and "reasoning_model" not in getattr(item, "fixturenames", ()):
        return None
    detours = known_detours(item)
    explanations = item.stash.get(EXPLANATIONS, None) or []
    sampled = {id(t) for s in samples for t in s} | {id(t) for e in explanations for t in e.traces}
    data: dict[str, Any] = {"traces": [trace_facts(t, detours) for t in traces if id(t) not in sampled]}
    if samples:
        data["samples"] = [_sample_data(s, detours) for s in samples]
    if explanations:
        data["explanations"] = [e.to_report() for e in explanations]
    changes = snapshot_changes(item)
    mark_changed_sentences(data["traces"], changes)
    if changes:
        data["snapshot_changes"] = changes
    tokens = [t.usage.total_tokens for t in traces if t.usage.total_tokens is not None]
    data.update(file=item.nodeid.split("::")[0], function=getattr(item, "originalname", item.name), params=param_labels(item),
                calls={**_calls(item, len(traces)), "tokens": sum(tokens) if tokens else None})
    return data


test_data.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever its name


def attach(report: pytest.TestReport, item: pytest.Item, secrets: tuple[str, ...]) -> None:
    """Put :func:`test_data` on ``report`` (call phase only), redacted, and its key
    facts in ``item.user_properties`` (so the teardown report, which ``--junitxml``
    reads, carries them, also across pytest-xdist)."""
    if report.when == "call":
        data = test_data(item)
        if data is not None:
            from .reports.junit import properties

            report.__dict__[REPORT_KEY] = data = redact(data, secrets)
            item.user_properties.extend(properties(data))
            report.user_properties = list(item.user_properties)


def terminal_lines(reports: list[Any]) -> list[str]:
    """The terminal's "reasoning samples" section: for each test that drew samples, each
    sample's rates (with intervals and n) and each comparison (difference with its
    interval, p-value), one line each; and each explanation's lines (every span's
    effect on the detour rate, then the token attribution)."""
    lines: list[str] = []
    for report in reports:
        data = reasoning_data(report)
        if not data or not (data.get("samples") or data.get("explanations")):
            continue
        lines.append(report.nodeid)
        for sample in data.get("samples") or []:
            who = f"{sample['model']}" + (f" + {sample['adapter']}" if sample.get("adapter") else "")
            prompt = sample["prompt"] if len(sample["prompt"]) <= 70 else "…" + sample["prompt"][-69:]
            lines.append(f"  n={sample['n']} {who}: {prompt!r}")
            lines += [f"    {v['kind']} {v['label']!r}: {v['line']}" for v in sample["verdicts"]]
            lines += [f"    compared: {c['line']}" for c in sample["comparisons"]]
        for explanation in data.get("explanations") or []:
            lines += [f"  {line}" for line in explanation["lines"]]
    return lines


def summary_line(entries: list[dict[str, Any]], written: list[str]) -> str:
    """The session's closing terminal line, from the collected entries
    (:func:`pytest_reasoning.reports.entries.summary_line`): traces run live, replayed
    and recorded, tokens, seconds in live model calls, the report files written."""
    from .reports.entries import summary_line as line

    return line(entries, written)


def escape_xfail(report: pytest.TestReport, item: pytest.Item) -> None:
    """A missing recording or a failed model call is not the failure an xfail expects:
    such a report is turned back into a failure, with the reason."""
    from .fixtures import CALL_PROBLEM

    problem = item.stash.get(CALL_PROBLEM, None)
    if report.when in ("setup", "call") and hasattr(report, "wasxfail") and problem:
        report.outcome = "failed"
        report.longrepr = f"{problem} (failed before the test could reach what its xfail expects)"
        del report.wasxfail


def redact_report(report: pytest.TestReport, secrets: tuple[str, ...]) -> None:
    """Keep keys out of what a report shows (terminal, ``--junitxml``): a failure's text
    and captured output holding a key in use or a key-shaped string are redacted."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redact_text(text, secrets) != text:
            report.longrepr = redact_text(text, secrets)
    report.sections = [(title, redact_text(content, secrets)) for title, content in report.sections]
