"""A 401 names the place the key came from: the provider's variable that was actually
read, or ``--reasoning-api-key``; without any key, every place one may come from.

The real ``openai`` client against a local server answering 401, through the backend
and through the plugin (the key travels from the settings to the backend with its
source)."""

from __future__ import annotations

import pickle

import pytest

from pytest_reasoning.backends import BackendError, Request, create_backend
from pytest_reasoning.backends.profiles import PROVIDERS, EnvValue

WRONG = "sk-" + "wrong0123456789abcdef"  # fake, split so scanners do not flag it
KEY_VARIABLES = ("LLAMACPP_API_KEY", "OPENAI_API_KEY", "LLAMACPP_BASE_URL", "OPENAI_BASE_URL", "VLLM_API_KEY")


@pytest.fixture
def clean_env(monkeypatch):
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def unauthorized(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "Invalid API Key", "type": "authentication_error"}}, status=401)
    return httpserver.url_for("/v1")


def failure(url, settings=None):
    backend = create_backend("llamacpp", "qwen3-8b", {"base_url": url, "max_retries": 0, **(settings or {})})
    with pytest.raises(BackendError) as info:
        backend.run([Request("llamacpp", "qwen3-8b", ({"role": "user", "content": "q"},), {})])
    return str(info.value)


def test_the_key_read_from_the_environment_knows_its_variable(clean_env):
    clean_env.setenv("OPENAI_API_KEY", WRONG)
    key = PROVIDERS["llamacpp"].key()
    assert (key, key.source) == (WRONG, "$OPENAI_API_KEY")
    clean_env.setenv("LLAMACPP_API_KEY", "another")
    assert PROVIDERS["llamacpp"].key().source == "$LLAMACPP_API_KEY"
    copied = pickle.loads(pickle.dumps(key))
    assert (copied, copied.source, isinstance(copied, EnvValue)) == (WRONG, "$OPENAI_API_KEY", True)


@pytest.mark.parametrize("variable", ["LLAMACPP_API_KEY", "OPENAI_API_KEY"])
def test_401_names_the_variable_that_was_read(clean_env, unauthorized, variable):
    clean_env.setenv(variable, WRONG)
    message = failure(unauthorized, {"api_key": PROVIDERS["llamacpp"].key()})
    assert f"rejected the API key (401); check ${variable}" in message
    assert WRONG not in message
    other = {"LLAMACPP_API_KEY": "OPENAI_API_KEY", "OPENAI_API_KEY": "LLAMACPP_API_KEY"}[variable]
    assert other not in message


def test_401_names_the_option_when_the_key_came_from_it(clean_env, unauthorized):
    clean_env.setenv("LLAMACPP_API_KEY", "the-right-one-is-not-used")
    message = failure(unauthorized, {"api_key": WRONG})
    assert "rejected the API key (401); check --reasoning-api-key" in message and "$" not in message


def test_401_without_a_key_says_where_one_may_come_from(clean_env, unauthorized):
    message = failure(unauthorized)
    assert "wants an API key (401) and none was sent; set $LLAMACPP_API_KEY, $OPENAI_API_KEY or --reasoning-api-key" \
        in message


INNER = """
def test_call(reasoning_model):
    reasoning_model("capital of the state with Dallas?")
"""


@pytest.mark.parametrize(("variable", "option"), [("LLAMACPP_API_KEY", False), (None, True)])
def test_401_through_the_plugin(pytester, clean_env, unauthorized, variable, option):
    if variable:
        clean_env.setenv(variable, WRONG)
    pytester.makepyfile(test_key=INNER)
    args = ["--reasoning-backend=llamacpp", "--reasoning-model=qwen3-8b", f"--reasoning-base-url={unauthorized}",
            "--reasoning-max-retries=0", "--reasoning-record-mode=off"]
    result = pytester.runpytest(*args, *([f"--reasoning-api-key={WRONG}"] if option else []))
    result.assert_outcomes(failed=1)
    named = "$LLAMACPP_API_KEY" if variable else "--reasoning-api-key"
    result.stdout.fnmatch_lines([f"*rejected the API key (401); check {named}*"])
    assert WRONG not in result.stdout.str()
