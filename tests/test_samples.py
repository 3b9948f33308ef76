"""Sampling end to end: ``reasoning_model.sample(prompt, n)`` through the plugin.

- API backend: the real ``openai`` client against a real local chat-completions
  server (pytest-httpserver, threaded): n recordings in the cassette, sample ``i``
  keyed with ``"sample": i``, replayed in order without a server; the n requests in
  flight together (a barrier in the handler passes only then); ``seed + i`` sent for
  sample ``i``.
- Each record mode with samples, counting the requests the server got.
- Local backend: the committed tiny Qwen3 through ``transformers`` on the CPU: sample
  ``i`` equals a call seeded ``i`` run on its own, the samples differ, and a second
  run draws the same ones.
- The ``samples`` setting (n when none is given): marker, option, ini key, precedence.
- Bad input: one line each, no frames from the plugin's code.
- pytest-xdist records what a serial run records.
- The threshold rule at the edges of the Wilson interval, through the public
  assertions, and the failure message a plugin run shows.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from pathlib import Path

# Imported once here: pytester's in-process runs drop the modules first imported inside
# them, and each inner run would import openai (and scipy, for the rates) anew.
import openai  # noqa: E402,F401
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response
from wire import completion, sse, stream_chunks

from pytest_reasoning import Detour, Trace, TraceSample, assert_answer, assert_no_detour
from pytest_reasoning.assertions import SAMPLE_RULE
from pytest_reasoning.backends import RawResponse, Request
from pytest_reasoning.recording import Cassette

try:
    import scipy.stats  # noqa: F401
except ImportError:  # the tests of rates fail and say so
    pass

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "What is the capital of Texas?"
SPORTS = Detour("sports", terms=["NFL", "Cowboys"])


# -- a local chat-completions server -------------------------------------------------
class Served:
    """What the local server answers each chat completion with: an answer naming
    ``version`` and the seed the request carried (or, without one, its arrival
    number), and reasoning naming the prompt.  With ``barrier`` set, each request
    waits there until that many are in flight at once; when they never are, the
    request is answered HTTP 500 and the test fails."""

    def __init__(self, server: HTTPServer) -> None:
        self.server, self.version, self.barrier = server, "v1", None
        self._arrivals, self._lock = itertools.count(), threading.Lock()
        server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self.answer)

    def answer(self, request) -> Response:
        """One chat completion (a body, or an SSE stream where the request asks for one)."""
        body = request.get_json()
        with self._lock:
            arrival = next(self._arrivals)
        if self.barrier is not None:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                error = {"error": {"message": "the requests of the sample were not in flight together"}}
                return Response(json.dumps(error), status=500, content_type="application/json")
        which = f"seed {body['seed']}" if "seed" in body else f"call {arrival}"
        answer = f"{self.version} {which}"
        reasoning = f"Thinking about {body['messages'][-1]['content']} ({which})."
        if body.get("stream"):
            chunks = stream_chunks([reasoning], [answer], field="reasoning", model="served")
            return Response(sse(chunks), content_type="text/event-stream")
        reply = completion({"content": answer, "reasoning": reasoning}, model="served")
        return Response(json.dumps(reply), content_type="application/json")

    def bodies(self) -> list[dict]:
        """The JSON bodies of the requests received so far."""
        return [req.get_json() for req, _ in self.server.log]

    def seeds(self) -> list[int | None]:
        """The seeds received, sorted (``None`` for a request without one)."""
        return sorted((b.get("seed") for b in self.bodies()), key=lambda s: (s is None, s))


@pytest.fixture
def served(quiet_server):
    """The local server (conftest.py), answering as :class:`Served` does, its log empty."""
    return Served(quiet_server)


#: A base URL nothing answers at: a run given it works only if it calls no server.
NOWHERE = "http://127.0.0.1:1/v1"


def live(served: Served | None, mode: str) -> list[str]:
    """The options of an inner run against ``served`` (``None``: no server) in record
    mode ``mode``."""
    url = served.server.url_for("/v1") if served else NOWHERE
    return [f"--reasoning-base-url={url}", "--reasoning-max-retries=0",
            "--reasoning-timeout=30", f"--reasoning-record-mode={mode}"]


SAMPLED = """
import json
import pytest

