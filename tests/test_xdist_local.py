"""pytest-xdist with a local model on CPU: each worker loads the model once and runs
its own tests on it (the one-GPU-per-worker layout, without the GPU)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"


def test_each_worker_loads_the_model_once(pytester, tmp_path):
    pytest.importorskip("torch", reason="needs the 'local' extra")
    pytest.importorskip("transformers", reason="needs the 'local' extra")
    pytest.importorskip("xdist", reason="needs pytest-xdist")
    log = tmp_path / "loads"
    log.mkdir()
    pytester.makepyfile(
        test_local=f"""
        import os
        import pytest
        from pytest_reasoning import assert_answer
        from pytest_reasoning.session import STATE

        @pytest.mark.reasoning(backend="transformers", model={str(TINY)!r}, device="cpu", record_mode="off")
        @pytest.mark.parametrize("i", range(6))
        def test_capital(reasoning_model, request, i):
            trace = reasoning_model(
                "In the United States, what is the capital of the state that contains Dallas?",
                temperature=0, max_tokens=60,
            )
            assert_answer(trace, contains="Austin")
            backends = request.config.stash[STATE].backends
            name = os.environ.get("PYTEST_XDIST_WORKER", "main")
            with open(os.path.join({str(log)!r}, name), "a") as f:
                f.write(f"{{os.getpid()}} {{len(backends)}} {{id(next(iter(backends.values())))}}\\n")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    workers = sorted(p.name for p in log.iterdir())
    assert workers == ["gw0", "gw1"]
    for worker in log.iterdir():
        lines = {tuple(line.split()) for line in worker.read_text().splitlines()}
        assert len(lines) == 1, f"{worker.name} loaded the model more than once: {lines}"
        pid, count, _ = lines.pop()
        assert count == "1"
