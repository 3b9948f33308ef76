"""What a snapshot mismatch shows within pytest's default truncation: where two
prompts differ (not their shared beginning), the added and removed sentences, and a
one-line repr of the ``trace_snapshot`` fixture."""

import textwrap

from pytest_reasoning.diff import _pair, summarize
from pytest_reasoning.snapshots import serialize_trace
from pytest_reasoning.snapshots.schema import TraceSnapshot
from pytest_reasoning import Trace

PLAIN = "In the United States, what is the capital of the state that contains Dallas?"
PRECISE = "In the United States, what is the capital of the state that contains Dallas, a big city of about 1.3 million people?"


def test_two_prompts_are_cut_to_where_they_differ():
    assert _pair(PLAIN, PRECISE) == "'…that contains Dallas?' -> '…that contains Dallas, a big city of about 1.3 million people?'"
    assert _pair("abc", "abd") == "'abc' -> 'abd'"
    assert _pair("a shared beginning of some length, then other words",
                 "a shared beginning of some length, then another ending") == "'…f some length, then other words' -> '…f some length, then another ending'"
    assert _pair(1, 2) == "1 -> 2"


def test_the_summary_names_the_clause_and_the_added_sentences_first():
    old = Trace(messages=[{"role": "user", "content": PLAIN}], reasoning="Dallas is in Texas. Austin.", answer="Austin")
    new = Trace(messages=[{"role": "user", "content": PRECISE}],
                reasoning="Dallas is in Texas. The Cowboys are an NFL team. Austin.", answer="Austin")
    lines = summarize(TraceSnapshot.from_json(serialize_trace(old)), TraceSnapshot.from_json(serialize_trace(new)))
    assert lines[0].startswith("prompt changed") and "a big city of about 1.3 million people" in lines[0]
    assert lines[1] == "sentences changed: 1 added, 0 removed (of 2 -> 3)"
    assert lines[2] == "  + The Cowboys are an NFL team."


def test_default_output_shows_the_clause_the_sentence_and_a_short_fixture(pytester, monkeypatch):
    pytester.makepyfile(test_x=textwrap.dedent(f'''
        import os
        from pytest_reasoning import Trace

        def test_a(trace_snapshot):
            precise = os.environ.get("PRECISE") == "1"
            prompt = {PRECISE!r} if precise else {PLAIN!r}
            reasoning = "Dallas is in Texas. " + ("The Cowboys are an NFL team. " if precise else "") + "Austin."
            assert Trace(messages=[{{"role": "user", "content": prompt}}], reasoning=reasoning, answer="Austin") == trace_snapshot
    '''))
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    monkeypatch.setenv("PRECISE", "1")
    result = pytester.runpytest()  # no -v: pytest's default truncation
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "a big city of about 1.3 million people" in out
    assert "+ The Cowboys are an NFL team." in out
    result.stdout.fnmatch_lines(["trace_snapshot = <trace snapshot snapshots/test_x/test_a.json>"])
