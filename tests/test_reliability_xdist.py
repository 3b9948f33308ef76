"""Reliability under pytest-xdist: ``-n 4`` writes the same cassettes and snapshots as
``-n 0``, byte for byte, and ``--snapshot-update`` never deletes a snapshot that a test
on another worker (or a deselected test) still uses.

Real ``python -m pytest`` subprocesses in temporary projects, recording from a local
pytest-httpserver that answers each prompt the same way every time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug import Response

from wire import chunk, completion, sse

FILES = 3
TESTS = 8


def _test_file(index: int, tests: int = TESTS) -> str:
    body = ["import pytest", ""]
    for n in range(tests):
        stream = "True" if n % 3 == 0 else "False"
        body += [
            f"def test_{n}(reasoning_model, trace_snapshot):",
            f"    trace = reasoning_model('file {index} prompt {n}', temperature=0.6, stream={stream})",
            f"    assert trace.answer == 'answer to file {index} prompt {n}'",
            "    assert trace == trace_snapshot",
            "",
        ]
    return "\n".join(body)


def _serve(httpserver):
    def handler(request):
        body = request.get_json()
        prompt = body["messages"][-1]["content"]
        reasoning, answer = f"Thinking about {prompt}. Done.", f"answer to {prompt}"
        if body.get("stream"):
            chunks = [chunk({"role": "assistant", "reasoning_content": reasoning[:9]}, model="served"),
                      chunk({"reasoning_content": reasoning[9:]}, model="served"),
                      chunk({"content": answer}, model="served"),
                      chunk({}, finish_reason="stop", model="served")]
            return Response(sse(chunks), content_type="text/event-stream")
        return Response(json.dumps(completion({"content": answer, "reasoning_content": reasoning}, model="served")),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)


def _project(root: Path, files: int = FILES, tests: int = TESTS) -> Path:
    (root / "suite").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nreasoning_backend = vllm\nreasoning_model = served\n", encoding="utf-8")
    for i in range(files):
        (root / "suite" / f"test_file{i}.py").write_text(_test_file(i, tests), encoding="utf-8")
    return root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENAI_", "VLLM_"))}
    # only the plugins these runs use, so that four workers start in a second, not five
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return env


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    plugins = ["-p", "xdist.plugin", "-p", "syrupy", "-p", "pytest_reasoning.plugin"]
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plugins, *args],
                          cwd=root, env=_env(), capture_output=True, text=True, timeout=120)


def _written(root: Path) -> dict[str, bytes]:
    """Every cassette and snapshot, with the measured ``latency_s`` (wall-clock, so it
    differs from run to run whatever the worker count) blanked out."""
    out = {}
    for path in sorted([*root.rglob("cassettes/*"), *root.rglob("snapshots/**/*")]):
        if path.is_file():
            out[str(path.relative_to(root))] = re.sub(rb'"latency_s": [0-9.e-]+', b'"latency_s": 0', path.read_bytes())
    return out


def _outcome(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr


@pytest.fixture
def two_projects(tmp_path, httpserver):
    _serve(httpserver)
    url = f"--reasoning-base-url={httpserver.url_for('/v1')}"
    return _project(tmp_path / "serial"), _project(tmp_path / "parallel"), url, httpserver


def test_recording_and_snapshot_update_with_n4_write_what_n0_writes(two_projects):
    serial, parallel, url, server = two_projects
    total = FILES * TESTS
    common = [url, "--reasoning-max-retries=0", "--snapshot-update"]

    one = _run(serial, "-n", "0", "--reasoning-record-mode=once", *common)
    assert one.returncode == 0, one.stdout[-3000:]
    assert len(server.log) == total
    server.clear_log()
    four = _run(parallel, "-n", "4", "--reasoning-record-mode=once", *common)
    assert four.returncode == 0, four.stdout[-3000:]
    assert f"{total} passed" in _outcome(four)
    # each test called the model once: no worker skipped recording because another
    # worker had already written the file's cassette, none called for others' tests
    assert len(server.log) == total
    written = _written(serial)
    assert len([p for p in written if p.startswith("suite/snapshots") or p.startswith("snapshots")]) == total
    assert len([p for p in written if "cassettes" in p]) == FILES
    assert _written(parallel) == written

    # new_episodes: a new test in every file, the rest replayed
    for root in (serial, parallel):
        for i in range(FILES):
            (root / "suite" / f"test_file{i}.py").write_text(_test_file(i, TESTS + 1), encoding="utf-8")
    server.clear_log()
    one = _run(serial, "-n", "0", "--reasoning-record-mode=new_episodes", *common)
    assert one.returncode == 0, one.stdout[-3000:]
    four = _run(parallel, "-n", "4", "--reasoning-record-mode=new_episodes", *common)
    assert four.returncode == 0, four.stdout[-3000:]
    assert len(server.log) == 2 * FILES
    assert _written(parallel) == _written(serial)
    assert all(len(json.loads(data)["interactions"]) == TESTS + 1
               for path, data in _written(parallel).items() if "cassettes" in path)

    # all: every test calls the model once, as with -n 0; the session-wide gathering
    # ahead of time is off in workers (each would have called for every test of the suite)
    server.clear_log()
    four = _run(parallel, "-n", "4", "--reasoning-record-mode=all", url, "--reasoning-max-retries=0")
    assert four.returncode == 0, four.stdout[-3000:]
    assert len(server.log) == FILES * (TESTS + 1)
    assert _written(parallel) == _written(serial)


def test_snapshot_update_with_n4_deletes_nothing_in_use(tmp_path):
    """syrupy's xdist trap: a worker sees only its own tests' snapshots used; the
    update must still not delete the snapshots other workers (or -k) did not touch."""
    root = _project(tmp_path / "p")
    # record the cassettes and snapshots once, serially, from a canned server
    from pytest_httpserver import HTTPServer

    server = HTTPServer()
    server.start()
    try:
        _serve(server)
        first = _run(root, "-n", "0", f"--reasoning-base-url={server.url_for('/v1')}", "--reasoning-record-mode=once",
                     "--snapshot-update")
        assert first.returncode == 0, first.stdout[-3000:]
    finally:
        server.clear()
        server.stop()
    before = _written(root)
    assert len(before) == FILES * TESTS + FILES

    for args in (["-n", "4"], ["-n", "4", "-k", "test_1 or test_5"], ["-n", "4", "suite/test_file1.py"],
                 ["-n", "4", "suite/test_file2.py::test_3"],
                 # not only xdist: a test id given on the command line used to make syrupy
                 # delete the file's other snapshots (it looked for the test's folder inside
                 # the snapshot's path, which the mirrored snapshots/ tree does not hold)
                 ["-n", "0", "suite/test_file2.py::test_3", "suite/test_file0.py::test_1"]):
        result = _run(root, *args, "--snapshot-update")  # replay only: no server needed
        assert result.returncode == 0, (args, result.stdout[-3000:])
        assert "deleted" not in result.stdout, (args, result.stdout[-3000:])
        assert _written(root) == before, args

    # a snapshot really unused is still found and deleted under -n 4
    stray = root / "snapshots" / "suite" / "test_file0" / "test_gone.json"
    shutil.copy(root / "snapshots" / "suite" / "test_file0" / "test_0.json", stray)
    result = _run(root, "-n", "4", "--snapshot-update")
    assert "1 unused snapshot deleted" in result.stdout, result.stdout[-3000:]
    assert not stray.exists() and _written(root) == before
