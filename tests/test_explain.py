"""``reasoning_model.explain`` and ``--reasoning-explain`` end to end, on a scripted
model whose cause is known.

The model is a real local chat-completions server (pytest-httpserver, threaded) reached
through the real ``openai`` client (backend ``vllm``): its reasoning goes Dallas ->
Texas -> Austin, and when the prompt holds :data:`CLAUSE` it first detours through the
Dallas Cowboys, in the samples whose seed is not 3 modulo 4 (12 of 16 with seeds 0-15).
A prompt that names no Dallas gets Miami, the Miami Heat and Tallahassee, as the small
Qwen3 does.

- The search names that clause and, without ``answer=``, the city too (leaving it out
  ends the Cowboys detour); with ``answer="Austin"`` the city is part of the question
  and the clause is the only cause; both rates, the difference, its Newcombe interval,
  Fisher's p-value and Holm's; each variant's prompt is repaired; every run is a sample
  request of its own (n per variant, one batch a round).
- More than eight spans: the group search finds the clause with fewer variants.
- Replay: the same explanation with no server.
- Bad input: one line each, before any request.
- ``--reasoning-explain``: a detour failure (of a sample and of a single trace) lists
  the clause, carries the explanation as a report section and in the report data; an
  explanation that cannot replay leaves a note and the test's outcome alone (a strict
  xfail stays an xfail); without the switch nothing more is asked.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from wire import completion

# Imported once here: pytester's in-process runs drop the modules first imported inside
# them, and each inner run would import openai and scipy anew.
import openai  # noqa: E402,F401

try:
    import scipy.stats  # noqa: F401
except ImportError:  # the rates need scipy; the tests fail and say so
    pass

CLAUSE = "a big city of about 1.3 million people"
PRECISE = f"In the United States, what is the capital of the state that contains Dallas, {CLAUSE}?"
PLAIN = "In the United States, what is the capital of the state that contains Dallas?"
LONG = ("Please, in one word, as a careful student, for a quiz, on a Monday, in the United States, "
        f"from memory, name the capital of the state that contains Dallas, {CLAUSE}, if you can, for me?")


class Scripted:
    """Answers like a reasoning model whose detour follows :data:`CLAUSE` (module docstring)."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self.answer)

    def answer(self, request) -> Response:
        body = request.get_json()
        prompt, seed = body["messages"][-1]["content"], body.get("seed", 0)
        detour = CLAUSE in prompt and seed % 4 != 3
        if "Dallas" not in prompt:
            reasoning, answer = "Miami is a city in Florida. Miami is home to the Miami Heat.", "Tallahassee"
        else:
            reasoning = " ".join(["Dallas is a city in Texas.",
                                  *(["Dallas is also home to the Dallas Cowboys, an NFL team."] if detour else []),
                                  "The capital of Texas is Austin."])
            answer = "Austin"
        reply = completion({"content": answer, "reasoning": reasoning}, model="served")
        return Response(json.dumps(reply), content_type="application/json")

    def prompts(self) -> list[str]:
        """The user message of each request received."""
        return [req.get_json()["messages"][-1]["content"] for req, _ in self.server.log]


@pytest.fixture
def scripted(quiet_server):
    """The local server (conftest.py), answering as :class:`Scripted` does."""
    return Scripted(quiet_server)


NOWHERE = "http://127.0.0.1:1/v1"


def options(scripted: Scripted | None, mode: str) -> list[str]:
    url = scripted.server.url_for("/v1") if scripted else NOWHERE
    return [f"--reasoning-base-url={url}", "--reasoning-max-retries=0", "--reasoning-timeout=30",
            f"--reasoning-record-mode={mode}", "-p", "no:cacheprovider"]


EXPLAINED = """
import json
import pytest
from pytest_reasoning import Detour

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")
SPORTS = Detour("sports", terms=["NFL", "Cowboys"])

def test_why(reasoning_model):
    why = reasoning_model.explain({prompt!r}, SPORTS, 16, temperature=0.6, seed=0{extra})
    with open("why.json", "w", encoding="utf-8") as f:
        json.dump({{**why.to_report(), "text": str(why)}}, f)
"""


