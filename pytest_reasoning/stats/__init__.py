"""Statistics for sampled reasoning: rates, pass@k, threshold decisions, two-sample comparisons.

Pure functions over booleans, counts and numbers, with no pytest or trace types.  Rates are
fractions in [0, 1]; a comparison's difference is always ``b - a`` (``a`` the baseline, ``b``
the variant); confidence levels and ``alpha`` are fractions (0.95, 0.05).  scipy and numpy
are imported inside the functions that need them, so importing this module stays cheap.

Modules: :mod:`.common` (``Interval``, Wilson), :mod:`.rates` (``Rate``, pass@k,
pass^k, the decision rule), :mod:`.compare` (rate comparisons, Holm), :mod:`.measures`
(bootstrap measures, Mann–Whitney).
"""

from .common import Interval, wilson
from .compare import HolmResult, RateComparison, compare_rates, holm, newcombe
from .measures import Measure, MeasureComparison, compare_measures, describe
from .rates import Decision, Rate, decide, pass_at_k, pass_hat_k, samples_to_decide

__all__ = [
    "Interval", "Rate", "wilson", "pass_at_k", "pass_hat_k", "Decision", "decide",
    "samples_to_decide", "RateComparison", "newcombe", "compare_rates", "Measure", "describe",
    "MeasureComparison", "compare_measures", "HolmResult", "holm",
]
