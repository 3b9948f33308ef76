"""pytest_reasoning.stats against scipy, textbook values and brute-force enumeration."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sps

from pytest_reasoning.stats import (
    Interval,
    Rate,
    compare_measures,
    compare_rates,
    decide,
    describe,
    holm,
    newcombe,
    pass_at_k,
    pass_hat_k,
    samples_to_decide,
    wilson,
)



def wilson_closed_form(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson 1927 written out (independent of scipy's binomtest): centre +- half width."""
    z = sps.norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def json_roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data))


# -- Wilson and Rate ----------------------------------------------------------------------------

@pytest.mark.parametrize("k, n", [(0, 10), (5, 10), (10, 10), (37, 64), (1, 1), (0, 1)])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_wilson_matches_scipy_and_the_closed_form(k, n, confidence):
    ci = wilson(k, n, confidence)
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert (ci.low, ci.high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert (ci.low, ci.high) == pytest.approx(wilson_closed_form(k, n, confidence), abs=1e-9)
    assert ci.confidence == confidence and ci.method == "wilson"


@pytest.mark.parametrize("k, n, low, high", [
    # Newcombe 1998, Statistics in Medicine 17:857 (single proportion), Wilson score method:
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
])
def test_wilson_textbook_values(k, n, low, high):
    ci = wilson(k, n)
    assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)


def test_wilson_edges_are_exact():
    assert wilson(0, 10).low == 0.0 and wilson(10, 10).high == 1.0


def test_rate_from_verdicts_keeps_them_and_reads_well():
    verdicts = [True] * 12 + [False] * 4
    rate = Rate.of(verdicts)
    assert (rate.count, rate.n, rate.rate) == (12, 16, 0.75)
    assert rate.verdicts == tuple(verdicts)
    assert str(rate) == "12/16 = 75% (95% CI 50.5%–89.8%)"
    assert Rate.of(np.array(verdicts)) == rate
    data = json_roundtrip(rate.to_dict())
    assert data["count"] == 12 and data["interval"]["method"] == "wilson" and "verdicts" not in data
    assert json_roundtrip(rate.to_dict(verdicts=True))["verdicts"] == verdicts
    assert Rate.of([True], confidence=0.9).interval.confidence == 0.9


# -- pass@k and pass^k --------------------------------------------------------------------------

def brute_force(n: int, c: int, k: int, rule) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(samples, k))
    return sum(rule(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 8))
def test_pass_at_k_and_pass_hat_k_match_enumeration_of_all_k_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k, any), abs=1e-12)
            assert pass_hat_k(n, c, k) == pytest.approx(brute_force(n, c, k, all), abs=1e-12)


@pytest.mark.parametrize("n, c, k", [(200, 3, 100), (200, 150, 10), (1000, 1, 1), (64, 40, 5)])
def test_pass_at_k_large_n_matches_the_binomial_formula(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), rel=1e-9)
    assert pass_hat_k(n, c, k) == pytest.approx(math.comb(c, k) / math.comb(n, k), rel=1e-9, abs=1e-300)


def test_pass_at_1_is_the_pass_rate():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3) and pass_hat_k(10, 3, 1) == pytest.approx(0.3)


# -- the decision rule --------------------------------------------------------------------------

RATE = Rate(12, 16)  # Wilson 95%: 0.5050 to 0.8982
LOW, HIGH = RATE.interval.low, RATE.interval.high


@pytest.mark.parametrize("threshold, passed, conclusive", [
    (LOW, True, True),                       # exactly on the low edge: at or above
    (math.nextafter(LOW, 0), True, True),    # just below the interval
    (math.nextafter(LOW, 1), True, False),   # just inside: straddles
    (HIGH, True, False),                     # exactly on the high edge: not wholly below
    (math.nextafter(HIGH, 1), False, True),  # just above the interval: a clear shortfall
])
def test_min_rate_at_the_interval_edges(threshold, passed, conclusive):
    d = decide(RATE, min_rate=threshold)
    assert (d.passed, d.conclusive, bool(d)) == (passed, conclusive, passed)
    assert ("inconclusive" in d.reason) == (not conclusive)


