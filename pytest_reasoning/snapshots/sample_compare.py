"""When a sample snapshot matches: a statistical test, not equality.

A sample of a sampled model is noise around a distribution, so a new sample matches
the stored one unless something *moved significantly*:

* **rates** — for every verdict recorded on the traces of both samples (kind and
  label), the share of traces that passed it (for a detour: that took it); and every
  sample verdict recorded in both (its stored count of n) unless it is the very same
  count in both samples as the per-trace verdict of that kind and label.  Each is
  compared with Fisher's exact test, two-sided (``scipy.stats.fisher_exact``), its
  difference shown with Newcombe's hybrid score interval (Newcombe 1998);
* **measures** — reasoning characters, hesitations, reasoning sentences and reasoning
  tokens where known, recomputed from the stored traces, each compared where both
  samples have two or more values with the Mann–Whitney U test, two-sided
  (``scipy.stats.mannwhitneyu``), the difference in medians shown with a bootstrap
  interval;
* **Holm's correction** (Holm 1979) across all of these comparisons together, at
  :data:`ALPHA` = 0.05: a comparison is significant when its Holm-adjusted p-value is
  below 0.05, which bounds the chance of any false alarm in one snapshot at 5%.

It is also a mismatch when the set of checks differs: a verdict (kind and label, on
the sample or on its traces) recorded in one sample and not in the other.  Nothing
else is compared: neither the wording, nor the order of the traces, nor a verdict's
threshold or decision (only its counts).  The statistics are
:mod:`pytest_reasoning.stats`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from .sample_schema import SampleSnapshot

__all__ = ["ALPHA", "RULE", "SampleSnapshotComparison", "compare_sample_snapshots", "compare_sample_texts",
           "sample_summary_lines"]

#: The significance level of a sample snapshot comparison (after Holm's correction).
ALPHA = 0.05
#: The rule, as the failure message states it.
RULE = ("two-sided Fisher's exact test for rates, Mann-Whitney U for measures; "
        "Holm's correction across {m} comparisons at alpha {alpha:g}")
#: The measures compared, as :data:`pytest_reasoning.sample.MEASURES` names them.
MEASURE_NAMES = ("reasoning tokens", "reasoning characters", "hesitations", "reasoning sentences")


def _p(p: float) -> str:
    return f"{p:.2g}"


def _key(kind: str, label: str) -> str:
    return f"{kind} {label!r}"


@dataclass
class SampleSnapshotComparison:
    """The stored sample (``a``) against the new one (``b``).

    Attributes:
        comparisons: ``{name: RateComparison | MeasureComparison}`` (rates first), each
            with its difference (``b - a``: percentage points, or the measure's unit
            for a difference in medians), interval at 1 - alpha and raw p-value.
        adjusted: ``{name: Holm-adjusted p-value}``.
        added: verdicts (``"kind 'label'"``) recorded in the new sample only.
        removed: verdicts recorded in the stored sample only.
        alpha: the significance level (:data:`ALPHA`).
        sizes: ``(stored n, new n)``.
    """

    comparisons: dict[str, Any] = field(default_factory=dict)
    adjusted: dict[str, float] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    alpha: float = ALPHA
    sizes: tuple[int, int] = (0, 0)

    @property
    def significant(self) -> list[str]:
        """The comparisons whose Holm-adjusted p-value is below ``alpha``: the rates
        (what the checks count: detours, answers, paths) before the measures, each
        smallest adjusted p first."""
        from ..stats import RateComparison

        hits = [name for name, p in self.adjusted.items() if p < self.alpha]
        return sorted(hits, key=lambda name: (not isinstance(self.comparisons[name], RateComparison),
                                              self.adjusted[name], self.comparisons[name].p_value))

    @property
    def matches(self) -> bool:
        """No significant change and the same set of checks."""
        return not (self.significant or self.added or self.removed)

    def line(self, name: str) -> str:
        """One comparison: effect with its interval, raw and Holm-adjusted p-value."""
        return f"{self.comparisons[name]} (Holm-adjusted p = {_p(self.adjusted[name])})"

    def lines(self) -> list[str]:
        """The summary a mismatch shows first: a header naming the correction and the
        significance level, the significant changes (effect and interval first,
        rates before measures, smallest adjusted p first), added or removed checks, the rule in full, then the
        comparisons that did not move."""
        out = [f"What changed in the sample ({self.sizes[0]} -> {self.sizes[1]} traces; "
               f"Holm-corrected, alpha {self.alpha:g}):"]
        out += [f"  - {self.line(name)}" for name in self.significant]
        out += [f"  - check added: {key} (not in the stored sample)" for key in self.added]
        out += [f"  - check removed: {key} (not in the new sample)" for key in self.removed]
        if len(out) == 1:
            out.append("  - nothing moved significantly and the checks are the same")
        out.append(f"  ({RULE.format(m=len(self.comparisons), alpha=self.alpha)})")
        quiet = [name for name in self.comparisons if name not in self.significant]
        if quiet:
            out.append("  not significant:")
            out += [f"    {self.line(name)}" for name in quiet]
        return out


def _rate_name(kind: str, label: str) -> str:
    return f"{label} rate" if kind == "detour" else f"{kind} ({label}) rate"


def _rates(old: SampleSnapshot, new: SampleSnapshot, alpha: float) -> dict[str, Any]:
    """Fisher's exact test of every per-trace verdict and every sample verdict
    recorded in both samples (a sample verdict that repeats the per-trace counts of its
    kind and label in both samples is compared once)."""
    from ..stats import Rate, compare_rates

    out: dict[str, Any] = {}
    per_trace = [old.trace_verdicts(), new.trace_verdicts()]
    for key in (k for k in per_trace[0] if k in per_trace[1]):
        name = _rate_name(*key)
        a, b = (Rate.of(verdicts[key]) for verdicts in per_trace)
        out[name] = compare_rates(a, b, alpha=alpha, label=name)
    stored = {(v.kind, v.label): v for v in new.checks}
    for verdict in old.checks:
        other = stored.get((verdict.kind, verdict.label))
        if other is None:
            continue
        a, b = Rate(verdict.count, verdict.n), Rate(other.count, other.n)
        same = out.get(_rate_name(verdict.kind, verdict.label))
        if same is not None and (same.a.count, same.a.n, same.b.count, same.b.n) == (a.count, a.n, b.count, b.n):
            continue
        name = f"sample {verdict.kind} verdict ({verdict.label}) rate"
        out[name] = compare_rates(a, b, alpha=alpha, label=name)
    return out


def _measures(old: SampleSnapshot, new: SampleSnapshot, alpha: float) -> dict[str, Any]:
    """The Mann–Whitney U comparison of each measure with two or more known values in
    both samples."""
    from ..stats import compare_measures

    out: dict[str, Any] = {}
    for name in MEASURE_NAMES:
        a, b = old.values(name), new.values(name)
        if len(a) >= 2 and len(b) >= 2:
            out[name] = compare_measures(a, b, alpha=alpha, label=name)
    return out


def compare_sample_snapshots(old: SampleSnapshot, new: SampleSnapshot, alpha: float = ALPHA
                             ) -> SampleSnapshotComparison:
    """Compare the stored sample ``old`` with the new sample ``new`` by the rule in
    the module docstring: two-sided Fisher's exact test for each rate, two-sided
    Mann–Whitney U for each measure, Holm's correction across all of them at ``alpha``
    (0.05), and the set of checks.

    Returns:
        :class:`SampleSnapshotComparison` (``matches`` says whether it matched).

    Raises:
        ValueError: ``alpha`` is not strictly between 0 and 1.
    """
    from ..stats import holm

    old_keys, new_keys = old.verdict_keys(), new.verdict_keys()
    result = SampleSnapshotComparison(
        added=[_key(*k) for k in new_keys if k not in old_keys],
        removed=[_key(*k) for k in old_keys if k not in new_keys],
        alpha=alpha, sizes=(old.n, new.n),
    )
    result.comparisons = {**_rates(old, new, alpha), **_measures(old, new, alpha)}
    if result.comparisons:
        corrected = holm([c.p_value for c in result.comparisons.values()], alpha)
        result.adjusted = dict(zip(result.comparisons, corrected.adjusted))
    return result


@functools.lru_cache(maxsize=8)
def compare_sample_texts(stored: str, new: str) -> SampleSnapshotComparison:
    """:func:`compare_sample_snapshots` of two sample snapshot files' texts at
    :data:`ALPHA` (cached: a mismatch's report reuses the comparison its match made).

    Raises:
        ValueError: either text is not a readable sample snapshot (the message says
            which and why).
    """
    snapshots = []
    for which, text in (("stored", stored), ("new", new)):
        try:
            snapshots.append(SampleSnapshot.from_json(text))
        except ValueError as e:
            raise ValueError(f"the {which} snapshot is not a readable sample snapshot ({e})") from None
    return compare_sample_snapshots(*snapshots)


def sample_summary_lines(stored: str, new: str) -> list[str]:
    """The block a sample snapshot mismatch shows first (see
    :meth:`SampleSnapshotComparison.lines`), or one line saying why the two texts
    could not be compared (one of them is not a sample snapshot)."""
    try:
        return compare_sample_texts(stored, new).lines()
    except ValueError as e:
        return [f"What changed in the sample: cannot compare: {e}; review the files and rewrite the snapshot "
                "with --snapshot-update"]
