"""A sample of traces: n answers to one prompt, and what can be said of them as a
distribution.

Reasoning models are sampled (the Qwen3 model card advises against greedy decoding in
thinking mode; DeepSeek's reasoner ignores temperature), so a verdict on one trace is
noise.  :class:`TraceSample` holds the n traces that ``reasoning_model.sample`` drew
and gives rates with their Wilson intervals, pass@k and pass^k, measures with
bootstrap intervals, counts of trace structures, and comparisons with another sample
(Fisher's exact test for rates, Mann–Whitney U for measures, Holm's correction across
them).  The statistics are :mod:`pytest_reasoning.stats` (scipy, imported only when a
sample is evaluated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .trace import Trace

__all__ = ["TraceSample", "SampleComparison", "SampleVerdict", "compare_samples", "as_predicate", "MEASURES"]

#: The measures of a sample: name -> how it is read from one trace (``None``: unknown).
MEASURES: dict[str, Callable[[Trace], float | None]] = {
    "reasoning tokens": lambda t: t.usage.reasoning_tokens,
    "reasoning characters": lambda t: len(t.reasoning or ""),
    "hesitations": lambda t: t.hesitations(),
    "reasoning sentences": lambda t: len(t.sentences()),
}


def as_predicate(check: Any, *args: Any, **kwargs: Any) -> Callable[[Trace], bool]:
    """``check`` as a function of one trace returning pass or fail:

    * a :class:`~pytest_reasoning.Detour`: the trace *takes* the detour (so a rate of
      it is the detour rate);
    * an assertion (``assert_answer``, ``assert_no_detour``, ..., or any callable that
      raises ``AssertionError`` to fail): called as ``check(trace, *args, **kwargs)``;
      passes when it does not raise (a return of ``None`` counts as a pass);
    * a predicate: its truth value.

    Raises:
        TypeError: ``check`` is none of these.
    """
    from .text.detours import Detour

    if isinstance(check, Detour):
        return lambda trace: bool(trace.detours(check)[check.name])
    if not callable(check):
        raise TypeError(f"a check is a Detour, an assertion or a predicate of a trace, not {type(check).__name__}")

    def verdict(trace: Trace) -> bool:
        try:
            result = check(trace, *args, **kwargs)
        except AssertionError:
            return False
        return True if result is None else bool(result)

    return verdict


def check_name(check: Any) -> str:
    """A short name for ``check`` in reports: a detour's name, a function's name."""
    return str(getattr(check, "name", None) or getattr(check, "__name__", None) or type(check).__name__)


@dataclass(frozen=True)
class SampleVerdict:
    """An assertion's conclusion about a sample: the rate of samples that passed (or,
    for a detour, took it), its interval, and the decision against the threshold.

    Attributes:
        kind: the assertion's kind (``"answer"``, ``"detour"``, ``"path"``, ``"budget"``).
        label: what was checked (as for a single trace's verdict).
        rate: the :class:`~pytest_reasoning.stats.Rate` (count, n, interval, verdicts).
        decision: the :class:`~pytest_reasoning.stats.Decision` against
            ``min_rate`` / ``max_rate``.
    """

    kind: str
    label: str
    rate: Any
    decision: Any

    @property
    def passed(self) -> bool:
        """The decision's outcome."""
        return bool(self.decision.passed)

    def to_json(self) -> dict[str, Any]:
        """The stored form: count, n, rate, interval, threshold and decision."""
        return {**self.rate.to_dict(), **{k: v for k, v in self.decision.to_dict().items() if k != "rate"}}

    def stable_value(self) -> bool:
        """What a wording-tolerant comparison looks at: whether the decision passed."""
        return self.passed


class TraceSample(Sequence[Trace]):
    """The n traces drawn for one prompt (``reasoning_model.sample(prompt, n)``), in
    sample order; a ``Sequence[Trace]``.

    Attributes:
        checks: the verdicts assertions recorded on the sample as a whole
            (:class:`SampleVerdict`, keyed by kind and label).
        snapshot_path: the sample's snapshot file (set by the fixture; named in failures).
    """

    def __init__(self, traces: Iterable[Trace]) -> None:
        self.traces: tuple[Trace, ...] = tuple(traces)
        if not self.traces:
            raise ValueError("a TraceSample needs at least one trace; draw with reasoning_model.sample(prompt, n >= 1)")
        self.checks: dict[tuple[str, str], SampleVerdict] = {}
        #: Comparisons with other samples that named this one as ``after``
        #: (``assert_rate_change``), for reports.
        self.comparisons: list[Any] = []
        self.snapshot_path: str | None = self.traces[0].snapshot_path

    @overload
    def __getitem__(self, index: int) -> Trace: ...
    @overload
    def __getitem__(self, index: slice) -> TraceSample: ...

    def __getitem__(self, index: int | slice) -> Trace | TraceSample:
        if isinstance(index, slice):
            return TraceSample(self.traces[index])
        return self.traces[index]

    def __len__(self) -> int:
        return len(self.traces)

    def __repr__(self) -> str:
        first = self.traces[0].messages[-1].get("content") if self.traces[0].messages else ""
        return f"TraceSample(n={len(self)}, prompt={str(first)[:60]!r})"

    @property
    def n(self) -> int:
        """The number of samples."""
        return len(self.traces)

    def verdicts(self, check: Any, *args: Any, **kwargs: Any) -> list[bool]:
        """Each sample's verdict on ``check`` (see :func:`as_predicate`), in order."""
        predicate = as_predicate(check, *args, **kwargs)
        return [predicate(t) for t in self.traces]

    def rate(self, check: Any, *args: Any, confidence: float = 0.95, **kwargs: Any) -> Any:
        """The rate of samples for which ``check`` holds (for a Detour: that take it),
        with its Wilson score interval at ``confidence``, each sample's verdict kept.

        Returns:
            :class:`~pytest_reasoning.stats.Rate` (``count``, ``n``, ``rate``,
            ``interval``, ``verdicts``).
        """
        from .stats import Rate

        return Rate.of(self.verdicts(check, *args, **kwargs), confidence)

    def pass_at_k(self, check: Any, k: int, *args: Any, **kwargs: Any) -> float:
        """The chance that at least one of ``k`` samples passes ``check``: the unbiased
        estimator of Chen et al. 2021 (arXiv 2107.03374).

        Raises:
            ValueError: ``k`` is not in 1..n.
        """
        from .stats import pass_at_k

        return pass_at_k(self.n, sum(self.verdicts(check, *args, **kwargs)), k)

    def pass_hat_k(self, check: Any, k: int, *args: Any, **kwargs: Any) -> float:
        """pass^k: the chance that ``k`` independent samples all pass ``check``, estimated
        without bias as C(c, k) / C(n, k) (Yao et al. 2024, arXiv 2406.12045).

        Raises:
            ValueError: ``k`` is not in 1..n.
        """
        from .stats import pass_hat_k

        return pass_hat_k(self.n, sum(self.verdicts(check, *args, **kwargs)), k)

    def values(self, measure: str) -> list[float]:
        """The known values of one of :data:`MEASURES` (unknown token counts left out).

        Raises:
            KeyError: an unknown measure name (the message lists them).
        """
        if measure not in MEASURES:
            raise KeyError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
        return [float(v) for v in (MEASURES[measure](t) for t in self.traces) if v is not None]

    def measures(self, confidence: float = 0.95) -> dict[str, Any]:
        """Each of :data:`MEASURES` that is known for some sample, as a
        :class:`~pytest_reasoning.stats.Measure` (n, mean, median, p90, bootstrap
        intervals)."""
        from .stats import describe

        return {name: describe(vals, confidence) for name in MEASURES if (vals := self.values(name))}

    def structure(self) -> dict[str, int]:
        """Counts of each trace structure: ``valid`` (reasoning that closed, then an
        answer), ``empty reasoning``, ``missing answer``, ``truncated``.  A fine-tune can
        collapse its reasoning while answer accuracy hides it ("Reasoning-Trace
        Collapse", arXiv 2605.21127); these counts show it."""
        counts = {"valid": 0, "empty reasoning": 0, "missing answer": 0, "truncated": 0}
        for t in self.traces:
            counts["valid"] += bool(t.reasoning.strip()) and bool(t.answer.strip()) and not t.truncated
            counts["empty reasoning"] += not t.reasoning.strip()
            counts["missing answer"] += not t.answer.strip()
            counts["truncated"] += bool(t.truncated)
        return counts

    def valid(self) -> TraceSample | None:
        """The samples whose reasoning closed and gave an answer (``None`` if none):
        ``sample.valid().rate(...)`` is the reasoning-conditioned pass rate."""
        kept = [t for t in self.traces if t.reasoning.strip() and t.answer.strip() and not t.truncated]
        return TraceSample(kept) if kept else None

    def to_report(self) -> dict[str, Any]:
        """Key facts for reports: the prompt, n, each verdict (rate, interval,
        decision) and each comparison, as JSON data and one line each."""
        last = self.traces[0].messages[-1].get("content") if self.traces[0].messages else ""
        return {
            "prompt": str(last),
            "n": self.n,
            "model": self.traces[0].model,
            "adapter": (self.traces[0].extra.get("adapter") or {}).get("path"),
            "verdicts": [{"kind": v.kind, "label": v.label, **v.to_json(), "line": v.decision.reason}
                         for v in self.checks.values()],
            "comparisons": [{**c.to_dict(), "line": str(c)} for c in self.comparisons],
        }

    def record(self, verdict: SampleVerdict) -> SampleVerdict:
        """Keep ``verdict`` (replacing one of the same kind and label); returns it."""
        self.checks[(verdict.kind, verdict.label)] = verdict
        return verdict


@dataclass
class SampleComparison:
    """What changed from sample ``before`` to sample ``after``: each rate (Fisher's
    exact test, Newcombe's interval for the difference) and each measure (Mann–Whitney
    U, bootstrap interval for the difference in medians), significant after Holm's
    correction at ``alpha`` across all of them.

    Attributes:
        rates: ``{name: RateComparison}``.
        measures: ``{name: MeasureComparison}``.
        significant: ``{name: bool}`` after Holm's correction.
    """

    rates: dict[str, Any] = field(default_factory=dict)
    measures: dict[str, Any] = field(default_factory=dict)
    significant: dict[str, bool] = field(default_factory=dict)
    alpha: float = 0.05

    @property
    def changed(self) -> list[str]:
        """The names that changed significantly (after the correction)."""
        return [name for name, sig in self.significant.items() if sig]

    def lines(self) -> list[str]:
        """One line per comparison, significant ones first, marked ``*``."""
        items = [*self.rates.items(), *self.measures.items()]
        items.sort(key=lambda kv: not self.significant.get(kv[0], False))
        return [f"{'*' if self.significant.get(name) else ' '} {comparison}" for name, comparison in items]

    def __str__(self) -> str:
        return "\n".join(
            [f"What changed in the sample (Holm-corrected, alpha {self.alpha:g}; * = significant):", *self.lines()]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON data for reports and snapshots."""
        return {
            "alpha": self.alpha,
            "rates": {k: v.to_dict() for k, v in self.rates.items()},
            "measures": {k: v.to_dict() for k, v in self.measures.items()},
            "significant": dict(self.significant),
        }


def compare_samples(
    before: TraceSample, after: TraceSample, checks: dict[str, Any] | Sequence[Any] = (), *,
    alpha: float = 0.05, measures: bool = True,
) -> SampleComparison:
    """Compare two samples (prompt A against B, base against adapter, model X against
    Y): the rate of each check (a Detour counts the samples that take it) and each
    measure, each with an interval and a p-value, significant after Holm's correction
    across all of them at ``alpha``.

    Args:
        checks: ``{name: check}`` or a list of checks (named by :func:`check_name`).
        measures: also compare :data:`MEASURES` known in both samples.

    Raises:
        TypeError: ``before`` or ``after`` is not a TraceSample, or a check is not a
            Detour, an assertion or a predicate.
    """
    __tracebackhide__ = True
    from .stats import compare_measures, compare_rates, holm

    for side, value in (("before", before), ("after", after)):
        if not isinstance(value, TraceSample):
            raise TypeError(f"compare_samples(before, after, ...) compares two TraceSamples "
                            f"(reasoning_model.sample); {side} is a {type(value).__name__} (for two traces: diff_traces)")

    named = checks if isinstance(checks, dict) else {check_name(c): c for c in checks}
    result = SampleComparison(alpha=alpha)
    for name, check in named.items():
        label = f"{name} rate"
        result.rates[label] = compare_rates(before.rate(check), after.rate(check), alpha=alpha, label=label)
    if measures:
        for name in MEASURES:
            a, b = before.values(name), after.values(name)
            if len(a) >= 2 and len(b) >= 2:
                result.measures[name] = compare_measures(a, b, alpha=alpha, label=name)
    everything = {**result.rates, **result.measures}
    if everything:
        corrected = holm([c.p_value for c in everything.values()], alpha)
        result.significant = dict(zip(everything, corrected.significant))
    return result
