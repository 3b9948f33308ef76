"""One test's report data as an *entry*, and the session's totals over the entries.

The data a test report carries sits at ``report.__dict__[REPORT_KEY]``
(:func:`pytest_reasoning.report.attach` puts it there); :func:`reasoning_data` reads it
back, also after pytest-xdist.  An entry (kept by :class:`.collect.ReportCollector`)::

    {"nodeid", "outcome": "passed" | "failed" | "xfailed" | "xpassed" | "skipped",
     "message": one line (why it failed, xfailed or skipped), "duration": s, "data": {...}}

:func:`totals` and :func:`summary_line` sum the model calls of the entries, for the
closing terminal line and the reports' headers.  Imports nothing of the plugin.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REPORT_KEY", "OUTCOMES", "reasoning_data", "outcome_of", "message_of", "totals", "summary_line"]

#: Where the data sits on a test report: ``report.__dict__[REPORT_KEY]``.
REPORT_KEY = "reasoning"


def reasoning_data(report: Any) -> dict[str, Any] | None:
    """The data :func:`~pytest_reasoning.report.attach` put on ``report`` (also after
    pytest-xdist), or ``None``."""
    return getattr(report, "__dict__", {}).get(REPORT_KEY)


#: The outcomes, in the order reports count them.
OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped")
#: Characters of a failure message an entry keeps.
MESSAGE_CHARS = 300


def outcome_of(report: Any) -> str:
    """``passed``, ``failed``, ``skipped``, or ``xfailed`` / ``xpassed`` for a test
    marked xfail."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return str(report.outcome)


def message_of(report: Any) -> str:
    """One line saying why a test failed (the first ``E`` line of its failure),
    xfailed (the xfail's reason) or was skipped (the reason); ``""`` when it passed."""
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail or "")[:MESSAGE_CHARS]
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[-1]).removeprefix("Skipped: ")[:MESSAGE_CHARS]
    if not report.failed:
        return ""
    lines = [line for line in str(report.longreprtext or "").splitlines() if line.strip()]
    first = next((line[1:].strip() for line in lines if line.startswith("E ")), lines[-1] if lines else "")
    return first[:MESSAGE_CHARS]


def totals(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The session's model calls, summed over ``entries``: ``traces`` (live plus
    replayed), ``live``, ``replayed``, ``recorded``, ``tokens`` (``None`` when no
    trace reported its usage), ``seconds`` in live calls, and the count of each
    outcome (``outcomes``, in :data:`OUTCOMES` order)."""
    out: dict[str, Any] = {"live": 0, "replayed": 0, "recorded": 0, "tokens": None, "seconds": 0.0, "outcomes": {}}
    for entry in entries:
        calls = entry["data"].get("calls") or {}
        for key in ("live", "replayed", "recorded", "seconds"):
            out[key] += calls.get(key) or 0
        if calls.get("tokens") is not None:
            out["tokens"] = (out["tokens"] or 0) + calls["tokens"]
        out["outcomes"][entry["outcome"]] = out["outcomes"].get(entry["outcome"], 0) + 1
    out["traces"] = out["live"] + out["replayed"]
    out["outcomes"] = {k: out["outcomes"][k] for k in OUTCOMES if k in out["outcomes"]}
    return out


def summary_line(entries: list[dict[str, Any]], written: list[str] = ()) -> str:  # type: ignore[assignment]
    """The session's closing line: traces run live, replayed and recorded, tokens,
    seconds in live model calls, and the report files written."""
    t = totals(entries)
    tokens = "tokens not reported" if t["tokens"] is None else f"{t['tokens']:,} tokens"
    line = (f"reasoning: {t['traces']} traces ({t['live']} live, {t['replayed']} replayed, {t['recorded']} recorded), "
            f"{tokens}, {t['seconds']:.1f} s in live model calls")
    return line + (f"; wrote {', '.join(written)}" if written else "")