@pytest.mark.parametrize("threshold, passed, conclusive", [
    (HIGH, True, True),
    (math.nextafter(HIGH, 1), True, True),
    (math.nextafter(HIGH, 0), True, False),
    (LOW, True, False),
    (math.nextafter(LOW, 0), False, True),
])
def test_max_rate_mirrors_it(threshold, passed, conclusive):
    d = decide(RATE, max_rate=threshold)
    assert (d.passed, d.conclusive) == (passed, conclusive)


def test_inconclusive_reason_says_how_many_samples_would_decide():
    d = decide(RATE, min_rate=0.8)
    assert not d.conclusive and d.passed
    assert d.samples_needed == samples_to_decide(0.75, 0.8) and d.samples_needed > 16
    assert f"about {d.samples_needed} samples" in d.reason and "straddles min_rate 80%" in d.reason
    assert str(d).startswith("pass: 12/16 = 75%")
    assert json_roundtrip(d.to_dict())["samples_needed"] == d.samples_needed


@pytest.mark.parametrize("observed, threshold", [(0.75, 0.5), (0.75, 0.8), (0.1, 0.05), (0.3, 0.31)])
def test_samples_to_decide_is_where_the_wilson_interval_stops_straddling(observed, threshold):
    n = samples_to_decide(observed, threshold)
    inside = [wilson_closed_form(observed * m, m) for m in (n - 1, n)]
    assert inside[0][0] <= threshold <= inside[0][1]       # n - 1 samples: still straddles
    assert not inside[1][0] <= threshold <= inside[1][1]   # n samples: decided


def test_rate_exactly_on_the_threshold_never_decides():
    d = decide(Rate(8, 16), min_rate=0.5)
    assert d.passed and not d.conclusive and d.samples_needed is None
    assert "will not decide" in d.reason
    assert samples_to_decide(0.5, 0.5) is None


def test_one_sample():
    d = decide(Rate(1, 1), min_rate=0.5)
    assert d.passed and not d.conclusive and d.samples_needed == 4
    assert decide(Rate(4, 4), min_rate=0.5).conclusive and not decide(Rate(3, 3), min_rate=0.5).conclusive
    assert decide(Rate(0, 1), max_rate=0.5).conclusive is False


def test_all_pass_and_none_pass():
    assert decide(Rate(20, 20), min_rate=0.8).conclusive            # low = 0.839
    assert not decide(Rate(20, 20), max_rate=0.8).passed           # low > 0.8
    assert decide(Rate(0, 20), max_rate=0.2).conclusive             # high = 0.161
    assert not decide(Rate(0, 20), min_rate=0.2).passed
    d = decide(Rate(20, 20), min_rate=1.0)                         # 100% can never be shown
    assert d.passed and not d.conclusive and d.samples_needed is None
    assert decide(Rate(0, 5), min_rate=0.0).conclusive and decide(Rate(5, 5), max_rate=1.0).conclusive


def test_both_thresholds():
    d = decide(RATE, min_rate=0.5, max_rate=0.8)
    assert d.passed and not d.conclusive and d.reason.count(";") >= 2
    assert not decide(RATE, min_rate=0.1, max_rate=0.3).passed


# -- two rates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, low, high", [
    # Newcombe 1998, Statistics in Medicine 17:873, Table II, method 10 (difference = first - second)
    ((56, 70), (48, 80), 0.0524, 0.3339),
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((5, 56), (0, 29), -0.0381, 0.1926),
    ((0, 10), (0, 20), -0.1611, 0.2775),
    ((0, 10), (0, 10), -0.2775, 0.2775),
    ((10, 10), (0, 20), 0.6791, 1.0),
    ((10, 10), (0, 10), 0.6075, 1.0),
])
def test_newcombe_matches_the_paper(a, b, low, high):
    ci = newcombe(Rate(*b), Rate(*a))  # b - a in this module's convention
    assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)


