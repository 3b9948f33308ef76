"""The Markdown report: written at the session's end (by the controller under
pytest-xdist), appended to ``$GITHUB_STEP_SUMMARY``, what changed first, the plain vs
precise comparison, and always within a pull request comment's 65,536 characters."""

from __future__ import annotations

import copy

import pytest

from pytest_reasoning.reports.markdown import LIMIT, Block, fit, render_markdown
from test_report_data import make_project


def _report(pytester, *args: str, xdist: bool = False) -> str:
    if xdist:  # only the plugins the run needs, so that the workers start fast
        plugins = ["-p", "xdist.plugin", "-p", "syrupy", "-p", "pytest_reasoning.plugin", "-n", "2"]
        result = pytester.runpytest_subprocess(*plugins, "--reasoning-report=out/r.md", *args)
    else:
        result = pytester.runpytest("-p", "no:randomly", "--reasoning-report=out/r.md", *args)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["reasoning: 14 traces (0 live, 14 replayed, 0 recorded), 588 tokens, "
                                 "0.0 s in live model calls; wrote out/r.md"])
    return (pytester.path / "out" / "r.md").read_text(encoding="utf-8")


def test_markdown_report(pytester, monkeypatch):
    make_project(pytester)
    summary = pytester.path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = _report(pytester)

    assert text.startswith("## Reasoning report: ")
    assert "**✅ 2 passed · ❌ 1 failed**" in text.splitlines()[2]
    # the changed snapshot comes first: what changed, then the changed sentences
    changed = text.index("### Changed snapshots (1)")
    assert changed < text.index("### Side by side") < text.index("### Tests (3)") < text.index("### Samples (2;")
    assert "**`test_capital.py::test_capital[precise]`** — `snapshots/test_capital/test_capital[precise].json` (mismatch)" in text
    assert "  - detour 'sports' added (2 hits)" in text
    assert "```diff\n+ The Dallas Cowboys play in the NFL.\n+ Wait, that does not matter.\n```" in text
    # the parametrized test side by side, verdicts that differ first, the clause in bold
    assert "#### `test_capital.py::test_capital` — prompt: plain vs precise" in text
    table = text[text.index("| | plain | precise |"):]
    assert table.splitlines()[2].startswith("| **outcome** | passed | failed |")
    assert "| **detour: sports** | not taken | taken (2 hits) |" in table
    assert "contains Dallas**, a big city of about 1.3 million people**?" in table
    # each test, and each sample's rates with intervals
    assert "| `test_capital.py::test_capital[plain]` | ✅ passed | Austin | sports: — | ✅ |" in text
    assert "❌ failed: " in text
    assert "| detour rate sports | 0/6 = 0.0% [0.0%–39.0%] | |" in text
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + text + "\n"


def test_markdown_report_under_xdist_is_written_once_by_the_controller(pytester, monkeypatch):
    make_project(pytester)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    serial = _report(pytester)
    (pytester.path / "out" / "r.md").unlink()
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    parallel = _report(pytester, xdist=True)
    strip = lambda t: "\n".join(line for line in t.splitlines() if "❌ failed: " not in line)  # noqa: E731
    assert strip(parallel) == strip(serial)


def test_a_report_without_a_writable_folder_says_so(pytester):
    pytester.makepyfile("def test_x(): pass")
    (pytester.path / "file").write_text("", encoding="utf-8")
    pytester.makepyfile(test_m="def test_y(reasoning_model): pass")
    result = pytester.runpytest("--reasoning-report=file/r.md", "--reasoning-backend=deepseek",
                                "--reasoning-model=m")
    result.stdout.fnmatch_lines(["pytest-reasoning: could not write */file/r.md: *; check the folder exists and is writable"])


def test_fit_cuts_between_rows_and_says_what_was_left_out():
    blocks = [Block(["# head"]), Block(["| a |", "|---|"], [f"| row {i} |" for i in range(1000)]),
              Block(["never shown"])]
    text = fit(blocks, 2000)
    assert len(text) <= 2000
    assert text.startswith("# head\n\n| a |\n|---|\n| row 0 |\n")
    last_row = [line for line in text.splitlines() if line.startswith("| row")][-1]
    assert text.splitlines()[text.splitlines().index(last_row) + 1] == ""  # the table ends on a whole row
    assert "✂️ **Cut to fit a pull request comment**" in text and "(2 parts)" in text
    assert "never shown" not in text


def test_a_huge_session_fits_a_comment_and_folds_long_parts():
    from test_report_data import CALM, DETOUR  # noqa: F401  (the sentences the entries below hold)

    sentence = {"text": "The Dallas Cowboys play in the NFL.", "marks": [[10, 17, "detour", "sports"]]}
    trace = {"model": "m", "backend": "deepseek", "adapter": None, "prompt": "p" * 400, "answer": "Austin " * 40,
             "checks": {"detours": {"sports": 2}, "path": {"Dallas -> Texas -> Austin": True}},
             "reasoning_chars": 9000, "reasoning_sentences": 300, "reasoning_tokens": None, "hesitations": 4,
             "sentences": [sentence] * 300, "snapshot": "snapshots/x.json"}
    change = {"snapshot": "snapshots/x.json", "status": "mismatch", "kind": "trace",
              "summary": ["What changed in the trace:", "  - detour 'sports' added (2 hits)"],
              "added": [[i, "The Dallas Cowboys play in the NFL. " * 3] for i in range(60)], "removed": [], "more": 40}
    entries = []
    for i in range(400):
        data = {"traces": [copy.deepcopy(trace)], "snapshot_changes": [change], "file": "test_big.py",
                "function": "test_big", "params": {"prompt": f"p{i % 2}", "case": str(i // 2)},
                "calls": {"live": 0, "replayed": 1, "recorded": 0, "seconds": 0.0, "tokens": None}}
        entries.append({"nodeid": f"test_big.py::test_big[p{i % 2}-{i // 2}]", "outcome": "failed",
                        "message": "x" * 500, "duration": 0.1, "data": data})
    text = render_markdown(entries, "Reasoning report: big")
    assert len(text) <= LIMIT < 65_536
    assert "<details><summary>Changed sentences: 60 added, 0 removed</summary>" in text  # long parts folded
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0
    assert text.rstrip().endswith("HTML report).")


@pytest.mark.parametrize("limit", [500, 5000, 20000])
def test_the_limit_holds_for_any_budget(limit):
    blocks = [Block(["# title"]), Block(["```text"], ["line"] * 2000, ["```"]), Block(["tail"])]
    text = fit(blocks, limit)
    assert len(text) <= limit and text.count("```") % 2 == 0


def test_a_span_is_shaded_by_its_effect_on_the_detour_rate():
    from pytest_reasoning.reports.markdown import shade

    edges = {0.69: "🟥", 0.5: "🟥", 0.49: "🟧", 0.2: "🟧", 0.05: "🟨", 0.049: "⬜", 0.0: "⬜", -0.05: "⬜", -0.06: "🟦"}
    assert {d: shade(d) for d in edges} == edges
    assert shade(None) == "▫️"  # not left out on its own
