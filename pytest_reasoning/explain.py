"""Why did the reasoning take a detour?  Prompt-span ablation on any backend
(``reasoning_model.explain``), and with ``--reasoning-explain`` on every detour failure.

The prompt (the last user message) is cut into spans (:mod:`.text.spans`: clauses and
phrases, English, Japanese, Chinese).  The prompt is sampled ``n`` times as it is, then
``n`` times with each span left out (the rest repaired to read as a question); the
detour rate with the span and without it are compared by Fisher's exact test
(two-sided), the difference with Newcombe's interval, and the p-values of all the
comparisons made are corrected by Holm's method (:mod:`.stats`).  A span *matters*
when its Holm-adjusted p-value is below ``alpha``; its effect is the rate with it minus
the rate without it (+100 pp: the detour follows the span).  Given the right answer
(``answer=``), a span without which the right answers drop too (one-sided Fisher's p
below ``alpha``) is *part of the question* rather than a cause: leaving out the city
asked about changes what is asked, not how.

Up to :data:`ONE_AT_A_TIME` spans are left out one at a time, all in one batch.  With
more, the search goes by groups (delta debugging, Zeller 2002): leave out each half,
then each half of a group whose removal lowered the rate (one-sided Fisher's p below
``alpha``), one batch a round, down to single spans.  A group search follows drops only,
and a detour that either of two spans in different halves brings on its own is found
by neither (leaving out one half keeps the other span).

Every run is an ordinary sample request (sample ``i`` of a prompt variant), recorded
and replayed through the test's cassette.  On local models the explanation can also
carry token attribution (:mod:`.attribution`).  The result types are in
:mod:`.explanation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from .explanation import Explanation, SpanEffect, Variant
from .stats import Rate, compare_rates, holm
from .text.detours import normalize
from .text.spans import Segmentation, split_spans

__all__ = ["Explanation", "SpanEffect", "Variant", "EXPLANATIONS", "MIN_SAMPLES", "ONE_AT_A_TIME",
           "samples_needed", "explain"]

#: Every explanation a test made, in order (what reports read).
EXPLANATIONS = pytest.StashKey[list[Any]]()
#: The fewest samples per prompt variant ``explain`` takes (see :func:`samples_needed`).
MIN_SAMPLES = 8
#: At most this many spans are left out one at a time; more are searched in groups.
ONE_AT_A_TIME = 8


def samples_needed(comparisons: int, alpha: float = 0.05) -> int:
    """The rule for ``n``: at least :data:`MIN_SAMPLES`, and enough that a span whose
    removal takes the detour rate from n/n to 0/n would be significant after Holm's
    correction across ``comparisons``: the smallest two-sided Fisher p-value of two
    samples of n is ``2 / C(2n, n)``, so ``comparisons * 2 / C(2n, n) < alpha``."""
    n = MIN_SAMPLES
    while comparisons * 2 / math.comb(2 * n, n) >= alpha:
        n += 1
    return n


def _halves(group: Sequence[int]) -> list[tuple[int, ...]]:
    middle = (len(group) + 1) // 2
    return [tuple(group[:middle]), tuple(group[middle:])]


def _problem(model: Any, detour: Any, n: Any, alpha: Any, attribute: Any, answer: Any) -> str | None:
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
    if answer is not None and not (isinstance(answer, str) and answer.strip()) and not (
            isinstance(answer, (list, tuple)) and answer and all(isinstance(a, str) and a.strip() for a in answer)):
        return (f"reasoning_model.explain(answer=...) is the right answer's text or a list of alternatives; "
                f"got {answer!r}")
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
    """Runs prompt variants as samples of n through the test's model, one batch a call;
    keeps every trace, and the whole prompt's rates once :meth:`start` ran."""

    def __init__(self, model: Any, base: Any, where: int, seg: Segmentation, detour: Any, n: int, alpha: float,
                 answer: Any) -> None:
        self.model, self.base, self.where, self.seg = model, base, where, seg
        self.detour, self.n, self.alpha = detour, n, alpha
        given = [answer] if isinstance(answer, str) else answer
        self.answers = None if answer is None else [normalize(a) for a in given]
        self.traces: list[Any] = []
        self.baseline: Rate | None = None
        self.answer_rate: Rate | None = None

    def requests(self, prompt: str) -> list[Any]:
        """The n sample requests of the base request with the user message ``prompt``."""
        from .backends import Request

        b, messages = self.base, list(self.base.messages)
        messages[self.where] = {**messages[self.where], "content": prompt}
        return [Request(b.backend, b.model, tuple(messages), b.params, b.identity, i) for i in range(self.n)]

    def rates(self, prompts: list[str]) -> list[tuple[Rate, Rate | None]]:
        """The detour rate of each prompt and its rate of right answers (``None``
        without ``answer``), all sampled in one batch."""
        from .sample import TraceSample

        traces = self.model._run([r for p in prompts for r in self.requests(p)])
        self.traces += traces
        samples = [TraceSample(traces[k * self.n:(k + 1) * self.n]) for k in range(len(prompts))]
        right = (lambda t: any(a in normalize(t.answer or "") for a in self.answers)) if self.answers else None
        return [(s.rate(self.detour), s.rate(right) if right else None) for s in samples]

    def start(self) -> Rate:
        """Sample the whole prompt; its detour rate."""
        self.baseline, self.answer_rate = self.rates([self.seg.text])[0]
        return self.baseline

    def variants(self, groups: list[tuple[int, ...]]) -> list[Variant]:
        """Each group of spans left out, sampled in one batch, compared with the whole prompt."""
        prompts, out = [self.seg.without(g) for g in groups], []
        for group, prompt, (rate, answer) in zip(groups, prompts, self.rates(prompts)):
            both = compare_rates(rate, self.baseline, alpha=self.alpha, label=f"{self.detour.name} rate")
            drop = compare_rates(rate, self.baseline, alpha=self.alpha, alternative="greater")
            fewer = answer and compare_rates(answer, self.answer_rate, alternative="greater").p_value < self.alpha
            changed = bool(fewer)
            out.append(Variant(group, prompt, rate, both, drop.p_value, answer_rate=answer, answer_changed=changed))
        return out

    def search(self) -> tuple[list[Variant], str]:
        """One at a time up to :data:`ONE_AT_A_TIME` spans, else by groups (module docstring)."""
        k = len(self.seg)
        if k <= ONE_AT_A_TIME:
            return self.variants([(i,) for i in range(k)]), "one at a time"
        found, groups = [], _halves(range(k))
        while groups:
            tested = self.variants(groups)
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
            answer: str | Sequence[str] | None = None, attribute: bool | None = None, alpha: float = 0.05,
            **params: Any) -> Explanation:
    """What ``reasoning_model.explain`` does (see :class:`Explanation` and the module
    docstring); ``model`` is the test's :class:`~pytest_reasoning.fixtures.ReasoningModel`.
    ``answer``: the right answer's text, or alternatives (matched as ``assert_answer``'s
    ``contains=``); a span without which the right answers drop too is part of the
    question, not a cause.  ``attribute``: token attribution on a local model (``None``:
    where the backend is local and the model loads; ``True``: required).

    Fails the test (one line) on a non-Detour, an empty or one-span prompt, ``n`` below
    :func:`samples_needed` or a bad ``answer``/``alpha``, before any sample runs; and as
    ``sample`` does.
    """
    __tracebackhide__ = True
    problem = _problem(model, detour, n, alpha, attribute, answer)
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
    runner = _Runner(model, base, where, seg, detour, count, alpha, answer)
    baseline = runner.start()
    variants, search = runner.search() if baseline.count else ([], "one at a time")
    if variants:
        adjusted = holm([v.comparison.p_value for v in variants], alpha).adjusted
        variants = [replace(v, adjusted_p=p) for v, p in zip(variants, adjusted)]
    result = Explanation(detour.name, seg, baseline, variants, _effects(seg, baseline, variants), search, alpha,
                         runner.answer_rate, traces=runner.traces)
    from .attribution import attribute_detour, not_local

    if (attribute or (attribute is None and not not_local(base.backend))) and not result.nothing_to_explain:
        result.attribution, result.attribution_note = attribute_detour(model, result, base, where, detour, attribute)
    model.item.stash.setdefault(EXPLANATIONS, []).append(result)
    return result
