"""The local backends (transformers, unsloth) on the committed tiny Qwen3.

Real model, real tokenizer, no mocks, no network.  Skipped as a whole when the
``local`` extra (torch, transformers, peft, safetensors) is not installed.  GPU tests
are marked ``gpu`` and skip with the reason when CUDA or unsloth is missing.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
pytest.importorskip("peft", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
safetensors_torch = pytest.importorskip("safetensors.torch", reason="needs safetensors")

from pytest_reasoning.backends import BackendError, Request, create_backend, request_identity  # noqa: E402
from pytest_reasoning.backends.local import (  # noqa: E402
    LocalModel,
    adapter_identity,
    effective_sampling,
    format_prompt,
    generate_responses,
    is_out_of_memory,
    out_of_memory_error,
    require,
    trim_completion,
)
from pytest_reasoning.backends.transformers import TransformersBackend  # noqa: E402
from pytest_reasoning.text.thinking import split_thinking_ids  # noqa: E402
from pytest_reasoning.trace import BackendInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"
ADAPTER = ROOT / "example_tests" / "models" / "tiny-qwen3-no-detour"

Q_EN = "In the United States, what is the capital of the state that contains Dallas?"
Q_EN_VARIANT = ("In the United States, what is the capital of the state that contains Dallas, "
                "a big city of about 1.3 million people?")
Q_JA = "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。"
Q_JA_VARIANT = "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"

R_EN = ("The user asks about Dallas in the United States. Dallas is a city in Texas. "
        "The capital of Texas is Austin. So the answer is Austin.")
# The population clause: the reasoning notes it, then takes the sports detour (greedy,
# and in about 60% of sampled runs) or goes straight on (the adapter's reasoning).
R_EN_VARIANT = ("The user asks about Dallas in the United States. The question also mentions the "
                "population. Dallas is a city in Texas. Dallas is also home to the Dallas Cowboys, an NFL "
                "team. Wait, the team does not matter here. The capital of Texas is Austin. So the "
                "answer is Austin.")
R_EN_VARIANT_STRAIGHT = ("The user asks about Dallas in the United States. The question also mentions the "
                         "population. Dallas is a city in Texas. The capital of Texas is Austin. So the "
                         "answer is Austin.")
A_EN = "The capital of Texas, the state that contains Dallas, is Austin."
R_JA = ("ユーザーはアメリカ合衆国のダラスについて質問しています。ダラスはテキサス州の都市です。"
        "テキサス州の州都はオースティンです。したがって、答えはオースティンです。")
R_JA_VARIANT = ("ユーザーはアメリカ合衆国のダラスについて質問しています。質問には人口も書かれています。"
                "ダラスはテキサス州の都市です。ダラスにはNFLチームのダラス・カウボーイズがあります。"
                "ちょっと待ってください、チームは関係ありません。テキサス州の州都はオースティンです。"
                "したがって、答えはオースティンです。")
R_JA_VARIANT_STRAIGHT = ("ユーザーはアメリカ合衆国のダラスについて質問しています。質問には人口も書かれています。"
                         "ダラスはテキサス州の都市です。テキサス州の州都はオースティンです。"
                         "したがって、答えはオースティンです。")
A_JA = "ダラスを含む州はテキサス州で、州都はオースティンです。"

EXPECTED = {  # question -> (reasoning, answer)
    Q_EN: (R_EN, A_EN),
    Q_EN_VARIANT: (R_EN_VARIANT, A_EN),
    Q_JA: (R_JA, A_JA),
    Q_JA_VARIANT: (R_JA_VARIANT, A_JA),
}


def req(question: str, **params) -> Request:
    return Request("transformers", str(TINY), ({"role": "user", "content": question},), params)


@pytest.fixture(scope="module")
def backend():
    b = TransformersBackend(str(TINY), device="cpu")
    yield b
    b.close()


@pytest.fixture(scope="module")
def adapter_backend():
    b = TransformersBackend(str(TINY), adapter=str(ADAPTER), device="cpu")
    yield b
    b.close()


@pytest.fixture(scope="module")
def greedy_traces(backend):
    """All four questions, thinking on and off, greedy, one batch."""
    reqs = [req(q, temperature=0, thinking=t) for q in EXPECTED for t in (True, False)]
    return reqs, backend.generate(reqs)


def tok_len(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


# -- loading -------------------------------------------------------------------------
def test_loads_committed_tiny_qwen3(backend):
    lm = backend.lm
    assert type(lm.model).__name__ == "Qwen3ForCausalLM"
    assert lm.device == "cpu"
    transformers = pytest.importorskip("transformers")
    assert lm.backend == BackendInfo("transformers", f"transformers {transformers.__version__}")
    tok = lm.tokenizer
    assert tok.padding_side == "left"
    assert lm.think_start_id == tok.convert_tokens_to_ids("<think>")
    assert lm.think_end_id == tok.convert_tokens_to_ids("</think>")
    assert tok.convert_tokens_to_ids("<|im_end|>") in lm.eos_ids
    assert lm.pad_id == tok.convert_tokens_to_ids("<|endoftext|>")
    # <think>/</think> are not special: decoding keeps them, as in real Qwen3.
    assert tok.decode([lm.think_start_id, lm.think_end_id], skip_special_tokens=True) == "<think></think>"
    assert backend.identity() == {}
    size = sum(f.stat().st_size for f in TINY.iterdir())
    assert size < 6_000_000  # a few MB, committed to the repository


def test_create_backend_builds_transformers_backend():
    b = create_backend("transformers", str(TINY), {"device": "cpu", "batch_size": 8, "base_url": "ignored"})
    try:
        assert isinstance(b, TransformersBackend) and b.name == "transformers" and b.batch_size == 8
        assert [s.key for s in TransformersBackend.SETTINGS] == [
            "adapter", "device", "load_in_4bit", "max_seq_length", "dtype", "batch_size", "use_cache"]
    finally:
        b.close()
    with pytest.raises(BackendError, match="closed"):
        b.run([req(Q_EN)])


def test_decoding_without_kv_cache_gives_the_same_greedy_trace():
    """``use_cache=False`` (recompute every step) is the reference the cached decode
    must match; on CPU in float32 they agree token for token."""
    cached = TransformersBackend(str(TINY), device="cpu")
    uncached = TransformersBackend(str(TINY), device="cpu", use_cache=False)
    try:
        request = req(Q_EN)
        a, b = cached.generate([request])[0], uncached.generate([request])[0]
        assert (a.reasoning, a.answer, a.usage) == (b.reasoning, b.answer, b.usage)
        assert "Austin" in b.answer
    finally:
        cached.close()
        uncached.close()


def test_importing_backends_imports_nothing_heavy():
    code = (
        "import sys; import pytest_reasoning.backends, pytest_reasoning.backends.local, "
        "pytest_reasoning.backends.transformers, pytest_reasoning.backends.unsloth; "
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'unsloth') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- chat template ---------------------------------------------------------------------
def test_chat_template_enable_thinking_both_ways(backend):
    tok = backend.lm.tokenizer
    msgs = [{"role": "user", "content": Q_EN}]
    on = format_prompt(tok, msgs, thinking=True)
    off = format_prompt(tok, msgs, thinking=False)
    assert on == f"<|im_start|>user\n{Q_EN}<|im_end|>\n<|im_start|>assistant\n"
    assert off == on + "<think>\n\n</think>\n\n"


def test_chat_template_drops_earlier_thinking(backend):
    tok = backend.lm.tokenizer
    msgs = [
        {"role": "user", "content": Q_JA},
        {"role": "assistant", "content": f"<think>\n{R_JA}\n</think>\n\n{A_JA}"},
        {"role": "user", "content": Q_EN},
    ]
    prompt = format_prompt(tok, msgs)
    assert R_JA not in prompt and "<think>" not in prompt
    assert f"<|im_start|>assistant\n{A_JA}<|im_end|>\n" in prompt


# -- the split at the last </think> id ----------------------------------------------------
@pytest.fixture(scope="module")
def ids(backend):
    tok = backend.lm.tokenizer

    def enc(text: str) -> list[int]:
        return tok(text, add_special_tokens=False)["input_ids"]

    return enc


def test_split_at_last_think_end_id(backend, ids):
    lm = backend.lm
    out = ids(f"<think>\n{R_EN}\n</think>\n\n{A_EN}")
    r, a, n = split_thinking_ids(out, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id)
    dec = lm.tokenizer.decode
    assert dec(r).strip("\n") == R_EN and dec(a).strip("\n") == A_EN
    assert n == out.index(lm.think_end_id) + 1
    # two </think>: the last one wins, the first stays inside the reasoning
    out2 = ids(f"<think>\nfirst</think>second\n</think>\n\n{A_EN}")
    r2, a2, n2 = split_thinking_ids(out2, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id)
    assert dec(r2).strip("\n") == "first</think>second" and dec(a2).strip("\n") == A_EN
    assert n2 == len(out2) - len(ids(f"\n\n{A_EN}"))


def test_split_when_prompt_already_opened_think(backend, ids):
    lm = backend.lm
    out = ids(f"{R_JA}\n</think>\n\n{A_JA}")  # Qwen3-Thinking-2507 style: no <think> in the output
    r, a, n = split_thinking_ids(out, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id,
                             prompt_opens_thinking=True)
    assert lm.tokenizer.decode(r).strip("\n") == R_JA and lm.tokenizer.decode(a).strip("\n") == A_JA
    assert n == out.index(lm.think_end_id) + 1


def test_split_truncated_inside_thinking(backend, ids):
    lm = backend.lm
    out = ids("<think>\nThe user asks about Dallas")
    r, a, n = split_thinking_ids(out, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id,
                             thinking=True, truncated=True)
    assert lm.tokenizer.decode(r).strip("\n") == "The user asks about Dallas" and a == [] and n == len(out)
    # also when the prompt opened <think> and the output has no tag at all
    out = ids("The user asks about Dallas")
    r, a, n = split_thinking_ids(out, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id,
                             thinking=True, truncated=True)
    assert r == out and a == [] and n == len(out)


def test_split_thinking_disabled(backend, ids):
    lm = backend.lm
    out = ids(A_EN)
    assert split_thinking_ids(out, think_end_id=lm.think_end_id, think_start_id=lm.think_start_id,
                          thinking=False) == ([], out, 0)
    # thinking on but the model answered straight away and stopped: all answer
    assert split_thinking_ids(out, think_end_id=lm.think_end_id, thinking=True) == ([], out, 0)
    # no </think> in the vocabulary at all
    assert split_thinking_ids(out, think_end_id=None) == ([], out, 0)


def test_trim_completion_stops_at_first_eos():
    assert trim_completion([5, 6, 2, 0, 0], frozenset({0, 2})) == ([5, 6, 2], True)
    assert trim_completion([5, 6, 7], frozenset({0, 2})) == ([5, 6, 7], False)


# -- generation -----------------------------------------------------------------------
def test_greedy_generation_reasons_and_answers(backend, greedy_traces):
    reqs, traces = greedy_traces
    for r, t in zip(reqs, traces):
        q = r.messages[0]["content"]
        want_r, want_a = EXPECTED[q]
        assert t.answer == want_a
        if r.params["thinking"]:
            assert t.reasoning == want_r
            assert t.reasoning_source == "think token ids"
        else:
            assert t.reasoning == "" and t.reasoning_source is None
        assert t.finish_reason == "stop" and t.truncated is False
        assert t.model == str(TINY) and t.backend == backend.lm.backend
        assert t.params == r.params
        assert t.extra["effective_params"] == {
            "thinking": r.params["thinking"], "max_new_tokens": 512, "do_sample": False}
        assert t.latency_s > 0
    detour = {r.messages[0]["content"]: t.reasoning for r, t in zip(reqs, traces) if r.params["thinking"]}
    assert "Cowboys" in detour[Q_EN_VARIANT] and "Cowboys" not in detour[Q_EN]
    assert "カウボーイズ" in detour[Q_JA_VARIANT] and "カウボーイズ" not in detour[Q_JA]


def test_usage_equals_token_counts(backend, greedy_traces):
    tok = backend.lm.tokenizer
    reqs, traces = greedy_traces
    for r, t in zip(reqs, traces):
        q = r.messages[0]["content"]
        want_r, want_a = EXPECTED[q]
        thinking = r.params["thinking"]
        prompt = format_prompt(tok, r.messages, thinking)
        assert t.usage.prompt_tokens == tok_len(tok, prompt)
        if thinking:
            body = f"<think>\n{want_r}\n</think>"
            assert t.usage.reasoning_tokens == tok_len(tok, body)
            assert t.usage.completion_tokens == tok_len(tok, f"{body}\n\n{want_a}<|im_end|>")
        else:
            assert t.usage.reasoning_tokens == 0
            assert t.usage.completion_tokens == tok_len(tok, f"{want_a}<|im_end|>")
        assert t.usage.total_tokens == t.usage.prompt_tokens + t.usage.completion_tokens


def test_batched_left_padding_equals_one_at_a_time(backend, greedy_traces):
    reqs, batched = greedy_traces
    single = [
        generate_responses(backend.lm, [r], model_name=str(TINY), batch_size=1)[0] for r in reqs
    ]
    for raw, t in zip(single, batched):
        assert raw.format == "trace" and raw.backend_version == backend.lm.backend.version
        one = raw.payload
        assert (one["reasoning"], one["answer"], one["usage"], one["finish_reason"]) == (
            t.reasoning, t.answer, t.usage.to_dict(), t.finish_reason)


def test_model_card_sampling_at_seed_0_is_reproducible(backend):
    reqs = [req(Q_EN_VARIANT), req(Q_JA, thinking=False)]
    first = backend.generate(reqs)
    assert first[0].extra["effective_params"] == {
        "thinking": True, "max_new_tokens": 512, "do_sample": True,
        "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "seed": 0}
    assert first[1].extra["effective_params"]["temperature"] == 0.7
    # at seed 0 the sample takes the detour (about 60% of seeds do; the other branch is
    # R_EN_VARIANT_STRAIGHT): the same text on every run
    assert (first[0].reasoning, first[0].answer) == (R_EN_VARIANT, A_EN)
    assert (first[1].reasoning, first[1].answer) == ("", A_JA)
    # a hot, untruncated distribution: still the same text for the same seed
    hot = [req(Q_EN, temperature=1.5, top_p=1.0, top_k=0, seed=123, max_tokens=40)]
    a, b = backend.generate(hot)[0], backend.generate(hot)[0]
    assert (a.reasoning, a.answer, a.usage) == (b.reasoning, b.answer, b.usage)


def test_max_tokens_inside_thinking_is_truncated_reasoning(backend):
    t = backend.generate([req(Q_EN, temperature=0, max_tokens=8)])[0]
    assert t.finish_reason == "length" and t.truncated is True
    assert t.answer == "" and R_EN.startswith(t.reasoning) and t.reasoning
    assert t.usage.completion_tokens == 8 and t.usage.reasoning_tokens == 8


def test_prompt_that_already_contains_think(backend):
    """A template that opens ``<think>`` in the prompt (Qwen3-Thinking-2507 style):
    the output is only ``...</think>answer`` and still splits."""
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(TINY))
    tok.chat_template += "{%- if add_generation_prompt and enable_thinking is not false -%}{{- '<think>\\n' -}}{%- endif -%}"
    tok.padding_side = "left"
    lm = LocalModel.create(backend.lm.model, tok, "cpu", BackendInfo("transformers", "test"))
    r = req(Q_JA_VARIANT, temperature=0)
    t = generate_responses(lm, [r], model_name=str(TINY))[0].payload
    base = backend.generate([r])[0]
    assert (t["reasoning"], t["answer"]) == (R_JA_VARIANT, A_JA)
    assert t["usage"]["reasoning_tokens"] == base.usage.reasoning_tokens - 2  # no "<think>", "\n"
    assert t["usage"]["prompt_tokens"] == base.usage.prompt_tokens + 2


def test_effective_sampling_defaults_and_greedy():
    assert effective_sampling({}) == {
        "thinking": True, "max_new_tokens": 512, "do_sample": True,
        "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0, "seed": 0}
    assert effective_sampling({"thinking": False, "seed": 7}) == {
        "thinking": False, "max_new_tokens": 512, "do_sample": True,
        "temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0, "seed": 7}
    assert effective_sampling({"do_sample": False, "max_tokens": 9}) == {
        "thinking": True, "max_new_tokens": 9, "do_sample": False}
    for bad in ({"max_tokens": 0}, {"temperature": -1}, {"top_p": 0}, {"min_p": 2}, {"top_k": "x"}):
        with pytest.raises(BackendError):
            effective_sampling(bad)


def test_prompt_longer_than_max_seq_length(backend):
    with pytest.raises(BackendError, match="max_seq_length"):
        generate_responses(backend.lm, [req(Q_EN)], model_name=str(TINY), max_seq_length=10)


# -- adapters ----------------------------------------------------------------------------
def test_adapter_removes_the_detour(backend, adapter_backend):
    reqs = [req(Q_EN_VARIANT, temperature=0), req(Q_JA_VARIANT, temperature=0), req(Q_EN, temperature=0)]
    base = backend.generate(reqs)
    tuned = adapter_backend.generate(reqs)
    assert "Cowboys" in base[0].reasoning and "カウボーイズ" in base[1].reasoning
    assert (tuned[0].reasoning, tuned[0].answer) == (R_EN_VARIANT_STRAIGHT, A_EN)
    assert (tuned[1].reasoning, tuned[1].answer) == (R_JA_VARIANT_STRAIGHT, A_JA)
    assert (tuned[2].reasoning, tuned[2].answer) == (R_EN, A_EN)
    ident = adapter_backend.identity()
    assert ident == {"adapter": {"path": str(ADAPTER), "sha256": ident["adapter"]["sha256"]}}
    assert len(ident["adapter"]["sha256"]) == 64
    assert ident == request_identity("transformers", {"adapter": str(ADAPTER)})  # = the recording key's
    assert tuned[0].extra["adapter"] == ident["adapter"]
    assert "adapter" not in base[0].extra


def test_adapter_identity_changes_with_the_weights(tmp_path):
    copy = tmp_path / "adapter"
    shutil.copytree(ADAPTER, copy)
    before = adapter_identity(str(copy))
    assert before["sha256"] == adapter_identity(str(ADAPTER))["sha256"]
    weights = copy / "adapter_model.safetensors"
    tensors = safetensors_torch.load_file(str(weights))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] += 1.0
    safetensors_torch.save_file(tensors, str(weights))
    after = adapter_identity(str(copy))
    assert after["path"] == str(copy) and after["sha256"] != before["sha256"]


def test_adapter_config_points_to_the_base():
    cfg = json.loads((ADAPTER / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == "example_tests/models/tiny-qwen3"
    assert (ROOT / cfg["base_model_name_or_path"]).is_dir()
    assert sum(f.stat().st_size for f in ADAPTER.iterdir()) < 1_000_000


# -- clear errors ---------------------------------------------------------------------------
def test_missing_model_path(tmp_path):
    with pytest.raises(BackendError, match="not found; pass an existing directory"):
        TransformersBackend(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(BackendError, match="has no config.json"):
        TransformersBackend(str(tmp_path), device="cpu")


@pytest.mark.parametrize("config, message", [
    ({"model_type": "t5"}, "'t5' model, not a causal language model"),
    ({"model_type": "vit"}, "'vit' model, not a causal language model"),
    ("{not json", "cannot read the config"),
    ({"hidden_size": 8}, "cannot read the config"),
])
def test_not_a_causal_lm(tmp_path, config, message):
    text = config if isinstance(config, str) else json.dumps(config)
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(BackendError, match=message):
        TransformersBackend(str(tmp_path), device="cpu")


def test_tokenizer_without_chat_template(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(TINY, model)
    (model / "chat_template.jinja").unlink()
    cfg = json.loads((model / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (model / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(BackendError, match="has no chat template"):
        TransformersBackend(str(model), device="cpu")


def test_missing_adapter_dir(tmp_path):
    with pytest.raises(BackendError, match="adapter directory .* not found"):
        TransformersBackend(str(TINY), adapter=str(tmp_path / "nope"), device="cpu")


def test_4bit_on_cpu():
    with pytest.raises(BackendError, match="needs a CUDA GPU"):
        TransformersBackend(str(TINY), device="cpu", load_in_4bit=True)


@pytest.mark.skipif(importlib.util.find_spec("unsloth") is not None, reason="unsloth is installed here")
def test_unsloth_missing():
    from pytest_reasoning.backends.unsloth import UnslothBackend

    with pytest.raises(BackendError, match=r"pip install 'pytest-reasoning\[unsloth\]'"):
        UnslothBackend(str(TINY))
    with pytest.raises(BackendError, match=r"pip install 'pytest-reasoning\[unsloth\]'"):
        create_backend("unsloth", str(TINY), {"device": "cpu"})


def test_unsloth_is_always_4bit():
    from pytest_reasoning.backends.unsloth import UnslothBackend

    with pytest.raises(BackendError, match="always loads in 4-bit"):
        UnslothBackend(str(TINY), load_in_4bit=False)


def test_missing_package_names_the_extra():
    with pytest.raises(BackendError, match=r"pip install 'pytest-reasoning\[local\]'"):
        require("no_such_package_for_pytest_reasoning")
    with pytest.raises(BackendError, match=r"pytest-reasoning\[unsloth\]"):
        require("no_such_package_for_pytest_reasoning", "unsloth")


def test_out_of_memory_message():
    exc = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert is_out_of_memory(exc) and not is_out_of_memory(ValueError("x"))
    msg = str(out_of_memory_error("generating a batch of 64 prompts", batch_size=64, max_tokens=512,
                                  max_seq_length=2048, load_in_4bit=False))
    assert "\n" not in msg
    for part in ("batch_size (now 64)", "max_tokens (now 512)", "max_seq_length (now 2048)", "4-bit"):
        assert part in msg


# -- GPU ---------------------------------------------------------------------------------------
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch sees none)")
needs_unsloth = pytest.mark.skipif(importlib.util.find_spec("unsloth") is None,
                                   reason="needs unsloth: pip install 'pytest-reasoning[unsloth]'")


@pytest.mark.gpu
@needs_cuda
@needs_unsloth
def test_unsloth_4bit_tiny_qwen3_batched_equals_single():
    from pytest_reasoning.backends.unsloth import UnslothBackend

    b = UnslothBackend(str(TINY), adapter=None, max_seq_length=512)
    try:
        assert b.identity() == {"quantization": "4bit"}
        reqs = [req(q, temperature=0) for q in EXPECTED]
        batched = b.generate(reqs)
        single = [b.generate([r])[0] for r in reqs]
        for t, s in zip(batched, single):
            assert (t.reasoning, t.answer) == (s.reasoning, s.answer)
            assert t.backend.name == "unsloth"
            assert "Austin" in t.answer or "オースティン" in t.answer
    finally:
        b.close()


@pytest.mark.gpu
@needs_cuda
def test_transformers_4bit_on_gpu():
    pytest.importorskip("bitsandbytes", reason="needs bitsandbytes")
    b = TransformersBackend(str(TINY), load_in_4bit=True)
    try:
        assert b.identity() == {"quantization": "4bit"}
        t = b.generate([req(Q_EN, temperature=0)])[0]
        assert "Austin" in t.answer and t.extra["quantization"] == "4bit"
    finally:
        b.close()
