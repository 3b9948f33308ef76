"""How an assertion runs on a sample of traces, and how two samples are compared.

An ``assert_*`` of :mod:`pytest_reasoning.assertions` given a
:class:`~pytest_reasoning.TraceSample` with ``min_rate=`` / ``max_rate=`` runs on every
trace; the rate of passing traces (for ``assert_no_detour``: of traces taking the
detour), with its Wilson interval, is held against the threshold by :data:`SAMPLE_RULE`
(:func:`pytest_reasoning.stats.decide`) and recorded on the sample as a
:class:`~pytest_reasoning.sample.SampleVerdict`.  :func:`assert_rate_change` compares
two samples with a one-sided Fisher's exact test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .trace import Trace

__all__ = ["SAMPLE_RULE", "SHOWN_FAILURES", "sampled", "assert_rate_change"]

#: How a rate and its interval become pass or fail (stated in every sample failure and
#: in the README): see :func:`pytest_reasoning.stats.decide`.
SAMPLE_RULE = (
    "a sample fails a threshold only when the whole Wilson interval of its rate lies on the wrong side; "
    "an interval that straddles the threshold passes, marked inconclusive"
)
#: How many failing samples a sample failure shows.
SHOWN_FAILURES = 3


def _changed_label(trace: Trace, kind: str, before: dict[tuple[str, str], Any]) -> str:
    """The label of the ``kind`` verdict an assertion just recorded on ``trace``."""
    for verdict in trace.checks:
        if verdict.kind == kind and before.get((verdict.kind, verdict.label)) is not verdict:
            return verdict.label
    return kind


def _on_sample(
    assertion: Callable[..., Any], kind: str, sample: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    min_rate: float | None, max_rate: float | None,
) -> Any:
    """Run ``assertion`` on each trace of ``sample``, then decide on the rate (of passing
    samples; for ``assert_no_detour``, of samples taking a detour) against the
    thresholds by :data:`SAMPLE_RULE`, record a :class:`~pytest_reasoning.sample.SampleVerdict`
    on the sample, and fail with the rate, its interval, n and up to
    :data:`SHOWN_FAILURES` failing samples.  Returns the decision."""
    __tracebackhide__ = True
    from .sample import SampleVerdict
    from .stats import Rate, decide

    if min_rate is None and max_rate is None:
        which = "max_rate" if kind == "detour" else "min_rate"
        raise TypeError(f"{assertion.__name__}() on a TraceSample needs {which}=...; for one trace pass sample[i]")
    failures: list[tuple[int, str]] = []
    label = kind
    for i, trace in enumerate(sample):
        before = {(v.kind, v.label): v for v in trace.checks}
        try:
            assertion(trace, *args, **kwargs)
        except AssertionError as e:
            failures.append((i, str(e).splitlines()[0] if str(e) else "failed"))
        label = _changed_label(trace, kind, before)
    failed = {i for i, _ in failures}
    taking = kind == "detour"  # the detour rate: samples that take it
    rate = Rate.of([(i in failed) if taking else (i not in failed) for i in range(len(sample))])
    decision = decide(rate, min_rate=min_rate, max_rate=max_rate)
    sample.record(SampleVerdict(kind, label, rate, decision))
    if not decision.passed:
        what = f"took {label!r}" if taking else f"passed {assertion.__name__}({label})"
        lines = [f"samples that {what}: {rate}", f"  {decision.reason}", f"  rule: {SAMPLE_RULE}"]
        lines += [f"  sample {i}: {line}" for i, line in failures[:SHOWN_FAILURES]]
        if len(failures) > SHOWN_FAILURES:
            lines.append(f"  (+{len(failures) - SHOWN_FAILURES} more failing samples)")
        if sample.snapshot_path:
            lines.append(f"snapshot: {sample.snapshot_path}")
        raise AssertionError("\n".join(lines))
    return decision


def sampled(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let an assertion take a :class:`~pytest_reasoning.TraceSample` too, with
    ``min_rate=`` / ``max_rate=`` (see :func:`_on_sample`); on a single trace those
    keywords are a one-line error, as is anything that is not a trace or a sample."""

    def wrap(assertion: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(assertion)
        def run(target: Any, *args: Any, min_rate: float | None = None, max_rate: float | None = None,
                **kwargs: Any) -> Any:
            __tracebackhide__ = True
            from .sample import TraceSample

            if isinstance(target, TraceSample):
                for name, value in (("min_rate", min_rate), ("max_rate", max_rate)):
                    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                              or not 0 <= value <= 1):
                        raise ValueError(f"{name} must be a number from 0 to 1 (a fraction, e.g. 0.95); got {value!r}")
                return _on_sample(assertion, kind, target, args, kwargs, min_rate, max_rate)
            if not isinstance(target, Trace):
                raise TypeError(f"{assertion.__name__}() takes a Trace or a TraceSample, not {type(target).__name__}")
            if min_rate is not None or max_rate is not None:
                raise TypeError(f"{assertion.__name__}(min_rate=/max_rate=) needs a TraceSample "
                                "(reasoning_model.sample(prompt, n)); a single trace passes or fails")
            return assertion(target, *args, **kwargs)

        return run

    return wrap


def assert_rate_change(
    before: Any, after: Any, check: Any, *, direction: str, alpha: float = 0.05, method: str = "fisher",
) -> Any:
    """Assert that the rate of ``check`` moved from sample ``before`` to sample
    ``after`` in ``direction`` (``"up"`` or ``"down"``), significantly: a one-sided
    Fisher's exact test (or Barnard's, ``method="barnard"``) at ``alpha``.  ``check``
    is a :class:`Detour` (the rate of samples taking it), an assertion or a predicate.
    One line each for "the clause raises the detour rate"
    (``assert_rate_change(plain, precise, SPORTS, direction="up")``) and "the fine-tune
    removes it" (``direction="down"``).

    Returns:
        the :class:`~pytest_reasoning.stats.RateComparison` (difference with Newcombe's
        interval, p-value).

    Raises:
        AssertionError: the change is not significant in that direction (the message
            shows both rates, the difference with its interval and the p-value).
        TypeError / ValueError: not two samples, or a bad direction or alpha.
    """
    __tracebackhide__ = True
    from .sample import TraceSample, check_name
    from .stats import compare_rates

    if not isinstance(before, TraceSample) or not isinstance(after, TraceSample):
        raise TypeError("assert_rate_change(before, after, ...) compares two TraceSamples (reasoning_model.sample)")
    if direction not in ("up", "down"):
        raise ValueError(f"assert_rate_change(direction={direction!r}): use 'up' or 'down'")
    comparison = compare_rates(
        before.rate(check), after.rate(check), alpha=alpha, method=method,
        alternative="greater" if direction == "up" else "less", label=f"{check_name(check)} rate",
    )
    after.comparisons.append(comparison)
    if not comparison.significant:
        raise AssertionError(
            f"the {check_name(check)} rate did not go {direction} significantly (one-sided, alpha {alpha:g}):\n"
            f"  {comparison}"
        )
    return comparison
