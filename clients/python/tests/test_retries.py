"""The client's retries against a real server: a refusal that says when to come back (RESOURCE_EXHAUSTED with a
retry delay, the server busy) is waited out and asked again; one that asking again cannot change (RESOURCE_EXHAUSTED
with a pushback of -1, such as a history over the limit) is raised after one attempt."""

from __future__ import annotations

import concurrent.futures
import json
import re
import socket
import struct
import time
import urllib.request

import pytest

from vmpilot_conversation_store import ConversationClient, ConversationStoreError
from vmpilot_conversation_store.stubs import SERVICE_NAME, pb

_METRICS = re.compile(r" metrics=(http://\S+)")


def _metrics_url(server) -> str:
    match = _METRICS.search(server.output())
    assert match, f"no metrics address in the server's output:\n{server.output()}"
    return match.group(1)


def _metric(url: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        scrape = response.read().decode()
    total = 0.0
    for match in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", scrape, re.MULTILINE):
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def _await_metric(url: str, name: str, wanted, what: str) -> None:
    deadline = time.monotonic() + 30
    while not wanted(_metric(url, name)):
        assert time.monotonic() < deadline, f"{name} never became {what}"
        time.sleep(0.02)  # a poll interval: the loop checks the metric itself


class _StalledReader:
    """A raw HTTP/2 connection that asks for a Get and never reads the answer, which stays counted in the server's
    in-flight budget until the connection closes."""

    def __init__(self, port: int, thread_id: str) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._socket.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self._frame(4, 0, 0, b""))
        headers = [(":method", "POST"), (":scheme", "http"), (":path", f"/{SERVICE_NAME}/Get"),
                   (":authority", f"127.0.0.1:{port}"), ("content-type", "application/grpc"), ("te", "trailers")]
        # HPACK literals without indexing or Huffman coding; every name and value here is under 127 bytes.
        block = b"".join(b"\x00" + bytes([len(k)]) + k.encode() + bytes([len(v)]) + v.encode() for k, v in headers)
        body = pb.GetRequest(thread_id=thread_id).SerializeToString()
        self._socket.sendall(self._frame(1, 0x4, 1, block)
                             + self._frame(0, 0x1, 1, b"\x00" + struct.pack(">I", len(body)) + body))

    @staticmethod
    def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="module")
def small_server(start_server, tmp_path_factory):
    """A server with a 4 MiB in-flight budget (one 3 MB answer fits, two do not) and a 4 MB history limit."""
    return start_server("--database-path", str(tmp_path_factory.mktemp("retries") / "store.db"),
                        "--max-in-flight-bytes", str(4 << 20), "--max-history-bytes", str(4_000_000),
                        "--metrics-enabled", "true", "--metrics-port", "0")


def test_a_get_refused_while_the_server_is_busy_is_retried_once_there_is_room(small_server, thread_id):
    url = _metrics_url(small_server)
    big = {"s": "x" * 3_000_000}
    with ConversationClient(small_server.target, timeout=60) as client:
        client.save(thread_id, [json.dumps(big)])
        stalled = _StalledReader(small_server.port, thread_id)
        try:
            _await_metric(url, "conversation_in_flight_bytes", lambda v: v >= 3_000_000, "3 MB or more")
            refusals = _metric(url, "conversation_in_flight_refusals_total")
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                get = pool.submit(client.get, thread_id)
                # The client's first attempt is refused (the stalled reader holds the room)...
                _await_metric(url, "conversation_in_flight_refusals_total", lambda v: v > refusals, "higher")
                assert not get.done()
                # ...and once the reader is gone, a later attempt gets the whole answer.
                stalled.close()
                got = get.result(60)
        finally:
            stalled.close()
    assert got is not None and json.loads(got.messages[0].json) == big


def test_a_refusal_that_asking_again_cannot_change_is_raised_after_one_attempt(small_server, thread_id):
    url = _metrics_url(small_server)
    # Nothing in flight (another test's stalled reader is gone), so the Save below passes at once.
    _await_metric(url, "conversation_in_flight_bytes", lambda v: v == 0, "0")
    refused_appends = dict(method="Append", statusCode="RESOURCE_EXHAUSTED")
    with ConversationClient(small_server.target, max_attempts=5) as client:
        client.save(thread_id, [json.dumps({"s": "x" * 3_990_000})])
        before = _metric(url, "grpc_server_processing_duration_seconds_count", **refused_appends)
        # A small request (gRPC keeps only requests under 256 KiB to retry them) over the history limit.
        with pytest.raises(ConversationStoreError) as raised:
            client.append(thread_id, [json.dumps({"s": "x" * 20_000})])
    assert raised.value.reason == "HISTORY_TOO_LARGE"
    assert _metric(url, "grpc_server_processing_duration_seconds_count", **refused_appends) - before == 1
