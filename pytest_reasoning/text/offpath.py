"""Where reasoning leaves the question's path, and where it first reaches the answer.

:func:`off_path` reads each sentence of the reasoning as a bag of content terms
(:mod:`.terms`) and asks how many of them are **anchored**: found in the prompt, in the
path's concepts or in the answer.  A sentence most of whose content terms are anchored
nowhere is off the path (the Cowboys and the NFL in "Dallas is also home to the Dallas
Cowboys, an NFL team."); a sentence without content terms ("Wait.", ちょっと待って
ください。) is on it (hesitations are counted by
:func:`~pytest_reasoning.text.detours.count_hesitations`).  Lexical, so it needs no
model: a sentence that reuses the prompt's words for a side topic stays on the path,
and a paraphrase of the question in new words may leave it.

:func:`answer_reached_at` finds the first sentence that names the final answer and so
the share of the reasoning spent after it: the *outcome efficiency* of Chen et al.,
"Do NOT Think That Much for 2+3=? On the Overthinking of o1-Like LLMs" (arXiv
2412.21187, §2.2), at sentence granularity: the tokens up to the first correct answer
over all tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from .detours import find_term
from .sentences import sentence_spans
from .terms import Anchors, chinese_text, content_terms

__all__ = ["OffPathSentence", "OffPath", "off_path", "AnswerPosition", "answer_reached_at", "OFF_PATH_THRESHOLD"]

#: A sentence is off the path when at least this share of its content terms is
#: anchored nowhere.
OFF_PATH_THRESHOLD = 0.5


@dataclass(frozen=True)
class OffPathSentence:
    """One sentence that leaves the question's path.

    Attributes:
        index: 0-based index in ``split_sentences(reasoning)``.
        text: the sentence as it stands in the reasoning.
        start, end: its character offsets in the reasoning.
        novelty: the share of its content terms anchored nowhere, in ``[0, 1]``.
        new_terms: those terms (normalised, Latin words stemmed), in order, once each.
    """

    index: int
    text: str
    start: int
    end: int
    novelty: float
    new_terms: tuple[str, ...]


@dataclass(frozen=True)
class OffPath:
    """What :func:`off_path` found.

    Attributes:
        sentences: the sentences off the path, in order.
        share: their characters over the characters of all sentences, in ``[0, 1]``
            (``0.0`` without reasoning).
        chars: their characters; ``total_chars`` those of all sentences (whitespace
            between sentences not counted).
        total_sentences: how many sentences the reasoning has.
    """

    sentences: tuple[OffPathSentence, ...]
    share: float
    chars: int
    total_chars: int
    total_sentences: int

    def __iter__(self) -> Iterator[OffPathSentence]:
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)

    def summary(self) -> str:
        """One line: ``"34% off the path (3 of 9 sentences, 120 of 350 characters)"``."""
        return (f"{self.share:.0%} off the path ({len(self.sentences)} of {self.total_sentences} sentences, "
                f"{self.chars} of {self.total_chars} characters)")

    def explain(self, most: int = 3, width: int = 120) -> list[str]:
        """A line for each of the first ``most`` sentences off the path: its number,
        the sentence (cut to ``width`` characters) and its new terms."""
        lines = []
        for s in self.sentences[:most]:
            text = " ".join(s.text.split())
            text = text if len(text) <= width else text[: width - 1] + "…"
            lines.append(f"  > sentence {s.index + 1}: {text} (new: {', '.join(s.new_terms)})")
        if len(self.sentences) > most:
            lines.append(f"  (+{len(self.sentences) - most} more sentences off the path)")
        return lines


def _steps(path: Sequence[str | Sequence[str]]) -> list[str]:
    """Every alternative of every step of a path, flattened."""
    if isinstance(path, str):
        return [path]
    return [o for step in path for o in ([step] if isinstance(step, str) else list(step))]


def off_path(
    reasoning: str,
    *,
    prompt: Iterable[str] = (),
    path: Sequence[str | Sequence[str]] = (),
    answer: Iterable[str] = (),
    anchors: Iterable[str] = (),
    threshold: float = OFF_PATH_THRESHOLD,
) -> OffPath:
    """The sentences of ``reasoning`` that leave the question's path, and their share.

    Args:
        reasoning: the reasoning text.
        prompt: the texts of the question (the user messages).
        path: the path's concepts, as for ``assert_reasoning_path`` (each step a term
            or a list of alternatives).
        answer: the answer's texts or terms.
        anchors: more texts or terms that count as on the path.
        threshold: a sentence is off the path when at least this share of its
            content terms is anchored nowhere (default :data:`OFF_PATH_THRESHOLD`).

    Raises:
        ValueError: ``threshold`` outside ``(0, 1]``.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"off_path(threshold={threshold!r}): use a share in (0, 1], e.g. 0.5")
    text = reasoning or ""
    chinese = chinese_text(text)  # one reading for the reasoning and its anchors
    anchored = Anchors().add([*prompt, *_steps(path), *answer, *anchors], chinese=chinese)
    spans = sentence_spans(text)
    found = []
    for index, (a, b) in enumerate(spans):
        terms = content_terms(text[a:b], chinese=chinese)
        new = [t for t in terms if not anchored.holds(t)]
        if terms and len(new) >= threshold * len(terms):
            found.append(OffPathSentence(index, text[a:b], a, b, len(new) / len(terms), tuple(dict.fromkeys(new))))
    total = sum(b - a for a, b in spans)
    chars = sum(s.end - s.start for s in found)
    return OffPath(tuple(found), chars / total if total else 0.0, chars, total, len(spans))