def explained(pytester, prompt: str, *args: str, extra: str = ", answer='Austin'") -> dict:
    pytester.makepyfile(test_why=EXPLAINED.format(prompt=prompt, extra=extra))
    pytester.runpytest(*args).assert_outcomes(passed=1)
    return json.loads((pytester.path / "why.json").read_text(encoding="utf-8"))


def test_explain_names_the_clause_the_detour_follows_and_nothing_else(pytester, scripted):
    why = explained(pytester, PRECISE, *options(scripted, "new_episodes"))

    assert why["search"] == "one at a time" and why["n"] == 16
    assert why["baseline"]["count"] == 12  # seeds 0..15, not 3 mod 4
    assert [s["text"] for s in why["spans"]] == ["In the United States", "what is the capital of the state",
                                                "that contains Dallas", CLAUSE]
    assert why["causes"] == [3] and why["question"] == [2]
    city = why["spans"][2]  # without it, no Dallas: Miami, Tallahassee, no Cowboys
    assert (city["without"]["count"], city["answer_without"]["count"], city["changes_answer"]) == (0, 0, True)
    assert city["significant"] and city["prompt_without"] == (
        f"In the United States, what is the capital of the state, {CLAUSE}?")
    clause = why["spans"][3]
    assert (clause["with"]["count"], clause["without"]["count"], clause["difference"]) == (12, 0, 0.75)
    assert clause["prompt_without"] == PLAIN  # the appositive's "?" went to the rest
    assert 0.4 < clause["interval"]["low"] < 0.75 < clause["interval"]["high"] <= 1
    assert clause["p_value"] < 1e-4
    assert clause["adjusted_p"] == pytest.approx(4 * clause["p_value"], rel=0.01)  # Holm: the smallest of 4
    for other in why["spans"][:2]:
        assert (other["without"]["count"], other["difference"], other["significant"]) == (12, 0.0, False)
        assert other["adjusted_p"] == 1.0 and other["answer_without"]["count"] == 16
    assert why["attribution"] is None and why["attribution_note"] is None  # an API backend: no attribution
    assert f'* "{CLAUSE}": 12/16 with it, 0/16 without it: +75 pp (95% CI' in why["text"]
    assert "; the right answer too, 0/16 without it: part of the question" in why["text"]
    # every sample of every variant is a request of its own: 16 whole, 16 per span left out
    prompts = scripted.prompts()
    assert len(prompts) == 5 * 16 and prompts.count(PRECISE) == 16
    assert {p for p in prompts if p != PRECISE} == {s["prompt_without"] for s in why["spans"]}
    cassette = json.loads((pytester.path / "cassettes" / "test_why.json").read_text(encoding="utf-8"))
    assert sorted(e["request"]["sample"] for e in cassette["interactions"]) == sorted(list(range(16)) * 5)

    # Replay: the same explanation, no server.
    scripted.server.clear_log()
    assert explained(pytester, PRECISE, *options(None, "none")) == why
    assert scripted.prompts() == []
    # Without the answer, leaving the city out counts as a cause too: it ends the Cowboys.
    plain = explained(pytester, PRECISE, *options(None, "none"), extra="")
    assert plain["causes"] == [3, 2] or plain["causes"] == [2, 3]
    assert plain["question"] == [] and plain["answer_rate"] is None and plain["spans"][2]["answer_without"] is None


def test_a_bad_answer_is_a_one_line_error(pytester, scripted):
    pytester.makepyfile(test_why=EXPLAINED.format(prompt=PRECISE, extra=", answer=['Austin', 3]"))
    result = pytester.runpytest(*options(scripted, "new_episodes"))
    result.assert_outcomes(failed=1)
    assert ("reasoning_model.explain(answer=...) is the right answer's text or a list of alternatives; "
            "got ['Austin', 3]") in result.stdout.lines, result.stdout.str()
    assert scripted.prompts() == []


