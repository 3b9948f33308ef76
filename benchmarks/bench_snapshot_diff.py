"""Diff of two trace snapshots holding a ~30,000-token reasoning trace (~1,500 English
and Japanese sentences, ~90-120 k characters) that differ in 5 sentences:
``TraceSnapshotExtension().diff_lines(new, old)`` fully consumed (the structured
deepdiff summary, then syrupy's line diff), plus ``serialize_trace``.

Goal: diff < 0.2 s.

    python benchmarks/bench_snapshot_diff.py
"""

from __future__ import annotations

import random
import time

from pytest_reasoning.snapshots import TraceSnapshotExtension, serialize_trace
from pytest_reasoning.trace import Trace, Usage

SENTENCES, CHANGED, RUNS, GOAL_S = 1500, 5, 5, 0.2

EN = [
    "The user asks which city is the capital of the state that contains {c}, as in step {n} of my notes.",
    "First I should recall where {c} is located, and whether there is more than one city by that name ({n}).",
    "Wait, let me double-check that {c} is not also the name of a county somewhere else, point {n}.",
    "The largest city of a state is often not its capital, so I must not assume {c} is the answer ({n}).",
    "So the state capital follows from the state, and the state follows from {c}, as noted in step {n}.",
]
JA = [
    "ユーザーは{c}を含む州の州都を尋ねていて、これは手順{n}で確認した内容と同じ質問です。",
    "まず{c}がどの州にあるかを思い出す必要があり、同じ名前の都市が複数ないかも手順{n}で確かめます。",
    "ちょっと待って、{c}という名前の都市がアメリカの他の州にもあるかもしれないので、手順{n}を見直します。",
    "州で最大の都市が州都とは限らないので、{c}をそのまま答えにしないよう手順{n}で注意して考えます。",
    "したがって、州都は州から決まり、州は{c}から決まるので、手順{n}の結論はそのまま使えます。",
]
CITIES = ["Dallas", "Houston", "Chicago", "Seattle", "Denver", "ダラス", "ヒューストン", "シカゴ", "シアトル", "デンバー"]


def reasoning(rng: random.Random) -> list[str]:
    out = []
    for i in range(SENTENCES):
        template = rng.choice(EN if i % 2 else JA)
        out.append(template.format(c=rng.choice(CITIES), n=i))
    return out


def trace_of(sentences: list[str]) -> Trace:
    return Trace(
        messages=[{"role": "user", "content": "ダラスを含む州の州都の名前をおしえてください。"}],
        reasoning=" ".join(s if s.endswith(("。", ".")) else s + "." for s in sentences),
        answer="オースティン (Austin)", model="deepseek-reasoner", params={"thinking": True},
        usage=Usage(20, 30500, 30000, 30520), finish_reason="stop", reasoning_source="reasoning_content",
    )


def best(fn, runs: int = RUNS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    rng = random.Random(0)
    old_sentences = reasoning(rng)
    new_sentences = list(old_sentences)
    for i in rng.sample(range(SENTENCES), CHANGED):
        new_sentences[i] = "Hmm, actually the Dallas Cowboys play in the NFL, which is not relevant here."
    old_trace, new_trace = trace_of(old_sentences), trace_of(new_sentences)

    t_ser, old = best(lambda: serialize_trace(old_trace))
    new = serialize_trace(new_trace)
    ext = TraceSnapshotExtension()
    # warm-up: imports deepdiff on first call, as the first failing snapshot of a run would
    start = time.perf_counter()
    lines = list(ext.diff_lines(new, old))
    t_first = time.perf_counter() - start
    t_diff, lines = best(lambda: list(ext.diff_lines(new, old)))

    chars = len(old_trace.reasoning)
    summary = lines[: lines.index("")]
    print(f"reasoning: {chars:,} characters, {len(old_trace.sentences()):,} sentences "
          f"(usage says {old_trace.usage.reasoning_tokens:,} reasoning tokens), snapshot {len(old.encode()):,} bytes, "
          f"{old.count(chr(10)):,} lines")
    print(f"  serialize_trace     : {t_ser * 1000:7.1f} ms (best of {RUNS})")
    print(f"  diff_lines, first   : {t_first * 1000:7.1f} ms (includes importing deepdiff)")
    print(f"  diff_lines          : {t_diff * 1000:7.1f} ms (best of {RUNS}; {len(lines)} lines out) "
          f"(goal < {GOAL_S * 1000:.0f} ms) -> {'MET' if t_diff < GOAL_S else 'MISSED'}")
    print("  summary:")
    for line in summary:
        print("   ", line)
    assert any(f"{CHANGED} added, {CHANGED} removed" in s for s in summary), summary
    assert 90_000 <= chars <= 120_000, chars


if __name__ == "__main__":
    main()
