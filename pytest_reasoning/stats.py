"""Statistics for sampled reasoning: rates, pass@k, threshold decisions, two-sample comparisons.

Pure functions over booleans, counts and numbers, with no pytest or trace types.  Rates are
fractions in [0, 1]; a comparison's difference is always ``b - a`` (``a`` the baseline, ``b``
the variant); confidence levels and ``alpha`` are fractions (0.95, 0.05).  scipy and numpy
are imported inside the functions that need them, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Interval", "Rate", "wilson", "pass_at_k", "pass_hat_k", "Decision", "decide",
    "samples_to_decide", "RateComparison", "newcombe", "compare_rates", "Measure", "describe",
    "MeasureComparison", "compare_measures", "HolmResult", "holm",
]

ALTERNATIVES = ("two-sided", "greater", "less")
BOOTSTRAP_METHODS = ("percentile", "BCa", "basic")
_STATISTICS = ("mean", "median", "p90")
RESAMPLES = 9999  # scipy.stats.bootstrap's default; fixed so that results are reproducible
_ONE_SIDED = {"two-sided": "", "greater": " (one-sided: testing an increase)",
              "less": " (one-sided: testing a decrease)"}


def _num(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def _level(c: float) -> str:
    return f"{100 * c:g}%"


def _p(p: float) -> str:
    return f"{p:.2g}"


def _pct(x: float) -> str:
    p = 100 * x
    return f"{p:.2g}%" if 0 < p < 0.5 else f"{p:.1f}%" if 99.5 < p < 100 else f"{p:.0f}%"


def _fmt(x: float, signed: bool = False) -> str:
    s = f"{x:{'+' if signed else ''},.0f}" if abs(x) >= 100 else f"{x:{'+' if signed else ''}.3g}"
    return s.replace("-0", "+0") if signed and float(s.replace(",", "")) == 0 else s


def _pp(x: float) -> str:
    s = f"{100 * x:+.0f}"
    return "+0" if s == "-0" else s


def _fraction(name: str, value: Any, *, closed: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not (0 <= value <= 1 if closed else 0 < value < 1):
        span = "from 0 to 1" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {span} (a fraction, e.g. 0.95); got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0; got {value!r}")
    return int(value)


def _choice(name: str, value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` for an estimate.

    ``low``/``high`` are in the estimate's unit: a fraction for a rate, a difference of
    fractions for two rates, the values' own unit (tokens, characters) for a measure.
    ``confidence`` is a fraction (0.95).  ``method`` names how it was computed: ``"wilson"``,
    ``"newcombe"``, ``"bootstrap-percentile"``/``"bootstrap-BCa"``/``"bootstrap-basic"``, or
    ``"degenerate"`` (too few or identical values: both bounds equal the estimate).
    """
    low: float
    high: float
    confidence: float
    method: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        """JSON data: bounds to 6 significant digits, the level, the method."""
        return {"low": _num(self.low), "high": _num(self.high),
                "confidence": self.confidence, "method": self.method}

    def __str__(self) -> str:
        return f"{_level(self.confidence)} CI {_fmt(self.low)} to {_fmt(self.high)}"


