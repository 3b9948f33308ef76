"""Content terms of a text and whether they are anchored: what :mod:`.offpath` measures
a sentence with.

A text (normalised as everywhere in :mod:`.detours`: NFKC, case-folded) is cut into
**terms**: Latin words and numbers, and runs of one CJK script (katakana, kanji/hanzi;
hiragana, punctuation and script changes end a run, so "ダラス・カウボーイズ" gives ダラス
and カウボーイズ, "NFLチーム" gives nfl and チーム).  Left out, as saying nothing about
the topic: English stop words, one-character CJK runs (in Japanese mostly verb stems
and particles), in text without kana the Chinese function characters, and a short list
of reasoning's own vocabulary in the three languages ("user", "question", "check",
ユーザー, 質問, 確認, 用户, 确认 …: :data:`GENERIC`).

A term is **anchored** by a set of :class:`Anchors` built from other texts (the
prompt, the path's concepts, the answer) when it matches one of theirs: a Latin word
by its stem (a trailing plural ``s`` dropped; one stem a prefix of the other from four
letters on, so "Texan" meets "Texas"), a number exactly, a CJK run when at least half
of its character bigrams occur in the anchor texts' runs (so テキサス meets テキサス州,
and アメリカ meets アメリカ合衆国: Japanese and Chinese need no word segmenter).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .detours import normalize

__all__ = ["content_terms", "chinese_text", "Anchors", "GENERIC", "STOP_WORDS"]

#: English words that carry no topic (function words and the commonest verbs).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing done down during each either else even ever every few for from further
get gets got had has have having he her here hers him his how i if in into is it its itself just least less
let like made make many may me might more most much must my near neither no nor not now of off on once one only
or other others our ours out over own per quite rather same she should since so some such than that the their
theirs them then there these they this those though through thus to too under until up upon us very via was we
were what when where whether which while who whom whose why will with within without would yet you your yours
""".split())

#: Reasoning's own vocabulary, in English, Japanese and Chinese: words any reasoning
#: uses about itself (the user, the question, checking, remembering), never the topic.
GENERIC = frozenset("""
user users question questions ask asks asked asking answer answers answered think thinks thinking thought know
knows knew known recall remember check checks checking confirm confirms confirmed verify sure correct right wrong
wait hmm okay ok yes yeah well actually maybe perhaps probably likely seem seems mean means matter matters say
says said given mention mentions mentioned step steps fact thing things something anything way point part case
double again first next second last final finally need needs make sure consider considering considered look
looking see tell told want wants wanted go going clear clearly exactly indeed certainly definitely true false
reason reasoning therefore hence also another different same kind sort
ユーザー ユーザ 質問 回答 答え 確認 記憶 必要 正解 正確 間違 可能性 可能 場合 方法 情報 説明 明確 混乱 混同 理解 一度 最初 最後
次 結論 問題 考慮 前提 注意 指定 提示 明記 言及 本当 実際 同様 以上 一方 部分 意味 関係 思考 検討 整理 要約 表現 確実 重要
普通 一般 通常 全体 具体 直接 簡単 特定 大丈夫 納得 当然 念 記述 言葉 状況 内容 事実 自身 自分 今回 質問者 回答者 正 違
用户 问题 回答 答案 确认 记得 需要 首先 然后 所以 因此 可能 应该 知道 认为 觉得 考虑 检查 正确 错误 等等 一下 明确 确实 其实
实际 例如 比如 总结 结论 信息 提到 一个 这个 那个 什么 如何 怎么 没有 还是 或者 但是 不过 因为 如果 那么 就是 已经 可以 是否
""".split())

# One-character words of Chinese that only join others (split runs in text without kana).
_ZH_FUNCTION = "的了是在和也就都而及与或但这那我你他她它们个不有要会能说很吗呢吧啊么把被从对为以之其此于还又"
_KANA = re.compile(r"[\u3040-\u30ff]")
_TERM = re.compile(
    r"[0-9]+"                                   # a number
    r"|[a-z\u00c0-\u024f]+(?:'[a-z]+)?"         # a Latin word (an apostrophe's tail kept with it)
    r"|[\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff]+"  # a katakana run (not ・)
    r"|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]+"  # a kanji / hanzi run (々 kept)
)