@pytest.mark.reasoning(backend="vllm", model="served")
def {name}(reasoning_model):
    sample = reasoning_model.sample({prompt!r}, {n}{params})
    assert len(sample) == {n}
    with open("{name}.json", "w", encoding="utf-8") as f:
        json.dump([t.answer for t in sample], f)
"""


def sampled(n: int, name: str = "test_sampled", prompt: str = PROMPT, **params) -> str:
    """A test ``name`` drawing ``n`` samples of ``prompt`` with ``params``; it writes
    the answers, in sample order, to ``<name>.json``."""
    return SAMPLED.format(name=name, prompt=prompt, n=n, params="".join(f", {k}={v!r}" for k, v in params.items()))


def answers(pytester, name: str = "test_sampled") -> list[str]:
    """What test ``name``'s sample answered, in sample order."""
    return json.loads((pytester.path / f"{name}.json").read_text(encoding="utf-8"))


def recordings(pytester, name: str = "test_sampled") -> list[dict]:
    """The interactions of the cassette of ``name``.py."""
    return json.loads((pytester.path / "cassettes" / f"{name}.json").read_text(encoding="utf-8"))["interactions"]


def recorded_answers(pytester, prompt: str = PROMPT) -> list[str]:
    """The recorded answers to ``prompt``, ordered by the sample index in their request."""
    by_sample = {e["request"]["sample"]: e["response"]["payload"]["choices"][0]["message"]["content"]
                 for e in recordings(pytester) if e["request"]["messages"][-1]["content"] == prompt}
    assert sorted(by_sample) == list(range(len(by_sample)))
    return [by_sample[i] for i in range(len(by_sample))]


def error_lines(result, *texts: str) -> None:
    """Each of ``texts`` is the text of an ``E`` line of the output (pytest's lines
    of an exception raised in the test's own code)."""
    shown = [re.sub(r"^E\s+", "", line) for line in result.stdout.lines if line.startswith("E ")]
    for text in texts:
        assert text in shown, result.stdout.str()


def one_line_failure(result, line: str) -> None:
    """``line`` starts a line of the output, and nothing of the plugin's code shows."""
    out = result.stdout.str()
    assert line in result.stdout.lines, out
    assert "Traceback" not in out and "pytest_reasoning/" not in out, out


# -- 1. API backend: record, replay, concurrency, seeds --------------------------------
def test_sample_records_each_draw_concurrently_and_replays_them_in_order(pytester, served):
    served.barrier = threading.Barrier(8, timeout=10)  # passes only if the 8 calls are in flight together
    pytester.makepyfile(test_sampled=sampled(8, temperature=0.6))
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=1)
    assert len(served.bodies()) == 8 and not served.barrier.broken
    assert all("seed" not in body for body in served.bodies())  # none set, none sent
    drawn = answers(pytester)
    assert len(set(drawn)) == 8  # the server answered each call differently

    entries = recordings(pytester)
    assert sorted(e["request"]["sample"] for e in entries) == list(range(8))
    for e in entries:  # one prompt, one params, eight keys told apart by the sample index alone
        assert {k: v for k, v in e["request"].items() if k != "sample"} == {
            "backend": "vllm", "model": "served", "identity": {},
            "messages": [{"role": "user", "content": PROMPT}], "params": {"temperature": 0.6}}
        assert Request.from_key_data(e["request"]).key() == e["key"]
        assert e["tests"] == ["test_sampled.py::test_sampled"]
    assert recorded_answers(pytester) == drawn  # sample i is the recording of sample i

    served.server.clear_log()
    (pytester.path / "test_sampled.json").unlink()
    pytester.runpytest(*live(None, "none")).assert_outcomes(passed=1)  # a replay needs no server
    assert answers(pytester) == drawn and served.bodies() == []


