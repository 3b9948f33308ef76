"""Cassettes, recording keys, redaction and atomic writes (the real modules, on disk)."""

from __future__ import annotations

import json

import pytest

from pytest_reasoning.backends import RawResponse, Request, to_trace
from pytest_reasoning.files import atomic_write_text
from pytest_reasoning.recording import Cassette, CassetteError
from pytest_reasoning.redaction import REDACTED, redact, redact_text
from wire import completion, stream_chunks

MSG = ({"role": "user", "content": "ダラスを含む州の州都は？"},)

FAKE_SK = "sk-" + "abcdefghijklmnop1234"  # a fake key, split so secret scanners do not flag it


def req(params=None, content=None, backend="deepseek"):
    messages = ({"role": "user", "content": content},) if content else MSG
    return Request(backend, "m", messages, params or {})


def test_key_covers_the_whole_request_and_ignores_dict_order():
    base = req({"temperature": 0.6, "thinking": True})
    assert base.key() == req({"thinking": True, "temperature": 0.6}).key()
    assert len(base.key()) == 64
    others = [req({"temperature": 0.7, "thinking": True}), req({"temperature": 0.6}), req(content="別の質問"),
              req({"temperature": 0.6, "thinking": True}, backend="dashscope"),
              Request("deepseek", "m", MSG, {"temperature": 0.6, "thinking": True}, {"adapter": {"sha256": "ab"}})]
    assert len({base.key(), *(o.key() for o in others)}) == 1 + len(others)


def test_cassette_round_trip_and_streams_one_chunk_per_line(tmp_path):
    path = tmp_path / "cassettes" / "test_x.json"
    chunks = stream_chunks(["ダラスは", "テキサス州。"], ["オースティン"])
    cassette = Cassette(path)
    cassette.record(req({"stream": True}), RawResponse("openai.chat.completion.chunks", chunks))
    cassette.record(req(), RawResponse("openai.chat.completion", completion({"content": "Austin"}), 1.25, "v1"))
    cassette.save()
    text = path.read_text(encoding="utf-8")
    assert "ダラスは" in text  # readable UTF-8
    assert sum(1 for line in text.splitlines() if '"chat.completion.chunk"' in line) == len(chunks)
    again = Cassette(path)
    assert again.lookup(req()).latency_s == 1.25
    raw = again.lookup(req({"stream": True}))
    assert raw.payload == chunks
    trace = to_trace(req({"stream": True}), raw)
    assert (trace.reasoning, trace.answer) == ("ダラスはテキサス州。", "オースティン")
    assert again.lookup(req({"stream": False})) is None
    assert again.existed
    assert not [p for p in path.parent.iterdir() if p.name != "test_x.json"]  # no temporary files left


def test_two_writers_merge(tmp_path):
    path = tmp_path / "c.json"
    first, second = Cassette(path), Cassette(path)
    first.interactions, second.interactions  # both read the (missing) file first, like two xdist workers
    first.record(req(content="A"), RawResponse("openai.chat.completion", completion({"content": "a"})))
    second.record(req(content="B"), RawResponse("openai.chat.completion", completion({"content": "b"})))
    first.save()
    second.save()
    merged = Cassette(path)
    assert merged.lookup(req(content="A")) and merged.lookup(req(content="B"))
    ordered = [e["request"]["messages"][0]["content"] for e in json.loads(path.read_text("utf-8"))["interactions"]]
    assert ordered == ["A", "B"]


def test_recording_is_redacted(tmp_path):
    path = tmp_path / "c.json"
    body = completion({"content": f"key {FAKE_SK} and my-secret-value-0123456789"}, authorization="Bearer xyz")
    cassette = Cassette(path)
    cassette.record(req({"api_key": "hunter2-long"}), RawResponse("openai.chat.completion", body),
                    secrets=("my-secret-value-0123456789",))
    cassette.save()
    text = path.read_text("utf-8")
    for secret in (FAKE_SK, "my-secret-value-0123456789", "hunter2-long", "Bearer xyz"):
        assert secret not in text
    assert text.count(REDACTED) == 4