def wilson(count: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for ``count`` successes in ``n`` trials (Wilson 1927).

    Computed by ``scipy.stats.binomtest(count, n).proportion_ci(confidence, method="wilson")``;
    bounds are fractions in [0, 1].  ValueError for n < 1, count outside [0, n], or a
    confidence outside (0, 1).
    """
    count, n = _count("count", count), _count("n", n)
    confidence = _fraction("confidence", confidence)
    if n < 1 or count > n:
        raise ValueError(f"need 0 <= count <= n and n >= 1; got count={count}, n={n}")
    from scipy.stats import binomtest

    ci = binomtest(count, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(float(ci.low), float(ci.high), confidence, "wilson")


@dataclass(frozen=True)
class Rate:
    """How often a per-sample verdict held: ``count`` of ``n``, with its Wilson interval.

    Build it from verdicts with ``Rate.of([True, False, ...])`` (they are kept in
    ``verdicts``) or from counts with ``Rate(count, n)``.  ``interval`` is
    ``wilson(count, n, confidence)``.  ValueError for n < 1, count outside [0, n], a
    confidence outside (0, 1), or verdicts that disagree with the counts.
    """
    count: int
    n: int
    confidence: float = 0.95
    verdicts: tuple[bool, ...] | None = field(default=None, repr=False)
    interval: Interval = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", wilson(self.count, self.n, self.confidence))
        v = self.verdicts
        if v is not None and (len(v) != self.n or sum(v) != self.count):
            raise ValueError(f"verdicts hold {sum(v)}/{len(v)}, not {self.count}/{self.n}: use Rate.of")

    @classmethod
    def of(cls, verdicts: Iterable[bool], confidence: float = 0.95) -> Rate:
        """The rate of ``True`` among ``verdicts`` (bools or numpy bools; at least one)."""
        if isinstance(verdicts, (str, bytes)):
            raise ValueError("verdicts must be a sequence of bools, one per sample, not a string")
        kept = tuple(verdicts)
        for v in kept:
            if not (isinstance(v, bool) or getattr(getattr(v, "dtype", None), "kind", "") == "b"):
                raise ValueError(f"verdicts must be bools, one per sample; got {v!r}: pass bool(...) of each")
        if not kept:
            raise ValueError("no verdicts: sample at least one trace")
        kept = tuple(bool(v) for v in kept)
        return cls(sum(kept), len(kept), confidence, kept)

    @property
    def rate(self) -> float:
        """``count / n``, a fraction."""
        return self.count / self.n

    def to_dict(self, *, verdicts: bool = False) -> dict[str, Any]:
        """JSON data: count, n, rate, interval; the verdicts too when ``verdicts=True``."""
        out = {"count": self.count, "n": self.n, "rate": _num(self.rate), "interval": self.interval.to_dict()}
        if verdicts and self.verdicts is not None:
            out["verdicts"] = list(self.verdicts)
        return out

    def __str__(self) -> str:
        ci = self.interval
        return (f"{self.count}/{self.n} = {_pct(self.rate)} "
                f"({_level(ci.confidence)} CI {_pct(ci.low)}–{_pct(ci.high)})")


def _k_of_n(n: int, c: int, k: int) -> tuple[int, int, int]:
    n, c, k = _count("n", n), _count("c", c), _count("k", k)
    if not 1 <= k <= n or c > n:
        raise ValueError(f"need 1 <= k <= n and 0 <= c <= n; got n={n}, c={c}, k={k}")
    return n, c, k


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k: the chance that at least one of ``k`` samples passes, from ``c`` passes in ``n``.

    Unbiased estimator ``1 - C(n-c, k) / C(n, k)`` of Chen et al. 2021 (arXiv 2107.03374,
    Fig. 3), computed as their stable product ``1 - prod(1 - k / arange(n-c+1, n+1))``.
    Returns a fraction.  ValueError unless 1 <= k <= n and 0 <= c <= n (whole numbers).
    """
    n, c, k = _k_of_n(n, c, k)
    if n - c < k:
        return 1.0
    import numpy as np

    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: the chance that all of ``k`` samples pass, from ``c`` passes in ``n``.

    Unbiased estimator ``C(c, k) / C(n, k)`` (Yao et al. 2024, tau-bench, arXiv 2406.12045),
    computed as ``prod((c - i) / (n - i) for i < k)``.  Returns a fraction.  ValueError
    unless 1 <= k <= n and 0 <= c <= n (whole numbers).
    """
    n, c, k = _k_of_n(n, c, k)
    if c < k:
        return 0.0
    import numpy as np

    i = np.arange(k)
    return float(np.prod((c - i) / (n - i)))


@dataclass(frozen=True)
class Decision:
    """The outcome of ``decide``: ``passed``, whether it is ``conclusive``, and the ``reason``.

    ``samples_needed`` is ``samples_to_decide``'s estimate when inconclusive (``None`` when
    conclusive or when no sample size would decide).  ``bool(decision)`` is ``passed``.
    """
    passed: bool
    conclusive: bool
    reason: str
    rate: Rate
    min_rate: float | None = None
    max_rate: float | None = None
    samples_needed: int | None = None

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON data: the verdict, thresholds, rate, samples needed and reason."""
        return {"passed": self.passed, "conclusive": self.conclusive, "min_rate": self.min_rate,
                "max_rate": self.max_rate, "rate": self.rate.to_dict(),
                "samples_needed": self.samples_needed, "reason": self.reason}

    def __str__(self) -> str:
        return f"{'pass' if self.passed else 'FAIL'}: {self.reason}"


