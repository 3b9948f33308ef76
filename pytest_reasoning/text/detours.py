"""Finding things in reasoning text: detours, steps of a path, hesitation markers.

All matching runs on Unicode-normalised text (NFKC, then case-folded), so full- and
half-width forms, composed and decomposed accents and letter case all match, while
every hit is reported at its position in the *original* text.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .sentences import sentence_spans

__all__ = [
    "Detour",
    "DetourHit",
    "normalize",
    "normalize_pattern",
    "find_detours",
    "find_term",
    "count_hesitations",
    "hesitation_counts",
    "DEFAULT_HESITATION_MARKERS",
]

#: Phrases that mark a re-check or hesitation in reasoning, in English, Japanese and
#: Chinese (the 揺らぎ of the seed experiment: "wait a moment", ちょっと待ってください,
#: "let me confirm").  Pass your own list to replace it.
DEFAULT_HESITATION_MARKERS: tuple[str, ...] = (
    "wait",
    "hold on",
    "hmm",
    "on second thought",
    "let me double-check",
    "let me double check",
    "let me check",
    "let me verify",
    "let me confirm",
    "let me re-check",
    "ちょっと待って",
    "待ってください",
    "待てよ",
    "確認させて",
    "もう一度確認",
    "念のため",
    "うーん",
    "等等",
    "等一下",
    "让我确认",
    "再确认",
)

# Half-width katakana voicing marks are not "combining" to unicodedata but join the
# preceding character under NFKC (ｶﾞ -> ガ).
_JOINERS = {"\uff9e", "\uff9f"}
_LATIN_WORD = r"0-9a-z\u00c0-\u024f"


def normalize(text: str) -> str:
    """NFKC-normalise and case-fold ``text`` (``"ＮＦＬ"`` -> ``"nfl"``,
    ``"ｶｳﾎﾞｰｲｽﾞ"`` -> ``"カウボーイズ"``)."""
    return unicodedata.normalize("NFKC", text).casefold()


def normalize_pattern(pattern: str) -> str:
    """NFKC-normalise a regular expression so it matches :func:`normalize`-d text
    (``"１３０万"`` -> ``"130万"``), keeping full-width characters that NFKC would turn
    into regex syntax (``（`` ``＊`` ``？`` ...) literal.  Not case-folded: use
    ``re.IGNORECASE`` (folding would turn ``\\S`` into ``\\s``)."""
    escaped = "".join(
        re.escape(unicodedata.normalize("NFKC", c))
        if ord(c) > 127 and any(ch in _REGEX_SYNTAX for ch in unicodedata.normalize("NFKC", c))
        else c
        for c in pattern
    )
    return unicodedata.normalize("NFKC", escaped)


_REGEX_SYNTAX = set("\\.^$*+?{}[]|()")


def _normalize_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """Normalised text and, for each of its characters, the start and end offsets in
    ``text`` of the cluster (a character with its combining marks) it came from."""
    out: list[str] = []
    origin: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in _JOINERS):
            j += 1
        piece = normalize(text[i:j])
        out.append(piece)
        origin.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    origin.append(n)
    return "".join(out), origin, ends


@functools.lru_cache(maxsize=8)
def _prepared(text: str) -> tuple[str, list[int], list[int], list[tuple[int, int]], list[int]]:
    """:func:`_normalize_with_map` and the sentence spans of ``text``, computed once per
    text (an assertion looks up many terms in the same reasoning, maybe a megabyte)."""
    norm, origin, ends = _normalize_with_map(text)
    spans = sentence_spans(text)
    return norm, origin, ends, spans, [a for a, _ in spans]


def _term_regex(term: str) -> str:
    """A regex for ``term`` (already normalised): Latin words match whole words only
    (``"nfl"`` not inside ``"unflinching"``), CJK terms anywhere."""
    body = re.escape(term)
    if term and re.match(f"[{_LATIN_WORD}]", term[0]):
        body = f"(?<![{_LATIN_WORD}])" + body
    if term and re.match(f"[{_LATIN_WORD}]", term[-1]):
        body += f"(?![{_LATIN_WORD}])"
    return body


@dataclass(frozen=True)
class Detour:
    """A place the reasoning must not go (or, in a test that expects it, must go).

    Args:
        name: a label for reports (``"sports"``).
        terms: words or phrases in any language (``["NFL", "Cowboys", "カウボーイズ",
            "アメフト"]``); matched on normalised text, Latin words as whole words.
        patterns: regular expressions (Python ``re``), matched case-insensitively on
            the normalised text (NFKC turns full-width digits into ASCII ones).

    Raises:
        ValueError: no terms and no patterns, an empty term or pattern, or a pattern that does
            not compile (the message names it).
    """

    name: str
    terms: Sequence[str] = field(default_factory=tuple)
    patterns: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        __tracebackhide__ = True
        if isinstance(self.terms, str) or isinstance(self.patterns, str):
            raise ValueError(f"Detour {self.name!r}: terms and patterns are lists, not one string")
        object.__setattr__(self, "terms", tuple(self.terms))
        object.__setattr__(self, "patterns", tuple(self.patterns))
        if not self.terms and not self.patterns:
            raise ValueError(f"Detour {self.name!r} needs at least one term or pattern")
        if any(not str(t).strip() for t in self.terms):
            raise ValueError(f"Detour {self.name!r} has an empty term")
        if any(not str(p).strip() for p in self.patterns):
            raise ValueError(f"Detour {self.name!r} has an empty pattern (it would match every reasoning)")
        for p in self.patterns:
            try:
                re.compile(normalize_pattern(p))  # the form that will run
            except re.error as e:
                raise ValueError(f"Detour {self.name!r}: pattern {p!r} does not compile: {e}") from None

    def _regexes(self) -> list[tuple[str, re.Pattern[str]]]:
        compiled = [(t, re.compile(_term_regex(normalize(t)))) for t in self.terms]
        compiled += [(p, re.compile(normalize_pattern(p), re.IGNORECASE)) for p in self.patterns]
        return compiled


@dataclass(frozen=True)
class DetourHit:
    """One place a detour (or a term) was found.

    Attributes:
        detour: the detour's name (or the term, for :func:`find_term`).
        matched: the term or pattern that matched.
        text: the matched text as it stands in the original.
        start, end: character offsets in the original text.
        sentence: the whole sentence holding the match.
        sentence_index: 0-based index of that sentence in ``split_sentences(text)``.
    """

    detour: str
    matched: str
    text: str
    start: int
    end: int
    sentence: str
    sentence_index: int


def _hits(text: str, name: str, regexes: Iterable[tuple[str, re.Pattern[str]]]) -> list[DetourHit]:
    if not text:
        return []
    norm, origin, ends, spans, starts = _prepared(text)
    hits = []
    for label, regex in regexes:
        for m in regex.finditer(norm):
            if m.end() == m.start():
                continue
            # a match ending inside one character's expansion ("平" of "㍻") takes the whole character
            start, end = origin[m.start()], ends[m.end() - 1]
            index = bisect.bisect_right(starts, start) - 1  # the sentence holding start, else the last
            if index < 0 or start >= spans[index][1]:
                index = len(spans) - 1
            a, b = spans[index] if spans else (0, len(text))
            hits.append(DetourHit(name, label, text[start:end], start, end, text[a:b], index))
    return sorted(hits, key=lambda h: (h.start, h.end))


def find_detours(text: str, detour: Detour) -> list[DetourHit]:
    """Every match of ``detour``'s terms and patterns in ``text``, as
    :class:`DetourHit` objects in text order (offsets in characters of ``text``)."""
    return _hits(text, detour.name, detour._regexes())


def find_term(text: str, term: str, start: int = 0) -> DetourHit | None:
    """The first match of ``term`` (normalised, whole Latin words) in ``text`` at or
    after original offset ``start``, or ``None``."""
    for hit in _hits(text, term, [(term, re.compile(_term_regex(normalize(term))))]):
        if hit.start >= start:
            return hit
    return None


def hesitation_counts(text: str, markers: Iterable[str] | None = None) -> dict[str, int]:
    """How often each hesitation marker occurs in ``text``, non-overlapping (the
    longest marker wins where two overlap): ``{marker as given: count}`` for the
    markers found, in order of first occurrence.  ``markers`` defaults to
    :data:`DEFAULT_HESITATION_MARKERS`; markers that normalise alike count together,
    under the first one given."""
    markers = DEFAULT_HESITATION_MARKERS if markers is None else tuple(markers)
    spelled: dict[str, str] = {}
    for marker in markers:
        if marker.strip():
            spelled.setdefault(normalize(marker), marker)
    if not text or not spelled:
        return {}
    regex = re.compile("|".join(_term_regex(m) for m in sorted(spelled, key=len, reverse=True)))
    counts: dict[str, int] = {}
    for match in regex.finditer(normalize(text)):
        marker = spelled[match.group(0)]
        counts[marker] = counts.get(marker, 0) + 1
    return counts


def count_hesitations(text: str, markers: Iterable[str] | None = None) -> int:
    """Number of non-overlapping hesitation markers in ``text`` (longest marker wins
    where two overlap).  ``markers`` defaults to :data:`DEFAULT_HESITATION_MARKERS`;
    :func:`hesitation_counts` says which matched."""
    return sum(hesitation_counts(text, markers).values())
