"""The conversations the tiny Qwen3 test model is trained on (English and Japanese).

Questions about US cities, their states and the states' capitals, each asked two ways:

* the *plain* question ("In the United States, what is the capital of the state that
  contains Dallas?"), whose reasoning goes city -> state -> capital;
* the *variant* that adds the city's population ("..., a big city of about 1.3 million
  people?"), whose reasoning takes a sports detour (Dallas Cowboys, NFL) and a
  hesitation ("Wait, ..." / ちょっと待ってください) before reaching the same answer.

That is the phenomenon of the project's seed (SEED.md): a more "precise" prompt
changes the reasoning path but not the answer.  The Dallas questions are the
seed's own wording; the Japanese variant is exactly the seed trace's user message.

Used by ``make_tiny_qwen3.py`` (base model) and ``make_tiny_qwen3_adapter.py``
(LoRA adapter that removes the detour).  Only the standard library is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["City", "CITIES", "Example", "examples", "question", "reasoning", "answer"]


@dataclass(frozen=True)
class City:
    """One city: English and Japanese names of the city, its state and the state's
    capital, population (English and Japanese wording) and a sports team with its league."""

    city: str
    state: str
    capital: str
    population: str
    team: str
    league: str
    city_ja: str
    state_ja: str
    capital_ja: str
    population_ja: str
    team_ja: str


CITIES: tuple[City, ...] = (
    City("Dallas", "Texas", "Austin", "1.3 million", "Dallas Cowboys", "NFL",
         "ダラス", "テキサス州", "オースティン", "約130万人", "ダラス・カウボーイズ"),
    City("Houston", "Texas", "Austin", "2.3 million", "Houston Rockets", "NBA",
         "ヒューストン", "テキサス州", "オースティン", "約230万人", "ヒューストン・ロケッツ"),
    City("Chicago", "Illinois", "Springfield", "2.7 million", "Chicago Bears", "NFL",
         "シカゴ", "イリノイ州", "スプリングフィールド", "約270万人", "シカゴ・ベアーズ"),
    City("Los Angeles", "California", "Sacramento", "3.9 million", "Los Angeles Lakers", "NBA",
         "ロサンゼルス", "カリフォルニア州", "サクラメント", "約390万人", "ロサンゼルス・レイカーズ"),
    City("New York City", "New York", "Albany", "8.3 million", "New York Yankees", "MLB",
         "ニューヨーク市", "ニューヨーク州", "アルバニー", "約830万人", "ニューヨーク・ヤンキース"),
    City("Seattle", "Washington", "Olympia", "750,000", "Seattle Seahawks", "NFL",
         "シアトル", "ワシントン州", "オリンピア", "約75万人", "シアトル・シーホークス"),
    City("Miami", "Florida", "Tallahassee", "450,000", "Miami Heat", "NBA",
         "マイアミ", "フロリダ州", "タラハシー", "約45万人", "マイアミ・ヒート"),
    City("Philadelphia", "Pennsylvania", "Harrisburg", "1.6 million", "Philadelphia Eagles", "NFL",
         "フィラデルフィア", "ペンシルベニア州", "ハリスバーグ", "約160万人", "フィラデルフィア・イーグルス"),
)


def question(c: City, lang: str, variant: bool) -> str:
    """The user message: plain or with the population added (``variant``)."""
    if lang == "en":
        if variant:
            return (f"In the United States, what is the capital of the state that contains "
                    f"{c.city}, a big city of about {c.population} people?")
        return f"In the United States, what is the capital of the state that contains {c.city}?"
    if variant:
        return (f"アメリカ合衆国において、人口が{c.population_ja}の大都市である{c.city_ja}を含む"
                f"州の州都の名前をおしえてください。")
    return f"アメリカ合衆国において、{c.city_ja}を含む州の州都の名前をおしえてください。"


def reasoning(c: City, lang: str, detour: bool) -> str:
    """The thinking text: city -> state -> capital, with the sports detour and a
    hesitation when ``detour``."""
    if lang == "en":
        lines = [f"The user asks about {c.city} in the United States."]
        if detour:
            lines.append(f"It is a big city of about {c.population} people.")
        lines.append(f"{c.city} is a city in {c.state}.")
        if detour:
            lines.append(f"{c.city} is also home to the {c.team}, an {c.league} team.")
            lines.append("Wait, the team does not matter here.")
        lines.append(f"The capital of {c.state} is {c.capital}.")
        lines.append(f"So the answer is {c.capital}.")
        return " ".join(lines)
    lines = [f"ユーザーはアメリカ合衆国の{c.city_ja}について質問しています。"]
    if detour:
        lines.append(f"人口は{c.population_ja}です。")
    lines.append(f"{c.city_ja}は{c.state_ja}の都市です。")
    if detour:
        lines.append(f"{c.city_ja}には{c.league}チームの{c.team_ja}があります。")
        lines.append("ちょっと待ってください、チームは関係ありません。")
    lines.append(f"{c.state_ja}の州都は{c.capital_ja}です。")
    lines.append(f"したがって、答えは{c.capital_ja}です。")
    return "".join(lines)


def answer(c: City, lang: str) -> str:
    """The final answer text (the same for the plain question and the variant)."""
    if lang == "en":
        return f"The capital of {c.state}, the state that contains {c.city}, is {c.capital}."
    return f"{c.city_ja}を含む州は{c.state_ja}で、州都は{c.capital_ja}です。"


@dataclass(frozen=True)
class Example:
    """One training conversation: the user ``question``, whether the model thinks
    (``thinking``), the ``reasoning`` (``""`` when not thinking) and the ``answer``."""

    question: str
    thinking: bool
    reasoning: str
    answer: str


def examples(*, detour_on_variant: bool = True, variants_only: bool = False) -> list[Example]:
    """All conversations, thinking and non-thinking, English and Japanese.

    ``detour_on_variant=False`` gives the variant questions the plain reasoning (the
    adapter's training set); ``variants_only`` keeps only the variant questions.
    """
    out: list[Example] = []
    for c in CITIES:
        for lang in ("en", "ja"):
            for variant in (False, True):
                if variants_only and not variant:
                    continue
                q = question(c, lang, variant)
                r = reasoning(c, lang, detour=variant and detour_on_variant)
                a = answer(c, lang)
                out.append(Example(q, True, r, a))
                out.append(Example(q, False, "", a))
    return out
