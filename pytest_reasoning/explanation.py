"""What ``reasoning_model.explain`` returns: an :class:`Explanation` of which spans of a
prompt make the reasoning take a detour, each span's :class:`SpanEffect`, and each
prompt :class:`Variant` run (see :mod:`pytest_reasoning.explain` for how they are
made).  Data and its text and report forms only; nothing heavy imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .stats import Rate, RateComparison
from .text.spans import Segmentation, Span

__all__ = ["Explanation", "SpanEffect", "Variant"]


def _pp(fraction: float) -> str:
    """A difference of rates in signed percentage points, never "-0"."""
    text = f"{100 * fraction:+.0f}"
    return "+0" if text == "-0" else text


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
        answer_rate: the rate of right answers without the spans (``explain(answer=...)``),
            else ``None``.
        answer_changed: the rate of right answers dropped without them (one-sided
            Fisher's p below alpha): the spans are part of the question.
    """

    removed: tuple[int, ...]
    prompt: str
    rate: Rate
    comparison: RateComparison
    screen_p: float
    adjusted_p: float = 1.0
    answer_rate: Rate | None = None
    answer_changed: bool = False

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

    @property
    def changes_answer(self) -> bool:
        """Left out alone, the right answers dropped too: the span is part of the
        question, not a framing that sends the reasoning elsewhere."""
        return bool(self.alone and self.variant and self.variant.answer_changed)

    def line(self) -> str:
        """One line: rates with and without, the difference with its interval, p-values."""
        if self.variant is None:
            return f'  "{self.text}": not left out on its own (its group did not lower the rate)'
        c = self.variant.comparison
        mark = " " if not self.significant else "q" if self.changes_answer else "*"
        who = "it" if self.alone else f"its group of {len(self.variant.removed)} spans"
        answer = self.variant.answer_rate
        question = (f"; the right answer too, {answer.count}/{answer.n} without it: part of the question"
                    if self.changes_answer and answer else "")
        return (f'{mark} "{self.text}": {c.b.count}/{c.b.n} with it, {c.a.count}/{c.a.n} without {who}: '
                f"{_pp(c.difference)} pp ({100 * c.interval.confidence:g}% CI {_pp(c.interval.low)} to "
                f"{_pp(c.interval.high)} pp), Fisher p = {c.p_value:.2g}, Holm-adjusted p = "
                f"{self.variant.adjusted_p:.2g}{question}")

    def to_dict(self) -> dict[str, Any]:
        """JSON data: the span, both rates, the difference, its interval and p-values."""
        v = self.variant
        return {**self.span.to_dict(), "index": self.index, "alone": self.alone,
                "removed": list(v.removed) if v else None, "prompt_without": v.prompt if v else None,
                "with": self.with_rate.to_dict(), "without": v.rate.to_dict() if v else None,
                "difference": None if v is None else round(v.comparison.difference, 6),
                "interval": v.comparison.interval.to_dict() if v else None,
                "p_value": None if v is None else float(f"{v.comparison.p_value:.6g}"),
                "adjusted_p": None if v is None else float(f"{v.adjusted_p:.6g}"),
                "significant": self.significant, "changes_answer": self.changes_answer,
                "answer_without": v.answer_rate.to_dict() if v and v.answer_rate else None}


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
        answer_rate: the rate of right answers of the whole prompt (``explain(answer=...)``).
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
    answer_rate: Rate | None = None
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
        drops; Holm-corrected) and leave the answer right, largest effect first."""
        found = [s for s in self.spans if s.significant and (s.difference or 0) > 0 and not s.changes_answer]
        return sorted(found, key=lambda s: -(s.difference or 0))

    @property
    def question(self) -> list[SpanEffect]:
        """The spans that matter but that the question needs: without them the right
        answers drop too (``explain(answer=...)``), in prompt order."""
        return [s for s in self.spans if s.significant and s.changes_answer]

    def headline(self) -> str:
        """The first line: the detour rate, n, the search and the test."""
        if self.nothing_to_explain:
            return f"nothing to explain: the {self.detour!r} detour was taken in 0 of {self.n} samples of the prompt"
        how = "each span left out in turn" if self.search == "one at a time" else "spans left out in groups, halving"
        return (f"why the {self.detour!r} detour: taken in {self.baseline}; {how} ({self.n} samples each), "
                f"Fisher's exact test, Holm-corrected at alpha {self.alpha:g} (* = a cause, q = part of the question):")

    def lines(self, top: int | None = None) -> list[str]:
        """The headline and one line per span (``top``: only the spans that matter, at
        most that many, or a line saying none does); then the attribution's lines."""
        if self.nothing_to_explain:
            return [self.headline()]
        shown = self.spans if top is None else [*self.causes[:top], *self.question]
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
                "causes": [s.index for s in self.causes], "question": [s.index for s in self.question],
                "answer_rate": self.answer_rate.to_dict() if self.answer_rate else None,
                "segments": segments, "lines": self.lines(),
                "attribution": self.attribution.to_dict() if self.attribution is not None else None,
                "attribution_lines": self.attribution.lines() if self.attribution is not None else [],
                "attribution_note": self.attribution_note}