@dataclass(frozen=True)
class AnswerPosition:
    """Where the answer is first reached in the reasoning.

    Attributes:
        sentence_index: 0-based index of the first sentence naming the answer.
        sentences: how many sentences the reasoning has.
        term: the alternative found there, as written in the reasoning.
        start: the character offset of that mention.
        reached: the character offset where that sentence ends: the answer counts
            as reached once the sentence naming it is done.
        chars: the reasoning's length in characters.
        fraction: ``reached / chars``, in ``(0, 1]``.
        token_fraction: the same by tokens, when a token counter was given (token
            positions are not in a trace and are never estimated), else ``None``.
    """

    sentence_index: int
    sentences: int
    term: str
    start: int
    reached: int
    chars: int
    fraction: float
    token_fraction: float | None = None

    def __str__(self) -> str:
        """``"first reaching the answer ('Austin', sentence 3 of 7, 42% of the way)"``."""
        return (f"first reaching the answer ({self.term!r}, sentence {self.sentence_index + 1} of {self.sentences}, "
                f"{self.fraction:.0%} of the way)")

    @property
    def after(self) -> float:
        """The share of the reasoning spent after the answer was reached:
        ``1 - token_fraction`` where known, else ``1 - fraction``."""
        return 1.0 - (self.token_fraction if self.token_fraction is not None else self.fraction)


def answer_reached_at(
    reasoning: str, terms: str | Sequence[str], *, count_tokens: Callable[[str], int] | None = None,
) -> AnswerPosition | None:
    """Where the final answer first appears in ``reasoning``, or ``None`` when it never
    does (the reasoning ended before naming it: nothing was spent after it).

    Args:
        reasoning: the reasoning text.
        terms: the answer, or a list of alternatives (``["Austin", "オースティン"]``);
            matched as detour terms are (normalised, whole Latin words).  The first
            mention counts, whatever the sentence says about it.
        count_tokens: counts a text's tokens (``lambda s: len(tokenizer.encode(s))``);
            gives :attr:`AnswerPosition.token_fraction`.

    Raises:
        ValueError: no terms, or an empty one.
    """
    options = [terms] if isinstance(terms, str) else list(terms)
    if not options or any(not str(t).strip() for t in options):
        raise ValueError("answer_reached_at needs the answer's terms, e.g. ['Austin', 'オースティン']")
    text = reasoning or ""
    hits = [h for h in (find_term(text, str(t)) for t in options) if h]
    if not hits:
        return None
    first = min(hits, key=lambda h: h.start)
    spans = sentence_spans(text)
    reached = spans[first.sentence_index][1] if spans else len(text)
    tokens = None
    if count_tokens is not None:
        whole = count_tokens(text)
        tokens = count_tokens(text[:reached]) / whole if whole else None
    return AnswerPosition(first.sentence_index, len(spans), first.text, first.start, reached, len(text),
                          reached / len(text), tokens)
