"""The Markdown report: what a reviewer reads in the pull request.

In this order: the session's outcome and model calls; each changed snapshot (what
changed first, then the changed sentences); each side-by-side comparison (what
differs first); every test (verdict, answer, detours, path, reasoning size,
hesitations); every sample (rates with their intervals, comparisons); every prompt
explained (each span marked by its effect on the detour rate).  Long parts are
folded into ``<details>``.  The whole must fit a pull request comment
(:data:`LIMIT` characters): blocks are kept in order until the next does not fit; a
table is cut between rows; then a note says what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LIMIT", "FOLD_LINES", "Block", "render_markdown", "fit", "shade"]

#: A GitHub comment holds 65,536 characters; the rest is room for the comment's marker.
LIMIT = 65_000
#: Parts longer than this many lines are folded into ``<details>``.
FOLD_LINES = 12
#: Characters of an answer a table cell shows.
CELL_CHARS = 120
ICONS = {"passed": "✅", "failed": "❌", "xfailed": "⚠️", "xpassed": "❗", "skipped": "⏭️"}


@dataclass
class Block:
    """A piece of the report: ``head`` lines, then ``rows`` that may be cut between
    (table rows, diff lines), then ``tail`` lines closing what ``head`` opened."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def text(self, rows: int | None = None) -> str:
        """The block with its first ``rows`` rows (all by default), ending in a blank line."""
        kept = self.rows if rows is None else self.rows[:rows]
        return "\n".join([*self.head, *kept, *self.tail]) + "\n\n"


def fit(blocks: list[Block], limit: int = LIMIT) -> str:
    """The blocks in order, as many as fit in ``limit`` characters; the block that
    does not fit keeps the rows that do, and a note says how much was left out."""
    note = ("> ✂️ **Cut to fit a pull request comment**: {left} more characters ({blocks} parts) are in the "
            "full report (the `--reasoning-report` file and the HTML report).\n")
    out, budget = [], limit - len(note) - 40
    for k, block in enumerate(blocks):
        text = block.text()
        if len(text) <= budget:
            out.append(text)
            budget -= len(text)
            continue
        rows = len(block.rows)
        while rows > 0 and len(block.text(rows)) > budget:
            rows -= 1
        if rows > 0:
            out.append(block.text(rows))
        left = sum(len(b.text()) for b in blocks[k:]) - (len(block.text(rows)) if rows else 0)
        out.append(note.format(left=f"{left:,}", blocks=len(blocks) - k))
        break
    return "".join(out).rstrip("\n") + "\n"


