"""Token attribution on local models: which parts of the prompt drive the detour's
first tokens.

Target: in the first sample of the whole prompt that took the detour, the reasoning
from the start of the sentence holding the detour's first hit through that hit ("Dallas
is also home to the Dallas Cowboys"), after the reasoning before it.  Score of a prompt
part: ``log p(target | prompt) - log p(target | prompt without the part)`` in nats
(positive: the part makes the detour more likely), for each span (left out with the
same repair as the ablation) and for each prompt token (deleted).

Computed with Captum's ``LLMAttribution`` over ``FeatureAblation`` and a
``TextTemplateInput`` whose template renders the model's chat template, with
``forward_in_tokens=False``: one forward pass per ablation over prompt and target.
Captum's default token-by-token mode with cached outputs drives the model through
transformers' private generation helpers (``prepare_inputs_for_generation``,
``_update_model_kwargs_for_generation``; Captum ties it to matching transformers
releases, meta-pytorch/captum#1689) and, with transformers 5.x, gave log-probabilities
that disagree with a plain forward pass; its uncached token-by-token mode agrees with
the sequence mode used here.  torch and captum are imported only when attribution runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Attribution", "attribute_detour", "not_local", "METHOD"]

#: How the scores are computed (named in reports).
METHOD = "captum LLMAttribution(FeatureAblation), sequence forward"
#: Prompt tokens the text form lists.
TOP_TOKENS = 5
#: Below this many nats (a factor of about 1.6 in probability) no span's score is read as
#: singling it out: the target is scored after the reasoning before it, which may already
#: carry the cause (the small Qwen3's English reasoning first says "The question also
#: mentions the population."), so leaving a span out of the prompt can move it little.
WEAK_NATS = 0.5


@dataclass(frozen=True)
class Attribution:
    """Which prompt spans and tokens drive the detour's first tokens on a local model.

    Attributes:
        sample: the index of the sample whose reasoning is the context.
        target: the reasoning from the detour's sentence through its first hit.
        target_tokens: the target's tokens, as the tokenizer shows them.
        spans: per span, ``log p(target | prompt) - log p(target | prompt without it)``
            (nats; positive: the span makes the detour more likely).
        span_rows: per target token, the same score of each span for that token alone.
        tokens: per prompt token ``(text, start, end, score)``, the token deleted (per
            word where the tokenizer gives no character offsets).
        span_texts: the spans' texts, in order.
        question: indexes of the spans the explanation found to be part of the question
            (without them the right answer drops); :attr:`top_span` passes over them.
    """

    sample: int
    target: str
    target_tokens: tuple[str, ...]
    spans: tuple[float, ...]
    span_rows: tuple[tuple[float, ...], ...]
    tokens: tuple[tuple[str, int, int, float], ...]
    span_texts: tuple[str, ...]
    question: tuple[int, ...] = ()

    @property
    def top_span(self) -> int:
        """The index of the span with the largest score, of those not part of the
        question (of all, when every span is)."""
        others = [i for i in range(len(self.spans)) if i not in self.question] or list(range(len(self.spans)))
        return max(others, key=self.spans.__getitem__)

    @property
    def decisive_token(self) -> int:
        """The index of the target token whose log-probability the top span moves most."""
        return max(range(len(self.span_rows)), key=lambda t: self.span_rows[t][self.top_span])

    def lines(self, top: int | None = None) -> list[str]:
        """The text form: the target, each span's score (``top``: the largest few), the
        token the top span moves most, the top prompt tokens."""
        order = sorted(range(len(self.spans)), key=lambda i: -self.spans[i])[:top]
        token = self.target_tokens[self.decisive_token]
        best = sorted(self.tokens, key=lambda t: -t[3])[:TOP_TOKENS]
        return [f"token attribution ({METHOD}, sample {self.sample}): log-probability of {self.target!r}",
                *(f'  "{self.span_texts[i]}": {self.spans[i]:+.2f} nats'
                  + (" (part of the question)" if i in self.question else "") for i in order),
                f"  the top span moves {token!r} most ({self.span_rows[self.decisive_token][self.top_span]:+.2f} nats)",
                "  top prompt tokens: " + ", ".join(f"{t[0]!r} {t[3]:+.2f}" for t in best),
                *([f"  weak: no span moves the target by {WEAK_NATS:g} nats or more (the reasoning before it is "
                   "kept and may carry the cause); rely on the rates of the ablation"] if self.weak else [])]

    @property
    def weak(self) -> bool:
        """No span's score reaches :data:`WEAK_NATS`: the scores do not single a span out."""
        return max((abs(x) for x in self.spans), default=0.0) < WEAK_NATS

    def to_dict(self) -> dict[str, Any]:
        """JSON data: method, sample, target and its tokens, span and token scores."""
        return {"method": METHOD, "sample": self.sample, "target": self.target,
                "target_tokens": list(self.target_tokens), "spans": [round(x, 4) for x in self.spans],
                "span_rows": [[round(x, 4) for x in row] for row in self.span_rows],
                "tokens": [{"text": t, "start": a, "end": b, "score": round(s, 4)} for t, a, b, s in self.tokens],
                "question": list(self.question), "top_span": self.top_span, "decisive_token": self.decisive_token,
                "weak": self.weak}