@pytest.mark.parametrize("a, b", [((10, 64), (41, 64)), ((3, 7), (6, 7)), ((0, 5), (5, 5))])
def test_newcombe_from_closed_form_wilson_and_antisymmetric(a, b):
    (la, ua), (lb, ub) = wilson_closed_form(*a), wilson_closed_form(*b)
    pa, pb = a[0] / a[1], b[0] / b[1]
    ci = newcombe(Rate(*a), Rate(*b))
    assert ci.low == pytest.approx(pb - pa - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2), abs=1e-9)
    assert ci.high == pytest.approx(pb - pa + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2), abs=1e-9)
    back = newcombe(Rate(*b), Rate(*a))
    assert (back.low, back.high) == pytest.approx((-ci.high, -ci.low), abs=1e-12)


@pytest.mark.parametrize("a, b", [((10, 64), (41, 64)), ((5, 20), (6, 20)), ((0, 8), (3, 12))])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_fisher_p_values_match_scipy(a, b, alternative):
    table = [[b[0], a[0]], [b[1] - b[0], a[1] - a[0]]]
    got = compare_rates(Rate(*a), Rate(*b), alternative=alternative)
    assert got.p_value == pytest.approx(sps.fisher_exact(table, alternative=alternative).pvalue, rel=1e-12)
    assert got.significant == (got.p_value < 0.05)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_barnard_p_values_match_scipy(alternative):
    a, b = (5, 20), (12, 20)
    table = [[12, 5], [8, 15]]
    got = compare_rates(Rate(*a), Rate(*b), method="barnard", alternative=alternative)
    assert got.p_value == pytest.approx(sps.barnard_exact(table, alternative=alternative).pvalue, rel=1e-12)


def test_textbook_p_values():
    # Fisher's tea tasting, 3 of 4 cups right: two-sided p = 17/35, one-sided 17/70.
    a, b = Rate(1, 4), Rate(3, 4)
    assert compare_rates(a, b).p_value == pytest.approx(17 / 35)
    assert compare_rates(a, b, alternative="greater").p_value == pytest.approx(17 / 70)
    # scipy.stats.barnard_exact's documented vaccine example: 7/15 vs 12/15, one-sided p = 0.03407.
    got = compare_rates(Rate(12, 15), Rate(7, 15), method="barnard", alternative="less")
    assert got.p_value == pytest.approx(0.03407, abs=1e-5)


def test_direction_of_one_sided_tests_and_the_message():
    a, b = Rate(10, 64), Rate(41, 64)
    raised = compare_rates(a, b, alternative="greater", label="detour rate")
    assert raised.significant and compare_rates(a, b, alternative="less").p_value > 0.99
    two = compare_rates(a, b, label="detour rate")
    assert two.difference == pytest.approx(31 / 64)
    assert str(two) == "detour rate 10/64 -> 41/64: +48 pp (95% CI +32 to +61 pp), Fisher p = 2.9e-08"
    assert "one-sided" in str(raised)
    data = json_roundtrip(two.to_dict())
    assert data["method"] == "fisher" and data["significant"] is True and data["p_value"] == 2.88e-08
    assert compare_rates(a, b, alpha=0.01).interval.confidence == 0.99


def test_equal_rates_are_not_significant():
    got = compare_rates(Rate(0, 10), Rate(0, 10), method="barnard")
    assert got.p_value == 1.0 and not got.significant and got.difference == 0
    assert "+0 pp" in str(got)


# -- continuous measures ------------------------------------------------------------------------

TOKENS_A = [812, 640, 955, 1210, 700, 590, 1430, 880, 760, 1020, 690, 930, 1100, 655, 870, 990]
TOKENS_B = [1240, 1100, 1500, 980, 1620, 1330, 1190, 1710, 1050, 1400, 1275, 1380, 900, 1555, 1210, 1300]


