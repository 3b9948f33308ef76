"""Local models known by their content: the identity (config, tokenizer, chat
template, weights; Git LFS pointers by their oid), its digests cached across sessions,
recordings that replay after the folder moved or where it is missing, path-keyed
cassettes that still replay (said once); a mistyped path or a missing hub model that
fails at once and stays failed; model loading kept quiet.  The real tiny Qwen3."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_reasoning.backends import Request
from pytest_reasoning.backends.local.identity import hash_cache_path, model_identity
from pytest_reasoning.recording import Cassette

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"
ADAPTER = ROOT / "example_tests" / "models" / "tiny-qwen3-no-detour"
QUESTION = "In the United States, what is the capital of the state that contains Dallas?"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Digests go to a cache of this test's own, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture(scope="module")
def tiny_qwen3():
    """Load the tiny Qwen3 with its adapter once in this process, so that pytester's
    in-process runs import nothing new (they drop modules first imported inside); one
    intra-op thread meanwhile (a 1.3 M-parameter model gains nothing from more)."""
    torch = pytest.importorskip("torch", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    pytest.importorskip("peft", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    from pytest_reasoning.backends.transformers import TransformersBackend

    backend = TransformersBackend(str(TINY), adapter=str(ADAPTER), device="cpu")
    raw = backend.run([Request("transformers", "models/tiny-qwen3", ({"role": "user", "content": QUESTION},),
                               {"temperature": 0, "thinking": False, "max_tokens": 30})])[0]
    backend.close()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield raw
    torch.set_num_threads(threads)


def _copy_model(to: Path) -> Path:
    shutil.copytree(TINY, to)
    return to


# -- the identity ----------------------------------------------------------------
def test_identity_follows_the_content_not_the_place(tmp_path):
    here = model_identity(TINY)
    assert here and len(here["sha256"]) == 64
    moved = _copy_model(tmp_path / "elsewhere" / "renamed")
    (moved / "README.md").write_text("notes do not decide the output\n")
    (moved / "trainer_state.json").write_text("{}\n")
    assert model_identity(moved) == here
    pointer = _copy_model(tmp_path / "lfs")  # a checkout without the LFS object
    oid = hashlib.sha256((TINY / "model.safetensors").read_bytes()).hexdigest()
    (pointer / "model.safetensors").write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\n"
                                               f"size {(TINY / 'model.safetensors').stat().st_size}\n")
    assert model_identity(pointer) == here
    edited = _copy_model(tmp_path / "edited")
    (edited / "chat_template.jinja").write_text((TINY / "chat_template.jinja").read_text() + " ")
    assert model_identity(edited) != here
    assert model_identity(tmp_path / "no-such-folder") is None and model_identity(tmp_path) is None


def test_digests_are_cached_across_sessions(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(os.urandom(3 << 20))
    real = hashlib.sha256(weights.read_bytes()).hexdigest()
    session = [sys.executable, "-c", "import sys; from pytest_reasoning.backends.local.identity import file_sha256; "
               "print(file_sha256(sys.argv[1]))", str(weights)]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    assert subprocess.run(session, env=env, capture_output=True, text=True, check=True).stdout.strip() == real
    cache = tmp_path / "user-cache" / "pytest-reasoning" / "file-sha256.json"
    entry = json.loads(cache.read_text())[str(weights.resolve())]
    assert entry[2] == real
    cache.write_text(json.dumps({str(weights.resolve()): [*entry[:2], "0" * 64]}))  # what the next session reads
    assert subprocess.run(session, env=env, capture_output=True, text=True, check=True).stdout.strip() == "0" * 64
    os.utime(weights, ns=(entry[1] + 10**9, entry[1] + 10**9))  # touched: hashed again
    assert subprocess.run(session, env=env, capture_output=True, text=True, check=True).stdout.strip() == real


def test_cache_file_location_follows_xdg(tmp_path):
    assert hash_cache_path() == tmp_path / "user-cache" / "pytest-reasoning" / "file-sha256.json"


# -- recordings ------------------------------------------------------------------
LOCAL_TESTS = """
import pytest

