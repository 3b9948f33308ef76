"""1,000 replayed prompt tests vs 1,000 plain tests, each a real ``python -m pytest``
subprocess in a temp dir (same flags, best of 3).

(a) 1,000 parametrised tests calling ``reasoning_model(prompt)`` under
    ``@pytest.mark.reasoning(backend="deepseek", model="m")``, replayed from a cassette
    of 1,000 ``openai.chat.completion`` entries, asserting on the answer;
(b) 1,000 parametrised plain tests asserting on a string.

Goal: replay <= 1.5x plain.  Measured with a bytecode cache (``PYTHONPYCACHEPREFIX`` in
the temp dir, warmed up: what an installed package normally has; the goal is checked
on this) and with none (``PYTHONDONTWRITEBYTECODE=1``, as in CI images that set it).

    python benchmarks/bench_replay.py [--profile]   # --profile: cProfile the replay run
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from subprocess_env import environment  # noqa: E402

from pytest_reasoning.backends.base import RawResponse, Request
from pytest_reasoning.recording import Cassette

N, RUNS, GOAL = 1000, 3, 1.5
FLAGS = ["-q", "-p", "no:cacheprovider"]

REPLAY_TEST = f'''
import pytest

@pytest.mark.reasoning(backend="deepseek", model="m")
@pytest.mark.parametrize("i", range({N}))
def test_prompt(reasoning_model, i):
    trace = reasoning_model(f"What is {{i}} + {{i}}?")
    assert trace.answer == f"{{i + i}}"
    assert trace.reasoning
'''

PLAIN_TEST = f'''
import pytest

@pytest.mark.parametrize("i", range({N}))
def test_plain(i):
    answer = f"{{i + i}}"
    assert answer == str(2 * i)
'''


def completion(i: int) -> dict:
    return {
        "id": f"cmpl-{i}", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": f"{i + i}",
            "reasoning_content": f"The user asks for {i} + {i}. Adding {i} to itself gives {i + i}. "
                                 f"ちょっと確認します。{i} の二倍は {i + i} です。"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52,
                  "completion_tokens_details": {"reasoning_tokens": 30}},
    }


def write_replay_project(root: Path) -> None:
    (root / "test_replay.py").write_text(REPLAY_TEST)
    cassette = Cassette(root / "cassettes" / "test_replay.json")
    for i in range(N):
        request = Request("deepseek", "m", ({"role": "user", "content": f"What is {i} + {i}?"},), {}, {})
        cassette.record(request, RawResponse("openai.chat.completion", completion(i), 1.0, "openai-python x"))
    cassette.save()


def run(root: Path, test_file: str, env: dict[str, str], extra: list[str] = ()) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *extra, "-m", "pytest", *FLAGS, test_file], cwd=root, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    if proc.returncode != 0 or f"{N} passed" not in last:
        sys.exit(f"{test_file} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def measure(root: Path, env: dict[str, str]) -> tuple[list[float], list[float]]:
    run(root, "test_plain.py", env), run(root, "test_replay.py", env)  # warm up caches
    replay, plain = [], []
    for _ in range(RUNS):  # interleaved, so drift hits both alike
        plain.append(run(root, "test_plain.py", env))
        replay.append(run(root, "test_replay.py", env))
    return replay, plain


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        write_replay_project(root)
        (root / "test_plain.py").write_text(PLAIN_TEST)
        cached_env = environment(str(root / "pycache"))
        if "--profile" in sys.argv:
            out = Path(tempfile.gettempdir()) / "pytest_reasoning_replay.prof"
            run(root, "test_replay.py", cached_env, ["-m", "cProfile", "-o", str(out)])
            print(f"profile written to {out}; read it with: python -m pstats {out}")
            return
        results = {"bytecode cached": measure(root, cached_env), "no bytecode cache": measure(root, environment(None))}
    print(f"{N} tests per run, python -m pytest {' '.join(FLAGS)}, best of {RUNS}")
    for label, (replay, plain) in results.items():
        best_r, best_p = min(replay), min(plain)
        ratio = best_r / best_p
        verdict = f"(goal <= {GOAL:g}x) -> {'MET' if ratio <= GOAL else 'MISSED'}" if label == "bytecode cached" else ""
        print(f" {label}:")
        print(f"  plain  : {best_p:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in plain)})")
        print(f"  replay : {best_r:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in replay)})")
        print(f"  per replayed test over plain: {(best_r - best_p) / N * 1000:.2f} ms")
        print(f"  ratio  : {ratio:6.2f}x  {verdict}")


if __name__ == "__main__":
    main()
