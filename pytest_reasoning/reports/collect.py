"""Where the test reports meet: the session's closing line and the report files.

:class:`ReportCollector` is registered by the plugin in every process; it keeps, from
each call-phase test report that carries reasoning data
(:func:`pytest_reasoning.report.reasoning_data`), one *entry*::

    {"nodeid", "outcome": "passed" | "failed" | "xfailed" | "xpassed" | "skipped",
     "message": one line (why it failed, xfailed or skipped), "duration": s, "data": {...}}

The plugin's hooks feed it (``plugin.py``).  Under pytest-xdist the controller
receives every worker's reports, so it alone writes the files (``--reasoning-report``, also appended to ``$GITHUB_STEP_SUMMARY``
when that is set; ``--reasoning-html``), at ``pytest_sessionfinish``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ReportCollector", "outcome_of", "message_of", "totals", "summary_line"]

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


class ReportCollector:
    """Keeps an entry per test with reasoning data, writes the report files, and
    says the session's closing line.

    Args:
        config: the pytest config.
        markdown: where ``--reasoning-report`` writes (``None``: not asked).
        html: where ``--reasoning-html`` writes (``None``: not asked).
    """

    def __init__(self, config: pytest.Config, markdown: str | None = None, html: str | None = None) -> None:
        self.config, self.markdown, self.html = config, markdown, html
        self.entries: list[dict[str, Any]] = []
        self.written: list[str] = []
        self.problems: list[str] = []

    def add(self, report: pytest.TestReport) -> None:
        """Keep an entry for ``report`` if it is a call-phase report with reasoning data."""
        from ..report import reasoning_data

        data = reasoning_data(report)
        if report.when == "call" and data is not None:
            self.entries.append({"nodeid": report.nodeid, "outcome": outcome_of(report),
                                 "message": message_of(report), "duration": round(report.duration, 3), "data": data})

    def write(self) -> None:
        """Write the report files asked for (not in a pytest-xdist worker: the
        controller does); a file that cannot be written is kept in :attr:`problems`."""
        if hasattr(self.config, "workerinput") or not (self.markdown or self.html):
            return
        if self.markdown:
            self._write_markdown(self._path(self.markdown))
        if self.html:
            try:
                from .html import render_html
                import jinja2  # noqa: F401
            except ImportError:
                self.problems.append("the HTML report needs Jinja2: pip install jinja2")
                return
            self._write(self._path(self.html), lambda: render_html(self.entries, self.title()))

    def lines(self) -> list[str]:
        """The closing terminal lines: :func:`summary_line` (none when no test made a
        reasoning call), then one per problem."""
        if not self.entries and not self.problems:
            return []
        return [summary_line(self.entries, self.written), *(f"pytest-reasoning: {p}" for p in self.problems)]

    def title(self) -> str:
        """The reports' title: the rootdir's name."""
        return f"Reasoning report: {self.config.rootpath.name}"

    def _path(self, given: str) -> Path:
        path = Path(given).expanduser()
        return path if path.is_absolute() else Path(self.config.invocation_params.dir) / path

    def _write_markdown(self, path: Path) -> None:
        from .markdown import render_markdown

        text = self._write(path, lambda: render_markdown(self.entries, self.title()))
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if text is not None and summary:
            try:
                with open(summary, "a", encoding="utf-8") as f:
                    f.write(text + "\n")
            except OSError as e:
                self.problems.append(f"could not append the report to $GITHUB_STEP_SUMMARY ({summary}): {e}")

    def _write(self, path: Path, render: Any) -> str | None:
        """Render and write one file atomically; a failure is kept as a problem line."""
        from ..files import atomic_write_text

        try:
            text = render()
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        except OSError as e:
            self.problems.append(f"could not write {path}: {e}; check the folder exists and is writable")
            return None
        shown = os.path.relpath(path, self.config.invocation_params.dir)
        self.written.append(str(path) if shown.startswith("..") else shown)
        return text