def samples_to_decide(observed: float, threshold: float, confidence: float = 0.95) -> int | None:
    """About how many samples make the Wilson interval around ``observed`` exclude ``threshold``.

    The Wilson interval at rate ``p`` over ``n`` samples holds ``t`` exactly when
    ``n (p - t)^2 <= z^2 t (1 - t)`` (it inverts the score test; Wilson 1927), with ``z`` the
    two-sided normal quantile (``scipy.stats.norm.ppf``).  Returns the least ``n`` beyond
    that, assuming the rate stays at ``observed``; ``None`` when ``observed == threshold``
    (no sample size decides).  ValueError for fractions outside [0, 1] or a bad confidence.
    """
    p, t = _fraction("observed", observed, closed=True), _fraction("threshold", threshold, closed=True)
    confidence = _fraction("confidence", confidence)
    if p == t:
        return None
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    return math.floor(z * z * t * (1 - t) / (p - t) ** 2) + 1


def _check_side(rate: Rate, name: str, t: float) -> tuple[bool, bool, str, int | None]:
    lo, hi, low_side = rate.interval.low, rate.interval.high, name == "min_rate"
    what = f"{name} {_pct(t)}"
    if (hi < t) if low_side else (lo > t):
        return False, True, f"the whole interval lies {'below' if low_side else 'above'} {what}", None
    if (lo >= t) if low_side else (hi <= t):
        return True, True, f"the whole interval is at or {'above' if low_side else 'below'} {what}", None
    needed = samples_to_decide(rate.rate, t, rate.confidence)
    if needed is None:
        more = "more samples will not decide while the observed rate equals it"
    else:
        needed = max(needed, rate.n + 1)
        more = f"about {needed} samples would decide if the rate stays at {_pct(rate.rate)}"
    return True, False, f"inconclusive: the interval straddles {what}; {more}", needed


def decide(rate: Rate, *, min_rate: float | None = None, max_rate: float | None = None) -> Decision:
    """Pass or fail ``rate`` against ``min_rate`` and/or ``max_rate`` using its interval.

    The rule, with ``[low, high]`` the rate's Wilson interval (``rate.interval``):

    - ``min_rate`` FAILS only when the whole interval lies below it (``high < min_rate``:
      the data show the true rate is under the threshold).  It PASSES and is conclusive
      when the whole interval is at or above it (``low >= min_rate``).  When the interval
      straddles it (``low < min_rate <= high``) it PASSES but is marked inconclusive, and the
      reason says so and about how many samples would decide (``samples_to_decide``).
    - ``max_rate`` mirrors it: FAILS only when ``low > max_rate``, PASSES conclusively when
      ``high <= max_rate``, and otherwise PASSES inconclusively.
    - With both thresholds, it fails if either fails, and is conclusive if both are.

    Sampling noise thus never fails a run, while a clear regression does.  ValueError when
    ``rate`` is not a ``Rate``, both thresholds are None, a threshold lies outside [0, 1],
    or ``min_rate > max_rate``.
    """
    if not isinstance(rate, Rate):
        raise ValueError(f"decide needs a Rate (Rate.of(verdicts)); got {type(rate).__name__}")
    if min_rate is None and max_rate is None:
        raise ValueError("give min_rate, max_rate or both (fractions from 0 to 1)")
    sides = [(name, _fraction(name, t, closed=True)) for name, t in
             (("min_rate", min_rate), ("max_rate", max_rate)) if t is not None]
    if min_rate is not None and max_rate is not None and min_rate > max_rate:
        raise ValueError(f"min_rate {min_rate} is above max_rate {max_rate}: no rate could pass")
    checks = [_check_side(rate, name, t) for name, t in sides]
    needed = [c[3] for c in checks if c[3] is not None]
    return Decision(
        passed=all(c[0] for c in checks), conclusive=all(c[1] for c in checks),
        reason=f"{rate}: " + "; ".join(c[2] for c in checks), rate=rate,
        min_rate=None if min_rate is None else float(min_rate),
        max_rate=None if max_rate is None else float(max_rate),
        samples_needed=max(needed) if needed else None)