def test_sample_i_sends_seed_plus_i(pytester, served):
    pytester.makepyfile(test_sampled=sampled(8, temperature=0.6, seed=100))
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=1)
    assert served.seeds() == list(range(100, 108))
    assert answers(pytester) == [f"v1 seed {100 + i}" for i in range(8)]
    assert all(e["request"]["params"] == {"temperature": 0.6, "seed": 100} for e in recordings(pytester))
    assert recorded_answers(pytester) == answers(pytester)


# -- 2. record modes ------------------------------------------------------------------
def test_new_episodes_after_raising_n_calls_only_for_the_new_samples(pytester, served):
    pytester.makepyfile(test_sampled=sampled(4, seed=100))
    pytester.runpytest(*live(served, "new_episodes")).assert_outcomes(passed=1)
    assert served.seeds() == [100, 101, 102, 103]
    served.server.clear_log()
    pytester.makepyfile(test_sampled=sampled(8, seed=100))
    pytester.runpytest(*live(served, "new_episodes")).assert_outcomes(passed=1)
    assert served.seeds() == [104, 105, 106, 107]  # samples 4..7 only
    assert answers(pytester) == recorded_answers(pytester) == [f"v1 seed {100 + i}" for i in range(8)]


def test_none_after_raising_n_fails_with_the_one_line_missing_recording_message(pytester, served):
    pytester.makepyfile(test_sampled=sampled(4, seed=100))
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=1)
    served.server.clear_log()
    before = (pytester.path / "cassettes" / "test_sampled.json").read_bytes()
    pytester.makepyfile(test_sampled=sampled(8, seed=100))
    result = pytester.runpytest(*live(served, "none"))
    result.assert_outcomes(failed=1)
    one_line_failure(result, (
        "no recording for this vllm/served request in cassettes/test_sampled.json (closest recording differs in: "
        "sample); record it with: pytest 'test_sampled.py::test_sampled' --reasoning-record-mode=new_episodes"))
    assert served.bodies() == []
    assert (pytester.path / "cassettes" / "test_sampled.json").read_bytes() == before


def test_all_rerecords_every_sample_gathered_across_tests(pytester, served):
    ohio = "What is the capital of Ohio?"
    pytester.makepyfile(test_sampled=sampled(8, seed=100) + sampled(8, "test_other", ohio, seed=200))
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=2)
    served.server.clear_log()
    served.version = "v2"
    # The first live call runs every recorded request of the session's tests in record
    # mode all: both samples, 16 requests, in flight together.
    served.barrier = threading.Barrier(16, timeout=10)
    pytester.runpytest(*live(served, "all")).assert_outcomes(passed=2)
    assert served.seeds() == [*range(100, 108), *range(200, 208)] and not served.barrier.broken
    assert answers(pytester) == recorded_answers(pytester) == [f"v2 seed {100 + i}" for i in range(8)]
    assert answers(pytester, "test_other") == recorded_answers(pytester, ohio) == [f"v2 seed {200 + i}"
                                                                                   for i in range(8)]
    assert len(recordings(pytester)) == 16


def test_once_records_a_new_cassette_then_only_replays(pytester, served):
    pytester.makepyfile(test_sampled=sampled(6, seed=7))
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=1)
    assert served.seeds() == list(range(7, 13))
    served.server.clear_log()
    served.version = "v2"
    pytester.runpytest(*live(served, "once")).assert_outcomes(passed=1)  # the cassette exists: replayed
    assert served.bodies() == [] and answers(pytester) == [f"v1 seed {7 + i}" for i in range(6)]
    pytester.makepyfile(test_sampled=sampled(8, seed=7))
    result = pytester.runpytest(*live(served, "once"))  # more samples: once records nothing into a cassette
    result.assert_outcomes(failed=1)
    assert any(line.startswith("no recording for this vllm/served request") and
               line.endswith("--reasoning-record-mode=new_episodes") for line in result.stdout.lines)
    assert served.bodies() == [] and len(recordings(pytester)) == 6


