"""Why did the reasoning take a detour?  Prompt-span ablation on any backend
(``reasoning_model.explain``), and with ``--reasoning-explain`` on every detour failure.

The prompt (the last user message) is cut into spans (:mod:`.text.spans`: clauses and
phrases, English, Japanese, Chinese).  The prompt is sampled ``n`` times as it is, then
``n`` times with each span left out (the rest repaired to read as a question); the
detour rate with the span and without it are compared by Fisher's exact test
(two-sided), the difference with Newcombe's interval, and the p-values of all the
comparisons made are corrected by Holm's method (:mod:`.stats`).  A span *matters*
when its Holm-adjusted p-value is below ``alpha``; its effect is the rate with it minus
the rate without it (+100 pp: the detour follows the span).

Up to :data:`ONE_AT_A_TIME` spans are left out one at a time, all in one batch.  With
more, the search goes by groups (delta debugging, Zeller 2002): leave out each half,
then each half of a group whose removal lowered the rate (one-sided Fisher's p below
``alpha``), one batch a round, down to single spans.  A group search follows drops only,
and a detour that either of two spans in different halves brings on its own is found
by neither (leaving out one half keeps the other span).

Every run is an ordinary sample request (sample ``i`` of a prompt variant), recorded
and replayed through the test's cassette.  On local models the explanation can also
carry token attribution (:mod:`.attribution`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from .stats import Rate, RateComparison, compare_rates, holm
from .text.spans import Segmentation, Span, split_spans

__all__ = ["Explanation", "SpanEffect", "Variant", "EXPLANATIONS", "MIN_SAMPLES", "ONE_AT_A_TIME",
           "samples_needed", "explain"]

#: Every explanation a test made, in order (what reports read).
EXPLANATIONS = pytest.StashKey[list[Any]]()
#: The fewest samples per prompt variant ``explain`` takes (see :func:`samples_needed`).
MIN_SAMPLES = 8
#: At most this many spans are left out one at a time; more are searched in groups.
ONE_AT_A_TIME = 8


def _pp(fraction: float) -> str:
    """A difference of rates in signed percentage points, never "-0"."""
    text = f"{100 * fraction:+.0f}"
    return "+0" if text == "-0" else text


def samples_needed(comparisons: int, alpha: float = 0.05) -> int:
    """The rule for ``n``: at least :data:`MIN_SAMPLES`, and enough that a span whose
    removal takes the detour rate from n/n to 0/n would be significant after Holm's
    correction across ``comparisons``: the smallest two-sided Fisher p-value of two
    samples of n is ``2 / C(2n, n)``, so ``comparisons * 2 / C(2n, n) < alpha``."""
    n = MIN_SAMPLES
    while comparisons * 2 / math.comb(2 * n, n) >= alpha:
        n += 1
    return n


@dataclass(frozen=True)
class Variant:
    """The prompt with some spans left out, and what that did to the detour rate.

    Attributes:
        removed: indexes of the spans left out.
        prompt: the prompt without them (:meth:`Segmentation.without`).
        rate: the detour rate without them (n samples).
        comparison: without (``a``) against with (``b``): ``difference`` is the rate
            with the spans minus the rate without them, Newcombe's interval, two-sided
            Fisher p-value.
        screen_p: one-sided Fisher p-value that leaving them out lowers the rate (what
            the group search follows).
        adjusted_p: Holm-adjusted p-value across every variant of the explanation.
    """

    removed: tuple[int, ...]
    prompt: str
    rate: Rate
    comparison: RateComparison
    screen_p: float
    adjusted_p: float = 1.0

    @property
    def significant(self) -> bool:
        """``adjusted_p < alpha``."""
        return self.adjusted_p < self.comparison.alpha


@dataclass(frozen=True)
class SpanEffect:
    """One span and what leaving it out did.

    Attributes:
        index: the span's position among the prompt's spans.
        span: the :class:`~pytest_reasoning.text.spans.Span` (text, start, end).
        with_rate: the detour rate of the whole prompt.
        variant: the smallest :class:`Variant` that left this span out (``None`` when
            no variant did: nothing to explain, or a group search that never reached it).
        alone: the variant left out this span only (else the numbers are its group's).
    """

    index: int
    span: Span
    with_rate: Rate
    variant: Variant | None = None
    alone: bool = False

    text = property(lambda self: self.span.text, doc="The span's text.")
    start = property(lambda self: self.span.start, doc="Its start offset in the prompt.")
    end = property(lambda self: self.span.end, doc="Its end offset in the prompt.")

    @property
    def without_rate(self) -> Rate | None:
        """The detour rate without the span (its group's, when not ``alone``)."""
        return self.variant.rate if self.variant else None

    @property
    def difference(self) -> float | None:
        """Rate with minus rate without, a fraction (+1.0: the detour follows the span)."""
        return self.variant.comparison.difference if self.variant else None

    @property
    def interval(self) -> Any:
        """Newcombe's interval of :attr:`difference` (an ``Interval``), or ``None``."""
        return self.variant.comparison.interval if self.variant else None

    @property
    def significant(self) -> bool:
        """Left out alone, it changed the detour rate significantly (Holm-corrected)."""
        return bool(self.alone and self.variant and self.variant.significant)

    def line(self) -> str:
        """One line: rates with and without, the difference with its interval, p-values."""
        if self.variant is None:
            return f'  "{self.text}": not left out on its own (its group did not lower the rate)'
        c, mark = self.variant.comparison, "*" if self.significant else " "
        who = "it" if self.alone else f"its group of {len(self.variant.removed)} spans"
        return (f'{mark} "{self.text}": {c.b.count}/{c.b.n} with it, {c.a.count}/{c.a.n} without {who}: '
                f"{_pp(c.difference)} pp ({100 * c.interval.confidence:g}% CI {_pp(c.interval.low)} to "
                f"{_pp(c.interval.high)} pp), Fisher p = {c.p_value:.2g}, Holm-adjusted p = {self.variant.adjusted_p:.2g}")

    def to_dict(self) -> dict[str, Any]:
        """JSON data: the span, both rates, the difference, its interval and p-values."""
        v = self.variant
        return {**self.span.to_dict(), "index": self.index, "alone": self.alone,
                "removed": list(v.removed) if v else None, "prompt_without": v.prompt if v else None,
                "with": self.with_rate.to_dict(), "without": v.rate.to_dict() if v else None,
                "difference": None if v is None else round(v.comparison.difference, 6),
                "interval": v.comparison.interval.to_dict() if v else None,
                "p_value": None if v is None else float(f"{v.comparison.p_value:.3g}"),
                "adjusted_p": None if v is None else float(f"{v.adjusted_p:.3g}"),
                "significant": self.significant}


@dataclass
class Explanation:
    """Which spans of a prompt make the reasoning take a detour (``reasoning_model.explain``).

    Attributes:
        detour: the detour's name.
        segmentation: the prompt and its spans.
        baseline: the detour rate of the whole prompt (``n`` samples).
        variants: every prompt variant run (one per span, or the groups and spans of a
            group search), in the order run.
        spans: a :class:`SpanEffect` per span, in prompt order.
        search: ``"one at a time"`` or ``"groups"``.
        alpha: the family-wise error rate of Holm's correction.
        attribution: token attribution on a local model (:mod:`.attribution`), or ``None``.
        attribution_note: why there is none, where it was asked for.
        traces: every trace run (baseline first); not part of the report data.
    """

    detour: str
    segmentation: Segmentation
    baseline: Rate
    variants: list[Variant]
    spans: list[SpanEffect]
    search: str
    alpha: float = 0.05
    attribution: Any = None
    attribution_note: str | None = None
    traces: list[Any] = field(default_factory=list, repr=False)

    @property
    def prompt(self) -> str:
        """The explained prompt (the last user message)."""
        return self.segmentation.text

    @property
    def n(self) -> int:
        """Samples per prompt variant."""
        return self.baseline.n

    @property
    def nothing_to_explain(self) -> bool:
        """The whole prompt never took the detour."""
        return self.baseline.count == 0

    @property
    def causes(self) -> list[SpanEffect]:
        """The spans that raise the detour rate significantly (left out alone, the rate
        drops; Holm-corrected), largest effect first."""
        found = [s for s in self.spans if s.significant and (s.difference or 0) > 0]
        return sorted(found, key=lambda s: -(s.difference or 0))

    def headline(self) -> str:
        """The first line: the detour rate, n, the search and the test."""
        if self.nothing_to_explain:
            return f"nothing to explain: the {self.detour!r} detour was taken in 0 of {self.n} samples of the prompt"
        how = "each span left out in turn" if self.search == "one at a time" else "spans left out in groups, halving"
        return (f"why the {self.detour!r} detour: taken in {self.baseline}; {how} ({self.n} samples each), "
                f"Fisher's exact test, Holm-corrected at alpha {self.alpha:g} (* = matters):")

    def lines(self, top: int | None = None) -> list[str]:
        """The headline and one line per span (``top``: only the spans that matter, at
        most that many, or a line saying none does); then the attribution's lines."""
        if self.nothing_to_explain:
            return [self.headline()]
        shown = self.spans if top is None else self.causes[:top]
        lines = [self.headline(), *(s.line() for s in shown)]
        if top is not None and not shown:
            lines.append("  no span changes the detour rate significantly on its own")
        if self.attribution is not None:
            lines += self.attribution.lines(top)
        elif self.attribution_note:
            lines.append(f"token attribution: {self.attribution_note}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_report(self) -> dict[str, Any]:
        """JSON data for reports: the prompt, its spans with their effects, the prompt
        cut into ``segments`` (``{"text", "span", "shade"}``, ``shade`` the span's
        difference from -1 to 1, ``None`` between spans) and the text form."""
        segments: list[dict[str, Any]] = []
        for s, gap in zip(self.spans, self.segmentation.gaps()):
            segments += [{"text": gap, "span": None, "shade": None}] if gap else []
            segments.append({"text": s.text, "span": s.index, "shade": s.difference})
        if self.segmentation.gaps()[-1]:
            segments.append({"text": self.segmentation.gaps()[-1], "span": None, "shade": None})
        return {"detour": self.detour, "prompt": self.prompt, "language": self.segmentation.language,
                "n": self.n, "alpha": self.alpha, "search": self.search, "baseline": self.baseline.to_dict(),
                "nothing_to_explain": self.nothing_to_explain, "spans": [s.to_dict() for s in self.spans],
                "causes": [s.index for s in self.causes], "segments": segments, "lines": self.lines(),
                "attribution": self.attribution.to_dict() if self.attribution is not None else None,
                "attribution_note": self.attribution_note}


def _halves(group: Sequence[int]) -> list[tuple[int, ...]]:
    middle = (len(group) + 1) // 2
    return [tuple(group[:middle]), tuple(group[middle:])]


def _problem(model: Any, detour: Any, n: Any, alpha: Any, attribute: Any) -> str | None:
    """A one-line complaint about ``explain``'s arguments (before any sample runs)."""
    from .attribution import not_local
    from .text.detours import Detour

    if not isinstance(detour, Detour):
        return (f"reasoning_model.explain(prompt, detour) takes a Detour (Detour('sports', terms=[...])), "
                f"not {type(detour).__name__}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int)):
        return f"invalid reasoning_model.explain(n=...) {n!r}: expected a whole number >= {MIN_SAMPLES}"
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        return f"reasoning_model.explain(alpha=...) is a fraction strictly between 0 and 1; got {alpha!r}"
    if attribute and not_local(model.setup.backend):
        return f"token attribution {not_local(model.setup.backend)}"
    return None


def _last_user(messages: Sequence[dict[str, Any]]) -> tuple[int, str | None]:
    """The index of the last user message and its text (``None`` when not text)."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            content = messages[i].get("content")
            return i, content if isinstance(content, str) else None
    return -1, None


def _segment(model: Any, messages: Sequence[dict[str, Any]]) -> tuple[int, Segmentation]:
    """The last user message's index and spans; fails the test (one line) on an empty
    or one-span prompt."""
    __tracebackhide__ = True
    where, text = _last_user(messages)
    if where < 0 or text is None:
        model._fail("reasoning_model.explain() needs a user message of text to cut into spans")
    if not text.strip():  # type: ignore[union-attr]
        model._fail("reasoning_model.explain() got an empty prompt; give it the prompt whose detour to explain")
    try:
        seg, problem = split_spans(text), None  # type: ignore[arg-type]
    except ValueError as e:
        seg, problem = None, f"reasoning_model.explain(): {e}"
    if problem:
        model._fail(problem)
    if len(seg) < 2:  # type: ignore[arg-type]
        model._fail(f"reasoning_model.explain() needs a prompt of two clauses or phrases or more, to leave one "
                    f"out; {text!r} is one")
    return where, seg  # type: ignore[return-value]


class _Runner:
    """Runs prompt variants as samples of n through the test's model, one batch a call."""

    def __init__(self, model: Any, base: Any, where: int, seg: Segmentation, detour: Any, n: int, alpha: float):
        self.model, self.base, self.where, self.seg = model, base, where, seg
        self.detour, self.n, self.alpha = detour, n, alpha
        self.traces: list[Any] = []

    def requests(self, prompt: str) -> list[Any]:
        """The n sample requests of the base request with the user message ``prompt``."""
        from .backends import Request

        b, messages = self.base, list(self.base.messages)
        messages[self.where] = {**messages[self.where], "content": prompt}
        return [Request(b.backend, b.model, tuple(messages), b.params, b.identity, i) for i in range(self.n)]

    def rates(self, prompts: list[str]) -> list[Rate]:
        """The detour rate of each prompt, all sampled in one batch."""
        from .sample import TraceSample

        traces = self.model._run([r for p in prompts for r in self.requests(p)])
        self.traces += traces
        return [TraceSample(traces[k * self.n:(k + 1) * self.n]).rate(self.detour) for k in range(len(prompts))]

    def variants(self, groups: list[tuple[int, ...]], baseline: Rate) -> list[Variant]:
        """Each group of spans left out, sampled in one batch, compared with ``baseline``."""
        prompts = [self.seg.without(g) for g in groups]
        out = []
        for group, prompt, rate in zip(groups, prompts, self.rates(prompts)):
            both = compare_rates(rate, baseline, alpha=self.alpha, label=f"{self.detour.name} rate")
            drop = compare_rates(rate, baseline, alpha=self.alpha, alternative="greater")
            out.append(Variant(group, prompt, rate, both, drop.p_value))
        return out

    def search(self, baseline: Rate) -> tuple[list[Variant], str]:
        """One at a time up to :data:`ONE_AT_A_TIME` spans, else by groups (module docstring)."""
        k = len(self.seg)
        if k <= ONE_AT_A_TIME:
            return self.variants([(i,) for i in range(k)], baseline), "one at a time"
        found, groups = [], _halves(range(k))
        while groups:
            tested = self.variants(groups, baseline)
            found += tested
            groups = [h for v in tested if len(v.removed) > 1 and v.screen_p < self.alpha for h in _halves(v.removed)]
        return found, "groups"


def _effects(seg: Segmentation, baseline: Rate, variants: list[Variant]) -> list[SpanEffect]:
    """Each span with the smallest variant that left it out."""
    effects = []
    for i, span in enumerate(seg.spans):
        holding = [v for v in variants if i in v.removed]
        best = min(holding, key=lambda v: len(v.removed), default=None)
        effects.append(SpanEffect(i, span, baseline, best, bool(best and best.removed == (i,))))
    return effects


def explain(model: Any, prompt: Any, detour: Any, n: int | None = None, *, system: str | None = None,
            attribute: bool | None = None, alpha: float = 0.05, **params: Any) -> Explanation:
    """What ``reasoning_model.explain`` does (see :class:`Explanation` and the module
    docstring); ``model`` is the test's :class:`~pytest_reasoning.fixtures.ReasoningModel`.
    ``attribute``: token attribution on a local model (``None``: where the backend is
    local and the model loads; ``True``: required, a one-line failure elsewhere).

    Fails the test (one line) on a non-Detour, an empty or one-span prompt, or ``n``
    below :func:`samples_needed`, before any sample runs; and as ``sample`` does.
    """
    __tracebackhide__ = True
    problem = _problem(model, detour, n, alpha, attribute)
    if problem:
        model._fail(problem)
    base = model._requests([prompt], system, params)[0]
    where, seg = _segment(model, base.messages)
    count = model.settings["samples"] if n is None else n
    worst = len(seg) if len(seg) <= ONE_AT_A_TIME else 2 * len(seg) - 2
    if count < samples_needed(worst, alpha):
        model._fail(f"reasoning_model.explain(n={count}) is too few to show that any span matters: use n >= "
                    f"{samples_needed(worst, alpha)} (rule: n >= {MIN_SAMPLES}, and n/n -> 0/n must stay significant "
                    f"after Holm's correction across the {worst} comparisons of {len(seg)} spans)")
    runner = _Runner(model, base, where, seg, detour, count, alpha)
    baseline = runner.rates([seg.text])[0]
    variants, search = runner.search(baseline) if baseline.count else ([], "one at a time")
    if variants:
        adjusted = holm([v.comparison.p_value for v in variants], alpha).adjusted
        variants = [Variant(v.removed, v.prompt, v.rate, v.comparison, v.screen_p, p) for v, p in zip(variants, adjusted)]
    result = Explanation(detour.name, seg, baseline, variants, _effects(seg, baseline, variants), search, alpha,
                         traces=runner.traces)
    from .attribution import attribute_detour, not_local

    if (attribute or (attribute is None and not not_local(base.backend))) and not result.nothing_to_explain:

        result.attribution, result.attribution_note = attribute_detour(model, result, base, where, detour, attribute)
    model.item.stash.setdefault(EXPLANATIONS, []).append(result)
    return result