def not_local(backend: str) -> str | None:
    """Why ``backend`` cannot give token attribution (``None``: it can, being local)."""
    from .backends import LOCAL_BACKENDS

    if backend in LOCAL_BACKENDS:
        return None
    return (f"needs a local model (backend {' or '.join(LOCAL_BACKENDS)}); the {backend} backend gives no "
            "log-probabilities of a changed prompt")


def _local_model(model: Any) -> tuple[Any, str | None]:
    """The test's loaded local model (``LocalModel``), or ``None`` and why not."""
    from .backends import BackendError

    if not_local(model.setup.backend):
        return None, not_local(model.setup.backend)
    try:
        import captum  # noqa: F401
    except ImportError:
        return None, "needs captum: pip install 'pytest-reasoning[local]'"
    try:
        backend = model.state.backend(model.setup)
    except BackendError as e:
        return None, f"the model did not load: {e}"
    return getattr(backend, "lm", None), None


def _target(trace: Any, detour: Any) -> tuple[str, str]:
    """``(reasoning before the detour's sentence, the sentence through the first hit)``;
    the space between them starts the target, as the model generated it."""
    from .text.sentences import sentence_spans

    hit = trace.detours(detour)[detour.name][0]
    start = max((a for a, _ in sentence_spans(trace.reasoning) if a <= hit.start), default=0)
    context = trace.reasoning[:start].rstrip()
    return context, trace.reasoning[len(context):hit.end]


def _renderer(lm: Any, messages: list[dict[str, Any]], where: int, thinking: bool, context: str) -> Any:
    """A function of the user message's text giving the model input before the target:
    the chat template (thinking on or off), the opened thinking block, the context."""
    from .backends.local.generation import format_prompt

    def render(text: str) -> str:
        turn = [dict(m) for m in messages]
        turn[where]["content"] = text
        prompt = format_prompt(lm.tokenizer, turn, thinking)
        opened = prompt.rstrip().endswith("<think>")
        return prompt + ("" if opened else "<think>\n") + context

    return render


def _pieces(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each prompt token (tokens sharing a character merged); of
    each word and the spaces after it where the tokenizer gives no offsets (a slow one)."""
    import re

    try:
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    except (NotImplementedError, KeyError, TypeError, ValueError):
        offsets = [m.span() for m in re.finditer(r"\S+\s*", text)]
    starts = sorted({0, *(a for a, b in offsets if b > a)})
    return list(zip(starts, [*starts[1:], len(text)]))


def _scores(lm: Any, render: Any, values: list[str], target: str) -> Any:
    """Captum's result for ``values`` (each left out by replacing it with ``""``)."""
    import torch
    from captum.attr import FeatureAblation, LLMAttribution, TextTemplateInput

    inp = TextTemplateInput(render, values=values, baselines=[""] * len(values))
    with torch.no_grad():
        return LLMAttribution(FeatureAblation(lm.model), lm.tokenizer).attribute(
            inp, target=target, forward_in_tokens=False)


def attribute_detour(model: Any, explanation: Any, base: Any, where: int, detour: Any,
                     required: bool | None) -> tuple[Attribution | None, str | None]:
    """The :class:`Attribution` of ``explanation``'s detour on the test's local model,
    or ``None`` and a note saying why not (an API backend, no captum, a model that did
    not load).  ``required``: fail the test (one line) instead of noting."""
    __tracebackhide__ = True
    lm, note = _local_model(model)
    if lm is None:
        if required:
            model._fail(f"token attribution {note}")
        return None, note
    n = explanation.n
    sample = next(i for i, t in enumerate(explanation.traces[:n]) if t.detours(detour)[detour.name])
    trace = explanation.traces[sample]
    context, target = _target(trace, detour)
    thinking = bool((trace.extra.get("effective_params") or {}).get("thinking", base.params.get("thinking", True)))
    render = _renderer(lm, list(base.messages), where, thinking, context)
    seg = explanation.segmentation
    spans = _scores(lm, lambda *v: render(seg.without(i for i, x in enumerate(v) if x == "")),
                    [s.text for s in seg.spans], target)
    cuts = _pieces(lm.tokenizer, seg.text)
    tokens = _scores(lm, lambda *v: render("".join(v)), [seg.text[a:b] for a, b in cuts], target)
    rows = tuple(tuple(float(x) for x in row) for row in spans.token_attr.tolist())
    return Attribution(
        sample, target, tuple(spans.output_tokens), tuple(float(x) for x in spans.seq_attr.tolist()), rows,
        tuple((seg.text[a:b], a, b, float(s)) for (a, b), s in zip(cuts, tokens.seq_attr.tolist())),
        tuple(s.text for s in seg.spans), tuple(s.index for s in explanation.question)), None
