"""Reliability: network faults, end to end through the ``reasoning_model`` fixture.

``tests/test_openai_backend.py`` covers each fault at the backend level (429 then
success, persistent 500/429, refused connection, a slow answer, malformed JSON, an SSE
stream ending cleanly before a finish_reason).  Here each fault goes through a pytester
run recording with ``--reasoning-record-mode=new_episodes`` into a cassette that
already holds another recording, and each test checks: how many requests the server
got (1 + ``--reasoning-max-retries`` where the client retries), a one-line failure
that says what happened, no traceback, and the cassette byte for byte unchanged (a
failed or partial call is never recorded).  The faults the backend tests cannot make
with pytest-httpserver (a reset connection, a stream that stalls or is cut in the
middle of the HTTP body) come from a raw socket server.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from pytest_reasoning.backends import RawResponse, Request
from pytest_reasoning.recording import Cassette
from wire import chunk, completion, sse, stream_chunks

RETRIES = 2
INNER = """
def test_call(reasoning_model):
    trace = reasoning_model("what is the capital of Texas?", STREAM)
    assert trace.answer == "Austin"
"""


class RawServer:
    """A TCP server doing one scripted thing per connection; counts connections."""

    def __init__(self, behaviour):
        self.behaviour, self.connections = behaviour, 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            # Read the whole body too: closing a socket with unread data sends a reset
            # instead of the clean end of stream a test may be about.
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()


def reset(conn):
    """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def _chunked(text):
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
FIRST = sse(stream_chunks(["Dallas is ", "in Texas. "], [], finish_reason=None), done=False)


def stall(conn):
    """Some SSE chunks, then silence past the client's timeout."""
    conn.sendall(HEADERS + _chunked(FIRST))
    time.sleep(2.5)


def endless(conn):
    """A stream that never ends: a reasoning chunk every 0.1 s, never a finish_reason."""
    conn.sendall(HEADERS)
    for _ in range(100):
        conn.sendall(_chunked(sse(stream_chunks(["hmm, "], [], finish_reason=None)[1:2], done=False)))
        time.sleep(0.1)


def cut(conn):
    """Some SSE chunks, then the connection drops in the middle of the chunked body."""
    conn.sendall(HEADERS + _chunked(FIRST) + b"40\r\ndata: {\"choi")


@pytest.fixture
def project(pytester, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = pytester.path / "cassettes" / "test_net.json"
    other = Cassette(path)
    other.record(Request("vllm", "served", ({"role": "user", "content": "another prompt"},), {}),
                 RawResponse("openai.chat.completion", completion({"content": "other"})))
    other.save()
    before = path.read_bytes()

    def run(url, stream=False, timeout=5, retries=RETRIES):
        pytester.makepyfile(test_net=INNER.replace("STREAM", f"stream={stream}"))
        result = pytester.runpytest("--reasoning-backend=vllm", "--reasoning-model=served",
                                    f"--reasoning-base-url={url}", f"--reasoning-max-retries={retries}",
                                    f"--reasoning-timeout={timeout}", "--reasoning-record-mode=new_episodes")
        return result

    def unchanged():
        return path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == ["test_net.json"]

    run.cassette = path
    return run, unchanged


def _one_failure_line(result, *fragments):
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "Traceback" not in out and "During handling" not in out, out
    assert "site-packages" not in out and "openai_api.py" not in out, out
    lines = [line for line in result.stdout.lines if all(f in line for f in fragments)]
    assert lines, out
    return lines[0]


def test_429_with_retry_after_then_success_is_recorded(project, httpserver):
    run, unchanged = project
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0.05"})
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        completion({"content": "Austin", "reasoning_content": "Texas."}, model="served"))
    result = run(httpserver.url_for("/v1"))
    result.assert_outcomes(passed=1)
    assert [r.status_code for _, r in httpserver.log] == [429, 200]
    assert not unchanged()
    recorded = json.loads(run.cassette.read_text("utf-8"))["interactions"]
    assert sorted(e["response"]["payload"]["choices"][0]["message"]["content"] for e in recorded) == ["Austin", "other"]


@pytest.mark.parametrize("status", [500, 503])
def test_persistent_5xx_retries_then_one_line_and_nothing_recorded(project, httpserver, status):
    run, unchanged = project
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "engine overloaded"}}, status=status, headers={"Retry-After": "0.01"})
    result = run(httpserver.url_for("/v1"))
    assert len(httpserver.log) == 1 + RETRIES
    _one_failure_line(result, f"answered HTTP {status} after {RETRIES} retries", "engine overloaded")
    assert unchanged()