def test_describe_matches_numpy_and_scipy_bootstrap():
    m = describe(TOKENS_A)
    x = np.asarray(TOKENS_A, dtype=float)
    assert (m.n, m.mean, m.median, m.p90) == (16, x.mean(), np.median(x), np.percentile(x, 90))
    ref = sps.bootstrap((x,), np.mean, method="percentile", random_state=0).confidence_interval
    assert (m.mean_interval.low, m.mean_interval.high) == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert m.mean_interval.method == "bootstrap-percentile" and m.note == ""
    assert describe(TOKENS_A) == m                                          # reproducible
    assert m.median_interval.low <= m.median <= m.median_interval.high
    data = json_roundtrip(m.to_dict())
    assert data["median"]["value"] == 875.0 and data["n"] == 16
    assert str(m).startswith("n=16: mean ")


def test_describe_bca_and_its_fallback():
    m = describe(TOKENS_A, method="BCa")
    ref = sps.bootstrap((np.asarray(TOKENS_A, float),), np.mean, random_state=0).confidence_interval
    assert (m.mean_interval.low, m.mean_interval.high) == pytest.approx((ref.low, ref.high), rel=1e-12)
    lumpy = describe([1.0] * 9 + [2.0], method="BCa")   # BCa's bias correction is infinite here
    assert "percentile" in lumpy.note and lumpy.median_interval.method == "bootstrap-percentile"


@pytest.mark.parametrize("values, says", [([42], "one value only"), ([7, 7, 7], "all 3 values equal")])
def test_describe_degenerate_data(values, says):
    m = describe(values)
    assert m.mean_interval.low == m.mean_interval.high == values[0]
    assert m.p90_interval.method == "degenerate" and says in m.note and says in str(m)