def test_more_than_eight_spans_are_searched_in_groups(pytester, scripted):
    why = explained(pytester, LONG, *options(scripted, "new_episodes"))

    spans = [s["text"] for s in why["spans"]]
    assert len(spans) == 12 and spans.index(CLAUSE) == 9
    assert why["search"] == "groups"
    assert [spans[i] for i in why["causes"]] == [CLAUSE]
    assert [spans[i] for i in why["question"]] == ["that contains Dallas"]
    # halves of 12, then of the six holding the city and the clause, then of each three,
    # then of (6, 7) and (9, 10): 10 variants rather than 12
    assert len(set(scripted.prompts())) == 1 + 10 and len(scripted.prompts()) == 11 * 16
    far = why["spans"][0]
    assert (far["alone"], far["removed"], far["significant"]) == (False, list(range(6)), False)
    assert far["without"]["count"] == 12
    assert f'"{spans[0]}": 12/16 with it, 12/16 without its group of 6 spans' in why["text"]


def test_a_prompt_that_never_detours_has_nothing_to_explain(pytester, scripted):
    why = explained(pytester, PLAIN, *options(scripted, "new_episodes"))

    assert why["nothing_to_explain"] and why["causes"] == [] and why["baseline"]["count"] == 0
    assert why["lines"] == ["nothing to explain: the 'sports' detour was taken in 0 of 16 samples of the prompt"]
    assert len(scripted.prompts()) == 16  # the whole prompt only


BAD = """
import pytest
from pytest_reasoning import Detour

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")
SPORTS = Detour("sports", terms=["NFL"])
PROMPT = {prompt!r}

def test_empty(reasoning_model):
    reasoning_model.explain("  ", SPORTS, 16)

def test_no_terms(reasoning_model):
    reasoning_model.explain(PROMPT, Detour("sports", terms=[]), 16)

def test_terms_not_a_detour(reasoning_model):
    reasoning_model.explain(PROMPT, ["NFL", "Cowboys"], 16)

def test_too_few(reasoning_model):
    reasoning_model.explain(PROMPT, SPORTS, 4)

def test_too_few_for_many_spans(reasoning_model):
    reasoning_model.explain(", ".join(f"clause number {{i}}" for i in range(200)) + "?", SPORTS, 8)

def test_one_span(reasoning_model):
    reasoning_model.explain("Which state contains Dallas?", SPORTS, 16)

def test_alpha(reasoning_model):
    reasoning_model.explain(PROMPT, SPORTS, 16, alpha=5)

def test_attribution_on_an_api(reasoning_model):
    reasoning_model.explain(PROMPT, SPORTS, 8, attribute=True, seed=0)
"""


def test_bad_input_fails_in_one_line_before_any_request(pytester, scripted):
    pytester.makepyfile(test_bad=BAD.format(prompt=PRECISE))
    result = pytester.runpytest(*options(scripted, "new_episodes"))
    result.assert_outcomes(failed=8)
    out = result.stdout.str()
    for line in [
        "the prompt is empty; give the question to ask",
        "reasoning_model.explain(prompt, detour) takes a Detour (Detour('sports', terms=[...])), not list",
        "reasoning_model.explain(n=4) is too few to show that any span matters: use n >= 8 (rule: n >= 8, and "
        "n/n -> 0/n must stay significant after Holm's correction across the 4 comparisons of 4 spans)",
        "reasoning_model.explain(n=8) is too few to show that any span matters: use n >= 9 (rule: n >= 8, and "
        "n/n -> 0/n must stay significant after Holm's correction across the 398 comparisons of 200 spans)",
        "reasoning_model.explain() needs a prompt of two clauses or phrases or more, to leave one out; "
        "'Which state contains Dallas?' is one",
        "reasoning_model.explain(alpha=...) is a fraction strictly between 0 and 1; got 5",
        "token attribution needs a local model (backend transformers or unsloth); the vllm backend gives no "
        "log-probabilities of a changed prompt",
    ]:
        assert line in result.stdout.lines, out  # pytest.fail without a traceback: the line alone
    # a Detour without terms or patterns is refused where it is made, in one line of its own
    assert any(line.endswith("ValueError: Detour 'sports' needs at least one term or pattern")
               for line in result.stdout.lines), out
    assert out.count("Traceback") == 0 and "pytest_reasoning/explain" not in out, out
    assert scripted.prompts() == []