def newcombe(a: Rate, b: Rate, confidence: float = 0.95) -> Interval:
    """Newcombe's hybrid score interval for ``b.rate - a.rate`` (a difference of fractions).

    Method 10 of Newcombe 1998 (Statistics in Medicine 17:873-890), built from the two
    Wilson intervals ``[la, ua]``, ``[lb, ub]`` at ``confidence``, with ``d = pb - pa``::

        low  = d - sqrt((pb - lb)^2 + (ua - pa)^2)
        high = d + sqrt((ub - pb)^2 + (pa - la)^2)

    ValueError for non-``Rate`` inputs or a confidence outside (0, 1).
    """
    if not (isinstance(a, Rate) and isinstance(b, Rate)):
        raise ValueError("newcombe needs two Rate values (Rate.of(verdicts))")
    wa, wb = wilson(a.count, a.n, confidence), wilson(b.count, b.n, confidence)
    pa, pb = a.rate, b.rate
    d = pb - pa
    low = d - math.hypot(pb - wb.low, wa.high - pa)
    high = d + math.hypot(wb.high - pb, pa - wa.low)
    return Interval(max(-1.0, low), min(1.0, high), wa.confidence, "newcombe")


@dataclass(frozen=True)
class _Comparison:
    """Fields, ``significant`` and JSON shared by ``RateComparison`` and ``MeasureComparison``."""
    a: Any
    b: Any
    difference: float
    interval: Interval
    p_value: float
    alpha: float
    alternative: str
    label: str

    @property
    def significant(self) -> bool:
        """``p_value < alpha``."""
        return self.p_value < self.alpha

    def _dict(self, method: str, **extra: Any) -> dict[str, Any]:
        return {"label": self.label, "a": self.a.to_dict(), "b": self.b.to_dict(),
                "difference": _num(self.difference), "interval": self.interval.to_dict(), "method": method,
                "alternative": self.alternative, "p_value": _num(self.p_value, 3), "alpha": self.alpha,
                "significant": self.significant, **extra}

    def _test(self, name: str) -> str:
        return f"{name} p = {_p(self.p_value)}{_ONE_SIDED[self.alternative]}"


@dataclass(frozen=True)
class RateComparison(_Comparison):
    """Rate ``a`` (baseline) against rate ``b`` (variant), from ``compare_rates``.

    ``difference`` is ``b.rate - a.rate`` (a fraction; shown in percentage points),
    ``interval`` its Newcombe interval at ``1 - alpha``, ``p_value`` from ``method``
    (``"fisher"`` or ``"barnard"``) under ``alternative``; ``significant`` is
    ``p_value < alpha``.  ``label`` names the rate in messages.
    """
    label: str = "rate"
    method: str = "fisher"

    def to_dict(self) -> dict[str, Any]:
        """JSON data: both rates, the difference and its interval, the test and its outcome."""
        return self._dict(self.method)

    def __str__(self) -> str:
        ci = self.interval
        return (f"{self.label} {self.a.count}/{self.a.n} -> {self.b.count}/{self.b.n}: "
                f"{_pp(self.difference)} pp ({_level(ci.confidence)} CI {_pp(ci.low)} to {_pp(ci.high)} pp), "
                + self._test(self.method.capitalize()))