def test_compare_measures_matches_scipy():
    got = compare_measures(TOKENS_A, TOKENS_B, label="reasoning tokens")
    ref = sps.mannwhitneyu(TOKENS_B, TOKENS_A)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-12) and got.significant
    assert got.difference == np.median(TOKENS_B) - np.median(TOKENS_A)

    def median_difference(x, y, axis=-1):
        return np.median(y, axis=axis) - np.median(x, axis=axis)

    ci = sps.bootstrap((TOKENS_A, TOKENS_B), median_difference, method="percentile",
                       random_state=0).confidence_interval
    assert (got.interval.low, got.interval.high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert str(got).startswith("reasoning tokens median 875 -> 1,288: +412 (95% CI ")
    assert "Mann-Whitney p = " in str(got)
    assert json_roundtrip(got.to_dict())["method"] == "mann-whitney"


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_compare_measures_one_sided(alternative):
    got = compare_measures(TOKENS_A, TOKENS_B, alternative=alternative)
    assert got.p_value == pytest.approx(sps.mannwhitneyu(TOKENS_B, TOKENS_A, alternative=alternative).pvalue)
    assert got.significant == (alternative == "greater")


def test_mann_whitney_textbook_example():
    # scipy.stats.mannwhitneyu's documented example (ages at diagnosis): U = 17, exact p = 1/9.
    males, females = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    got = compare_measures(females, males)
    pooled = males + females
    extreme = 0
    for chosen in itertools.combinations(range(9), 5):   # every split: the exact permutation p-value
        u = sum(pooled[i] > pooled[j] for i in chosen for j in set(range(9)) - set(chosen))
        extreme += abs(u - 10) >= abs(17 - 10)
    assert got.p_value == pytest.approx(1 / 9) == pytest.approx(extreme / math.comb(9, 5))


def test_compare_measures_degenerate_samples():
    both = compare_measures([5, 5], [7])
    assert both.interval.method == "degenerate" and both.interval.low == 2 and "degenerate" in both.note
    one = compare_measures([5, 5, 5], [6, 9, 12, 8])
    assert one.interval.low > 0 and "only b's spread" in one.note
    assert compare_measures([3], [3]).p_value == 1.0


# -- Holm ---------------------------------------------------------------------------------------

def test_holm_hand_worked():
    # m = 4, alpha = 0.05.  Sorted: 0.005 <= 0.05/4 reject; 0.01 <= 0.05/3 reject;
    # 0.03 > 0.05/2 stop, so 0.03 and 0.04 stand.  Adjusted: 4*0.005=0.02, 3*0.01=0.03,
    # 2*0.03=0.06, max(0.06, 1*0.04)=0.06.
    got = holm([0.01, 0.04, 0.03, 0.005])
    assert got.significant == (True, False, False, True)
    assert got.adjusted == pytest.approx((0.03, 0.06, 0.06, 0.02))
    assert str(got).startswith("Holm-Bonferroni at alpha 0.05: 2 of 4 significant")
    assert json_roundtrip(got.to_dict())["significant"] == [True, False, False, True]


def test_holm_takes_comparisons_and_agrees_with_one_test():
    cmp = compare_rates(Rate(10, 64), Rate(41, 64))
    assert holm([cmp]).significant == (cmp.significant,)
    assert holm([0.05]).significant == (False,)          # strict, like p < alpha
    assert holm([0.2, 0.3], alpha=0.5).adjusted == pytest.approx((0.4, 0.4))


# -- bad input ----------------------------------------------------------------------------------

BAD = [
    (lambda: Rate.of([]), "no verdicts"),
    (lambda: Rate.of([1, 0]), "must be bools"),
    (lambda: Rate.of("TTF"), "not a string"),
    (lambda: Rate(5, 4), "count <= n"),
    (lambda: Rate(0, 0), "n >= 1"),
    (lambda: Rate(-1, 4), "whole number"),
    (lambda: Rate(2, 4, verdicts=(True,) * 4), "verdicts hold"),
    (lambda: wilson(1, 2, confidence=95), "between 0 and 1"),
    (lambda: pass_at_k(5, 2, 6), "k <= n"),
    (lambda: pass_at_k(5, 6, 2), "c <= n"),
    (lambda: pass_at_k(-5, 2, 1), "whole number"),
    (lambda: pass_hat_k(5, 2, 0), "1 <= k"),
    (lambda: pass_hat_k(5, -1, 2), "whole number"),
    (lambda: pass_at_k(5.0, 2, 1), "whole number"),
    (lambda: decide(RATE), "min_rate, max_rate or both"),
    (lambda: decide(RATE, min_rate=1.5), "from 0 to 1"),
    (lambda: decide(RATE, max_rate=-0.1), "from 0 to 1"),
    (lambda: decide(RATE, min_rate=0.8, max_rate=0.2), "above max_rate"),
    (lambda: decide(0.75, min_rate=0.5), "needs a Rate"),
    (lambda: compare_rates(RATE, RATE, method="chi2"), "method must be one of"),
    (lambda: compare_rates(RATE, RATE, alternative="bigger"), "alternative must be one of"),
    (lambda: compare_rates(RATE, RATE, alpha=0), "alpha"),
    (lambda: compare_rates(RATE, 0.5), "two Rate values"),
    (lambda: describe([]), "got none"),
    (lambda: describe([1.0, float("nan")]), "NaN"),
    (lambda: describe(["12"]), "numbers"),
    (lambda: describe([1, 2], method="jackknife"), "method must be one of"),
    (lambda: describe([1, 2], confidence=1), "confidence"),
    (lambda: compare_measures([1, 2], []), "got none"),
    (lambda: compare_measures([1, 2], [3, 4], alternative="up"), "alternative"),
    (lambda: holm([]), "at least one"),
    (lambda: holm([0.2, 1.2]), "p-value"),
    (lambda: holm([0.2], alpha=5), "alpha"),
    (lambda: samples_to_decide(0.5, 2), "threshold"),
]


@pytest.mark.parametrize("call, says", BAD, ids=[s for _, s in BAD])
def test_bad_input_gives_a_one_line_value_error(call, says):
    with pytest.raises(ValueError, match=says) as info:
        call()
    assert "\n" not in str(info.value)


def test_interval_helpers():
    ci = Interval(0.2, 0.4, 0.9, "wilson")
    assert 0.3 in ci and 0.5 not in ci and str(ci) == "90% CI 0.2 to 0.4"


def test_importing_the_module_loads_neither_scipy_nor_numpy():
    code = (
        "import sys, pytest_reasoning.stats\n"
        "print(sorted(m for m in ('scipy', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert importlib.util.find_spec("scipy") is not None