@pytest.mark.reasoning(backend="transformers", model={model!r}, device="cpu")
def test_one(reasoning_model):
    assert "Austin" in reasoning_model({question!r}, temperature=0, thinking=False, max_tokens=30).answer

@pytest.mark.reasoning(backend="transformers", model={model!r}, device="cpu")
def test_two(reasoning_model):
    assert "Austin" in reasoning_model({question!r}, temperature=0, thinking=False, max_tokens=30).answer
"""


def _tests(pytester, model: str) -> None:
    pytester.makepyfile(test_local=LOCAL_TESTS.format(model=model, question=QUESTION))


def test_a_moved_or_missing_model_folder_still_replays(pytester, tiny_qwen3):
    _copy_model(pytester.path / "models" / "tiny-qwen3")
    _tests(pytester, "models/tiny-qwen3")
    pytester.runpytest("--reasoning-record-mode=once").assert_outcomes(passed=2)
    entry = json.loads((pytester.path / "cassettes" / "test_local.json").read_text())["interactions"][0]
    assert entry["request"]["model"] == "models/tiny-qwen3"  # the path as written: a label
    assert entry["request"]["identity"] == {"model": model_identity(TINY)}

    shutil.move(pytester.path / "models", pytester.path / "elsewhere")
    (pytester.path / "elsewhere" / "tiny-qwen3").rename(pytester.path / "elsewhere" / "renamed")
    _tests(pytester, "elsewhere/renamed")
    pytester.runpytest().assert_outcomes(passed=2)  # replayed (record mode none)
    _tests(pytester, str(pytester.path / "elsewhere" / "renamed"))
    pytester.runpytest().assert_outcomes(passed=2)

    shutil.rmtree(pytester.path / "elsewhere")  # CI without the model: found by the path as written
    _tests(pytester, "models/tiny-qwen3")
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_retrained_model_does_not_replay_the_old_answers(pytester, tiny_qwen3):
    model = _copy_model(pytester.path / "models" / "tiny-qwen3")
    _tests(pytester, "models/tiny-qwen3")
    pytester.runpytest("--reasoning-record-mode=once").assert_outcomes(passed=2)
    with open(model / "generation_config.json", "a") as f:
        f.write("\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["no recording for this transformers/models/tiny-qwen3 request in "
                                 "cassettes/test_local.json (closest recording differs in: identity)*"])
    pytester.runpytest("--reasoning-record-mode=all").assert_outcomes(passed=2)
    shutil.rmtree(model)  # without the folder, its path alone cannot tell the two versions apart
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["no recording for this transformers/models/tiny-qwen3 request in "
                                 "cassettes/test_local.json (2 versions of this model folder match by its path; "
                                 "put the folder here to pick one); record it with: *"])


def test_cassettes_keyed_on_the_path_still_replay_and_say_so_once(pytester, tiny_qwen3):
    _copy_model(pytester.path / "models" / "tiny-qwen3")
    _tests(pytester, "models/tiny-qwen3")
    old = Cassette(pytester.path / "cassettes" / "test_local.json")  # as recorded before content identity
    old.record(Request("transformers", "models/tiny-qwen3", ({"role": "user", "content": QUESTION},),
                       {"temperature": 0, "thinking": False, "max_tokens": 30}, {}), tiny_qwen3, test="test_local.py::test_one")
    old.save()
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["cassettes/test_local.json: 2 replay(s) found a local model's recording by its "
                                 "path, as recorded before models were known by their content; re-record them with "
                                 "--reasoning-record-mode=all (then --reasoning-prune drops the old ones)"])
    assert result.stdout.str().count("found a local model's recording by its path") == 1

    pytester.runpytest("--reasoning-record-mode=all").assert_outcomes(passed=2)
    result = pytester.runpytest("--reasoning-prune")
    result.assert_outcomes(passed=2)
    assert "by its path" not in result.stdout.str()
    entries = json.loads((pytester.path / "cassettes" / "test_local.json").read_text())["interactions"]
    assert [e["request"]["identity"] for e in entries] == [{"model": model_identity(TINY)}]


# -- failing fast ------------------------------------------------------------------
def test_a_mistyped_local_path_fails_at_once_naming_the_places(pytester, tiny_qwen3):
    _copy_model(pytester.path / "models" / "tiny-qwen3")
    _tests(pytester, "models/tiny-qwen4")
    result = pytester.runpytest("--reasoning-record-mode=off")
    result.assert_outcomes(failed=2)
    line = ("model directory 'models/tiny-qwen4' not found (looked in models/tiny-qwen4); did you mean "
            "'models/tiny-qwen3'?; pass an existing directory (config.json, weights, tokenizer) or a Hugging Face "
            "hub id")
    assert [ln for ln in result.stdout.lines if ln.startswith("model directory")] == [line, line]
    sub = pytester.mkdir("sub")  # looked for beside the test file and under the rootdir
    (pytester.path / "test_local.py").rename(sub / "test_local.py")
    result = pytester.runpytest("--reasoning-record-mode=off")
    result.stdout.fnmatch_lines(["model directory 'models/tiny-qwen4' not found (looked in sub/models/tiny-qwen4, "
                                 "models/tiny-qwen4); did you mean 'models/tiny-qwen3'?*"])


def test_a_hub_model_missing_fails_once_and_later_tests_at_once(pytester, httpserver, monkeypatch):
    """A hub that answers 404: the first test asks it, the second fails with the same
    line without asking again (a subprocess: the hub address is read at import)."""
    pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    httpserver.expect_request("").respond_with_data("not found", status=404)
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HF_HOME", str(pytester.path / "hf-home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    _tests(pytester, "someorg/somemodel")
    run = ("--reasoning-record-mode=off", "-p", "no:cacheprovider", "-p", "no:randomly")
    result = pytester.runpytest_subprocess(*run, "-k", "one")
    result.assert_outcomes(failed=1, deselected=1)
    asked = len(httpserver.log)
    assert asked >= 1
    result = pytester.runpytest_subprocess(*run)
    result.assert_outcomes(failed=2)
    assert len(httpserver.log) == 2 * asked  # the second test asked nothing
    failures = [ln for ln in result.stdout.lines if ln.startswith("model 'someorg/somemodel' not found")]
    assert len(failures) == 2 and failures[0] == failures[1]


def test_an_unreachable_hub_fails_at_once_for_a_model_not_cached(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("from pytest_reasoning.backends.local.loading import local_files_only\n"
            "from pytest_reasoning.backends import BackendError\n"
            "assert local_files_only('./models/x') is True\n"
            "try:\n    local_files_only('someorg/somemodel')\nexcept BackendError as e:\n    print(e)\n")
    env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_OFFLINE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == (
        f"model 'someorg/somemodel' is not in the local Hugging Face cache and the hub (http://127.0.0.1:{port}) "
        "cannot be reached; download it where the hub is reachable (hf download someorg/somemodel) or pass a "
        "local directory")


# -- quiet loading, help ------------------------------------------------------------
def test_loading_with_an_adapter_shows_no_bar_or_future_warning(pytester, tiny_qwen3):
    pytester.makepyfile(test_quiet=f"""
        import pytest
        from transformers.utils import logging

        @pytest.mark.reasoning(backend="transformers", model={str(TINY)!r}, adapter={str(ADAPTER)!r},
                               device="cpu", record_mode="off")
        def test_load(reasoning_model):
            before = logging.get_verbosity(), logging.is_progress_bar_enabled()
            reasoning_model({QUESTION!r}, temperature=0, max_tokens=5)
            assert (logging.get_verbosity(), logging.is_progress_bar_enabled()) == before  # restored
        """)
    result = pytester.runpytest("-s", "-W", "default")
    result.assert_outcomes(passed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "Loading weights" not in out and "FutureWarning" not in out and "warnings summary" not in out


def test_device_help_names_mps(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--reasoning-device*"])
    assert "cpu, cuda, cuda:N, mps" in " ".join(result.stdout.str().split())