def test_connection_reset_retries_then_one_line_and_nothing_recorded(project):
    run, unchanged = project
    server = RawServer(reset)
    try:
        result = run(server.url, retries=1)  # no Retry-After: the client backs off ~0.5 s
    finally:
        server.stop()
    assert server.connections == 1 + 1
    _one_failure_line(result, f"cannot reach the vllm server at {server.url} ([Errno 104] Connection reset by peer)")
    assert unchanged()


def silent(conn):
    """Reads the request, never answers."""
    time.sleep(1.5)


def test_no_answer_times_out_after_retries_then_one_line_and_nothing_recorded(project):
    run, unchanged = project
    server = RawServer(silent)
    try:
        result = run(server.url, timeout=0.3, retries=1)
    finally:
        server.stop()
    assert server.connections == 1 + 1
    _one_failure_line(result, f"the vllm server at {server.url} did not answer within 0.3 s; raise --reasoning-timeout")
    assert unchanged()


@pytest.mark.parametrize(
    ("behaviour", "timeout", "fragments"),
    [
        pytest.param(stall, 0.5, ["stopped after 3 chunks (timed out: no data for 0.5 s; raise --reasoning-timeout"],
                     id="stalls"),
        pytest.param(cut, 5, ["stopped after 3 chunks (connection lost: peer closed connection without sending "
                              "complete message body"], id="cut-mid-body"),
        pytest.param(endless, 0.8, ["stream from", "was still running after 0.8 s", "raise --reasoning-timeout"],
                     id="never-ends"),
    ],
)
def test_stream_broken_midway_is_one_line_and_nothing_recorded(project, behaviour, timeout, fragments):
    run, unchanged = project
    server = RawServer(behaviour)
    try:
        start = time.perf_counter()
        result = run(server.url, stream=True, timeout=timeout)
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    # a response had started: the client does not retry (it would re-send a prompt
    # that may already be billed); the failure says so
    assert server.connections == 1
    line = _one_failure_line(result, *fragments)
    assert "nothing was recorded" in line
    assert elapsed < 10  # the timeout ended it: the server alone would go on for ever (bound loose for busy machines)
    assert unchanged()


def test_sse_stream_ending_cleanly_before_done_and_finish_reason(project, httpserver):
    run, unchanged = project
    httpserver.expect_request("/v1/chat/completions").respond_with_data(FIRST, content_type="text/event-stream")
    result = run(httpserver.url_for("/v1"), stream=True)
    assert len(httpserver.log) == 1
    _one_failure_line(result, "ended before a finish_reason (3 chunks; connection cut?); nothing was recorded")
    assert unchanged()


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        ("{not json", "application/json", "sent a malformed response"),
        (sse([chunk({"reasoning_content": "Dallas"})], done=False) + "data: {not json\n\n", "text/event-stream",
         "sent a malformed response"),
        ("<html>502 Bad Gateway</html>", "text/html", "sent a malformed response (not JSON): <html>502 Bad Gateway"),
        ('{"detail": "queue full"}', "application/json", "answered without choices: {'detail': 'queue full'}"),
        ("<html>502 Bad Gateway</html>", "text/html; stream", "answered the streamed request with no stream events "
                                                               "(not an event stream: is the base URL that of the API?)"),
    ],
    ids=["json", "sse-line", "html", "no-choices", "html-to-a-stream"],
)
def test_malformed_body_is_one_line_and_nothing_recorded(project, httpserver, body, content_type, fragment):
    run, unchanged = project
    streamed = content_type.endswith("stream")
    content_type = content_type.removesuffix("; stream")
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type=content_type)
    result = run(httpserver.url_for("/v1"), stream=streamed)
    assert len(httpserver.log) == 1  # a 200 is not retried
    _one_failure_line(result, fragment)
    assert unchanged()


@pytest.mark.parametrize("where", ["env", "ini", "default"])
def test_an_unreachable_server_names_where_its_url_came_from(pytester, monkeypatch, where):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    pytester.makepyfile(test_net=INNER.replace("STREAM", "stream=False"))
    if where == "env":
        monkeypatch.setenv("VLLM_BASE_URL", url)
    elif where == "ini":
        pytester.makeini(f"[pytest]\nreasoning_base_url = {url}\n")
    result = pytester.runpytest("--reasoning-backend=vllm", "--reasoning-model=served", "--reasoning-max-retries=0",
                                "--reasoning-timeout=5", "--reasoning-record-mode=new_episodes")
    fix = {"env": "check $VLLM_BASE_URL or set --reasoning-base-url", "ini": "check --reasoning-base-url",
           "default": "set --reasoning-base-url or $VLLM_BASE_URL"}[where]
    _one_failure_line(result, "cannot reach the vllm server at", f"is it running? {fix}")
