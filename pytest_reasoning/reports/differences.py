"""What differs between the columns of a comparison, and what is the same.

A row is ``{"what": str, "values": [str, ...] (one per column), "verdict": bool}``;
``verdict`` rows (outcome, answer verdicts, detours, path, budget, sample rates) are
what a reviewer decides on, so they lead; then the answer, prompt, model and sizes.  A prompt row also carries ``"diff"``: each
column's prompt against the first column's (:func:`prompt_diff`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

__all__ = ["differences", "trace_rows", "sample_rows", "pct", "rate_text", "prompt_diff"]


def prompt_diff(old: str, new: str) -> list[list[str]]:
    """``old`` against ``new`` as ``[[op, text], ...]`` with op ``"="``, ``"-"`` or
    ``"+"``: whole ASCII words, other characters one by one (Japanese and Chinese
    have no spaces)."""
    a, b = re.findall(r"[A-Za-z0-9]+|\s+|.", old, re.S), re.findall(r"[A-Za-z0-9]+|\s+|.", new, re.S)
    out: list[list[str]] = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        pieces = [("=", "".join(a[a0:a1]))] if op == "equal" else [("-", "".join(a[a0:a1])), ("+", "".join(b[b0:b1]))]
        out += [[o, t] for o, t in pieces if t]
    return out


def pct(value: Any) -> str:
    """A fraction as a percentage with one decimal (``0.0625`` -> ``"6.2%"``); ``"?"``
    for ``None``."""
    return "?" if value is None else f"{100 * float(value):.1f}%"


def rate_text(verdict: dict[str, Any]) -> str:
    """A sample verdict's rate as ``"4/64 = 6.2% [2.5%–15.0%]"``."""
    ci = verdict.get("interval") or {}
    return f"{verdict.get('count')}/{verdict.get('n')} = {pct(verdict.get('rate'))} [{pct(ci.get('low'))}–{pct(ci.get('high'))}]"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _verdict_value(group: str, value: Any) -> str:
    if group == "detours":
        return "not taken" if not value else f"taken ({value} hits)" if value != 1 else "taken (1 hit)"
    return "pass" if value is True else "FAIL" if value is False else _show(value)


def trace_rows(trace: dict[str, Any] | None) -> dict[str, tuple[str, bool]]:
    """``{row name: (value, is a verdict)}`` for one trace's facts, in order."""
    if trace is None:
        return {}
    rows: dict[str, tuple[str, bool]] = {}
    for group, entries in (trace.get("checks") or {}).items():
        for label, value in entries.items():
            rows[f"{group[:-1] if group == 'detours' else group}: {label}"] = (_verdict_value(group, value), True)
    rows.update({
        "answer": (" ".join(str(trace.get("answer") or "").split()), False),
        "prompt": (str(trace.get("prompt") or ""), False),
        "model": (_show(trace.get("model")), False),
        "backend": (_show(trace.get("backend")), False),
        "adapter": (_show(trace.get("adapter")), False),
        "reasoning characters": (_show(trace.get("reasoning_chars")), False),
        "reasoning sentences": (_show(trace.get("reasoning_sentences")), False),
        "reasoning tokens": (_show(trace.get("reasoning_tokens")), False),
        "hesitations": (_show(trace.get("hesitations")), False),
        "finish reason": (_show(trace.get("finish_reason")), False),
    })
    return rows


def sample_rows(sample: dict[str, Any] | None) -> dict[str, tuple[str, bool]]:
    """``{row name: (value, is a verdict)}`` for one sample's facts, in order."""
    if sample is None:
        return {}
    rows: dict[str, tuple[str, bool]] = {}
    for name, rate in (sample.get("detour_rates") or {}).items():
        rows[f"detour rate: {name}"] = (rate_text(rate), True)
    for v in sample.get("verdicts") or []:
        rows[f"{v.get('kind')}: {v.get('label')}"] = (f"{rate_text(v)} {'pass' if v.get('passed') else 'FAIL'}", True)
    for c in sample.get("comparisons") or []:
        rows[f"compared: {c.get('label') or 'rate'}"] = (str(c.get("line", "")), True)
    rows.update({
        "prompt": (str(sample.get("prompt") or ""), False),
        "model": (_show(sample.get("model")), False),
        "adapter": (_show(sample.get("adapter")), False),
        "samples": (_show(sample.get("n")), False),
    })
    return rows


def differences(columns: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(rows that differ, rows that are the same)`` across ``columns`` (each with a
    ``trace`` or a ``sample`` and its ``entry``): the test outcome first, then verdict
    rows, then the rest, each in the order the first column has them."""

    per_column = [
        {"outcome": (str(c["entry"].get("outcome")), True),
         **(sample_rows(c.get("sample")) if c.get("sample") and not c.get("trace") else trace_rows(c.get("trace")))}
        for c in columns
    ]
    names = list(dict.fromkeys(name for rows in per_column for name in rows))
    differs, same = [], []
    for name in names:
        values = [rows.get(name, ("—", False))[0] for rows in per_column]
        row = {"what": name, "values": values, "verdict": any(rows.get(name, ("", False))[1] for rows in per_column)}
        if name == "prompt" and len(set(values)) > 1:
            row["diff"] = [prompt_diff(values[0], v) for v in values]
        (differs if len(set(values)) > 1 else same).append(row)
    differs.sort(key=lambda r: not r["verdict"])
    return differs, same
