"""The one home for what a test's results become: the data each test report carries,
and the consumers that read it (the terminal now; Markdown, HTML and JUnit read the
same data).

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

__all__ = [
    "REPORT_KEY", "test_data", "attach", "escape_xfail", "redact_report", "reasoning_data", "terminal_lines",
]

#: Where the data sits on a test report: ``report.__dict__[REPORT_KEY]``.
REPORT_KEY = "reasoning"
#: Characters of an answer a report keeps.
ANSWER_CHARS = 300


def _trace_data(trace: Any) -> dict[str, Any]:
    """A trace's key facts for reports: model, backend, answer (cut to
    :data:`ANSWER_CHARS`), verdicts, size, finish reason and snapshot file."""
    checks = trace.checks.to_dict() if hasattr(trace.checks, "to_dict") else dict(trace.checks)
    answer = trace.answer or ""
    return {
        "model": trace.model,
        "backend": trace.backend.name,
        "answer": answer if len(answer) <= ANSWER_CHARS else answer[: ANSWER_CHARS - 1] + "…",
        "checks": checks,
        "reasoning_chars": len(trace.reasoning or ""),
        "reasoning_tokens": trace.usage.reasoning_tokens,
        "finish_reason": trace.finish_reason,
        "truncated": trace.truncated,
        "snapshot": trace.snapshot_path,
    }


def test_data(item: pytest.Item) -> dict[str, Any] | None:
    """What a report carries for ``item``: ``{"traces": [...]}`` with each trace's key
    facts (:func:`_trace_data`), or ``None`` when the test made no model call."""
    from .fixtures import SAMPLES, TRACES

    traces = item.stash.get(TRACES, None)
    if not traces:
        return None
    data: dict[str, Any] = {"traces": [_trace_data(t) for t in traces]}
    samples = item.stash.get(SAMPLES, None)
    if samples:
        data["samples"] = [s.to_report() for s in samples]
    return data


test_data.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever its name


def attach(report: pytest.TestReport, item: pytest.Item, secrets: tuple[str, ...]) -> None:
    """Put :func:`test_data` on ``report`` (call phase only), redacted."""
    if report.when == "call":
        data = test_data(item)
        if data is not None:
            report.__dict__[REPORT_KEY] = redact(data, secrets)


def reasoning_data(report: Any) -> dict[str, Any] | None:
    """The data :func:`attach` put on ``report`` (also after pytest-xdist), or ``None``."""
    return getattr(report, "__dict__", {}).get(REPORT_KEY)


def terminal_lines(reports: list[Any]) -> list[str]:
    """The terminal's "reasoning samples" section: for each test that drew samples, each
    sample's rates (with intervals and n) and each comparison (difference with its
    interval, p-value), one line each."""
    lines: list[str] = []
    for report in reports:
        data = reasoning_data(report)
        if not data or not data.get("samples"):
            continue
        lines.append(report.nodeid)
        for sample in data["samples"]:
            who = f"{sample['model']}" + (f" + {sample['adapter']}" if sample.get("adapter") else "")
            prompt = sample["prompt"] if len(sample["prompt"]) <= 70 else "…" + sample["prompt"][-69:]
            lines.append(f"  n={sample['n']} {who}: {prompt!r}")
            lines += [f"    {v['kind']} {v['label']!r}: {v['line']}" for v in sample["verdicts"]]
            lines += [f"    compared: {c['line']}" for c in sample["comparisons"]]
    return lines


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
