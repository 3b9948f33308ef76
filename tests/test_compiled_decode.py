"""The decode paths of the local backends (``backends/local/compiled.py`` and
``static_decoder.py``), on CPU: shape buckets, batch-size arithmetic, halving on a
real ``torch.cuda.OutOfMemoryError`` raised from a wrapped ``generate`` (fault
injection), the fallback to the plain path, and the static decoder (the compiled
path without its CUDA graph) against transformers on the committed tiny Qwen3 and on
small random Llama / Qwen2 models.  Nothing here needs CUDA.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
transformers = pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
pytest.importorskip("peft", reason="needs the local extra: pip install 'pytest-reasoning[local]'")

from pytest_reasoning.backends import BackendError, Request  # noqa: E402
from pytest_reasoning.backends.local import compiled  # noqa: E402
from pytest_reasoning.backends.local.compiled import (  # noqa: E402
    batch_from_memory,
    configure_decode,
    decode_path_of,
    kv_bytes_per_token,
    run_halving,
)
from pytest_reasoning.backends.local.static_decoder import (  # noqa: E402
    StaticDecoder,
    bucket_batch,
    bucket_length,
    unsupported_reason,
)
from pytest_reasoning.backends.transformers import TransformersBackend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = str(ROOT / "example_tests" / "models" / "tiny-qwen3")
ADAPTER = str(ROOT / "example_tests" / "models" / "tiny-qwen3-no-detour")
QUESTIONS = [
    "In the United States, what is the capital of the state that contains Dallas?",
    "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。",
    "In the United States, what is the capital of the state that contains Dallas, "
    "a big city of about 1.3 million people?",
]
QWEN3_4B = SimpleNamespace(num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                           hidden_size=2560)


def requests(**params):
    return [Request("transformers", TINY, ({"role": "user", "content": q},), dict(params)) for q in QUESTIONS]


def fields(traces):
    return [(t.reasoning, t.answer, t.usage, t.finish_reason, t.truncated) for t in traces]


@pytest.fixture(scope="module")
def plain():
    backend = TransformersBackend(TINY, device="cpu", decode="plain")
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def static():
    backend = TransformersBackend(TINY, device="cpu", decode="compiled")
    yield backend
    backend.close()


# -- shapes and memory -----------------------------------------------------------
def test_batch_buckets_are_powers_of_two_capped():
    assert [bucket_batch(n, 64) for n in (1, 2, 3, 5, 33, 64)] == [1, 2, 4, 8, 64, 64]
    assert bucket_batch(40, 48) == 48 and bucket_batch(3, 2) == 3
    with pytest.raises(ValueError):
        bucket_batch(0, 8)


def test_length_buckets_round_up_to_the_step():
    assert [bucket_length(t) for t in (1, 256, 257, 700)] == [256, 256, 512, 768]
    assert bucket_length(100, step=64) == 128


def test_kv_bytes_per_token_of_qwen3_4b():
    assert kv_bytes_per_token(QWEN3_4B, 2) == 36 * 2 * 8 * 128 * 2 == 147_456
    mha = SimpleNamespace(num_hidden_layers=2, num_attention_heads=4, hidden_size=256)  # no kv heads, no head_dim
    assert kv_bytes_per_token(mha, 4) == 2 * 2 * 4 * 64 * 4


def test_batch_from_memory():
    per_seq = kv_bytes_per_token(QWEN3_4B, 2) * 512  # 75.5 MB
    free = 80 << 30
    assert batch_from_memory(free, per_seq, cap=64) == 64
    assert batch_from_memory(free, per_seq, cap=10**6) == (int(free * 0.9) - (1 << 30)) // per_seq == 1009
    assert batch_from_memory(1 << 30, per_seq, cap=64) == 1  # nothing free still runs one


# -- halving on out-of-memory ---------------------------------------------------------
def oom() -> Exception:
    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_run_halving_retries_a_chunk_at_half_size():
    sizes, freed = [], []

    def run(lo, hi):
        sizes.append(hi - lo)
        if hi - lo > 2:
            raise oom()
        return list(range(lo, hi))

    assert run_halving(7, 8, run, lambda: freed.append(1)) == list(range(7))
    assert sizes == [7, 4, 2, 2, 2, 1] and len(freed) == 2


def test_run_halving_raises_other_errors_and_oom_at_one():
    with pytest.raises(ValueError):
        run_halving(3, 2, lambda lo, hi: (_ for _ in ()).throw(ValueError("bad")))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        run_halving(3, 2, lambda lo, hi: (_ for _ in ()).throw(oom()))


def test_oom_in_generate_halves_the_batch(plain, monkeypatch):
    """A real ``torch.cuda.OutOfMemoryError`` from the model's generate for more than two
    rows: the batch of three is run as two and one, and the traces are the same."""
    reqs = requests(temperature=0, max_tokens=24)
    expected = fields(plain.generate(reqs))
    model, seen = plain.lm.model, []
    real = model.generate

    def generate(**kwargs):
        seen.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > 2:
            raise oom()
        return real(**kwargs)

    monkeypatch.setattr(model, "generate", generate)
    assert fields(plain.generate(reqs)) == expected
    assert seen == [3, 2, 1]  # three fail, then two and one


def test_oom_with_one_prompt_is_the_one_line_error(plain, monkeypatch):
    monkeypatch.setattr(plain.lm.model, "generate", lambda **kw: (_ for _ in ()).throw(oom()))
    with pytest.raises(BackendError, match="CUDA out of memory while generating a batch of 1 prompts; lower batch_size"):
        plain.generate(requests(temperature=0, max_tokens=8)[:1])


# -- the paths --------------------------------------------------------------------------
def test_path_is_named_in_the_version_string(plain, static):
    assert decode_path_of(plain.generate(requests(temperature=0, max_tokens=4))[0].backend.version) == "plain"
    trace = static.generate(requests(temperature=0, max_tokens=4))[0]
    assert trace.backend.version.endswith("(decode: static)") and "decode_path" not in trace.extra  # CPU: extra as before
    assert decode_path_of("transformers 5.17.0 (decode: plain; compiled path off: ValueError: x)") == "plain"
    assert decode_path_of("transformers 5.17.0") is None


def test_unknown_decode_mode_is_refused(plain):
    with pytest.raises(ValueError, match="decode must be"):
        configure_decode(plain.lm, "fast")
    with pytest.raises(BackendError, match="decode must be"):
        TransformersBackend(TINY, device="cpu", decode="fast")


def test_a_failing_decoder_falls_back_to_plain(plain, monkeypatch):
    backend = TransformersBackend(TINY, device="cpu", decode="compiled")

    def boom(*args, **kwargs):
        raise RuntimeError("capture failed")

    monkeypatch.setattr(StaticDecoder, "rows", boom)
    traces = backend.generate(requests(temperature=0, max_tokens=24))
    assert fields(traces) == fields(plain.generate(requests(temperature=0, max_tokens=24)))
    assert traces[0].backend.version.endswith("(decode: plain; compiled path off: RuntimeError: capture failed)")
    assert compiled._state(backend.lm).off == "RuntimeError: capture failed"  # stays off for this model
    backend.close()


def test_unsupported_models_are_named():
    gpt2 = SimpleNamespace(config=SimpleNamespace(model_type="gpt2"), model=SimpleNamespace(layers=[]))
    assert "model type 'gpt2'" in unsupported_reason(gpt2)
    dynamic = SimpleNamespace(config=SimpleNamespace(model_type="qwen3", rope_parameters={"rope_type": "dynamic"}),
                              model=SimpleNamespace(layers=[]))
    assert "rope type 'dynamic'" in unsupported_reason(dynamic)
    with pytest.raises(ValueError, match="cannot run this model"):
        StaticDecoder(gpt2)


def test_only_bitsandbytes_own_4bit_layers_are_dequantised():
    """PEFT's LoRA layer over a 4-bit base has the same class name and exposes the
    base's packed weight; taking that weight would drop the adapter, so it is called as
    a module.  (Stand-in classes: bitsandbytes needs CUDA.)"""
    from pytest_reasoning.backends.local import static_decoder

    packed = SimpleNamespace(quant_state=object(), data=None)
    bnb_layer = type("Linear4bit", (), {"__module__": "bitsandbytes.nn.modules"})()
    lora_layer = type("Linear4bit", (), {"__module__": "peft.tuners.lora.bnb"})()
    lora_layer.weight = bnb_layer.weight = packed
    assert static_decoder._is_bnb_4bit(bnb_layer) and not static_decoder._is_bnb_4bit(lora_layer)
    assert static_decoder._usable_weight(lora_layer, dequantize=True) is None
    assert static_decoder._usable_weight(bnb_layer, dequantize=False) is None  # kept packed: called as a module
    linear = torch.nn.Linear(4, 3)
    assert static_decoder._usable_weight(linear, dequantize=True) == (linear.weight, linear.bias)


# -- the static decoder against transformers ------------------------------------------
@pytest.mark.parametrize("params", [dict(temperature=0, max_tokens=120), dict(seed=0, max_tokens=120)],
                         ids=["greedy", "sampled-seed0"])
def test_static_decoder_gives_the_plain_traces(plain, static, params):
    """Batched, left-padded, greedy and with the seeded sampler: the same traces."""
    assert fields(static.generate(requests(**params))) == fields(plain.generate(requests(**params)))


def test_static_decoder_with_an_adapter_and_batch_padding(plain):
    base = TransformersBackend(TINY, adapter=ADAPTER, device="cpu", decode="plain")
    fast = TransformersBackend(TINY, adapter=ADAPTER, device="cpu", decode="compiled")
    reqs = requests(temperature=0, max_tokens=100)  # 3 rows run in a bucket of 4 (one dummy row)
    traces = fast.generate(reqs)
    assert fields(traces) == fields(base.generate(reqs))
    assert "Austin" in traces[2].answer and "Cowboys" not in traces[2].reasoning  # the adapter's effect
    assert list(compiled._state(fast.lm).decoder.workspaces) == [(4, 256)]
    base.close()
    fast.close()


def test_static_decoder_logits_equal_the_model_forward(plain):
    """Teacher-forced: the decoder's logits at each generated position against one
    full forward of transformers over the same ids (float32 on CPU)."""
    lm = plain.lm
    dec = StaticDecoder(lm.model, graphs=False)
    enc = lm.tokenizer([QUESTIONS[0], QUESTIONS[1]], return_tensors="pt", padding=True, add_special_tokens=False)
    seen = []
    with torch.inference_mode():
        out = dec.workspace(2, 256).generate(enc["input_ids"], enc["attention_mask"], 12, torch.tensor([-1]),
                                             lambda logits: (seen.append(logits), logits.argmax(-1))[1])
        ids = torch.cat([enc["input_ids"], out], 1)
        mask = torch.cat([enc["attention_mask"], torch.ones_like(out)], 1)
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        full = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()
    width = enc["input_ids"].shape[1]
    ref = full[:, width - 1 : width + 11]
    assert torch.allclose(torch.stack(seen[:12], 1), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_static_decoder_on_random_llama_and_qwen2(kind):
    """Other layouts the decoder knows (biases in Qwen2's q/k/v, no q/k norms): random
    small models, greedy, left-padded, against ``generate``."""
    common = dict(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=512, initializer_range=0.2,
                  bos_token_id=None, eos_token_id=None, pad_token_id=0)  # no end token: 16 tokens each
    config = (transformers.LlamaConfig if kind == "llama" else transformers.Qwen2Config)(**common)
    torch.manual_seed(0)
    model = (transformers.LlamaForCausalLM if kind == "llama" else transformers.Qwen2ForCausalLM)(config).eval()
    ids = torch.randint(3, 300, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, :4] = mask[2, :2] = 0  # left padding
    with torch.inference_mode():
        ref = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=16, do_sample=False)[:, 9:]
        got = StaticDecoder(model, graphs=False).workspace(4, 256).generate(
            ids, mask, 16, torch.tensor([-1]), lambda logits: logits.argmax(-1))
    assert torch.equal(got, ref)