def compare_rates(a: Rate, b: Rate, *, alpha: float = 0.05, method: str = "fisher",
                  alternative: str = "two-sided", label: str = "rate") -> RateComparison:
    """Compare two independent rates: did ``b`` (variant) move away from ``a`` (baseline)?

    The p-value comes from ``scipy.stats.fisher_exact`` (``method="fisher"``, conditional,
    the default) or ``scipy.stats.barnard_exact`` (``"barnard"``, unconditional, often more
    powerful; takes seconds at a few hundred samples a side) on the 2x2 table
    ``[[b.count, a.count], [b.n - b.count, a.n - a.count]]`` (columns are the samples).
    ``alternative="greater"`` tests that ``b``'s rate is higher ("the clause raises the
    detour rate"), ``"less"`` lower, ``"two-sided"`` either.  The interval for ``b - a`` is
    ``newcombe(a, b, 1 - alpha)`` (two-sided whatever ``alternative``).  ValueError for
    non-``Rate`` inputs, ``alpha`` outside (0, 1), or an unknown method or alternative.
    """
    if not (isinstance(a, Rate) and isinstance(b, Rate)):
        raise ValueError("compare_rates needs two Rate values (Rate.of(verdicts))")
    alpha = _fraction("alpha", alpha)
    _choice("method", method, ("fisher", "barnard"))
    _choice("alternative", alternative, ALTERNATIVES)
    from scipy import stats

    table = [[b.count, a.count], [b.n - b.count, a.n - a.count]]
    test = stats.fisher_exact if method == "fisher" else stats.barnard_exact
    p = float(test(table, alternative=alternative).pvalue)
    return RateComparison(a, b, b.rate - a.rate, newcombe(a, b, 1 - alpha), min(1.0, p), alpha,
                          alternative, label, method)


