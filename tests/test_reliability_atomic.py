"""Reliability: interrupted writes never leave a truncated cassette or snapshot.

A writer process records many cassette entries and writes snapshots in a loop, the way
a recording session does (the whole cassette rewritten at each test's teardown), and is
killed with SIGKILL at random moments; after each kill every cassette and snapshot on
disk must parse and a replay of the suite must pass.  A ``KeyboardInterrupt`` at each
step of :func:`atomic_write_text` leaves the old content and no temporary file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pytest_reasoning import files
from pytest_reasoning.backends import RawResponse, Request
from pytest_reasoning.files import atomic_write_text
from pytest_reasoning.recording import Cassette

N = 30

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pytest_reasoning.backends import RawResponse, Request, to_trace
    from pytest_reasoning.files import atomic_write_text
    from pytest_reasoning.recording import Cassette
    from pytest_reasoning.snapshots import serialize_trace, snapshot_path_for

    root, n = Path(sys.argv[1]), int(sys.argv[2])
    test_file = root / "test_many.py"
    reasoning = "ダラスはテキサス州の都市です。" * 150  # ~2 KB a recording: a long write

    def body(i):
        return {"id": "c", "object": "chat.completion", "created": 1, "model": "served",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": f"answer {i}",
                                         "reasoning_content": reasoning}}]}

    requests = [Request("vllm", "served", ({"role": "user", "content": f"prompt {i}"},), {}, {}) for i in range(n)]
    raws = [RawResponse("openai.chat.completion", body(i), 0.5, "v") for i in range(n)]
    print("ready", flush=True)
    while True:
        cassette = Cassette(root / "cassettes" / "test_many.json")
        for i in range(n):
            cassette.record(requests[i], raws[i])
            cassette.save()  # as each test's teardown does
            trace = to_trace(requests[i], raws[i])
            trace.snapshot_path = None
            atomic_write_text(snapshot_path_for(root, test_file, f"test_{i}"), serialize_trace(trace))
    """
)

INNER = "\n".join(
    f"def test_{i}(reasoning_model, trace_snapshot):\n"
    f"    assert reasoning_model('prompt {i}') == trace_snapshot\n"
    for i in range(N)
)


def _all_parse(root):
    checked = 0
    for path in root.rglob("*.json"):
        json.loads(path.read_text("utf-8"))  # raises on a truncated file
        checked += 1
    if (root / "cassettes" / "test_many.json").exists():
        Cassette(root / "cassettes" / "test_many.json").interactions  # raises CassetteError
    return checked


def test_sigkill_at_random_moments_never_leaves_a_truncated_file(pytester):
    pytester.makeini("[pytest]\nreasoning_backend = vllm\nreasoning_model = served\n")
    pytester.makepyfile(test_many=INNER)
    rng = random.Random(20240229)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(pytester.path), str(N)], stdout=subprocess.PIPE,
                                env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.02, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += proc.returncode == -signal.SIGKILL
        _all_parse(pytester.path)
    assert kills == 6
    # a kill may leave a temporary file (.<name>.<random>.tmp): never read as a
    # cassette or a snapshot, and ignored by git (*.tmp)
    assert all(p.name.startswith(".") and p.name.endswith(".tmp")
               for p in pytester.path.rglob("*") if p.is_file() and p.suffix not in (".json", ".py", ".ini"))
    assert _all_parse(pytester.path) >= 2
    # what was left replays: every test whose recording and snapshot were written passes
    result = pytester.runpytest("-q", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and "error" not in outcomes and "errors" not in outcomes
    assert "is corrupt" not in result.stdout.str() and "unused" not in result.stdout.str()


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_keyboard_interrupt_during_atomic_write_keeps_the_old_file(tmp_path, monkeypatch, step):
    path = tmp_path / "cassettes" / "c.json"
    atomic_write_text(path, '{"old": true}\n')

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if step == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, text):
                self.f.write(text[: len(text) // 2])
                self.f.flush()
                raise KeyboardInterrupt

        monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(files.os, step, interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, json.dumps({"new": "x" * 100_000}))
    monkeypatch.undo()
    assert path.read_text("utf-8") == '{"old": true}\n'
    assert [p.name for p in path.parent.iterdir()] == ["c.json"]


def test_keyboard_interrupt_during_cassette_save_keeps_it_and_releases_the_lock(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    request = Request("vllm", "m", ({"role": "user", "content": "q"},), {})
    cassette = Cassette(path)
    cassette.record(request, RawResponse("openai.chat.completion", {"choices": []}))
    cassette.save()
    before = path.read_bytes()
    other = Cassette(path)
    other.record(Request("vllm", "m", ({"role": "user", "content": "q2"},), {}),
                 RawResponse("openai.chat.completion", {"choices": []}))
    monkeypatch.setattr(files.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        other.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    other.save()  # the folder lock was released: a second save goes through
    assert len(Cassette(path).interactions) == 2