def test_nearest_difference_names_the_part(tmp_path):
    cassette = Cassette(tmp_path / "c.json")
    assert cassette.nearest_difference(req()) is None
    cassette.record(req({"temperature": 0.6}), RawResponse("openai.chat.completion", completion({"content": "a"})))
    assert cassette.nearest_difference(req({"temperature": 0.7})) == "params"
    assert cassette.nearest_difference(req({"temperature": 0.6}, content="x")) == "messages"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "is not UTF-8 text"),
        (b"[]", "is not a pytest-reasoning cassette"),
        (b'{"format": "pytest-reasoning-cassette", "version": 0}', "has format version 0, this pytest-reasoning reads 1;"
                                                                   " delete it and re-record"),
        (b'{"format": "pytest-reasoning-cassette", "version": 1, "interactions": [{"key": "k"}]}',
         "interaction 0 lacks key, request"),
    ],
)
def test_unreadable_cassettes(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(CassetteError, match=message) as info:
        Cassette(path).lookup(req())
    assert "bad.json" in str(info.value) and "\n" not in str(info.value)


def test_redact_text_shapes_and_known_secrets():
    assert redact_text("Authorization: Bearer abcdefgh12345") == f"Authorization: {REDACTED}"
    assert redact_text("url?key=ABCDEFGHIJKLMNOP1234") == f"url?{REDACTED}"
    assert redact_text("AIza" + "x" * 35) == REDACTED
    assert redact_text("abc", ["abc"]) == "abc"  # too short to be a key: never blank out common text
    # a placeholder key for a server without authentication is not a secret
    assert redact_text("is there anything in Dallas", ["anything"]) == "is there anything in Dallas"
    assert redact_text("the-key-1234567890 here", ["the-key-1234567890"]) == f"{REDACTED} here"
    # a self-chosen server key may be short (vllm serve --api-key): 8+ characters are redacted
    assert redact_text("echo hunter2pass99", ["hunter2pass99"]) == f"echo {REDACTED}"
    assert redact_text("use sk-no-key-required", ["sk-no-key-required"]) == "use sk-no-key-required"
    assert redact_text("at http://admin:Sup3rS3cret@10.0.0.1:8000/v1 down") == f"at http://{REDACTED}@10.0.0.1:8000/v1 down"
    assert redact_text("mail me at a@b.c or see http://h/x@y") == "mail me at a@b.c or see http://h/x@y"
    assert redact_text("ordinary reasoning: wait, sk-is a prefix") == "ordinary reasoning: wait, sk-is a prefix"


def test_redact_nested_credential_keys():
    data = {"headers": {"Authorization": "x", "X-Api-Key": "y", "cookie": "z"}, "api_key": None, "n": 3,
            "list": ["sk-" + "0123456789abcdefghij"]}
    assert redact(data) == {"headers": {"Authorization": REDACTED, "X-Api-Key": REDACTED, "cookie": REDACTED},
                            "api_key": None, "n": 3, "list": [REDACTED]}


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    path = tmp_path / "deep" / "f.json"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two ✓")
    assert path.read_text("utf-8") == "two ✓"
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]
    with pytest.raises(TypeError):
        atomic_write_text(path, 42)  # type: ignore[arg-type]
    assert path.read_text("utf-8") == "two ✓" and [p.name for p in path.parent.iterdir()] == ["f.json"]


def test_a_request_edited_by_hand_is_found_by_what_it_says(tmp_path):
    path = tmp_path / "cassettes" / "test_x.json"
    cassette = Cassette(path)
    cassette.record(req(content="old question"), RawResponse("openai.chat.completion", completion({"content": "A"})))
    cassette.save()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("old question", "new question"), encoding="utf-8")
    edited = Cassette(path)
    assert edited.lookup(req(content="old question")) is None  # the request says otherwise now
    assert edited.lookup(req(content="new question")).payload["choices"][0]["message"]["content"] == "A"
    data = json.loads(text)
    data["interactions"][0]["key"] = "0" * 64  # a key edited by hand does not matter either
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Cassette(path).lookup(req(content="old question")) is not None


def test_params_with_integer_dict_keys_are_found_after_a_round_trip(tmp_path):
    path = tmp_path / "cassettes" / "test_x.json"
    request = Request("vllm", "m", MSG, {"extra_body": {"logit_bias": {9: 5, 10: -100}}})
    cassette = Cassette(path)
    cassette.record(request, RawResponse("openai.chat.completion", completion({"content": "A"})))
    cassette.save()
    again = Cassette(path)
    assert again.lookup(request) is not None
    again.record(request, RawResponse("openai.chat.completion", completion({"content": "B"})))
    again.save()
    assert len(json.loads(path.read_text(encoding="utf-8"))["interactions"]) == 1
