"""What loading the plugin costs a plain pytest run.

1. ``python -m pytest -q -p no:cacheprovider`` on a tiny test file in a temp dir, with
   the plugin (as installed, via its ``pytest11`` entry point) vs ``-p no:reasoning``:
   best of 10 each, interleaved; the difference.
2. ``python -X importtime -c "import pytest_reasoning.plugin"``: the time spent in
   pytest_reasoning modules and what they import, leaving out pytest and syrupy
   themselves (and everything they import): best of 5.
3. Importing the plugin imports none of torch, transformers, unsloth, openai (nor
   deepdiff, which only a failing snapshot diff needs).

Goal: < 50 ms.  Measured twice: with a bytecode cache (``PYTHONPYCACHEPREFIX`` in a temp
dir, warmed up first: what an installed package normally has) and with none
(``PYTHONDONTWRITEBYTECODE=1``: every module compiled on every run, as in CI images
that set it); the goal is checked on the cached figure, the other is shown beside it.

    python benchmarks/bench_import.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from subprocess_env import environment  # noqa: E402

RUNS, RUNS_UNCACHED, IMPORT_RUNS, GOAL_MS = 10, 5, 5, 50.0  # uncached runs are ~1 s each
HEAVY = ("torch", "transformers", "unsloth", "openai", "deepdiff")
EXCLUDED = ("pytest", "_pytest", "syrupy", "py", "pluggy", "iniconfig", "packaging")

TINY_TEST = """
import sys

def test_one():
    assert "abc".upper() == "ABC"

def test_heavy_modules():
    print("HEAVY:", sorted(m for m in {heavy!r} if m in sys.modules))
"""


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pytest_run(root: Path, extra: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the pytest process, its stdout)."""
    cpu, start = _child_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s", *extra,
                           "test_tiny.py"], cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"pytest failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, _child_cpu() - cpu, proc.stdout


def plugin_import_us(env: dict[str, str]) -> tuple[int, int]:
    """(microseconds in pytest_reasoning's own import tree, pytest/syrupy excluded;
    the plugin's whole cumulative time, pytest and syrupy included)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pytest_reasoning.plugin"],
                          capture_output=True, text=True, check=True, env=env)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|", 2)
        name = name[1:]  # one space after the bar, then two per nesting level
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((int(self_us), int(cum_us), depth, name.strip()))
    ours, whole, stack = 0, 0, []  # children print before parents: walk backwards, parents first
    for self_us, cum_us, depth, name in reversed(rows):
        stack = stack[:depth] + [name]
        top = name.split(".")[0]
        if name == "pytest_reasoning.plugin":
            whole = cum_us
        under_ours = any(n.split(".")[0] == "pytest_reasoning" for n in stack)
        under_excluded = any(n.split(".")[0] in EXCLUDED for n in stack) or top in EXCLUDED
        if under_ours and not under_excluded:
            ours += self_us
    return ours, whole


def measure(root: Path, env: dict[str, str], runs: int) -> dict[str, float | str]:
    pytest_run(root, [], env)  # warm up: bytecode cache, rewritten asserts, OS caches
    pytest_run(root, ["-p", "no:reasoning"], env)
    on, off, on_cpu, off_cpu, heavy_in_run = [], [], [], [], ""
    for _ in range(runs):  # interleaved, so drift hits both alike
        t, cpu, out = pytest_run(root, [], env)
        on.append(t), on_cpu.append(cpu)
        heavy_in_run = next(line for line in out.splitlines() if "HEAVY:" in line).split(":", 1)[1].strip()
        t, cpu, _ = pytest_run(root, ["-p", "no:reasoning"], env)
        off.append(t), off_cpu.append(cpu)
    imports = [plugin_import_us(env) for _ in range(IMPORT_RUNS)]
    return {"on": min(on) * 1000, "off": min(off) * 1000, "delta": (min(on) - min(off)) * 1000,
            "on_cpu": min(on_cpu) * 1000, "off_cpu": min(off_cpu) * 1000,
            "delta_cpu": (min(on_cpu) - min(off_cpu)) * 1000,
            "ours": min(i[0] for i in imports) / 1000, "whole": min(i[1] for i in imports) / 1000,
            "heavy": heavy_in_run}


def main() -> None:
    code = "import sys, pytest_reasoning.plugin; print(sorted(m for m in %r if m in sys.modules))" % (HEAVY,)
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert heavy == "[]", f"importing the plugin imported {heavy}"

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        (root / "test_tiny.py").write_text(TINY_TEST.format(heavy=HEAVY))
        cached = measure(root, environment(str(root / "pycache")), RUNS)
        uncached = measure(root, environment(None), RUNS_UNCACHED)

    def met(ms: float) -> str:
        return f"(goal < {GOAL_MS:g} ms) -> {'MET' if ms < GOAL_MS else 'MISSED'}"

    print(f"{'':52}{'bytecode cached':>16}{'no bytecode cache':>19}")
    print(f"pytest -q -p no:cacheprovider, 2 tests, best of {RUNS} (cached) / {RUNS_UNCACHED} (no cache):")
    for key, label in (("on", "plugin on, wall"), ("off", "-p no:reasoning, wall"),
                       ("on_cpu", "plugin on, CPU (user+sys)"), ("off_cpu", "-p no:reasoning, CPU (user+sys)")):
        print(f"  {label:50}{cached[key]:11.1f} ms{uncached[key]:14.1f} ms")
    print(f"  {'difference, wall':50}{cached['delta']:11.1f} ms{uncached['delta']:14.1f} ms  {met(cached['delta'])}")
    print(f"  {'difference, CPU':50}{cached['delta_cpu']:11.1f} ms{uncached['delta_cpu']:14.1f} ms  "
          f"{met(cached['delta_cpu'])}")
    print(f"python -X importtime -c 'import pytest_reasoning.plugin', best of {IMPORT_RUNS}:")
    print(f"  {'pytest_reasoning modules (pytest, syrupy excluded)':50}{cached['ours']:11.1f} ms"
          f"{uncached['ours']:14.1f} ms  {met(cached['ours'])}")
    print(f"  {'whole import, pytest and syrupy included':50}{cached['whole']:11.1f} ms{uncached['whole']:14.1f} ms")
    print(f"heavy modules after importing the plugin: {heavy} (of {', '.join(HEAVY)}) -> OK")
    print(f"heavy modules in the pytest run with the plugin: {cached['heavy']}")


if __name__ == "__main__":
    main()
