"""Assertions on a trace's answer and reasoning, and on a sample of traces.

Each ``assert_*`` takes a :class:`~pytest_reasoning.Trace`, or a
:class:`~pytest_reasoning.TraceSample` with ``min_rate=`` / ``max_rate=``: the
assertion then runs on every sample and the rate of passing samples (for
``assert_no_detour``: of samples taking the detour), with its Wilson interval, is held
against the threshold by :data:`SAMPLE_RULE`.  :func:`assert_rate_change` compares two
samples.

Each assertion raises ``AssertionError`` with a short message: what was expected, an
excerpt of what came, and the trace's snapshot file.  Each also records a typed
:class:`~pytest_reasoning.verdicts.Verdict` in ``trace.checks``, which snapshots keep
and the "stable" snapshot mode compares; :func:`check_detours` records the detour
verdict without failing.  Registered for pytest's assertion rewriting by the plugin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from .text.detours import Detour, DetourHit, find_term, hesitation_counts, normalize, normalize_pattern
from .trace import Trace
from .sample_assertions import SAMPLE_RULE, assert_rate_change  # noqa: F401  (public here too)
from .sample_assertions import sampled as _sampled
from .verdicts import Verdict

__all__ = [
    "assert_answer", "check_detours", "assert_no_detour", "assert_reasoning_path", "assert_reasoning_budget",
    "assert_rate_change", "SAMPLE_RULE",
]

EXCERPT_CHARS = 160
NO_REASONING = (
    "(none came back: is thinking on, and does the server separate it? vLLM/SGLang need "
    "--reasoning-parser, llama.cpp --reasoning-format)"
)


def _excerpt(text: str, start: int = 0, end: int | None = None, width: int = EXCERPT_CHARS) -> str:
    """``text`` around ``[start, end)``, at most about ``width`` characters, one line."""
    end = start if end is None else end
    pad = max(0, (width - (end - start)) // 2)
    a, b = max(0, start - pad), min(len(text), end + pad)
    piece = text[a:b].replace("\n", " ")
    return ("…" if a > 0 else "") + piece + ("…" if b < len(text) else "")


def _fail(trace: Trace, *lines: str) -> None:
    __tracebackhide__ = True
    where = f"snapshot: {trace.snapshot_path}" if trace.snapshot_path else None
    raise AssertionError("\n".join([*lines, *([where] if where else [])]))


def _options(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _answer_json(answer: str) -> Any:
    text = answer.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    return json.loads(fenced.group(1) if fenced else text)


def _text_checks(answer: str, equals: Any, contains: Any, norm: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """``(what was expected, why it failed)`` for ``equals`` (the stripped answer is one
    of the alternatives) and ``contains`` (it holds one), compared through ``norm``."""
    expected, failures = [], []
    if equals is not None:
        options = _options(equals)
        expected.append(f"equals {' | '.join(map(repr, options))}")
        if not any(norm(answer.strip()) == norm(str(o).strip()) for o in options):
            failures.append(f"answer does not equal {' or '.join(map(repr, options))}")
    if contains is not None:
        options = _options(contains)
        expected.append(f"contains {' | '.join(map(repr, options))}")
        if not any(norm(str(o)) in norm(answer) for o in options):
            failures.append(f"answer does not contain {' or '.join(map(repr, options))}")
    return expected, failures


def _regex_failures(answer: str, regex: str, normalize_text: bool) -> list[str]:
    """Why ``re.search`` does not find ``regex`` in ``answer`` (both normalised and
    case-insensitive with ``normalize_text``): one line, or none.

    Raises:
        ValueError: ``regex`` does not compile.
    """
    __tracebackhide__ = True
    flags = re.IGNORECASE if normalize_text else 0
    try:
        compiled = re.compile(normalize_pattern(regex) if normalize_text else regex, flags)
    except re.error as e:
        raise ValueError(f"assert_answer(regex={regex!r}) does not compile: {e}") from None
    found = compiled.search(normalize(answer) if normalize_text else answer)
    return [] if found else [f"answer does not match /{regex}/"]


def _schema_failures(answer: str, schema: dict[str, Any]) -> list[str]:
    """Why ``answer`` is not JSON valid against ``schema`` (``jsonschema``, the draft its
    ``$schema`` names): one line, or none.

    Raises:
        ValueError: ``schema`` is not a valid JSON Schema.
    """
    __tracebackhide__ = True
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ValueError(f"invalid JSON Schema given to assert_answer: {e.message}") from None
    try:
        error = jsonschema.exceptions.best_match(validator(schema).iter_errors(_answer_json(answer)))
    except json.JSONDecodeError as e:
        return [f"answer is not JSON ({e.msg} at char {e.pos})"]
    if error is None:
        return []
    path = "/".join(map(str, error.absolute_path)) or "(root)"
    return [f"answer JSON fails the schema at {path}: {error.message}"]


@_sampled("answer")
def assert_answer(
    trace: Trace,
    equals: str | Sequence[str] | None = None,
    *,
    contains: str | Sequence[str] | None = None,
    regex: str | None = None,
    schema: dict[str, Any] | None = None,
    predicate: Callable[[str], bool] | None = None,
    normalize_text: bool = True,
) -> None:
    """Assert the answer is right.

    Args:
        trace: the trace.
        equals: the whole answer (stripped) equals this, or one of these
            alternatives (a list: ``["オースティン", "Austin"]``).
        contains: the answer contains this, or one of these alternatives.
        regex: ``re.search`` finds this in the answer (case-insensitive when
            ``normalize_text``).
        schema: the answer is JSON (optionally in a ```json fence) valid against this
            JSON Schema (validated with ``jsonschema``, draft from ``$schema``).
        predicate: a function of the answer text returning truthy.
        normalize_text: compare NFKC-normalised, case-folded text (full-/half-width,
            case and composed/decomposed accents don't matter).  Default ``True``.

    Every given check must hold.

    Raises:
        AssertionError: a check failed (message shows the answer's excerpt).
        ValueError: no check given, ``regex`` does not compile, or ``schema`` is not
            a valid JSON Schema.
    """
    __tracebackhide__ = True
    if all(v is None for v in (equals, contains, regex, schema, predicate)):
        raise ValueError("assert_answer needs equals=, contains=, regex=, schema= or predicate=")
    answer = trace.answer or ""
    expected, failures = _text_checks(answer, equals, contains, normalize if normalize_text else str)
    if regex is not None:
        expected.append(f"matches /{regex}/")
        failures += _regex_failures(answer, regex, normalize_text)
    if schema is not None:
        expected.append("matches the JSON Schema")
        failures += _schema_failures(answer, schema)
    if predicate is not None:
        name = getattr(predicate, "__name__", "predicate")
        expected.append(f"satisfies {name}")
        if not predicate(answer):
            failures.append(f"answer fails {name}()")
    trace.checks.record(Verdict("answer", "; ".join(expected), not failures))
    if failures:
        shown = _excerpt(answer) if answer else \
            "(no answer: the reasoning never closed)" if _unclosed(trace) else "(empty answer)"
        _fail(trace, *failures, f"  answer: {shown}")


def _detours_given(name: str, detours: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    if len(detours) == 1 and isinstance(detours[0], (list, tuple)):
        raise ValueError(f"{name}(trace, Detour(...), ...) takes the Detours as separate arguments, not a "
                         f"{type(detours[0]).__name__}: write {name}(trace, *detours)")
    if not detours or not all(isinstance(d, Detour) for d in detours):
        raise ValueError(f"{name}(trace, Detour(...), ...) needs one or more Detour objects")


def check_detours(trace: Trace, *detours: Detour) -> dict[str, list[DetourHit]]:
    """Look for ``detours`` in the reasoning without failing, and record each one's
    verdict (its hit count) in ``trace.checks``, so the snapshot shows whether it was
    taken and the "stable" snapshot mode compares it.

    Returns:
        ``{detour name: [DetourHit, ...]}`` in the order given (empty lists kept), as
        :meth:`Trace.detours <pytest_reasoning.Trace.detours>` gives it.

    Raises:
        TypeError: ``trace`` is not a :class:`Trace` (a sample has ``sample.rate(detour)``).
        ValueError: no detour given, or an argument is not a :class:`Detour`.
    """
    __tracebackhide__ = True
    if not isinstance(trace, Trace):
        raise TypeError(f"check_detours() takes one Trace, not {type(trace).__name__}; for a sample use "
                        "sample.rate(detour) or assert_no_detour(sample, detour, max_rate=...)")
    _detours_given("check_detours", detours)
    found = trace.detours(*detours)
    for name, hits in found.items():
        trace.checks.record(Verdict.detour(name, len(hits)))
    return found


@_sampled("detour")
def assert_no_detour(trace: Trace, *detours: Detour) -> None:
    """Assert the reasoning takes none of ``detours`` (each one's verdict is recorded
    as by :func:`check_detours`).

    The failure names each detour found, the matched text, its character offset
    and sentence number, and shows that sentence.

    Raises:
        AssertionError: a detour was found.
        ValueError: no detour given, or an argument is not a :class:`Detour`.
    """
    __tracebackhide__ = True
    _detours_given("assert_no_detour", detours)
    found = check_detours(trace, *detours)
    lines = []
    for name, hits in found.items():
        if hits:
            first = hits[0]
            more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
            lines.append(
                f"reasoning took the {name!r} detour: {first.text!r} at char {first.start}, "
                f"sentence {first.sentence_index + 1}{more}"
            )
            lines.append(f"  > {_excerpt(first.sentence, 0, len(first.sentence))}")
    if lines:
        _fail(trace, *lines)


def _label(step: str | Sequence[str]) -> str:
    return "|".join(str(o) for o in _options(step))


@_sampled("path")
def assert_reasoning_path(trace: Trace, steps: Sequence[str | Sequence[str]]) -> None:
    """Assert the reasoning mentions ``steps`` in this order.

    Args:
        steps: each a term, or a list of alternative terms (``[["Dallas", "ダラス"],
            ["Texas", "テキサス"], ["Austin", "オースティン"]]``).  Step *k+1* must
            occur after the first occurrence of step *k*.  Matching as for detour
            terms (normalised; whole Latin words).

    Raises:
        AssertionError: a step is missing (or appears only before the previous
            step); the message says which and shows where the search stood.
        ValueError: ``steps`` is empty.
    """
    __tracebackhide__ = True
    if not steps or isinstance(steps, str):
        raise ValueError("assert_reasoning_path needs a list of steps, e.g. ['Dallas', 'Texas', 'Austin']")
    text, position, labels = trace.reasoning or "", 0, []
    for k, step in enumerate(steps):
        options = [str(o) for o in _options(step)]
        labels.append("|".join(options))
        hits = [h for h in (find_term(text, o, position) for o in options) if h]
        if not hits:
            trace.checks.record(Verdict("path", " -> ".join(_label(s) for s in steps), False))
            anywhere = any(find_term(text, o) for o in options)
            if k == 0:
                why = "never appears"
            elif anywhere:
                why = f"appears only before {labels[k - 1]!r} (which ends at char {position}), not after it"
            else:
                why = "never appears"
            _fail(
                trace,
                f"reasoning path broken at step {k + 1}/{len(steps)}: {labels[-1]!r} {why}",
                f"  path: {' -> '.join(labels[:k])}{' -> ' if k else ''}[{labels[-1]}]",
                f"  reasoning: {_excerpt(text, position) if text else NO_REASONING}",
            )
        position = min(hits, key=lambda h: h.start).end
    trace.checks.record(Verdict("path", " -> ".join(labels), True))


def _unclosed(trace: Trace) -> bool:
    """The trace has reasoning but no answer, and no finish reason came: the reasoning
    never closed and the response is incomplete."""
    return trace.truncated and trace.finish_reason is None and bool(trace.reasoning) and not trace.answer


def _truncation(trace: Trace) -> str:
    """Why a truncated trace fails the budget."""
    if _unclosed(trace):
        return "no answer: the reasoning never closed (no finish_reason came: the response is incomplete)"
    inside = " inside the thinking" if not trace.answer else ""
    return f"generation was truncated (finish_reason={trace.finish_reason!r}){inside}"


def _hesitations(reasoning: str, most: int, markers: Sequence[str] | None) -> tuple[bool, str]:
    """Whether the hesitation markers are within ``most``, and the failure line naming
    each marker that matched."""
    counts = hesitation_counts(reasoning, markers)
    count, which = sum(counts.values()), ", ".join(f"{m!r} ×{n}" for m, n in counts.items())
    plural = "s" * (count != 1)
    return count <= most, f"reasoning has {count} hesitation marker{plural} > max_hesitations={most} ({which})"


def _share(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"assert_reasoning_budget({name}={value!r}): use a share in [0, 1], e.g. 0.2")
    return float(value)


def _after_answer(trace: Trace, most: float, terms: Any, path: Any) -> tuple[bool, str]:
    """Whether the share of the reasoning after the answer was first reached is within
    ``most`` (a reasoning that never names the answer spent nothing after it), and
    the failure line."""
    if terms is None and not path:
        raise ValueError("assert_reasoning_budget(max_after_answer=...) needs answer_terms=[...] "
                         "(or path=[...], whose last step is the answer)")
    at = trace.answer_reached_at(_options(path[-1]) if terms is None else terms)
    after = at.after if at else 0.0
    return after <= most, f"reasoning went on for {after:.0%} after {at} > max_after_answer={most:g}"


@_sampled("budget")
def assert_reasoning_budget(
    trace: Trace,
    *,
    max_tokens: int | None = None,
    max_chars: int | None = None,
    max_hesitations: int | None = None,
    hesitation_markers: Sequence[str] | None = None,
    max_off_path: float | None = None,
    max_after_answer: float | None = None,
    path: Sequence[str | Sequence[str]] | None = None,
    answer_terms: str | Sequence[str] | None = None,
    allow_truncated: bool = False,
) -> None:
    """Assert the reasoning stays in budget.

    Args:
        max_tokens: most reasoning tokens (``trace.usage.reasoning_tokens``; fails
            with a clear message if the backend did not report it).
        max_chars: most characters of reasoning.
        max_hesitations: most hesitation markers (see
            :data:`~pytest_reasoning.text.detours.DEFAULT_HESITATION_MARKERS`).
        hesitation_markers: replaces the default marker list.
        max_off_path: most share (in ``[0, 1]``, by characters) of the reasoning in
            sentences that leave the question's path
            (:meth:`Trace.off_path <pytest_reasoning.Trace.off_path>`, anchored on
            the prompt, ``path`` and the answer).
        max_after_answer: most share (in ``[0, 1]``) of the reasoning after the
            sentence that first names the final answer
            (:meth:`Trace.answer_reached_at <pytest_reasoning.Trace.answer_reached_at>`;
            Chen et al.'s outcome efficiency, arXiv 2412.21187, is one minus it).
        path: the path's steps, as for :func:`assert_reasoning_path`: anchors for
            ``max_off_path``; its last step is the answer for ``max_after_answer``.
        answer_terms: the final answer, or a list of alternatives, for
            ``max_after_answer`` (default: ``path``'s last step).
        allow_truncated: unless ``True``, a truncated trace fails (one whose reasoning
            never closed fails with "no answer: the reasoning never closed").

    Each limit given is recorded as a budget verdict (``"off path <= 0.2"``,
    ``"after answer <= 0.5"``, ...), so snapshots show it.

    Raises:
        AssertionError: a limit was exceeded, or the trace was truncated.
        ValueError: a share outside ``[0, 1]``, or ``max_after_answer`` without
            ``answer_terms`` or ``path``.
    """
    __tracebackhide__ = True
    for name, share in (("max_off_path", max_off_path), ("max_after_answer", max_after_answer)):
        if share is not None:
            _share(name, share)
    verdict, failures = _budget_checks(
        trace, max_tokens=max_tokens, max_chars=max_chars, max_hesitations=max_hesitations,
        hesitation_markers=hesitation_markers, max_off_path=max_off_path, max_after_answer=max_after_answer,
        path=path, answer_terms=answer_terms, allow_truncated=allow_truncated,
    )
    for label, passed in verdict.items():
        trace.checks.record(Verdict("budget", label, passed))
    if failures:
        reasoning = trace.reasoning or ""
        _fail(trace, *failures, f"  reasoning ends: {_excerpt(reasoning, len(reasoning))}")


def _budget_checks(
    trace: Trace,
    *,
    max_tokens: int | None,
    max_chars: int | None,
    max_hesitations: int | None,
    hesitation_markers: Sequence[str] | None,
    max_off_path: float | None,
    max_after_answer: float | None,
    path: Sequence[str | Sequence[str]] | None,
    answer_terms: str | Sequence[str] | None,
    allow_truncated: bool,
) -> tuple[dict[str, bool], list[str]]:
    """Each limit of :func:`assert_reasoning_budget` that was given, held against
    ``trace``: ``({verdict label: passed}, failure lines)``."""
    reasoning = trace.reasoning or ""
    failures: list[str] = []
    verdict: dict[str, bool] = {}
    if not allow_truncated:
        verdict["not truncated"] = not trace.truncated
        failures += [_truncation(trace)] if trace.truncated else []
    if max_tokens is not None:
        used = trace.usage.reasoning_tokens
        verdict[f"tokens <= {max_tokens}"] = used is not None and used <= max_tokens
        if used is None:
            failures.append("reasoning token count unknown (the backend did not report it); use max_chars=")
        elif used > max_tokens:
            failures.append(f"reasoning used {used} tokens > max_tokens={max_tokens}")
    if max_chars is not None:
        verdict[f"chars <= {max_chars}"] = len(reasoning) <= max_chars
        if len(reasoning) > max_chars:
            failures.append(f"reasoning has {len(reasoning)} characters > max_chars={max_chars}")
    if max_hesitations is not None:
        passed, line = _hesitations(reasoning, max_hesitations, hesitation_markers)
        verdict[f"hesitations <= {max_hesitations}"] = passed
        failures += [] if passed else [line]
    if max_off_path is not None:
        found = trace.off_path(path or ())
        verdict[f"off path <= {max_off_path:g}"] = found.share <= max_off_path
        if found.share > max_off_path:
            failures += [f"reasoning is {found.summary()} > max_off_path={max_off_path:g}", *found.explain()]
    if max_after_answer is not None:
        passed, line = _after_answer(trace, max_after_answer, answer_terms, path)
        verdict[f"after answer <= {max_after_answer:g}"] = passed
        failures += [] if passed else [line]
    return verdict, failures
