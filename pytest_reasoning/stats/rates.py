"""Rates of passing samples: the Wilson-interval rate, pass@k, pass^k and the threshold
decision rule."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .common import (
    Interval,
    _count,
    _fraction,
    _level,
    _num,
    _pct,
    _pct_end,
    wilson,
)


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
                f"({_level(ci.confidence)} CI {_pct_end(ci.low)}–{_pct_end(ci.high)})")


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
