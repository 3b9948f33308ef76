"""Shared parts of the statistics: the interval type, Wilson's interval, formatting and
input checks."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


def _pct_end(x: float) -> str:
    """An interval's end in percent, to a tenth where whole percents would round it
    onto a threshold a reader compares it with (89.8% must not read as 90%)."""
    p = 100 * x
    text = f"{p:.1f}"
    return f"{text[:-2]}%" if text.endswith(".0") else f"{text}%"


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