def test_off_calls_for_every_sample_every_time_and_writes_nothing(pytester, served):
    pytester.makepyfile(test_sampled=sampled(5, seed=1))
    pytester.runpytest(*live(served, "off")).assert_outcomes(passed=1)
    pytester.runpytest(*live(served, "off")).assert_outcomes(passed=1)
    assert served.seeds() == sorted([*range(1, 6), *range(1, 6)])
    assert answers(pytester) == [f"v1 seed {1 + i}" for i in range(5)]
    assert not (pytester.path / "cassettes").exists()


# -- 3. local backend: the tiny Qwen3 on the CPU (the tiny_qwen3 fixture: conftest.py) --


LOCAL = """
import json
import pytest

PROMPT = "What is the capital of the state that contains Dallas, a big city of about 1.3 million people?"
PARAMS = dict(temperature=0.6, max_tokens=60)  # far enough for the detour, which some seeds take
MODEL = pytest.mark.reasoning(backend="transformers", model={model!r}, device="cpu", record_mode="off")


def dump(name, traces):
    rows = [[t.reasoning, t.answer, t.extra.get("sample"), t.extra["effective_params"]["seed"]] for t in traces]
    with open(name + ".json", "w", encoding="utf-8") as f:
        json.dump(rows, f)


@MODEL
def test_sample(reasoning_model):
    dump("sample", reasoning_model.sample(PROMPT, 8, seed=0, **PARAMS))


@MODEL
def test_alone(reasoning_model):
    dump("alone", [reasoning_model(PROMPT, seed=i, **PARAMS) for i in range(8)])
"""


def test_local_samples_are_seeded_per_row_differ_and_repeat(pytester, tiny_qwen3):
    pytester.makepyfile(test_local=LOCAL.format(model=str(tiny_qwen3)))
    pytester.runpytest().assert_outcomes(passed=2)
    sample = json.loads((pytester.path / "sample.json").read_text(encoding="utf-8"))
    alone = json.loads((pytester.path / "alone.json").read_text(encoding="utf-8"))
    assert [row[2:] for row in sample] == [[i, i] for i in range(8)]  # sample i, seeded 0 + i
    assert [row[2:] for row in alone] == [[None, i] for i in range(8)]
    # the batch of 8 draws what eight calls seeded 0..7, each run on its own, draw
    assert [row[:2] for row in sample] == [row[:2] for row in alone]
    assert len({tuple(row[:2]) for row in sample}) > 1  # and the eight are not eight copies
    assert all(row[0] for row in sample)  # reasoning came back

    pytester.runpytest("-k", "test_sample").assert_outcomes(passed=1, deselected=1)
    assert json.loads((pytester.path / "sample.json").read_text(encoding="utf-8")) == sample


# -- 4. the samples setting ----------------------------------------------------------
COUNTED = """
import json
import pytest

def count(name, sample):
    with open(f"n-{name}.json", "w") as f:
        json.dump(len(sample), f)

@pytest.mark.reasoning(backend="vllm", model="served")
def test_unmarked(reasoning_model):
    count("unmarked", reasoning_model.sample("q"))

@pytest.mark.reasoning(backend="vllm", model="served", samples=5)
def test_marked(reasoning_model):
    count("marked", reasoning_model.sample("q"))
"""


@pytest.mark.parametrize(
    ("ini", "cli", "unmarked", "marked"),
    [(None, None, 16, 5), ("7", None, 7, 5), (None, "3", 3, 3), ("7", "3", 3, 3)],
    ids=["default", "ini", "cli", "cli-over-marker-over-ini"],
)
def test_default_n_comes_from_cli_then_marker_then_ini(pytester, served, ini, cli, unmarked, marked):
    if ini:
        pytester.makeini(f"[pytest]\nreasoning_samples = {ini}\n")
    pytester.makepyfile(test_counted=COUNTED)
    args = live(served, "off") + (["--reasoning-samples", cli] if cli else [])
    pytester.runpytest(*args).assert_outcomes(passed=2)
    got = {name: json.loads((pytester.path / f"n-{name}.json").read_text()) for name in ("unmarked", "marked")}
    assert got == {"unmarked": unmarked, "marked": marked}
    assert len(served.bodies()) == unmarked + marked


