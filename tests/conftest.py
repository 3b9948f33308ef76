"""Shared fixtures; the wire-format builders live in ``wire.py`` (importable as ``wire``)."""

from __future__ import annotations

import hypothesis  # noqa: F401  (imported once here: pytester's in-process runs drop

# modules first imported inside them, and hypothesis' plugin would import it anew,
# at about a second, in every inner run)
import pytest

try:  # numpy's C extension refuses a second import in one process, and pytester's
    import numpy  # noqa: F401  in-process runs drop modules first imported inside them
except ImportError:  # without the `local` extra there is no numpy to protect
    pass
# The openai client and its HTTP stack, for the same reason: httpcore is imported when the
# first client is made, and when that happens inside an inner run and is imported anew
# after it, a stream's read timeout escapes as a bare httpcore error instead of the
# client's APITimeoutError (seen with openai 3.38's httpx2).  A client made here (no
# request is sent) imports it all once.
import openai  # noqa: E402

openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1").close()

from pathlib import Path

import wire as _wire

#: The small Qwen3 the project builds (``scripts/make_tiny_qwen3.py``).
TINY = Path(__file__).resolve().parent.parent / "example_tests" / "models" / "tiny-qwen3"

pytest_plugins = ["pytester"]


@pytest.fixture
def wire():
    """The wire-format builders (``wire.completion``, ``wire.chunk``, ``wire.sse``...)."""
    return _wire


@pytest.fixture(autouse=True)
def _inner_runs_are_not_xdist_workers(request, monkeypatch):
    """Under ``pytest -n``, an in-process pytester run inherits $PYTEST_XDIST_WORKER and
    syrupy would then keep its report for a controller that does not exist."""
    if "pytester" in request.fixturenames:
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


@pytest.fixture(scope="module")
def tiny_qwen3():
    """The tiny Qwen3's path, with torch, transformers and scipy.stats imported and the
    model run once in this process, so that pytester's in-process runs import nothing
    new (they drop the modules first imported inside them).  One intra-op thread
    meanwhile: a 1.3 M-parameter model gains nothing from more, and on a loaded two-core
    machine OpenMP threads waiting on each other cost seconds.  Skips without the
    ``local`` extra."""
    torch = pytest.importorskip("torch", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    import scipy.stats  # noqa: F401

    from pytest_reasoning.backends import Request
    from pytest_reasoning.backends.transformers import TransformersBackend

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    backend = TransformersBackend(str(TINY), device="cpu")
    backend.run([Request("transformers", str(TINY), ({"role": "user", "content": "Dallas?"},),
                         {"temperature": 0.6, "max_tokens": 2}, {}, 0)])
    backend.close()
    yield TINY
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def threaded_server():
    """A threaded local HTTP server (pytest-httpserver), for the module: stopping one
    takes half a second."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def quiet_server(threaded_server, monkeypatch):
    """:func:`threaded_server` with its log and handlers cleared before and after the
    test, and no OpenAI or vLLM key or base URL in the environment (inner runs would
    read them)."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_API_KEY", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()