def chinese_text(text: str) -> bool:
    """Whether ``text`` is read as Chinese: it holds no kana (its Han runs are then
    split at Chinese function characters)."""
    return not _KANA.search(normalize(text or ""))


def _stem(word: str) -> str:
    """A Latin word's stem: ``'s`` dropped, and a final ``s`` (not ``ss``) of a word of
    five letters or more (``"capitals"`` -> ``"capital"``; ``"texas"`` -> ``"texa"``
    alike in every text, so it still meets itself)."""
    word = word.split("'")[0]
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def _runs(text: str, chinese: bool) -> list[str]:
    """The raw terms of normalised ``text``, Han runs split at Chinese function
    characters when ``chinese``."""
    out: list[str] = []
    for match in _TERM.finditer(text):
        term = match.group(0)
        if chinese and "\u3400" <= term[0]:
            out += [t for t in re.split(f"[{_ZH_FUNCTION}]", term) if t]
        else:
            out.append(term)
    return out


def content_terms(text: str, *, chinese: bool | None = None) -> list[str]:
    """The content terms of ``text`` in order (normalised; Latin words stemmed):
    numbers, Latin words that are not :data:`STOP_WORDS` or :data:`GENERIC` and longer
    than one letter, and CJK runs of two characters or more that are not
    :data:`GENERIC` (at least half of a run's character bigrams those of generic
    words).  ``chinese``: split Han runs at function characters (default:
    when ``text`` holds no kana)."""
    norm = normalize(text or "")
    if chinese is None:
        chinese = chinese_text(norm)
    terms = []
    for term in _runs(norm, chinese):
        if term.isdigit():
            terms.append(term)
        elif term[0].isascii() or "\u00c0" <= term[0] <= "\u024f":
            if len(term) > 1 and term not in STOP_WORDS and term.split("'")[0] not in GENERIC:
                terms.append(_stem(term))
        elif len(term) > 1 and not _generic_run(term):
            terms.append(term)
    return terms


def _bigrams(run: str) -> set[str]:
    return {run[i : i + 2] for i in range(len(run) - 1)}


_GENERIC_BIGRAMS = frozenset(g for word in GENERIC if not word.isascii() for g in _bigrams(word))


def _generic_run(run: str) -> bool:
    """A CJK run that is reasoning's own vocabulary: at least half of its bigrams are
    those of :data:`GENERIC` words (再確認 like 確認, 用户问 like 用户)."""
    grams = _bigrams(run)
    return 2 * len(grams & _GENERIC_BIGRAMS) >= len(grams)


def _latin(term: str) -> bool:
    return term[0].isascii() or "\u00c0" <= term[0] <= "\u024f"


@dataclass
class Anchors:
    """The terms that keep a sentence on the question's path, gathered from texts
    (:meth:`add`); :meth:`holds` says whether a term is one of them.

    Attributes:
        words: Latin stems and numbers.
        bigrams: character bigrams of the CJK runs.
    """

    words: set[str] = field(default_factory=set)
    bigrams: set[str] = field(default_factory=set)

    def add(self, texts: Iterable[str], *, chinese: bool | None = None) -> Anchors:
        """Add the content terms of each of ``texts``; returns ``self``."""
        for text in texts:
            for term in content_terms(text, chinese=chinese):
                if term.isdigit() or _latin(term):
                    self.words.add(term)
                else:
                    self.bigrams |= _bigrams(term)
        return self

    def holds(self, term: str) -> bool:
        """Whether ``term`` (from :func:`content_terms`) is anchored: see the module
        docstring."""
        if term.isdigit():
            return term in self.words
        if _latin(term):
            return term in self.words or (len(term) >= 4 and any(
                len(w) >= 4 and not w.isdigit() and (w.startswith(term) or term.startswith(w)) for w in self.words))
        grams = _bigrams(term)
        return 2 * len(grams & self.bigrams) >= len(grams)
