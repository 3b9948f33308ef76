"""The seed question, worded another way, on a real llama.cpp server.

The small Qwen3 (``models/tiny-qwen3``) converted to GGUF and served by llama-server
(``tests/data/llamacpp/README.md`` says how; llama.cpp's ``--reasoning-format deepseek``
sends the reasoning in ``reasoning_content``), reached through the ``llamacpp`` backend
and the ``openai`` client like any hosted model.  Its sampler is the server's own
(temperature 0.6, top_p 0.95, top_k 20, a seed per sample), so these are real
distributions drawn elsewhere: an aside about the population raises the NFL detour's
rate, and ``explain`` names that aside as the cause.

The calls replay from ``cassettes/test_llamacpp_server.json``.  To re-record, start
``llama-server -m tiny-qwen3-f32.gguf --alias tiny-qwen3 --jinja --reasoning-format
deepseek`` and run ``LLAMACPP_BASE_URL=http://127.0.0.1:8080/v1 pytest
example_tests/test_llamacpp_server.py --reasoning-record-mode=all``.
"""

import pytest

from pytest_reasoning import Detour, assert_answer, assert_no_detour, assert_rate_change

pytestmark = pytest.mark.reasoning(backend="llamacpp", model="tiny-qwen3", samples=24)

ASIDE = "Which city is the capital of the state where Dallas, home to about 1.3 million people, is located?"
PLAIN = "Which city is the capital of the state where Dallas is located?"
SPORTS = Detour("sports", terms=["NFL", "Cowboys"], patterns=[r"football"])
SAMPLING = dict(thinking=True, temperature=0.6, top_p=0.95, top_k=20, seed=0)


def test_the_aside_raises_the_detour_rate(reasoning_model):
    plain = reasoning_model.sample(PLAIN, **SAMPLING)
    aside = reasoning_model.sample(ASIDE, **SAMPLING)

    assert_no_detour(plain, SPORTS, max_rate=0.2)
    assert_answer(aside, contains="Austin", min_rate=0.8)  # the answer stays right
    change = assert_rate_change(plain, aside, SPORTS, direction="up")
    print(change)


def test_explain_names_the_aside(reasoning_model):
    why = reasoning_model.explain(ASIDE, SPORTS, 24, answer="Austin", **SAMPLING)
    print(why)

    assert [span.text for span in why.causes] == ["home to about 1.3 million people"]
    assert why.causes[0].interval.low > 0
