"""Continuous measures of a sample (tokens, characters, hesitations): bootstrap
intervals and the Mann–Whitney comparison."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .common import (
    _STATISTICS,
    ALTERNATIVES,
    BOOTSTRAP_METHODS,
    RESAMPLES,
    Interval,
    _choice,
    _fmt,
    _fraction,
    _level,
    _num,
)
from .compare import _Comparison


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