def cell(text: Any, limit: int = CELL_CHARS) -> str:
    """``text`` as one table cell: one line, ``|`` escaped, cut to ``limit``."""
    flat = " ".join(str(text if text is not None else "—").split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _folded(summary: str, lines: list[str], fence: str = "") -> Block:
    """``lines`` under ``<details>`` when longer than :data:`FOLD_LINES`, in a code
    fence of language ``fence`` when given."""
    head, tail = ([f"```{fence}"], ["```"]) if fence else ([], [])
    if len(lines) > FOLD_LINES:
        return Block([f"<details><summary>{summary}</summary>", "", *head], lines, [*tail, "", "</details>"])
    return Block([f"{summary}:", *head] if summary else head, lines, tail)


def _header(entries: list[dict[str, Any]], title: str) -> Block:
    from .entries import totals

    t = totals(entries)
    outcomes = " · ".join(f"{ICONS.get(k, '')} {n} {k}" for k, n in t["outcomes"].items())
    tokens = "tokens not reported" if t["tokens"] is None else f"{t['tokens']:,} tokens"
    return Block([f"## {title}", "",
                  f"**{outcomes or 'no reasoning tests'}** — {t['traces']} traces ({t['live']} live, "
                  f"{t['replayed']} replayed, {t['recorded']} recorded), {tokens}, "
                  f"{t['seconds']:.1f} s in live model calls"])


def _changes(entries: list[dict[str, Any]]) -> list[Block]:
    found = [(e, c) for e in entries for c in e["data"].get("snapshot_changes") or [] if c["status"] != "new"]
    new = [(e, c) for e in entries for c in e["data"].get("snapshot_changes") or [] if c["status"] == "new"]
    if not found and not new:
        return []
    blocks = [Block([f"### Changed snapshots ({len(found)})"])]
    for entry, change in found:
        blocks.append(Block([f"**`{entry['nodeid']}`** — `{change['snapshot']}` ({change['status']})", "```text"],
                            list(change["summary"]) or ["(no summary)"], ["```"]))
        diff = [f"- {s}" for _, s in change["removed"]] + [f"+ {s}" for _, s in change["added"]]
        if change.get("more"):
            diff.append(f"… {change['more']} more changed sentences")
        if diff:
            summary = f"Changed sentences: {len(change['added'])} added, {len(change['removed'])} removed"
            blocks.append(_folded(summary, diff, "diff"))
    if new:
        blocks.append(Block(["New snapshots:"], [f"- `{c['snapshot']}` (`{e['nodeid']}`)" for e, c in new]))
    return blocks


def _comparison_table(comparison: dict[str, Any]) -> list[Block]:
    from .differences import prompt_diff

    labels = [cell(c["label"], 40) for c in comparison["columns"]]
    head = ["| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    rows = []
    for row in comparison["differs"]:
        values = row["values"]
        if row["what"] == "prompt":
            values = [values[0]] + [_marked(prompt_diff(values[0], v)) for v in values[1:]]
        name = f"**{cell(row['what'], 60)}**" if row["verdict"] else cell(row["what"], 60)
        rows.append(f"| {name} | " + " | ".join(cell(v, 200 if row['what'] == 'prompt' else CELL_CHARS) for v in values) + " |")
    blocks = [Block(head, rows)]
    if comparison["same"]:
        same = [f"| {cell(r['what'], 60)} | {cell(r['values'][0])} |" for r in comparison["same"]]
        blocks.append(Block([f"<details><summary>Same in all ({len(same)})</summary>", "", "| | all |", "|---|---|"],
                            same, ["", "</details>"]))
    return blocks


def _marked(diff: list[list[str]]) -> str:
    """A prompt with what was added in bold and what was removed struck through."""
    return "".join(t if op == "=" else f"**{t.strip()}**" if op == "+" else f"~~{t.strip()}~~" for op, t in diff if t.strip() or op == "=")


def _comparisons(entries: list[dict[str, Any]]) -> list[Block]:
    from .groups import comparisons

    found = comparisons(entries)
    if not found:
        return []
    blocks = [Block([f"### Side by side ({len(found)})"])]
    for c in found:
        fixed = ", ".join(f"{k}={v}" for k, v in c["fixed"].items())
        labels = " vs ".join(str(col["label"]) for col in c["columns"])
        where = f"{c['axis']}: {labels}" + (f" ({fixed})" if fixed else "")
        blocks.append(Block([f"#### `{c['title']}` — {cell(where, 200)}"]))
        blocks += _comparison_table(c)
    return blocks


def _trace_cells(trace: dict[str, Any]) -> tuple[str, str, str, str]:
    checks = trace.get("checks") or {}
    detours = ", ".join(f"{n}: {h or '—'}" for n, h in (checks.get("detours") or {}).items()) or "—"
    paths = checks.get("path") or {}
    path = "✅" if paths and all(paths.values()) else "❌" if paths else "—"
    tokens = f", {trace['reasoning_tokens']} tokens" if trace.get("reasoning_tokens") is not None else ""
    size = f"{trace.get('reasoning_chars')} chars, {trace.get('reasoning_sentences')} sentences{tokens}"
    return detours, path, size, str(trace.get("hesitations"))


def _tests(entries: list[dict[str, Any]]) -> list[Block]:
    rows = []
    for e in entries:
        verdict = f"{ICONS.get(e['outcome'], '')} {e['outcome']}" + (f": {cell(e['message'], 100)}" if e["message"] else "")
        traces = e["data"].get("traces") or []
        for k, t in enumerate(traces or [None]):
            name = f"`{cell(e['nodeid'], 100)}`" + (f" #{k + 1}" if len(traces) > 1 else "")
            if t is None:
                samples = len(e["data"].get("samples") or [])
                rows.append(f"| {name} | {verdict} | {f'{samples} samples' if samples else '—'} | | | | |")
                continue
            rows.append(f"| {name} | {verdict} | {cell(t.get('answer'))} | " + " | ".join(_trace_cells(t)) + " |")
    head = ["| test | verdict | answer | detours | path | reasoning | hesitations |", "|---|---|---|---|---|---|---|"]
    if len(rows) > FOLD_LINES:
        return [Block([f"### Tests ({len(entries)})", "", f"<details><summary>All {len(rows)} rows</summary>", "", *head],
                      rows, ["", "</details>"])]
    return [Block([f"### Tests ({len(entries)})", "", *head], rows)]


def _samples(entries: list[dict[str, Any]]) -> list[Block]:
    from .differences import rate_text

    blocks = []
    for e in entries:
        for s in e["data"].get("samples") or []:
            who = f"`{s.get('model')}`" + (f" + `{s['adapter']}`" if s.get("adapter") else "")
            head = [f"**`{e['nodeid']}`** — n={s.get('n')} {who}: {cell(s.get('prompt'), 160)}", "",
                    "| check | rate | decision |", "|---|---|---|"]
            rows = [f"| detour rate {cell(n)} | {rate_text(r)} | |" for n, r in (s.get("detour_rates") or {}).items()]
            for v in s.get("verdicts") or []:
                decision = ("pass" if v.get("passed") else "FAIL") + ("" if v.get("conclusive", True) else " (inconclusive)")
                rows.append(f"| {cell(v.get('kind'))} {cell(v.get('label'), 80)} | {rate_text(v)} | {decision} |")
            tail = [""] + [f"- compared: {cell(c.get('line'), 400)}" for c in s.get("comparisons") or []]
            blocks.append(Block(head, rows, tail if len(tail) > 1 else []))
    if blocks:
        blocks.insert(0, Block([f"### Samples ({len(blocks)}; rates with 95% Wilson intervals)"]))
    return blocks


def shade(difference: float | None) -> str:
    """A span's effect on the detour rate as one square, Markdown's stand-in for the
    HTML report's shading: 🟥 the rate drops by 50 points or more without the span,
    🟧 by 20, 🟨 by 5; ⬜ within 5 points either way; 🟦 it rises by more than 5
    (the span holds the detour back); ▫️ not left out on its own."""
    if difference is None:
        return "▫️"
    for edge, square in ((0.5, "🟥"), (0.2, "🟧"), (0.05, "🟨")):
        if difference >= edge:
            return square
    return "🟦" if difference < -0.05 else "⬜"


def _shade_of(span: dict[str, Any]) -> str:
    """A span's square: its effect when significant (Holm), ⬜ when not, ▫️ when it was
    not left out on its own."""
    if span["without"] is None:
        return shade(None)
    return shade(span["difference"] if span["significant"] else 0.0)


def _emphasis(span: dict[str, Any], text: str) -> str:
    """A span's text in bold when it is a cause, in italics when it is part of the question."""
    if not span["significant"] or not text.strip():
        return text
    return f"*{text}*" if span["changes_answer"] else f"**{text}**"


def _explanations(entries: list[dict[str, Any]]) -> list[Block]:
    from .differences import rate_text

    blocks = []
    for e in entries:
        for x in e["data"].get("explanations") or []:
            if x["nothing_to_explain"]:
                blocks.append(Block([f"**`{e['nodeid']}`** — nothing to explain: the `{cell(x['detour'])}` detour "
                                     f"was taken in 0 of {x['n']} samples of: {cell(x['prompt'], 300)}"]))
                continue
            spans = x["spans"]
            marked = "".join(seg["text"] if seg["span"] is None else
                             _shade_of(spans[seg["span"]]) + _emphasis(spans[seg["span"]], seg["text"])
                             for seg in x["segments"])
            head = [f"**`{e['nodeid']}`** — why the `{cell(x['detour'])}` detour: taken in {rate_text(x['baseline'])}, "
                    f"{x['n']} samples with each span left out", "", f"> {cell(marked, 1000)}", "",
                    "| span | with it | without it | difference (95% CI) | Holm p | |", "|---|---|---|---|---|---|"]
            rows = []
            for s in spans:
                role = ("**part of the question**" if s["changes_answer"] else "**cause**") if s["significant"] else ""
                if s["without"] is None:
                    rows.append(f"| {shade(None)} {cell(s['text'], 80)} | {rate_text(s['with'])} | not left out alone | | | |")
                    continue
                ci = s["interval"]
                rows.append(f"| {_shade_of(s)} {cell(s['text'], 80)} | {rate_text(s['with'])} | "
                            f"{rate_text(s['without'])} | {100 * s['difference']:+.0f} pp ({100 * ci['low']:+.0f} to "
                            f"{100 * ci['high']:+.0f}) | {s['adjusted_p']:.2g} | {role} |")
            blocks.append(Block(head, rows))
            if x.get("attribution_lines"):
                blocks.append(_folded("Token attribution", x["attribution_lines"], "text"))
    if blocks:
        blocks.insert(0, Block([f"### Explained detours ({len(blocks)})", "",
                                "Each span of the prompt left out in turn; 🟥 🟧 🟨 the detour follows the span "
                                "(the rate drops by 50 / 20 / 5 points without it), ⬜ no significant effect, "
                                "🟦 it holds the detour back; "
                                "**bold**: a cause, *italic*: part of the question (without it the right answer drops too), "
                                "each significant after Holm's correction."]))
    return blocks


def render_markdown(entries: list[dict[str, Any]], title: str = "Reasoning report", limit: int = LIMIT) -> str:
    """The Markdown report of ``entries`` (see :mod:`pytest_reasoning.reports.collect`),
    at most ``limit`` characters."""
    blocks = [_header(entries, title), *_changes(entries), *_comparisons(entries), *_tests(entries), *_samples(entries),
              *_explanations(entries)]
    return fit(blocks, limit)