def test_a_bad_samples_setting_is_a_usage_error(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--reasoning-samples=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "invalid --reasoning-samples '0': must be > 0" in result.stderr.str()
    pytester.makepyfile(test_m="import pytest\n@pytest.mark.reasoning(samples=2.5)\ndef test_x(): pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "invalid @pytest.mark.reasoning(samples=...) in test_m.py::test_x 2.5: expected a whole number > 0" in (
        result.stderr.str())


# -- 5. bad input ----------------------------------------------------------------------
def record_sample(path: Path, answers: list[str], prompt: str = PROMPT) -> None:
    """Record one sample of ``prompt`` (sample ``i`` answering ``answers[i]``) on the
    vllm backend, model ``served``, with the real :class:`Cassette` API."""
    cassette = Cassette(path)
    for i, answer in enumerate(answers):
        body = completion({"content": answer, "reasoning": "Dallas is in Texas."}, model="served")
        request = Request("vllm", "served", ({"role": "user", "content": prompt},), {}, {}, i)
        cassette.record(request, RawResponse("openai.chat.completion", body))
    cassette.save()


BAD = f"""
import pytest
from pytest_reasoning import Detour, assert_answer, assert_rate_change

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")
SPORTS = Detour("sports", terms=["NFL"])

def test_zero(reasoning_model):
    reasoning_model.sample({PROMPT!r}, 0)

def test_fraction(reasoning_model):
    reasoning_model.sample({PROMPT!r}, 2.5)

def test_n_on_a_call(reasoning_model):
    reasoning_model({PROMPT!r}, n=4)

def test_no_rate(reasoning_model):
    assert_answer(reasoning_model.sample({PROMPT!r}, 4), contains="x")

def test_rate_on_one_trace(reasoning_model):
    assert_answer(reasoning_model.sample({PROMPT!r}, 4)[0], contains="x", min_rate=0.5)

def test_rate_change_of_a_trace(reasoning_model):
    sample = reasoning_model.sample({PROMPT!r}, 4)
    assert_rate_change(sample[0], sample, SPORTS, direction="up")
"""


def test_bad_input_fails_in_one_line(pytester):
    pytester.makepyfile(test_bad=BAD)
    record_sample(pytester.path / "cassettes" / "test_bad.json", ["Austin"] * 4)
    result = pytester.runpytest()
    result.assert_outcomes(failed=6)
    out = result.stdout.str()
    for line in [
        "invalid reasoning_model.sample(n=...) 0: must be > 0",
        "invalid reasoning_model.sample(n=...) 2.5: expected a whole number > 0",
        "reasoning_model() takes no n; draw several samples with reasoning_model.sample(prompt, n)",
    ]:
        assert line in result.stdout.lines, out  # pytest.fail without a traceback: the line alone
    error_lines(
        result,
        "TypeError: assert_answer() on a TraceSample needs min_rate=...; for one trace pass sample[i]",
        "TypeError: assert_answer(min_rate=/max_rate=) needs a TraceSample (reasoning_model.sample(prompt, n)); "
        "a single trace passes or fails",
        "TypeError: assert_rate_change(before, after, ...) compares two TraceSamples (reasoning_model.sample)",
    )
    assert "Traceback" not in out and "pytest_reasoning/" not in out, out  # no frame of the plugin's code


MIXED_UP = f"""
import pytest
from pytest_reasoning import Detour, check_detours, compare_samples, diff_traces

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")
SPORTS = Detour("sports", terms=["NFL"])

def test_empty_sample(reasoning_model):
    reasoning_model.sample("  ", 4)

def test_empty_call(reasoning_model):
    reasoning_model("")

def test_diff_traces_of_a_sample(reasoning_model):
    sample = reasoning_model.sample({PROMPT!r}, 4)
    diff_traces(sample, sample[0])

def test_compare_samples_of_traces(reasoning_model):
    sample = reasoning_model.sample({PROMPT!r}, 4)
    compare_samples(sample[0], sample, [SPORTS])

def test_check_detours_of_a_sample(reasoning_model):
    check_detours(reasoning_model.sample({PROMPT!r}, 4), SPORTS)

def test_check_detours_given_a_list(reasoning_model):
    check_detours(reasoning_model.sample({PROMPT!r}, 4)[0], [SPORTS])

def test_an_empty_pattern():
    Detour("sports", patterns=[""])
"""


def test_mixed_up_input_fails_in_one_line(pytester):
    pytester.makepyfile(test_bad=MIXED_UP)
    record_sample(pytester.path / "cassettes" / "test_bad.json", ["Austin"] * 4)
    result = pytester.runpytest()
    result.assert_outcomes(failed=7)
    assert result.stdout.lines.count("the prompt is empty; give the question to ask") == 2, result.stdout.str()
    error_lines(
        result,
        "TypeError: diff_traces(old, new) compares two Traces; for two TraceSamples use diff_samples, "
        "or compare_samples for their rates",
        "TypeError: compare_samples(before, after, ...) compares two TraceSamples (reasoning_model.sample); "
        "before is a Trace (for two traces: diff_traces)",
        "TypeError: check_detours() takes one Trace, not TraceSample; for a sample use sample.rate(detour) "
        "or assert_no_detour(sample, detour, max_rate=...)",
        "ValueError: check_detours(trace, Detour(...), ...) takes the Detours as separate arguments, not a list: "
        "write check_detours(trace, *detours)",
        "ValueError: Detour 'sports' has an empty pattern (it would match every reasoning)",
    )
    assert "pytest_reasoning/" not in result.stdout.str()  # no frame of the plugin's code


def test_a_string_n_is_bad_input(pytester):
    pytester.makepyfile(test_bad=BAD.split("def test_zero")[0] + (
        f"def test_string(reasoning_model):\n    reasoning_model.sample({PROMPT!r}, '3')\n"))
    record_sample(pytester.path / "cassettes" / "test_bad.json", ["Austin"] * 3)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    one_line_failure(result, "invalid reasoning_model.sample(n=...) '3': expected a whole number > 0")


def test_a_rate_outside_0_1_fails_in_one_line(pytester):
    pytester.makepyfile(test_bad=BAD.split("def test_zero")[0] + (
        f"def test_rate(reasoning_model):\n"
        f"    assert_answer(reasoning_model.sample({PROMPT!r}, 4), contains='Austin', min_rate=1.5)\n"))
    record_sample(pytester.path / "cassettes" / "test_bad.json", ["Austin"] * 4)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    error_lines(result, "ValueError: min_rate must be a number from 0 to 1 (a fraction, e.g. 0.95); got 1.5")
    assert "pytest_reasoning/" not in result.stdout.str(), result.stdout.str()


# -- 6. pytest-xdist -------------------------------------------------------------------
SAMPLED_FILE = """
import pytest

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")

@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_seeded(reasoning_model, n):
    sample = reasoning_model.sample(f"prompt {n}", n, temperature=0.6, seed=10 * n)
    assert [t.answer for t in sample] == [f"v1 seed {10 * n + i}" for i in range(n)]

def test_streamed(reasoning_model):
    sample = reasoning_model.sample("streamed prompt", 4, seed=1, stream=True)
    assert [t.answer for t in sample] == [f"v1 seed {1 + i}" for i in range(4)]

def test_one_call(reasoning_model):
    assert reasoning_model("single prompt", seed=3).answer == "v1 seed 3"
"""


def _cassette_text(pytester) -> str:
    """The cassette, with the measured ``latency_s`` (wall-clock) blanked out."""
    text = (pytester.path / "cassettes" / "test_many.json").read_text(encoding="utf-8")
    return re.sub(r'"latency_s": [0-9.e-]+', '"latency_s": 0', text)


def test_xdist_records_what_a_serial_run_records(pytester, served, monkeypatch):
    pytest.importorskip("xdist", reason="needs pytest-xdist")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # workers start with only the plugins named
    plugins = ["-p", "xdist.plugin", "-p", "syrupy", "-p", "pytest_reasoning.plugin", "-p", "no:cacheprovider"]
    pytester.makepyfile(test_many=SAMPLED_FILE)
    pytester.runpytest(*plugins, "-n", "0", *live(served, "once")).assert_outcomes(passed=6)
    serial, calls = _cassette_text(pytester), len(served.bodies())
    assert calls == 2 + 3 + 5 + 8 + 4 + 1
    assert len(json.loads(serial)["interactions"]) == calls
    (pytester.path / "cassettes" / "test_many.json").unlink()
    served.server.clear_log()
    pytester.runpytest(*plugins, "-n", "2", *live(served, "once")).assert_outcomes(passed=6)
    assert len(served.bodies()) == calls
    assert _cassette_text(pytester) == serial


# -- 7. the threshold rule at the interval's edges -------------------------------------
def sample_of(passing: int, n: int = 16) -> TraceSample:
    """``n`` traces: the first ``passing`` answer Austin by the direct path, the others
    answer Houston after a detour through the NFL."""
    direct = [Trace(reasoning="Dallas is in Texas. The capital of Texas is Austin.", answer="Austin")
              for _ in range(passing)]
    detour = [Trace(reasoning="Dallas has the Cowboys, an NFL team. Houston then.", answer="Houston")
              for _ in range(n - passing)]
    return TraceSample(direct + detour)


def shown_interval(line: str) -> tuple[float, float]:
    """The interval a failure line shows, as fractions."""
    low, high = re.search(r"CI ([0-9.]+)%–([0-9.]+)%", line).groups()
    return float(low) / 100, float(high) / 100


def shows_interval(line: str, interval) -> bool:
    """Whether ``line`` shows ``interval`` (percents rounded at whatever precision it
    prints them)."""
    for printed, value in zip(re.search(r"CI ([0-9.]+)%–([0-9.]+)%", line).groups(), (interval.low, interval.high)):
        decimals = len(printed.partition(".")[2])
        if abs(float(printed) - 100 * value) > 0.5 * 10 ** -decimals + 1e-9:
            return False
    return True


@pytest.mark.parametrize(
    ("check", "passing", "threshold", "conclusive"),
    [
        # 0/16 detours: the interval is [0 %, 19 %]; max_rate=0 can never pass conclusively
        ("detour", 16, {"max_rate": 0.0}, False),
        # 16/16 detours: [81 %, 100 %] is at or below max_rate 1
        ("detour", 0, {"max_rate": 1.0}, True),
        # 16/16 answers: [81 %, 100 %] straddles 90 % (about 35 samples would decide) ...
        ("answer", 16, {"min_rate": 0.9}, False),
        # ... and lies at or above 80 %
        ("answer", 16, {"min_rate": 0.8}, True),
        ("answer", 16, {"min_rate": 1.0}, False),
        # 13/16 answers: [57 %, 93 %] straddles 90 %
        ("answer", 13, {"min_rate": 0.9}, False),
        # 0/16 answers: nothing is below min_rate 0
        ("answer", 0, {"min_rate": 0.0}, True),
        # both sides: 8/16 with [28 %, 72 %] inside [20 %, 80 %]
        ("answer", 8, {"min_rate": 0.2, "max_rate": 0.8}, True),
    ],
)
def test_thresholds_that_pass(check, passing, threshold, conclusive):
    sample = sample_of(passing)
    if check == "detour":
        decision = assert_no_detour(sample, SPORTS, **threshold)
    else:
        decision = assert_answer(sample, contains="Austin", **threshold)
    assert decision.passed and decision.conclusive is conclusive
    assert ("inconclusive" in decision.reason) is not conclusive
    (verdict,) = sample.checks.values()
    assert verdict.kind == check and verdict.passed and verdict.to_json()["conclusive"] is conclusive


def test_an_inconclusive_pass_says_how_many_samples_would_decide():
    decision = assert_answer(sample_of(16), contains="Austin", min_rate=0.9)
    assert decision.samples_needed == 35
    assert decision.reason.startswith("16/16 = 100% (95% CI ") and shows_interval(decision.reason,
                                                                                  decision.rate.interval)
    assert decision.reason.endswith("inconclusive: the interval straddles min_rate 90%; about 35 samples would "
                                    "decide if the rate stays at 100%")
    decision = assert_no_detour(sample_of(16), SPORTS, max_rate=0.0)
    assert decision.samples_needed is None and "more samples will not decide" in decision.reason


@pytest.mark.parametrize(
    ("check", "passing", "threshold", "first", "reason"),
    [
        ("detour", 15, {"max_rate": 0.0}, "samples that took 'sports': 1/16 = ",
         "the whole interval lies above max_rate 0%"),
        ("answer", 12, {"min_rate": 0.9}, "samples that passed assert_answer(contains 'Austin'): 12/16 = ",
         "the whole interval lies below min_rate 90%"),
        ("answer", 2, {"min_rate": 0.9}, "samples that passed assert_answer(contains 'Austin'): 2/16 = ",
         "the whole interval lies below min_rate 90%"),
    ],
)
def test_thresholds_that_fail_show_rate_interval_n_and_three_failing_samples(check, passing, threshold, first,
                                                                              reason):
    sample = sample_of(passing)
    with pytest.raises(AssertionError) as info:
        if check == "detour":
            assert_no_detour(sample, SPORTS, **threshold)
        else:
            assert_answer(sample, contains="Austin", **threshold)
    (verdict,) = sample.checks.values()
    assert not verdict.passed and verdict.to_json()["conclusive"]
    lines = str(info.value).splitlines()
    assert lines[0].startswith(first) and "95% CI" in lines[0]
    assert shows_interval(lines[0], verdict.rate.interval)
    assert lines[1].endswith(reason) and lines[2] == f"  rule: {SAMPLE_RULE}"
    failing = 16 - passing  # the samples after the first ``passing`` fail either check
    shown = [line for line in lines if line.startswith("  sample ")]
    assert len(shown) == min(3, failing)
    assert shown[0].startswith(f"  sample {passing}: ")
    if failing > 3:
        assert lines[-1] == f"  (+{failing - 3} more failing samples)"


def test_a_failing_interval_reads_as_below_its_threshold():
    with pytest.raises(AssertionError) as info:
        assert_answer(sample_of(12), contains="Austin", min_rate=0.9)
    assert shown_interval(str(info.value).splitlines()[0])[1] < 0.9


def test_the_package_requires_what_the_rates_need():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads TOML")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {re.split(r"[<>=!~ ;\[]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]}
    assert "scipy" in required


