"""Two-sample comparisons of rates (Fisher or Barnard, Newcombe's interval) and Holm's
correction for several at once."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .common import (
    _ONE_SIDED,
    ALTERNATIVES,
    Interval,
    _choice,
    _fraction,
    _level,
    _num,
    _p,
    _pp,
    wilson,
)
from .rates import Rate


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


def holm(p_values: Iterable[Any], alpha: float = 0.05) -> HolmResult:
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
