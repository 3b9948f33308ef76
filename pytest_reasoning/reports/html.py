"""The HTML report: one self-contained file (CSS, script and SVG inline; nothing is
fetched), rendered with Jinja2 from ``pytest_reasoning/templates/report.html.j2``.

It shows the same entries as the Markdown report (see
:mod:`pytest_reasoning.reports.collect`), with more room: traces side by side for
each comparison, the reasoning sentence by sentence with detour hits, path steps and
hesitations highlighted and the sentences a changed snapshot added marked (those it
removed shown struck through), and rates drawn as interval plots in SVG.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_html", "segments", "interval_plot", "PLOT_WIDTH"]

#: Width of an interval plot's scale, in pixels; labels take the room left of it.
PLOT_WIDTH = 300
_LABEL_WIDTH = 260
_ROW = 24


def segments(sentence: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """A sentence's text cut at its marks: ``[(text, kind or None, label), ...]``.
    A mark overlapping one before it is left out (the earlier one is shown)."""
    text, out, at = sentence["text"], [], 0
    for start, end, kind, label in sentence.get("marks") or []:
        if start < at or end > len(text):
            continue
        if start > at:
            out.append((text[at:start], None, ""))
        out.append((text[start:end], kind, label))
        at = end
    if at < len(text):
        out.append((text[at:], None, ""))
    return out


def _rate_row(label: str, rate: dict[str, Any], verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    ci = rate.get("interval") or {}
    verdict = verdict or {}
    return {"label": label, "rate": rate.get("rate"), "low": ci.get("low"), "high": ci.get("high"),
            "count": rate.get("count"), "n": rate.get("n"), "min_rate": verdict.get("min_rate"),
            "max_rate": verdict.get("max_rate"), "passed": verdict.get("passed")}


def sample_rates(sample: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """The rates of one sample's report data as plot rows: each known detour's rate,
    then each verdict's rate with its threshold and decision."""
    rows = [_rate_row(f"{prefix}detour rate: {name}", r) for name, r in (sample.get("detour_rates") or {}).items()]
    rows += [_rate_row(f"{prefix}{v.get('kind')}: {v.get('label')}", v, v) for v in sample.get("verdicts") or []]
    return rows


def interval_plot(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The geometry of an interval plot (pixels): one row per rate, a dot at the rate
    and a bar over its interval on a 0-100% scale, a dashed tick at a threshold;
    ``{"width", "height", "x0", "scale", "rows": [{..., "y", "x", "x_low", "x_high",
    "x_threshold"}], "ticks": [(x, label), ...]}``."""
    x0 = _LABEL_WIDTH

    def x(value: Any) -> float | None:
        return None if value is None else round(x0 + PLOT_WIDTH * min(1.0, max(0.0, float(value))), 1)

    placed = []
    for k, row in enumerate(rows):
        threshold = row.get("max_rate") if row.get("max_rate") is not None else row.get("min_rate")
        placed.append({**row, "y": 20 + k * _ROW, "x": x(row.get("rate")), "x_low": x(row.get("low")),
                       "x_high": x(row.get("high")), "x_threshold": x(threshold)})
    ticks = [(x(v), f"{int(v * 100)}%") for v in (0, 0.25, 0.5, 0.75, 1)]
    return {"width": x0 + PLOT_WIDTH + 20, "height": 30 + len(rows) * _ROW, "x0": x0, "scale": PLOT_WIDTH,
            "rows": placed, "ticks": ticks}


def _comparison_plot(comparison: dict[str, Any]) -> dict[str, Any] | None:
    """One plot of every column's rates, when the columns are samples."""
    rows = []
    for column in comparison["columns"]:
        if column.get("sample") and not column.get("trace"):
            rows += sample_rates(column["sample"], f"{column['label']} · ")
    rows.sort(key=lambda r: r["label"].split(" · ", 1)[-1])
    return interval_plot(rows) if rows else None


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_reasoning", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["segments"] = segments
    env.globals.update(interval_plot=interval_plot, sample_rates=sample_rates)
    return env


def render_html(entries: list[dict[str, Any]], title: str = "Reasoning report") -> str:
    """The HTML report of ``entries`` as one self-contained page."""
    from .entries import summary_line, totals
    from .groups import comparisons

    found = comparisons(entries)
    for comparison in found:
        comparison["plot"] = _comparison_plot(comparison)
    changes = [(e, c) for e in entries for c in e["data"].get("snapshot_changes") or [] if c["status"] != "new"]
    return _environment().get_template("report.html.j2").render(
        title=title, entries=entries, comparisons=found, changes=changes, totals=totals(entries),
        summary=summary_line(entries).removeprefix("reasoning: "),
    )
