"""A stream that stalls fails after the idle limit between chunks
(``stream_idle_timeout``), not after the whole ``--reasoning-timeout``, and the message
says which limit was hit.

The server is a raw socket: it sends the headers and two SSE chunks, then stops sending
but keeps the connection open (what pytest-httpserver cannot do)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pytest_reasoning.backends import BackendError, Request
from pytest_reasoning.backends.openai_api import OpenAIBackend
from wire import sse, stream_chunks

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
#: How long the server stays silent: far above the limits tested (0.5 s), so that a
#: loaded machine (imports, a parallel worker) cannot blur which one ended the stream.
STALL_S = 30.0

pytest.importorskip("openai")  # imported before any timing starts


def _chunked(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class StallingServer:
    """Answers each connection with the headers and ``chunks`` SSE chunks, then keeps
    the connection open and silent for :data:`STALL_S` seconds."""

    def __init__(self, chunks: int):
        self.body = b"".join(_chunked(sse([c], done=False)) for c in
                             stream_chunks(["Dallas is ", "in Texas. "], [], finish_reason=None)[1:1 + chunks])
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.stopped = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

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
            conn.sendall(HEADERS + self.body)
            self.stopped.wait(STALL_S)  # silent, connection open
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def stalling():
    servers = []

    def start(chunks):
        servers.append(StallingServer(chunks))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _run(url, **kw):
    backend = OpenAIBackend("vllm", "m", base_url=url, max_retries=0, **kw)
    messages = ({"role": "user", "content": "capital of the state with Dallas?"},)
    request = Request("vllm", "m", messages, {"stream": True})
    start = time.perf_counter()
    with pytest.raises(BackendError) as info:
        backend.run([request])
    return str(info.value), time.perf_counter() - start


def test_two_chunks_then_silence_fails_after_the_idle_limit(stalling):
    server = stalling(2)
    message, elapsed = _run(server.url, timeout=600, stream_idle_timeout=0.5)
    assert elapsed < STALL_S - 1  # the idle limit ended it, not the server nor the 600 s
    assert "stopped after 2 chunks (timed out: no data for 0.5 s between chunks, the stream idle limit; " \
           "raise --reasoning-stream-idle-timeout" in message
    assert "nothing was recorded" in message and "--reasoning-timeout" not in message
    assert server.connections == 1  # a started stream is not sent again


def test_silence_before_the_first_chunk_names_the_idle_limit(stalling):
    server = stalling(0)
    message, elapsed = _run(server.url, timeout=600, stream_idle_timeout=0.5)
    assert elapsed < STALL_S - 1
    assert "sent no stream data within 0.5 s, the stream idle limit; raise --reasoning-stream-idle-timeout" in message


def test_when_the_total_is_shorter_the_message_names_the_total(stalling):
    server = stalling(2)
    message, elapsed = _run(server.url, timeout=0.5, stream_idle_timeout=60)
    assert elapsed < STALL_S - 1
    assert "no data for 0.5 s; raise --reasoning-timeout" in message and "idle" not in message


INNER = """
def test_call(reasoning_model):
    reasoning_model("capital of the state with Dallas?", stream=True)
"""


def test_the_setting_through_the_plugin(pytester, stalling, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_API_KEY", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    server = stalling(2)
    pytester.makepyfile(test_idle=INNER)
    args = ["--reasoning-backend=vllm", "--reasoning-model=m", f"--reasoning-base-url={server.url}",
            "--reasoning-max-retries=0", "--reasoning-record-mode=off"]
    start = time.perf_counter()
    result = pytester.runpytest(*args, "--reasoning-stream-idle-timeout=0.5")
    assert time.perf_counter() - start < STALL_S + 3
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no data for 0.5 s between chunks, the stream idle limit*"])
    bad = pytester.runpytest(*args, "--reasoning-stream-idle-timeout=0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*invalid --reasoning-stream-idle-timeout '0': must be > 0*"])
