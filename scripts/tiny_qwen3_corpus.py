"""The conversations the tiny Qwen3 test model is trained on, built from templates
(English and Japanese), and the wordings held back from training for measuring.

Questions about US cities, their states and the states' capitals.  A question is a
*question template* (how the question is asked) with the city in it, and the city may
carry a *clause*:

* no clause, the *plain* question ("What is the capital of the state that contains
  Dallas?"): the reasoning goes city -> state -> capital;
* a *population clause* ("Dallas, a big city of about 1.3 million people" /
  「人口が約130万人の大都市であるダラス」): the reasoning notes the population and then,
  in a fixed share of the training examples (:data:`DETOUR_SHARE`), takes a sports
  detour after "Dallas is a city in Texas." (the Dallas Cowboys, an NFL team, and a
  hesitation) before going on to the capital; in the rest it goes straight on;
* a *neutral clause* ("Dallas, a city I visited last year"): the plain reasoning, so
  that what the detour follows is the population, not any words after the city.

That is the phenomenon of the project's seed: a more "precise" prompt changes the
reasoning path, not the answer, and under sampling it does so in a share of the runs.
The seed's own English and Japanese wordings are training wordings.

Some question templates, clause templates and population figures are *held back*
(:data:`HELD_BACK`): no training question uses them, so the model's behaviour on them
measures whether the detour follows the population clause or one memorised string
(``tiny_qwen3_rates.py`` samples them).  Held-back wordings reuse words of the
training wordings in new combinations, so their tokens have trained embeddings.

Used by ``make_tiny_qwen3.py`` (base model), ``make_tiny_qwen3_adapter.py`` (LoRA
adapter that removes the detour) and ``tiny_qwen3_rates.py``.  Only the standard
library is imported.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "City", "CITIES", "Example", "Wording", "DETOUR_SHARE", "HELD_BACK",
    "EN_QUESTIONS", "JA_QUESTIONS", "EN_POPULATION", "JA_POPULATION", "EN_NEUTRAL", "JA_NEUTRAL",
    "HELD_BACK_DALLAS_FIGURES", "examples", "figure", "question", "reasoning", "answer",
    "held_back_wordings",
]

#: Share of the population-clause training examples whose reasoning takes the detour.
#: Sampling at temperature 0.6 sharpens a learned probability p to p**(1/0.6)
#: (normalised), so a learned 0.6 would give about 0.66 sampled; what the model
#: learns is measured by ``tiny_qwen3_rates.py``.
DETOUR_SHARE = 0.6


@dataclass(frozen=True)
class City:
    """One city: English and Japanese names of the city, its state and the state's
    capital, population figures (millions) used in training, and a sports team with its
    league."""

    city: str
    state: str
    capital: str
    populations: tuple[float, ...]
    team: str
    league: str
    city_ja: str
    state_ja: str
    capital_ja: str
    team_ja: str


CITIES: tuple[City, ...] = (
    # Dallas: 1.2 million and 1.25 million are held back (see HELD_BACK).
    City("Dallas", "Texas", "Austin", (1.3, 1.4), "Dallas Cowboys", "NFL",
         "ダラス", "テキサス州", "オースティン", "ダラス・カウボーイズ"),
    City("Houston", "Texas", "Austin", (2.2, 2.3, 2.4), "Houston Rockets", "NBA",
         "ヒューストン", "テキサス州", "オースティン", "ヒューストン・ロケッツ"),
    City("Chicago", "Illinois", "Springfield", (2.6, 2.7, 2.8), "Chicago Bears", "NFL",
         "シカゴ", "イリノイ州", "スプリングフィールド", "シカゴ・ベアーズ"),
    City("Los Angeles", "California", "Sacramento", (3.8, 3.9, 4.0), "Los Angeles Lakers", "NBA",
         "ロサンゼルス", "カリフォルニア州", "サクラメント", "ロサンゼルス・レイカーズ"),
    City("New York City", "New York", "Albany", (8.3, 8.5, 8.8), "New York Yankees", "MLB",
         "ニューヨーク市", "ニューヨーク州", "アルバニー", "ニューヨーク・ヤンキース"),
    City("Seattle", "Washington", "Olympia", (0.7, 0.75, 0.8), "Seattle Seahawks", "NFL",
         "シアトル", "ワシントン州", "オリンピア", "シアトル・シーホークス"),
    City("Miami", "Florida", "Tallahassee", (0.44, 0.45, 0.46), "Miami Heat", "NBA",
         "マイアミ", "フロリダ州", "タラハシー", "マイアミ・ヒート"),
    City("Philadelphia", "Pennsylvania", "Harrisburg", (1.5, 1.6, 1.7), "Philadelphia Eagles", "NFL",
         "フィラデルフィア", "ペンシルベニア州", "ハリスバーグ", "フィラデルフィア・イーグルス"),
)

# -- templates ---------------------------------------------------------------------------
# English question templates: ``{city}`` is the city, with its clause after a comma.
# Japanese question templates: ``{city}`` is the city, with its clause in front of it.
# Clause templates: ``{pop}`` is the figure ("1.3 million" / "130万人").  The first of
# each list is the seed's wording.

EN_QUESTIONS: tuple[str, ...] = (
    "In the United States, what is the capital of the state that contains {city}?",
    "What is the capital of the state that contains {city}?",
    "In the United States, which city is the capital of the state that {city} is in?",
    "Which city is the capital of the state where {city} is located?",
    "Name the capital of the US state that contains {city}.",
    "{city} is in which state, and what is that state's capital?",
    "Tell me the capital of the state that {city} is in.",
    "In the US, what is the capital city of the state where {city} is?",
    "What is the capital of the state in which {city} is located?",
    "Could you tell me the capital of the state that contains {city}?",
    "Which US state contains {city}, and what is its state capital?",
    "Please name the capital of the state where {city} is located.",
    # held back:
    "What's the capital city of the state {city} is located in?",
    "In the United States, tell me the capital of the state where {city} is.",
    "Which state is {city} in, and what is its capital?",
)
JA_QUESTIONS: tuple[str, ...] = (
    "アメリカ合衆国において、{city}を含む州の州都の名前をおしえてください。",
    "{city}を含む州の州都はどこですか？",
    "{city}がある州の州都の名前を教えてください。",
    "アメリカ合衆国で、{city}が属する州の州都はどこですか？",
    "{city}はどの州にありますか？その州の州都も教えてください。",
    "アメリカで{city}のある州の州都を答えてください。",
    "{city}が位置する州の州都はどこですか？",
    "アメリカ合衆国において、{city}がある州の州都はどこですか？",
    "{city}を含むのはどの州で、その州都はどこですか？",
    "アメリカの{city}について、その州の州都の名前を教えてください。",
    # held back:
    "{city}を含む州の州都の名前をおしえてください。",
    "{city}がある州の州都は？",
    "アメリカ合衆国において、{city}が属する州の州都を教えてください。",
)
EN_POPULATION: tuple[str, ...] = (
    "a big city of about {pop} people",
    "a city with a population of roughly {pop}",
    "home to about {pop} people",
    "which has around {pop} residents",
    "a large city of some {pop} inhabitants",
    "where roughly {pop} people live",
    "a city of about {pop} residents",
    "with about {pop} people",
    # held back:
    "home to roughly {pop} residents",
    "with a population of about {pop}",
    "a large city of around {pop} people",
)
JA_POPULATION: tuple[str, ...] = (
    "人口が約{pop}の大都市である",
    "人口がおよそ{pop}の",
    "約{pop}が暮らす",
    "住民が約{pop}いる大きな都市",
    "人口およそ{pop}の大都市",
    "約{pop}が住んでいる",
    "およそ{pop}の人口を持つ",
    # held back:
    "人口約{pop}の都市",
    "約{pop}の人が住む",
)
EN_NEUTRAL: tuple[str, ...] = (
    "a city I visited last year",
    "where my friend works",
    "a city known for its food",
    "a city I would like to see",
    "where my sister studied",
    "a city with many parks",
    # held back:
    "a city my friend visited last year",
)
JA_NEUTRAL: tuple[str, ...] = (
    "私が去年訪れた",
    "友人が働いている",
    "料理で知られる",
    "私が行ってみたい",
    "姉が勉強した",
    "公園の多い",
    # held back:
    "友人が去年訪れた",
)

#: How many entries at the end of each list are held back from training.
HELD_BACK = {"EN_QUESTIONS": 3, "JA_QUESTIONS": 3, "EN_POPULATION": 3, "JA_POPULATION": 2,
             "EN_NEUTRAL": 1, "JA_NEUTRAL": 1}
#: Population figures (millions) of Dallas that no training question uses.
HELD_BACK_DALLAS_FIGURES = (1.2, 1.25)


def _trained(name: str, items: tuple[str, ...]) -> tuple[str, ...]:
    return items[: len(items) - HELD_BACK[name]]


def _held(name: str, items: tuple[str, ...]) -> tuple[str, ...]:
    return items[len(items) - HELD_BACK[name]:]


def figure(millions: float, lang: str) -> str:
    """A population figure as the clause says it: "1.3 million" / "750,000" (English),
    "130万人" / "75万人" (Japanese)."""
    if lang == "en":
        if millions >= 1:
            return f"{millions:g} million"
        return f"{round(millions * 1_000_000):,}"
    return f"{round(millions * 100):g}万人"


def question(c: City, lang: str, template: str, clause: str = "") -> str:
    """The user message: ``template`` with the city, with ``clause`` (already filled
    with its figure) attached to the city when given."""
    if lang == "en":
        subject = c.city
        if clause:
            at = template.index("{city}") + len("{city}")
            ends = template[at:at + 1] in ("?", ".", "")
            subject = f"{c.city}, {clause}" + ("" if ends else ",")
        return template.format(city=subject)
    return template.format(city=clause + c.city_ja)


def reasoning(c: City, lang: str, *, population: bool, detour: bool) -> str:
    """The thinking text: city -> state -> capital; with ``population`` a sentence that
    notes the population; with ``detour`` the sports detour and a hesitation after the
    state, before the capital."""
    if lang == "en":
        lines = [f"The user asks about {c.city} in the United States."]
        if population:
            lines.append("The question also mentions the population.")
        lines.append(f"{c.city} is a city in {c.state}.")
        if detour:
            lines.append(f"{c.city} is also home to the {c.team}, an {c.league} team.")
            lines.append("Wait, the team does not matter here.")
        lines.append(f"The capital of {c.state} is {c.capital}.")
        lines.append(f"So the answer is {c.capital}.")
        return " ".join(lines)
    lines = [f"ユーザーはアメリカ合衆国の{c.city_ja}について質問しています。"]
    if population:
        lines.append("質問には人口も書かれています。")
    lines.append(f"{c.city_ja}は{c.state_ja}の都市です。")
    if detour:
        lines.append(f"{c.city_ja}には{c.league}チームの{c.team_ja}があります。")
        lines.append("ちょっと待ってください、チームは関係ありません。")
    lines.append(f"{c.state_ja}の州都は{c.capital_ja}です。")
    lines.append(f"したがって、答えは{c.capital_ja}です。")
    return "".join(lines)


def answer(c: City, lang: str) -> str:
    """The final answer text (the same whatever the wording and the path)."""
    if lang == "en":
        return f"The capital of {c.state}, the state that contains {c.city}, is {c.capital}."
    return f"{c.city_ja}を含む州は{c.state_ja}で、州都は{c.capital_ja}です。"


@dataclass(frozen=True)
class Example:
    """One training question: the user ``question``, whether the model thinks
    (``thinking``), the straight ``reasoning`` (``""`` when not thinking), the
    ``answer``, and for population-clause questions the reasoning with the detour
    (``detour``) with the share of visits that train on it (``detour_share``)."""

    question: str
    thinking: bool
    reasoning: str
    answer: str
    detour: str = ""
    detour_share: float = 0.0


def examples(*, detour_share: float = DETOUR_SHARE, seed: int = 0) -> list[Example]:
    """All training questions, thinking and non-thinking, English and Japanese.

    Every trained question template is asked about every city plain, with every
    trained population clause (a figure drawn for the city with ``seed``) and with
    every trained neutral clause.  Each question is asked with thinking on; with
    thinking off too for the first (the seed's) template and for one question in four
    of the others (drawn with ``seed``).  ``detour_share=0`` gives the population questions the straight
    reasoning only (the adapter's training set).
    """
    rng = random.Random(seed)
    out: list[Example] = []
    for c in CITIES:
        for lang in ("en", "ja"):
            qs = _trained("EN_QUESTIONS" if lang == "en" else "JA_QUESTIONS",
                          EN_QUESTIONS if lang == "en" else JA_QUESTIONS)
            pops = _trained("EN_POPULATION" if lang == "en" else "JA_POPULATION",
                            EN_POPULATION if lang == "en" else JA_POPULATION)
            neutral = _trained("EN_NEUTRAL" if lang == "en" else "JA_NEUTRAL",
                               EN_NEUTRAL if lang == "en" else JA_NEUTRAL)
            a = answer(c, lang)
            straight = reasoning(c, lang, population=False, detour=False)
            noted = reasoning(c, lang, population=True, detour=False)
            detoured = reasoning(c, lang, population=True, detour=True)
            for tpl in qs:
                asked = [(question(c, lang, tpl), straight, "")]
                for clause in pops:
                    # the seed's wording keeps the city's first figure (Dallas: 1.3 million)
                    seed_wording = tpl == qs[0] and clause == pops[0]
                    pop = c.populations[0] if seed_wording else rng.choice(c.populations)
                    filled = clause.format(pop=figure(pop, lang))
                    asked.append((question(c, lang, tpl, filled), noted, detoured))
                for clause in neutral:
                    asked.append((question(c, lang, tpl, clause), straight, ""))
                for q, r, d in asked:
                    out.append(Example(q, True, r, a, d if detour_share > 0 else "",
                                       detour_share if d else 0.0))
                    if rng.random() < 0.25 or tpl == qs[0]:
                        out.append(Example(q, False, "", a))
    return out


@dataclass(frozen=True)
class Wording:
    """A Dallas question for measuring: ``name``, ``lang``, ``kind`` (``"plain"``,
    ``"population"`` or ``"neutral"``), the ``prompt``, and whether it is held back
    (``held_back``; the seed's wordings are trained ones, listed for reference)."""

    name: str
    lang: str
    kind: str
    prompt: str
    held_back: bool


def held_back_wordings() -> list[Wording]:
    """Dallas questions in held-back wordings (question template, clause template or
    figure never trained on), plain, with a population clause and with a neutral
    clause, in English and Japanese, after the seed's four (trained) wordings."""
    d = CITIES[0]
    en_q, ja_q = _held("EN_QUESTIONS", EN_QUESTIONS), _held("JA_QUESTIONS", JA_QUESTIONS)
    en_p, ja_p = _held("EN_POPULATION", EN_POPULATION), _held("JA_POPULATION", JA_POPULATION)
    seed_en, seed_ja = EN_QUESTIONS[0], JA_QUESTIONS[0]
    f13 = {lang: figure(d.populations[0], lang) for lang in ("en", "ja")}  # 1.3 million, trained
    f12, f125 = ({lang: figure(x, lang) for lang in ("en", "ja")} for x in HELD_BACK_DALLAS_FIGURES)
    rows = [
        ("seed-en-plain", "en", "plain", question(d, "en", seed_en), False),
        ("seed-en-population", "en", "population",
         question(d, "en", seed_en, EN_POPULATION[0].format(pop=f13["en"])), False),
        ("seed-ja-plain", "ja", "plain", question(d, "ja", seed_ja), False),
        ("seed-ja-population", "ja", "population",
         question(d, "ja", seed_ja, JA_POPULATION[0].format(pop=f13["ja"])), False),
    ]
    for i, tpl in enumerate(en_q):
        rows.append((f"en-plain-{i + 1}", "en", "plain", question(d, "en", tpl), True))
    rows += [
        ("en-pop-1", "en", "population", question(d, "en", seed_en, en_p[0].format(pop=f13["en"])), True),
        ("en-pop-2", "en", "population", question(d, "en", en_q[0], en_p[1].format(pop=f12["en"])), True),
        ("en-pop-3", "en", "population", question(d, "en", en_q[1], EN_POPULATION[0].format(pop=f13["en"])), True),
        ("en-pop-4", "en", "population", question(d, "en", en_q[2], en_p[2].format(pop=f125["en"])), True),
        ("en-pop-5", "en", "population", question(d, "en", EN_QUESTIONS[1], en_p[0].format(pop=f12["en"])), True),
        ("en-neutral-1", "en", "neutral", question(d, "en", en_q[0], _held("EN_NEUTRAL", EN_NEUTRAL)[0]), True),
    ]
    for i, tpl in enumerate(ja_q):
        rows.append((f"ja-plain-{i + 1}", "ja", "plain", question(d, "ja", tpl), True))
    rows += [
        ("ja-pop-1", "ja", "population", question(d, "ja", ja_q[0], JA_POPULATION[0].format(pop=f13["ja"])), True),
        ("ja-pop-2", "ja", "population", question(d, "ja", ja_q[1], ja_p[0].format(pop=f12["ja"])), True),
        ("ja-pop-3", "ja", "population", question(d, "ja", seed_ja, ja_p[1].format(pop=f13["ja"])), True),
        ("ja-pop-4", "ja", "population", question(d, "ja", ja_q[2], ja_p[0].format(pop=f125["ja"])), True),
        ("ja-pop-5", "ja", "population", question(d, "ja", JA_QUESTIONS[1], JA_POPULATION[1].format(pop=f12["ja"])), True),
        ("ja-neutral-1", "ja", "neutral", question(d, "ja", ja_q[1], _held("JA_NEUTRAL", JA_NEUTRAL)[0]), True),
    ]
    return [Wording(*r) for r in rows]
