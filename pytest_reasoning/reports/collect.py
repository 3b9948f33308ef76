"""Where the test reports meet: the session's closing line and the report files.

:class:`ReportCollector` is registered by the plugin in every process; it keeps, from
each call-phase test report that carries reasoning data, one *entry* (:mod:`.entries`).

The plugin's hooks feed it (``plugin.py``).  Under pytest-xdist the controller
receives every worker's reports, so it alone writes the files (``--reasoning-report``, also appended to ``$GITHUB_STEP_SUMMARY``
when that is set; ``--reasoning-html``), at ``pytest_sessionfinish``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .entries import message_of, outcome_of, reasoning_data, summary_line, totals

__all__ = ["ReportCollector", "outcome_of", "message_of", "totals", "summary_line"]

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