THRESHOLD = f"""
import pytest
from pytest_reasoning import assert_answer

@pytest.mark.reasoning(backend="vllm", model="served")
def test_rate(reasoning_model):
    sample = reasoning_model.sample({PROMPT!r}, 16)
    assert_answer(sample, contains="Austin", min_rate=0.9)
"""


def test_a_sample_failure_in_a_plugin_run(pytester):
    pytester.makepyfile(test_rate=THRESHOLD)
    record_sample(pytester.path / "cassettes" / "test_rate.json", ["Austin", "Houston", "Austin"] + ["Dallas"] * 13)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    first = next(line for line in result.stdout.lines if "AssertionError: samples that" in line)
    assert "AssertionError: samples that passed assert_answer(contains 'Austin'): 2/16 = " in first
    assert shows_interval(first, sample_of(2).rate(lambda trace: trace.answer == "Austin").interval)
    assert any(line.endswith("the whole interval lies below min_rate 90%") for line in result.stdout.lines)
    error_lines(
        result,
        f"rule: {SAMPLE_RULE}",
        "sample 1: answer does not contain 'Austin'",
        "sample 3: answer does not contain 'Austin'",
        "sample 4: answer does not contain 'Austin'",
        "(+11 more failing samples)",
    )
    assert "sample 5:" not in result.stdout.str() and "pytest_reasoning/" not in result.stdout.str()
