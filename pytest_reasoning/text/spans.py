"""A prompt cut into spans (clauses and phrases) that can be left out one or several at
a time, the rest repaired so that it still reads as a question.

What :func:`split_spans` cuts at, by language (Japanese when the text holds kana,
Chinese when it holds Han characters and no kana, English otherwise):

* **every language**: punctuation (``, ; : ( ) [ ] " —`` and ``、。，；：！？「」『』（）``),
  and sentence ends (``. ? !`` before a space or the end; a point only before the end
  or before what is not a lowercase letter or a digit, so not the points of "1.3",
  "U.S." or "pop. 1.3 million");
* **English**: before a word that opens a relative or subordinate clause (``that``,
  ``which``, ``who``, ``whom``, ``whose``, ``where``, ``when``, ``because``,
  ``although``, ``though``, ``while``, ``unless``, ``whereas``) or a ``with`` phrase
  (not a ``with`` that ends the text),
  that is not the clause's first word, so "the state that contains Dallas" gives "the
  state" and "that contains Dallas", and "a large city with a population of 1.3
  million" gives "a large city" and "with a population of 1.3 million"; a preposition
  before ``which``/``whom``/``whose`` opens the clause with it ("the state" | "in which
  Dallas lies"); an appositive after a comma ("Dallas, a big city of about 1.3 million
  people?") is a span of its own;
* **Japanese** (no segmenter): after the end of a relative clause, a predicate ending
  (``である``, ``だった``, a verb or adjective ending in ``う く す つ ぬ ふ む ゆ る ぐ ぶ い た``)
  followed by the noun it modifies (kanji, katakana, Latin letters or digits), when the
  clause holds a case particle (``が を に で と へ の``), so that
  「人口が約130万人の大都市である」 and 「ダラスを含む」 are spans; after a quantity
  modifier (a number with its counter, an approximation such as ``ほど``, ``くらい``,
  ``程度`` or ``以上``, then ``の``) before a noun that is not a
  predicate (``である``, ``だ``...), so that 「人口約130万人の」 and 「ダラスがある」 are
  spans; and in a sentence's
  last clause, after its last case particle (``を に が は も へ``) that follows a noun,
  so the main predicate (「おしえてください」) is a span of its own;
* **Chinese**: after ``的`` ending a modifier of four characters or more
  (「人口约130万的」), and before such a modifier after a numeral and classifier
  (「达拉斯是一个」「人口约130万的」「大城市」).

Pieces shorter than two characters (without punctuation), and in English a lone
lowercase word of at most three letters, join the next one.  A span's
``start``/``end`` are character offsets of its text, punctuation and spaces around it
left out, so spans never overlap and the gaps between them hold only punctuation and
whitespace.  Pure Python; nothing heavy imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Span", "Segmentation", "split_spans", "language_of"]

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Characters that are never part of a span's text at its edges.
_PUNCT = ",;:()[]{}\"“”‘’«»—–、。，；：！？「」『』（）【】〈〉《》・…!?."
_BRACKETS = {"(": ")", "[": "]", "（": "）", "「": "」", "『": "』", "【": "】", "“": "”", "《": "》"}
_SENTENCE_END = set(".?!。？！")
# English: punctuation boundaries; "." / "?" / "!" only before a space or the end, "." not
# after a lone capital ("U.S.") nor before a lowercase word or a number ("pop. 1.3");
# "," not inside a number ("1,300,000"); a spaced dash.
_EN_BOUNDARY = re.compile(r"(?<!\b[A-Z])\.+(?=\s*$|\s+[^\sa-z0-9])|[?!]+|,(?!\d)|[;:()\[\]\"“”—–]|\s-\s")
_EN_OPENERS = re.compile(
    r"(?:(?<=\s)|^)"
    r"(?:(?:in|on|at|of|for|from|to|by|with|without|into|within|near|under|through|among|about)\s+"
    r"(?=which\b|whom\b|whose\b))?"
    r"(?=(?:that|which|who|whom|whose|where|when|because|although|though|while|unless|whereas)\b|with\s+\w)",
    re.IGNORECASE,
)
_CJK_BOUNDARY = re.compile(r"[、。，；：！？「」『』（）【】!?;:,()]+")
_JA_RELATIVE = re.compile(r"(?:である|だった|[うくすつぬふむゆるぐぶいた])(?=[\u3400-\u9fff\u30a1-\u30ffA-Za-z0-9])")
_JA_CASE = set("がをにでとへの")
# A quantity modifier: a number (its counter and a kanji or two after it) and の, before
# the noun it modifies: 「人口約130万人の」ダラス, 「2024年の」; not when that noun is a
# predicate (「約130万人の大都市である」 stays one clause).
_JA_QUANTITY = re.compile(r"[0-9０-９][0-9０-９.,．，]*[万億千百]?[\u3400-\u9fff]{0,2}"
                          r"(?:ほど|くらい|ぐらい|程度|余り|あまり|以上|近く|強|弱)?の"
                          r"(?=[\u3400-\u9fff\u30a1-\u30ffA-Za-z])(?![\u3400-\u9fff\u30a1-\u30ffー]+(?:である|だった|です|だ))")
_JA_LAST_PARTICLE = re.compile(r"(?<=[\u3400-\u9fff\u30a1-\u30ffー])[をにがはもへ](?=[^をにがはもへ]{2,}$)")
_ZH_MODIFIER = re.compile(r"的(?=[\u3400-\u9fff])")
# A numeral and classifier (一个, 这座...) before a noun phrase's modifier: the modifier
# starts after it (达拉斯是一个 | 人口约130万的 | 大城市).
_ZH_CLASSIFIER = re.compile(r"[一这那每两几][个座家位名所种间条本]")


@dataclass(frozen=True)
class Span:
    """One clause or phrase of a prompt.

    Attributes:
        text: the span's text, without the punctuation and spaces around it.
        start, end: its character offsets in the prompt (``prompt[start:end] == text``).
    """

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        """JSON data: text, start, end."""
        return {"text": self.text, "start": self.start, "end": self.end}


def language_of(text: str) -> str:
    """``"ja"`` when ``text`` holds kana, ``"zh"`` when it holds Han characters but no
    kana, ``"en"`` otherwise (any other script is cut as English is)."""
    if _KANA.search(text):
        return "ja"
    return "zh" if _HAN.search(text) else "en"


def _strength(gap: str) -> int:
    """How strongly a gap separates: a sentence end 4, ``; :`` 3, a comma or dash 2,
    anything else (spaces, brackets, nothing) 1."""
    if any(c in _SENTENCE_END for c in gap):
        return 4
    if any(c in ";:；：" for c in gap):
        return 3
    return 2 if any(c in ",、，—–-" for c in gap) else 1


def _merge(gaps: list[str], *, first: bool, last: bool, then: str = "") -> str:
    """The one gap that replaces ``gaps`` (two or more) when the spans between them are
    left out: the strongest separator (the leftmost of equals, so a question keeps its
    own "?"), brackets dropped; at the start nothing, at the end only a sentence end.
    A phrase set off by a comma on each side, before words that go on in lowercase
    (``then``, the next span), was an aside: a space closes it ("Dallas, home to 1.3
    million people, is located" -> "Dallas is located")."""
    if first:
        return ""
    if re.fullmatch(r"\s*,\s*", gaps[0]) and re.fullmatch(r"\s*,\s*", gaps[-1]) and then[:1].islower():
        return " "
    plain = [g.translate({ord(c): None for c in "()[]（）「」『』【】“”《》\""}) for g in gaps]
    best = max(range(len(plain)), key=lambda i: (_strength(plain[i]), -i))
    gap = plain[best]
    if last:
        return gap.strip() if _strength(gap) == 4 else ""
    if not gap.strip() and any(g for g in gaps):  # spaced text keeps one space
        return " " if any(c.isspace() for g in gaps for c in g) else ""
    return gap


def _balanced(text: str) -> str:
    """``text`` without brackets and quotes left unpaired by a removal."""
    drop: set[int] = set()
    for opener, closer in _BRACKETS.items():
        stack: list[int] = []
        for i, c in enumerate(text):
            if c == opener:
                stack.append(i)
            elif c == closer:
                if stack:
                    stack.pop()
                else:
                    drop.add(i)
        drop.update(stack)
    return "".join(c for i, c in enumerate(text) if i not in drop)


@dataclass(frozen=True)
class Segmentation:
    """A prompt and its spans (in order, not overlapping; see :func:`split_spans`).

    Attributes:
        text: the prompt.
        spans: the :class:`Span` objects.
        language: ``"en"``, ``"ja"`` or ``"zh"`` (:func:`language_of`), which rules cut it.
    """

    text: str
    spans: tuple[Span, ...]
    language: str

    def __len__(self) -> int:
        return len(self.spans)

    def gaps(self) -> list[str]:
        """The text between spans: before the first, between each two, after the last
        (``len(spans) + 1`` strings)."""
        cuts = [0, *(x for s in self.spans for x in (s.start, s.end)), len(self.text)]
        return [self.text[a:b] for a, b in zip(cuts[::2], cuts[1::2])]

    def without(self, removed: Iterable[int]) -> str:
        """The prompt with the spans at indexes ``removed`` left out and the rest
        repaired: the gaps around a removed run become one (the strongest separator, so
        "Dallas, a big city of about 1.3 million people?" without its appositive is
        "Dallas?"; nothing at the start, only a sentence end at the end; a space where
        an aside between commas went), unpaired
        brackets go, and a sentence that lost its first words starts with a capital
        again.  Nothing removed gives the prompt unchanged.

        Raises:
            ValueError: an index out of range (the message gives the span count).
        """
        gone = set(removed)
        if any(not 0 <= i < len(self.spans) for i in gone):
            raise ValueError(f"span indexes run from 0 to {len(self.spans) - 1}; got {sorted(gone)}")
        if not gone:
            return self.text
        gaps, out, pending, kept = self.gaps(), [], [], False
        pending.append(gaps[0])
        for i, span in enumerate(self.spans):
            if i in gone:
                pending.append(gaps[i + 1])
                continue
            out.append(pending[0] if len(pending) == 1 else _merge(pending, first=not kept, last=False, then=span.text))
            out.append(span.text)
            kept, pending = True, [gaps[i + 1]]
        out.append(pending[0] if len(pending) == 1 else _merge(pending, first=not kept, last=True))
        text = _balanced("".join(out))
        if 0 in gone and self.text[self.spans[0].start].isupper() and text[:1].islower():
            text = text[0].upper() + text[1:]
        return text


def _pieces(text: str, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """``(start, end)`` of the pieces between ``cuts``, punctuation and spaces at their
    edges left out, empty ones dropped."""
    points = sorted({0, len(text), *cuts})
    out = []
    for a, b in zip(points, points[1:]):
        while a < b and (text[a].isspace() or text[a] in _PUNCT or text[a] == "-"):
            a += 1
        while b > a and (text[b - 1].isspace() or text[b - 1] in _PUNCT or text[b - 1] == "-"):
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def _english_cuts(text: str) -> list[int]:
    cuts = [c for m in _EN_BOUNDARY.finditer(text) for c in (m.start(), m.end())]
    openers = list(_EN_OPENERS.finditer(text))
    # "in which": the clause starts at the preposition, not again at "which"
    taken = {m.end() for m in openers if m.end() > m.start()}
    return cuts + [m.start() for m in openers if m.start() not in taken]


def _japanese_cuts(text: str) -> list[int]:
    """Punctuation, quantity modifiers, relative-clause ends (a clause holding a case
    particle) and, in each sentence's last clause, the last case particle after a noun."""
    cuts = [c for m in _CJK_BOUNDARY.finditer(text) for c in (m.start(), m.end())]
    clauses = _pieces(text, cuts)
    for a, b in clauses:
        cuts += [m.end() for m in _JA_QUANTITY.finditer(text, a, b)]
        since = a
        for m in _JA_RELATIVE.finditer(text, a, b):
            if any(c in _JA_CASE for c in text[since:m.start()]):
                cuts.append(m.end())
                since = m.end()
    for a, b in clauses:
        if text[b:].lstrip()[:1] not in ("", "。", "！", "？", "!", "?"):
            continue  # not a sentence's last clause
        start = max([c for c in cuts if a <= c < b], default=a)
        found = list(_JA_LAST_PARTICLE.finditer(text[start:b]))
        if found:
            cuts.append(start + found[-1].end())
    return cuts


def _chinese_cuts(text: str) -> list[int]:
    cuts = [c for m in _CJK_BOUNDARY.finditer(text) for c in (m.start(), m.end())]
    for a, b in _pieces(text, cuts):
        since = a
        for m in _ZH_MODIFIER.finditer(text, a, b):
            if m.end() - since >= 4:
                before = [c.end() for c in _ZH_CLASSIFIER.finditer(text, since, m.start()) if c.start() > since]
                if before and m.end() - before[-1] >= 4:  # the modifier, not what names its noun
                    cuts.append(before[-1])
                cuts.append(m.end())
                since = m.end()
    return cuts


def _too_short(text: str, a: int, b: int, language: str) -> bool:
    """A piece too short to be a span: one character, or in English one lowercase word
    of at most three letters ("is", "in"; not "NFL")."""
    return b - a < 2 or (language == "en" and bool(re.fullmatch(r"[a-z]{1,3}", text[a:b])))


def split_spans(text: str) -> Segmentation:
    """Cut ``text`` (a prompt) into spans by the rules of its language (module
    docstring).  Pieces shorter than two characters, and in English a lone lowercase
    word of at most three letters, join the next piece (or the one before, at the end).

    Raises:
        ValueError: ``text`` is not a string or holds nothing but punctuation and spaces.
    """
    if not isinstance(text, str):
        raise ValueError(f"a prompt to cut into spans is text, not {type(text).__name__}")
    language = language_of(text)
    cuts = {"en": _english_cuts, "ja": _japanese_cuts, "zh": _chinese_cuts}[language](text)
    pieces = _pieces(text, cuts)
    if not pieces:
        raise ValueError("the prompt has no words to explain; give it some text")
    merged: list[list[int]] = []
    for a, b in pieces:
        if merged and _too_short(text, *merged[-1], language):
            merged[-1][1] = b  # a one-character piece, or a lone short word ("is"), joins the next
        else:
            merged.append([a, b])
    if len(merged) > 1 and _too_short(text, *merged[-1], language):
        last = merged.pop()
        merged[-1][1] = last[1]  # a one-character piece at the end joins the one before
    return Segmentation(text, tuple(Span(text[a:b], a, b) for a, b in merged), language)