def _values(name: str, values: Iterable[float]) -> Any:
    import numpy as np

    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of numbers, not a string")
    kept = list(values)
    bad = [v for v in kept if isinstance(v, bool) or not isinstance(v, numbers.Real)]
    if bad or not kept:
        what = f"got {bad[0]!r}" if bad else "got none"
        raise ValueError(f"{name} must be one or more numbers (e.g. reasoning tokens per sample); {what}")
    arr = np.asarray(kept, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinity: drop those samples first")
    return arr


def _bootstrap(data: tuple, statistic: Callable, confidence: float, method: str, seed: int) -> tuple:
    """``scipy.stats.bootstrap`` bounds; BCa that cannot be computed falls back to percentile."""
    import warnings

    import numpy as np
    from scipy import stats

    for m in dict.fromkeys((method, "percentile")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            ci = stats.bootstrap(data, statistic, n_resamples=RESAMPLES, vectorized=True,
                                 confidence_level=confidence, method=m, random_state=seed).confidence_interval
        low, high = np.atleast_1d(ci.low), np.atleast_1d(ci.high)
        if np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
            return low, high, m
    raise ValueError("the bootstrap interval could not be computed: check the values")


def _summary(x: Any, axis: int = -1) -> Any:
    import numpy as np

    return np.stack([np.mean(x, axis=axis), np.median(x, axis=axis), np.percentile(x, 90, axis=axis)])


@dataclass(frozen=True)
class Measure:
    """Summary of a continuous measure over samples (reasoning tokens, characters, hesitations).

    ``n`` values; ``mean``, ``median``, ``p90`` (90th percentile, numpy's linear
    interpolation) in the values' unit, each with a bootstrap ``Interval``.  ``note`` is
    empty unless the intervals degenerated or the method fell back, and then says why.
    """
    n: int
    mean: float
    median: float
    p90: float
    mean_interval: Interval
    median_interval: Interval
    p90_interval: Interval
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON data: n, each statistic with its interval, and the note."""
        stats = {s: {"value": _num(getattr(self, s)), "interval": getattr(self, s + "_interval").to_dict()}
                 for s in _STATISTICS}
        return {"n": self.n, **stats, "note": self.note}

    def __str__(self) -> str:
        parts = [f"{s} {_fmt(getattr(self, s))} ({getattr(self, s + '_interval')})" for s in _STATISTICS]
        return f"n={self.n}: " + ", ".join(parts) + (f"; {self.note}" if self.note else "")


def describe(values: Iterable[float], confidence: float = 0.95, *, method: str = "percentile",
             seed: int = 0) -> Measure:
    """Mean, median and 90th percentile of ``values`` with bootstrap intervals.

    Intervals from ``scipy.stats.bootstrap`` (9999 resamples, ``random_state=seed`` so the
    same values give the same intervals; ``method`` ``"percentile"``, ``"BCa"`` or
    ``"basic"``; a BCa interval that cannot be computed falls back to percentile and the
    note says so).  With fewer than 2 values, or all values equal, every interval is the
    point itself (method ``"degenerate"``) and the note says so.  ValueError for no values,
    non-numbers, NaN or infinity, or a bad confidence or method.
    """
    import numpy as np

    x = _values("values", values)
    confidence = _fraction("confidence", confidence)
    _choice("method", method, BOOTSTRAP_METHODS)
    point = [float(v) for v in _summary(x)]
    if x.size < 2 or np.ptp(x) == 0:
        note = ("one value only" if x.size < 2 else f"all {x.size} values equal") + \
            ": the intervals are degenerate (the point itself) and say nothing about spread"
        cis = [Interval(v, v, confidence, "degenerate") for v in point]
    else:
        low, high, used = _bootstrap((x,), _summary, confidence, method, seed)
        note = "" if used == method else f"{method} could not be computed: percentile intervals"
        cis = [Interval(float(lo), float(hi), confidence, f"bootstrap-{used}") for lo, hi in zip(low, high)]
    return Measure(int(x.size), *point, *cis, note=note)


@dataclass(frozen=True)
class MeasureComparison(_Comparison):
    """Measure ``a`` (baseline) against ``b`` (variant), from ``compare_measures``.

    ``difference`` is ``b.median - a.median`` in the values' unit, ``interval`` its
    bootstrap interval at ``1 - alpha``, ``p_value`` the Mann-Whitney U p-value under
    ``alternative``; ``significant`` is ``p_value < alpha``.  ``note`` explains a degenerate
    or one-sided bootstrap.
    """
    label: str = "value"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON data: both measures, the median difference and its interval, the test."""
        return self._dict("mann-whitney", note=self.note)

    def __str__(self) -> str:
        ci = self.interval
        return (f"{self.label} median {_fmt(self.a.median)} -> {_fmt(self.b.median)}: "
                f"{_fmt(self.difference, True)} ({_level(ci.confidence)} CI {_fmt(ci.low, True)} to "
                f"{_fmt(ci.high, True)}), " + self._test("Mann-Whitney"))


def _median_difference(xa: Any, xb: Any, confidence: float, method: str, seed: int) -> tuple[Interval, str]:
    import numpy as np

    fixed_a, fixed_b = (x.size < 2 or np.ptp(x) == 0 for x in (xa, xb))
    ma, mb = float(np.median(xa)), float(np.median(xb))
    if fixed_a and fixed_b:
        return Interval(mb - ma, mb - ma, confidence, "degenerate"), \
            "each sample has one value or all values equal: the interval is degenerate"
    if fixed_a or fixed_b:
        data = (xb,) if fixed_a else (xa,)
        sign, base = (1.0, ma) if fixed_a else (-1.0, mb)
        stat = lambda x, axis=-1: sign * (np.median(x, axis=axis) - base)  # noqa: E731
        fixed, free = ("a", "b") if fixed_a else ("b", "a")
        note = f"{fixed} has one value or all equal: only {free}'s spread is in the interval"
    else:
        data, note = (xa, xb), ""
        stat = lambda x, y, axis=-1: np.median(y, axis=axis) - np.median(x, axis=axis)  # noqa: E731
    low, high, used = _bootstrap(data, stat, confidence, method, seed)
    return Interval(float(low[0]), float(high[0]), confidence, f"bootstrap-{used}"), note


def compare_measures(a: Iterable[float], b: Iterable[float], *, alpha: float = 0.05,
                     alternative: str = "two-sided", label: str = "value", method: str = "percentile",
                     seed: int = 0) -> MeasureComparison:
    """Compare a continuous measure between two independent samples: ``a`` baseline, ``b`` variant.

    The difference is ``median(b) - median(a)`` with a two-sample bootstrap interval at
    ``1 - alpha`` (``scipy.stats.bootstrap``, independent resampling, 9999 resamples,
    ``random_state=seed``; ``method`` as in ``describe``).  The p-value is
    ``scipy.stats.mannwhitneyu(b, a, alternative=alternative)``: ``"greater"`` tests that
    ``b``'s values tend to be larger.  ValueError for empty or non-numeric samples, NaN or
    infinity, ``alpha`` outside (0, 1), or an unknown alternative or method.
    """
    from scipy.stats import mannwhitneyu

    xa, xb = _values("a", a), _values("b", b)
    alpha = _fraction("alpha", alpha)
    _choice("alternative", alternative, ALTERNATIVES)
    ma, mb = (describe(x, 1 - alpha, method=method, seed=seed) for x in (xa, xb))
    interval, note = _median_difference(xa, xb, 1 - alpha, method, seed)
    p = float(mannwhitneyu(xb, xa, alternative=alternative).pvalue)
    return MeasureComparison(ma, mb, mb.median - ma.median, interval, 1.0 if math.isnan(p) else p,
                             alpha, alternative, label, note)


@dataclass(frozen=True)
class HolmResult:
    """Holm-Bonferroni outcome for m comparisons, in the order given.

    ``p_values`` as given, ``adjusted`` the Holm-adjusted p-values, ``significant[i]`` is
    ``adjusted[i] < alpha``; the family-wise error rate is at most ``alpha``.
    """
    p_values: tuple[float, ...]
    adjusted: tuple[float, ...]
    significant: tuple[bool, ...]
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """JSON data: raw and adjusted p-values (3 significant digits), outcomes, alpha."""
        return {"method": "holm", "alpha": self.alpha, "p_values": [_num(p, 3) for p in self.p_values],
                "adjusted": [_num(p, 3) for p in self.adjusted], "significant": list(self.significant)}

    def __str__(self) -> str:
        return (f"Holm-Bonferroni at alpha {self.alpha:g}: {sum(self.significant)} of {len(self.p_values)} "
                f"significant (adjusted p {', '.join(map(_p, self.adjusted))})")


def holm(p_values: Iterable[float | RateComparison | MeasureComparison], alpha: float = 0.05) -> HolmResult:
    """Which of m comparisons stay significant after the Holm-Bonferroni correction (Holm 1979).

    Holm's step-down procedure (Scand. J. Statist. 6:65-70): sort the p-values
    ``p(1) <= ... <= p(m)``; the adjusted value of ``p(i)`` is
    ``min(1, max over j <= i of (m - j + 1) p(j))``; comparison i is significant when its
    adjusted value is ``< alpha`` (strict, like ``significant`` on one comparison, so that
    m = 1 agrees with it).  This bounds the chance of any false positive among the m at
    ``alpha``.  Items are p-values or results with a ``p_value``.  ValueError for no items
    or a p-value outside [0, 1], or ``alpha`` outside (0, 1).
    """
    ps = [_fraction("each p-value", getattr(p, "p_value", p), closed=True) for p in p_values]
    alpha = _fraction("alpha", alpha)
    if not ps:
        raise ValueError("holm needs at least one p-value")
    m, adjusted, running = len(ps), [0.0] * len(ps), 0.0
    for rank, i in enumerate(sorted(range(len(ps)), key=ps.__getitem__)):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return HolmResult(tuple(ps), tuple(adjusted), tuple(q < alpha for q in adjusted), alpha)