FAILING = """
import pytest
from pytest_reasoning import Detour, assert_no_detour

pytestmark = pytest.mark.reasoning(backend="vllm", model="served")
SPORTS = Detour("sports", terms=["NFL", "Cowboys"])

def test_sample(reasoning_model):
    assert_no_detour(reasoning_model.sample({prompt!r}, 16, seed=0), SPORTS, max_rate=0.1)

def test_trace(reasoning_model):
    assert_no_detour(reasoning_model({prompt!r}, seed=1), SPORTS)

@pytest.mark.xfail(strict=True, reason="the clause brings the detour")
def test_expected(reasoning_model):
    assert_no_detour(reasoning_model({prompt!r}, seed=2), SPORTS)
"""
KEEP_DATA = """
import json

def pytest_runtest_logreport(report):
    data = report.__dict__.get("reasoning")
    if report.when == "call" and data is not None:
        name = report.nodeid.split("::")[-1]
        with open(name + ".json", "w", encoding="utf-8") as f:
            json.dump({"data": data, "sections": dict(report.sections)}, f)
"""


def test_reasoning_explain_explains_each_detour_failure(pytester, scripted):
    pytester.makepyfile(test_fail=FAILING.format(prompt=PRECISE))
    pytester.makeconftest(KEEP_DATA)
    result = pytester.runpytest(*options(scripted, "new_episodes"), "--reasoning-explain", "--reasoning-samples=16")
    result.assert_outcomes(failed=2, xfailed=1)
    top = f'E         * "{CLAUSE}": 12/16 with it, 0/16 without it: +75 pp (95% CI'
    assert sum(line.startswith(top) for line in result.stdout.lines) == 2, result.stdout.str()
    result.stdout.fnmatch_lines(["E       AssertionError: samples that took 'sports': 12/16 = 75%*",
                                 "E         why the 'sports' detour: taken in 12/16 = 75%*",
                                 "*- Captured reasoning explanation call -*"])
    for name in ("test_sample", "test_trace"):
        kept = json.loads((pytester.path / f"{name}.json").read_text(encoding="utf-8"))
        (why,) = kept["data"]["explanations"]
        assert why["causes"] == [2, 3] and why["prompt"] == PRECISE  # no answer given: the city counts too
        assert kept["sections"]["Captured reasoning explanation call"].startswith("why the 'sports' detour")
    sample = json.loads((pytester.path / "test_sample.json").read_text(encoding="utf-8"))["data"]
    assert len(sample["samples"]) == 1 and sample["traces"] == []  # the explanation's traces are not listed
    html, markdown = pytester.path / "r.html", pytester.path / "r.md"
    replay = pytester.runpytest(*options(None, "none"), "--reasoning-explain", "--reasoning-samples=16",
                                f"--reasoning-html={html}", f"--reasoning-report={markdown}")
    assert html.read_text(encoding="utf-8").count('class="span-effect"') == 3 * 4  # three explained prompts
    report = markdown.read_text(encoding="utf-8")
    assert "### Explained detours (3)" in report
    assert f"🟥**{CLAUSE}**" in report  # the prompt, each span marked by its effect
    assert sum(line.startswith(f"| 🟥 {CLAUSE} | 12/16 = 75.0% [") and line.endswith("| **cause** |")
               for line in report.splitlines()) == 3, report
    # the terminal's section, after the failures and before the short summary (which, under $CI,
    # pytest prints untruncated: the failure messages' explanations again)
    section = replay.stdout.str().split("reasoning samples")[1].split("short test summary info")[0]
    assert section.count("why the 'sports' detour: taken in 12/16 = 75%") == 3
    assert section.count(f'  * "{CLAUSE}": 12/16 with it, 0/16 without it: +75 pp') == 3


def test_an_explanation_that_cannot_replay_leaves_a_note_and_the_outcome(pytester, scripted):
    pytester.makepyfile(test_fail=FAILING.format(prompt=PRECISE))
    pytester.runpytest(*options(scripted, "new_episodes")).assert_outcomes(failed=2, xfailed=1)
    asked = len(scripted.prompts())
    assert asked == 16 + 1 + 1  # without the switch nothing more is asked

    result = pytester.runpytest(*options(None, "none"), "--reasoning-explain", "--reasoning-samples=16")
    result.assert_outcomes(failed=2, xfailed=1)  # the strict xfail is still the detour it expects
    result.stdout.fnmatch_lines(["E         not explained (its samples are recorded with --reasoning-explain too): "
                                 "no recording for this vllm/served request in *"])
    assert "reasoning took the 'sports' detour" in result.stdout.str()
